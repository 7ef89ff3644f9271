//! Runs the muster binary against a database in a temporary directory.

use rusqlite::Connection;
use std::path::PathBuf;
use std::process::{Command, Output};

pub struct Env {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

/// What a finished command printed.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("muster.db");
        Env { dir, db }
    }

    /// A fresh database whose admin is the account running the tests.
    pub fn initialised() -> Env {
        let env = Env::new();
        env.ok(&["init"]);
        env
    }

    /// A fresh database with these files imported, in order: `(kind, contents)`.
    pub fn with_imports(files: &[(&str, &str)]) -> Env {
        let env = Env::initialised();
        for (kind, contents) in files {
            env.import(kind, contents);
        }
        env
    }

    /// muster in the background with the test's settings, e.g. a sender to kill or a daemon to
    /// stop; its stderr is kept to read.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_muster"))
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("HOME", self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start muster")
    }

    pub fn run(&self, args: &[&str]) -> Ran {
        self.run_with(args, &[])
    }

    /// Runs with extra environment variables, e.g. the SSH client's address.
    pub fn run_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Ran {
        let output: Output = Command::new(env!("CARGO_BIN_EXE_muster"))
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("HOME", self.dir.path())
            .env_remove("MUSTER_DB")
            .env_remove("SSH_CONNECTION")
            .env_remove("SSH_CLIENT")
            .envs(vars.iter().copied())
            .output()
            .expect("run muster");
        Ran {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The tests run under one OS account, the admin of every test database, and log for
    /// partners with `--as`, so muster marks those records as logged by that admin, and four
    /// eyes would keep the same admin from verifying them `--as` a coordinator. This makes the
    /// records as they are when each partner logs from their own account.
    pub fn as_if_partners_logged_from_their_own_accounts(&self) {
        self.sql().execute("UPDATE attendance SET logged_by_person = NULL", []).expect("clear logged_by_person");
    }

    /// Runs a command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let ran = self.run(args);
        assert_eq!(ran.code, 0, "muster {args:?} failed:\n{}{}", ran.stdout, ran.stderr);
        ran.stdout
    }

    /// Runs a command that must fail with `code`; returns its standard error.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let ran = self.run(args);
        assert_eq!(ran.code, code, "muster {args:?} should exit {code}:\n{}{}", ran.stdout, ran.stderr);
        ran.stderr
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut with_format = args.to_vec();
        with_format.extend(["--format", "json"]);
        serde_json::from_str(&self.ok(&with_format)).expect("valid JSON")
    }

    pub fn file(&self, name: &str, contents: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write fixture");
        path.display().to_string()
    }

    pub fn import(&self, kind: &str, contents: &str) -> String {
        let file = self.file(&format!("{kind}.csv"), contents);
        self.ok(&["import", kind, &file])
    }

    /// Plain SQL on the database, as an administrator with `sqlite3` would do it.
    pub fn sql(&self) -> Connection {
        Connection::open(&self.db).expect("open with sqlite")
    }

    /// Every row of every table, to show that a refused command wrote nothing.
    pub fn snapshot(&self) -> String {
        let conn = self.sql();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut out = String::new();
        for table in tables {
            let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
            let width = stmt.column_count();
            let mut rows = stmt.query([]).unwrap();
            while let Some(row) = rows.next().unwrap() {
                let values: Vec<String> = (0..width).map(|i| format!("{:?}", row.get_ref(i).unwrap())).collect();
                out.push_str(&format!("{table}: {}\n", values.join("|")));
            }
        }
        out
    }

    pub fn count(&self, table: &str) -> i64 {
        self.sql().query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
    }
}

/// The login of the account running the tests, which becomes each fresh database's admin.
pub fn me() -> String {
    muster::app::identity::os_account().expect("test account").login
}

pub const PROGRAMS: &str = "program_id,name,schedule,start_date,end_date\n\
P1,Welding Fundamentals,Mon-Fri,2026-01-05,\n\
P2,CDL Class A,\"Mon,Wed,Fri\",2026-01-05,2026-12-18\n";
pub const CLOSURES: &str = "program_id,date,reason\nP1,2026-01-19,Martin Luther King Jr. Day\n";
pub const STUDENTS: &str = "student_id,first_name,last_name,email,phone\n\
S1,Ann,Lee,ann@example.org,555-0101\nS2,Bo,Li,,\nS3,Cy,Ng,,\nS4,Di,Ox,,\n";
pub const ENROLLMENTS: &str = "enrollment_id,student_id,program_id,start_date,end_date,status\n\
E1,S1,P1,2026-01-05,,active\nE2,S2,P1,2026-01-05,,active\nE3,S3,P2,2026-01-05,,active\n\
E4,S4,P2,2026-01-05,2026-03-01,withdrawn\n";
pub const USERS: &str = "login,name,role,email,onboarded\n\
ws_01,Wanda Site,worksite,ws1@example.org,true\nws_02,Walt Late,worksite,,false\n\
sc_01,Sam Coord,site_coordinator,,true\nadmin2,Ada Min,admin,,\n";
pub const ASSIGNMENTS: &str = "login,student_id\nws_01,S1\nws_01,S3\nsc_01,S1\nsc_01,S2\nws_02,S4\n";
pub const ATTENDANCE: &str = "student_id,program_id,date,status,hours\n\
S1,P1,2026-01-05,present,6.5\nS1,P1,2026-01-06,absent,\nS2,P1,2026-01-05,excused,\n";
pub const LOGINS: &str = "student_id,at\nS1,2026-01-05T08:15:00Z\nS1,2026-01-06T08:15:00-05:00\n";

/// Every kind, in the order references need them.
pub const ALL_KINDS: [(&str, &str); 8] = [
    ("programs", PROGRAMS),
    ("closures", CLOSURES),
    ("students", STUDENTS),
    ("enrollments", ENROLLMENTS),
    ("users", USERS),
    ("assignments", ASSIGNMENTS),
    ("attendance", ATTENDANCE),
    ("logins", LOGINS),
];

/// A database with the small fixture organisation above.
pub fn organisation() -> Env {
    let env = Env::initialised();
    for (kind, contents) in ALL_KINDS {
        env.import(kind, contents);
    }
    env
}
