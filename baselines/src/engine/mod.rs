//! The engine: devices, parameters, optimizers, sparse tables, FLOP counting, and a forward
//! pass's context.

pub mod device;
pub mod flops;
pub mod init;
pub mod optim;
pub mod params;
pub mod sparse;
pub mod state;
pub mod step;

#[cfg(feature = "cuda")]
pub use device::{cuda_mem_get_info, open_cuda, CudaDevice, CudaOpenError};
pub use device::{device_draws, device_seed, replay_device_draws, Dev, DeviceKind, HostVec, Track};
pub use flops::{Flops, FlopsState};
pub use init::Init;
pub use optim::{OptimConfig, OptimState, Optimizer};
pub use params::{
    param_rng, BufferId, Col, Mat, MatId, ParamCounts, ParamStore, Scope, Snapshot, SnapshotState,
    StoreState, TableId, VecId,
};
pub use sparse::{SparseOptim, SparseTable};

pub use state::StateMismatch;
pub use step::{parameter_gradient_norms, Ctx, Lookup};
