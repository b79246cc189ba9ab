//! The device abstraction. Every layer and optimizer is generic over `Dev`, so the same
//! code runs on dfdx's CPU device and, with the `cuda` feature, on its CUDA device.

use std::cell::Cell;

use dfdx::prelude::*;

/// A dfdx device that can run every op recbench uses on `f32`.
///
/// Not `Send`/`Sync`: dfdx 0.13's `Cuda` holds raw CUDA stream pointers and is neither,
/// so a device (and a `ParamStore` on it) stays on the thread that made it.
pub trait Dev: Device<f32> + HostVec + 'static {}
impl<D: Device<f32> + HostVec + 'static> Dev for D {}

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

#[cfg(feature = "cuda")]
pub use cuda::{cuda_mem_get_info, open_cuda, CudaDevice, CudaOpenError};

#[cfg(feature = "cuda")]
mod cuda {
    use cudarc::driver::{result, sys::CUresult};
    use dfdx::prelude::*;
    use dfdx::tensor::CudaError;

    /// dfdx's CUDA device. Every layer, optimizer and model runs on it unchanged; the
    /// sparse embedding tables stay on the host (rows are copied to the device per
    /// batch and their gradients copied back, see `engine::step::Ctx::lookup`).
    pub type CudaDevice = dfdx::tensor::Cuda;

    /// Why a CUDA device could not be opened, in words.
    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    pub struct CudaOpenError(pub String);

    fn explain(code: CUresult) -> String {
        let hint = match code {
            CUresult::CUDA_ERROR_STUB_LIBRARY => {
                "the libcuda.so.1 loaded is a stub, not the NVIDIA driver: link-time stubs \
                 must not be on LD_LIBRARY_PATH"
            }
            CUresult::CUDA_ERROR_NO_DEVICE => {
                "no CUDA-capable GPU is visible (check `nvidia-smi` and CUDA_VISIBLE_DEVICES)"
            }
            CUresult::CUDA_ERROR_NOT_INITIALIZED => "the CUDA driver is not initialized",
            CUresult::CUDA_ERROR_INVALID_DEVICE => "invalid device ordinal",
            _ => "",
        };
        if hint.is_empty() {
            format!("{code:?}")
        } else {
            format!("{code:?}: {hint}")
        }
    }

    fn describe(e: &CudaError) -> String {
        // Not `{e:?}`: cudarc 0.9's `Debug` for `DriverError` calls the driver to get the
        // message and panics when that call fails.
        match e {
            CudaError::Driver(d) => explain(d.0),
            CudaError::Blas(b) => format!("cuBLAS: {:?}", b.0),
            CudaError::Cpu(c) => format!("host allocation: {c:?}"),
        }
    }

    /// Runs `f`, turning a panic inside dfdx/cudarc (which unwrap several driver calls)
    /// into an error carrying the panic message, without printing a panic report.
    fn quiet<R>(what: &str, f: impl FnOnce() -> R + std::panic::UnwindSafe) -> Result<R, String> {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let out = std::panic::catch_unwind(f);
        std::panic::set_hook(hook);
        out.map_err(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            format!("{what}: {msg}")
        })
    }

    /// Opens CUDA device `ordinal` (dfdx's own RNG seeded with `seed`) and runs a tiny
    /// smoke computation (an elementwise kernel, a reduction and a cuBLAS matmul), so a
    /// missing GPU, a stub or too-old driver, or PTX the driver cannot load is reported
    /// here as an error instead of a panic in the middle of training.
    pub fn open_cuda(ordinal: usize, seed: u64) -> Result<CudaDevice, CudaOpenError> {
        let err = |m: String| CudaOpenError(format!("CUDA device {ordinal}: {m}"));
        result::init().map_err(|e| err(format!("cuInit failed: {}", explain(e.0))))?;
        let count = result::device::get_count()
            .map_err(|e| err(format!("cuDeviceGetCount failed: {}", explain(e.0))))?;
        if ordinal >= count.max(0) as usize {
            return Err(err(format!(
                "the driver sees {count} device(s) (check CUDA_VISIBLE_DEVICES)"
            )));
        }
        let dev = quiet("opening the device panicked", move || {
            CudaDevice::try_build(ordinal, seed)
        })
        .map_err(err)?
        .map_err(|e| err(describe(&e)))?;
        let probe = dev.clone();
        let got = quiet("smoke test panicked", move || {
            let a: Tensor<(usize, usize), f32, _> =
                probe.tensor_from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], (2, 3));
            let b: Tensor<(usize, usize), f32, _> =
                probe.tensor_from_vec(vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0], (3, 2));
            let c = a.clone().matmul(b);
            let s = (a.clone() * a.clone()).sum::<Rank0, _>();
            // dfdx compiles this kernel at run time with NVRTC (as every model's
            // `[embeddings | dense]` input does), with include paths from the build.
            let j = (a.clone(), a).concat_along(Axis::<1>);
            (c.as_vec(), s.as_vec(), j.as_vec())
        })
        .map_err(|m| {
            err(format!(
                "{m} (kernels are PTX for sm_90 from CUDA 13.0, so the driver must support \
                 CUDA >= 13.0; concat/reshape kernels are compiled at run time by NVRTC, \
                 which must not be newer than the driver and needs the build's headers: \
                 run through scripts/recbench-cuda, see docs/cuda.md)"
            ))
        })?;
        let row = |r: [f32; 3]| r.into_iter().chain(r);
        let joined: Vec<f32> = row([1.0, 2.0, 3.0]).chain(row([4.0, 5.0, 6.0])).collect();
        let want = (vec![4.0, 5.0, 10.0, 11.0], vec![91.0], joined);
        if got != want {
            return Err(err(format!(
                "smoke test computed {got:?}, expected {want:?}"
            )));
        }
        Ok(dev)
    }

    /// `(free, total)` bytes of the current CUDA context's device (`cuMemGetInfo`), or
    /// `None` when no context is current or the driver call fails. Call it on the thread
    /// that opened the device (dfdx makes its context current there).
    pub fn cuda_mem_get_info() -> Option<(u64, u64)> {
        result::mem_get_info()
            .ok()
            .map(|(free, total)| (free as u64, total as u64))
    }
}

