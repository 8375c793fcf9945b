//! The getcarerecord success Bundle (accessrecord §1.5): a `searchset` whose
//! entries are, in order, the Composition (carrying the rendered section),
//! the Patient, the Organization (the practice), the Practitioner (the
//! patient's usual GP, when recorded) and the Device (this system).
//!
//! Every reference in the bundle is a relative `Type/id` that equals the
//! `fullUrl` of an entry; the Composition itself has neither id nor
//! `fullUrl`, because it is assembled for this response and cannot be read
//! back (nothing refers to it).
//!
//! The stored resources are STU3 (CareConnect-GPC, as imported); the
//! entries are their DSTU2 `gpconnect-*-1` forms, mapped element by element
//! with the 0.7 identifier systems (`http://fhir.nhs.net/Id/...`). Only what
//! the profiles and the consumer's cross-checks need is mapped: identifiers,
//! names, gender, birth date, date of death, telecom (with system and value
//! only), addresses, and the references between the entries.

use jiff::Timestamp;

use crate::checks::datetime::format_uk_local;
use crate::dstu2::{self, profiles as p};
use crate::error::Error;
use crate::fhir::datatypes::{
    CodeableConcept, Coding, ContactPoint, Identifier, Meta, Narrative, Reference,
};
use crate::fhir::primitive::{Code, DateTime, Id};
use crate::fhir::xhtml::Xhtml;
use crate::store::{OrganizationRecord, PatientRecord, PractitionerRecord};
use crate::stu3::{self, profiles::identifier_system as stu3_system};
use gpconnect_render::Section;

/// The Device entry's logical id.
pub const DEVICE_ID: &str = "gpconnect";
/// The Device entry's `model`.
pub const DEVICE_MODEL: &str = "gpconnect";
/// The Device entry's `version` and `meta.versionId`: this crate's version
/// (the Device describes this software, which changes only with it).
pub const DEVICE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the bundle is built from.
#[derive(Debug)]
pub(crate) struct Parts<'a> {
    pub now: Timestamp,
    pub section: Section,
    pub html: Xhtml,
    pub patient: &'a PatientRecord,
    pub organization: &'a OrganizationRecord,
    pub practitioner: Option<&'a PractitionerRecord>,
}

fn meta(profile: &str, version: &str) -> Option<Meta> {
    Some(Meta {
        version_id: Id::new(version).ok(),
        profile: vec![profile.to_owned()],
        ..Meta::default()
    })
}

fn id(kind: &str, id: &str) -> Result<Id, Error> {
    Id::new(id).map_err(|_| {
        Error::internal(format!(
            "{kind} id {} is not a FHIR id, so it cannot be referenced",
            crate::error::Echo(id)
        ))
    })
}

fn reference(kind: &str, id: &str) -> Reference {
    Reference {
        reference: Some(url(kind, id)),
        ..Reference::default()
    }
}

fn url(kind: &str, id: &str) -> String {
    format!("{kind}/{id}")
}

fn entry(full_url: Option<String>, resource: impl Into<dstu2::Resource>) -> dstu2::BundleEntry {
    dstu2::BundleEntry {
        full_url,
        resource: Some(resource.into()),
        ..Default::default()
    }
}

fn snomed(code: &'static str, display: &str) -> CodeableConcept {
    CodeableConcept {
        coding: vec![Coding {
            system: Some(p::SNOMED_SYSTEM.to_owned()),
            code: Some(Code::from_static(code)),
            display: Some(display.to_owned()),
            ..Default::default()
        }],
        text: Some(display.to_owned()),
        ..Default::default()
    }
}

