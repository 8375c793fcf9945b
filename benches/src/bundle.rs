//! The codec benches' document: a 100-entry searchset Bundle (92 Slots,
//! 4 Schedules, 2 Practitioners, a Location and the Organization), shaped
//! like the spec's slot-search example. Shared by the criterion `codec`
//! bench and the callgrind `instructions` bench so both measure the same
//! bytes.

use gpconnect_core::fhir::{Limits, from_json, to_json, to_xml};
use gpconnect_core::stu3::Bundle;
use serde_json::{Value, json};

/// Entries in [`searchset_value`].
pub const ENTRIES: usize = 100;

fn slot(i: usize) -> Value {
    let schedule = 10 + i % 4;
    let minute = (i % 18) * 10;
    let (h, m) = (9 + minute / 60, minute % 60);
    let (eh, em) = (9 + (minute + 10) / 60, (minute + 10) % 60);
    json!({
        "resourceType": "Slot",
        "id": format!("{}", 1500 + i),
        "meta": {"versionId": format!("{}", 1_471_219_260_000u64 + i as u64),
                 "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Slot-1"]},
        "extension": [{"url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2",
                       "valueCode": if i % 3 == 0 { "Telephone" } else { "In-person" }}],
        "serviceType": [{"text": if i % 2 == 0 { "General GP Appointment" } else { "NHS Health Check" }}],
        "schedule": {"reference": format!("Schedule/{schedule}")},
        "status": "free",
        "start": format!("2026-12-0{}T{h:02}:{m:02}:00+00:00", 1 + i / 18),
        "end": format!("2026-12-0{}T{eh:02}:{em:02}:00+00:00", 1 + i / 18),
    })
}

fn schedule(id: usize, practitioner: usize) -> Value {
    json!({
        "resourceType": "Schedule",
        "id": format!("{id}"),
        "meta": {"versionId": "1469444400000",
                 "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Schedule-1"]},
        "extension": [{"url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-PractitionerRole-1",
                       "valueCodeableConcept": {"coding": [{"system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1",
                                                            "code": "R0260", "display": "General Medical Practitioner"}]}}],
        "serviceCategory": {"text": "General GP Appointments"},
        "actor": [{"reference": "Location/17"}, {"reference": format!("Practitioner/{practitioner}")}],
        "planningHorizon": {"start": "2026-12-01T09:00:00+00:00", "end": "2026-12-06T12:00:00+00:00"}
    })
}

fn practitioner(id: usize, family: &str) -> Value {
    json!({
        "resourceType": "Practitioner",
        "id": format!("{id}"),
        "meta": {"versionId": "636064088099800115",
                 "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Practitioner-1"]},
        "identifier": [{"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": format!("11112222333{id}")}],
        "name": [{"use": "usual", "family": family, "given": ["Sarah"], "prefix": ["Dr"]}],
        "gender": "female"
    })
}

/// The document as a `serde_json::Value`, in the order written here (not
/// the typed writer's order; see [`Searchset`]).
pub fn searchset_value() -> Value {
    let mut entries: Vec<Value> = (0..92).map(slot).collect();
    entries.extend((0..4).map(|i| schedule(10 + i, 2 + i % 2)));
    entries.push(practitioner(2, "Black"));
    entries.push(practitioner(3, "O'Neil"));
    entries.push(json!({
        "resourceType": "Location", "id": "17",
        "meta": {"versionId": "636064088100870233",
                 "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Location-1"]},
        "name": "The Trevelyan Practice",
        "telecom": [{"system": "phone", "value": "03003035678", "use": "work"}],
        "address": {"line": ["Trevelyan Square", "Boar Ln"], "city": "Leeds", "postalCode": "LS1 6AE"},
        "managingOrganization": {"reference": "Organization/23"}
    }));
    entries.push(json!({
        "resourceType": "Organization", "id": "23",
        "meta": {"versionId": "636064088098730113",
                 "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1"]},
        "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A00001"}],
        "name": "The Trevelyan Practice",
        "telecom": [{"system": "phone", "value": "03003035678", "use": "work"}],
        "address": [{"line": ["Trevelyan Square", "Boar Ln"], "city": "Leeds", "district": "West Yorkshire", "postalCode": "LS1 6AE"}]
    }));
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|r| json!({"resource": r}))
        .collect();
    json!({
        "resourceType": "Bundle",
        "id": "d4d5e9a8-6c61-4c3e-a4b2-4fd61b8e4ed6",
        "meta": {"lastUpdated": "2026-11-25T10:00:00+00:00",
                 "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Searchset-Bundle-1"]},
        "type": "searchset",
        "entry": entries
    })
}

/// The document in every form the codec benches use.
#[derive(Debug, Clone)]
pub struct Searchset {
    /// The typed Bundle.
    pub typed: Bundle,
    /// The typed writer's JSON: the bytes every JSON parse bench reads, so
    /// typed and `Value` parsing see the same input in the same order.
    pub json: Vec<u8>,
    /// The typed writer's XML.
    pub xml: Vec<u8>,
    /// [`Searchset::json`] as a `Value`, for the `Value` write bench.
    pub value: Value,
}

/// The document, decoded once through the typed codec.
///
/// # Panics
/// If the typed codec rejects the document or loses entries: the benches
/// would then measure an error path, not a parse.
pub fn searchset() -> Searchset {
    let text = searchset_value().to_string();
    let typed: Bundle = match from_json(text.as_bytes(), Limits::REQUEST) {
        Ok(b) => b,
        Err(e) => panic!("the benchmark bundle must decode: {e}"),
    };
    assert_eq!(typed.entry.len(), ENTRIES, "benchmark bundle entries");
    let json = to_json(&typed);
    let xml = to_xml(&typed).into_bytes();
    let value = serde_json::from_slice(&json).expect("typed JSON is JSON");
    Searchset {
        typed,
        json,
        xml,
        value,
    }
}
