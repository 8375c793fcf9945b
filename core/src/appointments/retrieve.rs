//! A6 Retrieve a patient's appointments:
//! `GET /Patient/{id}/Appointment?start=ge{date}&start=le{date}` → 200 with a
//! `searchset` Bundle of Appointments (R56, R59).
//!
//! 1. The two `start` parameters (R50–R53, [`retrieve_range`]): exactly one
//!    `ge` and one `le`, full dates only, end not before start, start not
//!    before today; 422 INVALID_PARAMETER. They are checked before the
//!    patient, so a malformed request gets the same answer whoever it names.
//!    Other parameters are the transport's to ignore (R58).
//! 2. The patient (R57, R25): unknown or PDS-sensitive → 404
//!    PATIENT_NOT_FOUND, the same answer for both.
//! 3. Every appointment of the patient whose start falls on one of those UK
//!    days (R54): cancelled ones, any booking organisation or none, any
//!    delivery channel (Visit included, R48), with no availability rule.
//!    The range starts at 00:00 today at the earliest, so appointments
//!    earlier today are included (R52, R55).
//! 4. Each populated as in R18; one that cannot be (R46) fails the whole
//!    request with 500 (R86). No appointments → an empty Bundle (R56).
//!
//! Entries carry no `fullUrl` (§1.1 SHOULD NOT).

use super::response::appointment_resource;
use super::rules::store_failure;
use crate::checks::datetime::{retrieve_range, uk_day_range, uk_today};
use crate::error::{Echo, Error, SpineCode};
use crate::fhir::primitive::is_valid_id;
use crate::operation::{Answer, Context};
use crate::stu3::{self, Bundle, BundleEntry, Code};

