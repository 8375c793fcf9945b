//! Step 10–11 of [`Engine::handle`](super::Engine::handle): decode the body
//! an interaction takes, run its operation, and turn the
//! [`Answer`] into status, headers and body. Also where the audit record
//! learns which patient a call concerned.

use std::borrow::Cow;

use super::base::ServiceRoot;
use super::conformance::conformance;
use super::http::{
    CACHE_CONTROL, CONTENT_TYPE, ETAG, HttpRequest, LAST_MODIFIED, LOCATION, NO_STORE, etag,
    http_date,
};
use super::query::restore_offset_plus;
use super::{AuditRecord, Engine, Reply, fhir_format, header};
use crate::appointments::amend::amend_appointment;
use crate::appointments::book::book_appointment;
use crate::appointments::cancel::cancel_appointment;
use crate::appointments::read::read_appointment;
use crate::appointments::retrieve::retrieve_patient_appointments;
use crate::appointments::search::{param, parse_slot_search, search_free_slots};
use crate::checks::format::{FhirFormat, check_request_content_type, response_content_type};
use crate::checks::headers::{Interaction, PreferReturn, list_header, parse_prefer, single_header};
use crate::checks::jwt::JwtClaims;
use crate::dstu2;
use crate::error::Error;
use crate::fhir::{self, CodecError, FhirResource, Limits};
use crate::foundations::{
    capability_statement, find_organization, find_patient, find_practitioner, read_location,
    read_organization, read_patient, read_practitioner, register_patient,
};
use crate::operation::{Answer, Context};
use crate::stu3;
use crate::stu3::profiles::{identifier_system, profile};

/// Everything the dispatch of one checked request needs.
#[derive(Debug)]
pub(super) struct Call<'c> {
    /// Store, practice, now, edition.
    pub ctx: &'c Context<'c>,
    /// The interaction the request was resolved to.
    pub interaction: Interaction,
    /// The logical id in the path, if the route has one.
    pub id: Option<&'c str>,
    /// The decoded query pairs.
    pub query: &'c [(&'c str, &'c str)],
    /// The request (headers, body).
    pub req: &'c HttpRequest<'c>,
    /// The negotiated response format.
    pub format: FhirFormat,
    /// The service root the request addressed.
    pub root: &'c ServiceRoot<'c>,
    /// The validated token.
    pub claims: &'c JwtClaims,
}

impl Call<'_> {
    /// The path id of an instance-level interaction. Routing guarantees one;
    /// its absence would be an engine bug, answered with 500.
    fn id(&self) -> Result<&str, Error> {
        self.id.ok_or_else(|| {
            Error::internal(format!(
                "{} was routed without a logical id",
                self.interaction.interaction_id()
            ))
        })
    }

    /// `Prefer: return=minimal` was asked for.
    fn wants_minimal(&self) -> bool {
        parse_prefer(list_header(self.req.headers, "Prefer").as_deref()) == PreferReturn::Minimal
    }
}

