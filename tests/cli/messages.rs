//! Messaging against a real SMTP server on 127.0.0.1 (aiosmtpd, `tests/support/smtp_server.py`):
//! outreach, campaigns, refusals, retries, a kill -9 mid-campaign, digests.

use crate::harness::{Env, Ran};
use crate::smtp::Smtp;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const PROGRAMS: &str = "program_id,name,schedule,start_date\nP1,Welding,Mon-Fri,2026-01-05\n";
const STUDENTS: &str = "student_id,first_name,last_name,email\nS1,Ann,Lee,ann@example.org\n\
S2,Bo,Li,bo@example.org\nS3,Cy,Ng,\nS4,Di,Ox,di@example.org\n";
const ENROLLMENTS: &str = "enrollment_id,student_id,program_id,start_date,status\n\
E1,S1,P1,2026-01-05,active\nE2,S2,P1,2026-01-05,active\nE3,S3,P1,2026-01-05,active\nE4,S4,P1,2026-01-05,active\n";
const USERS: &str = "login,name,role,email,onboarded\nws_01,Wanda Site,worksite,wanda@site.example,true\n\
sc_01,Sam Coord,site_coordinator,sam@coord.example,true\nadmin2,Ada Min,admin,ada@org.example,true\n";
const ASSIGNMENTS: &str = "login,student_id\nws_01,S1\nsc_01,S1\nsc_01,S2\nsc_01,S3\n";

/// Writes the `[mail]` settings pointing at `port` on loopback.
pub(crate) fn configure(env: &Env, port: u16, retry_after_secs: u64) {
    let dir = env.dir.path().join("config/muster");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[mail]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"Training Office <office@org.example>\"\nretry_after_secs = {retry_after_secs}\ntimeout_secs = 5\n"
        ),
    )
    .unwrap();
}

fn muster(env: &Env, args: &[&str]) -> Ran {
    let config = env.dir.path().join("config");
    env.run_with(args, &[("XDG_CONFIG_HOME", config.to_str().unwrap())])
}

fn ok(env: &Env, args: &[&str]) -> String {
    let ran = muster(env, args);
    assert_eq!(ran.code, 0, "muster {args:?} failed:\n{}{}", ran.stdout, ran.stderr);
    ran.stdout
}

fn json(env: &Env, args: &[&str]) -> Value {
    let mut with = args.to_vec();
    with.extend(["--format", "json"]);
    serde_json::from_str(&ok(env, &with)).expect("JSON")
}

/// Four students in one program (S3 without an address), a worksite with S1, a coordinator with
/// S1–S3, a second admin; a template with placeholders.
fn organisation() -> Env {
    let env = Env::with_imports(&[
        ("programs", PROGRAMS),
        ("students", STUDENTS),
        ("enrollments", ENROLLMENTS),
        ("users", USERS),
        ("assignments", ASSIGNMENTS),
    ]);
    ok(
        &env,
        &[
            "message",
            "templates",
            "save",
            "missed",
            "--org",
            "--subject",
            "We missed you, {first_name}",
            "--body",
            "Hi {first_name} {last_name},\n{streak} missed days in {program}. Call {partner_name} at {partner_email}.",
        ],
    );
    env
}

