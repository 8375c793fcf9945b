//! A5 Cancel an appointment: `PUT /Appointment/{id}` with `If-Match`, the
//! status `cancelled` and a cancellation reason → 200 with the cancelled
//! Appointment, a new version, and its slots freed (R42).
//!
//! Checks, in order (as amend, [`amend`](super::amend)):
//! 1. `If-Match` present (R37/R30 \[REC\]: 400 BAD_REQUEST).
//! 2. The body's `id` equals the URL's (R32: 400 BAD_REQUEST).
//! 3. The appointment exists, and is not a PDS-sensitive patient's (R32,
//!    R25: 404 NO_RECORD_FOUND either way).
//! 4. It can still change: not already cancelled (R41 \[REC\]: 422
//!    INVALID_RESOURCE, as R29), not past (R39), not a Visit (R40).
//! 5. `If-Match` names the current version (R37: 409
//!    FHIR_CONSTRAINT_VIOLATION).
//! 6. The body, as a pure function ([`validate_cancellation`]): R2 profile;
//!    `status` is `cancelled` (R36); no extension with an unknown URL (R38:
//!    a misspelt reason URL is 422 INVALID_RESOURCE); exactly one
//!    cancellation reason with a non-blank `valueString` (R38: missing or
//!    empty → 422 INVALID_PARAMETER); no absolute reference (R33); then R36:
//!    compared with the appointment as the provider returns it, nothing
//!    else may differ, `description` and `comment` included (422
//!    INVALID_RESOURCE).
//! 7. The store cancels atomically if the version is still current: status
//!    cancelled, slots free again and bookable (R42 \[REC\]), slot-count
//!    limits released.
//!
//! The reason is stored as sent (no truncation) and echoed back; the
//! booking organisation and other extensions are kept (R42). A cancelled
//! appointment stays visible to read and retrieve (R43, R54).

use super::change::{commit_change, load_for_change};
use super::rules::{
    Change, claims_appointment_profile, extensions_with, no_absolute_references,
    only_allowed_changes,
};
use crate::error::{Echo, Error};
use crate::operation::{Answer, Context};
use crate::stu3::profiles::extension;
use crate::stu3::{self, Extension, ExtensionValue};

/// Cancel an appointment (A5): see the module docs.
///
/// # Errors
/// 400 BAD_REQUEST, 404 NO_RECORD_FOUND, 409 FHIR_CONSTRAINT_VIOLATION, 422
/// INVALID_RESOURCE / INVALID_PARAMETER, 500.
pub fn cancel_appointment(
    ctx: &Context<'_>,
    id: &str,
    if_match: Option<&str>,
    body: stu3::Appointment,
) -> Result<Answer<stu3::Appointment>, Error> {
    let (record, current) = load_for_change(ctx, id, if_match, &body, Change::Cancel)?;
    let reason = validate_cancellation(&body, &current)?;

    let mut resource = record.resource.clone();
    resource.status = stu3::Code::from_static("cancelled");
    resource
        .extension
        .retain(|e| e.url != extension::APPOINTMENT_CANCELLATION_REASON);
    resource.extension.push(reason);
    commit_change(ctx, &record, resource, Change::Cancel)
}

/// Check a cancel body against `current`, the appointment as the provider
/// returns it (module docs, step 6); the cancellation reason extension to
/// store.
///
/// # Errors
/// 422 INVALID_RESOURCE, or 422 INVALID_PARAMETER for a missing or empty
/// reason (R38).
pub fn validate_cancellation(
    body: &stu3::Appointment,
    current: &stu3::Appointment,
) -> Result<Extension, Error> {
    claims_appointment_profile(body)?;
    if body.status != "cancelled" {
        return Err(Error::invalid_resource(format!(
            "Appointment.status must be 'cancelled' to cancel, not {} (R36)",
            Echo(body.status.as_str())
        )));
    }
    let known = |url: &str| {
        [
            extension::BOOKING_ORGANISATION,
            extension::PRACTITIONER_ROLE,
            extension::DELIVERY_CHANNEL,
            extension::APPOINTMENT_CANCELLATION_REASON,
        ]
        .contains(&url)
            || current.extension.iter().any(|e| e.url == url)
    };
    if let Some(unknown) = body.extension.iter().find(|e| !known(&e.url)) {
        return Err(Error::invalid_resource(format!(
            "Extension {} is not known here; the cancellation reason goes in {} (R38)",
            Echo(&unknown.url),
            extension::APPOINTMENT_CANCELLATION_REASON
        )));
    }
    let reason = cancellation_reason(body)?;
    no_absolute_references(body)?;
    only_allowed_changes(body, current, Change::Cancel)?;
    Ok(reason)
}

