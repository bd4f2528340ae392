//! The blocking Rekor client: log info and entries by index, with retries.
//!
//! One [`RekorClient`] (one `ureq` agent, so one keep-alive connection pool)
//! is shared by every worker. Retries follow the Go tool (hashicorp
//! retryablehttp): transport errors, 429 and 5xx except 501 are retried with
//! exponential backoff between the wait bounds, honouring `Retry-After`.
//! Waiting is interruptible, so a shutdown never sits out a long backoff.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, Context};
use serde::Deserialize;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::config::{RekorConfig, RetryPolicy};
use crate::log_layout::LogLayout;
use crate::redact::Secret;

/// Largest response we read: a batch of large entries with attestations.
const MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;
/// Longest `Retry-After` we honour; beyond this a server is misbehaving.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
/// How long a resolved Rekor address is reused (see [`CachingResolver`]).
const RESOLVE_CACHE_FOR: Duration = Duration::from_secs(30);

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
    /// What `--verify-log` checks; `None` when the server sent no
    /// `verification`. Boxed: most runs never look at it.
    pub evidence: Option<Box<LogEvidence>>,
}

/// The parts of an entry the log signed, kept as served. `verification`
/// stays raw JSON: it is parsed only by `--verify-log`, so a run without
/// the flag reads entries exactly as before.
#[derive(Debug, Clone)]
pub struct LogEvidence {
    pub integrated_time: serde_json::Value,
    pub log_id: serde_json::Value,
    pub verification: Box<serde_json::value::RawValue>,
}

// Wire types, named and shaped as in Rekor's OpenAPI document
// (openapi.yaml, as generated into sigstore-rs `src/rekor/models/`), with
// only the fields the tool reads.

/// The value of one `uuid → entry` pair of a `LogEntry` response.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEntryAnon {
    #[serde(default)]
    body: serde_json::Value,
    log_index: Option<u64>,
    attestation: Option<LogEntryAnonAttestation>,
    #[serde(default)]
    integrated_time: serde_json::Value,
    #[serde(default, rename = "logID")]
    log_id: serde_json::Value,
    #[serde(default)]
    verification: Option<Box<serde_json::value::RawValue>>,
}

#[derive(Deserialize)]
struct LogEntryAnonAttestation {
    data: Option<String>,
}

/// `GET /api/v1/log`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogInfo {
    tree_size: u64,
    #[serde(rename = "treeID")]
    tree_id: String,
    /// Absent or `null` on a single-shard server.
    #[serde(default)]
    inactive_shards: Option<Vec<InactiveShardLogInfo>>,
    #[serde(default)]
    signed_tree_head: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InactiveShardLogInfo {
    tree_size: u64,
    #[serde(rename = "treeID")]
    tree_id: String,
    #[serde(default)]
    signed_tree_head: Option<String>,
}

/// One tree's signed tree head as `GET /api/v1/log` serves it, beside the
/// size the same response gives; parsed and verified only by
/// `--verify-log` (`crate::verify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTreeHead {
    pub tree_id: String,
    pub tree_size: u64,
    /// The signed note (`signedTreeHead`); `None` when the server sent none.
    pub note: Option<String>,
}

pub struct RekorClient {
    agent: ureq::Agent,
    base: String,
    headers: Vec<(String, Secret)>,
    retry: RetryPolicy,
    stop: Arc<AtomicBool>,
    /// Cleared when the server rejects `POST /api/v1/log/entries/retrieve`;
    /// from then on entries are fetched one `GET` at a time.
    batch: AtomicBool,
}

/// Rekor's limit on queries in one `SearchLogQuery` (`maxSearchQueries`).
pub const MAX_BATCH: usize = 10;

