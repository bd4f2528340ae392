//! The blocking Rekor client: log info and entries by index, with retries.
//!
//! One [`RekorClient`] (one `ureq` agent, so one keep-alive connection pool)
//! is shared by every worker. Retries follow the Go tool (hashicorp
//! retryablehttp): transport errors, 429 and 5xx except 501 are retried with
//! exponential backoff between the wait bounds, honouring `Retry-After`.
//! Waiting is interruptible, so a shutdown never sits out a long backoff.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, Context};
use serde::Deserialize;

use crate::config::{RekorConfig, RetryPolicy};
use crate::redact::Secret;

/// Largest response we read: a batch of large entries with attestations.
const MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;
/// Longest `Retry-After` we honour; beyond this a server is misbehaving.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Why a fetch produced no entry.
#[derive(Debug)]
pub enum FetchError {
    /// The run is shutting down; the entry is simply not done.
    Cancelled,
    /// Retries are exhausted or the server answered something unusable:
    /// the run must stop.
    Fatal(anyhow::Error),
}

impl From<anyhow::Error> for FetchError {
    fn from(e: anyhow::Error) -> FetchError {
        FetchError::Fatal(e)
    }
}

/// Tree sizes from `GET /api/v1/log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogInfo {
    pub active_tree_size: u64,
    pub inactive_tree_sizes: Vec<u64>,
}

impl LogInfo {
    /// Number of entries across all shards: global log indices are
    /// `0..total_size()`.
    pub fn total_size(&self) -> u64 {
        self.inactive_tree_sizes
            .iter()
            .fold(self.active_tree_size, |sum, n| sum.saturating_add(*n))
    }
}

/// One log entry as the server returned it, not yet decoded.
#[derive(Debug, Clone)]
pub struct FetchedEntry {
    pub log_index: u64,
    /// The map key of the response: the entry UUID written as index value.
    pub uuid: String,
    /// `body` as returned; a string of base64 for every well-formed entry.
    pub body: serde_json::Value,
    /// `attestation.data` (base64) when the server stores attestations.
    pub attestation: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnonEntry {
    #[serde(default)]
    body: serde_json::Value,
    log_index: Option<u64>,
    attestation: Option<AnonAttestation>,
}

#[derive(Deserialize)]
struct AnonAttestation {
    data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogInfoResponse {
    tree_size: u64,
    #[serde(default)]
    inactive_shards: Vec<ShardInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShardInfo {
    tree_size: u64,
}

pub struct RekorClient {
    agent: ureq::Agent,
    base: String,
    headers: Vec<(String, Secret)>,
    retry: RetryPolicy,
    stop: Arc<AtomicBool>,
}

impl RekorClient {
    /// `stop` is the run's shutdown flag: when set, retries end early.
    pub fn new(config: &RekorConfig, stop: Arc<AtomicBool>) -> RekorClient {
        let mut builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("rekor-backfill/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_global(Some(Duration::from_secs(120)));
        if !config.keepalive {
            builder = builder.max_idle_connections(0);
        }
        RekorClient {
            agent: builder.build().into(),
            base: config.address.clone(),
            headers: config.headers.clone(),
            retry: config.retry,
            stop,
        }
    }

    pub fn log_info(&self) -> Result<LogInfo, FetchError> {
        let bytes = self.get("/api/v1/log")?;
        let info: LogInfoResponse = serde_json::from_slice(&bytes)
            .context("GET /api/v1/log: response is not a Rekor log info object")?;
        Ok(LogInfo {
            active_tree_size: info.tree_size,
            inactive_tree_sizes: info.inactive_shards.iter().map(|s| s.tree_size).collect(),
        })
    }

    /// The entry at a global log index (`GET /api/v1/log/entries?logIndex=N`).
    pub fn entry(&self, index: u64) -> Result<FetchedEntry, FetchError> {
        let path = format!("/api/v1/log/entries?logIndex={index}");
        let bytes = self.get(&path)?;
        let map: BTreeMap<String, AnonEntry> = serde_json::from_slice(&bytes)
            .with_context(|| format!("GET {path}: response is not a Rekor log entry"))?;
        let mut entries = map.into_iter();
        let (uuid, anon) = match (entries.next(), entries.next()) {
            (Some(one), None) => one,
            (None, _) => return Err(anyhow!("GET {path}: response holds no entry").into()),
            (Some(_), Some(_)) => {
                return Err(anyhow!("GET {path}: response holds more than one entry").into())
            }
        };
        if let Some(returned) = anon.log_index {
            if returned != index {
                return Err(anyhow!(
                    "GET {path}: server returned the entry at log index {returned} instead"
                )
                .into());
            }
        }
        Ok(FetchedEntry {
            log_index: index,
            uuid,
            body: anon.body,
            attestation: anon.attestation.and_then(|a| a.data),
        })
    }

    /// GET with retries; returns the body of a 2xx response.
    fn get(&self, path_and_query: &str) -> Result<Vec<u8>, FetchError> {
        let url = format!("{}{}", self.base, path_and_query);
        let mut attempt: u32 = 0;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Err(FetchError::Cancelled);
            }
            let outcome = self.get_once(&url);
            let (retry_after, failure) = match outcome {
                Attempt::Done(bytes) => return Ok(bytes),
                Attempt::Fatal(e) => {
                    return Err(FetchError::Fatal(
                        e.context(format!("GET {path_and_query}")),
                    ))
                }
                Attempt::Retry { retry_after, why } => (retry_after, why),
            };
            if attempt >= self.retry.retries {
                return Err(FetchError::Fatal(anyhow!(
                    "GET {path_and_query}: giving up after {} attempt(s): {failure}",
                    attempt + 1
                )));
            }
            let wait = retry_after.unwrap_or_else(|| backoff(&self.retry, attempt));
            log::debug!("GET {path_and_query}: {failure}; retrying in {wait:?}");
            if !self.sleep_unless_stopped(wait) {
                return Err(FetchError::Cancelled);
            }
            attempt += 1;
        }
    }

    fn get_once(&self, url: &str) -> Attempt {
        let mut request = self.agent.get(url).header("Accept", "application/json");
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.expose());
        }
        let mut response = match request.call() {
            Ok(response) => response,
            Err(e) => return classify_transport_error(e),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec();
        match (status, body) {
            (200..=299, Ok(bytes)) => Attempt::Done(bytes),
            (200..=299, Err(e)) => classify_transport_error(e),
            (429 | 500 | 502..=599, body) => Attempt::Retry {
                retry_after: if status == 429 || status == 503 {
                    retry_after
                } else {
                    None
                },
                why: format!("HTTP {status}{}", snippet(body.ok().as_deref())),
            },
            (_, body) => Attempt::Fatal(anyhow!("HTTP {status}{}", snippet(body.ok().as_deref()))),
        }
    }

