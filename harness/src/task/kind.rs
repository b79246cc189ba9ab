//! The kinds of task and which registered models each takes.

use serde::{Deserialize, Serialize};

use crate::data::builder::DatasetSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Rows with a binary label (CTR): `baselines::Ranking` models, AUC/GAUC/LogLoss.
    Ranking,
    /// Next-item retrieval over users' sequences (leave-one-out):
    /// `baselines::Retrieval` models, HR/NDCG/MRR over the full corpus (and sampled).
    Retrieval,
    /// Generative ranking over users' request logs (the last request is the test):
    /// `baselines::Generative` models, AUC/GAUC/LogLoss per action (`auc:click`).
    Generative,
    /// Rows with several binary labels (multi-task ranking): `baselines::MultiTask`
    /// models, AUC/GAUC/LogLoss per task (`gauc:click`) and their means (`gauc:mean`).
    #[serde(rename = "multitask")]
    MultiTask,
}

impl TaskKind {
    pub fn key(&self) -> &'static str {
        match self {
            TaskKind::Ranking => "ranking",
            TaskKind::Retrieval => "retrieval",
            TaskKind::Generative => "generative",
            TaskKind::MultiTask => "multitask",
        }
    }
}

/// Checks that `name` is a registered model a task of `kind` can run, with a message
/// that names the models it could take.
pub fn check_model(kind: TaskKind, name: &str) -> Result<(), String> {
    let kind_name = kind.key();
    let fits = |m: &baselines::ModelInfo| m.kind == kind_name;
    let known: Vec<&str> = all_models().filter(|m| fits(m)).map(|m| m.name).collect();
    let known = if known.is_empty() {
        "none yet".to_string()
    } else {
        known.join(", ")
    };
    match baselines::models::info(name) {
        None => Err(format!(
            "unknown model `{name}` (known {kind_name} models: {known})"
        )),
        Some(m) if !fits(m) => Err(format!(
            "`{name}` is a {} model; a {kind_name} task takes {kind_name} models (known: {known})",
            m.kind
        )),
        Some(_) => Ok(()),
    }
}

/// Every registered model, of every kind.
pub fn all_models() -> impl Iterator<Item = &'static baselines::ModelInfo> {
    baselines::models::all().into_iter()
}

impl TaskKind {
    /// The kind of task a dataset source is first for (`files` serve ranking and
    /// multi-task tasks; see [`TaskKind::takes`]).
    pub fn of_dataset(dataset: &DatasetSpec) -> TaskKind {
        match dataset {
            DatasetSpec::SynthCtr { .. } | DatasetSpec::Files(_) => TaskKind::Ranking,
            DatasetSpec::SynthSeq { .. } | DatasetSpec::Sequences(_) => TaskKind::Retrieval,
            DatasetSpec::SynthGen { .. } | DatasetSpec::Requests(_) => TaskKind::Generative,
            DatasetSpec::SynthMt { .. } => TaskKind::MultiTask,
        }
    }

    /// Whether a task of this kind can read `dataset`.
    pub fn takes(&self, dataset: &DatasetSpec) -> bool {
        let files = matches!(dataset, DatasetSpec::Files(_));
        TaskKind::of_dataset(dataset) == *self || (files && *self == TaskKind::MultiTask)
    }

    /// The dataset sources a task of this kind takes, for messages.
    fn sources(&self) -> &'static str {
        match self {
            TaskKind::Ranking => "synth_ctr or files",
            TaskKind::Retrieval => "synth_seq or sequences",
            TaskKind::Generative => "synth_gen or requests",
            TaskKind::MultiTask => "synth_mt or files",
        }
    }

    /// Rejects a dataset source of another kind of task, naming both kinds.
    pub(super) fn check_dataset(
        &self,
        dataset: &DatasetSpec,
    ) -> Result<(), (&'static str, String)> {
        let theirs = TaskKind::of_dataset(dataset);
        if self.takes(dataset) {
            return Ok(());
        }
        Err((
            "dataset",
            format!(
                "source `{}` is for {} tasks ({} tasks take {})",
                dataset.source(),
                theirs.key(),
                self.key(),
                self.sources()
            ),
        ))
    }
}
