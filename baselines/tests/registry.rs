//! Every registered model, of every kind, builds on the CPU with its default config (an
//! empty JSON object) on a tiny synthetic batch of its kind, and one training step runs
//! with a finite loss that reaches its parameters; its evaluation output has the kind's
//! shape. A registration that is missing a piece, or a model whose defaults are broken,
//! fails here rather than in a user's run. The side inputs a config declares are what
//! the spec is given, and a build without them fails.

mod common;

use baselines::engine::{OptimConfig, Optimizer, ParamStore};
use baselines::models::generative::gen_hstu::GenHstuConfig;
use baselines::registry::{self, embedding, Registry};
use baselines::{
    predict, train_step, Cpu, FeatureSpec, GenBatch, GenSpec, Generative, Kind, Model, MultiTask,
    Ranking, Retrieval,
};
use common::gen::TasteWorld;
use common::multitask::{mt_batch, mt_spec};
use common::seq::{markov_batch, MarkovWorld};
use common::{pair_stats_folds, toy_batch, toy_spec};

/// Builds `name` of kind `K` with its defaults, runs one training step and one
/// evaluation pass; returns the model and the evaluation output's length.
fn build_and_step<K: Registry>(name: &str, spec: &K::Spec, batch: &K::Batch) -> usize {
    let mut store = ParamStore::new(Cpu::default(), 0);
    let model: Box<dyn Model<K, Cpu>> =
        registry::build::<K, _>(name, &serde_json::json!({}), spec, &mut store)
            .unwrap_or_else(|e| panic!("{} model `{name}` does not build: {e}", K::NAME));
    assert!(
        !store.names().is_empty(),
        "{name}: no parameters registered"
    );
    let before = store.named_values();
    let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
    let out = train_step(model.as_ref(), &mut store, &mut opt, batch);
    assert!(out.loss.is_finite(), "{name}: loss {}", out.loss);
    assert!(out.flops.total() > 0, "{name}: a step of no FLOPs");
    let after = store.named_values();
    assert!(
        before != after,
        "{name}: one training step changed no parameter"
    );
    let (values, _) = predict(model.as_ref(), &store, batch);
    assert!(
        values.iter().all(|v| v.is_finite()),
        "{name}: non-finite output"
    );
    values.len()
}

/// The toy ranking spec with exactly the side inputs `name`'s defaults declare.
fn ranking_spec(name: &str) -> FeatureSpec {
    let inputs = registry::side_inputs::<Ranking>(name, &serde_json::json!({})).unwrap();
    let batch = toy_batch(64, 1);
    let mut spec = toy_spec();
    // The pair models default to fields user_id x item_id: name the toy fields so.
    spec.sparse[0].0 = "user_id".into();
    spec.sparse[1].0 = "item_id".into();
    if inputs.frequencies {
        spec.frequencies = Some(
            spec.sparse
                .iter()
                .enumerate()
                .map(|(f, (_, vocab))| {
                    let mut c = vec![0u32; *vocab as usize];
                    for r in 0..batch.size {
                        c[batch.sparse_row(r)[f] as usize] += 1;
                    }
                    c
                })
                .collect(),
        );
    }
    if let Some((a, b)) = &inputs.pair {
        assert_eq!((a.as_str(), b.as_str()), ("user_id", "item_id"), "{name}");
        let names = ("user_id", "item_id");
        spec.pairs = Some(pair_stats_folds(&batch, (0, 1), names, inputs.pair_folds));
    }
    spec
}

#[test]
fn every_ranking_model_builds_and_steps() {
    let batch = toy_batch(64, 1);
    let names: Vec<&str> = registry::infos::<Ranking>()
        .iter()
        .map(|m| m.name)
        .collect();
    assert!(names.len() >= 8, "{names:?}");
    for name in names {
        let n = build_and_step::<Ranking>(name, &ranking_spec(name), &batch);
        assert_eq!(n, batch.size, "{name}: one logit per example");
    }
}

#[test]
fn every_retrieval_model_builds_and_steps() {
    let world = MarkovWorld::new(30);
    let batch = markov_batch(&world, 8, 10, 2, 3);
    let spec = baselines::SeqSpec {
        n_items: 30,
        max_len: 10,
        item_counts: Some(vec![1; 31]),
    };
    for info in registry::infos::<Retrieval>() {
        let name = info.name;
        let rows = build_and_step::<Retrieval>(name, &spec, &batch);
        let mut store = ParamStore::new(Cpu::default(), 0);
        let m = registry::build::<Retrieval, _>(name, &serde_json::json!({}), &spec, &mut store)
            .unwrap();
        let hints = m.hints();
        assert_eq!(rows % (batch.size * hints.interests), 0, "{name}");
        let items = m
            .item_vectors(&store)
            .unwrap_or_else(|| panic!("{name}: a retrieval model needs item vectors"));
        let d = rows / (batch.size * hints.interests);
        assert_eq!(
            items.len(),
            31 * d,
            "{name}: (n_items + 1) x d item vectors"
        );
    }
}

