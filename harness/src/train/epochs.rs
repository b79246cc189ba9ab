//! The epoch loop every training loop shares (ranking, retrieval, generative).

use std::collections::BTreeMap;
use std::time::Instant;

use baselines::engine::{device_draws, Dev, Optimizer, ParamStore};
use baselines::StepOutput;
use indicatif::ProgressBar;

use super::early_stop::EpochLog;
use super::plan::{EpochPlan, EpochRun, TrainError};
use super::resume::{continue_from, resumable, Saver};
use crate::data::batcher::epoch_order;

/// Groups an epoch's shuffled rows into batches (epoch number second); `None` in
/// `run_epochs` = consecutive chunks of `batch_size`.
pub type Regroup<'a, T> = dyn Fn(&[T], usize) -> Vec<Vec<T>> + 'a;

/// The epoch loop every training loop shares: each epoch shuffles `rows` by
/// (seed, epoch), cuts them into `batch_size` chunks (or the batches `regroup` makes
/// of them), calls `step(store, opt, epoch, step, chunk)` on each (it returns the
/// chunk's mean loss and its FLOPs), stops on a non-finite loss, then scores the
/// parameters with `validate` for early stopping. With a checkpoint plan it resumes
/// from the cell's checkpoint and saves one after epochs (`checkpoint`). On return the
/// store holds the parameters of the best validation epoch.
#[allow(clippy::too_many_arguments)]
pub fn run_epochs<D: Dev, T: Clone>(
    store: &mut ParamStore<D>,
    opt: &mut Optimizer<D>,
    rows: &[T],
    plan: &EpochPlan,
    progress: &ProgressBar,
    regroup: Option<&Regroup<T>>,
    mut step: impl FnMut(&mut ParamStore<D>, &mut Optimizer<D>, usize, usize, &[T]) -> StepOutput,
    mut validate: impl FnMut(&ParamStore<D>) -> BTreeMap<String, f64>,
) -> Result<EpochRun, TrainError> {
    let draws_at_start = device_draws();
    let mut log = EpochLog::new(store, plan.monitor, plan.patience).not_before(plan.min_epochs);
    let mut run = EpochRun::default();
    let steps_per_epoch = rows.len().div_ceil(plan.batch_size);
    progress.set_length((steps_per_epoch * plan.max_epochs) as u64);
    let mut first_epoch = 1;
    let t_load = Instant::now();
    if let Some(ck) = plan.checkpoint.as_ref().and_then(|p| resumable(p, plan)) {
        log = continue_from(store, opt, log, &mut run, &ck, plan);
        progress.set_position((steps_per_epoch * ck.epochs_done) as u64);
        progress.suspend(|| {
            eprintln!(
                "resumed after epoch {} from its checkpoint ({:.2} s to read and load)",
                ck.epochs_done,
                t_load.elapsed().as_secs_f64()
            )
        });
        first_epoch = ck.epochs_done + 1;
    }
    let mut saver = plan
        .checkpoint
        .as_ref()
        .map(|p| Saver::new(p, draws_at_start));
    for epoch in first_epoch..=plan.max_epochs {
        let t0 = Instant::now();
        let mut loss_sum = 0.0f64;
        let order = epoch_order(rows, plan.seed, epoch);
        let batches: Vec<Vec<T>> = match regroup {
            Some(regroup) => regroup(&order, epoch),
            None => order.chunks(plan.batch_size).map(<[T]>::to_vec).collect(),
        };
        for (i, chunk) in batches.iter().enumerate() {
            let StepOutput {
                loss,
                flops: step_flops,
            } = step(store, opt, epoch, i, chunk);
            if !loss.is_finite() {
                return Err(TrainError::Diverged {
                    epoch,
                    step: i,
                    loss,
                });
            }
            loss_sum += loss as f64 * chunk.len() as f64;
            run.examples_seen += chunk.len();
            run.flops.merge(&step_flops);
            progress.inc(1);
        }
        run.train_seconds += t0.elapsed().as_secs_f64();
        let valid = validate(store);
        let train_loss = loss_sum / rows.len().max(1) as f64;
        let stop = log.end_epoch(store, epoch, train_loss, valid);
        progress.set_message(log.status());
        if stop {
            break;
        }
        if let Some(saver) = saver.as_mut().filter(|_| epoch < plan.max_epochs) {
            saver.after_epoch(store, opt, &log, &run, epoch, progress)?;
        }
    }
    let (curve, best_epoch) = log.finish(store);
    run.curve = curve;
    run.best_epoch = best_epoch;
    Ok(run)
}
