//! PCF-GNN's graph and network (Li et al., SIGIR 2021, arXiv 2105.07752, Sec. 3.1-3.3),
//! used by `pcf_dnn`:
//!
//! - [`PairGraph`]: nodes are the ids of two sparse fields (field a's ids first, then
//!   field b's); an edge joins u and v when they co-occur in a training row, with count
//!   c_uv and positive rate a_uv ([`crate::PairStats`]). Each node keeps at most
//!   `fanout` neighbours, chosen deterministically (largest c_uv first, ties by node).
//! - [`Gnn`]: `h^0` a learnable node embedding (`h0`, nodes x d); K rounds of
//!   `h^k_i = ReLU([h^{k-1}_i || mean_{j in N(i)} h^{k-1}_j] W^k)` (`w1`, `w2`:
//!   2d x d); the CrossNet logit `p_uv = dot(h^K_u, h^K_v)`.
//! - The pre-training loss `mean_uv w_uv (p_uv - a_uv)^2`, `w_uv = log(1 + c_uv)`
//!   ([`weighted_sq_loss`], [`pair_weight`]), over the training pairs only: the
//!   CrossNet regresses the pair's rate itself (the spec's `Σ w (p - a)^2`; `h^K >= 0`
//!   after the ReLU, so `p_uv >= 0` as a rate is).

use dfdx::prelude::*;

use crate::contract::Loss;
use crate::engine::{Ctx, Dev, Init, Mat, MatId, ParamStore, Scope, Track};
use crate::PairStat;

/// `mean_i w_i (p_i - a_i)^2` over the pairs, with `p` the CrossNet outputs, `a` the
/// pair positive rates and `w` the weights. With all `w = 1` it is the plain MSE of
/// `p` against `a`.
pub fn weighted_sq_loss<D: Dev, T: Tape<f32, D>>(
    p: Tensor<(usize,), f32, D, T>,
    a: Tensor<(usize,), f32, D>,
    w: Tensor<(usize,), f32, D>,
) -> Tensor<Rank0, f32, D, T> {
    ((p - a).square() * w).mean()
}

/// The pre-training weight of a pair seen `count` times: `log(1 + c_uv)`.
pub fn pair_weight(count: u32) -> f32 {
    (1.0 + count as f32).ln()
}

/// The bipartite graph of the training pairs, host-resident, in the layout the GNN
/// gathers from.
#[derive(Debug, Clone)]
pub struct PairGraph {
    /// Nodes: `vocab_a + vocab_b`.
    pub nodes: usize,
    pub vocab_a: u32,
    pub fanout: usize,
    /// `nodes x fanout` neighbour node indices (padding slots: node 0).
    pub neighbours: Vec<usize>,
    /// `nodes x fanout` mean weights: `1 / |N(i)|` per kept neighbour, 0 for padding.
    pub mean_weights: Vec<f32>,
    /// Per training pair: node of u, node of v, positive rate a_uv, weight w_uv.
    pub u: Vec<usize>,
    pub v: Vec<usize>,
    pub rates: Vec<f32>,
    pub weights: Vec<f32>,
}

impl PairGraph {
    pub fn new(pairs: &[PairStat], vocab_a: u32, vocab_b: u32, fanout: usize) -> Self {
        let nodes = (vocab_a + vocab_b) as usize;
        let node_b = |b: u32| (vocab_a + b) as usize;
        let mut adj: Vec<Vec<(u32, usize)>> = vec![Vec::new(); nodes];
        for p in pairs {
            adj[p.a as usize].push((p.count, node_b(p.b)));
            adj[node_b(p.b)].push((p.count, p.a as usize));
        }
        let mut neighbours = Vec::with_capacity(nodes * fanout);
        let mut mean_weights = Vec::with_capacity(nodes * fanout);
        for list in &mut adj {
            list.sort_by_key(|&(c, j)| (std::cmp::Reverse(c), j));
            let k = list.len().min(fanout);
            neighbours.extend(list[..k].iter().map(|&(_, j)| j));
            mean_weights.extend(std::iter::repeat_n(1.0 / k.max(1) as f32, k));
            neighbours.extend(std::iter::repeat_n(0, fanout - k));
            mean_weights.extend(std::iter::repeat_n(0.0, fanout - k));
        }
        PairGraph {
            nodes,
            vocab_a,
            fanout,
            neighbours,
            mean_weights,
            u: pairs.iter().map(|p| p.a as usize).collect(),
            v: pairs.iter().map(|p| node_b(p.b)).collect(),
            rates: pairs.iter().map(|p| p.rate()).collect(),
            weights: pairs.iter().map(|p| pair_weight(p.count)).collect(),
        }
    }

