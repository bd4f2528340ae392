//! The exit statuses: one table, used by every path of the program.
//!
//! A Kubernetes Job acts on them (`podFailurePolicy.rules[].onExitCodes`),
//! so each status names one cause and one action, and README.md's "Exit
//! statuses" table lists exactly these. An error chooses its status by its
//! type ([`ExitStatus::of_error`]), never by its message: a [`UsageError`]
//! is 2, a [`LeaseHeld`] 4, a [`StatusError`] carries its own, anything
//! else is transient (1).

use std::fmt;
use std::process::ExitCode;

use crate::config::UsageError;
use crate::lease::LeaseHeld;

/// How the process ends, and what a scheduler should do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: every entry of the range is indexed, or there was nothing to do.
    Complete,
    /// 1: transient failure: Rekor or the backend unreachable after
    /// retries, a write or checkpoint save failed. In-flight work was
    /// drained and the checkpoint saved below the failure: retry later.
    Transient,
    /// 2: usage or configuration error (bad flags, `--end` beyond the log,
    /// a `--start` that contradicts the checkpoint). Nothing was written;
    /// never retry without changing the configuration.
    Usage,
    /// 3: the range was processed, but some entries could not be decoded
    /// or keyed; they are recorded (summary, `--failed-entries`). Retrying
    /// gives the same result.
    EntriesFailed,
    /// 4: another run holds this checkpoint's lease; this one wrote nothing.
    CheckpointHeld,
    /// 5: verification found a problem: `audit` found keys missing from the
    /// index, or `--verify-log` found entries that are not what the log
    /// signed (recorded, not indexed; the rest of the range is done).
    VerificationFailed,
    /// 130: interrupted by SIGINT after the final checkpoint save.
    InterruptedBySigint,
    /// 143: interrupted by SIGTERM after the final checkpoint save.
    InterruptedBySigterm,
}

impl ExitStatus {
    /// Every status, in the order of the documented table.
    pub const ALL: [ExitStatus; 8] = [
        ExitStatus::Complete,
        ExitStatus::Transient,
        ExitStatus::Usage,
        ExitStatus::EntriesFailed,
        ExitStatus::CheckpointHeld,
        ExitStatus::VerificationFailed,
        ExitStatus::InterruptedBySigint,
        ExitStatus::InterruptedBySigterm,
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Complete => 0,
            ExitStatus::Transient => 1,
            ExitStatus::Usage => 2,
            ExitStatus::EntriesFailed => 3,
            ExitStatus::CheckpointHeld => 4,
            ExitStatus::VerificationFailed => 5,
            // 128 + the signal number, as a shell reports a death by signal.
            ExitStatus::InterruptedBySigint => 130,
            ExitStatus::InterruptedBySigterm => 143,
        }
    }

    /// A short name for the machine-readable summary.
    pub fn name(self) -> &'static str {
        match self {
            ExitStatus::Complete => "complete",
            ExitStatus::Transient => "transient-failure",
            ExitStatus::Usage => "usage-error",
            ExitStatus::EntriesFailed => "entries-failed",
            ExitStatus::CheckpointHeld => "checkpoint-held",
            ExitStatus::VerificationFailed => "verification-failed",
            ExitStatus::InterruptedBySigint => "interrupted-sigint",
            ExitStatus::InterruptedBySigterm => "interrupted-sigterm",
        }
    }

    /// The status for an interrupting signal number, if it is one we handle.
    pub fn of_signal(signal: i32) -> Option<ExitStatus> {
        match signal {
            signal_hook::consts::SIGINT => Some(ExitStatus::InterruptedBySigint),
            signal_hook::consts::SIGTERM => Some(ExitStatus::InterruptedBySigterm),
            _ => None,
        }
    }

    /// The status a fatal error ends the run with: the first [`StatusError`],
    /// [`UsageError`] or [`LeaseHeld`] in its chain decides; anything else
    /// is transient.
    pub fn of_error(error: &anyhow::Error) -> ExitStatus {
        for cause in error.chain() {
            if let Some(e) = cause.downcast_ref::<StatusError>() {
                return e.status;
            }
            if cause.downcast_ref::<UsageError>().is_some() {
                return ExitStatus::Usage;
            }
            if cause.downcast_ref::<LeaseHeld>().is_some() {
                return ExitStatus::CheckpointHeld;
            }
        }
        ExitStatus::Transient
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.name())
    }
}

/// An error that ends the run with a status of its own, e.g. a lease held
/// by another run ([`ExitStatus::CheckpointHeld`]).
#[derive(Debug)]
pub struct StatusError {
    pub status: ExitStatus,
    pub message: String,
}

impl StatusError {
    pub fn new(status: ExitStatus, message: impl Into<String>) -> StatusError {
        StatusError {
            status,
            message: message.into(),
        }
    }
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StatusError {}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn codes_are_the_documented_table() {
        let codes: Vec<u8> = ExitStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 130, 143]);
    }

    #[test]
    fn errors_choose_their_status_by_type() {
        let plain = anyhow::anyhow!("connection refused");
        assert_eq!(ExitStatus::of_error(&plain), ExitStatus::Transient);
        let usage = anyhow::Error::new(UsageError("bad".into())).context("planning");
        assert_eq!(ExitStatus::of_error(&usage), ExitStatus::Usage);
        let held: anyhow::Result<()> = Err(StatusError::new(
            ExitStatus::CheckpointHeld,
            "another run holds checkpoint x",
        )
        .into());
        let held = held.context("taking the lease").unwrap_err();
        assert_eq!(ExitStatus::of_error(&held), ExitStatus::CheckpointHeld);
    }

    #[test]
    fn signals() {
        assert_eq!(
            ExitStatus::of_signal(signal_hook::consts::SIGINT).map(ExitStatus::code),
            Some(130)
        );
        assert_eq!(
            ExitStatus::of_signal(signal_hook::consts::SIGTERM).map(ExitStatus::code),
            Some(143)
        );
        assert_eq!(ExitStatus::of_signal(signal_hook::consts::SIGHUP), None);
    }
}
