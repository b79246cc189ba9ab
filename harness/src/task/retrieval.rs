//! The retrieval task: train a sequential model on the users' training prefixes with
//! early stopping on the leave-one-out validation item, then rank the whole corpus for
//! every user's test item (seen items filtered) and report HR/Recall/NDCG/MRR (full and
//! sampled protocols, R/R* on synthetic worlds), next to popularity (the trivial
//! baseline: most popular training items, seen items filtered) and, for synthetic
//! worlds, the oracle (the true next-item probabilities).

use crate::task::cell::{
    after_training, epoch_plan, record_training, row_counts, start_cost, unless_paused, CellError,
    CellStart,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use baselines::engine::{Dev, ParamStore};
use baselines::ModelError;
use baselines::{predict, Model, Retrieval, SeqSpec};
use indicatif::ProgressBar;

use crate::cost;
use crate::data::seq_batcher::{eval_batch, train_users, Window};
use crate::data::sequences::{LooView, Stage};
use crate::data::DataError;
use crate::metrics::topk::{scoring_flops_per_user, top_k_all};
use crate::provenance;
use crate::results::{CellResult, RetrievalCost, Seconds, UserValues};
use crate::train_seq::{train_seq, SeqTrainPlan};

use super::ranking::CellId;
use super::retrieval_eval::{
    model_vectors, oracle_vectors, popularity_vectors, rank_queries, summarize, top_k_needed,
    Vectors,
};
use super::retrieval_prep::PreparedSeq;
use super::spec::TaskSpec;

/// Serving latency is measured for these numbers of users per call (user vectors plus
/// the full-corpus top-`LATENCY_TOP_K`), each for about `LATENCY_BUDGET`.
pub const LATENCY_USERS: [usize; 2] = [1, 256];
pub const LATENCY_TOP_K: usize = 100;
pub const LATENCY_BUDGET: Duration = Duration::from_millis(500);
pub const LATENCY_MIN_REPS: usize = 10;
pub const LATENCY_MAX_REPS: usize = 1000;

/// How a cell gets its model: `baselines::build_seq` in the CLI; tests pass their own.
pub type SeqBuilder<'a, D> = dyn Fn(
        &str,
        &serde_json::Value,
        &SeqSpec,
        &mut ParamStore<D>,
    ) -> Result<Box<dyn Model<Retrieval, D>>, ModelError>
    + 'a;

/// Metrics of `v` on `stage`'s queries, with the per-user values.
fn evaluate(
    prep: &PreparedSeq,
    v: &Vectors,
    stage: Stage,
    seed: u64,
) -> (BTreeMap<String, f64>, UserValues) {
    let queries = prep.queries(stage, seed);
    let counts = prep.sampled_counts();
    let ranked = rank_queries(v, queries, counts, top_k_needed(&prep.metrics));
    summarize(&prep.metrics, &ranked, queries, counts, prep.ideal(stage))
}

