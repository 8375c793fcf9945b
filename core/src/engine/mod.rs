//! The transport-neutral front door: [`Engine::handle`] takes one HTTP
//! request as plain data ([`HttpRequest`]) and gives the complete answer
//! ([`HttpResponse`]: status, headers, body, audit record). An HTTP server
//! and the C bindings are thin adapters around it.
//!
//! # What `handle` does, in order
//!
//! Each step can fail; the first failure is the answer, as an
//! OperationOutcome of the service root's FHIR version (STU3 or DSTU2), in
//! the negotiated format. Before negotiation has run (steps 1–4) it is the
//! first usable hint among `_format`, `Accept` and `Content-Type`, else JSON
//! ([`error_format`]: what negotiation would pick if it succeeds); when
//! negotiation itself fails (415) it is JSON, the one format every consumer
//! must read (§2.2 SHALL).
//!
//! 1. **Query** decoded ([`decode_query`]): malformed escapes → 400 BAD_REQUEST.
//! 2. **Service root** split off the path ([`split_service_root`]): `/{ODS}/STU3/1/{routing}`
//!    or `/{ODS}/DSTU2/0/{routing}`, byte for byte. Anything else → 400
//!    BAD_REQUEST.
//! 3. **Practice** looked up by the ODS code → 404 ORGANISATION_NOT_FOUND
//!    when not hosted here.
//! 4. **Route** by method and path ([`route`]): unknown or wrongly-cased
//!    path → 400 BAD_REQUEST, known path with a wrong verb → 400
//!    BAD_REQUEST, an id that cannot be a FHIR id → 404 with the resource's
//!    not-found code. A path of the other FHIR version's root (e.g.
//!    `Patient/2` under `DSTU2`) is an unknown path.
//! 5. **Content negotiation** ([`negotiate`]): `_format` > `Accept` >
//!    `Content-Type` > JSON; unsupported → 415 UNSUPPORTED_MEDIA_TYPE.
//! 6. **SSP headers** ([`check_ssp_headers`]): `Ssp-TraceID`, `Ssp-From`,
//!    `Ssp-To` (= the practice's ASID), `Ssp-InteractionID`,
//!    `Authorization: Bearer`; missing, blank, repeated or wrong → 400.
//! 7. **Interaction** ([`resolve_interaction`], R82): the interaction id must
//!    be one the method and path allow, and of the root's FHIR version
//!    → else 400. This is what tells amend from cancel.
//! 8. **JWT** ([`validate_bearer`]) with the interaction's scope and the
//!    profile of its FHIR version: 400, or 422 for an invalid embedded
//!    resource.
//! 9. **Enablement** (R83): GP Connect switched off for the practice, or
//!    Appointment Management (A1–A6) or Access Record (DSTU2) switched off →
//!    403 `ACCESS DENIED` (`ACCESS_DENIED` in the 1.2.7 and DSTU2 spellings).
//! 10. **Body** (POST/PUT): larger than
//!     [`EngineConfig::max_body_bytes`] → 413 BAD_REQUEST; `Content-Type`
//!     missing or not FHIR → 415; not well-formed → 400 BAD_REQUEST; not a
//!     valid resource of the expected type → 422 INVALID_RESOURCE.
//! 11. **Operation**, then the response headers: `Content-Type` with
//!     `charset=utf-8` per version, `ETag: W/"{version}"` (read, create,
//!     update), `Last-Modified` (create), `Location` (create), and
//!     `Cache-Control: no-store` on every response, errors included.
//!
//! # Decisions where the digests are silent or conflict
//!
//! - **Unknown service root → 400 BAD_REQUEST**, like an unknown path under
//!   a root ([`route`]'s decision: the spreadsheet gives BAD_REQUEST for
//!   unknown and wrongly-cased URLs, accessrecord §4; the digest allows 404
//!   or 400, §2.1 \[REC\]). It names no endpoint, not a missing record.
//! - **Unknown practice → 404 ORGANISATION_NOT_FOUND.** The root is well
//!   formed but its ODS code names no practice served here: a not-found, and
//!   ORGANISATION_NOT_FOUND is §6.2's code for an unknown organisation (the
//!   Access Record guidance lists it too). An ODS segment that cannot be an
//!   ODS code (not 1–12 letters and digits) gets the same answer and never
//!   reaches the store.
//! - **Wrong verb → 400, not 405** (§2.1 \[REC\]; 405 is what the SSP sends).
//! - **Routing before negotiation before authentication**, so a request for
//!   a non-existent endpoint gets 400/404 whatever its headers, and every
//!   later error is rendered in the negotiated format.
//! - **`Prefer`** is honoured on create and update only (A2, A4, A5; §2.1,
//!   R17): `return=minimal` gives the status and headers with an empty body
//!   and no `Content-Type`. Register (F4) is an operation whose result is a
//!   Bundle, so it always returns it.
//! - **`Location`** is `[base]/Appointment/{id}/_history/{vid}` (§2.3, §8.1).
//!   `[base]` is the service root URL: absolute when
//!   [`EngineConfig::public_base_url`] says which scheme and host consumers
//!   reach us on, else the absolute path (`/A00001/STU3/1/gpconnect/…`),
//!   which RFC 9110 §10.2.2 allows and resolves against the request URL. The
//!   `Host` header is never used: behind the SSP it is not ours to trust.
//! - **`Last-Modified`** is an RFC 9110 IMF-fixdate; an instant the format
//!   cannot carry (before year 1) leaves the header out rather than failing
//!   a booking that has already been made.
//! - **A `+` in a date search value** sent unencoded arrives as a space; for
//!   the `start`/`end` values of A1 and A6 it is read back as `+`
//!   ([`query::restore_offset_plus`]).
//! - **The JWT audience** is compared (log only, §3.3 \[REC\]) with the
//!   service root URL when [`EngineConfig::public_base_url`] is set; the
//!   DSTU2 profile's fixed audience otherwise applies as
//!   [`JwtContext::new`] sets it.
//!
//! # Panics
//!
//! `handle` is written not to panic: no indexing or unwrapping of input,
//! bounded parsers, poisoned locks recovered. It nevertheless runs the
//! request under [`std::panic::catch_unwind`] and answers a panic with 500
//! INTERNAL_SERVER_ERROR (and an audit record), because a bug or a host's
//! store, clock or PDS adapter could still panic, and the consequences of
//! letting it unwind are worse than one failed request: across the C ABI an
//! unwind is undefined behaviour (or an abort of the GP system hosting us),
//! and in an HTTP server it drops the connection without the
//! OperationOutcome, `Cache-Control` and audit record every call must have.
//! This only works with `panic = "unwind"` (the default); under
//! `panic = "abort"` there is nothing to catch.
//!
//! # Access Record HTML
//!
//! `POST /{ODS}/DSTU2/0/{routing}/Patient/$gpc.getcarerecord` is checked
//! here (headers, DSTU2 JWT, Parameters body) and answered by
//! [`crate::accessrecord::get_care_record`], which is given the JWT's
//! `requested_record` NHS number to compare with the body's.

