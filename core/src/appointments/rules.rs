//! Rules shared by book (A2), amend (A4) and cancel (A5), as pure functions
//! of the request and what is stored: reference syntax (R10, R33, R87), the
//! profile claim (R2), text lengths (R7), "future" (R1, R28, R39, R44), the
//! preconditions of a change (R29–R32, R37, R39–R41) and the comparison of
//! a sent Appointment with the stored one (R26, R36).
//!
//! Nothing here touches the store; the operations load what the rules need
//! and hand it in.

use jiff::Timestamp;
use serde_json::Value;

use crate::checks::datetime::{FhirDateTime, format_uk_local};
use crate::checks::headers::parse_if_match;
use crate::error::{Echo, Error, SpineCode};
use crate::fhir::codec::PrimitiveExt;
use crate::fhir::primitive::is_valid_id;
use crate::fhir::to_json;
use crate::store::{AppointmentRecord, AppointmentStatus, StoreError};
use crate::stu3::profiles::{extension, profile};
use crate::stu3::{self, DateTime, Extension, Instant, Reference};

/// Longest `description` a consumer may send (R7).
pub const MAX_DESCRIPTION_CHARS: usize = 100;
/// Longest `comment` a consumer may send (R7).
pub const MAX_COMMENT_CHARS: usize = 500;

/// A reference GP Connect allows: local relative (R87) or to a contained
/// resource (the booking organisation, R3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalReference<'a> {
    /// `Type/id`.
    Resource {
        /// The resource type, e.g. `Slot`.
        kind: &'a str,
        /// The logical id (R80).
        id: &'a str,
    },
    /// `#id`: a contained resource.
    Contained(&'a str),
}

/// Why a reference is not a [`LocalReference`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceProblem {
    /// An absolute URL or URN (R10, R33, R87: not resolved, rejected).
    Absolute,
    /// Not `Type/id` with a FHIR id, nor `#id` (e.g. `Slot/45555555##`).
    Malformed,
}

impl ReferenceProblem {
    /// Diagnostics for a rejected reference.
    pub fn describe(self, reference: &str) -> String {
        match self {
            ReferenceProblem::Absolute => format!(
                "reference {} is absolute; only local relative references (Type/id) are allowed",
                Echo(reference)
            ),
            ReferenceProblem::Malformed => format!(
                "reference {} is not a local reference of the form Type/id with a valid logical id",
                Echo(reference)
            ),
        }
    }
}

/// Parse a reference string (R10, R87). `Type/id` needs a type of ASCII
/// letters and digits starting with a capital, and an id of
/// `[A-Za-z0-9\-\.]{1,64}` (R80); anything with a scheme, a leading `/` or
/// more path segments is absolute or malformed.
pub fn parse_reference(value: &str) -> Result<LocalReference<'_>, ReferenceProblem> {
    if let Some(id) = value.strip_prefix('#') {
        return if is_valid_id(id) {
            Ok(LocalReference::Contained(id))
        } else {
            Err(ReferenceProblem::Malformed)
        };
    }
    if value.contains("://") || value.starts_with('/') || value.starts_with("urn:") {
        return Err(ReferenceProblem::Absolute);
    }
    let Some((kind, id)) = value.split_once('/') else {
        return Err(ReferenceProblem::Malformed);
    };
    let kind_ok = kind.starts_with(|c: char| c.is_ascii_uppercase())
        && kind.bytes().all(|b| b.is_ascii_alphanumeric());
    if kind_ok && is_valid_id(id) {
        Ok(LocalReference::Resource { kind, id })
    } else if kind.contains(':') {
        Err(ReferenceProblem::Absolute)
    } else {
        Err(ReferenceProblem::Malformed)
    }
}

/// The id of a `kind/id` reference; `what` names the element in
/// diagnostics. A missing, absolute, malformed or other-typed reference is
/// 422 INVALID_RESOURCE (R3, R10).
pub fn local_id<'a>(
    reference: Option<&'a Reference>,
    kind: &str,
    what: &str,
) -> Result<&'a str, Error> {
    let Some(value) = reference.and_then(|r| r.reference.as_deref()) else {
        return Err(Error::invalid_resource(format!(
            "{what} has no reference (R3)"
        )));
    };
    match parse_reference(value) {
        Ok(LocalReference::Resource { kind: k, id }) if k == kind => Ok(id),
        Ok(_) => Err(Error::invalid_resource(format!(
            "{what}: reference {} must be to a {kind} (R10)",
            Echo(value)
        ))),
        Err(p) => Err(Error::invalid_resource(format!(
            "{what}: {} (R10)",
            p.describe(value)
        ))),
    }
}

