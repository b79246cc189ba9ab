//! One loader per file format. Each reads a user-supplied path into a `Table`, and
//! rejects bad input with the file, line and field.

/// Shared engine: csv streaming, column typing, missing-value policies, error mapping.
pub(crate) mod common;
/// Criteo display-ads TSV (`label, I1..I13, C1..C26`), the classic CTR benchmark.
pub mod criteo;
/// GroupLens MovieLens `u.data` and `ratings.dat`, as users download them.
pub mod grouplens;
/// Hillstrom MineThatData e-mail CSV, the standard public uplift dataset.
pub mod hillstrom;
/// KuaiRand logs and user/video feature CSVs (random-exposure short-video data).
pub mod kuairand;
/// Open Bandit Dataset impressions and item context (logged propensities, for OPE).
pub mod obd;
/// RecBole atomic files (typed TSV), the common interchange format of public datasets.
pub mod recbole;
/// SASRec/BERT4Rec "user item" lines, the usual sequential-recommendation format.
pub mod seqlines;

pub use common::missing_flag_name;
pub use criteo::load_criteo;
pub use grouplens::{load_ratings_dat, load_u_data};
pub use hillstrom::load_hillstrom;
pub use kuairand::{load_kuairand_log, load_kuairand_users, load_kuairand_videos};
pub use obd::{load_obd_impressions, load_obd_item_context};
pub use recbole::{load_atomic, load_atomic_dataset, AtomicFiles};
pub use seqlines::load_seq_lines;