impl RekorClient {
    /// `stop` is the run's shutdown flag: when set, retries end early.
    /// `workers` is how many threads share the client: the keep-alive pool
    /// holds a connection for each, so none is closed and reopened between
    /// two requests (ureq keeps 3 per host by default).
    pub fn new(config: &RekorConfig, stop: Arc<AtomicBool>, workers: usize) -> RekorClient {
        let mut builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("rekor-backfill/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_global(Some(Duration::from_secs(120)));
        builder = if config.keepalive {
            builder
                .max_idle_connections(workers.max(10))
                .max_idle_connections_per_host(workers.max(3))
        } else {
            builder.max_idle_connections(0)
        };
        if config.address.to_ascii_lowercase().starts_with("https://") {
            // The platform's trust (system store, SSL_CERT_FILE/DIR), not
            // only ureq's compiled-in roots: Rekor may sit behind a private CA.
            builder = builder.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(crate::tls::roots().ureq_root_certs())
                    .build(),
            );
        }
        RekorClient {
            agent: ureq::Agent::with_parts(
                builder.build(),
                DefaultConnector::new(),
                CachingResolver::default(),
            ),
            base: config.address.clone(),
            headers: config.headers.clone(),
            retry: config.retry,
            stop,
            batch: AtomicBool::new(true),
        }
    }

    /// The log's trees and sizes (`GET /api/v1/log`).
    pub fn log_info(&self) -> Result<LogLayout, FetchError> {
        Ok(self.log_state()?.0)
    }

    /// The log's trees and sizes and, from the same response, each tree's
    /// signed tree head, in the layout's order (`GET /api/v1/log`).
    pub fn log_state(&self) -> Result<(LogLayout, Vec<SignedTreeHead>), FetchError> {
        let bytes = self.send(&Request::get("/api/v1/log".to_string()))?;
        let info: LogInfo = serde_json::from_slice(&bytes)
            .context("GET /api/v1/log: response is not a Rekor log info object")?;
        let inactive = info.inactive_shards.unwrap_or_default();
        if std::iter::once(&info.tree_id)
            .chain(inactive.iter().map(|s| &s.tree_id))
            .any(|id| id.is_empty())
        {
            return Err(anyhow!("GET /api/v1/log: a shard has an empty treeID").into());
        }
        let heads = inactive
            .iter()
            .map(|s| (&s.tree_id, s.tree_size, &s.signed_tree_head))
            .chain(std::iter::once((
                &info.tree_id,
                info.tree_size,
                &info.signed_tree_head,
            )))
            .map(|(tree_id, tree_size, note)| SignedTreeHead {
                tree_id: tree_id.clone(),
                tree_size,
                note: note.clone(),
            })
            .collect();
        let layout = LogLayout::new(
            inactive
                .into_iter()
                .map(|s| (s.tree_id, s.tree_size))
                .collect(),
            (info.tree_id, info.tree_size),
        );
        Ok((layout, heads))
    }

    /// The log's public key, PEM (`GET /api/v1/log/publicKey`).
    pub fn public_key(&self) -> Result<Vec<u8>, FetchError> {
        self.send(&Request::get_pem("/api/v1/log/publicKey".to_string()))
    }

    /// The entry at a global log index (`GET /api/v1/log/entries?logIndex=N`).
    pub fn entry(&self, index: u64) -> Result<FetchedEntry, FetchError> {
        let request = Request::get(format!("/api/v1/log/entries?logIndex={index}"));
        let bytes = self.send(&request)?;
        let map: LogEntryMap = serde_json::from_slice(&bytes)
            .with_context(|| format!("{request}: response is not a Rekor log entry"))?;
        let entry = single_entry(map).with_context(|| request.to_string())?;
        if entry.log_index.is_some_and(|returned| returned != index) {
            return Err(anyhow!(
                "{request}: server returned the entry at log index {} instead",
                entry.log_index.unwrap_or_default()
            )
            .into());
        }
        Ok(entry.into_fetched(index))
    }

    /// The entries at consecutive indices, in order. Uses the batch endpoint
    /// (`POST /api/v1/log/entries/retrieve`, at most [`MAX_BATCH`] indices)
    /// while the server accepts it; a server that rejects it gets one `GET`
    /// per index for the rest of the run. Every requested index must come
    /// back: a missing one is an error, never "done".
    pub fn entries(&self, indices: RangeInclusive<u64>) -> Result<Vec<FetchedEntry>, FetchError> {
        let wanted: Vec<u64> = indices.collect();
        if wanted.len() > 1 && self.batch.load(Ordering::Relaxed) {
            match self.batch_entries(&wanted) {
                Err(FetchError::Fatal(e)) if is_rejection(&e) => {
                    if self.batch.swap(false, Ordering::Relaxed) {
                        log::warn!(
                            "Rekor rejected the batch endpoint ({e:#}); fetching one entry per request"
                        );
                    }
                }
                other => return other,
            }
        }
        wanted.into_iter().map(|index| self.entry(index)).collect()
    }

