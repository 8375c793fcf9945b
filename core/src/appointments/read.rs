//! A3 Read an appointment: `GET /Appointment/{id}` → 200 with the
//! Appointment and `ETag: W/"{versionId}"` (§1.1, R47).
//!
//! - Unknown id → 404 NO_RECORD_FOUND (R45 \[REC\]); so is an appointment
//!   of a PDS-sensitive patient (R25), indistinguishably.
//! - An appointment whose start is not after now → 404 NO_RECORD_FOUND
//!   (R44). The spec only says "an error"; of the two \[REC\] codes,
//!   INVALID_RESOURCE ("Submitted resource is not valid") describes a body,
//!   and a read submits none, while past appointments are outside what the
//!   API shows (retrieve leaves them out too, R55), so "no record found" is
//!   the honest answer. The diagnostics say why.
//! - Cancelled future appointments are returned, with status `cancelled`.
//! - Visit appointments are returned (R48), with the 'unknown' visit
//!   Location (see [`response`](super::response)).
//! - Data that cannot make a valid resource → 500 (R46).
//!
//! Slot availability rules do not apply (R12: read sees the whole book).

use super::response::{appointment_resource, visible_appointment};
use super::rules::is_past;
use crate::checks::datetime::format_uk_local;
use crate::error::{Error, SpineCode};
use crate::operation::{Answer, Context};
use crate::stu3;

/// Read an appointment (A3): see the module docs.
///
/// # Errors
/// 404 NO_RECORD_FOUND (unknown or past), 500 (R46, store failure).
pub fn read_appointment(ctx: &Context<'_>, id: &str) -> Result<Answer<stu3::Appointment>, Error> {
    let record = visible_appointment(ctx, id)?;
    if is_past(record.start, ctx.now) {
        return Err(Error::new(
            SpineCode::NoRecordFound,
            format!(
                "Appointment/{id} started at {}; only future appointments can be read (R44)",
                format_uk_local(record.start)
            ),
        ));
    }
    let body = appointment_resource(ctx, &record)?;
    Ok(Answer::versioned(body, record.version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::fixtures::*;
    use crate::appointments::response::CONTAINED_VISIT_LOCATION_ID;
    use crate::stu3::Id;

    #[test]
    fn r47_read_returns_the_appointment_with_its_version() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let answer = ok(read_appointment(&t.ctx(), &record.id));
        assert_eq!(answer.status, 200);
        assert_eq!(answer.version, Some(record.version));
        assert_eq!(
            answer.body.id.as_ref().map(Id::as_str),
            Some(record.id.as_str())
        );
        let meta = answer.body.meta.as_ref().expect("meta");
        assert_eq!(
            meta.version_id.as_ref().map(Id::as_str),
            Some(record.version.to_string().as_str())
        );
        assert_eq!(answer.body, t.representation(&record.id));
        assert!(answer.location.is_none());
    }

    #[test]
    fn r45_unknown_id_is_404_no_record_found() {
        let t = Practice::new(now());
        for id in ["Invalid4321", "8888888888", "", "a/b"] {
            assert_error(
                read_appointment(&t.ctx(), id),
                404,
                SpineCode::NoRecordFound,
            );
        }
    }

    #[test]
    fn r25_appointments_of_sensitive_patients_are_not_disclosed() {
        let t = Practice::new(now());
        let mut record = t.book(&["14-2-0"]);
        record.id = "hidden".into();
        record.patient_id = "4".into();
        t.import_appointment(record);
        let e = assert_error(
            read_appointment(&t.ctx(), "hidden"),
            404,
            SpineCode::NoRecordFound,
        );
        assert_eq!(
            e.diagnostics(),
            assert_error(
                read_appointment(&t.ctx(), "nothing"),
                404,
                SpineCode::NoRecordFound
            )
            .diagnostics()
            .replace("nothing", "hidden")
        );
    }

    #[test]
    fn r44_past_appointment_is_404_no_record_found() {
        let t = Practice::new(now());
        let record = t.book(&["14-1-0"]);
        let e = assert_error(
            read_appointment(&t.ctx_at(record.start), &record.id),
            404,
            SpineCode::NoRecordFound,
        );
        assert!(e.diagnostics().contains("R44"), "{e}");
        let just_before = record.start - jiff::SignedDuration::from_secs(1);
        ok(read_appointment(&t.ctx_at(just_before), &record.id));
    }

    #[test]
    fn r48_visit_appointments_are_read_with_the_unknown_location() {
        let t = Practice::new(now());
        t.import_visit("v1", "14-1-2", Some("Care home visit"));
        let answer = ok(read_appointment(&t.ctx(), "v1"));
        let a = answer.body;
        assert_eq!(a.comment.as_deref(), Some("Care home visit"));
        assert!(a.participant.iter().any(|p| {
            p.actor.as_ref().and_then(|r| r.reference.as_deref())
                == Some(format!("#{CONTAINED_VISIT_LOCATION_ID}").as_str())
        }));
    }

    #[test]
    fn r46_unpopulatable_appointment_is_500() {
        let t = Practice::new(now());
        let mut record = t.book(&["14-2-0"]);
        record.id = "broken".into();
        record.slot_ids = vec!["gone".into()];
        t.import_appointment(record);
        assert_error(
            read_appointment(&t.ctx(), "broken"),
            500,
            SpineCode::InternalServerError,
        );
    }
}
