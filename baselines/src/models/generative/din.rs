//! DIN (Zhou et al., Deep Interest Network for Click-Through Rate Prediction, KDD 2018,
//! arXiv 1706.06978, Sec. 4.3, Eq. 3 and Fig. 2), as a generative-ranking reference:
//! each candidate of a request is scored from its item and the exposures before it.
//!
//! - behaviours `e_j = E_item[x_j] + E_action[y_j]`: the paper's behaviours are goods a
//!   user clicked; our history holds every exposure with its action id, and the taste is
//!   in the actions, so the action's embedding is added to the item's;
//! - candidate (the paper's ad) `v_A = E_item[x_A]`;
//! - local activation unit `a(e_j, v_A) = MLP_a([e_j, v_A, e_j - v_A, e_j ⊙ v_A])`, one
//!   scalar, PReLU hidden layer of 36 (Fig. 2). Fig. 2 feeds an "out product" of the two
//!   embeddings; the difference and elementwise product are the authors' released code's
//!   choice, used here;
//! - user interest `v_U(A) = Σ_j a(e_j, v_A) e_j` (Eq. 3, [`user_interest`]), with NO
//!   softmax over `j`: the paper keeps the sum unnormalised so its size carries how
//!   strongly the history relates to the candidate; padding slots weigh 0;
//! - one logit per action from `MLP([v_U(A), v_A])`, PReLU hidden layers 200 and 80
//!   (Fig. 2; the paper's two-way softmax per label is one logit under BCE).
//!
//! PReLU, not Dice (Sec. 5.2): Dice rectifies at the mini-batch mean and variance in
//! training, so a candidate's score would depend on the rest of its batch, and its
//! moving averages would be state outside the parameters. Mini-batch aware
//! regularisation (Sec. 5.1) is left out: it needs the training set's per-row
//! frequencies and a regulariser term in the contract's loss.

use dfdx::prelude::*;
use serde::Deserialize;

use crate::contract::Forward;
use crate::engine::{Ctx, Dev, Init, Mat, ParamStore, TableId, Track};
use crate::kinds::generative::{GenBatch, GenSpec, Generative};
use crate::layers::PreluMlp;
use crate::registry::{ModelInfo, Registered};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DinConfig {
    /// Width of the item and action embeddings.
    #[serde(default = "default_dim")]
    pub dim: usize,
    /// Hidden widths of the local activation unit (Fig. 2: 36).
    #[serde(default = "default_unit_hidden")]
    pub unit_hidden: Vec<usize>,
    /// Hidden widths of the scoring MLP (Fig. 2: 200, 80).
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
}

fn default_dim() -> usize {
    32
}
fn default_unit_hidden() -> Vec<usize> {
    vec![36]
}
fn default_hidden() -> Vec<usize> {
    vec![200, 80]
}

impl DinConfig {
    pub fn check(&self) -> Result<(), String> {
        if self.dim == 0 || self.unit_hidden.contains(&0) || self.hidden.contains(&0) {
            return Err("dim and hidden widths must be positive".into());
        }
        Ok(())
    }
}

pub struct Din {
    pub items: TableId,
    pub actions: TableId,
    /// The local activation unit `a(e_j, v_A)`, input `4 dim`, one output.
    pub unit: PreluMlp,
    /// The scoring MLP, input `[v_U, v_A]`, one output per action.
    pub mlp: PreluMlp,
    pub dim: usize,
}

impl Din {
    /// Parameters under `din.`: `items`, `actions` (tables), `unit.*`, `mlp.*`.
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &GenSpec, cfg: &DinConfig) -> Self {
        let mut s = store.scope("din");
        let init = Init::Normal { std: 0.02 };
        let d = cfg.dim;
        Din {
            items: s.table("items", spec.n_items as usize + 1, d, init),
            actions: s.table("actions", spec.action_vocab(), d, init),
            unit: PreluMlp::new(&mut s.pp("unit"), 4 * d, &cfg.unit_hidden, 1),
            mlp: PreluMlp::new(&mut s.pp("mlp"), 2 * d, &cfg.hidden, spec.n_actions),
            dim: d,
        }
    }

    /// `e_j = E_item[x_j] + E_action[y_j]`, `(size * max_history, dim)`.
    fn behaviours<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &GenBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let item = ctx.lookup::<T>(store, self.items, batch.hist_items.clone());
        let action = ctx.lookup::<T>(store, self.actions, batch.hist_actions.clone());
        ctx.flops.elementwise(batch.hist_items.len() * self.dim);
        item + action
    }

    /// `a(e_j, v_A)` for every (example, candidate, exposure), in that order:
    /// `(size * max_candidates * max_history, 1)`.
    fn activation_unit<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        e: Mat<D, T>,
        v_a: Mat<D, T>,
        batch: &GenBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let (b, c, h, d) = (
            batch.size,
            batch.max_candidates,
            batch.max_history,
            self.dim,
        );
        let n = b * c * h;
        let dev = store.dev().clone();
        let (hist_rows, cand_rows) = pairs(b, c, h);
        ctx.flops.copy(2 * n * d);
        let e_j = e.gather(dev.tensor_from_vec(hist_rows, (n,)));
        let v = v_a.gather(dev.tensor_from_vec(cand_rows, (n,)));
        ctx.flops.elementwise(2 * n * d);
        let diff = e_j.retaped::<T>() - v.retaped::<T>();
        let prod = e_j.retaped::<T>() * v.retaped::<T>();
        // Two pairs concatenated, then the pair of pairs: 2d + 2d + 4d values a row.
        ctx.flops.copy(8 * n * d);
        let x = (
            (e_j, v).concat_along(Axis::<1>),
            (diff, prod).concat_along(Axis::<1>),
        )
            .concat_along(Axis::<1>);
        self.unit.forward(store, x, ctx)
    }
}

