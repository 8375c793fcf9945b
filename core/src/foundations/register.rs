//! F4 register a patient: `POST /Patient/$gpc.registerpatient` (digest
//! §1.5, R62, R65).
//!
//! The request is checked in three stages, and the first failure answers:
//!
//! 1. **The body** ([`registered_patient`]): one `registerPatient`
//!    parameter holding a Patient, every element of which is one the use
//!    case allows ([`validate`]).
//! 2. **PDS** ([`check_against_pds`]): the number is on PDS, usable, not
//!    sensitive, not deceased, and the demographics verify (§1.3 rule).
//! 3. **The practice index** ([`plan`]): the duplicate flow of §1.5 step 2.
//!
//! The registration itself is one atomic store command
//! ([`PracticeStore::register_patient`](crate::store::PracticeStore::register_patient)):
//! two consumers racing to register the same number get one registration
//! and one 409 DUPLICATE_REJECTED. A patient is only ever created or
//! re-activated as **temporary** (§1.5 step 3), with a registration period
//! of [`TEMPORARY_REGISTRATION_MONTHS`] from now; PDS is never written to
//! (§1.5 step 6).
//!
//! The Patient's `id`, `meta` (beyond the profile check), `text` and
//! `language` are ignored, not refused: the server assigns ids (R80) and
//! answers without narrative (§1.1).
//!
//! # Error table (§1.5, R62, R65)
//!
//! | condition | answer |
//! |---|---|
//! | no parameter; one not named `registerPatient`; no Patient in it; a value or parts instead | 422 INVALID_RESOURCE |
//! | `registerPatient` twice, or any second parameter (R65, test suite) | 400 BAD_REQUEST |
//! | `meta.profile` without CareConnect-GPC-Patient-1 (1.2.9) | 422 INVALID_RESOURCE |
//! | `active`, `deceased[x]`, `maritalStatus`, `multipleBirth[x]`, `contact`, `generalPractitioner`, `managingOrganization`, `link`, `contained`, `implicitRules`, `modifierExtension`, any extension but NHSCommunication | 422 INVALID_RESOURCE |
//! | `photo`, `animal`, `communication` (rejected by the codec: the profile sets them to 0..0) | 422 INVALID_RESOURCE |
//! | more than one NHSCommunication | 422 INVALID_RESOURCE |
//! | an address whose `use` is not `home` or `temp`, or two of either | 422 INVALID_RESOURCE |
//! | a telecom that is not a phone (`home`/`work`/`mobile`/`temp`) or an email, or has no value | 422 INVALID_RESOURCE |
//! | a `gender` outside `male`/`female`/`other`/`unknown` | 422 INVALID_RESOURCE |
//! | two NHS-number identifiers | 422 INVALID_RESOURCE |
//! | no NHS-number identifier, or an invalid NHS number | 400 INVALID_NHS_NUMBER |
//! | an identifier without a system | 400 BAD_REQUEST |
//! | no official name, two official names, no family or given name on it | 400 BAD_REQUEST |
//! | no `birthDate` | 400 BAD_REQUEST |
//! | two phones with the same use, or two emails | 400 BAD_REQUEST |
//! | PDS unavailable | 500 INTERNAL_SERVER_ERROR |
//! | number not on PDS | 400 INVALID_PATIENT_DEMOGRAPHICS |
//! | PDS flags the number invalid or superseded | 400 INVALID_NHS_NUMBER |
//! | PDS-sensitive (R62), or sensitive locally | 400 INVALID_PATIENT_DEMOGRAPHICS |
//! | deceased on PDS or locally | 400 INVALID_PATIENT_DEMOGRAPHICS |
//! | family name differs from PDS (R65, test suite) | 400 BAD_REQUEST |
//! | demographics do not verify against PDS (§1.3 rule) | 400 INVALID_PATIENT_DEMOGRAPHICS |
//! | already registered and active, any type (temporary too, R65) | 409 DUPLICATE_REJECTED |
//! | inactive locally and unverified, and the local record does not verify | 400 INVALID_PATIENT_DEMOGRAPHICS |

use jiff::{Timestamp, ToSpan};

use crate::checks::datetime::uk_local;
use crate::checks::nhs_number::NhsNumber;
use crate::error::{Echo, Error, SpineCode};
use crate::fhir::datatypes::{Address, ContactPoint, Identifier};
use crate::fhir::primitive::{Code, DateTime};
use crate::operation::{Answer, Context};
use crate::store::{
    PatientFlags, PatientRecord, PatientRegistration, RegistrationStatus, RegistrationType,
    StoreError,
};
use crate::stu3::profiles::{extension, identifier_system, profile};
use crate::stu3::{self, Parameters, Patient};

use super::patient::{
    is_deceased, patient_resource, preferred_branch, registration_period_extension, verifies,
};
use super::pds::{
    Demographics, Pds, PdsRecord, demographics_match, official_names, same_family_name,
};
use super::searchset;

/// How long a temporary registration runs: a temporary resident is
/// registered for up to three months. The registration period, and the
/// period of a temporary address or telecom (§1.5 step 5), end this long
/// after the registration.
pub const TEMPORARY_REGISTRATION_MONTHS: i8 = 3;

/// How often a registration is re-planned when the patient record changes
/// between reading it and registering (another registration won the race).
const ATTEMPTS: usize = 3;

