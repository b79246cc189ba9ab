//! PLE (Tang et al., "Progressive Layered Extraction (PLE): A Novel Multi-Task Learning
//! (MTL) Model for Personalized Recommendations", RecSys 2020, Sec. 4.2-4.3):
//!
//! - a CGC level (Eq. 2-4) has `m_s` shared experts and `m_t` experts per task; task
//!   k's gate weighs its own experts and the shared ones,
//!   `g_k(x) = softmax(x_k W_k)`, `x_k' = Σ_j g_k(x)_j E_j(x_k)` (shared experts read
//!   the shared input `x_s`);
//! - stacked levels (Eq. 5): every level but the last also has a shared gate over all
//!   experts, giving the next level's shared input; level 1 reads the embeddings
//!   `x = [e_1 | ... | e_F | x_dense]` everywhere;
//! - each task's tower reads its last-level output: `y_k = h_k(x_k^L)`.
//!
//! With one level it is CGC (Sec. 4.2).

use serde::Deserialize;

use crate::contract::Forward;
use crate::engine::{Ctx, Dev, Init, Mat, ParamStore, Track};
use crate::kinds::multitask::{MultiTask, MultiTaskBatch, MultiTaskSpec};
use crate::kinds::ranking::needs_sparse;
use crate::layers::experts::{fan_out, mix};
use crate::layers::{embed_and_concat, FieldEmbedding, Gate, Mlp, Towers};
use crate::models::defaults::ctr::default_dim;
use crate::models::defaults::multitask::{
    check_tower, check_widths, default_expert_hidden, default_tower,
};
use crate::registry::{ModelInfo, Registered};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PleConfig {
    #[serde(default = "default_dim")]
    pub embedding_dim: usize,
    /// Extraction levels L (1 = CGC).
    #[serde(default = "default_levels")]
    pub levels: usize,
    /// Shared experts per level.
    #[serde(default = "default_shared")]
    pub shared_experts: usize,
    /// Experts of each task per level.
    #[serde(default = "default_specific")]
    pub task_experts: usize,
    /// Hidden widths of each expert (ReLU after each; the last is its output).
    #[serde(default = "default_expert_hidden")]
    pub expert_hidden: Vec<usize>,
    #[serde(default = "default_tower")]
    pub tower: Vec<usize>,
}

fn default_levels() -> usize {
    2
}
fn default_shared() -> usize {
    2
}
fn default_specific() -> usize {
    2
}

impl Default for PleConfig {
    fn default() -> Self {
        PleConfig {
            embedding_dim: default_dim(),
            levels: default_levels(),
            shared_experts: default_shared(),
            task_experts: default_specific(),
            expert_hidden: default_expert_hidden(),
            tower: default_tower(),
        }
    }
}

/// A level's per-task outputs and, below the last level, the next shared input.
type LevelOutput<D, T> = (Vec<Mat<D, T>>, Option<Mat<D, T>>);

/// One extraction level: experts per task and shared, a gate per task, and (all but
/// the last level) a shared gate over every expert.
pub struct Level {
    /// `task[k]`: task k's experts.
    pub task: Vec<Vec<Mlp>>,
    pub shared: Vec<Mlp>,
    pub task_gates: Vec<Gate>,
    pub shared_gate: Option<Gate>,
}

pub struct Ple {
    pub emb: FieldEmbedding,
    pub levels: Vec<Level>,
    pub towers: Towers,
}

impl Ple {
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &MultiTaskSpec, cfg: &PleConfig) -> Self {
        let mut s = store.scope("ple");
        let f = &spec.features;
        let emb = FieldEmbedding::new(
            &mut s.pp("embedding"),
            f,
            cfg.embedding_dim,
            Init::Normal { std: 0.01 },
        );
        let tasks = spec.n_tasks();
        let mut width = f.n_sparse() * cfg.embedding_dim + f.n_dense();
        let out = *cfg.expert_hidden.last().expect("checked: non-empty");
        let mut levels = Vec::with_capacity(cfg.levels);
        for l in 0..cfg.levels {
            let mut level_scope = s.pp("level");
            let mut ls = level_scope.pp(l);
            let expert = |ls: &mut crate::engine::Scope<'_, D>, name: String| {
                Mlp::new(&mut ls.pp(name), width, &cfg.expert_hidden, None)
            };
            let task = (0..tasks)
                .map(|k| {
                    (0..cfg.task_experts)
                        .map(|j| expert(&mut ls, format!("task{k}_expert{j}")))
                        .collect()
                })
                .collect();
            let shared = (0..cfg.shared_experts)
                .map(|j| expert(&mut ls, format!("shared_expert{j}")))
                .collect();
            let per_task = cfg.task_experts + cfg.shared_experts;
            let task_gates = (0..tasks)
                .map(|k| Gate::new(&mut ls.pp(format!("gate{k}")), width, per_task))
                .collect();
            let last = l + 1 == cfg.levels;
            let all = tasks * cfg.task_experts + cfg.shared_experts;
            let shared_gate = (!last).then(|| Gate::new(&mut ls.pp("shared_gate"), width, all));
            levels.push(Level {
                task,
                shared,
                task_gates,
                shared_gate,
            });
            width = out;
        }
        let towers = Towers::new(&mut s.pp("tower"), tasks, out, &cfg.tower);
        Ple {
            emb,
            levels,
            towers,
        }
    }
}