impl Engine {
    /// Runs the interaction's operation and builds the reply.
    pub(super) fn dispatch(
        &self,
        call: &Call<'_>,
        audit: &mut AuditRecord,
    ) -> Result<Reply, Error> {
        use Interaction as I;
        let ctx = call.ctx;
        match call.interaction {
            I::GetCapabilityStatement => {
                let answer = capability_statement(ctx, &self.config.software)?;
                Ok(self.reply(call, answer, false, audit))
            }
            I::FindPatient => {
                audit.nhs_number = nhs_number_searched(call.query);
                let answer = find_patient(ctx, call.query, &*self.pds)?;
                if let Some(patient) = first_patient(&answer.body) {
                    audit.patient_id = patient.id.as_ref().map(|i| i.as_str().to_owned());
                }
                Ok(self.reply(call, answer, false, audit))
            }
            I::ReadPatient => {
                let id = call.id()?;
                audit.patient_id = Some(id.to_owned());
                let answer = read_patient(ctx, id)?;
                audit.nhs_number = patient_nhs_number(&answer.body);
                Ok(self.reply(call, answer, false, audit))
            }
            I::RegisterPatient => {
                let body: stu3::Parameters = self.body(call)?;
                audit.nhs_number = registered_nhs_number(&body);
                let answer = register_patient(ctx, body, &*self.pds)?;
                if let Some(patient) = first_patient(&answer.body) {
                    let id = patient.id.as_ref().map(|i| i.as_str().to_owned());
                    audit.patient_id.clone_from(&id);
                    audit.resource_id = id;
                }
                Ok(self.reply(call, answer, false, audit))
            }
            I::FindPractitioner => {
                let answer = find_practitioner(ctx, call.query)?;
                Ok(self.reply(call, answer, false, audit))
            }
            I::ReadPractitioner => {
                let answer = read_practitioner(ctx, call.id()?)?;
                Ok(self.reply(call, answer, false, audit))
            }
            I::FindOrganization => {
                let answer = find_organization(ctx, call.query)?;
                Ok(self.reply(call, answer, false, audit))
            }
            I::ReadOrganization => {
                let answer = read_organization(ctx, call.id()?)?;
                Ok(self.reply(call, answer, false, audit))
            }
            I::ReadLocation => {
                let answer = read_location(ctx, call.id()?)?;
                Ok(self.reply(call, answer, false, audit))
            }
            I::SearchFreeSlots => {
                let restored: Vec<(&str, Cow<'_, str>)> = call
                    .query
                    .iter()
                    .map(|&(k, v)| match k {
                        param::START | param::END => (k, restore_offset_plus(v)),
                        _ => (k, Cow::Borrowed(v)),
                    })
                    .collect();
                let query: Vec<(&str, &str)> = restored.iter().map(|(k, v)| (*k, &**v)).collect();
                let search = parse_slot_search(&query)?;
                let answer = search_free_slots(ctx, &search)?;
                Ok(self.reply(call, answer, false, audit))
            }
            I::BookAppointment => {
                let body: stu3::Appointment = self.body(call)?;
                audit.patient_id = appointment_patient(&body);
                let answer = book_appointment(ctx, body)?;
                audit.resource_id = answer.body.id.as_ref().map(|i| i.as_str().to_owned());
                Ok(self.reply(call, answer, call.wants_minimal(), audit))
            }
            I::ReadAppointment => {
                let answer = read_appointment(ctx, call.id()?)?;
                audit.patient_id = appointment_patient(&answer.body);
                Ok(self.reply(call, answer, false, audit))
            }
            I::AmendAppointment | I::CancelAppointment => {
                let id = call.id()?;
                let if_match = single_header(call.req.headers, "If-Match")?;
                let body: stu3::Appointment = self.body(call)?;
                audit.patient_id = appointment_patient(&body);
                let answer = if call.interaction == I::AmendAppointment {
                    amend_appointment(ctx, id, if_match, body)?
                } else {
                    cancel_appointment(ctx, id, if_match, body)?
                };
                audit.patient_id = appointment_patient(&answer.body).or(audit.patient_id.take());
                Ok(self.reply(call, answer, call.wants_minimal(), audit))
            }
            I::RetrievePatientAppointments => {
                let id = call.id()?;
                audit.patient_id = Some(id.to_owned());
                let starts: Vec<Cow<'_, str>> = call
                    .query
                    .iter()
                    .filter(|(k, _)| *k == param::START)
                    .map(|(_, v)| restore_offset_plus(v))
                    .collect();
                let starts: Vec<&str> = starts.iter().map(|s| &**s).collect();
                let answer = retrieve_patient_appointments(ctx, id, &starts)?;
                Ok(self.reply(call, answer, false, audit))
            }
            I::GetConformance => {
                let statement =
                    conformance(&self.config.software, &self.config.access_record_version)?;
                Ok(self.reply(call, Answer::ok(statement), false, audit))
            }
            I::GetCareRecord => {
                // A value the codec refuses inside a parameter (a timePeriod
                // without an offset, `abcd`) is an invalid parameter, not an
                // invalid resource (accessrecord §4: 422 INVALID_PARAMETER).
                let body: dstu2::Parameters = self.body_with(call, |e| match &e {
                    CodecError::Invalid { path, .. }
                        if path.starts_with("Parameters.parameter") =>
                    {
                        Error::invalid_parameter(e.to_string())
                    }
                    _ => Error::from(e),
                })?;
                let requested_nhs_number = call.claims.requested_nhs_number();
                if audit.nhs_number.is_none() {
                    audit.nhs_number = care_record_nhs_number(&body);
                }
                let answer =
                    crate::accessrecord::get_care_record(ctx, &body, requested_nhs_number)?;
                audit.patient_id = answer
                    .body
                    .entry
                    .iter()
                    .filter_map(|e| e.full_url.as_deref()?.strip_prefix("Patient/"))
                    .next()
                    .map(str::to_owned);
                Ok(self.reply(call, answer, false, audit))
            }
        }
    }

    /// Decodes the request body as a `T`: size (413), `Content-Type`
    /// (415), well-formedness (400), validity (422).
    fn body<T: FhirResource>(&self, call: &Call<'_>) -> Result<T, Error> {
        self.body_with(call, Error::from)
    }

    /// [`Self::body`] with the operation's own reading of a codec error.
    fn body_with<T: FhirResource>(
        &self,
        call: &Call<'_>,
        codec_error: impl FnOnce(CodecError) -> Error,
    ) -> Result<T, Error> {
        let body = call.req.body;
        let max = self.config.max_body_bytes;
        if body.len() > max {
            return Err(Error::bad_request(format!(
                "the request body of {} bytes exceeds the {max} byte limit",
                body.len()
            ))
            .with_status(413));
        }
        let content_type = single_header(call.req.headers, "Content-Type")?;
        let format = check_request_content_type(content_type, call.root.version)?;
        fhir::decode(body, fhir_format(format), Limits { max_bytes: max }).map_err(codec_error)
    }

    /// A successful [`Answer`] as status, headers and (unless `minimal`)
    /// the body in the negotiated format.
    fn reply<T: FhirResource>(
        &self,
        call: &Call<'_>,
        answer: Answer<T>,
        minimal: bool,
        audit: &mut AuditRecord,
    ) -> Reply {
        let mut headers = Vec::with_capacity(5);
        let body = if minimal {
            Vec::new()
        } else {
            headers.push(header(
                CONTENT_TYPE,
                response_content_type(call.format, call.root.version),
            ));
            fhir::encode(&answer.body, fhir_format(call.format))
        };
        headers.push(header(CACHE_CONTROL, NO_STORE));
        if let Some(version) = answer.version {
            headers.push(header(ETAG, &etag(version)));
        }
        if let Some(date) = answer.last_modified.and_then(http_date) {
            headers.push(header(LAST_MODIFIED, &date));
        }
        if let Some(location) = &answer.location {
            let base = self.config.public_base_url.as_deref().unwrap_or("");
            headers.push(header(
                LOCATION,
                &format!("{base}{}/{location}", call.root.root),
            ));
        }
        audit.status = answer.status;
        Reply {
            status: answer.status,
            headers,
            body,
        }
    }
}

/// The NHS number of an F2 `identifier=https://fhir.nhs.uk/Id/nhs-number|…`.
fn nhs_number_searched(query: &[(&str, &str)]) -> Option<String> {
    query
        .iter()
        .filter(|(k, _)| *k == "identifier")
        .find_map(|(_, v)| {
            v.strip_prefix(identifier_system::NHS_NUMBER)?
                .strip_prefix('|')
        })
        .filter(|v| !v.is_empty())
        .map(super::audit::bounded)
}

/// The first Patient of a searchset (F2, F4).
fn first_patient(bundle: &stu3::Bundle) -> Option<&stu3::Patient> {
    bundle.entry.iter().find_map(|e| match &e.resource {
        Some(stu3::Resource::Patient(p)) => Some(&**p),
        _ => None,
    })
}

/// A Patient's NHS number.
fn patient_nhs_number(patient: &stu3::Patient) -> Option<String> {
    patient
        .identifier
        .iter()
        .find(|i| i.system.as_deref() == Some(identifier_system::NHS_NUMBER))
        .and_then(|i| i.value.as_deref())
        .map(super::audit::bounded)
}

/// The NHS number of the Patient an F4 body registers.
fn registered_nhs_number(body: &stu3::Parameters) -> Option<String> {
    body.parameter
        .iter()
        .filter(|p| p.name == profile::REGISTER_PATIENT_PARAMETER)
        .find_map(|p| match &p.resource {
            Some(stu3::Resource::Patient(patient)) => patient_nhs_number(patient),
            _ => None,
        })
}

/// The patient id an appointment's Patient participant references.
fn appointment_patient(appointment: &stu3::Appointment) -> Option<String> {
    appointment
        .participant
        .iter()
        .filter_map(|p| p.actor.as_ref()?.reference.as_deref())
        .find_map(|r| r.strip_prefix("Patient/"))
        .map(super::audit::bounded)
}

/// The `patientNHSNumber` of a getcarerecord body.
fn care_record_nhs_number(body: &dstu2::Parameters) -> Option<String> {
    body.named(dstu2::profiles::PARAM_PATIENT_NHS_NUMBER)
        .find_map(|p| match &p.value {
            Some(dstu2::ParametersParameterValue::Identifier(i)) => i.value.as_deref(),
            _ => None,
        })
        .map(super::audit::bounded)
}