/// R33/R87: no reference anywhere in the Appointment (slots, participant
/// actors, extension values) may be absolute.
pub fn no_absolute_references(body: &stu3::Appointment) -> Result<(), Error> {
    let mut refs: Vec<&str> = Vec::new();
    refs.extend(body.slot.iter().filter_map(|r| r.reference.as_deref()));
    refs.extend(
        body.participant
            .iter()
            .filter_map(|p| p.actor.as_ref().and_then(|a| a.reference.as_deref())),
    );
    refs.extend(body.extension.iter().filter_map(|e| match &e.value {
        Some(stu3::ExtensionValue::Reference(r)) => r.reference.as_deref(),
        _ => None,
    }));
    match refs
        .into_iter()
        .find(|r| parse_reference(r) == Err(ReferenceProblem::Absolute))
    {
        Some(r) => Err(Error::invalid_resource(format!(
            "{} (R33)",
            ReferenceProblem::Absolute.describe(r)
        ))),
        None => Ok(()),
    }
}

/// R2: `meta.profile` must claim GPConnect-Appointment-1.
pub fn claims_appointment_profile(body: &stu3::Appointment) -> Result<(), Error> {
    let claimed = body
        .meta
        .as_ref()
        .is_some_and(|m| m.profile.iter().any(|p| p == profile::APPOINTMENT));
    if claimed {
        Ok(())
    } else {
        Err(Error::invalid_resource(format!(
            "Appointment.meta.profile must contain {} (R2)",
            profile::APPOINTMENT
        )))
    }
}

/// R7: `description` at most 100 and `comment` at most 500 characters.
/// The provider stores both without truncation, so longer input is
/// refused (422 INVALID_RESOURCE, R7 \[REC\]).
pub fn within_length_limits(body: &stu3::Appointment) -> Result<(), Error> {
    for (name, value, max) in [
        (
            "description",
            body.description.as_deref(),
            MAX_DESCRIPTION_CHARS,
        ),
        ("comment", body.comment.as_deref(), MAX_COMMENT_CHARS),
    ] {
        let len = value.map_or(0, |v| v.chars().count());
        if len > max {
            return Err(Error::invalid_resource(format!(
                "Appointment.{name} is {len} characters long; at most {max} are allowed (R7)"
            )));
        }
    }
    Ok(())
}

/// `description` is 1..1 in GPConnect-Appointment-1 (R3): present and not blank.
pub fn has_description(body: &stu3::Appointment) -> Result<(), Error> {
    if body
        .description
        .as_deref()
        .is_some_and(|d| !d.trim().is_empty())
    {
        Ok(())
    } else {
        Err(Error::invalid_resource(
            "Appointment.description is mandatory (R3)",
        ))
    }
}

/// Whether an appointment starting at `start` is no longer in the future at
/// `now`: R1 (book), R28 (amend), R39 (cancel) and R44 (read) all require a
/// start *after* now.
pub fn is_past(start: Timestamp, now: Timestamp) -> bool {
    start <= now
}

/// The instant an `instant` denotes.
pub fn instant_timestamp(value: &Instant) -> Option<Timestamp> {
    match FhirDateTime::parse(value.as_str()) {
        Ok(FhirDateTime::DateTime { timestamp, .. }) => Some(timestamp),
        _ => None,
    }
}

/// `ts` as an `instant` in UK local time with offset (R18).
pub fn uk_instant(ts: Timestamp) -> Result<Instant, Error> {
    Instant::new(format_uk_local(ts)).map_err(Error::internal)
}

/// A `dateTime` rewritten in UK local time with offset when it is a full
/// date-time (R18 `created`); partial dates are kept as they are.
pub fn uk_date_time(value: &DateTime) -> DateTime {
    match FhirDateTime::parse(value.as_str()) {
        Ok(FhirDateTime::DateTime { timestamp, .. }) => {
            DateTime::new(format_uk_local(timestamp)).unwrap_or_else(|_| value.clone())
        }
        _ => value.clone(),
    }
}

/// The extensions of `body` with this URL.
pub fn extensions_with<'a>(
    extensions: &'a [Extension],
    url: &'a str,
) -> impl Iterator<Item = &'a Extension> + 'a {
    extensions.iter().filter(move |e| e.url == url)
}

/// Whether a participant's actor is a `kind` (by its reference).
pub fn actor_is(participant: &stu3::AppointmentParticipant, kind: &str) -> bool {
    participant
        .actor
        .as_ref()
        .and_then(|a| a.reference.as_deref())
        .and_then(|r| parse_reference(r).ok())
        .is_some_and(|r| matches!(r, LocalReference::Resource { kind: k, .. } if k == kind))
}

