//! The history-blind generative-ranking reference: its contract properties, and that
//! it learns what an item alone can tell (the per-item like rate).

mod common;

use common::gen::*;

#[test]
fn gradients_reach_every_parameter() {
    assert_gradients_reach_every_parameter("item_only", serde_json::Value::Null);
}

#[test]
fn candidates_are_scored_independently() {
    assert_candidates_independent("item_only", serde_json::Value::Null);
}

#[test]
fn padded_candidates_stay_finite() {
    assert_padded_candidates_finite("item_only", serde_json::Value::Null);
}

#[test]
fn learns_the_per_item_like_rate() {
    // Likes happen only on even items: an item embedding alone separates them.
    let world = TasteWorld::new();
    let spec = world.spec(4);
    let train_batches = batches(&spec, &world.users(200, 6, 1), 64);
    let test = last_requests(&spec, &world.users(300, 6, 2));
    let mut store = baselines::engine::ParamStore::new(baselines::Cpu::default(), 0);
    let m = baselines::registry::build::<baselines::Generative, _>(
        "item_only",
        &serde_json::Value::Null,
        &spec,
        &mut store,
    )
    .unwrap();
    let (first, last) = train(m.as_ref(), &mut store, &train_batches, 5, 0.01);
    let like = action_auc(m.as_ref(), &store, &test, 1);
    assert!(last < first, "loss {first} -> {last}");
    assert!(like > 0.7, "like AUC {like}");
}
