//! Everything the site shows: a table per task, a page per model (its results, its
//! variants, the claims that name it), the claim verdicts and the provenance.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::super::claims::{evaluate, Claim, ClaimOptions};
use super::cells::config_json;
use super::coverage::planned_cells;
use super::format::slug;
use super::options::TableOptions;
use super::provenance::provenance;
use super::task_table::{task_table, TaskFiles};
use super::types::{ModelPage, ModelResult, SiteData, TaskTable};
use crate::report::load::{Cell, Loaded};
use crate::runner::load_task;
use crate::task::TaskSpec;

/// Everything the site shows; `claims` are checked against `loaded`'s cells. With a
/// tasks folder, each task's table also says which of its runs' planned cells are
/// missing (`coverage`).
pub fn build(
    loaded: &Loaded,
    claims: &[Claim],
    tasks_dir: Option<&Path>,
    opts: TableOptions,
) -> SiteData {
    let (planned, mut notes) = match tasks_dir {
        Some(dir) => planned_cells(loaded, dir),
        None => (BTreeMap::new(), Vec::new()),
    };
    let mut tasks: BTreeMap<String, (Vec<&Cell>, Vec<&Cell>)> = BTreeMap::new();
    for c in &loaded.cells {
        tasks.entry(c.result.task.clone()).or_default().0.push(c);
    }
    for c in &loaded.failed {
        tasks.entry(c.result.task.clone()).or_default().1.push(c);
    }
    // Each task's current file, to compare the cells' recorded settings with.
    let specs: BTreeMap<String, (TaskSpec, PathBuf)> = tasks_dir
        .into_iter()
        .flat_map(|dir| {
            tasks.keys().filter_map(move |t| {
                let spec = load_task(dir, t).ok()?;
                Some((t.clone(), (spec, dir.join(format!("{t}.json")))))
            })
        })
        .collect();
    let tables: Vec<TaskTable> = tasks
        .iter()
        .map(|(t, (ok, failed))| {
            let files = TaskFiles {
                planned: planned.get(t),
                spec: specs.get(t).map(|(s, p)| (s, p.as_path())),
            };
            task_table(t, ok, failed, files, opts)
        })
        .collect();
    for (task, plan) in &planned {
        if !tasks.contains_key(task) {
            let runs: Vec<&str> = plan.runs.iter().map(|(r, _)| r.as_str()).collect();
            notes.push(format!(
                "task `{task}` is planned by run `{}` but has no result yet",
                runs.join("`, `")
            ));
        }
    }
    notes.extend(loaded.notes.iter().cloned());
    let claim_results = evaluate(
        claims,
        &loaded.cells,
        ClaimOptions {
            alpha: opts.alpha,
            level: opts.pair.level,
        },
    );
    let all: Vec<&Cell> = loaded.cells.iter().chain(&loaded.failed).collect();
    // Result models, and the catalog models variants are based on (their pages hold
    // the paper and list the variants, even when the base itself did not run).
    let mut base_of: BTreeMap<String, String> = BTreeMap::new();
    let mut model_names: BTreeSet<String> = BTreeSet::new();
    for c in &all {
        model_names.insert(c.result.model.clone());
        if let Some(b) = &c.result.base_model {
            base_of.insert(c.result.model.clone(), b.clone());
            model_names.insert(b.clone());
        }
    }
    let models: Vec<ModelPage> = model_names
        .into_iter()
        .map(|m| {
            let base = base_of.get(&m).cloned();
            let info = baselines::models::info(base.as_deref().unwrap_or(&m));
            let results = tables
                .iter()
                .filter_map(|t| {
                    let r = t.rows.iter().find(|r| r.model == m)?;
                    Some(ModelResult {
                        task: t.task.clone(),
                        task_slug: t.slug.clone(),
                        primary: t.primary.clone(),
                        text: r.primary.text.clone(),
                        group_text: r.group_text.clone(),
                        seeds: r.seeds,
                    })
                })
                .collect();
            let cells: Vec<&Cell> = all
                .iter()
                .filter(|c| c.result.model == m)
                .copied()
                .collect();
            let mut components: Vec<(String, String, String)> = Vec::new();
            if let Some(b) = &base {
                for c in &cells {
                    for info in baselines::models::components(b, &c.result.model_config) {
                        if !components.iter().any(|(n, _, _)| n == info.name) {
                            components.push((
                                info.name.into(),
                                info.paper.into(),
                                info.simplifications.into(),
                            ));
                        }
                    }
                }
            }
            let mut configs: Vec<(String, String)> = Vec::new();
            if base.is_some() {
                for c in &cells {
                    let cfg = config_json(&c.result.model_config);
                    if !configs.iter().any(|(t, _)| t == &c.result.task) {
                        configs.push((c.result.task.clone(), cfg));
                    }
                }
            }
            ModelPage {
                slug: slug(&m),
                base_slug: base.as_deref().map(slug).unwrap_or_default(),
                base_model: base,
                configs,
                variants: base_of
                    .iter()
                    .filter(|(_, b)| **b == m)
                    .map(|(v, _)| (v.clone(), slug(v)))
                    .collect(),
                // A paper's claims are often checked on a variant (HSTU under SASRec's
                // loss): the base model's page, which holds the paper, shows them too.
                claims: claim_results
                    .iter()
                    .filter(|c| {
                        c.concerns(&m) || base_of.iter().any(|(v, b)| *b == m && c.concerns(v))
                    })
                    .cloned()
                    .collect(),
                in_catalog: info.is_some(),
                family: info.map(|i| i.kind).unwrap_or("unknown").into(),
                paper: info
                    .map(|i| i.paper)
                    .unwrap_or("not in the model registry")
                    .into(),
                summary: info.map(|i| i.summary).unwrap_or("").into(),
                simplifications: info.map(|i| i.simplifications).unwrap_or("").into(),
                components,
                results,
                provenance: provenance(&cells),
                model: m,
            }
        })
        .collect();
    let model_pages = models.iter().map(|m| m.slug.clone()).collect();
    let task_pages = tables.iter().map(|t| t.slug.clone()).collect();
    SiteData {
        generated: crate::provenance::now_rfc3339(),
        alpha: opts.alpha,
        resamples: opts.pair.resamples,
        resample_seed: opts.pair.seed,
        tasks: tables,
        models,
        claims: claim_results,
        model_pages,
        task_pages,
        bad_files: loaded.bad.clone(),
        notes,
        provenance: provenance(&all),
    }
}