/// F4: register `body`'s patient as a temporary patient of the practice, and
/// answer **200** with a searchset Bundle holding the registered Patient
/// (§1.5, §11.12): the F2 population plus `registrationDetails` with
/// `registrationType` `T`, the `registrationPeriod`, and, for a
/// re-activated patient, the stored `preferredBranchSurgery`.
///
/// See the module docs for the checks and the error table. The JWT's
/// `requested_record` must name the same NHS number; that is the
/// transport's check.
///
/// # Errors
/// As the module's error table; 500 when the store fails.
pub fn register_patient(
    ctx: &Context<'_>,
    body: Parameters,
    pds: &dyn Pds,
) -> Result<Answer<stu3::Bundle>, Error> {
    let submitted = registered_patient(body)?;
    let request = validate(&submitted)?;
    let traced = pds.retrieve(request.nhs.as_str())?.ok_or_else(|| {
        Error::new(
            SpineCode::InvalidPatientDemographics,
            "the NHS number is not on PDS",
        )
    })?;
    check_against_pds(&request, &traced)?;
    let expires = expiry(ctx.now)?;
    for _ in 0..ATTEMPTS {
        let existing = ctx
            .store
            .patients_by_nhs_number(ctx.ods(), request.nhs.as_str())?;
        let registration = plan(ctx.now, expires, &request, &traced, &existing)?;
        match ctx.store.register_patient(ctx.ods(), registration) {
            Ok(record) => {
                let patient = patient_resource(ctx, &record)?;
                return Ok(Answer::ok(searchset([stu3::Resource::from(patient)])));
            }
            Err(StoreError::DuplicatePatient) => return Err(already_registered()),
            // The record changed (or went) since it was read: plan again.
            Err(StoreError::VersionConflict { .. } | StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::internal(
        "the patient record kept changing while it was being registered; try again",
    ))
}

fn already_registered() -> Error {
    Error::new(
        SpineCode::DuplicateRejected,
        "a patient with this NHS number is already registered at the practice",
    )
}

/// Stage 1a: the one `registerPatient` parameter's Patient.
///
/// # Errors
/// 400 BAD_REQUEST for a repeated `registerPatient` or any second
/// parameter (R65, test suite); 422 INVALID_RESOURCE for no parameter, a
/// wrongly named one, or one without a Patient resource (§1.5).
pub fn registered_patient(body: Parameters) -> Result<Patient, Error> {
    let name = profile::REGISTER_PATIENT_PARAMETER;
    let named = body.parameter.iter().filter(|p| p.name == name).count();
    if named > 1 {
        return Err(Error::bad_request(format!(
            "the '{name}' parameter was sent {named} times; send it once"
        )));
    }
    let mut parameters = body.parameter.into_iter();
    let parameter = match (parameters.next(), parameters.next()) {
        (Some(only), None) => only,
        (None, _) => {
            return Err(Error::invalid_resource(format!(
                "Parameters must hold one '{name}' parameter"
            )));
        }
        (Some(_), Some(_)) => {
            return Err(Error::bad_request(format!(
                "Parameters may hold only the '{name}' parameter"
            )));
        }
    };
    if parameter.name != name {
        return Err(Error::invalid_resource(format!(
            "the parameter is named {}; expected '{name}'",
            Echo(&parameter.name)
        )));
    }
    if parameter.value.is_some() || !parameter.part.is_empty() {
        return Err(Error::invalid_resource(format!(
            "'{name}' must carry a Patient resource, not a value or parts"
        )));
    }
    match parameter.resource {
        Some(stu3::Resource::Patient(p)) => Ok(*p),
        Some(other) => Err(Error::invalid_resource(format!(
            "'{name}' holds a {}; expected a Patient",
            other.resource_type()
        ))),
        None => Err(Error::invalid_resource(format!(
            "'{name}' holds no resource; expected a Patient"
        ))),
    }
}

/// A submitted Patient that passed [`validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    /// The NHS number.
    pub nhs: NhsNumber,
    /// The Patient as submitted.
    pub patient: Patient,
}

const PHONE_USES: [&str; 4] = ["home", "work", "mobile", "temp"];
const GENDERS: [&str; 4] = ["male", "female", "other", "unknown"];

/// Stage 1b: the Patient holds what §1.5 allows (SHALL, SHOULD, MAY) and
/// nothing else. See the module's error table for the answers.
///
/// # Errors
/// 422 INVALID_RESOURCE, 400 INVALID_NHS_NUMBER or 400 BAD_REQUEST as the
/// module's error table gives them.
pub fn validate(patient: &Patient) -> Result<Registration, Error> {
    let p = patient;
    let has_profile = p
        .meta
        .as_ref()
        .is_some_and(|m| m.profile.iter().any(|u| u == profile::PATIENT));
    if !has_profile {
        return Err(Error::invalid_resource(format!(
            "Patient.meta.profile must name {} (1.2.9)",
            profile::PATIENT
        )));
    }

    // R65: elements that must not be populated.
    let mut forbidden: Vec<&str> = Vec::new();
    let mut flag = |present: bool, name: &'static str| {
        if present {
            forbidden.push(name);
        }
    };
    flag(p.implicit_rules.is_some(), "implicitRules");
    flag(!p.contained.is_empty(), "contained");
    flag(!p.modifier_extension.is_empty(), "modifierExtension");
    flag(p.active.is_some(), "active");
    flag(p.deceased.is_some(), "deceased[x]");
    flag(p.marital_status.is_some(), "maritalStatus");
    flag(p.multiple_birth.is_some(), "multipleBirth[x]");
    flag(!p.contact.is_empty(), "contact");
    flag(!p.general_practitioner.is_empty(), "generalPractitioner");
    flag(p.managing_organization.is_some(), "managingOrganization");
    flag(!p.link.is_empty(), "link");
    let other_extension = p
        .extension
        .iter()
        .find(|e| e.url != extension::NHS_COMMUNICATION);
    if let Some(e) = other_extension {
        return Err(Error::invalid_resource(format!(
            "Patient.extension {} must not be sent on register; only NHSCommunication is allowed",
            Echo(&e.url)
        )));
    }
    if !forbidden.is_empty() {
        return Err(Error::invalid_resource(format!(
            "these Patient elements must not be sent on register: {}",
            forbidden.join(", ")
        )));
    }
    let communications = p
        .extension
        .iter()
        .filter(|e| e.url == extension::NHS_COMMUNICATION)
        .count();
    if communications > 1 {
        return Err(Error::invalid_resource(format!(
            "at most one NHSCommunication extension may be sent, not {communications}"
        )));
    }

    check_addresses(&p.address)?;
    check_telecoms(&p.telecom)?;
    if let Some(g) = &p.gender {
        if !GENDERS.contains(&g.as_str()) {
            return Err(Error::invalid_resource(format!(
                "Patient.gender {} is not an administrative gender",
                Echo(g.as_str())
            )));
        }
    }

    let nhs = nhs_number(&p.identifier)?;

    let official: Vec<&stu3::HumanName> = official_names(p).collect();
    let name = match official.as_slice() {
        [one] => *one,
        [] => {
            return Err(Error::bad_request(
                "Patient has no name with use 'official'",
            ));
        }
        more => {
            return Err(Error::bad_request(format!(
                "Patient has {} official names; send exactly one",
                more.len()
            )));
        }
    };
    if name.family.as_deref().is_none_or(|f| f.trim().is_empty()) {
        return Err(Error::bad_request("the official name has no family name"));
    }
    if !name.given.iter().any(|g| !g.trim().is_empty()) {
        return Err(Error::bad_request("the official name has no given name"));
    }
    if p.birth_date.is_none() {
        return Err(Error::bad_request("Patient.birthDate is required"));
    }
    if Demographics::of(p).is_none() {
        return Err(Error::bad_request(
            "Patient.birthDate is not a readable date",
        ));
    }
    Ok(Registration {
        nhs,
        patient: patient.clone(),
    })
}

/// The one NHS-number identifier's value, checked (§8.3); other identifiers
/// must carry a system (R65).
fn nhs_number(identifiers: &[Identifier]) -> Result<NhsNumber, Error> {
    let nhs: Vec<&Identifier> = identifiers
        .iter()
        .filter(|i| i.system.as_deref() == Some(identifier_system::NHS_NUMBER))
        .collect();
    let value = match nhs.as_slice() {
        [] => {
            return Err(Error::new(
                SpineCode::InvalidNhsNumber,
                format!(
                    "Patient has no identifier with the system {}",
                    identifier_system::NHS_NUMBER
                ),
            ));
        }
        [one] => one.value.as_deref().unwrap_or(""),
        _ => {
            return Err(Error::invalid_resource(
                "Patient has more than one NHS number identifier",
            ));
        }
    };
    if identifiers
        .iter()
        .any(|i| i.system.as_deref().is_none_or(|s| s.trim().is_empty()))
    {
        return Err(Error::bad_request(
            "every Patient.identifier needs a system",
        ));
    }
    NhsNumber::parse(value)
}

