//! Decoding and validation of the GP Connect unsigned JWT access token.
//!
//! GP Connect consumers send an *unsigned* JWT (`alg: none`, empty signature)
//! in `Authorization: Bearer <token>` (appointments digest §3, accessrecord
//! digest §1.3). It carries no cryptographic proof: it is an audit record of
//! who asked (R84), plus a few rules the provider must enforce. Everything
//! here is a pure function; the current time is a parameter so rules such as
//! "expired when `now >= exp`" are testable.
//!
//! Two profiles are supported ([`JwtProfile`]): Appointment Management 1.2.9
//! (STU3) and Access Record HTML 0.7.x (DSTU2). They differ in identifier
//! system URLs, the FHIR version of the embedded resources, the extra
//! `requested_record` claim, base64url padding, and the status for a wrong
//! embedded `resourceType`.
//!
//! Failures are always [`Error`]: 400 `BAD_REQUEST` for a malformed token or
//! claim, 422 `INVALID_RESOURCE` for an embedded resource that is not valid
//! FHIR (digest §3.3 \[REC\], following the assurance test suite).
//!
//! # Limits
//! Tokens longer than [`MAX_TOKEN_LEN`] bytes (64 KiB) and JSON nested deeper
//! than [`MAX_JSON_DEPTH`] levels are rejected with 400 before any allocation
//! proportional to nesting, so hostile input cannot exhaust memory or stack.
//! Real tokens are ~2 KiB and ~6 levels deep. Duplicate JSON member names are
//! rejected too (RFC 7519 §4 allows rejecting them), so the audit trail and
//! the rule checks can never read different values for the same claim.

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use jiff::Timestamp;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{Echo, Error};

/// Longest accepted token, in bytes. Real tokens are ~2 KiB; 64 KiB bounds
/// the memory a hostile header can make us spend.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Deepest accepted JSON nesting (the top-level object is level 1). Real
/// tokens nest ~6 levels; the bound keeps the recursive parser's stack small.
pub const MAX_JSON_DEPTH: usize = 32;

/// `exp` must be exactly `iat` + this many seconds (digest §3.2, §3.3).
pub const TOKEN_LIFETIME_SECS: i64 = 300;

/// The only accepted `reason_for_request` (digest §3.2).
pub const REASON_DIRECT_CARE: &str = "directcare";

// ---------------------------------------------------------------------------
// Scope
// ---------------------------------------------------------------------------

/// A `requested_scope` value (digest §3.2; the four SMART-style scopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `patient/*.read`
    PatientRead,
    /// `patient/*.write`
    PatientWrite,
    /// `organization/*.read`
    OrganizationRead,
    /// `organization/*.write` (defined but used by no interaction).
    OrganizationWrite,
}

impl Scope {
    /// Every scope, for tables and tests.
    pub const ALL: [Scope; 4] = [
        Scope::PatientRead,
        Scope::PatientWrite,
        Scope::OrganizationRead,
        Scope::OrganizationWrite,
    ];

    /// Parse the wire value. Exact and case-sensitive (GP Connect values are
    /// case-sensitive); anything else, including space-separated lists, is `None`.
    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// The wire value, e.g. `patient/*.read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::PatientRead => "patient/*.read",
            Scope::PatientWrite => "patient/*.write",
            Scope::OrganizationRead => "organization/*.read",
            Scope::OrganizationWrite => "organization/*.write",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------
// Profile and context
// ---------------------------------------------------------------------------

/// Which GP Connect edition's token rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwtProfile {
    /// Foundations + Appointment Management 1.2.9, FHIR STU3 3.0.1
    /// (appointments digest §3). Base64url padding is tolerated.
    Appointments,
    /// Access Record HTML 0.7.x, FHIR DSTU2 1.0.2 (accessrecord digest §1.3):
    /// adds `requested_record`, uses `http://fhir.nhs.net/...` systems, and
    /// requires unpadded base64url.
    AccessRecordHtml,
}

impl JwtProfile {
    /// FHIR version of the embedded resources.
    pub fn fhir_version(self) -> &'static str {
        match self {
            JwtProfile::Appointments => "3.0.1",
            JwtProfile::AccessRecordHtml => "1.0.2",
        }
    }

    /// `requesting_organization` ODS code system.
    pub fn ods_code_system(self) -> &'static str {
        match self {
            JwtProfile::Appointments => "https://fhir.nhs.uk/Id/ods-organization-code",
            JwtProfile::AccessRecordHtml => "http://fhir.nhs.net/Id/ods-organization-code",
        }
    }

    /// `requesting_practitioner` SDS user id system. The DSTU2 value
    /// deliberately lacks `/Id/` (accessrecord §1.3: a historic assurance error
    /// that consumers must reproduce).
    pub fn sds_user_id_system(self) -> &'static str {
        match self {
            JwtProfile::Appointments => "https://fhir.nhs.uk/Id/sds-user-id",
            JwtProfile::AccessRecordHtml => "http://fhir.nhs.net/sds-user-id",
        }
    }

    /// `requesting_practitioner` SDS role profile id system (optional identifier).
    pub fn sds_role_profile_id_system(self) -> &'static str {
        match self {
            JwtProfile::Appointments => "https://fhir.nhs.uk/Id/sds-role-profile-id",
            JwtProfile::AccessRecordHtml => "http://fhir.nhs.net/Id/sds-role-profile-id",
        }
    }

    /// NHS number system (DSTU2 `requested_record`; STU3 for completeness).
    pub fn nhs_number_system(self) -> &'static str {
        match self {
            JwtProfile::Appointments => "https://fhir.nhs.uk/Id/nhs-number",
            JwtProfile::AccessRecordHtml => "http://fhir.nhs.net/Id/nhs-number",
        }
    }

    /// DSTU2 `practitionerRole.role.coding.system` for the SDS job role.
    pub fn sds_job_role_system(self) -> &'static str {
        "http://fhir.nhs.net/ValueSet/sds-job-role-name-1"
    }

    /// The `aud` the spec fixes, if any: DSTU2 fixes the authorisation
    /// server token URL; STU3 uses the deployment's service root, so `None`.
    pub fn default_audience(self) -> Option<&'static str> {
        match self {
            JwtProfile::Appointments => None,
            JwtProfile::AccessRecordHtml => Some("https://authorize.fhir.nhs.net/token"),
        }
    }

    fn base64(self) -> &'static GeneralPurpose {
        match self {
            JwtProfile::Appointments => &B64_PADDING_TOLERANT,
            JwtProfile::AccessRecordHtml => &B64_UNPADDED,
        }
    }
}

/// RFC 7515 says unpadded, but STU3 consumers built with generic base64
/// libraries sometimes pad; the 1.2.x spec does not forbid it, so tolerate it.
const B64_PADDING_TOLERANT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Access Record HTML: the reference demonstrator rejects `=`, `+` and `/`
/// (accessrecord §1.3), so padding is an error there.
const B64_UNPADDED: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// What the interaction expects of the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwtContext<'a> {
    /// The scope this interaction requires ([`crate::checks::headers::Interaction::required_scope`]).
    pub expected_scope: Scope,
    /// Which edition's rules apply.
    pub profile: JwtProfile,
    /// Reject `sub != requesting_practitioner.id` with 400. Default `true`:
    /// the spec says they must match (§3.2); the 1.2.7 suite has no active
    /// scenario, so the digest recommends enforcing it behind a flag (§3.3
    /// \[REC\]). When `false` a mismatch is only reported as a [`JwtNote`].
    pub strict_sub: bool,
    /// The `aud` this provider expects (its service root, or the DSTU2 fixed
    /// token URL). Never enforced (§3.3 \[REC\] "log only"): a mismatch is
    /// reported as [`JwtNote::AudienceMismatch`]. `None` skips the comparison.
    pub expected_audience: Option<&'a str>,
}

impl<'a> JwtContext<'a> {
    /// Context with the recommended defaults: `strict_sub = true` and the
    /// profile's fixed audience (DSTU2) or none (STU3).
    pub fn new(profile: JwtProfile, expected_scope: Scope) -> Self {
        JwtContext {
            expected_scope,
            profile,
            strict_sub: true,
            expected_audience: profile.default_audience(),
        }
    }

    /// Set [`JwtContext::strict_sub`].
    pub fn with_strict_sub(mut self, strict_sub: bool) -> Self {
        self.strict_sub = strict_sub;
        self
    }

    /// Set [`JwtContext::expected_audience`] (e.g. the STU3 service root URL).
    pub fn with_expected_audience(mut self, audience: &'a str) -> Self {
        self.expected_audience = Some(audience);
        self
    }
}

// ---------------------------------------------------------------------------
// Claims
// ---------------------------------------------------------------------------

/// Something accepted but worth logging (digest §3.3 "log only" rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtNote {
    /// The signature part is not empty; it is not verified (§3.3 \[REC\]).
    NonEmptySignature,
    /// The header `alg` is absent or not `none`; not enforced (§3.3 \[REC\]).
    UnexpectedAlgorithm(Option<String>),
    /// `iat` is after `now`; accepted per release note 1.2.3.
    IssuedInFuture,
    /// `aud` differs from [`JwtContext::expected_audience`]; log only (§3.3 \[REC\]).
    AudienceMismatch { expected: String, actual: String },
    /// `sub` differs from `requesting_practitioner.id` and `strict_sub` is off.
    SubjectMismatch {
        sub: String,
        practitioner_id: String,
    },
}

/// A practitioner's name, flattened over the STU3 (`family` string) and
/// DSTU2 (`family` array) HumanName shapes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonName {
    pub family: Option<String>,
    pub given: Vec<String>,
    pub prefix: Vec<String>,
}

