//! Binary log loss (cross-entropy), averaged over examples, in f64.

use rayon::prelude::*;

/// Probabilities are clipped to `[LOGLOSS_EPS, 1 - LOGLOSS_EPS]` so one confident
/// mistake costs at most `-ln(1e-7)` ≈ 16.1 instead of infinity. The fixture clips the
/// same way before calling sklearn's `log_loss`, whose own default clip is dtype eps.
pub const LOGLOSS_EPS: f64 = 1e-7;

/// Above this length the sum runs on the rayon pool.
const PAR_MIN: usize = 1 << 16;

/// Mean log loss of probabilities `probs` for 0/1 `labels`, probabilities clipped by
/// [`LOGLOSS_EPS`]. NaN for empty input or any NaN probability. Panics if the lengths
/// differ.
pub fn logloss(probs: &[f32], labels: &[f32]) -> f64 {
    mean(probs, labels, |p, y| {
        let p = f64::from(p).clamp(LOGLOSS_EPS, 1.0 - LOGLOSS_EPS);
        if y > 0.5 {
            -p.ln()
        } else {
            -(1.0 - p).ln()
        }
    })
}

/// Mean log loss of `sigmoid(logits)` for 0/1 `labels`, computed without forming the
/// probability: loss = softplus(z) - y z with softplus(z) = max(z, 0) + ln(1 + e^-|z|),
/// which neither overflows nor loses precision for large |z|. Not clipped, so it
/// exceeds [`logloss`] for confident mistakes beyond |z| ≈ 16.
pub fn logloss_from_logits(logits: &[f32], labels: &[f32]) -> f64 {
    mean(logits, labels, |z, y| {
        let z = f64::from(z);
        let softplus = z.max(0.0) + (-z.abs()).exp().ln_1p();
        if y > 0.5 {
            softplus - z
        } else {
            softplus
        }
    })
}

fn mean(xs: &[f32], labels: &[f32], loss: impl Fn(f32, f32) -> f64 + Sync) -> f64 {
    assert_eq!(
        xs.len(),
        labels.len(),
        "logloss: inputs and labels differ in length"
    );
    let sum: f64 = if xs.len() >= PAR_MIN {
        xs.par_iter().zip(labels).map(|(&x, &y)| loss(x, y)).sum()
    } else {
        xs.iter().zip(labels).map(|(&x, &y)| loss(x, y)).sum()
    };
    sum / xs.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let l = logloss(&[0.5, 0.5], &[0.0, 1.0]);
        assert!((l - std::f64::consts::LN_2).abs() < 1e-15);
        // Clipping: a certain mistake costs -ln(eps).
        assert!((logloss(&[0.0], &[1.0]) + LOGLOSS_EPS.ln()).abs() < 1e-9);
        assert!((logloss(&[1.0], &[0.0]) + LOGLOSS_EPS.ln()).abs() < 1e-6);
        assert!(logloss(&[], &[]).is_nan());
    }

    #[test]
    fn logits_agree_with_probabilities_and_stay_finite() {
        let z = [-4.0f32, -0.5, 0.0, 0.3, 6.0];
        let y = [0.0, 1.0, 1.0, 0.0, 1.0];
        let p: Vec<f32> = z.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect();
        assert!((logloss_from_logits(&z, &y) - logloss(&p, &y)).abs() < 1e-6);
        let big = logloss_from_logits(&[1e4, -1e4], &[0.0, 1.0]);
        assert!((big - 1e4).abs() < 1e-9, "{big}");
        assert!(logloss_from_logits(&[1e4, -1e4], &[1.0, 0.0]) < 1e-300);
    }
}
