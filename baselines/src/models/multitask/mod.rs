//! Multi-task ranking models, one file each, and the kind's registry list. Adding one =
//! a file here plus a line in `entries`.

pub mod home;
pub mod mmoe;
pub mod ple;
pub mod shared_bottom;

pub use home::{Home, HomeConfig};
pub use mmoe::{Mmoe, MmoeConfig};
pub use ple::{Ple, PleConfig};
pub use shared_bottom::{SharedBottom, SharedBottomConfig};

use crate::engine::Dev;
use crate::kinds::multitask::MultiTask;
use crate::registry::{Registration, Registry};

impl Registry for MultiTask {
    fn entries<D: Dev>() -> Vec<Registration<Self, D>> {
        vec![
            Registration::of::<SharedBottom>(),
            Registration::of::<Mmoe>(),
            Registration::of::<Ple>(),
            Registration::of::<Home>(),
        ]
    }
}