fn statuses(env: &Env, campaign: i64) -> HashMap<String, String> {
    let shown = json(env, &["message", "campaign", "show", &campaign.to_string()]);
    shown["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["to"].as_str().unwrap().to_string(), r["status"].as_str().unwrap().to_string()))
        .collect()
}

fn campaign_id(said: &str) -> i64 {
    said.split_whitespace()
        .find_map(|w| w.trim_end_matches(':').parse().ok())
        .unwrap_or_else(|| panic!("no campaign id in {said:?}"))
}

#[test]
fn outreach_from_an_alert_arrives_rendered_and_is_on_the_alert_timeline() {
    let env = organisation();
    let smtp = Smtp::start(env.dir.path(), &[]);
    configure(&env, smtp.port, 30);
    for day in ["2026-01-05", "2026-01-06"] {
        ok(&env, &["alerts", "run", "--date", day]);
    }
    let alerts = json(&env, &["alerts", "list", "--type", "missing_attendance"]);
    let alert = alerts.as_array().unwrap().iter().find(|a| a["student_id"] == "S1").expect("S1's alert");
    let alert_id = alert["id"].as_i64().unwrap().to_string();
    let said = ok(&env, &["--as", "sc_01", "message", "send", "S1", "--template", "missed", "--alert", &alert_id]);
    let campaign = campaign_id(&said);
    assert!(smtp.received().is_empty(), "queued, not sent, until the sender runs");
    assert_eq!(statuses(&env, campaign)["S1"], "queued");

    ok(&env, &["message", "deliver"]);
    // The partners' digests of the two runs went out too; this test reads Ann's mail.
    let got: Vec<Value> = smtp.received().into_iter().filter(|m| m["to"][0] == "ann@example.org").collect();
    assert_eq!(got.len(), 1, "{got:?}");
    let mail = &got[0];
    assert_eq!(mail["to"], serde_json::json!(["ann@example.org"]));
    assert_eq!(mail["from"], "office@org.example");
    assert_eq!(mail["subject"], "We missed you, Ann");
    assert_eq!(
        mail["body"].as_str().unwrap().trim_end(),
        "Hi Ann Lee,\r\n2 missed days in Welding. Call Sam Coord at sam@coord.example."
            .replace("\r\n", if mail["body"].as_str().unwrap().contains("\r\n") { "\r\n" } else { "\n" })
    );
    assert!(mail["reply_to"].as_str().unwrap().contains("sam@coord.example"), "replies reach the coordinator");
    assert!(mail["header_to"].as_str().unwrap().contains("Ann Lee"));
    assert!(mail["message_id"].as_str().unwrap().starts_with(&format!("<muster.{campaign}.")));
    assert_eq!(statuses(&env, campaign)["S1"], "sent");

    let shown = json(&env, &["alerts", "show", &alert_id]);
    let timeline: Vec<String> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "message")
        .map(|e| e["note"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(timeline, ["queued: We missed you, {first_name}", "sent: We missed you, {first_name}"]);
    let audit = ok(&env, &["audit", "list"]);
    assert!(audit.contains("message.send") && audit.contains("message.delivery"), "{audit}");
    // And the student's history.
    let history = json(&env, &["--as", "sc_01", "students", "show", "S1"]);
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{history}");
    assert_eq!((messages[0]["status"].as_str(), messages[0]["from"].as_str()), (Some("sent"), Some("sc_01")));
    let table = ok(&env, &["students", "show", "S1"]);
    assert!(table.contains("We missed you, {first_name}"), "{table}");
}

#[test]
fn a_template_with_an_unknown_placeholder_is_refused_by_name_and_nothing_is_kept() {
    let env = organisation();
    let before = env.snapshot();
    let ran = muster(&env, &["message", "templates", "save", "bad", "--subject", "Hi", "--body", "Dear {frist_name}"]);
    assert_eq!(ran.code, 4, "{}", ran.stderr);
    assert!(ran.stderr.contains("{frist_name}") && ran.stderr.contains("{first_name}"), "{}", ran.stderr);
    assert_eq!(env.snapshot(), before);
    let preview = ok(&env, &["--as", "sc_01", "message", "templates", "preview", "missed", "S2"]);
    assert!(preview.starts_with("Subject: We missed you, Bo\n") && preview.contains("Call Sam Coord"), "{preview}");
    let denied = muster(&env, &["--as", "ws_01", "message", "templates", "preview", "missed", "S2"]);
    assert_eq!(denied.code, 3, "a worksite may not preview for a student not theirs");
}

/// Deleting a template cannot be undone: asked first, and without a terminal to ask on refused
/// unless --yes says so; a template that is not there is refused as before, without a question.
#[test]
fn deleting_a_template_asks_first() {
    let env = organisation();
    let before = env.snapshot();
    let asked = muster(&env, &["message", "templates", "delete", "missed", "--org"]);
    assert_eq!(asked.code, 4, "{}", asked.stderr);
    assert!(
        asked.stderr.contains("Delete the template missed") && asked.stderr.contains("add --yes"),
        "{}",
        asked.stderr
    );
    assert_eq!(env.snapshot(), before, "nothing changed");
    let missing = muster(&env, &["message", "templates", "delete", "nope", "--org"]);
    assert!(!missing.stderr.contains("Delete the template") && missing.stderr.contains("'nope'"), "{}", missing.stderr);
    assert!(ok(&env, &["message", "templates", "delete", "missed", "--org", "--yes"]).contains("deleted template"));
    assert_eq!(json(&env, &["message", "templates"]), serde_json::json!([]));
}

#[test]
fn a_refused_recipient_fails_with_the_servers_reason_and_the_others_arrive() {
    let env = organisation();
    let smtp = Smtp::start(env.dir.path(), &["--refuse", "bo@example.org"]);
    configure(&env, smtp.port, 30);
    let said = ok(&env, &["message", "campaign", "create", "--template", "missed", "--all"]);
    let campaign = campaign_id(&said);
    ok(&env, &["message", "deliver"]);
    let states = statuses(&env, campaign);
    assert_eq!(states["S1"], "sent");
    assert_eq!(states["S2"], "failed");
    assert_eq!(states["S3"], "skipped", "no address");
    assert_eq!(states["S4"], "sent");
    let shown = json(&env, &["message", "campaign", "show", &campaign.to_string()]);
    let bo = shown["recipients"].as_array().unwrap().iter().find(|r| r["to"] == "S2").unwrap();
    assert!(bo["reason"].as_str().unwrap().contains("mailbox unavailable"), "{bo}");
    assert_eq!(bo["attempts"], 1, "a permanent refusal is not retried");
    let cy = shown["recipients"].as_array().unwrap().iter().find(|r| r["to"] == "S3").unwrap();
    assert_eq!(cy["reason"], "the student has no e-mail address");
    let to: Vec<String> = smtp.received().iter().map(|m| m["to"][0].as_str().unwrap().to_string()).collect();
    assert_eq!(to, ["ann@example.org", "di@example.org"]);
}

#[test]
fn a_dropped_connection_and_a_temporary_refusal_are_retried_and_nobody_gets_two() {
    let env = organisation();
    let smtp = Smtp::start(env.dir.path(), &["--drop-first", "1", "--tempfail-first", "1"]);
    configure(&env, smtp.port, 0);
    let campaign = campaign_id(&ok(&env, &["message", "campaign", "create", "--template", "missed", "--all"]));
    ok(&env, &["message", "deliver"]);
    let states = statuses(&env, campaign);
    assert_eq!((states["S1"].as_str(), states["S2"].as_str(), states["S4"].as_str()), ("sent", "sent", "sent"));
    let got = smtp.received();
    let mut ids: Vec<&str> = got.iter().map(|m| m["message_id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (3, 3), "each message once: {got:?}");
    let shown = json(&env, &["message", "campaign", "show", &campaign.to_string()]);
    let attempts: i64 = shown["recipients"].as_array().unwrap().iter().map(|r| r["attempts"].as_i64().unwrap()).sum();
    assert_eq!(attempts, 3 + 2, "two retries: the dropped connection and the 451");
}

#[test]
fn a_server_that_is_down_is_tried_again_later_then_the_message_goes() {
    let env = organisation();
    // A port nobody listens on: take one from a server, then stop it.
    let port = Smtp::start(env.dir.path(), &[]).port;
    configure(&env, port, 1);
    let campaign = campaign_id(&ok(
        &env,
        &["--as", "sc_01", "message", "campaign", "create", "--template", "missed", "--students", "S1"],
    ));
    let first = ok(&env, &["message", "deliver"]);
    assert!(first.contains("1 to try again") && first.contains("1 waiting"), "{first}");
    let shown = json(&env, &["message", "campaign", "show", &campaign.to_string()]);
    let ann = &shown["recipients"][0];
    assert_eq!((ann["status"].as_str(), ann["attempts"].as_i64()), (Some("queued"), Some(1)));
    assert!(ann["reason"].as_str().unwrap().starts_with("will try again"), "{ann}");

    let smtp = Smtp::start_on(env.dir.path(), port, &[]);
    std::thread::sleep(Duration::from_millis(1_200));
    ok(&env, &["message", "deliver"]);
    assert_eq!(statuses(&env, campaign)["S1"], "sent");
    assert_eq!(smtp.received().len(), 1);
}

#[test]
fn a_partner_reaches_only_their_students() {
    let env = organisation();
    let before = env.snapshot();
    let refused = muster(
        &env,
        &["--as", "sc_01", "message", "campaign", "create", "--template", "missed", "--students", "S1,S4"],
    );
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains("S4"), "{}", refused.stderr);
    let worksite = muster(&env, &["--as", "ws_01", "message", "campaign", "create", "--template", "missed", "--all"]);
    assert_eq!(worksite.code, 3, "worksites message one student at a time: {}", worksite.stderr);
    let other = muster(&env, &["--as", "ws_01", "message", "send", "S2", "--subject", "Hi", "--body", "Hello"]);
    assert_eq!(other.code, 3, "{}", other.stderr);
    assert_eq!(env.snapshot(), before, "nothing was written");

    // --all is the partner's students only, and the list is theirs only.
    let campaign =
        campaign_id(&ok(&env, &["--as", "sc_01", "message", "campaign", "create", "--template", "missed", "--all"]));
    let mut to: Vec<String> = statuses(&env, campaign).into_keys().collect();
    to.sort();
    assert_eq!(to, ["S1", "S2", "S3"]);
    assert_eq!(json(&env, &["--as", "ws_01", "message", "campaign", "list"]).as_array().unwrap().len(), 0);
    assert_eq!(json(&env, &["message", "campaign", "list"]).as_array().unwrap().len(), 1, "admins see every campaign");
}

#[test]
fn a_student_unassigned_or_opted_out_after_the_campaign_was_made_is_skipped() {
    let env = organisation();
    let smtp = Smtp::start(env.dir.path(), &[]);
    configure(&env, smtp.port, 30);
    let campaign = campaign_id(&ok(
        &env,
        &["--as", "sc_01", "message", "campaign", "create", "--template", "missed", "--students", "S1,S2"],
    ));
    let other = campaign_id(&ok(&env, &["message", "campaign", "create", "--template", "missed", "--students", "S4"]));
    ok(&env, &["students", "unassign", "S2", "sc_01"]);
    ok(&env, &["--as", "admin2", "students", "opt-out", "S4"]);
    ok(&env, &["message", "deliver"]);
    let states = statuses(&env, campaign);
    assert_eq!((states["S1"].as_str(), states["S2"].as_str()), ("sent", "skipped"));
    let shown = json(&env, &["message", "campaign", "show", &campaign.to_string()]);
    let bo = shown["recipients"].as_array().unwrap().iter().find(|r| r["to"] == "S2").unwrap();
    assert_eq!(bo["reason"], "no longer assigned to sc_01");
    let shown = json(&env, &["message", "campaign", "show", &other.to_string()]);
    assert_eq!(shown["recipients"][0]["reason"], "the student opted out of messages");
    assert_eq!(smtp.received().len(), 1);
}

#[test]
fn stopping_a_campaign_cancels_exactly_the_unsent() {
    let env = organisation();
    // The first message is refused for now; it waits a minute to be tried again.
    let smtp = Smtp::start(env.dir.path(), &["--tempfail-first", "1"]);
    configure(&env, smtp.port, 60);
    let campaign = campaign_id(&ok(&env, &["message", "campaign", "create", "--template", "missed", "--all"]));
    ok(&env, &["message", "deliver"]);
    assert_eq!(statuses(&env, campaign)["S1"], "queued");
    let unasked = muster(&env, &["message", "campaign", "stop", &campaign.to_string()]);
    assert_eq!(unasked.code, 4, "without a terminal to ask on, it wants --yes: {}", unasked.stderr);
    assert_eq!(statuses(&env, campaign)["S1"], "queued", "nothing changed");
    let said = ok(&env, &["--as", "admin2", "message", "campaign", "stop", &campaign.to_string(), "--yes"]);
    assert!(said.contains("1 unsent messages cancelled, 2 already sent"), "{said}");
    let states = statuses(&env, campaign);
    assert_eq!(
        (states["S1"].as_str(), states["S2"].as_str(), states["S3"].as_str(), states["S4"].as_str()),
        ("cancelled", "sent", "skipped", "sent")
    );
    ok(&env, &["message", "deliver"]);
    assert_eq!(smtp.received().len(), 2, "nothing more goes out");
}

#[test]
fn without_mail_settings_messages_wait_and_say_why() {
    let env = organisation();
    let ran = muster(&env, &["message", "send", "S1", "--template", "missed"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stderr.contains("no [mail] settings"), "{}", ran.stderr);
    let deliver = muster(&env, &["message", "deliver"]);
    assert_eq!(deliver.code, 4);
    assert!(deliver.stderr.contains("messages stay queued"), "{}", deliver.stderr);
    // Plaintext to a server elsewhere is refused before anything is tried.
    let dir = env.dir.path().join("config/muster");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        "[mail]\nhost = \"smtp.example.org\"\nsecurity = \"none\"\nfrom = \"office@org.example\"\n",
    )
    .unwrap();
    let plain = muster(&env, &["message", "deliver"]);
    assert_ne!(plain.code, 0);
    assert!(plain.stderr.contains("plaintext") && plain.stderr.contains("starttls"), "{}", plain.stderr);
}

#[test]
fn kill_9_mid_campaign_then_a_restart_ends_every_recipient_once_and_sends_nobody_twice() {
    let env = Env::initialised();
    let mut students = String::from("student_id,first_name,last_name,email\n");
    for i in 0..1_000 {
        students.push_str(&format!("K{i:04},Stu,Dent{i},k{i}@example.org\n"));
    }
    env.import("students", &students);
    ok(
        &env,
        &[
            "message",
            "templates",
            "save",
            "hello",
            "--org",
            "--subject",
            "Hello {first_name}",
            "--body",
            "Hi {last_name}",
        ],
    );
    let smtp = Smtp::start(env.dir.path(), &["--delay-ms", "3"]);
    configure(&env, smtp.port, 0);
    let campaign = campaign_id(&ok(&env, &["message", "campaign", "create", "--template", "hello", "--all"]));

    let mut sender = env.spawn(&["message", "deliver"]);
    let started = Instant::now();
    while smtp.received().len() < 150 {
        assert!(started.elapsed() < Duration::from_secs(60), "sending did not start");
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: kill on our own child's pid.
    unsafe { libc::kill(sender.id() as libc::pid_t, libc::SIGKILL) };
    sender.wait().unwrap();
    let after_kill = smtp.received().len();
    assert!(after_kill < 1_000, "the kill came mid-campaign");

    let restarted = ok(&env, &["message", "deliver"]);
    let states = statuses(&env, campaign);
    assert_eq!(states.len(), 1_000);
    let count = |s: &str| states.values().filter(|v| v.as_str() == s).count();
    let (sent, unknown) = (count("sent"), count("unknown"));
    assert_eq!(sent + unknown, 1_000, "every recipient final: {states:?}");
    assert!(unknown <= 1, "at most the one message in flight is unconfirmed: {unknown}");
    assert!(unknown == 0 || restarted.contains("now unknown"), "{restarted}");
    let got = smtp.received();
    let mut ids: Vec<&str> = got.iter().map(|m| m["message_id"].as_str().unwrap()).collect();
    ids.sort();
    let all = ids.len();
    ids.dedup();
    assert_eq!(all, ids.len(), "the server received no message twice");
    assert!(
        got.len() == sent || got.len() == sent + unknown,
        "received {} for {sent} sent, {unknown} unknown",
        got.len()
    );
}

#[test]
fn one_digest_per_person_per_day_however_often_the_job_runs() {
    let env = organisation();
    let smtp = Smtp::start(env.dir.path(), &[]);
    configure(&env, smtp.port, 30);
    ok(&env, &["--as", "ws_01", "user", "digest", "off"]);
    for day in ["2026-01-05", "2026-01-06", "2026-01-06", "2026-01-07"] {
        ok(&env, &["alerts", "run", "--date", day]);
        ok(&env, &["message", "deliver"]);
    }
    let got = smtp.received();
    let mut by_person: HashMap<String, Vec<String>> = HashMap::new();
    for mail in &got {
        by_person
            .entry(mail["to"][0].as_str().unwrap().to_string())
            .or_default()
            .push(mail["subject"].as_str().unwrap().to_string());
    }
    // Sam (S1–S3) hears each day; Ada (admin) only of escalations: the four students' missed-day
    // alerts turn critical on the third missed day (no-login alerts are still below warn);
    // Wanda switched hers off.
    let sam = &by_person["sam@coord.example"];
    assert_eq!(sam.len(), 3, "{sam:?}");
    for (subject, day) in sam.iter().zip(["2026-01-05", "2026-01-06", "2026-01-07"]) {
        assert!(subject.ends_with(&format!("for {day}")), "{subject}");
    }
    assert_eq!(by_person["ada@org.example"], ["muster: 4 alerts for 2026-01-07"]);
    assert!(!by_person.contains_key("wanda@site.example"), "her digest is off");
    let first = got.iter().find(|m| m["to"][0] == "sam@coord.example").unwrap();
    let body = first["body"].as_str().unwrap();
    assert!(body.contains("S1 Ann Lee: 1 missed session days (new)"), "{body}");
    assert!(!body.contains("S4"), "only his students: {body}");
}

#[test]
fn a_run_stopped_before_its_digests_makes_them_when_run_again() {
    let env = organisation();
    ok(&env, &["alerts", "run", "--date", "2026-01-05"]);
    let digests = |env: &Env| -> Vec<String> {
        let conn = env.sql();
        let mut stmt = conn
            .prepare("SELECT d.login || ' ' || d.day || ' ' || c.subject || c.body FROM digests d JOIN message_campaigns c ON c.id = d.campaign ORDER BY d.login")
            .unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    };
    let made = digests(&env);
    assert!(!made.is_empty());
    // What a kill between the day's commit and the digests' leaves: the day processed, no
    // digest made for it.
    env.sql()
        .execute_batch(
            "DELETE FROM message_recipients WHERE campaign IN (SELECT id FROM message_campaigns WHERE kind = 'digest');
             DELETE FROM digests;
             DELETE FROM message_campaigns WHERE kind = 'digest';
             UPDATE job_state SET value = '2026-01-04' WHERE key = 'digests_made_for';",
        )
        .unwrap();
    assert!(digests(&env).is_empty());
    let out = ok(&env, &["alerts", "run", "--date", "2026-01-05"]);
    assert!(out.contains("the run stopped before its digests"), "{out}");
    // Made again word for word.
    assert_eq!(digests(&env), made);
    let before = env.snapshot();
    let out = ok(&env, &["alerts", "run", "--date", "2026-01-05"]);
    assert!(out.contains("already processed, nothing to do"), "{out}");
    assert_eq!(env.snapshot(), before, "made once, a run again writes nothing");
    // A file from before muster kept the record of the day's digests: the run makes them
    // again for nobody who has theirs.
    env.sql().execute("DELETE FROM job_state WHERE key = 'digests_made_for'", []).unwrap();
    let out = ok(&env, &["alerts", "run", "--date", "2026-01-05"]);
    assert!(out.contains("0 digests for 2026-01-05"), "{out}");
    assert_eq!(digests(&env), made, "nobody has a second digest");
}

#[test]
fn outreach_from_an_alert_in_the_console_is_edited_queued_and_sent_by_the_admins_console() {
    let env = organisation();
    let smtp = Smtp::start(env.dir.path(), &[]);
    configure(&env, smtp.port, 30);
    ok(&env, &["alerts", "run", "--date", "2026-01-05"]);
    let tmux = crate::console_e2e::Tmux::console(&env, "outreach", "");
    tmux.wait_for("Home");
    tmux.keys(&["1"]);
    tmux.keys(&["/"]);
    tmux.keys(&["-l", "Ann"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Ann Lee");
    tmux.keys(&["M"]);
    tmux.wait_for("message to Ann Lee (S1)");
    let screen = tmux.wait_for("Subject: We missed you, {first_name}");
    assert!(screen.contains("Call {partner_name}"), "the organisation's template is where it starts:\n{screen}");
    // Edited before it goes: a line added at the end.
    tmux.keys(&["M-Enter"]);
    tmux.keys(&["-l", "See you Monday."]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("to S1 queued");
    let started = Instant::now();
    let mail = loop {
        if let Some(mail) = smtp.received().into_iter().find(|m| m["to"][0] == "ann@example.org") {
            break mail;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the admin's console did not send it:\n{}", tmux.screen());
        std::thread::sleep(Duration::from_millis(100));
    };
    tmux.quit();
    assert_eq!(mail["subject"], "We missed you, Ann");
    let body = mail["body"].as_str().unwrap();
    assert!(body.contains("Hi Ann Lee,") && body.trim_end().ends_with("See you Monday."), "{body}");
    // The alert it was written from (whichever of Ann's was first in the inbox) keeps it.
    let mut notes = Vec::new();
    for alert in json(&env, &["alerts", "list", "--status", "all"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["student_id"] == "S1")
    {
        let shown = json(&env, &["alerts", "show", &alert["id"].to_string()]);
        notes.extend(
            shown["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "message")
                .map(|e| e["note"].as_str().unwrap().to_string()),
        );
    }
    let kinds: Vec<&str> = notes.iter().map(String::as_str).collect();
    assert!(
        kinds.iter().any(|n| n.starts_with("queued: We missed you")) && kinds.iter().any(|n| n.starts_with("sent: ")),
        "{kinds:?}"
    );
}

#[test]
fn starttls_that_the_server_does_not_offer_is_never_replaced_by_plaintext() {
    let env = organisation();
    let smtp = Smtp::start(env.dir.path(), &[]);
    let dir = env.dir.path().join("config/muster");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[mail]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"starttls\"\nfrom = \"office@org.example\"\nretry_after_secs = 60\n",
            smtp.port
        ),
    )
    .unwrap();
    let campaign = campaign_id(&ok(&env, &["message", "send", "S1", "--template", "missed"]));
    ok(&env, &["message", "deliver"]);
    assert!(smtp.received().is_empty(), "nothing went out in plaintext");
    let shown = json(&env, &["message", "campaign", "show", &campaign.to_string()]);
    let ann = &shown["recipients"][0];
    assert_eq!(ann["status"], "queued", "{ann}");
    assert!(ann["reason"].as_str().unwrap().contains("STARTTLS"), "{ann}");
}

#[test]
fn the_daemon_sends_what_is_queued_and_what_is_queued_while_it_runs() {
    let env = organisation();
    let smtp = Smtp::start(env.dir.path(), &[]);
    configure(&env, smtp.port, 30);
    ok(&env, &["message", "send", "S1", "--template", "missed"]);
    let mut daemon = env.spawn(&["daemon"]);
    let arrived = |address: &str| {
        let started = Instant::now();
        while !smtp.received().iter().any(|m| m["to"][0] == address) {
            if started.elapsed() > Duration::from_secs(30) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        true
    };
    let first = arrived("ann@example.org");
    // While it runs, a coordinator queues another: the daemon looks again within seconds.
    ok(&env, &["--as", "sc_01", "message", "send", "S2", "--template", "missed"]);
    let second = arrived("bo@example.org");
    // SAFETY: kill on our own child's pid.
    unsafe { libc::kill(daemon.id() as libc::pid_t, libc::SIGTERM) };
    let status = daemon.wait().unwrap();
    assert!(first && second, "the daemon sent both");
    assert!(status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(daemon.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(err.contains("mail: 1 sent"), "{err}");
}

#[test]
fn a_message_is_edited_in_the_editor_and_a_scheduled_campaign_waits_for_its_time() {
    let env = organisation();
    let smtp = Smtp::start(env.dir.path(), &[]);
    configure(&env, smtp.port, 30);
    let config = env.dir.path().join("config");
    let edited = env.run_with(
        &["message", "send", "S1", "--template", "missed", "--edit"],
        &[("XDG_CONFIG_HOME", config.to_str().unwrap()), ("VISUAL", "sed -i 's/^Hi /Dear /'")],
    );
    assert_eq!(edited.code, 0, "{}", edited.stderr);
    let emptied = env.run_with(
        &["message", "send", "S2", "--template", "missed", "--edit"],
        &[("XDG_CONFIG_HOME", config.to_str().unwrap()), ("VISUAL", "sed -i '3,$d'")],
    );
    assert_eq!(emptied.code, 4, "an emptied body queues nothing: {}", emptied.stderr);
    let tomorrow = (chrono::Local::now() + chrono::Duration::days(1)).format("%Y-%m-%d 09:00").to_string();
    let scheduled =
        campaign_id(&ok(&env, &["message", "campaign", "create", "--template", "missed", "--all", "--at", &tomorrow]));
    ok(&env, &["message", "deliver"]);
    let got = smtp.received();
    assert_eq!(got.len(), 1, "only the message due now went: {got:?}");
    assert!(got[0]["body"].as_str().unwrap().starts_with("Dear Ann Lee,"), "{}", got[0]["body"]);
    let list = json(&env, &["message", "campaign", "list"]);
    let row = list.as_array().unwrap().iter().find(|c| c["id"] == scheduled).unwrap();
    assert_eq!((row["state"].as_str(), row["waiting"].as_i64()), (Some("scheduled"), Some(4)));
    let past =
        muster(&env, &["message", "campaign", "create", "--template", "missed", "--all", "--at", "2020-01-01 09:00"]);
    assert_eq!(past.code, 4, "{}", past.stderr);
    assert!(past.stderr.contains("has passed"), "{}", past.stderr);
}

/// A digest names every critical alert of the reader's students, also one the day did not
/// change (no mark after it), critical first and then by student ID; an admin hears only of
/// the day's escalations.
#[test]
fn a_digest_keeps_naming_critical_alerts_the_day_left_as_they_were() {
    let env = organisation();
    let smtp = Smtp::start(env.dir.path(), &[]);
    configure(&env, smtp.port, 30);
    ok(&env, &["alerts", "run", "--date", "2026-01-05"]);
    // A catch-up of three days: one digest per person, for the last of them.
    ok(&env, &["alerts", "run", "--date", "2026-01-08"]);
    ok(&env, &["message", "deliver"]);
    let got = smtp.received();
    let digest = |to: &str| {
        got.iter()
            .filter(|m| m["to"][0] == to)
            .map(|m| (m["subject"].as_str().unwrap().to_string(), m["body"].as_str().unwrap().to_string()))
            .collect::<Vec<_>>()
    };
    let sam = digest("sam@coord.example");
    assert_eq!(sam.len(), 2, "{sam:?}");
    let (subject, body) = sam.iter().find(|(subject, _)| !subject.ends_with("2026-01-05")).unwrap();
    assert!(subject.ends_with("for 2026-01-08"), "{subject}");
    let lines: Vec<&str> = body.lines().filter(|l| l.starts_with("  ")).collect();
    // Critical since the 7th, only their count changed on the 8th; then the day's new ones.
    assert_eq!(
        lines,
        [
            "  critical S1 Ann Lee: 4 missed session days",
            "  critical S2 Bo Li: 4 missed session days",
            "  critical S3 Cy Ng: 4 missed session days",
            "  warn     S1 Ann Lee: 3 days without a login (new)",
            "  warn     S2 Bo Li: 3 days without a login (new)",
            "  warn     S3 Cy Ng: 3 days without a login (new)",
        ],
        "{body}"
    );
    let ada = digest("ada@org.example");
    assert!(ada.iter().all(|(subject, _)| !subject.ends_with("2026-01-08")), "no escalation on the 8th: {ada:?}");
}
