//! The steps amend (A4) and cancel (A5) share: the preconditions before a
//! body is looked at, and committing the new resource and answering with it.

use super::response::{BookedSlots, populate, visible_appointment};
use super::rules::{
    Change, body_id_matches, change_store_error, changeable, if_match_current, require_if_match,
};
use crate::error::Error;
use crate::operation::{Answer, Context};
use crate::store::{AppointmentChange, AppointmentRecord};
use crate::stu3;

/// The preconditions, in the order the module docs of `amend` and `cancel`
/// give them: If-Match present (R30), body id = URL id (R32), the
/// appointment exists and is visible, it can still change (R28/R29,
/// R39–R41, Visit), the version matches (R30/R37). Returns the stored
/// record and the representation the body is compared with.
pub(super) fn load_for_change(
    ctx: &Context<'_>,
    id: &str,
    if_match: Option<&str>,
    body: &stu3::Appointment,
    change: Change,
) -> Result<(AppointmentRecord, stu3::Appointment), Error> {
    let if_match = require_if_match(if_match)?;
    body_id_matches(body, id)?;
    let record = visible_appointment(ctx, id)?;
    let booked = BookedSlots::load(ctx, &record)?;
    changeable(&record, booked.is_visit(), ctx.now, change)?;
    if_match_current(if_match, record.version)?;
    let current = populate(ctx, &record, &booked)?;
    Ok((record, current))
}

/// Commit `resource` as the appointment's new state through the store's
/// version-checked command, and answer 200 with the new representation and
/// ETag (R34, R42).
pub(super) fn commit_change(
    ctx: &Context<'_>,
    record: &AppointmentRecord,
    resource: stu3::Appointment,
    change: Change,
) -> Result<Answer<stu3::Appointment>, Error> {
    let request = AppointmentChange {
        id: record.id.clone(),
        expected_version: record.version,
        resource,
        now: ctx.now,
    };
    let updated = match change {
        Change::Amend => ctx.store.amend(ctx.ods(), request),
        Change::Cancel => ctx.store.cancel(ctx.ods(), request),
    }
    .map_err(|e| change_store_error(e, change))?;
    let body = populate(ctx, &updated, &BookedSlots::load(ctx, &updated)?)?;
    Ok(Answer::versioned(body, updated.version))
}
