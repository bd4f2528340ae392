//! The integration tests, one binary (as ripgrep's `tests/tests.rs`): one
//! build and link instead of one per file, and one copy of the shared
//! helpers. Each module is one area; `util` holds what all of them share,
//! `support` the machinery of the end-to-end scenarios (a replay Rekor
//! server, the tool run as a process, the index read back from a backend).
//!
//! Services: the sink and scenario modules need the private Redis and
//! MariaDB of `harness/services.sh` (`start`, then `eval "$(harness/services.sh
//! env)"`); the entry modules need only the vendored corpus (testdata/corpus) and
//! the `openssl`, `gpg` and `ssh-keygen` programs (`make deps`).
//!
//! A new test file is a module here: `mod name;` below, `use crate::util;`
//! (and `use crate::support;`) inside. [`layout::every_test_file_is_a_module`]
//! fails when a file under tests/ is not declared, since Cargo builds only
//! this file (`autotests = false`).

mod support;
mod util;

mod audit;
mod dropin;
mod entry_corpus;
mod entry_edge;
mod entry_kinds;
mod entry_pgp;
mod entry_robustness;
mod failures;
mod go_lower;
mod layout;
mod lease_shards;
mod ops;
mod outages;
mod redis_hot_keys;
mod scenarios_keys;
mod scenarios_mysql;
mod scenarios_redis;
mod sink_mysql;
mod sink_redis;
mod tls_trust;
mod trillian_source;
mod verify_log;
