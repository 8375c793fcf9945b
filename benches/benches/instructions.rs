//! Instruction counts (valgrind callgrind, through gungraun) of the pure
//! rules and codecs: no store, no I/O, no threads, a fixed clock and fixed
//! inputs, so each count is a property of the code and the toolchain, not
//! of the machine's load. `benches/instructions-baseline.json` holds the
//! committed counts and `check-instructions` fails CI when one grows past
//! its tolerance; see `BENCHMARKS.md` (Instruction counts).
//!
//! Inputs are built by the `#[bench]` arguments, which callgrind does not
//! count; each bench returns its result (and borrows its input from a
//! leaked fixture) so that freeing them is not counted either.
//!
//! Run (needs valgrind and `gungraun-runner` of gungraun's exact version):
//! `cargo bench -p gpconnect-benches --features instructions --bench instructions`.

use std::hint::black_box;

use gpconnect_benches::bundle::{Searchset, searchset};
use gpconnect_core::appointments::availability::{Requester, availability, limit_checks};
use gpconnect_core::appointments::book::{
    BookingRequest, slots_form_one_booking, validate_booking_request,
};
use gpconnect_core::appointments::search::{SlotSearch, parse_slot_search};
use gpconnect_core::checks::datetime::{format_uk_local, uk_today};
use gpconnect_core::checks::jwt::{JwtClaims, JwtContext, JwtProfile, Scope, validate_bearer};
use gpconnect_core::engine::token::TokenSpec;
use gpconnect_core::fhir::{Limits, from_json, from_xml, to_json, to_xml};
use gpconnect_core::store::{
    LimitCheck, PracticeImport, PracticeRecord, ScheduleRecord, SlotRecord,
};
use gpconnect_core::stu3::{self, Bundle, Instant, Reference};
use gpconnect_core::testkit;
use gpconnect_render::{ClinicalRecord, RenderOptions, RenderRequest, Section, render, sample};
use gungraun::{
    Callgrind, LibraryBenchmarkConfig, library_benchmark, library_benchmark_group, main,
};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use serde_json::Value;

/// The fixed "now" of every rule bench, 2026-11-25T10:00:00Z (the
/// testkit's day 1 is the next UK day). A constant, so that reading the
/// clock costs the measured code nothing.
const NOW: Timestamp = Timestamp::constant(1_795_600_800, 0);

/// The render benches' "today".
fn today() -> Date {
    date(2025, 6, 10)
}

/// Leak `v`: a fixture borrowed by the measured function is never freed,
/// so freeing it cannot count against the bench.
fn leak<T>(v: T) -> &'static T {
    Box::leak(Box::new(v))
}

/// Warm the lazily built UK time zone (jiff's bundled tzdb), so the rule
/// benches count the rule, not the one-off load that every process pays.
fn warm_uk_time_zone() {
    assert_eq!(NOW.to_string(), "2026-11-25T10:00:00Z");
    black_box(uk_today(NOW));
}

// ----------------------------------------------------------------------------
// Codecs: the 100-entry searchset Bundle of `gpconnect_benches::bundle`.
// ----------------------------------------------------------------------------

fn doc() -> &'static Searchset {
    leak(searchset())
}

#[library_benchmark]
#[bench::bundle_100(doc())]
fn json_parse_typed(doc: &'static Searchset) -> Bundle {
    from_json(black_box(&doc.json), Limits::REQUEST).expect("parse")
}

// The limit for `json_parse_typed`: the same bytes into a `Value`.
#[library_benchmark]
#[bench::bundle_100(doc())]
fn json_parse_value(doc: &'static Searchset) -> Value {
    serde_json::from_slice(black_box(&doc.json)).expect("parse")
}

#[library_benchmark]
#[bench::bundle_100(doc())]
fn json_write_typed(doc: &'static Searchset) -> Vec<u8> {
    to_json(black_box(&doc.typed))
}

// The limit for `json_write_typed`: the same document from a `Value`.
#[library_benchmark]
#[bench::bundle_100(doc())]
fn json_write_value(doc: &'static Searchset) -> Vec<u8> {
    serde_json::to_vec(black_box(&doc.value)).expect("write")
}

#[library_benchmark]
#[bench::bundle_100(doc())]
fn xml_parse_typed(doc: &'static Searchset) -> Bundle {
    from_xml(black_box(&doc.xml), Limits::REQUEST).expect("parse")
}

