//! Builds a task's `Dataset` from its spec: load the files with the format's loader,
//! join side files, then pick which columns are sparse features, dense features, the
//! label, the group and the time. Column meaning lives in the task spec, not in the
//! loaders, so any file of a supported format works.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::join::left_join;
use super::loaders::{criteo, grouplens, hillstrom, kuairand, obd, recbole, seqlines};
use super::{ColumnData, DataError, DataResult, Dataset, Schema, SparseField, Table};

/// Where a task's rows come from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum DatasetSpec {
    /// The synthetic CTR world (`data::synth`); `config` overrides its defaults.
    SynthCtr {
        #[serde(default)]
        config: serde_json::Value,
        /// Which feedback is the label: click, long_view or like.
        label: String,
    },
    /// Files on disk, read by a format loader.
    Files(FilesSpec),
    /// The synthetic sequential world (`data::synth::seq`), for retrieval tasks;
    /// `config` overrides its defaults.
    SynthSeq {
        #[serde(default)]
        config: serde_json::Value,
    },
    /// Per-user item sequences from an interaction file, for retrieval tasks.
    Sequences(SeqFilesSpec),
    /// The synthetic generative-ranking world (`data::synth::gen`): request logs with
    /// known action probabilities; `config` overrides its defaults.
    SynthGen {
        #[serde(default)]
        config: serde_json::Value,
    },
    /// Per-user request logs from an interaction file (`data::requests`), for
    /// generative-ranking tasks.
    Requests(RequestFilesSpec),
    /// The multi-task view of the synthetic CTR world (`data::synth::multitask`): six
    /// feedbacks in two meta-categories with known probabilities; `config` overrides
    /// the world's defaults.
    SynthMt {
        #[serde(default)]
        config: serde_json::Value,
    },
}

impl DatasetSpec {
    /// The `source` as written in JSON.
    pub fn source(&self) -> &'static str {
        match self {
            DatasetSpec::SynthCtr { .. } => "synth_ctr",
            DatasetSpec::Files(_) => "files",
            DatasetSpec::SynthSeq { .. } => "synth_seq",
            DatasetSpec::Sequences(_) => "sequences",
            DatasetSpec::SynthGen { .. } => "synth_gen",
            DatasetSpec::Requests(_) => "requests",
            DatasetSpec::SynthMt { .. } => "synth_mt",
        }
    }
}

/// An interaction file read as per-user request logs (`data::requests`): which columns
/// are the user, the item and the time, and how each binary action is read from a
/// numeric column. Any loader's format works.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestFilesSpec {
    /// Dataset name shown in results (e.g. "ml-100k").
    pub name: String,
    pub format: FileFormat,
    /// Path relative to the data root (`--data-root`) or absolute.
    pub path: String,
    #[serde(default = "default_user")]
    pub user: String,
    #[serde(default = "default_item")]
    pub item: String,
    /// Time column (seconds); requests are the user's events within one time window.
    pub time: String,
    /// The binary actions of an exposure, in flag order (the models' heads).
    pub actions: Vec<ActionSpec>,
}

/// One binary action: `name` is on when `column >= min` (e.g. like = rating >= 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    pub name: String,
    pub column: String,
    pub min: f64,
}

/// An interaction file read as per-user sequences (`data::sequences`): which columns
/// are the user, the item and the time. Any loader's format works.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeqFilesSpec {
    /// Dataset name shown in results (e.g. "amazon-beauty").
    pub name: String,
    pub format: FileFormat,
    /// Path relative to the data root (`--data-root`) or absolute.
    pub path: String,
    #[serde(default = "default_user")]
    pub user: String,
    #[serde(default = "default_item")]
    pub item: String,
    /// Time column, or "@row" for file order (ties keep file order either way).
    pub time: String,
}

