//! `recbench`: list tasks, models and datasets; run suites and tasks; measure cost;
//! compare two models; render the leaderboard site.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use baselines::engine::DeviceKind;
use clap::{Parser, Subcommand};
use harness::runner::{self, list_specs, RunOptions, RunSummary};

#[derive(Parser)]
#[command(
    name = "recbench",
    version,
    about = "Benchmark harness for industrial recommender models"
)]
struct Cli {
    /// Machine-readable output: one JSON object per line, no progress bars.
    #[arg(long, global = true)]
    json: bool,
    /// Folder of task specs (suites in its `suites/` subfolder).
    #[arg(long, global = true, default_value = "tasks")]
    tasks: PathBuf,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List tasks, suites, models and dataset cards.
    List {
        /// Folder of dataset cards.
        #[arg(long, default_value = "data")]
        cards: PathBuf,
    },
    /// Run a suite or a task: every (task, model, seed) cell, one result file each.
    Run {
        /// Suite name (tasks/suites/NAME.json), task name (tasks/NAME.json) or a task file.
        target: String,
        /// Only these models (comma-separated).
        #[arg(long, value_delimiter = ',')]
        models: Option<Vec<String>>,
        /// Number of seeds (0..N); overrides the task and suite.
        #[arg(long)]
        seeds: Option<u32>,
        /// Results root; cells go to OUT/RUN/TASK/MODEL/seed-N.json.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Run name (default: the suite or task name).
        #[arg(long)]
        run: Option<String>,
        /// cpu, or cuda (needs a build with `--features cuda`).
        #[arg(long, default_value = "cpu")]
        device: DeviceKind,
        /// Skip cells whose result file exists and continue a cell from its checkpoint
        /// (resume an interrupted run).
        #[arg(long)]
        resume: bool,
        /// Save a checkpoint after an epoch once this many minutes have passed since the
        /// last one (0: no checkpoints; an interrupted cell then starts over).
        #[arg(long, default_value_t = 10.0)]
        checkpoint_minutes: f64,
        /// Stop after this many minutes: after the epoch that ends past the limit (saving
        /// the cell's checkpoint) or before the next cell; exit status 3 (1 if a cell
        /// failed). Continue with `--resume`. A run trains at least one epoch whatever
        /// the limit.
        #[arg(long)]
        time_limit: Option<f64>,
        /// List the cells the run would visit and which already have results; prepare
        /// and train nothing.
        #[arg(long)]
        dry_run: bool,
        /// Root that dataset paths in task specs are relative to.
        #[arg(long, env = "RECBENCH_DATA", default_value = "data/local")]
        data_root: PathBuf,
    },
    /// Measure each model's cost on a task (FLOPs, memory, train throughput, inference
    /// latency) without training to convergence.
    Cost {
        /// Task name (tasks/NAME.json) or a task file.
        task: String,
        /// Models to measure (comma-separated; default: the task's models).
        #[arg(long, value_delimiter = ',')]
        models: Option<Vec<String>>,
        /// Root that dataset paths in task specs are relative to.
        #[arg(long, env = "RECBENCH_DATA", default_value = "data/local")]
        data_root: PathBuf,
        /// Timed train steps (after the warm-up steps).
        #[arg(long, default_value_t = 50)]
        steps: usize,
        /// Untimed warm-up train steps.
        #[arg(long, default_value_t = 5)]
        warmup: usize,
        /// Inference batch sizes to time (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "1,256,4096")]
        latency_batches: Vec<usize>,
        /// Seconds of repetitions per latency batch size.
        #[arg(long, default_value_t = 2.0)]
        latency_seconds: f64,
        /// cpu (cuda: see the CUDA hook in harness/src/cost.rs).
        #[arg(long, default_value = "cpu")]
        device: DeviceKind,
    },
    /// Render the static leaderboard site (HTML + CSV + JSON) from a results directory.
    Report(ReportArgs),
    /// Print every test between two models of one task: summaries, paired t, Wilcoxon,
    /// DeLong per seed, bootstrap and randomization over users.
    Compare(CompareArgs),
    /// Check the paper claims (claim files) against a results directory and print each
    /// claim's figures and verdict.
    Claims(ClaimsArgs),
}

