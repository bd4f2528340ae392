//! What kind of failure an error is, for every error that can stop an entry
//! or a run: one small enum that callers match on, next to a message that
//! keeps Go's wording where the key parity compares it (ripgrep's globset
//! does the same with `ErrorKind` beside its `Error`).
//!
//! The kinds group the `--failed-entries` records and the run summary, and
//! decide what a retry can change: per-entry kinds are deterministic (the
//! same body fails the same way on every run: recorded, never retried),
//! the Rekor and backend kinds are about a service (the run stops with the
//! checkpoint saved, and a later run retries). `unreadable` and `internal`
//! are per-entry too, but not a property of the body: the server cannot
//! return the entry, or this tool panicked on it. Every per-entry failure
//! is recorded in the backend and retried by later runs (`failures`).

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
    /// Trillian's database (`--trillian-mysql-dsn`) failed: a service, as
    /// `rekor` is for the API source (the run stops with its checkpoint
    /// saved, a later run retries), but named apart so that an operator
    /// looks at the database, not at rekor-server.
    Trillian,
    /// The server is up but answers 500 for this entry on every attempt
    /// (seen with entries it accepted and cannot serialize back).
    Unreadable,
    /// This tool panicked while processing the entry (a bug).
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order (metrics list them all).
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Decode,
        ErrorKind::Unsupported,
        ErrorKind::Limit,
        ErrorKind::Mismatch,
        ErrorKind::Verification,
        ErrorKind::Backend,
        ErrorKind::Rekor,
        ErrorKind::Trillian,
        ErrorKind::Unreadable,
        ErrorKind::Internal,
    ];

    /// The position in [`ErrorKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The kind named `name` ([`ErrorKind::as_str`]), for stored records.
    pub fn parse(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

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
            ErrorKind::Trillian => "trillian",
            ErrorKind::Unreadable => "unreadable",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fatal failure of a service the run depends on, tagged with its kind:
/// put at the root of an error chain so that callers match on the kind
/// ([`kind_of`]) rather than on the wording. The message names the service
/// (never with a secret) and what was asked of it.
#[derive(Debug)]
pub struct ServiceError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ServiceError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ServiceError {
        ServiceError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ServiceError {}

/// The kind of the first [`ServiceError`] in `error`'s chain, if any.
pub fn kind_of(error: &anyhow::Error) -> Option<ErrorKind> {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<ServiceError>().map(|e| e.kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_all() {
        for (i, kind) in ErrorKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), i);
            assert_eq!(ErrorKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ErrorKind::parse("nope"), None);
    }

    #[test]
    fn a_service_error_is_found_under_context() {
        use anyhow::Context;
        let tagged: anyhow::Result<()> =
            Err(ServiceError::new(ErrorKind::Trillian, "database down").into());
        let e = tagged.context("reading log entries 0..=9").unwrap_err();
        assert_eq!(kind_of(&e), Some(ErrorKind::Trillian));
        assert_eq!(format!("{e:#}"), "reading log entries 0..=9: database down");
        assert_eq!(kind_of(&anyhow::anyhow!("plain")), None);
    }
}
