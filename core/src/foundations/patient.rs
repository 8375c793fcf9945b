//! F2 find a patient and F3 read a patient (digest §1.3, §1.4, R60, R61,
//! R63, R64), and the one Patient population function every Foundations
//! and Appointments answer uses ([`patient_resource`]).

use crate::checks::datetime::format_uk_local;
use crate::checks::nhs_number::NhsNumber;
use crate::error::{Echo, Error, SpineCode};
use crate::fhir::datatypes::{
    CodeableConcept, Coding, Extension, ExtensionValue, Identifier, Reference,
};
use crate::fhir::primitive::{Code, DateTime, Id};
use crate::operation::{Answer, Context};
use crate::population::{meta, reference};
use crate::store::{PatientFlags, PatientRecord, RegistrationStatus, RegistrationType, StoreError};
use crate::stu3::profiles::{code_system, extension, identifier_system, profile};
use crate::stu3::{self, PatientDeceased};

use super::pds::{Demographics, Pds, PdsRecord, demographics_match};
use super::{identifier_param, readable_id, require_id, searchset};

/// F2 find a patient: `GET /Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs}`.
///
/// - The `identifier` parameter follows R64 ([`identifier_param`]); an NHS
///   number failing the §8.3 check is 400 INVALID_NHS_NUMBER.
/// - Only **active** patients are returned (§1.3): registered (not left)
///   and not deceased ([`is_active`]).
/// - A PDS-sensitive (S-flag) patient is omitted (R60).
/// - An active patient whose NHS number is not yet verified is checked
///   against PDS (§1.3, 1.2.7+): included only if PDS has the number, the
///   demographics match ([`demographics_match`]), and PDS does not record
///   them as deceased, sensitive, invalid or superseded. A patient so
///   verified is marked verified in the store (version-checked; if the
///   record changed meanwhile, the next find simply asks PDS again) and
///   returned as verified.
/// - No match is a 200 with an empty searchset Bundle (R63).
///
/// # Errors
/// R64's 400/422 codes; 500 when PDS is unavailable for an unverified
/// patient, when the store fails, or when a matching record cannot meet the
/// profile (R86, the whole Bundle fails).
pub fn find_patient(
    ctx: &Context<'_>,
    query: &[(&str, &str)],
    pds: &dyn Pds,
) -> Result<Answer<stu3::Bundle>, Error> {
    let value = identifier_param(query, identifier_system::NHS_NUMBER)?;
    let nhs = NhsNumber::parse(value)?;
    let mut found = Vec::new();
    for mut record in ctx.store.patients_by_nhs_number(ctx.ods(), nhs.as_str())? {
        // R60 first: a sensitive patient is never looked at further.
        if record.flags.sensitive || !is_active(&record) {
            continue;
        }
        if !record.flags.nhs_number_verified {
            match pds.retrieve(nhs.as_str())? {
                Some(p) if verifies(&record, &p) => {
                    let flags = PatientFlags {
                        nhs_number_verified: true,
                        ..record.flags.clone()
                    };
                    record = match ctx.store.update_patient_flags(
                        ctx.ods(),
                        &record.id,
                        record.version,
                        flags.clone(),
                    ) {
                        Ok(updated) => updated,
                        // Changed meanwhile: answer with this read; the
                        // next find verifies again.
                        Err(StoreError::VersionConflict { .. }) => {
                            PatientRecord { flags, ..record }
                        }
                        Err(e) => return Err(e.into()),
                    };
                }
                _ => continue,
            }
        }
        found.push(stu3::Resource::from(patient_resource(ctx, &record)?));
    }
    Ok(Answer::ok(searchset(found)))
}

