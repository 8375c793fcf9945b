//! A record whose every text field is filled from a supplier of (hostile)
//! strings, and a check of all ten views against what each cell must read
//! back as. Used by the property test and the XSS-corpus test.

use gpconnect_render::record::{
    AdministrativeItem, Allergy, AllergyStatus, ClinicalItem, ClinicalRecord, Discontinuation,
    EmergencyCode, Encounter, Exclusion, Immunisation, Measurement, Medication, MedicationIssue,
    MedicationKind, Observation, Prescriber, Problem, ProblemStatus, ReferenceRange, Referral,
    Significance,
};
use gpconnect_render::{
    BannerPlace, ContentBanner, RenderOptions, RenderRequest, Section, Table, render,
    render_unguarded,
};
use jiff::ToSpan;
use jiff::civil::{Date, date};

use super::{Element, check, norm};

pub const TODAY: Date = date(2025, 6, 10);

/// Every table, for content banners.
pub const TABLES: [Table; 17] = [
    Table::EmergencyCodes,
    Table::Encounters,
    Table::ClinicalItems,
    Table::ActiveProblems,
    Table::MajorInactiveProblems,
    Table::OtherInactiveProblems,
    Table::CurrentAllergies,
    Table::HistoricalAllergies,
    Table::AcuteMedication,
    Table::CurrentRepeatMedication,
    Table::DiscontinuedRepeatMedication,
    Table::AllMedication,
    Table::AllMedicationIssues,
    Table::Referrals,
    Table::Observations,
    Table::Immunisations,
    Table::AdministrativeItems,
];

pub struct Fixture {
    pub record: ClinicalRecord,
    pub options: RenderOptions,
}