#[test]
fn every_generative_model_builds_and_steps() {
    let world = TasteWorld::new();
    let spec: GenSpec = world.spec(8);
    let logs = world.users(6, 4, 5);
    let examples: Vec<(&[baselines::kinds::generative::Request], usize)> =
        logs.iter().map(|l| (&l[..], l.len() - 1)).collect();
    let batch = GenBatch::build(&spec, &examples);
    // hstu_rank and genrank share a config type; its check names the model.
    let _: GenHstuConfig = registry::parse(&serde_json::json!({})).unwrap();
    for info in registry::infos::<Generative>() {
        let n = build_and_step::<Generative>(info.name, &spec, &batch);
        assert_eq!(
            n,
            batch.size * spec.max_candidates * spec.n_actions,
            "{}: one logit per (candidate slot, action)",
            info.name
        );
    }
}

#[test]
fn every_multitask_model_builds_and_steps() {
    let (spec, batch) = (mt_spec(), mt_batch(64, 1));
    let names: Vec<&str> = registry::infos::<MultiTask>()
        .iter()
        .map(|m| m.name)
        .collect();
    assert!(names.len() >= 2, "{names:?}");
    for name in names {
        let n = build_and_step::<MultiTask>(name, &spec, &batch);
        assert_eq!(
            n,
            batch.size() * 3,
            "{name}: one logit per example and task"
        );
    }
}

#[test]
fn a_declared_side_input_is_required_to_build() {
    // MDE (through dnn's embedding option), AMTL and the pair models fail without
    // the inputs their configs declare, and say which.
    let cases = [
        (
            "dnn",
            serde_json::json!({"embedding": {"kind": "mde"}}),
            "frequencies",
        ),
        ("amtl_dnn", serde_json::json!({}), "frequencies"),
        ("pcf_dnn", serde_json::json!({}), "co-occurrence"),
        ("stats_dnn", serde_json::json!({}), "co-occurrence"),
    ];
    for (name, config, needs) in cases {
        let inputs = registry::side_inputs::<Ranking>(name, &config).unwrap();
        assert!(
            inputs.frequencies || inputs.pair.is_some(),
            "{name} declares nothing"
        );
        let mut spec = toy_spec();
        spec.sparse[0].0 = "user_id".into();
        spec.sparse[1].0 = "item_id".into();
        let mut store = ParamStore::new(Cpu::default(), 0);
        let err = registry::build::<Ranking, _>(name, &config, &spec, &mut store)
            .err()
            .unwrap_or_else(|| panic!("{name} built without its side inputs"));
        assert!(err.to_string().contains(needs), "{name}: {err}");
    }
    // A plain DNN declares nothing.
    assert_eq!(
        registry::side_inputs::<Ranking>("dnn", &serde_json::json!({})).unwrap(),
        baselines::RankingInputs::default()
    );
}

#[test]
fn variants_name_their_embedding_strategy() {
    let bh = serde_json::json!({"embedding": {"kind": "bh", "bits_per_block": 4}});
    let got = registry::components::<Ranking>("dnn", &bh).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].name, "bh");
    assert!(got[0].paper.contains("2109.02471"));
    assert!(
        registry::components::<Ranking>("dnn", &serde_json::json!({}))
            .unwrap()
            .is_empty()
    );
    assert_eq!(embedding::STRATEGIES.len(), 4);
}

#[test]
fn names_are_unique_across_kinds_and_every_entry_cites_something() {
    let all = baselines::models::all();
    let mut names: Vec<&str> = all.iter().map(|m| m.name).collect();
    names.sort();
    let n = names.len();
    names.dedup();
    assert_eq!(names.len(), n, "a model name is registered twice");
    for m in &all {
        assert!(!m.paper.is_empty() && !m.summary.is_empty(), "{}", m.name);
        assert!(
            [
                Ranking::NAME,
                Retrieval::NAME,
                Generative::NAME,
                MultiTask::NAME
            ]
            .contains(&m.kind),
            "{}: kind {}",
            m.name,
            m.kind
        );
    }
    let unknown = registry::validate::<Ranking>("sasrec", &serde_json::json!({}), &toy_spec());
    assert!(
        unknown
            .unwrap_err()
            .to_string()
            .contains("known ranking models"),
        "a retrieval model is not a ranking model"
    );
}

#[test]
fn every_registered_impl_is_in_its_kinds_list() {
    // A model file with `impl Registered<K> for M` but no line in its kind's `entries`
    // would never be built: count the impls in the sources against the registry.
    fn walk(dir: &std::path::Path, names: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, names);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, _) in text.match_indices("impl Registered<") {
                    // The model's INFO name follows its impl: `name: "<name>"`.
                    let rest = &text[i..];
                    let at = rest.find("name: \"").expect("an INFO with a name") + 7;
                    let end = rest[at..].find('"').unwrap();
                    names.push(rest[at..at + end].to_string());
                }
            }
        }
    }
    let mut in_sources = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/models"),
        &mut in_sources,
    );
    in_sources.sort();
    let mut registered: Vec<String> = baselines::models::all()
        .iter()
        .map(|m| m.name.to_string())
        .collect();
    registered.sort();
    assert_eq!(in_sources, registered);
}
