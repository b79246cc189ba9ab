//! What a kind that trains a registered model provides the one cell runner
//! ([`TaskKindData`]); every such kind gets `super::CellKind` from it.

use std::collections::BTreeMap;
use std::path::Path;

use baselines::engine::{Dev, ParamStore};
use baselines::{Kind, Model, Registry};

use super::record::DataHashes;
use crate::data::DataResult;
use crate::results::{Cost, Latency, SideFile};
use crate::task::TaskSpec;
use crate::train::TrainingSet;

/// The `baselines` spec models of kind `K` are built from.
pub type ModelSpec<K> = <<K as TaskKindData>::Models as Kind>::Spec;
/// What a model of kind `K` can ask to be computed from the training split.
pub type SideInputs<K> = <<K as TaskKindData>::Models as Kind>::SideInputs;

/// A trained model's evaluation on the test split.
pub struct Evaluated<S, E> {
    pub metrics: BTreeMap<String, f64>,
    /// What the cell writes beside its record (per-example scores, per-user values).
    pub side: Option<S>,
    /// What the kind keeps of the evaluation for its cost figures and latency (the
    /// evaluation's FLOPs, retrieval's item matrix).
    pub state: E,
}

/// What a task kind provides the cell runner. Implemented by the kind's prepared data.
pub trait TaskKindData: Sized {
    /// The `baselines` kind of its models (their contract and registry).
    type Models: Registry;
    /// What a cell writes beside its record.
    type Side: SideFile;
    /// What evaluation leaves for the cost figures and the latency measurement.
    type Evaluation;

    /// Builds the task's data once for all its cells (files or synthetic worlds).
    fn prepare(spec: &TaskSpec, data_root: &Path) -> DataResult<Self>;

    /// The spec every model of the task is checked against before any cell runs
    /// (before a split exists: no side inputs).
    fn validation_spec(&self, spec: &TaskSpec) -> ModelSpec<Self>;

    /// Prepares what a cell of `seed` needs (its split, its evaluation queries).
    fn prepare_seed(&mut self, spec: &TaskSpec, seed: u64) -> DataResult<()>;

    /// The hashes of the task's data and of `seed`'s split.
    fn hashes(&self, seed: u64) -> DataHashes<'_>;

    /// The spec a model of `seed`'s cell is built with, holding the side inputs its
    /// config declared, computed from the training split only.
    fn model_spec(&self, spec: &TaskSpec, seed: u64, inputs: &SideInputs<Self>) -> ModelSpec<Self>;

    /// Checks a freshly built model's output shapes on a few examples, so a model bug
    /// is an error before training rather than a panic after it.
    fn check_shapes<D: Dev>(
        &self,
        _spec: &TaskSpec,
        _model: &dyn Model<Self::Models, D>,
        _store: &ParamStore<D>,
    ) -> Result<(), String> {
        Ok(())
    }

    /// The training loop's rows, batches and validation for the cell `(model, seed)`.
    fn training_set<'a, D: Dev>(
        &'a self,
        spec: &'a TaskSpec,
        model_name: &str,
        seed: u64,
        model: &'a dyn Model<Self::Models, D>,
    ) -> TrainingSet<'a, Self::Models, D>;

    /// The reference predictors' test metrics: the trivial one (constant, popularity)
    /// and, where the data is synthetic, the oracle.
    fn references(
        &self,
        spec: &TaskSpec,
        seed: u64,
    ) -> (BTreeMap<String, f64>, Option<BTreeMap<String, f64>>);

    /// The `rows` field of the record.
    fn rows(&self, seed: u64) -> BTreeMap<String, usize>;

    /// The trained model on the test split.
    fn evaluate<D: Dev>(
        &self,
        spec: &TaskSpec,
        seed: u64,
        model: &dyn Model<Self::Models, D>,
        store: &ParamStore<D>,
    ) -> Evaluated<Self::Side, Self::Evaluation>;

    /// The kind's own cost figures (FLOPs and throughput of evaluation per user or per
    /// request), from the evaluation and its wall time.
    fn eval_cost(
        &self,
        _spec: &TaskSpec,
        _eval: &Self::Evaluation,
        _eval_seconds: f64,
        _cost: &mut Cost,
    ) {
    }

    /// Serving latency of the trained model at the kind's batch sizes.
    fn latency<D: Dev>(
        &self,
        spec: &TaskSpec,
        seed: u64,
        model: &dyn Model<Self::Models, D>,
        store: &ParamStore<D>,
        eval: &Self::Evaluation,
    ) -> Vec<Latency>;
}
