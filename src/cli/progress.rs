//! A progress bar on stderr for long command-line work; hidden when stderr is not a terminal.

use crate::app::Progress;
use indicatif::{ProgressBar, ProgressStyle};

pub struct Bar(ProgressBar);

impl Bar {
    pub fn new() -> Bar {
        Bar(ProgressBar::hidden())
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, total: u64) {
        let bar = &self.0;
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        // A step of unknown length (one long statement) spins instead of filling a bar.
        let template = if total == 0 {
            "{spinner} {msg}  {elapsed} elapsed"
        } else {
            // The bar takes what the terminal has left, so the line fits at 80 columns.
            "{msg:>28} [{wide_bar}] {percent:>3}%  {elapsed} elapsed, ~{eta} left"
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        if total == 0 {
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        } else {
            bar.disable_steady_tick();
        }
        bar.set_message(what.to_string());
        bar.set_length(total);
        // A step after a finished one: `reset` makes the bar live again (a finished bar stays
        // hidden however it moves), at zero, with its clock restarted.
        bar.reset();
    }

    fn advance(&self, by: u64) {
        self.0.inc(by);
    }

    fn status(&self, text: &str) {
        self.0.set_message(text.to_string());
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
