//! The bundle's entries indexed by `Type/id`, the element paths errors name,
//! and resolution of the references between entries.
//!
//! A practice bundle is self-contained: every reference between its
//! resources must be a local relative `Type/id` (R87) naming an entry of the
//! same bundle. That is checked without a store, so a bundle is valid or not
//! on its own, and the same file gives the same answer against any backend.

use std::collections::HashMap;
use std::fmt;

use crate::error::{Echo, Error};
use crate::fhir::datatypes::Reference;
use crate::fhir::primitive::is_valid_id;
use crate::stu3::{self, Resource};

use super::extension::is_ours;
use super::invalid;

/// Where an entry is: `Bundle.entry[12].resource(Slot/14-1-3)`. Every error
/// about an entry starts with it, so a user can find the entry by index and
/// by id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'a> {
    pub index: usize,
    pub kind: &'static str,
    pub id: &'a str,
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Bundle.entry[{}].resource({}/{})",
            self.index, self.kind, self.id
        )
    }
}

impl At<'_> {
    /// The path of an element of this entry (`element` like `schedule` or
    /// `extension[2]`).
    pub fn path(&self, element: &str) -> String {
        format!("{self}.{element}")
    }

    /// An error at an element of this entry.
    pub fn err(&self, element: &str, message: impl fmt::Display) -> Error {
        invalid(self.path(element), message)
    }
}

/// One entry with its location.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub at: At<'a>,
    pub resource: &'a Resource,
}

/// The resource types a practice bundle may hold.
pub(crate) const SUPPORTED: [&str; 8] = [
    "Organization",
    "Location",
    "Practitioner",
    "Patient",
    "Schedule",
    "Slot",
    "Appointment",
    "Binary",
];

/// The logical id of a resource of a supported type; `None` for a type a
/// practice bundle cannot hold.
fn id_of(r: &Resource) -> Option<Option<&str>> {
    let id = match r {
        Resource::Organization(x) => &x.id,
        Resource::Location(x) => &x.id,
        Resource::Practitioner(x) => &x.id,
        Resource::Patient(x) => &x.id,
        Resource::Schedule(x) => &x.id,
        Resource::Slot(x) => &x.id,
        Resource::Appointment(x) => &x.id,
        Resource::Binary(x) => &x.id,
        _ => return None,
    };
    Some(id.as_ref().map(|i| i.as_str()))
}

/// The entries of a practice bundle, indexed by `(type, id)`.
#[derive(Debug)]
pub(crate) struct Entries<'a> {
    pub list: Vec<Entry<'a>>,
    by_key: HashMap<(&'static str, &'a str), usize>,
}

impl<'a> Entries<'a> {
    /// Index the bundle: every entry has a resource of a supported type with
    /// an id, and no two resources of a type share an id (upsert is by id,
    /// so a duplicate would make one of them silently win).
    pub fn index(bundle: &'a stu3::Bundle) -> Result<Self, Error> {
        let mut list = Vec::with_capacity(bundle.entry.len());
        let mut by_key = HashMap::with_capacity(bundle.entry.len());
        for (index, entry) in bundle.entry.iter().enumerate() {
            let Some(resource) = &entry.resource else {
                return Err(invalid(format!("Bundle.entry[{index}]"), "has no resource"));
            };
            // Nothing is read from an entry's own extensions; one of ours
            // there is misplaced, and refused rather than silently ignored.
            if let Some(j) = entry
                .extension
                .iter()
                .chain(&entry.modifier_extension)
                .position(|e| is_ours(&e.url))
            {
                let list = if j < entry.extension.len() {
                    format!("extension[{j}]")
                } else {
                    format!("modifierExtension[{}]", j - entry.extension.len())
                };
                return Err(invalid(
                    format!("Bundle.entry[{index}].{list}"),
                    "extensions of ours go on the resource, not on the Bundle entry",
                ));
            }
            let kind = resource.resource_type();
            let Some(id) = id_of(resource) else {
                return Err(invalid(
                    format!("Bundle.entry[{index}].resource({kind})"),
                    format!(
                        "a practice bundle holds only {}; {kind} is not imported",
                        SUPPORTED.join(", ")
                    ),
                ));
            };
            let Some(id) = id else {
                return Err(invalid(
                    format!("Bundle.entry[{index}].resource({kind}).id"),
                    "is required: records are upserted by id",
                ));
            };
            if let Some(first) = by_key.insert((kind, id), index) {
                return Err(invalid(
                    format!("Bundle.entry[{index}].resource({kind}/{id}).id"),
                    format!(
                        "{kind}/{id} is also Bundle.entry[{first}]; ids must be unique per type"
                    ),
                ));
            }
            list.push(Entry {
                at: At { index, kind, id },
                resource,
            });
        }
        Ok(Entries { list, by_key })
    }

