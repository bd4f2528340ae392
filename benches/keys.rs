//! Decode + index keys, one entry after another on one thread: the stored
//! body's base64 (Go's decoder) and `entry::index_keys`, as the pipeline's
//! workers run them. Reported per entry, so criterion's throughput line is
//! entries per second on one core.
//!
//! Sets: the corpus (`testdata/corpus/entries.jsonl`) always; the file
//! named by `KEYS_BENCH_INPUT` too when set (entry JSON lines with a base64
//! `body`, e.g. the generated set `.harness/gen/generated.jsonl`).
//! `harness/bench-keys.sh` (`make bench-keys`) runs this and times Rekor's
//! Go code over the same entries.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rekor_backfill::entry::{go_base64_decode, index_keys};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/corpus/entries.jsonl");

/// The base64 bodies of an entry-lines file.
fn bodies(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let record: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}"));
            record["body"]
                .as_str()
                .unwrap_or_else(|| panic!("{path}: a line without a string body"))
                .to_string()
        })
        .collect()
}

/// Keys for every body; the number that got keys, so nothing is optimised
/// away and a set that suddenly fails shows.
fn keys_all(bodies: &[String]) -> usize {
    bodies
        .iter()
        .filter(|b| {
            go_base64_decode(b)
                .and_then(|body| index_keys(&body, None))
                .is_ok()
        })
        .count()
}

fn bench_set(c: &mut Criterion, name: &str, bodies: &[String]) {
    let keyed = keys_all(bodies);
    eprintln!("{name}: {} entries, {keyed} with keys", bodies.len());
    let mut group = c.benchmark_group("decode+keys");
    group.throughput(Throughput::Elements(bodies.len() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function(name, |b| b.iter(|| black_box(keys_all(black_box(bodies)))));
    group.finish();
}

fn keys(c: &mut Criterion) {
    bench_set(c, "corpus", &bodies(CORPUS));
    if let Ok(path) = std::env::var("KEYS_BENCH_INPUT") {
        bench_set(c, "input", &bodies(&path));
    }
}

criterion_group!(benches, keys);
criterion_main!(benches);