/// F3 read a patient: `GET /Patient/{id}`, with the ETag.
///
/// Same population as F2 ([`patient_resource`]). An unknown id, an id that
/// cannot be a FHIR id (R80), and a PDS-sensitive patient (R61) are all 404
/// PATIENT_NOT_FOUND, so a sensitive record's existence is not revealed.
/// A read is not limited to active patients (§1.4 gives no such rule): a
/// patient who has left or died is returned with `active` false.
///
/// # Errors
/// 404 PATIENT_NOT_FOUND as above; 500 when the store fails or the record
/// cannot meet the profile (R86).
pub fn read_patient(ctx: &Context<'_>, id: &str) -> Result<Answer<stu3::Patient>, Error> {
    let not_found = || {
        Error::new(
            SpineCode::PatientNotFound,
            format!("no patient with id {}", Echo(id)),
        )
    };
    if !readable_id(id) {
        return Err(not_found());
    }
    let record = match ctx.store.patient(ctx.ods(), id)? {
        Some(r) if !r.flags.sensitive => r,
        _ => return Err(not_found()),
    };
    let patient = patient_resource(ctx, &record)?;
    Ok(Answer::versioned(patient, record.version))
}

/// Active in the sense of F2 (§1.3): registered (registration *status*
/// Active, whatever the registration type) and not deceased, by the flags
/// or by the resource.
pub fn is_active(record: &PatientRecord) -> bool {
    record.flags.registration == RegistrationStatus::Active && !is_deceased(record)
}

/// Deceased by the flags or by `Patient.deceased[x]`.
pub fn is_deceased(record: &PatientRecord) -> bool {
    record.flags.deceased.is_some()
        || matches!(
            record.resource.deceased,
            Some(PatientDeceased::Boolean(true) | PatientDeceased::DateTime(_))
        )
}

/// §1.3: the local record's NHS number is verified by `pds` when PDS does not
/// flag the person deceased, sensitive, invalid or superseded, and the
/// local demographics match PDS's.
pub(crate) fn verifies(record: &PatientRecord, pds: &PdsRecord) -> bool {
    !pds.deceased
        && !pds.sensitive
        && pds.number_is_usable()
        && Demographics::of(&record.resource).is_some_and(|d| demographics_match(&d, pds))
}

/// The Patient GP Connect returns for `record` (F2, F3, F4; the
/// Appointments interactions reuse it).
///
/// - `id`, `meta.versionId`, `meta.profile` CareConnect-GPC-Patient-1 (§1.1).
/// - `identifier`: the NHS number first, with the
///   NHSNumberVerificationStatus extension from the flags (`01` "Number
///   present and verified", else `02` "Number present but not traced");
///   the host's other identifiers after it.
/// - Exactly one `official` name (§1.3): the first with a family name,
///   moved to the front; other official names are dropped, other names
///   kept. No official name with a family name is
///   data that cannot meet the profile (R86, 500).
/// - `active`: [`is_active`]; `deceased[x]` from the flags' date of death.
/// - `managingOrganization`: the practice's Organization, the organisation
///   the URL's ODS code addresses (§1.3), whatever the host stored.
/// - Extensions: only RegistrationDetails and NHSCommunication survive, so
///   `ethnicCategory`, `religiousAffiliation`, `patient-cadavericDonor`,
///   `residentialStatus`, `treatmentCategory` and `birthPlace` are never
///   populated (§1.3 must-NOT list). RegistrationDetails is rebuilt:
///   the stored `registrationPeriod` and `preferredBranchSurgery`, and
///   `registrationType` from the flags (`R`, `T`, or `O` "Other" with
///   text unless the host stored its own type, §1.5).
/// - `maritalStatus` and `multipleBirth[x]` are never populated (§1.3);
///   `text` (narrative) is not sent (§1.1).
/// - Addresses lose `text` (R89); a contact's `relationship` keeps only its
///   `text`, taken from the first coding's display when absent (§8.5).
///
/// # Errors
/// 500 INTERNAL_SERVER_ERROR when the record cannot meet the profile (R86):
/// an id that is not a FHIR id, or no official name with a family name.
pub fn patient_resource(ctx: &Context<'_>, record: &PatientRecord) -> Result<stu3::Patient, Error> {
    let mut p = record.resource.clone();
    p.id = Id::new(record.id.clone()).ok();
    require_id("Patient", p.id.as_ref(), &record.id)?;
    p.meta = Some(meta(profile::PATIENT, record.version));
    p.text = None;

    p.identifier = nhs_number_identifiers(record, std::mem::take(&mut p.identifier));
    p.name = one_official_name(std::mem::take(&mut p.name)).ok_or_else(|| {
        Error::internal(format!(
            "Patient/{} has no official name with a family name, which CareConnect-GPC-Patient-1 requires (R86)",
            record.id
        ))
    })?;

    p.active = Some(is_active(record));
    if let Some(date) = record.flags.deceased {
        p.deceased = DateTime::new(date.to_string())
            .ok()
            .map(PatientDeceased::DateTime);
    }
    p.marital_status = None;
    p.multiple_birth = None;
    p.managing_organization = Some(reference("Organization", &ctx.practice.organization_id));

    let registration_details = registration_details(&p.extension, &record.flags);
    p.extension
        .retain(|e| e.url == extension::NHS_COMMUNICATION);
    p.extension.insert(0, registration_details);

    for a in &mut p.address {
        a.text = None;
    }
    for c in &mut p.contact {
        if let Some(a) = c.address.as_mut() {
            a.text = None;
        }
        for rel in &mut c.relationship {
            if rel.text.is_none() {
                rel.text = rel.coding.iter().find_map(|c| c.display.clone());
            }
            rel.coding.clear();
        }
    }
    Ok(p)
}