// ---------------------------------------------------------------------------
// Preconditions of amend and cancel.
// ---------------------------------------------------------------------------

/// Which change a PUT makes (§1.1: amend and cancel share the verb and path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A4: description and comment only (R26).
    Amend,
    /// A5: status and cancellation reason only (R36).
    Cancel,
}

impl Change {
    fn verb(self) -> &'static str {
        match self {
            Change::Amend => "amended",
            Change::Cancel => "cancelled",
        }
    }
}

/// R30/R37 \[REC\]: `If-Match` is required; a missing one is 400 BAD_REQUEST.
pub fn require_if_match(if_match: Option<&str>) -> Result<&str, Error> {
    if_match.ok_or_else(|| {
        Error::bad_request(
            "If-Match is required on amend and cancel: send W/\"{versionId}\" of the appointment (R30)",
        )
    })
}

/// R30/R37: `If-Match` must name the current version, else 409
/// FHIR_CONSTRAINT_VIOLATION. A value that is not `W/"{versionId}"` can
/// match no version, so it is a mismatch too (the test suite sends
/// `invalidEtag` and expects 409).
pub fn if_match_current(if_match: &str, current: u64) -> Result<(), Error> {
    let conflict = |why: String| Error::new(SpineCode::FhirConstraintViolation, why);
    match parse_if_match(if_match) {
        Ok(v) if v == current.to_string() => Ok(()),
        Ok(v) => Err(conflict(format!(
            "If-Match names version {}, but the appointment is at version {current} (R30)",
            Echo(&v)
        ))),
        Err(_) => Err(conflict(format!(
            "If-Match {} is not W/\"{{versionId}}\" and cannot match the current version {current} (R30)",
            Echo(if_match)
        ))),
    }
}

/// R32: the body's `id` must equal the URL's (standard FHIR update), else
/// 400 BAD_REQUEST.
pub fn body_id_matches(body: &stu3::Appointment, url_id: &str) -> Result<(), Error> {
    match body.id.as_ref().map(|i| i.as_str()) {
        Some(id) if id == url_id => Ok(()),
        Some(id) => Err(Error::bad_request(format!(
            "Appointment.id {} does not match the id {} in the URL (R32)",
            Echo(id),
            Echo(url_id)
        ))),
        None => Err(Error::bad_request(format!(
            "Appointment.id is missing; it must equal the id {} in the URL (R32)",
            Echo(url_id)
        ))),
    }
}

/// 404 NO_RECORD_FOUND for an appointment id (R32, R45).
pub fn no_such_appointment(id: &str) -> Error {
    Error::new(
        SpineCode::NoRecordFound,
        format!("No appointment with id {} exists", Echo(id)),
    )
}

