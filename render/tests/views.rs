//! The rules of accessrecord §2–§3 and the provider suite's HTML checks
//! (§5.1, items numbered as there), each against the parsed output.

mod common;

use common::{Element, check, parse};
use gpconnect_render::record::{
    AdministrativeItem, ClinicalItem, ClinicalRecord, Discontinuation, EmergencyCode, Encounter,
    Exclusion, Measurement, Medication, MedicationIssue, MedicationKind, Observation, Prescriber,
    Problem, ProblemStatus, ReferenceRange, Significance, Unavailability, UnavailableTable,
};
use gpconnect_render::{
    BannerPlace, ContentBanner, DatePeriod, RenderOptions, RenderRequest, Section, Table, render,
    render_unguarded, sample,
};
use jiff::civil::{Date, date};

const TODAY: Date = date(2025, 6, 10);

fn view(record: &ClinicalRecord, section: Section, period: Option<DatePeriod>) -> String {
    view_with(
        record,
        section,
        period,
        &RenderOptions::default(),
        TODAY,
        None,
    )
}

fn view_with(
    record: &ClinicalRecord,
    section: Section,
    period: Option<DatePeriod>,
    options: &RenderOptions,
    today: Date,
    transfer_since: Option<Date>,
) -> String {
    let request = RenderRequest {
        section,
        period,
        today,
        transfer_since,
        options,
    };
    let html = render(record, &request);
    assert_eq!(html, render_unguarded(record, &request), "guard identity");
    html
}

fn period(start: Option<Date>, end: Option<Date>) -> Option<DatePeriod> {
    Some(DatePeriod { start, end })
}

fn rich() -> ClinicalRecord {
    sample::rich_record(TODAY)
}

fn date_banner(parent: &Element) -> Option<String> {
    parent
        .banners()
        .into_iter()
        .find(|(c, _)| c == "date-banner")
        .map(|(_, t)| t)
}

fn table<'a>(root: &'a Element, id: &str) -> &'a Element {
    root.tables()
        .into_iter()
        .find(|t| t.attr("id") == Some(id))
        .unwrap_or_else(|| panic!("no table {id}"))
}

fn acute(start: Date, item: &str) -> Medication {
    let mut m = repeat(start, item);
    m.kind = MedicationKind::Acute;
    m
}

fn repeat(start: Date, item: &str) -> Medication {
    Medication {
        kind: MedicationKind::Repeat,
        prescriber: Prescriber::Practice,
        post_dated: false,
        start,
        item: item.into(),
        dosage: "One a day".into(),
        quantity: "28 tablet".into(),
        scheduled_end: None,
        days_duration: Some(28),
        review_date: None,
        max_issues: None,
        controlled_drug: false,
        discontinuation: None,
        authorisation_end: None,
        last_authorised: None,
        reason: None,
        linked_problems: Vec::new(),
        additional_information: None,
        issues: Vec::new(),
        exclusion: Exclusion::None,
    }
}

fn encounter(d: Date, title: &str, exclusion: Exclusion) -> Encounter {
    Encounter {
        date: d,
        title: title.into(),
        details: String::new(),
        exclusion,
    }
}

fn problem(
    status: ProblemStatus,
    start: Date,
    end: Option<Date>,
    entry: &str,
    significance: Option<Significance>,
) -> Problem {
    Problem {
        status,
        start,
        end,
        entry: entry.into(),
        significance,
        details: String::new(),
        exclusion: Exclusion::None,
    }
}

fn column(rows: &[Vec<String>], i: usize) -> Vec<&str> {
    rows.iter().map(|r| r[i].as_str()).collect()
}

// ---- The structural checker itself --------------------------------------

