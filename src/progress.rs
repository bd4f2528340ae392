//! Progress reporting: a live bar when stderr is a terminal and logs are
//! text, otherwise a log line every few seconds (cron and Kubernetes logs
//! want lines, not bars). Lines carry the rate, the watermark, what
//! remains and the ETA, as fields too in JSON logs.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::counters::Totals;

const LINE_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    last_line: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// `total`: entries of the run; `bar_allowed`: a bar may be drawn
    /// (text logs) when stderr is a terminal.
    pub fn new(total: u64, bar_allowed: bool) -> Progress {
        let bar = (bar_allowed && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} ({per_sec}, ETA {eta}) {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        Progress {
            last_line: Instant::now(),
            bar,
        }
    }

    pub fn update(&mut self, t: &Totals) {
        let done = t.indexed + t.failed;
        let watermark = t.watermark.unwrap_or(0);
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            bar.set_message(format!("watermark {watermark}"));
            return;
        }
        if self.last_line.elapsed() < LINE_EVERY {
            return;
        }
        self.last_line = Instant::now();
        let total = done + t.remaining();
        let rate = t.rate();
        let eta = t.eta();
        let eta_text = eta.map_or_else(
            || "unknown".to_string(),
            |d| humantime::format_duration(d).to_string(),
        );
        let saved = t
            .saved
            .map_or_else(|| "none yet".to_string(), |n| n.to_string());
        log::info!(
            done = done,
            total = total,
            remaining = t.remaining(),
            rate = (rate * 10.0).round() / 10.0,
            watermark = watermark,
            checkpoint = t.saved,
            eta_seconds = eta.map(|d| d.as_secs());
            "Progress: {done}/{total} entries ({:.1}%), {rate:.0} entries/s, watermark {watermark}, checkpoint {saved}, {} remaining, ETA {eta_text}",
            100.0 * done as f64 / total.max(1) as f64,
            t.remaining(),
        );
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
