//! The generative-ranking kind: train a generative model (after its own pre-training,
//! if any) on every user's training requests with early stopping on the validation
//! requests, then score every real candidate of each user's test request and report
//! per action AUC, GAUC (by user) and LogLoss (`auc:click`, ...), next to the constant
//! predictor (each action's training rate: the trivial baseline) and, for the
//! synthetic world, the oracle (the true action probabilities). The primary action's
//! per-candidate scores are written beside the record for paired tests.

pub mod eval;
pub mod prepare;

use std::collections::BTreeMap;
use std::path::Path;

use baselines::engine::{Dev, ParamStore};
use baselines::{predict, GenSpec, Generative, Model};

use super::interface::{Evaluated, TaskKindData};
use super::record::{row_counts, DataHashes};
use crate::cost;
use crate::data::gen_batcher::{
    batch, eval_examples, pretrain_batch, pretrain_users, train_examples, Example,
};
use crate::data::sequences::Stage;
use crate::data::DataResult;
use crate::results::{Cost, GenerativeCost, Latency, Scores};
use crate::task::TaskSpec;
use crate::train::{PretrainSet, TrainingSet};

use eval::{
    constant_logits, model_logits, oracle_logits, Candidates, GenerativeEval, LATENCY_BUDGET,
    LATENCY_MAX_REPS, LATENCY_MIN_REPS, LATENCY_REQUESTS,
};
pub use prepare::{prepare_gen, PreparedGen};

impl TaskKindData for PreparedGen {
    type Models = Generative;
    type Side = Scores;
    type Evaluation = GenerativeEval;

    fn prepare(spec: &TaskSpec, data_root: &Path) -> DataResult<Self> {
        prepare_gen(spec, data_root)
    }

    fn validation_spec(&self, _spec: &TaskSpec) -> GenSpec {
        self.gen_spec.clone()
    }

    /// The split needs no seed.
    fn prepare_seed(&mut self, _spec: &TaskSpec, _seed: u64) -> DataResult<()> {
        Ok(())
    }

