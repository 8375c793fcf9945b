//! F1 get the capability statement (`GET /metadata`; digest §1.2).
//!
//! Built from the model, following the spec's template
//! (`get_capability_statement_response_example.json`) element by element,
//! with its `[...]` placeholders filled from [`SoftwareInfo`] and these
//! deliberate differences:
//! - `version` is the GP Connect release implemented, `1.2.9` (the
//!   template still says 1.2.7, §11.13), and `description` says so;
//! - the structured-record profiles and the `gpc.getstructuredrecord`
//!   operation are left out: this engine implements Foundations and
//!   Appointment Management only, and declaring an operation it does not
//!   serve would mislead consumers. The nine Foundations/Appointments
//!   profiles the test suite checks are each listed exactly once (it
//!   counts them).
//!
//! Everything else is as the template has it, including the Appointment
//! `identifier` search parameter.

use jiff::civil::Date;

use crate::error::{Error, SpecEdition};
use crate::fhir::datatypes::Reference;
use crate::fhir::primitive::{Code, DateTime, Id};
use crate::operation::{Answer, Context};
use crate::stu3::profiles::profile;
use crate::stu3::{
    CapabilityStatement, CapabilityStatementRest, CapabilityStatementRestOperation,
    CapabilityStatementRestResource, CapabilityStatementRestResourceInteraction,
    CapabilityStatementRestResourceSearchParam, CapabilityStatementRestSecurity,
    CapabilityStatementSoftware, ContactDetail,
};

/// The GP Connect release these operations implement (§1.2 `version`).
pub const GP_CONNECT_VERSION: &str = "1.2.9";

/// The profiles `CapabilityStatement.profile` lists (§1.2), each once.
pub const PROFILES: [&str; 9] = [
    profile::PATIENT,
    profile::ORGANIZATION,
    profile::PRACTITIONER,
    profile::PRACTITIONER_ROLE,
    profile::LOCATION,
    profile::OPERATION_OUTCOME,
    profile::APPOINTMENT,
    profile::SCHEDULE,
    profile::SLOT,
];

/// The JSON and XML formats every GP Connect STU3 endpoint serves (§1.2).
pub const FORMATS: [&str; 2] = ["application/fhir+json", "application/fhir+xml"];

/// What the provider says about its software: the template's `[...]`
/// placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareInfo {
    /// `software.name` (SHALL, checked by the test suite).
    pub name: String,
    /// `software.version` (SHALL, checked by the test suite).
    pub version: String,
    /// `software.releaseDate`, also the statement's `date` (it changes only
    /// when the software does).
    pub release_date: Date,
    /// `publisher`: the software vendor's name.
    pub publisher: String,
    /// `contact[0].name`: the vendor's contact, if any.
    pub contact_name: Option<String>,
}

/// F1: the CapabilityStatement (§1.2). It has no error cases of its own.
///
/// `version` is `1.2.9`, or `1.2.7` when the context's edition is 1.2.7.
///
/// # Errors
/// 500 INTERNAL_SERVER_ERROR when `software` cannot fill the template:
/// a blank name or version (the test suite requires both), or a blank
/// publisher (FHIR strings cannot be empty) — a host configuration fault.
pub fn capability_statement(
    ctx: &Context<'_>,
    software: &SoftwareInfo,
) -> Result<Answer<CapabilityStatement>, Error> {
    let required = |what: &str, value: &str| -> Result<String, Error> {
        let v = value.trim();
        if v.is_empty() {
            Err(Error::internal(format!(
                "the capability statement needs a software {what} (host configuration)"
            )))
        } else {
            Ok(v.to_owned())
        }
    };
    let name = required("name", &software.name)?;
    let version = required("version", &software.version)?;
    let publisher = required("publisher", &software.publisher)?;
    let release = DateTime::new(software.release_date.to_string())
        .map_err(|e| Error::internal(format!("software release date: {e}")))?;
    let gpc_version = match ctx.edition {
        SpecEdition::Appointments127 => "1.2.7",
        _ => GP_CONNECT_VERSION,
    };

    let statement = CapabilityStatement {
        version: Some(gpc_version.to_owned()),
        name: Some("GP Connect".to_owned()),
        status: Code::from_static("active"),
        date: release.clone(),
        publisher: Some(publisher),
        contact: software
            .contact_name
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| ContactDetail {
                name: Some(c.to_owned()),
                ..ContactDetail::default()
            })
            .into_iter()
            .collect(),
        description: Some(format!(
            "This server implements the GP Connect API version {gpc_version}"
        )),
        copyright: Some("Copyright NHS Digital 2016-20".to_owned()),
        kind: Code::from_static("capability"),
        software: Some(CapabilityStatementSoftware {
            name,
            version: Some(version),
            release_date: Some(release),
            ..CapabilityStatementSoftware::default()
        }),
        fhir_version: Id::new("3.0.1").map_err(Error::internal)?,
        accept_unknown: Code::from_static("both"),
        format: FORMATS.iter().map(|f| Code::from_static(f)).collect(),
        profile: PROFILES.iter().map(|p| reference(p)).collect(),
        rest: vec![rest()],
        ..CapabilityStatement::default()
    };
    Ok(Answer::ok(statement))
}