    /// The entry `kind/id`, if in the bundle.
    pub fn get(&self, kind: &str, id: &str) -> Option<&Entry<'a>> {
        self.by_key
            .get(&(kind_static(kind)?, id))
            .and_then(|&i| self.list.get(i))
    }

    /// Resolve `reference` at `path` to an entry of one of the `allowed`
    /// types. `Ok(None)` when the reference has no `reference` string (only
    /// a `display` or `identifier`); callers that need a target say so.
    pub fn resolve(
        &self,
        reference: &Reference,
        allowed: &[&'static str],
        path: &str,
    ) -> Result<Option<Target>, Error> {
        let Some(text) = reference.reference.as_deref() else {
            return Ok(None);
        };
        let target = parse_relative(text).ok_or_else(|| {
            invalid(
                format!("{path}.reference"),
                format!(
                    "{} is not a relative reference Type/id (only local relative references are imported, R87)",
                    Echo(text)
                ),
            )
        })?;
        if !allowed.contains(&target.kind) {
            return Err(invalid(
                format!("{path}.reference"),
                format!(
                    "{text} must reference a {}",
                    allowed.join(" or "),
                    text = Echo(text)
                ),
            ));
        }
        if self.get(target.kind, &target.id).is_none() {
            return Err(invalid(
                path,
                format!("{}/{} is not in the bundle", target.kind, target.id),
            ));
        }
        Ok(Some(target))
    }

    /// As [`Entries::resolve`], for a reference that must name an entry.
    pub fn resolve_required(
        &self,
        reference: &Reference,
        allowed: &[&'static str],
        path: &str,
    ) -> Result<Target, Error> {
        self.resolve(reference, allowed, path)?.ok_or_else(|| {
            invalid(
                format!("{path}.reference"),
                format!("is required (a {})", allowed.join(" or ")),
            )
        })
    }
}

/// A resolved reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub kind: &'static str,
    pub id: String,
}

/// The `&'static` name of a supported type.
fn kind_static(kind: &str) -> Option<&'static str> {
    SUPPORTED.iter().copied().find(|k| *k == kind)
}

