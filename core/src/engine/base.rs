//! Splitting the service root off a request path.
//!
//! A GP Connect service root is `/[ODS_CODE]/[FHIR_VERSION_NAME]/[MAJOR]/[ROUTING]`
//! (digest §1, accessrecord §1.1): `/{ODS}/STU3/1/{routing}` for Foundations
//! and Appointment Management, `/{ODS}/DSTU2/0/{routing}` for Access Record
//! HTML. Everything after it is the interaction path that
//! [`route`](crate::checks::headers::route) understands.
//!
//! Matching is byte for byte, like the rest of the path: URLs are
//! case-sensitive (digest §1), so `stu3` or `Gpconnect` do not name a service
//! root, and nothing is percent-decoded.

use crate::checks::format::FhirVersion;
use crate::error::{Echo, Error};

/// The parts of a path under a service root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceRoot<'p> {
    /// The ODS code segment, as sent (not yet known to name a practice).
    pub ods: &'p str,
    /// `STU3` or `DSTU2`.
    pub version: FhirVersion,
    /// The service root itself, e.g. `/A00001/STU3/1/gpconnect`.
    pub root: &'p str,
    /// The rest, e.g. `/Patient/2` (empty when the path is the root itself).
    pub rest: &'p str,
}

/// The GP Connect major version in the service root of each FHIR version.
pub fn major_version(version: FhirVersion) -> &'static str {
    match version {
        FhirVersion::Stu3 => "1",
        FhirVersion::Dstu2 => "0",
    }
}

/// Splits `path` into service root and rest. `routing` is the provider
/// routing segment (e.g. `gpconnect`); empty means the root has none.
///
/// # Errors
/// 400 BAD_REQUEST when `path` is not under `/{ODS}/STU3/1/{routing}` or
/// `/{ODS}/DSTU2/0/{routing}`: like an unknown path under a root, it names
/// no GP Connect endpoint (see the engine's module docs).
pub fn split_service_root<'p>(path: &'p str, routing: &str) -> Result<ServiceRoot<'p>, Error> {
    let not_a_root = || {
        Error::bad_request(format!(
            "{} is not under a GP Connect service root /{{ODS}}/STU3/1/{routing} or /{{ODS}}/DSTU2/0/{routing} (URLs are case-sensitive)",
            Echo(path)
        ))
    };
    let rest = path.strip_prefix('/').ok_or_else(not_a_root)?;
    let (ods, rest) = rest.split_once('/').ok_or_else(not_a_root)?;
    let (version_name, rest) = rest.split_once('/').ok_or_else(not_a_root)?;
    let version = match version_name {
        "STU3" => FhirVersion::Stu3,
        "DSTU2" => FhirVersion::Dstu2,
        _ => return Err(not_a_root()),
    };
    let (major, rest) = match rest.split_once('/') {
        Some((major, rest)) => (major, Some(rest)),
        None => (rest, None),
    };
    if major != major_version(version) {
        return Err(not_a_root());
    }
    // `after` is what follows `/{ODS}/{VERSION}/{MAJOR}`, without its `/`.
    let rest = match (routing.is_empty(), rest) {
        (true, None) => "",
        (true, Some(after)) => &path[path.len() - after.len() - 1..],
        (false, None) => return Err(not_a_root()),
        (false, Some(after)) => match after.strip_prefix(routing) {
            Some(r) if r.is_empty() || r.starts_with('/') => r,
            _ => return Err(not_a_root()),
        },
    };
    let root = &path[..path.len() - rest.len()];
    Ok(ServiceRoot {
        ods,
        version,
        root,
        rest,
    })
}

/// The FHIR version a path appears to address, for rendering an error before
/// (or without) a successful [`split_service_root`]: DSTU2 when the second
/// segment is `DSTU2`, else STU3.
pub fn version_hint(path: &str) -> FhirVersion {
    match path.split('/').nth(2) {
        Some("DSTU2") => FhirVersion::Dstu2,
        _ => FhirVersion::Stu3,
    }
}

/// Whether `s` can be an ODS organisation code at all: 1–12 ASCII letters
/// and digits (real codes are 3–6, e.g. `A00001`, `RR8`). Anything else
/// cannot name a hosted practice, so it is never sent to the store.
pub fn is_plausible_ods(s: &str) -> bool {
    (1..=12).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SpineCode;
    use proptest::prelude::*;

    fn split(path: &str) -> Result<ServiceRoot<'_>, Error> {
        split_service_root(path, "gpconnect")
    }

    #[test]
    fn stu3_and_dstu2_roots_are_split_off() {
        let r = split("/A00001/STU3/1/gpconnect/Patient/2").expect("stu3");
        assert_eq!(
            r,
            ServiceRoot {
                ods: "A00001",
                version: FhirVersion::Stu3,
                root: "/A00001/STU3/1/gpconnect",
                rest: "/Patient/2",
            }
        );
        let r = split("/GP0001/DSTU2/0/gpconnect/Patient/$gpc.getcarerecord").expect("dstu2");
        assert_eq!((r.ods, r.version), ("GP0001", FhirVersion::Dstu2));
        assert_eq!(r.rest, "/Patient/$gpc.getcarerecord");
        assert_eq!(split("/A00001/STU3/1/gpconnect").expect("root").rest, "");
    }

    #[test]
    fn a_root_without_routing_segment_when_configured_so() {
        let r = split_service_root("/A00001/STU3/1/metadata", "").expect("no routing");
        assert_eq!((r.root, r.rest), ("/A00001/STU3/1", "/metadata"));
        let r = split_service_root("/A00001/STU3/1", "").expect("bare root");
        assert_eq!(r.rest, "");
    }

    #[test]
    fn anything_else_is_not_a_service_root() {
        for path in [
            "",
            "/",
            "/metadata",
            "A00001/STU3/1/gpconnect/metadata",
            "/A00001/stu3/1/gpconnect/metadata",
            "/A00001/STU3/2/gpconnect/metadata",
            "/A00001/STU3/0/gpconnect/metadata",
            "/A00001/DSTU2/1/gpconnect/metadata",
            "/A00001/R4/1/gpconnect/metadata",
            "/A00001/STU3/1/GPConnect/metadata",
            "/A00001/STU3/1/gpconnectx/metadata",
            "/A00001/STU3/1",
            "/A00001/STU3",
        ] {
            let e = split(path).expect_err(path);
            assert_eq!(
                (e.status(), e.code()),
                (400, SpineCode::BadRequest),
                "{path}"
            );
        }
    }

    #[test]
    fn version_hint_reads_the_second_segment() {
        assert_eq!(version_hint("/X/DSTU2/9/whatever"), FhirVersion::Dstu2);
        assert_eq!(version_hint("/X/STU3/1/gpconnect"), FhirVersion::Stu3);
        assert_eq!(version_hint(""), FhirVersion::Stu3);
    }

    #[test]
    fn ods_codes_are_short_and_alphanumeric() {
        assert!(is_plausible_ods("A00001"));
        assert!(!is_plausible_ods(""));
        assert!(!is_plausible_ods("A0000 1"));
        assert!(!is_plausible_ods("%41"));
        assert!(!is_plausible_ods(&"A".repeat(13)));
    }

    proptest! {
        #[test]
        fn splitting_never_panics_and_rejoins(path in "(/[A-Za-z0-9$.%]{0,8}){0,7}", routing in "[a-z]{0,3}") {
            if let Ok(r) = split_service_root(&path, &routing) {
                prop_assert_eq!(format!("{}{}", r.root, r.rest), path.clone());
                prop_assert!(r.rest.is_empty() || r.rest.starts_with('/'));
            }
        }
    }
}