mod audit;
mod base;
mod conformance;
mod dispatch;
mod http;
mod query;
pub mod token;

pub use audit::{AuditRecord, MAX_FIELD_CHARS};
pub use base::{ServiceRoot, major_version, split_service_root, version_hint};
pub use conformance::conformance;
pub use http::{
    CACHE_CONTROL, CONTENT_TYPE, ETAG, HttpRequest, HttpResponse, LAST_MODIFIED, LOCATION,
    NO_STORE, etag, http_date,
};
pub use query::{QueryPair, decode_query, restore_offset_plus};

use std::borrow::Cow;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::checks::format::{
    FhirFormat, FhirVersion, error_format, negotiate, response_content_type,
};
use crate::checks::headers::{
    HeaderLookup, Interaction, Method, SSP_FROM, SSP_INTERACTION_ID, SSP_TO, SSP_TRACE_ID,
    check_ssp_headers, list_header, resolve_interaction, route, single_header,
};
use crate::checks::jwt::{JwtContext, JwtProfile, validate_bearer};
use crate::clock::Clock;
use crate::error::{Echo, Error, SpecEdition, SpineCode};
use crate::fhir::{self, Limits};
use crate::foundations::{Pds, SoftwareInfo};
use crate::operation::Context;
use crate::store::{PracticeRecord, PracticeSettings, PracticeStore};
use crate::stu3::{ErrorCodeSystem, OutcomeOptions};

use audit::bounded;
use base::is_plausible_ods;

