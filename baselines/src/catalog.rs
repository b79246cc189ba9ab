//! The model catalog: name -> constructor, with the paper and what the implementation
//! simplifies. Adding a model = one file in its family folder plus one entry here.

use crate::engine::{Dev, ParamStore};
use crate::layers::EmbeddingStrategy;
use crate::ranking::{
    AmtlDnn, AmtlDnnConfig, ApgDcnv2, ApgDcnv2Config, ApgDnn, ApgDnnConfig, Dcnv2, Dcnv2Config,
    Dnn, DnnConfig, Lr, LrConfig, PcfDnn, PcfDnnConfig, StatsDnn, StatsDnnConfig,
};
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
    ModelInfo {
        name: "apg_dnn",
        family: "ranking",
        paper: "Yan et al., APG: Adaptive Parameter Generation Network for Click-Through Rate Prediction, NeurIPS 2022, arXiv 2203.16218, Sec. 3 (3.2 decomposed feed-forward, 3.3 over-parameterisation)",
        summary: "DNN whose hidden layers are APG layers y_i = x_i U S_i V + b: U (N x K) and V (K x M) shared, the K x K core S_i = reshape(MLP_gen(z_i)) generated per instance from a condition (self: the layer input; group: one field's embedding, e.g. user_id; mix: several fields' embeddings concatenated); U = U_l U_r and V = V_l V_r over-parameterised (P >= K) and mergeable after training.",
        simplifications: "Static shared bias b (the paper's optional generated bias is not implemented); static linear output layer; generator is a ReLU MLP with a linear output whose bias starts at vec(I) so S_i starts near the identity; condition embeddings are rows of the model's own field table (no separate condition embedding, no stop-gradient); mix-wise aggregation before the generator only (concatenation); no batch norm or dropout.",
        needs_sparse: true,
    },
    ModelInfo {
        name: "apg_dcnv2",
        family: "ranking",
        paper: "Yan et al., APG: Adaptive Parameter Generation Network for Click-Through Rate Prediction, NeurIPS 2022, arXiv 2203.16218, Sec. 3, on DCN V2 (Wang et al., arXiv 2008.13535, stacked structure) as FuxiCTR's APG_DCNv2",
        summary: "DCN-V2 (full-rank cross layers, then an MLP) whose MLP hidden layers are APG layers x_i U S_i V + b with a per-instance generated K x K core (conditions self, group or mix) and over-parameterised, mergeable U and V.",
        simplifications: "As apg_dnn; the cross layers stay static (only the deep part is APG); no low-rank mixture of experts in the cross network.",
        needs_sparse: true,
    },
    ModelInfo {
        name: "amtl_dnn",
        family: "ranking",
        paper: "Yang et al., Learning Effective and Efficient Embedding via an Adaptively-Masked Twins-based Layer, CIKM 2021, arXiv 2108.11513, Sec. 3 (AMTL: twin AMLs, straight-through one-hot width, Triu mask)",
        summary: "DNN whose field embeddings pass through AMTL: per id, frequency attributes s_v (log training count, normalised frequency rank) feed two unshared MLPs; o_v = a_v hAML(s_v) + (1 - a_v) lAML(s_v) with a_v the normalised frequency; t_v = softmax(o_v / T) over widths 1..d with the straight-through one-hot; mask m = t_hat Triu keeps the first k_v dims of e_v.",
        simplifications: "Temperature T fixed (config `temperature`, default 1.0): the training loop does not tell models the epoch, so the paper's annealing 1 -> 0.1 is not done; no warm start (joint training from scratch); masked dims stay in the table (memory reported as the sum of used widths, as the paper does); frequencies counted on the training split only; the FLOP counter counts the AMLs on every lookup (a server would precompute the per-id width); no batch norm or dropout.",
        needs_sparse: true,
    },
    ModelInfo {
        name: "pcf_dnn",
        family: "ranking",
        paper: "Li et al., Explicit Semantic Cross Feature Learning via Pre-trained Graph Neural Networks for CTR Prediction (PCF-GNN), SIGIR 2021, arXiv 2105.07752, Sec. 3 (graph construction, message passing, CrossNet, weighted pretraining, frozen downstream use)",
        summary: "DNN with one pre-trained cross feature: a bipartite graph over the ids of two fields (config `fields`, default user_id x item_id) with edges from training co-occurrences (count c_uv, positive rate a_uv); K rounds of h^k = ReLU(W^k [h^{k-1} || mean of <= fanout neighbours]); CrossNet p_uv = dot(h_u^K, h_v^K); pretrained at construction on mean w_uv (sigmoid(p_uv) - a_uv)^2, w_uv = log(1 + c_uv); then frozen, and sigmoid(p_uv) enters the MLP as an extra dense feature (unseen pairs included). The frozen h^K table ((vocab_a + vocab_b) x gnn_dim f32) is counted in serving_bytes.",
        simplifications: "One field pair (one relation) instead of many field pairs and a heterogeneous graph; mean aggregation with one shared W^k for both node types, no bias; deterministic top-count neighbour cap instead of sampling; dot-product CrossNet only; full-batch Adam pretraining on the CPU for a fixed number of epochs (config `pretrain_epochs`, default 100, lr 0.01) inside model construction, so the harness counts it in a cell's `data` seconds, not `train` (about 21 s per seed on synth-ctr with 2 CPU cores); the pretrained h^K is not reused as the downstream embedding (the DNN keeps its own field embeddings), only p_uv is; the exact weight form is the spec's guess log(1 + c); statistics from the training split only; no batch norm or dropout.",
        needs_sparse: true,
    },
    ModelInfo {
        name: "stats_dnn",
        family: "ranking",
        paper: "The explicit statistical cross feature (SESCF) baseline of Li et al., PCF-GNN, SIGIR 2021, arXiv 2105.07752, Sec. 1 and 4; smoothed target statistics of a feature pair",
        summary: "DNN with a lookup table of one field pair's training statistics (config `fields`, default user_id x item_id): every example gets rate_uv = (y_uv + a prior) / (c_uv + a) and ln(1 + c_uv) as two extra dense inputs (c_uv count, y_uv positives, prior the training positive rate, a = `smoothing`, default 10); unseen pairs get (prior, 0). The table (16 bytes per pair) is counted in serving_bytes.",
        simplifications: "One field pair; additive smoothing with a fixed a (not tuned); statistics over the whole training split (the paper's production SESCF count an earlier time window), with leave-one-out while training (config `leave_one_out`, default true: a row's own label is removed from its pair's statistics, so the table does not hand the model its label; evaluation uses the full table); no batch norm or dropout.",
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

/// The description of a ranking (`CATALOG`), sequential (`SEQ_CATALOG`) or generative
/// (`GEN_CATALOG`) model.
pub fn info(name: &str) -> Option<&'static ModelInfo> {
    CATALOG
        .iter()
        .chain(crate::sequential::SEQ_CATALOG)
        .chain(crate::sequential::GEN_CATALOG)
        .find(|m| m.name == name)
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

fn bad(model: &str, msg: String) -> ModelError {
    ModelError::BadConfig {
        model: model.to_string(),
        msg,
    }
}

fn check_embedding(
    model: &str,
    strategy: &EmbeddingStrategy,
    spec: &FeatureSpec,
    dim: usize,
) -> Result<(), ModelError> {
    strategy.check(spec, dim).map_err(|msg| bad(model, msg))
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
        "apg_dnn" => parse::<ApgDnnConfig>(name, config)?
            .check(spec)
            .map_err(|msg| bad(name, msg)),
        "apg_dcnv2" => parse::<ApgDcnv2Config>(name, config)?
            .check(spec)
            .map_err(|msg| bad(name, msg)),
        "amtl_dnn" => parse::<AmtlDnnConfig>(name, config)?
            .check(spec)
            .map_err(|msg| bad(name, msg)),
        "pcf_dnn" => parse::<PcfDnnConfig>(name, config)?
            .check(spec)
            .map_err(|msg| bad(name, msg)),
        "stats_dnn" => parse::<StatsDnnConfig>(name, config)?
            .check(spec)
            .map_err(|msg| bad(name, msg)),
        _ => unreachable!("catalog entry `{name}` has no config type"),
    }
}

