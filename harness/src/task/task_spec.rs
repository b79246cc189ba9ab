//! A task spec: what data, which split, which metrics, which models with which
//! hyper-parameters, how many seeds and what training budget, with each kind's section.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::generative::GenerativeSpec;
use super::json::{read_json, SpecError};
use super::kind::{check_model, TaskKind};
use super::model_entry::{model_entry, registered_names, ModelEntry};
use super::multitask::{source_labels, MultiTaskSettings, TaskLayout};
use super::retrieval::RetrievalSpec;
use super::train::TrainSpec;
use crate::data::builder::DatasetSpec;
use crate::data::split::SplitSpec;

/// A task, as the harness uses it. Its kind carries the settings only that kind has
/// ([`KindSpec`]), so a task cannot hold another kind's section; the file form is
/// [`TaskFile`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "TaskFile", into = "TaskFile")]
pub struct TaskSpec {
    pub name: String,
    pub kind: KindSpec,
    pub description: String,
    pub dataset: DatasetSpec,
    pub split: SplitSpec,
    /// Metrics to report; the first is primary (used for early stopping and ranking).
    pub metrics: Vec<String>,
    /// Cell model name -> hyper-parameters (null or {} = the model's defaults). A name is
    /// a registered model, or a variant: any name whose config holds `"model": "<registered
    /// name>"` (e.g. `"dnn_bh_100x": {"model": "dnn", "embedding": ...}`), so a task can
    /// hold several configurations of one model. See [`TaskSpec::entry`].
    pub models: BTreeMap<String, serde_json::Value>,
    pub seeds: u32,
    pub train: TrainSpec,
}

/// A task's kind and the section of settings only that kind takes (`None`: the file
/// left it out, so its defaults apply).
#[derive(Debug, Clone, PartialEq)]
pub enum KindSpec {
    Ranking,
    Retrieval(Option<RetrievalSpec>),
    Generative(Option<GenerativeSpec>),
    MultiTask(Option<MultiTaskSettings>),
}

impl KindSpec {
    pub fn kind(&self) -> TaskKind {
        match self {
            KindSpec::Ranking => TaskKind::Ranking,
            KindSpec::Retrieval(_) => TaskKind::Retrieval,
            KindSpec::Generative(_) => TaskKind::Generative,
            KindSpec::MultiTask(_) => TaskKind::MultiTask,
        }
    }
}

/// A task file as written: every kind's section is a key, and a section of another
/// kind is an error when the file becomes a [`TaskSpec`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFile {
    pub name: String,
    pub kind: TaskKind,
    #[serde(default)]
    pub description: String,
    pub dataset: DatasetSpec,
    pub split: SplitSpec,
    pub metrics: Vec<String>,
    pub models: BTreeMap<String, serde_json::Value>,
    #[serde(default = "default_seeds")]
    pub seeds: u32,
    #[serde(default)]
    pub train: TrainSpec,
    /// Retrieval tasks only: protocol settings (defaults when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieval: Option<RetrievalSpec>,
    /// Generative-ranking tasks only: example shapes and request grouping (defaults
    /// when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generative: Option<GenerativeSpec>,
    /// Multi-task tasks only: which labels are tasks, in which categories (defaults
    /// when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multitask: Option<MultiTaskSettings>,
}

impl TryFrom<TaskFile> for TaskSpec {
    type Error = String;

    fn try_from(f: TaskFile) -> Result<Self, String> {
        TaskSpec::from_file(f).map_err(|(key, msg)| format!("`{key}`: {msg}"))
    }
}

impl From<TaskSpec> for TaskFile {
    fn from(t: TaskSpec) -> Self {
        let (retrieval, generative, multitask) = match t.kind.clone() {
            KindSpec::Ranking => (None, None, None),
            KindSpec::Retrieval(r) => (r, None, None),
            KindSpec::Generative(g) => (None, g, None),
            KindSpec::MultiTask(m) => (None, None, m),
        };
        TaskFile {
            name: t.name,
            kind: t.kind.kind(),
            description: t.description,
            dataset: t.dataset,
            split: t.split,
            metrics: t.metrics,
            models: t.models,
            seeds: t.seeds,
            train: t.train,
            retrieval,
            generative,
            multitask,
        }
    }
}