/// How the engine answers: everything that is deployment policy rather
/// than GP Connect rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// The software the capability and conformance statements describe.
    pub software: SoftwareInfo,
    /// The STU3 edition: [`SpecEdition::Appointments129`] (default) or
    /// [`SpecEdition::Appointments127`]; it picks spellings such as
    /// `ACCESS DENIED` and the CapabilityStatement `version`. DSTU2 routes
    /// always use [`SpecEdition::AccessRecordHtml07`].
    pub edition: SpecEdition,
    /// `issue.details.coding.system` of STU3 OperationOutcomes (digest §6.1
    /// \[REC\]: configurable, ValueSet URL by default).
    pub error_code_system: ErrorCodeSystem,
    /// Reject a JWT whose `sub` differs from `requesting_practitioner.id`
    /// (digest §3.3 \[REC\]; default `true`).
    pub strict_sub: bool,
    /// The provider routing segment of the service root (default
    /// `gpconnect`); empty for a root without one. Shared by STU3 and
    /// DSTU2 (digest §1: Appointments and Foundations must share it).
    pub routing_segment: String,
    /// Scheme and host consumers reach this provider on, e.g.
    /// `https://gpconnect.example.nhs.uk` (no trailing `/`): makes
    /// `Location` absolute and is the expected STU3 JWT `aud` prefix. `None`
    /// gives path-absolute `Location`s (see the module docs).
    pub public_base_url: Option<String>,
    /// The Access Record HTML spec version the DSTU2 Conformance declares
    /// (accessrecord §1.2: the suite compares it with its configured
    /// `gpConnectSpecVersion`). Default `0.7.4`.
    pub access_record_version: String,
    /// Largest request body accepted, in bytes (default
    /// [`Limits::REQUEST`], 8 MiB); larger → 413.
    pub max_body_bytes: usize,
}

impl EngineConfig {
    /// The recommended configuration for `software`.
    pub fn new(software: SoftwareInfo) -> EngineConfig {
        EngineConfig {
            software,
            edition: SpecEdition::Appointments129,
            error_code_system: ErrorCodeSystem::default(),
            strict_sub: true,
            routing_segment: "gpconnect".to_owned(),
            public_base_url: None,
            access_record_version: "0.7.4".to_owned(),
            max_body_bytes: Limits::REQUEST.max_bytes,
        }
    }

    /// Checks the configuration can answer every request.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first field that cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |why: String| Err(ConfigError(why));
        let s = &self.software;
        for (what, value) in [
            ("software.name", &s.name),
            ("software.version", &s.version),
            ("software.publisher", &s.publisher),
            ("access_record_version", &self.access_record_version),
        ] {
            if value.trim().is_empty() {
                return fail(format!("{what} must not be blank"));
            }
        }
        if self.edition == SpecEdition::AccessRecordHtml07 {
            return fail(
                "edition must be an Appointments edition (1.2.9 or 1.2.7); DSTU2 routes use the Access Record spelling on their own"
                    .to_owned(),
            );
        }
        let segment_ok = self
            .routing_segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !segment_ok {
            return fail(format!(
                "routing_segment {} must be one path segment of letters, digits and -._~",
                Echo(&self.routing_segment)
            ));
        }
        if let Some(url) = &self.public_base_url {
            let host = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            let ok = host.is_some_and(|h| {
                !h.is_empty()
                    && !h.contains(['/', '?', '#'])
                    && !h
                        .bytes()
                        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
            });
            if !ok {
                return fail(format!(
                    "public_base_url {} must be scheme://host[:port] with no path or trailing '/'",
                    Echo(url)
                ));
            }
        }
        if self.max_body_bytes == 0 {
            return fail("max_body_bytes must be positive".to_owned());
        }
        Ok(())
    }
}

/// An [`EngineConfig`] that cannot serve requests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid engine configuration: {0}")]
pub struct ConfigError(String);

/// The GP Connect provider: owns the storage port, the clock, the PDS port
/// and the configuration, and answers requests with [`Engine::handle`].
/// `Send + Sync`: one engine serves every thread.
pub struct Engine {
    store: Arc<dyn PracticeStore>,
    clock: Arc<dyn Clock>,
    pds: Arc<dyn Pds>,
    config: EngineConfig,
    sequence: AtomicU64,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .field("sequence", &self.sequence)
            .finish_non_exhaustive()
    }
}