fn reference(url: &str) -> Reference {
    Reference {
        reference: Some(url.to_owned()),
        ..Reference::default()
    }
}

fn rest() -> CapabilityStatementRest {
    CapabilityStatementRest {
        mode: Code::from_static("server"),
        security: Some(CapabilityStatementRestSecurity {
            cors: Some(true),
            ..CapabilityStatementRestSecurity::default()
        }),
        resource: vec![
            resource(
                "Patient",
                &["read", "search-type"],
                vec![identifier_param(
                    "NHS Number (i.e. https://fhir.nhs.uk/Id/nhs-number|123456789)",
                )],
            ),
            resource(
                "Organization",
                &["read", "search-type"],
                vec![identifier_param(
                    "ODS Code (i.e. https://fhir.nhs.uk/Id/ods-organization-code|Y12345)",
                )],
            ),
            resource(
                "Practitioner",
                &["read", "search-type"],
                vec![identifier_param(
                    "SDS User Id (i.e. https://fhir.nhs.uk/Id/sds-user-id|999999)",
                )],
            ),
            resource("Location", &["read"], Vec::new()),
            CapabilityStatementRestResource {
                update_create: Some(false),
                ..resource(
                    "Appointment",
                    &["read", "create", "update", "search-type"],
                    vec![identifier_param(
                        "NHS Number (i.e. https://fhir.nhs.uk/Id/nhs-number|123456789)",
                    )],
                )
            },
            CapabilityStatementRestResource {
                search_include: [
                    "Schedule:actor:Location",
                    "Schedule:actor:Practitioner",
                    "Slot:schedule",
                    "Location:managingOrganization",
                ]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
                ..resource(
                    "Slot",
                    &["search-type"],
                    vec![
                        search_param("start", "date", None),
                        search_param("end", "date", None),
                        search_param("status", "token", None),
                        search_param("searchFilter", "token", None),
                    ],
                )
            },
        ],
        operation: vec![CapabilityStatementRestOperation {
            name: profile::REGISTER_PATIENT_OPERATION_NAME.to_owned(),
            definition: reference(profile::REGISTER_PATIENT_OPERATION),
            ..CapabilityStatementRestOperation::default()
        }],
        ..CapabilityStatementRest::default()
    }
}

