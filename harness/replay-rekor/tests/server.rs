//! The server over real sockets, with a raw HTTP/1.1 client so that what a
//! client sees on the wire (keep-alive, closed or cut connections) is
//! checked directly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use replay_rekor::{
    load_corpus, Entry, Fault, FaultTarget, Log, Malformation, ReplayServer, RetrieveMode,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn corpus_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus/entries.jsonl")
}

fn corpus() -> Vec<Entry> {
    load_corpus(&corpus_path()).unwrap()
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A keep-alive HTTP/1.1 client on one connection.
struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

#[derive(Debug)]
enum Failure {
    /// The server closed the connection before any byte of an answer.
    Closed,
    /// The answer ended before its announced length.
    Short { announced: usize, got: usize },
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        Client { stream, reader }
    }

    fn send(&mut self, method: &str, path: &str, body: Option<&str>) -> Result<Answer, Failure> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nX-Test: yes\r\n");
        if let Some(body) = body {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body.unwrap_or(""));
        self.stream.write_all(req.as_bytes()).unwrap();

        let mut line = String::new();
        if self.reader.read_line(&mut line).unwrap_or(0) == 0 {
            return Err(Failure::Closed);
        }
        let status: u16 = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (n, v) = h.split_once(':').unwrap();
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap();
        let mut body = Vec::new();
        (&mut self.reader)
            .take(len as u64)
            .read_to_end(&mut body)
            .unwrap();
        if body.len() < len {
            return Err(Failure::Short {
                announced: len,
                got: body.len(),
            });
        }
        Ok(Answer {
            status,
            headers,
            body: String::from_utf8(body).unwrap(),
        })
    }

    fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, None).unwrap()
    }

    fn post(&mut self, path: &str, body: &str) -> Answer {
        self.send("POST", path, Some(body)).unwrap()
    }
}

fn leaf_hash_hex(body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(body);
    hex::encode(h.finalize())
}

/// The single (uuid, entry) of a `{uuid: entry}` object.
fn only_entry(v: &Value) -> (String, Value) {
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 1, "{v}");
    let (k, e) = obj.iter().next().unwrap();
    (k.clone(), e.clone())
}

#[test]
fn serves_corpus_entries_with_genuine_uuids() {
    let entries = corpus();
    let server = ReplayServer::start(Log::new(entries.clone()).with_tree_id(0xabc)).unwrap();
    let mut c = Client::connect(server.addr());
    for index in [0usize, 1, 200, 458] {
        let a = c.get(&format!("/api/v1/log/entries?logIndex={index}"));
        assert_eq!(a.status, 200);
        let (uuid, e) = only_entry(&a.json());
        let body = B64.decode(e["body"].as_str().unwrap()).unwrap();
        assert_eq!(
            body, entries[index].body,
            "cycle 0 serves the corpus verbatim"
        );
        assert_eq!(uuid, format!("0000000000000abc{}", leaf_hash_hex(&body)));
        assert_eq!(e["logIndex"], index as u64);
        assert_eq!(e["integratedTime"], entries[index].integrated_time);
        assert_eq!(e["logID"], entries[index].log_id.as_str());
    }
    let stats = server.stats();
    assert_eq!(
        stats.connections, 1,
        "all requests on one keep-alive connection"
    );
    assert_eq!(stats.entry_requests, 4);
    assert_eq!(stats.entries_served, 4);
}

#[test]
fn synthetic_replay_is_distinct_and_keeps_json() {
    let entries = corpus();
    let n = entries.len() as u64;
    let server = ReplayServer::start(Log::new(entries.clone()).with_size(10 * n)).unwrap();
    let mut c = Client::connect(server.addr());
    let mut uuids = std::collections::HashSet::new();
    for index in [3, n + 3, 2 * n + 3, 9 * n + 3] {
        let (uuid, e) = only_entry(
            &c.get(&format!("/api/v1/log/entries?logIndex={index}"))
                .json(),
        );
        let body = B64.decode(e["body"].as_str().unwrap()).unwrap();
        assert_eq!(uuid[16..], leaf_hash_hex(&body));
        let original: Value = serde_json::from_slice(&entries[3].body).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), original);
        assert!(uuids.insert(uuid));
    }
}

