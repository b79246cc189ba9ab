//! The shipped task specs and suites (`tasks/`): every task loads, every model entry
//! (registered model or variant) validates against the task's features, every suite names
//! existing tasks, and the embedding-budget variants (`<model>_bh_<r>x`,
//! `<model>_hash_<r>x`) have the sizes the formula in their task descriptions gives.
//!
//! Features: synthetic tasks' vocabularies come from the world's config (no events
//! drawn); file tasks are built from `../shared/data` when this checkout has it, and
//! are skipped with a SKIP line otherwise.

use std::path::{Path, PathBuf};

use baselines::layers::EmbeddingStrategy;
use baselines::FeatureSpec;
use harness::data::batcher::feature_spec;
use harness::data::builder::DatasetSpec;
use harness::data::synth::{ctr_vocabularies, SynthConfig, CTR_DENSE, CTR_SPARSE};
use harness::kinds::ranking::prepare;
use harness::runner::list_specs;
use harness::task::{SuiteSpec, TaskSpec};

fn tasks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks")
}

fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    p.exists().then_some(p)
}

fn tasks() -> Vec<TaskSpec> {
    let (names, _) = list_specs(&tasks_dir());
    assert!(names.len() >= 5, "{names:?}");
    names
        .iter()
        .map(|n| {
            let spec = TaskSpec::load(&tasks_dir().join(format!("{n}.json")))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&spec.name, n, "task name and file name differ");
            spec
        })
        .collect()
}

/// The task's features (vocabularies included), or `None` for a file task without the
/// shared data and for retrieval and generative tasks (checked by the last tests).
fn features(spec: &TaskSpec) -> Option<FeatureSpec> {
    if spec.kind.kind() != harness::task::TaskKind::Ranking {
        return None;
    }
    match &spec.dataset {
        DatasetSpec::SynthCtr { config, .. } => {
            let value = if config.is_null() {
                serde_json::json!({})
            } else {
                config.clone()
            };
            let cfg: SynthConfig = serde_json::from_value(value).unwrap();
            Some(FeatureSpec {
                sparse: CTR_SPARSE
                    .iter()
                    .zip(ctr_vocabularies(&cfg))
                    .map(|(n, v)| (n.to_string(), v))
                    .collect(),
                dense: CTR_DENSE.iter().map(|s| s.to_string()).collect(),
                frequencies: None,
                pairs: None,
            })
        }
        DatasetSpec::Files(_) => {
            let Some(root) = shared_data() else {
                eprintln!("SKIP: task `{}` needs ../shared/data", spec.name);
                return None;
            };
            let prep = prepare(spec, &root).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            Some(feature_spec(&prep.dataset))
        }
        DatasetSpec::SynthSeq { .. }
        | DatasetSpec::Sequences(_)
        | DatasetSpec::SynthGen { .. }
        | DatasetSpec::Requests(_)
        | DatasetSpec::SynthMt { .. } => None,
    }
}

#[test]
fn every_task_loads_and_every_model_validates() {
    for spec in tasks() {
        let Some(f) = features(&spec) else { continue };
        for name in spec.models.keys() {
            let e = spec.entry(name).unwrap();
            baselines::registry::validate::<baselines::Ranking>(&e.base, &e.config, &f)
                .unwrap_or_else(|err| panic!("task `{}`, model `{name}`: {err}", spec.name));
        }
    }
}

#[test]
fn every_suite_names_existing_tasks_and_models() {
    let (_, suites) = list_specs(&tasks_dir());
    assert!(suites.contains(&"ctr".to_string()) && suites.contains(&"embedding".to_string()));
    let all = tasks();
    for s in suites {
        let suite = SuiteSpec::load(&tasks_dir().join(format!("suites/{s}.json"))).unwrap();
        assert!(!suite.tasks.is_empty(), "suite {s}");
        for t in &suite.tasks {
            let spec = all
                .iter()
                .find(|x| &x.name == t)
                .unwrap_or_else(|| panic!("suite {s}: no task {t}"));
            for m in suite.models.iter().flatten() {
                spec.require_entry(m)
                    .unwrap_or_else(|e| panic!("suite {s}: {e}"));
            }
        }
    }
}

