//! Our Go `strings.ToLower` (`pki::gostr::to_lower`) against Go's own, run
//! at test time (harness/key-oracle/golower) over every Unicode scalar
//! value and a few strings where context would matter in Rust's mapping.
//! The keys Rekor's Redis index stores and every hash key go through it,
//! and Go's Unicode tables lag Rust's, so this is what catches a toolchain
//! update on either side.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rekor_backfill::pki::gostr;

/// The Go toolchain: `go` on PATH, else the tarball install location.
fn go() -> PathBuf {
    for candidate in ["go", "/usr/local/go/bin/go"] {
        if Command::new(candidate).arg("version").output().is_ok() {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "this test needs the Go toolchain (go >= 1.25, as harness/key-oracle): \
         neither `go` on PATH nor /usr/local/go/bin/go runs"
    );
}

/// Input lines: every scalar value but the line breaks Go's scanner eats,
/// 1024 per line, then strings where Rust's full mapping uses context.
fn input_lines() -> Vec<String> {
    let scalars: Vec<char> = (0..=char::MAX as u32)
        .filter_map(char::from_u32)
        .filter(|c| !matches!(c, '\n' | '\r'))
        .collect();
    let mut lines: Vec<String> = scalars
        .chunks(1024)
        .map(|chunk| chunk.iter().collect())
        .collect();
    lines.extend(
        ["ΟΔΟΣ ΣΑΣ", "İSTANBUL", "SHA256:ABCDEF", "ǅǈǋ", "ΪΫ\u{301}"]
            .iter()
            .map(|s| s.to_string()),
    );
    lines
}

#[test]
fn lowercase_matches_go() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("harness/key-oracle/golower");
    let lines = input_lines();
    let mut child = Command::new(go())
        .args(["run", "."])
        .current_dir(&dir)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=readonly")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting `go run` in harness/key-oracle/golower");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let text = lines.iter().fold(String::new(), |mut text, line| {
        text.push_str(line);
        text.push('\n');
        text
    });
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().expect("running golower");
    writer
        .join()
        .expect("writer thread")
        .expect("writing to golower");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "golower failed: {stderr}");
    eprintln!("{}", stderr.trim());
    let go_lines: Vec<&str> = std::str::from_utf8(&out.stdout)
        .expect("golower writes UTF-8")
        .lines()
        .collect();
    assert_eq!(
        go_lines.len(),
        lines.len(),
        "one output line per input line"
    );
    let mut differences = Vec::new();
    for (line, go) in lines.iter().zip(&go_lines) {
        let ours = gostr::to_lower(line);
        if ours == *go {
            continue;
        }
        for (c, (o, g)) in line.chars().zip(ours.chars().zip(go.chars())) {
            if o != g {
                differences.push(format!(
                    "U+{:04X}: ours U+{:04X}, Go U+{:04X}",
                    c as u32, o as u32, g as u32
                ));
                break;
            }
        }
        if differences.is_empty() {
            differences.push(format!("{line:?}: ours {ours:?}, Go {go:?}"));
        }
    }
    assert!(
        differences.is_empty(),
        "to_lower differs from Go's strings.ToLower ({stderr}): {differences:?}\n\
         (a letter Go's Unicode tables do not have belongs in gostr::NEWER_THAN_GO)"
    );
}