#[test]
fn not_found_past_the_end_until_the_log_grows() {
    let server = ReplayServer::start(Log::new(corpus())).unwrap();
    let mut c = Client::connect(server.addr());
    let a = c.get("/api/v1/log/entries?logIndex=459");
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["code"], 404);
    assert_eq!(c.get("/api/v1/log/entries?logIndex=-1").status, 400);
    assert_eq!(c.get("/api/v1/log/entries?logIndex=x").status, 400);
    assert_eq!(c.get("/api/v1/log/entries").status, 400);
    assert_eq!(server.stats().not_found, 1);

    assert_eq!(c.get("/api/v1/log").json()["treeSize"], 459);
    server.set_size(500);
    assert_eq!(c.get("/api/v1/log").json()["treeSize"], 500);
    assert_eq!(c.get("/api/v1/log/entries?logIndex=459").status, 200);
    let first = server.append([Entry::new(b"{\"apiVersion\":\"0.0.1\"}".to_vec())]);
    assert_eq!(first, 500);
    let (_, e) = only_entry(&c.get("/api/v1/log/entries?logIndex=500").json());
    assert_eq!(e["body"], B64.encode(b"{\"apiVersion\":\"0.0.1\"}"));
}

#[test]
fn log_info_reports_inactive_shards() {
    let log = Log::new(corpus())
        .with_inactive_shard(77, 100)
        .with_tree_id(88);
    let server = ReplayServer::start(log).unwrap();
    let mut c = Client::connect(server.addr());
    let info = c.get("/api/v1/log").json();
    assert_eq!(info["treeSize"], 359);
    assert_eq!(info["treeID"], "88");
    assert_eq!(info["inactiveShards"][0]["treeSize"], 100);
    assert_eq!(info["inactiveShards"][0]["treeID"], "77");
    assert!(info["rootHash"].as_str().unwrap().len() == 64);
    assert!(info["signedTreeHead"].is_string());
    let (uuid, e) = only_entry(&c.get("/api/v1/log/entries?logIndex=99").json());
    assert!(uuid.starts_with("000000000000004d"));
    assert_eq!(e["verification"]["inclusionProof"]["logIndex"], 99);
    let (uuid, e) = only_entry(&c.get("/api/v1/log/entries?logIndex=100").json());
    assert!(uuid.starts_with("0000000000000058"));
    assert_eq!(e["logIndex"], 100);
    assert_eq!(e["verification"]["inclusionProof"]["logIndex"], 0);
}

