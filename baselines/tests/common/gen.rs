//! The synthetic generative-ranking task the generative model tests share. Each user
//! has a hidden taste (one of `groups` item groups, item `i` is in group
//! `(i - 1) % groups`);
//! each request exposes `per_request` items, a third from the taste group and the rest
//! uniform. Click: 0.85 if the item is in the taste group, else 0.1. Like (second
//! action): a click on an even item with probability 0.8. The taste can only be read
//! from the history's actions (which groups were clicked), so a model that uses the
//! history beats the history-blind `item_only` by a wide margin, while `item_only` still
//! learns the per-item like rate and the taste-group share of exposures.
#![allow(dead_code)]

use baselines::engine::{OptimConfig, Optimizer, ParamStore, SparseOptim};
use baselines::kinds::generative::{action_id, Exposure, Request};
use baselines::{gradient_norms, predict, registry, train_step, Cpu, GenBatch, Generative};
use baselines::{GenSpec, Model};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub struct TasteWorld {
    pub n_items: u32,
    pub groups: u32,
    pub per_request: usize,
}

impl TasteWorld {
    pub fn new() -> Self {
        TasteWorld {
            n_items: 60,
            groups: 4,
            per_request: 4,
        }
    }

    pub fn spec(&self, max_history: usize) -> GenSpec {
        GenSpec {
            n_items: self.n_items,
            n_actions: 2,
            max_history,
            max_candidates: self.per_request,
        }
    }

    /// One user's log of `n_requests` requests (times 100 s apart, plus jitter).
    pub fn user(&self, n_requests: usize, rng: &mut ChaCha8Rng) -> Vec<Request> {
        let taste = rng.gen_range(0..self.groups);
        let mut t = rng.gen_range(0..1_000_000i64);
        (0..n_requests)
            .map(|_| {
                t += 100 + rng.gen_range(0..500);
                let exposures = (0..self.per_request)
                    .map(|_| {
                        let item = if rng.gen_bool(1.0 / 3.0) {
                            let k = rng.gen_range(0..self.n_items / self.groups);
                            (k * self.groups + taste) % self.n_items + 1
                        } else {
                            rng.gen_range(1..=self.n_items)
                        };
                        let in_taste = (item - 1) % self.groups == taste;
                        let click = rng.gen_bool(if in_taste { 0.85 } else { 0.1 });
                        let like = click && item % 2 == 0 && rng.gen_bool(0.8);
                        Exposure {
                            item,
                            action: action_id(&[click, like]),
                        }
                    })
                    .collect();
                Request { time: t, exposures }
            })
            .collect()
    }

    /// `n_users` logs of `n_requests` requests each.
    pub fn users(&self, n_users: usize, n_requests: usize, seed: u64) -> Vec<Vec<Request>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n_users)
            .map(|_| self.user(n_requests, &mut rng))
            .collect()
    }
}

/// Batches of `size` examples: every (user, request r >= 1) pair, in user order.
pub fn batches(spec: &GenSpec, logs: &[Vec<Request>], size: usize) -> Vec<GenBatch> {
    let examples: Vec<(&[Request], usize)> = logs
        .iter()
        .flat_map(|l| (1..l.len()).map(move |r| (&l[..], r)))
        .collect();
    examples
        .chunks(size)
        .map(|c| GenBatch::build(spec, c))
        .collect()
}

/// One batch with each user's LAST request as the target (evaluation).
pub fn last_requests(spec: &GenSpec, logs: &[Vec<Request>]) -> GenBatch {
    let examples: Vec<(&[Request], usize)> = logs.iter().map(|l| (&l[..], l.len() - 1)).collect();
    GenBatch::build(spec, &examples)
}

