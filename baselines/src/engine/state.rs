//! Host copies of everything training changes, for checkpoints that resume a cell in
//! the middle of its epochs with the same result as an uninterrupted run: parameter
//! values (dense tensors and tables with their row-wise optimizer state), the dense
//! optimizer's step and moments, a snapshot of the best epoch, FLOP counts, and the
//! number of draws taken from the device's random stream (dropout masks, KuaiFormer's
//! replayed requests), which dfdx does not let us read or set: a resumed run replays
//! that many draws from a device opened with the same seed ([`device_seed`]).
//!
//! Loading checks names and sizes, so a checkpoint of another model or configuration
//! is an error rather than silently wrong parameters.

#[derive(Debug, thiserror::Error)]
#[error("checkpoint does not fit this model: {0}")]
pub struct StateMismatch(pub String);

pub(crate) fn check(what: &str, want: usize, got: usize) -> Result<(), StateMismatch> {
    if want == got {
        Ok(())
    } else {
        Err(StateMismatch(format!(
            "{what}: {got} values, expected {want}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{Flops, Optimizer, ParamStore};
    use crate::engine::{Init, OptimConfig};
    use dfdx::prelude::*;

    fn store(seed: u64) -> ParamStore<Cpu> {
        let mut s = ParamStore::new(Cpu::seed_from_u64(seed), seed);
        let mut sc = s.scope("m");
        sc.mat("w", 3, 2, Init::Normal { std: 0.5 });
        sc.vec("b", 2, Init::Normal { std: 0.5 });
        sc.table("items", 5, 2, Init::Normal { std: 0.5 });
        s
    }

    #[test]
    fn store_optimizer_and_snapshot_round_trip_bit_for_bit() {
        let mut a = store(1);
        let mut opt = Optimizer::new(&OptimConfig::default(), &mut a);
        let best = a.snapshot();
        // Give the moments and the step something other than zeros.
        let mut os = opt.state(&a);
        os.step = 7;
        os.mats[0].0.iter_mut().for_each(|x| *x = 0.25);
        os.vecs[0].1.iter_mut().for_each(|x| *x = 1.5);
        opt.load_state(&a, &os).unwrap();
        let mut b = store(2);
        let mut opt_b = Optimizer::new(&OptimConfig::default(), &mut b);
        assert_ne!(b.state(), a.state());
        b.load_state(&a.state()).unwrap();
        opt_b.load_state(&b, &opt.state(&a)).unwrap();
        assert_eq!(b.state(), a.state());
        assert_eq!(opt_b.state(&b), os);
        let snap = b.snapshot_from(&best.state()).unwrap();
        assert_eq!(snap.state(), best.state());
    }

    #[test]
    fn a_state_of_another_shape_or_name_is_refused() {
        let a = store(1);
        let mut other = ParamStore::new(Cpu::default(), 1);
        other.scope("m").mat("w", 2, 2, Init::Zeros);
        let err = other.load_state(&a.state()).unwrap_err().to_string();
        assert!(err.contains("vectors: 1 values, expected 0"), "{err}");
        let mut renamed = a.state();
        renamed.mats[0].name = "m.v".into();
        let mut b = store(1);
        let err = b.load_state(&renamed).unwrap_err().to_string();
        assert!(err.contains("parameter `m.v`, expected `m.w`"), "{err}");
    }

    #[test]
    fn flop_counts_round_trip() {
        let mut f = Flops::training();
        f.matmul(2, 3, 4);
        f.add_optimizer("dense", 11);
        assert_eq!(Flops::from_state(&f.state()).state(), f.state());
    }
}
