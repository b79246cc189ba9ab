//! The one cell runner: builds the cell's model through the registry, trains it with
//! the one training loop, evaluates it through its kind, and fills the record (timing,
//! memory, FLOPs, latency, provenance), whatever the task kind.

use std::time::Instant;

use baselines::engine::{Dev, ParamStore};
use baselines::{registry, Model, ModelError};
use indicatif::ProgressBar;

use super::interface::TaskKindData;
use super::record::{
    after_training, epoch_plan, pretrain_cost, record_training, start_cost, unless_paused,
    CellError, CellId, CellStart,
};
use crate::cost;
use crate::data::DataError;
use crate::provenance;
use crate::results::{CellResult, Seconds};
use crate::task::TaskSpec;
use crate::train::train;

/// How a cell gets its model: [`registered`] in the CLI; tests pass their own.
pub type Builder<'a, K, D> = dyn Fn(
        &str,
        &serde_json::Value,
        &<K as baselines::Kind>::Spec,
        &mut ParamStore<D>,
    ) -> Result<Box<dyn Model<K, D>>, ModelError>
    + 'a;

/// Builds a registered model (`baselines::registry::build`).
pub fn registered<K: baselines::Registry, D: Dev>(
    name: &str,
    config: &serde_json::Value,
    spec: &K::Spec,
    store: &mut ParamStore<D>,
) -> Result<Box<dyn Model<K, D>>, ModelError> {
    registry::build::<K, D>(name, config, spec, store)
}

/// Runs one cell. Data and model-construction problems are errors (they concern every
/// cell); a diverging model gives a result with status `failed`.
pub fn run_cell<T: TaskKindData, D: Dev>(
    dev: &D,
    spec: &TaskSpec,
    data: &mut T,
    id: &CellId,
    progress: &ProgressBar,
    build: &Builder<T::Models, D>,
) -> Result<(CellResult, Option<T::Side>), CellError> {
    let started = provenance::now_rfc3339();
    let t0 = Instant::now();
    // The task's data is already resident: the peak from here on is this cell's.
    let (peak_scope, rss_at_start) = cost::start_peak_window("cell");
    data.prepare_seed(spec, id.seed)?;
    let data = &*data;
    let task_err = |msg: String| {
        DataError::invalid(format!("task `{}`, model `{}`", spec.name, id.model), msg)
    };
    // A variant resolves to its registered model; a name the registry does not know
    // goes to `build` as it is (tests inject their own builders), which rejects it if
    // unknown, and asks for no side inputs.
    let (base, model_config, base_model) = match spec.entry(id.model) {
        Some(e) => (e.base.clone(), e.config.clone(), e.base_model()),
        None => (
            id.model.to_string(),
            spec.models.get(id.model).cloned().unwrap_or_default(),
            None,
        ),
    };
    let inputs = match registry::side_inputs::<T::Models>(&base, &model_config) {
        Ok(inputs) => inputs,
        Err(ModelError::Unknown { .. }) => Default::default(),
        Err(e) => return Err(task_err(e.to_string()).into()),
    };
    let model_spec = data.model_spec(spec, id.seed, &inputs);
    let mut store = ParamStore::new(dev.clone(), id.seed);
    let model = build(&base, &model_config, &model_spec, &mut store)
        .map_err(|e| task_err(e.to_string()))?;
    let model = model.as_ref();
    data.check_shapes(spec, model, &store)
        .map_err(|e| task_err(format!("model output shapes: {e}")))?;
    let plan = epoch_plan(spec, id, &model_config, data.hashes(id.seed));
    let set = data.training_set(spec, id.model, id.seed, model);
    let data_seconds = t0.elapsed().as_secs_f64();
    let trained = train(model, &mut store, set, &plan, progress);
    let trained = unless_paused(trained)?;

    let (trivial_metrics, oracle_metrics) = data.references(spec, id.seed);
    // Training has laid out the optimizer's state in the tables and restored the best
    // epoch (whose AMTL widths are the trained model's).
    let mut cost = start_cost(spec, &store, peak_scope, rss_at_start);
    cost::model_memory_cost(model, &store, &mut cost);
    let hashes = data.hashes(id.seed);
    let started = after_training(
        spec,
        id,
        CellStart {
            base_model,
            model_config,
            train_config: spec.recorded_train_config(),
            oracle_metrics,
            trivial_metrics,
            rows: data.rows(id.seed),
            data_sha256: hashes.data_sha256.to_string(),
            split_sha256: hashes.split_sha256.clone(),
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
    let evaluated = data.evaluate(spec, id.seed, model, &store);
    let eval_seconds = t_eval.elapsed().as_secs_f64();
    result.metrics = evaluated.metrics;
    record_training(&mut result, &mut cost, &trained.run, id.device);
    cost.pretraining = pretrain_cost(&trained.pretrained);
    data.eval_cost(spec, &evaluated.state, eval_seconds, &mut cost);
    cost.latency = data.latency(spec, id.seed, model, &store, &evaluated.state);
    result.cost = cost;
    result.seconds = Seconds {
        data: data_seconds,
        train: trained.run.train_seconds + trained.pretrained.seconds,
        eval: eval_seconds,
        // Earlier runs of a resumed cell: their epochs' wall time.
        total: t0.elapsed().as_secs_f64() + trained.run.resumed_seconds,
    };
    result.provenance.finished = provenance::now_rfc3339();
    Ok((result, evaluated.side))
}
