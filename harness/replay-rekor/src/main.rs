//! `replay-rekor`: serves a corpus as a Rekor log until killed; prints
//! `listening on http://ADDR` once ready. Driven at run time through the
//! `/__admin/` endpoints (see `api.rs`).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use argh::FromArgs;
use replay_rekor::{load_corpus, KeyMix, Log, ReplayServer, RetrieveMode};

/// Serve real Rekor entries through an imitation of the Rekor read API.
#[derive(FromArgs)]
struct Args {
    /// corpus of entries: JSON lines with a base64 "body" (e.g. testdata/corpus/entries.jsonl)
    #[argh(option)]
    corpus: PathBuf,
    /// address to listen on (default 127.0.0.1:0, any free port)
    #[argh(option, default = "SocketAddr::from(([127, 0, 0, 1], 0))")]
    listen: SocketAddr,
    /// total log size; indices past the corpus replay it, each made distinct (default: corpus size)
    #[argh(option)]
    size: Option<u64>,
    /// size of an inactive shard holding the first indices (total size includes it)
    #[argh(option)]
    inactive_size: Option<u64>,
    /// tree ID of the active shard (UUID prefix)
    #[argh(option, default = "replay_rekor::log::DEFAULT_TREE_ID")]
    tree_id: u64,
    /// tree ID of the inactive shard
    #[argh(option, default = "replay_rekor::log::DEFAULT_INACTIVE_TREE_ID")]
    inactive_tree_id: u64,
    /// delay before every API answer, in milliseconds
    #[argh(option, default = "0")]
    delay_ms: u64,
    /// answer the batch endpoint with this status instead (e.g. 404, 405, 501)
    #[argh(option)]
    disable_retrieve: Option<u16>,
    /// answer every read of this index with 500, for ever (repeatable)
    #[argh(option)]
    unreadable_index: Vec<u64>,
    /// record served indices and request headers (GET /__admin/served)
    #[argh(switch)]
    record: bool,
    /// serve a synthetic log with a realistic key mix made from real bodies
    /// (one key in 25% of entries, four in 5/3/2/1%, the rest unique; see mix.rs)
    #[argh(switch)]
    key_mix: bool,
}

fn main() -> ExitCode {
    let args: Args = argh::from_env();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replay-rekor: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let corpus = load_corpus(&args.corpus)?;
    let mix = if args.key_mix {
        Some(KeyMix::from_corpus(&corpus)?)
    } else {
        None
    };
    let mut log = Log::new(corpus).with_tree_id(args.tree_id);
    if let Some(mix) = mix {
        log = log.with_key_mix(mix);
    }
    if let Some(inactive) = args.inactive_size {
        log = log.with_inactive_shard(args.inactive_tree_id, inactive);
    }
    if let Some(size) = args.size {
        log = log.with_size(size);
    }
    let server = ReplayServer::bind(args.listen, log)?;
    server.set_delay(Duration::from_millis(args.delay_ms));
    server.set_recording(args.record);
    for &index in &args.unreadable_index {
        server.set_unreadable(index, true);
    }
    if let Some(status) = args.disable_retrieve {
        server.set_retrieve(RetrieveMode::Disabled { status });
    }
    println!("listening on {}", server.url());
    std::io::stdout().flush()?;
    loop {
        std::thread::park();
    }
}
