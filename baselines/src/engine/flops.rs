//! Forward FLOP counter. Each layer adds what it actually ran for the batch shape, by
//! kind, so a model's FLOPs/example is the sum of its ops rather than a guess from its
//! parameter count. Conventions: a multiply-add is 2 FLOPs; an elementwise op, an
//! activation or a copied embedding value is 1 per element.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Flops {
    by_kind: BTreeMap<&'static str, u64>,
}

impl Flops {
    pub fn add(&mut self, kind: &'static str, flops: u64) {
        *self.by_kind.entry(kind).or_default() += flops;
    }
    pub fn total(&self) -> u64 {
        self.by_kind.values().sum()
    }
    pub fn by_kind(&self) -> &BTreeMap<&'static str, u64> {
        &self.by_kind
    }
    /// `x[n, k] @ w[k, m]`.
    pub fn matmul(&mut self, n: usize, k: usize, m: usize) {
        self.add("matmul", 2 * (n * k * m) as u64);
    }
    pub fn elementwise(&mut self, elements: usize) {
        self.add("elementwise", elements as u64);
    }
    pub fn activation(&mut self, elements: usize) {
        self.add("activation", elements as u64);
    }
    pub fn gather(&mut self, rows: usize, dim: usize) {
        self.add("embedding", (rows * dim) as u64);
    }
    pub fn reduce(&mut self, elements: usize) {
        self.add("reduce", elements as u64);
    }
}
