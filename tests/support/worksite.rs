//! Test and bench support: a demo hub on which the account running them plays a worksite.
//! Included with `#[path]` where needed (tests/cli, tests/sync_convergence.rs, benches/sync.rs).

/// Makes `me` (the OS account, the demo's admin) the worksite `worksite` on the database behind
/// `conn`: the admin becomes `boss`, and the worksite's records and assignments are renamed to
/// `me`. Foreign keys are switched off on `conn` for the renames.
pub fn become_worksite(conn: &rusqlite::Connection, me: &str, worksite: &str) {
    conn.execute_batch("PRAGMA foreign_keys = OFF").expect("pragma");
    conn.execute("UPDATE users SET login = 'boss' WHERE login = ?1", [me]).expect("rename the admin");
    for (table, column) in [
        ("users", "login"),
        ("student_assignments", "login"),
        ("partner_profiles", "login"),
        ("responsibility_acceptances", "login"),
        ("esign_consents", "login"),
        ("signatures", "login"),
        ("acknowledgements", "login"),
        ("payroll_profiles", "login"),
        ("alerts", "assigned_to"),
        ("attendance", "logged_by"),
    ] {
        conn.execute(&format!("UPDATE {table} SET {column} = ?1 WHERE {column} = ?2"), [me, worksite])
            .expect("rename the worksite");
    }
}
