//! HoME (Wang et al., "HoME: Hierarchy of Multi-Gate Experts for Multi-Task Learning at
//! Kuaishou", arXiv 2408.05430, Sec. 3-4): MMoE-style experts with three fixes for the
//! anomalies the paper observes (collapsed, degraded and underfitted experts):
//!
//! - **Expert normalization** (`expert_norm`): an expert is `Swish(BN(v W + b))` instead
//!   of `ReLU(v W + b)`, aligning the experts' output distributions.
//! - **Hierarchy mask** (`hierarchy`), tasks grouped into meta-categories (the spec's
//!   categories, e.g. passive watch signals vs interactions):
//!   - level 1 reads the embeddings `v`: shared meta experts and each category's
//!     experts; category c's gate mixes the shared and c's experts into `z_c`, a global
//!     gate mixes all of them into `z_g`;
//!   - level 2, for task t of category c: global experts read `z_g`, category c's shared
//!     experts and t's own experts read `z_c`; t's gate (input `[z_g | z_c]`) mixes
//!     exactly those, which is the mask; then t's tower.
//!
//!   Without it, one level: task t's gate (input `v`) mixes t's own experts and global
//!   experts, all reading `v` (CGC's layout).
//! - **Feature-gate and self-gate** (`gates`):
//!   - every expert reads a private view of its input, `v ⊙ 2 σ(v B A)` with rank-r
//!     `B` (zero at initialization, so the gate is exactly 1 then) and `A`;
//!   - every gated mixture adds a residual over the owner's own experts (category c's
//!     at level 1, the shared meta experts for level 1's global mixture, task t's at
//!     level 2) weighted by a self-gate: a sigmoid for one own expert, a softmax
//!     otherwise.
//!
//! The paper's text past its abstract was not available; the equations follow the
//! spec and third-party reproductions (see `INFO.simplifications`).

use dfdx::prelude::*;
use serde::Deserialize;

use crate::contract::Forward;
use crate::engine::{Ctx, Dev, Init, Mat, MatId, ParamStore, Scope, Track};
use crate::kinds::multitask::{MultiTask, MultiTaskBatch, MultiTaskSpec};
use crate::kinds::ranking::needs_sparse;
use crate::layers::activation::silu;
use crate::layers::experts::{fan_out, mix};
use crate::layers::{embed_and_concat, BatchNorm, FieldEmbedding, Gate, Linear, Towers};
use crate::models::defaults::ctr::default_dim;
use crate::models::defaults::multitask::{check_tower, default_tower};
use crate::registry::{ModelInfo, Registered};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomeConfig {
    #[serde(default = "default_dim")]
    pub embedding_dim: usize,
    /// Output width of every expert.
    #[serde(default = "default_expert_dim")]
    pub expert_dim: usize,
    /// Level 1: shared meta experts, and experts per category.
    #[serde(default = "two")]
    pub meta_shared_experts: usize,
    #[serde(default = "two")]
    pub meta_category_experts: usize,
    /// Level 2: global experts, shared experts per category, and experts per task.
    /// Without the hierarchy the one level has `meta_shared_experts` global experts and
    /// `task_experts` per task.
    #[serde(default = "one")]
    pub global_experts: usize,
    #[serde(default = "one")]
    pub category_experts: usize,
    #[serde(default = "one")]
    pub task_experts: usize,
    /// Rank r of the feature-gates.
    #[serde(default = "default_rank")]
    pub gate_rank: usize,
    #[serde(default = "default_tower")]
    pub tower: Vec<usize>,
    /// The three fixes (ablations turn one off).
    #[serde(default = "yes")]
    pub expert_norm: bool,
    #[serde(default = "yes")]
    pub hierarchy: bool,
    #[serde(default = "yes")]
    pub gates: bool,
}

fn default_expert_dim() -> usize {
    64
}
fn default_rank() -> usize {
    8
}
fn one() -> usize {
    1
}
fn two() -> usize {
    2
}
fn yes() -> bool {
    true
}

impl Default for HomeConfig {
    fn default() -> Self {
        serde_json::from_value(serde_json::json!({})).expect("defaults")
    }
}

/// An expert: a linear map of its (feature-gated) input, then `Swish(BN(.))` or ReLU.
pub struct Expert {
    /// `(B, A)`: `v ⊙ 2 σ(v B A)`, `B` zero at initialization.
    pub feature_gate: Option<(MatId, MatId)>,
    pub linear: Linear,
    pub norm: Option<BatchNorm>,
    pub inp: usize,
}

