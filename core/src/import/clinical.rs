//! Patients' clinical records (Access Record HTML): one STU3 `Binary` per
//! patient, whose content is the render crate's [`ClinicalRecord`] as JSON.
//!
//! No GP Connect resource carries the HTML views' data (0.7 sends HTML, not
//! structured clinical resources), so the importer takes the record in the
//! plain model the views are rendered from, wrapped in a `Binary`:
//!
//! - `contentType` is exactly [`CONTENT_TYPE`];
//! - `securityContext.reference` is `Patient/{id}`, a Patient of the bundle
//!   (FHIR's own way of saying whose access rules govern the content);
//! - `content` is the base64 of the record's JSON, whose members are those
//!   of [`ClinicalRecord`] (camelCase; unknown members are refused, every
//!   list optional).
//!
//! A patient has at most one record per bundle; importing it replaces the
//! stored record.

use std::collections::HashMap;

use gpconnect_render::ClinicalRecord;

use crate::error::{Echo, Error};
use crate::store::PatientClinicalRecord;
use crate::stu3;

use super::entries::{At, Entries};

/// The `contentType` of a clinical-record `Binary`.
pub const CONTENT_TYPE: &str = "application/vnd.gpconnect.clinical-record+json";

/// Convert a clinical-record `Binary`. `seen` maps each patient id to the
/// entry that already carried their record.
pub(crate) fn clinical_record<'a>(
    at: At<'a>,
    binary: &stu3::Binary,
    entries: &Entries<'_>,
    seen: &mut HashMap<String, At<'a>>,
) -> Result<PatientClinicalRecord, Error> {
    if binary.content_type.as_str() != CONTENT_TYPE {
        return Err(at.err(
            "contentType",
            format!(
                "must be {CONTENT_TYPE} (a practice bundle carries a Binary only for a patient's clinical record), not {}",
                Echo(binary.content_type.as_str())
            ),
        ));
    }
    let Some(context) = &binary.security_context else {
        return Err(at.err(
            "securityContext",
            "is required: the Patient (Patient/{id}) whose clinical record this is",
        ));
    };
    let patient = entries.resolve_required(context, &["Patient"], &at.path("securityContext"))?;
    if let Some(first) = seen.get(&patient.id) {
        return Err(at.err(
            "securityContext",
            format!(
                "Patient/{} already has a clinical record ({first}); a patient has one",
                patient.id
            ),
        ));
    }
    let bytes = binary
        .content
        .decode()
        .map_err(|e| at.err("content", format!("is not base64: {e}")))?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let record: ClinicalRecord = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let where_ = if path == "." {
            String::new()
        } else {
            format!(" at {path}")
        };
        at.err(
            "content",
            format!("is not a clinical record{where_}: {}", e.inner()),
        )
    })?;
    de.end()
        .map_err(|e| at.err("content", format!("is not a clinical record: {e}")))?;
    seen.insert(patient.id.clone(), at);
    Ok(PatientClinicalRecord {
        patient_id: patient.id,
        record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::datatypes::Reference;
    use crate::fhir::primitive::{Base64Binary, Code, Id};
    use jiff::civil::date;

    fn bundle() -> stu3::Bundle {
        let patient = |id: &str| stu3::BundleEntry {
            resource: Some(
                stu3::Patient {
                    id: Id::new(id).ok(),
                    ..Default::default()
                }
                .into(),
            ),
            ..Default::default()
        };
        let location = stu3::BundleEntry {
            resource: Some(
                stu3::Location {
                    id: Id::new("17").ok(),
                    ..Default::default()
                }
                .into(),
            ),
            ..Default::default()
        };
        stu3::Bundle {
            type_: Code::from_static("collection"),
            entry: vec![patient("2"), patient("3"), location],
            ..Default::default()
        }
    }

    fn binary(reference: Option<&str>, json: &str) -> stu3::Binary {
        stu3::Binary {
            id: Id::new("cr-2").ok(),
            content_type: Code::from_static(CONTENT_TYPE),
            security_context: reference.map(|r| Reference {
                reference: Some(r.to_owned()),
                ..Default::default()
            }),
            content: Base64Binary::encode(json.as_bytes()).unwrap_or_default(),
            ..Default::default()
        }
    }

    const AT: At<'static> = At {
        index: 7,
        kind: "Binary",
        id: "cr-2",
    };

    fn convert(b: &stu3::Binary) -> Result<PatientClinicalRecord, Error> {
        let bundle = bundle();
        let entries = Entries::index(&bundle)?;
        clinical_record(AT, b, &entries, &mut HashMap::new())
    }

    const ENCOUNTER: &str =
        r#"{"encounters":[{"date":"2016-01-12","title":"Surgery consultation"}]}"#;

    #[test]
    fn a_record_converts_for_its_patient() {
        let r = convert(&binary(Some("Patient/2"), ENCOUNTER)).expect("converts");
        assert_eq!(r.patient_id, "2");
        assert_eq!(r.record.encounters.len(), 1);
        assert_eq!(r.record.encounters[0].date, date(2016, 1, 12));
        assert_eq!(r.record.encounters[0].details, "", "defaults apply");
        assert!(r.record.problems.is_empty());
        let empty = convert(&binary(Some("Patient/3"), "{}")).expect("an empty record");
        assert_eq!(empty.record, ClinicalRecord::default());
    }

    #[test]
    fn the_content_type_must_be_ours() {
        let mut b = binary(Some("Patient/2"), ENCOUNTER);
        b.content_type = Code::from_static("application/json");
        assert_eq!(
            convert(&b).expect_err("type").diagnostics(),
            "Bundle.entry[7].resource(Binary/cr-2).contentType: must be application/vnd.gpconnect.clinical-record+json (a practice bundle carries a Binary only for a patient's clinical record), not \"application/json\""
        );
    }

    #[test]
    fn the_security_context_is_a_patient_of_the_bundle() {
        assert_eq!(
            convert(&binary(None, ENCOUNTER))
                .expect_err("missing")
                .diagnostics(),
            "Bundle.entry[7].resource(Binary/cr-2).securityContext: is required: the Patient (Patient/{id}) whose clinical record this is"
        );
        assert_eq!(
            convert(&binary(Some("Patient/99"), ENCOUNTER))
                .expect_err("unknown")
                .diagnostics(),
            "Bundle.entry[7].resource(Binary/cr-2).securityContext: Patient/99 is not in the bundle"
        );
        assert_eq!(
            convert(&binary(Some("Location/17"), ENCOUNTER))
                .expect_err("type")
                .diagnostics(),
            "Bundle.entry[7].resource(Binary/cr-2).securityContext.reference: \"Location/17\" must reference a Patient"
        );
    }

    #[test]
    fn a_patient_has_one_record() {
        let bundle = bundle();
        let entries = Entries::index(&bundle).expect("index");
        let mut seen = HashMap::new();
        let b = binary(Some("Patient/2"), ENCOUNTER);
        clinical_record(AT, &b, &entries, &mut seen).expect("first");
        let second = At {
            index: 8,
            kind: "Binary",
            id: "cr-2b",
        };
        assert_eq!(
            clinical_record(second, &b, &entries, &mut seen)
                .expect_err("second")
                .diagnostics(),
            "Bundle.entry[8].resource(Binary/cr-2b).securityContext: Patient/2 already has a clinical record (Bundle.entry[7].resource(Binary/cr-2)); a patient has one"
        );
    }

    #[test]
    fn bad_content_names_the_member() {
        let e = convert(&binary(
            Some("Patient/2"),
            r#"{"encounters":[{"date":"2016-13-40","title":"x"}]}"#,
        ))
        .expect_err("bad date");
        assert!(
            e.diagnostics().starts_with(
                "Bundle.entry[7].resource(Binary/cr-2).content: is not a clinical record at encounters[0].date: "
            ),
            "{}",
            e.diagnostics()
        );
        assert_eq!(e.status(), 422);
        let e = convert(&binary(Some("Patient/2"), r#"{"encounter":[]}"#)).expect_err("unknown");
        assert!(
            e.diagnostics().contains("unknown field `encounter`"),
            "{}",
            e.diagnostics()
        );
        let e = convert(&binary(Some("Patient/2"), "{} {}")).expect_err("trailing");
        assert!(
            e.diagnostics()
                .starts_with("Bundle.entry[7].resource(Binary/cr-2).content: is not a clinical record: trailing characters"),
            "{}",
            e.diagnostics()
        );
        let e = convert(&binary(Some("Patient/2"), "[1]")).expect_err("not an object");
        assert!(
            e.diagnostics()
                .contains("content: is not a clinical record")
        );
    }
}
