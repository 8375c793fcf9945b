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
//! # Decisions where the spec is silent or conflicting
//!
//! - **Root `xmlns`.** The root is `<div xmlns="http://www.w3.org/1999/xhtml">`:
//!   FHIR narrative is XHTML, and with the namespace the string embeds
//!   unchanged in a FHIR XML Composition as well as in JSON (§2.1 allows it;
//!   no test requires or forbids it). Inner divs carry none.
//! - **Text normalisation** ([`xhtml::normalise_text`]): line breaks become
//!   `<br/>`, tabs a space, C0 controls and U+FFFE/U+FFFF become U+FFFD
//!   (visible, rather than silently dropped). Only `&amp;` `&lt;` `&gt;`
//!   (and `&quot;` in attributes) are ever written; `"` in text is literal.
//! - **Date banners of the "All" subsections** (PRB Active; MED Acute,
//!   Current Repeat, Discontinued): `All relevant items` without a period
//!   (as §3 PRB says for Active), `Date filter not applied` with one (§2.4).
//!   Not the demonstrator's constant "not applied" (§6.1 deviation 6).
//! - **Inactive problems and the period** (undefined, §3 PRB): a problem is
//!   in when its span start..end (start alone if no end) overlaps the
//!   period. This keeps everything the demonstrator's start-date test
//!   keeps, and adds problems active during the period that began before it.
//! - **Acute Medication (Last 12 Months)**: start later than the same day a
//!   year before today (29-Feb → 28-Feb). That is "today − 365 days" except
//!   when the year holds a 29 February, where it is 366 days, so the window
//!   is always a calendar year (§3 MED 1; §6.1 deviation 7).
//! - **Current repeat end**: current while `authorisation_end` is after
//!   today ("in the future", §3 MED 2); ending today is not current.
//! - **All Medication filter** (§3 MED rules a–c): a repeat's effective end
//!   is the earliest of scheduled end, discontinuation and authorisation
//!   end, so a repeat stopped before the period is not "ongoing".
//! - **All Medication ↔ Issues consistency** (§5.1 item 17): Last Issued,
//!   Number Issued and All Medication's Start Date are derived from the
//!   issues (first issue, else the item's start), never stored, so they
//!   cannot disagree. Repeat dispensing and prescribed-elsewhere items show
//!   no issues whatever the host sends (§3 MED 5).
//! - **Type texts**: `Acute`, `Acute Post-Dated`, `Repeat`, `Repeat
//!   Dispensing`, and `… – Agency` / `… – Unknown Prescriber` (en dash, as
//!   the digest writes `Acute – Dentist`).
//! - **Additional Information**: `<strong>CONTROLLED DRUG</strong>`, then
//!   `CANCELLED: date reason` (Acute Medication only: All Medication has its
//!   own Discontinuation Details column), the reason, `Linked Problem : X`
//!   per problem, for repeat dispensing `Last Authorised : date` and
//!   `Issues Authorised : n`, then other information; `<br/>` between.
//! - **Date cells**: `class="date-column"` on every non-empty date cell
//!   (§2.6), a superset of the suite's columns (§5.1 item 14): Acute's
//!   Scheduled End and Discontinued's Last Issued carry it too.
//! - **Groups** (All Medication, Issues): alphabetical ignoring case, then
//!   by exact text. **Ties** in every sort are broken on the row's text, so
//!   output never depends on the order a host lists items in.
//! - **Exclusions**: the banner shows when a withheld item would otherwise
//!   have been in that table (after the period, the last-3 cut, the
//!   emergency-code grouping). Last 3 Encounters then shows the three most
//!   recent shareable encounters; an emergency-code group whose newest code
//!   is withheld shows nothing (an older code would misstate the status).
//! - **Unavailable tables** (placeholders 2–4) keep their content and date
//!   banners and drop the exclusion banner. A Major Inactive table marked
//!   `notSupported` sends every inactive problem to Other (§3 PRB).
//! - **Observation range**: `low - high`, `≥ low` or `≤ high`, the range's
//!   unit only when it differs from the value's, then any text.
//! - **Empty banners** (a configured content banner with no text) are
//!   omitted like any banner that does not apply (§2.2).
//!
//! Not done here: the provider default time window (§2.4 "All data items
//! from …") has no field in [`RenderRequest`]; filtering an in-transit
//! record to data entered at the new practice (§1.6) is the host's job.

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
///
/// ```
/// use gpconnect_render::{render, sample, RenderOptions, RenderRequest, Section};
/// use jiff::civil::date;
///
/// let today = date(2025, 6, 10);
/// let record = sample::rich_record(today);
/// let options = RenderOptions::default();
/// let request = RenderRequest {
///     section: Section::Encounters,
///     period: None,
///     today,
///     transfer_since: None,
///     options: &options,
/// };
/// let div = render(&record, &request);
/// assert!(div.starts_with(
///     r#"<div xmlns="http://www.w3.org/1999/xhtml"><h1>Encounters</h1><div class="date-banner"><p>All relevant items</p></div><table id="enc-tab">"#
/// ));
/// // Free text is escaped and its line breaks become <br/>.
/// assert!(div.contains("Plan: analgesia &amp; physio; review if &gt; 6 weeks."));
/// assert!(!div.contains('\n'));
/// ```
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

/// The whole section as "cannot be extracted" (§2.5 placeholder 2): what
/// [`render`] returns if the guard refuses the writer's output.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_is_placeholder_2_for_every_table_and_passes_the_guard() {
        let html = fallback(Section::Medications);
        assert_eq!(guard::guard(&html).as_deref(), Ok(html.as_str()));
        assert_eq!(
            html.matches("This system does not support retrieval of '")
                .count(),
            5
        );
        assert!(!html.contains("<table"));
        assert!(html.contains(
            "<p>This system does not support retrieval of 'All Medication Issues' data.</p><p>This data may still exist in the source system.</p>"
        ));
    }
}
