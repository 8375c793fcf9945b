//! Access Record HTML 0.7.4: `POST [base]/Patient/$gpc.getcarerecord`
//! (accessrecord digest §1), as a transport-neutral operation.
//!
//! [`get_care_record`] takes the decoded `Parameters` body and answers with
//! the searchset Bundle of §1.5 or the §4 error. In order:
//!
//! 1. the body's parameters ([`request`]): names, `patientNHSNumber`,
//!    `recordSection`, `timePeriod`;
//! 2. the JWT's `requested_record` against the body's NHS number (§1.3);
//! 3. whose record may be shared at all ([`patient`], §1.6);
//! 4. the section's part of the patient's clinical record from the store
//!    ([`PracticeStore::clinical_record`](crate::store::PracticeStore::clinical_record)),
//!    rendered by [`gpconnect_render::render`] with "today" the UK date of
//!    the request, the period as inclusive whole days, the GP-transfer date
//!    and the practice's view settings;
//! 5. the Bundle ([`bundle`]).
//!
//! # Decisions where the digest is silent or conflicting
//!
//! - A missing or repeated `patientNHSNumber` / `recordSection`, and a
//!   repeated `timePeriod`, are 400 BAD_REQUEST (the suite's 400 over the
//!   spreadsheet's 422, §4 \[CONFLICT\]).
//! - `recordSection` with a wrong coding system is 400 BAD_REQUEST (§4 says
//!   "any" code); with several codings 400 BAD_REQUEST (one section per
//!   call, §1.1); with no coding at all 422 INVALID_PARAMETER, like an
//!   empty code.
//! - A `timePeriod` on SUM/ALL/IMM is refused (400 INVALID_PARAMETER,
//!   issue `business-rule`, as the demonstrator) before the period itself
//!   is validated; one that is not a `valuePeriod` is 422
//!   INVALID_PARAMETER.
//! - A JWT `requested_record` mismatch is 400 BAD_REQUEST (§4 allows it or
//!   INVALID_NHS_NUMBER; the body's number is valid, the token is wrong),
//!   checked after the body's number is known to be valid.
//! - A patient whose NHS number is not verified is 404 (the suite's
//!   "not on PDS" patient14, over the guidance table's 400
//!   INVALID_PATIENT_DEMOGRAPHICS). So is a temporary or other non-GMS
//!   registration: this practice is not their nominated primary care
//!   provider (§1.6), and the deceased rule applies to GMS registrations
//!   only.
//! - The deceased window counts the day of death as day 0 and includes its
//!   last day: with the default 28, a patient who died on 1 March is
//!   visible through 29 March. A deceased patient without a date of death
//!   has no window and is 404.
//! - The Practitioner entry is the patient's usual GP
//!   (`Patient.generalPractitioner` → a stored Practitioner). Without one
//!   there is no Practitioner entry and no `careProvider`, rather than an
//!   arbitrary practice clinician presented as the patient's GP.
//! - The Composition has no id and no `fullUrl`: it is made for this
//!   response and cannot be read back, and nothing references it.
//!
//! What the transport does before calling it: SSP headers (`Ssp-To`,
//! interaction id), content negotiation and decoding (an empty body is 400,
//! a body that is not a `Parameters` is 422 INVALID_RESOURCE), validating
//! the JWT (`checks::jwt` with `JwtProfile::AccessRecordHtml`,
//! `patient/*.read`), and the practice's `gp_connect_enabled` /
//! `access_record_enabled` switches.

pub mod bundle;
pub mod patient;
pub mod request;

use crate::checks::datetime::uk_today;
use crate::dstu2;
use crate::error::Error;
use crate::fhir::xhtml::Xhtml;
use crate::operation::{Answer, Context};
use crate::stu3::Reference;
use gpconnect_render::{DatePeriod, RenderRequest};

pub use bundle::{DEVICE_ID, DEVICE_MODEL, DEVICE_VERSION};
pub use patient::{shareable_patient, within_deceased_window};
pub use request::{CareRecordRequest, PARAMETER_NAMES, check_requested_record, parse_request};