/// §1.5 address rules: `use` `home` (SHOULD, at most one) or `temp` (MAY,
/// at most one), nothing else (R65: `work`, `old`, two homes → 422).
fn check_addresses(addresses: &[Address]) -> Result<(), Error> {
    let (mut home, mut temp) = (0, 0);
    for a in addresses {
        match a.use_.as_ref().map(Code::as_str) {
            Some("home") => home += 1,
            Some("temp") => temp += 1,
            other => {
                return Err(Error::invalid_resource(format!(
                    "an address with use {} may not be sent; only one 'home' and one 'temp'",
                    other.map_or_else(|| "(none)".to_owned(), |u| Echo(u).to_string())
                )));
            }
        }
    }
    if home > 1 || temp > 1 {
        return Err(Error::invalid_resource(
            "at most one 'home' and one 'temp' address may be sent",
        ));
    }
    Ok(())
}

/// What makes two telecoms "the same" for R65: a phone by its use, or an
/// email (at most one of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TelecomSlot<'a> {
    Phone(&'a str),
    Email,
}

fn telecom_slot(t: &ContactPoint) -> Option<TelecomSlot<'_>> {
    if t.value.as_deref().is_none_or(|v| v.trim().is_empty()) {
        return None;
    }
    match t.system.as_ref().map(Code::as_str) {
        Some("phone") => {
            let u = t.use_.as_ref().map(Code::as_str)?;
            PHONE_USES
                .iter()
                .find(|&&allowed| allowed == u)
                .map(|u| TelecomSlot::Phone(u))
        }
        Some("email") => Some(TelecomSlot::Email),
        _ => None,
    }
}

/// §1.5 telecom rules: phones with use `home`, `work`, `mobile` (SHOULD) or
/// `temp` (MAY), one email (SHOULD), each at most once. Anything else is
/// 422 INVALID_RESOURCE; a repeat is 400 BAD_REQUEST (R65).
fn check_telecoms(telecoms: &[ContactPoint]) -> Result<(), Error> {
    let mut seen: Vec<TelecomSlot<'_>> = Vec::with_capacity(telecoms.len());
    for t in telecoms {
        let Some(slot) = telecom_slot(t) else {
            return Err(Error::invalid_resource(
                "a telecom must be a phone with use home, work, mobile or temp, or an email, and have a value",
            ));
        };
        seen.push(slot);
    }
    for (i, slot) in seen.iter().enumerate() {
        if seen[..i].contains(slot) {
            let what = match slot {
                TelecomSlot::Phone(u) => format!("phone with use '{u}'"),
                TelecomSlot::Email => "email".to_owned(),
            };
            return Err(Error::bad_request(format!(
                "more than one {what} telecom was sent"
            )));
        }
    }
    Ok(())
}

/// Stage 2: what PDS says about the number and the submitted demographics.
///
/// # Errors
/// As the module's error table (invalid/superseded → INVALID_NHS_NUMBER;
/// sensitive, deceased, unverifiable → INVALID_PATIENT_DEMOGRAPHICS;
/// family name mismatch → BAD_REQUEST).
pub fn check_against_pds(request: &Registration, pds: &PdsRecord) -> Result<(), Error> {
    if pds.invalid || pds.superseded {
        return Err(Error::new(
            SpineCode::InvalidNhsNumber,
            if pds.superseded {
                "PDS records the NHS number as superseded"
            } else {
                "PDS records the NHS number as invalid"
            },
        ));
    }
    let demographics = |why: &str| Error::new(SpineCode::InvalidPatientDemographics, why);
    if pds.sensitive {
        return Err(demographics(
            "the patient cannot be registered through GP Connect",
        ));
    }
    if pds.deceased {
        return Err(demographics("PDS records the patient as deceased"));
    }
    let local = Demographics::of(&request.patient)
        .ok_or_else(|| Error::bad_request("the official name or birth date is missing"))?;
    if !same_family_name(local.family, &pds.family) {
        return Err(Error::bad_request(
            "the family name does not match the patient's PDS record",
        ));
    }
    if !demographics_match(&local, pds) {
        return Err(demographics(
            "the demographics do not verify against the patient's PDS record",
        ));
    }
    Ok(())
}

/// The end of a temporary registration starting at `now`.
fn expiry(now: Timestamp) -> Result<Timestamp, Error> {
    uk_local(now)
        .checked_add(i64::from(TEMPORARY_REGISTRATION_MONTHS).months())
        .map(|z| z.timestamp())
        .map_err(|e| Error::internal(format!("registration expiry: {e}")))
}

/// Stage 3: the duplicate flow of §1.5 step 2 over the practice's records
/// with this NHS number.
///
/// # Errors
/// 400 INVALID_PATIENT_DEMOGRAPHICS for a sensitive or deceased record, or
/// an unverified inactive one that does not verify; 409 DUPLICATE_REJECTED
/// for an active one.
pub fn plan(
    now: Timestamp,
    expires: Timestamp,
    request: &Registration,
    pds: &PdsRecord,
    existing: &[PatientRecord],
) -> Result<PatientRegistration, Error> {
    let demographics = |why: &str| Error::new(SpineCode::InvalidPatientDemographics, why);
    if existing.iter().any(|r| r.flags.sensitive) {
        return Err(demographics(
            "the patient cannot be registered through GP Connect",
        ));
    }
    if existing.iter().any(is_deceased) {
        return Err(demographics("the practice records the patient as deceased"));
    }
    if existing
        .iter()
        .any(|r| r.flags.registration == RegistrationStatus::Active)
    {
        return Err(already_registered());
    }
    let temporary = |old: PatientFlags| PatientFlags {
        registration: RegistrationStatus::Active,
        registration_type: RegistrationType::Temporary,
        deceased: None,
        sensitive: false,
        nhs_number_verified: true,
        ..old
    };
    match existing.iter().min_by(|a, b| a.id.cmp(&b.id)) {
        None => Ok(PatientRegistration::New {
            nhs_number: request.nhs.as_str().to_owned(),
            resource: demographics_for(request, pds, None, now, expires),
            flags: temporary(PatientFlags::default()),
        }),
        Some(old) => {
            if !old.flags.nhs_number_verified && !verifies(old, pds) {
                return Err(demographics(
                    "the practice's record of the patient does not verify against PDS",
                ));
            }
            Ok(PatientRegistration::Reactivate {
                id: old.id.clone(),
                expected_version: old.version,
                resource: demographics_for(request, pds, Some(&old.resource), now, expires),
                flags: temporary(old.flags.clone()),
            })
        }
    }
}

