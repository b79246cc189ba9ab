//! The runner: resolve a suite or task name, expand it into cells (task x model x
//! seed), run them one by one and write each cell's result atomically. Cells already
//! on disk are skipped with `--resume`, so an interrupted run continues where it stopped
//! (inside a long cell too, from its last checkpoint: `checkpoint.rs`), and shards of a
//! suite can be run apart and merged by copying files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use baselines::engine::{Dev, DeviceKind};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::checkpoint::{self, checkpoint_path, CheckpointAt};
use crate::data::hash::sha256_hex;
use crate::kinds::generative::PreparedGen;
use crate::kinds::multitask::PreparedMt;
use crate::kinds::ranking::Prepared;
use crate::kinds::retrieval::PreparedSeq;
use crate::kinds::{CellError, CellId, CellKind};
use crate::provenance::git_state;
use crate::results::{cell_path, write_atomic, write_result, CellResult, SideFile, Status};
use crate::task::{check_model, SuiteSpec, TaskKind, TaskSpec};

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub target: String,
    pub tasks_dir: PathBuf,
    pub data_root: PathBuf,
    pub out: PathBuf,
    pub run_name: Option<String>,
    pub models: Option<Vec<String>>,
    pub seeds: Option<u32>,
    pub resume: bool,
    /// Minimum time between a cell's checkpoints (None: no checkpoints).
    pub checkpoint_every: Option<Duration>,
    /// Stop once this much time has passed: after the epoch that ends past it (saving
    /// the cell's checkpoint), or before the next cell (`--time-limit`).
    pub time_limit: Option<Duration>,
    pub device: DeviceKind,
    pub json: bool,
}

/// A resolved target: its name, the suite or task file it came from, and its tasks,
/// with the models and seeds to run.
pub struct Plan {
    pub name: String,
    pub source: PathBuf,
    pub tasks: Vec<(TaskSpec, Vec<String>, u32)>,
}

/// Names of the tasks (`tasks/*.json`) and suites (`tasks/suites/*.json`) on disk.
pub fn list_specs(tasks_dir: &Path) -> (Vec<String>, Vec<String>) {
    let names = |dir: PathBuf| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let p = e.path();
                if p.extension()? != "json" {
                    return None;
                }
                Some(p.file_stem()?.to_string_lossy().to_string())
            })
            .collect();
        v.sort();
        v
    };
    (
        names(tasks_dir.to_path_buf()),
        names(tasks_dir.join("suites")),
    )
}

pub fn load_task(tasks_dir: &Path, name: &str) -> Result<TaskSpec> {
    let path = tasks_dir.join(format!("{name}.json"));
    if !path.exists() {
        let (tasks, _) = list_specs(tasks_dir);
        bail!(
            "unknown task `{name}` (no {}; known tasks: {})",
            path.display(),
            tasks.join(", ")
        );
    }
    Ok(TaskSpec::load(&path)?)
}

/// Resolves `opts.target` as a suite, then as a task, then as a path to a task file,
/// with `opts.models` and `opts.seeds` as overrides.
pub fn resolve(opts: &RunOptions) -> Result<Plan> {
    resolve_target(
        &opts.tasks_dir,
        &opts.target,
        opts.models.as_ref(),
        opts.seeds,
    )
}

