//! Task specs: JSON files in `tasks/` that say what data, which split, which metrics,
//! which models with which hyper-parameters, how many seeds and what training budget.
//! Unknown keys are rejected so a typo cannot silently fall back to a default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::builder::DatasetSpec;
use crate::data::split::SplitSpec;
use crate::metrics::retrieval::{Protocol, RetrievalMetric};
use baselines::engine::OptimConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Rows with a binary label (CTR): `baselines::CATALOG` models, AUC/GAUC/LogLoss.
    Ranking,
    /// Next-item retrieval over users' sequences (leave-one-out):
    /// `baselines::SEQ_CATALOG` models, HR/NDCG/MRR over the full corpus (and sampled).
    Retrieval,
    /// Generative ranking over users' request logs (the last request is the test):
    /// `baselines::GEN_CATALOG` models, AUC/GAUC/LogLoss per action (`auc:click`).
    Generative,
}

impl TaskKind {
    pub fn key(&self) -> &'static str {
        match self {
            TaskKind::Ranking => "ranking",
            TaskKind::Retrieval => "retrieval",
            TaskKind::Generative => "generative",
        }
    }
    /// The catalog family a task of this kind takes its models from.
    pub fn model_family(&self) -> &'static str {
        match self {
            TaskKind::Ranking => "ranking",
            TaskKind::Retrieval => "sequential",
            TaskKind::Generative => "generative",
        }
    }
}

/// Checks that `name` is a catalog model a task of `kind` can run, with a message that
/// names the models it could take.
pub fn check_model(kind: TaskKind, name: &str) -> Result<(), String> {
    let family = kind.model_family();
    let fits = |m: &baselines::ModelInfo| m.family == family;
    let known: Vec<&str> = all_models().filter(|m| fits(m)).map(|m| m.name).collect();
    let known = if known.is_empty() {
        "none yet".to_string()
    } else {
        known.join(", ")
    };
    match baselines::info(name) {
        None => Err(format!(
            "unknown model `{name}` (known {family} models: {known})"
        )),
        Some(m) if !fits(m) => Err(format!(
            "`{name}` is a {} model; a {} task takes {family} models (known: {known})",
            m.family,
            kind.key()
        )),
        Some(_) => Ok(()),
    }
}

/// Every catalog model: ranking, sequential and generative.
pub fn all_models() -> impl Iterator<Item = &'static baselines::ModelInfo> {
    baselines::CATALOG
        .iter()
        .chain(baselines::SEQ_CATALOG)
        .chain(baselines::GEN_CATALOG)
}

/// Protocol settings of a retrieval task (`"retrieval": {...}` in the task file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrievalSpec {
    /// Positions of history a model sees (`SeqSpec::max_len`); older items are dropped.
    #[serde(default = "default_max_len")]
    pub max_len: usize,
    /// Sampled negatives per training position (`SeqBatch::negatives`), uniform over
    /// items, never the position's target.
    #[serde(default = "default_n_neg")]
    pub n_neg: usize,
    /// `n_neg` for some of the task's models, by cell model name: HSTU's sampled
    /// softmax is trained against many negatives, SASRec's BCE against one.
    #[serde(default)]
    pub n_neg_overrides: BTreeMap<String, usize>,
    /// Users with fewer events are dropped before the split (at least 3).
    #[serde(default = "default_min_events")]
    pub min_events: usize,
    /// Negatives of the sampled protocols (metrics suffixed `_s<N>`: drawn uniformly
    /// without replacement from the user's unseen items; `_p<N>`: by popularity).
    #[serde(default = "default_sampled")]
    pub sampled_negatives: usize,
    /// Train on batches of users with similar history lengths (`data::length_batches`:
    /// each batch holds about a random batch's number of targets) instead of random
    /// batches of `batch_size` users, for models that trim padding. Mostly-short
    /// histories (Beauty) then cost several times less per epoch.
    #[serde(default)]
    pub length_buckets: bool,
}