impl PersonName {
    /// "prefix given family", e.g. `Dr Claire Jones`, for the audit trail.
    pub fn display(&self) -> String {
        self.prefix
            .iter()
            .chain(self.given.iter())
            .chain(self.family.iter())
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `requesting_practitioner`: the logged-on user (R84 user id, name, role).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestingPractitioner {
    /// `Practitioner.id`; equals `sub` unless `strict_sub` is off.
    pub id: String,
    pub name: PersonName,
    /// Smartcard user id, or the literal `UNK` (accepted, §3.2).
    pub sds_user_id: String,
    /// SDS role profile id if sent (may be `UNK` or absent, §3.2).
    pub role_profile_id: Option<String>,
    /// DSTU2 `practitionerRole` SDS job role code if sent (may be absent).
    pub job_role_code: Option<String>,
    /// The resource as sent, for typed parsing later.
    pub resource: Value,
}

/// `requesting_organization`: the originating organisation (R84).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestingOrganization {
    pub id: Option<String>,
    pub ods_code: String,
    pub name: String,
    pub resource: Value,
}

/// `requesting_device`: the consumer system (R84 device).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestingDevice {
    pub id: Option<String>,
    pub identifier_system: String,
    pub identifier_value: String,
    /// Consumer product name.
    pub model: String,
    /// Consumer product version.
    pub version: String,
    pub resource: Value,
}

/// DSTU2 `requested_record`: whose record is asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestedRecord {
    /// A patient record; the caller must compare `nhs_number` with the body's
    /// `patientNHSNumber` (accessrecord §1.3, mismatch → 400).
    Patient { nhs_number: String, resource: Value },
    /// An organisation (used for organisation-scoped requests such as metadata).
    Organization { ods_code: String, resource: Value },
}

/// A validated token: what the audit trail (R84) and later checks need.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtClaims {
    pub profile: JwtProfile,
    /// Header `alg` as sent (expected `none`).
    pub alg: Option<String>,
    pub iss: String,
    pub sub: String,
    pub aud: String,
    /// Seconds since the Unix epoch.
    pub iat: i64,
    /// Seconds since the Unix epoch; always `iat + 300`.
    pub exp: i64,
    pub scope: Scope,
    /// Always `directcare`.
    pub reason: String,
    pub practitioner: RequestingPractitioner,
    pub organization: RequestingOrganization,
    pub device: RequestingDevice,
    /// `Some` only for [`JwtProfile::AccessRecordHtml`].
    pub requested_record: Option<RequestedRecord>,
    /// Accepted oddities to log.
    pub notes: Vec<JwtNote>,
}

impl JwtClaims {
    /// The `requested_record` NHS number (DSTU2 patient-scoped tokens).
    pub fn requested_nhs_number(&self) -> Option<&str> {
        match &self.requested_record {
            Some(RequestedRecord::Patient { nhs_number, .. }) => Some(nhs_number),
            _ => None,
        }
    }

    /// `iat` as a timestamp (`None` if outside jiff's range).
    pub fn issued_at(&self) -> Option<Timestamp> {
        Timestamp::from_second(self.iat).ok()
    }

    /// `exp` as a timestamp (`None` if outside jiff's range).
    pub fn expires_at(&self) -> Option<Timestamp> {
        Timestamp::from_second(self.exp).ok()
    }
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

const COMMON_CLAIMS: [&str; 10] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "reason_for_request",
    "requested_scope",
    "requesting_device",
    "requesting_organization",
    "requesting_practitioner",
];

/// Decode and validate a bearer token (the text after `Bearer `), applying
/// every row of appointments digest §3.3 or, for
/// [`JwtProfile::AccessRecordHtml`], accessrecord digest §1.3.
///
/// Order: size and shape, JSON, presence of every claim (400), claim values
/// (400), embedded resources (422; DSTU2 wrong `resourceType` 400), then
/// `sub` vs practitioner id (400 when strict). Extra claims are ignored.
pub fn validate_bearer(token: &str, ctx: &JwtContext, now: Timestamp) -> Result<JwtClaims, Error> {
    let profile = ctx.profile;
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::bad_request(format!(
            "JWT is longer than {MAX_TOKEN_LEN} bytes"
        )));
    }

    // §3.1 / §3.3 row 1: three dot-separated base64url parts.
    let parts: Vec<&str> = token.splitn(4, '.').collect();
    let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
        return Err(Error::bad_request(
            "JWT must have three dot-separated base64url parts",
        ));
    };
    let header = parse_object(&decode_part(header_b64, "header", profile)?, "header")?;
    // The signature is never verified (unsigned token) and a non-empty one is
    // not rejected (§3.3 \[REC\]), but it must still be base64url to count as a
    // well-formed part.
    let signature = decode_part(signature_b64, "signature", profile)?;
    let mut payload = parse_object(&decode_part(payload_b64, "payload", profile)?, "payload")?;

    let mut notes = Vec::new();
    let alg = match header.get("alg") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    if alg.as_deref() != Some("none") {
        notes.push(JwtNote::UnexpectedAlgorithm(alg.clone()));
    }
    if !signature.is_empty() {
        notes.push(JwtNote::NonEmptySignature);
    }

    // §3.2 "all SHALL be present" (§3.3 row 2): presence first, so a missing
    // claim is 400 even when another claim would fail with 422.
    let mut required: Vec<&str> = COMMON_CLAIMS.to_vec();
    if profile == JwtProfile::AccessRecordHtml {
        required.push("requested_record");
    }
    for name in &required {
        claim(&payload, name)?;
    }

    let iss = string_claim(&payload, "iss")?.to_owned();
    let sub = string_claim(&payload, "sub")?.to_owned();
    let aud = string_claim(&payload, "aud")?.to_owned();

    // §3.3: exp − iat exactly 300 (checked subtraction: hostile values must
    // not overflow), expired when now >= exp, iat itself not validated.
    let exp = int_claim(&payload, "exp")?;
    let iat = int_claim(&payload, "iat")?;
    if exp.checked_sub(iat) != Some(TOKEN_LIFETIME_SECS) {
        return Err(Error::bad_request(format!(
            "Invalid JWT exp claim: exp must be exactly iat + {TOKEN_LIFETIME_SECS} seconds"
        )));
    }
    let now_ns = now.as_nanosecond();
    if now_ns >= i128::from(exp) * 1_000_000_000 {
        return Err(Error::bad_request("JWT has expired (exp is not after now)"));
    }
    if i128::from(iat) * 1_000_000_000 > now_ns {
        notes.push(JwtNote::IssuedInFuture);
    }

    let reason = string_claim(&payload, "reason_for_request")?;
    if reason != REASON_DIRECT_CARE {
        return Err(Error::bad_request(format!(
            "Invalid JWT reason_for_request claim: expected '{REASON_DIRECT_CARE}', got {}",
            Echo(reason)
        )));
    }
    let reason = reason.to_owned();

    let scope_text = string_claim(&payload, "requested_scope")?;
    let Some(scope) = Scope::parse(scope_text) else {
        return Err(Error::bad_request(format!(
            "Invalid JWT requested_scope claim: {} is not a GP Connect scope",
            Echo(scope_text)
        )));
    };
    if scope != ctx.expected_scope {
        return Err(Error::bad_request(format!(
            "JWT requested_scope '{scope}' does not match the interaction's scope '{}'",
            ctx.expected_scope
        )));
    }

    let device = device(take_claim(&mut payload, "requesting_device")?, profile)?;
    let organization = organization(
        take_claim(&mut payload, "requesting_organization")?,
        profile,
    )?;
    let practitioner = practitioner(
        take_claim(&mut payload, "requesting_practitioner")?,
        profile,
    )?;
    let requested_record = match profile {
        JwtProfile::Appointments => None,
        JwtProfile::AccessRecordHtml => Some(requested_record(
            take_claim(&mut payload, "requested_record")?,
            scope,
        )?),
    };

    if sub != practitioner.id {
        if ctx.strict_sub {
            return Err(Error::bad_request(
                "JWT sub claim does not match requesting_practitioner.id",
            ));
        }
        notes.push(JwtNote::SubjectMismatch {
            sub: sub.clone(),
            practitioner_id: practitioner.id.clone(),
        });
    }
    if let Some(expected) = ctx.expected_audience {
        if expected != aud {
            notes.push(JwtNote::AudienceMismatch {
                expected: expected.to_owned(),
                actual: aud.clone(),
            });
        }
    }

    Ok(JwtClaims {
        profile,
        alg,
        iss,
        sub,
        aud,
        iat,
        exp,
        scope,
        reason,
        practitioner,
        organization,
        device,
        requested_record,
        notes,
    })
}

fn decode_part(part: &str, name: &str, profile: JwtProfile) -> Result<Vec<u8>, Error> {
    profile
        .base64()
        .decode(part)
        .map_err(|_| Error::bad_request(format!("JWT {name} is not base64url encoded")))
}

fn parse_object(bytes: &[u8], name: &str) -> Result<Map<String, Value>, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Bounded { depth: 0 }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| Error::bad_request(format!("JWT {name} is not valid JSON: {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(Error::bad_request(format!(
            "JWT {name} is not a JSON object"
        ))),
    }
}

/// A present, non-null claim, else 400 naming it (spec example "Empty JWT aud claim").
fn claim<'v>(payload: &'v Map<String, Value>, name: &str) -> Result<&'v Value, Error> {
    match payload.get(name) {
        None => Err(Error::bad_request(format!("Missing JWT {name} claim"))),
        Some(Value::Null) => Err(Error::bad_request(format!("Empty JWT {name} claim"))),
        Some(v) => Ok(v),
    }
}

fn take_claim(payload: &mut Map<String, Value>, name: &str) -> Result<Value, Error> {
    claim(payload, name)?;
    payload
        .remove(name)
        .ok_or_else(|| Error::bad_request(format!("Missing JWT {name} claim")))
}

fn string_claim<'v>(payload: &'v Map<String, Value>, name: &str) -> Result<&'v str, Error> {
    match claim(payload, name)? {
        Value::String(s) if s.trim().is_empty() => {
            Err(Error::bad_request(format!("Empty JWT {name} claim")))
        }
        Value::String(s) => Ok(s),
        _ => Err(Error::bad_request(format!(
            "Invalid JWT {name} claim: expected a string"
        ))),
    }
}

/// `exp`/`iat` are integer UNIX seconds (§3.2): floats and strings are 400.
fn int_claim(payload: &Map<String, Value>, name: &str) -> Result<i64, Error> {
    claim(payload, name)?.as_i64().ok_or_else(|| {
        Error::bad_request(format!(
            "Invalid JWT {name} claim: expected integer seconds since the Unix epoch"
        ))
    })
}

