//! The structs the pages, the CSV and the JSON export are rendered from.

use serde::Serialize;

use super::super::claims::ClaimResult;
use super::super::compare::PairComparison;
use super::super::load::BadFile;
use super::coverage::Coverage;
use super::stale::StaleCell;
use crate::stats::Summary;

/// A metric value over seeds, with display strings.
#[derive(Debug, Clone, Serialize)]
pub struct MetricCell {
    pub metric: String,
    pub summary: Option<Summary>,
    /// "0.71234 ± 0.00120" (half-width of the 95% CI), or "0.71234 · n/a (1 seed)".
    pub text: String,
    /// Per-seed values, for the title/hover text.
    pub per_seed: String,
    /// Sort key (mean; empty when missing).
    pub sort: String,
}

/// A "vs best" comparison cell.
#[derive(Debug, Clone, Serialize)]
pub struct DeltaCell {
    pub diff: f64,
    pub ci: Option<(f64, f64)>,
    pub p: Option<f64>,
    pub p_holm: Option<f64>,
    /// "+0.00123 [-0.00352, +0.00598]" (CSV/JSON readers).
    pub text: String,
    pub diff_text: String,
    /// "[-0.00352, +0.00598]" or "CI n/a (1 seed)".
    pub ci_text: String,
    pub p_text: String,
    pub significant: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CostCell {
    pub value: Option<f64>,
    pub text: String,
    pub sort: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub model: String,
    pub slug: String,
    /// The registered model this row is a variant (configuration) of; None for a
    /// registered model itself.
    pub base_model: Option<String>,
    pub base_slug: String,
    /// A variant's config where it differs from its base model's on this task (the
    /// whole config when the base did not run here); empty for registered models.
    pub config_text: String,
    pub group: Option<usize>,
    pub group_text: String,
    pub is_best: bool,
    pub seeds: usize,
    /// The builds the row's records come from (the binary's commit, 12 characters):
    /// records stay results of their build when the code changes.
    pub builds: String,
    pub primary: MetricCell,
    pub others: Vec<MetricCell>,
    /// Primary-metric difference vs the best model (None for the best itself).
    pub delta: Option<DeltaCell>,
    pub wilcoxon_text: String,
    pub delong_text: String,
    pub bootstrap_text: String,
    pub randomization_text: String,
    pub flops: CostCell,
    pub params: CostCell,
    pub memory: CostCell,
    pub peak_rss: CostCell,
    pub throughput: CostCell,
    /// Train-step (forward + backward + optimizer) FLOPs per example.
    pub train_flops: CostCell,
    /// Bytes a serving process needs for the trained model (parameters only).
    pub serving: CostCell,
    /// Inference latency at batch 256: value = p50 ms, text = "p50 / p99 ms".
    pub latency: CostCell,
    /// Bytes of the embedding values the trained model uses (see `Cell::cost_value`).
    pub embedding_bytes: CostCell,
    /// Cost fields this version does not know (added to `Cost` later), as text.
    pub other_cost: Vec<(String, String)>,
    /// FLOPs/example for the plot (None when not measured).
    pub flops_value: Option<f64>,
    pub per_seed_values: Vec<(u64, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailedRow {
    pub model: String,
    pub seed: u64,
    pub error: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GapBadge {
    /// Percent of the gap from the trivial predictor to the oracle that the best model
    /// closes: 100 (best - trivial) / (oracle - trivial).
    pub percent: f64,
    pub oracle: f64,
    pub trivial: f64,
    pub best: f64,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Provenance {
    pub commits: Vec<String>,
    pub data_sha256: Vec<String>,
    pub split_sha256: Vec<String>,
    pub toolchains: Vec<String>,
    pub devices: Vec<String>,
    pub runs: Vec<String>,
    /// Cells continued from a checkpoint: `task model seed n: after epochs 12, 30`.
    pub resumed: Vec<String>,
    pub first_started: String,
    pub last_finished: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskTable {
    pub task: String,
    pub slug: String,
    pub primary: String,
    pub higher_is_better: bool,
    pub metrics: Vec<String>,
    pub other_metrics: Vec<String>,
    pub max_seeds: usize,
    pub rows: Vec<Row>,
    pub failed: Vec<FailedRow>,
    /// Models in rank group 1: (name, slug).
    pub rank1: Vec<(String, String)>,
    pub best: Option<String>,
    pub best_text: String,
    pub gap: Option<GapBadge>,
    pub oracle_text: String,
    pub trivial_text: String,
    pub rank_test: String,
    pub notes: Vec<String>,
    /// Which planned cells have results (None when no plan is known for the task).
    pub coverage: Option<Coverage>,
    /// Cells recorded under other settings than the task file now gives (empty without
    /// a tasks folder), and the page's sentence about them.
    pub stale: Vec<StaleCell>,
    pub stale_text: Option<String>,
    pub provenance: Provenance,
    /// Full comparisons of every model with the best (JSON export).
    pub comparisons: Vec<PairComparison>,
    #[serde(skip)]
    pub plot_svg: String,
    /// Whether rows differ in embedding bytes (then the page shows `bytes_plot_svg`).
    pub embedding_bytes_differ: bool,
    #[serde(skip)]
    pub bytes_plot_svg: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    pub task: String,
    pub task_slug: String,
    pub primary: String,
    pub text: String,
    pub group_text: String,
    pub seeds: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelPage {
    pub model: String,
    pub slug: String,
    /// For a variant: the registered model it configures (its page is `base_slug`).
    pub base_model: Option<String>,
    pub base_slug: String,
    /// Per task, the variant's full config (compact JSON).
    pub configs: Vec<(String, String)>,
    /// Variants of this model in the results: (name, slug).
    pub variants: Vec<(String, String)>,
    /// The claims naming this model, with their verdicts.
    pub claims: Vec<ClaimResult>,
    pub in_catalog: bool,
    pub family: String,
    pub paper: String,
    pub summary: String,
    pub simplifications: String,
    /// A variant's components with their own registry entries (an embedding
    /// strategy): (name, paper, simplifications).
    pub components: Vec<(String, String, String)>,
    pub results: Vec<ModelResult>,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteData {
    pub generated: String,
    pub alpha: f64,
    pub resamples: usize,
    pub resample_seed: u64,
    pub tasks: Vec<TaskTable>,
    pub models: Vec<ModelPage>,
    /// Every claim file's verdict (`claims.html`).
    pub claims: Vec<ClaimResult>,
    /// Slugs of the model and task pages that exist (claims link only to those).
    pub model_pages: Vec<String>,
    pub task_pages: Vec<String>,
    pub bad_files: Vec<BadFile>,
    pub notes: Vec<String>,
    pub provenance: Provenance,
}