fn default_max_len() -> usize {
    50
}
fn default_n_neg() -> usize {
    1
}
fn default_min_events() -> usize {
    3
}
fn default_sampled() -> usize {
    100
}

impl RetrievalSpec {
    /// Sampled negatives per training position for the cell model `model`.
    pub fn n_neg_for(&self, model: &str) -> usize {
        self.n_neg_overrides
            .get(model)
            .copied()
            .unwrap_or(self.n_neg)
    }
}

impl Default for RetrievalSpec {
    fn default() -> Self {
        RetrievalSpec {
            max_len: default_max_len(),
            n_neg: default_n_neg(),
            n_neg_overrides: BTreeMap::new(),
            min_events: default_min_events(),
            sampled_negatives: default_sampled(),
            length_buckets: false,
        }
    }
}

/// Settings of a generative-ranking task (`"generative": {...}` in the task file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerativeSpec {
    /// Exposures of history per example (`GenSpec::max_history`), the most recent.
    #[serde(default = "default_max_history")]
    pub max_history: usize,
    /// Candidates per example (`GenSpec::max_candidates`); longer requests are cut into
    /// consecutive chunks of at most this many exposures.
    #[serde(default = "default_max_candidates")]
    pub max_candidates: usize,
    /// Users with fewer requests (after the cut) are dropped (at least 3: a training,
    /// a validation and a test request).
    #[serde(default = "default_min_requests")]
    pub min_requests: usize,
    /// Request files only: a request is a user's events within one clock window of
    /// this many seconds (`floor(time / window)`; default 3600, the same hour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_window_seconds: Option<u64>,
}

fn default_max_history() -> usize {
    64
}
fn default_max_candidates() -> usize {
    8
}
fn default_min_requests() -> usize {
    3
}
/// The default request window of request files: one hour.
pub const DEFAULT_REQUEST_WINDOW: u64 = 3600;

impl Default for GenerativeSpec {
    fn default() -> Self {
        GenerativeSpec {
            max_history: default_max_history(),
            max_candidates: default_max_candidates(),
            min_requests: default_min_requests(),
            request_window_seconds: None,
        }
    }
}

impl GenerativeSpec {
    /// The request window of request files (the default when the spec has none).
    pub fn window(&self) -> u64 {
        self.request_window_seconds
            .unwrap_or(DEFAULT_REQUEST_WINDOW)
    }
}

/// A generative task's metric: a ranking metric of one action, written `metric:action`
/// (e.g. `auc:click`, `gauc:like`, `logloss:click`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenMetric {
    /// `auc`, `gauc` or `logloss`.
    pub metric: String,
    pub action: String,
}

impl GenMetric {
    /// Parses `metric:action` against the task's action names.
    pub fn parse(name: &str, actions: &[String]) -> Result<GenMetric, String> {
        let Some((metric, action)) = name.split_once(':') else {
            return Err(format!(
                "`{name}`: generative metrics are `metric:action` (e.g. `auc:{}`)",
                actions.first().map_or("click", |a| a.as_str())
            ));
        };
        if !RANKING_METRICS.contains(&metric) {
            return Err(format!(
                "`{name}`: unknown metric `{metric}` (known: {})",
                RANKING_METRICS.join(", ")
            ));
        }
        if !actions.iter().any(|a| a == action) {
            return Err(format!(
                "`{name}`: unknown action `{action}` (this dataset's actions: {})",
                actions.join(", ")
            ));
        }
        Ok(GenMetric {
            metric: metric.to_string(),
            action: action.to_string(),
        })
    }
}

impl std::fmt::Display for GenMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.metric, self.action)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    pub name: String,
    pub kind: TaskKind,
    #[serde(default)]
    pub description: String,
    pub dataset: DatasetSpec,
    pub split: SplitSpec,
    /// Metrics to report; the first is primary (used for early stopping and ranking).
    pub metrics: Vec<String>,
    /// Cell model name -> hyper-parameters (null or {} = the model's defaults). A name is
    /// a catalog model, or a variant: any name whose config holds `"model": "<catalog
    /// name>"` (e.g. `"dnn_bh_100x": {"model": "dnn", "embedding": ...}`), so a task can
    /// hold several configurations of one model. See [`TaskSpec::entry`].
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
}

