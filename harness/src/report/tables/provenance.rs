//! Where a set of cells came from: commits, data and split hashes, toolchains,
//! devices, runs and the time span, each listed once.

use std::collections::BTreeSet;

use super::types::Provenance;
use crate::report::load::Cell;

pub(super) fn provenance(cells: &[&Cell]) -> Provenance {
    let set = |f: &dyn Fn(&Cell) -> String| -> Vec<String> {
        cells
            .iter()
            .map(|c| f(c))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    Provenance {
        commits: set(&|c| {
            let p = &c.result.provenance;
            let short: String = p.git_commit.chars().take(12).collect();
            let mut s = if p.git_dirty {
                format!("{short} (dirty)")
            } else {
                short
            };
            if !p.build_commit.is_empty() && p.build_commit != p.git_commit {
                let built: String = p.build_commit.chars().take(12).collect();
                s.push_str(&format!(", binary built from {built}"));
            }
            s
        }),
        data_sha256: set(&|c| {
            format!(
                "{}: {}",
                c.result.task,
                c.result
                    .provenance
                    .data_sha256
                    .chars()
                    .take(16)
                    .collect::<String>()
            )
        }),
        split_sha256: set(&|c| {
            let s = &c.result.provenance.split_sha256;
            format!(
                "{}: train {} · valid {} · test {}",
                c.result.task,
                &s.train.chars().take(12).collect::<String>(),
                &s.valid.chars().take(12).collect::<String>(),
                &s.test.chars().take(12).collect::<String>()
            )
        }),
        toolchains: set(&|c| c.result.provenance.rustc.clone()),
        devices: set(&|c| {
            let p = &c.result.provenance;
            format!("{} on {} ({} CPUs)", p.device, p.host, p.cpus)
        }),
        runs: set(&|c| c.result.run.clone()),
        resumed: cells
            .iter()
            .filter(|c| !c.result.resumed_after_epochs.is_empty())
            .map(|c| {
                let r = &c.result;
                let epochs: Vec<String> = r
                    .resumed_after_epochs
                    .iter()
                    .map(|e| e.to_string())
                    .collect();
                let after = if epochs.len() == 1 { "epoch" } else { "epochs" };
                format!(
                    "{} {} seed {}: after {after} {}",
                    r.task,
                    r.model,
                    r.seed,
                    epochs.join(", ")
                )
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        first_started: cells
            .iter()
            .map(|c| c.result.provenance.started.clone())
            .min()
            .unwrap_or_default(),
        last_finished: cells
            .iter()
            .map(|c| c.result.provenance.finished.clone())
            .max()
            .unwrap_or_default(),
    }
}
