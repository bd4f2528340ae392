//! Parse → run → exit status. Everything else lives in the library.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use rekor_backfill::cli::{normalize_go_args, Args, Command, Program};
use rekor_backfill::config::{Config, UsageError};
use rekor_backfill::lease::LeaseHeld;
use rekor_backfill::pipeline::{self, RunOutcome, Shared};
use rekor_backfill::{entry, sink};

/// Exit statuses, documented in README.md.
const EXIT_OK: u8 = 0;
const EXIT_FATAL: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_ENTRY_FAILURES: u8 = 3;
const EXIT_LEASE_HELD: u8 = 4;
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_target(false)
        .init();
    if let Err(e) = rekor_backfill::hostnames::use_builtin_sources() {
        log::warn!("{e}; host names resolve as nsswitch.conf says");
    }
    let raw: Vec<String> = std::env::args().collect();
    let program = raw.first().map_or("rekor-backfill", String::as_str);
    let args = match parse_args(program, &raw[1..]) {
        Ok(args) => args,
        Err(code) => return code,
    };
    // `backfill-redis` (a link to this binary) is the Redis-only drop-in for
    // the RHTAS operator's image: see `Program`.
    let started_as = Program::from_argv0(program);
    if args.version {
        match started_as {
            Program::RekorBackfill => print!("{}", rekor_backfill::version::long()),
            Program::BackfillRedis => print!("backfill-redis: {}", rekor_backfill::version::long()),
        }
        return ExitCode::from(EXIT_OK);
    }
    if let Some(Command::Keys(_)) = args.command {
        return keys_command();
    }
    let config = match Config::for_program(started_as, &args, &|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(e) => return usage_error(&e),
    };
    match run(&config) {
        Ok(RunOutcome::Complete) => ExitCode::from(EXIT_OK),
        Ok(RunOutcome::CompleteWithFailures) => ExitCode::from(EXIT_ENTRY_FAILURES),
        Ok(RunOutcome::Interrupted) => {
            log::error!("Interrupted: in-flight entries finished and the checkpoint saved; rerun to continue");
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Err(e) if e.downcast_ref::<LeaseHeld>().is_some() => {
            log::error!("{e:#}");
            ExitCode::from(EXIT_LEASE_HELD)
        }
        Err(e) => match e.downcast_ref::<UsageError>() {
            Some(usage) => usage_error(usage),
            None => {
                log::error!("{e:#}");
                ExitCode::from(EXIT_FATAL)
            }
        },
    }
}

fn parse_args(program: &str, rest: &[String]) -> Result<Args, ExitCode> {
    let normalized = match normalize_go_args(rest) {
        Ok(n) => n,
        Err(e) => return Err(usage_error(&UsageError(e))),
    };
    let refs: Vec<&str> = normalized.iter().map(String::as_str).collect();
    argh::FromArgs::from_args(&[program], &refs).map_err(|early: argh::EarlyExit| {
        match early.status {
            Ok(()) => {
                println!("{}", early.output);
                ExitCode::from(EXIT_OK)
            }
            Err(()) => {
                eprintln!("{}", early.output.trim_end());
                eprintln!("Run {program} --help for usage.");
                ExitCode::from(EXIT_USAGE)
            }
        }
    })
}

fn usage_error(e: &UsageError) -> ExitCode {
    log::error!("{e}");
    ExitCode::from(EXIT_USAGE)
}

fn run(config: &Config) -> anyhow::Result<RunOutcome> {
    let backend = sink::backend_for(&config.backend);
    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registered first, so a second signal (flag already set) exits at once.
        signal_hook::flag::register_conditional_shutdown(
            signal,
            i32::from(EXIT_INTERRUPTED),
            Arc::clone(&interrupted),
        )?;
        signal_hook::flag::register(signal, Arc::clone(&interrupted))?;
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let shared = Arc::new(Shared::new(stop, interrupted));
    pipeline::run(config, backend.as_ref(), shared)
}

/// `rekor-backfill keys`: one JSON line out per line in.
fn keys_command() -> ExitCode {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in stdin.lock().lines() {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                log::error!("reading stdin: {e}");
                return ExitCode::from(EXIT_FATAL);
            }
        };
        if writeln!(out, "{}", entry::keys_for_line(&line)).is_err() {
            return ExitCode::from(EXIT_FATAL);
        }
    }
    match out.flush() {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(_) => ExitCode::from(EXIT_FATAL),
    }
}
