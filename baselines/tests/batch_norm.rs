//! Batch normalization (Ioffe & Szegedy 2015) with running statistics kept as buffers:
//! training normalizes by the batch's statistics, evaluation by the running ones, which
//! converge to a repeated batch's (train/eval consistency); an evaluated example does not
//! depend on its batch; the buffers survive snapshots and checkpoint states; gradients
//! reach the scale, the shift and the input.

use baselines::engine::{Ctx, Mat, ParamStore};
use baselines::layers::batch_norm::{BatchNorm, BN_EPS};
use baselines::Cpu;
use dfdx::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn input(n: usize, c: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n * c)
        .map(|i| 3.0 * (i % c) as f32 + rng.gen_range(-2.0..2.0) * (1 + i % c) as f32)
        .collect()
}

fn setup(c: usize) -> (ParamStore<Cpu>, BatchNorm) {
    let mut store = ParamStore::new(Cpu::default(), 0);
    let bn = BatchNorm::new(&mut store.scope("bn"), c);
    (store, bn)
}

fn run(
    store: &mut ParamStore<Cpu>,
    bn: &BatchNorm,
    x: &[f32],
    n: usize,
    training: bool,
) -> Vec<f32> {
    let c = bn.dim;
    let mut ctx = if training {
        Ctx::training()
    } else {
        Ctx::default()
    };
    let t: Mat<Cpu> = store.dev().tensor_from_vec(x.to_vec(), (n, c));
    let y = if training {
        let y = bn.forward(store, t.retaped::<OwnedTape<f32, Cpu>>(), &mut ctx);
        y.as_vec()
    } else {
        bn.forward(store, t, &mut ctx).as_vec()
    };
    ctx.apply_buffer_updates(store);
    y
}

fn column_stats(y: &[f32], n: usize, c: usize) -> Vec<(f32, f32)> {
    (0..c)
        .map(|j| {
            let col: Vec<f32> = (0..n).map(|r| y[r * c + j]).collect();
            let mean = col.iter().sum::<f32>() / n as f32;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n as f32;
            (mean, var)
        })
        .collect()
}

#[test]
fn training_normalizes_by_the_batch_and_evaluation_by_the_converged_running_stats() {
    let (n, c) = (256, 3);
    let (mut store, bn) = setup(c);
    let x = input(n, c, 1);
    let y = run(&mut store, &bn, &x, n, true);
    for (mean, var) in column_stats(&y, n, c) {
        assert!(
            mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3,
            "{mean} {var}"
        );
    }
    // The buffers moved by momentum 0.1 towards the batch's statistics.
    let stats = column_stats(&x, n, c);
    let rm = store.buffer(bn.running_mean).as_vec();
    assert!((rm[2] - 0.1 * stats[2].0).abs() < 1e-4);
    // Repeating the batch, the running statistics converge to its mean and unbiased
    // variance; evaluation then matches training up to that variance's n / (n - 1).
    for _ in 0..200 {
        run(&mut store, &bn, &x, n, true);
    }
    let (rm, rv) = (
        store.buffer(bn.running_mean).as_vec(),
        store.buffer(bn.running_var).as_vec(),
    );
    for j in 0..c {
        let unbiased = stats[j].1 * n as f32 / (n - 1) as f32;
        assert!(
            (rm[j] - stats[j].0).abs() < 1e-3 * (1.0 + stats[j].0.abs()),
            "mean {j}"
        );
        assert!((rv[j] - unbiased).abs() < 1e-3 * unbiased, "var {j}");
    }
    let train = run(&mut store, &bn, &x, n, true);
    let eval = run(&mut store, &bn, &x, n, false);
    let scale = ((n - 1) as f32 / n as f32).sqrt();
    for (t, e) in train.iter().zip(&eval) {
        assert!((t * scale - e).abs() < 2e-3 * (1.0 + t.abs()), "{t} vs {e}");
    }
    // Evaluation leaves the buffers alone.
    assert_eq!(store.buffer(bn.running_var).as_vec(), rv);
}

#[test]
fn an_evaluated_example_does_not_depend_on_its_batch() {
    let (n, c) = (64, 4);
    let (mut store, bn) = setup(c);
    run(&mut store, &bn, &input(n, c, 2), n, true);
    let x = input(n, c, 3);
    let all = run(&mut store, &bn, &x, n, false);
    let one = run(&mut store, &bn, &x[5 * c..6 * c], 1, false);
    assert_eq!(&all[5 * c..6 * c], one.as_slice());
    // With the initial running statistics (0, 1) evaluation is x / sqrt(1 + eps).
    let (mut fresh, bn2) = setup(c);
    let y = run(&mut fresh, &bn2, &x, n, false);
    assert!((y[7] - x[7] / (1.0 + BN_EPS).sqrt()).abs() < 1e-5);
}

#[test]
fn buffers_survive_snapshots_and_checkpoint_states() {
    let (n, c) = (32, 2);
    let (mut store, bn) = setup(c);
    run(&mut store, &bn, &input(n, c, 4), n, true);
    let snap = store.snapshot();
    let state = serde_json::to_string(&store.state()).unwrap();
    let before = store.named_buffers();
    run(&mut store, &bn, &input(n, c, 5), n, true);
    assert_ne!(store.named_buffers(), before);
    store.restore(&snap);
    assert_eq!(store.named_buffers(), before);
    run(&mut store, &bn, &input(n, c, 5), n, true);
    let state: baselines::engine::StoreState = serde_json::from_str(&state).unwrap();
    store.load_state(&state).unwrap();
    assert_eq!(store.named_buffers(), before);
    assert_eq!(store.buffer_values(), 2 * c);
    // Buffers are not parameters: no gradient, no optimizer state.
    assert_eq!(store.names(), ["bn.weight", "bn.bias"]);
}

#[test]
fn gradients_reach_the_scale_the_shift_and_the_input() {
    let (n, c) = (16, 3);
    let (store, bn) = setup(c);
    let x: Mat<Cpu> = store.dev().tensor_from_vec(input(n, c, 6), (n, c));
    let w: Mat<Cpu> = store.dev().tensor_from_vec(input(n, c, 7), (n, c));
    let mut ctx = Ctx::training();
    let y = bn.forward(&store, x.leaky_trace(), &mut ctx);
    let loss = (y * w).sum::<Rank0, _>();
    let grads = loss.backward();
    let nz = |v: Vec<f32>| v.iter().any(|g| g.abs() > 1e-6);
    assert!(nz(grads.get(store.vec(bn.gamma)).as_vec()));
    assert!(nz(grads.get(store.vec(bn.beta)).as_vec()));
    assert!(nz(grads.get(&x).as_vec()));
}

#[test]
fn a_training_batch_of_one_row_uses_the_running_statistics_and_updates_nothing() {
    let c = 3;
    let (mut store, bn) = setup(c);
    run(&mut store, &bn, &input(32, c, 8), 32, true);
    let before = store.named_buffers();
    let x = input(1, c, 9);
    let trained = run(&mut store, &bn, &x, 1, true);
    assert_eq!(store.named_buffers(), before);
    assert_eq!(trained, run(&mut store, &bn, &x, 1, false));
}
