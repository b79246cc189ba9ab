//! Records, for result provenance, the compiler version and the commit the binary is
//! built from (a binary carried to another machine, e.g. the GPU machine, may run in a
//! checkout whose `.git` says something else).
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=RECBENCH_RUSTC={version}");
    println!("cargo:rerun-if-changed=build.rs");

    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=RECBENCH_BUILD_COMMIT={commit}");
    // Uncommitted changes to tracked files, hashed: a checkpoint's key includes it, so a
    // build with edits is not taken for a clean build of the same commit. Rerun when
    // any source changes (directories are scanned as a whole).
    let diff = Command::new("git")
        .args(["diff", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| o.stdout)
        .unwrap_or_default();
    let changes = if diff.is_empty() {
        "none".to_string()
    } else {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        diff.hash(&mut h);
        format!("{:016x}", h.finish())
    };
    println!("cargo:rustc-env=RECBENCH_BUILD_CHANGES={changes}");
    for dir in ["src", "../baselines/src", "../Cargo.lock"] {
        println!("cargo:rerun-if-changed={dir}");
    }
    // Rebuild when HEAD moves: the HEAD file (branch switches), the branch's ref file
    // (commits) and packed-refs. Only paths that exist, since a missing path would
    // rerun this script on every build.
    let mut watch = Vec::new();
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        watch.push(format!("{dir}/HEAD"));
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch.push(format!("{dir}/{r}"));
            if let Some(common) = git(&["rev-parse", "--git-common-dir"]) {
                watch.push(format!("{common}/{r}"));
                watch.push(format!("{common}/packed-refs"));
            }
        }
    }
    for path in watch {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
