//! Parse → run → exit status (the table in [`rekor_backfill::exit`]).
//! Everything else lives in the library.

use std::process::ExitCode;
use std::sync::Arc;

use rekor_backfill::cli::{normalize_go_args, Args, Command, Program};
use rekor_backfill::config::{self, Config, UsageError};
use rekor_backfill::counters::Counters;
use rekor_backfill::exit::ExitStatus;
use rekor_backfill::interrupt::Interrupt;
use rekor_backfill::logger::{self, LogFormat};
use rekor_backfill::metrics::Exporter;
use rekor_backfill::pipeline::{self, RunOutcome, Shared};
use rekor_backfill::{audit, fix_case, keys, sink, summary};

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().collect();
    let program = raw.first().map_or("rekor-backfill", String::as_str);
    let rest = raw.get(1..).unwrap_or_default();
    logger::init(LogFormat::sniff(rest));
    rekor_backfill::panics::install_hook();
    if let Err(e) = rekor_backfill::hostnames::use_builtin_sources() {
        log::warn!("{e}; host names resolve as nsswitch.conf says");
    }
    let args = match parse_args(program, rest) {
        Ok(args) => args,
        Err(status) => return status.into(),
    };
    // `backfill-redis` (a link to this binary) is the Redis-only drop-in for
    // the RHTAS operator's image: see `Program`.
    let started_as = Program::from_argv0(program);
    if args.version {
        match started_as {
            Program::RekorBackfill => print!("{}", rekor_backfill::version::long()),
            Program::BackfillRedis => print!("backfill-redis: {}", rekor_backfill::version::long()),
        }
        return ExitStatus::Complete.into();
    }
    let env = |name: &str| std::env::var(name).ok();
    match args.command {
        Some(Command::Keys(_)) => {
            return keys::run(std::io::stdin().lock(), std::io::stdout().lock()).into()
        }
        Some(Command::FixCase(_)) => return fix_case::command(started_as, &args, &env).into(),
        Some(Command::Audit(_)) | None => {}
    }
    match Config::for_program(started_as, &args, &env) {
        Ok(config) if matches!(args.command, Some(Command::Audit(_))) => {
            audit::command(&config).into()
        }
        Ok(config) => backfill(&config).into(),
        Err(e) => {
            let status = usage_error(&e);
            // The summary still says how the run ended, when it was asked
            // for in a form that parses.
            if config::summary_json(&args).unwrap_or(false)
                || LogFormat::sniff(rest) == LogFormat::Json
            {
                summary::print(&summary::json_line(status, &Counters::new().totals(), None));
            }
            status.into()
        }
    }
}

fn parse_args(program: &str, rest: &[String]) -> Result<Args, ExitStatus> {
    let normalized = match normalize_go_args(rest) {
        Ok(n) => n,
        Err(e) => return Err(usage_error(&UsageError(e))),
    };
    let refs: Vec<&str> = normalized.iter().map(String::as_str).collect();
    argh::FromArgs::from_args(&[program], &refs).map_err(|early: argh::EarlyExit| {
        match early.status {
            Ok(()) => {
                println!("{}", early.output);
                ExitStatus::Complete
            }
            Err(()) => usage_error(&UsageError(format!(
                "{} (run {program} --help for usage)",
                early.output.trim_end()
            ))),
        }
    })
}

fn usage_error(e: &UsageError) -> ExitStatus {
    log::error!("{e}");
    ExitStatus::Usage
}

/// A backfill run: signals, metrics, the pipeline, the summary.
fn backfill(config: &Config) -> ExitStatus {
    let interrupt = match Interrupt::install() {
        Ok(interrupt) => interrupt,
        Err(e) => {
            log::error!("installing signal handlers: {e}");
            return ExitStatus::Transient;
        }
    };
    let mut exporter = Exporter::new(&config.metrics, &config.checkpoint.name);
    let textfile = Exporter::new(&config.metrics, &config.checkpoint.name);
    let shared = Arc::new(
        Shared::new(
            Arc::clone(&interrupt.stop),
            Arc::clone(&interrupt.interrupted),
        )
        .on_checkpoint(move |counters| textfile.write_textfile(&counters.totals(), None)),
    );
    exporter.start(Arc::clone(&shared.counters));
    let status = match run(config, Arc::clone(&shared)) {
        Ok(RunOutcome::Complete) => ExitStatus::Complete,
        Ok(RunOutcome::CompleteWithFailures) => ExitStatus::EntriesFailed,
        Ok(RunOutcome::VerificationFailed) => ExitStatus::VerificationFailed,
        Ok(RunOutcome::Interrupted) => {
            let status = interrupt.status();
            log::error!(
                exit_status = status.code();
                "Interrupted: in-flight entries finished and the checkpoint saved; rerun to continue"
            );
            status
        }
        Err(e) => {
            let status = ExitStatus::of_error(&e);
            // The failed service's kind, when it is tagged with one, as a
            // field a log pipeline can group on (`--log-format json`).
            match rekor_backfill::error::kind_of(&e) {
                Some(kind) => {
                    log::error!(exit_status = status.code(), kind = kind.as_str(); "{e:#}")
                }
                None => log::error!(exit_status = status.code(); "{e:#}"),
            }
            status
        }
    };
    let totals = shared.counters.totals();
    exporter.finish(&totals, status);
    if config.summary_json {
        summary::print(&summary::json_line(
            status,
            &totals,
            Some(&config.checkpoint.name),
        ));
    }
    status
}

fn run(config: &Config, shared: Arc<Shared>) -> anyhow::Result<RunOutcome> {
    let backend = sink::backend_for(&config.backend);
    pipeline::run(config, backend.as_ref(), shared)
}