impl Expert {
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, inp: usize, cfg: &HomeConfig) -> Self {
        let feature_gate = cfg.gates.then(|| {
            let b = s.mat("gate_b", inp, cfg.gate_rank, Init::Zeros);
            let init = Init::XavierUniform {
                fan_in: cfg.gate_rank,
                fan_out: inp,
            };
            (b, s.mat("gate_a", cfg.gate_rank, inp, init))
        });
        Expert {
            feature_gate,
            linear: Linear::new(&mut s.pp("linear"), inp, cfg.expert_dim),
            norm: cfg
                .expert_norm
                .then(|| BatchNorm::new(&mut s.pp("bn"), cfg.expert_dim)),
            inp,
        }
    }

    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        v: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let n = v.shape().0;
        let x = match self.feature_gate {
            Some((b, a)) => {
                let r = store.mat(b).shape().1;
                ctx.flops.matmul(n, self.inp, r);
                ctx.flops.matmul(n, r, self.inp);
                ctx.flops.activation(n * self.inp);
                ctx.flops.elementwise(2 * n * self.inp);
                let low = v
                    .retaped::<T>()
                    .matmul(store.mat(b).retaped::<T>())
                    .matmul(store.mat(a).retaped::<T>());
                v * (low.sigmoid() * 2.0)
            }
            None => v,
        };
        let h = self.linear.forward(store, x, ctx);
        match &self.norm {
            Some(bn) => silu(bn.forward(store, h, ctx), ctx),
            None => {
                ctx.flops.activation(h.shape().num_elements());
                h.relu()
            }
        }
    }
}

/// The self-gate over an owner's own experts: `σ(x w)` for one expert, `softmax(x W)`
/// otherwise.
pub struct SelfGate {
    pub gate: Gate,
}

impl SelfGate {
    fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        x: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        if self.gate.experts > 1 {
            return self.gate.forward(store, x, ctx);
        }
        let n = x.shape().0;
        ctx.flops.matmul(n, self.gate.inp, 1);
        ctx.flops.activation(n);
        x.matmul(store.mat(self.gate.w).retaped::<T>()).sigmoid()
    }
}

/// A gated mixture: a gate over a list of experts (indices into a pool) and, with the
/// self-gates, a residual over the owner's own experts.
pub struct Mixer {
    pub gate: Gate,
    pub experts: Vec<usize>,
    pub self_gate: Option<(SelfGate, Vec<usize>)>,
}

impl Mixer {
    fn new<D: Dev>(
        s: &mut Scope<'_, D>,
        inp: usize,
        experts: Vec<usize>,
        own: Vec<usize>,
        gates: bool,
    ) -> Self {
        let gate = Gate::new(&mut s.pp("gate"), inp, experts.len());
        let self_gate = (gates && !own.is_empty()).then(|| {
            let g = Gate::new(&mut s.pp("self_gate"), inp, own.len());
            (SelfGate { gate: g }, own)
        });
        Mixer {
            gate,
            experts,
            self_gate,
        }
    }

    /// Uses of each pool expert this mixer makes (added to `uses`).
    fn count(&self, uses: &mut [usize]) {
        for &e in &self.experts {
            uses[e] += 1;
        }
        if let Some((_, own)) = &self.self_gate {
            for &e in own {
                uses[e] += 1;
            }
        }
    }

    /// Gate inputs this mixer reads: one, or two with a self-gate.
    fn inputs(&self) -> usize {
        1 + self.self_gate.is_some() as usize
    }

    fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        pool: &mut [Vec<Mat<D, T>>],
        xs: &mut Vec<Mat<D, T>>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let take = |pool: &mut [Vec<Mat<D, T>>], e: usize| pool[e].pop().expect("a use");
        let g = self
            .gate
            .forward(store, xs.pop().expect("a gate input"), ctx);
        let chosen = self.experts.iter().map(|&e| take(pool, e)).collect();
        let out = mix(chosen, g, ctx);
        match &self.self_gate {
            None => out,
            Some((sg, own)) => {
                let w = sg.forward(store, xs.pop().expect("a self-gate input"), ctx);
                let mine = own.iter().map(|&e| take(pool, e)).collect();
                let (n, h) = *out.shape();
                ctx.flops.elementwise(n * h);
                out + mix(mine, w, ctx)
            }
        }
    }
}

