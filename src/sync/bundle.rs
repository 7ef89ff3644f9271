//! Sync for a site with no network at all: what a sync would send, written to a file
//! (`muster sync bundle --out`), and the hub's answer, read from one (`--apply`) — the same
//! frames as over SSH, so the same rules hold.

use super::frame::{self, Message};
use super::read_pull;
use crate::app::App;
use crate::app::identity::{as_caller, open_as_caller};
use anyhow::{Context, bail};
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

/// `muster sync bundle --out FILE`: what a sync would send, written to a file for a site with no
/// network at all (carried to the hub, answered there with `muster sync receive`).
pub fn write_bundle(app: &App, actor: &crate::app::Actor, out: &Path) -> anyhow::Result<String> {
    let (_, device, _) = app.replica_of()?.context("this file is not a replica; make one with `muster sync clone`")?;
    let entries = app.outbox(actor, Some("waiting"))?;
    let count = entries.len();
    let since = if entries.is_empty() { app.replica_mark()? } else { None };
    // The reply then carries only what differs from what the laptop holds now.
    let have = app.replica_digests(actor)?;
    let file = as_caller(|| std::fs::File::create_new(out))
        .with_context(|| format!("cannot write the bundle {} (it must be a new file)", out.display()))?;
    let mut file = BufWriter::new(file);
    let written = (|| -> anyhow::Result<()> {
        frame::write(&mut file, &frame::hello())?;
        if !entries.is_empty() {
            frame::write(&mut file, &Message::Push { device: device.clone(), entries })?;
        }
        frame::write(&mut file, &Message::Pull { device, since, have: Some(have), compare: false })?;
        file.flush()?;
        Ok(())
    })();
    // A bundle cut short (a full disk) is not left to be carried to the hub.
    if let Err(e) = written {
        let _ = as_caller(|| std::fs::remove_file(out));
        return Err(e.context(format!("cannot write the bundle {}", out.display())));
    }
    Ok(format!(
        "{count} changes and a request for the hub's rows are in {}: on the hub, `muster sync receive` it",
        out.display()
    ))
}

/// `muster sync bundle --apply REPLY`: the hub's answer to a bundle, as a sync would take it.
pub fn apply_reply(app: &mut App, actor: &crate::app::Actor, reply: &Path) -> anyhow::Result<String> {
    let file = open_as_caller(reply).with_context(|| format!("cannot read the reply {}", reply.display()))?;
    let mut from = BufReader::new(file);
    let theirs = frame::read(&mut from)?.context("the reply is empty")?;
    frame::agree(&theirs, "this muster", "the hub that wrote the reply").map_err(anyhow::Error::msg)?;
    let mut said = Vec::new();
    let first = frame::read(&mut from)?.context("the reply ends after the hub's hello")?;
    let pulled = match first {
        Message::Pushed { verdicts } => {
            said.push(app.execute(actor, crate::app::Command::SettleOutbox { verdicts })?.to_string());
            read_pull(None, &mut from)?
        }
        Message::Error { message } => bail!("the hub refused: {message}"),
        answer @ (Message::Unchanged | Message::Pulled { .. } | Message::Rows { .. } | Message::Changed(_)) => {
            read_pull(Some(answer), &mut from)?
        }
        other => bail!("the reply holds {other:?} where the hub's answer should be"),
    };
    said.push(app.execute(actor, super::replace_scope(pulled))?.to_string());
    Ok(said.join("; "))
}