/// [`resolve`] without the rest of a run's options (`recbench report` resolves the
/// runs it finds in results).
pub fn resolve_target(
    dir: &Path,
    target: &str,
    models_override: Option<&Vec<String>>,
    seeds_override: Option<u32>,
) -> Result<Plan> {
    let suite_path = dir.join("suites").join(format!("{target}.json"));
    let task_path = dir.join(format!("{target}.json"));
    let (name, source, specs, suite_models, suite_seeds) = if suite_path.exists() {
        let suite = SuiteSpec::load(&suite_path)?;
        let specs = suite
            .tasks
            .iter()
            .map(|t| load_task(dir, t))
            .collect::<Result<Vec<_>>>()
            .with_context(|| format!("in suite {}", suite_path.display()))?;
        (suite.name, suite_path, specs, suite.models, suite.seeds)
    } else if task_path.exists() {
        (
            target.to_string(),
            task_path,
            vec![load_task(dir, target)?],
            None,
            None,
        )
    } else if target.ends_with(".json") && Path::new(target).exists() {
        let spec = TaskSpec::load(Path::new(target))?;
        (
            spec.name.clone(),
            PathBuf::from(target),
            vec![spec],
            None,
            None,
        )
    } else {
        let (tasks, suites) = list_specs(dir);
        bail!(
            "unknown suite or task `{}` (suites: {}; tasks: {})",
            target,
            suites.join(", "),
            tasks.join(", ")
        );
    };
    let mut tasks = Vec::new();
    for spec in specs {
        let models: Vec<String> = match models_override.or(suite_models.as_ref()) {
            Some(list) => list.clone(),
            None => spec.models.keys().cloned().collect(),
        };
        for m in &models {
            // A task's own entries (catalog models and variants) or any catalog model,
            // of the family the task's kind takes.
            let entry = spec.require_entry(m).map_err(anyhow::Error::msg)?;
            check_model(spec.kind.kind(), &entry.base)
                .map_err(|e| anyhow::anyhow!("task `{}`, model `{m}`: {e}", spec.name))?;
        }
        let seeds = seeds_override.or(suite_seeds).unwrap_or(spec.seeds);
        if seeds == 0 {
            bail!("--seeds must be at least 1");
        }
        tasks.push((spec, models, seeds));
    }
    Ok(Plan {
        name,
        source,
        tasks,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct CellLine {
    pub event: &'static str,
    pub task: String,
    pub model: String,
    pub seed: u64,
    pub status: String,
    pub skipped: bool,
    pub metrics: BTreeMap<String, f64>,
    pub error: Option<String>,
    pub path: PathBuf,
}

#[derive(Debug, Default, Serialize)]
pub struct RunSummary {
    pub run: String,
    pub out: PathBuf,
    pub ran: usize,
    pub skipped: usize,
    pub failed: usize,
    pub cells: Vec<CellLine>,
    /// Set when the run stopped at its time limit: why, and where it will continue.
    pub paused: Option<String>,
}

fn config_hash(spec: &TaskSpec, model: &str, seed: u64) -> String {
    let mut task = serde_json::to_value(spec).expect("spec serializes");
    task.as_object_mut().map(|o| o.remove("models"));
    let canon = serde_json::json!({
        "task": task, "model": model, "model_config": spec.models.get(model), "seed": seed
    });
    sha256_hex(canon.to_string().as_bytes())
}

/// The plan's cells in the order `run` visits them: `(task index, model, seed)`.
fn cell_list(plan: &Plan) -> Vec<(usize, String, u64)> {
    plan.tasks
        .iter()
        .enumerate()
        .flat_map(|(t, (_, models, seeds))| {
            models
                .iter()
                .flat_map(move |m| (0..*seeds as u64).map(move |s| (t, m.clone(), s)))
        })
        .collect()
}

/// A cell of a plan and whether its result file exists (`recbench run --dry-run`).
#[derive(Debug, Clone, Serialize)]
pub struct PlannedCell {
    pub task: String,
    pub model: String,
    pub seed: u64,
    pub done: bool,
    pub path: PathBuf,
    /// Epochs saved in the cell's checkpoint, if it has one (`--resume` continues it).
    pub checkpoint_epochs: Option<usize>,
}

/// The run's name and the cells `run` would visit, in its order, each marked done when
/// its result file exists; nothing is prepared or trained.
pub fn plan_cells(opts: &RunOptions) -> Result<(String, Vec<PlannedCell>)> {
    let plan = resolve(opts)?;
    let run_name = opts.run_name.clone().unwrap_or_else(|| plan.name.clone());
    let cells = cell_list(&plan)
        .into_iter()
        .map(|(t, model, seed)| {
            let task = plan.tasks[t].0.name.clone();
            let path = cell_path(&opts.out, &run_name, &task, &model, seed);
            PlannedCell {
                done: path.exists(),
                checkpoint_epochs: checkpoint::head(&checkpoint_path(&path)).map(|h| h.epochs_done),
                task,
                model,
                seed,
                path,
            }
        })
        .collect();
    Ok((run_name, cells))
}

pub fn run(opts: &RunOptions) -> Result<RunSummary> {
    if opts.time_limit.is_some() && opts.checkpoint_every.is_none() {
        bail!("a time limit needs checkpoints (--checkpoint-minutes > 0): a cell stopped without one would lose its epochs");
    }
    let plan = resolve(opts)?;
    match opts.device {
        DeviceKind::Cpu => run_on(|seed| Ok(baselines::Cpu::seed_from_u64(seed)), opts, plan),
        DeviceKind::Cuda => run_cuda(opts, plan),
    }
}

#[cfg(feature = "cuda")]
fn run_cuda(opts: &RunOptions, plan: Plan) -> Result<RunSummary> {
    // Fail before preparing any data when there is no usable device.
    drop(dfdx_cuda_device(0)?);
    run_on(dfdx_cuda_device, opts, plan)
}

#[cfg(feature = "cuda")]
fn dfdx_cuda_device(seed: u64) -> Result<baselines::engine::CudaDevice> {
    // Device 0 of what CUDA_VISIBLE_DEVICES exposes.
    baselines::engine::open_cuda(0, seed)
        .map_err(|e| anyhow::anyhow!("cannot use --device cuda: {e}"))
}

#[cfg(not(feature = "cuda"))]
fn run_cuda(_: &RunOptions, _: Plan) -> Result<RunSummary> {
    bail!("this recbench was built without CUDA support; rebuild with `--features cuda` (see scripts/build-cuda.sh)")
}

/// Runs the plan's cells, each on a device opened for it by `open_device(seed)`: the
/// device's random stream (dropout masks, KuaiFormer's replayed requests) then starts
/// from the cell's seed, so a cell gives the same result whatever ran before it in the
/// process (a resumed run, one model alone, or the whole suite). A device shared by
/// the cells would hand each one the stream where the previous cell left it.
fn run_on<D: Dev>(
    open_device: impl Fn(u64) -> Result<D>,
    opts: &RunOptions,
    plan: Plan,
) -> Result<RunSummary> {
    let run_name = opts.run_name.clone().unwrap_or_else(|| plan.name.clone());
    let cells = cell_list(&plan);
    let path_of =
        |t: usize, m: &str, s: u64| cell_path(&opts.out, &run_name, &plan.tasks[t].0.name, m, s);
    let existing = cells
        .iter()
        .filter(|(t, m, s)| path_of(*t, m, *s).exists())
        .count();
    if existing > 0 && !opts.resume {
        bail!(
            "{existing} of {} cells of run `{run_name}` already have results under {}; pass --resume to skip them, or --run NAME for a new run",
            cells.len(),
            opts.out.join(&run_name).display()
        );
    }
    let (commit, dirty) = git_state();
    let multi = MultiProgress::with_draw_target(if opts.json {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let overall = multi.add(ProgressBar::new(cells.len() as u64));
    overall.set_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} cells {msg}")
            .unwrap()
            .progress_chars("=> "),
    );
    overall.set_prefix(run_name.clone());
    let mut summary = RunSummary {
        run: run_name.clone(),
        out: opts.out.clone(),
        ..Default::default()
    };
    let ctx = RunContext {
        opts,
        run_name: &run_name,
        commit: &commit,
        dirty,
        multi: &multi,
        overall: &overall,
        stop_at: opts.time_limit.map(|limit| Instant::now() + limit),
        open_device: &open_device,
    };
    for (t, (spec, models, _)) in plan.tasks.iter().enumerate() {
        let mine: Vec<&(usize, String, u64)> = cells.iter().filter(|c| c.0 == t).collect();
        let todo: Vec<(String, u64)> = mine
            .iter()
            .filter(|(t, m, s)| !path_of(*t, m, *s).exists())
            .map(|(_, m, s)| (m.clone(), *s))
            .collect();
        for (t, m, s) in mine.iter().filter(|(t, m, s)| path_of(*t, m, *s).exists()) {
            summary.skipped += 1;
            overall.inc(1);
            emit(
                opts,
                &mut summary,
                skipped_line(&plan, *t, m, *s, path_of(*t, m, *s)),
            );
        }
        if todo.is_empty() {
            continue;
        }
        if let Some(why) = past_limit(&summary, ctx.stop_at, &spec.name) {
            summary.paused = Some(why);
            break;
        }
        overall.set_message(format!("preparing {}", spec.name));
        run_task_of(&ctx, spec, models, &todo, &mut summary)?;
        if summary.paused.is_some() {
            break;
        }
    }
    overall.finish_and_clear();
    Ok(summary)
}

/// What every cell of a run shares.
struct RunContext<'a, D> {
    opts: &'a RunOptions,
    run_name: &'a str,
    commit: &'a str,
    dirty: bool,
    multi: &'a MultiProgress,
    overall: &'a ProgressBar,
    stop_at: Option<Instant>,
    open_device: &'a dyn Fn(u64) -> Result<D>,
}

/// The task's cells on its kind's data: the one place a task's kind picks the type
/// that implements it.
fn run_task_of<D: Dev>(
    ctx: &RunContext<D>,
    spec: &TaskSpec,
    models: &[String],
    todo: &[(String, u64)],
    summary: &mut RunSummary,
) -> Result<()> {
    match spec.kind.kind() {
        TaskKind::Ranking => run_task::<Prepared, D>(ctx, spec, models, todo, summary),
        TaskKind::Retrieval => run_task::<PreparedSeq, D>(ctx, spec, models, todo, summary),
        TaskKind::Generative => run_task::<PreparedGen, D>(ctx, spec, models, todo, summary),
        TaskKind::MultiTask => run_task::<PreparedMt, D>(ctx, spec, models, todo, summary),
    }
}

/// Prepares the task's data, checks every entry of the task against it, then runs the
/// cells `todo` one by one, writing each result; stops (with `summary.paused` set) at
/// the time limit.
fn run_task<K: CellKind, D: Dev>(
    ctx: &RunContext<D>,
    spec: &TaskSpec,
    models: &[String],
    todo: &[(String, u64)],
    summary: &mut RunSummary,
) -> Result<()> {
    let opts = ctx.opts;
    let context = || {
        format!(
            "task `{}`: preparing data (data root: {})",
            spec.name,
            opts.data_root.display()
        )
    };
    let mut data = K::prepare(spec, &opts.data_root).with_context(context)?;
    data.validate(spec, models)?;
    for (model, seed) in todo.iter().cloned() {
        let mut spec = spec.clone();
        spec.models
            .entry(model.clone())
            .or_insert(serde_json::Value::Null);
        let cell_name = format!("{} / {model} / seed {seed}", spec.name);
        if let Some(why) = past_limit(summary, ctx.stop_at, &cell_name) {
            summary.paused = Some(why);
            return Ok(());
        }
        ctx.overall.set_message(cell_name);
        let bar = ctx.multi.add(ProgressBar::new(0));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} [{bar:30}] {pos}/{len} steps {per_sec} eta {eta} {msg}",
            )
            .unwrap()
            .progress_chars("=> "),
        );
        bar.set_prefix(model.clone());
        let path = cell_path(&opts.out, ctx.run_name, &spec.name, &model, seed);
        let ckpt_file = checkpoint_path(&path);
        if opts.checkpoint_every.is_none() && ckpt_file.exists() {
            eprintln!(
                "note: {} is not used (--checkpoint-minutes 0): the cell starts from epoch 1",
                ckpt_file.display()
            );
        }
        let ckpt = opts.checkpoint_every.map(|every| CheckpointAt {
            path: ckpt_file.clone(),
            every,
            resume: opts.resume,
            stop_at: ctx.stop_at,
        });
        let id = CellId {
            run: ctx.run_name,
            model: &model,
            seed,
            device: &opts.device.to_string(),
            checkpoint: ckpt.as_ref(),
        };
        let dev = &(ctx.open_device)(seed)?;
        let cell = data.run_cell(dev, &spec, &id, &bar);
        let cell = match cell {
            Err(CellError::Paused { epoch, path }) => {
                bar.finish_and_clear();
                ctx.multi.remove(&bar);
                summary.paused = Some(format!(
                    "stopped at the time limit after epoch {epoch} of {} / {model} / seed {seed}; its checkpoint is {}",
                    spec.name,
                    path.display()
                ));
                return Ok(());
            }
            other => other,
        };
        let (mut result, side) =
            cell.with_context(|| format!("task `{}`, model `{model}`, seed {seed}", spec.name))?;
        bar.finish_and_clear();
        ctx.multi.remove(&bar);
        result.provenance.git_commit = ctx.commit.to_string();
        result.provenance.git_dirty = ctx.dirty;
        result.provenance.config_sha256 = config_hash(&spec, &model, seed);
        write_cell(&path, &mut result, side.as_ref())?;
        // The result is written: the checkpoint (if any) has done its job; one that
        // cannot be removed is left behind, harmless (a finished cell is skipped).
        if let Err(e) = checkpoint::remove(&ckpt_file) {
            eprintln!("warning: {e}");
        }
        summary.ran += 1;
        if result.status == Status::Failed {
            summary.failed += 1;
        }
        ctx.overall.inc(1);
        emit(opts, summary, cell_line(&result, path));
    }
    Ok(())
}

