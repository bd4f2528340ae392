//! SIGINT and SIGTERM as flags: the first stops dispatch (in-flight work
//! finishes and the checkpoint is saved, then the process exits 130 or
//! 143 by the signal that came); a second one exits at once with its own
//! status (the checkpoint is consistent at any moment).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::exit::ExitStatus;

pub struct Interrupt {
    /// No new work: set by a signal (and by the run on a fatal error).
    pub stop: Arc<AtomicBool>,
    /// Set by a signal only.
    pub interrupted: Arc<AtomicBool>,
    /// The number of the first signal, 0 before any.
    signal: Arc<AtomicUsize>,
}

impl Interrupt {
    pub fn install() -> std::io::Result<Interrupt> {
        let interrupt = Interrupt {
            stop: Arc::new(AtomicBool::new(false)),
            interrupted: Arc::new(AtomicBool::new(false)),
            signal: Arc::new(AtomicUsize::new(0)),
        };
        for signal in [SIGINT, SIGTERM] {
            let status = ExitStatus::of_signal(signal).map_or(1, ExitStatus::code);
            // Registered first, so a second signal (flag already set) exits
            // at once; a first one falls through to the flags below.
            signal_hook::flag::register_conditional_shutdown(
                signal,
                i32::from(status),
                Arc::clone(&interrupt.interrupted),
            )?;
            signal_hook::flag::register_usize(
                signal,
                Arc::clone(&interrupt.signal),
                signal as usize,
            )?;
            signal_hook::flag::register(signal, Arc::clone(&interrupt.interrupted))?;
            signal_hook::flag::register(signal, Arc::clone(&interrupt.stop))?;
        }
        Ok(interrupt)
    }

    /// The status of a run stopped by the signal that came.
    pub fn status(&self) -> ExitStatus {
        let signal = self.signal.load(Ordering::SeqCst);
        i32::try_from(signal)
            .ok()
            .and_then(ExitStatus::of_signal)
            .unwrap_or(ExitStatus::InterruptedBySigterm)
    }
}
