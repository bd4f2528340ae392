//! Routing: the three Rekor read endpoints a backfill uses, and the
//! `/__admin/` endpoints that drive [`Control`] from outside the process.
//!
//! Answers follow rekor-server v1.5.4: a single entry by index, 404 past the
//! end; the batch `retrieve` returns found entries in request order, omits
//! indices that do not exist, and rejects more than 10 queries with 422.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::control::{bump, Control, RetrieveMode};
use crate::faults::{Fault, FaultTarget};
use crate::http::{Request, Response};
use crate::log::{Entry, Malformation};

/// Rekor's `maxSearchQueries`.
pub const MAX_SEARCH_QUERIES: usize = 10;

/// What the connection does with a request.
#[derive(Debug)]
pub enum Action {
    Respond(Response),
    /// Close the connection without answering.
    Drop,
    /// Send half of this response, then close.
    Truncate(Response),
}

/// The Rekor API endpoints served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    LogInfo,
    EntryByIndex,
    Retrieve,
}

impl Route {
    fn of(req: &Request) -> Option<Route> {
        match req.path.trim_end_matches('/') {
            "/api/v1/log" => Some(Route::LogInfo),
            "/api/v1/log/entries" => Some(Route::EntryByIndex),
            "/api/v1/log/entries/retrieve" => Some(Route::Retrieve),
            _ => None,
        }
    }

    fn fault_target(self) -> FaultTarget {
        match self {
            Route::LogInfo => FaultTarget::LogInfo,
            Route::EntryByIndex | Route::Retrieve => FaultTarget::Entries,
        }
    }
}

/// Answers one request. `connection` identifies the caller's connection so
/// that an admin request to drop connections spares its own.
pub fn handle(control: &Control, req: &Request, connection: u64) -> Action {
    if let Some(admin_path) = req.path.strip_prefix("/__admin/") {
        return Action::Respond(admin(control, req, admin_path, connection));
    }
    let Some(route) = Route::of(req) else {
        return Action::Respond(Response::error(
            404,
            &format!("path {} was not found", req.path),
        ));
    };
    let counters = &control.counters;
    bump(&counters.api_requests, 1);
    bump(
        match route {
            Route::LogInfo => &counters.log_info_requests,
            Route::EntryByIndex => &counters.entry_requests,
            Route::Retrieve => &counters.retrieve_requests,
        },
        1,
    );
    control.note_headers(&req.headers);
    let delay = control.delay();
    if !delay.is_zero() {
        std::thread::sleep(delay);
    }
    if let Some(fault) = control.take_fault(route.fault_target()) {
        return match fault {
            Fault::Status {
                status,
                retry_after,
            } => {
                let resp = Response::error(status, "replay-rekor: injected fault");
                Action::Respond(match retry_after {
                    Some(value) => resp.with_header("Retry-After", value),
                    None => resp,
                })
            }
            Fault::Drop => Action::Drop,
            Fault::Truncate => Action::Truncate(answer(control, req, route)),
        };
    }
    Action::Respond(answer(control, req, route))
}

/// The regular answer to a Rekor API request.
fn answer(control: &Control, req: &Request, route: Route) -> Response {
    match (req.method.as_str(), route) {
        ("GET", Route::LogInfo) => Response::json(200, control.log().info_json()),
        ("GET", Route::EntryByIndex) => entry_by_index(control, req),
        ("POST", Route::EntryByIndex) => {
            Response::error(501, "Create Entry API not enabled in this Rekor instance")
        }
        ("POST", Route::Retrieve) => retrieve(control, req),
        _ => Response::error(405, &format!("method {} not allowed", req.method)),
    }
}

fn entry_by_index(control: &Control, req: &Request) -> Response {
    let Some(raw) = req.query_param("logIndex") else {
        return Response::error(400, "query parameter logIndex is required");
    };
    let index = match raw.parse::<i64>() {
        Ok(i) if i >= 0 => i as u64,
        Ok(_) => {
            return Response::error(
                400,
                "logIndex in query should be greater than or equal to 0",
            )
        }
        Err(_) => {
            return Response::error(
                400,
                &format!("logIndex in query must be of type int64: {raw:?}"),
            )
        }
    };
    if control.log().is_unreadable(index) {
        return unreadable_answer(index);
    }
    match control.served(index) {
        Some(entry) => {
            control.note_served(&[index]);
            Response::json(200, entry.to_json())
        }
        None => {
            bump(&control.counters.not_found, 1);
            Response::error(404, "grpc error: grpc returned 0 leaves with success code")
        }
    }
}

