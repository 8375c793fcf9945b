//! Routing, `Ssp-InteractionID` resolution and the SSP headers every GP
//! Connect request carries (appointments digest §1.1, §2.1, R80, R82;
//! accessrecord digest §1.1, §1.2).
//!
//! The typical order is [`route`] → [`check_ssp_headers`] →
//! [`resolve_interaction`]; a caller serving a single FHIR version should then
//! also compare [`Interaction::fhir_version`] with its service root.
//!
//! Decisions on points the spec leaves open:
//! - **Unknown path → 400 BAD_REQUEST** (not 404): the spreadsheet gives
//!   BAD_REQUEST for unknown and wrongly-cased URLs (accessrecord §4) and the
//!   digest allows 404 or 400 (§2.1 \[REC\]); 400 also keeps "no such endpoint"
//!   apart from "no such record". Trailing `/`, extra segments, `_history`
//!   and unknown `$operations` are unknown paths.
//! - **Known path, wrong verb → 400 BAD_REQUEST** (§2.1 \[REC\]), HEAD included.
//! - **Id outside R80's `[A-Za-z0-9\-\.]{1,64}` → 404** with the resource's
//!   not-found code (§6.2): such an id can name no record, and the suite's
//!   "Read appointment invalid appointment id" expects 404 for an empty id.
//! - The path is matched byte for byte: no case folding, no percent-decoding
//!   (`%24` is not `$`). A `?query` or `#fragment` suffix is ignored.
//! - Header values are trimmed; blank counts as missing. A singleton header
//!   (the SSP headers, `Authorization`) sent twice is 400: two `Ssp-To`
//!   values must not let one of them slip past the ASID check.
//! - `If-Match` also takes a strong `"{versionId}"`; `*` and lists are 400.
//! - `Prefer` never fails: unknown or malformed preferences are ignored
//!   (RFC 7240 §2), leaving the default `return=representation`.

use std::borrow::Cow;
use std::fmt;

use super::format::{FhirVersion, split_unquoted, unquote};
use super::jwt::Scope;
use crate::error::{Echo, Error, SpineCode};

/// `Ssp-TraceID` header name.
pub const SSP_TRACE_ID: &str = "Ssp-TraceID";
/// `Ssp-From` header name.
pub const SSP_FROM: &str = "Ssp-From";
/// `Ssp-To` header name.
pub const SSP_TO: &str = "Ssp-To";
/// `Ssp-InteractionID` header name.
pub const SSP_INTERACTION_ID: &str = "Ssp-InteractionID";
/// `Authorization` header name.
pub const AUTHORIZATION: &str = "Authorization";

/// An HTTP request method. Method tokens are case-sensitive (RFC 9110 §9.1),
/// so `get` is [`Method::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Connect,
    Options,
    Trace,
    Patch,
    /// Any other token; never routed.
    Other,
}

impl Method {
    /// Parses a request-line method token.
    pub fn from_token(token: &str) -> Method {
        match token {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "CONNECT" => Method::Connect,
            "OPTIONS" => Method::Options,
            "TRACE" => Method::Trace,
            "PATCH" => Method::Patch,
            _ => Method::Other,
        }
    }

    /// The method token (`"(other)"` for [`Method::Other`], for diagnostics).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Other => "(other)",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One GP Connect interaction: appointments digest §1.1 (F1–F9, A1–A6) plus
/// the Access Record HTML (DSTU2) operation and metadata read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interaction {
    /// F1 `GET /metadata` (STU3 CapabilityStatement).
    GetCapabilityStatement,
    /// F2 `GET /Patient?identifier=…`.
    FindPatient,
    /// F3 `GET /Patient/{id}`.
    ReadPatient,
    /// F4 `POST /Patient/$gpc.registerpatient`.
    RegisterPatient,
    /// F5 `GET /Practitioner?identifier=…`.
    FindPractitioner,
    /// F6 `GET /Practitioner/{id}`.
    ReadPractitioner,
    /// F7 `GET /Organization?identifier=…`.
    FindOrganization,
    /// F8 `GET /Organization/{id}`.
    ReadOrganization,
    /// F9 `GET /Location/{id}`.
    ReadLocation,
    /// A1 `GET /Slot?…`.
    SearchFreeSlots,
    /// A2 `POST /Appointment`.
    BookAppointment,
    /// A3 `GET /Appointment/{id}`.
    ReadAppointment,
    /// A4 `PUT /Appointment/{id}`, told from A5 only by `Ssp-InteractionID`.
    AmendAppointment,
    /// A5 `PUT /Appointment/{id}`, told from A4 only by `Ssp-InteractionID`.
    CancelAppointment,
    /// A6 `GET /Patient/{id}/Appointment?start=…`.
    RetrievePatientAppointments,
    /// Access Record HTML `POST /Patient/$gpc.getcarerecord` (DSTU2).
    GetCareRecord,
    /// Access Record HTML `GET /metadata` (DSTU2 Conformance).
    GetConformance,
}

impl Interaction {
    /// Every interaction, for tables and tests.
    pub const ALL: [Interaction; 17] = [
        Interaction::GetCapabilityStatement,
        Interaction::FindPatient,
        Interaction::ReadPatient,
        Interaction::RegisterPatient,
        Interaction::FindPractitioner,
        Interaction::ReadPractitioner,
        Interaction::FindOrganization,
        Interaction::ReadOrganization,
        Interaction::ReadLocation,
        Interaction::SearchFreeSlots,
        Interaction::BookAppointment,
        Interaction::ReadAppointment,
        Interaction::AmendAppointment,
        Interaction::CancelAppointment,
        Interaction::RetrievePatientAppointments,
        Interaction::GetCareRecord,
        Interaction::GetConformance,
    ];

