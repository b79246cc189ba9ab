//! Every task and suite shipped in `tasks/` loads: known keys, metrics and models of its
//! kind, model configs that their constructors accept, suites naming existing tasks.

use std::path::Path;

use harness::runner::list_specs;
use harness::task::{SuiteSpec, TaskKind, TaskSpec};

fn tasks_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tasks"))
}

#[test]
fn shipped_tasks_and_suites_load() {
    let (tasks, suites) = list_specs(tasks_dir());
    assert!(tasks.iter().any(|t| t == "synth-seq"), "{tasks:?}");
    for name in &tasks {
        let spec = TaskSpec::load(&tasks_dir().join(format!("{name}.json")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&spec.name, name, "file name and `name` differ");
        if spec.kind == TaskKind::Retrieval {
            let seq = baselines::SeqSpec {
                n_items: 1000,
                max_len: spec.retrieval_spec().max_len,
                item_counts: None,
            };
            for (model, config) in &spec.models {
                baselines::validate_seq(model, config, &seq)
                    .unwrap_or_else(|e| panic!("{name}: {model}: {e}"));
            }
        }
    }
    for name in &suites {
        let suite = SuiteSpec::load(&tasks_dir().join("suites").join(format!("{name}.json")))
            .unwrap_or_else(|e| panic!("suite {name}: {e}"));
        for t in &suite.tasks {
            assert!(tasks.contains(t), "suite {name} names unknown task {t}");
        }
    }
}
