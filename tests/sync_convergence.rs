//! Property test of offline sync: a hub and three replicas (clones of one worksite's scope on
//! three laptops), random attendance logged on each — the same student and day on several — and
//! alerts acknowledged there (the hub's, or ones the laptop opened itself); on the hub its admin logs, verifies, runs the daily job and takes
//! students off the worksite and gives them back; all in random sync orders, with connections cut in the middle of a push, answers lost on the way
//! back (the laptop sends again what the hub already applied), and the laptop's `muster sync` or
//! the hub's `sync-serve` killed with SIGKILL at a random moment. The hub runs as the real
//! `muster sync-serve` behind a command, as ssh would run it.
//!
//! Whatever happened, after everyone syncs: the hub's records are what the changes give when
//! applied once each in the order they arrived (later arrival wins), a change about a student
//! the worksite no longer had when it arrived rejected and every other applied; every replica
//! holds exactly the hub's records and alerts of its scope; and no replica held a student
//! outside its scope after any sync.

use chrono::{Days, NaiveDate};
use muster::app::{Actor, App, AttendanceEntry, Command, Decision, SystemClock, Triage, identity};
use muster::domain::AttendanceStatus;
use muster::store::OpenMode;
use muster::sync::{Hub, HubAddress};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[path = "support/worksite.rs"]
mod worksite;

const STATUSES: [AttendanceStatus; 3] =
    [AttendanceStatus::Present, AttendanceStatus::Absent, AttendanceStatus::Excused];

#[derive(Debug, Clone)]
enum Step {
    /// On replica `laptop`: a day of one of the chosen students.
    Log {
        laptop: usize,
        slot: usize,
        status: usize,
    },
    /// On the hub, by its admin.
    HubLog {
        slot: usize,
        status: usize,
    },
    /// On the hub: the admin verifies the slot's record, if it is pending and not theirs.
    HubVerify {
        slot: usize,
    },
    /// On the hub: the slot's student is taken off the worksite, or given back.
    HubAssign {
        slot: usize,
        assigned: bool,
    },
    /// On the hub: the daily job runs for the next day.
    HubRun,
    /// On replica `laptop`: the worksite acknowledges the `nth` open alert it holds, if any.
    Ack {
        laptop: usize,
        nth: usize,
    },
    Sync {
        laptop: usize,
    },
    /// The hub hears only the first `bytes` the laptop sends (dd passes each byte on at once;
    /// head -c would hold them back).
    CutSync {
        laptop: usize,
        bytes: usize,
    },
    /// The hub's verdicts never reached the laptop: what was applied waits to be sent again.
    LoseAnswers {
        laptop: usize,
    },
    /// A sync whose laptop (`muster sync` run as its own process) or hub (`sync-serve`) is
    /// killed with SIGKILL `after_ms` into it: anywhere from before the push to the pull's end.
    KilledSync {
        laptop: usize,
        hub_side: bool,
        after_ms: u64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..3usize, 0..6usize, 0..3usize).prop_map(|(laptop, slot, status)| Step::Log { laptop, slot, status }),
        1 => (0..6usize, 0..3usize).prop_map(|(slot, status)| Step::HubLog { slot, status }),
        1 => (0..6usize).prop_map(|slot| Step::HubVerify { slot }),
        1 => (0..6usize, any::<bool>()).prop_map(|(slot, assigned)| Step::HubAssign { slot, assigned }),
        2 => Just(Step::HubRun),
        2 => (0..3usize, 0..8usize).prop_map(|(laptop, nth)| Step::Ack { laptop, nth }),
        3 => (0..3usize).prop_map(|laptop| Step::Sync { laptop }),
        1 => (0..3usize, 20..3000usize).prop_map(|(laptop, bytes)| Step::CutSync { laptop, bytes }),
        1 => (0..3usize).prop_map(|laptop| Step::LoseAnswers { laptop }),
        2 => (0..3usize, any::<bool>(), 0..60u64)
            .prop_map(|(laptop, hub_side, after_ms)| Step::KilledSync { laptop, hub_side, after_ms }),
    ]
}

type Day = (String, String, NaiveDate);
/// A day's record as the tests compare it: status and hours.
type Record = (String, Option<f64>);