fn default_user() -> String {
    "user_id".into()
}
fn default_item() -> String {
    "item_id".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Recbole,
    UData,
    RatingsDat,
    SeqLines,
    Hillstrom,
    ObdImpressions,
    ObdItemContext,
    KuairandLog,
    KuairandUsers,
    KuairandVideos,
    Criteo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesSpec {
    /// Dataset name shown in results (e.g. "ml-100k").
    pub name: String,
    pub format: FileFormat,
    /// Path of the main file, relative to the data root (`--data-root`) or absolute.
    pub path: String,
    /// Side files joined onto the main file by a key column.
    #[serde(default)]
    pub joins: Vec<JoinSpec>,
    pub sparse: Vec<String>,
    #[serde(default)]
    pub dense: Vec<DenseSpec>,
    pub label: LabelSpec,
    /// Further labels by name, each read as `label` is (a multi-task task's tasks:
    /// `{"name": "love", "column": "rating", "min": 5}`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<NamedLabel>,
    #[serde(default)]
    pub group: Option<String>,
    /// Time column, or "@row" for file order.
    #[serde(default)]
    pub time: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinSpec {
    pub format: FileFormat,
    pub path: String,
    pub key: String,
    #[serde(default)]
    pub prefix: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseSpec {
    pub column: String,
    #[serde(default)]
    pub transform: DenseTransform,
}

/// Row-wise transforms only: anything fitted on data (e.g. standardization) would have
/// to be fitted on the training split to avoid leakage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenseTransform {
    #[default]
    None,
    Log1p,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSpec {
    pub column: String,
    /// If set, label = (value >= min); otherwise values must already be 0 or 1.
    #[serde(default)]
    pub min: Option<f64>,
}

/// A further label of a files dataset, named (several may read one column).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedLabel {
    pub name: String,
    pub column: String,
    /// As `LabelSpec::min`.
    #[serde(default)]
    pub min: Option<f64>,
}

impl FilesSpec {
    /// The dataset's label names: the main label's column, then the named labels.
    pub fn label_names(&self) -> Vec<String> {
        let mut names = vec![self.label.column.clone()];
        names.extend(self.labels.iter().map(|l| l.name.clone()));
        names
    }
}

/// A built dataset and the SHA-256 of its source (files' bytes, or the synthetic
/// world's config).
#[derive(Debug)]
pub struct Built {
    pub dataset: Dataset,
    pub data_sha256: String,
}

pub fn load_table(format: FileFormat, path: &Path) -> DataResult<Table> {
    match format {
        FileFormat::Recbole => recbole::load_atomic(path),
        FileFormat::UData => grouplens::load_u_data(path),
        FileFormat::RatingsDat => grouplens::load_ratings_dat(path),
        FileFormat::SeqLines => seqlines::load_seq_lines(path),
        FileFormat::Hillstrom => hillstrom::load_hillstrom(path),
        FileFormat::ObdImpressions => obd::load_obd_impressions(path),
        FileFormat::ObdItemContext => obd::load_obd_item_context(path),
        FileFormat::KuairandLog => kuairand::load_kuairand_log(path),
        FileFormat::KuairandUsers => kuairand::load_kuairand_users(path),
        FileFormat::KuairandVideos => kuairand::load_kuairand_videos(path),
        FileFormat::Criteo => criteo::load_criteo(path),
    }
}

pub fn resolve(root: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

/// Loads and joins the files of `spec` (paths under `root`) and builds the dataset.
pub fn build_files(spec: &FilesSpec, root: &Path) -> DataResult<Built> {
    let main = resolve(root, &spec.path);
    let mut table = load_table(spec.format, &main)?;
    let mut files = vec![main];
    for j in &spec.joins {
        let path = resolve(root, &j.path);
        let side = load_table(j.format, &path)?;
        table = left_join(&table, &side, &j.key, &j.prefix)?;
        files.push(path);
    }
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let data_sha256 =
        crate::data::hash::sha256_files(&refs).map_err(|e| DataError::io(&files[0], e))?;
    let dataset = table_to_dataset(&table, spec)?;
    Ok(Built {
        dataset,
        data_sha256,
    })
}

/// Interns any column's values as dense ids: tokens keep their ids, token lists use
/// their first token (0 = empty list), floats map each distinct value to an id.
fn categorical(table: &Table, name: &str) -> DataResult<(Vec<u32>, u32)> {
    Ok(match table.column(name)? {
        ColumnData::Token(c) => (c.ids.clone(), c.vocab.len() as u32),
        ColumnData::TokenSeq(c) => {
            let ids = (0..c.len())
                .map(|r| c.row(r).first().map_or(0, |&t| t + 1))
                .collect();
            (ids, c.vocab.len() as u32 + 1)
        }
        ColumnData::Float(v) => {
            let mut index: HashMap<u64, u32> = HashMap::new();
            let ids = v
                .iter()
                .map(|x| {
                    let n = index.len() as u32;
                    *index.entry(x.to_bits()).or_insert(n)
                })
                .collect();
            (ids, index.len() as u32)
        }
    })
}

/// Column `column` as 0/1: `value >= min` when `min` is set, else the values must
/// already be 0 or 1 (an error names the file, line and field otherwise).
fn binary_label(table: &Table, column: &str, min: Option<f64>) -> DataResult<Vec<f32>> {
    let raw = table.float(column)?;
    let mut label = Vec::with_capacity(raw.len());
    for (row, &v) in raw.iter().enumerate() {
        label.push(match min {
            Some(min) => (v >= min) as u8 as f32,
            None if v == 0.0 || v == 1.0 => v as f32,
            None => {
                return Err(DataError::bad(
                    &table.source,
                    table.line_of(row),
                    column,
                    format!("label {v} is not 0 or 1"),
                ))
            }
        });
    }
    Ok(label)
}

fn table_to_dataset(table: &Table, spec: &FilesSpec) -> DataResult<Dataset> {
    let bad = |row: usize, field: &str, msg: String| {
        DataError::bad(&table.source, table.line_of(row), field, msg)
    };
    let mut schema = Schema::default();
    let mut sparse = Vec::new();
    for name in &spec.sparse {
        let (ids, vocab) = categorical(table, name)?;
        schema.sparse.push(SparseField {
            name: name.clone(),
            vocab: vocab.max(1),
        });
        sparse.push(ids);
    }
    let mut dense = Vec::new();
    for d in &spec.dense {
        let v = table.float(&d.column)?;
        let mut col = Vec::with_capacity(v.len());
        for (row, &x) in v.iter().enumerate() {
            col.push(match d.transform {
                DenseTransform::None => x as f32,
                DenseTransform::Log1p if x > -1.0 => x.ln_1p() as f32,
                DenseTransform::Log1p => {
                    return Err(bad(row, &d.column, format!("log1p of {x} (needs > -1)")))
                }
            });
        }
        schema.dense.push(d.column.clone());
        dense.push(col);
    }
    let mut labels = vec![binary_label(table, &spec.label.column, spec.label.min)?];
    for l in &spec.labels {
        labels.push(binary_label(table, &l.column, l.min)?);
    }
    schema.labels = spec.label_names();
    if let Some(k) =
        (1..schema.labels.len()).find(|&k| schema.labels[..k].contains(&schema.labels[k]))
    {
        return Err(DataError::invalid(
            table.source.display().to_string(),
            format!("label `{}` is named twice", schema.labels[k]),
        ));
    }
    let group = match &spec.group {
        Some(g) => Some(categorical(table, g)?.0),
        None => None,
    };
    let time = match spec.time.as_deref() {
        Some("@row") => Some((0..table.rows() as i64).collect()),
        Some(t) => Some(table.float(t)?.iter().map(|&x| x.round() as i64).collect()),
        None => None,
    };
    let ds = Dataset {
        name: spec.name.clone(),
        schema,
        sparse,
        dense,
        labels,
        group,
        time,
        treatment: None,
        oracle: None,
    };
    if ds.rows() == 0 {
        return Err(DataError::invalid(
            table.source.display().to_string(),
            "no rows",
        ));
    }
    ds.validate()?;
    Ok(ds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn spec(label_min: Option<f64>) -> FilesSpec {
        serde_json::from_value(serde_json::json!({
            "name": "tiny", "format": "recbole", "path": "t.inter",
            "joins": [{"format": "recbole", "path": "t.user", "key": "user_id"}],
            "sparse": ["user_id", "item_id", "age"],
            "dense": [{"column": "price", "transform": "log1p"}],
            "label": {"column": "rating", "min": label_min},
            "group": "user_id", "time": "timestamp"
        }))
        .unwrap()
    }

    fn files() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "t.inter",
            "user_id:token\titem_id:token\trating:float\ttimestamp:float\tprice:float\n\
             u1\ti1\t5\t10\t1\nu2\ti1\t3\t11\t2\nu1\ti2\t4\t12\t0\n",
        );
        write(
            d.path(),
            "t.user",
            "user_id:token\tage:token\nu1\t20\nu2\t30\n",
        );
        d
    }

    #[test]
    fn builds_features_label_group_and_time_from_columns() {
        let d = files();
        let built = build_files(&spec(Some(4.0)), d.path()).unwrap();
        let ds = built.dataset;
        assert_eq!(ds.rows(), 3);
        assert_eq!(ds.labels[0], vec![1.0, 0.0, 1.0]);
        assert_eq!(ds.sparse[0], vec![0, 1, 0]);
        assert_eq!(ds.schema.sparse[2].vocab, 2);
        assert_eq!(ds.time.as_deref(), Some(&[10i64, 11, 12][..]));
        assert!((ds.dense[0][1] - 3f32.ln()).abs() < 1e-6);
        assert_eq!(built.data_sha256.len(), 64);
    }

    #[test]
    fn non_binary_label_names_file_line_and_field() {
        let d = files();
        let err = build_files(&spec(None), d.path()).unwrap_err().to_string();
        assert!(err.contains("t.inter:2: field `rating`"), "{err}");
    }

    #[test]
    fn missing_column_and_missing_file_are_named() {
        let d = files();
        let mut s = spec(Some(4.0));
        s.sparse.push("genre".into());
        let err = build_files(&s, d.path()).unwrap_err().to_string();
        assert!(err.contains("missing column `genre`"), "{err}");
        s.path = "nope.inter".into();
        let err = build_files(&s, d.path()).unwrap_err().to_string();
        assert!(err.contains("nope.inter"), "{err}");
    }
}
