//! rekor-backfill: rebuilds the search index of a Rekor transparency log.
//!
//! The data flow reads from the module names: [`cli`] (what the user typed) →
//! [`config`] (validated, resolved) → [`rekor`] (fetch entries) → [`entry`]
//! (decode a stored body, compute its index keys, with [`pki`] for the key
//! formats) → [`sink`] (Redis / MySQL writers) → [`checkpoint`] (contiguous
//! watermark, persisted in the same backend). [`pipeline`] wires them together.
//! [`tls`] is the certificate trust every TLS connection shares. [`audit`]
//! reads an index back without writing; [`fix_case`] repairs the Go tool's
//! mis-cased Redis keys. [`failures`] are the durable records of entries
//! that could not be indexed, which [`retry`] tries again on every run.

pub mod audit;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod counters;
pub mod duration;
pub mod entry;
pub mod error;
pub mod exit;
pub mod failures;
pub mod fix_case;
pub mod hostnames;
pub mod interrupt;
pub mod keys;
pub mod lease;
pub mod log_layout;
pub mod logger;
pub mod metrics;
pub mod panics;
pub mod pipeline;
pub mod pki;
pub mod progress;
pub mod redact;
pub mod rekor;
pub mod retry;
pub mod shard;
pub mod sink;
pub mod summary;
pub mod tls;
pub mod verify;
pub mod version;
pub mod watermark;
pub mod worker;
