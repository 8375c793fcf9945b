//! The audit record of one call (R84; accessrecord §1.7 "providers must
//! audit every call, failures included").
//!
//! R84 asks for: user id, name and role profile (from the JWT); organisation;
//! date and time; event type and data ids (patient id, message id); a
//! sequence number; the device. [`AuditRecord`] carries each of them, plus
//! the outcome (status, Spine code, diagnostics) so failed and rejected calls
//! are recorded with their error codes.
//!
//! Fields are filled as the request is checked, so a call rejected early
//! still records what was known by then: the trace id and interaction id are
//! taken from the headers as sent even when the headers fail their checks
//! (bounded to [`MAX_FIELD_CHARS`] characters, so a hostile header cannot
//! bloat the log). JWT-derived fields are filled only from a token that
//! passed validation; an unvalidated token is never trusted for the audit.
//!
//! The host persists the record; [`AuditRecord::to_json_line`] gives one
//! JSON line.

use jiff::Timestamp;
use serde::Serialize;

use crate::checks::jwt::JwtClaims;

/// Longest text kept in a field copied from the request as sent.
pub const MAX_FIELD_CHARS: usize = 256;

/// What happened on one call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// Per-engine sequence number, from 1 (R84 "a sequence number").
    pub sequence: u64,
    /// "Now" by the engine's clock when the call was handled (R84 date and
    /// time). `None` only if the call failed before the clock was read.
    pub received_at: Option<Timestamp>,
    /// Wall time spent in `handle`, in microseconds.
    pub elapsed_micros: u64,
    /// The method as sent.
    pub method: String,
    /// The path as sent (bounded).
    pub path: String,
    /// `Ssp-TraceID` as sent (R84 message id).
    pub trace_id: Option<String>,
    /// `Ssp-From`: the consumer's ASID.
    pub from_asid: Option<String>,
    /// `Ssp-To`: the provider ASID the consumer addressed.
    pub to_asid: Option<String>,
    /// `Ssp-InteractionID` as sent.
    pub requested_interaction: Option<String>,
    /// The interaction the request was resolved to (its URN), once the
    /// interaction id matched the path (R82).
    pub interaction: Option<String>,
    /// The practice addressed by the URL's ODS code, once it is known to be
    /// hosted here.
    pub practice_ods: Option<String>,
    /// `requesting_organization` ODS code (R84 organisation).
    pub requesting_organisation_ods: Option<String>,
    /// `requesting_organization.name`.
    pub requesting_organisation_name: Option<String>,
    /// `requesting_practitioner.id` (= `sub`).
    pub requesting_practitioner_id: Option<String>,
    /// SDS user id of the practitioner (may be `UNK`).
    pub requesting_practitioner_sds_user_id: Option<String>,
    /// SDS role profile id of the practitioner, if sent (R84 role).
    pub requesting_practitioner_role_profile_id: Option<String>,
    /// The practitioner's name, `prefix given family` (R84 name).
    pub requesting_practitioner_name: Option<String>,
    /// `requesting_device`: `model version (system|value)` (R84 device).
    pub requesting_device: Option<String>,
    /// The JWT `requested_scope`.
    pub scope: Option<String>,
    /// Accepted token oddities worth logging (digest §3.3 "log only").
    pub jwt_notes: Vec<String>,
    /// The logical id in the path (Patient, Appointment, ...), or the id
    /// the operation created.
    pub resource_id: Option<String>,
    /// The patient the call concerned, where known (R84 data id).
    pub patient_id: Option<String>,
    /// The NHS number the call concerned, where known.
    pub nhs_number: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// The Spine code of an error answer (wire spelling, e.g. `BAD_REQUEST`).
    pub spine_code: Option<String>,
    /// The diagnostics of an error answer.
    pub diagnostics: Option<String>,
}

impl AuditRecord {
    /// The record as one line of JSON (no trailing newline).
    pub fn to_json_line(&self) -> String {
        // Every field is a string, number, list of strings or RFC 3339
        // timestamp, so serialisation cannot fail; keep a total fallback
        // anyway rather than a panic in the audit path.
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(
                "{{\"sequence\":{},\"audit_error\":{:?}}}",
                self.sequence,
                e.to_string()
            )
        })
    }

    /// Copies the R84 fields from a validated token.
    pub fn record_claims(&mut self, claims: &JwtClaims) {
        let org = &claims.organization;
        self.requesting_organisation_ods = Some(org.ods_code.clone());
        self.requesting_organisation_name = Some(org.name.clone());
        let who = &claims.practitioner;
        self.requesting_practitioner_id = Some(who.id.clone());
        self.requesting_practitioner_sds_user_id = Some(who.sds_user_id.clone());
        self.requesting_practitioner_role_profile_id = who.role_profile_id.clone();
        let name = who.name.display();
        self.requesting_practitioner_name = (!name.is_empty()).then_some(name);
        let d = &claims.device;
        self.requesting_device = Some(format!(
            "{} {} ({}|{})",
            d.model, d.version, d.identifier_system, d.identifier_value
        ));
        self.scope = Some(claims.scope.as_str().to_owned());
        self.jwt_notes = claims.notes.iter().map(|n| format!("{n:?}")).collect();
        if let Some(nhs) = claims.requested_nhs_number() {
            self.nhs_number.get_or_insert_with(|| nhs.to_owned());
        }
    }
}

/// `s` cut to [`MAX_FIELD_CHARS`] characters.
pub fn bounded(s: &str) -> String {
    match s.char_indices().nth(MAX_FIELD_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_is_one_line_of_json_with_every_field() {
        let r = AuditRecord {
            sequence: 7,
            received_at: Some("2026-11-25T10:00:00Z".parse().expect("ts")),
            trace_id: Some("a\nb".to_owned()),
            status: 400,
            spine_code: Some("BAD_REQUEST".to_owned()),
            ..AuditRecord::default()
        };
        let line = r.to_json_line();
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["sequence"], 7);
        assert_eq!(v["received_at"], "2026-11-25T10:00:00Z");
        assert_eq!(v["trace_id"], "a\nb");
        assert_eq!(v["spine_code"], "BAD_REQUEST");
        assert!(v["patient_id"].is_null());
    }

    #[test]
    fn copied_fields_are_bounded() {
        let long = "é".repeat(1000);
        assert_eq!(bounded(&long).chars().count(), MAX_FIELD_CHARS + 1);
        assert_eq!(bounded("short"), "short");
    }
}
