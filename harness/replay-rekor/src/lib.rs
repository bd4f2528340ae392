//! replay-rekor: an imitation of the Rekor read API for testing and
//! benchmarking rekor-backfill without a real Rekor/Trillian stack.
//!
//! It serves real entries (from `testdata/corpus/entries.jsonl`) at any index,
//! with genuine UUIDs (tree ID + RFC 6962 leaf hash), and lets a test change
//! the log and misbehave on purpose: grow the log, answer 503/429, stall,
//! drop or cut connections, serve malformed entries, refuse the batch
//! endpoint. Used in-process through [`ReplayServer`], or as the
//! `replay-rekor` binary driven through its `/__admin/` endpoints.
//!
//! Synchronous by design, like the tool it tests: std threads, one per live
//! keep-alive connection, from a cached pool ([`pool`]).

pub mod api;
pub mod control;
pub mod corpus;
pub mod faults;
pub mod http;
pub mod log;
mod pool;
pub mod server;

pub use control::{Control, RetrieveMode, Stats};
pub use corpus::{load_corpus, parse_corpus};
pub use faults::{Fault, FaultTarget};
pub use log::{entry_uuid, leaf_hash, Entry, Log, Malformation, ServedEntry};
pub use server::ReplayServer;