#[derive(Deserialize)]
struct SearchLogQuery {
    #[serde(default, rename = "logIndexes")]
    log_indexes: Vec<i64>,
    #[serde(default, rename = "entryUUIDs")]
    entry_uuids: Vec<String>,
    #[serde(default)]
    entries: Vec<serde_json::Value>,
}

fn retrieve(control: &Control, req: &Request) -> Response {
    if let RetrieveMode::Disabled { status } = control.retrieve() {
        return Response::error(
            status,
            "Search Log Query API not enabled in this Rekor instance",
        );
    }
    let query: SearchLogQuery = match serde_json::from_slice(&req.body) {
        Ok(q) => q,
        Err(e) => return Response::error(400, &format!("parsing body: {e}")),
    };
    let total = query.log_indexes.len() + query.entry_uuids.len() + query.entries.len();
    if total > MAX_SEARCH_QUERIES {
        return Response::error(
            422,
            &format!("maximum number of search queries ({MAX_SEARCH_QUERIES}) exceeded"),
        );
    }
    if !query.entry_uuids.is_empty() || !query.entries.is_empty() {
        return Response::error(422, "replay-rekor only answers logIndexes queries");
    }
    if query.log_indexes.iter().any(|&i| i < 0) {
        return Response::error(422, "logIndexes should be greater than or equal to 0");
    }
    let log = control.log();
    if let Some(&bad) = query
        .log_indexes
        .iter()
        .find(|&&i| log.is_unreadable(i as u64))
    {
        return unreadable_answer(bad as u64);
    }
    let mut served = Vec::with_capacity(query.log_indexes.len());
    let mut body = String::from("[");
    for &index in &query.log_indexes {
        if let Some(entry) = log.served(index as u64) {
            if !served.is_empty() {
                body.push(',');
            }
            body.push_str(&entry.to_json());
            served.push(index as u64);
        }
    }
    body.push(']');
    drop(log);
    control.note_served(&served);
    Response::json(200, body)
}

/// rekor-server's answer for an entry it stored but cannot return.
fn unreadable_answer(index: u64) -> Response {
    Response::error(
        500,
        &format!("replay-rekor: log index {index} is unreadable (error unmarshalling entry)"),
    )
}

// --- admin ---

fn parse_body<T: DeserializeOwned>(req: &Request) -> Result<T, Response> {
    serde_json::from_slice(&req.body).map_err(|e| Response::error(400, &format!("admin body: {e}")))
}

fn ok() -> Response {
    Response::json(200, "{}")
}

