//! The `keys` command: the index keys of entries read on stdin, one JSON
//! line out per entry in (see [`entry::keys_for_input`] for the shapes).
//!
//! Input is read line by line, but a JSON value may span lines (`curl` of a
//! pretty-printed response, `jq .`): a line that opens an object or array
//! that does not close on it is joined with the next ones until it does.
//! A closed stdout (`keys | head`) is a normal end, not an error.

use std::io::{self, BufRead, Write};

use crate::entry;
use crate::exit::ExitStatus;

/// Largest JSON value gathered over several lines (a response of a few
/// large entries); beyond it the value is reported as an error.
const MAX_VALUE_BYTES: usize = 256 << 20;

/// Runs the command over `input`, writing to `output`.
pub fn run(input: impl BufRead, output: impl Write) -> ExitStatus {
    let mut out = io::BufWriter::new(output);
    let mut pending = String::new();
    let mut result = Ok(());
    for line in input.lines() {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                log::error!("reading stdin: {e}");
                return ExitStatus::Transient;
            }
        };
        if pending.is_empty() && !opens_json(&line) {
            result = emit(&mut out, &line);
        } else {
            if !pending.is_empty() {
                pending.push('\n');
            }
            pending.push_str(&line);
            if is_complete(&pending) || pending.len() > MAX_VALUE_BYTES {
                result = emit(&mut out, &pending);
                pending.clear();
            }
        }
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() && !pending.is_empty() {
        result = emit(&mut out, &pending);
    }
    finish(result.and_then(|()| out.flush()))
}

/// The output lines of one input.
fn emit(out: &mut impl Write, input: &str) -> io::Result<()> {
    for line in entry::keys_for_input(input) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn finish(result: io::Result<()>) -> ExitStatus {
    match result {
        Ok(()) => ExitStatus::Complete,
        // The reader went away (`| head`): it has all it wanted.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitStatus::Complete,
        Err(e) => {
            log::error!("writing stdout: {e}");
            ExitStatus::Transient
        }
    }
}

fn opens_json(line: &str) -> bool {
    line.trim_start().starts_with(['{', '['])
}

/// Whether `text` holds a whole JSON value (or is broken beyond what more
/// lines could fix).
fn is_complete(text: &str) -> bool {
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => true,
        Err(e) => !e.is_eof(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(input: &str) -> (ExitStatus, Vec<serde_json::Value>) {
        let mut out = Vec::new();
        let status = run(input.as_bytes(), &mut out);
        let lines = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (status, lines)
    }

    #[test]
    fn multi_line_values_are_joined() {
        let (status, lines) = run_on("{\n  \"body\": \"e30=\"\n}\nnot base64!\n[\n1\n");
        assert_eq!(status, ExitStatus::Complete);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0]["error"].is_string());
        assert!(lines[1]["error"].as_str().unwrap().contains("base64"));
        assert!(lines[2]["error"].as_str().unwrap().contains("input line"));
    }

    /// A writer whose reader is gone.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn a_closed_stdout_is_a_normal_end() {
        let input = "e30=\n".repeat(100_000);
        assert_eq!(run(input.as_bytes(), ClosedPipe), ExitStatus::Complete);
    }
}