// ---------------------------------------------------------------------------
// Embedded resources
// ---------------------------------------------------------------------------

/// A top-level element name and whether it is a FHIR primitive (only
/// primitives may carry a `_name` extension sibling in FHIR JSON).
type Element = (&'static str, bool);

/// Resource + DomainResource elements, identical in DSTU2 1.0.2 and STU3 3.0.1.
const BASE_ELEMENTS: &[Element] = &[
    ("id", true),
    ("meta", false),
    ("implicitRules", true),
    ("language", true),
    ("text", false),
    ("contained", false),
    ("extension", false),
    ("modifierExtension", false),
];

/// STU3 3.0.1 Device.
const STU3_DEVICE: &[Element] = &[
    ("identifier", false),
    ("udi", false),
    ("status", true),
    ("type", false),
    ("lotNumber", true),
    ("manufacturer", true),
    ("manufactureDate", true),
    ("expirationDate", true),
    ("model", true),
    ("version", true),
    ("patient", false),
    ("owner", false),
    ("contact", false),
    ("location", false),
    ("url", true),
    ("note", false),
    ("safety", false),
];

/// STU3 3.0.1 Organization.
const STU3_ORGANIZATION: &[Element] = &[
    ("identifier", false),
    ("active", true),
    ("type", false),
    ("name", true),
    ("alias", true),
    ("telecom", false),
    ("address", false),
    ("partOf", false),
    ("contact", false),
    ("endpoint", false),
];

/// STU3 3.0.1 Practitioner.
const STU3_PRACTITIONER: &[Element] = &[
    ("identifier", false),
    ("active", true),
    ("name", false),
    ("telecom", false),
    ("address", false),
    ("gender", true),
    ("birthDate", true),
    ("photo", false),
    ("qualification", false),
    ("communication", false),
];

/// STU3 3.0.1 Patient (only for completeness: STU3 tokens carry no patient).
const STU3_PATIENT: &[Element] = &[
    ("identifier", false),
    ("active", true),
    ("name", false),
    ("telecom", false),
    ("gender", true),
    ("birthDate", true),
    ("deceasedBoolean", true),
    ("deceasedDateTime", true),
    ("address", false),
    ("maritalStatus", false),
    ("multipleBirthBoolean", true),
    ("multipleBirthInteger", true),
    ("photo", false),
    ("contact", false),
    ("animal", false),
    ("communication", false),
    ("generalPractitioner", false),
    ("managingOrganization", false),
    ("link", false),
];

/// DSTU2 1.0.2 Device.
const DSTU2_DEVICE: &[Element] = &[
    ("identifier", false),
    ("type", false),
    ("note", false),
    ("status", true),
    ("manufacturer", true),
    ("model", true),
    ("version", true),
    ("manufactureDate", true),
    ("expiry", true),
    ("udi", true),
    ("lotNumber", true),
    ("owner", false),
    ("location", false),
    ("patient", false),
    ("contact", false),
    ("url", true),
];

/// DSTU2 1.0.2 Organization.
const DSTU2_ORGANIZATION: &[Element] = &[
    ("identifier", false),
    ("active", true),
    ("type", false),
    ("name", true),
    ("telecom", false),
    ("address", false),
    ("partOf", false),
    ("contact", false),
];

/// DSTU2 1.0.2 Practitioner (`name` is 0..1 here, an array in STU3).
const DSTU2_PRACTITIONER: &[Element] = &[
    ("identifier", false),
    ("active", true),
    ("name", false),
    ("telecom", false),
    ("address", false),
    ("gender", true),
    ("birthDate", true),
    ("photo", false),
    ("practitionerRole", false),
    ("qualification", false),
    ("communication", false),
];

/// DSTU2 1.0.2 Patient (`requested_record`).
const DSTU2_PATIENT: &[Element] = &[
    ("identifier", false),
    ("active", true),
    ("name", false),
    ("telecom", false),
    ("gender", true),
    ("birthDate", true),
    ("deceasedBoolean", true),
    ("deceasedDateTime", true),
    ("address", false),
    ("maritalStatus", false),
    ("multipleBirthBoolean", true),
    ("multipleBirthInteger", true),
    ("photo", false),
    ("contact", false),
    ("animal", false),
    ("communication", false),
    ("careProvider", false),
    ("managingOrganization", false),
    ("link", false),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Device,
    Organization,
    Practitioner,
    Patient,
}

impl Kind {
    fn resource_type(self) -> &'static str {
        match self {
            Kind::Device => "Device",
            Kind::Organization => "Organization",
            Kind::Practitioner => "Practitioner",
            Kind::Patient => "Patient",
        }
    }

    /// The explicit allow-list of top-level elements (besides [`BASE_ELEMENTS`]).
    fn elements(self, profile: JwtProfile) -> &'static [Element] {
        match (profile, self) {
            (JwtProfile::Appointments, Kind::Device) => STU3_DEVICE,
            (JwtProfile::Appointments, Kind::Organization) => STU3_ORGANIZATION,
            (JwtProfile::Appointments, Kind::Practitioner) => STU3_PRACTITIONER,
            (JwtProfile::Appointments, Kind::Patient) => STU3_PATIENT,
            (JwtProfile::AccessRecordHtml, Kind::Device) => DSTU2_DEVICE,
            (JwtProfile::AccessRecordHtml, Kind::Organization) => DSTU2_ORGANIZATION,
            (JwtProfile::AccessRecordHtml, Kind::Practitioner) => DSTU2_PRACTITIONER,
            (JwtProfile::AccessRecordHtml, Kind::Patient) => DSTU2_PATIENT,
        }
    }

    fn element(self, profile: JwtProfile, name: &str) -> Option<Element> {
        BASE_ELEMENTS
            .iter()
            .chain(self.elements(profile))
            .find(|(n, _)| *n == name)
            .copied()
    }

    /// A top-level key is allowed if it is a listed element, or `_name` for a
    /// listed primitive element (FHIR JSON primitive extensions).
    fn allows(self, profile: JwtProfile, key: &str) -> bool {
        match key.strip_prefix('_') {
            Some(base) => matches!(self.element(profile, base), Some((_, true))),
            None => self.element(profile, key).is_some(),
        }
    }
}

/// A resource that is not valid FHIR: 422 INVALID_RESOURCE (digest §3.3 \[REC\];
/// accessrecord §1.3 "not valid FHIR → 422").
fn invalid(claim: &str, detail: impl fmt::Display) -> Error {
    Error::invalid_resource(format!("Invalid JWT {claim} claim: {detail}"))
}

/// Borrowed view of an embedded resource with type-checked accessors; every
/// shape error is 422 naming the claim and element.
#[derive(Debug, Clone, Copy)]
struct Resource<'v> {
    claim: &'static str,
    obj: &'v Map<String, Value>,
}

/// Check the JSON shape, `resourceType` and allow-listed top-level elements
/// of an embedded resource.
fn resource<'v>(
    claim: &'static str,
    value: &'v Value,
    expected: &[Kind],
    profile: JwtProfile,
) -> Result<(Resource<'v>, Kind), Error> {
    let Value::Object(obj) = value else {
        return Err(invalid(
            claim,
            "not a FHIR resource (expected a JSON object)",
        ));
    };
    let Some(found) = obj.get("resourceType") else {
        return Err(invalid(claim, "no resourceType"));
    };
    let kind = found
        .as_str()
        .and_then(|t| expected.iter().copied().find(|k| k.resource_type() == t));
    let Some(kind) = kind else {
        let wanted: Vec<&str> = expected.iter().map(|k| k.resource_type()).collect();
        let shown = match found {
            Value::String(t) => Echo(t).to_string(),
            other => Echo(&other.to_string()).to_string(),
        };
        let msg = format!(
            "Invalid JWT {claim} claim: resourceType {shown}, expected {}",
            wanted.join(" or ")
        );
        // STU3: 422 per the test suite (§3.3 \[REC\]); DSTU2: 400 per the 0.7.4
        // suite (accessrecord §1.3).
        return Err(match profile {
            JwtProfile::Appointments => Error::invalid_resource(msg),
            JwtProfile::AccessRecordHtml => Error::bad_request(msg),
        });
    };
    // `min` gives a deterministic report whatever the map's key order.
    let unknown = obj
        .keys()
        .filter(|k| *k != "resourceType" && !kind.allows(profile, k))
        .min();
    if let Some(key) = unknown {
        return Err(invalid(
            claim,
            format!(
                "unknown element {} for a FHIR {} {}",
                Echo(key),
                profile.fhir_version(),
                kind.resource_type()
            ),
        ));
    }
    Ok((Resource { claim, obj }, kind))
}

/// An `Identifier` reduced to what the checks read.
#[derive(Debug, Clone, Copy)]
struct Ident<'v> {
    system: Option<&'v str>,
    value: Option<&'v str>,
}

impl<'v> Resource<'v> {
    fn err(&self, detail: impl fmt::Display) -> Error {
        invalid(self.claim, detail)
    }

    /// FHIR strings must have non-whitespace content; wrong type is invalid FHIR.
    fn string_at(&self, value: Option<&'v Value>, path: &str) -> Result<Option<&'v str>, Error> {
        match value {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => {
                Err(self.err(format_args!("{path} must not be empty")))
            }
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.err(format_args!("{path} must be a string"))),
        }
    }

