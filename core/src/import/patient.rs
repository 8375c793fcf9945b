//! Patients: demographics stay the CareConnect-GPC-Patient-1 resource; the
//! provider facts the profile cannot carry ([`PatientFlags`]) come from our
//! extensions and from two standard GP Connect elements:
//!
//! - NHS number verified: the `NHSNumberVerificationStatus` extension on the
//!   NHS-number identifier, code `01` ("Number present and verified").
//! - Registration type: `registrationType` inside the `RegistrationDetails`
//!   extension (`T` temporary, `R` regular, any other code "other"; absent
//!   means regular).

use crate::checks::nhs_number::is_valid_nhs_number;
use crate::error::{Echo, Error};
use crate::fhir::datatypes::{CodeableConcept, Identifier};
use crate::store::{PatientFlags, PatientRecord, RegistrationStatus, RegistrationType};
use crate::stu3::{
    self, PatientDeceased,
    profiles::{code_system, extension as gpc, identifier_system},
};

use super::entries::{At, Entries};
use super::extension::{self as ext, Ext, Extensions};
use super::{invalid, stored};

/// The flags a Patient may carry.
const FLAGS: [&str; 5] = [
    ext::REGISTRATION_STATUS,
    ext::DECEASED,
    ext::SENSITIVE,
    ext::DISSENT,
    ext::RECORD_IN_TRANSIT,
];

/// The NHS-number verification code meaning "verified" (§8.2).
const VERIFIED: &str = "01";

/// Convert a Patient.
pub(crate) fn patient(
    at: At<'_>,
    patient: &stu3::Patient,
    entries: &Entries<'_>,
) -> Result<PatientRecord, Error> {
    let (nhs_number, nhs_number_verified) = nhs_number(at, &patient.identifier)?;
    let exts = Extensions::read(
        &at.to_string(),
        &patient.extension,
        &patient.modifier_extension,
        &FLAGS,
        &[gpc::REGISTRATION_DETAILS],
        "Patient",
    )?;
    let registration = match exts.single(ext::REGISTRATION_STATUS)? {
        None => RegistrationStatus::Active,
        Some(e) => match e.code()? {
            "active" => RegistrationStatus::Active,
            "inactive" => RegistrationStatus::Inactive,
            other => {
                return Err(invalid(
                    &e.path,
                    format!(
                        "{} must be active or inactive, not {}",
                        ext::REGISTRATION_STATUS,
                        Echo(other)
                    ),
                ));
            }
        },
    };
    let deceased = exts
        .single(ext::DECEASED)?
        .map(Ext::full_date)
        .transpose()?;
    check_deceased_agrees(at, patient.deceased.as_ref(), deceased.is_some())?;
    let registration_type = match exts.single(gpc::REGISTRATION_DETAILS)? {
        Some(e) => registration_details(e, entries)?,
        None => RegistrationType::Regular,
    };
    if let Some(r) = &patient.managing_organization {
        entries.resolve(r, &["Organization"], &at.path("managingOrganization"))?;
    }
    for (i, r) in patient.general_practitioner.iter().enumerate() {
        entries.resolve(
            r,
            &["Organization", "Practitioner"],
            &at.path(&format!("generalPractitioner[{i}]")),
        )?;
    }
    for (i, link) in patient.link.iter().enumerate() {
        entries.resolve(
            &link.other,
            &["Patient"],
            &at.path(&format!("link[{i}].other")),
        )?;
    }
    let flags = PatientFlags {
        registration,
        registration_type,
        deceased,
        sensitive: exts.boolean_or(ext::SENSITIVE, false)?,
        nhs_number_verified,
        dissent: exts.boolean_or(ext::DISSENT, false)?,
        record_in_transit: exts
            .single(ext::RECORD_IN_TRANSIT)?
            .map(Ext::full_date)
            .transpose()?,
    };
    let mut resource = patient.clone();
    stored::clear_identity(&mut resource.id, &mut resource.meta);
    ext::strip_ours(&mut resource.extension);
    stored::no_stray_extensions(&resource, at)?;
    Ok(PatientRecord {
        id: at.id.to_owned(),
        version: 0,
        nhs_number,
        resource,
        flags,
    })
}

/// The one NHS-number identifier: a valid NHS number (§8.3), and whether it
/// is marked verified. The number is never echoed in diagnostics: it is a
/// patient identifier and diagnostics end up in logs.
fn nhs_number(at: At<'_>, identifiers: &[Identifier]) -> Result<(String, bool), Error> {
    let mut found = identifiers
        .iter()
        .enumerate()
        .filter(|(_, i)| i.system.as_deref() == Some(identifier_system::NHS_NUMBER));
    let Some((index, identifier)) = found.next() else {
        return Err(at.err(
            "identifier",
            format!(
                "an NHS number identifier (system {}) is required",
                identifier_system::NHS_NUMBER
            ),
        ));
    };
    if let Some((second, _)) = found.next() {
        return Err(at.err(
            &format!("identifier[{second}]"),
            format!("a second NHS number identifier (the first is identifier[{index}])"),
        ));
    }
    let value = identifier.value.as_deref().unwrap_or_default();
    if !is_valid_nhs_number(value) {
        return Err(at.err(
            &format!("identifier[{index}].value"),
            "is not a valid NHS number (10 digits with a Modulus 11 check digit)",
        ));
    }
    let base = at.path(&format!("identifier[{index}]"));
    let exts = Extensions::read(
        &base,
        &identifier.extension,
        &[],
        &[],
        &[gpc::NHS_NUMBER_VERIFICATION_STATUS],
        "the NHS number identifier",
    )?;
    let verified = match exts.single(gpc::NHS_NUMBER_VERIFICATION_STATUS)? {
        Some(e) => has_code(
            e.codeable_concept()?,
            code_system::NHS_NUMBER_VERIFICATION_STATUS,
            VERIFIED,
        ),
        None => false,
    };
    Ok((value.to_owned(), verified))
}

