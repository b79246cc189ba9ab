//! The multi-task ranking kind: one example is one exposure with several binary labels
//! (click, like, long view, ...). A model sees the features of a ranking batch and
//! gives one logit per task; the default loss is the sum over tasks of each task's mean
//! binary cross-entropy, `Σ_t BCE_t` (MMoE, PLE and HoME all train on it).

use dfdx::prelude::*;

use crate::contract::{Kind, Loss};
use crate::engine::{Ctx, Dev, Mat, Track};
use crate::kinds::ranking::{Batch, FeatureSpec};

/// The multi-task kind: [`MultiTaskSpec`] sizes a model, [`MultiTaskBatch`] runs it, the
/// output is `size x tasks` logits.
pub struct MultiTask;

/// What a multi-task model is sized from: the features, the tasks and the category of
/// each task (HoME's meta-categories, e.g. passive watch signals vs interactions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiTaskSpec {
    pub features: FeatureSpec,
    /// Task names, in the order of the output's columns.
    pub tasks: Vec<String>,
    /// Category names; every task belongs to one.
    pub categories: Vec<String>,
    /// Index into `categories` of each task.
    pub category_of: Vec<usize>,
}

impl MultiTaskSpec {
    pub fn n_tasks(&self) -> usize {
        self.tasks.len()
    }

    /// The tasks of category `c`, in task order.
    pub fn tasks_in(&self, c: usize) -> Vec<usize> {
        (0..self.n_tasks())
            .filter(|&t| self.category_of[t] == c)
            .collect()
    }

    /// At least one task, every task in a known category, every category non-empty.
    pub fn check(&self) -> Result<(), String> {
        if self.tasks.is_empty() {
            return Err("a multi-task spec needs at least one task".into());
        }
        if self.category_of.len() != self.tasks.len() {
            return Err(format!(
                "{} tasks but {} category assignments",
                self.tasks.len(),
                self.category_of.len()
            ));
        }
        for c in 0..self.categories.len() {
            if self.tasks_in(c).is_empty() {
                return Err(format!("category `{}` has no task", self.categories[c]));
            }
        }
        match self
            .category_of
            .iter()
            .find(|&&c| c >= self.categories.len())
        {
            Some(c) => Err(format!("category index {c} out of range")),
            None => Ok(()),
        }
    }

    /// One category holding every task (what a task without categories means).
    pub fn single_category(features: FeatureSpec, tasks: Vec<String>) -> Self {
        let n = tasks.len();
        MultiTaskSpec {
            features,
            tasks,
            categories: vec!["all".into()],
            category_of: vec![0; n],
        }
    }
}

/// A batch of examples: their features (a ranking batch whose own `labels` models never
/// read) and `size x tasks` labels, row-major.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MultiTaskBatch {
    pub features: Batch,
    pub labels: Vec<f32>,
    pub tasks: usize,
}

impl MultiTaskBatch {
    pub fn size(&self) -> usize {
        self.features.size
    }
}

impl Kind for MultiTask {
    const NAME: &'static str = "multitask";
    type Spec = MultiTaskSpec;
    type Batch = MultiTaskBatch;
    type Output<D: Dev, T: Track<D>> = Mat<D, T>;
    type Hints = ();
    type SideInputs = ();

    /// `Σ_t mean_i BCE(z_it, y_it)`: every task has the batch's rows, so it is `tasks`
    /// times the mean over all `size x tasks` entries.
    fn default_loss<D: Dev, T: Track<D>>(
        logits: Mat<D, T>,
        batch: &MultiTaskBatch,
        ctx: &mut Ctx<D>,
    ) -> Option<Loss<D, T>> {
        let (n, t) = (batch.size(), batch.tasks);
        assert_eq!(
            logits.shape(),
            &(n, t),
            "multitask: logits must be size x tasks"
        );
        let labels = logits
            .device()
            .tensor_from_vec(batch.labels.clone(), (n, t));
        ctx.flops.loss(n * t);
        ctx.flops.elementwise(1);
        Some(logits.bce_with_logits(labels).mean() * t as f32)
    }

    fn to_host<D: Dev>(out: Mat<D>) -> Vec<f32> {
        out.as_vec()
    }

    fn batch_size(batch: &MultiTaskBatch) -> usize {
        batch.size()
    }
}
