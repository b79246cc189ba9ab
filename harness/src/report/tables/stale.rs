//! Cells that ran under other settings than the task file now says: a leaderboard must
//! not rank a model trained under an older budget or config as if it were the task's.
//!
//! Each cell records the config its model was built with (`model_config`) and the
//! training and protocol settings (`train_config`, see `TaskSpec::recorded_train_config`);
//! both are compared with what the task file in the tasks folder gives for the cell's
//! model today. The task's description and other models' configs do not matter, nor
//! do other models' entries in the per-model overrides (`train.optim_overrides`,
//! `retrieval.n_neg_overrides`): both sides are compared as the settings the cell's
//! model trains with (`settings_for`).

use std::path::Path;

use serde::Serialize;

use crate::report::load::Cell;
use crate::task::TaskSpec;

/// A cell whose recorded settings differ from the task file's.
#[derive(Debug, Clone, Serialize)]
pub struct StaleCell {
    pub model: String,
    pub seed: u64,
    /// "model config", "training settings", or both.
    pub differs: Vec<&'static str>,
}

/// The cells of `cells` that `spec` (the task file at `path`) would not run as they
/// ran, and a sentence for the page (None when every cell agrees).
pub fn stale_cells(
    cells: &[&Cell],
    spec: &TaskSpec,
    path: &Path,
) -> (Vec<StaleCell>, Option<String>) {
    let recorded = spec.recorded_train_config();
    let mut stale: Vec<StaleCell> = cells
        .iter()
        .filter_map(|c| {
            let r = &c.result;
            let mut differs = Vec::new();
            if let Some(entry) = spec.entry(&r.model) {
                if !same_json(&entry.config, &r.model_config) {
                    differs.push("model config");
                }
            }
            let now = settings_for(&recorded, &r.model);
            if !same_json(&now, &settings_for(&r.train_config, &r.model)) {
                differs.push("training settings");
            }
            (!differs.is_empty()).then(|| StaleCell {
                model: r.model.clone(),
                seed: r.seed,
                differs,
            })
        })
        .collect();
    stale.sort_by(|a, b| (&a.model, a.seed).cmp(&(&b.model, b.seed)));
    if stale.is_empty() {
        return (stale, None);
    }
    // One entry per model and kind of difference: "sasrec seeds 0, 1 (training settings)".
    let mut groups: Vec<(String, String, Vec<u64>)> = Vec::new();
    for s in &stale {
        let what = s.differs.join(" and ");
        match groups.last_mut() {
            Some((m, w, seeds)) if *m == s.model && *w == what => seeds.push(s.seed),
            _ => groups.push((s.model.clone(), what, vec![s.seed])),
        }
    }
    let listed: Vec<String> = groups
        .iter()
        .map(|(m, what, seeds)| {
            let seeds: Vec<String> = seeds.iter().map(|s| s.to_string()).collect();
            let word = if seeds.len() == 1 { "seed" } else { "seeds" };
            format!("{m} {word} {} ({what})", seeds.join(", "))
        })
        .collect();
    let text = format!(
        "{} cell(s) ran with settings that differ from {}: {}. Their figures are shown as \
         recorded, but they are not the task as it is now specified; rerun them (`--run \
         NAME` for a new run) or report them against the task files they ran with.",
        stale.len(),
        path.display(),
        listed.join("; ")
    );
    (stale, Some(text))
}

/// The training settings `model` trains with, from a recorded `train_config` (a task's
/// `train` section for ranking tasks; `{"train": .., "retrieval" | "generative": ..}`
/// otherwise): its entry of `optim_overrides` replaces `optim`, its entry of
/// `n_neg_overrides` replaces `n_neg`, and the override maps are dropped, so adding or
/// changing another model's override changes nothing here.
fn settings_for(config: &serde_json::Value, model: &str) -> serde_json::Value {
    use serde_json::Value;
    let mut out = config.clone();
    fn resolve(section: &mut Value, model: &str, map: &str, field: &str) {
        let Some(obj) = section.as_object_mut() else {
            return;
        };
        if let Some(Value::Object(overrides)) = obj.remove(map) {
            if let Some(v) = overrides.get(model) {
                obj.insert(field.to_string(), v.clone());
            }
        }
    }
    if out.get("train").is_some() {
        resolve(&mut out["train"], model, "optim_overrides", "optim");
    } else {
        resolve(&mut out, model, "optim_overrides", "optim");
    }
    if out.get("retrieval").is_some() {
        resolve(&mut out["retrieval"], model, "n_neg_overrides", "n_neg");
    }
    out
}

/// JSON equality up to the last bits of floats: a recorded `0.9990000128746033` may
/// read back one unit in the last place off (serde_json's default float parser), which
/// is no difference of settings.
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => {
                x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
            }
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::{same_json, settings_for};
    use serde_json::json;

    #[test]
    fn another_models_override_changes_nothing_and_the_models_own_does() {
        let was = json!({
            "train": {"batch_size": 128, "optim": {"lr": 0.001}, "optim_overrides": {}},
            "retrieval": {"n_neg": 1, "n_neg_overrides": {"hstu_n128": 128}},
        });
        let mut now = was.clone();
        now["retrieval"]["n_neg_overrides"]["sasrec_n128"] = json!(128);
        now["train"]["optim_overrides"]["kuaiformer"] = json!({"lr": 0.01});
        for model in ["sasrec", "hstu_n128", "hstu"] {
            assert!(same_json(
                &settings_for(&was, model),
                &settings_for(&now, model)
            ));
        }
        // The model's own entries are its settings: 128 negatives is not 1.
        let n128 = settings_for(&now, "sasrec_n128");
        assert!(!same_json(&settings_for(&was, "sasrec_n128"), &n128));
        assert_eq!(n128["retrieval"]["n_neg"], json!(128));
        assert!(!same_json(
            &settings_for(&was, "kuaiformer"),
            &settings_for(&now, "kuaiformer")
        ));
        // Ranking tasks record the train section alone.
        let rank = json!({"optim": {"lr": 0.001}, "optim_overrides": {"dcnv2": {"lr": 0.01}}});
        assert_eq!(settings_for(&rank, "dcnv2")["optim"], json!({"lr": 0.01}));
        assert_eq!(settings_for(&rank, "dnn")["optim"], json!({"lr": 0.001}));
        assert!(settings_for(&rank, "dnn").get("optim_overrides").is_none());
    }

    #[test]
    fn floats_one_ulp_apart_are_the_same_setting_and_real_changes_are_not() {
        let a = json!({"optim": {"beta2": 0.9990000128746033, "lr": 0.001}, "batch": 128});
        let b = json!({"optim": {"beta2": 0.9990000128746032, "lr": 0.001}, "batch": 128});
        assert!(same_json(&a, &b));
        let lr = json!({"optim": {"beta2": 0.9990000128746033, "lr": 0.002}, "batch": 128});
        assert!(!same_json(&a, &lr));
        let batch = json!({"optim": {"beta2": 0.9990000128746033, "lr": 0.001}, "batch": 256});
        assert!(!same_json(&a, &batch));
        let extra =
            json!({"optim": {"beta2": 0.9990000128746033, "lr": 0.001}, "batch": 128, "x": 1});
        assert!(!same_json(&a, &extra));
        assert!(!same_json(&json!([1, 2]), &json!([1, 2, 3])));
    }
}
