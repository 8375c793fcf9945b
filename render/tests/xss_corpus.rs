//! Every payload of the XSS corpus (`shared/corpus/xss`, one payload a
//! line) through every text field of the record, in all ten views: the
//! structural checker passes, every cell reads back as its payload, and
//! (on a rotating sample, the guard being slow in debug builds) `render`
//! equals `render_unguarded`.
//!
//! The corpus sits beside the checkout: `CARGO_MANIFEST_DIR/../../shared`
//! (`/work/main/render` → `/work/shared`), which is also `../shared` from
//! the workspace root in a worktree beside `shared/`.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use common::check;
use common::fixture::{TODAY, build, for_section, verify_with};
use common::norm;
use gpconnect_render::{
    ClinicalRecord, RenderOptions, RenderRequest, Section, render, render_unguarded,
};

fn corpus() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/xss");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the XSS corpus must be at {}: {e}", dir.display()))
        .map(|e| e.expect("a corpus entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut payloads = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).expect("a corpus file");
        let text = String::from_utf8_lossy(&bytes);
        payloads.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
    }
    payloads
}

#[test]
fn every_xss_payload_in_every_text_field_is_inert_and_reads_back() {
    let payloads = corpus();
    assert!(payloads.len() > 6_000, "{} payloads", payloads.len());
    // Each field name has its own rotation through the corpus, so every
    // payload lands in every field; fixtures hold 40 items a table.
    let mut next: HashMap<&'static str, usize> = HashMap::new();
    let mut fixtures = 0;
    loop {
        let done = |next: &HashMap<&'static str, usize>| {
            !next.is_empty()
                && next
                    .iter()
                    .filter(|(k, _)| **k != "options.emergency_codes_banner")
                    .all(|(_, &n)| n >= payloads.len())
        };
        if done(&next) {
            break;
        }
        let fx = build(40, &mut |field| {
            let n = next.entry(field).or_insert(0);
            *n += 1;
            payloads[(*n - 1) % payloads.len()].clone()
        });
        // Each view gets only its own items (each payload passes through
        // each field once, not once per view that repeats it); one
        // fixture in eight also goes through the guard, which must leave
        // it unchanged (the guard is slow in debug builds).
        for section in Section::ALL {
            verify_with(&for_section(&fx, section), &[section], fixtures % 8 == 0);
        }
        fixtures += 1;
    }
    assert!(fixtures > 1);

    // The Emergency Codes banner is a single option: one render a payload.
    let record = ClinicalRecord::default();
    for (i, p) in payloads.iter().enumerate() {
        let options = RenderOptions {
            emergency_codes_banner: Some(p.clone()),
            ..RenderOptions::default()
        };
        let request = RenderRequest {
            section: Section::Summary,
            period: None,
            today: TODAY,
            transfer_since: None,
            options: &options,
        };
        let html = render_unguarded(&record, &request);
        if i % 8 == 0 {
            assert_eq!(html, render(&record, &request));
        }
        let root = check(&html);
        let ec = root.subsection("Emergency Codes").unwrap();
        assert_eq!(
            ec.banners(),
            vec![("content-banner".to_owned(), norm(p))],
            "{p:?}"
        );
    }
}