fn default_seeds() -> u32 {
    3
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    #[serde(default = "default_epochs")]
    pub max_epochs: usize,
    /// Epochs without improvement of the validation metric before stopping.
    #[serde(default = "default_patience")]
    pub patience: usize,
    /// Early stopping never stops before this epoch (0 = no floor): for tasks where
    /// models sit near the popularity baseline for their first epochs before they
    /// learn, which `patience` alone would take for convergence.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_epochs: usize,
    #[serde(default)]
    pub optim: OptimConfig,
    /// Per-model overrides of `optim` (e.g. a larger sparse learning rate for LR), by
    /// cell model name (a variant's name, not its base model's).
    #[serde(default)]
    pub optim_overrides: BTreeMap<String, OptimConfig>,
}

fn default_batch() -> usize {
    1024
}
fn default_epochs() -> usize {
    10
}
fn default_patience() -> usize {
    2
}
fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Default for TrainSpec {
    fn default() -> Self {
        TrainSpec {
            batch_size: default_batch(),
            max_epochs: default_epochs(),
            patience: default_patience(),
            min_epochs: 0,
            optim: OptimConfig::default(),
            optim_overrides: BTreeMap::new(),
        }
    }
}

impl TrainSpec {
    pub fn optim_for(&self, model: &str) -> OptimConfig {
        self.optim_overrides
            .get(model)
            .copied()
            .unwrap_or(self.optim)
    }
}

/// Metrics a ranking task can report.
pub const RANKING_METRICS: &[&str] = &["auc", "gauc", "logloss"];

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {msg}")]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        msg: String,
    },
    #[error("{path}: `{key}`: {msg}")]
    Invalid {
        path: PathBuf,
        key: String,
        msg: String,
    },
}