/// Copies between a device's raw buffers (the optimizer's moments) and the host; dfdx
/// 0.13 only offers that for tensors.
pub trait HostVec: Storage<f32> {
    fn to_host(&self, v: &Self::Vec) -> Vec<f32>;
    fn copy_from_host(&self, v: &mut Self::Vec, src: &[f32]);
}

impl HostVec for Cpu {
    fn to_host(&self, v: &Self::Vec) -> Vec<f32> {
        v.to_vec()
    }
    fn copy_from_host(&self, v: &mut Self::Vec, src: &[f32]) {
        v.copy_from_slice(src);
    }
}

#[cfg(feature = "cuda")]
impl HostVec for dfdx::tensor::Cuda {
    fn to_host(&self, v: &Self::Vec) -> Vec<f32> {
        v.device()
            .dtoh_sync_copy(v)
            .expect("copying optimizer state to the host")
    }
    fn copy_from_host(&self, v: &mut Self::Vec, src: &[f32]) {
        v.device()
            .htod_sync_copy_into(src, v)
            .expect("copying optimizer state to the device");
    }
}

thread_local! {
    /// Draws taken from devices' random streams on this thread (a device is not `Send`,
    /// so its draws are all counted on the thread that made it).
    static DEVICE_DRAWS: Cell<u64> = const { Cell::new(0) };
}

/// A seed drawn from the device's random stream. Every draw from that stream goes
/// through here, so a checkpoint can count them ([`device_draws`]) and a resumed run
/// replay them ([`replay_device_draws`]).
pub fn device_seed<D: Dev>(dev: &D) -> u64 {
    DEVICE_DRAWS.with(|c| c.set(c.get() + 1));
    dev.random_u64()
}

/// Draws taken through [`device_seed`] on this thread so far.
pub fn device_draws() -> u64 {
    DEVICE_DRAWS.with(Cell::get)
}

/// Advances `dev`'s random stream by `n` draws, to where a checkpointed run left it.
pub fn replay_device_draws<D: Dev>(dev: &D, n: u64) {
    for _ in 0..n {
        device_seed(dev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replayed_draws_put_a_fresh_device_where_the_first_one_was() {
        let a = Cpu::seed_from_u64(9);
        let before = device_draws();
        let _ = (device_seed(&a), device_seed(&a), device_seed(&a));
        assert_eq!(device_draws() - before, 3);
        let b = Cpu::seed_from_u64(9);
        replay_device_draws(&b, 3);
        assert_eq!(device_seed(&a), device_seed(&b));
    }

    /// A model drawing from the device's stream directly (not through `device_seed`:
    /// dfdx's RNG, its random tensors or its dropout) would make resumed cells differ
    /// from uninterrupted ones without any error.

    #[test]
    fn every_device_draw_goes_through_device_seed() {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs")
                    && !p.ends_with("engine/device.rs")
                {
                    // dfdx's own draws from the device: its RNG, random tensors, dropout.
                    let text = std::fs::read_to_string(&p).unwrap();
                    let direct = [
                        ".random_u64()",
                        ".sample_normal",
                        ".sample_uniform",
                        ".sample_like",
                        ".sample_rand",
                        ".dropout(",
                    ];
                    for call in direct.iter().filter(|c| text.contains(*c)) {
                        out.push(format!("{} ({call})", p.display()));
                    }
                }
            }
        }
        let mut direct = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut direct,
        );
        assert!(direct.is_empty(), "use engine::device_seed in {direct:?}");
    }
}