/// The state rules of a change, in the order a consumer can act on: a
/// cancelled appointment (R29, R41), a past one (R28, R39), a Visit (R31,
/// R40). All 422 INVALID_RESOURCE (the \[REC\]s of R28, R39, R41).
pub fn changeable(
    record: &AppointmentRecord,
    visit: bool,
    now: Timestamp,
    change: Change,
) -> Result<(), Error> {
    let id = &record.id;
    if record.status == AppointmentStatus::Cancelled {
        let rule = match change {
            Change::Amend => "R29",
            Change::Cancel => "R41",
        };
        return Err(Error::invalid_resource(format!(
            "Appointment/{id} is cancelled and cannot be {} ({rule})",
            change.verb()
        )));
    }
    if is_past(record.start, now) {
        let rule = match change {
            Change::Amend => "R28",
            Change::Cancel => "R39",
        };
        return Err(Error::invalid_resource(format!(
            "Appointment/{id} started at {}; only future appointments can be {} ({rule})",
            format_uk_local(record.start),
            change.verb()
        )));
    }
    if visit {
        let rule = match change {
            Change::Amend => "R31",
            Change::Cancel => "R40",
        };
        return Err(Error::invalid_resource(format!(
            "Appointment/{id} is a Visit and cannot be {} through GP Connect ({rule})",
            change.verb()
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// R26 / R36: what a change may alter.
// ---------------------------------------------------------------------------

/// Provider-populated parts of the response (R18, R19, R49) the consumer
/// did not send back: those are left out of the comparison on both sides,
/// so a body in the spec's request shape (without them) and the response
/// representation (with them) are both accepted, while a body that sends
/// them with other values is not.
#[derive(Debug, Clone, Copy, Default)]
struct Omitted {
    practitioner_role: bool,
    delivery_channel: bool,
    service_type: bool,
    service_category: bool,
    practitioner: bool,
}

impl Omitted {
    fn of(sent: &stu3::Appointment) -> Omitted {
        Omitted {
            practitioner_role: extensions_with(&sent.extension, extension::PRACTITIONER_ROLE)
                .next()
                .is_none(),
            delivery_channel: extensions_with(&sent.extension, extension::DELIVERY_CHANNEL)
                .next()
                .is_none(),
            service_type: sent.service_type.is_empty(),
            service_category: sent.service_category.is_none(),
            practitioner: !sent.participant.iter().any(|p| actor_is(p, "Practitioner")),
        }
    }
}

/// One side of the comparison, as JSON: identity and metadata left out
/// (`id` is R32's, `meta` R2's and the version If-Match's), times in UK
/// local form so equal instants compare equal, repeating elements whose
/// order carries no meaning sorted, and what `change` may alter removed.
fn comparable(a: &stu3::Appointment, omitted: Omitted, change: Change) -> Result<Value, Error> {
    let mut x = a.clone();
    x.id = None;
    x.meta = None;
    x.start = x.start.take().map(|s| {
        instant_timestamp(&s)
            .and_then(|t| uk_instant(t).ok())
            .unwrap_or(s)
    });
    x.end = x.end.take().map(|s| {
        instant_timestamp(&s)
            .and_then(|t| uk_instant(t).ok())
            .unwrap_or(s)
    });
    x.created = x.created.as_ref().map(uk_date_time);
    x.extension
        .retain(|e| e.url != extension::APPOINTMENT_CANCELLATION_REASON);
    if omitted.practitioner_role {
        x.extension
            .retain(|e| e.url != extension::PRACTITIONER_ROLE);
    }
    if omitted.delivery_channel {
        x.extension.retain(|e| e.url != extension::DELIVERY_CHANNEL);
    }
    if omitted.practitioner {
        x.participant.retain(|p| !actor_is(p, "Practitioner"));
    }
    match change {
        Change::Amend => {
            // R19: serviceType and serviceCategory sent on amend are ignored.
            x.service_type.clear();
            x.service_category = None;
            x.description = None;
            x.comment = None;
            x.primitive_extensions
                .set("description", None, PrimitiveExt::default());
            x.primitive_extensions
                .set("comment", None, PrimitiveExt::default());
        }
        Change::Cancel => {
            if omitted.service_type {
                x.service_type.clear();
            }
            if omitted.service_category {
                x.service_category = None;
            }
            x.status = stu3::Code::from_static("cancelled");
        }
    }
    x.extension.sort_by_cached_key(to_json);
    x.participant.sort_by_cached_key(to_json);
    serde_json::from_slice(&to_json(&x))
        .map_err(|e| Error::internal(format!("The appointment could not be compared: {e}")))
}

/// R26 (amend: only `description` and `comment` may differ) and R36
/// (cancel: only `status` and the cancellation reason may differ): compare
/// the canonical JSON of `sent` with `current`, the appointment as the
/// provider returns it (R26 \[REC\]). Any other difference → 422
/// INVALID_RESOURCE naming the elements that differ (500 if either side
/// cannot be serialised, which the codec rules out).
pub fn only_allowed_changes(
    sent: &stu3::Appointment,
    current: &stu3::Appointment,
    change: Change,
) -> Result<(), Error> {
    let omitted = Omitted::of(sent);
    let a = comparable(sent, omitted, change)?;
    let b = comparable(current, omitted, change)?;
    if a == b {
        return Ok(());
    }
    let differing: Vec<String> = match (&a, &b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| x.get(*k) != y.get(*k))
                .cloned()
                .collect()
        }
        _ => Vec::new(),
    };
    let (allowed, rule) = match change {
        Change::Amend => ("description and comment", "R26"),
        Change::Cancel => ("status and the cancellation reason", "R36"),
    };
    Err(Error::invalid_resource(format!(
        "Only {allowed} can change when an appointment is {}; these elements differ from the stored appointment: {} ({rule})",
        change.verb(),
        if differing.is_empty() {
            "(unknown)".to_owned()
        } else {
            differing.join(", ")
        }
    )))
}

// ---------------------------------------------------------------------------
// Store failures.
// ---------------------------------------------------------------------------

/// A store failure on a read, or anything a command cannot explain: 500
/// INTERNAL_SERVER_ERROR (the practice was resolved before the operation,
/// so even `UnknownPractice` is the server's fault here).
pub fn store_failure(e: StoreError) -> Error {
    Error::internal(format!("The appointment book could not be read: {e}"))
}

/// A failed amend or cancel command (R30, R32, R37, R41): a version race is
/// 409 FHIR_CONSTRAINT_VIOLATION, a vanished appointment 404, a state the
/// store refuses (cancelled meanwhile) 422; the rest 500.
pub fn change_store_error(e: StoreError, change: Change) -> Error {
    match e {
        StoreError::VersionConflict {
            id,
            expected,
            actual,
            ..
        } => Error::new(
            SpineCode::FhirConstraintViolation,
            format!(
                "Appointment/{id} changed meanwhile: it is at version {actual}, not {expected} (R30)"
            ),
        ),
        StoreError::NotFound { id, .. } => no_such_appointment(&id),
        StoreError::Rejected(why) => Error::invalid_resource(format!(
            "The appointment cannot be {}: {why}",
            change.verb()
        )),
        other => store_failure(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r10_references_are_local_relative_with_valid_ids() {
        assert_eq!(
            parse_reference("Slot/14-2-0"),
            Ok(LocalReference::Resource {
                kind: "Slot",
                id: "14-2-0"
            })
        );
        assert_eq!(parse_reference("#1"), Ok(LocalReference::Contained("1")));
        assert_eq!(
            parse_reference("Slot/45555g55555"),
            Ok(LocalReference::Resource {
                kind: "Slot",
                id: "45555g55555"
            })
        );
        for malformed in [
            "Slot/45555555##",
            "Slot/",
            "Slot",
            "slot/1",
            "Slot/1/_history/2",
            "#",
        ] {
            assert_eq!(
                parse_reference(malformed),
                Err(ReferenceProblem::Malformed),
                "{malformed}"
            );
        }
        for absolute in [
            "https://test1.supplier.thirdparty.nhs.uk/A11111/STU3/1/GPConnect/Slot/#12345",
            "http://x/Slot/1",
            "/Slot/1",
            "urn:uuid:1234",
        ] {
            assert_eq!(
                parse_reference(absolute),
                Err(ReferenceProblem::Absolute),
                "{absolute}"
            );
        }
    }

    #[test]
    fn r7_limits_count_characters_not_bytes() {
        let a = stu3::Appointment {
            description: Some("é".repeat(MAX_DESCRIPTION_CHARS)),
            comment: Some("ü".repeat(MAX_COMMENT_CHARS)),
            ..Default::default()
        };
        assert!(within_length_limits(&a).is_ok());
    }

    #[test]
    fn r30_if_match_is_weak_or_strong_and_compared_as_text() {
        assert!(if_match_current("W/\"7\"", 7).is_ok());
        assert!(if_match_current("\"7\"", 7).is_ok());
        let e = if_match_current("W/\"6\"", 7).expect_err("stale");
        assert_eq!(
            (e.status(), e.code()),
            (409, SpineCode::FhirConstraintViolation)
        );
        let e = if_match_current("invalidEtag", 7).expect_err("malformed");
        assert_eq!(
            (e.status(), e.code()),
            (409, SpineCode::FhirConstraintViolation)
        );
        let e = require_if_match(None).expect_err("missing");
        assert_eq!((e.status(), e.code()), (400, SpineCode::BadRequest));
    }

    #[test]
    fn r30_r41_store_refusals_of_a_change_keep_their_meaning() {
        let conflict = StoreError::VersionConflict {
            kind: "Appointment",
            id: "1".into(),
            expected: 3,
            actual: 4,
        };
        let cases = [
            (conflict, 409, SpineCode::FhirConstraintViolation),
            (
                StoreError::NotFound {
                    kind: "Appointment",
                    id: "1".into(),
                },
                404,
                SpineCode::NoRecordFound,
            ),
            (
                StoreError::Rejected("already cancelled".into()),
                422,
                SpineCode::InvalidResource,
            ),
            (
                StoreError::Backend("disk".into()),
                500,
                SpineCode::InternalServerError,
            ),
            (
                StoreError::UnknownPractice("A00001".into()),
                500,
                SpineCode::InternalServerError,
            ),
        ];
        for (e, status, code) in cases {
            let mapped = change_store_error(e, Change::Cancel);
            assert_eq!((mapped.status(), mapped.code()), (status, code), "{mapped}");
        }
    }

    #[test]
    fn r1_now_itself_is_not_the_future() {
        let now: Timestamp = "2026-11-25T10:00:00Z".parse().expect("ts");
        assert!(is_past(now, now));
        assert!(!is_past(now + jiff::SignedDuration::from_secs(1), now));
    }
}