    fn opt_str(&self, key: &str) -> Result<Option<&'v str>, Error> {
        self.string_at(self.obj.get(key), key)
    }

    fn req_str(&self, key: &str) -> Result<&'v str, Error> {
        self.opt_str(key)?
            .ok_or_else(|| self.err(format_args!("{key} is required")))
    }

    fn array_at(&self, value: Option<&'v Value>, path: &str) -> Result<&'v [Value], Error> {
        match value {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(self.err(format_args!("{path} must be an array"))),
        }
    }

    fn object_at(&self, value: &'v Value, path: &str) -> Result<&'v Map<String, Value>, Error> {
        match value {
            Value::Object(obj) => Ok(obj),
            _ => Err(self.err(format_args!("{path} must be an object"))),
        }
    }

    fn strings_at(&self, value: Option<&'v Value>, path: &str) -> Result<Vec<String>, Error> {
        self.array_at(value, path)?
            .iter()
            .map(|v| {
                self.string_at(Some(v), path)
                    .map(|s| s.unwrap_or_default().to_owned())
            })
            .collect()
    }

    fn identifiers(&self) -> Result<Vec<Ident<'v>>, Error> {
        self.array_at(self.obj.get("identifier"), "identifier")?
            .iter()
            .map(|item| {
                let obj = self.object_at(item, "identifier")?;
                Ok(Ident {
                    system: self.string_at(obj.get("system"), "identifier.system")?,
                    value: self.string_at(obj.get("value"), "identifier.value")?,
                })
            })
            .collect()
    }

    /// The value of the first identifier with `system`, or `None`.
    fn identifier_value(&self, system: &str) -> Result<Option<&'v str>, Error> {
        Ok(self
            .identifiers()?
            .into_iter()
            .filter(|i| i.system == Some(system))
            .find_map(|i| i.value))
    }

    fn required_identifier(&self, system: &str) -> Result<&'v str, Error> {
        self.identifier_value(system)?.ok_or_else(|| {
            self.err(format_args!(
                "no identifier with system {system} and a value"
            ))
        })
    }

    /// STU3 HumanName: `name` is an array; the `official` one wins, else the first.
    /// DSTU2 HumanName: `name` is one object and `family` is an array.
    fn person_name(&self, profile: JwtProfile) -> Result<PersonName, Error> {
        let name = match (profile, self.obj.get("name")) {
            (_, None) => return Err(self.err("name is required")),
            (JwtProfile::Appointments, Some(value)) => {
                let names = self.array_at(Some(value), "name")?;
                let objects = names
                    .iter()
                    .map(|n| self.object_at(n, "name"))
                    .collect::<Result<Vec<_>, _>>()?;
                let official = objects
                    .iter()
                    .find(|n| n.get("use").and_then(Value::as_str) == Some("official"));
                match official.or(objects.first()) {
                    Some(name) => *name,
                    None => return Err(self.err("name must not be empty")),
                }
            }
            (JwtProfile::AccessRecordHtml, Some(value)) => self.object_at(value, "name")?,
        };
        let family = match profile {
            JwtProfile::Appointments => self
                .string_at(name.get("family"), "name.family")?
                .map(str::to_owned),
            JwtProfile::AccessRecordHtml => {
                let parts = self.strings_at(name.get("family"), "name.family")?;
                (!parts.is_empty()).then(|| parts.join(" "))
            }
        };
        Ok(PersonName {
            family,
            given: self.strings_at(name.get("given"), "name.given")?,
            prefix: self.strings_at(name.get("prefix"), "name.prefix")?,
        })
    }

    /// DSTU2 `practitionerRole[].role.coding[]` code in the SDS job role system.
    fn job_role_code(&self, system: &str) -> Result<Option<String>, Error> {
        for role in self.array_at(self.obj.get("practitionerRole"), "practitionerRole")? {
            let role = self.object_at(role, "practitionerRole")?;
            let Some(concept) = role.get("role") else {
                continue;
            };
            let concept = self.object_at(concept, "practitionerRole.role")?;
            let codings = self.array_at(concept.get("coding"), "practitionerRole.role.coding")?;
            for coding in codings {
                let coding = self.object_at(coding, "practitionerRole.role.coding")?;
                let sys = self.string_at(coding.get("system"), "coding.system")?;
                let code = self.string_at(coding.get("code"), "coding.code")?;
                if let (Some(sys), Some(code)) = (sys, code) {
                    if sys == system {
                        return Ok(Some(code.to_owned()));
                    }
                }
            }
        }
        Ok(None)
    }
}

/// `requesting_device`: identifier (system, value), model and version are
/// MUST-populate (§3.2; DSTU2 also `id`, accessrecord §1.3).
fn device(value: Value, profile: JwtProfile) -> Result<RequestingDevice, Error> {
    let (res, _) = resource("requesting_device", &value, &[Kind::Device], profile)?;
    let id = res.opt_str("id")?;
    if profile == JwtProfile::AccessRecordHtml && id.is_none() {
        return Err(res.err("id is required"));
    }
    let Some((system, identifier)) = res
        .identifiers()?
        .into_iter()
        .find_map(|i| i.system.zip(i.value))
    else {
        return Err(res.err("an identifier with system and value is required"));
    };
    let mut device = RequestingDevice {
        id: id.map(str::to_owned),
        identifier_system: system.to_owned(),
        identifier_value: identifier.to_owned(),
        model: res.req_str("model")?.to_owned(),
        version: res.req_str("version")?.to_owned(),
        resource: Value::Null,
    };
    // `res` borrows `value`; move the resource in once the borrow ends.
    device.resource = value;
    Ok(device)
}

/// `requesting_organization`: name and ODS identifier are MUST-populate
/// (§3.2; DSTU2 also `id`). Any organisation is accepted: it need not match
/// the practice or the booking organisation (§3.3 "JWT Org Different").
fn organization(value: Value, profile: JwtProfile) -> Result<RequestingOrganization, Error> {
    let (res, _) = resource(
        "requesting_organization",
        &value,
        &[Kind::Organization],
        profile,
    )?;
    let id = res.opt_str("id")?;
    if profile == JwtProfile::AccessRecordHtml && id.is_none() {
        return Err(res.err("id is required"));
    }
    let mut organization = RequestingOrganization {
        id: id.map(str::to_owned),
        ods_code: res
            .required_identifier(profile.ods_code_system())?
            .to_owned(),
        name: res.req_str("name")?.to_owned(),
        resource: Value::Null,
    };
    // `res` borrows `value`; move the resource in once the borrow ends.
    organization.resource = value;
    Ok(organization)
}

/// `requesting_practitioner`: `id`, `name` and the SDS user id identifier are
/// required; the user id may be `UNK`, and the role-profile and local ids
/// (and DSTU2 `practitionerRole`) may be absent (§3.2, §3.3; 0.7 int/jwt
/// "not always present").
fn practitioner(value: Value, profile: JwtProfile) -> Result<RequestingPractitioner, Error> {
    let (res, _) = resource(
        "requesting_practitioner",
        &value,
        &[Kind::Practitioner],
        profile,
    )?;
    let mut practitioner = RequestingPractitioner {
        id: res.req_str("id")?.to_owned(),
        name: res.person_name(profile)?,
        sds_user_id: res
            .required_identifier(profile.sds_user_id_system())?
            .to_owned(),
        role_profile_id: res
            .identifier_value(profile.sds_role_profile_id_system())?
            .map(str::to_owned),
        job_role_code: match profile {
            JwtProfile::Appointments => None,
            JwtProfile::AccessRecordHtml => res.job_role_code(profile.sds_job_role_system())?,
        },
        resource: Value::Null,
    };
    // `res` borrows `value`; move the resource in once the borrow ends.
    practitioner.resource = value;
    Ok(practitioner)
}

/// DSTU2 `requested_record`: a Patient with an NHS number, or (0.7 int/jwt)
/// an Organization with an ODS code. A patient-scoped request must name a
/// Patient so the caller can match the body's `patientNHSNumber`.
fn requested_record(value: Value, scope: Scope) -> Result<RequestedRecord, Error> {
    let profile = JwtProfile::AccessRecordHtml;
    let allowed: &[Kind] = match scope {
        Scope::PatientRead | Scope::PatientWrite => &[Kind::Patient],
        Scope::OrganizationRead | Scope::OrganizationWrite => &[Kind::Patient, Kind::Organization],
    };
    let (res, kind) = resource("requested_record", &value, allowed, profile)?;
    if kind == Kind::Organization {
        let ods_code = res
            .required_identifier(profile.ods_code_system())?
            .to_owned();
        return Ok(RequestedRecord::Organization {
            ods_code,
            resource: value,
        });
    }
    let nhs_number = res
        .required_identifier(profile.nhs_number_system())?
        .to_owned();
    Ok(RequestedRecord::Patient {
        nhs_number,
        resource: value,
    })
}

// ---------------------------------------------------------------------------
// Bounded JSON
// ---------------------------------------------------------------------------

/// Builds a `serde_json::Value` while refusing nesting beyond
/// [`MAX_JSON_DEPTH`] (checked before descending, so recursion is bounded)
/// and duplicate member names.
#[derive(Debug, Clone, Copy)]
struct Bounded {
    depth: usize,
}

impl Bounded {
    fn enter<E: de::Error>(self) -> Result<Bounded, E> {
        let depth = self.depth + 1;
        if depth > MAX_JSON_DEPTH {
            return Err(E::custom(format_args!(
                "nested deeper than {MAX_JSON_DEPTH} levels"
            )));
        }
        Ok(Bounded { depth })
    }
}

