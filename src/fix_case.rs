//! `rekor-backfill fix-case`: the Redis flags of a backfill, then
//! [`crate::sink::fix_case`] (which says how the merge stays crash-safe),
//! one line on stdout per list it merges (or, with `--dry-run`, would
//! merge) and a summary in the log.

use std::io::Write;

use crate::cli::{Args, Program};
use crate::config::{backend_choice, UsageError};
use crate::exit::ExitStatus;
use crate::sink;

pub fn command(program: Program, args: &Args, env: &dyn Fn(&str) -> Option<String>) -> ExitStatus {
    let backend =
        match backend_choice(program, args, env).and_then(|choice| sink::redis_backend(&choice)) {
            Ok(backend) => backend,
            Err(UsageError(e)) => {
                log::error!("{e}");
                return ExitStatus::Usage;
            }
        };
    let mut out = std::io::stdout().lock();
    let mut say = |line: &str| {
        // A closed stdout (`| head`) does not stop the repair.
        let _ = writeln!(out, "{line}");
    };
    match sink::fix_case(&backend, args.dry_run, &mut say) {
        Ok(report) => {
            let verb = if args.dry_run { "would be" } else { "were" };
            log::info!(
                keys = report.keys,
                merged = report.merged,
                deleted = report.deleted,
                skipped = report.skipped;
                "fix-case{}: {} lists under keys that are not lowercase; {} UUIDs {verb} merged into \
                 their lowercase key ({} already there); {} lists deleted; {} left alone",
                if args.dry_run { " (dry run, nothing written)" } else { "" },
                report.keys,
                report.merged,
                report.already,
                report.deleted,
                report.skipped
            );
            ExitStatus::Complete
        }
        Err(e) => {
            log::error!("{e:#} (merged lists stay merged; rerun to finish)");
            ExitStatus::Transient
        }
    }
}