/// The pair of sparse fields whose training co-occurrence statistics
/// ([`FeatureSpec::pairs`]) model `name` needs with `config`, if any; the harness
/// computes statistics only for this pair.
pub fn pair_fields(name: &str, config: &serde_json::Value) -> Option<(String, String)> {
    match name {
        "pcf_dnn" => parse::<PcfDnnConfig>(name, config).ok().map(|c| {
            let [a, b] = c.fields;
            (a, b)
        }),
        "stats_dnn" => parse::<StatsDnnConfig>(name, config).ok().map(|c| {
            let [a, b] = c.fields;
            (a, b)
        }),
        _ => None,
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
    // Frequency-aware embeddings need the training counts, which validation (run before
    // the split exists) cannot require.
    let mde = config
        .get("embedding")
        .and_then(|e| e.get("kind"))
        .is_some_and(|k| k == "mde");
    if (name == "amtl_dnn" || mde) && spec.frequencies.is_none() {
        return Err(bad(
            name,
            "needs per-id frequencies of the training rows (FeatureSpec::frequencies)".into(),
        ));
    }
    if name == "pcf_dnn" {
        parse::<PcfDnnConfig>(name, config)?
            .require_pairs(spec)
            .map_err(|msg| bad(name, msg))?;
    }
    if name == "stats_dnn" {
        spec.require_pairs(&parse::<StatsDnnConfig>(name, config)?.fields)
            .map_err(|msg| bad(name, msg))?;
    }
    Ok(match name {
        "lr" => Box::new(Lr::new(store, spec, &parse::<LrConfig>(name, config)?)),
        "dnn" => Box::new(Dnn::new(store, spec, &parse::<DnnConfig>(name, config)?)),
        "dcnv2" => Box::new(Dcnv2::new(
            store,
            spec,
            &parse::<Dcnv2Config>(name, config)?,
        )),
        "apg_dnn" => Box::new(ApgDnn::new(
            store,
            spec,
            &parse::<ApgDnnConfig>(name, config)?,
        )),
        "apg_dcnv2" => Box::new(ApgDcnv2::new(
            store,
            spec,
            &parse::<ApgDcnv2Config>(name, config)?,
        )),
        "amtl_dnn" => Box::new(AmtlDnn::new(
            store,
            spec,
            &parse::<AmtlDnnConfig>(name, config)?,
        )),
        "pcf_dnn" => Box::new(PcfDnn::new(
            store,
            spec,
            &parse::<PcfDnnConfig>(name, config)?,
        )),
        "stats_dnn" => Box::new(StatsDnn::new(
            store,
            spec,
            &parse::<StatsDnnConfig>(name, config)?,
        )),
        _ => unreachable!("catalog entry `{name}` has no constructor"),
    })
}
