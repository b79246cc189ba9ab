//! Cost accounting: what a model costs on a task, measured without training to
//! convergence. FLOPs per example come from the engine's counter (forward, backward and
//! optimizer, by kind; conventions in `baselines::engine::flops`), memory from the
//! parameter store and optimizer and from `/proc/self/status`, speed from wall-clock
//! timing (`std::time::Instant`): train throughput over a fixed number of steps after
//! warm-up, and inference latency p50/p99 at several batch sizes.
//!
//! `recbench cost` calls [`measure_model`]; `recbench run` fills the same [`Cost`]
//! record per cell from the real training run with [`memory_cost`], [`flops_cost`] and
//! [`latencies`].

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use baselines::engine::{Dev, DeviceKind, Flops, OptimConfig, Optimizer, ParamStore};
use baselines::{predict, train_step, Batch, Model, Ranking};
use serde::Serialize;

use crate::data::batcher::{epoch_order, feature_spec_for, make_batch};
use crate::data::Dataset;
use crate::results::{Cost, FlopsByKind, GpuMemory, Latency};
use crate::task::prepare::Prepared;
use crate::task::TaskSpec;

/// How `recbench cost` measures.
#[derive(Debug, Clone, Serialize)]
pub struct CostPlan {
    /// Warm-up train steps, not timed (allocator, caches, lazy state).
    pub warmup_steps: usize,
    /// Timed train steps.
    pub train_steps: usize,
    /// Inference batch sizes whose latency is measured.
    pub latency_batches: Vec<usize>,
    /// Wall-time budget per batch size; repetitions stop when it is spent...
    pub latency_budget: Duration,
    /// ...but not before this many, nor after `latency_max_reps`.
    pub latency_min_reps: usize,
    pub latency_max_reps: usize,
    /// Seed of the split, the initial parameters and the batch order.
    pub seed: u64,
}

impl Default for CostPlan {
    fn default() -> Self {
        CostPlan {
            warmup_steps: 5,
            train_steps: 50,
            latency_batches: vec![1, 256, 4096],
            latency_budget: Duration::from_secs(2),
            latency_min_reps: 30,
            latency_max_reps: 2000,
            seed: 0,
        }
    }
}

/// Parameter counts and bytes. Call after the optimizer has laid out its state in the
/// tables (`Optimizer::new`); dense Adam keeps two moments per dense parameter.
pub fn memory_cost<D: Dev>(store: &ParamStore<D>, cost: &mut Cost) {
    let counts = store.counts();
    let f32_bytes = std::mem::size_of::<f32>();
    cost.params_dense = counts.dense;
    cost.params_embedding = counts.embedding;
    cost.param_bytes = f32_bytes * (counts.dense + counts.embedding);
    let table_state: usize = store
        .tables()
        .iter()
        .map(|t| t.state_bytes())
        .sum::<usize>();
    cost.optimizer_state_bytes = 2 * f32_bytes * counts.dense + table_state;
    cost.train_state_bytes = cost.param_bytes + cost.optimizer_state_bytes;
    cost.serving_bytes = cost.param_bytes;
}

/// What only the model can say about its memory: the embedding values it actually uses
/// (AMTL, MDE; `Cost::embedding_values_used`) and lookup state held outside the parameter
/// store (added to `serving_bytes`, e.g. `stats_dnn`'s pair table). Call after
/// [`memory_cost`], once the model is trained (AMTL's widths depend on its weights).
pub fn model_memory_cost<D: Dev>(
    model: &dyn Model<Ranking, D>,
    store: &ParamStore<D>,
    cost: &mut Cost,
) {
    cost.embedding_values_used = model.embedding_values_used(store);
    cost.serving_bytes += model.extra_serving_bytes();
}

/// Fills the FLOP fields from the counters of training steps that saw `examples`
/// examples in all.
pub fn flops_cost(total: &Flops, examples: usize, cost: &mut Cost) {
    let n = examples.max(1) as f64;
    let per = |m: &BTreeMap<&'static str, u64>| -> BTreeMap<String, f64> {
        m.iter()
            .map(|(k, v)| (k.to_string(), *v as f64 / n))
            .collect()
    };
    cost.forward_flops_per_example = total.model_forward_total() as f64 / n;
    cost.backward_flops_per_example = total.backward_total() as f64 / n;
    cost.optimizer_flops_per_example = total.optimizer_total() as f64 / n;
    cost.train_flops_per_example = total.total() as f64 / n;
    cost.flops_by_kind = FlopsByKind {
        forward: per(total.forward_by_kind()),
        backward: per(total.backward_by_kind()),
        optimizer: per(total.optimizer_by_kind()),
    };
}

