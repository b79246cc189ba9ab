//! `recbench cost`'s measurement on a small synthetic task: every field is filled and
//! the parts add up. No timing assertions (timings depend on the machine).

use std::path::Path;
use std::time::Duration;

use baselines::engine::DeviceKind;
use harness::data::batcher::feature_spec_with_counts;
use harness::kinds::ranking::prepare;
use harness::measure::{format_table, measure_model, CostPlan};
use harness::task::TaskSpec;

fn spec() -> TaskSpec {
    serde_json::from_value(serde_json::json!({
        "name": "tiny-ctr",
        "kind": "ranking",
        "dataset": { "source": "synth_ctr", "label": "click",
                     "config": { "seed": 0, "n_users": 50, "n_items": 40, "events": 3000 } },
        "split": { "kind": "temporal", "valid": 0.1, "test": 0.1 },
        "metrics": ["auc"],
        "models": { "lr": {}, "dnn": { "embedding_dim": 8, "hidden": [16] },
                    "dcnv2": { "embedding_dim": 8, "cross_layers": 1, "hidden": [16] },
                    "dnn_mde": { "model": "dnn", "embedding_dim": 8, "hidden": [16],
                                 "embedding": { "kind": "mde" } },
                    "amtl_dnn": { "embedding_dim": 8, "hidden": [16] },
                    "stats_dnn": { "embedding_dim": 8, "hidden": [16] },
                    "pcf_dnn": { "embedding_dim": 8, "hidden": [16], "gnn_dim": 4, "pretrain_epochs": 2 } },
        "train": { "batch_size": 128 }
    }))
    .unwrap()
}

#[test]
fn cost_of_every_model_is_complete_and_consistent() {
    let spec = spec();
    let mut prep = prepare(&spec, Path::new(".")).unwrap();
    let plan = CostPlan {
        warmup_steps: 1,
        train_steps: 3,
        latency_batches: vec![1, 300],
        latency_budget: Duration::from_millis(1),
        latency_min_reps: 3,
        latency_max_reps: 5,
        seed: 0,
    };
    let dev = baselines::Cpu::default();
    let mut rows = Vec::new();
    for name in ["lr", "dnn", "dcnv2"] {
        let c = measure_model(&dev, DeviceKind::Cpu, &spec, &mut prep, name, &plan).unwrap();
        assert!(c.params_dense > 0 && c.params_embedding > 0, "{name}");
        assert_eq!(c.param_bytes, 4 * (c.params_dense + c.params_embedding));
        assert_eq!(c.serving_bytes, c.param_bytes);
        // Default optimizers: dense Adam and row-wise Adam, two state values each.
        assert_eq!(
            c.optimizer_state_bytes,
            8 * (c.params_dense + c.params_embedding),
            "{name}"
        );
        assert_eq!(c.train_state_bytes, 3 * c.param_bytes);
        assert!(c.forward_flops_per_example > 0.0);
        assert!(c.backward_flops_per_example > c.forward_flops_per_example);
        assert!(c.optimizer_flops_per_example > 0.0);
        let loss: f64 = c.flops_by_kind.forward.get("loss").copied().unwrap();
        let sum = c.forward_flops_per_example
            + loss
            + c.backward_flops_per_example
            + c.optimizer_flops_per_example;
        assert!(
            (c.train_flops_per_example - sum).abs() < 1e-6 * sum,
            "{name}"
        );
        assert!(c.train_examples_per_second > 0.0);
        assert_eq!(c.train_throughput_steps, Some(3));
        assert_eq!(c.train_batch_size, 128);
        assert!(c.process_peak_rss_bytes.unwrap() > 0);
        assert!(c.gpu_memory.is_none());
        assert_eq!(c.latency.len(), 2);
        for l in &c.latency {
            assert!(l.reps >= 3 && l.p99_ms >= l.p50_ms && l.p50_ms > 0.0);
        }
        assert_eq!(c.latency[1].batch_size, 300, "test rows are cycled");
        rows.push((name.to_string(), c));
    }
    let table = format_table(&rows);
    assert!(table.contains("latency p99 @300"), "{table}");
    assert!(table.lines().next().unwrap().contains("dcnv2"));
}

