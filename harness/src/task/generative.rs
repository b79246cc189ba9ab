//! The generative-ranking task: train a generative model (after its own pre-training,
//! if any) on every user's training requests with early stopping on the validation
//! requests, then score every real candidate of each user's test request and report
//! per action AUC, GAUC (by user) and LogLoss (`auc:click`, ...), next to the constant
//! predictor (each action's training rate: the trivial baseline) and, for the
//! synthetic world, the oracle (the true action probabilities).

use std::time::{Duration, Instant};

use baselines::engine::{Dev, ParamStore};
use baselines::ModelError;
use baselines::{predict, GenSpec, Generative, Model};
use indicatif::ProgressBar;

use crate::cost;
use crate::data::gen_batcher::{batch, eval_examples, pretrain_users, train_examples};
use crate::data::sequences::Stage;
use crate::data::DataError;
use crate::provenance;
use crate::results::{CellResult, GenerativeCost, Scores, Seconds};
use crate::task::cell::{
    after_training, epoch_plan, record_training, row_counts, start_cost, unless_paused, CellError,
    CellStart,
};
use crate::train_gen::train_gen;

use super::generative_eval::{constant_logits, model_logits, oracle_logits, Candidates};
use super::generative_prep::PreparedGen;
use super::ranking::CellId;
use super::spec::TaskSpec;

/// Serving latency is measured for these numbers of test requests per call (their
/// logits, batch built beforehand), each for about `LATENCY_BUDGET`.
pub const LATENCY_REQUESTS: [usize; 2] = [1, 256];
pub const LATENCY_BUDGET: Duration = Duration::from_millis(500);
pub const LATENCY_MIN_REPS: usize = 10;
pub const LATENCY_MAX_REPS: usize = 1000;

/// How a cell gets its model: `baselines::build_gen` in the CLI; tests pass their own.
pub type GenBuilder<'a, D> = dyn Fn(
        &str,
        &serde_json::Value,
        &GenSpec,
        &mut ParamStore<D>,
    ) -> Result<Box<dyn Model<Generative, D>>, ModelError>
    + 'a;

/// Runs one cell. Data and model-construction problems are errors (they concern every
/// cell); a diverging model gives a result with status `failed`.
pub fn run_cell<D: Dev>(
    dev: &D,
    spec: &TaskSpec,
    prep: &PreparedGen,
    id: &CellId,
    progress: &ProgressBar,
    build: &GenBuilder<D>,
) -> Result<(CellResult, Option<Scores>), CellError> {
    let started = provenance::now_rfc3339();
    let t0 = Instant::now();
    let (peak_scope, rss_at_start) = cost::start_peak_window("cell");
    let (logs, gen_spec) = (&prep.logs, &prep.gen_spec);
    let task_err = |msg: String| {
        DataError::invalid(format!("task `{}`, model `{}`", spec.name, id.model), msg)
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
        build(&base, &model_config, gen_spec, &mut store).map_err(|e| task_err(e.to_string()))?;
    let valid = eval_examples(logs, Stage::Valid);
    let test = eval_examples(logs, Stage::Test);
    // Shapes first, on two examples, so a model bug is an error rather than a panic later.
    model_logits(
        model.as_ref(),
        &store,
        gen_spec,
        logs,
        &[valid[0], valid[valid.len() - 1]],
    )
    .map_err(|e| task_err(format!("model output shapes: {e}")))?;
    let train = train_examples(logs);
    let pre_users = pretrain_users(logs);
    let plan = epoch_plan(spec, id, &model_config, prep.hashes());
    let valid_cands = Candidates::of(logs, gen_spec, &valid);
    let test_cands = Candidates::of(logs, gen_spec, &test);
    let data_seconds = t0.elapsed().as_secs_f64();
    let mut validate = |m: &dyn Model<Generative, D>, s: &ParamStore<D>| {
        let (z, _) = model_logits(m, s, gen_spec, logs, &valid)
            .expect("shapes were checked before training");
        valid_cands.metrics(&prep.metrics, &logs.actions, &z)
    };
    let trained = train_gen(
        model.as_ref(),
        &mut store,
        gen_spec,
        logs,
        &train,
        &pre_users,
        &plan,
        &mut validate,
        progress,
    );
    let trained = unless_paused(trained)?;

    let trivial_metrics = test_cands.metrics(
        &prep.metrics,
        &logs.actions,
        &constant_logits(&prep.train_rates, test_cands.len()),
    );
    let oracle_metrics = oracle_logits(logs, gen_spec, &test)
        .map(|z| test_cands.metrics(&prep.metrics, &logs.actions, &z));
    let mut cost = start_cost(spec, &store, peak_scope, rss_at_start);
    let rows = row_counts(&[
        ("train", Candidates::of(logs, gen_spec, &train).len()),
        ("valid", valid_cands.len()),
        ("test", test_cands.len()),
        ("train_requests", train.len()),
        ("valid_requests", valid.len()),
        ("test_requests", test.len()),
        ("users", logs.n_users()),
        ("items", logs.n_items as usize),
        ("requests", logs.n_requests()),
        ("exposures", logs.n_exposures()),
        ("dropped_users", logs.dropped_users),
        ("dropped_requests", logs.dropped_requests),
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
    let (z, eval_flops) = model_logits(model.as_ref(), &store, gen_spec, logs, &test)
        .expect("shapes were checked before training");
    let eval_seconds = t_eval.elapsed().as_secs_f64();
    result.metrics = test_cands.metrics(&prep.metrics, &logs.actions, &z);
    record_training(&mut result, &mut cost, &trained.run, id.device);
    let pre = &trained.pretrained;
    cost.generative = Some(GenerativeCost {
        pretrain_epochs: pre.epochs,
        pretrain_examples_seen: pre.examples_seen,
        pretrain_flops_per_example: pre.flops.total() as f64 / pre.examples_seen.max(1) as f64,
        pretrain_seconds: pre.seconds,
        eval_flops_per_request: eval_flops.model_forward_total() as f64 / test.len() as f64,
        candidates_per_request: test_cands.len() as f64 / test.len() as f64,
        max_history: gen_spec.max_history,
        max_candidates: gen_spec.max_candidates,
        eval_requests_per_second: test.len() as f64 / eval_seconds.max(1e-9),
    });
    cost.latency = LATENCY_REQUESTS
        .iter()
        .map(|&n| {
            let picked: Vec<_> = test.iter().copied().cycle().take(n).collect();
            let b = batch(gen_spec, logs, &picked);
            cost::time_calls(
                n,
                LATENCY_BUDGET,
                LATENCY_MIN_REPS,
                LATENCY_MAX_REPS,
                || {
                    std::hint::black_box(predict(model.as_ref(), &store, &b));
                },
            )
        })
        .collect();
    result.cost = cost;
    result.seconds = Seconds {
        data: data_seconds,
        train: trained.run.train_seconds + pre.seconds,
        eval: eval_seconds,
        // Earlier runs of a resumed cell: their epochs' wall time.
        total: t0.elapsed().as_secs_f64() + trained.run.resumed_seconds,
    };
    result.provenance.finished = provenance::now_rfc3339();
    // Paired tests (DeLong, per-user AUC) run on the primary metric's action.
    let primary = prep.action_index(&prep.metrics[0].action);
    Ok((result, Some(test_cands.scores(&z, primary))))
}