impl TaskSpec {
    pub fn load(path: &Path) -> Result<TaskSpec, SpecError> {
        let spec: TaskSpec = read_json(path)?;
        spec.check(path)?;
        Ok(spec)
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
            TaskKind::Ranking => self.check_ranking().map_err(|(k, m)| invalid(k, m))?,
            TaskKind::Retrieval => self.check_retrieval().map_err(|(k, m)| invalid(k, m))?,
            TaskKind::Generative => self.check_generative().map_err(|(k, m)| invalid(k, m))?,
        }
        if self.models.is_empty() {
            return Err(invalid("models", "at least one model is needed".into()));
        }
        for (name, config) in &self.models {
            let entry =
                model_entry(name, config).map_err(|msg| invalid(&format!("models.{name}"), msg))?;
            check_model(self.kind, &entry.base)
                .map_err(|msg| invalid(&format!("models.{name}"), msg))?;
        }
        let retrieval_overrides = match self.kind {
            TaskKind::Retrieval => self.retrieval_spec().n_neg_overrides.into_keys().collect(),
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
                        "unknown model `{name}` (this task's models: {}; catalog: {})",
                        self.models.keys().cloned().collect::<Vec<_>>().join(", "),
                        catalog_names()
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

    /// The retrieval settings (their defaults when the file has none).
    pub fn retrieval_spec(&self) -> RetrievalSpec {
        self.retrieval.clone().unwrap_or_default()
    }

    /// The generative settings (their defaults when the file has none).
    pub fn generative_spec(&self) -> GenerativeSpec {
        self.generative.clone().unwrap_or_default()
    }

    /// Rejects the sections of the other kinds.
    fn check_foreign_sections(&self) -> Result<(), (&'static str, String)> {
        let kind = self.kind.key();
        if self.retrieval.is_some() && self.kind != TaskKind::Retrieval {
            return Err((
                "retrieval",
                format!("only retrieval tasks take this key (this task is {kind})"),
            ));
        }
        if self.generative.is_some() && self.kind != TaskKind::Generative {
            return Err((
                "generative",
                format!("only generative tasks take this key (this task is {kind})"),
            ));
        }
        Ok(())
    }

    fn check_generative(&self) -> Result<(), (&'static str, String)> {
        self.check_foreign_sections()?;
        let Some(actions) = self.dataset.action_names() else {
            return Err((
                "dataset",
                format!(
                    "source `{}` is for {} tasks (generative tasks take synth_gen or requests)",
                    self.dataset.source(),
                    if matches!(
                        self.dataset,
                        DatasetSpec::SynthSeq { .. } | DatasetSpec::Sequences(_)
                    ) {
                        "retrieval"
                    } else {
                        "ranking"
                    }
                ),
            ));
        };
        if actions.is_empty() || actions.len() > crate::data::requests::MAX_ACTIONS {
            return Err((
                "dataset",
                format!(
                    "{} actions: a generative task needs 1 to {}",
                    actions.len(),
                    crate::data::requests::MAX_ACTIONS
                ),
            ));
        }
        for (k, a) in actions.iter().enumerate() {
            if a.is_empty() || a.contains(':') || actions[..k].contains(a) {
                return Err((
                    "dataset",
                    format!("action name `{a}` must be non-empty, unique and without `:`"),
                ));
            }
        }
        for m in &self.metrics {
            GenMetric::parse(m, &actions).map_err(|e| ("metrics", e))?;
        }
        if self.split != SplitSpec::LeaveOneOut {
            return Err((
                "split",
                format!(
                    "generative tasks use leave_one_out (over requests), not `{}`",
                    self.split.key()
                ),
            ));
        }
        let g = self.generative_spec();
        if g.max_history == 0 || g.max_candidates == 0 {
            return Err((
                "generative",
                "max_history and max_candidates must be positive".into(),
            ));
        }
        if g.min_requests < 3 {
            return Err((
                "generative",
                format!(
                    "min_requests {} < 3: the split needs a training, a validation and a test request",
                    g.min_requests
                ),
            ));
        }
        match (&self.dataset, g.request_window_seconds) {
            (DatasetSpec::SynthGen { .. }, Some(_)) => {
                return Err((
                    "generative",
                    "request_window_seconds groups request files; synth_gen draws its requests"
                        .into(),
                ))
            }
            (_, Some(0)) => {
                return Err((
                    "generative",
                    "request_window_seconds must be positive".into(),
                ))
            }
            _ => {}
        }
        Ok(())
    }

    fn check_ranking(&self) -> Result<(), (&'static str, String)> {
        for m in &self.metrics {
            if !RANKING_METRICS.contains(&m.as_str()) {
                return Err((
                    "metrics",
                    format!(
                        "unknown metric `{m}` (known: {})",
                        RANKING_METRICS.join(", ")
                    ),
                ));
            }
        }
        if !matches!(
            self.dataset,
            DatasetSpec::SynthCtr { .. } | DatasetSpec::Files(_)
        ) {
            return Err((
                "dataset",
                format!(
                    "source `{}` is for {} tasks (ranking tasks take synth_ctr or files)",
                    self.dataset.source(),
                    if self.dataset.action_names().is_some() {
                        "generative"
                    } else {
                        "retrieval"
                    }
                ),
            ));
        }
        self.check_foreign_sections()
    }

    fn check_retrieval(&self) -> Result<(), (&'static str, String)> {
        self.check_foreign_sections()?;
        let r = self.retrieval_spec();
        let has_values = matches!(self.dataset, DatasetSpec::SynthSeq { .. });
        for m in &self.metrics {
            let metric = RetrievalMetric::parse(m).map_err(|e| ("metrics", e))?;
            match metric {
                RetrievalMetric::Revenue { .. } if !has_values => {
                    return Err((
                        "metrics",
                        format!("`{m}` (R/R*) needs item values, which only synth_seq has"),
                    ))
                }
                RetrievalMetric::Rank {
                    protocol: Protocol::Sampled(n) | Protocol::PopularitySampled(n),
                    ..
                } if n != r.sampled_negatives => {
                    return Err((
                        "metrics",
                        format!(
                            "`{m}` asks for {n} sampled negatives but retrieval.sampled_negatives is {}",
                            r.sampled_negatives
                        ),
                    ))
                }
                _ => {}
            }
        }
        if !matches!(
            self.dataset,
            DatasetSpec::SynthSeq { .. } | DatasetSpec::Sequences(_)
        ) {
            return Err((
                "dataset",
                format!(
                    "source `{}` is for {} tasks (retrieval tasks take synth_seq or sequences)",
                    self.dataset.source(),
                    if self.dataset.action_names().is_some() {
                        "generative"
                    } else {
                        "ranking"
                    }
                ),
            ));
        }
        if self.split != SplitSpec::LeaveOneOut {
            return Err((
                "split",
                format!(
                    "retrieval tasks use leave_one_out, not `{}`",
                    self.split.key()
                ),
            ));
        }
        if r.max_len == 0 || r.n_neg == 0 || r.sampled_negatives == 0 {
            return Err((
                "retrieval",
                "max_len, n_neg and sampled_negatives must be positive".into(),
            ));
        }
        if r.min_events < 3 {
            return Err((
                "retrieval",
                format!(
                    "min_events {} < 3: leave-one-out needs a train, a valid and a test item",
                    r.min_events
                ),
            ));
        }
        Ok(())
    }

    /// The cell model `name` of this task: an entry of `models` (a catalog model or a
    /// variant), or else a catalog model the task does not list (built with its
    /// defaults, as `--models` allows). `None` for anything else, or an entry that does
    /// not resolve (which [`TaskSpec::check`] rejects at load time).
    pub fn entry(&self, name: &str) -> Option<ModelEntry> {
        match self.models.get(name) {
            Some(config) => model_entry(name, config).ok(),
            None => baselines::info(name).map(|_| ModelEntry {
                name: name.to_string(),
                base: name.to_string(),
                config: serde_json::Value::Null,
            }),
        }
    }

    /// [`TaskSpec::entry`], or an error that names the task's models and the catalog.
    pub fn require_entry(&self, name: &str) -> Result<ModelEntry, String> {
        self.entry(name).ok_or_else(|| {
            format!(
                "unknown model `{name}` (task `{}` has: {}; catalog: {})",
                self.name,
                self.models.keys().cloned().collect::<Vec<_>>().join(", "),
                catalog_names()
            )
        })
    }
}

/// One model of a task, resolved: the cell's name (results path, leaderboard row), the
/// catalog model it builds, and the config its constructor gets.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEntry {
    /// The key in the task's `models`: a catalog name or a variant name.
    pub name: String,
    /// The catalog model (`baselines::CATALOG`) that is built.
    pub base: String,
    /// The entry's config without its `model` key (null = the model's defaults).
    pub config: serde_json::Value,
}