    /// The `Ssp-InteractionID` URN (digest §1.1; accessrecord §1.1).
    pub fn interaction_id(self) -> &'static str {
        match self {
            Interaction::GetCapabilityStatement => {
                "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1"
            }
            Interaction::FindPatient => {
                "urn:nhs:names:services:gpconnect:fhir:rest:search:patient-1"
            }
            Interaction::ReadPatient => "urn:nhs:names:services:gpconnect:fhir:rest:read:patient-1",
            Interaction::RegisterPatient => {
                "urn:nhs:names:services:gpconnect:fhir:operation:gpc.registerpatient-1"
            }
            Interaction::FindPractitioner => {
                "urn:nhs:names:services:gpconnect:fhir:rest:search:practitioner-1"
            }
            Interaction::ReadPractitioner => {
                "urn:nhs:names:services:gpconnect:fhir:rest:read:practitioner-1"
            }
            Interaction::FindOrganization => {
                "urn:nhs:names:services:gpconnect:fhir:rest:search:organization-1"
            }
            Interaction::ReadOrganization => {
                "urn:nhs:names:services:gpconnect:fhir:rest:read:organization-1"
            }
            Interaction::ReadLocation => {
                "urn:nhs:names:services:gpconnect:fhir:rest:read:location-1"
            }
            Interaction::SearchFreeSlots => {
                "urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1"
            }
            Interaction::BookAppointment => {
                "urn:nhs:names:services:gpconnect:fhir:rest:create:appointment-1"
            }
            Interaction::ReadAppointment => {
                "urn:nhs:names:services:gpconnect:fhir:rest:read:appointment-1"
            }
            Interaction::AmendAppointment => {
                "urn:nhs:names:services:gpconnect:fhir:rest:update:appointment-1"
            }
            Interaction::CancelAppointment => {
                "urn:nhs:names:services:gpconnect:fhir:rest:cancel:appointment-1"
            }
            Interaction::RetrievePatientAppointments => {
                "urn:nhs:names:services:gpconnect:fhir:rest:search:patient_appointments-1"
            }
            Interaction::GetCareRecord => {
                "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getcarerecord"
            }
            Interaction::GetConformance => {
                "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata"
            }
        }
    }

    /// The interaction named by an exact `Ssp-InteractionID` URN (no case
    /// folding: the suite treats a wrongly-spelt id as a mismatch).
    pub fn from_interaction_id(id: &str) -> Option<Interaction> {
        Interaction::ALL
            .into_iter()
            .find(|i| i.interaction_id() == id)
    }

    /// The JWT `requested_scope` the interaction needs (digest §1.1 table,
    /// §3.3 \[REC\] "enforce read vs write"; accessrecord §1.3).
    pub fn required_scope(self) -> Scope {
        match self {
            Interaction::GetCapabilityStatement
            | Interaction::FindPractitioner
            | Interaction::ReadPractitioner
            | Interaction::FindOrganization
            | Interaction::ReadOrganization
            | Interaction::ReadLocation
            | Interaction::SearchFreeSlots
            | Interaction::GetConformance => Scope::OrganizationRead,
            Interaction::FindPatient
            | Interaction::ReadPatient
            | Interaction::ReadAppointment
            | Interaction::RetrievePatientAppointments
            | Interaction::GetCareRecord => Scope::PatientRead,
            Interaction::RegisterPatient
            | Interaction::BookAppointment
            | Interaction::AmendAppointment
            | Interaction::CancelAppointment => Scope::PatientWrite,
        }
    }

    /// The FHIR version the interaction is defined in; it fixes MIME types
    /// and the error spelling (STU3: appointments; DSTU2: Access Record HTML).
    pub fn fhir_version(self) -> FhirVersion {
        match self {
            Interaction::GetCareRecord | Interaction::GetConformance => FhirVersion::Dstu2,
            _ => FhirVersion::Stu3,
        }
    }

    /// The HTTP method the interaction uses.
    pub fn method(self) -> Method {
        match self {
            Interaction::RegisterPatient
            | Interaction::BookAppointment
            | Interaction::GetCareRecord => Method::Post,
            Interaction::AmendAppointment | Interaction::CancelAppointment => Method::Put,
            _ => Method::Get,
        }
    }

    /// The path template, relative to the service root, for diagnostics.
    pub fn path_template(self) -> &'static str {
        match self {
            Interaction::GetCapabilityStatement | Interaction::GetConformance => "/metadata",
            Interaction::FindPatient => "/Patient",
            Interaction::ReadPatient => "/Patient/{id}",
            Interaction::RegisterPatient => "/Patient/$gpc.registerpatient",
            Interaction::FindPractitioner => "/Practitioner",
            Interaction::ReadPractitioner => "/Practitioner/{id}",
            Interaction::FindOrganization => "/Organization",
            Interaction::ReadOrganization => "/Organization/{id}",
            Interaction::ReadLocation => "/Location/{id}",
            Interaction::SearchFreeSlots => "/Slot",
            Interaction::BookAppointment => "/Appointment",
            Interaction::ReadAppointment
            | Interaction::AmendAppointment
            | Interaction::CancelAppointment => "/Appointment/{id}",
            Interaction::RetrievePatientAppointments => "/Patient/{id}/Appointment",
            Interaction::GetCareRecord => "/Patient/$gpc.getcarerecord",
        }
    }
}

/// A request resolved to an endpoint: the interactions its method and path
/// allow, and the logical id captured from the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<'a> {
    method: Method,
    template: &'static str,
    candidates: &'static [Interaction],
    id: Option<&'a str>,
}

impl<'a> Route<'a> {
    /// The interactions method + path allow; more than one only for
    /// `GET /metadata` (STU3 vs DSTU2) and `PUT /Appointment/{id}` (A4 vs A5).
    pub fn candidates(&self) -> &'static [Interaction] {
        self.candidates
    }

    /// The logical id from the path, already R80-valid: the Patient for
    /// F3/A6, Practitioner F6, Organization F8, Location F9, Appointment A3–A5.
    pub fn id(&self) -> Option<&'a str> {
        self.id
    }

    /// The request method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The matched path template, e.g. `/Patient/{id}/Appointment`.
    pub fn path_template(&self) -> &'static str {
        self.template
    }
}