/// Rows of the embedding table `strategy` builds for `f` at width `dim`, as the models
/// allocate it.
fn rows(f: &FeatureSpec, strategy: EmbeddingStrategy, dim: usize) -> u64 {
    strategy.plan(f, dim).rows
}

/// `(base, kind, r)` for a variant named `<base>_<kind>_<r>x`.
fn budget_name(name: &str) -> Option<(&str, &str, f64)> {
    let (rest, r) = name.strip_suffix('x')?.rsplit_once('_')?;
    let (base, kind) = rest.rsplit_once('_')?;
    Some((base, kind, r.parse().ok()?))
}

/// The BH `t` for a `r`-fold smaller table: rows nearest `full / r` on a log scale
/// (ties: the larger t).
fn bh_bits_for(f: &FeatureSpec, dim: usize, r: f64) -> (u32, u64) {
    let full = rows(f, EmbeddingStrategy::Full, dim) as f64;
    let l_max = f
        .sparse
        .iter()
        .map(|(_, v)| baselines::layers::embedding_strategy::code_bits(*v))
        .max()
        .unwrap();
    (1..=l_max)
        .map(|t| {
            let bh = EmbeddingStrategy::Bh {
                bits_per_block: t,
                strategy: Default::default(),
                compose: Default::default(),
            };
            (t, rows(f, bh, dim))
        })
        .min_by(|a, b| {
            let dist = |x: u64| ((x as f64).ln() - (full / r).ln()).abs();
            dist(a.1).total_cmp(&dist(b.1)).then(b.0.cmp(&a.0))
        })
        .unwrap()
}