/// Nearest-rank percentile (`p` in 0..=100) of ascending `sorted` values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    assert!(!sorted.is_empty(), "percentile of nothing");
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Times `f`: 3 warm-up calls, then repetitions until `budget` is spent (within
/// `min_reps..=max_reps`); `batch_size` items per call.
pub fn time_calls(
    batch_size: usize,
    budget: Duration,
    min_reps: usize,
    max_reps: usize,
    mut f: impl FnMut(),
) -> Latency {
    for _ in 0..3 {
        f();
    }
    let mut ms = Vec::new();
    let started = Instant::now();
    while ms.len() < max_reps && (ms.len() < min_reps || started.elapsed() < budget) {
        let t = Instant::now();
        f();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    let p50 = percentile(&ms, 50.0);
    Latency {
        batch_size,
        reps: ms.len(),
        p50_ms: p50,
        p99_ms: percentile(&ms, 99.0),
        examples_per_second: batch_size as f64 / (p50 / 1e3).max(1e-12),
    }
}

/// Latency of `predict_logits` on each of `batches` (each timed separately): 3 warm-up
/// calls, then repetitions until `budget` is spent (within `min_reps..=max_reps`).
pub fn latencies<D: Dev>(
    model: &dyn Model<Ranking, D>,
    store: &ParamStore<D>,
    batches: &[Batch],
    budget: Duration,
    min_reps: usize,
    max_reps: usize,
) -> Vec<Latency> {
    batches
        .iter()
        .map(|b| {
            time_calls(b.size, budget, min_reps, max_reps, || {
                std::hint::black_box(predict(model, store, b));
            })
        })
        .collect()
}

/// A batch of `size` rows taken in order from `rows`, cycling when `rows` is shorter.
pub fn batch_of(ds: &Dataset, rows: &[usize], size: usize, label: usize) -> Batch {
    assert!(!rows.is_empty(), "no rows to build a batch from");
    let picked: Vec<usize> = rows.iter().copied().cycle().take(size).collect();
    make_batch(ds, &picked, label)
}

/// Linux: resets this process's peak resident memory (VmHWM) to its current resident
/// size, by writing `5` to `/proc/self/clear_refs` (Linux >= 4.0). Returns false when
/// that is not possible; the peak then covers the whole process so far.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Current resident memory of this process (VmRSS), bytes.
pub fn current_rss_bytes() -> Option<u64> {
    status_kib("VmRSS:").map(|k| k * 1024)
}

/// Peak resident memory of this process since start or the last [`reset_peak_rss`]
/// (VmHWM), bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    status_kib("VmHWM:").map(|k| k * 1024)
}

/// Starts a peak-memory window: resets VmHWM and records the resident size now.
/// Returns (scope, rss at start) for `Cost::peak_rss_scope` and
/// `Cost::process_rss_at_start_bytes`; `scope` is `reset_scope` when the reset
/// worked, else `process`.
pub fn start_peak_window(reset_scope: &str) -> (String, Option<u64>) {
    let scope = if reset_peak_rss() {
        reset_scope
    } else {
        "process"
    };
    (scope.to_string(), current_rss_bytes())
}

/// CUDA memory from the driver (`cuMemGetInfo`) for `Cost::gpu_memory`: `None` on the
/// CPU. A snapshot taken after training, not a peak; `used` counts everything on the
/// device: the CUDA context (about 0.5 GiB), dfdx's tensor cache (which keeps freed
/// buffers for reuse, so it holds roughly the training peak) and other processes.
pub fn cuda_mem_info(kind: DeviceKind) -> Option<GpuMemory> {
    match kind {
        DeviceKind::Cpu => None,
        DeviceKind::Cuda => cuda_free_total().map(|(free, total)| GpuMemory {
            free_bytes: free,
            total_bytes: total,
            used_bytes: total.saturating_sub(free),
        }),
    }
}

#[cfg(feature = "cuda")]
fn cuda_free_total() -> Option<(u64, u64)> {
    baselines::engine::cuda_mem_get_info()
}

#[cfg(not(feature = "cuda"))]
fn cuda_free_total() -> Option<(u64, u64)> {
    None
}

/// Measures model `name` on a prepared task: builds it with the task's config (or its
/// defaults), runs `plan.warmup_steps` + `plan.train_steps` train steps on the
/// task's training rows at the task's batch size (FLOPs from the timed steps), then
/// times inference on test rows at each `plan.latency_batches` size.
pub fn measure_model<D: Dev>(
    dev: &D,
    kind: DeviceKind,
    spec: &TaskSpec,
    prep: &mut Prepared,
    name: &str,
    plan: &CostPlan,
) -> anyhow::Result<Cost> {
    let (split, _) = prep.split(spec, plan.seed)?.clone();
    anyhow::ensure!(
        !split.train.is_empty() && !split.test.is_empty(),
        "task `{}`: empty train or test split",
        spec.name
    );
    let ds = &prep.dataset;
    let label = prep.label;
    // `name` may be a variant of a catalog model: build its base with its config.
    let entry = spec
        .require_entry(name)
        .map_err(|msg| anyhow::anyhow!("task `{}`: {msg}", spec.name))?;
    let config = entry.config.clone();
    let optim: OptimConfig = spec.train.optim_for(name);
    let batch_size = spec.train.batch_size;

    // Pre-assemble the training batches, so the timed steps measure the model.
    let needed = plan.warmup_steps + plan.train_steps;
    let mut batches = Vec::with_capacity(needed);
    let mut epoch = 1;
    while batches.len() < needed {
        let order = epoch_order(&split.train, plan.seed, epoch);
        for chunk in order.chunks(batch_size) {
            if batches.len() == needed {
                break;
            }
            batches.push(make_batch(ds, chunk, label));
        }
        epoch += 1;
    }
    let serve: Vec<Batch> = plan
        .latency_batches
        .iter()
        .map(|&n| batch_of(ds, &split.test, n, label))
        .collect();

    let (scope, rss_start) = start_peak_window("measurement");
    let mut store = ParamStore::new(dev.clone(), plan.seed);
    // Per-id frequencies from the training rows only, as in the ranking task.
    let inputs = baselines::registry::side_inputs::<Ranking>(&entry.base, &config)?;
    let features = feature_spec_for(ds, &split.train, label, &inputs);
    let model =
        baselines::registry::build::<Ranking, _>(&entry.base, &config, &features, &mut store)?;
    let mut opt = Optimizer::new(&optim, &mut store);
    let mut cost = Cost::default();
    memory_cost(&store, &mut cost);

    for b in &batches[..plan.warmup_steps] {
        train_step(model.as_ref(), &mut store, &mut opt, b);
    }
    let mut flops = Flops::default();
    let mut examples = 0;
    let t = Instant::now();
    for b in &batches[plan.warmup_steps..] {
        let out = train_step(model.as_ref(), &mut store, &mut opt, b);
        anyhow::ensure!(
            out.loss.is_finite(),
            "model `{name}` diverged during cost measurement"
        );
        flops.merge(&out.flops);
        examples += b.size;
    }
    let seconds = t.elapsed().as_secs_f64();
    flops_cost(&flops, examples, &mut cost);
    // After the timed steps: AMTL's widths are those of a briefly trained model.
    model_memory_cost(model.as_ref(), &store, &mut cost);
    cost.train_examples_per_second = examples as f64 / seconds.max(1e-12);
    cost.train_throughput_steps = Some(plan.train_steps);
    cost.train_batch_size = batch_size;
    cost.process_peak_rss_bytes = peak_rss_bytes();
    cost.peak_rss_scope = scope;
    cost.process_rss_at_start_bytes = rss_start;
    cost.gpu_memory = cuda_mem_info(kind);
    drop(batches);
    cost.latency = latencies(
        model.as_ref(),
        &store,
        &serve,
        plan.latency_budget,
        plan.latency_min_reps,
        plan.latency_max_reps,
    );
    Ok(cost)
}

fn human(x: f64, unit: &str) -> String {
    let (v, p) = if x >= 1e12 {
        (x / 1e12, "T")
    } else if x >= 1e9 {
        (x / 1e9, "G")
    } else if x >= 1e6 {
        (x / 1e6, "M")
    } else if x >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    format!("{v:.3}{p}{unit}")
}

fn mib(b: usize) -> String {
    format!("{:.2} MiB", b as f64 / (1u64 << 20) as f64)
}

/// The `recbench cost` table: one block of rows per measure, one column per model.
pub fn format_table(rows: &[(String, Cost)]) -> String {
    let mut lines: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |label: &str, f: &dyn Fn(&Cost) -> String| {
        lines.push((label.to_string(), rows.iter().map(|(_, c)| f(c)).collect()));
    };
    row("params dense", &|c| c.params_dense.to_string());
    row("params embedding", &|c| c.params_embedding.to_string());
    row("param bytes (f32)", &|c| mib(c.param_bytes));
    row("serving bytes", &|c| mib(c.serving_bytes));
    row("embedding values used", &|c| {
        c.embedding_values_used
            .map_or("all".into(), |v| format!("{v} of {}", c.params_embedding))
    });
    row("optimizer state bytes", &|c| mib(c.optimizer_state_bytes));
    row("params + optimizer bytes", &|c| mib(c.train_state_bytes));
    row("FLOPs/ex forward", &|c| {
        human(c.forward_flops_per_example, "")
    });
    row("FLOPs/ex backward", &|c| {
        human(c.backward_flops_per_example, "")
    });
    row("FLOPs/ex optimizer", &|c| {
        human(c.optimizer_flops_per_example, "")
    });
    row("FLOPs/ex train step", &|c| {
        human(c.train_flops_per_example, "")
    });
    row("backward / forward", &|c| {
        format!(
            "{:.2}",
            c.backward_flops_per_example / c.forward_flops_per_example.max(1e-12)
        )
    });
    row("train examples/s", &|c| {
        human(c.train_examples_per_second, "")
    });
    row("peak RSS (VmHWM)", &|c| {
        c.process_peak_rss_bytes
            .map_or("n/a".into(), |b| mib(b as usize))
    });
    row("  RSS at start", &|c| {
        c.process_rss_at_start_bytes
            .map_or("n/a".into(), |b| mib(b as usize))
    });
    row("GPU used", &|c| {
        c.gpu_memory
            .as_ref()
            .map_or("n/a".into(), |g| mib(g.used_bytes as usize))
    });
    let sizes: Vec<usize> = rows
        .first()
        .map(|(_, c)| c.latency.iter().map(|l| l.batch_size).collect())
        .unwrap_or_default();
    for n in sizes {
        let find = move |c: &Cost| c.latency.iter().find(|l| l.batch_size == n).cloned();
        row(&format!("latency p50 @{n} (ms)"), &|c| {
            find(c).map_or("n/a".into(), |l| format!("{:.3}", l.p50_ms))
        });
        row(&format!("latency p99 @{n} (ms)"), &|c| {
            find(c).map_or("n/a".into(), |l| format!("{:.3}", l.p99_ms))
        });
    }
    let w0 = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0).max(5);
    let widths: Vec<usize> = (0..rows.len())
        .map(|i| {
            lines
                .iter()
                .map(|(_, v)| v[i].chars().count())
                .chain([rows[i].0.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!("{:<w0$}", "model");
    for ((name, _), w) in rows.iter().zip(&widths) {
        out += &format!("  {name:>w$}");
    }
    out.push('\n');
    for (label, vals) in &lines {
        out += &format!("{label:<w0$}");
        for (v, w) in vals.iter().zip(&widths) {
            out += &format!("  {v:>w$}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[3.0], 99.0), 3.0);
        let few = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&few, 50.0), 3.0);
        assert_eq!(percentile(&few, 99.0), 5.0);
    }

    #[test]
    fn peak_memory_is_read_from_proc() {
        // Linux CI: both fields exist and the peak is at least the current size.
        let (_, rss) = start_peak_window("test");
        let peak = peak_rss_bytes().expect("VmHWM");
        assert!(peak >= rss.expect("VmRSS") / 2);
    }
}
