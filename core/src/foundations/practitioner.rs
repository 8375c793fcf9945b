//! F5 find a practitioner and F6 read a practitioner (digest §1.6, R63,
//! R64). Population is [`population::practitioner`]:
//! never `telecom`, `address`, `birthDate`, `photo`, `qualification`.

use crate::error::{Echo, Error, SpineCode};
use crate::operation::{Answer, Context};
use crate::population;
use crate::stu3::{self, profiles::identifier_system};

use super::{identifier_param, readable_id, require_id, searchset};

/// F5 find a practitioner:
/// `GET /Practitioner?identifier=https://fhir.nhs.uk/Id/sds-user-id|{id}`.
///
/// The parameter follows R64 ([`identifier_param`]). Every practitioner of
/// the practice holding the SDS user id is returned; none is a 200 with an
/// empty Bundle (R63). SDS user ids compare exactly.
///
/// # Errors
/// R64's 400/422 codes; 500 when the store fails or a match has an id that
/// is not a FHIR id (R86).
pub fn find_practitioner(
    ctx: &Context<'_>,
    query: &[(&str, &str)],
) -> Result<Answer<stu3::Bundle>, Error> {
    let sds_user_id = identifier_param(query, identifier_system::SDS_USER_ID)?;
    let mut found = Vec::new();
    for record in ctx
        .store
        .practitioners_by_sds_user_id(ctx.ods(), sds_user_id)?
    {
        let p = population::practitioner(&record);
        require_id("Practitioner", p.id.as_ref(), &record.id)?;
        found.push(stu3::Resource::from(p));
    }
    Ok(Answer::ok(searchset(found)))
}

/// F6 read a practitioner: `GET /Practitioner/{id}`, with the ETag.
///
/// # Errors
/// 404 PRACTITIONER_NOT_FOUND for an unknown id, or one that cannot be a
/// FHIR id (R80; the test suite checks only the 404); 500 when the store
/// fails.
pub fn read_practitioner(ctx: &Context<'_>, id: &str) -> Result<Answer<stu3::Practitioner>, Error> {
    let record = if readable_id(id) {
        ctx.store.practitioner(ctx.ods(), id)?
    } else {
        None
    };
    let Some(record) = record else {
        return Err(Error::new(
            SpineCode::PractitionerNotFound,
            format!("no practitioner with id {}", Echo(id)),
        ));
    };
    Ok(Answer::versioned(
        population::practitioner(&record),
        record.version,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::primitive::Id;
    use crate::foundations::test_support::{ctx, practice};
    use crate::store::{PracticeImport, PracticeStore};
    use crate::stu3::profiles::profile;
    use crate::testkit::ODS;

    const SDS: &str = "https://fhir.nhs.uk/Id/sds-user-id";

    fn practitioners(b: &stu3::Bundle) -> Vec<&stu3::Practitioner> {
        b.entry
            .iter()
            .filter_map(|e| match &e.resource {
                Some(stu3::Resource::Practitioner(p)) => Some(&**p),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn f5_finds_by_sds_user_id() {
        let (store, pr) = practice();
        let token = format!("{SDS}|111122223333");
        let a = find_practitioner(&ctx(&store, &pr), &[("identifier", &token)]).expect("200");
        assert_eq!(a.status, 200);
        let ps = practitioners(&a.body);
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].id.as_ref().map(Id::as_str), Some("2"));
        let m = ps[0].meta.as_ref().expect("meta");
        assert_eq!(m.profile, vec![profile::PRACTITIONER.to_owned()]);
        assert!(m.version_id.is_some());
        assert!(a.body.entry.iter().all(|e| e.full_url.is_none()));
    }

    #[test]
    fn f5_must_not_populate_list_is_enforced() {
        let (store, pr) = practice();
        let mut r = store.practitioner(ODS, "2").expect("read").expect("p");
        r.resource.telecom.push(stu3::ContactPoint::default());
        r.resource.birth_date = stu3::Date::new("1970-01-01").ok();
        store
            .import(
                ODS,
                PracticeImport {
                    practitioners: vec![r],
                    ..PracticeImport::default()
                },
            )
            .expect("import");
        let token = format!("{SDS}|111122223333");
        let a = find_practitioner(&ctx(&store, &pr), &[("identifier", &token)]).expect("200");
        let p = practitioners(&a.body)[0];
        assert!(p.telecom.is_empty() && p.birth_date.is_none());
    }

    #[test]
    fn r63_unknown_sds_user_id_is_an_empty_bundle() {
        let (store, pr) = practice();
        let token = format!("{SDS}|000000000000");
        let a = find_practitioner(&ctx(&store, &pr), &[("identifier", &token)]).expect("200");
        assert!(a.body.entry.is_empty());
    }

    /// A query and the status and code it must give.
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, SpineCode);

    #[test]
    fn r64_practitioner_parameter_errors() {
        let (store, pr) = practice();
        let c = ctx(&store, &pr);
        let cases: [Case<'_>; 6] = [
            (&[], 400, SpineCode::BadRequest),
            (
                &[("Identifier", "https://fhir.nhs.uk/Id/sds-user-id|1")],
                400,
                SpineCode::BadRequest,
            ),
            (
                &[
                    ("identifier", "https://fhir.nhs.uk/Id/sds-user-id|1"),
                    ("identifier", "https://fhir.nhs.uk/Id/sds-user-id|2"),
                ],
                400,
                SpineCode::BadRequest,
            ),
            (
                &[("identifier", "https://fhir.nhs.uk/Id/sds-user-id|")],
                422,
                SpineCode::InvalidParameter,
            ),
            (
                &[("identifier", "|111122223333")],
                422,
                SpineCode::InvalidParameter,
            ),
            (
                &[(
                    "identifier",
                    "https://fhir.nhs.uk/Id/nhs-number|111122223333",
                )],
                400,
                SpineCode::InvalidIdentifierSystem,
            ),
        ];
        for (q, status, code) in cases {
            let e = find_practitioner(&c, q).expect_err("error");
            assert_eq!((e.status(), e.code()), (status, code), "{q:?}");
        }
    }

    #[test]
    fn f6_reads_a_practitioner_with_its_version() {
        let (store, pr) = practice();
        let a = read_practitioner(&ctx(&store, &pr), "3").expect("read");
        let version = store.practitioner(ODS, "3").expect("r").expect("p").version;
        assert_eq!(a.version, Some(version));
        assert_eq!(a.body.id.as_ref().map(Id::as_str), Some("3"));
    }

    #[test]
    fn f6_unknown_practitioner_is_404_practitioner_not_found() {
        let (store, pr) = practice();
        for id in ["99", "a b"] {
            let e = read_practitioner(&ctx(&store, &pr), id).expect_err(id);
            assert_eq!(
                (e.status(), e.code()),
                (404, SpineCode::PractitionerNotFound)
            );
        }
    }
}
