//! `audit list` and `audit verify`.

use super::output::ListWriter;
use super::{Cli, open_session};
use crate::domain::audit::Head;
use crate::store::OpenMode;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Audit entries, oldest first
    List {
        /// Only entries after this sequence number
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// At most this many entries
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Check the hash chain; names the first entry that was altered, removed or inserted
    Verify {
        /// A head printed earlier by `audit head`: the log must still hold it unchanged
        #[arg(long, value_name = "SEQ:HASH", value_parser = clap::value_parser!(Head))]
        since: Option<Head>,
    },
    /// Print the last entry as SEQ:HASH, to publish where the log's writers cannot change it
    Head,
}

const PAGE: usize = 5_000;

pub fn audit(cli: &Cli, cmd: &AuditCommand) -> anyhow::Result<()> {
    let session = open_session(cli, OpenMode::Existing)?;
    match cmd {
        AuditCommand::List { after, limit } => {
            let columns = ["seq", "at", "actor", "acting_as", "action", "entity", "entity_id", "client"];
            let out = &mut std::io::stdout().lock();
            // Page by page as read: the log of a busy year is millions of entries.
            let mut list = ListWriter::new(out, cli.format, &columns);
            let mut cursor = *after;
            let mut left = limit.unwrap_or(usize::MAX);
            while left > 0 {
                let page = session.app.audit_entries(&session.actor, cursor, PAGE.min(left))?;
                let Some(last) = page.last() else { break };
                cursor = last.seq;
                left -= page.len();
                for entry in &page {
                    list.row(entry)?;
                }
            }
            list.finish()?;
        }
        AuditCommand::Verify { since } => match session.app.verify_audit(&session.actor, since.as_ref())? {
            Ok(count) if since.is_some() => {
                println!("audit log is whole: {count} entries, every link checked; it still holds the published head")
            }
            Ok(count) => println!("audit log is whole: {count} entries, every link checked"),
            Err(broken) => anyhow::bail!("{broken}"),
        },
        AuditCommand::Head => match session.app.audit_head(&session.actor)? {
            Some(head) => println!("{head}"),
            None => anyhow::bail!(crate::app::AppError::Invalid("the audit log has no entries".into())),
        },
    }
    Ok(())
}