/// Where an error is rendered: refined as the request passes its checks.
#[derive(Debug, Clone, Copy)]
struct Frame {
    version: FhirVersion,
    format: FhirFormat,
}

/// A response before the audit record is attached.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// The 500 body if rendering the 500 itself panicked: the STU3 shape of
/// §6.1 with the ValueSet system, as a constant.
const LAST_RESORT_BODY: &str = r#"{"resourceType":"OperationOutcome","meta":{"profile":["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"]},"issue":[{"severity":"error","code":"exception","details":{"coding":[{"system":"https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1","code":"INTERNAL_SERVER_ERROR","display":"Unexpected internal server error."}]},"diagnostics":"the provider failed unexpectedly while answering"}]}"#;

impl Engine {
    /// An engine over `store`, `clock` and `pds` with `config`.
    ///
    /// # Errors
    /// [`ConfigError`] when `config` fails [`EngineConfig::validate`].
    pub fn new(
        store: Arc<dyn PracticeStore>,
        clock: Arc<dyn Clock>,
        pds: Arc<dyn Pds>,
        config: EngineConfig,
    ) -> Result<Engine, ConfigError> {
        config.validate()?;
        Ok(Engine {
            store,
            clock,
            pds,
            config,
            sequence: AtomicU64::new(0),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Answers one request (see the module docs). Never panics; every
    /// answer carries `Cache-Control: no-store` and an audit record.
    pub fn handle(&self, req: &HttpRequest<'_>) -> HttpResponse {
        let started = Instant::now();
        let mut audit = AuditRecord {
            sequence: self
                .sequence
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_add(1),
            method: bounded(req.method),
            path: bounded(req.path),
            ..AuditRecord::default()
        };
        let mut frame = Frame {
            version: version_hint(req.path),
            format: FhirFormat::Json,
        };
        let answered = catch_unwind(AssertUnwindSafe(|| {
            match self.process(req, &mut audit, &mut frame) {
                Ok(reply) => reply,
                Err(e) => self.error_reply(&e, frame, &mut audit),
            }
        }));
        let reply = answered.unwrap_or_else(|payload| {
            let e = Error::internal("the provider failed unexpectedly while answering");
            let reply = catch_unwind(AssertUnwindSafe(|| self.error_reply(&e, frame, &mut audit)))
                .unwrap_or_else(|_| last_resort_reply(&mut audit));
            // The panic message goes to the audit trail only: it may name
            // internals the consumer has no business seeing.
            audit.diagnostics = Some(format!(
                "{} (panic: {})",
                e.diagnostics(),
                bounded(panic_message(payload.as_ref()))
            ));
            reply
        });
        audit.elapsed_micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        HttpResponse {
            status: reply.status,
            headers: reply.headers,
            body: reply.body,
            audit,
        }
    }

    /// Answers a request the transport could not hand over whole — a body
    /// that broke off or failed to decompress — with `error` as an
    /// OperationOutcome of the request's FHIR version in the format its
    /// `_format`, `Accept` or `Content-Type` asks for, and an audit record,
    /// exactly as [`Engine::handle`] renders its own errors.
    pub fn reject(&self, req: &HttpRequest<'_>, error: &Error) -> HttpResponse {
        let mut audit = AuditRecord {
            sequence: self
                .sequence
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_add(1),
            method: bounded(req.method),
            path: bounded(req.path),
            received_at: Some(self.clock.now()),
            ..AuditRecord::default()
        };
        record_ssp_headers(req.headers, &mut audit);
        let accept = list_header(req.headers, "Accept");
        let (path, inline_query) = split_target(req.path);
        let raw_query = join_query(req.query, inline_query);
        let format_param = decode_query(&raw_query).ok().and_then(|q| {
            q.iter()
                .find(|(k, _)| k == "_format")
                .map(|(_, v)| v.to_string())
        });
        let frame = Frame {
            version: version_hint(path),
            format: error_format(
                format_param.as_deref(),
                accept.as_deref(),
                first_value(req.headers, "Content-Type"),
            ),
        };
        let reply = catch_unwind(AssertUnwindSafe(|| {
            self.error_reply(error, frame, &mut audit)
        }))
        .unwrap_or_else(|_| last_resort_reply(&mut audit));
        HttpResponse {
            status: reply.status,
            headers: reply.headers,
            body: reply.body,
            audit,
        }
    }

    /// Steps 1–11 of the module docs.
    fn process(
        &self,
        req: &HttpRequest<'_>,
        audit: &mut AuditRecord,
        frame: &mut Frame,
    ) -> Result<Reply, Error> {
        let now = self.clock.now();
        audit.received_at = Some(now);
        record_ssp_headers(req.headers, audit);
        let content_type_hint = first_value(req.headers, "Content-Type");
        let accept = list_header(req.headers, "Accept");

        // 1. Query.
        let (path, inline_query) = split_target(req.path);
        let raw_query = join_query(req.query, inline_query);
        let decoded = match decode_query(&raw_query) {
            Ok(q) => q,
            Err(e) => {
                frame.format = error_format(None, accept.as_deref(), content_type_hint);
                return Err(e);
            }
        };
        let query: Vec<(&str, &str)> = decoded.iter().map(|(k, v)| (&**k, &**v)).collect();
        let format_param = query.iter().find(|(k, _)| *k == "_format").map(|(_, v)| *v);
        frame.format = error_format(format_param, accept.as_deref(), content_type_hint);

        // 2. Service root.
        let root = split_service_root(path, &self.config.routing_segment)?;
        frame.version = root.version;

        // 3. Practice.
        let practice = self.practice(root.ods)?;
        audit.practice_ods = Some(practice.ods_code.clone());

        // 4. Route.
        let method = Method::from_token(req.method);
        let route = route(method, root.rest)?;
        if !route
            .candidates()
            .iter()
            .any(|i| i.fhir_version() == root.version)
        {
            return Err(Error::bad_request(format!(
                "{} is not an endpoint of the {} service root (URLs are case-sensitive)",
                Echo(root.rest),
                root.version.name()
            )));
        }
        if let Some(id) = route.id() {
            audit.resource_id = Some(id.to_owned());
        }

        // 5. Content negotiation.
        let content_type = single_header(req.headers, "Content-Type")?;
        frame.format = match negotiate(format_param, accept.as_deref(), content_type, root.version)
        {
            Ok(format) => format,
            Err(e) => {
                // No format was agreed: answer in the one every consumer
                // must read (JSON is SHALL, §2.2).
                frame.format = FhirFormat::Json;
                return Err(e);
            }
        };

        // 6. SSP headers; 7. interaction (R82).
        let ssp = check_ssp_headers(req.headers, &practice.asid)?;
        let interaction = resolve_interaction(&route, ssp.interaction_id)?;
        if interaction.fhir_version() != root.version {
            return Err(Error::bad_request(format!(
                "{SSP_INTERACTION_ID} {} is a {} interaction, but the request addresses the {} service root (R82)",
                interaction.interaction_id(),
                interaction.fhir_version().name(),
                root.version.name()
            )));
        }
        audit.interaction = Some(interaction.interaction_id().to_owned());

        // 8. JWT.
        let profile = match root.version {
            FhirVersion::Stu3 => JwtProfile::Appointments,
            FhirVersion::Dstu2 => JwtProfile::AccessRecordHtml,
        };
        let audience = match (&self.config.public_base_url, profile) {
            (Some(base), JwtProfile::Appointments) => Some(format!("{base}{}", root.root)),
            _ => None,
        };
        let mut jwt = JwtContext::new(profile, interaction.required_scope())
            .with_strict_sub(self.config.strict_sub);
        if let Some(aud) = &audience {
            jwt = jwt.with_expected_audience(aud);
        }
        let claims = validate_bearer(ssp.bearer_token, &jwt, now)?;
        audit.record_claims(&claims);

        // 9. Enablement (R83).
        check_enabled(&practice.settings, interaction)?;

        // 10, 11. Body, operation, response.
        let edition = match root.version {
            FhirVersion::Stu3 => self.config.edition,
            FhirVersion::Dstu2 => SpecEdition::AccessRecordHtml07,
        };
        let ctx = Context {
            store: &*self.store,
            practice: &practice,
            now,
            edition,
        };
        let call = dispatch::Call {
            ctx: &ctx,
            interaction,
            id: route.id(),
            query: &query,
            req,
            format: frame.format,
            root: &root,
            claims: &claims,
        };
        self.dispatch(&call, audit)
    }

    /// The hosted practice `ods`, or 404 ORGANISATION_NOT_FOUND.
    fn practice(&self, ods: &str) -> Result<PracticeRecord, Error> {
        let not_found = || {
            Error::new(
                SpineCode::OrganisationNotFound,
                format!("no GP practice with ODS code {} is served here", Echo(ods)),
            )
        };
        if !is_plausible_ods(ods) {
            return Err(not_found());
        }
        self.store.practice(ods)?.ok_or_else(not_found)
    }

    /// The OperationOutcome answer for `e`, rendered per `frame`.
    fn error_reply(&self, e: &Error, frame: Frame, audit: &mut AuditRecord) -> Reply {
        let format = fhir_format(frame.format);
        let (body, edition) = match frame.version {
            FhirVersion::Stu3 => {
                let opts = OutcomeOptions {
                    system: self.config.error_code_system,
                    edition: self.config.edition,
                };
                (
                    fhir::encode(&e.to_operation_outcome_stu3(&opts), format),
                    self.config.edition,
                )
            }
            FhirVersion::Dstu2 => (
                fhir::encode(&e.to_operation_outcome_dstu2(), format),
                SpecEdition::AccessRecordHtml07,
            ),
        };
        audit.status = e.status();
        audit.spine_code = Some(e.code().code(edition).to_owned());
        audit.diagnostics = (!e.diagnostics().is_empty()).then(|| e.diagnostics().to_owned());
        Reply {
            status: e.status(),
            headers: vec![
                header(
                    CONTENT_TYPE,
                    response_content_type(frame.format, frame.version),
                ),
                header(CACHE_CONTROL, NO_STORE),
            ],
            body,
        }
    }
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-text payload")
}

/// The 500 when even rendering the 500 failed.
fn last_resort_reply(audit: &mut AuditRecord) -> Reply {
    audit.status = 500;
    audit.spine_code = Some("INTERNAL_SERVER_ERROR".to_owned());
    audit.diagnostics = Some("rendering the error answer failed too".to_owned());
    Reply {
        status: 500,
        headers: vec![
            header(
                CONTENT_TYPE,
                response_content_type(FhirFormat::Json, FhirVersion::Stu3),
            ),
            header(CACHE_CONTROL, NO_STORE),
        ],
        body: LAST_RESORT_BODY.as_bytes().to_vec(),
    }
}

/// R83: the practice switch, then the capability switch.
fn check_enabled(settings: &PracticeSettings, interaction: Interaction) -> Result<(), Error> {
    use Interaction as I;
    let denied = |what: &str| {
        Err(Error::new(
            SpineCode::AccessDenied,
            format!("{what} is not enabled for this practice (R83)"),
        ))
    };
    if !settings.gp_connect_enabled {
        return denied("GP Connect");
    }
    match interaction {
        I::SearchFreeSlots
        | I::BookAppointment
        | I::ReadAppointment
        | I::AmendAppointment
        | I::CancelAppointment
        | I::RetrievePatientAppointments
            if !settings.appointments_enabled =>
        {
            denied("GP Connect Appointment Management")
        }
        I::GetCareRecord | I::GetConformance if !settings.access_record_enabled => {
            denied("GP Connect Access Record")
        }
        _ => Ok(()),
    }
}

fn fhir_format(format: FhirFormat) -> fhir::Format {
    match format {
        FhirFormat::Json => fhir::Format::Json,
        FhirFormat::Xml => fhir::Format::Xml,
    }
}

fn header(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

/// The path without a `#fragment`, and the `?query` it carried, if any.
fn split_target(target: &str) -> (&str, Option<&str>) {
    let target = target.split_once('#').map_or(target, |(t, _)| t);
    match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    }
}

fn join_query<'q>(query: &'q str, inline: Option<&'q str>) -> Cow<'q, str> {
    let query = query.strip_prefix('?').unwrap_or(query);
    match inline {
        None | Some("") => Cow::Borrowed(query),
        Some(inline) if query.is_empty() => Cow::Borrowed(inline),
        Some(inline) => Cow::Owned(format!("{query}&{inline}")),
    }
}

/// The first non-blank value of `name`, trimmed; never fails.
fn first_value<'h, H: HeaderLookup + ?Sized>(headers: &'h H, name: &str) -> Option<&'h str> {
    let mut first = None;
    headers.each_value(name, &mut |v| {
        let v = v.trim_ascii();
        if first.is_none() && !v.is_empty() {
            first = Some(v);
        }
    });
    first
}

/// The SSP header values as sent, for the audit record, whether or not they
/// pass their checks (the token is never recorded).
fn record_ssp_headers(headers: &[(&str, &str)], audit: &mut AuditRecord) {
    let get = |name: &str| first_value(headers, name).map(bounded);
    audit.trace_id = get(SSP_TRACE_ID);
    audit.from_asid = get(SSP_FROM);
    audit.to_asid = get(SSP_TO);
    audit.requested_interaction = get(SSP_INTERACTION_ID);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn software() -> SoftwareInfo {
        SoftwareInfo {
            name: "gpconnect".to_owned(),
            version: "0.1.0".to_owned(),
            release_date: jiff::civil::date(2026, 3, 1),
            publisher: "Example Supplier".to_owned(),
            contact_name: None,
        }
    }

    #[test]
    fn engine_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Engine>();
    }

