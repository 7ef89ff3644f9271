//! Property test of offline sync: a hub and three replicas (clones of the same person's scope on
//! three laptops), random attendance logged on each — the same student and day on several — in
//! random sync orders, with connections cut in the middle of a push, answers lost on the way
//! back (the laptop sends again what the hub already applied), and the laptop's `muster sync` or
//! the hub's `sync-serve` killed with SIGKILL at a random moment. The hub runs as the real
//! `muster sync-serve` behind a command, as ssh would run it.
//!
//! Whatever happened, after everyone syncs: the hub's records are what the changes give when
//! applied once each in the order they arrived (later arrival wins), every change was applied or
//! rejected with a reason, and every replica holds exactly the hub's records.

use chrono::{Days, NaiveDate};
use muster::app::{Actor, App, AttendanceEntry, Command, SystemClock, identity};
use muster::domain::AttendanceStatus;
use muster::store::OpenMode;
use muster::sync::{Hub, HubAddress};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

struct Laptop {
    app: App,
    actor: Actor,
    /// The replica's changes the hub has applied, as the model counts them.
    applied: BTreeSet<i64>,
    /// Each change's day and record, by sequence number.
    changes: BTreeMap<i64, (Day, Record)>,
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
        // Six days of students enrolled then, not yet logged: where the laptops and the hub meet.
        let conn = rusqlite::Connection::open(&hub_path).unwrap();
        let pairs: Vec<(String, String)> = conn
            .prepare(
                "SELECT s.student_id, p.program_id FROM enrollments e JOIN students s ON s.id = e.student
                   JOIN programs p ON p.id = e.program
                  WHERE e.status = 'active' AND e.start_date <= '2026-03-04' AND ifnull(e.end_date, '9999') >= '2026-03-05'
                  ORDER BY 1, 2 LIMIT 3",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(pairs.len(), 3);
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
                Laptop { app, actor, applied: BTreeSet::new(), changes: BTreeMap::new() }
            })
            .collect();
        World { _dir: dir, hub_path, hub, admin, laptops, slots, model: BTreeMap::new() }
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
                laptop.app.execute(&laptop.actor, Command::LogAttendance { entries: vec![entry] }).unwrap();
                let seq: i64 = laptop.app.outbox(&laptop.actor, None).unwrap().last().unwrap().seq;
                laptop.changes.insert(seq, (self.slots[slot].clone(), record(STATUSES[status])));
            }
            Step::HubLog { slot, status } => {
                let entry = self.entry(slot, status);
                self.hub.execute(&self.admin, Command::LogAttendance { entries: vec![entry] }).unwrap();
                self.model.insert(self.slots[slot].clone(), record(STATUSES[status]));
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
        }
        self.learn_applied(index);
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
        for (&seq, (day, record)) in laptop.changes.range(..=last_applied) {
            if laptop.applied.insert(seq) {
                self.model.insert(day.clone(), record.clone());
            }
        }
        for change in laptop.app.outbox(&laptop.actor, None).unwrap() {
            assert_ne!(change.state, "rejected", "change {} was rejected: {:?}", change.seq, change.reason);
        }
    }

    fn records(app: &App) -> BTreeMap<Day, Record> {
        let conn = rusqlite::Connection::open(app.path()).unwrap();
        conn.prepare(
            "SELECT s.student_id, p.program_id, a.date, a.status, a.hours FROM attendance a
                   JOIN students s ON s.id = a.student JOIN programs p ON p.id = a.program
                  WHERE a.date >= '2026-03-04'",
        )
        .unwrap()
        .query_map([], |r| {
            Ok(((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, NaiveDate>(2)?), (r.get(3)?, r.get(4)?)))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

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
        for (i, laptop) in world.laptops.iter().enumerate() {
            prop_assert_eq!(World::records(&laptop.app), hub.clone(), "laptop {} holds the hub's records", i);
        }
    }
}
