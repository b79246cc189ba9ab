//! Turns request logs into `baselines::GenBatch`es: training, validation and test
//! examples, and the pre-training batches of models with a self-supervised step.
//!
//! An example `(u, r)` is built from `requests[..=r]` only (a prefix slice), so a batch
//! cannot hold anything of a later request whatever `GenBatch::build` does. Training
//! examples are every `(u, r)` with `r` in the user's training range (`1..=n - 3`);
//! pre-training rows are `(u, n - 3)` built from `requests[..=n - 3]`: the user's whole
//! training split and nothing of the validation or test request.

use baselines::{GenBatch, GenSpec};

use super::requests::RequestLogs;
use super::sequences::Stage;

/// One example: (user index, request index).
pub type Example = (usize, usize);

/// Every training example, user by user, oldest request first.
pub fn train_examples(logs: &RequestLogs) -> Vec<Example> {
    logs.users
        .iter()
        .enumerate()
        .flat_map(|(u, user)| user.split().train.map(move |r| (u, r)))
        .collect()
}

/// One example per user: its validation or test request.
pub fn eval_examples(logs: &RequestLogs, stage: Stage) -> Vec<Example> {
    logs.users
        .iter()
        .enumerate()
        .map(|(u, user)| (u, user.eval_request(stage)))
        .collect()
}

/// Users whose training split has a request with history (`n - 3 >= 1`): the rows of
/// pre-training.
pub fn pretrain_users(logs: &RequestLogs) -> Vec<usize> {
    (0..logs.n_users())
        .filter(|&u| logs.users[u].split().last_train >= 1)
        .collect()
}

/// The batch of `examples`, each built from its user's requests up to and including
/// the example's request.
pub fn batch(spec: &GenSpec, logs: &RequestLogs, examples: &[Example]) -> GenBatch {
    let rows: Vec<(&[baselines::kinds::generative::Request], usize)> = examples
        .iter()
        .map(|&(u, r)| (&logs.users[u].requests[..=r], r))
        .collect();
    GenBatch::build(spec, &rows)
}

/// A pre-training batch of `users`: each user's training split only (history = the
/// requests before the last training request, candidates = that request).
pub fn pretrain_batch(spec: &GenSpec, logs: &RequestLogs, users: &[usize]) -> GenBatch {
    let examples: Vec<Example> = users
        .iter()
        .map(|&u| (u, logs.users[u].split().last_train))
        .collect();
    batch(spec, logs, &examples)
}
