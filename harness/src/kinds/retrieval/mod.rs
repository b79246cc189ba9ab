//! The retrieval kind: train a sequential model on the users' training prefixes with
//! early stopping on the leave-one-out validation item, then rank the whole corpus for
//! every user's test item (seen items filtered) and report HR/Recall/NDCG/MRR (full and
//! sampled protocols, R/R* on synthetic worlds), next to popularity (the trivial
//! baseline: most popular training items, seen items filtered) and, for synthetic
//! worlds, the oracle (the true next-item probabilities). The per-user values are
//! written beside the record for paired tests.

pub mod eval;
pub mod prepare;

use std::collections::BTreeMap;
use std::path::Path;

use baselines::engine::{Dev, ParamStore};
use baselines::{predict, Model, Retrieval, SeqSpec};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::interface::{Evaluated, TaskKindData};
use super::record::{row_counts, DataHashes};
use crate::cost;
use crate::data::length_batches::length_bucketed;
use crate::data::seq_batcher::{eval_batch, train_batch, train_users, Window};
use crate::data::sequences::{LooView, Stage};
use crate::data::DataResult;
use crate::metrics::topk::{scoring_flops_per_user, top_k_all, ItemMatrix, UserMatrix};
use crate::results::{Cost, Latency, RetrievalCost, UserValues};
use crate::task::TaskSpec;
use crate::train::TrainingSet;

use eval::{
    model_vectors, oracle_vectors, popularity_vectors, rank_queries, summarize, top_k_needed,
    RetrievalEval, Vectors, LATENCY_BUDGET, LATENCY_MAX_REPS, LATENCY_MIN_REPS, LATENCY_TOP_K,
    LATENCY_USERS,
};
pub use prepare::{prepare_seq, PreparedSeq};

impl PreparedSeq {
    /// Metrics of `v` on `stage`'s queries, with the per-user values.
    fn evaluate_vectors(
        &self,
        v: &Vectors,
        stage: Stage,
        seed: u64,
    ) -> (BTreeMap<String, f64>, UserValues) {
        let queries = self.queries(stage, seed);
        let counts = self.sampled_counts();
        let ranked = rank_queries(v, queries, counts, top_k_needed(&self.metrics));
        summarize(&self.metrics, &ranked, queries, counts, self.ideal(stage))
    }

    fn all_users(&self) -> Vec<usize> {
        (0..self.seqs.n_users()).collect()
    }
}

impl TaskKindData for PreparedSeq {
    type Models = Retrieval;
    type Side = UserValues;
    type Evaluation = RetrievalEval;

    fn prepare(spec: &TaskSpec, data_root: &Path) -> DataResult<Self> {
        prepare_seq(spec, data_root)
    }

    fn validation_spec(&self, spec: &TaskSpec) -> SeqSpec {
        SeqSpec {
            n_items: self.seqs.n_items,
            max_len: spec.retrieval_spec().max_len,
            item_counts: None,
        }
    }

    fn prepare_seed(&mut self, _spec: &TaskSpec, seed: u64) -> DataResult<()> {
        self.prepare_queries(seed);
        Ok(())
    }