/// `$gpc.getcarerecord` (see the module docs).
///
/// `requested_nhs_number` is the validated JWT's `requested_record` NHS
/// number ([`JwtClaims::requested_nhs_number`](crate::checks::jwt::JwtClaims::requested_nhs_number)),
/// which must equal the body's `patientNHSNumber` (400 BAD_REQUEST
/// otherwise); `None` when the caller has no token to compare (a trusted
/// in-process caller). The NHS number, not the whole
/// [`RequestedRecord`](crate::checks::jwt::RequestedRecord), is enough:
/// getcarerecord tokens are validated with scope `patient/*.read`, under
/// which `checks::jwt` admits only a Patient `requested_record`, so an
/// Organization there never reaches this function; and it is the shape the
/// engine's dispatch already passes.
///
/// # Errors
/// The rows of accessrecord §4 (see [`request`] and [`patient`]); 500
/// INTERNAL_SERVER_ERROR when the store fails, the practice's Organization
/// is missing, a stored id cannot be referenced, or the rendered section
/// cannot be a narrative (over [`crate::fhir::xhtml::MAX_NARRATIVE_BYTES`]).
pub fn get_care_record(
    ctx: &Context<'_>,
    body: &dstu2::Parameters,
    requested_nhs_number: Option<&str>,
) -> Result<Answer<dstu2::Bundle>, Error> {
    let request = parse_request(body)?;
    check_requested_record(requested_nhs_number, &request.nhs_number)?;
    let today = uk_today(ctx.now);
    let patient = shareable_patient(ctx, &request.nhs_number, today)?;

    let record = ctx
        .store
        .clinical_record(ctx.ods(), &patient.id, request.section)?;
    let settings = &ctx.practice.settings.access_record;
    let html = gpconnect_render::render(
        &record,
        &RenderRequest {
            section: request.section,
            period: request.period.map(|p| DatePeriod {
                start: p.start_date(),
                end: p.end_date(),
            }),
            today,
            transfer_since: patient.flags.record_in_transit,
            options: &settings.render,
        },
    );
    let html = Xhtml::new(html).map_err(|e| {
        Error::internal(format!(
            "the rendered {} section is not a FHIR narrative: {e}",
            request.section.code()
        ))
    })?;

    let organization = ctx
        .store
        .organization(ctx.ods(), &ctx.practice.organization_id)?
        .ok_or_else(|| {
            Error::internal(format!(
                "the practice's Organization/{} is not in the store",
                ctx.practice.organization_id
            ))
        })?;
    let practitioner = match usual_gp(&patient.resource.general_practitioner) {
        Some(id) => ctx.store.practitioner(ctx.ods(), id)?,
        None => None,
    };
    let bundle = bundle::care_record_bundle(bundle::Parts {
        now: ctx.now,
        section: request.section,
        html,
        patient: &patient,
        organization: &organization,
        practitioner: practitioner.as_ref(),
    })?;
    Ok(Answer::ok(bundle))
}

/// The id of the first `Practitioner/{id}` among a patient's
/// `generalPractitioner` references (the usual GP; an Organization there is
/// the practice, not a person).
fn usual_gp(references: &[Reference]) -> Option<&str> {
    references
        .iter()
        .filter_map(|r| r.reference.as_deref())
        .find_map(|r| r.strip_prefix("Practitioner/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Reference {
        Reference {
            reference: Some(s.to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn the_usual_gp_is_the_first_practitioner_reference() {
        assert_eq!(usual_gp(&[]), None);
        assert_eq!(usual_gp(&[r("Organization/23")]), None);
        assert_eq!(
            usual_gp(&[
                r("Organization/23"),
                r("Practitioner/2"),
                r("Practitioner/3")
            ]),
            Some("2")
        );
        assert_eq!(usual_gp(&[Reference::default()]), None);
    }
}