/// Trains for `epochs` passes with Adam at `lr` (pre-training first, if the model has
/// it, on the same batches); returns the mean ranking loss of the first and last pass.
pub fn train(
    model: &dyn Model<Generative, Cpu>,
    store: &mut ParamStore<Cpu>,
    batches: &[GenBatch],
    epochs: usize,
    lr: f32,
) -> (f32, f32) {
    let cfg = OptimConfig {
        lr,
        weight_decay: 0.0,
        sparse: SparseOptim::adam(lr),
    };
    if let Some(plan) = model.pretraining() {
        let mut opt = baselines::pretrain_optimizer(store, &plan, &cfg);
        for _ in 0..plan.epochs {
            for b in batches {
                let baselines::StepOutput { loss, .. } =
                    baselines::pretrain_step(model, store, &mut opt, b)
                        .expect("pretrain_epochs > 0 but no pre-training loss");
                assert!(loss.is_finite(), "pre-training diverged: {loss}");
            }
        }
    }
    let mut opt = Optimizer::new(&cfg, store);
    let (mut first, mut last) = (0.0, 0.0);
    for e in 0..epochs {
        let mut sum = 0.0;
        for b in batches {
            let baselines::StepOutput { loss, .. } = train_step(model, store, &mut opt, b);
            assert!(loss.is_finite(), "loss diverged: {loss}");
            sum += loss;
        }
        let mean = sum / batches.len() as f32;
        if e == 0 {
            first = mean;
        }
        last = mean;
    }
    (first, last)
}

/// ROC AUC of `scores` against binary `labels` (ties count one half), as scikit-learn's
/// `roc_auc_score` (checked in tests/generative.rs). Panics with one class only, where
/// the AUC is undefined (it would be 0/0, a NaN that fails every comparison silently).
pub fn auc(scores: &[f32], labels: &[bool]) -> f64 {
    assert_eq!(scores.len(), labels.len(), "auc: scores and labels");
    let positives = labels.iter().filter(|&&l| l).count();
    assert!(
        positives > 0 && positives < labels.len(),
        "auc: {positives} positives of {}: undefined with one class",
        labels.len()
    );
    let (mut num, mut pos) = (0.0f64, 0usize);
    for (i, &li) in labels.iter().enumerate() {
        if !li {
            continue;
        }
        pos += 1;
        for (j, &lj) in labels.iter().enumerate() {
            if lj {
                continue;
            }
            num += if scores[i] > scores[j] {
                1.0
            } else if scores[i] == scores[j] {
                0.5
            } else {
                0.0
            };
        }
    }
    let neg = labels.len() - pos;
    num / (pos * neg) as f64
}

/// AUC of action `k` over the real candidates of `batch`.
pub fn action_auc(
    model: &dyn Model<Generative, Cpu>,
    store: &ParamStore<Cpu>,
    b: &GenBatch,
    k: usize,
) -> f64 {
    let (logits, _) = predict(model, store, b);
    let a = b.n_actions;
    let (mut s, mut l) = (Vec::new(), Vec::new());
    for (slot, &item) in b.cand_items.iter().enumerate() {
        if item != 0 {
            s.push(logits[slot * a + k]);
            l.push(b.labels[slot * a + k] == 1.0);
        }
    }
    auc(&s, &l)
}

/// Click AUC (action 0) on held-out users' last requests of `name` and of `item_only`,
/// both trained `epochs` passes on the same training users.
pub fn click_auc_vs_item_only(name: &str, config: serde_json::Value, epochs: usize) -> (f64, f64) {
    let world = TasteWorld::new();
    let spec = world.spec(24);
    let train_logs = world.users(300, 8, 1);
    let test_logs = world.users(300, 8, 2);
    let train_batches = batches(&spec, &train_logs, 64);
    let test = last_requests(&spec, &test_logs);
    let fit = |name: &str, config: &serde_json::Value| {
        let mut store = ParamStore::new(Cpu::default(), 0);
        let m = registry::build::<Generative, _>(name, config, &spec, &mut store).unwrap();
        train(m.as_ref(), &mut store, &train_batches, epochs, 0.005);
        action_auc(m.as_ref(), &store, &test, 0)
    };
    (
        fit(name, &config),
        fit("item_only", &serde_json::Value::Null),
    )
}

/// `name` beats the history-blind reference on click AUC by at least `margin`.
pub fn assert_learns_taste(name: &str, config: serde_json::Value, epochs: usize, margin: f64) {
    let (model, blind) = click_auc_vs_item_only(name, config, epochs);
    eprintln!("{name}: click AUC {model:.4} vs item_only {blind:.4}");
    assert!(
        model > blind + margin,
        "{name}: click AUC {model:.4} does not beat item_only {blind:.4} by {margin}"
    );
}