/// A path shape and the verbs it accepts.
struct Endpoint {
    template: &'static str,
    verbs: &'static [(Method, &'static [Interaction])],
    /// Code for an id that cannot exist (digest §6.2; R32, R45, R57).
    not_found: SpineCode,
}

use Interaction as I;

const METADATA: Endpoint = Endpoint {
    template: "/metadata",
    verbs: &[(Method::Get, &[I::GetCapabilityStatement, I::GetConformance])],
    not_found: SpineCode::NoRecordFound,
};
const PATIENT_TYPE: Endpoint = Endpoint {
    template: "/Patient",
    verbs: &[(Method::Get, &[I::FindPatient])],
    not_found: SpineCode::PatientNotFound,
};
const PATIENT: Endpoint = Endpoint {
    template: "/Patient/{id}",
    verbs: &[(Method::Get, &[I::ReadPatient])],
    not_found: SpineCode::PatientNotFound,
};
const REGISTER_PATIENT: Endpoint = Endpoint {
    template: "/Patient/$gpc.registerpatient",
    verbs: &[(Method::Post, &[I::RegisterPatient])],
    not_found: SpineCode::PatientNotFound,
};
const GET_CARE_RECORD: Endpoint = Endpoint {
    template: "/Patient/$gpc.getcarerecord",
    verbs: &[(Method::Post, &[I::GetCareRecord])],
    not_found: SpineCode::PatientNotFound,
};
const PATIENT_APPOINTMENTS: Endpoint = Endpoint {
    template: "/Patient/{id}/Appointment",
    verbs: &[(Method::Get, &[I::RetrievePatientAppointments])],
    not_found: SpineCode::PatientNotFound,
};
const PRACTITIONER_TYPE: Endpoint = Endpoint {
    template: "/Practitioner",
    verbs: &[(Method::Get, &[I::FindPractitioner])],
    not_found: SpineCode::PractitionerNotFound,
};
const PRACTITIONER: Endpoint = Endpoint {
    template: "/Practitioner/{id}",
    verbs: &[(Method::Get, &[I::ReadPractitioner])],
    not_found: SpineCode::PractitionerNotFound,
};
const ORGANIZATION_TYPE: Endpoint = Endpoint {
    template: "/Organization",
    verbs: &[(Method::Get, &[I::FindOrganization])],
    not_found: SpineCode::OrganisationNotFound,
};
const ORGANIZATION: Endpoint = Endpoint {
    template: "/Organization/{id}",
    verbs: &[(Method::Get, &[I::ReadOrganization])],
    not_found: SpineCode::OrganisationNotFound,
};
const LOCATION: Endpoint = Endpoint {
    template: "/Location/{id}",
    verbs: &[(Method::Get, &[I::ReadLocation])],
    not_found: SpineCode::NoRecordFound,
};
const SLOT_TYPE: Endpoint = Endpoint {
    template: "/Slot",
    verbs: &[(Method::Get, &[I::SearchFreeSlots])],
    not_found: SpineCode::NoRecordFound,
};
const APPOINTMENT_TYPE: Endpoint = Endpoint {
    template: "/Appointment",
    verbs: &[(Method::Post, &[I::BookAppointment])],
    not_found: SpineCode::NoRecordFound,
};
const APPOINTMENT: Endpoint = Endpoint {
    template: "/Appointment/{id}",
    verbs: &[
        (Method::Get, &[I::ReadAppointment]),
        (Method::Put, &[I::AmendAppointment, I::CancelAppointment]),
    ],
    not_found: SpineCode::NoRecordFound,
};

/// Resolves method + path (relative to the service root, e.g.
/// `/Patient/2/Appointment`) to its candidate interactions and captured id.
/// Unknown path → 400, wrong verb → 400 (§2.1 \[REC\]), id outside R80 → 404
/// with the resource's not-found code (see the module notes).
pub fn route(method: Method, path: &str) -> Result<Route<'_>, Error> {
    let path = match path.find(['?', '#']) {
        Some(end) => &path[..end],
        None => path,
    };
    let Some(rest) = path.strip_prefix('/') else {
        return Err(unknown_path(path));
    };
    let mut segments = rest.split('/');
    let parts = [
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ];
    // `$` never occurs in an id, so a `$` segment is always an operation name.
    let is_id = |s: &str| !s.starts_with('$');
    let (endpoint, id) = match parts {
        [Some("metadata"), None, ..] => (&METADATA, None),
        [Some("Patient"), None, ..] => (&PATIENT_TYPE, None),
        [Some("Patient"), Some("$gpc.registerpatient"), None, _] => (&REGISTER_PATIENT, None),
        [Some("Patient"), Some("$gpc.getcarerecord"), None, _] => (&GET_CARE_RECORD, None),
        [Some("Patient"), Some(id), None, _] if is_id(id) => (&PATIENT, Some(id)),
        [Some("Patient"), Some(id), Some("Appointment"), None] if is_id(id) => {
            (&PATIENT_APPOINTMENTS, Some(id))
        }
        [Some("Practitioner"), None, ..] => (&PRACTITIONER_TYPE, None),
        [Some("Practitioner"), Some(id), None, _] if is_id(id) => (&PRACTITIONER, Some(id)),
        [Some("Organization"), None, ..] => (&ORGANIZATION_TYPE, None),
        [Some("Organization"), Some(id), None, _] if is_id(id) => (&ORGANIZATION, Some(id)),
        [Some("Location"), Some(id), None, _] if is_id(id) => (&LOCATION, Some(id)),
        [Some("Slot"), None, ..] => (&SLOT_TYPE, None),
        [Some("Appointment"), None, ..] => (&APPOINTMENT_TYPE, None),
        [Some("Appointment"), Some(id), None, _] if is_id(id) => (&APPOINTMENT, Some(id)),
        _ => return Err(unknown_path(path)),
    };
    let Some(&(_, candidates)) = endpoint.verbs.iter().find(|(m, _)| *m == method) else {
        let allowed: Vec<&str> = endpoint.verbs.iter().map(|(m, _)| m.as_str()).collect();
        return Err(Error::bad_request(format!(
            "HTTP verb {method} is not supported on {}; use {}",
            endpoint.template,
            allowed.join(" or ")
        )));
    };
    if let Some(id) = id {
        if !is_fhir_id(id) {
            return Err(Error::new(
                endpoint.not_found,
                format!(
                    "no record with id {}: logical ids are [A-Za-z0-9-.]{{1,64}} (R80)",
                    Echo(id)
                ),
            ));
        }
    }
    Ok(Route {
        method,
        template: endpoint.template,
        candidates,
        id,
    })
}