impl Level {
    /// One level: per-task inputs `xs[k]` and the shared input; the per-task outputs
    /// and, when the level has a shared gate, the next shared input.
    fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        xs: Vec<Mat<D, T>>,
        shared_x: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> LevelOutput<D, T> {
        let k = self.task.len();
        let m_t = self.task.first().map_or(0, |e| e.len());
        let m_s = self.shared.len();
        let has_shared_gate = self.shared_gate.is_some();
        // Uses: a task's input feeds its experts and its gate; the shared input feeds
        // the shared experts and the shared gate.
        let mut task_in: Vec<Vec<Mat<D, T>>> =
            xs.into_iter().map(|x| fan_out(x, m_t + 1)).collect();
        let mut shared_in = fan_out(shared_x, m_s + has_shared_gate as usize);
        // A task expert feeds its task's gate (and the shared gate); a shared expert
        // feeds every task's gate (and the shared gate).
        let mut task_out: Vec<Vec<Vec<Mat<D, T>>>> = Vec::with_capacity(k);
        for (t, experts) in self.task.iter().enumerate() {
            let outs = experts
                .iter()
                .map(|e| {
                    let x = task_in[t].pop().expect("an input per expert");
                    fan_out(e.forward(store, x, ctx), 1 + has_shared_gate as usize)
                })
                .collect();
            task_out.push(outs);
        }
        let mut shared_out: Vec<Vec<Mat<D, T>>> = self
            .shared
            .iter()
            .map(|e| {
                let x = shared_in.pop().expect("an input per shared expert");
                fan_out(e.forward(store, x, ctx), k + has_shared_gate as usize)
            })
            .collect();
        let mut outputs = Vec::with_capacity(k);
        for t in 0..k {
            let gate_x = task_in[t].pop().expect("an input for the gate");
            let g = self.task_gates[t].forward(store, gate_x, ctx);
            let mut mine: Vec<Mat<D, T>> = task_out[t]
                .iter_mut()
                .map(|o| o.pop().expect("a use per gate"))
                .collect();
            mine.extend(
                shared_out
                    .iter_mut()
                    .map(|o| o.pop().expect("a use per gate")),
            );
            outputs.push(mix(mine, g, ctx));
        }
        let next_shared = self.shared_gate.as_ref().map(|gate| {
            let g = gate.forward(
                store,
                shared_in.pop().expect("the shared gate's input"),
                ctx,
            );
            let mut all: Vec<Mat<D, T>> = task_out
                .iter_mut()
                .flat_map(|outs| outs.iter_mut().map(|o| o.pop().expect("a use")))
                .collect();
            all.extend(shared_out.iter_mut().map(|o| o.pop().expect("a use")));
            mix(all, g, ctx)
        });
        (outputs, next_shared)
    }
}

impl<D: Dev> Forward<MultiTask, D> for Ple {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &MultiTaskBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let tasks = self.towers.towers.len();
        let x = embed_and_concat::<D, T>(&self.emb, store, &batch.features, ctx);
        let mut copies = fan_out(x, tasks + 1);
        let mut shared = copies.pop().expect("the shared input");
        let mut xs = copies;
        for level in &self.levels {
            let (out, next) = level.forward(store, xs, shared, ctx);
            xs = out;
            match next {
                Some(n) => shared = n,
                None => break,
            }
        }
        self.towers.forward(store, xs, ctx)
    }
}

impl Registered<MultiTask> for Ple {
    type Config = PleConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "ple",
        kind: "multitask",
        paper: "Tang et al., Progressive Layered Extraction (PLE): A Novel Multi-Task Learning (MTL) Model for Personalized Recommendations, RecSys 2020, Sec. 4.2 (CGC, Eq. 2-4) and 4.3 (PLE, Eq. 5)",
        summary: "L extraction levels (config `levels`, default 2; 1 = CGC), each with `shared_experts` (2) shared and `task_experts` (2) task-specific ReLU-MLP experts (`expert_hidden`, [64]); task k's gate softmax(x_k W_k) mixes its own and the shared experts into its next input; every level but the last has a shared gate over all experts giving the next shared input; task towers (`tower`, [32]) read the last level. Trained on the sum over tasks of each task's mean BCE.",
        simplifications: "No dropout or batch normalization; gates without bias; equal task weights in the loss (the paper's dynamic loss weighting of Sec. 4.4, for samples with different feedback spaces, is not used: every example here has every task's label).",
    };

    fn check(cfg: &PleConfig, spec: &MultiTaskSpec) -> Result<(), String> {
        needs_sparse(&spec.features)?;
        spec.check()?;
        if cfg.embedding_dim == 0 || cfg.levels == 0 || cfg.task_experts + cfg.shared_experts == 0 {
            return Err(
                "embedding_dim and levels must be >= 1, and some experts are needed".into(),
            );
        }
        if cfg.task_experts == 0 || cfg.shared_experts == 0 {
            return Err(
                "task_experts and shared_experts must be >= 1 (without either PLE is another model)"
                    .into(),
            );
        }
        check_widths("expert_hidden", &cfg.expert_hidden)?;
        check_tower(&cfg.tower)
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &MultiTaskSpec,
        cfg: &PleConfig,
    ) -> Result<Self, String> {
        Ok(Ple::new(store, spec, cfg))
    }
}