/// A plan for tests about memory: `train_steps` steps, no warm-up, one latency call.
fn memory_only_plan(train_steps: usize) -> CostPlan {
    CostPlan {
        warmup_steps: 0,
        train_steps,
        latency_batches: vec![1],
        latency_budget: Duration::from_millis(1),
        latency_min_reps: 1,
        latency_max_reps: 1,
        seed: 0,
    }
}

#[test]
fn embedding_values_used_is_recorded_for_amtl_and_mde_only() {
    let spec = spec();
    let mut prep = prepare(&spec, Path::new(".")).unwrap();
    let plan = memory_only_plan(2);
    let dev = baselines::Cpu::default();
    let mut cost =
        |name: &str| measure_model(&dev, DeviceKind::Cpu, &spec, &mut prep, name, &plan).unwrap();
    let dnn = cost("dnn");
    assert_eq!(dnn.embedding_values_used, None);
    // The variant is built as `dnn` with MDE: the same table, fewer values used.
    let mde = cost("dnn_mde");
    assert_eq!(mde.params_embedding, dnn.params_embedding);
    let used = mde
        .embedding_values_used
        .expect("MDE reports its used values");
    // At least a quarter of every row (the narrowest MDE tier), less than all of it.
    assert!(
        used * 4 >= mde.params_embedding as u64 && used < mde.params_embedding as u64,
        "{used}"
    );
    let amtl = cost("amtl_dnn");
    let used = amtl
        .embedding_values_used
        .expect("AMTL reports its used values");
    let rows = amtl.params_embedding as u64 / 8;
    assert!((rows..=8 * rows).contains(&used), "{used} of {}", 8 * rows);
    let mde_used = mde.embedding_values_used.unwrap();
    let n = mde.params_embedding;
    let table = format_table(&[("dnn".into(), dnn), ("dnn_mde".into(), mde)]);
    let line = table
        .lines()
        .find(|l| l.starts_with("embedding values used"))
        .expect("row present");
    assert!(
        line.contains("all") && line.contains(&format!("{mde_used} of {n}")),
        "{line}"
    );
}

#[test]
fn serving_bytes_count_lookup_tables_kept_outside_the_parameter_store() {
    let spec = spec();
    let mut prep = prepare(&spec, Path::new(".")).unwrap();
    let plan = memory_only_plan(1);
    let dev = baselines::Cpu::default();
    // The distinct (user, item) pairs of the training split: the statistics table.
    let (split, _) = prep.split(&spec, 0).unwrap().clone();
    let pair = ("user_id".to_string(), "item_id".to_string());
    let train = feature_spec_with_counts(&prep.dataset, &split.train, prep.label, Some(&pair));
    let pairs = train.pairs.unwrap().pairs.len();
    assert!(pairs > 100);
    let stats = measure_model(&dev, DeviceKind::Cpu, &spec, &mut prep, "stats_dnn", &plan).unwrap();
    assert_eq!(stats.serving_bytes, stats.param_bytes + 16 * pairs);
    // PCF-GNN: a server keeps h^K of every user and item node, (50 + 40) x 4 floats,
    // instead of the GNNs (the one on all rows and the 2 out-of-fold ones), each with
    // h^0 (the same size) and two 2d x d rounds.
    let pcf = measure_model(&dev, DeviceKind::Cpu, &spec, &mut prep, "pcf_dnn", &plan).unwrap();
    let gnn = 3 * ((50 + 40) * 4 + 2 * (2 * 4 * 4));
    assert_eq!(
        pcf.serving_bytes,
        pcf.param_bytes - 4 * gnn + 4 * (50 + 40) * 4
    );
}
