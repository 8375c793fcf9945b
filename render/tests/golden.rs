//! Golden files: every view of the sample record (`sample::rich_record`,
//! "today" 10-Jun-2025) and of an empty record ("patient1": every
//! placeholder), plus the filtered PRB and MED views and the in-transit
//! banner. Expected output lives in `tests/golden/*.html` (one line each,
//! exactly as rendered). `GPCONNECT_BLESS=1 cargo test -p gpconnect-render
//! --test golden` rewrites them; review the diff against the spec.

mod common;

use std::path::PathBuf;

use gpconnect_render::{
    ClinicalRecord, DatePeriod, RenderOptions, RenderRequest, Section, render, render_unguarded,
    sample,
};
use jiff::civil::{Date, date};

const TODAY: Date = date(2025, 6, 10);

fn golden(name: &str, record: &ClinicalRecord, request: &RenderRequest<'_>) {
    let html = render(record, request);
    assert_eq!(
        html,
        render_unguarded(record, request),
        "{name}: guard changed it"
    );
    common::check(&html);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.html"));
    if std::env::var_os("GPCONNECT_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("golden dir");
        std::fs::write(&path, format!("{html}\n")).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with GPCONNECT_BLESS=1)", path.display()));
    assert_eq!(
        html,
        expected.trim_end_matches('\n'),
        "{name} differs from {}",
        path.display()
    );
}

fn request(section: Section, options: &RenderOptions) -> RenderRequest<'_> {
    RenderRequest {
        section,
        period: None,
        today: TODAY,
        transfer_since: None,
        options,
    }
}

#[test]
fn golden_rich_record_every_view() {
    let record = sample::rich_record(TODAY);
    let options = RenderOptions::default();
    for section in Section::ALL {
        golden(
            &format!("rich-{}", section.code().to_lowercase()),
            &record,
            &request(section, &options),
        );
    }
}

#[test]
fn golden_empty_record_every_view_every_placeholder() {
    let record = ClinicalRecord::default();
    let options = RenderOptions::default();
    for section in Section::ALL {
        golden(
            &format!("empty-{}", section.code().to_lowercase()),
            &record,
            &request(section, &options),
        );
    }
}

#[test]
fn golden_filtered_views_and_transfer_banner() {
    let record = sample::rich_record(TODAY);
    let options = RenderOptions {
        scheduled_end_banner: true,
        review_date_banner: true,
        emergency_codes_banner: Some(
            "Emergency codes are those of the COVID-19 shielding list".into(),
        ),
        ..RenderOptions::default()
    };
    let period = DatePeriod {
        start: Some(date(2015, 5, 1)),
        end: Some(date(2016, 7, 1)),
    };
    for section in [Section::Problems, Section::Medications, Section::Encounters] {
        golden(
            &format!("period-{}", section.code().to_lowercase()),
            &record,
            &RenderRequest {
                period: Some(period),
                ..request(section, &options)
            },
        );
    }
    golden(
        "transfer-sum",
        &record,
        &RenderRequest {
            transfer_since: Some(date(2025, 6, 3)),
            ..request(Section::Summary, &options)
        },
    );
}