    fn hashes(&self, _seed: u64) -> DataHashes<'_> {
        DataHashes {
            data_sha256: &self.data_sha256,
            split_sha256: &self.split_hashes,
        }
    }

    fn model_spec(&self, _spec: &TaskSpec, _seed: u64, _inputs: &()) -> GenSpec {
        self.gen_spec.clone()
    }

    /// Shapes on two validation examples.
    fn check_shapes<D: Dev>(
        &self,
        _spec: &TaskSpec,
        model: &dyn Model<Generative, D>,
        store: &ParamStore<D>,
    ) -> Result<(), String> {
        let valid = eval_examples(&self.logs, Stage::Valid);
        let probe = [valid[0], valid[valid.len() - 1]];
        model_logits(model, store, &self.gen_spec, &self.logs, &probe).map(|_| ())
    }

    /// Every training example `(u, r)`; pre-training on each user's training split only
    /// (`gen_batcher::pretrain_batch`); validation on the validation requests.
    fn training_set<'a, D: Dev>(
        &'a self,
        _spec: &'a TaskSpec,
        _model_name: &str,
        _seed: u64,
        _model: &'a dyn Model<Generative, D>,
    ) -> TrainingSet<'a, Generative, D> {
        let (logs, spec) = (&self.logs, &self.gen_spec);
        let train = train_examples(logs);
        let valid = eval_examples(logs, Stage::Valid);
        let valid_cands = Candidates::of(logs, spec, &valid);
        TrainingSet {
            rows: (0..train.len()).collect(),
            batch: Box::new(move |_, _, chunk| {
                let examples: Vec<Example> = chunk.iter().map(|&i| train[i]).collect();
                batch(spec, logs, &examples)
            }),
            regroup: None,
            pretrain: Some(PretrainSet {
                rows: pretrain_users(logs),
                batch: Box::new(move |users| pretrain_batch(spec, logs, users)),
            }),
            validate: Box::new(move |m, s| {
                let (z, _) = model_logits(m, s, spec, logs, &valid)
                    .expect("shapes were checked before training");
                valid_cands.metrics(&self.metrics, &logs.actions, &z)
            }),
        }
    }

    fn references(
        &self,
        _spec: &TaskSpec,
        _seed: u64,
    ) -> (BTreeMap<String, f64>, Option<BTreeMap<String, f64>>) {
        let (logs, spec) = (&self.logs, &self.gen_spec);
        let test = eval_examples(logs, Stage::Test);
        let cands = Candidates::of(logs, spec, &test);
        let trivial = cands.metrics(
            &self.metrics,
            &logs.actions,
            &constant_logits(&self.train_rates, cands.len()),
        );
        let oracle = oracle_logits(logs, spec, &test)
            .map(|z| cands.metrics(&self.metrics, &logs.actions, &z));
        (trivial, oracle)
    }

    fn rows(&self, _seed: u64) -> BTreeMap<String, usize> {
        let (logs, spec) = (&self.logs, &self.gen_spec);
        let train = train_examples(logs);
        let valid = eval_examples(logs, Stage::Valid);
        let test = eval_examples(logs, Stage::Test);
        row_counts(&[
            ("train", Candidates::of(logs, spec, &train).len()),
            ("valid", Candidates::of(logs, spec, &valid).len()),
            ("test", Candidates::of(logs, spec, &test).len()),
            ("train_requests", train.len()),
            ("valid_requests", valid.len()),
            ("test_requests", test.len()),
            ("users", logs.n_users()),
            ("items", logs.n_items as usize),
            ("requests", logs.n_requests()),
            ("exposures", logs.n_exposures()),
            ("dropped_users", logs.dropped_users),
            ("dropped_requests", logs.dropped_requests),
        ])
    }

    /// Paired tests (DeLong, per-user AUC) run on the primary metric's action.
    fn evaluate<D: Dev>(
        &self,
        _spec: &TaskSpec,
        _seed: u64,
        model: &dyn Model<Generative, D>,
        store: &ParamStore<D>,
    ) -> Evaluated<Scores, GenerativeEval> {
        let (logs, spec) = (&self.logs, &self.gen_spec);
        let test = eval_examples(logs, Stage::Test);
        let cands = Candidates::of(logs, spec, &test);
        let (z, flops) = model_logits(model, store, spec, logs, &test)
            .expect("shapes were checked before training");
        let primary = self.action_index(&self.metrics[0].action);
        Evaluated {
            metrics: cands.metrics(&self.metrics, &logs.actions, &z),
            side: Some(cands.scores(&z, primary)),
            state: GenerativeEval {
                flops,
                requests: test.len(),
                candidates: cands.len(),
            },
        }
    }

    fn eval_cost(
        &self,
        _spec: &TaskSpec,
        eval: &GenerativeEval,
        eval_seconds: f64,
        cost: &mut Cost,
    ) {
        cost.generative = Some(GenerativeCost {
            eval_flops_per_request: eval.flops.model_forward_total() as f64 / eval.requests as f64,
            candidates_per_request: eval.candidates as f64 / eval.requests as f64,
            max_history: self.gen_spec.max_history,
            max_candidates: self.gen_spec.max_candidates,
            eval_requests_per_second: eval.requests as f64 / eval_seconds.max(1e-9),
        });
    }

    fn latency<D: Dev>(
        &self,
        _spec: &TaskSpec,
        _seed: u64,
        model: &dyn Model<Generative, D>,
        store: &ParamStore<D>,
        _eval: &GenerativeEval,
    ) -> Vec<Latency> {
        let test = eval_examples(&self.logs, Stage::Test);
        LATENCY_REQUESTS
            .iter()
            .map(|&n| {
                let picked: Vec<_> = test.iter().copied().cycle().take(n).collect();
                let b = batch(&self.gen_spec, &self.logs, &picked);
                cost::time_calls(
                    n,
                    LATENCY_BUDGET,
                    LATENCY_MIN_REPS,
                    LATENCY_MAX_REPS,
                    || {
                        std::hint::black_box(predict(model, store, &b));
                    },
                )
            })
            .collect()
    }
}