/// `Type/id` with a supported type and a valid FHIR id; nothing else (no
/// absolute URL, `urn:`, `#contained`, or `_history` version).
fn parse_relative(text: &str) -> Option<Target> {
    let (kind, id) = text.split_once('/')?;
    let kind = kind_static(kind).or_else(|| {
        // A well-formed reference to a type we do not import still deserves
        // the "must reference a ..." answer rather than "not relative".
        (!kind.is_empty() && kind.bytes().all(|b| b.is_ascii_alphabetic())).then_some("")
    })?;
    if !is_valid_id(id) {
        return None;
    }
    Some(Target {
        kind,
        id: id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::primitive::{Code, Id};

    fn bundle(resources: Vec<Resource>) -> stu3::Bundle {
        stu3::Bundle {
            type_: Code::from_static("collection"),
            entry: resources
                .into_iter()
                .map(|r| stu3::BundleEntry {
                    resource: Some(r),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn location(id: &str) -> Resource {
        stu3::Location {
            id: Id::new(id).ok(),
            ..Default::default()
        }
        .into()
    }

    fn reference(s: &str) -> Reference {
        Reference {
            reference: Some(s.to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn relative_references_only() {
        assert_eq!(
            parse_relative("Slot/14-1-3"),
            Some(Target {
                kind: "Slot",
                id: "14-1-3".into()
            })
        );
        assert_eq!(parse_relative("https://x.org/Slot/1"), None);
        assert_eq!(parse_relative("urn:uuid:1234"), None);
        assert_eq!(parse_relative("#1"), None);
        assert_eq!(parse_relative("Slot/1/_history/2"), None);
        assert_eq!(parse_relative("Slot/"), None);
        assert_eq!(
            parse_relative("Device/1").map(|t| t.kind),
            Some(""),
            "well-formed but unsupported"
        );
    }

    #[test]
    fn resolve_names_the_problem() {
        let b = bundle(vec![location("17")]);
        let e = Entries::index(&b).expect("index");
        let p = "P.actor[0]";
        assert_eq!(
            e.resolve(&reference("Location/17"), &["Location"], p),
            Ok(Some(Target {
                kind: "Location",
                id: "17".into()
            }))
        );
        assert_eq!(
            e.resolve(&reference("Location/99"), &["Location"], p)
                .expect_err("missing")
                .diagnostics(),
            "P.actor[0]: Location/99 is not in the bundle"
        );
        assert_eq!(
            e.resolve(&reference("Device/1"), &["Location", "Practitioner"], p)
                .expect_err("type")
                .diagnostics(),
            "P.actor[0].reference: \"Device/1\" must reference a Location or Practitioner"
        );
        assert!(
            e.resolve(&reference("http://x/Location/17"), &["Location"], p)
                .expect_err("absolute")
                .diagnostics()
                .starts_with(
                    "P.actor[0].reference: \"http://x/Location/17\" is not a relative reference"
                )
        );
        assert_eq!(e.resolve(&Reference::default(), &["Location"], p), Ok(None));
        assert_eq!(
            e.resolve_required(&Reference::default(), &["Location"], p)
                .expect_err("required")
                .diagnostics(),
            "P.actor[0].reference: is required (a Location)"
        );
    }

    #[test]
    fn unsupported_types_and_missing_ids_are_refused() {
        let device: Resource = stu3::Device::default().into();
        let b = bundle(vec![location("1"), device]);
        assert_eq!(
            Entries::index(&b).expect_err("device").diagnostics(),
            "Bundle.entry[1].resource(Device): a practice bundle holds only Organization, Location, Practitioner, Patient, Schedule, Slot, Appointment, Binary; Device is not imported"
        );
        let b = bundle(vec![stu3::Location::default().into()]);
        assert_eq!(
            Entries::index(&b).expect_err("no id").diagnostics(),
            "Bundle.entry[0].resource(Location).id: is required: records are upserted by id"
        );
        let mut b = bundle(vec![]);
        b.entry.push(stu3::BundleEntry::default());
        assert_eq!(
            Entries::index(&b).expect_err("no resource").diagnostics(),
            "Bundle.entry[0]: has no resource"
        );
    }

    #[test]
    fn ours_on_an_entry_is_misplaced() {
        let mut b = bundle(vec![location("17")]);
        b.entry[0].extension = vec![crate::fhir::datatypes::Extension {
            url: crate::import::extension::BOOKABLE.to_owned(),
            value: Some(crate::fhir::datatypes::ExtensionValue::Boolean(true)),
            ..Default::default()
        }];
        assert_eq!(
            Entries::index(&b).expect_err("misplaced").diagnostics(),
            "Bundle.entry[0].extension[0]: extensions of ours go on the resource, not on the Bundle entry"
        );
    }

    #[test]
    fn duplicate_ids_per_type_are_refused_but_types_are_separate_namespaces() {
        let patient: Resource = stu3::Patient {
            id: Id::new("17").ok(),
            ..Default::default()
        }
        .into();
        let b = bundle(vec![location("17"), patient]);
        assert!(Entries::index(&b).is_ok());
        let b = bundle(vec![location("17"), location("18"), location("17")]);
        assert_eq!(
            Entries::index(&b).expect_err("dup").diagnostics(),
            "Bundle.entry[2].resource(Location/17).id: Location/17 is also Bundle.entry[0]; ids must be unique per type"
        );
    }
}
