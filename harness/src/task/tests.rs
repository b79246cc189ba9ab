//! Unit tests of task specs: variants and their base models, rejected names, and the
//! `min_epochs` check.

use super::*;
use std::path::PathBuf;

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
    // A registered entry is its own base; a registered model the task does not list
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
            "must be a registered model name",
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

#[test]
fn a_source_of_another_kind_is_named_with_both_kinds() {
    let source = |v: serde_json::Value| -> crate::data::builder::DatasetSpec {
        serde_json::from_value(v).unwrap()
    };
    let sources = [
        (
            TaskKind::Ranking,
            source(json!({"source": "synth_ctr", "label": "click"})),
        ),
        (TaskKind::Retrieval, source(json!({"source": "synth_seq"}))),
        (TaskKind::Generative, source(json!({"source": "synth_gen"}))),
    ];
    for (kind, _) in &sources {
        for (theirs, dataset) in &sources {
            let r = kind.check_dataset(dataset);
            if kind == theirs {
                assert!(r.is_ok(), "{kind:?} takes {}", dataset.source());
                continue;
            }
            let (key, msg) = r.unwrap_err();
            assert_eq!(key, "dataset");
            let want = format!(
                "source `{}` is for {} tasks ({} tasks take",
                dataset.source(),
                theirs.key(),
                kind.key()
            );
            assert!(msg.starts_with(&want), "{msg}");
        }
    }
}

#[test]
fn a_section_of_another_kind_cannot_be_held_and_files_round_trip() {
    // A ranking file with a retrieval or generative section: an error naming the key.
    for key in ["retrieval", "generative"] {
        let mut file = spec_with(json!({"dnn": {}}), json!({}));
        file[key] = json!({});
        let (_d, path, spec) = load(file);
        match spec {
            Err(SpecError::Invalid {
                path: p,
                key: k,
                msg,
            }) => {
                assert_eq!((p, k.as_str()), (path, key));
                assert!(msg.contains("this task is ranking"), "{msg}");
            }
            other => panic!("{key}: {other:?}"),
        }
    }
    // The typed spec serializes back to the file it came from (cell hashes depend on it).
    let file = spec_with(json!({"dnn": {}}), json!({}));
    let spec: TaskSpec = serde_json::from_value(file.clone()).unwrap();
    assert_eq!(spec.kind, KindSpec::Ranking);
    let back = serde_json::to_value(&spec).unwrap();
    let again: TaskFile = serde_json::from_value(file).unwrap();
    assert_eq!(back, serde_json::to_value(again).unwrap());
    let mut seq = json!({
        "name": "s", "kind": "retrieval",
        "dataset": {"source": "synth_seq"},
        "split": {"kind": "leave_one_out"},
        "metrics": ["hr@10"], "models": {"sasrec": {}},
        "retrieval": {"max_len": 7}
    });
    let spec: TaskSpec = serde_json::from_value(seq.clone()).unwrap();
    assert_eq!(spec.retrieval_spec().max_len, 7);
    assert_eq!(
        serde_json::to_value(&spec).unwrap()["retrieval"]["max_len"],
        7
    );
    seq["generative"] = json!({});
    let err = serde_json::from_value::<TaskSpec>(seq).unwrap_err();
    assert!(
        err.to_string()
            .contains("only generative tasks take this key"),
        "{err}"
    );
}

/// A synth_mt task file with `f` applied to it.
fn multitask_file(f: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let mut file = json!({
        "name": "m", "kind": "multitask",
        "dataset": {"source": "synth_mt"},
        "split": {"kind": "temporal", "valid": 0.1, "test": 0.1},
        "metrics": ["gauc:mean", "auc:follow"],
        "models": {"mmoe": {}}
    });
    f(&mut file);
    file
}

#[test]
fn multitask_specs_resolve_their_tasks_and_reject_what_does_not_fit() {
    let (_d, _p, spec) = load(multitask_file(|_| {}));
    let spec = spec.unwrap();
    let layout = spec.task_layout();
    assert_eq!(layout.tasks.len(), 6);
    assert_eq!(layout.categories, ["passive", "interactive"]);
    let recorded = spec.recorded_train_config();
    assert_eq!(
        recorded["multitask"]["categories"]["passive"],
        json!(["effective_view", "long_view"])
    );
    // Settings given: their own categories.
    let (_d, _p, spec) = load(multitask_file(|f| {
        f["multitask"] =
            json!({"tasks": ["click", "follow"], "categories": {"a": ["click"], "b": ["follow"]}});
    }));
    let layout = spec.unwrap().task_layout();
    assert_eq!(
        (layout.tasks.len(), layout.category_of.clone()),
        (2, vec![0, 1])
    );
    for (edit, key, expect) in [
        (
            json!({"metrics": ["gauc:share"]}),
            "metrics",
            "unknown task `share`",
        ),
        (
            json!({"metrics": ["gauc"]}),
            "metrics",
            "multi-task metrics are `metric:task`",
        ),
        (
            json!({"multitask": {"tasks": ["click", "share"]}, "metrics": ["auc:click"]}),
            "multitask.tasks",
            "`share` is not a label",
        ),
        (
            json!({"multitask": {"tasks": ["click", "like"], "categories": {"a": ["click", "like"], "b": ["like"]}}, "metrics": ["auc:click"]}),
            "multitask.categories",
            "exactly one category",
        ),
        (
            json!({"multitask": {"tasks": ["click"], "categories": {"a": ["click", "like"]}}, "metrics": ["auc:click"]}),
            "multitask.categories",
            "not a task",
        ),
        (
            json!({"split": {"kind": "leave_one_out"}}),
            "split",
            "not leave_one_out",
        ),
        (
            json!({"dataset": {"source": "synth_ctr", "label": "click"}}),
            "dataset",
            "synth_ctr",
        ),
        (
            json!({"models": {"dnn": {}}}),
            "models.dnn",
            "a multitask task takes multitask models",
        ),
        (
            json!({"retrieval": {}}),
            "retrieval",
            "this task is multitask",
        ),
    ] {
        let file = multitask_file(|f| {
            for (k, v) in edit.as_object().unwrap() {
                f[k] = v.clone();
            }
        });
        let (_d, path, spec) = load(file);
        match spec {
            Err(SpecError::Invalid {
                path: p,
                key: k,
                msg,
            }) => {
                assert_eq!((p, k.as_str()), (path, key), "{msg}");
                assert!(msg.contains(expect), "{key}: {msg}");
            }
            other => panic!("{edit}: {other:?}"),
        }
    }
    // A multitask section on a ranking task.
    let mut file = spec_with(json!({"dnn": {}}), json!({}));
    file["multitask"] = json!({"tasks": ["click"]});
    let (_d, _p, spec) = load(file);
    assert!(matches!(spec, Err(SpecError::Invalid { key, .. }) if key == "multitask"));
}