    fn batch_entries(&self, wanted: &[u64]) -> Result<Vec<FetchedEntry>, FetchError> {
        let mut found: Vec<Option<FetchedEntry>> = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(MAX_BATCH) {
            let body = serde_json::json!({ "logIndexes": chunk }).to_string();
            let request = Request::post("/api/v1/log/entries/retrieve".to_string(), body);
            let bytes = self.send(&request)?;
            let list: Vec<LogEntryMap> = serde_json::from_slice(&bytes)
                .with_context(|| format!("{request}: response is not a list of log entries"))?;
            let mut slots: Vec<Option<FetchedEntry>> = vec![None; chunk.len()];
            for map in list {
                let entry = single_entry(map).with_context(|| request.to_string())?;
                // Rekor answers in request order but omits indices it cannot
                // find, so entries are matched by their logIndex.
                let Some(returned) = entry.log_index else {
                    return Err(anyhow!("{request}: an entry has no logIndex").into());
                };
                let Some(slot) = chunk.iter().position(|&i| i == returned) else {
                    return Err(anyhow!(
                        "{request}: server returned log index {returned}, which was not asked for"
                    )
                    .into());
                };
                if slots[slot].is_some() {
                    return Err(anyhow!("{request}: log index {returned} returned twice").into());
                }
                slots[slot] = Some(entry.into_fetched(returned));
            }
            found.extend(slots);
        }
        wanted
            .iter()
            .zip(found)
            .map(|(index, entry)| {
                entry.ok_or_else(|| {
                    FetchError::Fatal(anyhow!(
                        "Rekor did not return log index {index} (POST /api/v1/log/entries/retrieve)"
                    ))
                })
            })
            .collect()
    }

    /// Sends with retries; returns the body of a 2xx response.
    fn send(&self, request: &Request) -> Result<Vec<u8>, FetchError> {
        let url = format!("{}{}", self.base, request.path);
        let mut attempt: u32 = 0;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Err(FetchError::Cancelled);
            }
            let (retry_after, failure, last_status) = match self.send_once(request, &url) {
                Attempt::Done(bytes) => return Ok(bytes),
                Attempt::Fatal(e) => return Err(FetchError::Fatal(e.context(request.to_string()))),
                Attempt::Retry {
                    retry_after,
                    why,
                    status,
                } => (retry_after, why, status),
            };
            if attempt >= self.retry.retries {
                return Err(FetchError::Fatal(anyhow::Error::new(GaveUp {
                    request: request.to_string(),
                    attempts: attempt + 1,
                    failure,
                    status: last_status,
                })));
            }
            let wait = retry_after.unwrap_or_else(|| backoff(&self.retry, attempt));
            // Visible by default: an operator wants to know the server is
            // struggling before the run gives up.
            log::warn!(
                "{request}: {failure}; retry {} of {} in {}",
                attempt + 1,
                self.retry.retries,
                humantime::format_duration(wait)
            );
            if !self.sleep_unless_stopped(wait) {
                return Err(FetchError::Cancelled);
            }
            attempt += 1;
        }
    }

    fn send_once(&self, request: &Request, url: &str) -> Attempt {
        let result = match &request.body {
            None => self
                .with_headers(self.agent.get(url), request.accept)
                .call(),
            Some(body) => self
                .with_headers(self.agent.post(url), request.accept)
                .header("Content-Type", "application/json")
                .send(body.as_bytes()),
        };
        let mut response = match result {
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
                status: Some(status),
                retry_after: if status == 429 || status == 503 {
                    retry_after
                } else {
                    None
                },
                why: format!("HTTP {status}{}", snippet(body.ok().as_deref())),
            },
            (_, body) => Attempt::Fatal(anyhow::Error::new(HttpStatus {
                status,
                excerpt: snippet(body.ok().as_deref()),
            })),
        }
    }

    fn with_headers<B>(
        &self,
        mut builder: ureq::RequestBuilder<B>,
        accept: &str,
    ) -> ureq::RequestBuilder<B> {
        builder = builder.header("Accept", accept);
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.expose());
        }
        builder
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