/// Every parameter of `name` gets a non-zero gradient from the ranking loss.
pub fn assert_gradients_reach_every_parameter(name: &str, config: serde_json::Value) {
    let world = TasteWorld::new();
    let spec = world.spec(12);
    let logs = world.users(16, 5, 3);
    let b = &batches(&spec, &logs, 64)[0];
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = registry::build::<Generative, _>(name, &config, &spec, &mut store).unwrap();
    for (param, norm) in gradient_norms(m.as_ref(), &store, b) {
        assert!(norm > 0.0, "{name}: no gradient reaches {param}");
    }
}

/// No candidate's logits move when ANOTHER candidate of its request changes item, or
/// when the candidates' labels change; the changed candidate's own logits do move (so
/// the check can fail). Nor do an example's logits depend on the other examples of its
/// batch: each example scored alone gets the logits it got in the batch.
pub fn assert_candidates_independent(name: &str, config: serde_json::Value) {
    let world = TasteWorld::new();
    let spec = world.spec(12);
    let logs = world.users(8, 5, 4);
    let b = last_requests(&spec, &logs);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = registry::build::<Generative, _>(name, &config, &spec, &mut store).unwrap();
    let (base, _) = predict(m.as_ref(), &store, &b);
    let (c, a) = (b.max_candidates, b.n_actions);
    for (row, log) in logs.iter().enumerate() {
        let alone = last_requests(&spec, std::slice::from_ref(log));
        let (single, _) = predict(m.as_ref(), &store, &alone);
        let diff = base[row * c * a..(row + 1) * c * a]
            .iter()
            .zip(&single)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(
            diff < 1e-5,
            "{name}: example {row} scored alone moved by {diff}: examples of a batch interact"
        );
    }
    let mut changed = b.clone();
    for row in 0..b.size {
        let i = row * c;
        changed.cand_items[i] = changed.cand_items[i] % world.n_items + 1;
    }
    changed.labels.iter_mut().for_each(|l| *l = 1.0 - *l);
    let (after, _) = predict(m.as_ref(), &store, &changed);
    for row in 0..b.size {
        for j in 0..c {
            let s = (row * c + j) * a..(row * c + j + 1) * a;
            let diff = base[s.clone()]
                .iter()
                .zip(&after[s])
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            if j == 0 {
                assert!(
                    diff > 1e-6,
                    "{name}: row {row}: the changed candidate did not move"
                );
            } else {
                assert!(
                    diff < 1e-5,
                    "{name}: row {row}: candidate {j} moved by {diff} when candidate 0 changed"
                );
            }
        }
    }
}

/// Requests shorter than `max_candidates` (the shared world's are all full, so no other
/// helper pads candidates): every logit, padding slots included, the loss and every
/// gradient stay finite. A NaN in a padding slot would poison the masked loss
/// (`0 x NaN = NaN`); an L2-normalised zero padding row is one way to get one.
pub fn assert_padded_candidates_finite(name: &str, config: serde_json::Value) {
    let world = TasteWorld::new();
    let spec = GenSpec {
        max_candidates: world.per_request + 2,
        ..world.spec(12)
    };
    let logs = world.users(16, 5, 6);
    let b = &batches(&spec, &logs, 64)[0];
    assert!(
        b.n_candidates() < b.cand_items.len(),
        "the batch has padding"
    );
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = registry::build::<Generative, _>(name, &config, &spec, &mut store).unwrap();
    let (logits, _) = predict(m.as_ref(), &store, b);
    assert!(
        logits.iter().all(|x| x.is_finite()),
        "{name}: a non-finite logit with padded candidates"
    );
    for (param, norm) in gradient_norms(m.as_ref(), &store, b) {
        assert!(norm.is_finite(), "{name}: gradient of {param} is {norm}");
    }
    let cfg = OptimConfig {
        lr: 1e-3,
        weight_decay: 0.0,
        sparse: SparseOptim::adam(1e-3),
    };
    let mut opt = Optimizer::new(&cfg, &mut store);
    let baselines::StepOutput { loss, .. } = train_step(m.as_ref(), &mut store, &mut opt, b);
    assert!(
        loss.is_finite(),
        "{name}: loss {loss} with padded candidates"
    );
}