#[derive(Deserialize)]
struct SizeBody {
    size: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryBody {
    /// Absent: append at the end.
    index: Option<u64>,
    body: String,
    attestation: Option<String>,
    integrated_time: Option<i64>,
    #[serde(rename = "logID")]
    log_id: Option<String>,
}

#[derive(Deserialize)]
struct UnreadableBody {
    index: u64,
    /// Default true; false serves the index again.
    #[serde(default = "yes")]
    unreadable: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct MalformedBody {
    index: u64,
    kind: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FaultBody {
    /// "status" (default), "drop" or "truncate".
    #[serde(default)]
    kind: Option<String>,
    status: Option<u16>,
    retry_after: Option<String>,
    /// "any" (default), "log" or "entries".
    target: Option<String>,
    count: u64,
}

#[derive(Deserialize)]
struct DelayBody {
    ms: u64,
}

#[derive(Deserialize)]
struct SwitchBody {
    enabled: bool,
    status: Option<u16>,
}

fn admin(control: &Control, req: &Request, path: &str, connection: u64) -> Response {
    let result = match (req.method.as_str(), path) {
        ("GET", "stats") => {
            let mut stats = serde_json::to_value(control.stats()).unwrap_or_default();
            stats["size"] = control.size().into();
            stats["pendingFaults"] = control.pending_faults().into();
            Ok(Response::json(200, stats.to_string()))
        }
        ("GET", "served") => Ok(Response::json(
            200,
            serde_json::to_string(&control.served_indices()).unwrap_or_default(),
        )),
        ("POST", "reset-stats") => {
            control.reset_stats();
            Ok(ok())
        }
        ("POST", "record") => parse_body::<SwitchBody>(req).map(|b| {
            control.set_recording(b.enabled);
            ok()
        }),
        ("POST", "size") => parse_body::<SizeBody>(req).map(|b| {
            control.set_size(b.size);
            ok()
        }),
        ("POST", "entries") => parse_body::<EntryBody>(req).and_then(|b| admin_entry(control, b)),
        ("POST", "malformed") => parse_body::<MalformedBody>(req).and_then(|b| {
            let how = Malformation::parse(&b.kind).ok_or_else(|| {
                Response::error(400, &format!("unknown malformation {:?}", b.kind))
            })?;
            control.set_malformed(b.index, how);
            Ok(ok())
        }),
        ("POST", "unreadable") => parse_body::<UnreadableBody>(req).map(|b| {
            control.set_unreadable(b.index, b.unreadable);
            ok()
        }),
        ("POST", "clear-overrides") => {
            control.update_log(|log| log.clear_overrides());
            Ok(ok())
        }
        ("POST", "fault") => parse_body::<FaultBody>(req).and_then(|b| admin_fault(control, b)),
        ("POST", "clear-faults") => {
            control.clear_faults();
            Ok(ok())
        }
        ("POST", "delay") => parse_body::<DelayBody>(req).map(|b| {
            control.set_delay(Duration::from_millis(b.ms));
            ok()
        }),
        ("POST", "retrieve") => parse_body::<SwitchBody>(req).map(|b| {
            control.set_retrieve(if b.enabled {
                RetrieveMode::Enabled
            } else {
                RetrieveMode::Disabled {
                    status: b.status.unwrap_or(404),
                }
            });
            ok()
        }),
        ("POST", "drop-connections") => {
            control.drop_connections_except(Some(connection));
            Ok(ok())
        }
        _ => Err(Response::error(
            404,
            &format!("no admin endpoint {} /__admin/{path}", req.method),
        )),
    };
    result.unwrap_or_else(|e| e)
}

fn admin_entry(control: &Control, b: EntryBody) -> Result<Response, Response> {
    let decode = |field: &str, text: &str| {
        B64.decode(text)
            .map_err(|e| Response::error(400, &format!("{field} is not base64: {e}")))
    };
    let mut entry = Entry::new(decode("body", &b.body)?);
    if let Some(att) = &b.attestation {
        entry = entry.with_attestation(decode("attestation", att)?);
    }
    if let Some(t) = b.integrated_time {
        entry = entry.with_integrated_time(t);
    }
    if let Some(id) = b.log_id {
        entry = entry.with_log_id(id);
    }
    let index = match b.index {
        Some(index) => {
            control.put(index, entry);
            index
        }
        None => control.append([entry]),
    };
    Ok(Response::json(200, format!("{{\"index\":{index}}}")))
}

fn admin_fault(control: &Control, b: FaultBody) -> Result<Response, Response> {
    let bad = |msg: String| Response::error(400, &msg);
    let target = match b.target.as_deref() {
        None => FaultTarget::Any,
        Some(name) => {
            FaultTarget::parse(name).ok_or_else(|| bad(format!("unknown target {name:?}")))?
        }
    };
    let fault = match b.kind.as_deref().unwrap_or("status") {
        "status" => Fault::Status {
            status: b
                .status
                .ok_or_else(|| bad("a status fault needs \"status\"".into()))?,
            retry_after: b.retry_after,
        },
        "drop" => Fault::Drop,
        "truncate" => Fault::Truncate,
        other => return Err(bad(format!("unknown fault kind {other:?}"))),
    };
    control.inject(target, fault, b.count);
    Ok(ok())
}
