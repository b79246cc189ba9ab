//! Defaults and checks that several models' configs share, so no model imports them
//! from another model's file.

/// The CTR models' embedding-and-MLP defaults (DNN and the models built on it).
pub(crate) mod ctr {
    /// Embedding width per field.
    pub(crate) fn default_dim() -> usize {
        16
    }
    /// Hidden widths of the MLP.
    pub(crate) fn default_hidden() -> Vec<usize> {
        vec![128, 64]
    }
    /// The field pair of pair-statistics models (PCF-GNN, the statistics table).
    pub(crate) fn default_fields() -> [String; 2] {
        ["user_id".into(), "item_id".into()]
    }
}

/// The multi-task models' defaults (shared-bottom, MMoE).
pub(crate) mod multitask {
    /// Hidden widths of each task's tower (before its logit).
    pub(crate) fn default_tower() -> Vec<usize> {
        vec![32]
    }
    /// Experts of a mixture.
    pub(crate) fn default_experts() -> usize {
        4
    }
    /// Hidden widths of each expert (its last width is the expert's output).
    pub(crate) fn default_expert_hidden() -> Vec<usize> {
        vec![64]
    }
    /// Tower widths, none of them zero (empty: a tower is its output layer).
    pub(crate) fn check_tower(widths: &[usize]) -> Result<(), String> {
        match widths.contains(&0) {
            true => Err(format!("tower widths must be positive, got {widths:?}")),
            false => Ok(()),
        }
    }
    /// Non-empty widths, none of them zero.
    pub(crate) fn check_widths(name: &str, widths: &[usize]) -> Result<(), String> {
        if widths.is_empty() || widths.contains(&0) {
            return Err(format!(
                "{name} must be non-empty positive widths, got {widths:?}"
            ));
        }
        Ok(())
    }
}

/// The transformer models' defaults and width check (SASRec, HSTU, KuaiFormer, the
/// generative rankers, LUM).
pub(crate) mod transformer {
    /// Embedding and hidden width d.
    pub(crate) fn default_dim() -> usize {
        64
    }
    /// Dropout on embeddings, attention output and FFN (training only).
    pub(crate) fn default_dropout() -> f32 {
        0.2
    }
    /// `dim` positive and divisible by `heads`, `dropout` in [0, 1).
    pub(crate) fn check_width(dim: usize, heads: usize, dropout: f32) -> Result<(), String> {
        if dim == 0 || dim.checked_rem(heads) != Some(0) {
            return Err(format!(
                "dim ({dim}) must be positive and divisible by heads ({heads})"
            ));
        }
        if !(0.0..1.0).contains(&dropout) {
            return Err(format!("dropout must be in [0, 1), got {dropout}"));
        }
        Ok(())
    }
}