/// ureq 3 resolves the host before every request, even one that then
/// reuses a pooled connection, and its default resolver does each lookup
/// on a new thread when a timeout applies (ours always do): a thread spawn
/// per request, about a tenth of the tool's CPU in a profile. This resolver
/// reuses the last answer for [`RESOLVE_CACHE_FOR`], so a run still follows
/// DNS changes, and leaves lookups (with their timeout) to ureq's resolver.
#[derive(Default)]
struct CachingResolver {
    inner: DefaultResolver,
    last: Mutex<Option<Resolved>>,
}

struct Resolved {
    /// Scheme and authority: what the answer depends on.
    target: String,
    at: Instant,
    addrs: ResolvedSocketAddrs,
}

impl fmt::Debug for CachingResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingResolver").finish_non_exhaustive()
    }
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let target = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or_default(),
            uri.authority().map(|a| a.as_str()).unwrap_or_default()
        );
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(hit) = last
            .as_ref()
            .filter(|r| r.target == target && r.at.elapsed() < RESOLVE_CACHE_FOR)
        {
            return Ok(hit.addrs.clone());
        }
        // Not holding the lock during a lookup that may take seconds.
        drop(last);
        let addrs = self.inner.resolve(uri, config, timeout)?;
        last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        *last = Some(Resolved {
            target,
            at: Instant::now(),
            addrs: addrs.clone(),
        });
        Ok(addrs)
    }
}

/// One Rekor request, printable for error messages (no secrets in it).
struct Request {
    path: String,
    body: Option<String>,
    /// The `Accept` header: JSON but for the PEM public key.
    accept: &'static str,
}

impl Request {
    fn get(path: String) -> Request {
        Request {
            path,
            body: None,
            accept: "application/json",
        }
    }

    fn get_pem(path: String) -> Request {
        Request {
            path,
            body: None,
            accept: "application/x-pem-file",
        }
    }

    fn post(path: String, body: String) -> Request {
        Request {
            path,
            body: Some(body),
            accept: "application/json",
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = if self.body.is_some() { "POST" } else { "GET" };
        write!(f, "{method} {}", self.path)
    }
}

/// Retries ran out. `status` is the last answer's HTTP status (`None`: no
/// answer at all), so a caller can tell a server that answers 500 for one
/// entry from a server that is down.
#[derive(Debug)]
pub struct GaveUp {
    request: String,
    attempts: u32,
    failure: String,
    pub status: Option<u16>,
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: giving up after {} attempt(s): {}",
            self.request, self.attempts, self.failure
        )
    }
}

impl std::error::Error for GaveUp {}

impl FetchError {
    /// The service that failed: the kind a source tagged the error with
    /// ([`crate::error::ServiceError`]), else Rekor's.
    pub fn kind(&self) -> crate::error::ErrorKind {
        match self {
            FetchError::Fatal(e) => crate::error::kind_of(e),
            FetchError::Cancelled => None,
        }
        .unwrap_or(crate::error::ErrorKind::Rekor)
    }

    /// True when the server answered HTTP 500 to every attempt: it is up,
    /// but this request fails (an entry it cannot return).
    pub fn is_persistent_500(&self) -> bool {
        match self {
            FetchError::Fatal(e) => e
                .downcast_ref::<GaveUp>()
                .is_some_and(|g| g.status == Some(500)),
            FetchError::Cancelled => false,
        }
    }
}

/// A non-retryable HTTP status, kept as a type so callers can tell a
/// rejected endpoint from other failures.
#[derive(Debug)]
struct HttpStatus {
    status: u16,
    excerpt: String,
}

impl fmt::Display for HttpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}{}", self.status, self.excerpt)
    }
}

impl std::error::Error for HttpStatus {}

/// A server without the batch endpoint (or one that refuses its body).
fn is_rejection(e: &anyhow::Error) -> bool {
    e.downcast_ref::<HttpStatus>()
        .is_some_and(|s| matches!(s.status, 400 | 404 | 405 | 415 | 422 | 501))
}