/// Why the run stops before `next` (a task or a cell) when the time limit has passed;
/// None before the limit, and before the run's first cell: every run makes progress.
fn past_limit(summary: &RunSummary, stop_at: Option<Instant>, next: &str) -> Option<String> {
    let past = summary.ran > 0 && stop_at.is_some_and(|at| Instant::now() >= at);
    past.then(|| format!("stopped at the time limit before {next}"))
}

/// Writes what a cell writes beside its record (per-example scores or per-user
/// values), then its JSON (naming the side file), each atomically: the JSON exists only
/// once everything it needs does.
pub fn write_cell<S: SideFile>(
    path: &Path,
    result: &mut CellResult,
    side: Option<&S>,
) -> Result<()> {
    if let Some(side) = side {
        let sp = S::path_beside(path);
        write_atomic(&sp, &side.encode()).with_context(|| format!("writing {}", sp.display()))?;
        if let Some(name) = sp.file_name() {
            S::name_in(result, name.to_string_lossy().to_string());
        }
    }
    write_result(path, result).with_context(|| format!("writing {}", path.display()))
}

fn skipped_line(plan: &Plan, t: usize, model: &str, seed: u64, path: PathBuf) -> CellLine {
    CellLine {
        event: "cell",
        task: plan.tasks[t].0.name.clone(),
        model: model.to_string(),
        seed,
        status: "skipped".into(),
        skipped: true,
        metrics: BTreeMap::new(),
        error: None,
        path,
    }
}

fn cell_line(r: &CellResult, path: PathBuf) -> CellLine {
    CellLine {
        event: "cell",
        task: r.task.clone(),
        model: r.model.clone(),
        seed: r.seed,
        status: match r.status {
            Status::Ok => "ok".into(),
            Status::Failed => "failed".into(),
        },
        skipped: false,
        metrics: r.metrics.clone(),
        error: r.error.clone(),
        path,
    }
}

fn emit(opts: &RunOptions, summary: &mut RunSummary, line: CellLine) {
    if opts.json {
        println!("{}", serde_json::to_string(&line).expect("line serializes"));
    } else if let Some(err) = &line.error {
        eprintln!(
            "FAILED {} / {} / seed {}: {err}",
            line.task, line.model, line.seed
        );
    }
    summary.cells.push(line);
}