    #[test]
    fn default_config_is_valid() {
        assert_eq!(EngineConfig::new(software()).validate(), Ok(()));
    }

    #[test]
    fn invalid_configs_are_refused_naming_the_field() {
        let base = EngineConfig::new(software());
        let cases: Vec<(EngineConfig, &str)> = vec![
            (
                EngineConfig {
                    software: SoftwareInfo {
                        name: " ".to_owned(),
                        ..software()
                    },
                    ..base.clone()
                },
                "software.name",
            ),
            (
                EngineConfig {
                    edition: SpecEdition::AccessRecordHtml07,
                    ..base.clone()
                },
                "edition",
            ),
            (
                EngineConfig {
                    routing_segment: "a/b".to_owned(),
                    ..base.clone()
                },
                "routing_segment",
            ),
            (
                EngineConfig {
                    public_base_url: Some("https://host/".to_owned()),
                    ..base.clone()
                },
                "public_base_url",
            ),
            (
                EngineConfig {
                    public_base_url: Some("ftp://host".to_owned()),
                    ..base.clone()
                },
                "public_base_url",
            ),
            (
                EngineConfig {
                    access_record_version: String::new(),
                    ..base.clone()
                },
                "access_record_version",
            ),
            (
                EngineConfig {
                    max_body_bytes: 0,
                    ..base.clone()
                },
                "max_body_bytes",
            ),
        ];
        for (config, field) in cases {
            let e = config.validate().expect_err(field);
            assert!(e.to_string().contains(field), "{field}: {e}");
        }
        let ok = EngineConfig {
            public_base_url: Some("https://gpconnect.example.nhs.uk:8443".to_owned()),
            routing_segment: String::new(),
            ..base
        };
        assert_eq!(ok.validate(), Ok(()));
    }

