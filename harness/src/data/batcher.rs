//! Turns dataset rows into model batches: the task's sparse and dense columns and one
//! label, row-major, in a seeded shuffled order for training.

use baselines::kinds::ranking::{fold_of, row_key, ROW_KEY};
use baselines::{Batch, FeatureSpec, PairStat, PairStats, RankingInputs};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::Dataset;

pub fn feature_spec(ds: &Dataset) -> FeatureSpec {
    FeatureSpec {
        sparse: ds
            .schema
            .sparse
            .iter()
            .map(|f| (f.name.clone(), f.vocab))
            .collect(),
        dense: ds.schema.dense.clone(),
        frequencies: None,
        pairs: None,
    }
}

/// [`feature_spec`] plus `frequencies`: the count of every id of every sparse field in
/// `train_rows`, and, when `pair` names two sparse fields (the pair a model's config asks
/// for, `baselines::Registered::side_inputs`), `pairs`: their co-occurrence counts and positives of
/// label column `label` in `train_rows`. Statistics are built for that one pair only
/// (all pairs of fields would be quadratic in the fields and in the vocabularies). Pass
/// the TRAINING rows only: counting valid or test rows would leak them into
/// frequency-aware models (`mde`, `amtl_dnn`) and into `pcf_dnn`'s pretraining.
/// The feature spec a ranking model is built with: the side inputs its config declared
/// (`baselines::Registered::side_inputs`), computed from `train_rows` only.
pub fn feature_spec_for(
    ds: &Dataset,
    train_rows: &[usize],
    label: usize,
    inputs: &RankingInputs,
) -> FeatureSpec {
    let mut spec = feature_spec_with_counts(ds, train_rows, label, inputs.pair.as_ref());
    if !inputs.frequencies {
        spec.frequencies = None;
    }
    if let Some(stats) = spec.pairs.as_mut().filter(|_| inputs.pair_folds > 0) {
        let k = inputs.pair_folds;
        stats.out_of_fold = (0..k)
            .map(|fold| {
                let outside: Vec<usize> = train_rows
                    .iter()
                    .copied()
                    .filter(|&r| fold_of(row_key(r), k) != fold)
                    .collect();
                let pair = (stats.fields.0.clone(), stats.fields.1.clone());
                feature_spec_with_counts(ds, &outside, label, Some(&pair))
                    .pairs
                    .map(|p| p.pairs)
                    .unwrap_or_default()
            })
            .collect();
    }
    spec
}

/// A training batch: [`make_batch`] plus each row's fold key ([`ROW_KEY`]), which
/// models with out-of-fold statistics read.
pub fn make_train_batch(ds: &Dataset, rows: &[usize], label: usize) -> Batch {
    let mut b = make_batch(ds, rows, label);
    b.columns.push((
        ROW_KEY.to_string(),
        rows.iter().map(|&r| row_key(r)).collect(),
    ));
    b
}

pub fn feature_spec_with_counts(
    ds: &Dataset,
    train_rows: &[usize],
    label: usize,
    pair: Option<&(String, String)>,
) -> FeatureSpec {
    let counts = ds
        .schema
        .sparse
        .iter()
        .zip(&ds.sparse)
        .map(|(field, column)| {
            let mut c = vec![0u32; field.vocab.max(1) as usize];
            for &r in train_rows {
                c[column[r] as usize] += 1;
            }
            c
        })
        .collect();
    let pairs = pair.and_then(|(a, b)| {
        let col = |name: &String| ds.schema.sparse.iter().position(|f| &f.name == name);
        // A missing field is left to the model's config check, which names it.
        let (ca, cb) = (&ds.sparse[col(a)?], &ds.sparse[col(b)?]);
        let mut map = std::collections::BTreeMap::<(u32, u32), (u32, u32)>::new();
        for &r in train_rows {
            let e = map.entry((ca[r], cb[r])).or_default();
            e.0 += 1;
            e.1 += (ds.labels[label][r] > 0.5) as u32;
        }
        Some(PairStats {
            fields: (a.clone(), b.clone()),
            pairs: map
                .into_iter()
                .map(|((a, b), (count, positives))| PairStat {
                    a,
                    b,
                    count,
                    positives,
                })
                .collect(),
            out_of_fold: Vec::new(),
        })
    });
    FeatureSpec {
        frequencies: Some(counts),
        pairs,
        ..feature_spec(ds)
    }
}

