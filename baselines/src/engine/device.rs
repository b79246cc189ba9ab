//! The device abstraction. Every layer and optimizer is generic over `Dev`, so the same
//! code runs on dfdx's CPU device and, with the `cuda` feature, on its CUDA device.

use dfdx::prelude::*;

/// A dfdx device that can run every op recbench uses on `f32`.
pub trait Dev: Device<f32> + Send + Sync + 'static {}
impl<D: Device<f32> + Send + Sync + 'static> Dev for D {}

/// Starts gradient tracking on a leaf tensor when `T` records a tape, and does nothing
/// for inference (`NoneTape`). Models are written once, generic over `T: Track<D>`.
pub trait Track<D: Dev>: Tape<f32, D> + Merge<NoneTape> {
    fn track<S: Shape>(t: Tensor<S, f32, D>) -> Tensor<S, f32, D, Self>;
}

impl<D: Dev> Track<D> for NoneTape {
    fn track<S: Shape>(t: Tensor<S, f32, D>) -> Tensor<S, f32, D, Self> {
        t
    }
}

impl<D: Dev> Track<D> for OwnedTape<f32, D> {
    fn track<S: Shape>(t: Tensor<S, f32, D>) -> Tensor<S, f32, D, Self> {
        // Leaky gradients cost no extra peak memory here: dfdx only drops non-leaf
        // gradients after the whole backward pass has run.
        t.leaky_traced()
    }
}

/// The devices recbench can run on, chosen at run time with `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    Cpu,
    Cuda,
}

impl std::str::FromStr for DeviceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(DeviceKind::Cpu),
            "cuda" => Ok(DeviceKind::Cuda),
            other => Err(format!("unknown device `{other}` (expected cpu or cuda)")),
        }
    }
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Cuda => "cuda",
        })
    }
}
