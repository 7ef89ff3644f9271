//! The console in a real terminal (tmux): acknowledge an alert with the keyboard, quit, and find
//! the acknowledgement and its note stored.

use crate::harness::Env;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux is installed (.ci/run installs it)")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "console"]).stdout).into_owned()
    }

    fn wait_for(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "waited for «{text}»; the screen shows:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "console"];
        args.extend(keys);
        assert!(self.run(&args).status.success());
    }

    fn is_running(&self) -> bool {
        self.run(&["has-session", "-t", "console"]).status.success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

#[test]
fn acknowledging_an_alert_from_the_keyboard_is_stored_with_its_note() {
    let env = Env::new();
    env.ok(&["demo", "--students", "60", "--days", "30", "--seed", "5"]);
    env.ok(&["alerts", "run"]);
    let first = env.json(&["alerts", "list"])[0]["id"].as_i64().expect("the demo has alerts");

    let dir = env.dir.path().display().to_string();
    let command = format!(
        "env HOME={dir} XDG_DATA_HOME={dir}/data XDG_CONFIG_HOME={dir}/config TERM=xterm-256color {} --db {}",
        env!("CARGO_BIN_EXE_muster"),
        env.db.display()
    );
    let tmux = Tmux { socket: format!("muster-e2e-{}", std::process::id()) };
    assert!(tmux.run(&["new-session", "-d", "-s", "console", "-x", "100", "-y", "30", &command]).status.success());
    tmux.wait_for("1 Alerts");
    tmux.keys(&["a"]);
    tmux.wait_for(&format!("acknowledge alert {first}"));
    tmux.keys(&["-l", "called her, back on Monday"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("acknowledged alert {first}"));
    tmux.keys(&["q"]);
    let started = Instant::now();
    while tmux.is_running() {
        assert!(started.elapsed() < Duration::from_secs(10), "the console did not quit on q");
        std::thread::sleep(Duration::from_millis(100));
    }

    let shown = env.json(&["alerts", "show", &first.to_string()]);
    assert_eq!(shown["status"], "acknowledged");
    assert_eq!(shown["assigned_to"], crate::harness::me().as_str(), "acknowledging claims it");
    let ack =
        shown["timeline"].as_array().unwrap().iter().find(|e| e["kind"] == "acknowledged").expect("on the timeline");
    assert_eq!(ack["note"], "called her, back on Monday");
    env.ok(&["audit", "verify"]);
}
