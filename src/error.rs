//! What kind of failure an error is, for every error that can stop an entry
//! or a run: one small enum that callers match on, next to a message that
//! keeps Go's wording where the key parity compares it (ripgrep's globset
//! does the same with `ErrorKind` beside its `Error`).
//!
//! The kinds group the `--failed-entries` records and the run summary, and
//! decide what a retry can change: per-entry kinds are deterministic (the
//! same body fails the same way on every run: recorded, never retried),
//! the Rekor and backend kinds are about a service (the run stops with the
//! checkpoint saved, and a later run retries).

use std::fmt;

/// The kind of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorKind {
    /// Malformed input that Rekor's Go code rejects the same way: invalid
    /// JSON, base64, PEM, DER, a required field missing.
    Decode,
    /// Well-formed, but a kind, version, key type or algorithm that Rekor
    /// v1.5.4 (or this tool, for stored bodies Rekor never writes) does not
    /// handle.
    Unsupported,
    /// Over one of this tool's resource limits (body or attestation size,
    /// key material, nesting depth).
    Limit,
    /// Two parts of an entry disagree: its UUID and its body, an
    /// attestation and the message it should be.
    Mismatch,
    /// `--verify-log`: the entry is not what the log signed (its signed
    /// entry timestamp, inclusion proof or checkpoint does not verify).
    Verification,
    /// The Redis or MySQL backend failed.
    Backend,
    /// The Rekor server failed or answered something unusable.
    Rekor,
}

impl ErrorKind {
    /// The name used in `--failed-entries` lines, summaries and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Decode => "decode",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Limit => "limit",
            ErrorKind::Mismatch => "mismatch",
            ErrorKind::Verification => "verification",
            ErrorKind::Backend => "backend",
            ErrorKind::Rekor => "rekor",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
