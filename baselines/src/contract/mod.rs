//! The one model contract, generic over the task kind.
//!
//! A [`Kind`] (ranking, retrieval, generative, ...) says what a task of that kind hands
//! a model (`Spec` to size it, `Batch` to run it), what the model gives back (`Output`,
//! generic over the tape) and the loss a model trains with unless it names its own. A
//! model implements [`Forward`] once, generic over the tape; the object-safe [`Model`]
//! (train with a tape, evaluate without) follows by a blanket impl, so the registry can
//! hand out `Box<dyn Model<K, D>>`. The training step, prediction and gradient norms
//! exist once, in [`step`], for every kind.

pub mod step;

use dfdx::prelude::*;

use crate::engine::{Ctx, Dev, ParamStore, Track};

/// A scalar loss on the device, under tape `T`.
pub type Loss<D, T> = Tensor<Rank0, f32, D, T>;

/// A task kind as models see it.
pub trait Kind: Sized + Send + Sync + 'static {
    /// The kind's name in task files and the registry (`"ranking"`, ...).
    const NAME: &'static str;
    /// What a task of this kind tells a model to size its parameters.
    type Spec: Send + Sync;
    /// One batch of examples, on the host. Labels travel in it; models never read them.
    type Batch: Send + Sync;
    /// A model's output for a batch: logits, user vectors, per-action logits.
    type Output<D: Dev, T: Track<D>>;
    /// What the harness may ask of a model of this kind beyond its outputs (retrieval:
    /// interests per user, whether batches may be trimmed); `()` for most kinds.
    type Hints: Default + Clone + Send + Sync;
    /// What a model may ask the harness to compute from the training split (ranking:
    /// id frequencies, pair statistics), declared by its config
    /// (`crate::registry::Registered::side_inputs`); `()` for kinds without any.
    type SideInputs: Default + Clone + std::fmt::Debug + PartialEq + Send + Sync;

    /// The loss a model of this kind trains with unless it names its own
    /// ([`Forward::loss`]); `None` for a kind whose models each bring one (retrieval).
    fn default_loss<D: Dev, T: Track<D>>(
        out: Self::Output<D, T>,
        batch: &Self::Batch,
        ctx: &mut Ctx<D>,
    ) -> Option<Loss<D, T>>;

    /// An evaluation output on the host, row-major.
    fn to_host<D: Dev>(out: Self::Output<D, NoneTape>) -> Vec<f32>;

    /// Examples in a batch (what "per example" means in the cost report).
    fn batch_size(batch: &Self::Batch) -> usize;
}

/// A model's pre-training plan: how many epochs over which data, which parameters it
/// updates, at which learning rate. Each epoch's steps go through
/// [`step::pretrain_step`], so they use the engine's optimizer, count their FLOPs and
/// run on the cell's device.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pretraining {
    pub epochs: usize,
    pub data: PretrainData,
    /// Dotted parameter-name prefixes the pre-training updates; every other parameter
    /// stays put (and costs no optimizer work). `&[]` = every parameter.
    pub trains: &'static [&'static str],
    /// Learning rate of the pre-training optimizer's dense parameters; `None` = the
    /// task's.
    pub learning_rate: Option<f32>,
}

/// Where a model's pre-training batches come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PretrainData {
    /// Shuffled batches of the kind's pre-training rows, built from the training split
    /// (LUM: one row per user history).
    Batches,
    /// One full-batch step per epoch on data the model holds, which it computed from
    /// the training split's side inputs at build time (PCF-GNN's pair graph). The
    /// batch passed is empty.
    Own,
}

/// What a model implements for kind `K`, generic over the tape.
pub trait Forward<K: Kind, D: Dev>: Send + Sync {
    /// The model's output for `batch`.
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &K::Batch,
        ctx: &mut Ctx<D>,
    ) -> K::Output<D, T>;

    /// The training loss: the kind's default loss of [`Forward::forward`] unless the
    /// model overrides it (a sampled softmax, an in-batch softmax, a sum over tasks).
    fn loss<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &K::Batch,
        ctx: &mut Ctx<D>,
    ) -> Loss<D, T> {
        let out = self.forward::<T>(store, batch, ctx);
        K::default_loss(out, batch, ctx).unwrap_or_else(|| {
            panic!(
                "a {} model must define its own loss: the kind has no default",
                K::NAME
            )
        })
    }

    /// A pre-training loss (LUM's self-supervised step 1, PCF-GNN's graph objective),
    /// run as [`Forward::pretraining`] plans before the training loss; `None` = the
    /// model has no pre-training. The harness passes training-split data only (an
    /// empty batch under [`PretrainData::Own`]).
    fn pretrain_loss<T: Track<D>>(
        &self,
        _store: &ParamStore<D>,
        _batch: &K::Batch,
        _ctx: &mut Ctx<D>,
    ) -> Option<Loss<D, T>> {
        None
    }

    /// How the harness runs [`Forward::pretrain_loss`] before training; `None` (the
    /// default) = no pre-training.
    fn pretraining(&self) -> Option<Pretraining> {
        None
    }

    /// Called by the harness once the parameters frozen in training hold their final
    /// values (after pre-training, after a checkpoint is loaded): a model caches here
    /// what they determine (PCF-GNN's `h^K` table), so that training steps need not
    /// recompute it. Work done here is counted in `ctx`.
    fn prepare_frozen(&self, _store: &ParamStore<D>, _ctx: &mut Ctx<D>) {}

    /// Dotted parameter-name prefixes the training steps leave untouched (a backbone
    /// frozen after pre-training); [`step::train_step`] freezes them in its optimizer.
    fn frozen_in_training(&self) -> &[&'static str] {
        &[]
    }

    /// What the harness may ask of this model beyond its outputs ([`Kind::Hints`]).
    fn hints(&self) -> K::Hints {
        K::Hints::default()
    }

    /// The item side of a model that scores items by inner product with its output
    /// (retrieval): `(n_items + 1) x d` on the host, row 0 padding. `None` otherwise.
    fn item_vectors(&self, _store: &ParamStore<D>) -> Option<Vec<f32>> {
        None
    }

    /// Embedding values the (trained) model uses, where that is fewer than its tables
    /// hold: AMTL and MDE keep only the first `k_v` values of id `v`'s row, so a server
    /// stores `Σ_v k_v`. `None` (the default) when every stored value is used.
    fn embedding_values_used(&self, _store: &ParamStore<D>) -> Option<u64> {
        None
    }

    /// Bytes of lookup state a server needs besides the parameter store (a table of
    /// pair statistics, a frozen table that replaces the parameters computing it); 0
    /// for most models.
    fn extra_serving_bytes(&self) -> usize {
        0
    }

    /// Dotted prefixes of parameters a server does not keep (PCF-GNN's GNN, whose
    /// output table [`Forward::extra_serving_bytes`] counts instead); none for most
    /// models.
    fn training_only(&self) -> &[&'static str] {
        &[]
    }
}

