//! Host-resident sparse embedding table whose training step costs O(rows touched).
//!
//! A dense gradient over the whole table costs O(vocab) per step (726 ms/step at 4M rows
//! for PyTorch dense Adam, measured for DESIGN.md). Instead, a step
//! 1. gathers the batch's rows into a dense leaf tensor (`gather`),
//! 2. lets autodiff fill that leaf's gradient, and
//! 3. sums gradients per distinct row and applies a row-wise lazy optimizer to those rows
//!    only (`apply`): Adam with moments updated only when a row is touched (as
//!    TensorFlow's LazyAdam and PyTorch's SparseAdam), or Adagrad.
//!
//! Each row stores its weights and optimizer state side by side (`[w | m | v]` for Adam),
//! so one touched row is one contiguous stretch of memory: the update is bound by random
//! memory access, a few cache lines per row.

use rand_chacha::ChaCha8Rng;

use super::init::Init;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SparseOptim {
    /// Row-wise lazy Adam; bias correction uses the global step.
    Adam {
        lr: f32,
        beta1: f32,
        beta2: f32,
        eps: f32,
    },
    /// Row-wise Adagrad (state: sum of squared gradients, starting at `init_acc`).
    Adagrad { lr: f32, eps: f32, init_acc: f32 },
}

impl SparseOptim {
    pub fn adam(lr: f32) -> Self {
        SparseOptim::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
    fn state_slots(&self) -> usize {
        match self {
            SparseOptim::Adam { .. } => 2,
            SparseOptim::Adagrad { .. } => 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SparseTable {
    pub name: String,
    rows: usize,
    dim: usize,
    /// Per row: `dim` weights then `slots * dim` optimizer state.
    data: Vec<f32>,
    slots: usize,
    optim: Option<SparseOptim>,
    step: u32,
    /// Scratch for `apply`, kept to avoid per-step allocation.
    order: Vec<u64>,
    acc: Vec<f32>,
}

impl SparseTable {
    pub fn new(name: &str, rows: usize, dim: usize, init: Init, rng: &mut ChaCha8Rng) -> Self {
        assert!(
            rows > 0 && dim > 0,
            "table `{name}` needs rows > 0 and dim > 0"
        );
        assert!(
            rows <= u32::MAX as usize,
            "table `{name}`: at most 2^32 rows"
        );
        let mut values = Vec::with_capacity(rows * dim);
        advise_huge_pages(&values);
        values.extend(init.sample(rng, rows * dim));
        SparseTable {
            name: name.to_string(),
            rows,
            dim,
            data: values,
            slots: 0,
            optim: None,
            step: 0,
            order: Vec::new(),
            acc: vec![0.0; dim],
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }
    pub fn dim(&self) -> usize {
        self.dim
    }
    fn stride(&self) -> usize {
        self.dim * (1 + self.slots)
    }
    /// Parameter count (weights only).
    pub fn param_count(&self) -> usize {
        self.rows * self.dim
    }
    /// Bytes of weights plus optimizer state.
    pub fn bytes(&self) -> usize {
        self.data.len() * std::mem::size_of::<f32>()
    }

    /// Chooses the optimizer and lays out its state next to each row (zeros, or the
    /// Adagrad initial accumulator). Resets any previous state.
    pub fn set_optimizer(&mut self, optim: SparseOptim) {
        let old_stride = self.stride();
        let slots = optim.state_slots();
        let init_state = match optim {
            SparseOptim::Adagrad { init_acc, .. } => init_acc,
            SparseOptim::Adam { .. } => 0.0,
        };
        let mut data = Vec::with_capacity(self.rows * self.dim * (1 + slots));
        advise_huge_pages(&data);
        for r in 0..self.rows {
            data.extend_from_slice(&self.data[r * old_stride..r * old_stride + self.dim]);
            data.extend(std::iter::repeat_n(init_state, slots * self.dim));
        }
        self.data = data;
        self.slots = slots;
        self.optim = Some(optim);
        self.step = 0;
    }

    /// A copy of the weights (no optimizer state), row-major.
    pub fn weights(&self) -> Vec<f32> {
        (0..self.rows)
            .flat_map(|r| self.row(r).iter().copied())
            .collect()
    }

    /// Overwrites the weights (optimizer state is kept).
    pub fn set_weights(&mut self, weights: &[f32]) {
        assert_eq!(
            weights.len(),
            self.rows * self.dim,
            "table `{}`: weights size",
            self.name
        );
        let (s, d) = (self.stride(), self.dim);
        for (r, w) in weights.chunks_exact(d).enumerate() {
            self.data[r * s..r * s + d].copy_from_slice(w);
        }
    }

    pub fn row(&self, r: usize) -> &[f32] {
        let s = self.stride();
        &self.data[r * s..r * s + self.dim]
    }

    /// Copies the rows `ids` (in order) into `out`, `ids.len() * dim` values.
    pub fn gather_into(&self, ids: &[u32], out: &mut Vec<f32>) {
        out.clear();
        out.reserve(ids.len() * self.dim);
        let s = self.stride();
        for (k, &id) in ids.iter().enumerate() {
            if let Some(&ahead) = ids.get(k + PREFETCH_AHEAD) {
                prefetch_row(&self.data, ahead as usize * s, self.dim);
            }
            let r = id as usize;
            assert!(
                r < self.rows,
                "table `{}`: id {r} >= rows {}",
                self.name,
                self.rows
            );
            out.extend_from_slice(&self.data[r * s..r * s + self.dim]);
        }
    }

    /// Weights and optimizer state as laid out (for checkpoints).
    pub fn raw_data(&self) -> &[f32] {
        &self.data
    }
    /// Optimizer steps taken (Adam's bias correction uses it).
    pub fn step(&self) -> u32 {
        self.step
    }
    /// Restores what [`SparseTable::raw_data`] and [`SparseTable::step`] gave, under the
    /// same optimizer layout.
    pub fn load_raw(&mut self, data: &[f32], step: u32) {
        assert_eq!(data.len(), self.data.len(), "table `{}`: layout", self.name);
        self.data.copy_from_slice(data);
        self.step = step;
    }

    /// The row-wise optimizer, once `set_optimizer` has run.
    pub fn optimizer(&self) -> Option<SparseOptim> {
        self.optim
    }
    /// Bytes of optimizer state alone.
    pub fn state_bytes(&self) -> usize {
        self.rows * self.slots * self.dim * std::mem::size_of::<f32>()
    }

    /// Applies one optimizer step from per-lookup gradients: `grads[k * dim..]` is the
    /// gradient of the row looked up as `ids[k]`. Rows looked up several times get the
    /// sum of their gradients, as in a dense backward pass. Returns the number of
    /// distinct rows updated.
    pub fn apply(&mut self, ids: &[u32], grads: &[f32]) -> usize {
        let optim = self
            .optim
            .unwrap_or_else(|| panic!("table `{}`: set_optimizer before apply", self.name));
        let dim = self.dim;
        assert_eq!(
            grads.len(),
            ids.len() * dim,
            "table `{}`: gradient size",
            self.name
        );
        self.step += 1;
        // Sort lookups by row (key = row << 32 | position) to find each row's lookups.
        self.order.clear();
        self.order.extend(
            ids.iter()
                .enumerate()
                .map(|(k, &id)| ((id as u64) << 32) | k as u64),
        );
        self.order.sort_unstable();
        let stride = self.stride();
        let (b1t, b2t) = match optim {
            SparseOptim::Adam { beta1, beta2, .. } => (
                1.0 - beta1.powi(self.step as i32),
                1.0 - beta2.powi(self.step as i32),
            ),
            SparseOptim::Adagrad { .. } => (1.0, 1.0),
        };
        let mut i = 0;
        let mut distinct = 0;
        while i < self.order.len() {
            distinct += 1;
            let row = (self.order[i] >> 32) as usize;
            if let Some(&ahead) = self.order.get(i + PREFETCH_AHEAD) {
                prefetch_row(&self.data, (ahead >> 32) as usize * stride, stride);
            }
            self.acc.iter_mut().for_each(|a| *a = 0.0);
            while i < self.order.len() && (self.order[i] >> 32) as usize == row {
                let k = (self.order[i] & 0xffff_ffff) as usize;
                for (a, g) in self.acc.iter_mut().zip(&grads[k * dim..(k + 1) * dim]) {
                    *a += g;
                }
                i += 1;
            }
            let cell = &mut self.data[row * stride..(row + 1) * stride];
            match optim {
                SparseOptim::Adam {
                    lr,
                    beta1,
                    beta2,
                    eps,
                } => {
                    let (w, state) = cell.split_at_mut(dim);
                    let (m, v) = state.split_at_mut(dim);
                    for j in 0..dim {
                        let g = self.acc[j];
                        m[j] = beta1 * m[j] + (1.0 - beta1) * g;
                        v[j] = beta2 * v[j] + (1.0 - beta2) * g * g;
                        w[j] -= lr * (m[j] / b1t) / ((v[j] / b2t).sqrt() + eps);
                    }
                }
                SparseOptim::Adagrad { lr, eps, .. } => {
                    let (w, acc) = cell.split_at_mut(dim);
                    for j in 0..dim {
                        let g = self.acc[j];
                        acc[j] += g * g;
                        w[j] -= lr * g / (acc[j].sqrt() + eps);
                    }
                }
            }
        }
        distinct
    }
}

/// How many lookups ahead `apply` and `gather_into` prefetch: enough to keep several
/// cache misses in flight while the current row is updated.
const PREFETCH_AHEAD: usize = 8;

/// Hints the CPU to start loading the cache lines of a row (`len` floats from
/// `start`). Rows of a large table are random memory accesses; overlapping their
/// misses is what makes the update fast. A no-op where unsupported.
#[inline(always)]
fn prefetch_row(data: &[f32], start: usize, len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if start + len <= data.len() {
            let base = data[start..].as_ptr() as *const i8;
            let mut off = 0;
            while off < len * 4 {
                // SAFETY: prefetch is a hint; the address is inside `data`.
                unsafe {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                        base.add(off),
                    )
                };
                off += 64;
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, start, len);
}

/// Asks Linux to back a large table with transparent huge pages. Lookups hit random
/// rows, so with 4 KiB pages nearly every row costs a TLB miss; where THP is set to
/// `madvise` (a common default) this must be requested. Best effort: errors are ignored.
/// Call it on a fresh `Vec::with_capacity` before filling it: pages touched before the
/// advice stay small.
fn advise_huge_pages(data: &Vec<f32>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let (start, len) = (
            data.as_ptr() as usize,
            data.capacity() * std::mem::size_of::<f32>(),
        );
        if len < 2 * HUGE {
            return;
        }
        let aligned = start.next_multiple_of(4096);
        // SAFETY: advisory only; the range lies inside the allocation of `data`.
        unsafe {
            libc::madvise(
                aligned as *mut libc::c_void,
                start + len - aligned,
                libc::MADV_HUGEPAGE,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = data;
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn table(rows: usize, dim: usize) -> SparseTable {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        SparseTable::new("t", rows, dim, Init::Normal { std: 0.1 }, &mut rng)
    }

    /// Dense reference Adam on one row over several steps where the row is touched at
    /// every step: lazy Adam must equal it exactly.
    #[test]
    fn lazy_adam_equals_dense_adam_on_always_touched_rows() {
        let mut t = table(4, 3);
        t.set_optimizer(SparseOptim::adam(0.01));
        let w0 = t.row(2).to_vec();
        let (mut m, mut v, mut w) = (vec![0.0f32; 3], vec![0.0f32; 3], w0);
        for step in 1..=5 {
            let g = [0.1 * step as f32, -0.2, 0.05];
            // Row 2 looked up twice: the gradients add.
            let half: Vec<f32> = g.iter().map(|x| x / 2.0).collect();
            let grads: Vec<f32> = half.iter().chain(half.iter()).copied().collect();
            t.apply(&[2, 2], &grads);
            for j in 0..3 {
                m[j] = 0.9 * m[j] + 0.1 * g[j];
                v[j] = 0.999 * v[j] + 0.001 * g[j] * g[j];
                let mh = m[j] / (1.0 - 0.9f32.powi(step));
                let vh = v[j] / (1.0 - 0.999f32.powi(step));
                w[j] -= 0.01 * mh / (vh.sqrt() + 1e-8);
            }
        }
        for (a, b) in t.row(2).iter().zip(&w) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn untouched_rows_do_not_change() {
        let mut t = table(5, 2);
        t.set_optimizer(SparseOptim::Adagrad {
            lr: 0.1,
            eps: 1e-10,
            init_acc: 0.1,
        });
        let before: Vec<Vec<f32>> = (0..5).map(|r| t.row(r).to_vec()).collect();
        assert_eq!(t.apply(&[1, 3], &[1.0, 1.0, -1.0, 0.5]), 2);
        for r in [0, 2, 4] {
            assert_eq!(t.row(r), &before[r][..]);
        }
        assert_ne!(t.row(1), &before[1][..]);
        // Adagrad first step: w -= lr * g / sqrt(init_acc + g^2).
        let (lr, g) = (0.1f32, -1.0f32);
        let expect = before[3][0] - lr * g / (0.1f32 + g * g).sqrt();
        assert!((t.row(3)[0] - expect).abs() < 1e-6);
    }

    #[test]
    fn set_optimizer_keeps_weights_and_gather_reads_them() {
        let mut t = table(3, 2);
        let before: Vec<f32> = (0..3).flat_map(|r| t.row(r).to_vec()).collect();
        t.set_optimizer(SparseOptim::adam(0.1));
        let mut out = Vec::new();
        t.gather_into(&[2, 0, 1], &mut out);
        assert_eq!(&out[0..2], &before[4..6]);
        assert_eq!(&out[2..4], &before[0..2]);
        assert_eq!(t.bytes(), 3 * 2 * 3 * 4);
    }
}