/// For each (example `r`, candidate `k`, exposure `j`): the rows `r h + j` of the history
/// and `r c + k` of the candidates.
fn pairs(b: usize, c: usize, h: usize) -> (Vec<usize>, Vec<usize>) {
    let mut hist = Vec::with_capacity(b * c * h);
    let mut cand = Vec::with_capacity(b * c * h);
    for r in 0..b {
        for k in 0..c {
            hist.extend((0..h).map(|j| r * h + j));
            cand.extend(std::iter::repeat_n(r * c + k, h));
        }
    }
    (hist, cand)
}

/// Eq. 3: `v_U(A) = Σ_j w_j e_j` for every candidate, with `w_j = a(e_j, v_A)` on real
/// exposures and 0 on padding (`valid`, `size x max_history`), no softmax. `a` is
/// `(size * candidates * max_history, 1)` in (example, candidate, exposure) order, `e`
/// is `(size * max_history, d)`; returns `(size * candidates, d)`.
pub fn user_interest<D: Dev, T: Track<D>>(
    a: Mat<D, T>,
    e: Mat<D, T>,
    valid: &[bool],
    size: usize,
    candidates: usize,
    ctx: &mut Ctx<D>,
) -> Mat<D, T> {
    let (rows, d) = *e.shape();
    let h = rows / size;
    assert_eq!(rows, size * h, "user_interest: history rows");
    assert_eq!(valid.len(), rows, "user_interest: validity length");
    assert_eq!(
        *a.shape(),
        (size * candidates * h, 1),
        "user_interest: weights"
    );
    let mask: Vec<f32> = valid
        .chunks_exact(h)
        .flat_map(|row| std::iter::repeat_n(row, candidates).flatten())
        .map(|&v| v as u8 as f32)
        .collect();
    let dev = e.device().clone();
    let shape = (size, candidates, h);
    ctx.flops.elementwise(size * candidates * h);
    ctx.flops.matmul(size * candidates, h, d);
    let w = a.reshape_like(&shape) * dev.tensor_from_vec(mask, shape);
    w.matmul(e.reshape_like(&(size, h, d)))
        .reshape_like(&(size * candidates, d))
}

impl Din {
    /// `(v_U(A), v_A)` of every candidate slot, each `(size * max_candidates, dim)`.
    pub fn interests<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &GenBatch,
        ctx: &mut Ctx<D>,
    ) -> (Mat<D, T>, Mat<D, T>) {
        let (b, c) = (batch.size, batch.max_candidates);
        let e = self.behaviours::<D, T>(store, batch, ctx);
        let v_a = ctx.lookup::<T>(store, self.items, batch.cand_items.clone());
        let a = self.activation_unit(store, e.retaped::<T>(), v_a.retaped::<T>(), batch, ctx);
        (user_interest(a, e, &batch.history_valid(), b, c, ctx), v_a)
    }
}

impl<D: Dev> Forward<Generative, D> for Din {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &GenBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let (v_u, v_a) = self.interests::<D, T>(store, batch, ctx);
        ctx.flops
            .copy(batch.size * batch.max_candidates * 2 * self.dim);
        let x = (v_u, v_a).concat_along(Axis::<1>);
        self.mlp.forward(store, x, ctx)
    }
}

impl Registered<Generative> for Din {
    type Config = DinConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "din",
        kind: "generative",
        paper: "Zhou et al., Deep Interest Network for Click-Through Rate Prediction, KDD 2018, arXiv 1706.06978, Sec. 4.3 (Eq. 3, the local activation unit) and Fig. 2",
        summary: "History exposures e_j = E_item[x_j] + E_action[y_j], candidate v_A = E_item[x]; local activation unit a(e_j, v_A) = MLP([e_j, v_A, e_j - v_A, e_j * v_A]) -> one weight (PReLU hidden 36); user interest v_U = sum_j a_j e_j with no softmax (Eq. 3), padding weighted 0; one logit per action from MLP([v_U, v_A]) (PReLU hidden 200, 80).",
        simplifications: "The action embedding is added to each history item (the paper's behaviours are clicked goods only, with no action); the activation unit takes the difference and elementwise product (the authors' code) instead of Fig. 2's out product; PReLU instead of Dice (Dice's batch statistics would make a candidate's score depend on its batch and need running averages); no mini-batch aware regularisation (Sec. 5.1); no user-profile or context features (the task has none).",
    };

    fn check(cfg: &DinConfig, _spec: &GenSpec) -> Result<(), String> {
        cfg.check()
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &GenSpec,
        cfg: &DinConfig,
    ) -> Result<Self, String> {
        Ok(Din::new(store, spec, cfg))
    }
}
