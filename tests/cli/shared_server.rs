//! The supported deployment for several people on one server (README, "Several people on one
//! server"): a `muster` service account owns the data and the binary runs setuid to it; who acts
//! is still the real uid. Played with real OS accounts, so it needs root: it creates them. On a
//! developer's machine without root it says why it is skipped; with `CI` set it must run.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SERVICE: &str = "muster_svc";
const ALICE: &str = "mu_alice";
const BOB: &str = "mu_bob";

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn ensure_account(login: &str, home: &Path) {
    let exists = Command::new("id").arg(login).output().is_ok_and(|o| o.status.success());
    if !exists {
        let made = Command::new("useradd")
            .args(["--create-home", "--home-dir"])
            .arg(home)
            .args(["--shell", "/bin/sh", "--comment"])
            .arg(format!("{login} test account"))
            .arg(login)
            .status()
            .expect("useradd");
        assert!(made.success(), "useradd {login}");
    }
}

fn home_of(login: &str) -> PathBuf {
    let out = Command::new("getent").args(["passwd", login]).output().unwrap();
    let line = String::from_utf8_lossy(&out.stdout).to_string();
    PathBuf::from(line.trim().split(':').nth(5).unwrap())
}

struct Server {
    bin: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
    /// The accounts and the service's data directory are the machine's: one test at a time.
    _alone: std::sync::MutexGuard<'static, ()>,
}

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Server {
    /// Runs the setuid binary as `login` (real and effective uid), with a hostile environment.
    fn run(&self, login: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new("setpriv")
            .args(["--reuid", login, "--regid", login, "--init-groups", "--"])
            .arg(&self.bin)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(env.iter().copied())
            .current_dir("/")
            .output()
            .expect("setpriv")
    }

    fn ok(&self, login: &str, args: &[&str]) -> String {
        let out = self.run(login, args, &[]);
        assert!(out.status.success(), "{login} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fails(&self, login: &str, code: i32, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.run(login, args, env);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "{login} {args:?}: {stderr}");
        stderr
    }
}

fn server() -> Option<Server> {
    if !is_root() {
        assert!(std::env::var_os("CI").is_none(), "CI must run the shared-server test as root");
        eprintln!("skipped: the shared-server test creates OS accounts and a setuid binary, which needs root");
        return None;
    }
    let alone = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let base = PathBuf::from("/home/muster-tests");
    std::fs::create_dir_all(&base).unwrap();
    for login in [SERVICE, ALICE, BOB] {
        ensure_account(login, &base.join(login));
    }
    let bin_dir = dir.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = bin_dir.join("muster");
    std::fs::copy(env!("CARGO_BIN_EXE_muster"), &bin).unwrap();
    let chown = Command::new("chown").arg(format!("{SERVICE}:{SERVICE}")).arg(&bin).status().unwrap();
    assert!(chown.success());
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let data = home_of(SERVICE).join(".local/share/muster");
    // Each run starts from no data.
    let _ = std::fs::remove_dir_all(&data);
    Some(Server { bin, data, _dir: dir, _alone: alone })
}

#[test]
fn a_service_account_owns_the_data_and_each_person_acts_as_themselves() {
    let Some(server) = server() else { return };
    let db = server.data.join("muster.db");

    // alice sets the database up through the setuid binary: the file is the service's, 0600,
    // and alice (the real uid) is its admin. Her HOME and MUSTER_DB choose nothing.
    let evil = tempfile::tempdir().unwrap();
    let evil_db = evil.path().join("evil.db");
    let hostile = [
        ("HOME", evil.path().to_str().unwrap()),
        ("XDG_DATA_HOME", evil.path().to_str().unwrap()),
        ("MUSTER_DB", evil_db.to_str().unwrap()),
    ];
    let out = server.run(ALICE, &["init"], &hostile);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(db.to_str().unwrap()));
    assert!(!evil_db.exists(), "MUSTER_DB is ignored under setuid");
    let meta = std::fs::metadata(&db).unwrap();
    let service_uid = std::fs::metadata(&server.bin).unwrap().uid();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (service_uid, 0o600));
    let key = std::fs::metadata(format!("{}.audit-key", db.display())).unwrap();
    assert_eq!((key.uid(), key.mode() & 0o777), (service_uid, 0o600));
    let data_mode = std::fs::metadata(&server.data).unwrap().mode() & 0o777;
    assert_eq!(data_mode, 0o700);
    let log = std::fs::metadata(server.data.join("muster.log")).unwrap();
    assert_eq!((log.uid(), log.mode() & 0o777), (service_uid, 0o600));

    let users = server.ok(ALICE, &["user", "list", "--format", "csv"]);
    assert!(users.contains(&format!("{ALICE},")) && users.contains("admin"), "{users}");
    server.ok(ALICE, &["user", "add", BOB, "--role", "worksite", "--name", "Bob Site"]);
    // bob uses muster as himself …
    let status = server.ok(BOB, &["onboarding", "status"]);
    assert!(status.contains("worksite") || status.contains("role"), "{status}");
    // … but cannot bypass it: the file is not his to read.
    let bypass = Command::new("setpriv")
        .args(["--reuid", BOB, "--regid", BOB, "--init-groups", "--", "cat"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!bypass.status.success(), "bob read the database directly");
    // Nor can he make muster open or create files elsewhere with its rights.
    let elsewhere = evil.path().join("bob.db");
    let err = server.fails(BOB, 3, &["--db", elsewhere.to_str().unwrap(), "init"], &[]);
    assert!(err.contains("opens only databases in its data directory"), "{err}");
    assert!(!elsewhere.exists());
    let sneaky = format!("{}/../../../../tmp/sneaky.db", server.data.display());
    server.fails(BOB, 3, &["--db", &sneaky, "init"], &[]);

    // An admin cannot read the service's files through muster either: an import file is
    // opened with the caller's rights.
    let key_path = format!("{}.audit-key", db.display());
    let err = server.fails(ALICE, 4, &["import", "students", &key_path], &[]);
    assert!(err.contains("Permission denied"), "{err}");
    let key_text = std::fs::read_to_string(&key_path).unwrap();
    let key_hex = key_text.lines().find_map(|l| l.strip_prefix("key ")).unwrap();
    assert!(!err.contains(key_hex));

    // A database the service may only read is listed, and a change is refused as such.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    drop(conn);
    let read_only = server.data.join("frozen.db");
    std::fs::copy(&db, &read_only).unwrap();
    std::fs::copy(&key_path, format!("{}.audit-key", read_only.display())).unwrap();
    for path in [read_only.clone(), PathBuf::from(format!("{}.audit-key", read_only.display()))] {
        assert!(Command::new("chown").arg(format!("{SERVICE}:{SERVICE}")).arg(&path).status().unwrap().success());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    }
    server.ok(ALICE, &["--db", read_only.to_str().unwrap(), "user", "list"]);
    let err = server.fails(
        ALICE,
        3,
        &["--db", read_only.to_str().unwrap(), "user", "add", "mu_carl", "--role", "worksite", "--name", "Carl"],
        &[],
    );
    assert!(err.contains("read-only"), "{err}");
    assert!(server.ok(ALICE, &["audit", "verify"]).contains("audit log is whole"));
}

