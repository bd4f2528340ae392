//! Where index keys go: Redis or MySQL, behind one [`Sink`] trait, plus a
//! dry-run sink that writes nothing. Each rayon worker owns one sink (one
//! connection); the checkpoint thread owns one [`CheckpointStore`].

use crate::checkpoint::CheckpointStore;

/// The keys of one log entry, ready to be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedEntry {
    /// The entry UUID as the server returned it (the index value).
    pub uuid: String,
    /// Keys in computation order, before backend normalisation.
    pub keys: Vec<String>,
}

/// A backend write failed. Fatal for the run: the entries of the batch are
/// not complete and the watermark must not pass them.
#[derive(Debug)]
pub struct SinkError(pub anyhow::Error);

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for SinkError {}

/// Writes index keys. When `write` returns `Ok`, every key of every entry in
/// the batch is durably in the backend; a rerun of the same batch changes
/// nothing (writes are idempotent).
pub trait Sink: Send {
    fn write(&mut self, entries: &[IndexedEntry]) -> Result<(), SinkError>;
}

/// `--dry-run`: accepts everything, writes nothing.
pub struct DrySink;

impl Sink for DrySink {
    fn write(&mut self, _entries: &[IndexedEntry]) -> Result<(), SinkError> {
        Ok(())
    }
}

/// A backend as chosen by the flags; connects sinks and checkpoint stores.
pub trait Backend: Send + Sync {
    /// A human description without secrets, e.g. `redis 127.0.0.1:6379 (tls)`.
    fn describe(&self) -> String;
    /// One connection for one worker. Creates the index schema if needed.
    fn connect_sink(&self) -> anyhow::Result<Box<dyn Sink>>;
    /// One connection for the checkpoint thread. With `read_only` (dry run),
    /// the store must never write (no table creation, no saves).
    fn connect_checkpoint_store(&self, read_only: bool)
        -> anyhow::Result<Box<dyn CheckpointStore>>;
}

/// The backend the configuration chose (placeholder until the sinks land).
pub fn backend_for(choice: &crate::config::BackendChoice) -> anyhow::Result<Box<dyn Backend>> {
    let _ = choice;
    anyhow::bail!("backends are not implemented yet")
}
