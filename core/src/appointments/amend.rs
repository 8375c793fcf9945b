//! A4 Amend an appointment: `PUT /Appointment/{id}` with `If-Match` →
//! 200 with the amended Appointment and a new version (R34).
//!
//! Checks, in order:
//! 1. `If-Match` present (R30 \[REC\]: 400 BAD_REQUEST when missing).
//! 2. The body's `id` equals the URL's (R32 \[REC\]: 400 BAD_REQUEST).
//! 3. The appointment exists, and is not a PDS-sensitive patient's (R32,
//!    R25: 404 NO_RECORD_FOUND either way).
//! 4. It can still change: not cancelled (R29), not past (R28), not a Visit
//!    (R31); 422 INVALID_RESOURCE. These come before the version check
//!    because they are final: a consumer told "stale version" would re-read
//!    only to learn it can never amend.
//! 5. `If-Match` names the current version (R30: 409
//!    FHIR_CONSTRAINT_VIOLATION).
//! 6. The body, as a pure function ([`validate_amendment`]): R2 profile, R27
//!    no cancellation reason, R33 no absolute reference, R3 a description, R7
//!    lengths, then R26: compared with the appointment as the provider
//!    returns it, only `description` and `comment` may differ (422
//!    INVALID_RESOURCE). Provider-populated parts (R18) the consumer leaves
//!    out are not compared, and `serviceType`/`serviceCategory` are ignored
//!    (R19).
//! 7. The store applies the change if the version is still current.
//!
//! Any organisation may amend any future appointment, whoever booked it
//! (R35); `description` and `comment` are stored as text, untruncated (R7).

use super::change::{commit_change, load_for_change};
use super::rules::{
    Change, claims_appointment_profile, extensions_with, has_description, no_absolute_references,
    only_allowed_changes, within_length_limits,
};
use crate::error::Error;
use crate::fhir::codec::PrimitiveExt;
use crate::operation::{Answer, Context};
use crate::stu3;
use crate::stu3::profiles::extension;

/// Amend an appointment's description and comment (A4): see the module
/// docs.
///
/// # Errors
/// 400 BAD_REQUEST, 404 NO_RECORD_FOUND, 409 FHIR_CONSTRAINT_VIOLATION, 422
/// INVALID_RESOURCE, 500.
pub fn amend_appointment(
    ctx: &Context<'_>,
    id: &str,
    if_match: Option<&str>,
    body: stu3::Appointment,
) -> Result<Answer<stu3::Appointment>, Error> {
    let (record, current) = load_for_change(ctx, id, if_match, &body, Change::Amend)?;
    validate_amendment(&body, &current)?;

    let mut resource = record.resource.clone();
    resource.description = body.description.clone();
    resource.comment = body.comment.clone();
    for name in ["description", "comment"] {
        let ext = body
            .primitive_extensions
            .get(name, None)
            .cloned()
            .unwrap_or_else(PrimitiveExt::default);
        resource.primitive_extensions.set(name, None, ext);
    }
    commit_change(ctx, &record, resource, Change::Amend)
}