type LogEntryMap = BTreeMap<String, LogEntryAnon>;

/// A response object must hold exactly one `uuid → entry` pair.
fn single_entry(map: LogEntryMap) -> anyhow::Result<UuidEntry> {
    let mut entries = map.into_iter();
    match (entries.next(), entries.next()) {
        (Some((uuid, anon)), None) => Ok(UuidEntry {
            uuid,
            log_index: anon.log_index,
            body: anon.body,
            attestation: anon.attestation.and_then(|a| a.data),
            evidence: anon.verification.map(|verification| {
                Box::new(LogEvidence {
                    integrated_time: anon.integrated_time,
                    log_id: anon.log_id,
                    verification,
                })
            }),
        }),
        (None, _) => Err(anyhow!("response holds an empty log entry")),
        (Some(_), Some(_)) => Err(anyhow!("a log entry object holds more than one entry")),
    }
}

struct UuidEntry {
    uuid: String,
    log_index: Option<u64>,
    body: serde_json::Value,
    attestation: Option<String>,
    evidence: Option<Box<LogEvidence>>,
}

impl UuidEntry {
    fn into_fetched(self, log_index: u64) -> FetchedEntry {
        FetchedEntry {
            log_index,
            uuid: self.uuid,
            body: self.body,
            attestation: self.attestation,
            evidence: self.evidence,
        }
    }
}

enum Attempt {
    Done(Vec<u8>),
    Retry {
        retry_after: Option<Duration>,
        why: String,
        /// The HTTP status answered, `None` for a transport failure.
        status: Option<u16>,
    },
    Fatal(anyhow::Error),
}