/// The bundle (see the module docs).
///
/// # Errors
/// 500 INTERNAL_SERVER_ERROR when a stored id is not a FHIR id (the record
/// cannot be referenced) or the time cannot be written as a FHIR dateTime.
pub(crate) fn care_record_bundle(parts: Parts<'_>) -> Result<dstu2::Bundle, Error> {
    let patient = patient(&parts)?;
    let organization = organization(parts.organization)?;
    let practitioner = parts.practitioner.map(practitioner).transpose()?;
    let composition = composition(&parts)?;
    let mut entries = vec![
        entry(None, composition),
        entry(Some(url("Patient", &parts.patient.id)), patient),
        entry(
            Some(url("Organization", &parts.organization.id)),
            organization,
        ),
    ];
    if let (Some(record), Some(resource)) = (parts.practitioner, practitioner) {
        entries.push(entry(Some(url("Practitioner", &record.id)), resource));
    }
    entries.push(entry(Some(url("Device", DEVICE_ID)), device()));
    Ok(dstu2::Bundle {
        meta: Some(Meta {
            profile: vec![p::SEARCHSET_BUNDLE_PROFILE.to_owned()],
            ..Meta::default()
        }),
        type_: Code::from_static(p::BUNDLE_TYPE),
        entry: entries,
        ..Default::default()
    })
}