/// A change made on a laptop, as the model follows it.
#[derive(Debug, Clone)]
enum Change {
    Log(Day, Record),
    Ack,
}

struct Laptop {
    app: App,
    actor: Actor,
    /// The replica's changes that have arrived on the hub, as the model counts them.
    arrived: BTreeSet<i64>,
    /// Those the model expects the hub to have rejected.
    rejected: BTreeSet<i64>,
    /// Each change, by sequence number.
    changes: BTreeMap<i64, Change>,
}

struct World {
    _dir: tempfile::TempDir,
    hub_path: PathBuf,
    hub: App,
    admin: Actor,
    laptops: Vec<Laptop>,
    slots: Vec<Day>,
    /// The hub's records of the slots as the changes, applied once each in arrival order, give.
    model: BTreeMap<Day, Record>,
    /// The worksite everything on the laptops is done as (the OS account).
    worksite: String,
    /// The slots' students the hub has assigned to the worksite now.
    assigned: BTreeSet<String>,
}

/// How a sync's connection to the hub fails, if it does.
#[derive(Clone, Copy)]
enum Failure {
    /// The hub hears only the first bytes the laptop sends.
    Cut(usize),
    /// The hub is killed this many milliseconds after it starts.
    KillHub(u64),
}

fn serve(hub: &Path, failure: Option<Failure>) -> HubAddress {
    let muster = env!("CARGO_BIN_EXE_muster");
    let hub = hub.display();
    HubAddress::Command(match failure {
        Some(Failure::Cut(bytes)) => {
            format!("dd bs=1 count={bytes} 2>/dev/null | '{muster}' --db '{hub}' sync-serve 2>/dev/null")
        }
        Some(Failure::KillHub(ms)) => {
            format!("timeout -s KILL {}.{:03} '{muster}' --db '{hub}' sync-serve 2>/dev/null", ms / 1000, ms % 1000)
        }
        None => format!("'{muster}' --db '{hub}' sync-serve"),
    })
}