/// One level: experts (each reading one of the level's inputs) and mixers (each with
/// its gate input).
pub struct Level {
    pub experts: Vec<Expert>,
    /// Which level input each expert reads.
    pub expert_input: Vec<usize>,
    pub mixers: Vec<Mixer>,
    /// Which gate input each mixer reads.
    pub mixer_input: Vec<usize>,
}

impl Level {
    /// The mixers' outputs, in order, from the level's inputs.
    fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        inputs: Vec<Mat<D, T>>,
        gate_inputs: Vec<Mat<D, T>>,
        ctx: &mut Ctx<D>,
    ) -> Vec<Mat<D, T>> {
        // Every value must have a use (`fan_out` asserts it): an unused one would drop
        // the tape it carries. The config checks make every expert and input used.
        let fan = |xs: Vec<Mat<D, T>>, uses: Vec<usize>| -> Vec<Vec<Mat<D, T>>> {
            xs.into_iter()
                .zip(uses)
                .map(|(x, u)| fan_out(x, u))
                .collect()
        };
        let mut input_uses = vec![0; inputs.len()];
        for &i in &self.expert_input {
            input_uses[i] += 1;
        }
        let mut gate_uses = vec![0; gate_inputs.len()];
        for (m, &i) in self.mixers.iter().zip(&self.mixer_input) {
            gate_uses[i] += m.inputs();
        }
        let mut ins = fan(inputs, input_uses);
        let mut gins = fan(gate_inputs, gate_uses);
        let mut uses = vec![0; self.experts.len()];
        for m in &self.mixers {
            m.count(&mut uses);
        }
        let mut pool: Vec<Vec<Mat<D, T>>> = self
            .experts
            .iter()
            .zip(&self.expert_input)
            .zip(&uses)
            .map(|((e, &i), &u)| {
                let x = ins[i].pop().expect("an input per expert");
                fan_out(e.forward(store, x, ctx), u)
            })
            .collect();
        self.mixers
            .iter()
            .zip(&self.mixer_input)
            .map(|(m, &i)| {
                let mut xs: Vec<Mat<D, T>> = (0..m.inputs())
                    .map(|_| gins[i].pop().expect("a gate input"))
                    .collect();
                m.forward(store, &mut pool, &mut xs, ctx)
            })
            .collect()
    }
}

pub struct Home {
    pub emb: FieldEmbedding,
    /// With the hierarchy: level 1 (mixers: each category, then global) and level 2
    /// (mixers: each task); without: one level (mixers: each task).
    pub levels: Vec<Level>,
    pub towers: Towers,
    pub category_of: Vec<usize>,
}

impl Home {
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &MultiTaskSpec, cfg: &HomeConfig) -> Self {
        let mut s = store.scope("home");
        let f = &spec.features;
        let emb = FieldEmbedding::new(
            &mut s.pp("embedding"),
            f,
            cfg.embedding_dim,
            Init::Normal { std: 0.01 },
        );
        let w = f.n_sparse() * cfg.embedding_dim + f.n_dense();
        let h = cfg.expert_dim;
        let (tasks, cats) = (spec.n_tasks(), spec.categories.len());
        let levels = if cfg.hierarchy {
            vec![
                level_one(&mut s.pp("level1"), w, cats, cfg),
                level_two(&mut s.pp("level2"), h, &spec.category_of, cats, cfg),
            ]
        } else {
            vec![flat(&mut s.pp("flat"), w, tasks, cfg)]
        };
        let towers = Towers::new(&mut s.pp("tower"), tasks, h, &cfg.tower);
        Home {
            emb,
            levels,
            towers,
            category_of: spec.category_of.clone(),
        }
    }
}

