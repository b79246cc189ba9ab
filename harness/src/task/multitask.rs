//! A multi-task task's settings (which dataset labels are its tasks, in which
//! meta-categories) and its metric names: `<metric>:<task>` per task and
//! `<metric>:mean`, the mean over tasks (the primary metric is usually `gauc:mean`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ranking::RANKING_METRICS;
use crate::data::builder::DatasetSpec;
use crate::data::synth::{MT_CATEGORIES, MT_TASKS};

/// `"multitask": {...}` in the task file. Absent: every label of the dataset is a task,
/// and for `synth_mt` the world's two categories, otherwise one category `all`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiTaskSettings {
    /// Dataset labels that are tasks, in output order.
    pub tasks: Vec<String>,
    /// Category name -> its tasks. Every task in exactly one; absent = one category.
    #[serde(default)]
    pub categories: BTreeMap<String, Vec<String>>,
}

/// The resolved tasks and categories of a multi-task task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLayout {
    pub tasks: Vec<String>,
    pub categories: Vec<String>,
    /// Index into `categories` of each task.
    pub category_of: Vec<usize>,
}

/// The name that stands for "every task" in metric names.
pub const MEAN: &str = "mean";

impl TaskLayout {
    /// The layout `settings` give (or the dataset's defaults) for a dataset with
    /// labels `labels`; errors name what is wrong.
    pub fn resolve(
        settings: Option<&MultiTaskSettings>,
        dataset: &DatasetSpec,
        labels: &[String],
    ) -> Result<TaskLayout, (&'static str, String)> {
        let layout = match settings {
            Some(s) => {
                let categories: Vec<(String, Vec<String>)> = if s.categories.is_empty() {
                    vec![("all".into(), s.tasks.clone())]
                } else {
                    s.categories.clone().into_iter().collect()
                };
                let mut category_of = Vec::with_capacity(s.tasks.len());
                for t in &s.tasks {
                    let homes: Vec<usize> = (0..categories.len())
                        .filter(|&c| categories[c].1.contains(t))
                        .collect();
                    match homes.as_slice() {
                        [c] => category_of.push(*c),
                        _ => {
                            return Err((
                                "multitask.categories",
                                format!("task `{t}` must be in exactly one category"),
                            ))
                        }
                    }
                }
                for (name, members) in &categories {
                    if let Some(m) = members.iter().find(|m| !s.tasks.contains(m)) {
                        return Err((
                            "multitask.categories",
                            format!("category `{name}` names `{m}`, which is not a task"),
                        ));
                    }
                }
                TaskLayout {
                    tasks: s.tasks.clone(),
                    categories: categories.into_iter().map(|(n, _)| n).collect(),
                    category_of,
                }
            }
            None if matches!(dataset, DatasetSpec::SynthMt { .. }) => synth_layout(),
            None => TaskLayout {
                tasks: labels.to_vec(),
                categories: vec!["all".into()],
                category_of: vec![0; labels.len()],
            },
        };
        layout.check(labels)?;
        Ok(layout)
    }

    fn check(&self, labels: &[String]) -> Result<(), (&'static str, String)> {
        if self.tasks.is_empty() {
            return Err(("multitask.tasks", "at least one task is needed".into()));
        }
        for (k, t) in self.tasks.iter().enumerate() {
            if t == MEAN || t.contains(':') || self.tasks[..k].contains(t) {
                return Err((
                    "multitask.tasks",
                    format!("task `{t}` must be unique, without `:`, and not `{MEAN}`"),
                ));
            }
            if !labels.contains(t) {
                return Err((
                    "multitask.tasks",
                    format!(
                        "`{t}` is not a label of the dataset (its labels: {})",
                        labels.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `synth_mt`'s tasks and its two meta-categories.
fn synth_layout() -> TaskLayout {
    let mut category_of = vec![0; MT_TASKS.len()];
    for (c, (_, members)) in MT_CATEGORIES.iter().enumerate() {
        for &t in *members {
            category_of[t] = c;
        }
    }
    TaskLayout {
        tasks: MT_TASKS.iter().map(|s| s.to_string()).collect(),
        categories: MT_CATEGORIES.iter().map(|(n, _)| n.to_string()).collect(),
        category_of,
    }
}

/// A parsed metric name: `metric` over task `task` (or over all, `task == None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtMetric {
    pub metric: String,
    pub task: Option<String>,
}

impl MtMetric {
    pub fn parse(name: &str, tasks: &[String]) -> Result<MtMetric, String> {
        let Some((metric, task)) = name.split_once(':') else {
            return Err(format!(
                "`{name}`: multi-task metrics are `metric:task` or `metric:{MEAN}` (e.g. `gauc:{MEAN}`)"
            ));
        };
        if !RANKING_METRICS.contains(&metric) {
            return Err(format!(
                "`{name}`: unknown metric `{metric}` (known: {})",
                RANKING_METRICS.join(", ")
            ));
        }
        if task != MEAN && !tasks.iter().any(|t| t == task) {
            return Err(format!(
                "`{name}`: unknown task `{task}` (this task's tasks: {})",
                tasks.join(", ")
            ));
        }
        Ok(MtMetric {
            metric: metric.to_string(),
            task: (task != MEAN).then(|| task.to_string()),
        })
    }
}

/// The label names a multi-task dataset source has, known from the spec alone.
pub fn source_labels(dataset: &DatasetSpec) -> Option<Vec<String>> {
    match dataset {
        DatasetSpec::SynthMt { .. } => Some(MT_TASKS.iter().map(|s| s.to_string()).collect()),
        DatasetSpec::Files(f) => Some(f.label_names()),
        _ => None,
    }
}
