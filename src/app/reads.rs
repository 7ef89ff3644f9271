//! What a user may look at. Each read checks the same rules as a change would: partners see
//! only their assigned students and, until onboarded, nothing but onboarding.

use super::{Actor, App, Result};
use crate::domain::User;
use crate::domain::alerts::{AlertType, Thresholds};
use crate::domain::audit::{AuditEntry, ChainBreak};
use crate::store::alerts::{AlertCursor, AlertEvent, AlertFilter, AlertView};
use crate::store::{self, roster};

impl App {
    pub fn users(&self, actor: &Actor) -> Result<Vec<User>> {
        self.require_onboarded(actor)?;
        Ok(store::users::list(self.store.conn(), actor.user())?)
    }

    /// A page of the students the actor may see, after `after` in `student_id` order.
    pub fn students(&self, actor: &Actor, after: &str, limit: usize) -> Result<Vec<roster::StudentSummary>> {
        self.require_onboarded(actor)?;
        Ok(roster::list_students(self.store.conn(), actor.user(), after, limit)?)
    }

    pub fn student(&self, actor: &Actor, student_id: &str) -> Result<roster::StudentDetail> {
        self.require_onboarded(actor)?;
        Ok(roster::student_detail(self.store.conn(), actor.user(), student_id)?)
    }

    pub fn audit_entries(&self, actor: &Actor, after: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.require_admin(actor, "read the audit log")?;
        Ok(store::audit::list(self.store.conn(), after, limit)?)
    }

    /// `Ok(n)`: the chain of n entries is whole.
    pub fn verify_audit(&self, actor: &Actor) -> Result<std::result::Result<i64, ChainBreak>> {
        self.require_admin(actor, "verify the audit log")?;
        Ok(store::audit::verify(self.store.conn())?)
    }

    /// A page of the alerts the actor may see, most severe first, then oldest.
    pub fn alerts(
        &self,
        actor: &Actor,
        filter: &AlertFilter,
        after: Option<&AlertCursor>,
        limit: usize,
    ) -> Result<Vec<AlertView>> {
        self.require_onboarded(actor)?;
        Ok(store::alerts::list(self.store.conn(), actor.user(), filter, after, limit)?)
    }

    /// One alert and its timeline.
    pub fn alert(&self, actor: &Actor, id: i64) -> Result<(AlertView, Vec<AlertEvent>)> {
        self.require_onboarded(actor)?;
        let view = store::alerts::get(self.store.conn(), actor.user(), id)?;
        let timeline = store::alerts::timeline(self.store.conn(), id)?;
        Ok((view, timeline))
    }

    pub fn thresholds(&self, actor: &Actor) -> Result<Vec<(AlertType, Thresholds)>> {
        self.require_onboarded(actor)?;
        AlertType::ALL.iter().map(|kind| Ok((*kind, store::alerts::thresholds(self.store.conn(), *kind)?))).collect()
    }
}
