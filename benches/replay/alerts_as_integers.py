#!/usr/bin/env python3
"""What the alerts and their timeline would cost a churn morning if stored as integers.

A measurement for the schema decision #10 leaves open, not part of muster: it copies a state of
the alert job twice, rebuilds the alerts and the timeline in both copies (as they are, and with
their words, days and times as integers), then writes into each the changes one daily run made,
as the alerts bench's write floor does, and times the writes, the commits and the copying back.
The two copies are timed alternately, since this machine's speed varies from hour to hour.

    python3 benches/replay/alerts_as_integers.py BEFORE.db AFTER.db [PAIRS]

BEFORE.db is a muster file the job has processed up to the day before a run (the bench's saved
state, or `muster demo --profile churn` after a 30-day catch-up); AFTER.db the same file after
`muster alerts run` for the next day. Both must be schema version 15, from a muster before the
alerts were stored as numbers (3b8f625 or earlier): it measured the decision migration 16 then
carried out. Needs Debian's `sqlite3` (3.38 or later, for `unixepoch`)
and about three times BEFORE.db's size free beside it.
"""
import os, shutil, subprocess, sys

COLUMNS = ["id", "type", "severity", "status", "student", "enrollment", "program", "count",
           "first_missed", "escalated", "assigned_to", "snoozed_until", "opened_at", "updated_at",
           "resolved_at", "resolved_by", "as_of", "streak_start", "resolved_severity"]
CHANGING = ["severity", "status", "count", "first_missed", "escalated", "assigned_to",
            "snoozed_until", "updated_at", "resolved_at", "resolved_by", "as_of", "streak_start",
            "resolved_severity"]


def alert_columns(as_integers, row):
    """The alerts' columns read from `row.`, as stored in one layout or the other."""
    if not as_integers:
        return ", ".join(f"{row}{c} AS {c}" for c in COLUMNS)
    severity = lambda c: f"CASE {row}{c} WHEN 'warn' THEN 1 WHEN 'escalate' THEN 2 WHEN 'critical' THEN 3 END"
    day = lambda c: f"unixepoch({row}{c}) / 86400"
    time_ = lambda c: f"unixepoch({row}{c})"
    coded = {
        "type": f"CASE {row}type WHEN 'missing_attendance' THEN 1 ELSE 2 END",
        "severity": severity("severity"),
        "status": f"CASE {row}status WHEN 'open' THEN 1 WHEN 'acknowledged' THEN 2 WHEN 'snoozed' THEN 3 ELSE 4 END",
        "first_missed": day("first_missed"), "as_of": day("as_of"), "streak_start": day("streak_start"),
        "snoozed_until": time_("snoozed_until"), "opened_at": time_("opened_at"),
        "updated_at": time_("updated_at"), "resolved_at": time_("resolved_at"),
        "resolved_severity": severity("resolved_severity"),
    }
    return ", ".join(f"{coded.get(c, row + c)} AS {c}" for c in COLUMNS)


def timeline_columns(as_integers, row):
    if not as_integers:
        return f"{row}id, {row}alert, {row}at, {row}actor, {row}kind, {row}run_date, {row}note"
    kind = (f"CASE {row}kind WHEN 'opened' THEN 1 WHEN 'escalated' THEN 2 WHEN 'raised' THEN 3 "
            f"WHEN 'resolved' THEN 4 WHEN 'updated' THEN 5 WHEN 'acknowledged' THEN 6 ELSE 9 END")
    return (f"{row}id, {row}alert, unixepoch({row}at), {row}actor, {kind}, "
            f"unixepoch({row}run_date) / 86400, {row}note")


def rebuild(as_integers):
    """Fresh tables and indexes (both layouts rebuilt, so neither has the other's fragmentation)."""
    kind = "INTEGER" if as_integers else "TEXT"
    rank = "" if as_integers else (", severity_rank INTEGER GENERATED ALWAYS AS (CASE severity "
                                   "WHEN 'critical' THEN 3 WHEN 'escalate' THEN 2 ELSE 1 END) VIRTUAL")
    by_rank = "severity" if as_integers else "severity_rank"
    resolved = "4" if as_integers else "'resolved'"
    digest_kinds = "kind <= 3" if as_integers else "(kind = 'opened' OR kind = 'escalated' OR kind = 'raised')"
    acknowledged = "6" if as_integers else "'acknowledged'"
    return f"""PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE alerts_n (id INTEGER PRIMARY KEY, type {kind} NOT NULL, severity {kind} NOT NULL,
  status {kind} NOT NULL, student INTEGER NOT NULL, enrollment INTEGER, program INTEGER,
  count INTEGER NOT NULL, first_missed {kind}, escalated INTEGER NOT NULL DEFAULT 0, assigned_to TEXT,
  snoozed_until {kind}, opened_at {kind} NOT NULL, updated_at {kind} NOT NULL, resolved_at {kind},
  resolved_by TEXT, as_of {kind}, streak_start {kind}, resolved_severity {kind}{rank});
INSERT INTO alerts_n ({", ".join(COLUMNS)}) SELECT {alert_columns(as_integers, "")} FROM alerts ORDER BY id;
CREATE TABLE alert_events_n (id INTEGER PRIMARY KEY, alert INTEGER NOT NULL, at {kind} NOT NULL,
  actor TEXT NOT NULL, kind {kind} NOT NULL, run_date {kind}, note TEXT);
INSERT INTO alert_events_n SELECT {timeline_columns(as_integers, "")} FROM alert_events ORDER BY id;
DROP TABLE alert_events; DROP TABLE alerts;
ALTER TABLE alerts_n RENAME TO alerts; ALTER TABLE alert_events_n RENAME TO alert_events;
CREATE UNIQUE INDEX alerts_one_live ON alerts(type, student, ifnull(enrollment, 0)) WHERE status <> {resolved};
CREATE INDEX alerts_live_inbox ON alerts({by_rank} DESC, opened_at, id) WHERE status <> {resolved};
CREATE INDEX alerts_all_inbox ON alerts({by_rank} DESC, opened_at, id);
CREATE INDEX alerts_student ON alerts(student);
CREATE INDEX alerts_streak ON alerts(student, type, ifnull(enrollment, 0), streak_start)
  WHERE resolved_severity IS NOT NULL;
CREATE INDEX alert_events_alert ON alert_events(alert, id);
CREATE INDEX alert_events_run ON alert_events(run_date, kind, alert) WHERE run_date IS NOT NULL AND {digest_kinds};
CREATE INDEX alert_events_acknowledged ON alert_events(alert, at) WHERE kind = {acknowledged};
COMMIT;
VACUUM;
"""