/// Runs one cell. Data and model-construction problems are errors (they concern every
/// cell); a diverging model gives a result with status `failed`.
pub fn run_cell<D: Dev>(
    dev: &D,
    spec: &TaskSpec,
    prep: &mut PreparedSeq,
    id: &CellId,
    progress: &ProgressBar,
    build: &SeqBuilder<D>,
) -> Result<(CellResult, Option<UserValues>), CellError> {
    let started = provenance::now_rfc3339();
    let t0 = Instant::now();
    let (peak_scope, rss_at_start) = cost::start_peak_window("cell");
    let r = spec.retrieval_spec();
    prep.prepare_queries(id.seed);
    let prep = &*prep;
    let seqs = &prep.seqs;
    let task_err = |msg: String| {
        DataError::invalid(format!("task `{}`, model `{}`", spec.name, id.model), msg)
    };
    let seq_spec = SeqSpec {
        n_items: seqs.n_items,
        max_len: r.max_len,
        item_counts: Some(prep.target_counts.clone()),
    };
    // A variant resolves to its catalog model; a name the catalog does not know goes to
    // `build` as it is (tests inject their own builders), which rejects it if unknown.
    let (base, model_config, base_model) = match spec.entry(id.model) {
        Some(e) => (e.base.clone(), e.config.clone(), e.base_model()),
        None => (
            id.model.to_string(),
            spec.models.get(id.model).cloned().unwrap_or_default(),
            None,
        ),
    };
    let mut store = ParamStore::new(dev.clone(), id.seed);
    let model =
        build(&base, &model_config, &seq_spec, &mut store).map_err(|e| task_err(e.to_string()))?;
    // Shapes first, on two users, so a model bug is an error rather than a panic later.
    let probe = [0, seqs.n_users() - 1];
    model_vectors(
        model.as_ref(),
        &store,
        seqs,
        &probe,
        Stage::Valid,
        r.max_len,
    )
    .map_err(|e| task_err(format!("model output shapes: {e}")))?;
    let users = train_users(seqs);
    let all_users: Vec<usize> = (0..seqs.n_users()).collect();
    let plan = SeqTrainPlan {
        epochs: epoch_plan(spec, id, &model_config, prep.hashes()),
        max_len: r.max_len,
        n_neg: r.n_neg_for(id.model),
        length_buckets: r.length_buckets,
    };
    let data_seconds = t0.elapsed().as_secs_f64();
    let mut validate = |m: &dyn Model<Retrieval, D>, s: &ParamStore<D>| {
        let (v, _) = model_vectors(m, s, seqs, &all_users, Stage::Valid, r.max_len)
            .expect("shapes were checked before training");
        evaluate(prep, &v, Stage::Valid, id.seed).0
    };
    let trained = train_seq(
        model.as_ref(),
        &mut store,
        seqs,
        &users,
        &plan,
        &mut validate,
        progress,
    );
    let trained = unless_paused(trained)?;

    let trivial = popularity_vectors(&prep.item_counts, seqs.n_users());
    let trivial_metrics = evaluate(prep, &trivial, Stage::Test, id.seed).0;
    let oracle_metrics = prep.world.as_ref().map(|w| {
        let v = oracle_vectors(w, seqs, Stage::Test);
        evaluate(prep, &v, Stage::Test, id.seed).0
    });
    let mut cost = start_cost(spec, &store, peak_scope, rss_at_start);
    let train_targets: usize = (0..seqs.n_users())
        .map(|u| LooView::new(seqs, u).train().len().saturating_sub(1))
        .sum();
    let rows = row_counts(&[
        ("train", users.len()),
        ("train_targets", train_targets),
        ("valid", seqs.n_users()),
        ("test", seqs.n_users()),
        ("items", seqs.n_items as usize),
        ("events", seqs.n_events()),
        ("dropped_users", seqs.dropped_users),
    ]);
    let started = after_training(
        spec,
        id,
        CellStart {
            base_model,
            model_config,
            train_config: spec.recorded_train_config(),
            oracle_metrics,
            trivial_metrics,
            rows,
            data_sha256: prep.data_sha256.clone(),
            split_sha256: prep.split_hashes.clone(),
            started,
        },
        trained,
        &cost,
        data_seconds,
        t0,
    );
    let (mut result, trained) = match started {
        Ok(started) => started,
        Err(failed) => return Ok((*failed, None)),
    };
    let t_eval = Instant::now();
    let (v, user_flops) = model_vectors(
        model.as_ref(),
        &store,
        seqs,
        &all_users,
        Stage::Test,
        r.max_len,
    )
    .expect("shapes were checked before training");
    let (metrics, values) = evaluate(prep, &v, Stage::Test, id.seed);
    let eval_seconds = t_eval.elapsed().as_secs_f64();
    result.metrics = metrics;
    record_training(&mut result, &mut cost, &trained, id.device);
    let n = seqs.n_users();
    cost.retrieval = Some(RetrievalCost {
        user_flops_per_user: user_flops.model_forward_total() as f64 / n as f64,
        scoring_flops_per_user: scoring_flops_per_user(
            seqs.n_items as usize + 1,
            v.dim,
            v.interests,
        ) as f64,
        items: seqs.n_items as usize,
        dim: v.dim,
        interests: v.interests,
        eval_users_per_second: n as f64 / eval_seconds.max(1e-9),
        latency_top_k: LATENCY_TOP_K,
    });
    cost.latency = serve_latency(model.as_ref(), &store, prep, id.seed, &v.items, r.max_len);
    result.cost = cost;
    result.seconds = Seconds {
        data: data_seconds,
        train: trained.train_seconds,
        eval: eval_seconds,
        // Earlier runs of a resumed cell: their epochs' wall time.
        total: t0.elapsed().as_secs_f64() + trained.resumed_seconds,
    };
    result.provenance.finished = provenance::now_rfc3339();
    Ok((result, Some(values)))
}

/// Latency of serving `LATENCY_USERS` users per call: their user vectors and their
/// full-corpus top-`LATENCY_TOP_K` with seen items filtered. The item matrix is taken
/// as precomputed (a server caches it).
fn serve_latency<D: Dev>(
    model: &dyn Model<Retrieval, D>,
    store: &ParamStore<D>,
    prep: &PreparedSeq,
    seed: u64,
    items: &[f32],
    max_len: usize,
) -> Vec<crate::results::Latency> {
    let seqs = &prep.seqs;
    let queries = prep.queries(Stage::Test, seed);
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
                    let um = crate::metrics::topk::UserMatrix {
                        vectors: &u,
                        interests: model.hints().interests.max(1),
                        dim,
                    };
                    let im = crate::metrics::topk::ItemMatrix {
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
