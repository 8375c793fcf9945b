//! F9 read a location (digest §1.8). Location has no find in 1.2.9, so the
//! R64 parameter rules do not apply. Population is
//! [`population::location`]: never
//! `endpoint`, and `managingOrganization` is the practice's Organization
//! when the host stored none (branch-surgery model: one Location per
//! surgery, each managed by the practice Organization).

use crate::error::{Echo, Error, SpineCode};
use crate::operation::{Answer, Context};
use crate::population;
use crate::stu3;

use super::readable_id;

/// F9 read a location: `GET /Location/{id}`, with the ETag.
///
/// # Errors
/// 404 NO_RECORD_FOUND for an unknown id, or one that cannot be a FHIR id
/// (R80); 500 when the store fails.
pub fn read_location(ctx: &Context<'_>, id: &str) -> Result<Answer<stu3::Location>, Error> {
    let record = if readable_id(id) {
        ctx.store.location(ctx.ods(), id)?
    } else {
        None
    };
    let Some(record) = record else {
        return Err(Error::new(
            SpineCode::NoRecordFound,
            format!("no location with id {}", Echo(id)),
        ));
    };
    Ok(Answer::versioned(
        population::location(&record, &ctx.practice.organization_id),
        record.version,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::primitive::Id;
    use crate::foundations::test_support::{ctx, practice};
    use crate::store::{LocationRecord, PracticeImport, PracticeStore};
    use crate::stu3::profiles::profile;
    use crate::testkit::ODS;

    #[test]
    fn f9_reads_a_branch_surgery_managed_by_the_practice() {
        let (store, pr) = practice();
        let a = read_location(&ctx(&store, &pr), "18").expect("read");
        let version = store.location(ODS, "18").expect("r").expect("l").version;
        assert_eq!(a.status, 200);
        assert_eq!(a.version, Some(version));
        let l = a.body;
        assert_eq!(l.id.as_ref().map(Id::as_str), Some("18"));
        let m = l.meta.as_ref().expect("meta");
        assert_eq!(m.profile, vec![profile::LOCATION.to_owned()]);
        assert_eq!(
            m.version_id.as_ref().map(Id::as_str),
            Some(version.to_string().as_str())
        );
        assert_eq!(
            l.managing_organization.and_then(|r| r.reference).as_deref(),
            Some("Organization/23")
        );
        assert!(l.endpoint.is_empty());
    }

    #[test]
    fn f9_endpoint_is_never_populated() {
        let (store, pr) = practice();
        store
            .import(
                ODS,
                PracticeImport {
                    locations: vec![LocationRecord {
                        id: "40".into(),
                        version: 0,
                        resource: stu3::Location {
                            endpoint: vec![crate::population::reference("Endpoint", "1")],
                            ..stu3::Location::default()
                        },
                    }],
                    ..PracticeImport::default()
                },
            )
            .expect("import");
        let l = read_location(&ctx(&store, &pr), "40").expect("read").body;
        assert!(l.endpoint.is_empty());
        assert_eq!(
            l.managing_organization.and_then(|r| r.reference).as_deref(),
            Some("Organization/23")
        );
    }

    #[test]
    fn f9_unknown_location_is_404_no_record_found() {
        let (store, pr) = practice();
        for id in ["99", "17/x", ""] {
            let e = read_location(&ctx(&store, &pr), id).expect_err(id);
            assert_eq!(
                (e.status(), e.code()),
                (404, SpineCode::NoRecordFound),
                "{id}"
            );
        }
    }
}