fn classify_transport_error(e: ureq::Error) -> Attempt {
    match e {
        // ureq reports a rejected certificate as an I/O error; like Go's
        // retryablehttp, do not retry it.
        ureq::Error::Io(io) if crate::tls::is_certificate_error(&io) => Attempt::Fatal(anyhow!(
            "{io}{}",
            crate::tls::certificate_hint(&io.to_string())
        )),
        ureq::Error::Io(_)
        | ureq::Error::Timeout(_)
        | ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::Protocol(_) => Attempt::Retry {
            status: None,
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

    /// The defaults wait out a 30 s rekor-server restart (plus its start-up)
    /// but give up on a server that stays down within about a minute.
    #[test]
    fn default_retries_outlast_a_30s_outage() {
        let p = RetryPolicy::default();
        let total: Duration = (0..p.retries).map(|a| backoff(&p, a)).sum();
        assert_eq!(total, Duration::from_secs(61));
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
    fn log_info_with_null_missing_and_listed_shards() {
        for (answer, total) in [
            (r#"{"treeSize":7,"treeID":"3","inactiveShards":null}"#, 7),
            (r#"{"treeSize":7,"treeID":"3"}"#, 7),
            (
                r#"{"treeSize":7,"treeID":"3","inactiveShards":[{"treeSize":5,"treeID":"1"},{"treeSize":2,"treeID":"2"}]}"#,
                14,
            ),
        ] {
            let (address, _) = serve(move |_, _| (200, answer.to_string()));
            let info = client(&address, 0).log_info().unwrap();
            assert_eq!(info.total_size(), total, "{answer}");
            assert_eq!(info.active().tree_id, "3");
            assert_eq!(info.active().start_index, total - 7);
        }
        for bad in [r#"{"treeSize":7}"#, r#"{"treeSize":7,"treeID":""}"#] {
            let (address, _) = serve(move |_, _| (200, bad.to_string()));
            assert!(client(&address, 0).log_info().is_err(), "{bad}");
        }
    }

    /// A one-thread HTTP/1.1 server answering each request with `answer`.
    fn serve<F>(answer: F) -> (String, Arc<std::sync::Mutex<Vec<String>>>)
    where
        F: Fn(&str, &str) -> (u16, String) + Send + 'static,
    {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                reader.read_line(&mut head).unwrap();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let request = format!("{} {}", head.trim(), String::from_utf8_lossy(&body));
                log.lock().unwrap().push(request.clone());
                let (status, text) = answer(&request, &String::from_utf8_lossy(&body));
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
                stream.write_all(response.as_bytes()).unwrap();
            }
        });
        (address, seen)
    }

    fn client(address: &str, retries: u32) -> RekorClient {
        let config = RekorConfig {
            address: address.to_string(),
            headers: vec![("X-Token".to_string(), Secret::new("s3cret"))],
            retry: RetryPolicy {
                retries,
                wait_min: Duration::from_millis(1),
                wait_max: Duration::from_millis(5),
            },
            keepalive: true,
        };
        RekorClient::new(&config, Arc::new(AtomicBool::new(false)), 1)
    }

    fn entry_json(index: u64) -> String {
        format!(r#"{{"uuid{index}":{{"body":"e30=","logIndex":{index}}}}}"#)
    }

    #[test]
    fn retries_5xx_then_succeeds() {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let (address, seen) = serve(move |_, _| {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                (503, "busy".to_string())
            } else {
                (200, entry_json(4))
            }
        });
        let entry = client(&address, 3).entry(4).unwrap();
        assert_eq!(entry.uuid, "uuid4");
        assert_eq!(entry.body, serde_json::json!("e30="));
        assert_eq!(seen.lock().unwrap().len(), 3);
    }

    #[test]
    fn gives_up_after_the_retries() {
        let (address, seen) = serve(|_, _| (500, "boom".to_string()));
        let err = match client(&address, 2).entry(1) {
            Err(FetchError::Fatal(e)) => format!("{e:#}"),
            other => panic!("expected a fatal error, got {other:?}"),
        };
        assert!(err.contains("giving up after 3 attempt(s)"), "{err}");
        assert!(err.contains("HTTP 500: boom"), "{err}");
        assert!(!err.contains("s3cret"));
        assert_eq!(seen.lock().unwrap().len(), 3);
    }

    #[test]
    fn not_found_is_fatal_without_retry() {
        let (address, seen) = serve(|_, _| (404, r#"{"code":404}"#.to_string()));
        assert!(matches!(
            client(&address, 3).entry(9),
            Err(FetchError::Fatal(_))
        ));
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn wrong_index_in_response_is_fatal() {
        let (address, _) = serve(|_, _| (200, entry_json(5)));
        match client(&address, 0).entry(6) {
            Err(FetchError::Fatal(e)) => assert!(format!("{e:#}").contains("log index 5 instead")),
            other => panic!("expected a fatal error, got {other:?}"),
        }
    }

    #[test]
    fn batch_matches_entries_by_log_index() {
        let (address, seen) = serve(|request, body| {
            assert!(request.starts_with("POST /api/v1/log/entries/retrieve"));
            let asked: serde_json::Value = serde_json::from_str(body).unwrap();
            let mut list: Vec<String> = asked["logIndexes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| entry_json(i.as_u64().unwrap()))
                .collect();
            list.reverse();
            (200, format!("[{}]", list.join(",")))
        });
        let got = client(&address, 0).entries(3..=7).unwrap();
        let indices: Vec<u64> = got.iter().map(|e| e.log_index).collect();
        assert_eq!(indices, [3, 4, 5, 6, 7]);
        assert_eq!(got[0].uuid, "uuid3");
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn batch_missing_index_is_an_error() {
        let (address, _) = serve(|_, _| (200, format!("[{}]", entry_json(3))));
        match client(&address, 0).entries(3..=4) {
            Err(FetchError::Fatal(e)) => {
                assert!(format!("{e:#}").contains("did not return log index 4"))
            }
            other => panic!("expected a fatal error, got {other:?}"),
        }
    }

    #[test]
    fn rejected_batch_falls_back_to_get() {
        let (address, seen) = serve(|request, _| {
            if request.starts_with("POST") {
                (405, String::new())
            } else {
                let index: u64 = request
                    .split("logIndex=")
                    .nth(1)
                    .and_then(|r| r.split(' ').next())
                    .unwrap()
                    .parse()
                    .unwrap();
                (200, entry_json(index))
            }
        });
        let c = client(&address, 0);
        assert_eq!(c.entries(0..=1).unwrap().len(), 2);
        assert_eq!(c.entries(2..=3).unwrap()[1].log_index, 3);
        let seen = seen.lock().unwrap();
        // One rejected POST, then GETs only.
        assert_eq!(seen.iter().filter(|r| r.starts_with("POST")).count(), 1);
        assert_eq!(seen.iter().filter(|r| r.starts_with("GET")).count(), 4);
    }

    #[test]
    fn stop_flag_cancels_retries() {
        let (address, _) = serve(|_, _| (503, String::new()));
        let mut c = client(&address, 100);
        c.retry.wait_min = Duration::from_secs(60);
        c.retry.wait_max = Duration::from_secs(60);
        let stop = Arc::clone(&c.stop);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            stop.store(true, Ordering::SeqCst);
        });
        let started = Instant::now();
        assert!(matches!(c.entry(0), Err(FetchError::Cancelled)));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn snippet_is_short_and_printable() {
        assert_eq!(snippet(None), "");
        assert_eq!(snippet(Some(b"a\nb")), ": a b");
        assert_eq!(snippet(Some(&[b'x'; 500])).len(), 202);
    }

    #[test]
    fn resolver_reuses_the_answer_for_the_same_target_only() {
        let resolver = CachingResolver::default();
        let config = ureq::config::Config::default();
        let timeout = || NextTimeout {
            after: Duration::from_secs(5).into(),
            reason: ureq::Timeout::Resolve,
            per_read: None,
            per_write: None,
        };
        let resolve = |uri: &str| {
            let uri: Uri = uri.parse().unwrap();
            let addrs = resolver.resolve(&uri, &config, timeout()).unwrap();
            addrs.iter().map(|a| a.port()).collect::<Vec<_>>()
        };
        assert_eq!(resolve("http://127.0.0.1:1111/api/v1/log"), vec![1111]);
        // A planted answer proves that the next request is served from the
        // cache instead of resolving again.
        {
            let mut last = resolver.last.lock().unwrap();
            let cached = last.as_mut().unwrap();
            let mut planted = resolver.inner.empty();
            planted.push("127.0.0.1:7".parse().unwrap());
            cached.addrs = planted;
        }
        assert_eq!(resolve("http://127.0.0.1:1111/api/v1/log/entries"), vec![7]);
        assert_eq!(resolve("http://127.0.0.1:2222/api/v1/log"), vec![2222]);
        assert_eq!(resolve("https://127.0.0.1:2222/api/v1/log"), vec![2222]);
        // An expired answer is looked up again.
        resolver.last.lock().unwrap().as_mut().unwrap().at -= RESOLVE_CACHE_FOR;
        let mut planted = resolver.inner.empty();
        planted.push("127.0.0.1:7".parse().unwrap());
        resolver.last.lock().unwrap().as_mut().unwrap().addrs = planted;
        assert_eq!(resolve("https://127.0.0.1:2222/api/v1/log"), vec![2222]);
    }

    #[test]
    fn concurrent_workers_keep_their_connections() {
        let log = replay_rekor::Log::new(vec![replay_rekor::Entry::new(
            br#"{"apiVersion":"0.0.1","kind":"x","spec":{}}"#.to_vec(),
        )])
        .with_size(10_000);
        let server = replay_rekor::ReplayServer::start(log).unwrap();
        let workers = 8u64;
        let config = RekorConfig {
            address: server.url(),
            headers: Vec::new(),
            retry: client("http://unused", 0).retry,
            keepalive: true,
        };
        let client = &RekorClient::new(&config, Arc::new(AtomicBool::new(false)), workers as usize);
        std::thread::scope(|scope| {
            for worker in 0..workers {
                scope.spawn(move || {
                    for round in 0..10 {
                        let first = (round * workers + worker) * 10;
                        assert_eq!(client.entries(first..=first + 9).unwrap().len(), 10);
                        // Keying the entries: meanwhile the connection is
                        // idle in the pool, as most workers' are at any
                        // time. A pool smaller than the worker count closes
                        // some, and the next round reconnects.
                        std::thread::sleep(Duration::from_millis(5));
                    }
                });
            }
        });
        let connections = server.control().stats().connections;
        assert!(
            connections <= workers,
            "{connections} connections for {workers} workers"
        );
    }
}
