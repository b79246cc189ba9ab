//! Shared test helpers: a tiny sequential model, so the retrieval harness can be tested
//! end to end without any registered model.

#![allow(dead_code)]

use baselines::engine::{Ctx, Dev, Init, Mat, ParamStore, TableId, Track};
use baselines::ModelError;
use baselines::{Forward, Generative, Model, Retrieval, SeqBatch, SeqSpec};
use dfdx::prelude::*;

/// The user is the mean of their history's item embeddings; items are their own
/// embeddings; the loss is BCE of every position's target (the user being the mean of
/// the items up to that position) against its first negative. A bag of items: it can
/// learn co-occurrence, not order.
pub struct MeanPool {
    items: TableId,
    dim: usize,
    /// Makes `loss` return NaN (to test the divergence guard).
    pub poison: bool,
}

impl MeanPool {
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &SeqSpec, dim: usize) -> Self {
        let items = store.scope("mean_pool").table(
            "items",
            spec.n_items as usize + 1,
            dim,
            Init::Normal { std: 0.1 },
        );
        MeanPool {
            items,
            dim,
            poison: false,
        }
    }

    /// Mean of the non-padding history embeddings up to each position (`prefixes`,
    /// `(size * max_len, dim)`) or at the last position only (`(size, dim)`).
    fn pooled<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
        prefixes: bool,
    ) -> Mat<D, T> {
        let (b, l) = (batch.size, batch.max_len);
        let e: Mat<D, T> = ctx.lookup(store, self.items, batch.items.clone());
        let out_rows = if prefixes { b * l } else { b };
        let mut w = vec![0.0f32; out_rows * b * l];
        for r in 0..b {
            let row = batch.items_row(r);
            let ends: Vec<usize> = if prefixes {
                (0..l).collect()
            } else {
                vec![l - 1]
            };
            for (k, &end) in ends.iter().enumerate() {
                let out = if prefixes { r * l + k } else { r };
                let n = row[..=end].iter().filter(|&&i| i != 0).count().max(1) as f32;
                for (p, &i) in row[..=end].iter().enumerate() {
                    if i != 0 {
                        w[out * b * l + r * l + p] = 1.0 / n;
                    }
                }
            }
        }
        ctx.flops.matmul(out_rows, b * l, self.dim);
        let w: Mat<D> = store.dev().tensor_from_vec(w, (out_rows, b * l));
        w.retaped::<T>().matmul(e)
    }
}

impl<D: Dev> Forward<Retrieval, D> for MeanPool {
    fn loss<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Tensor<Rank0, f32, D, T> {
        let (b, l, k) = (batch.size, batch.max_len, batch.n_neg);
        let n = b * l;
        let u: Mat<D, T> = self.pooled(store, batch, ctx, true);
        let neg_ids: Vec<u32> = (0..n).map(|p| batch.negatives[p * k]).collect();
        let ep: Mat<D, T> = ctx.lookup(store, self.items, batch.targets.clone());
        let en: Mat<D, T> = ctx.lookup(store, self.items, neg_ids);
        ctx.flops.elementwise(4 * n * self.dim);
        ctx.flops.loss(2 * n);
        let pos = (u.with_empty_tape() * ep).sum::<(usize,), Axis<1>>();
        let neg = (u * en).sum::<(usize,), Axis<1>>();
        let dev = store.dev().clone();
        // Padding positions (target 0) weigh nothing; the mean is over real targets.
        let count = batch.n_targets().max(1) as f32;
        let mask: Vec<f32> = batch
            .targets
            .iter()
            .map(|&t| if t == 0 { 0.0 } else { 1.0 / count })
            .collect();
        let mask: Tensor<(usize,), f32, D> = dev.tensor_from_vec(mask, (n,));
        let ones: Tensor<(usize,), f32, D> = dev.ones_like(&(n,));
        let zeros: Tensor<(usize,), f32, D> = dev.zeros_like(&(n,));
        let per = pos.bce_with_logits(ones) + neg.bce_with_logits(zeros);
        let loss = (per * mask).sum::<(), Axis<0>>();
        if self.poison {
            loss * f32::NAN
        } else {
            loss
        }
    }

    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        self.pooled(store, batch, ctx, false)
    }

    fn item_vectors(&self, store: &ParamStore<D>) -> Option<Vec<f32>> {
        Some(store.table(self.items).weights())
    }
}