/// Level 1: shared meta experts (0..m_g) and each category's (after them); mixers: one
/// per category (its experts and the shared ones; self-gate on its own), then a global
/// one over all. Every expert and gate reads input 0, `v`.
fn level_one<D: Dev>(s: &mut Scope<'_, D>, w: usize, cats: usize, cfg: &HomeConfig) -> Level {
    let (m_g, m_c) = (cfg.meta_shared_experts, cfg.meta_category_experts);
    let mut experts = Vec::new();
    for j in 0..m_g {
        experts.push(Expert::new(&mut s.pp(format!("shared{j}")), w, cfg));
    }
    for c in 0..cats {
        for j in 0..m_c {
            experts.push(Expert::new(
                &mut s.pp(format!("category{c}_expert{j}")),
                w,
                cfg,
            ));
        }
    }
    let shared: Vec<usize> = (0..m_g).collect();
    let own = |c: usize| -> Vec<usize> { (m_g + c * m_c..m_g + (c + 1) * m_c).collect() };
    let mut mixers: Vec<Mixer> = (0..cats)
        .map(|c| {
            let allowed = shared.iter().copied().chain(own(c)).collect();
            Mixer::new(
                &mut s.pp(format!("category{c}")),
                w,
                allowed,
                own(c),
                cfg.gates,
            )
        })
        .collect();
    let all = (0..experts.len()).collect();
    mixers.push(Mixer::new(&mut s.pp("global"), w, all, shared, cfg.gates));
    let n = experts.len();
    Level {
        experts,
        expert_input: vec![0; n],
        mixer_input: vec![0; cats + 1],
        mixers,
    }
}

/// Level 2: inputs are `z_c` for each category (0..cats) and `z_g` (cats); gate inputs
/// are `[z_g | z_c]` per category. Experts: global ones (reading `z_g`), then each
/// category's shared ones and each task's own (reading `z_c`). Task t's mixer: its own,
/// its category's and the global experts; self-gate on its own.
fn level_two<D: Dev>(
    s: &mut Scope<'_, D>,
    h: usize,
    category_of: &[usize],
    cats: usize,
    cfg: &HomeConfig,
) -> Level {
    let (m_g, m_c, m_t) = (cfg.global_experts, cfg.category_experts, cfg.task_experts);
    let mut experts = Vec::new();
    let mut expert_input = Vec::new();
    for j in 0..m_g {
        experts.push(Expert::new(&mut s.pp(format!("global{j}")), h, cfg));
        expert_input.push(cats);
    }
    for c in 0..cats {
        for j in 0..m_c {
            experts.push(Expert::new(
                &mut s.pp(format!("category{c}_expert{j}")),
                h,
                cfg,
            ));
            expert_input.push(c);
        }
    }
    for (t, &c) in category_of.iter().enumerate() {
        for j in 0..m_t {
            experts.push(Expert::new(&mut s.pp(format!("task{t}_expert{j}")), h, cfg));
            expert_input.push(c);
        }
    }
    let global: Vec<usize> = (0..m_g).collect();
    let category = |c: usize| -> Vec<usize> { (m_g + c * m_c..m_g + (c + 1) * m_c).collect() };
    let base = m_g + cats * m_c;
    let own = |t: usize| -> Vec<usize> { (base + t * m_t..base + (t + 1) * m_t).collect() };
    let mixers = category_of
        .iter()
        .enumerate()
        .map(|(t, &c)| {
            let allowed = own(t)
                .into_iter()
                .chain(category(c))
                .chain(global.clone())
                .collect();
            Mixer::new(
                &mut s.pp(format!("task{t}")),
                2 * h,
                allowed,
                own(t),
                cfg.gates,
            )
        })
        .collect();
    Level {
        experts,
        expert_input,
        mixer_input: category_of.to_vec(),
        mixers,
    }
}

/// Without the hierarchy: global experts and each task's own, all reading `v`; task
/// t's mixer over its own and the global experts (self-gate on its own).
fn flat<D: Dev>(s: &mut Scope<'_, D>, w: usize, tasks: usize, cfg: &HomeConfig) -> Level {
    let (m_g, m_t) = (cfg.meta_shared_experts, cfg.task_experts);
    let mut experts = Vec::new();
    for j in 0..m_g {
        experts.push(Expert::new(&mut s.pp(format!("global{j}")), w, cfg));
    }
    for t in 0..tasks {
        for j in 0..m_t {
            experts.push(Expert::new(&mut s.pp(format!("task{t}_expert{j}")), w, cfg));
        }
    }
    let own = |t: usize| -> Vec<usize> { (m_g + t * m_t..m_g + (t + 1) * m_t).collect() };
    let mixers = (0..tasks)
        .map(|t| {
            let allowed = own(t).into_iter().chain(0..m_g).collect();
            Mixer::new(&mut s.pp(format!("task{t}")), w, allowed, own(t), cfg.gates)
        })
        .collect();
    let n = experts.len();
    Level {
        experts,
        expert_input: vec![0; n],
        mixer_input: vec![0; tasks],
        mixers,
    }
}

