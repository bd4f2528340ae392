//! What `--version` prints: enough to tell which source and which build an
//! operator holds (the release binary is copied between hosts, so its name
//! says little). The commit and date come from `build.rs`.

/// The package version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit the binary was built from, or `unknown`.
pub const COMMIT: &str = env!("REKOR_BACKFILL_COMMIT");
/// RFC 3339 build date: `SOURCE_DATE_EPOCH` when the build set it.
pub const BUILD_DATE: &str = env!("REKOR_BACKFILL_BUILD_DATE");

/// How the C library is linked: a static binary needs none on the host.
pub fn linkage() -> &'static str {
    if cfg!(target_feature = "crt-static") {
        "static"
    } else {
        "dynamic"
    }
}

/// The `--version` text, one fact per line.
pub fn long() -> String {
    format!(
        "rekor-backfill {VERSION}\ncommit: {COMMIT}\nbuilt: {BUILD_DATE}\ntarget: {}-{}, {} C library\n",
        std::env::consts::ARCH,
        std::env::consts::OS,
        linkage(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_version_names_version_commit_and_date() {
        let text = long();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("rekor-backfill {VERSION}"));
        assert!(lines[1].starts_with("commit: ") && lines[1].len() > "commit: ".len());
        // RFC 3339, UTC, seconds: 2026-01-02T03:04:05Z
        let date = lines[2].strip_prefix("built: ").unwrap();
        assert_eq!(date.len(), 20, "{date}");
        assert!(date.ends_with('Z') && date.as_bytes()[10] == b'T', "{date}");
        assert!(lines[3].starts_with("target: "));
    }
}
