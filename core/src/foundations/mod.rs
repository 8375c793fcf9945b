//! Foundations 1.2.9 (F1–F9) as transport-neutral operations over the
//! storage port (digest §1.1–§1.8, §5.6).
//!
//! | # | interaction | operation |
//! |---|---|---|
//! | F1 | `GET /metadata` | [`capability_statement`] |
//! | F2 | `GET /Patient?identifier=` | [`find_patient`] |
//! | F3 | `GET /Patient/{id}` | [`read_patient`] |
//! | F4 | `POST /Patient/$gpc.registerpatient` | [`register_patient`] |
//! | F5 | `GET /Practitioner?identifier=` | [`find_practitioner`] |
//! | F6 | `GET /Practitioner/{id}` | [`read_practitioner`] |
//! | F7 | `GET /Organization?identifier=` | [`find_organization`] |
//! | F8 | `GET /Organization/{id}` | [`read_organization`] |
//! | F9 | `GET /Location/{id}` | [`read_location`] |
//!
//! Each takes the [`Context`](crate::operation::Context) (store, practice,
//! now, edition) and what the request carried (query pairs already
//! percent-decoded, a path id, a decoded body), and gives an
//! [`Answer`](crate::operation::Answer) or an [`Error`]. The
//! transport does the rest: headers, JWT, enablement switches (R83), the
//! `Ssp-InteractionID` check (R82), content negotiation, and turning the
//! answer into HTTP.
//!
//! Shared here:
//! - the R64 `identifier=system|value` parameter rules, in one place
//!   ([`identifier_param`]);
//! - the searchset Bundle every find answers with ([`searchset`]): `type`
//!   `searchset`, `meta.profile` GPConnect-Searchset-Bundle-1, no
//!   `fullUrl` (§1.1), and no entries when nothing matched (R63).
//!
//! PDS (the Spine demographics service) is reached through the [`Pds`]
//! trait; see [`pds`] for how a real client plugs in and for
//! [`LocalPds`], the in-memory provider.

pub mod capability;
pub mod location;
pub mod organization;
pub mod patient;
pub mod pds;
pub mod practitioner;
pub mod register;

pub use capability::{SoftwareInfo, capability_statement};
pub use location::read_location;
pub use organization::{find_organization, read_organization};
pub use patient::{find_patient, patient_resource, read_patient};
pub use pds::{LocalPds, Pds, PdsError, PdsRecord};
pub use practitioner::{find_practitioner, read_practitioner};
pub use register::register_patient;

use crate::error::{Echo, Error, SpineCode};
use crate::fhir::datatypes::Meta;
use crate::fhir::primitive::{Code, is_valid_id};
use crate::stu3::{self, profiles::profile};

/// The one search parameter the Foundations finds take (F2, F5, F7).
pub const IDENTIFIER: &str = "identifier";

