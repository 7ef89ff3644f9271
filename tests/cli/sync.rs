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
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("the hub refused: no database at"), "{}", refused.stderr);
    let as_other = hub.run(&["--as", "someone", "sync-serve"]);
    assert_ne!(as_other.code, 0);
    assert!(as_other.stderr.contains("--as is not taken"), "{}", as_other.stderr);
}

/// A demo hub on which the account running the tests is the worksite ws_01 (its records and
/// assignments renamed to it), and the demo's admin is `boss`.
fn hub_where_i_am_a_worksite() -> Env {
    let hub = Env::new();
    hub.ok(&["demo", "--students", "60", "--days", "30", "--seed", "7", "--today", "2026-03-02"]);
    crate::worksite::become_worksite(&hub.sql(), &crate::harness::me(), "ws_01");
    hub
}

fn student_ids(db: &rusqlite::Connection, sql: &str) -> Vec<String> {
    db.prepare(sql).unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn a_clone_holds_exactly_the_scope_of_the_person_and_nothing_of_anyone_else() {
    let hub = hub_where_i_am_a_worksite();
    let laptop = Env::new();
    let out = laptop.ok(&["sync", "clone", "--hub-command", &hub_command(&hub), "--name", "site laptop"]);
    assert!(out.contains("is a replica of") && out.contains("device dev-1"), "{out}");

    let me = crate::harness::me();
    let mine = student_ids(
        &hub.sql(),
        &format!(
            "SELECT s.student_id FROM students s JOIN student_assignments x ON x.student = s.id
              WHERE x.login = '{me}' ORDER BY 1"
        ),
    );
    assert!(!mine.is_empty() && mine.len() < 60, "{mine:?}");
    let replica = laptop.sql();
    assert_eq!(student_ids(&replica, "SELECT student_id FROM students ORDER BY 1"), mine);
    let counts = |db: &rusqlite::Connection, table: &str, of: &str| -> i64 {
        db.query_row(
            &format!(
                "SELECT count(*) FROM {table} t JOIN students s ON s.id = t.student
                  WHERE s.student_id IN (SELECT value FROM json_each(?1))"
            ),
            [of],
            |r| r.get(0),
        )
        .unwrap()
    };
    let scope = serde_json::to_string(&mine).unwrap();
    for table in ["attendance", "alerts", "enrollments", "login_events"] {
        assert_eq!(counts(&replica, table, &scope), counts(&hub.sql(), table, &scope), "{table}");
        let all: i64 = replica.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap();
        assert_eq!(all, counts(&replica, table, &scope), "{table} holds only the scope");
    }

    // Not even in the file's bytes: no student ID of anyone else, nor another worksite's login.
    // (Who verified or triaged a record in scope — a coordinator, an admin — is part of it.)
    drop(replica);
    laptop.ok(&["students", "list"]);
    let mut bytes = std::fs::read(&laptop.db).unwrap();
    if let Ok(wal) = std::fs::read(laptop.db.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    let text = String::from_utf8_lossy(&bytes);
    let others = student_ids(&hub.sql(), "SELECT student_id FROM students ORDER BY 1");
    for other in others.iter().filter(|id| !mine.contains(id)) {
        assert!(!text.contains(other.as_str()), "{other} is in the replica's file");
    }
    for login in ["ws_02", "ws_03", "ws_04"] {
        assert!(!text.contains(login), "{login} is in the replica's file");
    }

    // On the laptop this account is the worksite, with the worksite's rights.
    let listed = laptop.ok(&["students", "list", "--format", "csv"]);
    assert_eq!(listed.lines().count() - 1, mine.len(), "{listed}");
    let denied = laptop.fails(3, &["user", "add", "x1", "--role", "worksite", "--name", "X"]);
    assert!(denied.contains("only admins"), "{denied}");
    let audit: String =
        laptop.sql().query_row("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| r.get(0)).unwrap();
    assert_eq!(audit, "replica.clone");

    // The hub knows the device, its owner, and wrote it in its audit log.
    let (name, owner): (String, String) = hub
        .sql()
        .query_row("SELECT name, ssh_login FROM devices WHERE id = 'dev-1'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((name.as_str(), owner.as_str()), ("site laptop", me.as_str()));
    let registered: i64 = hub
        .sql()
        .query_row("SELECT count(*) FROM audit_log WHERE action = 'device.register' AND entity_id = 'dev-1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(registered, 1);
    // Listing devices is for admins; here the account is a worksite.
    hub.fails(3, &["device", "list"]);
}

#[test]
fn a_clone_cut_short_or_into_an_existing_file_leaves_nothing_half_made() {
    let hub = hub_where_i_am_a_worksite();
    let laptop = Env::new();
    // What a hub says to a clone, recorded, and played back cut off after 3,000 bytes: the
    // connection drops in the middle of the rows.
    let mut asked = Vec::new();
    for body in [r#"{"type":"hello","min":1,"max":1,"muster":"test"}"#, r#"{"type":"clone","name":"cut"}"#] {
        asked.extend((body.len() as u32).to_be_bytes());
        asked.extend(body.as_bytes());
    }
    let request = laptop.dir.path().join("request");
    std::fs::write(&request, asked).unwrap();
    let said = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["--db", hub.db.to_str().unwrap(), "sync-serve"])
        .stdin(std::fs::File::open(&request).unwrap())
        .output()
        .unwrap();
    assert!(said.stdout.len() > 3000, "{}", String::from_utf8_lossy(&said.stderr));
    let recorded = laptop.dir.path().join("recorded");
    std::fs::write(&recorded, &said.stdout[..3000]).unwrap();
    let cut = format!("cat '{}'", recorded.display());
    let ran = laptop.run(&["sync", "clone", "--hub-command", &cut]);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains("nothing was kept"), "{}", ran.stderr);
    assert!(!laptop.db.exists(), "no replica file is left");
    assert!(
        std::fs::read_dir(laptop.dir.path())
            .unwrap()
            .all(|e| { !e.unwrap().file_name().to_string_lossy().starts_with("muster.db") })
    );

    laptop.ok(&["init"]);
    let refused = laptop.run(&["sync", "clone", "--hub-command", &hub_command(&hub)]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("already exists"), "{}", refused.stderr);
}

#[test]
fn admins_allow_people_on_a_device_and_revoke_it() {
    let hub = Env::new();
    hub.ok(&["demo", "--students", "30", "--days", "20", "--seed", "3", "--today", "2026-03-02"]);
    let laptop = Env::new();
    laptop.ok(&["sync", "clone", "--hub-command", &hub_command(&hub), "--name", "office"]);
    let listed = hub.json(&["device", "list"]);
    assert_eq!(listed[0]["id"], "dev-1");
    assert_eq!(listed[0]["name"], "office");
    // Nothing changed on the hub: a sync is a round trip that reads nothing.
    assert!(laptop.ok(&["sync"]).contains("nothing changed on the hub"));
    assert!(hub.ok(&["device", "allow", "dev-1", "ws_02"]).contains("ws_02 may use dev-1"));
    // Something did (every change on the hub is audited): the scope is read again.
    assert!(laptop.ok(&["sync"]).contains("rows from the hub"));
    assert!(laptop.ok(&["sync"]).contains("nothing changed on the hub"));
    assert!(hub.ok(&["device", "allow", "dev-1", "ws_02"]).contains("already"));
    hub.fails(4, &["device", "allow", "dev-9", "ws_02"]);
    hub.fails(4, &["device", "allow", "dev-1", "nobody"]);
    // Revoking cannot be undone: asked first; with no terminal to ask on, refused without --yes.
    let asked = hub.fails(4, &["device", "revoke", "dev-1"]);
    assert!(asked.contains("Stop serving dev-1") && asked.contains("add --yes"), "{asked}");
    assert!(hub.json(&["device", "list"])[0]["revoked_at"].is_null(), "nothing changed");
    assert!(hub.ok(&["device", "revoke", "dev-1", "--yes"]).contains("revoked"));
    let listed = hub.json(&["device", "list"]);
    assert_eq!(listed[0]["allowed"], serde_json::json!(["ws_02"]));
    assert!(listed[0]["revoked_at"].is_string());
    let actions: Vec<String> =
        student_ids(&hub.sql(), "SELECT action FROM audit_log WHERE entity = 'device' ORDER BY seq");
    assert_eq!(actions, ["device.register", "device.allow", "device.revoke"]);
}

/// The counts in a pull's "(N new, M changed, K gone here)".
fn pulled(said: &str) -> (u64, u64, u64) {
    let counts = said.rsplit_once('(').map(|(_, tail)| tail).unwrap_or_else(|| panic!("no counts in {said}"));
    let n: Vec<u64> = counts.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
    assert_eq!(n.len(), 3, "{said}");
    (n[0], n[1], n[2])
}

#[test]
fn a_pull_writes_what_changed_on_the_hub_and_leaves_the_rest_alone() {
    let hub = hub_where_i_am_a_worksite();
    let laptop = Env::new();
    laptop.ok(&["sync", "clone", "--hub-command", &hub_command(&hub)]);
    let (student, program, date) = unlogged_day(&laptop.sql());
    let pages_before: i64 = laptop.sql().query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    log_day(&hub, (&student, &program, &date), "present", None);
    let said = laptop.ok(&["sync"]);
    let (new, changed, gone) = pulled(&said);
    // The record, and at most what the rules changed about the student's alerts.
    assert!(new >= 1 && new + changed <= 6 && gone == 0, "{said}");
    // Only that student's rows came: digests told the hub what the laptop already held.
    let sent: i64 =
        said.split(" rows from the hub").next().and_then(|s| s.rsplit(' ').next()).unwrap().parse().unwrap();
    let theirs: i64 = laptop
        .sql()
        .query_row(
            "WITH me AS (SELECT id FROM students WHERE student_id = ?1)
             SELECT (SELECT count(*) FROM me)
                  + (SELECT count(*) FROM enrollments WHERE student IN me)
                  + (SELECT count(*) FROM student_assignments WHERE student IN me)
                  + (SELECT count(*) FROM attendance WHERE student IN me)
                  + (SELECT count(*) FROM login_events WHERE student IN me)
                  + (SELECT count(*) FROM progress_events WHERE enrollment IN (SELECT id FROM enrollments WHERE student IN me))
                  + (SELECT count(*) FROM alerts WHERE student IN me)
                  + (SELECT count(*) FROM alert_events WHERE alert IN (SELECT id FROM alerts WHERE student IN me))",
            [&student],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sent, theirs, "exactly that student's rows came: {said}");
    assert_eq!(logged(&laptop.sql(), &student, &date), [("present".to_string(), None)]);
    let pages_after: i64 = laptop.sql().query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    assert!(pages_after <= pages_before + 2, "the file did not grow by a scope's copy: {pages_before} → {pages_after}");
    assert!(laptop.ok(&["sync"]).contains("nothing changed on the hub"));
}

/// `muster attendance log` of one day on `env`, which must take it.
fn log_day(env: &Env, (student, program, date): (&str, &str, &str), status: &str, hours: Option<&str>) -> String {
    let mut args = vec!["attendance", "log", "--student", student, "--program", program, "--date", date];
    args.extend(["--status", status]);
    args.extend(hours.iter().flat_map(|h| ["--hours", *h]));
    env.ok(&args)
}

/// One of the replica's students, a program they are enrolled in, and a day with nothing logged.
fn unlogged_day(replica: &rusqlite::Connection) -> (String, String, String) {
    replica
        .query_row(
            "SELECT s.student_id, p.program_id, '2026-02-27' FROM enrollments e
               JOIN students s ON s.id = e.student JOIN programs p ON p.id = e.program
              WHERE e.status = 'active' AND e.start_date <= '2026-02-27'
                AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.student = e.student AND a.program = e.program
                                   AND a.date = '2026-02-27')
              ORDER BY s.student_id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

fn logged(db: &rusqlite::Connection, student: &str, date: &str) -> Vec<(String, Option<f64>)> {
    db.prepare(
        "SELECT a.status, a.hours FROM attendance a JOIN students s ON s.id = a.student
          WHERE s.student_id = ?1 AND a.date = ?2",
    )
    .unwrap()
    .query_map([student, date], |r| Ok((r.get(0)?, r.get(1)?)))
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn offline_changes_reach_the_hub_exactly_once_and_the_hubs_come_back() {
    let hub = hub_where_i_am_a_worksite();
    let laptop = Env::new();
    laptop.ok(&["sync", "clone", "--hub-command", &hub_command(&hub)]);
    let (student, program, date) = unlogged_day(&laptop.sql());
    log_day(&laptop, (&student, &program, &date), "present", Some("4"));
    // Seen at once on the laptop, waiting to go; not on the hub yet.
    assert_eq!(logged(&laptop.sql(), &student, &date), [("present".to_string(), Some(4.0))]);
    assert!(laptop.ok(&["sync", "status"]).contains("waiting to be sent: 1"));
    assert!(logged(&hub.sql(), &student, &date).is_empty());

    // Meanwhile on the hub: a coordinator's work the laptop has not seen.
    let other: String = hub
        .sql()
        .query_row(
            "SELECT s.student_id FROM students s JOIN student_assignments x ON x.student = s.id
          WHERE x.login = ?1 AND s.student_id <> ?2 ORDER BY 1 LIMIT 1",
            [crate::harness::me(), student.clone()],
            |r| r.get(0),
        )
        .unwrap();
    hub.sql().execute("UPDATE students SET phone = '555-0100' WHERE student_id = ?1", [&other]).unwrap();

    let said = laptop.ok(&["sync"]);
    assert!(said.contains("1 changes applied on the hub, 0 rejected"), "{said}");
    assert_eq!(logged(&hub.sql(), &student, &date), [("present".to_string(), Some(4.0))]);
    let phone: Option<String> =
        laptop.sql().query_row("SELECT phone FROM students WHERE student_id = ?1", [&other], |r| r.get(0)).unwrap();
    assert_eq!(phone.as_deref(), Some("555-0100"), "the pull brought the hub's change");
    let status = laptop.ok(&["sync", "status"]);
    assert!(status.contains("waiting to be sent: 0") && status.contains("rejected by the hub: 0"), "{status}");

    // The hub's audit entry names the device and the time the change was given on the laptop.
    let client: String = hub
        .sql()
        .query_row("SELECT client FROM audit_log WHERE action LIKE 'attendance.%' ORDER BY seq DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(client.starts_with("device dev-1, given 20"), "{client}");

    // A push repeated (the laptop never heard the answer) applies nothing twice: the day was
    // changed to absent since, and the first change sent again does not bring `present` back.
    log_day(&laptop, (&student, &program, &date), "absent", None);
    laptop.ok(&["sync"]);
    assert_eq!(logged(&hub.sql(), &student, &date), [("absent".to_string(), None)]);
    laptop.sql().execute("UPDATE outbox SET state = 'waiting' WHERE seq = 1", []).unwrap();
    let records = |db: &rusqlite::Connection| -> i64 {
        db.query_row("SELECT count(*) FROM attendance", [], |r| r.get(0)).unwrap()
    };
    let before = (records(&hub.sql()), hub.count("audit_log"));
    laptop.ok(&["sync"]);
    assert_eq!((records(&hub.sql()), hub.count("audit_log")), before, "nothing applied or audited again");
    assert_eq!(logged(&hub.sql(), &student, &date), [("absent".to_string(), None)]);
}

#[test]
fn forged_or_unassigned_changes_are_rejected_shown_and_audited() {
    let hub = hub_where_i_am_a_worksite();
    let laptop = Env::new();
    laptop.ok(&["sync", "clone", "--hub-command", &hub_command(&hub)]);
    let (student, program, date) = unlogged_day(&laptop.sql());
    let log = |status: &str| {
        log_day(&laptop, (&student, &program, &date), status, None);
    };
    log("absent");
    log("excused");
    // And one good change between and after them, for another student: applied all the same.
    let (other, other_program): (String, String) = laptop
        .sql()
        .query_row(
            "SELECT s.student_id, p.program_id FROM enrollments e JOIN students s ON s.id = e.student
               JOIN programs p ON p.id = e.program WHERE s.student_id <> ?1 AND e.status = 'active'
                AND e.start_date <= ?2 ORDER BY 1 LIMIT 1",
            [&student, &date],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    log_day(&laptop, (&other, &other_program, &date), "present", None);
    // The first is made to look like another worksite's; the student of the second is taken off
    // this worksite on the hub before the laptop syncs.
    laptop.sql().execute("UPDATE outbox SET author = 'ws_02' WHERE seq = 1", []).unwrap();
    hub.sql()
        .execute(
            "DELETE FROM student_assignments WHERE login = ?1 AND student = (SELECT id FROM students WHERE student_id = ?2)",
            [crate::harness::me(), student.clone()],
        )
        .unwrap();
    let said = laptop.ok(&["sync"]);
    assert!(said.contains("1 changes applied on the hub, 2 rejected"), "{said}");
    assert!(pulled(&said).2 > 0, "the student's rows are gone from the laptop: {said}");
    assert_eq!(logged(&hub.sql(), &other, &date).len(), 1, "the good change landed beside the rejected ones");
    assert!(logged(&hub.sql(), &student, &date).is_empty(), "nothing of either reached the hub");

    let status = laptop.ok(&["sync", "status"]);
    assert!(status.contains("rejected by the hub: 2"), "{status}");
    assert!(status.contains("ws_02 may not use device dev-1"), "{status}");
    assert!(status.contains("permission denied"), "{status}");
    assert!(status.contains("\"excused\""), "the original values are shown to redo it: {status}");
    // The student left the scope: gone from the laptop at this pull.
    let here: i64 = laptop
        .sql()
        .query_row("SELECT count(*) FROM students WHERE student_id = ?1", [&student], |r| r.get(0))
        .unwrap();
    assert_eq!(here, 0);
    let rejections: i64 = hub
        .sql()
        .query_row("SELECT count(*) FROM audit_log WHERE action = 'sync.rejected' AND entity_id = 'dev-1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(rejections, 2);

    // A revoked device is told so and sends nothing.
    hub.sql().execute("UPDATE devices SET revoked_at = '2026-03-02T00:00:00Z'", []).unwrap();
    let (student, program, date) = unlogged_day(&laptop.sql());
    log_day(&laptop, (&student, &program, &date), "present", None);
    let refused = laptop.run(&["sync"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("revoked"), "{}", refused.stderr);
    assert!(laptop.ok(&["sync", "status"]).contains("waiting to be sent: 1"));
}

/// The real thing: an OpenSSH server on 127.0.0.1 with a throwaway host key, the hub's account
/// pinned to `muster sync-serve` by its authorized_keys line, and the laptop going through the
/// system `ssh`. Needs `sshd` (CI installs openssh-server and must run this).
#[test]
fn a_replica_is_cloned_and_synced_over_a_real_openssh_server() {
    let sshd = std::path::Path::new("/usr/sbin/sshd");
    if !sshd.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI must install openssh-server for this test");
        eprintln!("skipped: no /usr/sbin/sshd here (install openssh-server to run it)");
        return;
    }
    let hub = hub_where_i_am_a_worksite();
    let keys = tempfile::tempdir().unwrap();
    let at = |name: &str| keys.path().join(name);
    for (key, comment) in [("host_key", "host"), ("laptop_key", "laptop")] {
        let made = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
            .arg(at(key))
            .status()
            .unwrap();
        assert!(made.success());
    }
    let public = std::fs::read_to_string(at("laptop_key.pub")).unwrap();
    let forced = format!("{} --db {} sync-serve", env!("CARGO_BIN_EXE_muster"), hub.db.display());
    std::fs::write(at("authorized_keys"), format!("command=\"{forced}\",restrict {public}")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nPidFile {}\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
         PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n",
        at("host_key").display(),
        at("authorized_keys").display(),
        at("sshd.pid").display()
    );
    std::fs::write(at("sshd_config"), config).unwrap();
    let _ = std::fs::create_dir_all("/run/sshd");
    let mut server = std::process::Command::new(sshd)
        .args(["-D", "-e", "-f"])
        .arg(at("sshd_config"))
        .stderr(std::fs::File::create(at("sshd.log")).unwrap())
        .spawn()
        .unwrap();
    struct Stop<'a>(&'a mut std::process::Child);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _stop = Stop(&mut server);
    let listening = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(listening, "sshd did not start: {}", std::fs::read_to_string(at("sshd.log")).unwrap_or_default());

    let ssh = format!(
        "ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o IdentitiesOnly=yes -i {}",
        at("laptop_key").display()
    );
    let vars = [("MUSTER_SSH_COMMAND", ssh.as_str())];
    let me = crate::harness::me();
    let url = format!("ssh://{me}@127.0.0.1:{port}{}", hub.db.display());
    let laptop = Env::new();
    let cloned = laptop.run_with(&["sync", "clone", &url, "--name", "over ssh"], &vars);
    assert_eq!(
        cloned.code,
        0,
        "{}{}\n{}",
        cloned.stdout,
        cloned.stderr,
        std::fs::read_to_string(at("sshd.log")).unwrap()
    );
    assert!(cloned.stdout.contains(&format!("is a replica of ssh://{me}@127.0.0.1:{port}")), "{}", cloned.stdout);

    let (student, program, date) = unlogged_day(&laptop.sql());
    log_day(&laptop, (&student, &program, &date), "present", Some("3"));
    let synced = laptop.run_with(&["sync"], &vars);
    assert_eq!(synced.code, 0, "{}", synced.stderr);
    assert!(synced.stdout.contains("1 changes applied on the hub"), "{}", synced.stdout);
    assert_eq!(logged(&hub.sql(), &student, &date), [("present".to_string(), Some(3.0))]);
    let pinged = laptop.run_with(&["sync", "ping", &url], &vars);
    assert!(pinged.stdout.contains(&format!("sees you as {me} (worksite)")), "{}{}", pinged.stdout, pinged.stderr);
}

/// A decision made offline on a record that was logged again on the hub meanwhile is refused
/// as changed since it was seen; one on an unchanged record is applied.
#[test]
fn a_decision_on_a_record_changed_since_it_was_seen_is_refused() {
    let hub = Env::new();
    hub.ok(&["demo", "--students", "30", "--days", "20", "--seed", "4", "--today", "2026-03-02"]);
    hub.as_if_partners_logged_from_their_own_accounts();
    let laptop = Env::new();
    laptop.ok(&["sync", "clone", "--hub-command", &hub_command(&hub)]);
    let pending = student_ids(
        &laptop.sql(),
        "SELECT CAST(id AS TEXT) FROM attendance WHERE verification = 'pending' ORDER BY id LIMIT 2",
    );
    assert_eq!(pending.len(), 2);
    laptop.ok(&["attendance", "verify", &pending[0]]);
    laptop.ok(&["attendance", "verify", &pending[1]]);
    // On the hub the worksite logs the first day again, with other hours.
    hub.sql()
        .execute("UPDATE attendance SET logged_at = '2026-03-02T18:00:00Z', hours = 7 WHERE id = ?1", [&pending[0]])
        .unwrap();
    let said = laptop.ok(&["sync"]);
    assert!(said.contains("1 changes applied on the hub, 1 rejected"), "{said}");
    let status = laptop.ok(&["sync", "status"]);
    assert!(
        status.contains(&format!("attendance record {} changed on the hub since you saw it", pending[0])),
        "{status}"
    );
    let verification = |id: &str| -> String {
        hub.sql().query_row("SELECT verification FROM attendance WHERE id = ?1", [id], |r| r.get(0)).unwrap()
    };
    assert_eq!(verification(&pending[0]), "pending");
    assert_eq!(verification(&pending[1]), "verified");
}

/// An alert the laptop opened itself (its guess, before the hub's job spoke) has an id of the
/// laptop's making, which on the hub may be another alert's: triage of it is refused there, never
/// applied to the alert that happens to carry the same id.
#[test]
fn triage_of_an_alert_the_laptop_guessed_never_lands_on_another() {
    let hub = hub_where_i_am_a_worksite();
    let laptop = Env::new();
    laptop.ok(&["sync", "clone", "--hub-command", &hub_command(&hub)]);
    let open = student_ids(
        &laptop.sql(),
        "SELECT CAST(id AS TEXT) FROM alerts WHERE status = 1 /* open */ ORDER BY id LIMIT 2",
    );
    assert_eq!(open.len(), 2, "the demo leaves the worksite open alerts");
    // The first stands for one the laptop opened itself and numbered as the hub numbers another.
    laptop
        .sql()
        .execute("UPDATE alerts SET opened_at = unixepoch('2026-03-02T09:00:00Z') WHERE id = ?1", [&open[0]])
        .unwrap();
    laptop.ok(&["alerts", "ack", &open[0]]);
    laptop.ok(&["alerts", "ack", &open[1]]);
    let said = laptop.ok(&["sync"]);
    assert!(said.contains("1 changes applied on the hub, 1 rejected"), "{said}");
    let status = laptop.ok(&["sync", "status"]);
    assert!(status.contains(&format!("alert {} is not the alert you saw", open[0])), "{status}");
    let state = |id: &str| -> String {
        let sql = "SELECT CASE status WHEN 1 THEN 'open' WHEN 2 THEN 'acknowledged' END FROM alerts WHERE id = ?1";
        hub.sql().query_row(sql, [id], |r| r.get(0)).unwrap()
    };
    assert_eq!(state(&open[0]), "open", "the hub's alert of that number was left alone");
    assert_eq!(state(&open[1]), "acknowledged");
}

/// `muster daemon` on a replica syncs on its own (and runs no alert job there), and stops on
/// SIGTERM.
#[test]
fn the_daemon_keeps_a_replica_in_sync() {
    let hub = hub_where_i_am_a_worksite();
    let laptop = Env::new();
    laptop.ok(&["sync", "clone", "--hub-command", &hub_command(&hub)]);
    let (student, program, date) = unlogged_day(&laptop.sql());
    log_day(&laptop, (&student, &program, &date), "excused", None);
    let daemon = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["--db", laptop.db.to_str().unwrap(), "daemon"])
        .env("XDG_DATA_HOME", laptop.dir.path().join("data"))
        .env("HOME", laptop.dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let arrived = (0..150).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        !logged(&hub.sql(), &student, &date).is_empty()
    });
    // SAFETY: sends SIGTERM to the child this test started.
    unsafe { libc::kill(daemon.id() as libc::pid_t, libc::SIGTERM) };
    let out = daemon.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(arrived, "the change never reached the hub: {said}");
    assert!(out.status.success(), "{said}");
    assert!(said.contains("syncing every three minutes") && said.contains("stopped"), "{said}");
    assert_eq!(logged(&hub.sql(), &student, &date), [("excused".to_string(), None)]);
}

/// A site with no network: the laptop writes a bundle, the hub answers it into a reply, the
/// laptop applies the reply — the same protocol, carried as files. A reply applied twice, or a
/// bundle received twice, changes nothing more.
#[test]
fn bundles_carry_a_sync_as_files() {
    let hub = hub_where_i_am_a_worksite();
    let laptop = Env::new();
    laptop.ok(&["sync", "clone", "--hub-command", &hub_command(&hub)]);
    let (student, program, date) = unlogged_day(&laptop.sql());
    log_day(&laptop, (&student, &program, &date), "present", Some("5"));
    let bundle = laptop.dir.path().join("to-hub.bundle");
    let reply = laptop.dir.path().join("from-hub.reply");
    let written = laptop.ok(&["sync", "bundle", "--out", bundle.to_str().unwrap()]);
    assert!(written.contains("1 changes"), "{written}");
    hub.ok(&["sync", "receive", bundle.to_str().unwrap(), "--reply", reply.to_str().unwrap()]);
    assert_eq!(logged(&hub.sql(), &student, &date), [("present".to_string(), Some(5.0))]);
    // The same bundle again: applied once, whatever is carried twice.
    let again = laptop.dir.path().join("again.reply");
    hub.ok(&["sync", "receive", bundle.to_str().unwrap(), "--reply", again.to_str().unwrap()]);
    let said = laptop.ok(&["sync", "bundle", "--apply", reply.to_str().unwrap()]);
    assert!(said.contains("1 changes applied on the hub, 0 rejected") && said.contains("rows from the hub"), "{said}");
    assert!(laptop.ok(&["sync", "status"]).contains("waiting to be sent: 0"));
    let records: i64 = hub
        .sql()
        .query_row("SELECT count(*) FROM audit_log WHERE client LIKE 'device dev-1%'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(records, 1, "the change was applied once");
    // A reply that is not one is refused, and nothing changes.
    let junk = laptop.file("junk.reply", "not a reply");
    laptop.fails(1, &["sync", "bundle", "--apply", &junk]);
    // The reply file must be new: nothing is overwritten.
    let refused = hub.run(&["sync", "receive", bundle.to_str().unwrap(), "--reply", reply.to_str().unwrap()]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("must be a new file"), "{}", refused.stderr);
}

/// Admins assign students to partners and take them off, audited; a partner sees exactly their
/// assigned students, and taking one off is a change the laptops' next pull hears of.
#[test]
fn admins_assign_and_unassign_students() {
    let hub = Env::new();
    hub.ok(&["demo", "--students", "30", "--days", "20", "--seed", "3", "--today", "2026-03-02"]);
    let visible = |login: &str| {
        student_ids(
            &hub.sql(),
            &format!(
                "SELECT s.student_id FROM student_assignments x JOIN students s ON s.id = x.student WHERE x.login = '{login}' ORDER BY 1"
            ),
        )
    };
    let before = visible("ws_01");
    let other: String = hub
        .sql()
        .query_row(
            "SELECT student_id FROM students WHERE id NOT IN (SELECT student FROM student_assignments WHERE login = 'ws_01')
              ORDER BY 1 LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(hub.ok(&["students", "assign", &other, "ws_01"]).contains(&format!("{other} assigned to ws_01")));
    assert!(hub.ok(&["students", "assign", &other, "ws_01"]).contains("nothing changed"));
    let listed = hub.json(&["--as", "ws_01", "students", "list"]);
    assert!(listed.as_array().unwrap().iter().any(|s| s["student_id"] == other.as_str()));
    assert!(hub.ok(&["students", "unassign", &other, "ws_01"]).contains("taken off ws_01"));
    assert_eq!(visible("ws_01"), before);
    hub.fails(3, &["--as", "ws_01", "students", "show", &other]);
    // Only admins, only partners, only students and people that exist.
    hub.fails(3, &["--as", "ws_01", "students", "assign", &other, "ws_01"]);
    hub.fails(4, &["students", "assign", &other, "nobody"]);
    hub.fails(4, &["students", "assign", "S-NOPE", "ws_01"]);
    let admin = crate::harness::me();
    hub.fails(4, &["students", "assign", &other, &admin]);
    let actions = student_ids(&hub.sql(), "SELECT action FROM audit_log WHERE entity = 'assignment' ORDER BY seq");
    assert_eq!(actions, ["assignment.add", "assignment.remove"]);
}

#[test]
fn a_message_written_on_a_laptop_is_made_and_sent_by_the_hub() {
    let hub = hub_where_i_am_a_worksite();
    let laptop = Env::new();
    laptop.ok(&["sync", "clone", "--hub-command", &hub_command(&hub)]);
    let (student, _, _) = unlogged_day(&laptop.sql());
    let said = laptop.ok(&["message", "send", &student, "--subject", "Checking in", "--body", "Hi {first_name}"]);
    assert!(said.contains("kept for the hub"), "{said}");
    assert_eq!(laptop.count("message_campaigns"), 0, "nothing for the laptop to send");
    laptop.ok(&["sync"]);
    let made: (String, String, String) = hub
        .sql()
        .query_row(
            "SELECT c.kind, c.subject, s.student_id FROM message_campaigns c
               JOIN message_recipients r ON r.campaign = c.id JOIN students s ON s.id = r.student
              WHERE c.created_by = ?1 AND c.kind = 'outreach'",
            [crate::harness::me()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the hub made it, as the laptop's person");
    assert_eq!(made, ("outreach".to_string(), "Checking in".to_string(), student));
    assert_eq!(laptop.count("message_campaigns"), 0);
    let deliver = laptop.run(&["message", "deliver"]);
    assert_eq!(deliver.code, 4, "a laptop never sends: {}", deliver.stderr);
}