#[test]
fn structural_checker_rejects_what_the_spec_forbids() {
    for bad in [
        "<div><p>a&nbsp;b</p></div>",
        "<div><a href=\"x\">x</a></div>",
        "<div><p onclick=\"x\">x</p></div>",
        "<div>\n</div>",
        "<div>\t</div>",
        "<div><br></div>",
        "<div><table id=\"evil\"></table></div>",
        "<div class=\"evil\"></div>",
        "<div><td class=\"date-banner\"></td></div>",
        "<div><td colspan=\"9\"></td></div>",
        "<div><p>unclosed</div>",
        "<div><![CDATA[x]]></div>",
        "<div><!-- x --></div>",
        "<div>\u{1}</div>",
        "<div>\u{FFFE}</div>",
        "<p>not a div</p>",
        "<div xmlns=\"http://evil\"></div>",
        "<div><div xmlns=\"http://www.w3.org/1999/xhtml\"></div></div>",
        "<div><th style=\"x\">x</th></div>",
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
    assert!(parse("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a &amp; &#60; &lt;&gt;&quot;<br/></p></div>").is_ok());
}

// ---- §5.1 items 1, 9, 12, 13, 2, 3 ----------------------------------------

#[test]
fn every_view_parses_and_has_no_newlines_tabs_or_forbidden_markup() {
    // §5.1 items 1 and 9, with and without data.
    for record in [rich(), ClinicalRecord::default()] {
        for section in Section::ALL {
            let html = view(&record, section, None);
            check(&html);
            for forbidden in [
                "<head", "<body", "<script", "<style", "<iframe", "<form", "<a",
            ] {
                assert!(!html.contains(forbidden), "{section:?} holds {forbidden}");
            }
            assert!(!html.contains(['\n', '\r', '\t']));
            let root = check(&html);
            let mut all = root.find_all("div");
            all.push(&root);
            for name in ["p", "td", "th", "table", "tr", "h2", "strong"] {
                all.extend(root.find_all(name));
            }
            assert!(
                all.iter()
                    .all(|e| e.attrs.iter().all(|(k, _)| !k.starts_with("on")))
            );
        }
    }
}

#[test]
fn h1_is_exactly_the_section_title() {
    // §5.1 item 12.
    for section in Section::ALL {
        let html = view(&rich(), section, None);
        assert!(
            html.starts_with(&format!(
                "<div xmlns=\"http://www.w3.org/1999/xhtml\"><h1>{}</h1>",
                section.title()
            )),
            "{html}"
        );
        assert_eq!(check(&html).find_all("h1").len(), 1);
    }
}

#[test]
fn table_ids_in_order_for_every_view() {
    // §5.1 item 13.
    let expected: [(Section, &[&str]); 10] = [
        (
            Section::Summary,
            &[
                "cli-tab",
                "enc-tab",
                "prb-tab-act",
                "prb-tab-majinact",
                "all-tab-curr",
                "med-tab-acu-med",
                "med-tab-curr-rep",
            ],
        ),
        (Section::Encounters, &["enc-tab"]),
        (Section::ClinicalItems, &["cli-tab"]),
        (
            Section::Problems,
            &["prb-tab-act", "prb-tab-majinact", "prb-tab-othinact"],
        ),
        (Section::Allergies, &["all-tab-curr", "all-tab-hist"]),
        (
            Section::Medications,
            &[
                "med-tab-acu-med",
                "med-tab-curr-rep",
                "med-tab-dis-rep",
                "med-tab-all-sum",
                "med-tab-all-iss",
            ],
        ),
        (Section::Referrals, &["ref-tab"]),
        (Section::Observations, &["obs-tab"]),
        (Section::Immunisations, &["imm-tab"]),
        (Section::AdministrativeItems, &["adm-tab"]),
    ];
    for (section, ids) in expected {
        assert_eq!(
            check(&view(&rich(), section, None)).table_ids(),
            ids,
            "{section:?}"
        );
    }
}

#[test]
fn sum_table_ids_in_order_and_emergency_codes_switch_off_by_configuration() {
    let options = RenderOptions {
        emergency_codes: false,
        ..RenderOptions::default()
    };
    let root = check(&view_with(
        &rich(),
        Section::Summary,
        None,
        &options,
        TODAY,
        None,
    ));
    assert_eq!(
        root.table_ids(),
        [
            "enc-tab",
            "prb-tab-act",
            "prb-tab-majinact",
            "all-tab-curr",
            "med-tab-acu-med",
            "med-tab-curr-rep"
        ]
    );
    assert!(!root.h2s().contains(&"Emergency Codes".to_owned()));
}

#[test]
fn subsection_h2s_are_exact() {
    // §5.1 item 2.
    let h2 = |s| check(&view(&rich(), s, None)).h2s();
    assert_eq!(
        h2(Section::Summary),
        [
            "Emergency Codes",
            "Last 3 Encounters",
            "Active Problems and Issues",
            "Major Inactive Problems and Issues",
            "Current Allergies and Adverse Reactions",
            "Acute Medication (Last 12 Months)",
            "Current Repeat Medication"
        ]
    );
    assert_eq!(
        h2(Section::Medications),
        [
            "Acute Medication (Last 12 Months)",
            "Current Repeat Medication",
            "Discontinued Repeat Medication",
            "All Medication",
            "All Medication Issues"
        ]
    );
    assert_eq!(
        h2(Section::Problems),
        [
            "Active Problems and Issues",
            "Major Inactive Problems and Issues",
            "Other Inactive Problems and Issues"
        ]
    );
    assert_eq!(
        h2(Section::Allergies),
        [
            "Current Allergies and Adverse Reactions",
            "Historical Allergies and Adverse Reactions"
        ]
    );
    for s in [
        Section::Encounters,
        Section::ClinicalItems,
        Section::Referrals,
        Section::Observations,
        Section::Immunisations,
        Section::AdministrativeItems,
    ] {
        assert!(h2(s).is_empty());
    }
}

#[test]
fn table_headers_in_order_with_no_attributes_on_th() {
    // §5.1 item 3: the N-th thead holds exactly these <th>X</th>.
    let headers: [(&str, &[&str]); 16] = [
        ("cli-tab", &["Date", "Entry", "Details"]),
        ("enc-tab", &["Date", "Title", "Details"]),
        (
            "prb-tab-act",
            &["Start Date", "Entry", "Significance", "Details"],
        ),
        (
            "prb-tab-majinact",
            &["Start Date", "End Date", "Entry", "Significance", "Details"],
        ),
        (
            "prb-tab-othinact",
            &["Start Date", "End Date", "Entry", "Significance", "Details"],
        ),
        ("all-tab-curr", &["Start Date", "Details"]),
        ("all-tab-hist", &["Start Date", "End Date", "Details"]),
        (
            "med-tab-acu-med",
            &[
                "Type",
                "Start Date",
                "Medication Item",
                "Dosage Instruction",
                "Quantity",
                "Scheduled End Date",
                "Days Duration",
                "Additional Information",
            ],
        ),
        (
            "med-tab-curr-rep",
            &[
                "Type",
                "Start Date",
                "Medication Item",
                "Dosage Instruction",
                "Quantity",
                "Last Issued Date",
                "Number of Prescriptions Issued",
                "Max Issues",
                "Review Date",
                "Additional Information",
            ],
        ),
        (
            "med-tab-dis-rep",
            &[
                "Type",
                "Last Issued Date",
                "Medication Item",
                "Dosage Instruction",
                "Quantity",
                "Discontinued Date",
                "Discontinuation Reason",
                "Additional Information",
            ],
        ),
        (
            "med-tab-all-sum",
            &[
                "Type",
                "Start Date",
                "Medication Item",
                "Dosage Instruction",
                "Quantity",
                "Last Issued Date",
                "Number of Prescriptions Issued",
                "Discontinuation Details",
                "Additional Information",
            ],
        ),
        (
            "med-tab-all-iss",
            &[
                "Type",
                "Issue Date",
                "Medication Item",
                "Dosage Instruction",
                "Quantity",
                "Days Duration",
                "Additional Information",
            ],
        ),
        ("ref-tab", &["Date", "From", "To", "Priority", "Details"]),
        ("obs-tab", &["Date", "Entry", "Value", "Range", "Details"]),
        (
            "imm-tab",
            &["Date", "Vaccination", "Part", "Contents", "Details"],
        ),
        ("adm-tab", &["Date", "Entry", "Details"]),
    ];
    for section in Section::ALL {
        let html = view(&rich(), section, None);
        let root = check(&html);
        for (i, t) in root.tables().into_iter().enumerate() {
            let id = t.attr("id").unwrap();
            let expected: &[&str] = if section == Section::Summary && i == 0 {
                &[
                    "Date",
                    "Entry",
                    "Details",
                    "Location of further information",
                ]
            } else {
                headers.iter().find(|(h, _)| *h == id).unwrap().1
            };
            assert_eq!(t.headers(), expected, "{section:?} {id}");
            let thead: String = expected.iter().map(|h| format!("<th>{h}</th>")).collect();
            assert!(
                html.contains(&format!("<thead><tr>{thead}</tr></thead>")),
                "{id}"
            );
        }
    }
}

// ---- Date banners: §2.4, §5.1 items 4, 5, 6, 7, 11, 15, 19 ---------------

#[test]
fn date_banner_for_the_period_start_and_end() {
    // §5.1 item 4, with partial-date expansion done by the engine.
    let p = period(Some(date(2014, 5, 1)), Some(date(2016, 9, 30)));
    for s in [
        Section::AdministrativeItems,
        Section::ClinicalItems,
        Section::Encounters,
        Section::Referrals,
        Section::Observations,
    ] {
        let root = check(&view(&rich(), s, p));
        assert_eq!(
            date_banner(&root).as_deref(),
            Some("For the period '01-May-2014' to '30-Sep-2016'"),
            "{s:?}"
        );
    }
    let html = view(&rich(), Section::Medications, p);
    assert!(html.contains(
        "<div class=\"date-banner\"><p>For the period '01-May-2014' to '30-Sep-2016'</p></div>"
    ));
    let root = check(&html);
    for h in ["All Medication", "All Medication Issues"] {
        assert_eq!(
            date_banner(root.subsection(h).unwrap()).as_deref(),
            Some("For the period '01-May-2014' to '30-Sep-2016'")
        );
    }
    let root = check(&view(&rich(), Section::Problems, p));
    for h in [
        "Major Inactive Problems and Issues",
        "Other Inactive Problems and Issues",
    ] {
        assert_eq!(
            date_banner(root.subsection(h).unwrap()).as_deref(),
            Some("For the period '01-May-2014' to '30-Sep-2016'")
        );
    }
}

#[test]
fn date_banner_data_items_from_and_until() {
    // §5.1 item 5: start only, end only (2016-02 expands to 29-Feb-2016).
    for s in [
        Section::Encounters,
        Section::ClinicalItems,
        Section::Referrals,
        Section::Observations,
        Section::AdministrativeItems,
    ] {
        let root = check(&view(&rich(), s, period(Some(date(2015, 10, 23)), None)));
        assert_eq!(
            date_banner(&root).as_deref(),
            Some("Data items from '23-Oct-2015'")
        );
        let root = check(&view(&rich(), s, period(None, Some(date(2016, 2, 29)))));
        assert_eq!(
            date_banner(&root).as_deref(),
            Some("Data items until '29-Feb-2016'")
        );
    }
    for (s, h) in [
        (Section::Problems, "Major Inactive Problems and Issues"),
        (Section::Medications, "All Medication"),
    ] {
        let root = check(&view(&rich(), s, period(Some(date(2015, 10, 23)), None)));
        assert_eq!(
            date_banner(root.subsection(h).unwrap()).as_deref(),
            Some("Data items from '23-Oct-2015'")
        );
        let root = check(&view(&rich(), s, period(None, Some(date(2016, 2, 29)))));
        assert_eq!(
            date_banner(root.subsection(h).unwrap()).as_deref(),
            Some("Data items until '29-Feb-2016'")
        );
    }
}

#[test]
fn date_banner_all_relevant_items_without_a_period() {
    // §5.1 items 6 and 15: under the h1 of ADM, CLI, ENC, OBS, REF; under
    // the h2 of the PRB subsections and MED All Medication (Issues).
    for s in [
        Section::AdministrativeItems,
        Section::ClinicalItems,
        Section::Encounters,
        Section::Observations,
        Section::Referrals,
    ] {
        let root = check(&view(&rich(), s, None));
        assert_eq!(
            date_banner(&root).as_deref(),
            Some("All relevant items"),
            "{s:?}"
        );
    }
    let root = check(&view(&rich(), Section::Problems, None));
    for h in root.h2s() {
        assert_eq!(
            date_banner(root.subsection(&h).unwrap()).as_deref(),
            Some("All relevant items")
        );
    }
    let root = check(&view(&rich(), Section::Medications, None));
    for h in ["All Medication", "All Medication Issues"] {
        assert_eq!(
            date_banner(root.subsection(h).unwrap()).as_deref(),
            Some("All relevant items")
        );
    }
}

#[test]
fn date_filter_not_applied_where_a_subsection_ignores_the_period() {
    // §5.1 item 11 and §2.4.
    let p = period(Some(date(2018, 4, 20)), Some(date(2018, 4, 30)));
    let html = view(&rich(), Section::Problems, p);
    assert!(html.contains("<div class=\"date-banner\"><p>Date filter not applied</p>"));
    let root = check(&html);
    assert_eq!(
        date_banner(root.subsection("Active Problems and Issues").unwrap()).as_deref(),
        Some("Date filter not applied")
    );
    let html = view(&rich(), Section::Medications, p);
    assert!(html.contains("<div class=\"date-banner\"><p>Date filter not applied</p>"));
    let root = check(&html);
    for h in [
        "Acute Medication (Last 12 Months)",
        "Current Repeat Medication",
        "Discontinued Repeat Medication",
    ] {
        assert_eq!(
            date_banner(root.subsection(h).unwrap()).as_deref(),
            Some("Date filter not applied"),
            "{h}"
        );
    }
    // The ignored period leaves those tables whole.
    let unfiltered = check(&view(&rich(), Section::Medications, None));
    for id in ["med-tab-acu-med", "med-tab-curr-rep", "med-tab-dis-rep"] {
        assert_eq!(
            table(&root, id).row_texts(),
            table(&unfiltered, id).row_texts()
        );
    }
}

#[test]
fn no_date_banner_in_sum_all_imm_even_if_a_period_slips_through() {
    // §5.1 item 19; a period on SUM/ALL/IMM is refused by the engine and
    // ignored here.
    for s in [Section::Summary, Section::Allergies, Section::Immunisations] {
        for p in [
            None,
            period(Some(date(2015, 1, 1)), Some(date(2015, 12, 31))),
        ] {
            let html = view(&rich(), s, p);
            assert!(!html.contains("date-banner"), "{s:?}");
            assert_eq!(html, view(&rich(), s, None));
        }
    }
}

#[test]
fn empty_period_windows_show_the_banner_and_placeholder_1() {
    // §5.1 item 7 on the sample record (the suite's patient2 windows).
    for (s, start, end, title) in [
        (
            Section::AdministrativeItems,
            date(2014, 5, 3),
            date(2015, 4, 30),
            "Administrative Items",
        ),
        (
            Section::ClinicalItems,
            date(2014, 2, 3),
            date(2015, 1, 24),
            "Clinical Items",
        ),
        (
            Section::Encounters,
            date(1982, 10, 5),
            date(2015, 4, 30),
            "Encounters",
        ),
        (
            Section::Referrals,
            date(2014, 3, 21),
            date(2015, 3, 14),
            "Referrals",
        ),
    ] {
        let html = view(&rich(), s, period(Some(start), Some(end)));
        let root = check(&html);
        assert!(root.tables().is_empty(), "{s:?}");
        let banner = date_banner(&root).unwrap();
        assert!(banner.starts_with("For the period '"), "{banner}");
        assert!(html.contains(&format!(
            "<p>No '{title}' data is recorded for this patient.</p>"
        )));
    }
}

#[test]
fn rich_record_has_data_in_the_suite_period_for_every_filtered_view() {
    // §5.3: data between 01-May-2015 and 01-Jul-2016.
    let p = period(Some(date(2015, 5, 1)), Some(date(2016, 7, 1)));
    for s in Section::ALL.into_iter().filter(|s| s.accepts_time_period()) {
        let root = check(&view(&rich(), s, p));
        assert!(
            root.tables().iter().all(|t| !t.row_texts().is_empty()),
            "{s:?}"
        );
    }
}

// ---- Banners and placeholders: §2.2, §2.3, §2.5 -------------------------

#[test]
fn gptransfer_banner_under_the_h1_of_every_view() {
    // §5.1 item 16: a child of the h1's parent with a d(d)-Mmm-yyyy date.
    for s in Section::ALL {
        let html = view_with(
            &rich(),
            s,
            None,
            &RenderOptions::default(),
            TODAY,
            Some(date(2025, 6, 3)),
        );
        let root = check(&html);
        let banners = root.banners();
        assert_eq!(
            banners[0],
            (
                "gptransfer-banner".to_owned(),
                "Patient record transfer from previous GP practice not yet complete; information recorded before 03-Jun-2025 may be missing".to_owned()
            ),
            "{s:?}"
        );
        // Right after the h1.
        let second = root.elements().nth(1).unwrap();
        assert_eq!(second.attr("class"), Some("gptransfer-banner"));
        assert!(!view(&rich(), s, None).contains("gptransfer-banner"));
    }
}

#[test]
fn exclusion_banner_against_the_table_an_item_was_removed_from() {
    let mut record = rich();
    // CLI: the sample record already holds a confidential item.
    let root = check(&view(&record, Section::ClinicalItems, None));
    assert_eq!(
        root.banners().last().unwrap(),
        &(
            "exclusion-banner".to_owned(),
            "Items excluded due to confidentiality and/or patient preferences".to_owned()
        )
    );
    assert!(
        !root.tables()[0]
            .row_texts()
            .iter()
            .any(|r| r[1].contains("sexual health"))
    );
    // Outside the period, the withheld item would not have been shown:
    // no banner.
    let root = check(&view(
        &record,
        Section::ClinicalItems,
        period(Some(date(2016, 1, 1)), None),
    ));
    assert!(!root.banners().iter().any(|(c, _)| c == "exclusion-banner"));
    // Only in the table it would have been in.
    record.encounters[0].exclusion = Exclusion::PatientPreference;
    let root = check(&view(&record, Section::Summary, None));
    let enc = root.subsection("Last 3 Encounters").unwrap();
    assert_eq!(
        enc.banners(),
        [(
            "exclusion-banner".to_owned(),
            "Items excluded due to confidentiality and/or patient preferences".to_owned()
        )]
    );
    assert_eq!(
        table(&root, "enc-tab").row_texts().len(),
        3,
        "the next encounter moves up"
    );
    for h in root.h2s().into_iter().filter(|h| h != "Last 3 Encounters") {
        assert!(root.subsection(&h).unwrap().banners().is_empty(), "{h}");
    }
    // An excluded encounter older than the last three: no banner in SUM.
    let mut record = rich();
    record.encounters[3].exclusion = Exclusion::Sensitive;
    let root = check(&view(&record, Section::Summary, None));
    assert!(
        root.subsection("Last 3 Encounters")
            .unwrap()
            .banners()
            .is_empty()
    );
    // Everything withheld: banner and placeholder 1.
    let record = ClinicalRecord {
        administrative_items: vec![AdministrativeItem {
            date: date(2016, 1, 1),
            entry: "x".into(),
            details: String::new(),
            exclusion: Exclusion::Confidential,
        }],
        ..ClinicalRecord::default()
    };
    let html = view(&record, Section::AdministrativeItems, None);
    assert!(html.ends_with("<div class=\"exclusion-banner\"><p>Items excluded due to confidentiality and/or patient preferences</p></div><div><p>No 'Administrative Items' data is recorded for this patient.</p></div></div>"));
}

#[test]
fn banner_order_and_placement_follow_the_layout() {
    // §2.2: h1, transfer, section content, then per table: content, date,
    // exclusion, table; banners are children of the heading's parent.
    let mut record = rich();
    record.problems[0].exclusion = Exclusion::Confidential;
    let options = RenderOptions {
        content_banners: vec![
            ContentBanner {
                place: BannerPlace::Section(Section::Problems),
                text: "Section note".into(),
            },
            ContentBanner {
                place: BannerPlace::Table(Table::ActiveProblems),
                text: "Active note".into(),
            },
            ContentBanner {
                place: BannerPlace::Section(Section::Encounters),
                text: "Not here".into(),
            },
        ],
        ..RenderOptions::default()
    };
    let html = view_with(
        &record,
        Section::Problems,
        None,
        &options,
        TODAY,
        Some(date(2025, 1, 2)),
    );
    assert!(html.starts_with("<div xmlns=\"http://www.w3.org/1999/xhtml\"><h1>Problems and Issues</h1><div class=\"gptransfer-banner\"><p>Patient record transfer from previous GP practice not yet complete; information recorded before 02-Jan-2025 may be missing</p></div><div class=\"content-banner\"><p>Section note</p></div><div><h2>Active Problems and Issues</h2><div class=\"content-banner\"><p>Active note</p></div><div class=\"date-banner\"><p>All relevant items</p></div><div class=\"exclusion-banner\"><p>Items excluded due to confidentiality and/or patient preferences</p></div><table id=\"prb-tab-act\">"), "{html}");
    assert!(!html.contains("Not here"));
    // In Summary, a table banner shows with the table; a PRB section banner
    // does not.
    let root = check(&view_with(
        &record,
        Section::Summary,
        None,
        &options,
        TODAY,
        None,
    ));
    assert_eq!(
        root.subsection("Active Problems and Issues")
            .unwrap()
            .banners()[0],
        ("content-banner".to_owned(), "Active note".to_owned())
    );
    assert!(root.banners().is_empty());
}

#[test]
fn placeholder_1_for_every_table_of_an_empty_record() {
    // §5.1 item 8 (patient1).
    let record = ClinicalRecord::default();
    for s in Section::ALL {
        let html = view(&record, s, None);
        let root = check(&html);
        assert!(root.tables().is_empty());
        let headings = if root.h2s().is_empty() {
            vec![s.title().to_owned()]
        } else {
            root.h2s()
        };
        for h in headings {
            assert!(
                html.contains(&format!(
                    "<div><p>No '{h}' data is recorded for this patient.</p></div>"
                )),
                "{s:?} {h}"
            );
        }
    }
    assert_eq!(check(&view(&record, Section::Summary, None)).h2s().len(), 7);
}

#[test]
fn placeholders_2_to_4_replace_unavailable_tables_everywhere_they_appear() {
    let mut record = rich();
    record.unavailable = vec![
        UnavailableTable {
            table: Table::AdministrativeItems,
            reason: Unavailability::NotSupported,
        },
        UnavailableTable {
            table: Table::CurrentAllergies,
            reason: Unavailability::AccessDenied,
        },
        UnavailableTable {
            table: Table::AcuteMedication,
            reason: Unavailability::CannotExtract,
        },
    ];
    let html = view(&record, Section::AdministrativeItems, None);
    assert!(html.ends_with("<div class=\"date-banner\"><p>All relevant items</p></div><div><p>'Administrative Items' data is not supported by this system.</p></div></div>"), "{html}");
    let html = view(&record, Section::Allergies, None);
    assert!(html.contains("<div><h2>Current Allergies and Adverse Reactions</h2><div><p>Access is denied to 'Current Allergies and Adverse Reactions' data for this patient.</p><p>This data may still exist in the source system.</p></div></div>"));
    assert_eq!(check(&html).table_ids(), ["all-tab-hist"]);
    let html = view(&record, Section::Summary, None);
    assert!(html.contains("<div><h2>Acute Medication (Last 12 Months)</h2><div><p>This system does not support retrieval of 'Acute Medication (Last 12 Months)' data.</p><p>This data may still exist in the source system.</p></div></div>"));
    assert!(html.contains("<p>Access is denied to 'Current Allergies and Adverse Reactions' data for this patient.</p>"));
    assert_eq!(
        check(&html).table_ids(),
        [
            "cli-tab",
            "enc-tab",
            "prb-tab-act",
            "prb-tab-majinact",
            "med-tab-curr-rep"
        ]
    );
}

// ---- PRB: §3 ----------------------------------------------------------------

fn problems() -> ClinicalRecord {
    ClinicalRecord {
        problems: vec![
            problem(
                ProblemStatus::Active,
                date(2015, 1, 1),
                None,
                "Active one",
                Some(Significance::Minor),
            ),
            problem(
                ProblemStatus::Inactive,
                date(2015, 2, 1),
                Some(date(2015, 3, 1)),
                "Major one",
                Some(Significance::Major),
            ),
            problem(
                ProblemStatus::Inactive,
                date(2015, 4, 1),
                Some(date(2015, 5, 1)),
                "Minor one",
                Some(Significance::Minor),
            ),
            problem(
                ProblemStatus::Inactive,
                date(2010, 4, 1),
                Some(date(2016, 5, 1)),
                "Unrated one",
                None,
            ),
            problem(
                ProblemStatus::Inactive,
                date(2013, 1, 1),
                Some(date(2013, 2, 1)),
                "Old major",
                Some(Significance::Major),
            ),
        ],
        ..ClinicalRecord::default()
    }
}

#[test]
fn prb_split_major_to_majinact_minor_and_unrated_to_othinact() {
    let root = check(&view(&problems(), Section::Problems, None));
    assert_eq!(
        column(&table(&root, "prb-tab-act").row_texts(), 1),
        ["Active one"]
    );
    assert_eq!(
        column(&table(&root, "prb-tab-majinact").row_texts(), 2),
        ["Major one", "Old major"]
    );
    // End Date descending.
    assert_eq!(
        column(&table(&root, "prb-tab-othinact").row_texts(), 2),
        ["Unrated one", "Minor one"]
    );
    // SUM shows Active and Major Inactive, unfiltered.
    let root = check(&view(&problems(), Section::Summary, None));
    assert_eq!(
        column(&table(&root, "prb-tab-majinact").row_texts(), 2),
        ["Major one", "Old major"]
    );
}

#[test]
fn prb_without_significance_puts_every_inactive_problem_in_other() {
    let mut record = problems();
    record.unavailable.push(UnavailableTable {
        table: Table::MajorInactiveProblems,
        reason: Unavailability::NotSupported,
    });
    let html = view(&record, Section::Problems, None);
    assert!(html.contains(
        "<p>'Major Inactive Problems and Issues' data is not supported by this system.</p>"
    ));
    let root = check(&html);
    assert_eq!(
        column(&table(&root, "prb-tab-othinact").row_texts(), 2),
        ["Unrated one", "Minor one", "Major one", "Old major"]
    );
}

#[test]
fn prb_period_applies_to_the_inactive_subsections_by_overlap() {
    // Active ignores it; inactive problems are in when the span start..end
    // overlaps the period.
    let p = period(Some(date(2015, 2, 15)), Some(date(2015, 4, 15)));
    let root = check(&view(&problems(), Section::Problems, p));
    assert_eq!(
        column(&table(&root, "prb-tab-act").row_texts(), 1),
        ["Active one"]
    );
    assert_eq!(
        column(&table(&root, "prb-tab-majinact").row_texts(), 2),
        ["Major one"]
    );
    assert_eq!(
        column(&table(&root, "prb-tab-othinact").row_texts(), 2),
        ["Unrated one", "Minor one"]
    );
    // Boundaries are inclusive days: ending on the first day counts.
    let p = period(Some(date(2015, 3, 1)), Some(date(2015, 3, 31)));
    let root = check(&view(&problems(), Section::Problems, p));
    assert_eq!(
        column(&table(&root, "prb-tab-majinact").row_texts(), 2),
        ["Major one"]
    );
    let p = period(Some(date(2015, 3, 2)), Some(date(2015, 3, 31)));
    let html = view(&problems(), Section::Problems, p);
    assert!(html.contains("No 'Major Inactive Problems and Issues' data is recorded"));
}

// ---- MED: §3 ----------------------------------------------------------------

#[test]
fn acute_12_month_boundary() {
    // Start later than the same day a year before today.
    for (today, out, inn) in [
        (date(2025, 6, 10), date(2024, 6, 10), date(2024, 6, 11)),
        // The year before holds 29-Feb-2024: 12 months is 366 days.
        (date(2024, 3, 1), date(2023, 3, 1), date(2023, 3, 2)),
        (date(2025, 3, 1), date(2024, 3, 1), date(2024, 3, 2)),
        // Today 29-Feb: the day before the window is 28-Feb.
        (date(2024, 2, 29), date(2023, 2, 28), date(2023, 3, 1)),
    ] {
        let record = ClinicalRecord {
            medications: vec![
                acute(out, "Out"),
                acute(inn, "In"),
                acute(date(2099, 1, 1), "Post-dated"),
            ],
            ..ClinicalRecord::default()
        };
        let root = check(&view_with(
            &record,
            Section::Medications,
            None,
            &RenderOptions::default(),
            today,
            None,
        ));
        assert_eq!(
            column(&table(&root, "med-tab-acu-med").row_texts(), 2),
            ["Post-dated", "In"],
            "today {today}"
        );
    }
}

#[test]
fn current_repeat_end_boundary() {
    let mut ends_today = repeat(date(2024, 1, 1), "Ends today");
    ends_today.authorisation_end = Some(TODAY);
    let mut ends_tomorrow = repeat(date(2024, 1, 2), "Ends tomorrow");
    ends_tomorrow.authorisation_end = Some(date(2025, 6, 11));
    let open = repeat(date(2024, 1, 3), "Open-ended");
    let mut stopped = repeat(date(2024, 1, 4), "Discontinued");
    stopped.discontinuation = Some(Discontinuation {
        date: date(2024, 6, 1),
        reason: "Side effects".into(),
    });
    let mut rd = repeat(date(2024, 1, 5), "Repeat dispensing");
    rd.kind = MedicationKind::RepeatDispense;
    let record = ClinicalRecord {
        medications: vec![ends_today, ends_tomorrow, open, stopped, rd],
        ..ClinicalRecord::default()
    };
    let root = check(&view(&record, Section::Medications, None));
    assert_eq!(
        column(&table(&root, "med-tab-curr-rep").row_texts(), 2),
        ["Repeat dispensing", "Open-ended", "Ends tomorrow"]
    );
    assert_eq!(
        column(&table(&root, "med-tab-dis-rep").row_texts(), 2),
        ["Discontinued"]
    );
    // Ended naturally: neither current nor discontinued, still in All Medication.
    assert_eq!(table(&root, "med-tab-all-sum").row_texts().len(), 5);
}

#[test]
fn med_discontinued_has_mandatory_content_banner() {
    // §5.1 item 18, with and without rows.
    for record in [rich(), ClinicalRecord::default()] {
        let root = check(&view(&record, Section::Medications, None));
        let sub = root.subsection("Discontinued Repeat Medication").unwrap();
        assert_eq!(
            sub.banners()[0],
            (
                "content-banner".to_owned(),
                "All repeat medication ended by a clinician action".to_owned()
            )
        );
    }
}

#[test]
fn med_group_rows_alphabetical_and_rows_by_date_descending() {
    let mut a1 = acute(date(2025, 1, 1), "amlodipine 5mg tablets");
    a1.issues = vec![MedicationIssue {
        date: date(2025, 1, 1),
    }];
    let mut a2 = acute(date(2025, 3, 1), "amlodipine 5mg tablets");
    a2.issues = vec![MedicationIssue {
        date: date(2025, 3, 1),
    }];
    let mut z = repeat(date(2024, 1, 1), "Zopiclone 7.5mg tablets");
    z.issues = vec![
        MedicationIssue {
            date: date(2024, 1, 1),
        },
        MedicationIssue {
            date: date(2024, 2, 1),
        },
    ];
    let mut b = repeat(date(2024, 1, 1), "Bisoprolol 5mg tablets");
    b.issues = vec![MedicationIssue {
        date: date(2024, 5, 1),
    }];
    let record = ClinicalRecord {
        medications: vec![z, a1, b, a2],
        ..ClinicalRecord::default()
    };
    let html = view(&record, Section::Medications, None);
    let root = check(&html);
    let groups = |id: &str| -> Vec<String> {
        table(&root, id)
            .rows()
            .into_iter()
            .filter(|r| r.len() == 1)
            .map(|r| r[0].text())
            .collect()
    };
    assert_eq!(
        groups("med-tab-all-sum"),
        [
            "amlodipine 5mg tablets",
            "Bisoprolol 5mg tablets",
            "Zopiclone 7.5mg tablets"
        ]
    );
    assert_eq!(
        groups("med-tab-all-iss"),
        [
            "amlodipine 5mg tablets",
            "Bisoprolol 5mg tablets",
            "Zopiclone 7.5mg tablets"
        ]
    );
    assert!(html.contains("<tr><td colspan=\"9\" class=\"med-item-column\"><strong>amlodipine 5mg tablets</strong></td></tr><tr><td>Acute</td><td class=\"date-column\">01-Mar-2025</td>"));
    assert!(html.contains("<tr><td colspan=\"7\" class=\"med-item-column\"><strong>Zopiclone 7.5mg tablets</strong></td></tr><tr><td>Repeat</td><td class=\"date-column\">01-Feb-2024</td>"));
    for id in ["med-tab-all-sum", "med-tab-all-iss"] {
        common::fixture::check_group_rows(table(&root, id));
    }
}

/// Some item appears on two or more issue rows.
fn groups_have_a_repeat(issues: &[Vec<String>]) -> bool {
    issues.iter().any(|r| {
        issues
            .iter()
            .filter(|o| o[2] == r[2] && o[6] == r[6])
            .count()
            >= 2
    })
}

fn parse_date(s: &str) -> Date {
    const M: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (d, rest) = s.split_once('-').expect("dd-");
    let (m, y) = rest.split_once('-').expect("Mmm-yyyy");
    let m = M.iter().position(|x| *x == m).expect("a month") + 1;
    date(y.parse().expect("yyyy"), m as i8, d.parse().expect("dd"))
}

#[test]
fn med_all_medication_agrees_with_its_issues() {
    // §5.1 item 17: group the Issues rows by (Type, Item, Dosage, Quantity,
    // Days Duration, Additional Information); each group's All Medication
    // row has Start = min issue date, Last Issued = max, Number = count.
    // Checked on the sample record for several "todays" and with a period.
    for (today, p) in [
        (TODAY, None),
        (date(2024, 2, 29), None),
        (
            TODAY,
            period(Some(date(2024, 1, 1)), Some(date(2024, 12, 31))),
        ),
        (
            TODAY,
            period(Some(date(2015, 5, 1)), Some(date(2016, 7, 1))),
        ),
    ] {
        let record = sample::rich_record(today);
        let root = check(&view_with(
            &record,
            Section::Medications,
            p,
            &RenderOptions::default(),
            today,
            None,
        ));
        let all = table(&root, "med-tab-all-sum").row_texts();
        let issues = table(&root, "med-tab-all-iss").row_texts();
        if p.is_none() {
            assert!(issues.len() >= 2);
            assert!(groups_have_a_repeat(&issues));
        }
        let mut groups: Vec<(Vec<String>, Vec<Date>)> = Vec::new();
        for r in &issues {
            let key = vec![
                r[0].clone(),
                r[2].clone(),
                r[3].clone(),
                r[4].clone(),
                r[6].clone(),
            ];
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, dates)) => dates.push(parse_date(&r[1])),
                None => groups.push((key, vec![parse_date(&r[1])])),
            }
        }
        if p.is_none() {
            assert!(
                groups.iter().any(|(_, d)| d.len() >= 2),
                "an item issued twice"
            );
        }
        for (key, dates) in &groups {
            let matching: Vec<_> = all
                .iter()
                .filter(|r| {
                    r[0] == key[0]
                        && r[2] == key[1]
                        && r[3] == key[2]
                        && r[4] == key[3]
                        && r[8] == key[4]
                })
                .collect();
            assert_eq!(matching.len(), 1, "{key:?}");
            let row = matching[0];
            assert_eq!(parse_date(&row[1]), *dates.iter().min().unwrap());
            assert_eq!(parse_date(&row[5]), *dates.iter().max().unwrap());
            assert_eq!(row[6], dates.len().to_string());
        }
        // Items without issues show neither Last Issued nor a count.
        for r in all.iter().filter(|r| {
            !groups
                .iter()
                .any(|(k, _)| k[1] == r[2] && k[0] == r[0] && k[4] == r[8])
        }) {
            assert_eq!((r[5].as_str(), r[6].as_str()), ("", ""), "{r:?}");
        }
    }
}