    /// Training pairs.
    pub fn pairs(&self) -> usize {
        self.u.len()
    }

    /// The node of id `v` of field b.
    pub fn node_b(&self, v: u32) -> usize {
        (self.vocab_a + v) as usize
    }
}

/// The GNN's parameters: `h^0` and one `W^k` per round, all in the parameter store.
#[derive(Debug, Clone)]
pub struct Gnn {
    pub h0: MatId,
    pub w: Vec<MatId>,
    pub dim: usize,
}

impl Gnn {
    /// `h0` ~ N(0, 0.1²) (nodes x d) and Xavier-uniform `w1..wK` (2d x d).
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, nodes: usize, dim: usize, layers: usize) -> Self {
        let h0 = s.mat("h0", nodes, dim, Init::Normal { std: 0.1 });
        let w = (1..=layers)
            .map(|k| {
                let init = Init::XavierUniform {
                    fan_in: 2 * dim,
                    fan_out: dim,
                };
                s.mat(&format!("w{k}"), 2 * dim, dim, init)
            })
            .collect();
        Gnn { h0, w, dim }
    }

    /// `h^K` of every node (nodes x d).
    pub fn propagate<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        graph: &PairGraph,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let (n, f, d) = (graph.nodes, graph.fanout, self.dim);
        let dev = store.dev();
        let nbr = dev.tensor_from_vec(graph.neighbours.clone(), (n * f,));
        let mean = dev
            .tensor_from_vec(graph.mean_weights.clone(), (n, f))
            .broadcast_like::<_, Axis<2>>(&(n, f, d));
        let mut h: Mat<D, T> = store.mat(self.h0).retaped::<T>();
        for &wk in &self.w {
            ctx.flops.gather(n * f, d);
            ctx.flops.elementwise(n * f * d);
            ctx.flops.reduce(n * f * d);
            let nb = h
                .retaped::<T>()
                .gather(nbr.clone())
                .reshape_like(&(n, f, d));
            let m = (nb * mean.clone()).sum::<(usize, usize), Axis<1>>();
            ctx.flops.copy(n * 2 * d);
            ctx.flops.matmul(n, 2 * d, d);
            ctx.flops.activation(n * d);
            h = (h, m)
                .concat_along(Axis::<1>)
                .matmul(store.mat(wk).retaped::<T>())
                .relu();
        }
        h
    }

    /// The weighted pre-training loss over the graph's training pairs.
    pub fn pretrain_loss<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        graph: &PairGraph,
        ctx: &mut Ctx<D>,
    ) -> Loss<D, T> {
        let (m, d) = (graph.pairs(), self.dim);
        let dev = store.dev();
        let h = self.propagate::<D, T>(store, graph, ctx);
        let us = dev.tensor_from_vec(graph.u.clone(), (m,));
        let vs = dev.tensor_from_vec(graph.v.clone(), (m,));
        ctx.flops.gather(2 * m, d);
        ctx.flops.elementwise(m * d);
        ctx.flops.reduce(m * d);
        let hu = h.retaped::<T>().gather(us);
        let p = (hu * h.gather(vs)).sum::<(usize,), Axis<1>>();
        // difference, square, weight (three elementwise ops) and the mean.
        ctx.flops.elementwise(3 * m);
        ctx.flops.reduce(m);
        let a = dev.tensor_from_vec(graph.rates.clone(), (m,));
        let w = dev.tensor_from_vec(graph.weights.clone(), (m,));
        weighted_sq_loss(p, a, w)
    }
}

/// The frozen `h^K` table on the host, and the CrossNet output it gives.
#[derive(Debug, Clone, PartialEq)]
pub struct FrozenNodes {
    /// `nodes x dim`, row-major.
    pub h: Vec<f32>,
    pub dim: usize,
}

impl FrozenNodes {
    /// `p_uv = dot(h^K_u, h^K_v)` for node `u` of field a and node `v` of field b.
    pub fn cross(&self, u: usize, v: usize) -> f32 {
        let d = self.dim;
        let (hu, hv) = (&self.h[u * d..(u + 1) * d], &self.h[v * d..(v + 1) * d]);
        hu.iter().zip(hv).map(|(x, y)| x * y).sum()
    }
}