/// A builder for `harness::kinds::run_cell`: `mean_pool` (config
/// `{"dim": N}`, default 16) and `mean_pool_nan` (diverges at once).
pub fn build_test_model<D: Dev>(
    name: &str,
    config: &serde_json::Value,
    spec: &SeqSpec,
    store: &mut ParamStore<D>,
) -> Result<Box<dyn Model<Retrieval, D>>, ModelError> {
    let dim = config.get("dim").and_then(|d| d.as_u64()).unwrap_or(16) as usize;
    match name {
        "mean_pool" => Ok(Box::new(MeanPool::new(store, spec, dim))),
        "mean_pool_nan" => {
            let mut m = MeanPool::new(store, spec, dim);
            m.poison = true;
            Ok(Box::new(m))
        }
        _ => Err(ModelError::Unknown {
            name: name.to_string(),
            kind: "retrieval",
            known: "mean_pool, mean_pool_nan".into(),
        }),
    }
}

/// What a [`Recorder`] saw: every batch it was trained on (ranking steps and
/// pre-training steps), for leakage checks through the real training loop.
#[derive(Default)]
pub struct Recorded {
    pub train: Vec<baselines::GenBatch>,
    pub pretrain: Vec<baselines::GenBatch>,
}

/// `item_only` plus a pre-training step (the mean squared embedding of the history's
/// items, a stand-in for a self-supervised loss), recording every batch it trains on.
/// `poison` makes the ranking logits NaN (to test the divergence guard).
pub struct Recorder {
    pub inner: baselines::models::generative::item_only::ItemOnly,
    pub pretrain_epochs: usize,
    pub poison: bool,
    pub log: std::sync::Arc<std::sync::Mutex<Recorded>>,
}

impl<D: Dev> Forward<Generative, D> for Recorder {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &baselines::GenBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        if ctx.is_training() {
            self.log.lock().unwrap().train.push(batch.clone());
        }
        let z = Forward::<Generative, D>::forward::<T>(&self.inner, store, batch, ctx);
        if self.poison {
            z * f32::NAN
        } else {
            z
        }
    }

    fn pretrain_loss<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &baselines::GenBatch,
        ctx: &mut Ctx<D>,
    ) -> Option<Tensor<Rank0, f32, D, T>> {
        self.log.lock().unwrap().pretrain.push(batch.clone());
        let e: Mat<D, T> = ctx.lookup(store, self.inner.items, batch.hist_items.clone());
        Some(e.square().mean::<Rank0, _>())
    }

    fn pretraining(&self) -> Option<baselines::Pretraining> {
        Some(baselines::Pretraining {
            epochs: self.pretrain_epochs,
            data: baselines::PretrainData::Batches,
            trains: &[],
            learning_rate: None,
        })
    }
}

/// What a generative-model builder returns.
pub type GenBuilt<D> = Result<Box<dyn baselines::Model<Generative, D>>, ModelError>;

/// A builder for `harness::kinds::run_cell`: every registered generative model
/// (`baselines::registry::build`), plus `recorder` (config `{"pretrain_epochs": N}`, default
/// 2) and `recorder_nan` (diverges at once), both recording into `log`.
pub fn build_test_gen_model<D: Dev>(
    log: std::sync::Arc<std::sync::Mutex<Recorded>>,
) -> impl Fn(&str, &serde_json::Value, &baselines::GenSpec, &mut ParamStore<D>) -> GenBuilt<D> {
    move |name, config, spec, store| {
        let pretrain_epochs = config
            .get("pretrain_epochs")
            .and_then(|d| d.as_u64())
            .unwrap_or(2) as usize;
        let recorder = |poison: bool, store: &mut ParamStore<D>| {
            let cfg = serde_json::from_value(serde_json::json!({"dim": 8, "hidden": [8]})).unwrap();
            Recorder {
                inner: baselines::models::generative::item_only::ItemOnly::new(store, spec, &cfg),
                pretrain_epochs,
                poison,
                log: log.clone(),
            }
        };
        match name {
            "recorder" => Ok(Box::new(recorder(false, store))),
            "recorder_nan" => Ok(Box::new(recorder(true, store))),
            _ => baselines::registry::build::<baselines::Generative, _>(name, config, spec, store),
        }
    }
}