/// The NHS-number identifier (from the record's key and flags) followed by
/// every other identifier the resource carried.
fn nhs_number_identifiers(record: &PatientRecord, stored: Vec<Identifier>) -> Vec<Identifier> {
    let (code, display) = if record.flags.nhs_number_verified {
        ("01", "Number present and verified")
    } else {
        ("02", "Number present but not traced")
    };
    let nhs = Identifier {
        extension: vec![Extension {
            url: extension::NHS_NUMBER_VERIFICATION_STATUS.to_owned(),
            value: Some(ExtensionValue::CodeableConcept(CodeableConcept {
                coding: vec![Coding {
                    system: Some(code_system::NHS_NUMBER_VERIFICATION_STATUS.to_owned()),
                    code: Some(Code::from_static(code)),
                    display: Some(display.to_owned()),
                    ..Coding::default()
                }],
                ..CodeableConcept::default()
            })),
            ..Extension::default()
        }],
        system: Some(identifier_system::NHS_NUMBER.to_owned()),
        value: Some(record.nhs_number.clone()),
        ..Identifier::default()
    };
    std::iter::once(nhs)
        .chain(
            stored
                .into_iter()
                .filter(|i| i.system.as_deref() != Some(identifier_system::NHS_NUMBER)),
        )
        .collect()
}

/// `names` with exactly one official name (the first with a family name,
/// which moves to the front); `None` when there is none.
fn one_official_name(names: Vec<stu3::HumanName>) -> Option<Vec<stu3::HumanName>> {
    let is_official =
        |n: &stu3::HumanName| n.use_.as_ref().is_some_and(|u| u.as_str() == "official");
    let has_family =
        |n: &stu3::HumanName| n.family.as_deref().is_some_and(|f| !f.trim().is_empty());
    let position = names.iter().position(|n| is_official(n) && has_family(n))?;
    let mut out = Vec::with_capacity(names.len());
    let mut rest = Vec::new();
    for (i, n) in names.into_iter().enumerate() {
        if i == position {
            out.push(n);
        } else if !is_official(&n) {
            rest.push(n);
        }
    }
    out.extend(rest);
    Some(out)
}

/// The RegistrationDetails extension for `flags`, keeping the period,
/// preferred branch surgery and (for "Other") type of any stored one.
fn registration_details(stored: &[Extension], flags: &PatientFlags) -> Extension {
    let old: Vec<&Extension> = stored
        .iter()
        .filter(|e| e.url == extension::REGISTRATION_DETAILS)
        .flat_map(|e| e.extension.iter())
        .collect();
    let sub = |url: &str| old.iter().find(|e| e.url == url).map(|e| (*e).clone());
    let mut parts = Vec::with_capacity(3);
    parts.extend(sub(extension::REGISTRATION_PERIOD));
    let registration_type = match flags.registration_type {
        RegistrationType::Regular => registration_type_extension("R", "Regular", None),
        RegistrationType::Temporary => registration_type_extension("T", "Temporary", None),
        RegistrationType::Other => sub(extension::REGISTRATION_TYPE)
            .unwrap_or_else(|| registration_type_extension("O", "Other", Some("Other"))),
    };
    parts.push(registration_type);
    parts.extend(sub(extension::PREFERRED_BRANCH_SURGERY));
    Extension {
        url: extension::REGISTRATION_DETAILS.to_owned(),
        extension: parts,
        ..Extension::default()
    }
}