#[derive(clap::Args)]
struct ClaimsArgs {
    /// Results directory (a results root with runs, or one run's folder).
    #[arg(long, default_value = "results")]
    results: PathBuf,
    /// Folder of claim files, one claim per JSON file (default: `claims/` in the
    /// `--tasks` folder).
    #[arg(long)]
    claims: Option<PathBuf>,
    /// Significance level (after Holm correction within each claim).
    #[arg(long, default_value_t = harness::stats::ALPHA)]
    alpha: f64,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// Results directory (a results root with runs, or one run's folder).
    #[arg(long, default_value = "results")]
    results: PathBuf,
    /// Output folder for the site.
    #[arg(long, default_value = "site")]
    out: PathBuf,
    /// Template folder; missing files fall back to the copies built into the binary.
    #[arg(long, default_value = "templates")]
    templates: PathBuf,
    /// Folder of paper-claim files checked on the model pages and `claims.html`
    /// (default: `claims/` in the `--tasks` folder when it exists, else no claims).
    #[arg(long)]
    claims: Option<PathBuf>,
    /// Significance level of the rank groups (after Holm correction).
    #[arg(long, default_value_t = harness::stats::ALPHA)]
    alpha: f64,
    /// Resamples of the user-level bootstrap and randomization tests.
    #[arg(long, default_value_t = harness::stats::RESAMPLES)]
    resamples: usize,
    /// Seed of the resampling tests.
    #[arg(long, default_value_t = 0)]
    resample_seed: u64,
}

