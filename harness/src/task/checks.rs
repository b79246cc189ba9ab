//! The checks of each kind's spec: what serde cannot check (known metrics, the split
//! and dataset a kind takes, sane sizes), called by [`TaskSpec::check`].

use super::generative::{action_names, GenMetric};
use super::multitask::{source_labels, MtMetric, TaskLayout};
use super::ranking::RANKING_METRICS;
use super::task_spec::{KindSpec, TaskSpec};
use crate::data::builder::DatasetSpec;
use crate::data::split::SplitSpec;
use crate::metrics::retrieval::{Protocol, RetrievalMetric};

impl TaskSpec {
    pub(super) fn check_ranking(&self) -> Result<(), (&'static str, String)> {
        for m in &self.metrics {
            if !RANKING_METRICS.contains(&m.as_str()) {
                return Err((
                    "metrics",
                    format!(
                        "unknown metric `{m}` (known: {})",
                        RANKING_METRICS.join(", ")
                    ),
                ));
            }
        }
        self.kind.kind().check_dataset(&self.dataset)
    }
}

impl TaskSpec {
    pub(super) fn check_retrieval(&self) -> Result<(), (&'static str, String)> {
        let r = self.retrieval_spec();
        let has_values = matches!(self.dataset, DatasetSpec::SynthSeq { .. });
        for m in &self.metrics {
            let metric = RetrievalMetric::parse(m).map_err(|e| ("metrics", e))?;
            match metric {
                RetrievalMetric::Revenue { .. } if !has_values => {
                    return Err((
                        "metrics",
                        format!("`{m}` (R/R*) needs item values, which only synth_seq has"),
                    ))
                }
                RetrievalMetric::Rank {
                    protocol: Protocol::Sampled(n) | Protocol::PopularitySampled(n),
                    ..
                } if n != r.sampled_negatives => {
                    return Err((
                        "metrics",
                        format!(
                            "`{m}` asks for {n} sampled negatives but retrieval.sampled_negatives is {}",
                            r.sampled_negatives
                        ),
                    ))
                }
                _ => {}
            }
        }
        self.kind.kind().check_dataset(&self.dataset)?;
        if self.split != SplitSpec::LeaveOneOut {
            return Err((
                "split",
                format!(
                    "retrieval tasks use leave_one_out, not `{}`",
                    self.split.key()
                ),
            ));
        }
        if r.max_len == 0 || r.n_neg == 0 || r.sampled_negatives == 0 {
            return Err((
                "retrieval",
                "max_len, n_neg and sampled_negatives must be positive".into(),
            ));
        }
        if r.min_events < 3 {
            return Err((
                "retrieval",
                format!(
                    "min_events {} < 3: leave-one-out needs a train, a valid and a test item",
                    r.min_events
                ),
            ));
        }
        Ok(())
    }
}

impl TaskSpec {
    pub(super) fn check_generative(&self) -> Result<(), (&'static str, String)> {
        self.kind.kind().check_dataset(&self.dataset)?;
        let actions = action_names(&self.dataset).expect("a generative source has action names");
        if actions.is_empty() || actions.len() > crate::data::requests::MAX_ACTIONS {
            return Err((
                "dataset",
                format!(
                    "{} actions: a generative task needs 1 to {}",
                    actions.len(),
                    crate::data::requests::MAX_ACTIONS
                ),
            ));
        }
        for (k, a) in actions.iter().enumerate() {
            if a.is_empty() || a.contains(':') || actions[..k].contains(a) {
                return Err((
                    "dataset",
                    format!("action name `{a}` must be non-empty, unique and without `:`"),
                ));
            }
        }
        for m in &self.metrics {
            GenMetric::parse(m, &actions).map_err(|e| ("metrics", e))?;
        }
        if self.split != SplitSpec::LeaveOneOut {
            return Err((
                "split",
                format!(
                    "generative tasks use leave_one_out (over requests), not `{}`",
                    self.split.key()
                ),
            ));
        }
        let g = self.generative_spec();
        if g.max_history == 0 || g.max_candidates == 0 {
            return Err((
                "generative",
                "max_history and max_candidates must be positive".into(),
            ));
        }
        if g.min_requests < 3 {
            return Err((
                "generative",
                format!(
                    "min_requests {} < 3: the split needs a training, a validation and a test request",
                    g.min_requests
                ),
            ));
        }
        match (&self.dataset, g.request_window_seconds) {
            (DatasetSpec::SynthGen { .. }, Some(_)) => {
                return Err((
                    "generative",
                    "request_window_seconds groups request files; synth_gen draws its requests"
                        .into(),
                ))
            }
            (_, Some(0)) => {
                return Err((
                    "generative",
                    "request_window_seconds must be positive".into(),
                ))
            }
            _ => {}
        }
        Ok(())
    }
}

impl TaskSpec {
    pub(super) fn check_multitask(&self) -> Result<(), (&'static str, String)> {
        self.kind.kind().check_dataset(&self.dataset)?;
        let KindSpec::MultiTask(settings) = &self.kind else {
            unreachable!("checked as a multi-task task")
        };
        let labels = source_labels(&self.dataset).expect("a multi-task source has labels");
        let layout = TaskLayout::resolve(settings.as_ref(), &self.dataset, &labels)?;
        for m in &self.metrics {
            MtMetric::parse(m, &layout.tasks).map_err(|e| ("metrics", e))?;
        }
        if self.split == SplitSpec::LeaveOneOut {
            return Err((
                "split",
                "multi-task tasks split rows (temporal, random, random_by_user), not leave_one_out"
                    .into(),
            ));
        }
        Ok(())
    }
}