fn record(status: AttendanceStatus) -> Record {
    let hours = (status == AttendanceStatus::Present).then_some(4.0);
    (status.to_string(), hours)
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let hub_path = dir.path().join("hub.db");
        let os = identity::os_account().unwrap();
        let mut hub =
            App::open(&hub_path, OpenMode::CreateIfMissing, Box::new(SystemClock), identity::this_origin(&os)).unwrap();
        let admin = hub.sign_in(&os, None).unwrap().actor;
        let today: NaiveDate = "2026-03-02".parse().unwrap();
        let spec =
            muster::domain::demo::DemoSpec { students: 12, days: 20, seed: 9, today, profile: Default::default() };
        hub.execute(&admin, Command::Demo(spec)).unwrap();
        // The OS account becomes the demo's first worksite, and the demo's admin is `boss`.
        let conn = rusqlite::Connection::open(&hub_path).unwrap();
        worksite::become_worksite(&conn, &os.login, "ws_01");
        let boss = muster::store::users::get(&conn, "boss").unwrap().unwrap();
        let admin = Actor { person: boss, acting_as: None };
        // Six days of the worksite's students enrolled then, not yet logged: where the laptops
        // and the hub meet.
        let pairs: Vec<(String, String)> = conn
            .prepare(
                "SELECT s.student_id, p.program_id FROM enrollments e JOIN students s ON s.id = e.student
                   JOIN programs p ON p.id = e.program
                   JOIN student_assignments x ON x.student = e.student AND x.login = ?1
                  WHERE e.status = 'active' AND e.start_date <= '2026-03-04' AND ifnull(e.end_date, '9999') >= '2026-03-05'
                  ORDER BY 1, 2 LIMIT 3",
            )
            .unwrap()
            .query_map([&os.login], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(pairs.len(), 3);
        let assigned = pairs.iter().map(|(student, _)| student.clone()).collect();
        let first: NaiveDate = "2026-03-04".parse().unwrap();
        let slots: Vec<Day> =
            pairs.iter().flat_map(|(s, p)| (0..2).map(move |d| (s.clone(), p.clone(), first + Days::new(d)))).collect();
        drop(conn);
        let laptops = (0..3)
            .map(|i| {
                let path = dir.path().join(format!("laptop{i}.db"));
                let mut connection = Hub::connect(&serve(&hub_path, None)).unwrap();
                connection.clone_into(&path, &format!("laptop {i}"), "test hub", &os).unwrap();
                drop(connection);
                let mut app =
                    App::open(&path, OpenMode::Existing, Box::new(SystemClock), identity::this_origin(&os)).unwrap();
                let actor = app.sign_in(&os, None).unwrap().actor;
                Laptop { app, actor, arrived: BTreeSet::new(), rejected: BTreeSet::new(), changes: BTreeMap::new() }
            })
            .collect();
        let worksite = os.login.clone();
        World { _dir: dir, hub_path, hub, admin, laptops, slots, model: BTreeMap::new(), worksite, assigned }
    }

    fn entry(&self, slot: usize, status: usize) -> AttendanceEntry {
        let (student_id, program_id, date) = self.slots[slot].clone();
        let status = STATUSES[status];
        AttendanceEntry { student_id, program_id, date, status, hours: record(status).1, note: None }
    }

    fn apply(&mut self, step: &Step) {
        match *step {
            Step::Log { laptop, slot, status } => {
                let entry = self.entry(slot, status);
                let laptop = &mut self.laptops[laptop];
                // Refused here only when the laptop has already heard the student is not its own.
                let logged = laptop.app.execute(&laptop.actor, Command::LogAttendance { entries: vec![entry] });
                if logged.is_ok() {
                    let seq: i64 = laptop.app.outbox(&laptop.actor, None).unwrap().last().unwrap().seq;
                    laptop.changes.insert(seq, Change::Log(self.slots[slot].clone(), record(STATUSES[status])));
                } else {
                    let held = student_ids(&rusqlite::Connection::open(laptop.app.path()).unwrap());
                    assert!(!held.contains(&self.slots[slot].0), "refused, though the laptop holds them: {logged:?}");
                }
            }
            Step::HubLog { slot, status } => {
                let entry = self.entry(slot, status);
                self.hub.execute(&self.admin, Command::LogAttendance { entries: vec![entry] }).unwrap();
                self.model.insert(self.slots[slot].clone(), record(STATUSES[status]));
            }
            Step::HubVerify { slot } => {
                let (student, program, date) = &self.slots[slot];
                let hub = rusqlite::Connection::open(&self.hub_path).unwrap();
                let pending: Option<i64> = hub
                    .query_row(
                        "SELECT a.id FROM attendance a JOIN students s ON s.id = a.student
                           JOIN programs p ON p.id = a.program
                          WHERE s.student_id = ?1 AND p.program_id = ?2 AND a.date = ?3
                            AND a.verification = 'pending' AND a.logged_by <> 'boss'",
                        rusqlite::params![student, program, date],
                        |r| r.get(0),
                    )
                    .ok();
                if let Some(id) = pending {
                    let verify = Command::DecideAttendance { ids: vec![id], decision: Decision::Verify };
                    self.hub.execute(&self.admin, verify).unwrap();
                }
            }
            Step::HubAssign { slot, assigned } => {
                let student_id = self.slots[slot].0.clone();
                let login = self.worksite.clone();
                self.hub
                    .execute(&self.admin, Command::SetAssignment { student_id: student_id.clone(), login, assigned })
                    .unwrap();
                if assigned {
                    self.assigned.insert(student_id);
                } else {
                    self.assigned.remove(&student_id);
                }
            }
            Step::HubRun => {
                let hub = rusqlite::Connection::open(&self.hub_path).unwrap();
                let processed: Option<NaiveDate> = hub
                    .query_row("SELECT value FROM job_state WHERE key = 'alerts_processed_through'", [], |r| r.get(0))
                    .ok();
                // The demo leaves the job unrun: it starts a week and a half before the slots.
                let next = processed.map_or("2026-02-23".parse().unwrap(), |day| day + Days::new(1));
                self.hub.execute(&self.admin, Command::RunAlerts { date: next }).unwrap();
            }
            Step::Ack { laptop, nth } => {
                let laptop = &mut self.laptops[laptop];
                let replica = rusqlite::Connection::open(laptop.app.path()).unwrap();
                let live: Option<i64> = replica
                    .query_row(
                        "SELECT id FROM alerts WHERE status = 1 -- open
                          ORDER BY id LIMIT 1 OFFSET ?1 % max(1, (SELECT count(*) FROM alerts WHERE status = 1))",
                        [nth as i64],
                        |r| r.get(0),
                    )
                    .ok();
                if let Some(id) = live {
                    let ack = Command::Triage { ids: vec![id], action: Triage::Ack, note: None };
                    laptop.app.execute(&laptop.actor, ack).unwrap();
                    let seq: i64 = laptop.app.outbox(&laptop.actor, None).unwrap().last().unwrap().seq;
                    laptop.changes.insert(seq, Change::Ack);
                }
            }
            Step::Sync { laptop } => self.sync(laptop, None),
            Step::CutSync { laptop, bytes } => self.sync(laptop, Some(Failure::Cut(bytes))),
            Step::KilledSync { laptop, hub_side: true, after_ms } => {
                self.sync(laptop, Some(Failure::KillHub(after_ms)))
            }
            Step::KilledSync { laptop: index, hub_side: false, after_ms } => {
                let path = self.laptops[index].app.path().to_path_buf();
                let mut sync = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
                    .arg("--db")
                    .arg(&path)
                    .arg("sync")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap();
                std::thread::sleep(std::time::Duration::from_millis(after_ms));
                let _ = sync.kill();
                sync.wait().unwrap();
                self.learn_applied(index);
            }
            Step::LoseAnswers { laptop } => {
                let laptop = &mut self.laptops[laptop];
                let path = laptop.app.path().to_path_buf();
                rusqlite::Connection::open(path).unwrap().execute("UPDATE outbox SET state = 'waiting'", []).unwrap();
            }
        }
    }

    /// A sync, failing or not.
    fn sync(&mut self, index: usize, failure: Option<Failure>) {
        let hub_path = self.hub_path.clone();
        let laptop = &mut self.laptops[index];
        let outcome =
            Hub::connect(&serve(&hub_path, failure)).and_then(|mut hub| hub.sync(&mut laptop.app, &laptop.actor));
        if failure.is_none() {
            outcome.unwrap();
            // Right after a whole sync the laptop holds its scope as the hub has it now.
            let held: BTreeSet<String> = student_ids(&rusqlite::Connection::open(laptop.app.path()).unwrap());
            assert_eq!(held, self.scope(), "laptop {index} holds exactly the worksite's students");
        }
        self.learn_applied(index);
    }

    /// The students the hub has assigned to the worksite now.
    fn scope(&self) -> BTreeSet<String> {
        let hub = rusqlite::Connection::open(&self.hub_path).unwrap();
        hub.prepare(
            "SELECT s.student_id FROM students s JOIN student_assignments x ON x.student = s.id WHERE x.login = ?1",
        )
        .unwrap()
        .query_map([&self.worksite], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    /// The changes of laptop `index` the hub has applied so far arrive in the model, in order.
    /// The hub is asked, not the laptop: a laptop killed or cut off before the answer came does
    /// not know yet, and the order of arrival on the hub is what decides.
    fn learn_applied(&mut self, index: usize) {
        let laptop = &mut self.laptops[index];
        let (_, device, _) = laptop.app.replica_of().unwrap().unwrap();
        let hub = rusqlite::Connection::open(&self.hub_path).unwrap();
        let last_applied: i64 =
            hub.query_row("SELECT last_applied FROM devices WHERE id = ?1", [&device], |r| r.get(0)).unwrap();
        // The assignments stand still while a sync runs: what arrived, arrived under them.
        for (&seq, change) in laptop.changes.range(..=last_applied) {
            if !laptop.arrived.insert(seq) {
                continue;
            }
            if let Change::Log(day, record) = change {
                if self.assigned.contains(&day.0) {
                    self.model.insert(day.clone(), record.clone());
                } else {
                    laptop.rejected.insert(seq);
                }
            }
        }
    }

    /// The slots' records: status and hours.
    fn records(app: &App) -> BTreeMap<Day, Record> {
        Self::rows(app, "SELECT s.student_id, p.program_id, a.date, a.status, a.hours")
            .into_iter()
            .map(|(day, row)| (day, (row[0].clone(), row[1].parse().ok())))
            .collect()
    }

    /// Rows keyed by (student, program, date) of the slots' days, the rest as text.
    fn rows(app: &App, select: &str) -> BTreeMap<Day, Vec<String>> {
        let conn = rusqlite::Connection::open(app.path()).unwrap();
        let sql = format!(
            "{select} FROM attendance a JOIN students s ON s.id = a.student JOIN programs p ON p.id = a.program
              WHERE a.date >= '2026-03-04'"
        );
        let mut stmt = conn.prepare(&sql).unwrap();
        let width = stmt.column_count();
        stmt.query_map([], |r| {
            let day = (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, NaiveDate>(2)?);
            let rest = (3..width)
                .map(|i| {
                    Ok(match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => String::new(),
                        rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                        rusqlite::types::ValueRef::Real(f) => f.to_string(),
                        other => other.as_str().unwrap_or_default().to_string(),
                    })
                })
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok((day, rest))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    /// Every alert about `students`, as its row reads.
    fn alerts(path: &Path, students: &BTreeSet<String>) -> Vec<(String, Vec<String>)> {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT s.student_id, a.id, a.type, a.severity, a.status, a.count, a.first_missed, a.escalated,
                        a.assigned_to, a.opened_at, a.resolved_at
                   FROM alerts a JOIN students s ON s.id = a.student ORDER BY a.id",
            )
            .unwrap();
        stmt.query_map([], |r| {
            let row = (1..11).map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}")));
            Ok((r.get::<_, String>(0)?, row.collect::<rusqlite::Result<Vec<String>>>()?))
        })
        .unwrap()
        .map(Result::unwrap)
        .filter(|(student, _)| students.contains(student))
        .collect()
    }
}

fn student_ids(conn: &rusqlite::Connection) -> BTreeSet<String> {
    conn.prepare("SELECT student_id FROM students")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn every_replica_converges_on_the_hub_and_every_change_lands_once(steps in proptest::collection::vec(step(), 1..24)) {
        let mut world = World::new();
        for step in &steps {
            world.apply(step);
        }
        // Everyone syncs, then everyone again to bring the others' changes down.
        for round in 0..2 {
            for laptop in 0..3 {
                world.sync(laptop, None);
                let waiting = world.laptops[laptop].app.outbox(&world.laptops[laptop].actor, Some("waiting")).unwrap();
                prop_assert!(waiting.is_empty(), "round {}: laptop {} still has {:?}", round, laptop, waiting);
            }
        }
        let hub = World::records(&world.hub);
        prop_assert_eq!(&hub, &world.model, "the hub's records are the changes applied once each, later arrival winning");
        let scope = world.scope();
        let in_scope = |rows: BTreeMap<Day, Vec<String>>| -> BTreeMap<Day, Vec<String>> {
            rows.into_iter().filter(|(day, _)| scope.contains(&day.0)).collect()
        };
        let decided = "SELECT s.student_id, p.program_id, a.date, a.id, a.status, a.hours, a.verification, a.logged_by";
        let hub_rows = in_scope(World::rows(&world.hub, decided));
        let hub_alerts = World::alerts(&world.hub_path, &scope);
        for (i, laptop) in world.laptops.iter().enumerate() {
            prop_assert_eq!(in_scope(World::rows(&laptop.app, decided)), hub_rows.clone(), "laptop {} holds the hub's records", i);
            prop_assert_eq!(World::alerts(laptop.app.path(), &scope), hub_alerts.clone(), "laptop {} holds the hub's alerts", i);
            for change in laptop.app.outbox(&laptop.actor, None).unwrap() {
                match &laptop.changes[&change.seq] {
                    Change::Log(..) => {
                        let expected = if laptop.rejected.contains(&change.seq) { "rejected" } else { "applied" };
                        prop_assert_eq!(change.state.as_str(), expected, "laptop {} change {}: {:?}", i, change.seq, change.reason);
                    }
                    // An acknowledgement lands, or is refused with a reason its author reads
                    // (resolved on the hub meanwhile, or an alert only the laptop had guessed).
                    Change::Ack => prop_assert!(
                        change.state == "applied" || (change.state == "rejected" && change.reason.as_ref().is_some_and(|r| !r.is_empty())),
                        "laptop {} ack {}: {} {:?}", i, change.seq, change.state, change.reason
                    ),
                }
            }
        }
    }
}
