//! Provenance: what produced a result, so a number on the leaderboard can be traced to
//! the code, data, configuration, toolchain and machine that made it.

use std::process::Command;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Provenance {
    pub recbench_version: String,
    /// The commit of the checkout the run started in (`git rev-parse HEAD` there).
    pub git_commit: String,
    /// True when the working tree had uncommitted changes.
    pub git_dirty: bool,
    /// The commit the binary was built from (empty in results written before it was
    /// recorded). Differs from `git_commit` when a binary runs in another checkout, e.g.
    /// one carried to a GPU machine.
    #[serde(default)]
    pub build_commit: String,
    pub rustc: String,
    pub device: String,
    pub host: String,
    pub cpus: usize,
    pub data_sha256: String,
    pub split_sha256: crate::data::split::SplitHashes,
    pub config_sha256: String,
    pub started: String,
    pub finished: String,
}

/// The commit and dirtiness of the checkout the binary runs in ("unknown" outside git).
pub fn git_state() -> (String, bool) {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = run(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty =
        run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    (commit, dirty)
}

/// The commit this binary was built from (`unknown` outside git).
pub fn build_commit() -> String {
    env!("RECBENCH_BUILD_COMMIT").to_string()
}

/// A hash of the uncommitted changes to tracked files when this binary was built, or
/// `none` for a clean build.
pub fn build_changes() -> String {
    env!("RECBENCH_BUILD_CHANGES").to_string()
}

pub fn rustc_version() -> String {
    env!("RECBENCH_RUSTC").to_string()
}

pub fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Peak resident memory of this process (VmHWM), in bytes, on Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test binary is built from and run in this checkout, and the build script
    /// reruns when HEAD moves, so the two commits agree (both `unknown` without git).
    #[test]
    fn build_commit_is_the_checkouts_head() {
        let built = build_commit();
        assert_eq!(built, git_state().0);
        assert!(
            built == "unknown"
                || (built.len() == 40 && built.chars().all(|c| c.is_ascii_hexdigit())),
            "{built}"
        );
    }
}
