//! Evaluation metrics over flat score/label slices. Labels are 0/1 floats as in
//! `Dataset::labels`; a label counts as positive when it is greater than 0.5.
//!
//! Every metric is checked against scikit-learn on fixed vectors
//! (`tests/fixtures/metrics.json`, made by `tests/fixtures/make_metric_fixtures.py`).

mod auc;
mod gauc;
mod logloss;
mod radix;
pub mod retrieval;
pub mod revenue;
pub mod topk;

pub use auc::auc;
pub use gauc::{gauc, GaucResult};
pub use logloss::{logloss, logloss_from_logits, LOGLOSS_EPS};
