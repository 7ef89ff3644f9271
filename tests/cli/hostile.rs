//! Hostile input everywhere: control characters, invalid UTF-8, very long and empty values,
//! fed to every text input of the command line and of the import. Nothing may panic, every
//! exit status is one SPEC names, and no control byte reaches a person's terminal.

use crate::harness::organisation;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fn hostile_values() -> Vec<OsString> {
    let mut values: Vec<OsString> = [
        "",
        " ",
        "\u{1b}[2J\u{1b}]0;pwned\u{7}",
        "line\nbreak\r\n",
        "\u{9b}31m C1 control",
        "-1",
        "99999999999999999999",
        "2026-02-30",
        "../../etc/passwd",
        "Robert'); DROP TABLE students;--",
        "%s%n%x",
        "\u{202e}reversed",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    values.push(OsString::from("y".repeat(70_000)));
    values.push(OsString::from_vec(vec![0xff, 0xfe, b'a', 0x80, 0x1b, b'[', b'2', b'J']));
    // A fixed pseudo-random byte string: the same every run, so a failure can be replayed.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..300)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 255) as u8 + 1
        })
        .collect();
    values.push(OsString::from_vec(bytes));
    values
}

/// Each command line with `@` where the hostile value goes.
const TEMPLATES: &[&[&str]] = &[
    &["user", "add", "ws_77", "--role", "worksite", "--name", "@"],
    &["user", "add", "@", "--role", "worksite", "--name", "Wes"],
    &["user", "add", "ws_78", "--role", "worksite", "--name", "Wes", "--email", "@"],
    &["students", "show", "@"],
    &["--as", "@", "students", "list"],
    &["--as", "ws_01", "students", "show", "@"],
    &["students", "assign", "@", "ws_01"],
    &["students", "assign", "S1", "@"],
    &["students", "unassign", "@", "ws_01"],
    &["students", "unassign", "S1", "@"],
    &["device", "allow", "@", "ws_01"],
    &["device", "allow", "dev-1", "@"],
    &["device", "revoke", "@"],
    &["alerts", "list", "--program", "@"],
    &["alerts", "show", "@"],
    &["alerts", "ack", "1", "--note", "@"],
    &["alerts", "snooze", "1", "--until", "@"],
    &["alerts", "assign", "1", "--to", "@"],
    &["attendance", "log", "--student", "@", "--program", "P1", "--date", "2026-01-07", "--status", "present"],
    &["attendance", "log", "--student", "S1", "--program", "@", "--date", "2026-01-07", "--status", "present"],
    &["attendance", "log", "--student", "S1", "--program", "P1", "--date", "@", "--status", "present"],
    &[
        "attendance",
        "log",
        "--student",
        "S1",
        "--program",
        "P1",
        "--date",
        "2026-01-07",
        "--status",
        "present",
        "--hours",
        "@",
    ],
    &["attendance", "list", "--student", "@"],
    &["attendance", "reject", "1", "--reason", "@"],
    &["--as", "ws_02", "onboarding", "select-role", "@"],
    &["--as", "ws_02", "onboarding", "accept", "@"],
    &["--as", "ws_02", "onboarding", "sign", "@", "--name", "Walt Late"],
    &["--as", "ws_02", "onboarding", "sign", "mou", "--name", "@"],
    &["onboarding", "waive", "ws_02", "--reason", "@"],
    &[
        "--as",
        "ws_02",
        "payroll",
        "submit",
        "--rate",
        "@",
        "--method",
        "ach",
        "--routing",
        "011000015",
        "--account",
        "1234",
        "--w9",
        "/dev/null",
        "--accept-terms",
    ],
    &[
        "--as",
        "ws_02",
        "payroll",
        "submit",
        "--rate",
        "10",
        "--method",
        "ach",
        "--routing",
        "@",
        "--account",
        "1234",
        "--w9",
        "/dev/null",
        "--accept-terms",
    ],
    &[
        "--as",
        "ws_02",
        "payroll",
        "submit",
        "--rate",
        "10",
        "--method",
        "stripe_connect",
        "--account",
        "@",
        "--w9",
        "/dev/null",
        "--accept-terms",
    ],
    &[
        "--as",
        "ws_02",
        "payroll",
        "submit",
        "--rate",
        "10",
        "--method",
        "ach",
        "--routing",
        "011000015",
        "--account",
        "1234",
        "--w9",
        "@",
        "--accept-terms",
    ],
    &["payroll", "reject", "1", "--reason", "@"],
    &["audit", "verify", "--since", "@"],
    &["settings", "time-zone", "@"],
    &["import", "students", "@"],
];

/// A control byte a terminal would act on (line breaks and tabs are layout).
fn steering_byte(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| (*b < 0x20 && *b != b'\n' && *b != b'\t') || *b == 0x7f)
}

fn check(env: &crate::harness::Env, args: &[OsString]) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("--db")
        .arg(&env.db)
        .args(args)
        .env("XDG_DATA_HOME", env.dir.path().join("data"))
        .env("HOME", env.dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let code = output.status.code().unwrap_or(-1);
    let shown = format!(
        "{:?}",
        args.iter().map(|a| a.to_string_lossy().chars().take(40).collect::<String>()).collect::<Vec<_>>()
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!([0, 1, 2, 3, 4].contains(&code), "{shown}: exit {code}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{shown}: {stderr}");
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        if let Some(at) = steering_byte(bytes) {
            panic!(
                "{shown}: a control byte on {stream} at {at}: {:?}",
                String::from_utf8_lossy(&bytes[at.saturating_sub(20)..(at + 20).min(bytes.len())])
            );
        }
    }
}

#[test]
fn no_command_line_input_panics_or_steers_the_terminal() {
    let env = organisation();
    for template in TEMPLATES {
        for value in hostile_values() {
            let args: Vec<OsString> =
                template.iter().map(|part| if *part == "@" { value.clone() } else { OsString::from(part) }).collect();
            check(&env, &args);
        }
    }
    env.ok(&["audit", "verify"]);
}

#[test]
fn no_import_file_panics_or_steers_the_terminal() {
    let env = organisation();
    let files = [
        ("students", "student_id,first_name,last_name,email,phone\n"),
        ("attendance", "student_id,program_id,date,status,hours\n"),
        ("users", "login,name,role,email,onboarded\n"),
        ("programs", "program_id,name,schedule,start_date,end_date\n"),
        ("logins", "student_id,at\n"),
    ];
    for (kind, header) in files {
        let columns = header.trim_end().split(',').count();
        for value in hostile_values() {
            let mut bytes = header.as_bytes().to_vec();
            for column in 0..columns {
                let mut row: Vec<Vec<u8>> = vec![b"x".to_vec(); columns];
                row[column] = value.clone().into_vec();
                bytes.extend(row.join(&b","[..]));
                bytes.push(b'\n');
            }
            let path = env.dir.path().join(format!("{kind}.csv"));
            std::fs::write(&path, &bytes).unwrap();
            check(&env, &[OsString::from("import"), OsString::from(kind), path.into_os_string()]);
        }
        // A header of hostile bytes, too.
        let path = env.dir.path().join("header.csv");
        std::fs::write(&path, b"\x1b[2J,\xff\xfe\nx,y\n").unwrap();
        check(&env, &[OsString::from("import"), OsString::from(kind), path.into_os_string()]);
    }
    env.ok(&["audit", "verify"]);
}
