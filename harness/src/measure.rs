//! `recbench cost`: what a ranking model costs on a task, measured without training to
//! convergence: train throughput and FLOPs over a fixed number of steps after warm-up,
//! memory, and inference latency p50/p99 at several batch sizes.

use std::time::{Duration, Instant};

use baselines::engine::{Dev, DeviceKind, Flops, OptimConfig, Optimizer, ParamStore};
use baselines::{train_step, Batch, Ranking};
use serde::Serialize;

use crate::cost::{
    cuda_mem_info, flops_cost, memory_cost, model_memory_cost, peak_rss_bytes, start_peak_window,
};
use crate::data::batcher::{epoch_order, feature_spec_for, make_train_batch};
use crate::kinds::ranking::{batch_of, latencies, Prepared};
use crate::results::Cost;
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
            batches.push(make_train_batch(ds, chunk, label));
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
