//! What happens to a resource before the store keeps it.
//!
//! Patients, Practitioners, Organizations, Locations and Appointments are
//! stored as FHIR resources and later served to consumers. Two things must
//! not survive the import:
//!
//! - `id` and `meta`: the id lives beside the resource in its record, and
//!   `meta.versionId`/`lastUpdated` are the store's to assign. Keeping what
//!   the file said would make a file exported from one system and imported
//!   twice look changed whenever the exporter bumped its own versions, and
//!   re-import would no longer be idempotent. Responses set both afresh
//!   (`population`).
//! - Our provider-only extensions: a consumer must never see them (the
//!   sensitive flag least of all). Each converter strips them from the
//!   positions it reads them at; [`no_stray_extensions`] then proves none is
//!   left anywhere else in the resource.

use crate::error::Error;
use crate::fhir::codec::Element;
use crate::fhir::datatypes::Meta;
use crate::fhir::primitive::Id;
use crate::fhir::to_json;

use super::entries::At;
use super::extension::NAMESPACE;

/// Drop the resource's own `id` and `meta` (see the module docs).
pub(crate) fn clear_identity(id: &mut Option<Id>, meta: &mut Option<Meta>) {
    *id = None;
    *meta = None;
}

/// Refuse a resource that still mentions our namespace after the known
/// positions were stripped: an extension of ours at a position the importer
/// does not read (say, on an address) would otherwise be stored and served.
///
/// The check encodes the resource once and scans the bytes, because the
/// model has no generic walk over every nested `extension` list; an import
/// is a bulk operation where one extra encode per stored resource is cheap
/// next to the decode that preceded it.
pub(crate) fn no_stray_extensions<T: Element>(resource: &T, at: At<'_>) -> Result<(), Error> {
    let json = to_json(resource);
    let needle = NAMESPACE.as_bytes();
    if json.windows(needle.len()).any(|w| w == needle) {
        return Err(super::invalid(
            at,
            format!(
                "carries an extension of {NAMESPACE} at a position the importer does not read; docs/import.md lists where each one goes"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::datatypes::{Address, Extension, ExtensionValue};
    use crate::stu3;

    #[test]
    fn an_extension_of_ours_deep_inside_is_found() {
        let at = At {
            index: 4,
            kind: "Location",
            id: "17",
        };
        let mut location = stu3::Location {
            address: Some(Address {
                extension: vec![Extension {
                    url: super::super::extension::BOOKABLE.to_owned(),
                    value: Some(ExtensionValue::Boolean(true)),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            no_stray_extensions(&location, at)
                .expect_err("stray")
                .diagnostics(),
            "Bundle.entry[4].resource(Location/17): carries an extension of urn:gpconnect:fhir:extension: at a position the importer does not read; docs/import.md lists where each one goes"
        );
        location.address = None;
        assert!(no_stray_extensions(&location, at).is_ok());
    }

    #[test]
    fn identity_is_cleared() {
        let mut id = Id::new("1").ok();
        let mut meta = Some(Meta::default());
        clear_identity(&mut id, &mut meta);
        assert_eq!((id, meta), (None, None));
    }
}
