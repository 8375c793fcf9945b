//! Organizations (and the practice they define), Locations and
//! Practitioners: the practice's directory, stored as the GP Connect
//! resources with their lookup keys lifted out.

use crate::error::{Echo, Error};
use crate::fhir::datatypes::Identifier;
use crate::store::{
    AccessRecordSettings, BookingWindow, LocationRecord, OrganisationMatch, OrganizationRecord,
    PracticeRecord, PracticeSettings, PractitionerRecord, SlotCountLimit,
};
use crate::stu3::{self, profiles::identifier_system};
use gpconnect_render::{BannerPlace, ContentBanner, RenderOptions, Section};

use super::entries::{At, Entries};
use super::extension::{self as ext, Ext, Extensions};
use super::stored;

/// Whether `code` looks like an ODS code: 1–10 ASCII letters and digits.
/// The practice's code becomes the first path segment of its service root,
/// so anything else (spaces, slashes, `%`) must never get that far.
pub(crate) fn is_ods_code(code: &str) -> bool {
    (1..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The practice-level settings an Organization may carry.
const PRACTICE_SETTINGS: [&str; 7] = [
    ext::GP_CONNECT_ENABLED,
    ext::APPOINTMENTS_ENABLED,
    ext::ACCESS_RECORD_ENABLED,
    ext::ACCESS_RECORD_SETTINGS,
    ext::ACCESS_RECORD_CONTENT_BANNER,
    ext::BOOKING_WINDOW,
    ext::SLOT_COUNT_LIMIT,
];

/// A converted Organization, and the practice it defines when its ODS
/// identifier carries the ASID.
#[derive(Debug)]
pub(crate) struct ConvertedOrganization {
    pub record: OrganizationRecord,
    pub practice: Option<PracticeRecord>,
}

/// Convert an Organization. Every Organization needs exactly one ODS code
/// (it is the F7 find key); the one whose ODS identifier carries
/// [`ext::ASID`] is the practice, and only it may carry practice settings.
pub(crate) fn organization(
    at: At<'_>,
    org: &stu3::Organization,
    entries: &Entries<'_>,
) -> Result<ConvertedOrganization, Error> {
    let (ods_index, ods_code) = ods_identifier(at, &org.identifier)?;
    let mut asid = None;
    for (i, identifier) in org.identifier.iter().enumerate() {
        let allowed: &[&str] = if i == ods_index { &[ext::ASID] } else { &[] };
        let exts = Extensions::read(
            &at.path(&format!("identifier[{i}]")),
            &identifier.extension,
            &[],
            allowed,
            &[],
            "an Organization identifier other than the ODS code",
        )?;
        if let Some(e) = exts.single(ext::ASID)? {
            asid = Some(asid_value(e)?);
        }
    }
    let exts = Extensions::read(
        &at.to_string(),
        &org.extension,
        &org.modifier_extension,
        &PRACTICE_SETTINGS,
        &[],
        "Organization",
    )?;
    if let Some(r) = &org.part_of {
        entries.resolve(r, &["Organization"], &at.path("partOf"))?;
    }
    let practice = match asid {
        Some(asid) => Some(PracticeRecord {
            ods_code: ods_code.clone(),
            asid,
            organization_id: at.id.to_owned(),
            settings: practice_settings(&exts)?,
            version: 0,
        }),
        None => {
            if let Some(e) = PRACTICE_SETTINGS
                .iter()
                .find_map(|url| exts.all(url).next())
            {
                return Err(super::invalid(
                    &e.path,
                    format!(
                        "{} is a practice setting; it belongs on the practice Organization, the one whose ODS identifier carries {}",
                        e.ext.url,
                        ext::ASID
                    ),
                ));
            }
            None
        }
    };
    let mut resource = org.clone();
    stored::clear_identity(&mut resource.id, &mut resource.meta);
    ext::strip_ours(&mut resource.extension);
    for identifier in &mut resource.identifier {
        ext::strip_ours(&mut identifier.extension);
    }
    stored::no_stray_extensions(&resource, at)?;
    Ok(ConvertedOrganization {
        record: OrganizationRecord {
            id: at.id.to_owned(),
            version: 0,
            ods_code,
            resource,
        },
        practice,
    })
}

/// The index and value of the one ODS-code identifier.
fn ods_identifier(at: At<'_>, identifiers: &[Identifier]) -> Result<(usize, String), Error> {
    let mut found = identifiers
        .iter()
        .enumerate()
        .filter(|(_, i)| i.system.as_deref() == Some(identifier_system::ODS_ORGANIZATION_CODE));
    let Some((index, identifier)) = found.next() else {
        return Err(at.err(
            "identifier",
            format!(
                "an ODS code identifier (system {}) is required",
                identifier_system::ODS_ORGANIZATION_CODE
            ),
        ));
    };
    if let Some((second, _)) = found.next() {
        return Err(at.err(
            &format!("identifier[{second}]"),
            format!("a second ODS code identifier (the first is identifier[{index}])"),
        ));
    }
    let value = identifier.value.as_deref().unwrap_or_default();
    if !is_ods_code(value) {
        return Err(at.err(
            &format!("identifier[{index}].value"),
            format!(
                "{} is not an ODS code (1-10 letters and digits)",
                Echo(value)
            ),
        ));
    }
    Ok((index, value.to_owned()))
}

/// The ASID: digits only, as Spine assigns them; it is compared with the
/// `Ssp-To` header byte for byte (R82).
fn asid_value(e: &Ext<'_>) -> Result<String, Error> {
    let s = e.string()?;
    if (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(super::invalid(
            &e.path,
            format!("{} is not an ASID (1-32 digits)", Echo(s)),
        ))
    }
}

/// The practice's provider-only settings; every switch defaults to off
/// (R83), the booking window to none, and there are no slot-count limits.
fn practice_settings(exts: &Extensions<'_>) -> Result<PracticeSettings, Error> {
    Ok(PracticeSettings {
        gp_connect_enabled: exts.boolean_or(ext::GP_CONNECT_ENABLED, false)?,
        appointments_enabled: exts.boolean_or(ext::APPOINTMENTS_ENABLED, false)?,
        access_record_enabled: exts.boolean_or(ext::ACCESS_RECORD_ENABLED, false)?,
        booking_window: exts
            .single(ext::BOOKING_WINDOW)?
            .map(booking_window)
            .transpose()?
            .unwrap_or_default(),
        slot_limits: exts
            .all(ext::SLOT_COUNT_LIMIT)
            .map(slot_count_limit)
            .collect::<Result<_, _>>()?,
        access_record: {
            let mut settings = exts
                .single(ext::ACCESS_RECORD_SETTINGS)?
                .map(access_record_settings)
                .transpose()?
                .unwrap_or_default();
            settings.render.content_banners = exts
                .all(ext::ACCESS_RECORD_CONTENT_BANNER)
                .map(content_banner)
                .collect::<Result<_, _>>()?;
            settings
        },
    })
}

/// A non-blank `valueString` sub-extension.
fn banner_text(e: &Ext<'_>, name: &str) -> Result<String, Error> {
    let text = e.string()?;
    if text.trim().is_empty() {
        return Err(super::invalid(
            &e.path,
            format!("{name} must not be blank (leave it out for no banner)"),
        ));
    }
    Ok(text.to_owned())
}

/// An [`ext::ACCESS_RECORD_CONTENT_BANNER`]: where (a section or a table,
/// exactly one) and the text.
fn content_banner(e: &Ext<'_>) -> Result<ContentBanner, Error> {
    let subs = e.complex(&[ext::BANNER_SECTION, ext::BANNER_TABLE, ext::BANNER_TEXT])?;
    let place = match (
        subs.single(ext::BANNER_SECTION)?,
        subs.single(ext::BANNER_TABLE)?,
    ) {
        (Some(s), None) => {
            let code = s.code()?;
            BannerPlace::Section(Section::from_code(code).ok_or_else(|| {
                super::invalid(
                    &s.path,
                    format!(
                        "{} is not a record section ({})",
                        Echo(code),
                        Section::ALL.map(Section::code).join(", ")
                    ),
                )
            })?)
        }
        (None, Some(t)) => {
            let code = t.code()?;
            BannerPlace::Table(
                serde_json::from_value(serde_json::Value::String(code.to_owned())).map_err(
                    |_| {
                        super::invalid(
                            &t.path,
                            format!(
                                "{} is not a table of the views (e.g. currentAllergies, discontinuedRepeatMedication)",
                                Echo(code)
                            ),
                        )
                    },
                )?,
            )
        }
        _ => {
            return Err(super::invalid(
                &e.path,
                format!(
                    "{} needs exactly one of {} or {}",
                    ext::ACCESS_RECORD_CONTENT_BANNER,
                    ext::BANNER_SECTION,
                    ext::BANNER_TABLE
                ),
            ));
        }
    };
    let text = match subs.single(ext::BANNER_TEXT)? {
        Some(t) => banner_text(t, ext::BANNER_TEXT)?,
        None => {
            return Err(super::invalid(
                &e.path,
                format!(
                    "{} needs {}",
                    ext::ACCESS_RECORD_CONTENT_BANNER,
                    ext::BANNER_TEXT
                ),
            ));
        }
    };
    Ok(ContentBanner { place, text })
}

/// An [`ext::ACCESS_RECORD_SETTINGS`]: each part optional, defaulting to
/// [`AccessRecordSettings::default`]'s value.
fn access_record_settings(e: &Ext<'_>) -> Result<AccessRecordSettings, Error> {
    let subs = e.complex(&[
        ext::DECEASED_ACCESS_DAYS,
        ext::EMERGENCY_CODES,
        ext::EMERGENCY_CODES_BANNER,
        ext::SCHEDULED_END_BANNER,
        ext::REVIEW_DATE_BANNER,
    ])?;
    let defaults = AccessRecordSettings::default();
    let banner = subs
        .single(ext::EMERGENCY_CODES_BANNER)?
        .map(|b| banner_text(b, ext::EMERGENCY_CODES_BANNER))
        .transpose()?;
    Ok(AccessRecordSettings {
        deceased_access_days: subs
            .count(ext::DECEASED_ACCESS_DAYS)?
            .unwrap_or(defaults.deceased_access_days),
        render: RenderOptions {
            emergency_codes: subs
                .boolean_or(ext::EMERGENCY_CODES, defaults.render.emergency_codes)?,
            emergency_codes_banner: banner,
            scheduled_end_banner: subs.boolean_or(
                ext::SCHEDULED_END_BANNER,
                defaults.render.scheduled_end_banner,
            )?,
            review_date_banner: subs
                .boolean_or(ext::REVIEW_DATE_BANNER, defaults.render.review_date_banner)?,
            content_banners: defaults.render.content_banners,
        },
    })
}

/// A [`ext::BOOKING_WINDOW`]: either side may be absent (no limit there),
/// but not both, since an empty complex extension is invalid FHIR (ext-1).
pub(crate) fn booking_window(e: &Ext<'_>) -> Result<BookingWindow, Error> {
    let subs = e.complex(&[ext::MAX_DAYS_AHEAD, ext::MIN_NOTICE_MINUTES])?;
    Ok(BookingWindow {
        max_days_ahead: subs.count(ext::MAX_DAYS_AHEAD)?,
        min_notice_minutes: subs.count(ext::MIN_NOTICE_MINUTES)?,
    })
}

/// A [`ext::SLOT_COUNT_LIMIT`]: who it counts (an ODS code or an
/// organisation type, exactly one) and how many slots a day.
fn slot_count_limit(e: &Ext<'_>) -> Result<SlotCountLimit, Error> {
    let subs = e.complex(&[
        ext::LIMIT_ODS_CODE,
        ext::LIMIT_ORGANISATION_TYPE,
        ext::LIMIT_MAX_SLOTS_PER_DAY,
    ])?;
    let ods = subs.single(ext::LIMIT_ODS_CODE)?;
    let org_type = subs.single(ext::LIMIT_ORGANISATION_TYPE)?;
    let applies_to = match (ods, org_type) {
        (Some(o), None) => {
            let code = o.code()?;
            if !is_ods_code(code) {
                return Err(super::invalid(
                    &o.path,
                    format!(
                        "{} is not an ODS code (1-10 letters and digits)",
                        Echo(code)
                    ),
                ));
            }
            OrganisationMatch::OdsCode(code.to_owned())
        }
        (None, Some(t)) => OrganisationMatch::OrganisationType(t.code()?.to_owned()),
        _ => {
            return Err(super::invalid(
                &e.path,
                format!(
                    "{} needs exactly one of {} or {}",
                    ext::SLOT_COUNT_LIMIT,
                    ext::LIMIT_ODS_CODE,
                    ext::LIMIT_ORGANISATION_TYPE
                ),
            ));
        }
    };
    let max_slots_per_day = subs.count(ext::LIMIT_MAX_SLOTS_PER_DAY)?.ok_or_else(|| {
        super::invalid(
            &e.path,
            format!(
                "{} needs {}",
                ext::SLOT_COUNT_LIMIT,
                ext::LIMIT_MAX_SLOTS_PER_DAY
            ),
        )
    })?;
    Ok(SlotCountLimit {
        applies_to,
        max_slots_per_day,
    })
}

/// Convert a Location (a surgery, main or branch; F9).
pub(crate) fn location(
    at: At<'_>,
    location: &stu3::Location,
    entries: &Entries<'_>,
) -> Result<LocationRecord, Error> {
    Extensions::read(
        &at.to_string(),
        &location.extension,
        &location.modifier_extension,
        &[],
        &[],
        "Location",
    )?;
    if let Some(r) = &location.managing_organization {
        entries.resolve(r, &["Organization"], &at.path("managingOrganization"))?;
    }
    if let Some(r) = &location.part_of {
        entries.resolve(r, &["Location"], &at.path("partOf"))?;
    }
    let mut resource = location.clone();
    stored::clear_identity(&mut resource.id, &mut resource.meta);
    stored::no_stray_extensions(&resource, at)?;
    Ok(LocationRecord {
        id: at.id.to_owned(),
        version: 0,
        resource,
    })
}

/// Convert a Practitioner; its SDS user ids are the F5 find keys.
pub(crate) fn practitioner(
    at: At<'_>,
    practitioner: &stu3::Practitioner,
) -> Result<PractitionerRecord, Error> {
    Extensions::read(
        &at.to_string(),
        &practitioner.extension,
        &practitioner.modifier_extension,
        &[],
        &[],
        "Practitioner",
    )?;
    let mut sds_user_ids = Vec::new();
    for (i, identifier) in practitioner.identifier.iter().enumerate() {
        if identifier.system.as_deref() != Some(identifier_system::SDS_USER_ID) {
            continue;
        }
        match identifier.value.as_deref() {
            Some(v) if !v.trim().is_empty() => sds_user_ids.push(v.to_owned()),
            _ => {
                return Err(at.err(
                    &format!("identifier[{i}].value"),
                    "an SDS user id identifier needs a value",
                ));
            }
        }
    }
    let mut resource = practitioner.clone();
    stored::clear_identity(&mut resource.id, &mut resource.meta);
    stored::no_stray_extensions(&resource, at)?;
    Ok(PractitionerRecord {
        id: at.id.to_owned(),
        version: 0,
        sds_user_ids,
        resource,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::datatypes::{Extension, ExtensionValue, Reference};
    use crate::fhir::primitive::{Code, Id};
    use crate::store::BookingWindow;

    const AT: At<'static> = At {
        index: 0,
        kind: "Organization",
        id: "23",
    };

    fn value_ext(url: &str, value: ExtensionValue) -> Extension {
        Extension {
            url: url.to_owned(),
            value: Some(value),
            ..Default::default()
        }
    }

    fn complex(url: &str, subs: Vec<Extension>) -> Extension {
        Extension {
            url: url.to_owned(),
            extension: subs,
            ..Default::default()
        }
    }

    fn org(asid: Option<&str>, settings: Vec<Extension>) -> stu3::Organization {
        stu3::Organization {
            id: Id::new("23").ok(),
            identifier: vec![Identifier {
                extension: asid
                    .map(|a| vec![value_ext(ext::ASID, ExtensionValue::String(a.to_owned()))])
                    .unwrap_or_default(),
                system: Some(identifier_system::ODS_ORGANIZATION_CODE.to_owned()),
                value: Some("A00001".to_owned()),
                ..Default::default()
            }],
            extension: settings,
            name: Some("The Trevelyan Practice".to_owned()),
            ..Default::default()
        }
    }

    fn convert(o: &stu3::Organization) -> Result<ConvertedOrganization, Error> {
        let bundle = stu3::Bundle {
            type_: Code::from_static("collection"),
            ..Default::default()
        };
        let entries = Entries::index(&bundle)?;
        organization(AT, o, &entries)
    }

    #[test]
    fn the_asid_makes_the_practice_with_everything_off_by_default() {
        let c = convert(&org(Some("900000000001"), vec![])).expect("converts");
        let p = c.practice.expect("practice");
        assert_eq!(
            (
                p.ods_code.as_str(),
                p.asid.as_str(),
                p.organization_id.as_str()
            ),
            ("A00001", "900000000001", "23")
        );
        assert_eq!(p.settings, PracticeSettings::default());
        assert_eq!(c.record.ods_code, "A00001");
        assert!(
            c.record.resource.identifier[0].extension.is_empty(),
            "the ASID is not served"
        );
        assert!(c.record.resource.id.is_none());
    }

    #[test]
    fn without_the_asid_an_organization_is_not_the_practice() {
        assert!(
            convert(&org(None, vec![]))
                .expect("converts")
                .practice
                .is_none()
        );
    }

    #[test]
    fn switches_window_and_limits_map_and_are_stripped() {
        let settings = vec![
            value_ext(ext::GP_CONNECT_ENABLED, ExtensionValue::Boolean(true)),
            value_ext(ext::APPOINTMENTS_ENABLED, ExtensionValue::Boolean(true)),
            value_ext(ext::ACCESS_RECORD_ENABLED, ExtensionValue::Boolean(false)),
            complex(
                ext::BOOKING_WINDOW,
                vec![
                    value_ext(ext::MAX_DAYS_AHEAD, ExtensionValue::Integer(28)),
                    value_ext(ext::MIN_NOTICE_MINUTES, ExtensionValue::Integer(60)),
                ],
            ),
            complex(
                ext::SLOT_COUNT_LIMIT,
                vec![
                    value_ext(
                        ext::LIMIT_ORGANISATION_TYPE,
                        ExtensionValue::Code(Code::from_static("urgent-care")),
                    ),
                    value_ext(ext::LIMIT_MAX_SLOTS_PER_DAY, ExtensionValue::Integer(10)),
                ],
            ),
            complex(
                ext::SLOT_COUNT_LIMIT,
                vec![
                    value_ext(
                        ext::LIMIT_ODS_CODE,
                        ExtensionValue::Code(Code::from_static("B82001")),
                    ),
                    value_ext(ext::LIMIT_MAX_SLOTS_PER_DAY, ExtensionValue::Integer(2)),
                ],
            ),
        ];
        let c = convert(&org(Some("900000000001"), settings)).expect("converts");
        let s = c.practice.expect("practice").settings;
        assert!(s.gp_connect_enabled && s.appointments_enabled && !s.access_record_enabled);
        assert_eq!(
            s.booking_window,
            BookingWindow {
                max_days_ahead: Some(28),
                min_notice_minutes: Some(60)
            }
        );
        assert_eq!(
            s.slot_limits,
            vec![
                SlotCountLimit {
                    applies_to: OrganisationMatch::OrganisationType("urgent-care".into()),
                    max_slots_per_day: 10
                },
                SlotCountLimit {
                    applies_to: OrganisationMatch::OdsCode("B82001".into()),
                    max_slots_per_day: 2
                },
            ]
        );
        assert!(c.record.resource.extension.is_empty());
    }

    #[test]
    fn access_record_settings_default_to_28_days_and_the_default_views() {
        let p = convert(&org(Some("1"), vec![]))
            .expect("converts")
            .practice
            .expect("practice");
        assert_eq!(p.settings.access_record.deceased_access_days, 28);
        assert_eq!(p.settings.access_record.render, RenderOptions::default());
        assert!(p.settings.access_record.render.emergency_codes);
    }

    #[test]
    fn access_record_settings_map_part_by_part() {
        let settings = vec![complex(
            ext::ACCESS_RECORD_SETTINGS,
            vec![
                value_ext(ext::DECEASED_ACCESS_DAYS, ExtensionValue::Integer(14)),
                value_ext(ext::EMERGENCY_CODES, ExtensionValue::Boolean(false)),
                value_ext(
                    ext::EMERGENCY_CODES_BANNER,
                    ExtensionValue::String("Codes agreed with the patient".into()),
                ),
                value_ext(ext::REVIEW_DATE_BANNER, ExtensionValue::Boolean(true)),
            ],
        )];
        let c = convert(&org(Some("1"), settings)).expect("converts");
        assert_eq!(
            c.practice.expect("practice").settings.access_record,
            AccessRecordSettings {
                deceased_access_days: 14,
                render: RenderOptions {
                    emergency_codes: false,
                    emergency_codes_banner: Some("Codes agreed with the patient".into()),
                    scheduled_end_banner: false,
                    review_date_banner: true,
                    content_banners: vec![],
                },
            }
        );
        assert!(c.record.resource.extension.is_empty(), "stripped");
    }

    #[test]
    fn content_banners_map_in_order_and_refuse_bad_places() {
        let banner = |place: (&str, &str), text: &str| {
            complex(
                ext::ACCESS_RECORD_CONTENT_BANNER,
                vec![
                    value_ext(
                        place.0,
                        ExtensionValue::Code(Code::new(place.1).expect("code")),
                    ),
                    value_ext(ext::BANNER_TEXT, ExtensionValue::String(text.into())),
                ],
            )
        };
        let settings = vec![
            banner(
                (ext::BANNER_SECTION, "MED"),
                "Medication from the practice only",
            ),
            banner(
                (ext::BANNER_TABLE, "historicalAllergies"),
                "No end dates are recorded",
            ),
        ];
        let p = convert(&org(Some("1"), settings))
            .expect("converts")
            .practice
            .expect("practice");
        assert_eq!(
            p.settings.access_record.render.content_banners,
            vec![
                ContentBanner {
                    place: BannerPlace::Section(Section::Medications),
                    text: "Medication from the practice only".into(),
                },
                ContentBanner {
                    place: BannerPlace::Table(gpconnect_render::Table::HistoricalAllergies),
                    text: "No end dates are recorded".into(),
                },
            ]
        );
        let refused = |e: Extension| {
            convert(&org(Some("1"), vec![e]))
                .expect_err("refused")
                .diagnostics()
                .to_owned()
        };
        assert_eq!(
            refused(banner((ext::BANNER_SECTION, "med"), "x")),
            "Bundle.entry[0].resource(Organization/23).extension[0].extension[0]: \"med\" is not a record section (SUM, ENC, CLI, PRB, ALL, MED, REF, OBS, IMM, ADM)"
        );
        assert!(
            refused(banner((ext::BANNER_TABLE, "allergies"), "x"))
                .ends_with("\"allergies\" is not a table of the views (e.g. currentAllergies, discontinuedRepeatMedication)")
        );
        assert!(
            refused(complex(
                ext::ACCESS_RECORD_CONTENT_BANNER,
                vec![value_ext(
                    ext::BANNER_TEXT,
                    ExtensionValue::String("x".into())
                )]
            ))
            .ends_with("needs exactly one of section or table")
        );
        assert!(
            refused(banner((ext::BANNER_SECTION, "MED"), " "))
                .ends_with("text must not be blank (leave it out for no banner)")
        );
    }

    #[test]
    fn access_record_settings_refuse_bad_parts() {
        let with = |sub: Extension| {
            convert(&org(
                Some("1"),
                vec![complex(ext::ACCESS_RECORD_SETTINGS, vec![sub])],
            ))
            .expect_err("refused")
            .diagnostics()
            .to_owned()
        };
        assert_eq!(
            with(value_ext(
                ext::DECEASED_ACCESS_DAYS,
                ExtensionValue::Integer(-1)
            )),
            "Bundle.entry[0].resource(Organization/23).extension[0].extension[0]: deceasedAccessDays must not be negative, found -1"
        );
        assert_eq!(
            with(value_ext(
                ext::EMERGENCY_CODES_BANNER,
                ExtensionValue::String(" ".into())
            )),
            "Bundle.entry[0].resource(Organization/23).extension[0].extension[0]: emergencyCodesBanner must not be blank (leave it out for no banner)"
        );
        assert!(
            with(value_ext("deceasedDays", ExtensionValue::Integer(1)))
                .contains("\"deceasedDays\" is not a part of urn:gpconnect:fhir:extension:access-record-settings")
        );
    }

    #[test]
    fn a_limit_names_exactly_one_kind_of_organisation_and_a_maximum() {
        let both = complex(
            ext::SLOT_COUNT_LIMIT,
            vec![
                value_ext(
                    ext::LIMIT_ODS_CODE,
                    ExtensionValue::Code(Code::from_static("B82001")),
                ),
                value_ext(
                    ext::LIMIT_ORGANISATION_TYPE,
                    ExtensionValue::Code(Code::from_static("urgent-care")),
                ),
                value_ext(ext::LIMIT_MAX_SLOTS_PER_DAY, ExtensionValue::Integer(2)),
            ],
        );
        assert_eq!(
            convert(&org(Some("1"), vec![both]))
                .expect_err("both")
                .diagnostics(),
            "Bundle.entry[0].resource(Organization/23).extension[0]: urn:gpconnect:fhir:extension:slot-count-limit needs exactly one of odsCode or organisationType"
        );
        let no_max = complex(
            ext::SLOT_COUNT_LIMIT,
            vec![value_ext(
                ext::LIMIT_ODS_CODE,
                ExtensionValue::Code(Code::from_static("B82001")),
            )],
        );
        assert_eq!(
            convert(&org(Some("1"), vec![no_max]))
                .expect_err("no max")
                .diagnostics(),
            "Bundle.entry[0].resource(Organization/23).extension[0]: urn:gpconnect:fhir:extension:slot-count-limit needs maxSlotsPerDay"
        );
    }

    #[test]
    fn practice_settings_on_another_organization_are_refused() {
        let settings = vec![value_ext(
            ext::GP_CONNECT_ENABLED,
            ExtensionValue::Boolean(true),
        )];
        assert!(
            convert(&org(None, settings))
                .expect_err("not the practice")
                .diagnostics()
                .starts_with("Bundle.entry[0].resource(Organization/23).extension[0]: urn:gpconnect:fhir:extension:gp-connect-enabled is a practice setting")
        );
    }

    #[test]
    fn the_asid_is_digits() {
        assert_eq!(
            convert(&org(Some("9000-01"), vec![]))
                .expect_err("asid")
                .diagnostics(),
            "Bundle.entry[0].resource(Organization/23).identifier[0].extension[0]: \"9000-01\" is not an ASID (1-32 digits)"
        );
    }

    #[test]
    fn the_ods_code_is_required_and_well_formed() {
        let mut o = org(Some("1"), vec![]);
        o.identifier[0].value = Some("A0 001".into());
        assert_eq!(
            convert(&o).expect_err("ods").diagnostics(),
            "Bundle.entry[0].resource(Organization/23).identifier[0].value: \"A0 001\" is not an ODS code (1-10 letters and digits)"
        );
        o.identifier.clear();
        assert_eq!(
            convert(&o).expect_err("none").diagnostics(),
            "Bundle.entry[0].resource(Organization/23).identifier: an ODS code identifier (system https://fhir.nhs.uk/Id/ods-organization-code) is required"
        );
    }

    #[test]
    fn part_of_must_be_in_the_bundle() {
        let mut o = org(Some("1"), vec![]);
        o.part_of = Some(Reference {
            reference: Some("Organization/99".into()),
            ..Default::default()
        });
        assert_eq!(
            convert(&o).expect_err("partOf").diagnostics(),
            "Bundle.entry[0].resource(Organization/23).partOf: Organization/99 is not in the bundle"
        );
    }

    #[test]
    fn practitioners_keep_their_sds_user_ids() {
        let p = stu3::Practitioner {
            identifier: vec![Identifier {
                system: Some(identifier_system::SDS_USER_ID.to_owned()),
                value: Some("111122223333".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let at = At {
            index: 1,
            kind: "Practitioner",
            id: "2",
        };
        let r = practitioner(at, &p).expect("converts");
        assert_eq!(r.sds_user_ids, ["111122223333"]);
    }
}
