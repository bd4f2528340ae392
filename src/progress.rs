//! Progress reporting: a live bar when stderr is a terminal, otherwise a log
//! line every few seconds (cron and Kubernetes logs want lines, not bars).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const LINE_EVERY: Duration = Duration::from_secs(5);

/// What the checkpoint thread knows about the run at a moment.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    pub done: u64,
    pub total: u64,
    /// Lowest index not yet complete.
    pub watermark: u64,
    /// Last saved `lastCompletedIndex`, if any.
    pub saved: Option<u64>,
}

pub struct Progress {
    started: Instant,
    last_line: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} ({per_sec}, ETA {eta}) {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        let now = Instant::now();
        Progress {
            started: now,
            last_line: now,
            bar,
        }
    }

    pub fn update(&mut self, s: Snapshot) {
        if let Some(bar) = &self.bar {
            bar.set_position(s.done);
            bar.set_message(format!("watermark {}", s.watermark));
            return;
        }
        if self.last_line.elapsed() < LINE_EVERY {
            return;
        }
        self.last_line = Instant::now();
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            s.done as f64 / elapsed
        } else {
            0.0
        };
        let eta = if rate > 0.0 {
            let left = s.total.saturating_sub(s.done) as f64 / rate;
            humantime::format_duration(Duration::from_secs(left.round() as u64)).to_string()
        } else {
            "unknown".to_string()
        };
        let saved = s
            .saved
            .map_or_else(|| "none yet".to_string(), |n| n.to_string());
        log::info!(
            "Progress: {}/{} entries ({:.1}%), {:.0} entries/s, watermark {}, checkpoint {}, ETA {}",
            s.done,
            s.total,
            100.0 * s.done as f64 / s.total.max(1) as f64,
            rate,
            s.watermark,
            saved,
            eta
        );
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