impl ModelEntry {
    /// `Some(base)` for a variant, `None` when the name is the catalog model itself
    /// (`CellResult::base_model`).
    pub fn base_model(&self) -> Option<String> {
        (self.name != self.base).then(|| self.base.clone())
    }
}

fn catalog_names() -> String {
    all_models().map(|m| m.name).collect::<Vec<_>>().join(", ")
}

/// Resolves one `models` entry. A config with a `model` key is a variant of that catalog
/// model; without it, `name` itself must be a catalog model. Names become folder names
/// of results, so they are restricted to `[A-Za-z0-9_.-]`, and a catalog name cannot be
/// reused for another model's variant (its leaderboard row would be misread).
fn model_entry(name: &str, config: &serde_json::Value) -> Result<ModelEntry, String> {
    if name.is_empty()
        || name.starts_with('.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(format!(
            "model name `{name}` must be letters, digits, `_`, `-` or `.` (not leading)"
        ));
    }
    let base = match config.get("model") {
        None => None,
        Some(serde_json::Value::String(b)) => Some(b.clone()),
        Some(other) => {
            return Err(format!(
                "`model` must be a catalog model name (a string), got {other}"
            ))
        }
    };
    let Some(base) = base else {
        if baselines::info(name).is_none() {
            return Err(format!(
                "unknown model `{name}`: not in the catalog ({}), and its config has no `model` key naming the catalog model it is a variant of",
                catalog_names()
            ));
        }
        return Ok(ModelEntry {
            name: name.to_string(),
            base: name.to_string(),
            config: config.clone(),
        });
    };
    if baselines::info(&base).is_none() {
        return Err(format!(
            "unknown base model `{base}` (catalog: {})",
            catalog_names()
        ));
    }
    if name != base && baselines::info(name).is_some() {
        return Err(format!(
            "`{name}` is a catalog model and cannot name a variant of `{base}`"
        ));
    }
    let mut config = config.clone();
    if let Some(o) = config.as_object_mut() {
        o.remove("model");
    }
    Ok(ModelEntry {
        name: name.to_string(),
        base,
        config,
    })
}