/// Builds the batch of `rows` with label column `label`.
pub fn make_batch(ds: &Dataset, rows: &[usize], label: usize) -> Batch {
    let (ns, nd) = (ds.sparse.len(), ds.dense.len());
    let mut b = Batch {
        size: rows.len(),
        n_sparse: ns,
        n_dense: nd,
        sparse: Vec::with_capacity(rows.len() * ns),
        dense: Vec::with_capacity(rows.len() * nd),
        labels: Vec::with_capacity(rows.len()),
        columns: Vec::new(),
    };
    for &r in rows {
        b.sparse.extend(ds.sparse.iter().map(|c| c[r]));
        b.dense.extend(ds.dense.iter().map(|c| c[r]));
        b.labels.push(ds.labels[label][r]);
    }
    b
}

/// The training rows of one epoch, shuffled by `(seed, epoch)`, cut into batches. The
/// permutation depends on the number of rows only, not on their type.
pub fn epoch_order<T: Clone>(rows: &[T], seed: u64, epoch: usize) -> Vec<T> {
    let mut order = rows.to_vec();
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(epoch as u64 + 1)));
    order.shuffle(&mut rng);
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::{Schema, SparseField};

    fn dataset() -> Dataset {
        Dataset {
            name: "toy".into(),
            schema: Schema {
                sparse: vec![
                    SparseField {
                        name: "user".into(),
                        vocab: 4,
                    },
                    SparseField {
                        name: "item".into(),
                        vocab: 3,
                    },
                ],
                dense: vec![],
                labels: vec!["click".into()],
            },
            sparse: vec![vec![0, 0, 1, 3, 2], vec![2, 2, 1, 0, 0]],
            labels: vec![vec![1.0, 0.0, 1.0, 0.0, 1.0]],
            ..Default::default()
        }
    }

    #[test]
    fn counts_come_from_the_training_rows_only() {
        let ds = dataset();
        let train = [0, 1, 2];
        let spec = feature_spec_with_counts(&ds, &train, 0, None);
        assert_eq!(spec.sparse, feature_spec(&ds).sparse);
        assert_eq!(
            spec.frequencies,
            Some(vec![vec![2, 1, 0, 0], vec![0, 1, 2]])
        );
        // Rows 3 and 4 are test rows: changing their ids or labels changes no count.
        let mut leaked = ds.clone();
        leaked.sparse[0][3] = 0;
        leaked.sparse[0][4] = 1;
        leaked.sparse[1][4] = 2;
        leaked.labels[0][3] = 1.0;
        assert_eq!(feature_spec_with_counts(&leaked, &train, 0, None), spec);
        // An id seen only in test rows (user 3, user 2) keeps count 0.
        assert_eq!(spec.frequencies.as_ref().unwrap()[0][3], 0);
        // Counting every row would differ: the train-only counts are not the totals.
        assert_ne!(
            feature_spec_with_counts(&ds, &[0, 1, 2, 3, 4], 0, None),
            spec
        );
    }

    #[test]
    fn pair_stats_come_from_the_training_rows_only() {
        let ds = dataset();
        let train = [0, 1, 2];
        let pair = ("user".to_string(), "item".to_string());
        let spec = feature_spec_with_counts(&ds, &train, 0, Some(&pair));
        let stats = spec.pairs.clone().unwrap();
        assert_eq!(stats.fields, pair);
        // Rows 0, 1: (user 0, item 2) clicked then not; row 2: (1, 1) clicked.
        let st = |a, b, count, positives| PairStat {
            a,
            b,
            count,
            positives,
        };
        assert_eq!(stats.pairs, vec![st(0, 2, 2, 1), st(1, 1, 1, 1)]);
        assert_eq!(stats.pairs[0].rate(), 0.5);
        // Test-only rows 3, 4 change no statistic, whatever their ids and labels.
        let mut leaked = ds.clone();
        leaked.sparse[0][3] = 0;
        leaked.sparse[1][3] = 2;
        leaked.sparse[0][4] = 1;
        leaked.sparse[1][4] = 1;
        leaked.labels[0][3] = 1.0;
        leaked.labels[0][4] = 0.0;
        assert_eq!(
            feature_spec_with_counts(&leaked, &train, 0, Some(&pair)),
            spec
        );
        // Counting every row would differ.
        let all = feature_spec_with_counts(&ds, &[0, 1, 2, 3, 4], 0, Some(&pair));
        assert_ne!(all.pairs, spec.pairs);
        // No pair asked for, or an unknown field: no statistics.
        assert_eq!(feature_spec_with_counts(&ds, &train, 0, None).pairs, None);
        let unknown = ("user".to_string(), "nope".to_string());
        assert_eq!(
            feature_spec_with_counts(&ds, &train, 0, Some(&unknown)).pairs,
            None
        );
    }

    #[test]
    fn out_of_fold_stats_leave_out_each_folds_rows() {
        let ds = dataset();
        let train = [0, 1, 2, 3];
        let inputs = RankingInputs {
            pair: Some(("user".to_string(), "item".to_string())),
            pair_folds: 2,
            ..Default::default()
        };
        let spec = feature_spec_for(&ds, &train, 0, &inputs);
        let stats = spec.pairs.unwrap();
        assert_eq!(stats.out_of_fold.len(), 2);
        for (k, outside) in stats.out_of_fold.iter().enumerate() {
            let rows: Vec<usize> = train
                .iter()
                .copied()
                .filter(|&r| fold_of(row_key(r), 2) != k)
                .collect();
            let pair = ("user".to_string(), "item".to_string());
            let want = feature_spec_with_counts(&ds, &rows, 0, Some(&pair))
                .pairs
                .unwrap();
            assert_eq!(outside, &want.pairs, "fold {k}");
        }
        // Both folds are non-empty on these rows, so the complements differ from all.
        assert!(stats.out_of_fold.iter().all(|o| o != &stats.pairs));
        // Training batches carry the rows' keys; evaluation batches do not.
        let b = make_train_batch(&ds, &[2, 0], 0);
        assert_eq!(b.column(ROW_KEY).unwrap(), &[row_key(2), row_key(0)]);
        assert!(make_batch(&ds, &[2, 0], 0).column(ROW_KEY).is_none());
    }

    /// `stats_dnn` through the harness path: the pair its config names, statistics from
    /// the training rows, the model's table. Test rows change nothing the model sees.
    #[test]
    fn stats_dnn_table_comes_from_the_training_rows_only() {
        use baselines::engine::ParamStore;
        use baselines::models::ranking::{StatsDnn, StatsDnnConfig};
        let config =
            serde_json::json!({"fields": ["user", "item"], "embedding_dim": 2, "hidden": [4]});
        let pair = baselines::registry::side_inputs::<baselines::Ranking>("stats_dnn", &config)
            .unwrap()
            .pair
            .unwrap();
        let cfg: StatsDnnConfig = serde_json::from_value(config).unwrap();
        let features_of = |ds: &Dataset| {
            let spec = feature_spec_with_counts(ds, &[0, 1, 2], 0, Some(&pair));
            let mut store = ParamStore::new(baselines::Cpu::default(), 0);
            let m = StatsDnn::new(&mut store, &spec, &cfg);
            // Every (user, item) pair of the vocabularies, scored without leave-one-out.
            let probe = Batch {
                size: 12,
                n_sparse: 2,
                sparse: (0..4u32)
                    .flat_map(|u| (0..3u32).flat_map(move |i| [u, i]))
                    .collect(),
                labels: vec![0.0; 12],
                ..Default::default()
            };
            (
                m.table.stats.clone(),
                m.table.prior,
                m.cross_features(&probe, false),
            )
        };
        let ds = dataset();
        let (stats, prior, features) = features_of(&ds);
        // Training rows 0-2: (0, 2) twice with one click, (1, 1) once, clicked.
        assert_eq!(stats.pairs.len(), 2);
        assert_eq!((stats.pairs[0].count, stats.pairs[0].positives), (2, 1));
        assert!((prior - 2.0 / 3.0).abs() < 1e-6);
        // Test rows 3, 4 ((3, 0), (2, 0)) are unseen pairs: the prior and count 0.
        assert_eq!(features[3 * 3], [prior, 0.0]);
        assert_eq!(features[2 * 3], [prior, 0.0]);
        // Moving the test rows onto training pairs and flipping their labels changes
        // nothing the model sees.
        let mut leaked = ds.clone();
        leaked.sparse[0][3] = 0;
        leaked.sparse[1][3] = 2;
        leaked.sparse[0][4] = 1;
        leaked.sparse[1][4] = 1;
        leaked.labels[0][3] = 1.0;
        leaked.labels[0][4] = 0.0;
        assert_eq!(features_of(&leaked), (stats, prior, features));
    }
}
