//! The model catalog: name -> constructor, with the paper and what the implementation
//! simplifies. Adding a model = one file in its family folder plus one entry here.

use crate::engine::{Dev, ParamStore};
use crate::layers::EmbeddingStrategy;
use crate::ranking::{Dcnv2, Dcnv2Config, Dnn, DnnConfig, Lr, LrConfig};
use crate::{FeatureSpec, Model};

#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelInfo {
    pub name: &'static str,
    pub family: &'static str,
    /// Citation: authors, title, arXiv id (or venue) and the section implemented.
    pub paper: &'static str,
    pub summary: &'static str,
    /// What this implementation leaves out or changes relative to the paper.
    pub simplifications: &'static str,
    /// Feature kinds the model needs from a task.
    pub needs_sparse: bool,
}

pub const CATALOG: &[ModelInfo] = &[
    ModelInfo {
        name: "lr",
        family: "ranking",
        paper: "Logistic regression (McMahan et al., Ad Click Prediction: a View from the Trenches, KDD 2013)",
        summary: "One weight per sparse id and per dense field, plus a bias.",
        simplifications: "Adam/Adagrad instead of FTRL-Proximal; no L1 sparsity.",
        needs_sparse: true,
    },
    ModelInfo {
        name: "dnn",
        family: "ranking",
        paper: "Embedding + MLP (Covington et al., Deep Neural Networks for YouTube Recommendations, RecSys 2016; the DNN baseline of DIN and DCN)",
        summary: "Field embeddings concatenated with dense features, then a ReLU MLP to one logit.",
        simplifications: "None beyond the usual: no batch norm, no dropout.",
        needs_sparse: true,
    },
    ModelInfo {
        name: "dcnv2",
        family: "ranking",
        paper: "Wang et al., DCN V2: Improved Deep & Cross Network, arXiv 2008.13535, Sec. 3 (stacked structure, Eq. 1)",
        summary: "Full-rank cross layers x_{l+1} = x_0 * (x_l W + b) + x_l, then a ReLU MLP.",
        simplifications: "Stacked structure only; no low-rank mixture of experts (DCN-Mix).",
        needs_sparse: true,
    },
];

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("unknown model `{name}` (known models: {known})")]
    Unknown { name: String, known: String },
    #[error("model `{model}`: bad config: {msg}")]
    BadConfig { model: String, msg: String },
    #[error("model `{model}` needs {needs}, but the task has none")]
    Unsupported { model: String, needs: String },
}

pub fn info(name: &str) -> Option<&'static ModelInfo> {
    CATALOG.iter().find(|m| m.name == name)
}

fn parse<C: serde::de::DeserializeOwned>(
    model: &str,
    config: &serde_json::Value,
) -> Result<C, ModelError> {
    let value = if config.is_null() {
        serde_json::Value::Object(Default::default())
    } else {
        config.clone()
    };
    serde_json::from_value(value).map_err(|e| ModelError::BadConfig {
        model: model.to_string(),
        msg: e.to_string(),
    })
}

fn check_embedding(
    model: &str,
    strategy: &EmbeddingStrategy,
    spec: &FeatureSpec,
    dim: usize,
) -> Result<(), ModelError> {
    strategy
        .check(spec, dim)
        .map_err(|msg| ModelError::BadConfig {
            model: model.to_string(),
            msg,
        })
}

/// Checks that model `name` exists, its `config` parses and the task has the feature
/// kinds it needs, without allocating parameters (for validating a suite up front).
pub fn validate(
    name: &str,
    config: &serde_json::Value,
    spec: &FeatureSpec,
) -> Result<(), ModelError> {
    let info = info(name).ok_or_else(|| ModelError::Unknown {
        name: name.to_string(),
        known: CATALOG
            .iter()
            .map(|m| m.name)
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    if info.needs_sparse && spec.sparse.is_empty() {
        return Err(ModelError::Unsupported {
            model: name.to_string(),
            needs: "sparse (categorical) features".to_string(),
        });
    }
    match name {
        "lr" => parse::<LrConfig>(name, config)
            .and_then(|c| check_embedding(name, &c.embedding, spec, 1)),
        "dnn" => parse::<DnnConfig>(name, config)
            .and_then(|c| check_embedding(name, &c.embedding, spec, c.embedding_dim)),
        "dcnv2" => parse::<Dcnv2Config>(name, config)
            .and_then(|c| check_embedding(name, &c.embedding, spec, c.embedding_dim)),
        _ => unreachable!("catalog entry `{name}` has no config type"),
    }
}

/// Builds model `name` with its JSON `config` (null = defaults), creating its
/// parameters in `store`.
pub fn build<D: Dev>(
    name: &str,
    config: &serde_json::Value,
    spec: &FeatureSpec,
    store: &mut ParamStore<D>,
) -> Result<Box<dyn Model<D>>, ModelError> {
    validate(name, config, spec)?;
    Ok(match name {
        "lr" => Box::new(Lr::new(store, spec, &parse::<LrConfig>(name, config)?)),
        "dnn" => Box::new(Dnn::new(store, spec, &parse::<DnnConfig>(name, config)?)),
        "dcnv2" => Box::new(Dcnv2::new(
            store,
            spec,
            &parse::<Dcnv2Config>(name, config)?,
        )),
        _ => unreachable!("catalog entry `{name}` has no constructor"),
    })
}
