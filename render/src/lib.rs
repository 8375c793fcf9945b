//! gpconnect-render: the GP Connect Access Record HTML views (0.7.4).
//!
//! A leaf crate: a plain clinical-record model ([`record`]) goes in, one
//! line of XHTML for `Composition.section[0].text.div` comes out. It knows
//! nothing of FHIR or storage; the engine (`gpconnect-core`) fetches the
//! record, validates the request, and wraps the HTML in a Composition.
//!
//! - [`section::Section`]: the ten record sections (SUM … ADM) with their
//!   titles and whether they accept a `timePeriod` (accessrecord §1.4).
//! - [`record`]: what a host system fills in: encounters, problems,
//!   allergies, medications (with issues), referrals, observations,
//!   immunisations, administrative items and emergency codes.
//! - [`view`]: the render request (section, period, "today", banners) and
//!   options a provider configures.
//! - [`render`]: the view, sanitised; [`render_unguarded`]: the writer alone.
//! - [`sample`]: documented sample records for demos, tests and benches.
//!
//! # Why it is built this way
//!
//! The div carries free text typed by clinicians and imported from other
//! systems, and the consumer shows it in a browser. The reference
//! demonstrator concatenated strings without escaping (accessrecord §6.1,
//! deviation 1), so its data could inject markup. Here safety does not rest
//! on remembering to escape:
//!
//! 1. **One writer** ([`xhtml`]) produces every byte. Its API takes element,
//!    attribute and class *enums* from the §2.1/§2.6 allow-list, and text
//!    only through a method that escapes and normalises it (no `\n`, `\r`,
//!    `\t`; line breaks become `<br/>`; characters XML 1.0 forbids become
//!    U+FFFD). No data ever reaches an attribute value. There is no way to
//!    write raw markup.
//! 2. **A guard** ([`guard`]) passes that output through `ammonia`, set up
//!    from an empty allow-list with exactly the same elements, attributes,
//!    ids and classes, and writes the result again through the same writer.
//!    For the writer's own output it is an identity (tested, including by
//!    property tests over hostile strings and a 6,600-payload XSS corpus);
//!    it is there so that a future bug in the views cannot ship markup the
//!    spec does not allow. It costs a parse, so it is measured separately.
//! 3. **The views** ([`views`]) decide only what goes where: tables, order,
//!    banners, placeholders, exactly as accessrecord §2–§3 and the provider
//!    test suite (§5.1) require. They cannot produce markup except via 1.
//!
//! The root element is `<div xmlns="http://www.w3.org/1999/xhtml">`: FHIR
//! narrative is XHTML, and with the namespace the string embeds unchanged
//! in a FHIR XML Composition as well as in JSON (§2.1 allows it; no test
//! requires or forbids it).

pub mod guard;
pub mod record;
pub mod sample;
pub mod section;
pub mod view;
pub mod views;
pub mod xhtml;

pub use record::ClinicalRecord;
pub use section::Section;
pub use section::Table;
pub use view::{BannerPlace, ContentBanner, DatePeriod, RenderOptions, RenderRequest};

/// The `text.div` of one section for one patient: the view of
/// accessrecord §2–§3, passed through the [`guard`].
///
/// Never panics. A period sent with SUM, ALL or IMM (which the engine
/// refuses with 400 before rendering) is ignored. Should the guard ever
/// refuse the writer's output, the section is rendered as placeholder 2 of
/// §2.5 ("This system does not support retrieval of '…' data.") rather than
/// risk unchecked markup.
pub fn render(record: &ClinicalRecord, request: &RenderRequest<'_>) -> String {
    let html = render_unguarded(record, request);
    match guard::guard(&html) {
        Ok(safe) => safe,
        Err(_) => fallback(request.section),
    }
}

/// The writer's output alone, without the [`guard`] (for the bench, and
/// for tests that show the guard is an identity on it).
pub fn render_unguarded(record: &ClinicalRecord, request: &RenderRequest<'_>) -> String {
    views::write(record, request)
}

/// The whole section as "cannot be extracted" (§2.5 placeholder 2).
fn fallback(section: Section) -> String {
    let record = ClinicalRecord {
        unavailable: views::tables(section, true)
            .into_iter()
            .map(|table| record::UnavailableTable {
                table,
                reason: record::Unavailability::CannotExtract,
            })
            .collect(),
        ..ClinicalRecord::default()
    };
    let options = RenderOptions::default();
    let request = RenderRequest {
        section,
        period: None,
        today: jiff::civil::date(2000, 1, 1),
        transfer_since: None,
        options: &options,
    };
    views::write(&record, &request)
}
