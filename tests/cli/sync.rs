//! `muster sync` and `muster sync-serve`: the hello, the version check and a round trip, with
//! the hub run as a command on the same machine (the SSH transport's stand-in).

use crate::harness::Env;

/// A command that runs the hub's side against `hub`'s database.
fn hub_command(hub: &Env) -> String {
    format!("'{}' --db '{}' sync-serve", env!("CARGO_BIN_EXE_muster"), hub.db.display())
}

#[test]
fn a_ping_reaches_the_hub_and_says_who_it_sees() {
    let hub = Env::initialised();
    let laptop = Env::new();
    let out = laptop.ok(&["sync", "ping", "--hub-command", &hub_command(&hub)]);
    let me = crate::harness::me();
    assert!(out.starts_with("hub reachable: muster "), "{out}");
    assert!(out.contains("sync protocol 1") && out.contains(&format!("sees you as {me} (admin)")), "{out}");
    assert!(!laptop.db.exists(), "a ping writes nothing on the laptop");
}

/// A hub that speaks only protocol versions this muster does not: one line naming both ranges.
#[test]
fn a_hub_speaking_other_versions_is_named_in_one_line() {
    let laptop = Env::new();
    let body = br#"{"type":"hello","min":7,"max":9,"muster":"9.0.0"}"#;
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(body);
    let path = laptop.dir.path().join("future-hub");
    std::fs::write(&path, frame).unwrap();
    let ran = laptop.run(&["sync", "ping", "--hub-command", &format!("cat '{}'", path.display())]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let said: Vec<&str> = ran.stderr.lines().filter(|l| l.contains("protocol")).collect();
    assert_eq!(said.len(), 1, "{}", ran.stderr);
    assert!(said[0].contains("1–1") && said[0].contains("7–9") && said[0].contains("9.0.0"), "{}", ran.stderr);
}

#[test]
fn a_hub_that_is_not_muster_or_not_there_is_said_plainly() {
    let laptop = Env::new();
    let silent = laptop.run(&["sync", "ping", "--hub-command", "true"]);
    assert_eq!(silent.code, 1);
    assert!(silent.stderr.contains("closed the connection before saying hello"), "{}", silent.stderr);
    let chatty = laptop.run(&["sync", "ping", "--hub-command", "echo 'Welcome to the server!'"]);
    assert_eq!(chatty.code, 1);
    assert!(chatty.stderr.contains("did not say hello"), "{}", chatty.stderr);
    let wrong = laptop.run(&["sync", "ping", "hub.example.org:/srv/hub.db"]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(wrong.stderr.contains("ssh://LOGIN@HOST"), "{}", wrong.stderr);
}

/// What the hub cannot serve it refuses over the protocol, and the laptop says why; the hub acts
/// only as the account the connection arrived as.
#[test]
fn the_hub_refuses_over_the_protocol_and_takes_no_other_identity() {
    let hub = Env::new();
    let laptop = Env::new();
    let refused = laptop.run(&["sync", "ping", "--hub-command", &hub_command(&hub)]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("the hub refused: no database at"), "{}", refused.stderr);
    let as_other = hub.run(&["--as", "someone", "sync-serve"]);
    assert_ne!(as_other.code, 0);
    assert!(as_other.stderr.contains("--as is not taken"), "{}", as_other.stderr);
}