/// Retrieve a patient's appointments (A6): see the module docs.
/// `start_params` are the values of every `start` parameter, as sent.
///
/// # Errors
/// 422 INVALID_PARAMETER (R50–R53), 404 PATIENT_NOT_FOUND (R57), 500 (R86).
pub fn retrieve_patient_appointments(
    ctx: &Context<'_>,
    patient_id: &str,
    start_params: &[&str],
) -> Result<Answer<Bundle>, Error> {
    let (first, last) = retrieve_range(start_params, uk_today(ctx.now))?;
    let patient = if is_valid_id(patient_id) {
        ctx.store
            .patient(ctx.ods(), patient_id)
            .map_err(store_failure)?
    } else {
        None
    };
    if patient.is_none_or(|p| p.flags.sensitive) {
        return Err(Error::new(
            SpineCode::PatientNotFound,
            format!("No patient with id {} was found (R57)", Echo(patient_id)),
        ));
    }
    let (from, to) = uk_day_range(first, last)?;
    let records = ctx
        .store
        .patient_appointments(ctx.ods(), patient_id, from, to)
        .map_err(store_failure)?;
    let entry = records
        .iter()
        .map(|record| {
            appointment_resource(ctx, record).map(|a| BundleEntry {
                resource: Some(a.into()),
                ..Default::default()
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Answer::ok(stu3::Bundle {
        type_: Code::from_static("searchset"),
        entry,
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::amend::amend_appointment;
    use crate::appointments::book::book_appointment;
    use crate::appointments::cancel::cancel_appointment;
    use crate::appointments::fixtures::*;
    use crate::appointments::read::read_appointment;
    use crate::checks::datetime::format_uk_local;
    use crate::population::reference;
    use crate::store::{AppointmentStatus, SlotStatus};
    use crate::stu3::profiles::extension;
    use crate::stu3::{Appointment, Extension, ExtensionValue, Instant, Resource};

    fn appointments(bundle: &Bundle) -> Vec<&Appointment> {
        bundle
            .entry
            .iter()
            .map(|e| match &e.resource {
                Some(Resource::Appointment(a)) => &**a,
                other => panic!("not an Appointment: {other:?}"),
            })
            .collect()
    }

    fn ids(bundle: &Bundle) -> Vec<String> {
        appointments(bundle)
            .iter()
            .filter_map(|a| a.id.as_ref().map(|i| i.as_str().to_owned()))
            .collect()
    }

    /// `start=ge{today + from}&start=le{today + to}`.
    fn range(t: &Practice, from: i64, to: i64) -> [String; 2] {
        let today = uk_today(t.now);
        let day = |n: i64| today.checked_add(jiff::Span::new().days(n)).expect("day");
        [format!("ge{}", day(from)), format!("le{}", day(to))]
    }

    fn retrieve(t: &Practice, patient: &str, from: i64, to: i64) -> Result<Answer<Bundle>, Error> {
        let r = range(t, from, to);
        retrieve_patient_appointments(&t.ctx(), patient, &[&r[0], &r[1]])
    }

    #[test]
    fn r56_searchset_of_appointments_in_start_order() {
        let t = Practice::new(now());
        let later = t.book(&["14-3-0"]);
        let earlier = t.book(&["15-2-4"]);
        let answer = ok(retrieve(&t, "2", 0, 14));
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body.type_, "searchset");
        assert_eq!(ids(&answer.body), [earlier.id, later.id]);
        assert!(answer.body.entry.iter().all(|e| e.full_url.is_none()));
        for a in appointments(&answer.body) {
            let meta = a.meta.as_ref().expect("meta");
            assert!(meta.version_id.is_some() && !meta.profile.is_empty());
            assert!(!a.service_type.is_empty());
        }
    }

    #[test]
    fn r53_there_is_no_maximum_range() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let answer = ok(retrieve(&t, "2", 0, 3650));
        assert_eq!(ids(&answer.body), std::slice::from_ref(&record.id));
    }

    #[test]
    fn r56_no_appointments_is_an_empty_bundle() {
        let t = Practice::new(now());
        let answer = ok(retrieve(&t, "3", 0, 14));
        assert!(answer.body.entry.is_empty());
    }

    #[test]
    fn r54_cancelled_visit_and_practice_booked_appointments_are_included() {
        let t = Practice::new(now());
        let booked = t.book(&["14-2-0"]);
        ok(cancel_appointment(
            &t.ctx(),
            &booked.id,
            Some(&etag(booked.version)),
            cancel_body(&booked, "double booked"),
        ));
        t.import_visit("v1", "14-1-2", Some("Home visit"));
        let phone = t.book(&["15-4-0"]);
        let answer = ok(retrieve(&t, "2", 0, 14));
        assert_eq!(ids(&answer.body), ["v1".to_owned(), booked.id, phone.id]);
        let statuses: Vec<&str> = appointments(&answer.body)
            .iter()
            .map(|a| a.status.as_str())
            .collect();
        assert_eq!(statuses, ["booked", "cancelled", "booked"]);
    }

    #[test]
    fn r54_only_the_patients_appointments_within_the_days_are_returned() {
        let t = Practice::new(now());
        let day2 = t.book(&["14-2-0"]);
        t.book(&["14-4-0"]);
        let mut other = t.book_body(&["14-2-2"]);
        other.participant[0].actor = Some(reference("Patient", "3"));
        ok(book_appointment(&t.ctx(), other));
        // Day 2 only, whole UK day.
        let answer = ok(retrieve(&t, "2", 2, 2));
        assert_eq!(ids(&answer.body), [day2.id]);
        assert!(ok(retrieve(&t, "2", 5, 14)).body.entry.is_empty());
    }

    #[test]
    fn r52_r55_todays_earlier_appointments_are_included() {
        let t = Practice::new(now());
        let record = t.book(&["14-1-0"]);
        // The appointment started an hour ago, today.
        let later = record.start + jiff::SignedDuration::from_hours(1);
        let r = [
            format!("ge{}", uk_today(later)),
            format!("le{}", uk_today(later)),
        ];
        let answer = ok(retrieve_patient_appointments(
            &t.ctx_at(later),
            "2",
            &[&r[0], &r[1]],
        ));
        assert_eq!(ids(&answer.body), std::slice::from_ref(&record.id));
        // Read says "after now" (R44), retrieve says "today" (digest §11.11).
        assert!(read_appointment(&t.ctx_at(later), &record.id).is_err());
    }

    #[test]
    fn r52_a_range_starting_in_the_past_is_invalid_parameter() {
        let t = Practice::new(now());
        for r in [
            ["ge2010-02-03", "le2010-03-03"],
            ["ge2010-03-03", "le2030-03-30"],
        ] {
            let e = assert_error(
                retrieve_patient_appointments(&t.ctx(), "2", &r),
                422,
                SpineCode::InvalidParameter,
            );
            assert!(e.diagnostics().contains("Past appointments"), "{e}");
        }
        assert_error(retrieve(&t, "2", -1, 3), 422, SpineCode::InvalidParameter);
    }

    #[test]
    fn r50_r51_r53_parameter_errors_come_first() {
        let t = Practice::new(now());
        let r = range(&t, 0, 3);
        for params in [
            vec![r[0].as_str()],
            vec![],
            vec![r[0].as_str(), r[0].as_str()],
            vec!["ge2026-11-26T10:00:00+00:00", r[1].as_str()],
            vec!["ge2026-11", r[1].as_str()],
        ] {
            // An unknown patient too: the parameters are checked first.
            assert_error(
                retrieve_patient_appointments(&t.ctx(), "404", &params),
                422,
                SpineCode::InvalidParameter,
            );
        }
        let backwards = range(&t, 3, 0);
        let e = assert_error(
            retrieve_patient_appointments(&t.ctx(), "2", &[&backwards[1], &backwards[0]]),
            422,
            SpineCode::InvalidParameter,
        );
        assert!(e.diagnostics().contains("before"), "{e}");
    }

    #[test]
    fn r57_r25_unknown_or_sensitive_patient_is_404() {
        let t = Practice::new(now());
        for id in ["404", "4", "a/b"] {
            assert_error(retrieve(&t, id, 0, 14), 404, SpineCode::PatientNotFound);
        }
    }

    #[test]
    fn r86_one_unpopulatable_appointment_fails_the_bundle() {
        let t = Practice::new(now());
        let mut record = t.book(&["14-2-0"]);
        record.id = "broken".into();
        record.slot_ids = vec!["gone".into()];
        t.import_appointment(record);
        assert_error(
            retrieve(&t, "2", 0, 14),
            500,
            SpineCode::InternalServerError,
        );
    }

    /// Book → read → amend → cancel → retrieve: the version changes at
    /// every change, the slot is freed by the cancel and can be booked
    /// again.
    #[test]
    fn round_trip_book_read_amend_cancel_retrieve() {
        let t = Practice::new(now());
        let ctx = t.ctx();

        let booked = ok(book_appointment(&ctx, t.book_body(&["14-2-0"])));
        assert_eq!(booked.status, 201);
        let id = booked.body.id.clone().expect("id");
        let v1 = booked.version.expect("v1");
        assert_eq!(t.slot("14-2-0").status, SlotStatus::Busy);

        let read = ok(read_appointment(&ctx, id.as_str()));
        assert_eq!((read.version, &read.body), (Some(v1), &booked.body));

        let mut body = read.body.clone();
        body.description = Some("Amended description".into());
        let amended = ok(amend_appointment(&ctx, id.as_str(), Some(&etag(v1)), body));
        let v2 = amended.version.expect("v2");
        assert_ne!(v2, v1);
        assert_eq!(
            amended.body.description.as_deref(),
            Some("Amended description")
        );

        // The booking's own ETag is stale now.
        let mut stale = amended.body.clone();
        stale.status = Code::from_static("cancelled");
        stale.extension.push(Extension {
            url: extension::APPOINTMENT_CANCELLATION_REASON.into(),
            value: Some(ExtensionValue::String("Patient unwell".into())),
            ..Default::default()
        });
        assert_error(
            cancel_appointment(&ctx, id.as_str(), Some(&etag(v1)), stale.clone()),
            409,
            SpineCode::FhirConstraintViolation,
        );
        let cancelled = ok(cancel_appointment(
            &ctx,
            id.as_str(),
            Some(&etag(v2)),
            stale,
        ));
        let v3 = cancelled.version.expect("v3");
        assert!(v3 != v2 && v3 != v1);
        assert_eq!(cancelled.body.status, "cancelled");
        assert_eq!(
            cancelled.body.description.as_deref(),
            Some("Amended description")
        );
        assert_eq!(t.slot("14-2-0").status, SlotStatus::Free);
        assert_eq!(
            t.appointment(id.as_str()).status,
            AppointmentStatus::Cancelled
        );

        let listed = ok(retrieve(&t, "2", 0, 14));
        assert_eq!(appointments(&listed.body), [&cancelled.body]);

        // The freed slot is bookable again, by another patient.
        let mut again = t.book_body(&["14-2-0"]);
        again.participant[0].actor = Some(reference("Patient", "3"));
        let rebooked = ok(book_appointment(&ctx, again));
        assert_ne!(rebooked.body.id, Some(id));
        assert_eq!(
            rebooked.body.start,
            Instant::new(format_uk_local(t.slot("14-2-0").start)).ok()
        );
        assert_eq!(t.slot("14-2-0").status, SlotStatus::Busy);
    }
}