impl<D: Dev> Forward<MultiTask, D> for Home {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &MultiTaskBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let v = embed_and_concat::<D, T>(&self.emb, store, &batch.features, ctx);
        let n = v.shape().0;
        let task_inputs = if self.levels.len() == 1 {
            let mut copies = fan_out(v, 2);
            let gate_in = copies.pop().expect("two copies");
            self.levels[0].forward(store, copies, vec![gate_in], ctx)
        } else {
            let mut copies = fan_out(v, 2);
            let gate_in = copies.pop().expect("two copies");
            let mut meta = self.levels[0].forward(store, copies, vec![gate_in], ctx);
            let z_g = meta.pop().expect("the global meta representation");
            let cats = meta.len();
            // Gate inputs [z_g | z_c]: z_g once per category and once as the global
            // experts' input; each z_c as its experts' input and in its gate input.
            let mut g = fan_out(z_g, cats + 1);
            let mut zs: Vec<Vec<Mat<D, T>>> = meta.into_iter().map(|z| fan_out(z, 2)).collect();
            let h = zs.first().map_or(0, |z| z[0].shape().1);
            let gate_inputs: Vec<Mat<D, T>> = zs
                .iter_mut()
                .map(|z| {
                    ctx.flops.copy(n * 2 * h);
                    (g.pop().expect("z_g"), z.pop().expect("z_c")).concat_along(Axis::<1>)
                })
                .collect();
            let mut inputs: Vec<Mat<D, T>> =
                zs.into_iter().map(|mut z| z.pop().expect("z_c")).collect();
            inputs.push(g.pop().expect("z_g for the global experts"));
            self.levels[1].forward(store, inputs, gate_inputs, ctx)
        };
        self.towers.forward(store, task_inputs, ctx)
    }
}

impl Registered<MultiTask> for Home {
    type Config = HomeConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "home",
        kind: "multitask",
        paper: "Wang et al., HoME: Hierarchy of Multi-Gate Experts for Multi-Task Learning at Kuaishou, arXiv 2408.05430, Sec. 3 (expert collapse, degradation, underfitting) and Sec. 4 (expert normalization and Swish, hierarchy mask, feature-gate, self-gate)",
        summary: "Experts Swish(BN(v W + b)) (`expert_norm`); a two-level hierarchy over the task categories (`hierarchy`): level 1 mixes shared meta experts and each category's experts into z_c per category and z_g over all; level 2 gives task t (category c) its own, c's shared and global experts, reading z_c, z_c and z_g, mixed by t's gate on [z_g | z_c], then t's tower; feature-gates v ⊙ 2σ(v B A), rank `gate_rank` (8), B zero at init so the gate starts at 1, and self-gates adding a residual over an owner's own experts (sigmoid for one, softmax for several) (`gates`). Defaults: 2 shared meta and 2 per-category experts, 1 global, 1 per-category and 1 per-task expert at level 2, expert width 64, towers [32]. The three flags turn off one fix each (ablations).",
        simplifications: "The paper's text past its abstract was not available: the level structure, the gate inputs ([z_g | z_c] at level 2), the self-gate's residual form and which feature-gate matrix starts at zero follow the spec and third-party KuaiRand reproductions, not the paper; one linear layer per expert; batch-norm running statistics with momentum 0.1; without the hierarchy the model is one CGC-like level (task and global experts on v); equal task weights; no dropout.",
    };

    fn check(cfg: &HomeConfig, spec: &MultiTaskSpec) -> Result<(), String> {
        needs_sparse(&spec.features)?;
        spec.check()?;
        if cfg.embedding_dim == 0 || cfg.expert_dim == 0 || cfg.gate_rank == 0 {
            return Err("embedding_dim, expert_dim and gate_rank must be >= 1".into());
        }
        if cfg.task_experts == 0 || cfg.meta_shared_experts == 0 {
            return Err("task_experts and meta_shared_experts must be >= 1".into());
        }
        if cfg.hierarchy && (cfg.meta_category_experts == 0 || cfg.global_experts == 0) {
            return Err(
                "with the hierarchy, meta_category_experts and global_experts must be >= 1".into(),
            );
        }
        check_tower(&cfg.tower)
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &MultiTaskSpec,
        cfg: &HomeConfig,
    ) -> Result<Self, String> {
        Ok(Home::new(store, spec, cfg))
    }
}