/// The hashing-trick buckets whose rows are nearest `target` (ties: fewer buckets).
fn hash_buckets_for(f: &FeatureSpec, target: u64) -> u32 {
    let hash_rows = |m: u32| f.sparse.iter().map(|(_, v)| m.min(*v) as u64).sum::<u64>();
    // Rows grow with m: find the first m reaching the target, then compare it with m - 1.
    let (mut lo, mut hi) = (1u32, f.sparse.iter().map(|(_, v)| *v).max().unwrap());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if hash_rows(mid) < target {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    [lo.saturating_sub(1).max(1), lo]
        .into_iter()
        .min_by_key(|&m| (hash_rows(m).abs_diff(target), m))
        .unwrap()
}

#[test]
fn embedding_budget_variants_follow_the_formula() {
    let mut checked = 0;
    for spec in tasks() {
        let Some(f) = features(&spec) else { continue };
        for (name, config) in &spec.models {
            let Some((_, kind, r)) = budget_name(name) else {
                continue;
            };
            let e = spec.entry(name).unwrap();
            let dim = e.config["embedding_dim"].as_u64().unwrap_or(16) as usize;
            let dim = if e.base == "lr" { 1 } else { dim };
            let strategy: EmbeddingStrategy =
                serde_json::from_value(config["embedding"].clone()).unwrap();
            let (t, bh_rows) = bh_bits_for(&f, dim, r);
            let want = match kind {
                "bh" => EmbeddingStrategy::Bh {
                    bits_per_block: t,
                    strategy: Default::default(),
                    compose: Default::default(),
                },
                "hash" => EmbeddingStrategy::Hash {
                    buckets: hash_buckets_for(&f, bh_rows),
                },
                _ => panic!(
                    "task `{}`: `{name}`: unknown budget kind `{kind}`",
                    spec.name
                ),
            };
            assert_eq!(
                strategy,
                want,
                "task `{}`, `{name}`: full {} rows, BH t = {t} gives {bh_rows}",
                spec.name,
                rows(&f, EmbeddingStrategy::Full, dim)
            );
            checked += 1;
        }
    }
    // The two sweeps alone hold 12 budget variants.
    assert!(checked >= 12, "only {checked} budget variants checked");
}

#[test]
fn the_budget_formula_on_synth_ctr_matches_hand_counts() {
    // Vocabularies 2000, 1000, 200, 20, 10, 10, 10 (3,250 rows). t = 6: users 11 bits in
    // blocks of 6 + 5 bits (64 + 32 rows), items 10 bits (64 + 16), authors 8 bits
    // (64 + 4), topics 5 bits (20 + 1 empty block), three 4-bit fields (10 + 1 each):
    // 96 + 80 + 68 + 21 + 33 = 298. Hashing into 83 buckets: 3 * 83 + 20 + 30 = 299.
    let f = FeatureSpec {
        sparse: [2000, 1000, 200, 20, 10, 10, 10]
            .iter()
            .enumerate()
            .map(|(i, &v)| (format!("f{i}"), v))
            .collect(),
        dense: vec![],
        frequencies: None,
        pairs: None,
    };
    assert_eq!(bh_bits_for(&f, 16, 10.0), (6, 298));
    assert_eq!(hash_buckets_for(&f, 298), 83);
    assert_eq!(bh_bits_for(&f, 16, 1.0), (11, 3250));
    assert_eq!(budget_name("dnn_bh_1000x"), Some(("dnn", "bh", 1000.0)));
    assert_eq!(budget_name("dcnv2_hash_10x"), Some(("dcnv2", "hash", 10.0)));
    assert_eq!(budget_name("dnn_mde"), None);
}

#[test]
fn every_retrieval_task_validates_its_sequential_models() {
    let retrieval: Vec<TaskSpec> = tasks()
        .into_iter()
        .filter(|s| s.kind.kind() == harness::task::TaskKind::Retrieval)
        .collect();
    assert!(
        retrieval.iter().any(|s| s.name == "synth-seq"),
        "no synth-seq task"
    );
    for spec in retrieval {
        let seq = baselines::SeqSpec {
            n_items: 1000,
            max_len: spec.retrieval_spec().max_len,
            item_counts: None,
        };
        for name in spec.models.keys() {
            let e = spec.entry(name).unwrap();
            baselines::registry::validate::<baselines::Retrieval>(&e.base, &e.config, &seq)
                .unwrap_or_else(|err| panic!("task `{}`, model `{name}`: {err}", spec.name));
        }
    }
}

#[test]
fn every_generative_task_validates_its_generative_models() {
    let generative: Vec<TaskSpec> = tasks()
        .into_iter()
        .filter(|s| s.kind.kind() == harness::task::TaskKind::Generative)
        .collect();
    let names: Vec<&str> = generative.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&"synth-gen") && names.contains(&"ml100k-gen"),
        "{names:?}"
    );
    for spec in generative {
        let g = spec.generative_spec();
        let gen = baselines::GenSpec {
            n_items: 1000,
            n_actions: harness::task::action_names(&spec.dataset).unwrap().len(),
            max_history: g.max_history,
            max_candidates: g.max_candidates,
        };
        for name in spec.models.keys() {
            let e = spec.entry(name).unwrap();
            baselines::registry::validate::<baselines::Generative>(&e.base, &e.config, &gen)
                .unwrap_or_else(|err| panic!("task `{}`, model `{name}`: {err}", spec.name));
        }
    }
}

#[test]
fn every_multitask_task_validates_its_multitask_models() {
    let multitask: Vec<TaskSpec> = tasks()
        .into_iter()
        .filter(|s| s.kind.kind() == harness::task::TaskKind::MultiTask)
        .collect();
    assert!(
        multitask.iter().any(|s| s.name == "synth-mt"),
        "no synth-mt task"
    );
    for spec in multitask {
        let DatasetSpec::SynthMt { config } = &spec.dataset else {
            eprintln!("SKIP: task `{}` reads files", spec.name);
            continue;
        };
        let cfg: SynthConfig = serde_json::from_value(config.clone()).unwrap();
        let layout = spec.task_layout();
        let mt = baselines::MultiTaskSpec {
            features: FeatureSpec {
                sparse: CTR_SPARSE
                    .iter()
                    .zip(ctr_vocabularies(&cfg))
                    .map(|(n, v)| (n.to_string(), v))
                    .collect(),
                dense: CTR_DENSE.iter().map(|s| s.to_string()).collect(),
                frequencies: None,
                pairs: None,
            },
            tasks: layout.tasks,
            categories: layout.categories,
            category_of: layout.category_of,
        };
        for name in spec.models.keys() {
            let e = spec.entry(name).unwrap();
            baselines::registry::validate::<baselines::MultiTask>(&e.base, &e.config, &mt)
                .unwrap_or_else(|err| panic!("task `{}`, model `{name}`: {err}", spec.name));
        }
    }
}