fn composition(parts: &Parts<'_>) -> Result<dstu2::Composition, Error> {
    let title = parts.section.title();
    let date = DateTime::new(format_uk_local(parts.now))
        .map_err(|e| Error::internal(format!("the time of the request: {e}")))?;
    Ok(dstu2::Composition {
        meta: Some(Meta {
            profile: vec![p::COMPOSITION_PROFILE.to_owned()],
            ..Meta::default()
        }),
        date,
        type_: Some(snomed(
            p::COMPOSITION_TYPE_CODE,
            p::COMPOSITION_TYPE_DISPLAY,
        )),
        class_: Some(snomed(
            p::COMPOSITION_CLASS_CODE,
            p::COMPOSITION_CLASS_DISPLAY,
        )),
        title: p::COMPOSITION_TITLE.to_owned(),
        status: Code::from_static(p::COMPOSITION_STATUS),
        subject: reference("Patient", &parts.patient.id),
        author: vec![reference("Device", DEVICE_ID)],
        custodian: Some(reference("Organization", &parts.organization.id)),
        section: vec![dstu2::CompositionSection {
            title: Some(title.to_owned()),
            code: Some(CodeableConcept {
                coding: vec![Coding {
                    system: Some(p::RECORD_SECTION_SYSTEM.to_owned()),
                    code: Some(Code::from_static(parts.section.code())),
                    display: Some(title.to_owned()),
                    ..Default::default()
                }],
                text: Some(title.to_owned()),
                ..Default::default()
            }),
            text: Some(Narrative {
                status: Code::from_static(p::SECTION_TEXT_STATUS),
                div: parts.html.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    })
}

/// A DSTU2 name from an STU3 one (DSTU2's `family` repeats).
fn name(n: &stu3::HumanName) -> dstu2::HumanName {
    dstu2::HumanName {
        use_: n.use_.clone(),
        text: n.text.clone(),
        family: n.family.iter().cloned().collect(),
        given: n.given.clone(),
        prefix: n.prefix.clone(),
        suffix: n.suffix.clone(),
        period: n.period.clone(),
        ..Default::default()
    }
}

/// The official name with a family name, else the first with one.
fn main_name(names: &[stu3::HumanName]) -> Option<&stu3::HumanName> {
    names
        .iter()
        .find(|n| n.use_.as_ref().is_some_and(|u| u == "official") && n.family.is_some())
        .or_else(|| names.iter().find(|n| n.family.is_some()))
}

/// Telecom entries the profiles accept: with a system and a value.
fn telecom(t: &[ContactPoint]) -> Vec<ContactPoint> {
    t.iter()
        .filter(|c| c.system.is_some() && c.value.as_deref().is_some_and(|v| !v.is_empty()))
        .map(|c| ContactPoint {
            extension: Vec::new(),
            ..c.clone()
        })
        .collect()
}

fn identifier(system: &str, value: &str) -> Identifier {
    Identifier {
        system: Some(system.to_owned()),
        value: Some(value.to_owned()),
        ..Identifier::default()
    }
}

fn patient(parts: &Parts<'_>) -> Result<dstu2::Patient, Error> {
    let record = parts.patient;
    let r = &record.resource;
    // The flags' date of death decides (import requires it whenever the
    // resource says deceased); the resource's dateTime is kept when it
    // agrees, as it may carry the time.
    let deceased = record.flags.deceased.and_then(|date| {
        let from_resource = match &r.deceased {
            Some(stu3::PatientDeceased::DateTime(dt))
                if dt.as_str().starts_with(&date.to_string()) =>
            {
                Some(dt.clone())
            }
            _ => None,
        };
        from_resource
            .or_else(|| DateTime::new(date.to_string()).ok())
            .map(dstu2::PatientDeceased::DateTime)
    });
    Ok(dstu2::Patient {
        id: Some(id("Patient", &record.id)?),
        meta: meta(p::PATIENT_PROFILE, &record.version.to_string()),
        identifier: vec![identifier(p::NHS_NUMBER_SYSTEM, &record.nhs_number)],
        name: main_name(&r.name).map(name).into_iter().collect(),
        telecom: telecom(&r.telecom),
        gender: r.gender.clone(),
        birth_date: r.birth_date.clone(),
        deceased,
        address: r
            .address
            .iter()
            .map(|a| crate::fhir::datatypes::Address {
                extension: Vec::new(),
                ..a.clone()
            })
            .collect(),
        care_provider: parts
            .practitioner
            .map(|gp| reference("Practitioner", &gp.id))
            .into_iter()
            .collect(),
        managing_organization: Some(reference("Organization", &parts.organization.id)),
        ..Default::default()
    })
}

fn organization(record: &OrganizationRecord) -> Result<dstu2::Organization, Error> {
    let r = &record.resource;
    Ok(dstu2::Organization {
        id: Some(id("Organization", &record.id)?),
        meta: meta(p::ORGANIZATION_PROFILE, &record.version.to_string()),
        identifier: vec![identifier(
            p::ODS_ORGANIZATION_CODE_SYSTEM,
            &record.ods_code,
        )],
        name: r.name.clone(),
        telecom: telecom(&r.telecom),
        address: r
            .address
            .iter()
            .map(|a| crate::fhir::datatypes::Address {
                extension: Vec::new(),
                ..a.clone()
            })
            .collect(),
        ..Default::default()
    })
}

fn practitioner(record: &PractitionerRecord) -> Result<dstu2::Practitioner, Error> {
    let r = &record.resource;
    let mut identifiers = Vec::new();
    if let Some(sds) = record.sds_user_ids.first() {
        identifiers.push(identifier(p::SDS_USER_ID_SYSTEM, sds));
    }
    if let Some(role_profile) = r
        .identifier
        .iter()
        .find(|i| i.system.as_deref() == Some(stu3_system::SDS_ROLE_PROFILE_ID))
        .and_then(|i| i.value.as_deref())
    {
        identifiers.push(identifier(p::SDS_ROLE_PROFILE_ID_SYSTEM, role_profile));
    }
    Ok(dstu2::Practitioner {
        id: Some(id("Practitioner", &record.id)?),
        meta: meta(p::PRACTITIONER_PROFILE, &record.version.to_string()),
        identifier: identifiers,
        name: main_name(&r.name).map(name),
        gender: r.gender.clone(),
        ..Default::default()
    })
}

fn device() -> dstu2::Device {
    dstu2::Device {
        id: Id::new(DEVICE_ID).ok(),
        meta: meta(p::DEVICE_PROFILE, DEVICE_VERSION),
        type_: CodeableConcept {
            coding: vec![Coding {
                system: Some(p::SNOMED_SYSTEM.to_owned()),
                code: Some(Code::from_static(p::DEVICE_TYPE_CODE)),
                display: Some(p::DEVICE_TYPE_DISPLAY.to_owned()),
                ..Default::default()
            }],
            ..Default::default()
        },
        model: Some(DEVICE_MODEL.to_owned()),
        version: Some(DEVICE_VERSION.to_owned()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PatientFlags;

    fn parts_patient(flags: PatientFlags, resource: stu3::Patient) -> PatientRecord {
        PatientRecord {
            id: "2".into(),
            version: 7,
            nhs_number: "9000000009".into(),
            resource,
            flags,
        }
    }

    fn org() -> OrganizationRecord {
        OrganizationRecord {
            id: "23".into(),
            version: 3,
            ods_code: "A00001".into(),
            resource: stu3::Organization {
                name: Some("The Trevelyan Practice".into()),
                ..Default::default()
            },
        }
    }

    fn build(
        patient: &PatientRecord,
        organization: &OrganizationRecord,
    ) -> Result<dstu2::Bundle, Error> {
        care_record_bundle(Parts {
            now: "2026-07-01T09:30:00Z".parse().expect("ts"),
            section: Section::Summary,
            html: Xhtml::new(r#"<div xmlns="http://www.w3.org/1999/xhtml"><h1>Summary</h1></div>"#)
                .expect("xhtml"),
            patient,
            organization,
            practitioner: None,
        })
    }

    fn the_patient(b: &dstu2::Bundle) -> &dstu2::Patient {
        b.resources()
            .find_map(|r| match r {
                dstu2::Resource::Patient(p) => Some(&**p),
                _ => None,
            })
            .expect("patient")
    }

    #[test]
    fn the_composition_date_is_now_in_uk_local_time() {
        let b = build(
            &parts_patient(PatientFlags::default(), stu3::Patient::default()),
            &org(),
        )
        .expect("bundle");
        match b.resources().next() {
            Some(dstu2::Resource::Composition(c)) => {
                assert_eq!(c.date.as_str(), "2026-07-01T10:30:00+01:00", "BST");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_telecom_and_deceased_map_from_stu3() {
        let resource = stu3::Patient {
            name: vec![
                stu3::HumanName {
                    use_: Some(Code::from_static("usual")),
                    family: Some("Nick".into()),
                    ..Default::default()
                },
                stu3::HumanName {
                    use_: Some(Code::from_static("official")),
                    family: Some("Dawes".into()),
                    given: vec!["Minnie".into(), "May".into()],
                    prefix: vec!["Mrs".into()],
                    ..Default::default()
                },
            ],
            telecom: vec![
                ContactPoint {
                    system: Some(Code::from_static("phone")),
                    value: Some("01454587554".into()),
                    ..Default::default()
                },
                ContactPoint {
                    value: Some("no system".into()),
                    ..Default::default()
                },
            ],
            deceased: Some(stu3::PatientDeceased::DateTime(
                DateTime::new("2026-06-20T04:30:00+01:00").expect("dt"),
            )),
            ..Default::default()
        };
        let flags = PatientFlags {
            deceased: Some(jiff::civil::date(2026, 6, 20)),
            ..Default::default()
        };
        let b = build(&parts_patient(flags, resource), &org()).expect("bundle");
        let p = the_patient(&b);
        assert_eq!(p.name.len(), 1);
        assert_eq!(p.name[0].family, vec!["Dawes".to_owned()]);
        assert_eq!(p.name[0].given, vec!["Minnie".to_owned(), "May".to_owned()]);
        assert_eq!(p.name[0].prefix, vec!["Mrs".to_owned()]);
        assert_eq!(p.telecom.len(), 1, "a telecom without a system is dropped");
        assert_eq!(
            p.deceased,
            Some(dstu2::PatientDeceased::DateTime(
                DateTime::new("2026-06-20T04:30:00+01:00").expect("dt")
            )),
            "the resource's time is kept when it agrees with the flag"
        );
        assert_eq!(
            p.meta
                .as_ref()
                .and_then(|m| m.version_id.as_ref())
                .map(|v| v.as_str()),
            Some("7")
        );
        assert!(p.care_provider.is_empty());
    }

    #[test]
    fn the_flag_decides_the_date_of_death() {
        let resource = stu3::Patient {
            deceased: Some(stu3::PatientDeceased::DateTime(
                DateTime::new("2026-06-19T23:30:00+01:00").expect("dt"),
            )),
            ..Default::default()
        };
        let flags = PatientFlags {
            deceased: Some(jiff::civil::date(2026, 6, 20)),
            ..Default::default()
        };
        let b = build(&parts_patient(flags, resource.clone()), &org()).expect("bundle");
        assert_eq!(
            the_patient(&b).deceased,
            Some(dstu2::PatientDeceased::DateTime(
                DateTime::new("2026-06-20").expect("date")
            ))
        );
        let alive =
            build(&parts_patient(PatientFlags::default(), resource), &org()).expect("bundle");
        assert_eq!(the_patient(&alive).deceased, None);
    }

    #[test]
    fn an_id_that_cannot_be_referenced_is_500() {
        let mut p = parts_patient(PatientFlags::default(), stu3::Patient::default());
        p.id = "not an id".into();
        let e = build(&p, &org()).expect_err("bad id");
        assert_eq!(e.status(), 500);
    }
}