#[test]
fn med_all_medication_date_filter_rules() {
    let p = period(Some(date(2020, 1, 1)), Some(date(2020, 12, 31)));
    // (a) start and scheduled end overlapping the range.
    let mut overlap = acute(date(2019, 12, 20), "A overlap");
    overlap.scheduled_end = Some(date(2020, 1, 3));
    overlap.issues = vec![MedicationIssue {
        date: date(2019, 12, 20),
    }];
    let mut before = acute(date(2019, 11, 1), "B ended before");
    before.scheduled_end = Some(date(2019, 12, 31));
    // (b) repeat, start only: ongoing if it starts by the range end.
    let mut ongoing = repeat(date(2015, 1, 1), "C ongoing repeat");
    ongoing.issues = vec![
        MedicationIssue {
            date: date(2015, 1, 1),
        },
        MedicationIssue {
            date: date(2019, 6, 1),
        },
    ];
    let later = repeat(date(2021, 1, 1), "D later repeat");
    // A discontinued repeat is not ongoing.
    let mut stopped = repeat(date(2015, 1, 1), "E stopped repeat");
    stopped.discontinuation = Some(Discontinuation {
        date: date(2019, 1, 1),
        reason: String::new(),
    });
    // (c) acute, start only: start within the range.
    let inside = acute(date(2020, 12, 31), "F acute inside");
    let outside = acute(date(2021, 1, 1), "G acute outside");
    let record = ClinicalRecord {
        medications: vec![overlap, before, ongoing, later, stopped, inside, outside],
        ..ClinicalRecord::default()
    };
    let root = check(&view(&record, Section::Medications, p));
    assert_eq!(
        column(&table(&root, "med-tab-all-sum").row_texts(), 2),
        ["A overlap", "C ongoing repeat", "F acute inside"]
    );
    // Every issue of the items returned, even outside the range.
    let issues = table(&root, "med-tab-all-iss").row_texts();
    assert_eq!(
        column(&issues, 1),
        ["20-Dec-2019", "01-Jun-2019", "01-Jan-2015"]
    );
}

