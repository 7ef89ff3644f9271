//! The hub's side of sync: one connection on stdin/stdout (`muster sync-serve`, run by ssh), or
//! a bundle's requests read from a file and answered into another (`muster sync receive`).

use super::frame::{self, Message};
use crate::app::identity::OsAccount;
use crate::app::{App, SystemClock};
use crate::store::OpenMode;
use anyhow::{Context, bail};
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

/// The hub's side of one connection, on stdin/stdout: hello, then requests until the other side
/// closes. Everything the hub has to say about itself goes to stderr; a request it cannot serve
/// is answered with an error message and ends the connection.
pub fn serve(path: &Path, os: &OsAccount) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let (mut input, mut output) = (BufReader::new(stdin.lock()), BufWriter::new(stdout.lock()));
    serve_stream(path, os, false, &mut input, &mut output)
}

/// `muster sync receive`: a bundle's requests from `request`, the answers to `reply`, as a
/// connection would have them. An admin may receive a bundle of anyone's device, answering as
/// its owner would be answered (the changes are still applied as their authors).
pub fn receive(path: &Path, os: &OsAccount, request: &Path, reply: &Path) -> anyhow::Result<()> {
    // The files are the caller's: read and written with their rights, also under setuid.
    use crate::app::identity::{as_caller, open_as_caller};
    let mut input = BufReader::new(
        open_as_caller(request).with_context(|| format!("cannot read the bundle {}", request.display()))?,
    );
    let made = as_caller(|| std::fs::File::create_new(reply))
        .with_context(|| format!("cannot write the reply {} (it must be a new file)", reply.display()))?;
    let mut output = BufWriter::new(made);
    let served = serve_stream(path, os, true, &mut input, &mut output).and_then(|()| Ok(output.flush()?));
    if served.is_err() {
        let _ = as_caller(|| std::fs::remove_file(reply));
    }
    served
}

fn serve_stream(
    path: &Path,
    os: &OsAccount,
    admins_answer_for_owners: bool,
    mut input: &mut impl std::io::Read,
    mut output: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    frame::write(&mut output, &frame::hello())?;
    let theirs = frame::read(&mut input)?.context("the laptop closed the connection before saying hello")?;
    if let Err(why) = frame::agree(&theirs, "the hub", "this laptop's muster") {
        frame::write(&mut output, &Message::Error { message: why.clone() })?;
        bail!(why);
    }
    let origin = crate::app::identity::this_origin(os);
    let session = App::open(path, OpenMode::Existing, Box::new(SystemClock), origin)
        .and_then(|mut app| app.sign_in(os, None).map(|signed| (app, signed.actor)));
    let (mut app, mut actor) = match session {
        Ok(session) => session,
        Err(e) => {
            frame::write(&mut output, &Message::Error { message: e.to_string() })?;
            return Err(e.into());
        }
    };
    while let Some(request) = frame::read(&mut input)? {
        if admins_answer_for_owners
            && actor.user().role == crate::domain::Role::Admin
            && let Message::Push { device, .. } | Message::Pull { device, .. } = &request
            && let Some(owner) = app.device_owner(&actor, device)?
        {
            actor = crate::app::Actor { person: owner, acting_as: None };
        }
        let answer = match request {
            Message::Ping => {
                let user = actor.user();
                Message::Pong { login: user.login.clone(), role: user.role.to_string() }
            }
            Message::Clone { name } => match send_clone(&mut app, &actor, &name, &mut output) {
                Ok((device, mark)) => Message::CloneDone { device, login: actor.user().login.clone(), mark },
                Err(e) => Message::Error { message: e.to_string() },
            },
            Message::Push { device, entries } => match app.apply_push(&actor, &device, &entries) {
                Ok(verdicts) => Message::Pushed { verdicts },
                Err(e) => Message::Error { message: e.to_string() },
            },
            Message::Pull { device, since, have, compare } => match app.change_mark(&actor) {
                // Nothing changed here since: a round trip, not a scan.
                Ok(mark) if since == Some(mark) => match app.serving(&actor, &device) {
                    Ok(_) => Message::Unchanged,
                    Err(e) => Message::Error { message: e.to_string() },
                },
                _ => {
                    let have = match (have, compare) {
                        (None, true) => {
                            frame::write(&mut output, &Message::Compare)?;
                            match frame::read(&mut input)? {
                                Some(Message::Have(have)) => Some(have),
                                other => bail!("the laptop answered a request for its digests with {other:?}"),
                            }
                        }
                        (have, _) => have,
                    };
                    let output = std::cell::RefCell::new(&mut output);
                    let sent = app.replica_snapshot(
                        &actor,
                        &device,
                        have.as_ref(),
                        &mut |changed| {
                            Ok(frame::write(&mut **output.borrow_mut(), &Message::Changed(changed.clone()))?)
                        },
                        &mut |table, columns, rows| {
                            let message = Message::Rows { table: table.to_string(), columns: columns.to_vec(), rows };
                            Ok(frame::write(&mut **output.borrow_mut(), &message)?)
                        },
                    );
                    match sent {
                        Ok(mark) => Message::Pulled { mark },
                        Err(e) => Message::Error { message: e.to_string() },
                    }
                }
            },
            other => Message::Error { message: format!("this hub does not serve {other:?}") },
        };
        let refused = matches!(answer, Message::Error { .. });
        frame::write(&mut output, &answer)?;
        if refused {
            break;
        }
    }
    Ok(())
}

/// Registers the device and sends the person's scope, table by table.
fn send_clone(
    app: &mut App,
    actor: &crate::app::Actor,
    name: &str,
    output: &mut impl std::io::Write,
) -> anyhow::Result<(String, i64)> {
    let device = match app.execute(actor, crate::app::Command::RegisterDevice { name: name.to_string() })? {
        crate::app::Outcome::DeviceRegistered { id } => id,
        other => bail!("registering the device gave {other}"),
    };
    let mark = app.replica_snapshot(actor, &device, None, &mut |_| Ok(()), &mut |table, columns, rows| {
        let message = Message::Rows { table: table.to_string(), columns: columns.to_vec(), rows };
        Ok(frame::write(output, &message)?)
    })?;
    Ok((device, mark))
}