def replay(as_integers, before, after):
    """The run's changes read from AFTER (rows whose updated_at moved since BEFORE), then timed."""
    changes = ", ".join(f"{c} = c.{c}" for c in CHANGING)
    return f""".bail on
PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;
ATTACH '{after}' AS after; ATTACH '{before}' AS before;
CREATE TEMP TABLE changed AS SELECT {alert_columns(as_integers, "n.")} FROM after.alerts n
  JOIN before.alerts o ON o.id = n.id WHERE n.updated_at IS NOT o.updated_at;
CREATE TEMP TABLE opened AS SELECT {alert_columns(as_integers, "n.")} FROM after.alerts n
  WHERE n.id > (SELECT max(id) FROM before.alerts);
CREATE TEMP TABLE timeline AS SELECT {timeline_columns(as_integers, "e.")} FROM after.alert_events e
  WHERE e.id > (SELECT max(id) FROM before.alert_events);
CREATE TEMP TABLE campaigns AS SELECT * FROM after.message_campaigns
  WHERE id > (SELECT ifnull(max(id), 0) FROM before.message_campaigns);
CREATE TEMP TABLE recipients AS SELECT * FROM after.message_recipients
  WHERE id > (SELECT ifnull(max(id), 0) FROM before.message_recipients);
CREATE TEMP TABLE digests AS SELECT * FROM after.digests
  WHERE campaign > (SELECT ifnull(max(id), 0) FROM before.message_campaigns);
DETACH after; DETACH before;
.timer on
BEGIN;
UPDATE alerts SET {changes} FROM temp.changed c WHERE c.id = alerts.id;
INSERT INTO alerts ({", ".join(COLUMNS)}) SELECT * FROM temp.opened ORDER BY id;
INSERT INTO alert_events SELECT * FROM temp.timeline ORDER BY id;
COMMIT;
BEGIN;
INSERT INTO message_campaigns SELECT * FROM temp.campaigns ORDER BY id;
INSERT INTO message_recipients SELECT * FROM temp.recipients ORDER BY id;
INSERT INTO digests SELECT * FROM temp.digests;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
"""


def sqlite(db, script):
    done = subprocess.run(["sqlite3", db], input=script, text=True, capture_output=True)
    if done.returncode != 0 or "Error" in done.stderr:
        sys.exit(f"sqlite3 {db}: {done.stderr.strip()}")
    return done.stdout


def copy_back(saved, live):
    """Puts `saved` back over `live`, writing only the pages that differ, then syncs."""
    for suffix in ("-wal", "-shm"):
        if os.path.exists(live + suffix):
            os.remove(live + suffix)
    if not os.path.exists(live):
        shutil.copyfile(saved, live)
    else:
        with open(saved, "rb") as a, open(live, "r+b") as b:
            while True:
                at = a.tell()
                page = a.read(1 << 20)
                if not page:
                    break
                b.seek(at)
                if b.read(len(page)) != page:
                    b.seek(at)
                    b.write(page)
            b.truncate(a.tell())
    os.sync()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    before, after = map(os.path.abspath, sys.argv[1:3])
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    here = os.path.dirname(before)
    layouts = {"text": False, "integers": True}
    for name, as_integers in layouts.items():
        saved = os.path.join(here, f"replay-{name}.db")
        if not os.path.exists(saved):
            print(f"rebuilding a copy with the alerts as {name} …", flush=True)
            shutil.copyfile(before, saved + ".part")
            sqlite(saved + ".part", rebuild(as_integers))
            os.rename(saved + ".part", saved)
    seconds = {name: [] for name in layouts}
    for pair in range(pairs):
        order = list(layouts) if pair % 2 == 0 else list(reversed(layouts))
        for name in order:
            saved, live = os.path.join(here, f"replay-{name}.db"), os.path.join(here, f"replay-{name}-run.db")
            copy_back(saved, live)
            printed = sqlite(live, replay(layouts[name], before, after))
            # The timed statements' own time (`.timer`), not reading the changes from AFTER.
            seconds[name].append(sum(float(line.split()[3]) for line in printed.splitlines()
                                     if line.startswith("Run Time: real")))
    for name, taken in seconds.items():
        print(f"{name:>9}: " + ", ".join(f"{t:.3f} s" for t in taken))


if __name__ == "__main__":
    main()