    fn hashes(&self, _seed: u64) -> DataHashes<'_> {
        DataHashes {
            data_sha256: &self.data_sha256,
            split_sha256: &self.split_hashes,
        }
    }

    fn model_spec(&self, spec: &TaskSpec, _seed: u64, _inputs: &()) -> SeqSpec {
        SeqSpec {
            n_items: self.seqs.n_items,
            max_len: spec.retrieval_spec().max_len,
            item_counts: Some(self.target_counts.clone()),
        }
    }

    /// Shapes on two users.
    fn check_shapes<D: Dev>(
        &self,
        spec: &TaskSpec,
        model: &dyn Model<Retrieval, D>,
        store: &ParamStore<D>,
    ) -> Result<(), String> {
        let probe = [0, self.seqs.n_users() - 1];
        let max_len = spec.retrieval_spec().max_len;
        model_vectors(model, store, &self.seqs, &probe, Stage::Valid, max_len).map(|_| ())
    }

    /// Shuffled users with a training target (in batches of similar history lengths
    /// with the task's `length_buckets`), `n_neg` negatives per position drawn from
    /// their own stream per (seed, epoch), validation on the leave-one-out item.
    fn training_set<'a, D: Dev>(
        &'a self,
        spec: &'a TaskSpec,
        model_name: &str,
        seed: u64,
        model: &'a dyn Model<Retrieval, D>,
    ) -> TrainingSet<'a, Retrieval, D> {
        let r = spec.retrieval_spec();
        let (max_len, n_neg) = (r.max_len, r.n_neg_for(model_name));
        let batch_size = spec.train.batch_size;
        let seqs = &self.seqs;
        let hints = model.hints();
        // Negatives: their own stream per (seed, epoch), independent of the order's.
        let negatives = move |epoch: usize| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x4E45_4753);
            rng.set_stream(epoch as u64);
            rng
        };
        let mut rng = negatives(1);
        let window = Window::for_model(model, max_len);
        let positions = move |u: usize| {
            let n = LooView::new(seqs, u).train().len() - 1;
            n.min(max_len)
        };
        let regroup = (r.length_buckets && hints.benefits_from_length_buckets).then(|| {
            Box::new(move |order: &[usize], epoch: usize| {
                let targets = |u| hints.training_targets(positions(u)).max(1);
                length_bucketed(order, positions, targets, batch_size, seed, epoch)
            }) as Box<crate::train::Regroup<usize>>
        });
        let all_users = self.all_users();
        TrainingSet {
            rows: train_users(seqs),
            batch: Box::new(move |epoch, step, chunk| {
                if step == 0 {
                    rng = negatives(epoch);
                }
                train_batch(seqs, chunk, window, n_neg, &mut rng)
            }),
            regroup,
            pretrain: None,
            validate: Box::new(move |m, s| {
                let (v, _) = model_vectors(m, s, seqs, &all_users, Stage::Valid, max_len)
                    .expect("shapes were checked before training");
                self.evaluate_vectors(&v, Stage::Valid, seed).0
            }),
        }
    }

    fn references(
        &self,
        _spec: &TaskSpec,
        seed: u64,
    ) -> (BTreeMap<String, f64>, Option<BTreeMap<String, f64>>) {
        let trivial = popularity_vectors(&self.item_counts, self.seqs.n_users());
        let trivial = self.evaluate_vectors(&trivial, Stage::Test, seed).0;
        let oracle = self.world.as_ref().map(|w| {
            let v = oracle_vectors(w, &self.seqs, Stage::Test);
            self.evaluate_vectors(&v, Stage::Test, seed).0
        });
        (trivial, oracle)
    }

    fn rows(&self, _seed: u64) -> BTreeMap<String, usize> {
        let seqs = &self.seqs;
        let train_targets: usize = (0..seqs.n_users())
            .map(|u| LooView::new(seqs, u).train().len().saturating_sub(1))
            .sum();
        row_counts(&[
            ("train", train_users(seqs).len()),
            ("train_targets", train_targets),
            ("valid", seqs.n_users()),
            ("test", seqs.n_users()),
            ("items", seqs.n_items as usize),
            ("events", seqs.n_events()),
            ("dropped_users", seqs.dropped_users),
        ])
    }

    fn evaluate<D: Dev>(
        &self,
        spec: &TaskSpec,
        seed: u64,
        model: &dyn Model<Retrieval, D>,
        store: &ParamStore<D>,
    ) -> Evaluated<UserValues, RetrievalEval> {
        let max_len = spec.retrieval_spec().max_len;
        let users = self.all_users();
        let (vectors, user_flops) =
            model_vectors(model, store, &self.seqs, &users, Stage::Test, max_len)
                .expect("shapes were checked before training");
        let (metrics, values) = self.evaluate_vectors(&vectors, Stage::Test, seed);
        Evaluated {
            metrics,
            side: Some(values),
            state: RetrievalEval {
                vectors,
                user_flops,
            },
        }
    }

    fn eval_cost(
        &self,
        _spec: &TaskSpec,
        eval: &RetrievalEval,
        eval_seconds: f64,
        cost: &mut Cost,
    ) {
        let n = self.seqs.n_users();
        let v = &eval.vectors;
        cost.retrieval = Some(RetrievalCost {
            user_flops_per_user: eval.user_flops.model_forward_total() as f64 / n as f64,
            scoring_flops_per_user: scoring_flops_per_user(
                self.seqs.n_items as usize + 1,
                v.dim,
                v.interests,
            ) as f64,
            items: self.seqs.n_items as usize,
            dim: v.dim,
            interests: v.interests,
            eval_users_per_second: n as f64 / eval_seconds.max(1e-9),
            latency_top_k: LATENCY_TOP_K,
        });
    }

    /// Serving `LATENCY_USERS` users per call: their user vectors and their full-corpus
    /// top-`LATENCY_TOP_K` with seen items filtered. The item matrix is taken as
    /// precomputed (a server caches it).
    fn latency<D: Dev>(
        &self,
        spec: &TaskSpec,
        seed: u64,
        model: &dyn Model<Retrieval, D>,
        store: &ParamStore<D>,
        eval: &RetrievalEval,
    ) -> Vec<Latency> {
        let seqs = &self.seqs;
        let max_len = spec.retrieval_spec().max_len;
        let items = &eval.vectors.items;
        let queries = self.queries(Stage::Test, seed);
        let dim = items.len() / (seqs.n_items as usize + 1);
        LATENCY_USERS
            .iter()
            .map(|&n| {
                let users: Vec<usize> = (0..n).map(|i| i % seqs.n_users()).collect();
                let window = Window::for_model(model, max_len);
                let batch = eval_batch(seqs, &users, Stage::Test, window);
                cost::time_calls(
                    n,
                    LATENCY_BUDGET,
                    LATENCY_MIN_REPS,
                    LATENCY_MAX_REPS,
                    || {
                        let (u, _) = predict(model, store, &batch);
                        let um = UserMatrix {
                            vectors: &u,
                            interests: model.hints().interests.max(1),
                            dim,
                        };
                        let im = ItemMatrix {
                            vectors: items,
                            dim,
                        };
                        let seen = |i: usize| queries[users[i]].seen.as_slice();
                        std::hint::black_box(top_k_all(um, im, seen, LATENCY_TOP_K));
                    },
                )
            })
            .collect()
    }
}
