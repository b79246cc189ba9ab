//! The model registry. A model registers once: its file implements [`Registered`] for
//! its kind (paper, summary, simplifications, typed config, validation, the side inputs
//! it needs from the training split, construction), and its kind's list in
//! `crate::models` names it (`Registration::of::<Model>()`). Every lookup by name goes
//! through [`Registry::entries`]: no `match name` anywhere.

pub mod embedding;

use serde::de::DeserializeOwned;

use crate::contract::{Forward, Kind, Model};
use crate::engine::{Dev, ParamStore};

/// What the registry says of a model (or of a component a variant names, such as an
/// embedding strategy): shown by `recbench list` and on the model's page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelInfo {
    pub name: &'static str,
    /// The task kind the model runs on (`Kind::NAME`), or `"embedding"` for a strategy.
    pub kind: &'static str,
    /// Citation: authors, title, arXiv id (or venue) and the section implemented.
    pub paper: &'static str,
    pub summary: &'static str,
    /// What this implementation leaves out or changes relative to the paper.
    pub simplifications: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("unknown model `{name}` (known {kind} models: {known})")]
    Unknown {
        name: String,
        kind: &'static str,
        known: String,
    },
    #[error("model `{model}`: bad config: {msg}")]
    BadConfig { model: String, msg: String },
}

/// What a model's file implements to be registered for kind `K`.
pub trait Registered<K: Kind>: Sized + 'static {
    /// The typed config; every field has a serde default, so `{}` (or null) is the
    /// model's default configuration. Unknown keys are rejected.
    type Config: DeserializeOwned;
    const INFO: &'static ModelInfo;

    /// Whether `cfg` is valid for a task of `spec`, before the split exists (a suite is
    /// validated up front). Default: every config is.
    fn check(_cfg: &Self::Config, _spec: &K::Spec) -> Result<(), String> {
        Ok(())
    }

    /// What the harness must compute from the training split for this config (id
    /// frequencies, pair statistics): exactly that is filled into the spec.
    fn side_inputs(_cfg: &Self::Config) -> K::SideInputs {
        K::SideInputs::default()
    }

    /// Registry entries of the components this config uses (an embedding strategy's
    /// name, see [`embedding`]), so a variant's page cites their papers too.
    fn components(_cfg: &Self::Config) -> Vec<&'static ModelInfo> {
        Vec::new()
    }

    /// Creates the parameters in `store` and the model; `spec` holds the side inputs
    /// [`Registered::side_inputs`] asked for (an error if they are missing).
    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &K::Spec,
        cfg: &Self::Config,
    ) -> Result<Self, String>;
}

/// A kind whose models the registry knows: the list lives with the kind's models
/// (`crate::models::<kind>`).
pub trait Registry: Kind {
    /// Every registered model of this kind, built on device `D`.
    fn entries<D: Dev>() -> Vec<Registration<Self, D>>;
}

/// One registered model of kind `K`, as function pointers for device `D`.
pub struct Registration<K: Kind, D: Dev> {
    pub info: &'static ModelInfo,
    pub validate: fn(&serde_json::Value, &K::Spec) -> Result<(), String>,
    pub side_inputs: fn(&serde_json::Value) -> Result<K::SideInputs, String>,
    pub components: fn(&serde_json::Value) -> Result<Vec<&'static ModelInfo>, String>,
    #[allow(clippy::type_complexity)]
    pub build: fn(
        &serde_json::Value,
        &K::Spec,
        &mut ParamStore<D>,
    ) -> Result<Box<dyn Model<K, D>>, String>,
}

impl<K: Kind, D: Dev> Registration<K, D> {
    /// The registration of model `M`.
    pub fn of<M: Registered<K> + Forward<K, D>>() -> Self {
        Registration {
            info: M::INFO,
            validate: |config, spec| M::check(&parse::<M::Config>(config)?, spec),
            side_inputs: |config| Ok(M::side_inputs(&parse::<M::Config>(config)?)),
            components: |config| Ok(M::components(&parse::<M::Config>(config)?)),
            build: |config, spec, store| {
                let cfg = parse::<M::Config>(config)?;
                M::check(&cfg, spec)?;
                let model: Box<dyn Model<K, D>> = Box::new(M::build(store, spec, &cfg)?);
                Ok(model)
            },
        }
    }
}

/// A config from JSON; null is `{}`, the defaults.
pub fn parse<C: DeserializeOwned>(config: &serde_json::Value) -> Result<C, String> {
    let value = if config.is_null() {
        serde_json::Value::Object(Default::default())
    } else {
        config.clone()
    };
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// The registration of `name` among kind `K`'s models.
pub fn find<K: Registry, D: Dev>(name: &str) -> Result<Registration<K, D>, ModelError> {
    let mut entries = K::entries::<D>();
    match entries.iter().position(|r| r.info.name == name) {
        Some(i) => Ok(entries.swap_remove(i)),
        None => Err(ModelError::Unknown {
            name: name.to_string(),
            kind: K::NAME,
            known: entries
                .iter()
                .map(|r| r.info.name)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

fn bad(model: &str, msg: String) -> ModelError {
    ModelError::BadConfig {
        model: model.to_string(),
        msg,
    }
}

/// Checks that `name` is a model of kind `K` and `config` parses and is valid for
/// `spec`, without allocating parameters (a suite is validated up front).
pub fn validate<K: Registry>(
    name: &str,
    config: &serde_json::Value,
    spec: &K::Spec,
) -> Result<(), ModelError> {
    let r = find::<K, crate::Cpu>(name)?;
    (r.validate)(config, spec).map_err(|m| bad(name, m))
}

/// What model `name` with `config` needs computed from the training split.
pub fn side_inputs<K: Registry>(
    name: &str,
    config: &serde_json::Value,
) -> Result<K::SideInputs, ModelError> {
    let r = find::<K, crate::Cpu>(name)?;
    (r.side_inputs)(config).map_err(|m| bad(name, m))
}

/// The registry entries of the components model `name`'s `config` uses.
pub fn components<K: Registry>(
    name: &str,
    config: &serde_json::Value,
) -> Result<Vec<&'static ModelInfo>, ModelError> {
    let r = find::<K, crate::Cpu>(name)?;
    (r.components)(config).map_err(|m| bad(name, m))
}

/// Builds model `name` of kind `K` with `config` (JSON; null = defaults) for `spec`,
/// creating its parameters in `store`.
pub fn build<K: Registry, D: Dev>(
    name: &str,
    config: &serde_json::Value,
    spec: &K::Spec,
    store: &mut ParamStore<D>,
) -> Result<Box<dyn Model<K, D>>, ModelError> {
    let r = find::<K, D>(name)?;
    (r.build)(config, spec, store).map_err(|m| bad(name, m))
}

/// The infos of kind `K`'s models, in registration order.
pub fn infos<K: Registry>() -> Vec<&'static ModelInfo> {
    K::entries::<crate::Cpu>()
        .into_iter()
        .map(|r| r.info)
        .collect()
}