/// The value of the single `identifier=system|value` parameter of a find,
/// checked against the R64 rules (and those of the test suite the digest
/// distils them from), in this order:
///
/// 1. A differently-cased `identifier` (e.g. `Identifier`) is 400
///    BAD_REQUEST (R64 "wrong case": FHIR parameter names are
///    case-sensitive). Any other unknown parameter is ignored, as §2.2
///    requires ("Unknown search parameters SHALL be ignored"); R64 lists no
///    exception for them. Pairs with an empty name (a stray `&`) are skipped.
/// 2. `identifier` missing → 400 BAD_REQUEST; sent more than once → 400
///    BAD_REQUEST (whatever the values).
/// 3. No `|` (no system) or a blank system → 422 INVALID_PARAMETER (R64
///    follows the test suite here, §11.7).
/// 4. Blank value (`system|`) → 422 INVALID_PARAMETER.
/// 5. A system other than `system` → 400 INVALID_IDENTIFIER_SYSTEM.
///
/// The token is split at the first `|`; the value is returned as sent, for
/// the caller to validate (e.g. an NHS number, R64 → 400
/// INVALID_NHS_NUMBER). Values are never echoed in diagnostics: they may be
/// patient identifiers.
///
/// # Errors
/// As listed above.
pub fn identifier_param<'q>(query: &[(&'q str, &'q str)], system: &str) -> Result<&'q str, Error> {
    let mut token: Option<&'q str> = None;
    let mut count = 0usize;
    for &(name, value) in query {
        if name == IDENTIFIER {
            count += 1;
            token.get_or_insert(value);
        } else if name.eq_ignore_ascii_case(IDENTIFIER) {
            return Err(Error::bad_request(format!(
                "search parameter names are case-sensitive: send 'identifier', not {}",
                Echo(name)
            )));
        }
    }
    let token = match (token, count) {
        (None, _) => {
            return Err(Error::bad_request(format!(
                "the 'identifier' search parameter is required ({system}|value)"
            )));
        }
        (Some(_), 2..) => {
            return Err(Error::bad_request(
                "the 'identifier' search parameter may be sent only once",
            ));
        }
        (Some(t), _) => t,
    };
    let Some((sent_system, value)) = token.split_once('|') else {
        return Err(Error::invalid_parameter(format!(
            "identifier must be 'system|value' with the system {system}; no system was sent"
        )));
    };
    if sent_system.trim().is_empty() {
        return Err(Error::invalid_parameter(format!(
            "identifier has a blank system; expected {system}"
        )));
    }
    if value.trim().is_empty() {
        return Err(Error::invalid_parameter(
            "identifier has no value after the '|'",
        ));
    }
    if sent_system != system {
        return Err(Error::new(
            SpineCode::InvalidIdentifierSystem,
            format!(
                "identifier system {} is not supported; expected {system}",
                Echo(sent_system)
            ),
        ));
    }
    Ok(value)
}

/// A `searchset` Bundle of `resources` (GPConnect-Searchset-Bundle-1; §1.1:
/// no `fullUrl`; R63: no resources is an empty Bundle, not an error).
pub fn searchset(resources: impl IntoIterator<Item = stu3::Resource>) -> stu3::Bundle {
    stu3::Bundle {
        meta: Some(Meta {
            profile: vec![profile::SEARCHSET_BUNDLE.to_owned()],
            ..Meta::default()
        }),
        type_: Code::from_static("searchset"),
        entry: resources
            .into_iter()
            .map(|r| stu3::BundleEntry {
                resource: Some(r),
                ..stu3::BundleEntry::default()
            })
            .collect(),
        ..stu3::Bundle::default()
    }
}

/// Whether a read's path id could name a record at all (R80: ids are
/// `[A-Za-z0-9\-\.]{1,64}`); a read of anything else is a not-found.
pub(crate) fn readable_id(id: &str) -> bool {
    is_valid_id(id)
}