#[test]
fn med_type_texts_and_issues_only_for_practice_prescriptions() {
    let mut post = acute(date(2025, 6, 20), "Post-dated");
    post.post_dated = true;
    let mut dentist = acute(date(2025, 5, 1), "Dentist");
    dentist.prescriber = Prescriber::Elsewhere(Some("Dentist".into()));
    dentist.issues = vec![MedicationIssue {
        date: date(2025, 5, 1),
    }];
    let mut unknown = acute(date(2025, 4, 1), "Unknown");
    unknown.prescriber = Prescriber::Elsewhere(None);
    let mut hospital = repeat(date(2025, 3, 1), "Hospital");
    hospital.prescriber = Prescriber::Elsewhere(Some("Hospital".into()));
    let mut rd = repeat(date(2025, 2, 1), "RD");
    rd.kind = MedicationKind::RepeatDispense;
    rd.issues = vec![MedicationIssue {
        date: date(2025, 2, 1),
    }];
    let record = ClinicalRecord {
        medications: vec![post, dentist, unknown, hospital, rd],
        ..ClinicalRecord::default()
    };
    let root = check(&view(&record, Section::Medications, None));
    assert_eq!(
        column(&table(&root, "med-tab-acu-med").row_texts(), 0),
        [
            "Acute Post-Dated",
            "Acute \u{2013} Dentist",
            "Acute \u{2013} Unknown Prescriber"
        ]
    );
    assert_eq!(
        column(&table(&root, "med-tab-curr-rep").row_texts(), 0),
        ["Repeat \u{2013} Hospital", "Repeat Dispensing"]
    );
    // Prescribed elsewhere and repeat dispensing: no issues, no counts.
    let curr = table(&root, "med-tab-curr-rep").row_texts();
    assert!(curr.iter().all(|r| r[5].is_empty() && r[6].is_empty()));
    assert!(!root.table_ids().contains(&"med-tab-all-iss".to_owned()));
    assert!(
        view(&record, Section::Medications, None)
            .contains("No 'All Medication Issues' data is recorded")
    );
}