fn registration_type_extension(code: &'static str, display: &str, text: Option<&str>) -> Extension {
    Extension {
        url: extension::REGISTRATION_TYPE.to_owned(),
        value: Some(ExtensionValue::CodeableConcept(CodeableConcept {
            coding: vec![Coding {
                system: Some(code_system::REGISTRATION_TYPE.to_owned()),
                code: Some(Code::from_static(code)),
                display: Some(display.to_owned()),
                ..Coding::default()
            }],
            text: text.map(str::to_owned),
            ..CodeableConcept::default()
        })),
        ..Extension::default()
    }
}

/// A RegistrationDetails extension holding only a `registrationPeriod`
/// from `start` to `end` (UK local time with offset, as the example writes
/// it); [`patient_resource`] adds the type from the flags.
pub(crate) fn registration_period_extension(
    start: jiff::Timestamp,
    end: Option<jiff::Timestamp>,
    preferred_branch: Option<Reference>,
) -> Extension {
    let period = stu3::Period {
        start: DateTime::new(format_uk_local(start)).ok(),
        end: end.and_then(|e| DateTime::new(format_uk_local(e)).ok()),
        ..stu3::Period::default()
    };
    let mut parts = vec![Extension {
        url: extension::REGISTRATION_PERIOD.to_owned(),
        value: Some(ExtensionValue::Period(period)),
        ..Extension::default()
    }];
    if let Some(branch) = preferred_branch {
        parts.push(Extension {
            url: extension::PREFERRED_BRANCH_SURGERY.to_owned(),
            value: Some(ExtensionValue::Reference(branch)),
            ..Extension::default()
        });
    }
    Extension {
        url: extension::REGISTRATION_DETAILS.to_owned(),
        extension: parts,
        ..Extension::default()
    }
}