    #[test]
    fn targets_split_into_path_and_query() {
        assert_eq!(split_target("/a/b?x=1#f"), ("/a/b", Some("x=1")));
        assert_eq!(split_target("/a/b#f?x"), ("/a/b", None));
        assert_eq!(split_target("/a"), ("/a", None));
        assert_eq!(join_query("a=1", Some("b=2")), "a=1&b=2");
        assert_eq!(join_query("?a=1", None), "a=1");
        assert_eq!(join_query("", Some("b=2")), "b=2");
    }

    #[test]
    fn r83_switches_deny_per_capability() {
        let on = PracticeSettings {
            gp_connect_enabled: true,
            appointments_enabled: true,
            access_record_enabled: true,
            ..PracticeSettings::default()
        };
        for i in Interaction::ALL {
            assert_eq!(check_enabled(&on, i), Ok(()), "{i:?}");
            let off = PracticeSettings {
                gp_connect_enabled: false,
                ..on.clone()
            };
            assert_eq!(
                check_enabled(&off, i).map_err(|e| e.code()),
                Err(SpineCode::AccessDenied)
            );
        }
        let no_appointments = PracticeSettings {
            appointments_enabled: false,
            ..on.clone()
        };
        assert!(check_enabled(&no_appointments, Interaction::BookAppointment).is_err());
        assert!(check_enabled(&no_appointments, Interaction::ReadPatient).is_ok());
        assert!(check_enabled(&no_appointments, Interaction::GetCareRecord).is_ok());
        let no_record = PracticeSettings {
            access_record_enabled: false,
            ..on
        };
        assert!(check_enabled(&no_record, Interaction::GetConformance).is_err());
        assert!(check_enabled(&no_record, Interaction::GetCapabilityStatement).is_ok());
    }
}