#[test]
fn med_additional_information_order() {
    let mut m = repeat(date(2025, 1, 1), "Morphine sulfate 10mg/5ml oral solution");
    m.controlled_drug = true;
    m.reason = Some("Pain".into());
    m.linked_problems = vec![
        "Heart Failure".into(),
        String::new(),
        "Cancer of lung".into(),
    ];
    m.additional_information = Some("Line one\nLine two".into());
    let mut cancelled = acute(date(2025, 2, 1), "Naproxen");
    cancelled.discontinuation = Some(Discontinuation {
        date: date(2025, 2, 2),
        reason: "Prescribed in error".into(),
    });
    cancelled.reason = Some("Back pain".into());
    let mut rd = repeat(date(2025, 1, 2), "Salbutamol");
    rd.kind = MedicationKind::RepeatDispense;
    rd.last_authorised = Some(date(2025, 1, 2));
    rd.max_issues = Some(6);
    let record = ClinicalRecord {
        medications: vec![m, cancelled, rd],
        ..ClinicalRecord::default()
    };
    let html = view(&record, Section::Medications, None);
    assert!(html.contains("<td><strong>CONTROLLED DRUG</strong><br/>Pain<br/>Linked Problem : Heart Failure<br/>Linked Problem : Cancer of lung<br/>Line one<br/>Line two</td>"));
    // Acute table: CANCELLED leads (no discontinuation column there).
    assert!(html.contains("<td>CANCELLED: 02-Feb-2025 Prescribed in error<br/>Back pain</td>"));
    // All Medication: in Discontinuation Details instead.
    let root = check(&html);
    let all = table(&root, "med-tab-all-sum").row_texts();
    let naproxen = all.iter().find(|r| r[2] == "Naproxen").unwrap();
    assert_eq!(naproxen[7], "CANCELLED: 02-Feb-2025 Prescribed in error");
    assert_eq!(naproxen[8], "Back pain");
    assert!(html.contains("<td>Last Authorised : 02-Jan-2025<br/>Issues Authorised : 6</td>"));
}