/// Picks the interaction named by `Ssp-InteractionID`, which must be a known
/// URN allowed by the route's method and path (R82), else 400 BAD_REQUEST.
/// This is what tells amend (A4) from cancel (A5) on `PUT /Appointment/{id}`.
pub fn resolve_interaction(
    route: &Route<'_>,
    ssp_interaction_id: &str,
) -> Result<Interaction, Error> {
    let id = ssp_interaction_id.trim_ascii();
    if id.is_empty() {
        return Err(Error::bad_request(format!(
            "{SSP_INTERACTION_ID} header is missing"
        )));
    }
    let Some(interaction) = Interaction::from_interaction_id(id) else {
        return Err(Error::bad_request(format!(
            "{SSP_INTERACTION_ID} {} is not a GP Connect interaction",
            Echo(id)
        )));
    };
    if route.candidates.contains(&interaction) {
        return Ok(interaction);
    }
    let expected: Vec<&str> = route
        .candidates
        .iter()
        .map(|i| i.interaction_id())
        .collect();
    Err(Error::bad_request(format!(
        "{SSP_INTERACTION_ID} {id} does not match {} {} (R82); expected {}",
        route.method,
        route.template,
        expected.join(" or ")
    )))
}

fn unknown_path(path: &str) -> Error {
    Error::bad_request(format!(
        "{} is not a GP Connect endpoint (URLs are case-sensitive)",
        Echo(path)
    ))
}

/// R80: a FHIR logical id (also `meta.versionId`) is `[A-Za-z0-9\-\.]{1,64}`.
pub fn is_fhir_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

// ---------------------------------------------------------------------------
// Headers

/// Read access to request headers, whatever holds them (an HTTP framework's
/// map, a C array of pairs). Names compare ASCII case-insensitively
/// (RFC 9110 §5.1).
pub trait HeaderLookup {
    /// Calls `visit` with every value sent under `name`, in order.
    fn each_value<'s>(&'s self, name: &str, visit: &mut dyn FnMut(&'s str));
}

impl<K: AsRef<str>, V: AsRef<str>> HeaderLookup for [(K, V)] {
    fn each_value<'s>(&'s self, name: &str, visit: &mut dyn FnMut(&'s str)) {
        for (k, v) in self {
            if k.as_ref().eq_ignore_ascii_case(name) {
                visit(v.as_ref());
            }
        }
    }
}

impl<K: AsRef<str>, V: AsRef<str>> HeaderLookup for Vec<(K, V)> {
    fn each_value<'s>(&'s self, name: &str, visit: &mut dyn FnMut(&'s str)) {
        self.as_slice().each_value(name, visit);
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> HeaderLookup for [(K, V); N] {
    fn each_value<'s>(&'s self, name: &str, visit: &mut dyn FnMut(&'s str)) {
        self.as_slice().each_value(name, visit);
    }
}

impl<T: HeaderLookup + ?Sized> HeaderLookup for &T {
    fn each_value<'s>(&'s self, name: &str, visit: &mut dyn FnMut(&'s str)) {
        (**self).each_value(name, visit);
    }
}

/// A request as plain data, for callers (HTTP server, C ABI) that hold it
/// as borrowed strings. Query values are already percent-decoded.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The request method.
    pub method: Method,
    /// Path relative to the service root, e.g. `/Patient/2/Appointment`.
    pub path: &'a str,
    /// Decoded query pairs in request order.
    pub query: &'a [(&'a str, &'a str)],
    /// Header pairs in request order; names in any case.
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> Request<'a> {
    /// The first value of query parameter `name`; FHIR parameter names are
    /// case-sensitive, so this matches exactly.
    pub fn query_value(&self, name: &str) -> Option<&'a str> {
        self.query.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    /// Shorthand for [`route`] on this request.
    pub fn route(&self) -> Result<Route<'a>, Error> {
        route(self.method, self.path)
    }
}

impl HeaderLookup for Request<'_> {
    fn each_value<'s>(&'s self, name: &str, visit: &mut dyn FnMut(&'s str)) {
        self.headers.each_value(name, visit);
    }
}

/// A header that may occur once: its trimmed value, `None` if absent or
/// blank, 400 BAD_REQUEST if sent more than once with a value.
pub fn single_header<'h, H: HeaderLookup + ?Sized>(
    headers: &'h H,
    name: &str,
) -> Result<Option<&'h str>, Error> {
    let mut first = None;
    let mut count = 0usize;
    headers.each_value(name, &mut |v| {
        let v = v.trim_ascii();
        if !v.is_empty() {
            count += 1;
            first = first.or(Some(v));
        }
    });
    if count > 1 {
        return Err(Error::bad_request(format!(
            "{name} header sent more than once"
        )));
    }
    Ok(first)
}

/// A list-valued header (`Accept`, `Prefer`) whose lines may be repeated: the
/// non-blank values joined with `, ` (RFC 9110 §5.3), `None` if there are none.
pub fn list_header<'h, H: HeaderLookup + ?Sized>(
    headers: &'h H,
    name: &str,
) -> Option<Cow<'h, str>> {
    let mut joined: Option<Cow<'h, str>> = None;
    headers.each_value(name, &mut |v| {
        let v = v.trim_ascii();
        if v.is_empty() {
            return;
        }
        match &mut joined {
            None => joined = Some(Cow::Borrowed(v)),
            Some(acc) => {
                let acc = acc.to_mut();
                acc.push_str(", ");
                acc.push_str(v);
            }
        }
    });
    joined
}