/// A site with no network, on the shared server: the laptop's bundle is carried in and an admin
/// answers it on the worksite's behalf. The change lands as the worksite's, and the files are
/// read and written with the admin's own rights, not the service account's.
#[test]
fn an_admin_answers_a_site_laptops_bundle_on_the_server() {
    let Some(server) = server() else { return };
    server.ok(ALICE, &["init"]);
    server.ok(ALICE, &["demo", "--students", "20", "--days", "20", "--seed", "5", "--today", "2026-03-02"]);
    server.ok(ALICE, &["user", "add", BOB, "--role", "worksite", "--name", "Bob Site"]);
    server.ok(ALICE, &["onboarding", "waive", BOB, "--reason", "signed on paper"]);
    let db = server.data.join("muster.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "INSERT INTO student_assignments (login, student) SELECT ?1, id FROM students ORDER BY id LIMIT 5",
            [BOB],
        )
        .unwrap();

    // Bob's laptop, cloned once while it had a network, through the server's muster as Bob.
    let site = tempfile::tempdir().unwrap();
    std::fs::set_permissions(site.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let laptop_db = site.path().join("laptop.db");
    let laptop = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_muster"))
            .arg("--db")
            .arg(&laptop_db)
            .args(args)
            .env("XDG_DATA_HOME", site.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "laptop {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let serve = format!("setpriv --reuid {BOB} --regid {BOB} --init-groups -- '{}' sync-serve", server.bin.display());
    laptop(&["sync", "clone", "--hub-command", &serve]);
    let (student, program): (String, String) = rusqlite::Connection::open(&laptop_db)
        .unwrap()
        .query_row(
            "SELECT s.student_id, p.program_id FROM enrollments e JOIN students s ON s.id = e.student
               JOIN programs p ON p.id = e.program
              WHERE e.status = 'active' AND e.start_date <= '2026-02-27'
                AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.student = e.student AND a.program = e.program
                                   AND a.date = '2026-02-27')
              ORDER BY 1 LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let log = ["--student", &student, "--program", &program, "--date", "2026-02-27", "--status", "absent"];
    laptop(&[&["attendance", "log"][..], &log].concat());
    let bundle = site.path().join("to-hub.bundle");
    laptop(&["sync", "bundle", "--out", bundle.to_str().unwrap()]);

    let reply = site.path().join("from-hub.reply");
    server.ok(ALICE, &["sync", "receive", bundle.to_str().unwrap(), "--reply", reply.to_str().unwrap()]);
    let alice_uid = std::fs::metadata(home_of(ALICE)).unwrap().uid();
    assert_eq!(std::fs::metadata(&reply).unwrap().uid(), alice_uid, "the reply is alice's file, not the service's");
    // Nor can alice have the service write where only it may.
    let inside = server.data.join("planted.reply");
    let err = server.fails(
        ALICE,
        1,
        &["sync", "receive", bundle.to_str().unwrap(), "--reply", inside.to_str().unwrap()],
        &[],
    );
    assert!(err.contains("cannot write the reply"), "{err}");
    assert!(!inside.exists());

    let said = laptop(&["sync", "bundle", "--apply", reply.to_str().unwrap()]);
    assert!(said.contains("1 changes applied on the hub, 0 rejected"), "{said}");
    let hub = rusqlite::Connection::open(&db).unwrap();
    let (actor, client): (String, String) = hub
        .query_row(
            "SELECT actor, client FROM audit_log WHERE action = 'attendance.log' AND client LIKE 'device dev-1%'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(actor, BOB, "applied as the worksite, though an admin received it ({client})");
}