/// R38: exactly one cancellation reason extension, a non-blank
/// `valueString`.
fn cancellation_reason(body: &stu3::Appointment) -> Result<Extension, Error> {
    let mut found = extensions_with(&body.extension, extension::APPOINTMENT_CANCELLATION_REASON);
    let Some(reason) = found.next() else {
        return Err(Error::invalid_parameter(format!(
            "A cancellation reason is required in the {} extension (R38)",
            extension::APPOINTMENT_CANCELLATION_REASON
        )));
    };
    if found.next().is_some() {
        return Err(Error::invalid_resource(
            "Only one cancellation reason extension may be sent (R38)",
        ));
    }
    if !reason.extension.is_empty() {
        return Err(Error::invalid_resource(
            "The cancellation reason extension carries a valueString, not nested extensions (R38)",
        ));
    }
    match &reason.value {
        Some(ExtensionValue::String(s)) if !s.trim().is_empty() => Ok(reason.clone()),
        Some(ExtensionValue::String(_)) | None => Err(Error::invalid_parameter(
            "The cancellation reason is empty (R38)",
        )),
        Some(_) => Err(Error::invalid_resource(
            "The cancellation reason must be a valueString (R38)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::fixtures::*;
    use crate::appointments::read::read_appointment;
    use crate::error::SpineCode;
    use crate::population::reference;
    use crate::store::{AppointmentStatus, SlotStatus};
    use crate::stu3::{CodeableConcept, Id};

    fn cancel(
        t: &Practice,
        id: &str,
        version: Option<u64>,
        body: stu3::Appointment,
    ) -> Result<Answer<stu3::Appointment>, Error> {
        let tag = version.map(etag);
        cancel_appointment(&t.ctx(), id, tag.as_deref(), body)
    }

    /// What the test suite sends: the created appointment, status
    /// cancelled, with a reason.
    fn cancelled_representation(t: &Practice, id: &str, reason: &str) -> stu3::Appointment {
        let mut a = t.representation(id);
        a.status = stu3::Code::from_static("cancelled");
        a.extension.push(Extension {
            url: extension::APPOINTMENT_CANCELLATION_REASON.into(),
            value: Some(ExtensionValue::String(reason.into())),
            ..Default::default()
        });
        a
    }

    fn reason_of(a: &stu3::Appointment) -> Option<&ExtensionValue> {
        extensions_with(&a.extension, extension::APPOINTMENT_CANCELLATION_REASON)
            .next()
            .and_then(|e| e.value.as_ref())
    }

    #[test]
    fn r42_cancel_frees_the_slot_and_echoes_the_reason() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let created = t.representation(&record.id);
        let answer = ok(cancel(
            &t,
            &record.id,
            Some(record.version),
            cancelled_representation(&t, &record.id, "double booked"),
        ));
        assert_eq!(answer.status, 200);
        let a = &answer.body;
        assert_eq!(a.status, "cancelled");
        assert_ne!(answer.version, Some(record.version));
        assert_eq!(
            a.meta
                .as_ref()
                .and_then(|m| m.version_id.as_ref())
                .map(Id::as_str),
            answer.version.map(|v| v.to_string()).as_deref()
        );
        assert_eq!(
            reason_of(a),
            Some(&ExtensionValue::String("double booked".into()))
        );
        // Everything else as created, extensions included (the test suite's
        // "Extensions should equal the Created Appointment Extensions").
        let mut rest = a.clone();
        rest.extension
            .retain(|e| e.url != extension::APPOINTMENT_CANCELLATION_REASON);
        assert_eq!(rest.extension, created.extension);
        assert_eq!(
            (
                &rest.participant,
                &rest.slot,
                &rest.start,
                &rest.end,
                &rest.created
            ),
            (
                &created.participant,
                &created.slot,
                &created.start,
                &created.end,
                &created.created
            )
        );
        let slot = t.slot("14-2-0");
        assert_eq!((slot.status, slot.appointment_id), (SlotStatus::Free, None));
        assert_eq!(
            t.appointment(&record.id).status,
            AppointmentStatus::Cancelled
        );
        // R43: still readable.
        assert_eq!(ok(read_appointment(&t.ctx(), &record.id)).body, answer.body);
    }

    #[test]
    fn r36_the_spec_request_shape_is_accepted() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let answer = ok(cancel(
            &t,
            &record.id,
            Some(record.version),
            cancel_body(&record, "Free text cancellation reason."),
        ));
        assert_eq!(
            reason_of(&answer.body),
            Some(&ExtensionValue::String(
                "Free text cancellation reason.".into()
            ))
        );
    }

    #[test]
    fn r37_cancel_with_stale_version_is_409() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let body = cancelled_representation(&t, &record.id, "double booked");
        assert_error(
            cancel(&t, &record.id, Some(record.version + 1), body.clone()),
            409,
            SpineCode::FhirConstraintViolation,
        );
        assert_error(
            cancel_appointment(&t.ctx(), &record.id, Some("invalidEtag"), body.clone()),
            409,
            SpineCode::FhirConstraintViolation,
        );
        assert_error(
            cancel(&t, &record.id, None, body),
            400,
            SpineCode::BadRequest,
        );
        assert_eq!(t.slot("14-2-0").status, SlotStatus::Busy);
    }

    #[test]
    fn r38_missing_or_empty_reason_is_invalid_parameter() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        for reason in ["", "   "] {
            let body = cancelled_representation(&t, &record.id, reason);
            let e = assert_error(
                cancel(&t, &record.id, Some(record.version), body),
                422,
                SpineCode::InvalidParameter,
            );
            assert!(e.diagnostics().contains("R38"), "{e}");
        }
        let mut body = t.representation(&record.id);
        body.status = stu3::Code::from_static("cancelled");
        assert_error(
            cancel(&t, &record.id, Some(record.version), body),
            422,
            SpineCode::InvalidParameter,
        );
    }

    #[test]
    fn r38_wrong_extension_url_is_invalid_resource() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        for url in [
            "",
            "http://fhir.nhs.uk/StructuraeDefinition/extension-gpconnect-appointment-cancellation-reason-1-010",
        ] {
            let mut body = cancelled_representation(&t, &record.id, "Too busy");
            for e in &mut body.extension {
                if e.url == extension::APPOINTMENT_CANCELLATION_REASON {
                    e.url = url.into();
                }
            }
            let e = assert_error(
                cancel(&t, &record.id, Some(record.version), body),
                422,
                SpineCode::InvalidResource,
            );
            assert!(e.diagnostics().contains("R38"), "{e}");
        }
    }

    #[test]
    fn r38_reason_must_be_a_single_value_string() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let mut body = cancelled_representation(&t, &record.id, "a");
        let again = body.extension.last().cloned().expect("reason");
        body.extension.push(again);
        assert_error(
            cancel(&t, &record.id, Some(record.version), body),
            422,
            SpineCode::InvalidResource,
        );
        let mut body = cancelled_representation(&t, &record.id, "a");
        if let Some(e) = body.extension.last_mut() {
            e.value = Some(ExtensionValue::Code(stu3::Code::from_static("busy")));
        }
        assert_error(
            cancel(&t, &record.id, Some(record.version), body),
            422,
            SpineCode::InvalidResource,
        );
    }

    #[test]
    fn r36_other_changes_on_cancel_are_422() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let cases: Vec<(&str, Edit)> = vec![
            ("comment", |a| a.comment = Some("RANDOM COMMENT".into())),
            ("description", |a| {
                a.description = Some("RANDOM DESCRIPTION".into())
            }),
            ("participant", |a| {
                for (kind, id) in [("Location", "2"), ("Patient", "2"), ("Practitioner", "2")] {
                    a.participant.push(stu3::AppointmentParticipant {
                        actor: Some(reference(kind, id)),
                        status: stu3::Code::from_static("accepted"),
                        ..Default::default()
                    });
                }
            }),
            ("serviceType", |a| {
                a.service_type = vec![CodeableConcept {
                    text: Some("RANDOM TYPE TEXT".into()),
                    ..Default::default()
                }]
            }),
            ("priority", |a| a.priority = Some(3)),
        ];
        for (element, change) in cases {
            let mut body = cancelled_representation(&t, &record.id, "double booked");
            change(&mut body);
            let e = assert_error(
                cancel(&t, &record.id, Some(record.version), body),
                422,
                SpineCode::InvalidResource,
            );
            assert!(
                e.diagnostics().contains("R36") && e.diagnostics().contains(element),
                "{element}: {e}"
            );
        }
        assert_eq!(t.slot("14-2-0").status, SlotStatus::Busy);
    }

    #[test]
    fn r36_status_must_be_cancelled() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let mut body = cancelled_representation(&t, &record.id, "double booked");
        body.status = stu3::Code::from_static("booked");
        let e = assert_error(
            cancel(&t, &record.id, Some(record.version), body),
            422,
            SpineCode::InvalidResource,
        );
        assert!(e.diagnostics().contains("R36"), "{e}");
    }

    #[test]
    fn r41_cancelling_a_cancelled_appointment_is_422() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let first = ok(cancel(
            &t,
            &record.id,
            Some(record.version),
            cancelled_representation(&t, &record.id, "double booked"),
        ));
        let e = assert_error(
            cancel(&t, &record.id, first.version, first.body),
            422,
            SpineCode::InvalidResource,
        );
        assert!(e.diagnostics().contains("R41"), "{e}");
    }

    #[test]
    fn r39_past_appointment_is_422() {
        let t = Practice::new(now());
        let record = t.book(&["14-1-0"]);
        let body = cancelled_representation(&t, &record.id, "late");
        let e = assert_error(
            cancel_appointment(
                &t.ctx_at(record.start + jiff::SignedDuration::from_mins(5)),
                &record.id,
                Some(&etag(record.version)),
                body,
            ),
            422,
            SpineCode::InvalidResource,
        );
        assert!(e.diagnostics().contains("R39"), "{e}");
    }

    #[test]
    fn r40_visit_appointment_is_422() {
        let t = Practice::new(now());
        let record = t.import_visit("v1", "14-1-2", Some("Home visit"));
        let e = assert_error(
            cancel(
                &t,
                "v1",
                Some(record.version),
                cancelled_representation(&t, "v1", "not needed"),
            ),
            422,
            SpineCode::InvalidResource,
        );
        assert!(e.diagnostics().contains("R40"), "{e}");
        assert_eq!(t.slot("14-1-2").status, SlotStatus::Busy);
    }

    #[test]
    fn r25_appointments_of_sensitive_patients_cannot_be_cancelled() {
        let t = Practice::new(now());
        let mut record = t.book(&["14-2-0"]);
        record.id = "hidden".into();
        record.patient_id = "4".into();
        t.import_appointment(record);
        let record = t.appointment("hidden");
        let mut body = cancel_body(&record, "x");
        body.id = Id::new("hidden").ok();
        assert_error(
            cancel(&t, "hidden", Some(record.version), body),
            404,
            SpineCode::NoRecordFound,
        );
    }

    #[test]
    fn unknown_appointment_is_404_and_id_mismatch_400() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let mut body = cancelled_representation(&t, &record.id, "x");
        assert_error(
            cancel(&t, "404", Some(1), body.clone()),
            400,
            SpineCode::BadRequest,
        );
        body.id = Id::new("404").ok();
        assert_error(
            cancel(&t, "404", Some(1), body),
            404,
            SpineCode::NoRecordFound,
        );
    }
}
