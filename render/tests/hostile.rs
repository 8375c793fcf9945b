//! Hostile text in every text field of the record: the output always passes
//! the structural checker, the guard leaves it unchanged, and every cell
//! reads back as its input after the documented normalisation
//! (`xhtml::normalise_text`; the tests use their own `common::norm`).

mod common;

use common::fixture::{Fixture, build, verify};
use common::{check, norm};
use gpconnect_render::record::{ClinicalRecord, Encounter, Exclusion};
use gpconnect_render::{RenderOptions, RenderRequest, Section, render, render_unguarded};
use jiff::civil::date;
use proptest::prelude::*;

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<script>alert(1)</script>".to_owned()),
        Just("<img src=x onerror=alert(1)>".to_owned()),
        Just("<a href=\"javascript:alert(1)\">x</a>".to_owned()),
        Just("javascript:alert(document.cookie)".to_owned()),
        Just("&amp;lt;".to_owned()),
        Just("&nbsp;&copy;&#60;&#x3C;&".to_owned()),
        Just("<![CDATA[x]]>".to_owned()),
        Just("]]>".to_owned()),
        Just("<!-- -->".to_owned()),
        Just("<?xml version=\"1.0\"?>".to_owned()),
        Just("</td></tr></tbody></table></div>".to_owned()),
        Just("<div class=\"date-banner\"><p>x</p></div>".to_owned()),
        Just("<br/><br>".to_owned()),
        Just("\"'`=".to_owned()),
        Just("\r\n".to_owned()),
        Just("\r".to_owned()),
        Just("\n".to_owned()),
        Just("\t".to_owned()),
        Just("\u{0}\u{1}\u{8}\u{b}\u{c}\u{1b}\u{1f}\u{7f}".to_owned()),
        Just("\u{FFFE}\u{FFFF}\u{FFFD}".to_owned()),
        Just("\u{202E}\u{202D}\u{2066}\u{200B}\u{FEFF}".to_owned()),
        Just("\u{85}\u{2028}\u{2029}\u{A0}".to_owned()),
        Just("Linked Problem : CANCELLED: 01-Jan-2015".to_owned()),
        "[a-z <>&\"']{0,40}",
        "\\PC{0,20}",
        any::<char>().prop_map(String::from),
        "[\\x00-\\x1f]{1,4}",
        "[a-zA-Z0-9]{500,3000}",
    ]
}

fn hostile() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..6).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn hostile_text_in_every_field_is_escaped_and_reads_back(
        strings in prop::collection::vec(hostile(), 1..40),
    ) {
        let mut i = 0;
        let fx: Fixture = build(1, &mut |_| {
            i += 1;
            strings[i % strings.len()].clone()
        });
        verify(&fx);
    }
}

#[test]
fn a_one_megabyte_field_is_neither_truncated_nor_unsafe() {
    let unit = "<script>alert('x')</script> & &amp;nbsp; \r\n\t\u{0}\u{FFFE} line ";
    let mut details = String::with_capacity(1 << 20);
    while details.len() < 1 << 20 {
        details.push_str(unit);
    }
    let record = ClinicalRecord {
        encounters: vec![Encounter {
            date: date(2016, 1, 1),
            title: "Dr A".into(),
            details: details.clone(),
            exclusion: Exclusion::None,
        }],
        ..ClinicalRecord::default()
    };
    let options = RenderOptions::default();
    let request = RenderRequest {
        section: Section::Encounters,
        period: None,
        today: date(2025, 6, 10),
        transfer_since: None,
        options: &options,
    };
    let html = render(&record, &request);
    assert_eq!(html, render_unguarded(&record, &request));
    let root = check(&html);
    let rows = root.tables()[0].row_texts();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][2], norm(&details));
    assert!(rows[0][2].len() >= 1 << 20);
}