/// Builds a record with `n` items of each kind (4·n medications: acute,
/// current repeat, discontinued repeat, repeat dispensing prescribed
/// elsewhere) and `n` content banners for every section and table. Every
/// text field is `s(field name)`; the names let a caller rotate inputs
/// per field. No item is excluded and every date is distinct per table.
pub fn build(n: usize, s: &mut dyn FnMut(&'static str) -> String) -> Fixture {
    let base = date(2015, 1, 1);
    let day = |j: usize| base.saturating_add((j as i64).days());
    let mut r = ClinicalRecord::default();
    for j in 0..n {
        r.encounters.push(Encounter {
            date: day(j),
            title: s("encounter.title"),
            details: s("encounter.details"),
            exclusion: Exclusion::None,
        });
        r.clinical_items.push(ClinicalItem {
            date: day(j),
            entry: s("clinical.entry"),
            details: s("clinical.details"),
            exclusion: Exclusion::None,
        });
        r.administrative_items.push(AdministrativeItem {
            date: day(j),
            entry: s("admin.entry"),
            details: s("admin.details"),
            exclusion: Exclusion::None,
        });
        for (k, (status, significance)) in [
            (ProblemStatus::Active, Some(Significance::Major)),
            (ProblemStatus::Inactive, Some(Significance::Major)),
            (
                ProblemStatus::Inactive,
                [Some(Significance::Minor), None][j % 2],
            ),
        ]
        .into_iter()
        .enumerate()
        {
            r.problems.push(Problem {
                status,
                start: day(3 * j + k),
                end: (status == ProblemStatus::Inactive).then(|| day(3 * j + k + 1000)),
                entry: s("problem.entry"),
                significance,
                details: s("problem.details"),
                exclusion: Exclusion::None,
            });
        }
        for (k, status) in [AllergyStatus::Current, AllergyStatus::Historical]
            .into_iter()
            .enumerate()
        {
            r.allergies.push(Allergy {
                status,
                start: day(2 * j + k),
                end: (status == AllergyStatus::Historical).then(|| day(2 * j + k + 1000)),
                details: s("allergy.details"),
                exclusion: Exclusion::None,
            });
        }
        r.referrals.push(Referral {
            date: day(j),
            from: s("referral.from"),
            to: s("referral.to"),
            priority: s("referral.priority"),
            details: s("referral.details"),
            exclusion: Exclusion::None,
        });
        r.observations.push(Observation {
            date: day(j),
            entry: s("observation.entry"),
            value: Some(Measurement {
                value: s("observation.value"),
                unit: Some(s("observation.unit")),
            }),
            range: Some(ReferenceRange {
                low: Some(s("range.low")),
                high: Some(s("range.high")),
                unit: Some(s("range.unit")),
                text: Some(s("range.text")),
            }),
            details: s("observation.details"),
            exclusion: Exclusion::None,
        });
        r.immunisations.push(Immunisation {
            date: day(j),
            vaccination: s("immunisation.vaccination"),
            part: Some(j as u32),
            contents: s("immunisation.contents"),
            details: s("immunisation.details"),
            exclusion: Exclusion::None,
        });
        r.emergency_codes.push(EmergencyCode {
            date: day(j),
            entry: s("emergency.entry"),
            details: s("emergency.details"),
            location: s("emergency.location"),
            group: Some(format!("{j}:{}", s("emergency.group"))),
            exclusion: Exclusion::None,
        });
        for k in 0..4 {
            let start = TODAY.saturating_sub(((4 * j + k + 1) as i64).days());
            let kind = [
                MedicationKind::Acute,
                MedicationKind::Repeat,
                MedicationKind::Repeat,
                MedicationKind::RepeatDispense,
            ][k];
            let discontinuation = match k {
                0 if j % 2 == 0 => Some(Discontinuation {
                    date: start.saturating_add(1.day()),
                    reason: s("discontinuation.reason"),
                }),
                2 => Some(Discontinuation {
                    date: start.saturating_add(1.day()),
                    reason: s("discontinuation.reason"),
                }),
                _ => None,
            };
            r.medications.push(Medication {
                kind,
                prescriber: if k == 3 {
                    Prescriber::Elsewhere(Some(s("medication.agency")))
                } else {
                    Prescriber::Practice
                },
                post_dated: false,
                start,
                item: s("medication.item"),
                dosage: s("medication.dosage"),
                quantity: s("medication.quantity"),
                scheduled_end: (k == 0).then(|| start.saturating_add(7.days())),
                days_duration: Some(7),
                review_date: (k != 0).then(|| TODAY.saturating_add(30.days())),
                max_issues: (k != 0).then_some(6),
                controlled_drug: j % 2 == 1,
                discontinuation,
                authorisation_end: None,
                last_authorised: (k == 3).then_some(start),
                reason: Some(s("medication.reason")),
                linked_problems: vec![
                    s("medication.linked_problem"),
                    s("medication.linked_problem"),
                ],
                additional_information: Some(s("medication.additional_information")),
                issues: if k == 3 {
                    Vec::new()
                } else {
                    vec![MedicationIssue { date: start }]
                },
                exclusion: Exclusion::None,
            });
        }
    }
    let mut options = RenderOptions {
        emergency_codes_banner: Some(s("options.emergency_codes_banner")),
        ..RenderOptions::default()
    };
    for _ in 0..n {
        for section in Section::ALL {
            options.content_banners.push(ContentBanner {
                place: BannerPlace::Section(section),
                text: s("banner.section"),
            });
        }
        for table in TABLES {
            options.content_banners.push(ContentBanner {
                place: BannerPlace::Table(table),
                text: s("banner.table"),
            });
        }
    }
    Fixture { record: r, options }
}

fn date_text(d: Date) -> String {
    gpconnect_render::xhtml::format_date(d)
}

fn opt_date(d: Option<Date>) -> String {
    d.map(date_text).unwrap_or_default()
}

fn med_type(m: &Medication) -> String {
    let base = match m.kind {
        MedicationKind::Acute => "Acute",
        MedicationKind::Repeat => "Repeat",
        MedicationKind::RepeatDispense => "Repeat Dispensing",
    };
    match &m.prescriber {
        Prescriber::Practice => base.to_owned(),
        Prescriber::Elsewhere(a) => match a.as_deref().filter(|a| !a.is_empty()) {
            Some(a) => format!("{base} \u{2013} {}", norm(a)),
            None => format!("{base} \u{2013} Unknown Prescriber"),
        },
    }
}

fn additional(m: &Medication, cancelled: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    if m.controlled_drug {
        parts.push("CONTROLLED DRUG".into());
    }
    if cancelled && m.kind == MedicationKind::Acute {
        if let Some(d) = &m.discontinuation {
            parts.push(discontinuation("CANCELLED: ", d));
        }
    }
    if let Some(r) = m.reason.as_deref().filter(|r| !r.is_empty()) {
        parts.push(norm(r));
    }
    for p in m.linked_problems.iter().filter(|p| !p.is_empty()) {
        parts.push(format!("Linked Problem : {}", norm(p)));
    }
    if m.kind == MedicationKind::RepeatDispense {
        if let Some(d) = m.last_authorised {
            parts.push(format!("Last Authorised : {}", date_text(d)));
        }
        if let Some(n) = m.max_issues {
            parts.push(format!("Issues Authorised : {n}"));
        }
    }
    if let Some(i) = m
        .additional_information
        .as_deref()
        .filter(|i| !i.is_empty())
    {
        parts.push(norm(i));
    }
    parts.join("\n")
}

fn discontinuation(label: &str, d: &Discontinuation) -> String {
    if d.reason.is_empty() {
        format!("{label}{}", date_text(d.date))
    } else {
        format!("{label}{} {}", date_text(d.date), norm(&d.reason))
    }
}

fn issues(m: &Medication) -> &[MedicationIssue] {
    if m.kind == MedicationKind::RepeatDispense || matches!(m.prescriber, Prescriber::Elsewhere(_))
    {
        &[]
    } else {
        &m.issues
    }
}

fn count(m: &Medication) -> String {
    match issues(m).len() {
        0 => String::new(),
        n => n.to_string(),
    }
}

/// The rows a table must hold for this fixture (no period, nothing
/// excluded), in no particular order.
pub fn expected_rows(fx: &Fixture, table: Table, section: Section) -> Vec<Vec<String>> {
    let r = &fx.record;
    match table {
        Table::EmergencyCodes => r
            .emergency_codes
            .iter()
            .map(|c| {
                vec![
                    date_text(c.date),
                    norm(&c.entry),
                    norm(&c.details),
                    norm(&c.location),
                ]
            })
            .collect(),
        Table::Encounters => {
            let mut all: Vec<_> = r.encounters.iter().collect();
            all.sort_by_key(|e| std::cmp::Reverse(e.date));
            if section == Section::Summary {
                all.truncate(3);
            }
            all.iter()
                .map(|e| vec![date_text(e.date), norm(&e.title), norm(&e.details)])
                .collect()
        }
        Table::ClinicalItems => r
            .clinical_items
            .iter()
            .map(|e| vec![date_text(e.date), norm(&e.entry), norm(&e.details)])
            .collect(),
        Table::AdministrativeItems => r
            .administrative_items
            .iter()
            .map(|e| vec![date_text(e.date), norm(&e.entry), norm(&e.details)])
            .collect(),
        Table::ActiveProblems | Table::MajorInactiveProblems | Table::OtherInactiveProblems => r
            .problems
            .iter()
            .filter(|p| match table {
                Table::ActiveProblems => p.status == ProblemStatus::Active,
                Table::MajorInactiveProblems => {
                    p.status == ProblemStatus::Inactive
                        && p.significance == Some(Significance::Major)
                }
                _ => {
                    p.status == ProblemStatus::Inactive
                        && p.significance != Some(Significance::Major)
                }
            })
            .map(|p| {
                let mut row = vec![date_text(p.start)];
                if table != Table::ActiveProblems {
                    row.push(opt_date(p.end));
                }
                row.push(norm(&p.entry));
                row.push(p.significance.map(|s| s.label()).unwrap_or("").to_owned());
                row.push(norm(&p.details));
                row
            })
            .collect(),
        Table::CurrentAllergies | Table::HistoricalAllergies => r
            .allergies
            .iter()
            .filter(|a| (a.status == AllergyStatus::Current) == (table == Table::CurrentAllergies))
            .map(|a| {
                let mut row = vec![date_text(a.start)];
                if table == Table::HistoricalAllergies {
                    row.push(opt_date(a.end));
                }
                row.push(norm(&a.details));
                row
            })
            .collect(),
        Table::AcuteMedication => r
            .medications
            .iter()
            .filter(|m| m.kind == MedicationKind::Acute)
            .map(|m| {
                vec![
                    med_type(m),
                    date_text(m.start),
                    norm(&m.item),
                    norm(&m.dosage),
                    norm(&m.quantity),
                    opt_date(m.scheduled_end),
                    m.days_duration.map(|d| d.to_string()).unwrap_or_default(),
                    additional(m, true),
                ]
            })
            .collect(),
        Table::CurrentRepeatMedication => r
            .medications
            .iter()
            .filter(|m| m.kind != MedicationKind::Acute && m.discontinuation.is_none())
            .map(|m| {
                vec![
                    med_type(m),
                    date_text(m.start),
                    norm(&m.item),
                    norm(&m.dosage),
                    norm(&m.quantity),
                    opt_date(issues(m).iter().map(|i| i.date).max()),
                    count(m),
                    m.max_issues.map(|d| d.to_string()).unwrap_or_default(),
                    opt_date(m.review_date),
                    additional(m, false),
                ]
            })
            .collect(),
        Table::DiscontinuedRepeatMedication => r
            .medications
            .iter()
            .filter(|m| m.kind != MedicationKind::Acute && m.discontinuation.is_some())
            .map(|m| {
                let d = m.discontinuation.as_ref();
                vec![
                    med_type(m),
                    opt_date(issues(m).iter().map(|i| i.date).max()),
                    norm(&m.item),
                    norm(&m.dosage),
                    norm(&m.quantity),
                    opt_date(d.map(|d| d.date)),
                    d.map(|d| norm(&d.reason)).unwrap_or_default(),
                    additional(m, false),
                ]
            })
            .collect(),
        Table::AllMedication => r
            .medications
            .iter()
            .map(|m| {
                let label = if m.kind == MedicationKind::Acute {
                    "CANCELLED: "
                } else {
                    "DISCONTINUED: "
                };
                vec![
                    med_type(m),
                    date_text(issues(m).iter().map(|i| i.date).min().unwrap_or(m.start)),
                    norm(&m.item),
                    norm(&m.dosage),
                    norm(&m.quantity),
                    opt_date(issues(m).iter().map(|i| i.date).max()),
                    count(m),
                    m.discontinuation
                        .as_ref()
                        .map(|d| discontinuation(label, d))
                        .unwrap_or_default(),
                    additional(m, false),
                ]
            })
            .collect(),
        Table::AllMedicationIssues => r
            .medications
            .iter()
            .flat_map(|m| issues(m).iter().map(move |i| (m, i)))
            .map(|(m, i)| {
                vec![
                    med_type(m),
                    date_text(i.date),
                    norm(&m.item),
                    norm(&m.dosage),
                    norm(&m.quantity),
                    m.days_duration.map(|d| d.to_string()).unwrap_or_default(),
                    additional(m, false),
                ]
            })
            .collect(),
        Table::Referrals => r
            .referrals
            .iter()
            .map(|e| {
                vec![
                    date_text(e.date),
                    norm(&e.from),
                    norm(&e.to),
                    norm(&e.priority),
                    norm(&e.details),
                ]
            })
            .collect(),
        Table::Observations => r
            .observations
            .iter()
            .map(|o| {
                let unit = o
                    .value
                    .as_ref()
                    .and_then(|v| v.unit.as_deref())
                    .filter(|u| !u.is_empty());
                let value = o.value.as_ref().map_or(String::new(), |v| match unit {
                    Some(u) => format!("{} {}", norm(&v.value), norm(u)),
                    None => norm(&v.value),
                });
                let mut range = Vec::new();
                if let Some(rg) = &o.range {
                    let low = rg.low.as_deref().filter(|s| !s.is_empty());
                    let high = rg.high.as_deref().filter(|s| !s.is_empty());
                    match (low, high) {
                        (Some(l), Some(h)) => range.push(format!("{} - {}", norm(l), norm(h))),
                        (Some(l), None) => range.push(format!("\u{2265} {}", norm(l))),
                        (None, Some(h)) => range.push(format!("\u{2264} {}", norm(h))),
                        (None, None) => {}
                    }
                    if let Some(u) = rg.unit.as_deref().filter(|u| !u.is_empty()) {
                        if (low.is_some() || high.is_some()) && Some(u) != unit {
                            range.push(norm(u));
                        }
                    }
                    if let Some(t) = rg.text.as_deref().filter(|t| !t.is_empty()) {
                        range.push(norm(t));
                    }
                }
                vec![
                    date_text(o.date),
                    norm(&o.entry),
                    value,
                    range.join(" "),
                    norm(&o.details),
                ]
            })
            .collect(),
        Table::Immunisations => r
            .immunisations
            .iter()
            .map(|i| {
                vec![
                    date_text(i.date),
                    norm(&i.vaccination),
                    i.part.map(|p| p.to_string()).unwrap_or_default(),
                    norm(&i.contents),
                    norm(&i.details),
                ]
            })
            .collect(),
    }
}

/// The tables of a view, in order (§5.1 item 13).
pub fn view_tables(section: Section) -> Vec<Table> {
    gpconnect_render::views::tables(section, true)
}

/// The content-banner texts a view must show, in document order.
pub fn expected_content_banners(fx: &Fixture, section: Section) -> Vec<String> {
    let o = &fx.options;
    let mut out: Vec<String> = o
        .content_banners
        .iter()
        .filter(|b| b.place == BannerPlace::Section(section) && !b.text.is_empty())
        .map(|b| norm(&b.text))
        .collect();
    for table in view_tables(section) {
        match table {
            Table::EmergencyCodes => {
                if let Some(t) = o
                    .emergency_codes_banner
                    .as_deref()
                    .filter(|t| !t.is_empty())
                {
                    out.push(norm(t));
                }
            }
            Table::DiscontinuedRepeatMedication => {
                out.push("All repeat medication ended by a clinician action".into());
            }
            _ => {}
        }
        out.extend(
            o.content_banners
                .iter()
                .filter(|b| b.place == BannerPlace::Table(table) && !b.text.is_empty())
                .map(|b| norm(&b.text)),
        );
    }
    out
}

/// Renders every view of the fixture through [`render`] and checks it
/// ([`verify_with`]).
pub fn verify(fx: &Fixture) {
    verify_with(fx, &Section::ALL, true);
}

/// The fixture cut down to what `section` shows (its own items and
/// banners; Summary keeps only the Emergency Codes, whose text no other
/// view shows), so a large corpus can pass through each field once
/// without rendering every item in every view.
pub fn for_section(fx: &Fixture, section: Section) -> Fixture {
    let r = &fx.record;
    let mut record = ClinicalRecord::default();
    match section {
        Section::Summary => record.emergency_codes = r.emergency_codes.clone(),
        Section::Encounters => record.encounters = r.encounters.clone(),
        Section::ClinicalItems => record.clinical_items = r.clinical_items.clone(),
        Section::Problems => record.problems = r.problems.clone(),
        Section::Allergies => record.allergies = r.allergies.clone(),
        Section::Medications => record.medications = r.medications.clone(),
        Section::Referrals => record.referrals = r.referrals.clone(),
        Section::Observations => record.observations = r.observations.clone(),
        Section::Immunisations => record.immunisations = r.immunisations.clone(),
        Section::AdministrativeItems => {
            record.administrative_items = r.administrative_items.clone()
        }
    }
    let tables = view_tables(section);
    let mut options = fx.options.clone();
    options.content_banners.retain(|b| match b.place {
        BannerPlace::Section(s) => s == section,
        BannerPlace::Table(t) => tables.contains(&t),
    });
    Fixture { record, options }
}

/// Renders the given views (through [`render`] if `guarded`, else
/// [`render_unguarded`], and then also checks the guard is an identity)
/// and checks: the structural checker passes; the tables with rows are
/// there in order, the others are placeholder 1; every table's rows read
/// back exactly as the fixture's fields (after [`norm`]); group rows
/// repeat the item of the rows under them; content banners read back in
/// order.
pub fn verify_with(fx: &Fixture, sections: &[Section], guarded: bool) {
    for &section in sections {
        let request = RenderRequest {
            section,
            period: None,
            today: TODAY,
            transfer_since: None,
            options: &fx.options,
        };
        let html = render_unguarded(&fx.record, &request);
        if guarded {
            assert_eq!(
                html,
                render(&fx.record, &request),
                "the guard changed {section:?}"
            );
        }
        let root = check(&html);
        let tables = root.tables();
        let with_rows: Vec<(Table, Vec<Vec<String>>)> = view_tables(section)
            .into_iter()
            .map(|t| (t, expected_rows(fx, t, section)))
            .filter(|(_, rows)| !rows.is_empty())
            .collect();
        assert_eq!(tables.len(), with_rows.len(), "{section:?} tables");
        for (el, (table, expected)) in tables.iter().zip(with_rows) {
            assert_eq!(el.attr("id"), Some(table.id()));
            let mut actual = el.row_texts();
            let mut expected = expected;
            actual.sort();
            expected.sort();
            assert_eq!(actual, expected, "{section:?} {table:?}");
            check_group_rows(el);
        }
        let banners: Vec<String> = root
            .find_all("div")
            .into_iter()
            .filter(|d| d.attr("class") == Some("content-banner"))
            .map(Element::text)
            .collect();
        assert_eq!(
            banners,
            expected_content_banners(fx, section),
            "{section:?} banners"
        );
    }
}

/// A medication group row is alone in its row, spans the table, and its
/// text equals the Medication Item (3rd cell) of every row under it
/// (accessrecord §3 MED pitfalls).
pub fn check_group_rows(table: &Element) {
    let mut current: Option<String> = None;
    for row in table.rows() {
        if row.len() == 1 && row[0].attr("colspan").is_some() {
            assert_eq!(row[0].attr("class"), Some("med-item-column"));
            let strong = row[0].find_all("strong");
            assert_eq!(strong.len(), 1);
            assert_eq!(strong[0].text(), row[0].text());
            current = Some(row[0].text());
        } else if let Some(item) = &current {
            assert_eq!(&row[2].text(), item, "row under the wrong group");
        }
    }
}
