//! Loading real entries from a JSON-lines corpus such as
//! `testdata/corpus/entries.jsonl`: one object per line with a base64 `body`
//! and, optionally, `integratedTime`, `logID` and a base64 `attestation`.

use std::path::Path;

use anyhow::{bail, Context as _};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Deserialize;

use crate::log::Entry;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    body: String,
    integrated_time: Option<i64>,
    #[serde(rename = "logID")]
    log_id: Option<String>,
    attestation: Option<String>,
}

/// Parses corpus text; errors name the offending line.
pub fn parse_corpus(text: &str) -> anyhow::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line =
            serde_json::from_str(line).with_context(|| format!("corpus line {}", n + 1))?;
        let body = B64
            .decode(&parsed.body)
            .with_context(|| format!("corpus line {}: body is not base64", n + 1))?;
        let mut entry = Entry::new(body);
        if let Some(t) = parsed.integrated_time {
            entry = entry.with_integrated_time(t);
        }
        if let Some(id) = parsed.log_id {
            entry = entry.with_log_id(id);
        }
        if let Some(att) = parsed.attestation {
            let att = B64
                .decode(&att)
                .with_context(|| format!("corpus line {}: attestation is not base64", n + 1))?;
            entry = entry.with_attestation(att);
        }
        entries.push(entry);
    }
    if entries.is_empty() {
        bail!("the corpus holds no entries");
    }
    Ok(entries)
}

/// Reads and parses a corpus file.
pub fn load_corpus(path: &Path) -> anyhow::Result<Vec<Entry>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading corpus {}", path.display()))?;
    parse_corpus(&text).with_context(|| format!("in {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_and_defaults() {
        let text = "{\"body\":\"e30=\",\"integratedTime\":5,\"logID\":\"ab\",\"attestation\":\"YQ==\",\"kind\":\"x\"}\n\n\
                    {\"body\":\"e30=\",\"integratedTime\":null,\"logID\":null}\n";
        let entries = parse_corpus(text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].body, b"{}");
        assert_eq!(entries[0].integrated_time, 5);
        assert_eq!(entries[0].log_id, "ab");
        assert_eq!(entries[0].attestation.as_deref(), Some(&b"a"[..]));
        assert_eq!(entries[1], Entry::new(b"{}".to_vec()));
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse_corpus("{\"body\":\"e30=\"}\n{\"body\":\"***\"}\n").unwrap_err();
        assert!(format!("{err:#}").contains("line 2"), "{err:#}");
        assert!(parse_corpus("\n").is_err());
    }

    #[test]
    fn vendored_corpus_loads() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus/entries.jsonl");
        let entries = load_corpus(&path).unwrap();
        assert_eq!(entries.len(), 459);
        assert!(entries.iter().all(|e| e.body.first() == Some(&b'{')));
    }
}