fn resource(
    kind: &'static str,
    interactions: &[&'static str],
    search_params: Vec<CapabilityStatementRestResourceSearchParam>,
) -> CapabilityStatementRestResource {
    CapabilityStatementRestResource {
        type_: Code::from_static(kind),
        interaction: interactions
            .iter()
            .map(|code| CapabilityStatementRestResourceInteraction {
                code: Code::from_static(code),
                ..CapabilityStatementRestResourceInteraction::default()
            })
            .collect(),
        search_param: search_params,
        ..CapabilityStatementRestResource::default()
    }
}

fn identifier_param(documentation: &str) -> CapabilityStatementRestResourceSearchParam {
    search_param("identifier", "token", Some(documentation))
}

fn search_param(
    name: &str,
    kind: &'static str,
    documentation: Option<&str>,
) -> CapabilityStatementRestResourceSearchParam {
    CapabilityStatementRestResourceSearchParam {
        name: name.to_owned(),
        type_: Code::from_static(kind),
        documentation: documentation.map(str::to_owned),
        ..CapabilityStatementRestResourceSearchParam::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::{Limits, from_json, from_xml, to_json, to_xml};
    use crate::foundations::test_support::{ctx, practice};
    use serde_json::{Value, json};

    fn software() -> SoftwareInfo {
        SoftwareInfo {
            name: "gpconnect engine".into(),
            version: "0.1.0".into(),
            release_date: Date::constant(2020, 1, 15),
            publisher: "Example Vendor".into(),
            contact_name: Some("Example Support".into()),
        }
    }

    fn statement() -> CapabilityStatement {
        let (store, pr) = practice();
        capability_statement(&ctx(&store, &pr), &software())
            .expect("statement")
            .body
    }

    /// The spec's template with its placeholders filled as [`software`]
    /// fills them and the documented differences applied.
    fn expected_from_template() -> Value {
        let mut t: Value = serde_json::from_str(include_str!(
            "../../tests/data/stu3/get_capability_statement_response_example.json"
        ))
        .expect("template");
        t["version"] = json!("1.2.9");
        t["description"] = json!("This server implements the GP Connect API version 1.2.9");
        t["publisher"] = json!("Example Vendor");
        t["contact"] = json!([{ "name": "Example Support" }]);
        t["software"] = json!({
            "name": "gpconnect engine",
            "version": "0.1.0",
            "releaseDate": "2020-01-15"
        });
        if let Some(profiles) = t["profile"].as_array_mut() {
            profiles.truncate(9);
        }
        if let Some(ops) = t["rest"][0]["operation"].as_array_mut() {
            ops.retain(|o| o["name"] == "gpc.registerpatient");
        }
        t
    }

    #[test]
    fn f1_statement_is_the_spec_template_filled_in() {
        let ours: Value = serde_json::from_slice(&to_json(&statement())).expect("json");
        assert_eq!(ours, expected_from_template());
    }

    #[test]
    fn f1_fixed_values_and_every_profile_once() {
        let s = statement();
        assert_eq!(s.fhir_version.as_str(), "3.0.1");
        assert_eq!(s.accept_unknown.as_str(), "both");
        assert_eq!(s.kind.as_str(), "capability");
        assert_eq!(s.status.as_str(), "active");
        assert_eq!(s.version.as_deref(), Some("1.2.9"));
        let formats: Vec<&str> = s.format.iter().map(Code::as_str).collect();
        assert_eq!(formats, FORMATS);
        for p in PROFILES {
            let n = s
                .profile
                .iter()
                .filter(|r| r.reference.as_deref() == Some(p))
                .count();
            assert_eq!(n, 1, "{p}");
        }
        let sw = s.software.as_ref().expect("software");
        assert!(!sw.name.is_empty() && sw.version.is_some());
        let rest = &s.rest[0];
        assert_eq!(rest.mode.as_str(), "server");
        assert_eq!(rest.security.as_ref().and_then(|x| x.cors), Some(true));
        let appointment = rest
            .resource
            .iter()
            .find(|r| r.type_.as_str() == "Appointment")
            .expect("Appointment");
        assert_eq!(appointment.update_create, Some(false));
        assert_eq!(rest.operation[0].name, "gpc.registerpatient");
        assert_eq!(
            rest.operation[0].definition.reference.as_deref(),
            Some(profile::REGISTER_PATIENT_OPERATION)
        );
    }

    #[test]
    fn f1_statement_round_trips_through_json_and_xml() {
        let s = statement();
        let from_j: CapabilityStatement = from_json(&to_json(&s), Limits::REQUEST).expect("json");
        assert_eq!(from_j, s);
        let from_x: CapabilityStatement =
            from_xml(to_xml(&s).as_bytes(), Limits::REQUEST).expect("xml");
        assert_eq!(from_x, s);
    }

    #[test]
    fn f1_edition_127_reports_version_127() {
        let (store, pr) = practice();
        let mut c = ctx(&store, &pr);
        c.edition = SpecEdition::Appointments127;
        let s = capability_statement(&c, &software()).expect("ok").body;
        assert_eq!(s.version.as_deref(), Some("1.2.7"));
    }

    #[test]
    fn f1_blank_software_name_is_a_host_fault_500() {
        let (store, pr) = practice();
        let mut sw = software();
        sw.name = "  ".into();
        let e = capability_statement(&ctx(&store, &pr), &sw).expect_err("blank");
        assert_eq!(e.status(), 500);
        let mut sw = software();
        sw.contact_name = Some(" ".into());
        let s = capability_statement(&ctx(&store, &pr), &sw)
            .expect("ok")
            .body;
        assert!(s.contact.is_empty());
    }
}