/// A suite: a named list of tasks (by name, resolved in `tasks/`), with optional
/// overrides of seeds and models for all of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub tasks: Vec<String>,
    #[serde(default)]
    pub seeds: Option<u32>,
    #[serde(default)]
    pub models: Option<Vec<String>>,
}

impl SuiteSpec {
    pub fn load(path: &Path) -> Result<SuiteSpec, SpecError> {
        read_json(path)
    }
}

/// Reads and parses a JSON file of the project's (task, suite, claim): an unreadable
/// file or bad JSON becomes a [`SpecError`] naming the file, line and column.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_json(path, &text)
}

/// [`read_json`] on text already read (`path` is for messages).
pub fn parse_json<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, SpecError> {
    serde_json::from_str(text).map_err(|e| {
        // serde_json appends " at line L column C"; the error's prefix already says where.
        let m = e.to_string();
        let at = format!(" at line {} column {}", e.line(), e.column());
        SpecError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            msg: m.strip_suffix(&at).unwrap_or(&m).to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec_with(models: serde_json::Value, overrides: serde_json::Value) -> serde_json::Value {
        json!({
            "name": "t", "kind": "ranking",
            "dataset": {"source": "synth_ctr", "label": "click"},
            "split": {"kind": "temporal", "valid": 0.1, "test": 0.1},
            "metrics": ["auc"],
            "models": models,
            "train": {"optim_overrides": overrides}
        })
    }

    /// Writes `value` to a task file and loads it through `TaskSpec::load`.
    fn load(value: serde_json::Value) -> (tempfile::TempDir, PathBuf, Result<TaskSpec, SpecError>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("variants.json");
        std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
        let spec = TaskSpec::load(&path);
        (dir, path, spec)
    }

    #[test]
    fn variants_resolve_to_their_base_model_and_config() {
        let models = json!({
            "dnn": {"embedding_dim": 8},
            "dnn_bh_100x": {"model": "dnn", "embedding_dim": 8,
                            "embedding": {"kind": "bh", "bits_per_block": 3}},
            "dnn_small": {"model": "dnn"}
        });
        let (_d, _p, spec) = load(spec_with(models, json!({"dnn_bh_100x": {"lr": 0.01}})));
        let spec = spec.unwrap();
        let v = spec.entry("dnn_bh_100x").unwrap();
        assert_eq!((v.name.as_str(), v.base.as_str()), ("dnn_bh_100x", "dnn"));
        // The constructor gets the config without its `model` key.
        assert_eq!(
            v.config,
            json!({"embedding_dim": 8, "embedding": {"kind": "bh", "bits_per_block": 3}})
        );
        assert_eq!(v.base_model(), Some("dnn".to_string()));
        assert_eq!(spec.entry("dnn_small").unwrap().config, json!({}));
        // A catalog entry is its own base; a catalog model the task does not list
        // resolves with its defaults; anything else does not resolve.
        let d = spec.entry("dnn").unwrap();
        assert_eq!((d.base.as_str(), d.base_model()), ("dnn", None));
        assert_eq!(spec.entry("lr").unwrap().config, serde_json::Value::Null);
        assert!(spec.entry("nope").is_none());
        let err = spec.require_entry("nope").unwrap_err();
        assert!(
            err.contains("dnn_bh_100x") && err.contains("dcnv2"),
            "{err}"
        );
        // Overrides are per cell name.
        assert_eq!(spec.train.optim_for("dnn_bh_100x").lr, 0.01);
        assert_ne!(spec.train.optim_for("dnn").lr, 0.01);
    }

    #[test]
    fn unknown_base_models_and_bad_variant_names_are_rejected_with_file_and_key() {
        let cases = [
            (
                json!({"dnn_x": {"model": "dnnn"}}),
                json!({}),
                "`models.dnn_x`",
                "unknown base model `dnnn`",
            ),
            (
                json!({"my_model": {"embedding_dim": 8}}),
                json!({}),
                "`models.my_model`",
                "no `model` key",
            ),
            (
                json!({"dnn_x": {"model": 3}}),
                json!({}),
                "`models.dnn_x`",
                "must be a catalog model name",
            ),
            (
                json!({"dcnv2": {"model": "dnn"}}),
                json!({}),
                "`models.dcnv2`",
                "cannot name a variant",
            ),
            (
                json!({"../x": {"model": "dnn"}}),
                json!({}),
                "`models.../x`",
                "must be letters",
            ),
            (
                json!({"dnn": {}}),
                json!({"dnn_x": {"lr": 0.1}}),
                "`train.optim_overrides.dnn_x`",
                "unknown model `dnn_x`",
            ),
        ];
        for (models, overrides, key, msg) in cases {
            let (_d, path, spec) = load(spec_with(models, overrides));
            let err = spec.unwrap_err().to_string();
            assert!(
                err.contains(&path.display().to_string()) && err.contains(key) && err.contains(msg),
                "expected {key} / {msg} in: {err}"
            );
        }
        // Retrieval's per-model negatives name models the same way.
        let retrieval = json!({
            "name": "r", "kind": "retrieval",
            "dataset": {"source": "synth_seq"},
            "split": {"kind": "leave_one_out"},
            "metrics": ["ndcg@10"],
            "models": {"sasrec": {}, "hstu": {}},
            "retrieval": {"n_neg_overrides": {"hstu": 64}}
        });
        let (_d, _p, spec) = load(retrieval.clone());
        let r = spec.unwrap().retrieval_spec();
        assert_eq!((r.n_neg_for("hstu"), r.n_neg_for("sasrec")), (64, 1));
        let mut bad = retrieval;
        bad["retrieval"]["n_neg_overrides"] = json!({"hstu_x": 64});
        let err = load(bad).2.unwrap_err().to_string();
        assert!(
            err.contains("`retrieval.n_neg_overrides.hstu_x`") && err.contains("unknown model"),
            "{err}"
        );
    }

    #[test]
    fn min_epochs_is_checked_against_max_epochs_and_left_out_of_hashes_when_unset() {
        let mut v = spec_with(json!({"dnn": {}}), json!({}));
        v["train"]["max_epochs"] = json!(10);
        v["train"]["min_epochs"] = json!(11);
        let err = load(v.clone()).2.unwrap_err().to_string();
        assert!(
            err.contains("`train.min_epochs`") && err.contains("11 exceeds max_epochs 10"),
            "{err}"
        );
        v["train"]["min_epochs"] = json!(10);
        assert_eq!(load(v.clone()).2.unwrap().train.min_epochs, 10);
        // Unset, the field is not serialized: older tasks keep their config hashes.
        v["train"].as_object_mut().unwrap().remove("min_epochs");
        let spec = load(v).2.unwrap();
        assert_eq!(spec.train.min_epochs, 0);
        assert!(serde_json::to_value(&spec.train)
            .unwrap()
            .get("min_epochs")
            .is_none());
    }
}