/// The `preferredBranchSurgery` reference a stored resource carries, if any.
pub(crate) fn preferred_branch(patient: &stu3::Patient) -> Option<Reference> {
    patient
        .extension
        .iter()
        .filter(|e| e.url == extension::REGISTRATION_DETAILS)
        .flat_map(|e| e.extension.iter())
        .find(|e| e.url == extension::PREFERRED_BRANCH_SURGERY)
        .and_then(|e| match &e.value {
            Some(ExtensionValue::Reference(r)) => Some(r.clone()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::datatypes::Address;
    use crate::foundations::pds::{LocalPds, official_names};
    use crate::foundations::test_support::{ctx, now, practice};
    use crate::store::{PracticeImport, PracticeStore};
    use crate::testkit::{self, ODS};
    use proptest::prelude::*;

    const NHS: &str = "https://fhir.nhs.uk/Id/nhs-number";

    fn pds() -> LocalPds {
        LocalPds::from_patients(&testkit::practice(now()).patients)
    }

    fn find(nhs: &str) -> Result<Answer<stu3::Bundle>, Error> {
        let (store, pr) = practice();
        let token = format!("{NHS}|{nhs}");
        find_patient(&ctx(&store, &pr), &[("identifier", &token)], &pds())
    }

    fn patients(b: &stu3::Bundle) -> Vec<&stu3::Patient> {
        b.entry
            .iter()
            .filter_map(|e| match &e.resource {
                Some(stu3::Resource::Patient(p)) => Some(&**p),
                _ => None,
            })
            .collect()
    }

    fn ext<'a>(p: &'a stu3::Patient, url: &str) -> Option<&'a Extension> {
        p.extension.iter().find(|e| e.url == url)
    }

    fn import_patient(store: &dyn PracticeStore, record: PatientRecord) {
        store
            .import(
                ODS,
                PracticeImport {
                    patients: vec![record],
                    ..PracticeImport::default()
                },
            )
            .expect("import");
    }

    fn stored(store: &dyn PracticeStore, id: &str) -> PatientRecord {
        store.patient(ODS, id).expect("read").expect("patient")
    }

    #[test]
    fn f2_finds_an_active_patient_in_a_searchset_bundle() {
        let a = find("9000000009").expect("found");
        assert_eq!(a.status, 200);
        assert_eq!(a.version, None);
        assert_eq!(a.body.type_.as_str(), "searchset");
        assert!(a.body.entry.iter().all(|e| e.full_url.is_none()));
        let ps = patients(&a.body);
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].id.as_ref().map(Id::as_str), Some("2"));
    }

    #[test]
    fn f2_population_follows_s1_3() {
        let a = find("9000000009").expect("found");
        let p = patients(&a.body)[0];
        let m = p.meta.as_ref().expect("meta");
        assert_eq!(m.profile, vec![profile::PATIENT.to_owned()]);
        assert!(m.version_id.is_some());
        let nhs = &p.identifier[0];
        assert_eq!(nhs.system.as_deref(), Some(NHS));
        assert_eq!(nhs.value.as_deref(), Some("9000000009"));
        assert_eq!(
            p.identifier.len(),
            1,
            "the stored NHS identifier is not repeated"
        );
        let status = nhs.extension.first().expect("verification status");
        assert_eq!(status.url, extension::NHS_NUMBER_VERIFICATION_STATUS);
        assert_eq!(official_names(p).count(), 1);
        assert!(p.birth_date.is_some() && p.gender.is_some());
        assert_eq!(p.active, Some(true));
        assert_eq!(
            p.managing_organization
                .as_ref()
                .and_then(|r| r.reference.as_deref()),
            Some("Organization/23")
        );
        let rd = ext(p, extension::REGISTRATION_DETAILS).expect("registration details");
        let rt = rd
            .extension
            .iter()
            .find(|e| e.url == extension::REGISTRATION_TYPE)
            .expect("type");
        let Some(ExtensionValue::CodeableConcept(cc)) = &rt.value else {
            panic!("type is a CodeableConcept");
        };
        assert_eq!(cc.coding[0].code.as_ref().map(Code::as_str), Some("R"));
    }

    #[test]
    fn f2_must_not_populate_list_is_enforced_whatever_the_host_stored() {
        let (store, pr) = practice();
        let mut r = stored(&store, "2");
        r.resource.marital_status = Some(CodeableConcept::default());
        r.resource.multiple_birth = Some(stu3::PatientMultipleBirth::Boolean(false));
        r.resource.text = None;
        for url in [
            "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-EthnicCategory-1",
            "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ReligiousAffiliation-1",
            "http://hl7.org/fhir/StructureDefinition/patient-cadavericDonor",
            "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ResidentialStatus-1",
            "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-TreatmentCategory-1",
            "http://hl7.org/fhir/StructureDefinition/birthPlace",
        ] {
            r.resource.extension.push(Extension {
                url: url.to_owned(),
                value: Some(ExtensionValue::Boolean(true)),
                ..Extension::default()
            });
        }
        r.resource.extension.push(Extension {
            url: extension::NHS_COMMUNICATION.to_owned(),
            ..Extension::default()
        });
        r.resource.address.push(Address {
            use_: Some(Code::from_static("temp")),
            text: Some("free text".into()),
            ..Address::default()
        });
        r.resource.managing_organization = Some(reference("Organization", "999"));
        let p = patient_resource(&ctx(&store, &pr), &r).expect("populated");
        assert!(p.marital_status.is_none() && p.multiple_birth.is_none());
        let urls: Vec<&str> = p.extension.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            urls,
            vec![
                extension::REGISTRATION_DETAILS,
                extension::NHS_COMMUNICATION
            ]
        );
        assert!(p.address.iter().all(|a| a.text.is_none()), "R89");
        assert_eq!(
            p.managing_organization.and_then(|r| r.reference).as_deref(),
            Some("Organization/23")
        );
    }

    #[test]
    fn s8_5_contact_relationship_keeps_text_only() {
        let (store, pr) = practice();
        let mut r = stored(&store, "2");
        r.resource.contact.push(stu3::PatientContact {
            relationship: vec![CodeableConcept {
                coding: vec![Coding {
                    display: Some("Next of kin".into()),
                    ..Coding::default()
                }],
                ..CodeableConcept::default()
            }],
            ..stu3::PatientContact::default()
        });
        let p = patient_resource(&ctx(&store, &pr), &r).expect("populated");
        let rel = &p.contact[0].relationship[0];
        assert_eq!(rel.text.as_deref(), Some("Next of kin"));
        assert!(rel.coding.is_empty());
    }

    #[test]
    fn f2_one_official_name_even_when_the_host_stored_two() {
        let (store, pr) = practice();
        let mut r = stored(&store, "2");
        let mut second = r.resource.name[0].clone();
        second.family = Some("Other".into());
        r.resource.name.push(second);
        r.resource.name.push(stu3::HumanName {
            use_: Some(Code::from_static("usual")),
            family: Some("Nick".into()),
            ..stu3::HumanName::default()
        });
        let p = patient_resource(&ctx(&store, &pr), &r).expect("populated");
        assert_eq!(official_names(&p).count(), 1);
        assert_eq!(p.name.len(), 2);
        assert_eq!(p.name[0].family.as_deref(), Some("Dawes"));
    }

    #[test]
    fn r86_patient_without_an_official_name_is_500() {
        let (store, pr) = practice();
        let mut r = stored(&store, "2");
        r.resource.name[0].use_ = Some(Code::from_static("usual"));
        let e = patient_resource(&ctx(&store, &pr), &r).expect_err("incomplete");
        assert_eq!(e.status(), 500);
        import_patient(&store, r);
        let token = format!("{NHS}|9000000009");
        let e = find_patient(&ctx(&store, &pr), &[("identifier", &token)], &pds())
            .expect_err("whole bundle fails");
        assert_eq!(e.status(), 500);
    }

    #[test]
    fn r60_sensitive_patient_is_omitted_from_find() {
        let a = find("9658218873").expect("200");
        assert!(a.body.entry.is_empty());
    }

    #[test]
    fn f2_deceased_patient_is_omitted_from_find() {
        assert!(find("9000000033").expect("200").body.entry.is_empty());
    }

    #[test]
    fn f2_patient_who_left_is_omitted_from_find() {
        assert!(find("9000000041").expect("200").body.entry.is_empty());
    }

    #[test]
    fn r63_unknown_nhs_number_is_an_empty_bundle() {
        let a = find("9434765919").expect("200");
        assert_eq!(a.status, 200);
        assert!(a.body.entry.is_empty());
    }

    #[test]
    fn r64_invalid_nhs_number_is_400_invalid_nhs_number() {
        for bad in [
            "34555##4",
            "hello",
            "999999999",
            "9000000008",
            "90000000090",
        ] {
            let e = find(bad).expect_err(bad);
            assert_eq!(
                (e.status(), e.code()),
                (400, SpineCode::InvalidNhsNumber),
                "{bad}"
            );
        }
    }

    #[test]
    fn r64_parameter_errors_reach_the_patient_find() {
        let (store, pr) = practice();
        let c = ctx(&store, &pr);
        let e = find_patient(&c, &[], &pds()).expect_err("missing");
        assert_eq!((e.status(), e.code()), (400, SpineCode::BadRequest));
        let e = find_patient(&c, &[("identifier", "9000000009")], &pds()).expect_err("no system");
        assert_eq!((e.status(), e.code()), (422, SpineCode::InvalidParameter));
        let e = find_patient(
            &c,
            &[(
                "identifier",
                "https://fhir.nhs.uk/Id/sds-user-id|9000000009",
            )],
            &pds(),
        )
        .expect_err("system");
        assert_eq!(
            (e.status(), e.code()),
            (400, SpineCode::InvalidIdentifierSystem)
        );
    }

    fn unverified(store: &dyn PracticeStore) -> PatientRecord {
        let mut r = stored(store, "2");
        r.flags.nhs_number_verified = false;
        import_patient(store, r.clone());
        r
    }

    #[test]
    fn s1_3_unverified_patient_verified_on_pds_is_included_as_verified() {
        let (store, pr) = practice();
        unverified(&store);
        let token = format!("{NHS}|9000000009");
        let a = find_patient(&ctx(&store, &pr), &[("identifier", &token)], &pds()).expect("200");
        let ps = patients(&a.body);
        assert_eq!(ps.len(), 1);
        let status = &ps[0].identifier[0].extension[0];
        let Some(ExtensionValue::CodeableConcept(cc)) = &status.value else {
            panic!("status");
        };
        assert_eq!(cc.coding[0].code.as_ref().map(Code::as_str), Some("01"));
        // §1.3 "mark the patient verified": the store now says so, so the
        // next find needs no PDS at all.
        assert!(stored(&store, "2").flags.nhs_number_verified);
        let offline = pds();
        offline.set_unavailable(true);
        let again = find_patient(&ctx(&store, &pr), &[("identifier", &token)], &offline)
            .expect("200 without PDS");
        assert_eq!(patients(&again.body).len(), 1);
    }

    #[test]
    fn s1_3_unverified_patient_failing_pds_checks_is_excluded() {
        let (store, pr) = practice();
        let r = unverified(&store);
        let token = format!("{NHS}|9000000009");
        let base = PdsRecord::from_patient(&r).expect("pds view");
        let cases: Vec<(&str, LocalPds)> = vec![
            ("not on PDS", LocalPds::new()),
            (
                "demographics differ",
                LocalPds::from_records([PdsRecord {
                    birth_date: jiff::civil::Date::constant(1960, 1, 1),
                    ..base.clone()
                }]),
            ),
            (
                "deceased",
                LocalPds::from_records([PdsRecord {
                    deceased: true,
                    ..base.clone()
                }]),
            ),
            (
                "sensitive",
                LocalPds::from_records([PdsRecord {
                    sensitive: true,
                    ..base.clone()
                }]),
            ),
            (
                "invalid",
                LocalPds::from_records([PdsRecord {
                    invalid: true,
                    ..base.clone()
                }]),
            ),
            (
                "superseded",
                LocalPds::from_records([PdsRecord {
                    superseded: true,
                    ..base.clone()
                }]),
            ),
        ];
        for (why, p) in cases {
            let a = find_patient(&ctx(&store, &pr), &[("identifier", &token)], &p).expect(why);
            assert!(a.body.entry.is_empty(), "{why}");
        }
    }

    #[test]
    fn s1_5_pds_unavailable_for_an_unverified_patient_is_500() {
        let (store, pr) = practice();
        unverified(&store);
        let p = pds();
        p.set_unavailable(true);
        let token = format!("{NHS}|9000000009");
        let e = find_patient(&ctx(&store, &pr), &[("identifier", &token)], &p).expect_err("500");
        assert_eq!(
            (e.status(), e.code()),
            (500, SpineCode::InternalServerError)
        );
        // A verified patient does not need PDS.
        let token = format!("{NHS}|9476719931");
        assert!(find_patient(&ctx(&store, &pr), &[("identifier", &token)], &p).is_ok());
    }

    #[test]
    fn f3_reads_a_patient_with_its_version() {
        let (store, pr) = practice();
        let a = read_patient(&ctx(&store, &pr), "3").expect("read");
        assert_eq!(a.status, 200);
        let version = stored(&store, "3").version;
        assert_eq!(a.version, Some(version));
        assert_eq!(a.body.id.as_ref().map(Id::as_str), Some("3"));
        assert_eq!(
            a.body
                .meta
                .as_ref()
                .and_then(|m| m.version_id.as_ref())
                .map(Id::as_str),
            Some(version.to_string().as_str())
        );
    }

    #[test]
    fn f3_unknown_or_malformed_id_is_404_patient_not_found() {
        let (store, pr) = practice();
        for id in ["999", "", "a/b", &"x".repeat(65)] {
            let e = read_patient(&ctx(&store, &pr), id).expect_err(id);
            assert_eq!(
                (e.status(), e.code()),
                (404, SpineCode::PatientNotFound),
                "{id}"
            );
        }
    }

    #[test]
    fn r61_sensitive_patient_read_is_404_patient_not_found() {
        let (store, pr) = practice();
        let e = read_patient(&ctx(&store, &pr), "4").expect_err("S-flag");
        assert_eq!((e.status(), e.code()), (404, SpineCode::PatientNotFound));
    }

    #[test]
    fn f3_deceased_and_departed_patients_read_as_inactive() {
        let (store, pr) = practice();
        let dead = read_patient(&ctx(&store, &pr), "5").expect("read").body;
        assert_eq!(dead.active, Some(false));
        assert!(matches!(dead.deceased, Some(PatientDeceased::DateTime(_))));
        let left = read_patient(&ctx(&store, &pr), "6").expect("read").body;
        assert_eq!(left.active, Some(false));
    }

    #[test]
    fn f3_unverified_patient_reads_with_status_02() {
        let (store, pr) = practice();
        unverified(&store);
        let p = read_patient(&ctx(&store, &pr), "2").expect("read").body;
        let Some(ExtensionValue::CodeableConcept(cc)) = &p.identifier[0].extension[0].value else {
            panic!("status");
        };
        assert_eq!(cc.coding[0].code.as_ref().map(Code::as_str), Some("02"));
    }

    #[test]
    fn f2_find_response_matches_the_spec_example_shape() {
        let example: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/data/stu3/find_patient_response_example.json"
        ))
        .expect("example");
        let a = find("9000000009").expect("found");
        let ours: serde_json::Value =
            serde_json::from_slice(&crate::fhir::to_json(&a.body)).expect("json");
        assert_eq!(ours["type"], example["type"]);
        let (o, e) = (
            &ours["entry"][0]["resource"],
            &example["entry"][0]["resource"],
        );
        for key in ["resourceType", "active", "gender"] {
            assert_eq!(o[key], e[key], "{key}");
        }
        assert_eq!(
            o["identifier"][0]["extension"],
            e["identifier"][0]["extension"]
        );
        assert_eq!(o["identifier"][0]["system"], e["identifier"][0]["system"]);
        assert_eq!(o["meta"]["profile"], e["meta"]["profile"]);
        assert_eq!(o["name"][0]["use"], "official");
        assert_eq!(o["extension"][0]["url"], e["extension"][0]["url"]);
        assert!(o["managingOrganization"]["reference"].is_string());
    }

    /// One practice for every proptest case (the finds only read it).
    static SHARED: std::sync::LazyLock<(
        crate::store::memory::MemoryStore,
        crate::store::PracticeRecord,
    )> = std::sync::LazyLock::new(practice);

    proptest! {
        /// Random query strings never panic F2, F5 or F7, and every error
        /// they give is a 400 or 422 (never a 500: parameters are not
        /// server faults).
        #[test]
        fn random_query_strings_never_panic_the_finds(
            pairs in proptest::collection::vec(
                (
                    prop_oneof![
                        Just("identifier".to_owned()),
                        Just("Identifier".to_owned()),
                        Just("_format".to_owned()),
                        Just(String::new()),
                        "\\PC{0,12}",
                    ],
                    prop_oneof![
                        Just(format!("{NHS}|9000000009")),
                        Just("https://fhir.nhs.uk/Id/sds-user-id|111122223333".to_owned()),
                        Just("https://fhir.nhs.uk/Id/ods-organization-code|A00001".to_owned()),
                        "(https://fhir\\.nhs\\.uk/Id/[a-z-]{0,20})?\\|?\\PC{0,14}",
                        "\\PC{0,40}",
                    ],
                ),
                0..4,
            )
        ) {
            let (store, pr) = &*SHARED;
            let c = ctx(store, pr);
            let query: Vec<(&str, &str)> =
                pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let p = pds();
            let results = [
                find_patient(&c, &query, &p).map(|a| a.body),
                crate::foundations::find_practitioner(&c, &query).map(|a| a.body),
                crate::foundations::find_organization(&c, &query).map(|a| a.body),
            ];
            for r in results {
                match r {
                    Ok(b) => prop_assert_eq!(b.type_.as_str(), "searchset"),
                    Err(e) => prop_assert!(matches!(e.status(), 400 | 422), "{:?}", e),
                }
            }
        }
    }
}
