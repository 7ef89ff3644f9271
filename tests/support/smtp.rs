//! Test and bench support: a real SMTP server on 127.0.0.1 (`smtp_server.py`, aiosmtpd from
//! Debian's python3-aiosmtpd, which .ci/run installs). Included with `#[path]` by tests/cli and
//! benches/messages.rs.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A real SMTP server, stopped when dropped.
pub struct Smtp {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Smtp {
    pub fn start(dir: &std::path::Path, options: &[&str]) -> Smtp {
        Smtp::start_on(dir, 0, options)
    }

    pub fn start_on(dir: &std::path::Path, port: u16, options: &[&str]) -> Smtp {
        let port_file = dir.join(format!("smtp-port-{}", rand_suffix()));
        let log = dir.join("smtp-received.jsonl");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");
        let child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(&log)
            .arg("--port")
            .arg(port.to_string())
            .args(options)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the SMTP server (needs python3-aiosmtpd; .ci/run installs it)");
        // Made before waiting, so that a server that never starts is still stopped when dropped.
        let mut server = Smtp { child, port: 0, log };
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                server.port = text.trim().parse().expect("a port");
                return server;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "the SMTP server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every message it accepted, in order.
    pub fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}
