//! How stored reference data becomes the resources GP Connect returns:
//! `id`, `meta.versionId` and `meta.profile` always set (§1.1 "Common
//! response rules"), and the elements each profile says must NOT be
//! populated removed, whatever the host stored.

use crate::fhir::datatypes::{Meta, Reference};
use crate::fhir::primitive::Id;
use crate::store::{LocationRecord, OrganizationRecord, PractitionerRecord};
use crate::stu3::{self, profiles::profile};

/// `meta` with the version and profile (R47, R81).
pub fn meta(profile: &str, version: u64) -> Meta {
    Meta {
        version_id: Id::new(version.to_string()).ok(),
        profile: vec![profile.to_owned()],
        ..Meta::default()
    }
}

/// A local relative reference, `Type/id` (R87).
pub fn reference(kind: &str, id: &str) -> Reference {
    Reference {
        reference: Some(format!("{kind}/{id}")),
        ..Reference::default()
    }
}

/// F5/F6 and the slot-search include: never `telecom`, `address`,
/// `birthDate`, `photo`, `qualification` (§1.6).
pub fn practitioner(record: &PractitionerRecord) -> stu3::Practitioner {
    let mut r = record.resource.clone();
    r.id = Id::new(record.id.clone()).ok();
    r.meta = Some(meta(profile::PRACTITIONER, record.version));
    r.text = None;
    r.telecom.clear();
    r.address.clear();
    r.birth_date = None;
    r.photo.clear();
    r.qualification.clear();
    r
}

/// F7/F8 and the slot-search Organization: never `contact`, `endpoint` (§1.7).
pub fn organization(record: &OrganizationRecord) -> stu3::Organization {
    let mut r = record.resource.clone();
    r.id = Id::new(record.id.clone()).ok();
    r.meta = Some(meta(profile::ORGANIZATION, record.version));
    r.text = None;
    r.contact.clear();
    r.endpoint.clear();
    r
}

/// F9 and the slot-search include: never `endpoint`; `managingOrganization`
/// is the practice (§1.8).
pub fn location(record: &LocationRecord, practice_organization_id: &str) -> stu3::Location {
    let mut r = record.resource.clone();
    r.id = Id::new(record.id.clone()).ok();
    r.meta = Some(meta(profile::LOCATION, record.version));
    r.text = None;
    r.endpoint.clear();
    if r.managing_organization.is_none() {
        r.managing_organization = Some(reference("Organization", practice_organization_id));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::datatypes::{Address, ContactPoint};

    #[test]
    fn practitioner_never_carries_what_f5_forbids() {
        let record = PractitionerRecord {
            id: "15".into(),
            version: 3,
            sds_user_ids: vec!["111122223333".into()],
            resource: stu3::Practitioner {
                telecom: vec![ContactPoint::default()],
                address: vec![Address::default()],
                ..Default::default()
            },
        };
        let p = practitioner(&record);
        assert_eq!(p.id.as_ref().map(Id::as_str), Some("15"));
        let m = p.meta.as_ref().expect("meta");
        assert_eq!(m.version_id.as_ref().map(Id::as_str), Some("3"));
        assert_eq!(m.profile, vec![profile::PRACTITIONER.to_owned()]);
        assert!(p.telecom.is_empty() && p.address.is_empty());
    }

    #[test]
    fn location_points_at_the_practice_when_the_host_left_it_out() {
        let record = LocationRecord {
            id: "17".into(),
            version: 1,
            resource: stu3::Location::default(),
        };
        let l = location(&record, "23");
        assert_eq!(
            l.managing_organization.and_then(|r| r.reference).as_deref(),
            Some("Organization/23")
        );
    }
}
