//! Panics in a worker: caught per entry, so a parser bug on one hostile
//! entry records that entry as failed (kind `internal`) instead of hanging
//! or ending the run, and logged through the logger (not the default hook's
//! raw stderr text, which would break `--log-format json`).

use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;

/// Test-only: the run panics while processing this log index. Never set
/// it in production: it exists so the tests can prove a panic is caught.
pub const TEST_PANIC_AT_INDEX: &str = "REKOR_BACKFILL_TEST_PANIC_AT_INDEX";

/// Logs panics as error lines, with thread and location.
pub fn install_hook() {
    panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let location = info
            .location()
            .map_or_else(String::new, |l| format!("{}:{}", l.file(), l.line()));
        log::error!(
            thread = thread.name().unwrap_or("?"),
            location = location.as_str();
            "panic in thread {} at {location}: {}",
            thread.name().unwrap_or("?"),
            message(info.payload())
        );
    }));
}

/// Runs `f`; a panic becomes `Err(message)`.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| message(payload.as_ref()))
}

/// [`catch`] for the processing of log index `index`, where the test-only
/// hook ([`TEST_PANIC_AT_INDEX`]) may panic.
pub fn catch_entry<T>(index: u64, f: impl FnOnce() -> T) -> Result<T, String> {
    catch(|| {
        if test_panic_index() == Some(index) {
            panic!("{TEST_PANIC_AT_INDEX}={index} (test-only hook)");
        }
        f()
    })
}

fn test_panic_index() -> Option<u64> {
    static AT: OnceLock<Option<u64>> = OnceLock::new();
    *AT.get_or_init(|| {
        std::env::var(TEST_PANIC_AT_INDEX)
            .ok()
            .and_then(|v| v.parse().ok())
    })
}

/// The text of a panic payload (`&str` or `String`, as `panic!` makes).
pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catches_a_panic_with_its_message() {
        assert_eq!(catch_entry(1, || 5), Ok(5));
        let caught = catch(|| -> u32 { panic!("bad entry {}", 7) });
        assert_eq!(caught, Err("bad entry 7".to_string()));
    }
}
