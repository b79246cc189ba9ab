//! The history-blind reference of the generative-ranking task: each candidate's
//! actions from its item embedding alone, `ŷ = MLP(E[x])` with one logit per action.
//! Not a paper model: it is the trivial baseline every sequence model must beat to show
//! that it uses the history at all (the per-item popularity of each action, learned).

use serde::Deserialize;

use crate::contract::Forward;
use crate::engine::{Ctx, Dev, Init, Mat, ParamStore, TableId, Track};
use crate::kinds::generative::{GenBatch, GenSpec, Generative};
use crate::layers::Mlp;
use crate::registry::{ModelInfo, Registered};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemOnlyConfig {
    #[serde(default = "default_dim")]
    pub dim: usize,
    /// Hidden widths of the MLP.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
}

fn default_dim() -> usize {
    32
}
fn default_hidden() -> Vec<usize> {
    vec![64]
}

impl ItemOnlyConfig {
    pub fn check(&self) -> Result<(), String> {
        if self.dim == 0 || self.hidden.contains(&0) {
            return Err("dim and hidden widths must be positive".into());
        }
        Ok(())
    }
}

pub struct ItemOnly {
    pub items: TableId,
    pub mlp: Mlp,
}

impl ItemOnly {
    /// Parameters under `item_only.`: `items` (table), `mlp.*`.
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &GenSpec, cfg: &ItemOnlyConfig) -> Self {
        let mut s = store.scope("item_only");
        let init = Init::Normal { std: 0.02 };
        ItemOnly {
            items: s.table("items", spec.n_items as usize + 1, cfg.dim, init),
            mlp: Mlp::new(&mut s.pp("mlp"), cfg.dim, &cfg.hidden, Some(spec.n_actions)),
        }
    }
}

impl<D: Dev> Forward<Generative, D> for ItemOnly {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &GenBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let e = ctx.lookup::<T>(store, self.items, batch.cand_items.clone());
        self.mlp.forward(store, e, ctx)
    }
}

impl Registered<Generative> for ItemOnly {
    type Config = ItemOnlyConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "item_only",
        kind: "generative",
        paper: "none: the history-blind reference of the generative-ranking task",
        summary: "Each candidate's action logits from its item embedding alone, MLP(E[x]) with one output per action: the learned per-item rate of every action, no history.",
        simplifications: "Not a paper model.",
    };

    fn check(cfg: &ItemOnlyConfig, _spec: &GenSpec) -> Result<(), String> {
        cfg.check()
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &GenSpec,
        cfg: &ItemOnlyConfig,
    ) -> Result<Self, String> {
        Ok(ItemOnly::new(store, spec, cfg))
    }
}
