//! Cost accounting: what a model costs on a task, measured without training to
//! convergence. FLOPs per example come from the engine's counter (forward, backward and
//! optimizer, by kind; conventions in `baselines::engine::flops`), memory from the
//! parameter store and optimizer and from `/proc/self/status`, speed from wall-clock
//! timing (`std::time::Instant`): train throughput over a fixed number of steps after
//! warm-up, and inference latency p50/p99 at several batch sizes.
//!
//! `recbench run` fills a cell's [`Cost`] record from its training run with
//! [`memory_cost`], [`flops_cost`] and [`time_calls`]; `recbench cost` (`crate::measure`)
//! fills the same record from a few timed steps.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use baselines::engine::{Dev, DeviceKind, Flops, ParamStore};
use baselines::{Kind, Model};

use crate::results::{Cost, FlopsByKind, GpuMemory, Latency};

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
    // Buffers (running statistics) are kept for training and serving alike.
    let buffers = f32_bytes * store.buffer_values();
    cost.train_state_bytes = cost.param_bytes + cost.optimizer_state_bytes + buffers;
    cost.serving_bytes = cost.param_bytes + buffers;
}

/// What only the model can say about its memory: the embedding values it actually uses
/// (AMTL, MDE; `Cost::embedding_values_used`), lookup state held outside the parameter
/// store (added to `serving_bytes`, e.g. `stats_dnn`'s pair table) and parameters a
/// server does not keep (taken out of it, e.g. PCF-GNN's GNN). Call after
/// [`memory_cost`], once the model is trained (AMTL's widths depend on its weights).
pub fn model_memory_cost<K: Kind, D: Dev>(
    model: &dyn Model<K, D>,
    store: &ParamStore<D>,
    cost: &mut Cost,
) {
    cost.embedding_values_used = model.embedding_values_used(store);
    let training_only = store.values_under(model.training_only()) * std::mem::size_of::<f32>();
    cost.serving_bytes = cost.serving_bytes - training_only + model.extra_serving_bytes();
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
