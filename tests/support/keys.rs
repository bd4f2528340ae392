//! Expected index keys, from the tool's own `keys` subcommand on the exact
//! bodies the server serves. A backfill run must write precisely these
//! keys; the subcommand's correctness against Rekor is checked elsewhere
//! (key parity against the Go oracle), here only the pipeline is.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

use super::tool;

/// The keys of one body, or why it has none.
pub type KeysResult = Result<Vec<String>, String>;

fn cache() -> &'static Mutex<HashMap<String, KeysResult>> {
    static CACHE: OnceLock<Mutex<HashMap<String, KeysResult>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Keys of each base64 body, in order; one `keys` process for all the
/// bodies not seen before.
pub fn keys_of(bodies_b64: &[&str]) -> Vec<KeysResult> {
    let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    let mut missing: Vec<&str> = bodies_b64
        .iter()
        .copied()
        .filter(|b| !cache.contains_key(*b))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if !missing.is_empty() {
        let input: String = missing
            .iter()
            .map(|b| format!("{}\n", serde_json::json!({ "body": b })))
            .collect();
        let out = tool::spawn(&["keys".to_string()], &[], Some(input)).wait();
        out.expect_code(tool::EXIT_OK, "rekor-backfill keys");
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            missing.len(),
            "`rekor-backfill keys` must print one line per input line\n{}",
            out.stderr
        );
        for (body, line) in missing.iter().zip(lines) {
            cache.insert(body.to_string(), parse_keys_line(line));
        }
    }
    bodies_b64.iter().map(|b| cache[*b].clone()).collect()
}

/// `{"keys":[...]}` or `{"error":"..."}`.
fn parse_keys_line(line: &str) -> KeysResult {
    let v: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("`keys` printed a line that is not JSON ({e}): {line}"));
    if let Some(keys) = v.get("keys").and_then(Value::as_array) {
        return Ok(keys
            .iter()
            .map(|k| k.as_str().expect("keys are strings").to_string())
            .collect());
    }
    match v.get("error").and_then(Value::as_str) {
        Some(e) => Err(e.to_string()),
        None => panic!("`keys` printed neither keys nor error: {line}"),
    }
}