/// R86: a resource the store holds under an id that is not a FHIR id cannot
/// meet the profile (every resource needs `id`), so the request fails with
/// 500.
pub(crate) fn require_id(
    kind: &str,
    id: Option<&crate::fhir::primitive::Id>,
    raw: &str,
) -> Result<(), Error> {
    if id.is_some() {
        Ok(())
    } else {
        Err(Error::internal(format!(
            "stored {kind} has the id {}, which is not a FHIR id (R80), so it cannot be returned",
            Echo(raw)
        )))
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A context over the shared test practice.

    use jiff::Timestamp;

    use crate::operation::Context;
    use crate::store::memory::MemoryStore;
    use crate::store::{PracticeRecord, PracticeStore};
    use crate::testkit;

    /// The fixed "now" of the Foundations tests: Wednesday 25 November 2026, 10:00 UK.
    pub fn now() -> Timestamp {
        "2026-11-25T10:00:00Z".parse().expect("timestamp")
    }

    /// The test practice and its record.
    pub fn practice() -> (MemoryStore, PracticeRecord) {
        let store = testkit::memory_store(now()).expect("test practice loads");
        let record = store
            .practice(testkit::ODS)
            .expect("read")
            .expect("practice");
        (store, record)
    }

    /// A context over `store`.
    pub fn ctx<'a>(store: &'a MemoryStore, practice: &'a PracticeRecord) -> Context<'a> {
        Context {
            store,
            practice,
            now: now(),
            edition: crate::error::SpecEdition::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stu3::profiles::identifier_system::NHS_NUMBER;

    fn param(query: &[(&str, &str)]) -> Result<String, Error> {
        identifier_param(query, NHS_NUMBER).map(str::to_owned)
    }

    fn code(r: Result<String, Error>) -> (u16, SpineCode) {
        let e = r.expect_err("an error");
        (e.status(), e.code())
    }

    #[test]
    fn r64_identifier_value_is_returned_with_ignored_parameters_around_it() {
        let q = [
            ("_format", "application/fhir+xml"),
            ("identifier", "https://fhir.nhs.uk/Id/nhs-number|9000000009"),
            ("_count", "1"),
            ("_sort", "status"),
            ("", ""),
        ];
        assert_eq!(param(&q).expect("ok"), "9000000009");
    }

    #[test]
    fn r64_missing_identifier_is_400() {
        assert_eq!(code(param(&[])), (400, SpineCode::BadRequest));
        assert_eq!(
            code(param(&[("_format", "json")])),
            (400, SpineCode::BadRequest)
        );
    }

    #[test]
    fn r64_identifier_in_the_wrong_case_is_400() {
        let e = param(&[("Identifier", "https://fhir.nhs.uk/Id/nhs-number|9000000009")])
            .expect_err("wrong case");
        assert_eq!((e.status(), e.code()), (400, SpineCode::BadRequest));
        assert!(e.diagnostics().contains("case-sensitive"));
    }

    #[test]
    fn unknown_search_parameters_are_ignored() {
        // §2.2: "Unknown search parameters SHALL be ignored".
        let q = [
            ("identifier", "https://fhir.nhs.uk/Id/nhs-number|9000000009"),
            ("invalidParameter", "x"),
        ];
        assert_eq!(param(&q).ok().as_deref(), Some("9000000009"));
    }

    #[test]
    fn r64_repeated_identifier_is_400_whatever_the_values() {
        let good = ("identifier", "https://fhir.nhs.uk/Id/nhs-number|9000000009");
        assert_eq!(code(param(&[good, good])), (400, SpineCode::BadRequest));
        assert_eq!(
            code(param(&[("identifier", "badSystem|1"), good])),
            (400, SpineCode::BadRequest)
        );
    }

    #[test]
    fn r64_empty_value_is_422_invalid_parameter() {
        for v in [
            "https://fhir.nhs.uk/Id/nhs-number|",
            "https://fhir.nhs.uk/Id/nhs-number| ",
        ] {
            assert_eq!(
                code(param(&[("identifier", v)])),
                (422, SpineCode::InvalidParameter),
                "{v}"
            );
        }
    }

    #[test]
    fn r64_missing_or_blank_system_is_422_invalid_parameter() {
        for v in ["9000000009", "|9000000009", "  |9000000009", ""] {
            assert_eq!(
                code(param(&[("identifier", v)])),
                (422, SpineCode::InvalidParameter),
                "{v:?}"
            );
        }
    }

    #[test]
    fn r64_unsupported_system_is_400_invalid_identifier_system() {
        for v in [
            "https://fhir.nhs.uk/Id/sds-user-id|9000000009",
            "https://fhir.nhs.uk/Id/NHS-number|9000000009",
            "badSystem|x",
        ] {
            assert_eq!(
                code(param(&[("identifier", v)])),
                (400, SpineCode::InvalidIdentifierSystem),
                "{v}"
            );
        }
    }

    #[test]
    fn r64_diagnostics_never_echo_the_value() {
        let e = param(&[("identifier", "badSystem|9434765919")]).expect_err("system");
        assert!(!e.diagnostics().contains("9434765919"));
    }

    #[test]
    fn r63_searchset_without_matches_is_an_empty_profiled_bundle() {
        let b = searchset(Vec::new());
        assert_eq!(b.type_.as_str(), "searchset");
        assert!(b.entry.is_empty());
        assert_eq!(
            b.meta.map(|m| m.profile),
            Some(vec![profile::SEARCHSET_BUNDLE.to_owned()])
        );
    }
}