fn has_code(cc: &CodeableConcept, system: &str, code: &str) -> bool {
    cc.coding
        .iter()
        .any(|c| c.system.as_deref() == Some(system) && c.code.as_ref().is_some_and(|x| x == code))
}

/// `Patient.deceased[x]` is demographics and is kept, but the flag decides
/// (F2 "active", F4, the Access Record 28-day rule). A file where the two
/// disagree is refused rather than one silently winning: a patient the
/// resource says is dead must not be served as alive.
fn check_deceased_agrees(
    at: At<'_>,
    resource: Option<&PatientDeceased>,
    flagged: bool,
) -> Result<(), Error> {
    let (element, says_deceased) = match resource {
        None => return Ok(()),
        Some(PatientDeceased::Boolean(b)) => ("deceasedBoolean", *b),
        Some(PatientDeceased::DateTime(_)) => ("deceasedDateTime", true),
    };
    match (says_deceased, flagged) {
        (true, false) => Err(at.err(
            element,
            format!(
                "says the patient is deceased but {} is absent; the flag decides, so set it (valueDate) too",
                ext::DECEASED
            ),
        )),
        (false, true) => Err(at.err(
            element,
            format!(
                "is false but {} says the patient is deceased",
                ext::DECEASED
            ),
        )),
        _ => Ok(()),
    }
}

