//! The DSTU2 `GET [base]/metadata` answer: the Access Record HTML server's
//! Conformance statement (accessrecord §1.1, §1.2).
//!
//! What the digest fixes: operation `gpc.getcarerecord` with
//! `definition.reference` = `OperationDefinition/gpc.getcarerecord`; formats
//! `application/xml+fhir` and `application/json+fhir`; `fhirVersion` 1.0.2;
//! and a `version` equal to the GP Connect spec version the consumer (the
//! assurance suite) is configured with — so it comes from configuration
//! ([`EngineConfig::access_record_version`](super::EngineConfig::access_record_version)).
//!
//! Decisions where the digest is silent:
//! - `kind` is `capability`, as in the STU3 statement (F1): it describes the
//!   software's capabilities, not one installation's URLs.
//! - `acceptUnknown` is `extensions`: the Parameters body may carry
//!   extensions but an unknown element is refused (422), so `both` (the
//!   STU3 template's fixed value) would overstate what is accepted.
//! - No `rest.resource`: Access Record HTML serves only the operation.

use crate::dstu2::profiles::{OPERATION_DEFINITION_REFERENCE, OPERATION_NAME};
use crate::dstu2::{Conformance, ConformanceRest, ConformanceRestOperation, ConformanceSoftware};
use crate::error::Error;
use crate::fhir::datatypes::Reference;
use crate::fhir::primitive::{Code, DateTime, Id};
use crate::foundations::SoftwareInfo;

/// The two DSTU2 formats the statement declares (accessrecord §1.1).
pub const FORMATS: [&str; 2] = ["application/xml+fhir", "application/json+fhir"];

/// The Conformance statement for `software` implementing Access Record
/// HTML `version`.
///
/// # Errors
/// 500 INTERNAL_SERVER_ERROR when `software` or `version` cannot fill the
/// statement (blank values): a host configuration fault, which
/// [`EngineConfig::validate`](super::EngineConfig::validate) reports at start-up.
pub fn conformance(software: &SoftwareInfo, version: &str) -> Result<Conformance, Error> {
    let required = |what: &str, value: &str| -> Result<String, Error> {
        let v = value.trim();
        if v.is_empty() {
            Err(Error::internal(format!(
                "the conformance statement needs a {what} (host configuration)"
            )))
        } else {
            Ok(v.to_owned())
        }
    };
    let gpc_version = required("GP Connect version", version)?;
    let date = DateTime::new(software.release_date.to_string())
        .map_err(|e| Error::internal(format!("software release date: {e}")))?;
    Ok(Conformance {
        version: Some(gpc_version.clone()),
        name: Some("GP Connect".to_owned()),
        status: Some(Code::from_static("active")),
        publisher: Some(required("software publisher", &software.publisher)?),
        date: date.clone(),
        description: Some(format!(
            "This server implements the GP Connect Access Record HTML API version {gpc_version}"
        )),
        kind: Code::from_static("capability"),
        software: Some(ConformanceSoftware {
            name: required("software name", &software.name)?,
            version: Some(required("software version", &software.version)?),
            release_date: Some(date),
            ..ConformanceSoftware::default()
        }),
        fhir_version: Id::new("1.0.2").map_err(Error::internal)?,
        accept_unknown: Code::from_static("extensions"),
        format: FORMATS.iter().map(|f| Code::from_static(f)).collect(),
        rest: vec![ConformanceRest {
            mode: Code::from_static("server"),
            operation: vec![ConformanceRestOperation {
                name: OPERATION_NAME.to_owned(),
                definition: Reference {
                    reference: Some(OPERATION_DEFINITION_REFERENCE.to_owned()),
                    ..Reference::default()
                },
                ..ConformanceRestOperation::default()
            }],
            ..ConformanceRest::default()
        }],
        ..Conformance::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::{Limits, from_xml, to_json, to_xml};
    use jiff::civil::date;
    use serde_json::Value;

    fn software() -> SoftwareInfo {
        SoftwareInfo {
            name: "gpconnect".to_owned(),
            version: "0.1.0".to_owned(),
            release_date: date(2026, 3, 1),
            publisher: "Example Supplier".to_owned(),
            contact_name: None,
        }
    }

    #[test]
    fn lists_getcarerecord_formats_and_version() {
        let c = conformance(&software(), "0.7.4").expect("builds");
        let v: Value = serde_json::from_slice(&to_json(&c)).expect("json");
        assert_eq!(v["resourceType"], "Conformance");
        assert_eq!(v["version"], "0.7.4");
        assert_eq!(v["fhirVersion"], "1.0.2");
        assert_eq!(
            v["format"],
            serde_json::json!(["application/xml+fhir", "application/json+fhir"])
        );
        assert_eq!(v["rest"][0]["mode"], "server");
        assert_eq!(v["rest"][0]["operation"][0]["name"], "gpc.getcarerecord");
        assert_eq!(
            v["rest"][0]["operation"][0]["definition"]["reference"],
            "OperationDefinition/gpc.getcarerecord"
        );
        assert_eq!(v["software"]["name"], "gpconnect");
        let back: Conformance = from_xml(to_xml(&c).as_bytes(), Limits::REQUEST).expect("xml");
        assert_eq!(back, c);
    }

    #[test]
    fn blank_configuration_is_an_internal_error() {
        let e = conformance(&software(), " ").expect_err("blank version");
        assert_eq!(e.status(), 500);
        let blank = SoftwareInfo {
            name: String::new(),
            ..software()
        };
        assert_eq!(
            conformance(&blank, "0.7.4").expect_err("name").status(),
            500
        );
    }
}