    /// Sleeps for `wait` in short steps; false when the run is stopping.
    fn sleep_unless_stopped(&self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
        }
    }
}

enum Attempt {
    Done(Vec<u8>),
    Retry {
        retry_after: Option<Duration>,
        why: String,
    },
    Fatal(anyhow::Error),
}

fn classify_transport_error(e: ureq::Error) -> Attempt {
    match e {
        ureq::Error::Io(_)
        | ureq::Error::Timeout(_)
        | ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::Protocol(_) => Attempt::Retry {
            retry_after: None,
            why: e.to_string(),
        },
        // Bad URLs, TLS certificate problems, oversized bodies: retrying
        // cannot help.
        other => Attempt::Fatal(anyhow!(other)),
    }
}

/// `min × 2^attempt`, capped at `max`.
pub fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
    policy
        .wait_min
        .checked_mul(factor)
        .unwrap_or(policy.wait_max)
        .min(policy.wait_max)
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// A short, printable excerpt of an error response body.
fn snippet(body: Option<&[u8]>) -> String {
    let Some(body) = body.filter(|b| !b.is_empty()) else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(": {}", text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            retries: 10,
            wait_min: Duration::from_secs(1),
            wait_max: Duration::from_secs(30),
        };
        let waits: Vec<u64> = (0..7).map(|a| backoff(&p, a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(backoff(&p, 40), Duration::from_secs(30));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("100000"), Some(MAX_RETRY_AFTER));
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(60));
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(20));
        let wait = parse_retry_after(&future).unwrap();
        assert!(wait > Duration::from_secs(15) && wait <= Duration::from_secs(20));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn log_info_total() {
        let info = LogInfo {
            active_tree_size: 10,
            inactive_tree_sizes: vec![5, 7],
        };
        assert_eq!(info.total_size(), 22);
    }

    #[test]
    fn snippet_is_short_and_printable() {
        assert_eq!(snippet(None), "");
        assert_eq!(snippet(Some(b"a\nb")), ": a b");
        assert_eq!(snippet(Some(&[b'x'; 500])).len(), 202);
    }
}
