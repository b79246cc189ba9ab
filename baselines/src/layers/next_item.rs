//! Next-item training objectives over an item table shared by input and output.
//!
//! - [`sampled_loss`] (SASRec, HSTU): at every position with a target, the state `h` is
//!   scored against the target `s+ = <h, E[target]>` and the batch's sampled negatives
//!   `s-_j = <h, E[neg_j]>`; then either binary cross-entropy
//!   `-log σ(s+) - Σ_j log σ(-s-_j)` (SASRec, arXiv 1808.09781, Sec. III-E) or the
//!   sampled softmax `-log(e^{s+} / (e^{s+} + Σ_j e^{s-_j}))` (negatives are uniform, so
//!   no logQ term is needed). Mean over positions with a target.
//! - [`in_batch_loss`] (KuaiFormer, arXiv 2411.10057): the batch's other targets are the
//!   negatives, with a logQ correction and label smoothing.

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use super::attention::HIDDEN;
use crate::engine::{Ctx, Dev, Mat, ParamStore, TableId, Track};
use crate::kinds::retrieval::SeqBatch;

/// The loss over sampled negatives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampledLoss {
    #[default]
    Bce,
    SampledSoftmax,
}

/// `h` is `(batch * max_len, d)`, one state per position; positions whose target is 0
/// are left out. Counts: the gather of the used rows (copy), the dot products
/// (elementwise + reduce) and the loss (BCE 9 + 5 per score, or a softmax
/// cross-entropy over `1 + n_neg` logits after a concatenation).
pub fn sampled_loss<D: Dev, T: Track<D>>(
    kind: SampledLoss,
    h: Mat<D, T>,
    batch: &SeqBatch,
    table: TableId,
    store: &ParamStore<D>,
    ctx: &mut Ctx<D>,
) -> Tensor<Rank0, f32, D, T> {
    let d = h.shape().1;
    let k = batch.n_neg;
    assert_eq!(
        h.shape().0,
        batch.size * batch.max_len,
        "next-item loss: rows"
    );
    assert_eq!(batch.targets.len(), h.shape().0, "next-item loss: targets");
    assert!(
        k >= 1 && batch.negatives.len() == batch.targets.len() * k,
        "next-item loss: the batch needs n_neg >= 1 negatives per position (n_neg = {k}, \
         {} negatives for {} positions)",
        batch.negatives.len(),
        batch.targets.len()
    );
    let rows: Vec<usize> = (0..batch.targets.len())
        .filter(|&p| batch.targets[p] != 0)
        .collect();
    let n = rows.len();
    if n == 0 {
        return h.sum::<Rank0, _>() * 0.0;
    }
    let pos_ids: Vec<u32> = rows.iter().map(|&p| batch.targets[p]).collect();
    let neg_ids: Vec<u32> = rows
        .iter()
        .flat_map(|&p| batch.negatives[p * k..(p + 1) * k].iter().copied())
        .collect();
    let dev = store.dev().clone();
    ctx.flops.copy(n * d);
    let h = h.gather(dev.tensor_from_vec(rows, (n,)));
    let e_pos = ctx.lookup::<T>(store, table, pos_ids);
    let e_neg = ctx
        .lookup::<T>(store, table, neg_ids)
        .reshape_like(&(n, k, d));
    ctx.flops.elementwise(n * (1 + k) * d);
    ctx.flops.reduce(n * (1 + k) * d);
    let s_pos = (h.retaped::<T>() * e_pos).sum::<(usize,), Axis<1>>();
    let s_neg =
        (h.broadcast_like::<_, Axis<1>>(&(n, k, d)) * e_neg).sum::<(usize, usize), Axis<2>>();
    match kind {
        SampledLoss::Bce => {
            ctx.flops.loss(n * (1 + k));
            let ones = dev.ones_like(&(n,));
            let zeros = dev.zeros_like(&(n, k));
            (s_pos.bce_with_logits(ones).sum::<Rank0, _>()
                + s_neg.bce_with_logits(zeros).sum::<Rank0, _>())
                / n as f32
        }
        SampledLoss::SampledSoftmax => {
            ctx.flops.copy(n * (1 + k));
            ctx.flops.softmax_xent(n, 1 + k);
            let logits =
                (s_pos.retaped::<T>().reshape_like(&(n, 1)), s_neg).concat_along(Axis::<1>);
            (logits.logsumexp::<(usize,), Axis<1>>() - s_pos).sum::<Rank0, _>() / n as f32
        }
    }
}