/// The SSP headers of a request, borrowed from it. `Debug` hides the token.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SspHeaders<'h> {
    /// `Ssp-TraceID`: the per-request GUID, for the audit trail (R84).
    pub trace_id: &'h str,
    /// `Ssp-From`: the consumer's ASID.
    pub from_asid: &'h str,
    /// `Ssp-To`: equal to this provider's ASID.
    pub to_asid: &'h str,
    /// `Ssp-InteractionID`, for [`resolve_interaction`].
    pub interaction_id: &'h str,
    /// The bearer token from `Authorization`, for the JWT checks (§3).
    pub bearer_token: &'h str,
}

impl fmt::Debug for SspHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SspHeaders")
            .field("trace_id", &self.trace_id)
            .field("from_asid", &self.from_asid)
            .field("to_asid", &self.to_asid)
            .field("interaction_id", &self.interaction_id)
            .field(
                "bearer_token",
                &format_args!("<{} bytes>", self.bearer_token.len()),
            )
            .finish()
    }
}

/// Checks the headers every request must carry (digest §2.1, accessrecord
/// §1.2): `Ssp-TraceID`, `Ssp-From`, `Ssp-To` (must equal `provider_asid`,
/// R82), `Ssp-InteractionID` and `Authorization: Bearer <token>`. Any missing,
/// blank, repeated or wrong → 400 BAD_REQUEST; unknown extra headers are fine.
/// An unconfigured (blank) `provider_asid` is this deployment's fault: 500.
pub fn check_ssp_headers<'h, H: HeaderLookup + ?Sized>(
    headers: &'h H,
    provider_asid: &str,
) -> Result<SspHeaders<'h>, Error> {
    let provider_asid = provider_asid.trim_ascii();
    if provider_asid.is_empty() {
        return Err(Error::internal("the provider ASID is not configured"));
    }
    let required = |name: &str| {
        single_header(headers, name)?
            .ok_or_else(|| Error::bad_request(format!("{name} header is missing")))
    };
    let trace_id = required(SSP_TRACE_ID)?;
    let from_asid = required(SSP_FROM)?;
    let to_asid = required(SSP_TO)?;
    if to_asid != provider_asid {
        return Err(Error::bad_request(format!(
            "{SSP_TO} {} is not this provider's ASID (R82)",
            Echo(to_asid)
        )));
    }
    let interaction_id = required(SSP_INTERACTION_ID)?;
    let bearer_token = parse_bearer(required(AUTHORIZATION)?)?;
    Ok(SspHeaders {
        trace_id,
        from_asid,
        to_asid,
        interaction_id,
        bearer_token,
    })
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1; scheme
/// case-insensitive). Another scheme or a malformed token → 400 (§3.3).
pub fn parse_bearer(value: &str) -> Result<&str, Error> {
    let value = value.trim_ascii();
    let (scheme, token) = value
        .split_once([' ', '\t'])
        .map(|(s, t)| (s, t.trim_ascii_start()))
        .unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(Error::bad_request(format!(
            "{AUTHORIZATION} must use the Bearer scheme, not {}",
            Echo(scheme)
        )));
    }
    // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body = token.trim_end_matches('=');
    let well_formed = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if !well_formed {
        return Err(Error::bad_request(format!(
            "{AUTHORIZATION} bearer token is missing or malformed"
        )));
    }
    Ok(token)
}

/// The version id from `If-Match: W/"{versionId}"` (digest §8.1, R30/R37).
/// A strong `"{versionId}"` is also taken; anything else (`*`, lists, an
/// id outside R80) → 400 BAD_REQUEST. Comparing versions is the caller's job.
pub fn parse_if_match(value: &str) -> Result<String, Error> {
    let value = value.trim_ascii();
    let opaque = value.strip_prefix("W/").unwrap_or(value);
    match opaque.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(version_id) if is_fhir_id(version_id) => Ok(version_id.to_owned()),
        _ => Err(Error::bad_request(format!(
            "If-Match {} is not W/\"{{versionId}}\"",
            Echo(value)
        ))),
    }
}

/// What the consumer asked for in `Prefer: return=…` (digest §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PreferReturn {
    /// Return the resource: the default when `Prefer` is absent (§2.1).
    #[default]
    Representation,
    /// Return headers only.
    Minimal,
}