/// §1.5 step 4: the demographics to store, from the consumer's data,
/// supplemented from PDS (gender, a home address, telecoms of slots the
/// consumer left empty) and, on re-activation, from the old record (other
/// identifiers, NHSCommunication, contacts and the rest the consumer may not
/// send, and the preferred branch surgery). Temporary addresses and
/// telecoms end with the registration (§1.5 step 5).
fn demographics_for(
    request: &Registration,
    pds: &PdsRecord,
    old: Option<&Patient>,
    now: Timestamp,
    expires: Timestamp,
) -> Patient {
    let sent = &request.patient;
    let mut p = old.cloned().unwrap_or_default();
    p.id = None;
    p.meta = None;
    p.text = None;
    p.active = None;
    p.deceased = None;
    p.managing_organization = None;

    let mut identifiers = vec![Identifier {
        system: Some(identifier_system::NHS_NUMBER.to_owned()),
        value: Some(request.nhs.as_str().to_owned()),
        ..Identifier::default()
    }];
    let others = p
        .identifier
        .iter()
        .chain(sent.identifier.iter())
        .filter(|i| i.system.as_deref() != Some(identifier_system::NHS_NUMBER));
    for i in others {
        if !identifiers
            .iter()
            .any(|k| k.system == i.system && k.value == i.value)
        {
            identifiers.push(i.clone());
        }
    }
    p.identifier = identifiers;
    p.name = sent.name.clone();
    p.birth_date = sent.birth_date.clone();
    p.gender = sent
        .gender
        .clone()
        .or_else(|| pds.gender.clone())
        .or(p.gender.take());

    let end = DateTime::new(crate::checks::datetime::format_uk_local(expires)).ok();
    let with_end = |period: &mut Option<stu3::Period>| {
        let period = period.get_or_insert_with(stu3::Period::default);
        if period.end.is_none() {
            period.end = end.clone();
        }
    };
    let is_use = |u: &Option<Code>, want: &str| u.as_ref().is_some_and(|c| c.as_str() == want);

    let mut addresses = sent.address.clone();
    if !addresses.iter().any(|a| is_use(&a.use_, "home")) {
        addresses.extend(
            pds.address
                .iter()
                .find(|a| is_use(&a.use_, "home"))
                .cloned(),
        );
    }
    for a in addresses.iter_mut().filter(|a| is_use(&a.use_, "temp")) {
        with_end(&mut a.period);
    }
    p.address = addresses;

    let mut telecoms = sent.telecom.clone();
    for t in &pds.telecom {
        let Some(slot) = telecom_slot(t) else {
            continue;
        };
        if !telecoms.iter().any(|s| telecom_slot(s) == Some(slot)) {
            telecoms.push(t.clone());
        }
    }
    for t in telecoms.iter_mut().filter(|t| is_use(&t.use_, "temp")) {
        with_end(&mut t.period);
    }
    p.telecom = telecoms;

    let branch = old.and_then(preferred_branch);
    let communication = sent
        .extension
        .iter()
        .find(|e| e.url == extension::NHS_COMMUNICATION)
        .or_else(|| {
            p.extension
                .iter()
                .find(|e| e.url == extension::NHS_COMMUNICATION)
        })
        .cloned();
    p.extension = std::iter::once(registration_period_extension(now, Some(expires), branch))
        .chain(communication)
        .collect();
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::datatypes::{Extension, ExtensionValue, Meta, Reference};
    use crate::fhir::primitive::Id;
    use crate::fhir::{Limits, from_json, to_json};
    use crate::foundations::pds::LocalPds;
    use crate::foundations::test_support::{ctx, now, practice};
    use crate::store::memory::MemoryStore;
    use crate::store::{PracticeImport, PracticeRecord, PracticeStore};
    use crate::stu3::{HumanName, ParametersParameter};
    use crate::testkit::{self, ODS};
    use jiff::civil::Date;

    const EXAMPLE: &str =
        include_str!("../../tests/data/stu3/register_patient_request_example.json");

    /// A valid NHS number not in the test practice.
    const NEW_NHS: &str = "9000000017";

    fn example() -> Parameters {
        from_json(EXAMPLE.as_bytes(), Limits::REQUEST).expect("example decodes")
    }

    fn example_patient() -> Patient {
        registered_patient(example()).expect("patient")
    }

    fn parameters(patient: Patient) -> Parameters {
        Parameters {
            parameter: vec![ParametersParameter {
                name: "registerPatient".into(),
                resource: Some(patient.into()),
                ..ParametersParameter::default()
            }],
            ..Parameters::default()
        }
    }

    /// The example patient under another NHS number.
    fn new_patient(nhs: &str) -> Patient {
        let mut p = example_patient();
        p.identifier[0].value = Some(nhs.to_owned());
        p
    }

    /// PDS's record for the example's person (Jane Jackson, 31-05-1952).
    fn jackson(nhs: &str) -> PdsRecord {
        PdsRecord {
            gender: Some(Code::from_static("female")),
            ..PdsRecord::new(nhs, "JACKSON", ["Jane"], Date::constant(1952, 5, 31))
        }
    }

    /// The test practice's PDS view plus Jane Jackson under `NEW_NHS`.
    fn pds() -> LocalPds {
        let p = LocalPds::from_patients(&testkit::practice(now()).patients);
        p.insert(jackson(NEW_NHS));
        p
    }

    /// The test practice without patient 3 (whose NHS number the example uses).
    fn practice_without_patient_3() -> (MemoryStore, PracticeRecord) {
        let store = MemoryStore::new();
        let mut import = testkit::practice(now());
        import.patients.retain(|p| p.id != "3");
        store.import(ODS, import).expect("import");
        let record = store.practice(ODS).expect("read").expect("practice");
        (store, record)
    }

    fn register(patient: Patient) -> Result<Answer<stu3::Bundle>, Error> {
        let (store, pr) = practice();
        register_patient(&ctx(&store, &pr), parameters(patient), &pds())
    }

    fn the_patient(b: &stu3::Bundle) -> &Patient {
        assert_eq!(b.entry.len(), 1);
        match &b.entry[0].resource {
            Some(stu3::Resource::Patient(p)) => p,
            other => panic!("expected a Patient, got {other:?}"),
        }
    }

    fn assert_error(r: Result<Answer<stu3::Bundle>, Error>, status: u16, code: SpineCode) {
        let e = r.expect_err("an error");
        assert_eq!(
            (e.status(), e.code()),
            (status, code),
            "{}",
            e.diagnostics()
        );
    }

    fn registration_details(p: &Patient) -> &Extension {
        p.extension
            .iter()
            .find(|e| e.url == extension::REGISTRATION_DETAILS)
            .expect("registration details")
    }

    fn registration_type(p: &Patient) -> Option<String> {
        registration_details(p)
            .extension
            .iter()
            .find(|e| e.url == extension::REGISTRATION_TYPE)
            .and_then(|e| match &e.value {
                Some(ExtensionValue::CodeableConcept(cc)) => cc.coding[0].code.as_ref(),
                _ => None,
            })
            .map(|c| c.as_str().to_owned())
    }

    #[test]
    fn f4_register_request_example_registers_a_temporary_patient() {
        let (store, pr) = practice_without_patient_3();
        let p = LocalPds::from_records([jackson("9476719931")]);
        let a = register_patient(&ctx(&store, &pr), example(), &p).expect("registered");
        assert_eq!(a.status, 200, "200, not 201 (§11.12)");
        let b = &a.body;
        assert_eq!(b.type_.as_str(), "searchset");
        assert_eq!(
            b.meta.as_ref().map(|m| m.profile.clone()),
            Some(vec![profile::SEARCHSET_BUNDLE.to_owned()])
        );
        assert!(b.entry[0].full_url.is_none());
        let patient = the_patient(b);
        let id = patient.id.as_ref().expect("id").as_str().to_owned();
        let stored = store.patient(ODS, &id).expect("read").expect("stored");
        assert_eq!(stored.nhs_number, "9476719931");
        assert_eq!(stored.flags.registration, RegistrationStatus::Active);
        assert_eq!(stored.flags.registration_type, RegistrationType::Temporary);
        assert!(stored.flags.nhs_number_verified);
        let m = patient.meta.as_ref().expect("meta");
        assert_eq!(m.profile, vec![profile::PATIENT.to_owned()]);
        assert_eq!(
            m.version_id.as_ref().map(Id::as_str),
            Some(stored.version.to_string().as_str())
        );
        assert_eq!(registration_type(patient).as_deref(), Some("T"));
        assert_eq!(patient.active, Some(true));

        // The response has the example response's shape.
        let ours: serde_json::Value = serde_json::from_slice(&to_json(b)).expect("json");
        let example: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/data/stu3/register_patient_response_example.json"
        ))
        .expect("example");
        let (o, e) = (
            &ours["entry"][0]["resource"],
            &example["entry"][0]["resource"],
        );
        for key in [
            "identifier",
            "telecom",
            "gender",
            "birthDate",
            "address",
            "active",
        ] {
            assert_eq!(o[key], e[key], "{key}");
        }
        assert_eq!(o["name"][0]["family"], e["name"][0]["family"]);
        assert_eq!(o["name"][0]["given"], e["name"][0]["given"]);
        assert_eq!(o["extension"][0]["url"], e["extension"][0]["url"]);
        let period = &o["extension"][0]["extension"][0];
        assert_eq!(period["url"], "registrationPeriod");
        assert_eq!(period["valuePeriod"]["start"], "2026-11-25T10:00:00+00:00");
        assert_eq!(period["valuePeriod"]["end"], "2027-02-25T10:00:00+00:00");
        let (oc, ec) = (
            &o["extension"][0]["extension"][1]["valueCodeableConcept"]["coding"][0],
            &e["extension"][0]["extension"][1]["valueCodeableConcept"]["coding"][0],
        );
        assert_eq!((&oc["system"], &oc["code"]), (&ec["system"], &ec["code"]));
        assert_eq!(o["managingOrganization"]["reference"], "Organization/23");
    }

    #[test]
    fn r65_already_registered_as_temporary_is_409() {
        let (store, pr) = practice();
        let c = ctx(&store, &pr);
        let p = pds();
        register_patient(&c, parameters(new_patient(NEW_NHS)), &p).expect("first");
        let e = register_patient(&c, parameters(new_patient(NEW_NHS)), &p).expect_err("second");
        assert_eq!((e.status(), e.code()), (409, SpineCode::DuplicateRejected));
    }

    #[test]
    fn f4_active_regular_patient_is_409_duplicate_rejected() {
        // The example's number is patient 3's, active and regular.
        let (store, pr) = practice();
        let p = LocalPds::from_records([jackson("9476719931")]);
        assert_error(
            register_patient(&ctx(&store, &pr), example(), &p),
            409,
            SpineCode::DuplicateRejected,
        );
    }

    #[test]
    fn f4_register_race_gives_one_registration_and_one_409() {
        let (store, pr) = practice();
        let p = pds();
        let c = ctx(&store, &pr);
        let barrier = std::sync::Barrier::new(2);
        let results: Vec<Result<Answer<stu3::Bundle>, Error>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        register_patient(&c, parameters(new_patient(NEW_NHS)), &p)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let dup = results
            .iter()
            .filter(|r| {
                r.as_ref()
                    .err()
                    .is_some_and(|e| (e.status(), e.code()) == (409, SpineCode::DuplicateRejected))
            })
            .count();
        assert_eq!((ok, dup), (1, 1), "{results:?}");
        assert_eq!(
            store
                .patients_by_nhs_number(ODS, NEW_NHS)
                .expect("read")
                .len(),
            1
        );
    }

    #[test]
    fn f4_store_duplicate_race_maps_to_409() {
        // The store's atomic check, seen directly: a New for a number that
        // appeared after the plan was made.
        let (store, pr) = practice();
        let c = ctx(&store, &pr);
        let req = validate(&new_patient(NEW_NHS)).expect("valid");
        let planned = plan(now(), now(), &req, &jackson(NEW_NHS), &[]).expect("new");
        register_patient(&c, parameters(new_patient(NEW_NHS)), &pds()).expect("first");
        let e: Error = match store.register_patient(ODS, planned) {
            Err(StoreError::DuplicatePatient) => already_registered(),
            other => panic!("expected DuplicatePatient, got {other:?}"),
        };
        assert_eq!(e.status(), 409);
    }

    #[test]
    fn f4_inactive_patient_is_reactivated_as_temporary_keeping_the_branch() {
        let (store, pr) = practice();
        let mut old = store.patient(ODS, "6").expect("read").expect("patient 6");
        old.resource.extension.push(registration_period_extension(
            now(),
            None,
            Some(Reference {
                reference: Some("Location/18".into()),
                ..Reference::default()
            }),
        ));
        old.resource.contact.push(stu3::PatientContact::default());
        store
            .import(
                ODS,
                PracticeImport {
                    patients: vec![old.clone()],
                    ..PracticeImport::default()
                },
            )
            .expect("import");
        let mut sent = new_patient("9000000041");
        sent.name[0].family = Some("Moved".into());
        sent.name[0].given = vec!["Alice".into()];
        sent.birth_date = stu3::Date::new("1985-09-09").ok();
        let a = register_patient(&ctx(&store, &pr), parameters(sent), &pds()).expect("reactivated");
        let p = the_patient(&a.body);
        assert_eq!(p.id.as_ref().map(Id::as_str), Some("6"), "same record");
        assert_eq!(registration_type(p).as_deref(), Some("T"));
        assert_eq!(p.active, Some(true));
        let branch = registration_details(p)
            .extension
            .iter()
            .find(|e| e.url == extension::PREFERRED_BRANCH_SURGERY)
            .expect("preferred branch kept");
        assert!(
            matches!(&branch.value, Some(ExtensionValue::Reference(r)) if r.reference.as_deref() == Some("Location/18"))
        );
        let stored = store.patient(ODS, "6").expect("read").expect("6");
        assert_eq!(stored.flags.registration, RegistrationStatus::Active);
        assert_eq!(stored.flags.registration_type, RegistrationType::Temporary);
        assert_eq!(stored.resource.contact.len(), 1, "old data kept");
        assert!(stored.version > old.version);
    }

    #[test]
    fn f4_unverified_inactive_patient_that_fails_verification_is_400() {
        let (store, pr) = practice();
        let mut old = store.patient(ODS, "6").expect("read").expect("6");
        old.flags.nhs_number_verified = false;
        old.resource.birth_date = stu3::Date::new("1970-01-01").ok();
        store
            .import(
                ODS,
                PracticeImport {
                    patients: vec![old],
                    ..PracticeImport::default()
                },
            )
            .expect("import");
        let mut sent = new_patient("9000000041");
        sent.name[0].family = Some("Moved".into());
        sent.name[0].given = vec!["Alice".into()];
        sent.birth_date = stu3::Date::new("1985-09-09").ok();
        assert_error(
            register_patient(&ctx(&store, &pr), parameters(sent), &pds()),
            400,
            SpineCode::InvalidPatientDemographics,
        );
    }

    #[test]
    fn f4_locally_deceased_patient_is_400_invalid_patient_demographics() {
        let (store, pr) = practice();
        let p = pds();
        // PDS does not know of the death; the practice does.
        let mut alive = PdsRecord::from_patient(&store.patient(ODS, "5").expect("r").expect("5"))
            .expect("view");
        alive.deceased = false;
        p.insert(alive);
        let mut sent = new_patient("9000000033");
        sent.name[0].family = Some("Late".into());
        sent.name[0].given = vec!["Arthur".into()];
        sent.birth_date = stu3::Date::new("1930-07-07").ok();
        assert_error(
            register_patient(&ctx(&store, &pr), parameters(sent), &p),
            400,
            SpineCode::InvalidPatientDemographics,
        );
    }

    #[test]
    fn f4_new_patient_is_never_registered_as_gms() {
        let a = register(new_patient(NEW_NHS)).expect("registered");
        assert_eq!(
            registration_type(the_patient(&a.body)).as_deref(),
            Some("T")
        );
    }

    #[test]
    fn f4_demographics_are_supplemented_from_pds() {
        let mut sent = new_patient(NEW_NHS);
        sent.gender = None;
        sent.address.clear();
        sent.telecom.clear();
        let p = pds();
        p.insert(PdsRecord {
            address: vec![Address {
                use_: Some(Code::from_static("home")),
                line: vec!["1 PDS Street".into()],
                ..Address::default()
            }],
            telecom: vec![ContactPoint {
                system: Some(Code::from_static("phone")),
                value: Some("0113 000 0000".into()),
                use_: Some(Code::from_static("home")),
                ..ContactPoint::default()
            }],
            ..jackson(NEW_NHS)
        });
        let (store, pr) = practice();
        let a = register_patient(&ctx(&store, &pr), parameters(sent), &p).expect("ok");
        let patient = the_patient(&a.body);
        assert_eq!(patient.gender.as_ref().map(Code::as_str), Some("female"));
        assert_eq!(patient.address[0].line, vec!["1 PDS Street".to_owned()]);
        assert_eq!(patient.telecom.len(), 1);
    }

    #[test]
    fn s1_5_temporary_address_and_telecom_end_with_the_registration() {
        let mut sent = new_patient(NEW_NHS);
        sent.address.push(Address {
            use_: Some(Code::from_static("temp")),
            line: vec!["Holiday flat".into()],
            ..Address::default()
        });
        sent.telecom.push(ContactPoint {
            system: Some(Code::from_static("phone")),
            value: Some("07000 000000".into()),
            use_: Some(Code::from_static("temp")),
            ..ContactPoint::default()
        });
        let a = register(sent).expect("ok");
        let p = the_patient(&a.body);
        let end = |period: &Option<stu3::Period>| {
            period
                .as_ref()
                .and_then(|x| x.end.as_ref())
                .map(|d| d.as_str().to_owned())
        };
        let temp_address = p
            .address
            .iter()
            .find(|a| a.use_.as_ref().is_some_and(|u| u == "temp"));
        assert_eq!(
            temp_address.and_then(|a| end(&a.period)).as_deref(),
            Some("2027-02-25T10:00:00+00:00")
        );
        let temp_phone = p
            .telecom
            .iter()
            .find(|t| t.use_.as_ref().is_some_and(|u| u == "temp"));
        assert_eq!(
            temp_phone.and_then(|t| end(&t.period)).as_deref(),
            Some("2027-02-25T10:00:00+00:00")
        );
    }

    #[test]
    fn f4_nhs_communication_and_other_identifiers_are_stored_and_returned() {
        let mut sent = new_patient(NEW_NHS);
        sent.extension.push(Extension {
            url: extension::NHS_COMMUNICATION.to_owned(),
            extension: vec![Extension {
                url: "interpreterRequired".into(),
                value: Some(ExtensionValue::Boolean(false)),
                ..Extension::default()
            }],
            ..Extension::default()
        });
        sent.identifier.push(Identifier {
            system: Some("https://example.org/local".into()),
            value: Some("L1".into()),
            ..Identifier::default()
        });
        let a = register(sent).expect("ok");
        let p = the_patient(&a.body);
        assert!(
            p.extension
                .iter()
                .any(|e| e.url == extension::NHS_COMMUNICATION)
        );
        assert_eq!(p.identifier.len(), 2);
        assert_eq!(p.identifier[1].value.as_deref(), Some("L1"));
    }

    // --- R65 and the §1.5 error table -------------------------------------

    #[test]
    fn r65_missing_nhs_number_identifier_is_400_invalid_nhs_number() {
        let mut sent = new_patient(NEW_NHS);
        sent.identifier.clear();
        assert_error(register(sent), 400, SpineCode::InvalidNhsNumber);
    }

    #[test]
    fn r65_invalid_nhs_numbers_are_400_invalid_nhs_number() {
        for bad in [
            "34555##4",
            "hello",
            "999999999",
            "9000000008",
            "90000000090",
        ] {
            assert_error(register(new_patient(bad)), 400, SpineCode::InvalidNhsNumber);
        }
        let mut sent = new_patient(NEW_NHS);
        sent.identifier[0].value = None;
        assert_error(register(sent), 400, SpineCode::InvalidNhsNumber);
    }

    #[test]
    fn r65_identifier_without_a_system_is_400_bad_request() {
        let mut sent = new_patient(NEW_NHS);
        sent.identifier.push(Identifier {
            value: Some("x".into()),
            ..Identifier::default()
        });
        assert_error(register(sent), 400, SpineCode::BadRequest);
    }

    #[test]
    fn r65_two_nhs_number_identifiers_is_422() {
        let mut sent = new_patient(NEW_NHS);
        let again = sent.identifier[0].clone();
        sent.identifier.push(again);
        assert_error(register(sent), 422, SpineCode::InvalidResource);
    }

    #[test]
    fn r65_missing_birth_date_is_400_bad_request() {
        let mut sent = new_patient(NEW_NHS);
        sent.birth_date = None;
        assert_error(register(sent), 400, SpineCode::BadRequest);
    }

    #[test]
    fn r65_missing_official_name_is_400_bad_request() {
        let mut sent = new_patient(NEW_NHS);
        sent.name[0].use_ = Some(Code::from_static("usual"));
        assert_error(register(sent), 400, SpineCode::BadRequest);
        let mut sent = new_patient(NEW_NHS);
        sent.name.clear();
        assert_error(register(sent), 400, SpineCode::BadRequest);
    }

    #[test]
    fn r65_second_official_name_is_400_and_other_names_are_fine() {
        let mut sent = new_patient(NEW_NHS);
        let again = sent.name[0].clone();
        sent.name.push(again);
        assert_error(register(sent), 400, SpineCode::BadRequest);
        let mut sent = new_patient(NEW_NHS);
        sent.name.push(HumanName {
            use_: Some(Code::from_static("usual")),
            family: Some("Jacks".into()),
            ..HumanName::default()
        });
        assert!(register(sent).is_ok());
    }

    #[test]
    fn r65_missing_family_or_given_name_is_400_bad_request() {
        let mut sent = new_patient(NEW_NHS);
        sent.name[0].family = None;
        assert_error(register(sent), 400, SpineCode::BadRequest);
        let mut sent = new_patient(NEW_NHS);
        sent.name[0].given.clear();
        assert_error(register(sent), 400, SpineCode::BadRequest);
    }

    #[test]
    fn r65_missing_gender_is_fine() {
        let mut sent = new_patient(NEW_NHS);
        sent.gender = None;
        assert!(register(sent).is_ok());
    }

    #[test]
    fn f4_invalid_gender_is_422() {
        let mut sent = new_patient(NEW_NHS);
        sent.gender = Some(Code::from_static("F"));
        assert_error(register(sent), 422, SpineCode::InvalidResource);
    }

    #[test]
    fn r65_duplicate_register_patient_parameters_is_400_bad_request() {
        let mut body = parameters(new_patient(NEW_NHS));
        let again = body.parameter[0].clone();
        body.parameter.push(again);
        let (store, pr) = practice();
        assert_error(
            register_patient(&ctx(&store, &pr), body, &pds()),
            400,
            SpineCode::BadRequest,
        );
    }

    #[test]
    fn f4_additional_parameter_either_side_is_400_bad_request() {
        let other = ParametersParameter {
            name: "appointment".into(),
            resource: Some(stu3::Appointment::default().into()),
            ..ParametersParameter::default()
        };
        let (store, pr) = practice();
        for first in [true, false] {
            let mut body = parameters(new_patient(NEW_NHS));
            if first {
                body.parameter.insert(0, other.clone());
            } else {
                body.parameter.push(other.clone());
            }
            assert_error(
                register_patient(&ctx(&store, &pr), body, &pds()),
                400,
                SpineCode::BadRequest,
            );
        }
    }

    #[test]
    fn f4_two_wrongly_named_parameters_are_400_bad_request() {
        let mut body = parameters(new_patient(NEW_NHS));
        body.parameter[0].name = "a".into();
        let mut second = body.parameter[0].clone();
        second.name = "b".into();
        body.parameter.push(second);
        let (store, pr) = practice();
        assert_error(
            register_patient(&ctx(&store, &pr), body, &pds()),
            400,
            SpineCode::BadRequest,
        );
    }

    #[test]
    fn s1_5_invalid_parameters_are_422_invalid_resource() {
        let (store, pr) = practice();
        let c = ctx(&store, &pr);
        let mut wrong_name = parameters(new_patient(NEW_NHS));
        wrong_name.parameter[0].name = "invalidName".into();
        let mut not_a_patient = parameters(new_patient(NEW_NHS));
        not_a_patient.parameter[0].resource = Some(stu3::Appointment::default().into());
        let mut no_resource = parameters(new_patient(NEW_NHS));
        no_resource.parameter[0].resource = None;
        let mut value_too = parameters(new_patient(NEW_NHS));
        value_too.parameter[0].value = Some(stu3::ParametersParameterValue::String("x".into()));
        for body in [
            Parameters::default(),
            wrong_name,
            not_a_patient,
            no_resource,
            value_too,
        ] {
            assert_error(
                register_patient(&c, body, &pds()),
                422,
                SpineCode::InvalidResource,
            );
        }
    }

    #[test]
    fn s1_5_meta_profile_is_required_in_1_2_9() {
        let mut sent = new_patient(NEW_NHS);
        sent.meta = None;
        assert_error(register(sent), 422, SpineCode::InvalidResource);
        let mut sent = new_patient(NEW_NHS);
        sent.meta = Some(Meta {
            profile: vec!["http://hl7.org/fhir/StructureDefinition/Patient".into()],
            ..Meta::default()
        });
        assert_error(register(sent), 422, SpineCode::InvalidResource);
    }

    #[test]
    fn r65_extra_element_active_is_422() {
        let mut sent = new_patient(NEW_NHS);
        sent.active = Some(true);
        assert_error(register(sent), 422, SpineCode::InvalidResource);
    }

    /// An edit of a valid Patient.
    type Change = Box<dyn Fn(&mut Patient)>;

    #[test]
    fn r65_every_disallowed_element_is_422() {
        let cases: Vec<(&str, Change)> = vec![
            (
                "multipleBirth",
                Box::new(|p| p.multiple_birth = Some(stu3::PatientMultipleBirth::Boolean(true))),
            ),
            (
                "generalPractitioner",
                Box::new(|p| p.general_practitioner.push(Reference::default())),
            ),
            (
                "contact",
                Box::new(|p| p.contact.push(stu3::PatientContact::default())),
            ),
            (
                "managingOrganization",
                Box::new(|p| p.managing_organization = Some(Reference::default())),
            ),
            (
                "maritalStatus",
                Box::new(|p| p.marital_status = Some(stu3::CodeableConcept::default())),
            ),
            (
                "deceased",
                Box::new(|p| p.deceased = Some(stu3::PatientDeceased::Boolean(false))),
            ),
            (
                "link",
                Box::new(|p| p.link.push(stu3::PatientLink::default())),
            ),
            (
                "modifierExtension",
                Box::new(|p| {
                    p.modifier_extension.push(Extension {
                        url: "x".into(),
                        ..Extension::default()
                    })
                }),
            ),
            (
                "registration details",
                Box::new(|p| {
                    p.extension
                        .push(registration_period_extension(now(), None, None))
                }),
            ),
        ];
        for (what, change) in cases {
            let mut sent = new_patient(NEW_NHS);
            change(&mut sent);
            let e = register(sent).expect_err(what);
            assert_eq!(
                (e.status(), e.code()),
                (422, SpineCode::InvalidResource),
                "{what}"
            );
        }
    }

    #[test]
    fn r65_animal_photo_communication_are_rejected_by_the_codec_as_422() {
        for element in [
            r#""animal": {"species": {"text": "dog"}}"#,
            r#""photo": [{"url": "http://x"}]"#,
            r#""communication": [{"language": {"text": "en"}}]"#,
        ] {
            let body = EXAMPLE.replacen(
                r#""gender": "female","#,
                &format!(r#""gender": "female", {element},"#),
                1,
            );
            let e: Error = from_json::<Parameters>(body.as_bytes(), Limits::REQUEST)
                .expect_err(element)
                .into();
            assert_eq!(
                (e.status(), e.code()),
                (422, SpineCode::InvalidResource),
                "{element}"
            );
        }
    }

    #[test]
    fn r65_more_than_one_nhs_communication_is_422() {
        let mut sent = new_patient(NEW_NHS);
        for _ in 0..2 {
            sent.extension.push(Extension {
                url: extension::NHS_COMMUNICATION.to_owned(),
                ..Extension::default()
            });
        }
        assert_error(register(sent), 422, SpineCode::InvalidResource);
    }

    fn address(use_: &'static str) -> Address {
        Address {
            use_: Some(Code::from_static(use_)),
            line: vec!["1 Road".into()],
            ..Address::default()
        }
    }

    #[test]
    fn r65_address_uses_other_than_one_home_and_one_temp_are_422() {
        for uses in [
            &["work"][..],
            &["old"],
            &["home", "work"],
            &["home", "home"],
            &["home", "old"],
            &["temp", "temp"],
            &["temp", "work"],
        ] {
            let mut sent = new_patient(NEW_NHS);
            sent.address = uses.iter().map(|u| address(u)).collect();
            assert_error(register(sent), 422, SpineCode::InvalidResource);
        }
        for uses in [&["home", "temp"][..], &["temp", "home"], &[]] {
            let mut sent = new_patient(NEW_NHS);
            sent.address = uses.iter().map(|u| address(u)).collect();
            assert!(register(sent).is_ok(), "{uses:?}");
        }
    }

    fn telecom(kind: &str) -> ContactPoint {
        let (system, use_) = match kind {
            "email" => ("email", "home"),
            other => ("phone", other),
        };
        ContactPoint {
            system: Code::new(system).ok(),
            value: Some(format!("{kind}-value")),
            use_: Code::new(use_).ok(),
            ..ContactPoint::default()
        }
    }

    #[test]
    fn r65_two_telecoms_with_the_same_use_are_400_bad_request() {
        for kind in ["home", "work", "mobile", "temp", "email"] {
            let mut sent = new_patient(NEW_NHS);
            sent.telecom = vec![telecom(kind), telecom(kind)];
            assert_error(register(sent), 400, SpineCode::BadRequest);
        }
    }

    #[test]
    fn r65_telecoms_of_different_uses_are_accepted() {
        let kinds = ["home", "work", "mobile", "temp", "email"];
        for a in kinds {
            for b in kinds.iter().filter(|b| **b != a) {
                let mut sent = new_patient(NEW_NHS);
                sent.telecom = vec![telecom(a), telecom(b)];
                assert!(register(sent).is_ok(), "{a} + {b}");
            }
        }
    }

    #[test]
    fn f4_telecom_outside_the_allowed_kinds_is_422() {
        let mut fax = telecom("home");
        fax.system = Some(Code::from_static("fax"));
        let mut old = telecom("home");
        old.use_ = Some(Code::from_static("old"));
        let mut empty = telecom("home");
        empty.value = None;
        for t in [fax, old, empty] {
            let mut sent = new_patient(NEW_NHS);
            sent.telecom = vec![t];
            assert_error(register(sent), 422, SpineCode::InvalidResource);
        }
    }

    #[test]
    fn s1_5_not_on_pds_is_400_invalid_patient_demographics() {
        // Valid, but neither in the practice nor on PDS.
        assert_error(
            register(new_patient("9000000025")),
            400,
            SpineCode::InvalidPatientDemographics,
        );
    }

    #[test]
    fn s1_5_pds_unavailable_is_500() {
        let (store, pr) = practice();
        let p = pds();
        p.set_unavailable(true);
        assert_error(
            register_patient(&ctx(&store, &pr), parameters(new_patient(NEW_NHS)), &p),
            500,
            SpineCode::InternalServerError,
        );
    }

    fn register_against(pds_record: PdsRecord) -> Result<Answer<stu3::Bundle>, Error> {
        let (store, pr) = practice();
        register_patient(
            &ctx(&store, &pr),
            parameters(new_patient(NEW_NHS)),
            &LocalPds::from_records([pds_record]),
        )
    }

    #[test]
    fn s1_5_pds_invalid_or_superseded_is_400_invalid_nhs_number() {
        for r in [
            PdsRecord {
                invalid: true,
                ..jackson(NEW_NHS)
            },
            PdsRecord {
                superseded: true,
                ..jackson(NEW_NHS)
            },
        ] {
            assert_error(register_against(r), 400, SpineCode::InvalidNhsNumber);
        }
    }

    #[test]
    fn r62_sensitive_patient_is_400_invalid_patient_demographics() {
        assert_error(
            register_against(PdsRecord {
                sensitive: true,
                ..jackson(NEW_NHS)
            }),
            400,
            SpineCode::InvalidPatientDemographics,
        );
        // The practice's own S-flagged patient 4, whom PDS does not flag.
        let (store, pr) = practice();
        let r4 = store.patient(ODS, "4").expect("r").expect("4");
        let p = LocalPds::from_records([PdsRecord {
            sensitive: false,
            ..PdsRecord::from_patient(&r4).expect("view")
        }]);
        let mut sent = new_patient("9658218873");
        sent.name[0].family = Some("Hidden".into());
        sent.name[0].given = vec!["Sam".into()];
        sent.birth_date = stu3::Date::new("1990-03-03").ok();
        assert_error(
            register_patient(&ctx(&store, &pr), parameters(sent), &p),
            400,
            SpineCode::InvalidPatientDemographics,
        );
    }

    #[test]
    fn s1_5_deceased_on_pds_is_400_invalid_patient_demographics() {
        assert_error(
            register_against(PdsRecord {
                deceased: true,
                ..jackson(NEW_NHS)
            }),
            400,
            SpineCode::InvalidPatientDemographics,
        );
    }

    #[test]
    fn r65_family_name_not_matching_pds_is_400_bad_request() {
        assert_error(
            register_against(PdsRecord {
                family: "Smith".into(),
                ..jackson(NEW_NHS)
            }),
            400,
            SpineCode::BadRequest,
        );
    }

    #[test]
    fn s1_5_demographics_not_verifying_is_400_invalid_patient_demographics() {
        // Same family name, but born on another day and month: 1 of 3 parts.
        assert_error(
            register_against(PdsRecord {
                birth_date: Date::constant(1952, 1, 1),
                ..jackson(NEW_NHS)
            }),
            400,
            SpineCode::InvalidPatientDemographics,
        );
        // 2 of 3 parts, family and initial match: verified.
        assert!(
            register_against(PdsRecord {
                birth_date: Date::constant(1952, 5, 30),
                ..jackson(NEW_NHS)
            })
            .is_ok()
        );
    }

    #[test]
    fn s1_5_a_failed_registration_changes_nothing() {
        let (store, pr) = practice();
        let before = store.patients_by_nhs_number(ODS, NEW_NHS).expect("read");
        let mut sent = new_patient(NEW_NHS);
        sent.active = Some(true);
        let _ = register_patient(&ctx(&store, &pr), parameters(sent), &pds());
        assert_eq!(
            store.patients_by_nhs_number(ODS, NEW_NHS).expect("read"),
            before
        );
    }
}