#[test]
fn med_discontinued_repeat_rows_and_details() {
    let mut a = repeat(date(2020, 1, 1), "Simvastatin");
    a.issues = vec![
        MedicationIssue {
            date: date(2020, 3, 1),
        },
        MedicationIssue {
            date: date(2020, 2, 1),
        },
    ];
    a.discontinuation = Some(Discontinuation {
        date: date(2020, 4, 1),
        reason: "Myalgia".into(),
    });
    let mut b = repeat(date(2021, 1, 1), "Never issued");
    b.discontinuation = Some(Discontinuation {
        date: date(2021, 2, 1),
        reason: String::new(),
    });
    let record = ClinicalRecord {
        medications: vec![b, a],
        ..ClinicalRecord::default()
    };
    let root = check(&view(&record, Section::Medications, None));
    let rows = table(&root, "med-tab-dis-rep").row_texts();
    // Last Issued Date descending; never issued last.
    assert_eq!(
        rows[0][..7],
        [
            "Repeat",
            "01-Mar-2020",
            "Simvastatin",
            "One a day",
            "28 tablet",
            "01-Apr-2020",
            "Myalgia"
        ]
    );
    assert_eq!(rows[1][1], "");
    let all = table(&root, "med-tab-all-sum").row_texts();
    assert!(
        all.iter()
            .any(|r| r[7] == "DISCONTINUED: 01-Apr-2020 Myalgia")
    );
    assert!(all.iter().any(|r| r[7] == "DISCONTINUED: 01-Feb-2021"));
}