impl<'de> DeserializeSeed<'de> for Bounded {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if members.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate member {}",
                    Echo(&key)
                )));
            }
            let value = map.next_value_seed(inner)?;
            members.insert(key, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SpineCode;
    use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
    use proptest::prelude::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;

    fn now() -> Timestamp {
        Timestamp::from_second(NOW).expect("fixed test time is in range")
    }

    fn encode(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    /// Builds `header.payload.` (unsigned, unpadded) from a claims value.
    fn token(claims: &Value) -> String {
        token_with(&json!({"alg": "none", "typ": "JWT"}), claims, "")
    }

    fn token_with(header: &Value, claims: &Value, signature: &str) -> String {
        format!("{}.{}.{signature}", encode(header), encode(claims))
    }

    /// A valid STU3 (1.2.9) claims set issued at `NOW - 10`.
    fn stu3_claims() -> Value {
        let iat = NOW - 10;
        json!({
            "iss": "https://consumersupplier.thirdparty.nhs.uk/",
            "sub": "1",
            "aud": "https://providersupplier.thirdparty.nhs.uk/GP0001/STU3/1/gpconnect",
            "exp": iat + 300,
            "iat": iat,
            "reason_for_request": "directcare",
            "requested_scope": "patient/*.read",
            "requesting_device": {
                "resourceType": "Device",
                "identifier": [{"system": "https://consumersupplier.com/Id/device-identifier", "value": "CONS-APP-4"}],
                "model": "Consumer product name",
                "version": "5.3.0"
            },
            "requesting_organization": {
                "resourceType": "Organization",
                "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A1001"}],
                "name": "Test Hospital"
            },
            "requesting_practitioner": {
                "resourceType": "Practitioner",
                "id": "1",
                "name": [{"family": "Jones", "given": ["Claire"], "prefix": ["Dr"]}],
                "identifier": [
                    {"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "111222333444"},
                    {"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "444555666777"},
                    {"system": "https://consumersupplier.com/Id/user-guid", "value": "98ed4f78-814d-4266-8d5b-cde742f3093c"}
                ]
            }
        })
    }

    /// A valid DSTU2 (Access Record HTML 0.7.x) claims set, from the 0.7 int/jwt example.
    fn dstu2_claims() -> Value {
        let iat = NOW - 10;
        json!({
            "iss": "http://consumersupplier.thirdparty.nhs.uk/",
            "sub": "f7737bf5-cfe7-491c-af3a-6f7177d5aee1",
            "aud": "https://authorize.fhir.nhs.net/token",
            "exp": iat + 300,
            "iat": iat,
            "reason_for_request": "directcare",
            "requested_scope": "patient/*.read",
            "requested_record": {
                "resourceType": "Patient",
                "identifier": [{"system": "http://fhir.nhs.net/Id/nhs-number", "value": "9658218873"}]
            },
            "requesting_device": {
                "resourceType": "Device",
                "id": "c4c8d038-913a-490c-9682-47047f4155fb",
                "identifier": [{"system": "http://consumersupplier.com/Id/device-identifier", "value": "CONS-APP-4"}],
                "model": "Consumer product name",
                "version": "5.3.0"
            },
            "requesting_organization": {
                "resourceType": "Organization",
                "id": "79600119-ebaf-4362-bb89-d473a33b1675",
                "identifier": [{"system": "http://fhir.nhs.net/Id/ods-organization-code", "value": "A1001"}],
                "name": "Test Hospital"
            },
            "requesting_practitioner": {
                "resourceType": "Practitioner",
                "id": "f7737bf5-cfe7-491c-af3a-6f7177d5aee1",
                "identifier": [
                    {"system": "http://fhir.nhs.net/sds-user-id", "value": "111222333444"},
                    {"system": "http://consumersupplier.com/Id/user-guid", "value": "54b9d987-c2f1-4fdd-a449-e67cdf41dd2b"}
                ],
                "name": {"family": ["Jones"], "given": ["Claire"], "prefix": ["Dr"]},
                "practitionerRole": [{"role": {"coding": [
                    {"system": "http://fhir.nhs.net/ValueSet/sds-job-role-name-1", "code": "R8000"}
                ]}}]
            }
        })
    }

    fn stu3(scope: Scope) -> JwtContext<'static> {
        JwtContext::new(JwtProfile::Appointments, scope)
    }

    fn dstu2() -> JwtContext<'static> {
        JwtContext::new(JwtProfile::AccessRecordHtml, Scope::PatientRead)
    }

    fn check(claims: &Value) -> Result<JwtClaims, Error> {
        validate_bearer(&token(claims), &stu3(Scope::PatientRead), now())
    }

    fn check_ar(claims: &Value) -> Result<JwtClaims, Error> {
        validate_bearer(&token(claims), &dstu2(), now())
    }

    #[track_caller]
    fn assert_rejected(result: Result<JwtClaims, Error>, status: u16, code: SpineCode) -> Error {
        match result {
            Ok(claims) => panic!("expected {status} {code}, got Ok({claims:?})"),
            Err(e) => {
                assert_eq!((e.status(), e.code()), (status, code), "{e}");
                e
            }
        }
    }

    #[track_caller]
    fn assert_400(result: Result<JwtClaims, Error>) -> Error {
        assert_rejected(result, 400, SpineCode::BadRequest)
    }

    #[track_caller]
    fn assert_422(result: Result<JwtClaims, Error>) -> Error {
        assert_rejected(result, 422, SpineCode::InvalidResource)
    }

    /// Set `claims[path...] = value` where the path is object keys.
    fn set(claims: &mut Value, path: &[&str], value: Value) {
        let mut at = claims;
        for key in &path[..path.len() - 1] {
            at = &mut at[*key];
        }
        at[path[path.len() - 1]] = value;
    }

    fn remove(claims: &mut Value, path: &[&str]) {
        let mut at = claims;
        for key in &path[..path.len() - 1] {
            at = &mut at[*key];
        }
        if let Value::Object(map) = at {
            map.remove(path[path.len() - 1]);
        }
    }

    // ---- valid tokens ------------------------------------------------------

    #[test]
    fn jwt_valid_appointments_token_is_accepted_with_audit_fields() {
        let claims = check(&stu3_claims()).expect("valid token");
        assert_eq!(claims.iss, "https://consumersupplier.thirdparty.nhs.uk/");
        assert_eq!(claims.sub, "1");
        assert_eq!(
            claims.aud,
            "https://providersupplier.thirdparty.nhs.uk/GP0001/STU3/1/gpconnect"
        );
        assert_eq!(claims.exp - claims.iat, 300);
        assert_eq!(claims.scope, Scope::PatientRead);
        assert_eq!(claims.reason, "directcare");
        assert_eq!(claims.alg.as_deref(), Some("none"));
        assert_eq!(claims.practitioner.id, "1");
        assert_eq!(claims.practitioner.name.display(), "Dr Claire Jones");
        assert_eq!(claims.practitioner.sds_user_id, "111222333444");
        assert_eq!(
            claims.practitioner.role_profile_id.as_deref(),
            Some("444555666777")
        );
        assert_eq!(claims.practitioner.job_role_code, None);
        assert_eq!(claims.organization.ods_code, "A1001");
        assert_eq!(claims.organization.name, "Test Hospital");
        assert_eq!(claims.device.identifier_value, "CONS-APP-4");
        assert_eq!(
            claims.device.identifier_system,
            "https://consumersupplier.com/Id/device-identifier"
        );
        assert_eq!(claims.device.model, "Consumer product name");
        assert_eq!(claims.device.version, "5.3.0");
        assert_eq!(
            claims.practitioner.resource["resourceType"],
            json!("Practitioner")
        );
        assert_eq!(claims.device.resource["resourceType"], json!("Device"));
        assert_eq!(
            claims.organization.resource["resourceType"],
            json!("Organization")
        );
        assert_eq!(claims.requested_record, None);
        assert_eq!(claims.requested_nhs_number(), None);
        assert_eq!(claims.expires_at(), Timestamp::from_second(NOW + 290).ok());
        assert_eq!(claims.issued_at(), Timestamp::from_second(NOW - 10).ok());
        assert!(claims.notes.is_empty(), "{:?}", claims.notes);
    }

    #[test]
    fn jwt_extra_claims_are_ignored() {
        let mut claims = stu3_claims();
        set(&mut claims, &["jti"], json!("abc"));
        set(
            &mut claims,
            &["requested_record"],
            json!({"anything": [1, 2]}),
        );
        check(&claims).expect("extra claims are allowed");
    }

    // ---- §3.3 row 1: shape, base64url, JSON ------------------------------------

    #[test]
    fn jwt_must_have_three_dot_separated_parts() {
        let good = token(&stu3_claims());
        let (two, _) = good.rsplit_once('.').expect("token has dots");
        assert_400(validate_bearer(two, &stu3(Scope::PatientRead), now()));
        let four = format!("{good}.");
        assert_400(validate_bearer(&four, &stu3(Scope::PatientRead), now()));
        assert_400(validate_bearer("", &stu3(Scope::PatientRead), now()));
        assert_400(validate_bearer("..", &stu3(Scope::PatientRead), now()));
    }

    #[test]
    fn jwt_not_base64_encoded_is_400() {
        // The suite's "JWT not base64 encoded": raw JSON parts.
        let raw = format!(
            "{}.{}.",
            json!({"alg": "none", "typ": "JWT"}),
            stu3_claims()
        );
        let e = assert_400(validate_bearer(&raw, &stu3(Scope::PatientRead), now()));
        assert!(e.diagnostics().contains("base64url"), "{e}");
    }

    #[test]
    fn jwt_standard_base64_alphabet_is_400() {
        // `+` and `/` belong to standard base64, not base64url: swap the
        // payload's first character so only the alphabet is wrong.
        let good = token(&stu3_claims());
        let (header, rest) = good.split_once('.').expect("token has dots");
        for c in ['+', '/'] {
            let bad = format!("{header}.{c}{}", &rest[1..]);
            let e = assert_400(validate_bearer(&bad, &stu3(Scope::PatientRead), now()));
            assert!(e.diagnostics().contains("base64url"), "{e}");
        }
    }

    #[test]
    fn jwt_payload_not_json_is_400() {
        let header = encode(&json!({"alg": "none", "typ": "JWT"}));
        let t = format!("{header}.{}.", URL_SAFE_NO_PAD.encode("not json"));
        let e = assert_400(validate_bearer(&t, &stu3(Scope::PatientRead), now()));
        assert!(e.diagnostics().contains("payload"), "{e}");
        let t = format!(
            "{header}.{}.",
            URL_SAFE_NO_PAD.encode("{\"iss\":1} trailing")
        );
        assert_400(validate_bearer(&t, &stu3(Scope::PatientRead), now()));
        let t = format!("{header}..");
        assert_400(validate_bearer(&t, &stu3(Scope::PatientRead), now()));
    }

    #[test]
    fn jwt_payload_must_be_an_object() {
        for payload in [json!([1, 2]), json!("claims"), json!(null), json!(3)] {
            assert_400(check(&payload));
        }
    }

    #[test]
    fn jwt_header_not_json_object_is_400() {
        let claims = encode(&stu3_claims());
        for header in ["", "e30", "W10"] {
            // "" is empty, "e30" is `{}` (accepted below), "W10" is `[]`.
            let t = format!("{header}.{claims}.");
            let result = validate_bearer(&t, &stu3(Scope::PatientRead), now());
            if header == "e30" {
                let ok = result.expect("an empty header object is tolerated");
                assert!(ok.notes.contains(&JwtNote::UnexpectedAlgorithm(None)));
            } else {
                assert_400(result);
            }
        }
    }

    #[test]
    fn jwt_non_empty_signature_is_accepted() {
        let t = token_with(
            &json!({"alg": "HS256", "typ": "JWT"}),
            &stu3_claims(),
            "c2lnbmF0dXJl",
        );
        let claims = validate_bearer(&t, &stu3(Scope::PatientRead), now()).expect("accepted");
        assert!(claims.notes.contains(&JwtNote::NonEmptySignature));
        assert!(
            claims
                .notes
                .contains(&JwtNote::UnexpectedAlgorithm(Some("HS256".into())))
        );
    }

    #[test]
    fn jwt_signature_must_be_base64url() {
        let t = token_with(&json!({"alg": "none"}), &stu3_claims(), "not base64!");
        assert_400(validate_bearer(&t, &stu3(Scope::PatientRead), now()));
    }

    #[test]
    fn jwt_padded_base64url_is_tolerated_for_appointments() {
        let t = format!(
            "{}.{}.",
            URL_SAFE.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
            URL_SAFE.encode(format!("{} ", stu3_claims()))
        );
        assert!(t.contains('='), "fixture must actually be padded");
        validate_bearer(&t, &stu3(Scope::PatientRead), now()).expect("padding tolerated");
    }

    #[test]
    fn jwt_duplicate_claim_is_400() {
        let header = encode(&json!({"alg": "none"}));
        let body = stu3_claims().to_string();
        let dup = format!(
            "{{\"requested_scope\":\"organization/*.read\",{}",
            &body[1..]
        );
        let t = format!("{header}.{}.", URL_SAFE_NO_PAD.encode(dup));
        let e = assert_400(validate_bearer(&t, &stu3(Scope::PatientRead), now()));
        assert!(e.diagnostics().contains("duplicate"), "{e}");
    }

    // ---- limits ----------------------------------------------------------------

    #[test]
    fn jwt_longer_than_64_kib_is_400() {
        let mut claims = stu3_claims();
        set(&mut claims, &["padding"], json!("x".repeat(MAX_TOKEN_LEN)));
        let e = assert_400(check(&claims));
        assert!(e.diagnostics().contains("longer"), "{e}");
    }

    #[test]
    fn jwt_just_under_the_size_limit_is_accepted() {
        let mut claims = stu3_claims();
        let base = token(&claims).len();
        // base64 expands 3 bytes to 4; leave a little slack for the key.
        let room = (MAX_TOKEN_LEN - base) * 3 / 4 - 32;
        set(&mut claims, &["padding"], json!("x".repeat(room)));
        let t = token(&claims);
        assert!(t.len() <= MAX_TOKEN_LEN && t.len() > MAX_TOKEN_LEN - 64);
        validate_bearer(&t, &stu3(Scope::PatientRead), now()).expect("under the limit");
    }

    fn nested(levels: usize) -> Value {
        (0..levels).fold(json!(0), |inner, _| json!([inner]))
    }

    #[test]
    fn jwt_nesting_deeper_than_32_levels_is_400() {
        // The payload object is level 1, so 31 arrays inside reach exactly 32.
        let mut claims = stu3_claims();
        set(&mut claims, &["deep"], nested(MAX_JSON_DEPTH - 1));
        check(&claims).expect("32 levels are allowed");
        set(&mut claims, &["deep"], nested(MAX_JSON_DEPTH));
        let e = assert_400(check(&claims));
        assert!(e.diagnostics().contains("nested deeper"), "{e}");
    }

    #[test]
    fn jwt_hostile_nesting_does_not_overflow_the_stack() {
        let header = encode(&json!({"alg": "none"}));
        let payload = URL_SAFE_NO_PAD.encode("[".repeat(40_000));
        let t = format!("{header}.{payload}.");
        assert_400(validate_bearer(&t, &stu3(Scope::PatientRead), now()));
    }

    // ---- §3.3 row 2: required claims ---------------------------------------------

    #[test]
    fn jwt_missing_or_null_required_claim_is_400_naming_it() {
        for name in COMMON_CLAIMS {
            let mut claims = stu3_claims();
            remove(&mut claims, &[name]);
            let e = assert_400(check(&claims));
            assert_eq!(e.diagnostics(), format!("Missing JWT {name} claim"));

            let mut claims = stu3_claims();
            set(&mut claims, &[name], Value::Null);
            let e = assert_400(check(&claims));
            assert_eq!(e.diagnostics(), format!("Empty JWT {name} claim"));
        }
    }

    #[test]
    fn jwt_null_aud_is_empty_jwt_aud_claim() {
        let mut claims = stu3_claims();
        set(&mut claims, &["aud"], Value::Null);
        let e = assert_400(check(&claims));
        assert_eq!(e.diagnostics(), "Empty JWT aud claim");
    }

    #[test]
    fn jwt_string_claims_must_be_non_empty_strings() {
        for name in ["iss", "sub", "aud", "reason_for_request", "requested_scope"] {
            let mut claims = stu3_claims();
            set(&mut claims, &[name], json!(""));
            assert_400(check(&claims));
            set(&mut claims, &[name], json!(42));
            assert_400(check(&claims));
        }
    }

    #[test]
    fn jwt_missing_claim_wins_over_invalid_resource() {
        let mut claims = stu3_claims();
        set(&mut claims, &["requesting_device", "bogus"], json!(1));
        remove(&mut claims, &["iss"]);
        assert_400(check(&claims));
    }

    // ---- §3.3 rows 3-5: lifetime -------------------------------------------------

    fn with_times(iat: i64, exp: i64) -> Value {
        let mut claims = stu3_claims();
        set(&mut claims, &["iat"], json!(iat));
        set(&mut claims, &["exp"], json!(exp));
        claims
    }

    #[test]
    fn jwt_exp_minus_iat_must_be_300() {
        let iat = NOW - 10;
        check(&with_times(iat, iat + 300)).expect("300 is exact");
        for delta in [301, 299, -1, 0, 600] {
            assert_400(check(&with_times(iat, iat + delta)));
        }
    }

    #[test]
    fn jwt_exp_and_iat_must_be_integers() {
        let iat = NOW - 10;
        for (iat_v, exp_v) in [
            (json!(iat as f64 + 0.5), json!(iat + 300)),
            (json!(iat), json!((iat + 300) as f64 + 0.5)),
            (json!(iat.to_string()), json!(iat + 300)),
            (json!(iat), json!((iat + 300).to_string())),
            (json!(iat), json!(u64::MAX)),
        ] {
            let mut claims = stu3_claims();
            set(&mut claims, &["iat"], iat_v);
            set(&mut claims, &["exp"], exp_v);
            assert_400(check(&claims));
        }
    }

    #[test]
    fn jwt_extreme_exp_and_iat_do_not_overflow() {
        assert_400(check(&with_times(i64::MIN, i64::MAX)));
        assert_400(check(&with_times(i64::MAX, i64::MIN)));
        assert_400(check(&with_times(i64::MIN, i64::MIN + 300)));
        // iat is not validated (release 1.2.3), so a far-future token is
        // accepted; it must simply not overflow, and its times fall outside
        // jiff's range.
        let far = check(&with_times(i64::MAX - 300, i64::MAX)).expect("iat not validated");
        assert_eq!((far.issued_at(), far.expires_at()), (None, None));
    }

    #[test]
    fn jwt_expired_token_is_400() {
        // Suite: iat = now - 600, exp = iat + 300.
        let e = assert_400(check(&with_times(NOW - 600, NOW - 300)));
        assert!(e.diagnostics().contains("expired"), "{e}");
    }

    #[test]
    fn jwt_is_expired_when_now_equals_exp() {
        assert_400(check(&with_times(NOW - 300, NOW)));
        let just_before = Timestamp::from_second(NOW - 1)
            .and_then(|t| t.checked_add(jiff::SignedDuration::from_nanos(999_999_999)))
            .expect("in range");
        let t = token(&with_times(NOW - 300, NOW));
        validate_bearer(&t, &stu3(Scope::PatientRead), just_before).expect("not yet expired");
    }

    #[test]
    fn jwt_iat_in_future_is_accepted() {
        let claims = check(&with_times(NOW + 200, NOW + 500)).expect("release 1.2.3");
        assert!(claims.notes.contains(&JwtNote::IssuedInFuture));
    }

    // ---- §3.3 rows 6-8: reason and scope ------------------------------------------

    #[test]
    fn jwt_reason_for_request_must_be_directcare() {
        for reason in ["notdirectcare", "DirectCare", "directcare "] {
            let mut claims = stu3_claims();
            set(&mut claims, &["reason_for_request"], json!(reason));
            let e = assert_400(check(&claims));
            assert!(e.diagnostics().contains("reason_for_request"), "{e}");
        }
    }

    #[test]
    fn jwt_unknown_scope_is_400() {
        for scope in [
            "badScope",
            "Patient/*.read",
            "patient/*.read organization/*.read",
        ] {
            let mut claims = stu3_claims();
            set(&mut claims, &["requested_scope"], json!(scope));
            let e = assert_400(check(&claims));
            assert!(e.diagnostics().contains("requested_scope"), "{e}");
        }
    }

    #[test]
    fn jwt_wrong_scope_for_interaction_is_400() {
        use crate::checks::headers::Interaction;
        let a6 = Interaction::RetrievePatientAppointments.required_scope();
        let f4 = Interaction::RegisterPatient.required_scope();
        let cases = [
            (a6, Scope::OrganizationWrite),
            (a6, Scope::PatientWrite),
            (f4, Scope::PatientRead),
            (f4, Scope::OrganizationRead),
        ];
        for (expected, sent) in cases {
            let mut claims = stu3_claims();
            set(&mut claims, &["requested_scope"], json!(sent.as_str()));
            assert_400(validate_bearer(&token(&claims), &stu3(expected), now()));
        }
        for scope in Scope::ALL {
            let mut claims = stu3_claims();
            set(&mut claims, &["requested_scope"], json!(scope.as_str()));
            validate_bearer(&token(&claims), &stu3(scope), now()).expect("matching scope");
        }
    }

    #[test]
    fn scope_parse_round_trips_and_is_exact() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
            assert_eq!(scope.to_string(), scope.as_str());
        }
        assert_eq!(Scope::parse("patient/*.READ"), None);
        assert_eq!(Scope::parse(" patient/*.read"), None);
    }

    // ---- §3.3: sub, aud --------------------------------------------------------

    #[test]
    fn jwt_sub_must_equal_practitioner_id_when_strict() {
        let mut claims = stu3_claims();
        set(&mut claims, &["sub"], json!("2"));
        let ctx = stu3(Scope::PatientRead);
        assert!(ctx.strict_sub, "strict by default ([REC])");
        let e = assert_400(validate_bearer(&token(&claims), &ctx, now()));
        assert!(e.diagnostics().contains("sub"), "{e}");
    }

    #[test]
    fn jwt_sub_mismatch_is_only_noted_when_not_strict() {
        let mut claims = stu3_claims();
        set(&mut claims, &["sub"], json!("2"));
        let ctx = stu3(Scope::PatientRead).with_strict_sub(false);
        let claims = validate_bearer(&token(&claims), &ctx, now()).expect("lenient");
        assert_eq!(
            claims.notes,
            vec![JwtNote::SubjectMismatch {
                sub: "2".into(),
                practitioner_id: "1".into()
            }]
        );
    }

    #[test]
    fn jwt_aud_is_log_only() {
        let mut claims = stu3_claims();
        set(&mut claims, &["aud"], json!("https://elsewhere.example/"));
        let ctx = stu3(Scope::PatientRead).with_expected_audience("https://me.example/");
        let claims = validate_bearer(&token(&claims), &ctx, now()).expect("log only");
        assert_eq!(
            claims.notes,
            vec![JwtNote::AudienceMismatch {
                expected: "https://me.example/".into(),
                actual: "https://elsewhere.example/".into()
            }]
        );
    }

    // ---- §3.3: embedded resources ------------------------------------------------

    #[test]
    fn jwt_invalid_device_is_422() {
        let mut claims = stu3_claims();
        set(&mut claims, &["requesting_device", "notAField"], json!("x"));
        let e = assert_422(check(&claims));
        assert!(e.diagnostics().contains("requesting_device"), "{e}");
        assert!(e.diagnostics().contains("notAField"), "{e}");
    }

    #[test]
    fn jwt_invalid_practitioner_and_organization_are_422() {
        for claim in [
            "requesting_practitioner",
            "requesting_organization",
            "requesting_device",
        ] {
            let mut claims = stu3_claims();
            set(&mut claims, &[claim, "invalidField"], json!(true));
            assert_422(check(&claims));
        }
    }

    #[test]
    fn jwt_wrong_resource_type_is_422_for_appointments() {
        for claim in [
            "requesting_practitioner",
            "requesting_organization",
            "requesting_device",
        ] {
            for rt in [json!("Patient"), json!("InvalidResourceType"), json!(7)] {
                let mut claims = stu3_claims();
                set(&mut claims, &[claim, "resourceType"], rt);
                assert_422(check(&claims));
            }
            let mut claims = stu3_claims();
            remove(&mut claims, &[claim, "resourceType"]);
            assert_422(check(&claims));
        }
    }

    #[test]
    fn jwt_embedded_resource_not_an_object_is_422() {
        for claim in [
            "requesting_practitioner",
            "requesting_organization",
            "requesting_device",
        ] {
            for v in [json!("Practitioner"), json!([]), json!(1)] {
                let mut claims = stu3_claims();
                set(&mut claims, &[claim], v);
                assert_422(check(&claims));
            }
        }
    }

    #[test]
    fn jwt_base_resource_elements_are_allowed() {
        let mut claims = stu3_claims();
        for claim in [
            "requesting_practitioner",
            "requesting_organization",
            "requesting_device",
        ] {
            set(&mut claims, &[claim, "meta"], json!({"versionId": "1"}));
            set(&mut claims, &[claim, "language"], json!("en-GB"));
            set(&mut claims, &[claim, "implicitRules"], json!("http://x"));
            set(
                &mut claims,
                &[claim, "text"],
                json!({"status": "generated", "div": "<div/>"}),
            );
            set(&mut claims, &[claim, "contained"], json!([]));
            set(
                &mut claims,
                &[claim, "extension"],
                json!([{"url": "http://x", "valueString": "y"}]),
            );
            set(&mut claims, &[claim, "modifierExtension"], json!([]));
        }
        set(
            &mut claims,
            &["requesting_device", "status"],
            json!("active"),
        );
        set(
            &mut claims,
            &["requesting_organization", "alias"],
            json!(["TH"]),
        );
        set(
            &mut claims,
            &["requesting_practitioner", "gender"],
            json!("female"),
        );
        check(&claims).expect("base STU3 elements are allowed");
    }

    #[test]
    fn jwt_primitive_extension_keys_are_allowed_only_for_primitives() {
        let mut claims = stu3_claims();
        set(
            &mut claims,
            &["requesting_device", "_model"],
            json!({"extension": []}),
        );
        set(
            &mut claims,
            &["requesting_practitioner", "_birthDate"],
            json!({"id": "x"}),
        );
        check(&claims).expect("_primitive allowed");

        let mut claims = stu3_claims();
        set(
            &mut claims,
            &["requesting_device", "_identifier"],
            json!({}),
        );
        assert_422(check(&claims));
        let mut claims = stu3_claims();
        set(&mut claims, &["requesting_device", "_unknown"], json!({}));
        assert_422(check(&claims));
    }

    #[test]
    fn jwt_dstu2_only_elements_are_unknown_in_stu3() {
        let mut claims = stu3_claims();
        set(
            &mut claims,
            &["requesting_practitioner", "practitionerRole"],
            json!([]),
        );
        assert_422(check(&claims));
        let mut claims = stu3_claims();
        set(&mut claims, &["requesting_device", "expiry"], json!("2020"));
        assert_422(check(&claims));
    }

    #[test]
    fn jwt_unk_identifiers_are_accepted() {
        let mut claims = stu3_claims();
        set(
            &mut claims,
            &["requesting_practitioner", "identifier"],
            json!([
                {"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "UNK"},
                {"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "UNK"}
            ]),
        );
        let claims = check(&claims).expect("UNK accepted");
        assert_eq!(claims.practitioner.sds_user_id, "UNK");
        assert_eq!(claims.practitioner.role_profile_id.as_deref(), Some("UNK"));
    }

    #[test]
    fn jwt_missing_role_profile_and_local_ids_are_accepted() {
        let mut claims = stu3_claims();
        set(
            &mut claims,
            &["requesting_practitioner", "identifier"],
            json!([{"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "G13579135"}]),
        );
        let claims = check(&claims).expect("accepted");
        assert_eq!(claims.practitioner.role_profile_id, None);
    }

    #[test]
    fn jwt_missing_sds_user_id_is_422() {
        let mut claims = stu3_claims();
        set(
            &mut claims,
            &["requesting_practitioner", "identifier"],
            json!([{"system": "https://consumersupplier.com/Id/user-guid", "value": "x"}]),
        );
        let e = assert_422(check(&claims));
        assert!(e.diagnostics().contains("sds-user-id"), "{e}");
        // The DSTU2 system is not accepted in STU3.
        let mut claims = stu3_claims();
        set(
            &mut claims,
            &["requesting_practitioner", "identifier"],
            json!([{"system": "http://fhir.nhs.net/sds-user-id", "value": "x"}]),
        );
        assert_422(check(&claims));
    }

    #[test]
    fn jwt_requesting_organization_may_be_any_organisation() {
        let mut claims = stu3_claims();
        set(
            &mut claims,
            &["requesting_organization", "identifier"],
            json!([{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Z99999"}]),
        );
        set(
            &mut claims,
            &["requesting_organization", "name"],
            json!("Another Practice"),
        );
        let claims = check(&claims).expect("JWT Org Different is accepted");
        assert_eq!(claims.organization.ods_code, "Z99999");
    }

    #[test]
    fn jwt_embedded_resource_missing_required_content_is_422() {
        let cases: [&[&str]; 6] = [
            &["requesting_device", "model"],
            &["requesting_device", "version"],
            &["requesting_device", "identifier"],
            &["requesting_organization", "name"],
            &["requesting_organization", "identifier"],
            &["requesting_practitioner", "name"],
        ];
        for path in cases {
            let mut claims = stu3_claims();
            remove(&mut claims, path);
            assert_422(check(&claims));
        }
        let mut claims = stu3_claims();
        remove(&mut claims, &["requesting_practitioner", "id"]);
        assert_422(check(&claims));
    }

    #[test]
    fn jwt_embedded_resource_wrong_element_types_are_422() {
        let cases: [(&[&str], Value); 7] = [
            (&["requesting_device", "model"], json!(1)),
            (
                &["requesting_device", "identifier"],
                json!({"system": "x", "value": "y"}),
            ),
            (&["requesting_device", "identifier"], json!(["x"])),
            (&["requesting_organization", "name"], json!(["Test"])),
            (&["requesting_organization", "name"], json!("  ")),
            (
                &["requesting_practitioner", "name"],
                json!({"family": "Jones"}),
            ),
            (
                &["requesting_practitioner", "name"],
                json!([{"given": "Claire"}]),
            ),
        ];
        for (path, value) in cases {
            let mut claims = stu3_claims();
            set(&mut claims, path, value);
            assert_422(check(&claims));
        }
    }

    #[test]
    fn jwt_official_name_is_preferred() {
        let mut claims = stu3_claims();
        set(
            &mut claims,
            &["requesting_practitioner", "name"],
            json!([
                {"use": "usual", "family": "Smith"},
                {"use": "official", "family": "Jones", "given": ["Claire"]}
            ]),
        );
        let claims = check(&claims).expect("valid");
        assert_eq!(claims.practitioner.name.display(), "Claire Jones");
    }

    // ---- Access Record HTML (DSTU2, accessrecord §1.3) --------------------------

    #[test]
    fn ar_jwt_valid_token_is_accepted_and_exposes_requested_record() {
        let claims = check_ar(&dstu2_claims()).expect("valid DSTU2 token");
        assert_eq!(claims.profile, JwtProfile::AccessRecordHtml);
        assert_eq!(claims.requested_nhs_number(), Some("9658218873"));
        assert_eq!(claims.practitioner.name.display(), "Dr Claire Jones");
        assert_eq!(claims.practitioner.sds_user_id, "111222333444");
        assert_eq!(claims.practitioner.job_role_code.as_deref(), Some("R8000"));
        assert_eq!(claims.organization.ods_code, "A1001");
        assert_eq!(
            claims.organization.id.as_deref(),
            Some("79600119-ebaf-4362-bb89-d473a33b1675")
        );
        assert_eq!(
            claims.device.id.as_deref(),
            Some("c4c8d038-913a-490c-9682-47047f4155fb")
        );
        assert!(claims.notes.is_empty(), "{:?}", claims.notes);
    }

    #[test]
    fn ar_jwt_missing_required_claim_is_400() {
        for name in COMMON_CLAIMS.iter().chain(["requested_record"].iter()) {
            let mut claims = dstu2_claims();
            remove(&mut claims, &[name]);
            assert_400(check_ar(&claims));
            let mut claims = dstu2_claims();
            set(&mut claims, &[name], Value::Null);
            assert_400(check_ar(&claims));
        }
    }

    #[test]
    fn ar_jwt_padded_base64url_is_400() {
        let t = format!(
            "{}.{}.",
            URL_SAFE.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
            URL_SAFE.encode(format!("{} ", dstu2_claims()))
        );
        assert!(t.contains('='), "fixture must actually be padded");
        assert_400(validate_bearer(&t, &dstu2(), now()));
    }

    #[test]
    fn ar_jwt_exp_minus_iat_must_be_300_and_iat_future_is_accepted() {
        for delta in [299, 301] {
            let mut claims = dstu2_claims();
            set(&mut claims, &["exp"], json!(NOW - 10 + delta));
            assert_400(check_ar(&claims));
        }
        let mut claims = dstu2_claims();
        set(&mut claims, &["iat"], json!(NOW + 200));
        set(&mut claims, &["exp"], json!(NOW + 500));
        check_ar(&claims).expect("iat in the future is accepted");
        let mut claims = dstu2_claims();
        set(&mut claims, &["iat"], json!(NOW - 600));
        set(&mut claims, &["exp"], json!(NOW - 300));
        assert_400(check_ar(&claims));
    }

    #[test]
    fn ar_jwt_wrong_resource_type_is_400() {
        for claim in [
            "requesting_practitioner",
            "requesting_organization",
            "requesting_device",
            "requested_record",
        ] {
            let mut claims = dstu2_claims();
            set(
                &mut claims,
                &[claim, "resourceType"],
                json!("InvalidResourceType"),
            );
            assert_400(check_ar(&claims));
        }
    }

    #[test]
    fn ar_jwt_invalid_fhir_resource_is_422() {
        for claim in [
            "requesting_practitioner",
            "requesting_organization",
            "requesting_device",
            "requested_record",
        ] {
            let mut claims = dstu2_claims();
            set(&mut claims, &[claim, "invalidField"], json!("x"));
            assert_422(check_ar(&claims));
            let mut claims = dstu2_claims();
            set(&mut claims, &[claim], json!("not a resource"));
            assert_422(check_ar(&claims));
            let mut claims = dstu2_claims();
            remove(&mut claims, &[claim, "resourceType"]);
            assert_422(check_ar(&claims));
        }
    }

    #[test]
    fn ar_jwt_requires_legacy_identifier_systems() {
        let cases: [(&[&str], Value); 3] = [
            (
                &["requesting_organization", "identifier"],
                json!([{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A1001"}]),
            ),
            (
                &["requesting_practitioner", "identifier"],
                json!([{"system": "http://fhir.nhs.net/Id/sds-user-id", "value": "111222333444"}]),
            ),
            (
                &["requested_record", "identifier"],
                json!([{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9658218873"}]),
            ),
        ];
        for (path, value) in cases {
            let mut claims = dstu2_claims();
            set(&mut claims, path, value);
            assert_422(check_ar(&claims));
        }
    }

    #[test]
    fn ar_jwt_requires_ids_on_device_and_organization() {
        for claim in ["requesting_device", "requesting_organization"] {
            let mut claims = dstu2_claims();
            remove(&mut claims, &[claim, "id"]);
            assert_422(check_ar(&claims));
        }
    }

    #[test]
    fn ar_jwt_uses_dstu2_name_shape() {
        let mut claims = dstu2_claims();
        set(
            &mut claims,
            &["requesting_practitioner", "name"],
            json!([{"family": "Jones"}]),
        );
        assert_422(check_ar(&claims));
        let mut claims = dstu2_claims();
        set(
            &mut claims,
            &["requesting_practitioner", "name"],
            json!({"family": "Jones"}),
        );
        assert_422(check_ar(&claims));
    }

    #[test]
    fn ar_jwt_practitioner_role_and_local_id_may_be_absent() {
        let mut claims = dstu2_claims();
        remove(
            &mut claims,
            &["requesting_practitioner", "practitionerRole"],
        );
        set(
            &mut claims,
            &["requesting_practitioner", "identifier"],
            json!([{"system": "http://fhir.nhs.net/sds-user-id", "value": "UNK"}]),
        );
        let claims = check_ar(&claims).expect("accepted");
        assert_eq!(claims.practitioner.job_role_code, None);
        assert_eq!(claims.practitioner.sds_user_id, "UNK");
    }

    #[test]
    fn ar_jwt_patient_scope_requires_a_patient_record() {
        let mut claims = dstu2_claims();
        set(
            &mut claims,
            &["requested_record"],
            json!({"resourceType": "Organization", "identifier": [
                {"system": "http://fhir.nhs.net/Id/ods-organization-code", "value": "A1001"}
            ]}),
        );
        assert_400(check_ar(&claims));
        // ... but the metadata interaction (organization/*.read) accepts it.
        set(
            &mut claims,
            &["requested_scope"],
            json!("organization/*.read"),
        );
        let ctx = JwtContext::new(JwtProfile::AccessRecordHtml, Scope::OrganizationRead);
        let claims = validate_bearer(&token(&claims), &ctx, now()).expect("metadata");
        assert_eq!(
            claims.requested_record.map(|r| match r {
                RequestedRecord::Organization { ods_code, .. } => ods_code,
                RequestedRecord::Patient { nhs_number, .. } => nhs_number,
            }),
            Some("A1001".to_owned())
        );
    }

    #[test]
    fn ar_jwt_scope_mismatch_is_400() {
        let mut claims = dstu2_claims();
        set(
            &mut claims,
            &["requested_scope"],
            json!("organization/*.read"),
        );
        assert_400(check_ar(&claims));
    }

    #[test]
    fn ar_jwt_aud_other_than_token_url_is_noted() {
        let mut claims = dstu2_claims();
        set(
            &mut claims,
            &["aud"],
            json!("https://provider.nhs.uk/GP0001/DSTU2/0"),
        );
        let claims = check_ar(&claims).expect("aud is log only");
        assert!(matches!(
            claims.notes.as_slice(),
            [JwtNote::AudienceMismatch { .. }]
        ));
    }

    // ---- properties ----------------------------------------------------------

    proptest! {
        #[test]
        fn jwt_arbitrary_strings_never_panic(s in ".{0,512}") {
            let _ = validate_bearer(&s, &stu3(Scope::PatientRead), now());
            let _ = validate_bearer(&s, &dstu2(), now());
        }

        #[test]
        fn jwt_arbitrary_base64url_parts_never_panic(
            header in proptest::collection::vec(any::<u8>(), 0..64),
            payload in proptest::collection::vec(any::<u8>(), 0..256),
            sig in "[A-Za-z0-9_-]{0,8}",
        ) {
            let t = format!(
                "{}.{}.{sig}",
                URL_SAFE_NO_PAD.encode(&header),
                URL_SAFE_NO_PAD.encode(&payload)
            );
            let _ = validate_bearer(&t, &stu3(Scope::PatientRead), now());
            let _ = validate_bearer(&t, &dstu2(), now());
        }

        #[test]
        fn jwt_mutated_exp_is_rejected(
            iat in (NOW - 250)..(NOW + 100_000),
            exp in any::<i64>(),
            dstu2_profile in any::<bool>(),
        ) {
            prop_assume!(exp.checked_sub(iat) != Some(TOKEN_LIFETIME_SECS));
            let (mut claims, ctx) = if dstu2_profile {
                (dstu2_claims(), dstu2())
            } else {
                (stu3_claims(), stu3(Scope::PatientRead))
            };
            set(&mut claims, &["iat"], json!(iat));
            set(&mut claims, &["exp"], json!(exp));
            let result = validate_bearer(&token(&claims), &ctx, now());
            prop_assert!(matches!(&result, Err(e) if e.status() == 400 && e.code() == SpineCode::BadRequest));
        }

        #[test]
        fn jwt_valid_claims_are_accepted_until_exp(iat in (NOW - 299)..(NOW + 100_000)) {
            let mut claims = stu3_claims();
            set(&mut claims, &["iat"], json!(iat));
            set(&mut claims, &["exp"], json!(iat + TOKEN_LIFETIME_SECS));
            let result = validate_bearer(&token(&claims), &stu3(Scope::PatientRead), now());
            prop_assert!(result.is_ok(), "{:?}", result);
        }

        #[test]
        fn jwt_any_claim_value_mutation_never_panics(
            claim in proptest::sample::select(COMMON_CLAIMS.to_vec()),
            value in proptest::arbitrary::any::<Option<i64>>(),
            text in ".{0,32}",
        ) {
            let mut claims = stu3_claims();
            let replacement = match value {
                Some(n) => json!([n, text, {"resourceType": text}]),
                None => json!({"resourceType": text, "identifier": [text]}),
            };
            set(&mut claims, &[claim], replacement);
            prop_assert!(check(&claims).is_err());
        }
    }
}