#[library_benchmark]
#[bench::bundle_100(doc())]
fn xml_write_typed(doc: &'static Searchset) -> String {
    to_xml(black_box(&doc.typed))
}

library_benchmark_group!(
    name = codec;
    benchmarks = json_parse_typed, json_parse_value, json_write_typed, json_write_value,
        xml_parse_typed, xml_write_typed
);

// ----------------------------------------------------------------------------
// Rules.
// ----------------------------------------------------------------------------

/// An appointments (STU3) bearer token for a booking, issued a minute
/// before [`now`], as a consumer sends it.
fn book_token() -> &'static str {
    warm_uk_time_zone();
    let issued = NOW - jiff::SignedDuration::from_mins(1);
    let token = TokenSpec::new(
        JwtProfile::Appointments,
        Scope::PatientWrite,
        "B82001",
        issued,
    )
    .encode()
    .expect("valid token");
    leak(token)
}

// Decode and validate the token as the request checks do (digest §3.3).
#[library_benchmark]
#[bench::appointments_book(book_token())]
fn jwt_validate(token: &'static str) -> JwtClaims {
    let ctx = JwtContext::new(JwtProfile::Appointments, Scope::PatientWrite);
    validate_bearer(black_box(token), &ctx, NOW).expect("valid token")
}

/// A full slot search query: a 14-day range, the includes, and both
/// search filters.
fn search_query() -> &'static [(&'static str, &'static str)] {
    warm_uk_time_zone();
    &[
        ("start", "ge2026-11-26"),
        ("end", "le2026-12-09"),
        ("status", "free"),
        ("_include", "Slot:schedule"),
        ("_include:recurse", "Schedule:actor:Practitioner"),
        ("_include:recurse", "Schedule:actor:Location"),
        ("_include:recurse", "Location:managingOrganization"),
        (
            "searchFilter",
            "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1|urgent-care",
        ),
        (
            "searchFilter",
            "https://fhir.nhs.uk/Id/ods-organization-code|B82001",
        ),
    ]
}

// Parse and validate the query (§4.1), date rules included.
#[library_benchmark]
#[bench::fourteen_days(search_query())]
fn slot_search_parse(query: &'static [(&'static str, &'static str)]) -> SlotSearch {
    parse_slot_search(black_box(query)).expect("valid search")
}

/// The search, the testkit practice and its slots: 14 days of two
/// schedules, 504 slots, including the unbookable, Visit, restricted and
/// busy ones of day 1.
struct SearchInput {
    search: SlotSearch,
    practice: PracticeRecord,
    slots: Vec<SlotRecord>,
}

fn search_input() -> &'static SearchInput {
    let query = search_query();
    let input = SearchInput {
        search: parse_slot_search(query).expect("valid search"),
        practice: testkit::practice_record(),
        slots: testkit::slots(NOW, 14),
    };
    // The rules must both show and hide slots, or the bench measures a
    // degenerate case.
    let shown = shown(&input);
    assert!(
        (1..input.slots.len()).contains(&shown),
        "{shown} of {} slots shown",
        input.slots.len()
    );
    leak(input)
}

fn shown(input: &SearchInput) -> usize {
    let requesters = input.search.requesters();
    input
        .slots
        .iter()
        .filter(|slot| {
            input.search.covers(slot)
                && requesters
                    .iter()
                    .all(|who| availability(slot, &input.practice, who, NOW).is_ok())
        })
        .count()
}

// Which slots the search shows (§4.2): in the range and available to
// every requester the filters describe, as `search_free_slots` filters
// the store's answer. Returns the count shown.
#[library_benchmark]
#[bench::testkit_504_slots(search_input())]
fn slot_search_filter(input: &'static SearchInput) -> usize {
    shown(black_box(input))
}

/// Three adjacent slots of schedule 14 on day 2 made one slot type, the
/// schedule, the practice, and the spec's book request for them.
struct BookingInput {
    body: stu3::Appointment,
    /// `body` validated, for the slot rules.
    request: BookingRequest,
    slots: Vec<SlotRecord>,
    schedule: ScheduleRecord,
    practice: PracticeRecord,
}

/// The spec's book request example (`book_appt_request_example.json`).
const BOOK_EXAMPLE: &str =
    include_str!("../../core/tests/data/stu3/book_appt_request_example.json");