// ---- date-column: §2.6, §5.1 item 14 --------------------------------------

#[test]
fn date_column_class_on_every_non_empty_date_cell() {
    // The suite's columns (1-based), and no class on empty or non-date cells.
    let columns: [(&str, &[usize]); 16] = [
        ("adm-tab", &[1]),
        ("all-tab-curr", &[1]),
        ("cli-tab", &[1]),
        ("enc-tab", &[1]),
        ("imm-tab", &[1]),
        ("obs-tab", &[1]),
        ("prb-tab-act", &[1]),
        ("ref-tab", &[1]),
        ("all-tab-hist", &[1, 2]),
        ("prb-tab-majinact", &[1, 2]),
        ("prb-tab-othinact", &[1, 2]),
        ("med-tab-acu-med", &[2, 6]),
        ("med-tab-curr-rep", &[2, 6, 9]),
        ("med-tab-dis-rep", &[2, 6]),
        ("med-tab-all-sum", &[2, 6]),
        ("med-tab-all-iss", &[2]),
    ];
    let mut checked = 0;
    for s in Section::ALL {
        let root = check(&view(&rich(), s, None));
        for t in root.tables() {
            let id = t.attr("id").unwrap();
            let cols = columns.iter().find(|(i, _)| *i == id).unwrap().1;
            for row in t.rows().into_iter().filter(|r| r.len() > 1) {
                for (i, td) in row.iter().enumerate() {
                    let is_date = cols.contains(&(i + 1));
                    let non_empty = !td.text().is_empty();
                    let class = td.attr("class");
                    if is_date && non_empty {
                        assert_eq!(class, Some("date-column"), "{id} col {}", i + 1);
                        parse_date(&td.text());
                        checked += 1;
                    } else {
                        assert_eq!(class, None, "{id} col {} {:?}", i + 1, td.text());
                    }
                }
            }
        }
    }
    assert!(checked > 50);
}

// ---- Other views ------------------------------------------------------------

#[test]
fn last_3_encounters_are_the_three_most_recent() {
    let record = ClinicalRecord {
        encounters: (1..=5)
            .map(|m| encounter(date(2015, m, 1), &format!("E{m}"), Exclusion::None))
            .collect(),
        ..ClinicalRecord::default()
    };
    let root = check(&view(&record, Section::Summary, None));
    assert_eq!(
        column(&table(&root, "enc-tab").row_texts(), 1),
        ["E5", "E4", "E3"]
    );
    let root = check(&view(&record, Section::Encounters, None));
    assert_eq!(table(&root, "enc-tab").row_texts().len(), 5);
}

