//! Build metadata for `rekor-backfill --version`: the git commit and the
//! build date, so an operator can tell which source a binary came from.
//!
//! The date is `SOURCE_DATE_EPOCH` when set (reproducible builds; `make
//! release` sets it to the commit's date), else the time this script ran.
//! The commit is `REKOR_BACKFILL_COMMIT` when set (a build from a source
//! archive without `.git`), else `git rev-parse HEAD`, else "unknown".

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-env-changed=REKOR_BACKFILL_COMMIT");
    let commit = std::env::var("REKOR_BACKFILL_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=REKOR_BACKFILL_COMMIT={commit}");
    println!("cargo:rustc-env=REKOR_BACKFILL_BUILD_DATE={}", build_date());
    for path in git_paths_to_watch() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

fn git_commit() -> Option<String> {
    git(&["rev-parse", "HEAD"])
}

/// HEAD and the ref it names, so a commit or a checkout reruns this script
/// (in a worktree both live under the worktree's own git directory).
fn git_paths_to_watch() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(head) = git(&["rev-parse", "--git-path", "HEAD"]) {
        paths.push(PathBuf::from(head));
    }
    if let Some(name) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(reference) = git(&["rev-parse", "--git-path", &name]) {
            paths.push(PathBuf::from(reference));
        }
        if let Some(packed) = git(&["rev-parse", "--git-path", "packed-refs"]) {
            paths.push(PathBuf::from(packed));
        }
    }
    paths.retain(|p| Path::new(p).exists());
    paths
}

fn build_date() -> String {
    let when = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => match epoch.trim().parse::<u64>() {
            Ok(seconds) => UNIX_EPOCH + Duration::from_secs(seconds),
            Err(_) => panic!("SOURCE_DATE_EPOCH={epoch:?} is not a number of seconds"),
        },
        Err(_) => SystemTime::now(),
    };
    humantime::format_rfc3339_seconds(when).to_string()
}