/// Reads `return=minimal|representation` from a `Prefer` value (RFC 7240).
/// Never fails: unknown or malformed preferences are ignored (RFC 7240 §2),
/// and only the first `return` counts.
pub fn parse_prefer(value: Option<&str>) -> PreferReturn {
    let Some(value) = value else {
        return PreferReturn::default();
    };
    for preference in split_unquoted(value, ',') {
        let Some(head) = split_unquoted(preference, ';').into_iter().next() else {
            continue;
        };
        let Some((name, token)) = head.split_once('=') else {
            continue;
        };
        if !name.trim_ascii().eq_ignore_ascii_case("return") {
            continue;
        }
        let token = token.trim_ascii();
        let token = unquote(token).unwrap_or(Cow::Borrowed(token));
        return if token.eq_ignore_ascii_case("minimal") {
            PreferReturn::Minimal
        } else {
            PreferReturn::Representation
        };
    }
    PreferReturn::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ASID: &str = "918999198993";

    fn ok_headers() -> Vec<(&'static str, &'static str)> {
        vec![
            ("Ssp-TraceID", "09a01679-2564-0fb4-5129-aecc81ea2706"),
            ("Ssp-From", "200000000359"),
            ("Ssp-To", ASID),
            (
                "Ssp-InteractionID",
                "urn:nhs:names:services:gpconnect:fhir:rest:read:patient-1",
            ),
            (
                "Authorization",
                "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
            ),
        ]
    }

    fn assert_bad_request<T: fmt::Debug>(r: Result<T, Error>) {
        match r {
            Err(e) => {
                assert_eq!(e.code(), SpineCode::BadRequest, "{e}");
                assert_eq!(e.status(), 400);
            }
            Ok(v) => panic!("expected 400 BAD_REQUEST, got {v:?}"),
        }
    }

    /// Every interaction: a request, its interaction and the captured id.
    const HAPPY: [(Method, &str, Interaction, Option<&str>); 17] = [
        (Method::Get, "/metadata", I::GetCapabilityStatement, None),
        (Method::Get, "/Patient", I::FindPatient, None),
        (Method::Get, "/Patient/2", I::ReadPatient, Some("2")),
        (
            Method::Post,
            "/Patient/$gpc.registerpatient",
            I::RegisterPatient,
            None,
        ),
        (Method::Get, "/Practitioner", I::FindPractitioner, None),
        (
            Method::Get,
            "/Practitioner/15",
            I::ReadPractitioner,
            Some("15"),
        ),
        (Method::Get, "/Organization", I::FindOrganization, None),
        (
            Method::Get,
            "/Organization/23",
            I::ReadOrganization,
            Some("23"),
        ),
        (Method::Get, "/Location/17", I::ReadLocation, Some("17")),
        (Method::Get, "/Slot", I::SearchFreeSlots, None),
        (Method::Post, "/Appointment", I::BookAppointment, None),
        (
            Method::Get,
            "/Appointment/148",
            I::ReadAppointment,
            Some("148"),
        ),
        (
            Method::Put,
            "/Appointment/9",
            I::AmendAppointment,
            Some("9"),
        ),
        (
            Method::Put,
            "/Appointment/9",
            I::CancelAppointment,
            Some("9"),
        ),
        (
            Method::Get,
            "/Patient/2/Appointment",
            I::RetrievePatientAppointments,
            Some("2"),
        ),
        (
            Method::Post,
            "/Patient/$gpc.getcarerecord",
            I::GetCareRecord,
            None,
        ),
        (Method::Get, "/metadata", I::GetConformance, None),
    ];

    #[test]
    fn every_interaction_routes_and_resolves() {
        for (method, path, want, id) in HAPPY {
            let route = route(method, path).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(route.id(), id, "{path}");
            assert_eq!(
                resolve_interaction(&route, want.interaction_id()),
                Ok(want),
                "{path}"
            );
            assert_eq!(want.method(), method);
            assert_eq!(route.path_template(), want.path_template());
        }
        let covered: Vec<Interaction> = HAPPY.iter().map(|h| h.2).collect();
        assert!(Interaction::ALL.iter().all(|i| covered.contains(i)));
    }

    #[test]
    fn interaction_ids_are_unique_and_round_trip() {
        for i in Interaction::ALL {
            assert_eq!(
                Interaction::from_interaction_id(i.interaction_id()),
                Some(i)
            );
        }
        assert_eq!(
            Interaction::from_interaction_id(
                "urn:nhs:names:services:gpconnect:fhir:rest:read:patient"
            ),
            None
        );
        assert_eq!(
            Interaction::from_interaction_id(
                "URN:NHS:NAMES:SERVICES:GPCONNECT:FHIR:REST:READ:PATIENT-1"
            ),
            None
        );
    }

    #[test]
    fn required_scopes_follow_the_summary_table() {
        use Interaction::*;
        let want = [
            (GetCapabilityStatement, "organization/*.read"),
            (FindPatient, "patient/*.read"),
            (ReadPatient, "patient/*.read"),
            (RegisterPatient, "patient/*.write"),
            (FindPractitioner, "organization/*.read"),
            (ReadPractitioner, "organization/*.read"),
            (FindOrganization, "organization/*.read"),
            (ReadOrganization, "organization/*.read"),
            (ReadLocation, "organization/*.read"),
            (SearchFreeSlots, "organization/*.read"),
            (BookAppointment, "patient/*.write"),
            (ReadAppointment, "patient/*.read"),
            (AmendAppointment, "patient/*.write"),
            (CancelAppointment, "patient/*.write"),
            (RetrievePatientAppointments, "patient/*.read"),
            (GetCareRecord, "patient/*.read"),
            (GetConformance, "organization/*.read"),
        ];
        for (i, scope) in want {
            assert_eq!(i.required_scope().as_str(), scope, "{i:?}");
        }
    }

    #[test]
    fn fhir_version_splits_access_record_from_appointments() {
        for i in Interaction::ALL {
            let dstu2 = matches!(i, I::GetCareRecord | I::GetConformance);
            let want = if dstu2 {
                FhirVersion::Dstu2
            } else {
                FhirVersion::Stu3
            };
            assert_eq!(i.fhir_version(), want, "{i:?}");
        }
    }

    #[test]
    fn a4_a5_amend_vs_cancel_picked_by_interaction_id() {
        let r = route(Method::Put, "/Appointment/9").expect("route");
        assert_eq!(r.candidates(), &[I::AmendAppointment, I::CancelAppointment]);
        assert_eq!(
            resolve_interaction(
                &r,
                "urn:nhs:names:services:gpconnect:fhir:rest:update:appointment-1"
            ),
            Ok(I::AmendAppointment)
        );
        assert_eq!(
            resolve_interaction(
                &r,
                " urn:nhs:names:services:gpconnect:fhir:rest:cancel:appointment-1 "
            ),
            Ok(I::CancelAppointment)
        );
        assert_bad_request(resolve_interaction(&r, I::ReadAppointment.interaction_id()));
    }

    #[test]
    fn metadata_resolves_per_fhir_version() {
        let r = route(Method::Get, "/metadata").expect("route");
        assert_eq!(
            resolve_interaction(
                &r,
                "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1"
            ),
            Ok(I::GetCapabilityStatement)
        );
        assert_eq!(
            resolve_interaction(
                &r,
                "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata"
            ),
            Ok(I::GetConformance)
        );
    }

    #[test]
    fn r82_interaction_id_must_match_path() {
        for (method, path, want, _) in HAPPY {
            let r = route(method, path).expect("route");
            for other in Interaction::ALL {
                if !r.candidates().contains(&other) {
                    assert_bad_request(resolve_interaction(&r, other.interaction_id()));
                }
            }
            assert!(r.candidates().contains(&want));
        }
        let r = route(Method::Get, "/Appointment/1").expect("route");
        let Err(e) = resolve_interaction(&r, I::ReadPatient.interaction_id()) else {
            panic!("mismatch accepted");
        };
        assert!(e.diagnostics().contains("read:appointment-1"), "{e}");
    }

    #[test]
    fn r82_unknown_or_missing_interaction_id_is_bad_request() {
        let r = route(Method::Get, "/Patient/1").expect("route");
        for id in [
            "",
            "  ",
            "urn:nhs:names:services:gpconnect:fhir:rest:read:patient",
            "read:patient-1",
            "x".repeat(5000).as_str(),
        ] {
            assert_bad_request(resolve_interaction(&r, id));
        }
    }

    #[test]
    fn wrong_verb_on_known_path_is_bad_request() {
        for (method, path) in [
            (Method::Patch, "/metadata"),
            (Method::Delete, "/metadata"),
            (Method::Options, "/metadata"),
            (Method::Head, "/metadata"),
            (Method::Post, "/metadata"),
            (Method::Get, "/Patient/$gpc.getcarerecord"),
            (Method::Get, "/Patient/$gpc.registerpatient"),
            (Method::Post, "/Patient/1"),
            (Method::Put, "/Patient/1"),
            (Method::Get, "/Appointment"),
            (Method::Put, "/Appointment"),
            (Method::Delete, "/Appointment/1"),
            (Method::Post, "/Appointment/1"),
            (Method::Post, "/Slot"),
            (Method::Other, "/Patient"),
            // Verb is checked before the id.
            (Method::Delete, "/Appointment/bad id"),
        ] {
            assert_bad_request(route(method, path));
        }
    }

    #[test]
    fn urls_are_case_sensitive() {
        for (method, path) in [
            (Method::Get, "/Metadata"),
            (Method::Get, "/patient/1"),
            (Method::Get, "/PATIENT"),
            (Method::Post, "/Patient/$gpc.getCareRecord"),
            (Method::Post, "/Patient/$GPC.REGISTERPATIENT"),
            (Method::Get, "/Patient/1/appointment"),
            (Method::Get, "/appointment/1"),
        ] {
            assert_bad_request(route(method, path));
        }
        assert_eq!(Method::from_token("get"), Method::Other);
        assert_eq!(Method::from_token("GET"), Method::Get);
    }

    #[test]
    fn unknown_path_is_bad_request() {
        for path in [
            "",
            "/",
            "metadata",
            "/metadatas",
            "/Patients",
            "/Appointments/1",
            "/Patient/1/",
            "/Patient/1/_history/2",
            "/Patient/1/Appointment/2",
            "/Location",
            "/HealthcareService/1",
            "/Patient/%24gpc.getcarerecord/x",
            "/Patient/$everything",
            "/Appointment/$x",
            "//metadata",
        ] {
            for method in [Method::Get, Method::Post, Method::Put] {
                assert_bad_request(route(method, path));
            }
        }
    }

    #[test]
    fn r80_bad_id_is_not_found_with_the_resources_code() {
        let long = "a".repeat(65);
        for (method, path, code) in [
            (Method::Get, "/Appointment/", SpineCode::NoRecordFound),
            (Method::Put, "/Appointment/a_b", SpineCode::NoRecordFound),
            (Method::Get, "/Patient/a b", SpineCode::PatientNotFound),
            (
                Method::Get,
                "/Patient/%20/Appointment",
                SpineCode::PatientNotFound,
            ),
            (
                Method::Get,
                "/Patient//Appointment",
                SpineCode::PatientNotFound,
            ),
            (
                Method::Get,
                "/Practitioner/é",
                SpineCode::PractitionerNotFound,
            ),
            (
                Method::Get,
                "/Organization/1:2",
                SpineCode::OrganisationNotFound,
            ),
            (
                Method::Get,
                &format!("/Location/{long}"),
                SpineCode::NoRecordFound,
            ),
        ] {
            match route(method, path) {
                Err(e) => {
                    assert_eq!(e.code(), code, "{path}: {e}");
                    assert_eq!(e.status(), 404, "{path}");
                }
                Ok(r) => panic!("{path} routed to {r:?}"),
            }
        }
        let max = "A-1.b".repeat(12) + "xxxx";
        assert_eq!(max.len(), 64);
        let path = format!("/Patient/{max}");
        assert_eq!(
            route(Method::Get, &path).map(|r| r.id()),
            Ok(Some(max.as_str()))
        );
    }

    #[test]
    fn query_and_fragment_are_ignored_in_path() {
        let r = route(Method::Get, "/Patient/2/Appointment?start=ge2024-01-01#x").expect("route");
        assert_eq!(r.id(), Some("2"));
        assert_eq!(r.candidates(), &[I::RetrievePatientAppointments]);
        assert!(route(Method::Get, "/Patient?identifier=x").is_ok());
    }

    #[test]
    fn ssp_headers_all_present_are_accepted() {
        let mut h = ok_headers();
        h.push(("AdditionalHeader", "anything"));
        let ssp = check_ssp_headers(&h, ASID).expect("headers");
        assert_eq!(ssp.to_asid, ASID);
        assert_eq!(ssp.from_asid, "200000000359");
        assert_eq!(ssp.bearer_token, "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.");
        assert!(!format!("{ssp:?}").contains("eyJ"));
    }

    #[test]
    fn ssp_header_names_are_case_insensitive() {
        let h: Vec<(String, String)> = ok_headers()
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), format!("  {v}\t")))
            .collect();
        let ssp = check_ssp_headers(&h, ASID).expect("headers");
        assert_eq!(ssp.trace_id, "09a01679-2564-0fb4-5129-aecc81ea2706");
    }

    #[test]
    fn every_missing_or_blank_header_is_bad_request() {
        for name in [
            SSP_TRACE_ID,
            SSP_FROM,
            SSP_TO,
            SSP_INTERACTION_ID,
            AUTHORIZATION,
        ] {
            let without: Vec<_> = ok_headers()
                .into_iter()
                .filter(|(k, _)| *k != name)
                .collect();
            assert_bad_request(check_ssp_headers(&without, ASID));
            for blank in ["", "   "] {
                let with_blank: Vec<_> = ok_headers()
                    .into_iter()
                    .map(|(k, v)| (k, if k == name { blank } else { v }))
                    .collect();
                assert_bad_request(check_ssp_headers(&with_blank, ASID));
            }
        }
    }

    #[test]
    fn r82_ssp_to_must_be_this_providers_asid() {
        let h: Vec<_> = ok_headers()
            .into_iter()
            .map(|(k, v)| (k, if k == SSP_TO { "200000000359" } else { v }))
            .collect();
        assert_bad_request(check_ssp_headers(&h, ASID));
        let mut twice = ok_headers();
        twice.push(("ssp-to", "200000000359"));
        assert_bad_request(check_ssp_headers(&twice, ASID));
    }

    #[test]
    fn unconfigured_provider_asid_is_internal_error() {
        let Err(e) = check_ssp_headers(&ok_headers(), " ") else {
            panic!("accepted");
        };
        assert_eq!(e.status(), 500);
    }

    #[test]
    fn authorization_must_be_a_bearer_token() {
        assert_eq!(parse_bearer("bearer abc.def."), Ok("abc.def."));
        assert_eq!(parse_bearer("Bearer  a-b_c~d+e/f=="), Ok("a-b_c~d+e/f=="));
        for bad in [
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a\"b",
            "Bearer ===",
            "eyJhbGciOiJub25lIn0..",
            "Bearerabc",
        ] {
            assert_bad_request(parse_bearer(bad));
        }
        let h: Vec<_> = ok_headers()
            .into_iter()
            .map(|(k, v)| (k, if k == AUTHORIZATION { "Basic abc" } else { v }))
            .collect();
        assert_bad_request(check_ssp_headers(&h, ASID));
    }

    #[test]
    fn request_struct_exposes_headers_query_and_route() {
        let headers = ok_headers();
        let query = [("_format", "xml"), ("_format", "json")];
        let req = Request {
            method: Method::Get,
            path: "/Patient/2",
            query: &query,
            headers: &headers,
        };
        assert_eq!(req.query_value("_format"), Some("xml"));
        assert_eq!(req.query_value("_FORMAT"), None);
        let ssp = check_ssp_headers(&req, ASID).expect("headers");
        let r = req.route().expect("route");
        assert_eq!(
            resolve_interaction(&r, ssp.interaction_id),
            Ok(I::ReadPatient)
        );
    }

    #[test]
    fn list_headers_join_and_single_headers_refuse_repeats() {
        let h = [
            ("Accept", "application/fhir+xml"),
            ("accept", " "),
            ("ACCEPT", "application/fhir+json;q=0.5"),
        ];
        assert_eq!(
            list_header(&h, "Accept").as_deref(),
            Some("application/fhir+xml, application/fhir+json;q=0.5")
        );
        assert_eq!(list_header(&h, "Prefer"), None);
        assert_bad_request(single_header(&h, "Accept"));
        assert_eq!(single_header(&h, "If-Match"), Ok(None));
        let one = [("If-Match", " W/\"3\" ")];
        assert_eq!(single_header(&one, "if-match"), Ok(Some("W/\"3\"")));
    }

    #[test]
    fn r30_if_match_carries_a_weak_version_id() {
        assert_eq!(
            parse_if_match("W/\"636068818095315079\""),
            Ok("636068818095315079".to_owned())
        );
        assert_eq!(parse_if_match("  W/\"a-1.2\" "), Ok("a-1.2".to_owned()));
        assert_eq!(parse_if_match("\"3\""), Ok("3".to_owned()));
        for bad in [
            "",
            "3",
            "W/3",
            "w/\"3\"",
            "W/\"\"",
            "W/\"a b\"",
            "*",
            "W/\"3\", W/\"4\"",
            "W/\"3",
            "\"",
            "W/\"",
            "W/\"é\"",
        ] {
            assert_bad_request(parse_if_match(bad));
        }
    }

    #[test]
    fn prefer_defaults_to_representation() {
        use PreferReturn::{Minimal, Representation};
        for (value, want) in [
            (None, Representation),
            (Some("return=minimal"), Minimal),
            (Some("return=representation"), Representation),
            (Some(" RETURN = Minimal "), Minimal),
            (Some("return=\"minimal\""), Minimal),
            (
                Some("respond-async, wait=10, return=minimal; foo=bar"),
                Minimal,
            ),
            (
                Some("return=representation, return=minimal"),
                Representation,
            ),
            (Some("return=OperationOutcome"), Representation),
            (Some("handling=lenient"), Representation),
            (Some(""), Representation),
            (Some(",;=\"\\"), Representation),
        ] {
            assert_eq!(parse_prefer(value), want, "{value:?}");
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic(method in ".*", path in ".*", value in ".*", name in ".*") {
            let m = Method::from_token(&method);
            if let Ok(r) = route(m, &path) {
                let _ = resolve_interaction(&r, &value);
                prop_assert!(r.id().is_none_or(is_fhir_id));
            }
            let _ = Interaction::from_interaction_id(&value);
            let _ = parse_if_match(&value);
            let _ = parse_prefer(Some(&value));
            let _ = parse_bearer(&value);
            let headers = [(name.as_str(), value.as_str()), ("Ssp-To", value.as_str())];
            let _ = check_ssp_headers(&headers, &value);
            let _ = list_header(&headers, &name);
            let _ = single_header(&headers, &name);
        }

        #[test]
        fn path_fuzz_never_panics(
            method in prop::sample::select(vec![Method::Get, Method::Post, Method::Put]),
            path in r"(/(Patient|Appointment|metadata|\$gpc\.getcarerecord|[A-Za-z0-9.%$é_ -]{0,70})){0,4}[?#]?.{0,5}",
        ) {
            if let Ok(r) = route(method, &path) {
                prop_assert!(!r.candidates().is_empty());
                prop_assert!(r.id().is_none_or(is_fhir_id));
            }
        }
    }
}