/// Check an amend body against `current`, the appointment as the provider
/// returns it (module docs, step 6).
///
/// # Errors
/// 422 INVALID_RESOURCE naming the rule.
pub fn validate_amendment(
    body: &stu3::Appointment,
    current: &stu3::Appointment,
) -> Result<(), Error> {
    claims_appointment_profile(body)?;
    if extensions_with(&body.extension, extension::APPOINTMENT_CANCELLATION_REASON)
        .next()
        .is_some()
    {
        return Err(Error::invalid_resource(
            "The appointment cancellation reason extension must not be sent when amending (R27)",
        ));
    }
    no_absolute_references(body)?;
    has_description(body)?;
    within_length_limits(body)?;
    only_allowed_changes(body, current, Change::Amend)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::fixtures::*;
    use crate::error::SpineCode;
    use crate::population::reference;
    use crate::stu3::{CodeableConcept, Extension, ExtensionValue, Id, Instant};

    fn amend(
        t: &Practice,
        id: &str,
        version: Option<u64>,
        body: stu3::Appointment,
    ) -> Result<Answer<stu3::Appointment>, Error> {
        let tag = version.map(etag);
        amend_appointment(&t.ctx(), id, tag.as_deref(), body)
    }

    fn invalid(t: &Practice, id: &str, version: u64, body: stu3::Appointment) -> Error {
        assert_error(
            amend(t, id, Some(version), body),
            422,
            SpineCode::InvalidResource,
        )
    }

    #[test]
    fn r34_amending_description_and_comment_gives_a_new_version() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let before = t.representation(&record.id);
        let mut body = before.clone();
        body.description = Some("customDescription".into());
        body.comment = Some("customComment".into());
        let answer = ok(amend(&t, &record.id, Some(record.version), body));
        assert_eq!(answer.status, 200);
        let version = answer.version.expect("version");
        assert_ne!(version, record.version);
        assert_eq!(
            answer
                .body
                .meta
                .as_ref()
                .and_then(|m| m.version_id.as_ref())
                .map(Id::as_str),
            Some(version.to_string().as_str())
        );
        assert_eq!(
            answer.body.description.as_deref(),
            Some("customDescription")
        );
        assert_eq!(answer.body.comment.as_deref(), Some("customComment"));
        assert_eq!(answer.body, t.representation(&record.id));
        // Everything else is as it was.
        let mut after = answer.body;
        after.meta = before.meta.clone();
        after.description = before.description.clone();
        after.comment = before.comment.clone();
        assert_eq!(after, before);
    }

    #[test]
    fn r26_the_spec_request_shape_is_accepted() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let body = amend_body(&record, "Free text description updated.");
        let answer = ok(amend(&t, &record.id, Some(record.version), body));
        assert_eq!(
            answer.body.description.as_deref(),
            Some("Free text description updated.")
        );
    }

    #[test]
    fn r26_an_unchanged_body_is_accepted() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let answer = ok(amend(
            &t,
            &record.id,
            Some(record.version),
            t.representation(&record.id),
        ));
        assert_ne!(answer.version, Some(record.version));
    }

    #[test]
    fn r26_other_changes_are_422() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let cases: Vec<(&str, Edit)> = vec![
            ("priority", |a| a.priority = Some(1)),
            ("minutesDuration", |a| a.minutes_duration = Some(20)),
            ("status", |a| {
                a.status = stu3::Code::from_static("cancelled")
            }),
            ("participant", |a| {
                a.participant.push(stu3::AppointmentParticipant {
                    actor: Some(reference("Patient", "3")),
                    status: stu3::Code::from_static("accepted"),
                    ..Default::default()
                })
            }),
            ("participant", |a| {
                a.participant[2].actor = Some(reference("Practitioner", "3"))
            }),
            ("start", |a| {
                a.start = Instant::new("2026-11-27T09:05:00+00:00").ok()
            }),
            ("slot", |a| a.slot[0] = reference("Slot", "14-2-2")),
            ("identifier", |a| {
                a.identifier.push(stu3::Identifier {
                    system: Some("https://fhir.nhs.uk/Id/gpconnect-appointment-identifier".into()),
                    value: Some("898976578".into()),
                    ..Default::default()
                })
            }),
            ("contained", |a| a.contained.clear()),
            ("extension", |a| {
                a.extension.push(Extension {
                    url: "https://example.org/x".into(),
                    value: Some(ExtensionValue::String("x".into())),
                    ..Default::default()
                })
            }),
            ("extension", |a| {
                for e in &mut a.extension {
                    if e.url == extension::DELIVERY_CHANNEL {
                        e.value = Some(ExtensionValue::Code(stu3::Code::from_static("Video")));
                    }
                }
            }),
        ];
        for (element, change) in cases {
            let mut body = t.representation(&record.id);
            change(&mut body);
            let e = invalid(&t, &record.id, record.version, body);
            assert!(
                e.diagnostics().contains("R26") && e.diagnostics().contains(element),
                "{element}: {e}"
            );
        }
        assert_eq!(t.appointment(&record.id).version, record.version);
    }

    #[test]
    fn r19_service_type_and_category_are_ignored_on_amend() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let mut body = t.representation(&record.id);
        body.service_type = vec![CodeableConcept {
            text: Some("RANDOM TYPE TEXT".into()),
            ..Default::default()
        }];
        body.service_category = None;
        let answer = ok(amend(&t, &record.id, Some(record.version), body));
        assert_eq!(
            answer.body.service_type[0].text.as_deref(),
            Some("General GP Appointment")
        );
    }

    #[test]
    fn r27_cancellation_reason_on_amend_is_422() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let mut body = t.representation(&record.id);
        body.extension.push(Extension {
            url: extension::APPOINTMENT_CANCELLATION_REASON.into(),
            value: Some(ExtensionValue::String("no".into())),
            ..Default::default()
        });
        let e = invalid(&t, &record.id, record.version, body);
        assert!(e.diagnostics().contains("R27"), "{e}");
    }

    #[test]
    fn r33_absolute_references_are_422() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let mut body = t.representation(&record.id);
        body.participant[1].actor = Some(stu3::Reference {
            reference: Some("https://example.org/STU3/1/gpconnect/Location/17".into()),
            ..Default::default()
        });
        let e = invalid(&t, &record.id, record.version, body);
        assert!(e.diagnostics().contains("R33"), "{e}");
    }

    #[test]
    fn r2_profile_is_required_on_amend() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let mut body = t.representation(&record.id);
        body.meta = None;
        let e = invalid(&t, &record.id, record.version, body);
        assert!(e.diagnostics().contains("R2"), "{e}");
    }

    #[test]
    fn r7_amended_texts_respect_the_limits() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let mut body = t.representation(&record.id);
        body.description = Some("d".repeat(101));
        assert!(
            invalid(&t, &record.id, record.version, body)
                .diagnostics()
                .contains("R7")
        );
        let mut body = t.representation(&record.id);
        body.comment = Some("c".repeat(501));
        assert!(
            invalid(&t, &record.id, record.version, body)
                .diagnostics()
                .contains("R7")
        );
        let mut body = t.representation(&record.id);
        body.description = None;
        assert!(
            invalid(&t, &record.id, record.version, body)
                .diagnostics()
                .contains("R3")
        );
    }

    #[test]
    fn r30_missing_if_match_is_400() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        assert_error(
            amend(&t, &record.id, None, t.representation(&record.id)),
            400,
            SpineCode::BadRequest,
        );
    }

    #[test]
    fn r30_stale_or_malformed_if_match_is_409() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        assert_error(
            amend(
                &t,
                &record.id,
                Some(record.version + 1),
                t.representation(&record.id),
            ),
            409,
            SpineCode::FhirConstraintViolation,
        );
        assert_error(
            amend_appointment(
                &t.ctx(),
                &record.id,
                Some("invalidEtag"),
                t.representation(&record.id),
            ),
            409,
            SpineCode::FhirConstraintViolation,
        );
    }

    #[test]
    fn r32_body_id_must_equal_the_url_id() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let other = t.book(&["14-2-2"]);
        assert_error(
            amend(
                &t,
                &record.id,
                Some(record.version),
                t.representation(&other.id),
            ),
            400,
            SpineCode::BadRequest,
        );
        // "A new Appointment" (no id): the test suite's 400.
        let mut body = t.representation(&record.id);
        body.id = None;
        assert_error(
            amend(&t, &record.id, Some(record.version), body),
            400,
            SpineCode::BadRequest,
        );
    }

    #[test]
    fn r32_unknown_id_is_404() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let mut body = t.representation(&record.id);
        body.id = Id::new("999").ok();
        assert_error(
            amend(&t, "999", Some(1), body),
            404,
            SpineCode::NoRecordFound,
        );
    }

    #[test]
    fn r29_cancelled_appointment_is_422() {
        let t = Practice::new(now());
        let record = t.book(&["14-2-0"]);
        let cancelled = ok(super::super::cancel::cancel_appointment(
            &t.ctx(),
            &record.id,
            Some(&etag(record.version)),
            cancel_body(&record, "double booked"),
        ));
        let mut body = cancelled.body;
        body.extension
            .retain(|e| e.url != extension::APPOINTMENT_CANCELLATION_REASON);
        let e = invalid(&t, &record.id, cancelled.version.expect("version"), body);
        assert!(e.diagnostics().contains("R29"), "{e}");
    }

    #[test]
    fn r28_past_appointment_is_422() {
        let t = Practice::new(now());
        let record = t.book(&["14-1-0"]);
        let e = assert_error(
            amend_appointment(
                &t.ctx_at(record.start),
                &record.id,
                Some(&etag(record.version)),
                t.representation(&record.id),
            ),
            422,
            SpineCode::InvalidResource,
        );
        assert!(e.diagnostics().contains("R28"), "{e}");
    }

    #[test]
    fn r31_visit_appointment_is_422() {
        let t = Practice::new(now());
        let record = t.import_visit("v1", "14-1-2", Some("Home visit"));
        let e = invalid(&t, "v1", record.version, t.representation("v1"));
        assert!(e.diagnostics().contains("R31"), "{e}");
    }

    #[test]
    fn r35_appointments_booked_by_the_practice_can_be_amended() {
        let t = Practice::new(now());
        let mut record = t.book(&["14-2-0"]);
        record.id = "host-1".into();
        record.booking_ods = None;
        record.resource.extension.clear();
        record.resource.contained.clear();
        t.import_appointment(record);
        let record = t.appointment("host-1");
        let mut body = t.representation("host-1");
        body.description = Some("Bring your glasses".into());
        ok(amend(&t, "host-1", Some(record.version), body));
    }
}