fn default_seeds() -> u32 {
    3
}

impl TaskSpec {
    pub fn load(path: &Path) -> Result<TaskSpec, SpecError> {
        let file: TaskFile = read_json(path)?;
        let spec = TaskSpec::from_file(file).map_err(|(key, msg)| SpecError::Invalid {
            path: path.to_path_buf(),
            key: key.to_string(),
            msg,
        })?;
        spec.check(path)?;
        Ok(spec)
    }

    /// The task a file describes; a section of another kind is an error naming its key.
    pub fn from_file(f: TaskFile) -> Result<TaskSpec, (&'static str, String)> {
        let this = f.kind.key();
        let foreign = |key: &'static str| {
            Err((
                key,
                format!("only {key} tasks take this key (this task is {this})"),
            ))
        };
        let kind = match (f.kind, f.retrieval, f.generative, f.multitask) {
            (_, Some(_), _, _) if f.kind != TaskKind::Retrieval => return foreign("retrieval"),
            (_, _, Some(_), _) if f.kind != TaskKind::Generative => return foreign("generative"),
            (_, _, _, Some(_)) if f.kind != TaskKind::MultiTask => return foreign("multitask"),
            (TaskKind::Ranking, ..) => KindSpec::Ranking,
            (TaskKind::Retrieval, r, ..) => KindSpec::Retrieval(r),
            (TaskKind::Generative, _, g, _) => KindSpec::Generative(g),
            (TaskKind::MultiTask, .., m) => KindSpec::MultiTask(m),
        };
        Ok(TaskSpec {
            name: f.name,
            kind,
            description: f.description,
            dataset: f.dataset,
            split: f.split,
            metrics: f.metrics,
            models: f.models,
            seeds: f.seeds,
            train: f.train,
        })
    }

    /// Checks what serde cannot: known metrics and models, sane budgets.
    pub fn check(&self, path: &Path) -> Result<(), SpecError> {
        let invalid = |key: &str, msg: String| SpecError::Invalid {
            path: path.to_path_buf(),
            key: key.to_string(),
            msg,
        };
        if self.metrics.is_empty() {
            return Err(invalid("metrics", "at least one metric is needed".into()));
        }
        match self.kind {
            KindSpec::Ranking => self.check_ranking().map_err(|(k, m)| invalid(k, m))?,
            KindSpec::Retrieval(_) => self.check_retrieval().map_err(|(k, m)| invalid(k, m))?,
            KindSpec::Generative(_) => self.check_generative().map_err(|(k, m)| invalid(k, m))?,
            KindSpec::MultiTask(_) => self.check_multitask().map_err(|(k, m)| invalid(k, m))?,
        }
        if self.models.is_empty() {
            return Err(invalid("models", "at least one model is needed".into()));
        }
        for (name, config) in &self.models {
            let entry =
                model_entry(name, config).map_err(|msg| invalid(&format!("models.{name}"), msg))?;
            check_model(self.kind.kind(), &entry.base)
                .map_err(|msg| invalid(&format!("models.{name}"), msg))?;
        }
        let retrieval_overrides = match &self.kind {
            KindSpec::Retrieval(r) => r
                .iter()
                .flat_map(|r| r.n_neg_overrides.keys().cloned())
                .collect(),
            _ => Vec::new(),
        };
        let overrides = (self.train.optim_overrides.keys().cloned())
            .map(|n| ("train.optim_overrides", n))
            .chain(
                retrieval_overrides
                    .into_iter()
                    .map(|n| ("retrieval.n_neg_overrides", n)),
            );
        for (section, name) in overrides {
            if self.entry(&name).is_none() {
                return Err(invalid(
                    &format!("{section}.{name}"),
                    format!(
                        "unknown model `{name}` (this task's models: {}; registry: {})",
                        self.models.keys().cloned().collect::<Vec<_>>().join(", "),
                        registered_names()
                    ),
                ));
            }
        }
        if self.seeds == 0 {
            return Err(invalid("seeds", "must be at least 1".into()));
        }
        if self.train.batch_size == 0 || self.train.max_epochs == 0 {
            return Err(invalid(
                "train",
                "batch_size and max_epochs must be positive".into(),
            ));
        }
        if self.train.min_epochs > self.train.max_epochs {
            return Err(invalid(
                "train.min_epochs",
                format!(
                    "{} exceeds max_epochs {}",
                    self.train.min_epochs, self.train.max_epochs
                ),
            ));
        }
        Ok(())
    }

    pub fn primary_metric(&self) -> &str {
        &self.metrics[0]
    }

    /// A retrieval task's settings (their defaults when the file has none). Panics on a
    /// task of another kind: only retrieval code asks.
    pub fn retrieval_spec(&self) -> RetrievalSpec {
        match &self.kind {
            KindSpec::Retrieval(r) => r.clone().unwrap_or_default(),
            other => panic!("retrieval settings asked of a {} task", other.kind().key()),
        }
    }

    /// A generative task's settings (their defaults when the file has none). Panics on
    /// a task of another kind: only generative code asks.
    pub fn generative_spec(&self) -> GenerativeSpec {
        match &self.kind {
            KindSpec::Generative(g) => g.clone().unwrap_or_default(),
            other => panic!("generative settings asked of a {} task", other.kind().key()),
        }
    }

    /// A multi-task task's resolved tasks and categories. Panics on a task of another
    /// kind, or one whose checks failed (`TaskSpec::check` resolves it first).
    pub fn task_layout(&self) -> TaskLayout {
        let KindSpec::MultiTask(m) = &self.kind else {
            panic!("a task layout asked of a {} task", self.kind.kind().key());
        };
        let labels = source_labels(&self.dataset).expect("a multi-task source has labels");
        TaskLayout::resolve(m.as_ref(), &self.dataset, &labels).expect("checked at load")
    }

    /// The generative settings as used: request files record the window they were
    /// grouped by, also when the task left it at its default.
    pub fn resolved_generative(&self) -> GenerativeSpec {
        let mut g = self.generative_spec();
        if let DatasetSpec::Requests(_) = self.dataset {
            g.request_window_seconds = Some(g.window());
        }
        g
    }

    /// What a cell records as its `train_config`: the training budget, and for retrieval
    /// and generative tasks their protocol settings with defaults filled in. The report
    /// compares it with the task file to find cells run under other settings.
    pub fn recorded_train_config(&self) -> serde_json::Value {
        match self.kind {
            KindSpec::Ranking => serde_json::to_value(&self.train).expect("train spec serializes"),
            KindSpec::Retrieval(_) => serde_json::json!({
                "train": self.train,
                "retrieval": self.retrieval_spec(),
            }),
            KindSpec::MultiTask(_) => {
                let layout = self.task_layout();
                let categories: BTreeMap<&str, Vec<&str>> = (0..layout.categories.len())
                    .map(|c| {
                        let members = (0..layout.tasks.len())
                            .filter(|&t| layout.category_of[t] == c)
                            .map(|t| layout.tasks[t].as_str())
                            .collect();
                        (layout.categories[c].as_str(), members)
                    })
                    .collect();
                serde_json::json!({
                    "train": self.train,
                    "multitask": {"tasks": layout.tasks, "categories": categories},
                })
            }
            KindSpec::Generative(_) => serde_json::json!({
                "train": self.train,
                "generative": self.resolved_generative(),
            }),
        }
    }
}

impl TaskSpec {
    /// The cell model `name` of this task: an entry of `models` (a registered model or a
    /// variant), or else a registered model the task does not list (built with its
    /// defaults, as `--models` allows). `None` for anything else, or an entry that does
    /// not resolve (which [`TaskSpec::check`] rejects at load time).
    pub fn entry(&self, name: &str) -> Option<ModelEntry> {
        match self.models.get(name) {
            Some(config) => model_entry(name, config).ok(),
            None => baselines::models::info(name).map(|_| ModelEntry {
                name: name.to_string(),
                base: name.to_string(),
                config: serde_json::Value::Null,
            }),
        }
    }

    /// [`TaskSpec::entry`], or an error that names the task's models and the registry.
    pub fn require_entry(&self, name: &str) -> Result<ModelEntry, String> {
        self.entry(name).ok_or_else(|| {
            format!(
                "unknown model `{name}` (task `{}` has: {}; registry: {})",
                self.name,
                self.models.keys().cloned().collect::<Vec<_>>().join(", "),
                registered_names()
            )
        })
    }
}