#[derive(clap::Args)]
struct CompareArgs {
    /// Run name under --results, or a path to a run (or results) folder.
    run: String,
    #[arg(long)]
    task: String,
    /// Model A.
    #[arg(long)]
    a: String,
    /// Model B.
    #[arg(long)]
    b: String,
    /// Results root the run name is looked up in.
    #[arg(long, default_value = "results")]
    results: PathBuf,
    #[arg(long, default_value_t = harness::stats::RESAMPLES)]
    resamples: usize,
    #[arg(long, default_value_t = 0)]
    resample_seed: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(&cli) {
        Ok(code) => code,
        Err(e) => {
            if cli.json {
                println!(
                    "{}",
                    serde_json::json!({"event": "error", "error": format!("{e:#}")})
                );
            } else {
                eprintln!("error: {e:#}");
            }
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: &Cli) -> Result<ExitCode> {
    match &cli.cmd {
        Cmd::List { cards } => {
            list(cli, cards);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Cost { .. } => cost_command(cli),
        Cmd::Report(a) => cmd_report(cli, a),
        Cmd::Compare(a) => cmd_compare(cli, a),
        Cmd::Claims(a) => cmd_claims(cli, a),
        Cmd::Run {
            target,
            models,
            seeds,
            out,
            run,
            device,
            resume,
            checkpoint_minutes,
            time_limit,
            dry_run,
            data_root,
        } => {
            if !(checkpoint_minutes.is_finite() && *checkpoint_minutes >= 0.0) {
                anyhow::bail!(
                    "--checkpoint-minutes must be a number >= 0, got {checkpoint_minutes}"
                );
            }
            if let Some(limit) = time_limit {
                if !(limit.is_finite() && *limit >= 0.0) {
                    anyhow::bail!("--time-limit must be a number of minutes >= 0, got {limit}");
                }
            }
            let opts = RunOptions {
                target: target.clone(),
                tasks_dir: cli.tasks.clone(),
                data_root: data_root.clone(),
                out: out.clone(),
                run_name: run.clone(),
                models: models.clone(),
                seeds: *seeds,
                resume: *resume,
                checkpoint_every: (*checkpoint_minutes > 0.0)
                    .then(|| std::time::Duration::from_secs_f64(checkpoint_minutes * 60.0)),
                time_limit: time_limit.map(|m| std::time::Duration::from_secs_f64(m * 60.0)),
                device: *device,
                json: cli.json,
            };
            if *dry_run {
                return print_plan(&opts);
            }
            let summary = runner::run(&opts)?;
            if cli.json {
                let s = serde_json::json!({"event": "summary", "run": summary.run, "out": summary.out,
                    "ran": summary.ran, "skipped": summary.skipped, "failed": summary.failed,
                    "paused": summary.paused});
                println!("{s}");
            } else {
                print_summary(&summary);
            }
            Ok(if summary.failed > 0 {
                ExitCode::from(1)
            } else if summary.paused.is_some() {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

/// `recbench run --dry-run`: the cells of the run, those with a result and those to run.
fn print_plan(opts: &RunOptions) -> Result<ExitCode> {
    let (run, cells) = runner::plan_cells(opts)?;
    let done = cells.iter().filter(|c| c.done).count();
    for c in &cells {
        if opts.json {
            let line = serde_json::json!({"event": "planned", "task": c.task, "model": c.model,
                "seed": c.seed, "done": c.done, "path": c.path,
                "checkpoint_epochs": c.checkpoint_epochs});
            println!("{line}");
        } else if !c.done {
            let saved = c
                .checkpoint_epochs
                .map_or(String::new(), |e| format!(" (checkpoint after epoch {e})"));
            println!("to run  {} {} seed {}{saved}", c.task, c.model, c.seed);
        }
    }
    if opts.json {
        let s = serde_json::json!({"event": "plan", "run": run, "cells": cells.len(),
            "done": done, "to_run": cells.len() - done});
        println!("{s}");
    } else {
        println!(
            "run `{run}` under {}: {} cells, {done} with a result, {} to run",
            opts.out.display(),
            cells.len(),
            cells.len() - done
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `recbench cost`: prepares the task's data once, measures each model, prints a table
/// (or, with `--json`, one JSON object per model and a final table object).
fn cost_command(cli: &Cli) -> Result<ExitCode> {
    let Cmd::Cost {
        task,
        models,
        data_root,
        steps,
        warmup,
        latency_batches,
        latency_seconds,
        device,
    } = &cli.cmd
    else {
        unreachable!("cost_command called for another command")
    };
    use harness::measure::{format_table, measure_model, CostPlan};
    let spec = if task.ends_with(".json") && std::path::Path::new(task).exists() {
        harness::task::TaskSpec::load(std::path::Path::new(task))?
    } else {
        runner::load_task(&cli.tasks, task)?
    };
    let models: Vec<String> = models
        .clone()
        .unwrap_or_else(|| spec.models.keys().cloned().collect());
    anyhow::ensure!(
        spec.kind == harness::task::KindSpec::Ranking,
        "recbench cost measures ranking tasks; a retrieval or generative cell's cost (FLOPs, \
         memory, throughput, serving latency) is recorded by `recbench run`"
    );
    for m in &models {
        spec.require_entry(m).map_err(anyhow::Error::msg)?;
    }
    anyhow::ensure!(*steps > 0, "--steps must be at least 1");
    let plan = CostPlan {
        warmup_steps: *warmup,
        train_steps: *steps,
        latency_batches: latency_batches.clone(),
        latency_budget: std::time::Duration::from_secs_f64(latency_seconds.max(0.0)),
        ..CostPlan::default()
    };
    if *device != DeviceKind::Cpu {
        anyhow::bail!("recbench cost runs on cpu in this build (CUDA: see cuda_mem_info in harness/src/cost.rs)");
    }
    let dev = baselines::Cpu::default();
    if !cli.json {
        eprintln!("preparing task `{}`...", spec.name);
    }
    let mut prep = harness::kinds::ranking::prepare(&spec, data_root)?;
    let mut rows = Vec::new();
    for m in &models {
        if !cli.json {
            eprintln!("measuring {m}...");
        }
        let cost = measure_model(&dev, *device, &spec, &mut prep, m, &plan)
            .map_err(|e| e.context(format!("task `{}`, model `{m}`", spec.name)))?;
        if cli.json {
            let line = serde_json::json!({"event": "cost", "task": spec.name, "model": m,
                "plan": plan, "cost": cost});
            println!("{line}");
        }
        rows.push((m.clone(), cost));
    }
    if !cli.json {
        println!(
            "task `{}`: batch {} for training, {} warm-up + {} timed steps, device {device}",
            spec.name, spec.train.batch_size, warmup, steps
        );
        print!("{}", format_table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

/// `recbench report`: exit 0 when the site rendered (bad files are listed, not fatal),
/// an error only when nothing could be rendered.
fn cmd_report(cli: &Cli, a: &ReportArgs) -> Result<ExitCode> {
    use harness::report::{report, PairOptions, TableOptions};
    let opts = TableOptions {
        alpha: a.alpha,
        pair: PairOptions {
            level: 0.95,
            resamples: a.resamples,
            seed: a.resample_seed,
        },
    };
    let tpl = a.templates.is_dir().then_some(a.templates.as_path());
    let default_claims = cli.tasks.join("claims");
    let claims = match &a.claims {
        Some(dir) => harness::report::load_claims(dir)?,
        None if default_claims.is_dir() => harness::report::load_claims(&default_claims)?,
        None => Vec::new(),
    };
    let tasks_dir = cli.tasks.is_dir().then_some(cli.tasks.as_path());
    let out = report(&a.results, &a.out, tpl, &claims, tasks_dir, opts)?;
    if cli.json {
        let bad: Vec<_> = out
            .bad
            .iter()
            .map(|b| serde_json::json!({"path": b.path, "reason": b.reason}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"event": "report", "out": a.out, "tasks": out.tasks, "models": out.models,
                "files": out.written, "bad_files": bad, "notes": out.notes})
        );
    } else {
        for b in &out.bad {
            eprintln!("skipped {}: {}", b.path, b.reason);
        }
        for n in &out.notes {
            eprintln!("note: {n}");
        }
        if out.templates_from_dir.is_empty() {
            eprintln!("templates: built-in copies");
        }
        println!(
            "wrote {} files ({} tasks, {} models) to {}; open {}",
            out.written.len(),
            out.tasks,
            out.models,
            a.out.display(),
            a.out.join("index.html").display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `recbench claims`: every claim's checks with figures and verdicts (`--json`: the
/// claim results as one JSON array).
fn cmd_claims(cli: &Cli, a: &ClaimsArgs) -> Result<ExitCode> {
    use harness::report::claims::{evaluate, format_text, ClaimOptions};
    let dir = a.claims.clone().unwrap_or_else(|| cli.tasks.join("claims"));
    let claims = harness::report::load_claims(&dir)?;
    let loaded = harness::report::scan(&a.results)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.results.display()))?;
    for b in &loaded.bad {
        eprintln!("skipped {}: {}", b.path, b.reason);
    }
    let results = evaluate(
        &claims,
        &loaded.cells,
        ClaimOptions {
            alpha: a.alpha,
            level: 0.95,
        },
    );
    if cli.json {
        println!("{}", serde_json::to_string(&results)?);
    } else {
        print!("{}", format_text(&results));
    }
    Ok(ExitCode::SUCCESS)
}

/// `recbench compare RUN --task T --a M1 --b M2`.
fn cmd_compare(cli: &Cli, a: &CompareArgs) -> Result<ExitCode> {
    use harness::report::{compare, format_text, scan, PairOptions};
    let as_path = PathBuf::from(&a.run);
    let dir = if as_path.is_dir() {
        as_path
    } else {
        a.results.join(&a.run)
    };
    let loaded = scan(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    for b in &loaded.bad {
        eprintln!("skipped {}: {}", b.path, b.reason);
    }
    let cells = |m: &str| -> Vec<&harness::report::load::Cell> {
        loaded
            .cells
            .iter()
            .filter(|c| c.result.task == a.task && c.result.model == m)
            .collect()
    };
    let (ca, cb) = (cells(&a.a), cells(&a.b));
    for (m, c) in [(&a.a, &ca), (&a.b, &cb)] {
        if c.is_empty() {
            anyhow::bail!(
                "no successful result for task `{}` model `{m}` under {}",
                a.task,
                dir.display()
            );
        }
    }
    let primary = ca[0].result.primary_metric.clone();
    let mut metrics: Vec<String> = vec![primary.clone()];
    for c in ca.iter().chain(&cb) {
        for k in c.result.metrics.keys() {
            if !metrics.contains(k) {
                metrics.push(k.clone());
            }
        }
    }
    let opts = PairOptions {
        level: 0.95,
        resamples: a.resamples,
        seed: a.resample_seed,
    };
    let c = compare(&ca, &cb, &metrics, &primary, opts);
    if cli.json {
        println!("{}", serde_json::to_string(&c)?);
    } else {
        print!("{}", format_text(&c));
    }
    Ok(ExitCode::SUCCESS)
}

fn list(cli: &Cli, cards: &PathBuf) {
    let (tasks, suites) = list_specs(&cli.tasks);
    let mut datasets: Vec<String> = std::fs::read_dir(cards)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            (p.extension()? == "md" && p.file_stem()? != "README")
                .then(|| p.file_stem().map(|s| s.to_string_lossy().to_string()))?
        })
        .collect();
    datasets.sort();
    let models: Vec<_> = harness::task::all_models().collect();
    let strategies = baselines::registry::embedding::STRATEGIES;
    if cli.json {
        let v = serde_json::json!({"tasks": tasks, "suites": suites, "models": models, "embedding_strategies": strategies, "datasets": datasets});
        println!("{v}");
        return;
    }
    println!("suites:   {}", suites.join(", "));
    println!("tasks:    {}", tasks.join(", "));
    println!(
        "datasets: {}  (cards in {})",
        datasets.join(", "),
        cards.display()
    );
    println!("models:");
    for m in models {
        println!("  {:<10} {:<10} {}", m.name, m.kind, m.paper);
    }
    println!("embedding strategies (a ranking model's `embedding` option):");
    for m in strategies {
        println!("  {:<10} {:<10} {}", m.name, m.kind, m.paper);
    }
}

/// Mean and sample standard deviation of each (task, model)'s metrics over seeds.
fn print_summary(s: &RunSummary) {
    let mut by: BTreeMap<(String, String), Vec<&BTreeMap<String, f64>>> = BTreeMap::new();
    for c in s.cells.iter().filter(|c| c.status == "ok") {
        by.entry((c.task.clone(), c.model.clone()))
            .or_default()
            .push(&c.metrics);
    }
    println!(
        "run `{}`: {} cells ran, {} skipped, {} failed; results in {}",
        s.run,
        s.ran,
        s.skipped,
        s.failed,
        s.out.join(&s.run).display()
    );
    if let Some(why) = &s.paused {
        println!("{why}; rerun with --resume to continue");
    }
    if by.is_empty() {
        return;
    }
    // Three columns: the ranking metrics, the retrieval ones or the multi-task means,
    // whichever the run has; else (generative tasks: one set per action) the first
    // three metric names.
    let preferred = [
        "auc",
        "gauc",
        "logloss",
        "ndcg@10",
        "hr@10",
        "mrr",
        "gauc:mean",
        "auc:mean",
        "logloss:mean",
    ];
    let mut columns: Vec<&str> = preferred
        .into_iter()
        .filter(|k| by.values().flatten().any(|m| m.contains_key(*k)))
        .take(3)
        .collect();
    if columns.is_empty() {
        let mut names: Vec<&str> = by
            .values()
            .flatten()
            .flat_map(|m| m.keys().map(|k| k.as_str()))
            .collect();
        names.sort_unstable();
        names.dedup();
        columns = names.into_iter().take(3).collect();
    }
    print!("{:<22} {:<14} {:>5} ", "task", "model", "seeds");
    columns.iter().for_each(|c| print!(" {c:<18}"));
    println!();
    for ((task, model), ms) in by {
        let cell = |k: &str| {
            let v: Vec<f64> = ms.iter().filter_map(|m| m.get(k).copied()).collect();
            if v.is_empty() {
                return "n/a".to_string();
            }
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            if v.len() < 2 {
                return format!("{mean:.4} (1 seed)");
            }
            let sd =
                (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
            format!("{mean:.4} ± {sd:.4}")
        };
        print!("{task:<22} {model:<14} {:>5} ", ms.len());
        columns.iter().for_each(|c| print!(" {:<18}", cell(c)));
        println!();
    }
}
