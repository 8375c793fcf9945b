//! F7 find an organisation and F8 read an organisation (digest §1.7, R63,
//! R64). Population is [`population::organization`]:
//! never `contact`, `endpoint`.

use crate::error::{Echo, Error, SpineCode};
use crate::operation::{Answer, Context};
use crate::population;
use crate::stu3::{self, profiles::identifier_system};

use super::{identifier_param, readable_id, require_id, searchset};

/// F7 find an organisation:
/// `GET /Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|{ods}`.
///
/// The parameter follows R64 ([`identifier_param`]). Every organisation of
/// the practice with the ODS code is returned; none is a 200 with an empty
/// Bundle (R63). ODS codes compare exactly (identifiers are
/// case-sensitive, §1).
///
/// # Errors
/// R64's 400/422 codes; 500 when the store fails or a match has an id that
/// is not a FHIR id (R86).
pub fn find_organization(
    ctx: &Context<'_>,
    query: &[(&str, &str)],
) -> Result<Answer<stu3::Bundle>, Error> {
    let ods_code = identifier_param(query, identifier_system::ODS_ORGANIZATION_CODE)?;
    let mut found = Vec::new();
    for record in ctx.store.organizations_by_ods_code(ctx.ods(), ods_code)? {
        let o = population::organization(&record);
        require_id("Organization", o.id.as_ref(), &record.id)?;
        found.push(stu3::Resource::from(o));
    }
    Ok(Answer::ok(searchset(found)))
}

/// F8 read an organisation: `GET /Organization/{id}`, with the ETag.
///
/// # Errors
/// 404 ORGANISATION_NOT_FOUND for an unknown id, or one that cannot be a
/// FHIR id (R80); 500 when the store fails.
pub fn read_organization(ctx: &Context<'_>, id: &str) -> Result<Answer<stu3::Organization>, Error> {
    let record = if readable_id(id) {
        ctx.store.organization(ctx.ods(), id)?
    } else {
        None
    };
    let Some(record) = record else {
        return Err(Error::new(
            SpineCode::OrganisationNotFound,
            format!("no organisation with id {}", Echo(id)),
        ));
    };
    Ok(Answer::versioned(
        population::organization(&record),
        record.version,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::primitive::Id;
    use crate::foundations::test_support::{ctx, practice};
    use crate::store::PracticeStore;
    use crate::stu3::profiles::profile;
    use crate::testkit::ODS;

    const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";

    #[test]
    fn f7_finds_the_practice_by_ods_code() {
        let (store, pr) = practice();
        let token = format!("{ODS_SYSTEM}|A00001");
        let a = find_organization(&ctx(&store, &pr), &[("identifier", &token)]).expect("200");
        assert_eq!(a.body.entry.len(), 1);
        let Some(stu3::Resource::Organization(o)) = &a.body.entry[0].resource else {
            panic!("an Organization");
        };
        assert_eq!(o.id.as_ref().map(Id::as_str), Some("23"));
        let m = o.meta.as_ref().expect("meta");
        assert_eq!(m.profile, vec![profile::ORGANIZATION.to_owned()]);
        assert!(m.version_id.is_some());
        assert!(o.contact.is_empty() && o.endpoint.is_empty());
        assert!(a.body.entry[0].full_url.is_none());
    }

    #[test]
    fn r63_unknown_ods_code_is_an_empty_bundle() {
        let (store, pr) = practice();
        for code in ["unknownORG", "a00001"] {
            let token = format!("{ODS_SYSTEM}|{code}");
            let a = find_organization(&ctx(&store, &pr), &[("identifier", &token)]).expect("200");
            assert!(a.body.entry.is_empty(), "{code}");
        }
    }

    /// A query and the status and code it must give.
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, SpineCode);

    #[test]
    fn r64_organization_parameter_errors() {
        let (store, pr) = practice();
        let c = ctx(&store, &pr);
        let good = (
            "identifier",
            "https://fhir.nhs.uk/Id/ods-organization-code|A00001",
        );
        let cases: [Case<'_>; 4] = [
            (&[("identifiers", good.1)], 400, SpineCode::BadRequest),
            (
                &[("identifier", "badSystem|A00001"), good],
                400,
                SpineCode::BadRequest,
            ),
            (
                &[("identifier", "badSystem|A00001")],
                400,
                SpineCode::InvalidIdentifierSystem,
            ),
            (
                &[("identifier", "A00001")],
                422,
                SpineCode::InvalidParameter,
            ),
        ];
        for (q, status, code) in cases {
            let e = find_organization(&c, q).expect_err("error");
            assert_eq!((e.status(), e.code()), (status, code), "{q:?}");
        }
        assert!(find_organization(&c, &[good, ("_count", "1")]).is_ok());
    }

    #[test]
    fn f8_reads_an_organisation_with_its_version() {
        let (store, pr) = practice();
        let a = read_organization(&ctx(&store, &pr), "23").expect("read");
        let version = store
            .organization(ODS, "23")
            .expect("r")
            .expect("o")
            .version;
        assert_eq!(a.version, Some(version));
        assert_eq!(a.body.name.as_deref(), Some("The Trevelyan Practice"));
    }

    #[test]
    fn f8_unknown_organisation_is_404_organisation_not_found() {
        let (store, pr) = practice();
        for id in ["24", "../23"] {
            let e = read_organization(&ctx(&store, &pr), id).expect_err(id);
            assert_eq!(
                (e.status(), e.code()),
                (404, SpineCode::OrganisationNotFound)
            );
            assert_eq!(
                e.code().code(crate::SpecEdition::default()),
                "ORGANISATION_NOT_FOUND"
            );
        }
    }
}
