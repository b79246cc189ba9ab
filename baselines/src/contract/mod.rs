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

    /// A self-supervised pre-training loss (LUM's step 1), run for
    /// [`Forward::pretrain_epochs`] epochs before the training loss; `None` = the
    /// model has no pre-training. The harness passes training-split data only.
    fn pretrain_loss<T: Track<D>>(
        &self,
        _store: &ParamStore<D>,
        _batch: &K::Batch,
        _ctx: &mut Ctx<D>,
    ) -> Option<Loss<D, T>> {
        None
    }

    /// Epochs of pre-training the harness runs before training (0 = none).
    fn pretrain_epochs(&self) -> usize {
        0
    }

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

    /// Bytes of lookup state a server needs besides the parameter store (e.g. a frozen
    /// table of pair statistics); 0 for most models.
    fn extra_serving_bytes(&self) -> usize {
        0
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
    /// See [`Forward::pretrain_epochs`].
    fn pretrain_epochs(&self) -> usize;
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
    fn pretrain_epochs(&self) -> usize {
        Forward::pretrain_epochs(self)
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
}