#[test]
fn batch_retrieve_keeps_request_order_and_limits() {
    let server = ReplayServer::start(Log::new(corpus())).unwrap();
    let mut c = Client::connect(server.addr());
    let a = c.post(
        "/api/v1/log/entries/retrieve",
        r#"{"logIndexes":[5,1,3,1000,2]}"#,
    );
    assert_eq!(a.status, 200);
    let items = a.json();
    let indices: Vec<u64> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| only_entry(item).1["logIndex"].as_u64().unwrap())
        .collect();
    assert_eq!(
        indices,
        [5, 1, 3, 2],
        "missing indices are omitted, order kept"
    );
    for item in items.as_array().unwrap() {
        let (uuid, e) = only_entry(item);
        let single = c.get(&format!("/api/v1/log/entries?logIndex={}", e["logIndex"]));
        assert_eq!(only_entry(&single.json()).0, uuid);
    }

    let eleven = format!("{{\"logIndexes\":{:?}}}", (0..11).collect::<Vec<_>>());
    assert_eq!(c.post("/api/v1/log/entries/retrieve", &eleven).status, 422);
    let ten = format!("{{\"logIndexes\":{:?}}}", (0..10).collect::<Vec<_>>());
    assert_eq!(
        c.post("/api/v1/log/entries/retrieve", &ten)
            .json()
            .as_array()
            .unwrap()
            .len(),
        10
    );
    assert_eq!(
        c.post("/api/v1/log/entries/retrieve", "{not json").status,
        400
    );
    assert_eq!(
        c.post("/api/v1/log/entries/retrieve", r#"{"logIndexes":[-1]}"#)
            .status,
        422
    );
    assert_eq!(c.get("/api/v1/log/entries/retrieve").status, 405);
    let stats = server.stats();
    assert_eq!(stats.retrieve_requests, 6, "the GET counts too");
    assert_eq!(stats.entries_served, 4 + 4 + 10);

    for status in [404, 405, 501] {
        server.set_retrieve(RetrieveMode::Disabled { status });
        let a = c.post("/api/v1/log/entries/retrieve", r#"{"logIndexes":[1]}"#);
        assert_eq!(a.status, status);
        assert_eq!(a.json()["code"], status);
    }
    server.set_retrieve(RetrieveMode::Enabled);
    assert_eq!(
        c.post("/api/v1/log/entries/retrieve", r#"{"logIndexes":[1]}"#)
            .status,
        200
    );
}

#[test]
fn status_faults_are_counted_per_request() {
    let server = ReplayServer::start(Log::new(corpus())).unwrap();
    let mut c = Client::connect(server.addr());
    server.inject(FaultTarget::Entries, Fault::status_retry_after(429, "2"), 2);
    server.inject(FaultTarget::Any, Fault::status(503), 1);
    // The log-info request is not an entry request: it meets the 503.
    assert_eq!(c.get("/api/v1/log").status, 503);
    assert_eq!(c.get("/api/v1/log").status, 200);
    let a = c.get("/api/v1/log/entries?logIndex=1");
    assert_eq!((a.status, a.header("retry-after")), (429, Some("2")));
    assert_eq!(a.json()["code"], 429);
    assert_eq!(server.pending_faults(), 1);
    assert_eq!(
        c.post("/api/v1/log/entries/retrieve", r#"{"logIndexes":[1]}"#)
            .status,
        429
    );
    assert_eq!(server.pending_faults(), 0);
    assert_eq!(c.get("/api/v1/log/entries?logIndex=1").status, 200);
    let stats = server.stats();
    assert_eq!(stats.faults_applied, 3);
    assert_eq!(stats.api_requests, 5);
    assert_eq!(
        (
            stats.log_info_requests,
            stats.entry_requests,
            stats.retrieve_requests
        ),
        (2, 2, 1)
    );
    assert_eq!(stats.entries_served, 1);
    assert_eq!(stats.connections, 1, "error answers keep the connection");
}

#[test]
fn drop_and_truncate_faults_cut_the_connection() {
    let server = ReplayServer::start(Log::new(corpus())).unwrap();
    server.inject(FaultTarget::Entries, Fault::Drop, 1);
    server.inject(FaultTarget::Entries, Fault::Truncate, 1);
    let mut c = Client::connect(server.addr());
    assert!(matches!(
        c.send("GET", "/api/v1/log/entries?logIndex=0", None),
        Err(Failure::Closed)
    ));
    let mut c = Client::connect(server.addr());
    match c.send("GET", "/api/v1/log/entries?logIndex=0", None) {
        Err(Failure::Short { announced, got }) => assert!(got > 0 && got < announced),
        other => panic!("expected a cut answer, got {other:?}"),
    }
    let mut c = Client::connect(server.addr());
    assert_eq!(c.get("/api/v1/log/entries?logIndex=0").status, 200);
}

#[test]
fn delay_slows_every_api_answer() {
    let server = ReplayServer::start(Log::new(corpus())).unwrap();
    server.set_delay(Duration::from_millis(60));
    let mut c = Client::connect(server.addr());
    let t = Instant::now();
    assert_eq!(c.get("/api/v1/log/entries?logIndex=0").status, 200);
    assert!(t.elapsed() >= Duration::from_millis(60));
    // Admin requests are not delayed.
    let t = Instant::now();
    assert_eq!(c.get("/__admin/stats").status, 200);
    assert!(t.elapsed() < Duration::from_millis(60));
}

#[test]
fn malformed_entries_over_http() {
    let server = ReplayServer::start(Log::new(corpus())).unwrap();
    server.set_malformed(10, Malformation::BadBase64);
    server.set_malformed(11, Malformation::UuidMismatch);
    let mut c = Client::connect(server.addr());
    let (_, e) = only_entry(&c.get("/api/v1/log/entries?logIndex=10").json());
    assert!(B64.decode(e["body"].as_str().unwrap()).is_err());
    let (uuid, e) = only_entry(&c.get("/api/v1/log/entries?logIndex=11").json());
    let body = B64.decode(e["body"].as_str().unwrap()).unwrap();
    assert_ne!(uuid[16..], leaf_hash_hex(&body));
    assert_eq!(server.served(11).unwrap().uuid, uuid);
}

#[test]
fn dropping_connections_closes_idle_keep_alive_ones() {
    let server = ReplayServer::start(Log::new(corpus())).unwrap();
    let mut c = Client::connect(server.addr());
    assert_eq!(c.get("/api/v1/log").status, 200);
    server.drop_connections();
    assert!(matches!(
        c.send("GET", "/api/v1/log", None),
        Err(Failure::Closed)
    ));
}

#[test]
fn recording_keeps_indices_and_headers() {
    let server = ReplayServer::start(Log::new(corpus())).unwrap();
    let mut c = Client::connect(server.addr());
    c.get("/api/v1/log/entries?logIndex=7");
    assert!(
        server.served_indices().is_empty(),
        "recording is off by default"
    );
    server.set_recording(true);
    c.get("/api/v1/log/entries?logIndex=8");
    c.post("/api/v1/log/entries/retrieve", r#"{"logIndexes":[3,2]}"#);
    assert_eq!(server.served_indices(), [8, 3, 2]);
    assert!(server
        .last_headers()
        .contains(&("X-Test".to_string(), "yes".to_string())));
    server.reset_stats();
    assert!(server.served_indices().is_empty());
    assert_eq!(server.stats().entries_served, 0);
}

#[test]
fn admin_endpoints_drive_the_same_controls() {
    let server = ReplayServer::start(Log::new(corpus())).unwrap();
    let mut c = Client::connect(server.addr());
    assert_eq!(c.post("/__admin/size", r#"{"size":600}"#).status, 200);
    assert_eq!(server.size(), 600);
    assert_eq!(
        c.post("/__admin/malformed", r#"{"index":3,"kind":"bad-json"}"#)
            .status,
        200
    );
    assert_eq!(
        server.served(3).unwrap().malformed,
        Some(Malformation::BadJson)
    );
    assert_eq!(
        c.post("/__admin/malformed", r#"{"index":3,"kind":"nope"}"#)
            .status,
        400
    );
    let a = c.post(
        "/__admin/entries",
        r#"{"body":"e30=","attestation":"YQ==","integratedTime":9}"#,
    );
    assert_eq!(a.json()["index"], 600);
    assert_eq!(
        server.served(600).unwrap().attestation_b64.as_deref(),
        Some("YQ==")
    );
    assert_eq!(c.post("/__admin/clear-overrides", "").status, 200);
    assert_eq!(server.served(3).unwrap().malformed, None);

    c.post(
        "/__admin/fault",
        r#"{"status":503,"retryAfter":"1","target":"entries","count":2}"#,
    );
    c.post(
        "/__admin/fault",
        r#"{"kind":"drop","count":1,"target":"log"}"#,
    );
    assert_eq!(server.pending_faults(), 3);
    assert_eq!(c.get("/api/v1/log/entries?logIndex=1").status, 503);
    assert_eq!(c.post("/__admin/clear-faults", "").status, 200);
    assert_eq!(server.pending_faults(), 0);
    assert_eq!(
        c.post("/__admin/fault", r#"{"kind":"zap","count":1}"#)
            .status,
        400
    );

    c.post("/__admin/retrieve", r#"{"enabled":false,"status":405}"#);
    assert_eq!(server.retrieve(), RetrieveMode::Disabled { status: 405 });
    c.post("/__admin/delay", r#"{"ms":5}"#);
    assert_eq!(server.delay(), Duration::from_millis(5));
    c.post("/__admin/record", r#"{"enabled":true}"#);
    c.get("/api/v1/log/entries?logIndex=4");
    assert_eq!(c.get("/__admin/served").json(), serde_json::json!([4]));

    let stats = c.get("/__admin/stats").json();
    assert_eq!(stats["size"], 601);
    assert_eq!(stats["entryRequests"], 2);
    assert_eq!(stats["faultsApplied"], 1);

    // Dropping connections spares the admin caller's own connection.
    let mut other = Client::connect(server.addr());
    other.get("/api/v1/log");
    assert_eq!(c.post("/__admin/drop-connections", "").status, 200);
    assert!(matches!(
        other.send("GET", "/api/v1/log", None),
        Err(Failure::Closed)
    ));
    assert_eq!(c.get("/__admin/stats").status, 200);
    assert_eq!(c.get("/__admin/nope").status, 404);
}

#[test]
fn bad_requests_get_400_and_unknown_paths_404() {
    let server = ReplayServer::start(Log::new(corpus())).unwrap();
    let mut c = Client::connect(server.addr());
    assert_eq!(c.get("/api/v2/whatever").status, 404);
    assert_eq!(c.post("/api/v1/log/entries", "{}").status, 501);
    let mut raw = TcpStream::connect(server.addr()).unwrap();
    raw.write_all(b"BROKEN\r\n\r\n").unwrap();
    let mut answer = String::new();
    raw.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
}

#[test]
fn concurrent_clients_get_consistent_answers() {
    let server = ReplayServer::start(Log::new(corpus()).with_size(100_000)).unwrap();
    let addr = server.addr();
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                for i in 0..300u64 {
                    let index = t * 10_000 + i * 7;
                    let (uuid, e) = only_entry(
                        &c.get(&format!("/api/v1/log/entries?logIndex={index}"))
                            .json(),
                    );
                    assert_eq!(e["logIndex"], index);
                    let body = B64.decode(e["body"].as_str().unwrap()).unwrap();
                    assert_eq!(uuid[16..], leaf_hash_hex(&body));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let stats = server.stats();
    assert_eq!(stats.entries_served, 2400);
    assert_eq!(stats.connections, 8);
}

#[test]
fn stop_closes_everything() {
    let mut server = ReplayServer::start(Log::new(corpus())).unwrap();
    let addr = server.addr();
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/api/v1/log").status, 200);
    server.stop();
    assert!(matches!(
        c.send("GET", "/api/v1/log", None),
        Err(Failure::Closed)
    ));
    assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err());
}

#[test]
fn binary_serves_until_killed() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_replay-rekor"))
        .arg("--corpus")
        .arg(corpus_path())
        .args([
            "--size",
            "1000",
            "--inactive-size",
            "400",
            "--disable-retrieve",
            "405",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .to_string();
    let mut c = Client::connect(url.parse().unwrap());
    let info = c.get("/api/v1/log").json();
    assert_eq!(info["treeSize"], 600);
    assert_eq!(info["inactiveShards"][0]["treeSize"], 400);
    assert_eq!(
        c.post("/api/v1/log/entries/retrieve", r#"{"logIndexes":[1]}"#)
            .status,
        405
    );
    assert_eq!(c.get("/api/v1/log/entries?logIndex=999").status, 200);
    assert_eq!(c.get("/api/v1/log/entries?logIndex=1000").status, 404);
    child.kill().unwrap();
    child.wait().unwrap();

    let status = Command::new(env!("CARGO_BIN_EXE_replay-rekor"))
        .args(["--corpus", "/nonexistent/corpus.jsonl"])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!status.status.success());
    assert!(String::from_utf8_lossy(&status.stderr).contains("/nonexistent/corpus.jsonl"));
}
