//! LUM's configuration (`lum`), shared by the model and its pre-trained backbone
//! (`lum_backbone`), so neither imports the other for it.

use serde::Deserialize;

use crate::models::defaults::transformer::check_width;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LumConfig {
    /// Backbone width d (condition and item embeddings, transformer).
    #[serde(default = "default_dim")]
    pub dim: usize,
    #[serde(default = "default_heads")]
    pub heads: usize,
    #[serde(default = "default_blocks")]
    pub blocks: usize,
    /// SwiGLU hidden width as a multiple of d.
    #[serde(default = "default_ffn_mult")]
    pub ffn_mult: usize,
    /// Backbone dropout during pre-training (the frozen backbone runs without).
    #[serde(default = "default_dropout")]
    pub dropout: f32,
    /// InfoNCE temperature τ of step 1.
    #[serde(default = "default_temperature")]
    pub temperature: f32,
    /// Epochs of step 1 before ranking training (0 = a random frozen backbone).
    #[serde(default = "default_pretrain_epochs")]
    pub pretrain_epochs: usize,
    /// Width of the DLRM's own candidate embedding.
    #[serde(default = "default_dlrm_dim")]
    pub dlrm_dim: usize,
    /// Hidden widths of the DLRM's MLP.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Whether the DLRM gets LUM's interests and similarities (false = DLRM alone).
    #[serde(default = "default_interests")]
    pub interests: bool,
}

fn default_dim() -> usize {
    64
}
fn default_heads() -> usize {
    4
}
fn default_blocks() -> usize {
    2
}
fn default_ffn_mult() -> usize {
    2
}
fn default_dropout() -> f32 {
    0.1
}
fn default_temperature() -> f32 {
    1.0
}
fn default_pretrain_epochs() -> usize {
    3
}
fn default_dlrm_dim() -> usize {
    32
}
fn default_hidden() -> Vec<usize> {
    vec![64]
}
fn default_interests() -> bool {
    true
}

impl LumConfig {
    pub fn check(&self) -> Result<(), String> {
        check_width(self.dim, self.heads, self.dropout)?;
        if self.blocks == 0 || self.ffn_mult == 0 || self.dlrm_dim == 0 {
            return Err("blocks, ffn_mult and dlrm_dim must be at least 1".into());
        }
        if self.hidden.contains(&0) {
            return Err("hidden widths must be positive".into());
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(format!(
                "temperature must be positive, got {}",
                self.temperature
            ));
        }
        Ok(())
    }
}