/// The registration type from the standard `RegistrationDetails`
/// extension; its `preferredBranchSurgery` must be a Location of the bundle.
fn registration_details(e: &Ext<'_>, entries: &Entries<'_>) -> Result<RegistrationType, Error> {
    let subs = e.complex(&[
        gpc::REGISTRATION_PERIOD,
        gpc::REGISTRATION_TYPE,
        gpc::PREFERRED_BRANCH_SURGERY,
    ])?;
    if let Some(branch) = subs.single(gpc::PREFERRED_BRANCH_SURGERY)? {
        entries.resolve(branch.reference()?, &["Location"], &branch.path)?;
    }
    let Some(kind) = subs.single(gpc::REGISTRATION_TYPE)? else {
        return Ok(RegistrationType::Regular);
    };
    let cc = kind.codeable_concept()?;
    let code = cc
        .coding
        .iter()
        .find(|c| c.system.as_deref() == Some(code_system::REGISTRATION_TYPE))
        .and_then(|c| c.code.as_ref());
    Ok(match code.map(|c| c.as_str()) {
        Some("T") => RegistrationType::Temporary,
        Some("R") => RegistrationType::Regular,
        _ => RegistrationType::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::datatypes::{Coding, Extension, ExtensionValue, Reference};
    use crate::fhir::primitive::{Code, Date, DateTime, Id};

    const AT: At<'static> = At {
        index: 3,
        kind: "Patient",
        id: "2",
    };

    fn flag(url: &str, value: ExtensionValue) -> Extension {
        Extension {
            url: url.to_owned(),
            value: Some(value),
            ..Default::default()
        }
    }

    fn base() -> stu3::Patient {
        stu3::Patient {
            id: Id::new("2").ok(),
            identifier: vec![Identifier {
                system: Some(identifier_system::NHS_NUMBER.to_owned()),
                value: Some("9000000009".to_owned()),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn convert(p: &stu3::Patient) -> Result<PatientRecord, Error> {
        let bundle = stu3::Bundle {
            type_: Code::from_static("collection"),
            entry: vec![stu3::BundleEntry {
                resource: Some(
                    stu3::Location {
                        id: Id::new("18").ok(),
                        ..Default::default()
                    }
                    .into(),
                ),
                ..Default::default()
            }],
            ..Default::default()
        };
        let entries = Entries::index(&bundle)?;
        patient(AT, p, &entries)
    }

    #[test]
    fn defaults_are_an_active_regular_unflagged_unverified_patient() {
        let r = convert(&base()).expect("converts");
        assert_eq!(r.nhs_number, "9000000009");
        assert_eq!(r.flags, PatientFlags::default());
        assert_eq!(r.resource.id, None, "the id lives beside the resource");
    }

    #[test]
    fn every_flag_extension_maps_and_is_stripped() {
        let mut p = base();
        p.extension = vec![
            flag(
                ext::REGISTRATION_STATUS,
                ExtensionValue::Code(Code::from_static("inactive")),
            ),
            flag(
                ext::DECEASED,
                ExtensionValue::Date(Date::new("2029-12-01").expect("date")),
            ),
            flag(ext::SENSITIVE, ExtensionValue::Boolean(true)),
            flag(ext::DISSENT, ExtensionValue::Boolean(true)),
            flag(
                ext::RECORD_IN_TRANSIT,
                ExtensionValue::Date(Date::new("2029-11-20").expect("date")),
            ),
        ];
        let r = convert(&p).expect("converts");
        assert_eq!(
            r.flags,
            PatientFlags {
                registration: RegistrationStatus::Inactive,
                registration_type: RegistrationType::Regular,
                deceased: Some(jiff::civil::date(2029, 12, 1)),
                sensitive: true,
                nhs_number_verified: false,
                dissent: true,
                record_in_transit: Some(jiff::civil::date(2029, 11, 20)),
            }
        );
        assert!(
            r.resource.extension.is_empty(),
            "no flag reaches a consumer"
        );
    }

    #[test]
    fn registration_status_is_active_or_inactive() {
        let mut p = base();
        p.extension = vec![flag(
            ext::REGISTRATION_STATUS,
            ExtensionValue::Code(Code::from_static("left")),
        )];
        assert_eq!(
            convert(&p).expect_err("bad code").diagnostics(),
            "Bundle.entry[3].resource(Patient/2).extension[0]: urn:gpconnect:fhir:extension:registration-status must be active or inactive, not \"left\""
        );
    }

    #[test]
    fn verification_comes_from_the_standard_identifier_extension() {
        let mut p = base();
        p.identifier[0].extension = vec![flag(
            gpc::NHS_NUMBER_VERIFICATION_STATUS,
            ExtensionValue::CodeableConcept(CodeableConcept {
                coding: vec![Coding {
                    system: Some(code_system::NHS_NUMBER_VERIFICATION_STATUS.to_owned()),
                    code: Some(Code::from_static("01")),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        )];
        assert!(convert(&p).expect("converts").flags.nhs_number_verified);
        assert_eq!(
            convert(&p).expect("converts").resource.identifier[0]
                .extension
                .len(),
            1,
            "the standard extension is kept for consumers"
        );
    }

    #[test]
    fn registration_type_comes_from_registration_details() {
        let mut p = base();
        p.extension = vec![Extension {
            url: gpc::REGISTRATION_DETAILS.to_owned(),
            extension: vec![
                flag(
                    gpc::REGISTRATION_TYPE,
                    ExtensionValue::CodeableConcept(CodeableConcept {
                        coding: vec![Coding {
                            system: Some(code_system::REGISTRATION_TYPE.to_owned()),
                            code: Some(Code::from_static("T")),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                ),
                flag(
                    gpc::PREFERRED_BRANCH_SURGERY,
                    ExtensionValue::Reference(Reference {
                        reference: Some("Location/18".to_owned()),
                        ..Default::default()
                    }),
                ),
            ],
            ..Default::default()
        }];
        let r = convert(&p).expect("converts");
        assert_eq!(r.flags.registration_type, RegistrationType::Temporary);
        assert_eq!(r.resource.extension.len(), 1, "standard extension kept");
        p.extension[0].extension[1].value = Some(ExtensionValue::Reference(Reference {
            reference: Some("Location/99".to_owned()),
            ..Default::default()
        }));
        assert_eq!(
            convert(&p).expect_err("unknown branch").diagnostics(),
            "Bundle.entry[3].resource(Patient/2).extension[0].extension[1]: Location/99 is not in the bundle"
        );
    }

    #[test]
    fn nhs_number_is_required_valid_and_not_echoed() {
        let mut p = base();
        p.identifier[0].value = Some("9000000008".to_owned());
        let e = convert(&p).expect_err("check digit");
        assert_eq!(
            e.diagnostics(),
            "Bundle.entry[3].resource(Patient/2).identifier[0].value: is not a valid NHS number (10 digits with a Modulus 11 check digit)"
        );
        p.identifier.clear();
        assert_eq!(
            convert(&p).expect_err("missing").diagnostics(),
            "Bundle.entry[3].resource(Patient/2).identifier: an NHS number identifier (system https://fhir.nhs.uk/Id/nhs-number) is required"
        );
    }

    #[test]
    fn deceased_element_and_flag_must_agree() {
        let mut p = base();
        p.deceased = Some(PatientDeceased::DateTime(
            DateTime::new("2029-12-01T10:00:00+00:00").expect("dt"),
        ));
        assert!(convert(&p).expect_err("no flag").diagnostics().starts_with(
            "Bundle.entry[3].resource(Patient/2).deceasedDateTime: says the patient is deceased"
        ));
        p.extension = vec![flag(
            ext::DECEASED,
            ExtensionValue::Date(Date::new("2029-12-01").expect("date")),
        )];
        assert!(convert(&p).is_ok());
        p.deceased = Some(PatientDeceased::Boolean(false));
        assert!(convert(&p).is_err());
    }
}