/// In-batch softmax over `n` users with `k` interests each (`u` is `(n * k, d)`, rows of
/// one user adjacent) and their `n` target items: `s(b, c) = max_j <u_bj, E[t_c]>`,
/// logits `s(b, c) - log Q(t_c)` (when `log_q` is given, indexed by item id), the other
/// rows' targets equal to `t_b`, and those of rows with the same `sources` entry as `b`
/// (another request of the same user: its target is one of that user's items), hidden
/// (not negatives of `b`), and
/// `L = -(1/n) Σ_b [(1 - α) log p_bb + Σ_{c ≠ b} (α / n) log(1 - p_bc)]`
/// with `p` the row softmax (the smoothed form of the project spec; `α = 0` is the plain
/// in-batch softmax cross-entropy).
#[allow(clippy::too_many_arguments)]
pub fn in_batch_loss<D: Dev, T: Track<D>>(
    u: Mat<D, T>,
    k: usize,
    targets: &[u32],
    sources: Option<&[usize]>,
    table: TableId,
    log_q: Option<&[f32]>,
    alpha: f32,
    store: &ParamStore<D>,
    ctx: &mut Ctx<D>,
) -> Tensor<Rank0, f32, D, T> {
    let n = targets.len();
    let d = u.shape().1;
    assert_eq!(
        u.shape().0,
        n * k,
        "in-batch loss: rows = users x interests"
    );
    if let Some(src) = sources {
        assert_eq!(src.len(), n, "in-batch loss: one source per target");
    }
    let hidden = |b: usize, c: usize| {
        c != b && (targets[c] == targets[b] || sources.is_some_and(|s| s[c] == s[b]))
    };
    let dev = store.dev().clone();
    let e = ctx.lookup::<T>(store, table, targets.to_vec());
    ctx.flops.matmul(n * k, d, n);
    let s = u.matmul(e.permute::<_, Axes2<1, 0>>());
    let s = if k > 1 {
        ctx.flops.reduce(n * k * n);
        s.reshape_like(&(n, k, n)).max::<(usize, usize), Axis<1>>()
    } else {
        s
    };
    let mut adjust = vec![0.0f32; n * n];
    for b in 0..n {
        for c in 0..n {
            let q = log_q.map_or(0.0, |lq| lq[targets[c] as usize]);
            adjust[b * n + c] = if hidden(b, c) { HIDDEN } else { -q };
        }
    }
    ctx.flops.elementwise(n * n);
    let logits = s + dev.tensor_from_vec(adjust, (n, n));
    ctx.flops.softmax_xent(n, n);
    let logp = logits.log_softmax::<Axis<1>>();
    let diag = dev.tensor_from_vec((0..n).collect::<Vec<usize>>(), (n,));
    if alpha <= 0.0 {
        // `logp` itself, not a retaped copy: the copy's tape would be empty.
        return logp.select(diag).sum::<Rank0, _>().negate() / n as f32;
    }
    let pos = logp.retaped::<T>().select(diag).sum::<Rank0, _>() * (1.0 - alpha);
    let mut w = vec![alpha / n as f32; n * n];
    for b in 0..n {
        for c in 0..n {
            if c == b || hidden(b, c) {
                w[b * n + c] = 0.0;
            }
        }
    }
    ctx.flops.smoothing(n * n);
    let one_minus_p = (logp.exp().negate() + 1.0).clamp(1e-7, 1.0);
    let neg = (one_minus_p.ln() * dev.tensor_from_vec(w, (n, n))).sum::<Rank0, _>();
    (pos + neg).negate() / n as f32
}

/// `log Q(x) = log(count(x) / Σ count)` per item id (index 0 unused), from training
/// target counts; an unseen item counts as 1.
pub fn log_sampling_probs(item_counts: &[u32]) -> Vec<f32> {
    let total: f64 = item_counts.iter().skip(1).map(|&c| c.max(1) as f64).sum();
    item_counts
        .iter()
        .map(|&c| ((c.max(1) as f64) / total.max(1.0)).ln() as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{parameter_gradient_norms, Init};
    use crate::Cpu;

    /// With and without label smoothing the loss reaches the user vectors and the item
    /// table (without, it once came back on an empty tape).
    #[test]
    fn in_batch_loss_has_gradients_with_and_without_smoothing() {
        for alpha in [0.0, 0.1] {
            let mut store = ParamStore::new(Cpu::default(), 0);
            let (table, u) = {
                let mut s = store.scope("t");
                let init = Init::Normal { std: 0.5 };
                (s.table("items", 5, 3, init), s.mat("u", 3, 3, init))
            };
            let mut ctx = Ctx::<Cpu>::training();
            let users = store.mat(u).retaped::<OwnedTape<f32, Cpu>>();
            let loss = in_batch_loss(
                users,
                1,
                &[1, 2, 4],
                None,
                table,
                None,
                alpha,
                &store,
                &mut ctx,
            );
            let mut grads = loss.backward();
            for (name, norm) in parameter_gradient_norms(&store, &ctx, &mut grads) {
                assert!(norm > 0.0, "alpha {alpha}: no gradient reaches {name}");
            }
        }
    }

    /// Rows sharing a source (two requests of one user) do not see each other's targets:
    /// the loss equals the softmax cross-entropy computed by hand over the columns left
    /// (no logQ, no smoothing), and differs from the loss without sources.
    #[test]
    fn same_source_targets_are_hidden() {
        let mut store = ParamStore::new(Cpu::default(), 3);
        let (table, u) = {
            let mut s = store.scope("t");
            let init = Init::Normal { std: 0.7 };
            (s.table("items", 6, 2, init), s.mat("u", 3, 2, init))
        };
        let targets = [1u32, 3, 5];
        let sources = [0usize, 0, 1];
        let e = store.table(table).weights();
        let uv = store.mat(u).as_vec();
        let dot = |b: usize, c: usize| -> f64 {
            let t = targets[c] as usize;
            (0..2).map(|j| (uv[b * 2 + j] * e[t * 2 + j]) as f64).sum()
        };
        let mut want = 0.0;
        for b in 0..3 {
            let cols: Vec<usize> = (0..3)
                .filter(|&c| c == b || sources[c] != sources[b])
                .collect();
            let lse = cols.iter().map(|&c| dot(b, c).exp()).sum::<f64>().ln();
            want += lse - dot(b, b);
        }
        want /= 3.0;
        let loss = |src: Option<&[usize]>| {
            let mut ctx = Ctx::<Cpu>::default();
            let users = store.mat(u).clone();
            in_batch_loss(users, 1, &targets, src, table, None, 0.0, &store, &mut ctx).array()
                as f64
        };
        let got = loss(Some(&sources));
        assert!((got - want).abs() < 1e-5, "{got} vs hand {want}");
        assert!((loss(None) - want).abs() > 1e-3, "sources changed nothing");
    }
}