/// The object-safe interface the harness uses, for any kind.
pub trait Model<K: Kind, D: Dev>: Send + Sync {
    fn loss_train(
        &self,
        store: &ParamStore<D>,
        batch: &K::Batch,
        ctx: &mut Ctx<D>,
    ) -> Loss<D, OwnedTape<f32, D>>;
    fn output_train(
        &self,
        store: &ParamStore<D>,
        batch: &K::Batch,
        ctx: &mut Ctx<D>,
    ) -> K::Output<D, OwnedTape<f32, D>>;
    fn output_eval(
        &self,
        store: &ParamStore<D>,
        batch: &K::Batch,
        ctx: &mut Ctx<D>,
    ) -> K::Output<D, NoneTape>;
    fn pretrain_loss_train(
        &self,
        store: &ParamStore<D>,
        batch: &K::Batch,
        ctx: &mut Ctx<D>,
    ) -> Option<Loss<D, OwnedTape<f32, D>>>;
    /// See [`Forward::pretraining`].
    fn pretraining(&self) -> Option<Pretraining>;
    /// See [`Forward::prepare_frozen`].
    fn prepare_frozen(&self, store: &ParamStore<D>, ctx: &mut Ctx<D>);
    /// See [`Forward::frozen_in_training`].
    fn frozen_in_training(&self) -> &[&'static str];
    /// See [`Forward::hints`].
    fn hints(&self) -> K::Hints;
    /// See [`Forward::item_vectors`].
    fn item_vectors(&self, store: &ParamStore<D>) -> Option<Vec<f32>>;
    /// See [`Forward::embedding_values_used`].
    fn embedding_values_used(&self, store: &ParamStore<D>) -> Option<u64>;
    /// See [`Forward::extra_serving_bytes`].
    fn extra_serving_bytes(&self) -> usize;
    /// See [`Forward::training_only`].
    fn training_only(&self) -> &[&'static str];
}

impl<K: Kind, D: Dev, M: Forward<K, D>> Model<K, D> for M {
    fn loss_train(
        &self,
        store: &ParamStore<D>,
        batch: &K::Batch,
        ctx: &mut Ctx<D>,
    ) -> Loss<D, OwnedTape<f32, D>> {
        ctx.set_training(true);
        self.loss::<OwnedTape<f32, D>>(store, batch, ctx)
    }
    fn output_train(
        &self,
        store: &ParamStore<D>,
        batch: &K::Batch,
        ctx: &mut Ctx<D>,
    ) -> K::Output<D, OwnedTape<f32, D>> {
        ctx.set_training(true);
        self.forward::<OwnedTape<f32, D>>(store, batch, ctx)
    }
    fn output_eval(
        &self,
        store: &ParamStore<D>,
        batch: &K::Batch,
        ctx: &mut Ctx<D>,
    ) -> K::Output<D, NoneTape> {
        ctx.set_training(false);
        self.forward::<NoneTape>(store, batch, ctx)
    }
    fn pretrain_loss_train(
        &self,
        store: &ParamStore<D>,
        batch: &K::Batch,
        ctx: &mut Ctx<D>,
    ) -> Option<Loss<D, OwnedTape<f32, D>>> {
        ctx.set_training(true);
        self.pretrain_loss::<OwnedTape<f32, D>>(store, batch, ctx)
    }
    fn pretraining(&self) -> Option<Pretraining> {
        Forward::pretraining(self)
    }
    fn prepare_frozen(&self, store: &ParamStore<D>, ctx: &mut Ctx<D>) {
        ctx.set_training(false);
        Forward::prepare_frozen(self, store, ctx)
    }
    fn frozen_in_training(&self) -> &[&'static str] {
        Forward::frozen_in_training(self)
    }
    fn hints(&self) -> K::Hints {
        Forward::hints(self)
    }
    fn item_vectors(&self, store: &ParamStore<D>) -> Option<Vec<f32>> {
        Forward::item_vectors(self, store)
    }
    fn embedding_values_used(&self, store: &ParamStore<D>) -> Option<u64> {
        Forward::embedding_values_used(self, store)
    }
    fn extra_serving_bytes(&self) -> usize {
        Forward::extra_serving_bytes(self)
    }
    fn training_only(&self) -> &[&'static str] {
        Forward::training_only(self)
    }
}