fn booking_input() -> &'static BookingInput {
    warm_uk_time_zone();
    let PracticeImport {
        practice,
        schedules,
        slots,
        ..
    } = testkit::practice(NOW);
    let mut slots: Vec<SlotRecord> = ["14-2-0", "14-2-1", "14-2-2"]
        .iter()
        .map(|id| {
            slots
                .iter()
                .find(|s| s.id == *id)
                .cloned()
                .expect("testkit slot")
        })
        .collect();
    // The testkit alternates slot types; R14d needs one type.
    for s in &mut slots {
        s.service_type = "General GP Appointment".to_owned();
    }
    let schedule = schedules
        .into_iter()
        .find(|s| s.id == "14")
        .expect("testkit schedule");
    let reference = |kind: &str, id: &str| Reference {
        reference: Some(format!("{kind}/{id}")),
        ..Default::default()
    };
    let mut body: stu3::Appointment =
        from_json(BOOK_EXAMPLE.as_bytes(), Limits::REQUEST).expect("spec example");
    body.slot = slots.iter().map(|s| reference("Slot", &s.id)).collect();
    body.start = Instant::new(format_uk_local(slots[0].start)).ok();
    body.end = Instant::new(format_uk_local(slots[2].end)).ok();
    body.participant[0].actor = Some(reference("Patient", "2"));
    body.participant[1].actor = Some(reference("Location", &schedule.location_id));
    let request = validate_booking_request(&body, NOW).expect("valid request");
    leak(BookingInput {
        body,
        request,
        slots,
        schedule,
        practice: practice.expect("testkit practice"),
    })
}

// A book request body's checks without the appointment book (R1–R10).
#[library_benchmark]
#[bench::three_slots(booking_input())]
fn booking_validate(input: &'static BookingInput) -> BookingRequest {
    validate_booking_request(black_box(&input.body), NOW).expect("valid request")
}

// The rules a booking's slots must pass once read: one booking (R14
// adjacency, schedule, channel, type; R13 start/end; R3 location), each
// slot available (R12: free, bookable, restrictions, booking window),
// and the slot-count limits that apply.
#[library_benchmark]
#[bench::three_slots(booking_input())]
fn booking_slot_rules(input: &'static BookingInput) -> Vec<LimitCheck> {
    let input = black_box(input);
    slots_form_one_booking(&input.request, &input.slots, &input.schedule).expect("one booking");
    let who: Requester<'_> = input.request.requester();
    for slot in &input.slots {
        availability(slot, &input.practice, &who, NOW).expect("available");
    }
    limit_checks(&input.practice, &who, input.slots[0].start)
}

library_benchmark_group!(
    name = rules;
    benchmarks = jwt_validate, slot_search_parse, slot_search_filter, booking_validate,
        booking_slot_rules
);

// ----------------------------------------------------------------------------
// Render: Access Record HTML views, writer and guard.
// ----------------------------------------------------------------------------

struct RenderInput {
    record: ClinicalRecord,
    section: Section,
    options: RenderOptions,
}

fn render_input(record: ClinicalRecord, section: Section) -> &'static RenderInput {
    leak(RenderInput {
        record,
        section,
        options: RenderOptions::default(),
    })
}

// The guarded view (writer, then ammonia and XHTML re-serialisation).
#[library_benchmark]
#[bench::summary_rich(render_input(sample::rich_record(today()), Section::Summary))]
#[bench::medications_200(render_input(sample::large_record(today(), 200), Section::Medications))]
fn render_view(input: &'static RenderInput) -> String {
    let request = RenderRequest {
        section: input.section,
        period: None,
        today: today(),
        transfer_since: None,
        options: &input.options,
    };
    render(black_box(&input.record), &request)
}

// The writer alone, to tell its share from the guard's.
#[library_benchmark]
#[bench::medications_200(render_input(sample::large_record(today(), 200), Section::Medications))]
fn render_writer(input: &'static RenderInput) -> String {
    let request = RenderRequest {
        section: input.section,
        period: None,
        today: today(),
        transfer_since: None,
        options: &input.options,
    };
    gpconnect_render::render_unguarded(black_box(&input.record), &request)
}

library_benchmark_group!(
    name = views;
    benchmarks = render_view, render_writer
);

// Instructions only: the cache simulation's figures are not checked, and
// turning it off roughly halves the run.
main!(
    config = LibraryBenchmarkConfig::default().tool(Callgrind::with_args(["--cache-sim=no"]));
    library_benchmark_groups = codec, rules, views
);