#[test]
fn sort_descending_with_ties_independent_of_input_order() {
    let items = vec![
        ClinicalItem {
            date: date(2015, 1, 1),
            entry: "B".into(),
            details: String::new(),
            exclusion: Exclusion::None,
        },
        ClinicalItem {
            date: date(2016, 1, 1),
            entry: "Z".into(),
            details: String::new(),
            exclusion: Exclusion::None,
        },
        ClinicalItem {
            date: date(2015, 1, 1),
            entry: "A".into(),
            details: String::new(),
            exclusion: Exclusion::None,
        },
    ];
    let mut reversed = items.clone();
    reversed.reverse();
    let a = view(
        &ClinicalRecord {
            clinical_items: items,
            ..ClinicalRecord::default()
        },
        Section::ClinicalItems,
        None,
    );
    let b = view(
        &ClinicalRecord {
            clinical_items: reversed,
            ..ClinicalRecord::default()
        },
        Section::ClinicalItems,
        None,
    );
    assert_eq!(a, b);
    assert_eq!(
        column(&table(&check(&a), "cli-tab").row_texts(), 1),
        ["Z", "A", "B"]
    );
}

#[test]
fn emergency_codes_most_recent_per_group_and_configurable_banner() {
    let code = |d: Date, entry: &str, group: Option<&str>, exclusion: Exclusion| EmergencyCode {
        date: d,
        entry: entry.into(),
        details: String::new(),
        location: "Problems and Issues".into(),
        group: group.map(str::to_owned),
        exclusion,
    };
    let record = ClinicalRecord {
        emergency_codes: vec![
            code(
                date(2020, 3, 20),
                "Moderate risk",
                Some("risk"),
                Exclusion::None,
            ),
            code(
                date(2020, 3, 27),
                "High risk",
                Some("risk"),
                Exclusion::None,
            ),
            code(date(2020, 1, 1), "Ungrouped", None, Exclusion::None),
            code(
                date(2021, 1, 1),
                "Withheld newest",
                Some("other"),
                Exclusion::Confidential,
            ),
            code(
                date(2020, 6, 1),
                "Older of withheld group",
                Some("other"),
                Exclusion::None,
            ),
        ],
        ..ClinicalRecord::default()
    };
    let options = RenderOptions {
        emergency_codes_banner: Some("Codes from the national list".into()),
        ..RenderOptions::default()
    };
    let root = check(&view_with(
        &record,
        Section::Summary,
        None,
        &options,
        TODAY,
        None,
    ));
    let ec = root.subsection("Emergency Codes").unwrap();
    assert_eq!(
        column(&table(&root, "cli-tab").row_texts(), 1),
        ["High risk", "Ungrouped"]
    );
    assert_eq!(
        ec.banners(),
        [
            (
                "content-banner".to_owned(),
                "Codes from the national list".to_owned()
            ),
            (
                "exclusion-banner".to_owned(),
                "Items excluded due to confidentiality and/or patient preferences".to_owned()
            )
        ]
    );
}

#[test]
fn observation_value_with_unit_and_range_unit_only_if_different() {
    let obs = |value: &str, unit: Option<&str>, range: Option<ReferenceRange>| Observation {
        date: date(2016, 1, 1),
        entry: value.into(),
        value: Some(Measurement {
            value: value.into(),
            unit: unit.map(str::to_owned),
        }),
        range,
        details: String::new(),
        exclusion: Exclusion::None,
    };
    let range = |low: Option<&str>, high: Option<&str>, unit: Option<&str>, text: Option<&str>| {
        ReferenceRange {
            low: low.map(str::to_owned),
            high: high.map(str::to_owned),
            unit: unit.map(str::to_owned),
            text: text.map(str::to_owned),
        }
    };
    let record = ClinicalRecord {
        observations: vec![
            obs(
                "4.6",
                Some("mmol/L"),
                Some(range(Some("3.5"), Some("5.3"), Some("mmol/L"), None)),
            ),
            obs(
                "12.8",
                Some("g/dL"),
                Some(range(Some("130"), Some("170"), Some("g/L"), None)),
            ),
            obs("0.5", None, Some(range(Some("0.1"), None, None, None))),
            obs(
                "7",
                Some("%"),
                Some(range(None, Some("6.5"), Some("%"), Some("Diabetic target"))),
            ),
            obs("Positive", None, None),
        ],
        ..ClinicalRecord::default()
    };
    let root = check(&view(&record, Section::Observations, None));
    let rows = table(&root, "obs-tab").row_texts();
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[2].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("0.5", "\u{2265} 0.1"),
            ("12.8 g/dL", "130 - 170 g/L"),
            ("4.6 mmol/L", "3.5 - 5.3"),
            ("7 %", "\u{2264} 6.5 Diabetic target"),
            ("Positive", ""),
        ]
    );
}

#[test]
fn immunisation_part_is_an_integer() {
    let root = check(&view(&rich(), Section::Immunisations, None));
    for r in table(&root, "imm-tab").row_texts() {
        assert!(r[2].parse::<u32>().is_ok(), "{r:?}");
    }
}

#[test]
fn guard_is_an_identity_on_every_view_with_every_banner() {
    let mut record = rich();
    record.encounters[0].exclusion = Exclusion::Confidential;
    let options = RenderOptions {
        scheduled_end_banner: true,
        review_date_banner: true,
        emergency_codes_banner: Some("Emergency <codes> & \"banners\"".into()),
        content_banners: vec![ContentBanner {
            place: BannerPlace::Section(Section::Summary),
            text: "Line 1\nLine 2".into(),
        }],
        ..RenderOptions::default()
    };
    for s in Section::ALL {
        for p in [None, period(Some(date(2015, 5, 1)), Some(date(2016, 7, 1)))] {
            // view_with asserts render == render_unguarded.
            check(&view_with(
                &record,
                s,
                p,
                &options,
                TODAY,
                Some(date(2025, 6, 1)),
            ));
        }
    }
}

#[test]
fn render_never_panics_on_extreme_dates_or_an_inverted_period() {
    let mut record = rich();
    record.encounters[0].date = Date::MAX;
    record.encounters[1].date = Date::MIN;
    record.medications[0].start = Date::MIN;
    record.medications[1].start = Date::MAX;
    record.medications[1].scheduled_end = Some(Date::MIN);
    record.medications[2]
        .issues
        .push(MedicationIssue { date: Date::MAX });
    for today in [Date::MIN, Date::MAX, date(2024, 2, 29)] {
        for p in [
            None,
            period(Some(date(2016, 1, 1)), Some(date(2015, 1, 1))),
            period(Some(Date::MAX), None),
            period(None, Some(Date::MIN)),
            period(None, None),
        ] {
            for s in Section::ALL {
                let html = view_with(
                    &record,
                    s,
                    p,
                    &RenderOptions::default(),
                    today,
                    Some(Date::MIN),
                );
                check(&html);
            }
        }
    }
    // An inverted period matches nothing but still says what was asked.
    let root = check(&view(
        &rich(),
        Section::Encounters,
        period(Some(date(2016, 1, 1)), Some(date(2015, 1, 1))),
    ));
    assert!(root.tables().is_empty());
    assert_eq!(
        date_banner(&root).as_deref(),
        Some("For the period '01-Jan-2016' to '01-Jan-2015'")
    );
}
