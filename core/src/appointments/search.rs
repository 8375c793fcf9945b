//! A1 "Search for free slots" (appointments digest §4), transport-neutral:
//! [`parse_slot_search`] turns the decoded query parameters into a
//! validated [`SlotSearch`] (§4.1), and [`search_free_slots`] answers it
//! from the storage port with the searchset Bundle of §4.3.
//!
//! * **Request (§4.1).** `start=ge…`, `end=le…`, `status=free` and
//!   `_include=Slot:schedule` are required. Missing ones are 400
//!   `BAD_REQUEST` (the test suite for `start` and `status`; the \[REC\]s for
//!   `end` and the `_include`). Invalid values, prefixes, partial dates, `Z`
//!   or missing offsets, ranges over 14 days and end-before-start are 422
//!   `INVALID_PARAMETER`. The date rules themselves live in
//!   [`slot_search_range`]. Unknown parameters (`_count`, `_sort`, …) are
//!   ignored (§2.2).
//! * **Which slots (§4.2).** Slots lying fully within the range
//!   (`slot.start >= from && slot.end <= until`) and available to the
//!   requester that the `searchFilter`s describe, per
//!   [`availability`]. That means free, GP Connect bookable, not `Visit`,
//!   not started, within the booking window, and allowed by the
//!   restriction table.
//! * **Response (§4.3, §1.1).** A `searchset` Bundle without `fullUrl`s,
//!   with entries in this order: Slots (in start order), then their
//!   Schedules, then Practitioners and Locations (only when their
//!   `_include:recurse` was sent), then the practice Organization. The
//!   Organization is always there unless the Bundle is empty (§11.10).
//!   Every resource appears once. An empty search has no entries at all.
//! * **Incomplete data (R86).** A returned slot whose schedule, location,
//!   practitioner or organisation is missing fails the whole search with
//!   500 `INTERNAL_SERVER_ERROR` and diagnostics, so a Bundle never holds a
//!   dangling reference.
//!
//! The hot path makes one `slots` range query and filters in memory. It
//! looks up each distinct schedule, location, practitioner and organisation
//! once per request.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use jiff::{SignedDuration, Timestamp};

use crate::appointments::availability::{Requester, availability};
use crate::checks::datetime::{format_uk_local, slot_search_range};
use crate::error::{Echo, Error};
use crate::fhir::datatypes::{CodeableConcept, Extension, ExtensionValue, Meta, Period};
use crate::fhir::primitive::{Code, DateTime, Id, Instant};
use crate::operation::{Answer, Context};
use crate::population;
use crate::store::{
    LocationRecord, OrganizationRecord, PractitionerRecord, ScheduleRecord, SlotQuery, SlotRecord,
    SlotStatus,
};
use crate::stu3::profiles::{code_system, extension, identifier_system, profile};
use crate::stu3::{self, Bundle, BundleEntry, Resource};

/// The parameter names and fixed values of the slot search (§4.1). The
/// CapabilityStatement's `searchInclude` list can use them too.
pub mod param {
    /// `start=ge{date}`: exactly once.
    pub const START: &str = "start";
    /// `end=le{date}`: exactly once.
    pub const END: &str = "end";
    /// `status=free`: exactly once.
    pub const STATUS: &str = "status";
    /// The only `status` value a search may ask for.
    pub const STATUS_FREE: &str = "free";
    /// `_include`; the value [`SLOT_SCHEDULE`] is required.
    pub const INCLUDE: &str = "_include";
    /// `_include:recurse`; the values are the optional includes.
    pub const INCLUDE_RECURSE: &str = "_include:recurse";
    /// `searchFilter={system}|{code}`: repeatable.
    pub const SEARCH_FILTER: &str = "searchFilter";
    /// Required `_include` value.
    pub const SLOT_SCHEDULE: &str = "Slot:schedule";
    /// `_include:recurse` value: return the schedules' Practitioners.
    pub const SCHEDULE_ACTOR_PRACTITIONER: &str = "Schedule:actor:Practitioner";
    /// `_include:recurse` value: return the schedules' Locations.
    pub const SCHEDULE_ACTOR_LOCATION: &str = "Schedule:actor:Location";
    /// `_include:recurse` value: accepted. The Organization is returned
    /// whether or not it is sent (§4.1 known issue, §11.10).
    pub const LOCATION_MANAGING_ORGANIZATION: &str = "Location:managingOrganization";
}

/// A validated slot search (§4.1). Build it with [`parse_slot_search`].
/// The fields are private so every `SlotSearch` keeps the §4.1 rules,
/// including the 14-day limit that bounds the work of a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotSearch {
    from: Timestamp,
    until: Timestamp,
    include_practitioner: bool,
    include_location: bool,
    include_managing_organization: bool,
    organisation_types: Vec<String>,
    ods_codes: Vec<String>,
}

impl SlotSearch {
    /// Earliest slot start, inclusive. A date-only `start` means 00:00 UK
    /// local time on that day (§4.2 item 2 \[REC\]).
    pub fn from(&self) -> Timestamp {
        self.from
    }

    /// Latest slot end, inclusive: a slot is returned only if
    /// `slot.end <= until`. A date-only `end` means 00:00 UK local time on
    /// the *next* day, so the whole named day is covered (§4.2 item 2
    /// \[REC\]).
    pub fn until(&self) -> Timestamp {
        self.until
    }

    /// `_include:recurse=Schedule:actor:Practitioner` was sent.
    pub fn include_practitioner(&self) -> bool {
        self.include_practitioner
    }

    /// `_include:recurse=Schedule:actor:Location` was sent.
    pub fn include_location(&self) -> bool {
        self.include_location
    }

    /// `_include:recurse=Location:managingOrganization` was sent. It is
    /// accepted but changes nothing: the Organization is always returned
    /// (§4.1, §11.10).
    pub fn include_managing_organization(&self) -> bool {
        self.include_managing_organization
    }

    /// Organisation-type codes from `searchFilter`s with the
    /// `GPConnect-OrganisationType-1` system, as sent (unknown codes such as
    /// `oncology` included, §4.1), without duplicates.
    pub fn organisation_types(&self) -> &[String] {
        &self.organisation_types
    }

    /// ODS codes from `searchFilter`s with the `ods-organization-code`
    /// system, as sent, without duplicates.
    pub fn ods_codes(&self) -> &[String] {
        &self.ods_codes
    }

    /// Whether `slot` lies fully within the range (§4.2 item 2).
    pub fn covers(&self, slot: &SlotRecord) -> bool {
        slot.start >= self.from && slot.end <= self.until
    }

    /// The requesters a slot must be available to (§4.2 table). Without
    /// filters there is one requester with neither value. Normally there is
    /// at most one value of each system, so one requester. A repeated
    /// system gives one requester per combination, and a slot is shown only
    /// if **every** combination may book it. That is FHIR's meaning for a
    /// repeated parameter (AND), and it never shows a reserved slot to a
    /// consumer that might not be entitled to it.
    pub fn requesters(&self) -> Vec<Requester<'_>> {
        fn values(v: &[String]) -> Vec<Option<&str>> {
            if v.is_empty() {
                vec![None]
            } else {
                v.iter().map(|s| Some(s.as_str())).collect()
            }
        }
        let types = values(&self.organisation_types);
        let codes = values(&self.ods_codes);
        let mut out = Vec::with_capacity(types.len() * codes.len());
        for &organisation_type in &types {
            for &ods_code in &codes {
                out.push(Requester {
                    organisation_type,
                    ods_code,
                });
            }
        }
        out
    }
}

/// A parameter that must be sent exactly once (§4.1).
#[derive(Default)]
struct ExactlyOnce<'q> {
    value: Option<&'q str>,
    repeated: bool,
}

impl<'q> ExactlyOnce<'q> {
    fn push(&mut self, value: &'q str) {
        if self.value.is_some() {
            self.repeated = true;
        } else {
            self.value = Some(value);
        }
    }

    /// The value. Missing or repeated is 400 `BAD_REQUEST`: the shape of
    /// the request is wrong, not a value (see [`parse_slot_search`]).
    fn get(&self, name: &str, example: &str) -> Result<&'q str, Error> {
        match (self.value, self.repeated) {
            (Some(v), false) => Ok(v),
            (None, _) => Err(Error::bad_request(format!(
                "Slot search parameter '{name}' is required (e.g. {name}={example})"
            ))),
            (Some(_), true) => Err(Error::bad_request(format!(
                "Slot search parameter '{name}' must be sent exactly once, but was repeated"
            ))),
        }
    }
}

/// Validate a slot search's query parameters (§4.1). `query` holds the
/// decoded `(name, value)` pairs in request order. Names are
/// case-sensitive, so `Start` is an unknown parameter.
///
/// Checks run in this order, so a request with several faults gets the
/// code of the first:
/// 1. `start`, `end` and `status` each exactly once, and
///    `_include=Slot:schedule` present (it may be repeated; other
///    `_include` values are ignored). Otherwise 400 `BAD_REQUEST`.
/// 2. `status` is `free`. Otherwise 422 `INVALID_PARAMETER`.
/// 3. `start`/`end` as [`slot_search_range`] defines them: prefixes `ge`
///    and `le`, full dates or UK local date-times with `+00:00`/`+01:00`,
///    at most 14 days, end not before start. Otherwise 422
///    `INVALID_PARAMETER`.
///
/// Everything else is accepted:
/// * `_include:recurse` with [`param::SCHEDULE_ACTOR_PRACTITIONER`],
///   [`param::SCHEDULE_ACTOR_LOCATION`] or
///   [`param::LOCATION_MANAGING_ORGANIZATION`] sets the matching flag.
///   Other values are ignored. A plain `_include` of those values is
///   ignored too, because FHIR applies `_include` only to the Slots.
/// * `searchFilter={system}|{code}` with the organisation-type or ODS
///   system records the code; any code is accepted (`oncology` too, §4.1).
///   Other systems, values without a `|`, and empty codes are ignored
///   (§4.1: "ignored without error").
/// * Unknown parameters such as `_count`, `_sort` and `_format` are
///   ignored (§2.2).
///
/// **Decision: a repeated `start`, `end` or `status` is 400
/// `BAD_REQUEST`,** even when both values are equal. §4.1 says each is sent
/// "exactly once", and the validation table answers every error in the
/// request's *shape* (a missing parameter) with 400, keeping 422 for bad
/// *values*. §2.2 gives the same answer for the one duplicated parameter
/// the test suite checks (`identifier` on a find). A duplicate is also
/// ambiguous: which of two ranges would be meant?
///
/// # Errors
/// 400 `BAD_REQUEST` or 422 `INVALID_PARAMETER` as listed above, with
/// diagnostics naming the parameter.
pub fn parse_slot_search(query: &[(&str, &str)]) -> Result<SlotSearch, Error> {
    let mut start = ExactlyOnce::default();
    let mut end = ExactlyOnce::default();
    let mut status = ExactlyOnce::default();
    let mut include_schedule = false;
    let mut search = SlotSearch {
        from: Timestamp::UNIX_EPOCH,
        until: Timestamp::UNIX_EPOCH,
        include_practitioner: false,
        include_location: false,
        include_managing_organization: false,
        organisation_types: Vec::new(),
        ods_codes: Vec::new(),
    };
    for &(name, value) in query {
        match name {
            param::START => start.push(value),
            param::END => end.push(value),
            param::STATUS => status.push(value),
            param::INCLUDE => include_schedule |= value == param::SLOT_SCHEDULE,
            param::INCLUDE_RECURSE => match value {
                param::SCHEDULE_ACTOR_PRACTITIONER => search.include_practitioner = true,
                param::SCHEDULE_ACTOR_LOCATION => search.include_location = true,
                param::LOCATION_MANAGING_ORGANIZATION => {
                    search.include_managing_organization = true;
                }
                _ => {}
            },
            param::SEARCH_FILTER => search.add_filter(value),
            _ => {}
        }
    }

    let start = start.get(param::START, "ge2026-03-20")?;
    let end = end.get(param::END, "le2026-03-27")?;
    let status = status.get(param::STATUS, param::STATUS_FREE)?;
    if !include_schedule {
        return Err(Error::bad_request(format!(
            "Slot search parameter '{}={}' is required",
            param::INCLUDE,
            param::SLOT_SCHEDULE
        )));
    }
    if status != param::STATUS_FREE {
        return Err(Error::invalid_parameter(format!(
            "Slot search parameter 'status' value {} is invalid: only '{}' slots can be searched",
            Echo(status),
            param::STATUS_FREE
        )));
    }
    let (from, until) = slot_search_range(start, end)?;
    search.from = from;
    search.until = until;
    Ok(search)
}

impl SlotSearch {
    /// Record one `searchFilter` token (see [`parse_slot_search`]).
    fn add_filter(&mut self, token: &str) {
        let Some((system, code)) = token.split_once('|') else {
            return;
        };
        if code.is_empty() {
            return;
        }
        let list = match system {
            code_system::ORGANISATION_TYPE => &mut self.organisation_types,
            identifier_system::ODS_ORGANIZATION_CODE => &mut self.ods_codes,
            _ => return,
        };
        if !list.iter().any(|c| c == code) {
            list.push(code.to_owned());
        }
    }
}

/// Answer a validated slot search (§4.2, §4.3) with a 200 and a
/// `searchset` Bundle (see the module docs for what it holds).
///
/// # Errors
/// 500 `INTERNAL_SERVER_ERROR` when a returned slot's schedule, that
/// schedule's location or practitioner, or an organisation the Bundle must
/// hold does not exist, or when stored data cannot be written as its
/// profile requires (R86: the whole request fails). A store failure gives
/// the code its [`StoreError`](crate::store::StoreError) maps to.
pub fn search_free_slots(
    ctx: &Context<'_>,
    search: &SlotSearch,
) -> Result<Answer<stu3::Bundle>, Error> {
    let ods = ctx.ods();
    // The store lists by start in [from, to). A zero-length slot starting
    // exactly at `until` still lies within the range, so ask for 1 ns more;
    // `covers` then applies the exact rule.
    let query = SlotQuery {
        from: search.from,
        to: search
            .until
            .checked_add(SignedDuration::from_nanos(1))
            .unwrap_or(search.until),
        schedule_id: None,
        free_only: true,
    };
    let requesters = search.requesters();
    let mut slots = ctx.store.slots(ods, &query)?;
    slots.retain(|slot| {
        search.covers(slot)
            && requesters
                .iter()
                .all(|who| availability(slot, ctx.practice, who, ctx.now).is_ok())
    });
    if slots.is_empty() {
        return Ok(Answer::ok(searchset(Vec::new())));
    }

    // Each distinct schedule, in the order its first slot appears.
    let mut seen = FastSet::default();
    let mut schedules: Vec<ScheduleRecord> = Vec::new();
    for slot in &slots {
        if seen.insert(slot.schedule_id.as_str()) {
            let schedule = ctx
                .store
                .schedule(ods, &slot.schedule_id)?
                .ok_or_else(|| dangling("Slot", &slot.id, "Schedule", &slot.schedule_id))?;
            schedules.push(schedule);
        }
    }
    drop(seen);
    let mut entries = Vec::with_capacity(slots.len() + schedules.len() + 8);
    let mut times = UkInstants::default();
    // By value: each Slot takes its record's strings instead of copying them.
    for slot in slots {
        entries.push(entry(build_slot(slot, &mut |t| times.get(t))?));
    }

    let linked = Linked::resolve(ctx, &schedules)?;
    for schedule in &schedules {
        entries.push(entry(schedule_resource(schedule)?));
    }
    if search.include_practitioner {
        for record in &linked.practitioners {
            entries.push(entry(population::practitioner(record)));
        }
    }
    if search.include_location {
        for record in &linked.locations {
            entries.push(entry(population::location(
                record,
                &ctx.practice.organization_id,
            )));
        }
    }
    for record in &linked.organizations {
        entries.push(entry(population::organization(record)));
    }
    Ok(Answer::ok(searchset(entries)))
}

/// The records the returned schedules link to, each once, in the order
/// first seen.
struct Linked {
    practitioners: Vec<PractitionerRecord>,
    locations: Vec<LocationRecord>,
    organizations: Vec<OrganizationRecord>,
}

impl Linked {
    /// Look up every location and practitioner the schedules name, whether
    /// or not it was `_include`d: a Schedule that refers to a missing one
    /// cannot be returned (R86). Then look up the organisations: the
    /// practice's always (§4.3, §11.10), plus any other one a location's
    /// `managingOrganization` names as a local reference. External
    /// references are not resolved (R87).
    fn resolve(ctx: &Context<'_>, schedules: &[ScheduleRecord]) -> Result<Linked, Error> {
        let ods = ctx.ods();
        let mut linked = Linked {
            practitioners: Vec::new(),
            locations: Vec::new(),
            organizations: Vec::new(),
        };
        let mut seen_locations = HashSet::new();
        let mut seen_practitioners = HashSet::new();
        for schedule in schedules {
            if seen_locations.insert(schedule.location_id.as_str()) {
                let location =
                    ctx.store
                        .location(ods, &schedule.location_id)?
                        .ok_or_else(|| {
                            dangling("Schedule", &schedule.id, "Location", &schedule.location_id)
                        })?;
                linked.locations.push(location);
            }
            if let Some(id) = &schedule.practitioner_id {
                if seen_practitioners.insert(id.as_str()) {
                    let practitioner = ctx
                        .store
                        .practitioner(ods, id)?
                        .ok_or_else(|| dangling("Schedule", &schedule.id, "Practitioner", id))?;
                    linked.practitioners.push(practitioner);
                }
            }
        }

        let practice_org = ctx.practice.organization_id.as_str();
        let mut seen_organizations = HashSet::from([practice_org]);
        let organization = ctx.store.organization(ods, practice_org)?.ok_or_else(|| {
            Error::internal(format!(
                "The practice {} names Organization/{practice_org}, which does not exist; \
                 the slot search cannot be answered (R86)",
                ctx.practice.ods_code
            ))
        })?;
        linked.organizations.push(organization);
        for location in &linked.locations {
            let Some(id) = location
                .resource
                .managing_organization
                .as_ref()
                .and_then(|r| r.reference.as_deref())
                .and_then(|r| r.strip_prefix("Organization/"))
                .filter(|id| !id.is_empty() && !id.contains('/'))
            else {
                continue;
            };
            if seen_organizations.insert(id) {
                let organization = ctx
                    .store
                    .organization(ods, id)?
                    .ok_or_else(|| dangling("Location", &location.id, "Organization", id))?;
                linked.organizations.push(organization);
            }
        }
        Ok(linked)
    }
}

/// 500 for a returned resource that refers to a record that does not exist (R86).
fn dangling(kind: &str, id: &str, target_kind: &str, target_id: &str) -> Error {
    Error::internal(format!(
        "{kind}/{id} refers to {target_kind}/{target_id}, which does not exist; \
         the slot search cannot be answered (R86)"
    ))
}

/// A `searchset` Bundle of `entries`, profiled GPConnect-Searchset-Bundle-1.
fn searchset(entries: Vec<BundleEntry>) -> Bundle {
    Bundle {
        meta: Some(Meta {
            profile: vec![profile::SEARCHSET_BUNDLE.to_owned()],
            ..Meta::default()
        }),
        type_: Code::from_static("searchset"),
        entry: entries,
        ..Bundle::default()
    }
}

/// An entry without `fullUrl` (§1.1: SHOULD NOT be populated).
fn entry(resource: impl Into<Resource>) -> BundleEntry {
    BundleEntry {
        resource: Some(resource.into()),
        ..BundleEntry::default()
    }
}

/// The record's id as a FHIR `id` (R80), or 500 (R86).
fn fhir_id(kind: &str, id: &str) -> Result<Id, Error> {
    Id::new(id).map_err(|why| {
        Error::internal(format!(
            "{kind}/{} cannot be returned: its id is not a valid FHIR id (R80): {why}",
            Echo(id)
        ))
    })
}

/// `ts` in UK local time with its offset, as an `instant` (R18).
fn uk_instant(ts: Timestamp) -> Result<Instant, Error> {
    Instant::new(format_uk_local(ts)).map_err(Error::internal)
}

/// `ts` in UK local time with its offset, as a `dateTime` (R18).
fn uk_date_time(ts: Timestamp) -> Result<DateTime, Error> {
    DateTime::new(format_uk_local(ts)).map_err(Error::internal)
}

/// [`uk_instant`] remembered per request. Slot bounds repeat: one slot's
/// end is the next one's start, and schedules usually share a grid. So a
/// search formats each distinct instant once instead of twice per slot,
/// which is most of the cost of building a Slot.
#[derive(Default)]
struct UkInstants(HashMap<Timestamp, Instant, BuildHasherDefault<Fnv>>);

/// FNV-1a. A search hashes a schedule id and two timestamps per returned
/// slot, thousands of times; the keys are the practice's own records, not
/// the consumer's input, so SipHash's flooding resistance buys nothing
/// here, and it was a tenth of the search's own time.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A set hashed with [`Fnv`].
type FastSet<'a> = HashSet<&'a str, BuildHasherDefault<Fnv>>;

impl UkInstants {
    fn get(&mut self, ts: Timestamp) -> Result<Instant, Error> {
        if let Some(done) = self.0.get(&ts) {
            return Ok(done.clone());
        }
        let formatted = uk_instant(ts)?;
        self.0.insert(ts, formatted.clone());
        Ok(formatted)
    }
}

/// A stored slot as GPConnect-Slot-1 (§4.3):
/// * `id` and `meta` (`versionId` and profile);
/// * the DeliveryChannel-2 extension, with `valueCode` set to the slot's
///   delivery channel;
/// * `serviceType[0].text` set to the slot type;
/// * `schedule` as a local reference;
/// * `status` (`free` or `busy`);
/// * `start` and `end` in UK local time with the offset (`+00:00` or
///   `+01:00`, never `Z`; R18).
///
/// `specialty` and `comment` are never set (§4.3, test suite).
///
/// # Errors
/// 500 `INTERNAL_SERVER_ERROR` (R86) when the stored id is not a FHIR id,
/// the slot type is empty (it is SHALL), or the delivery channel is not a
/// FHIR code.
pub fn slot_resource(record: &SlotRecord) -> Result<stu3::Slot, Error> {
    build_slot(record.clone(), &mut uk_instant)
}

/// [`slot_resource`], taking the record's strings, with the instant
/// formatting supplied (see [`UkInstants`]).
fn build_slot(
    record: SlotRecord,
    instant: &mut dyn FnMut(Timestamp) -> Result<Instant, Error>,
) -> Result<stu3::Slot, Error> {
    if record.service_type.is_empty() {
        return Err(Error::internal(format!(
            "Slot/{} has no slot type, which serviceType[0].text requires (§4.3)",
            record.id
        )));
    }
    let channel = Code::new(record.delivery_channel).map_err(|why| {
        Error::internal(format!(
            "Slot/{} has an invalid delivery channel: {why}",
            record.id
        ))
    })?;
    Ok(stu3::Slot {
        id: Some(fhir_id("Slot", &record.id)?),
        meta: Some(population::meta(profile::SLOT, record.version)),
        extension: vec![Extension {
            url: extension::DELIVERY_CHANNEL.to_owned(),
            value: Some(ExtensionValue::Code(channel)),
            ..Extension::default()
        }],
        service_type: vec![CodeableConcept {
            text: Some(record.service_type),
            ..CodeableConcept::default()
        }],
        schedule: population::reference("Schedule", &record.schedule_id),
        status: Code::from_static(match record.status {
            SlotStatus::Free => "free",
            SlotStatus::Busy => "busy",
        }),
        start: instant(record.start)?,
        end: instant(record.end)?,
        ..stu3::Slot::default()
    })
}

/// A stored schedule as GPConnect-Schedule-1 (§4.3):
/// * `id` and `meta` (`versionId` and profile);
/// * the PractitionerRole-1 extension, whose `valueCodeableConcept` holds
///   the stored SDS job-role coding (omitted when none is stored; the
///   profile does not require it);
/// * `serviceCategory.text` set to the schedule type, when there is one;
/// * `actor`: the Location, then the Practitioner when there is one;
/// * `planningHorizon` in UK local time with the offset.
///
/// `specialty` and `comment` are never set (§4.3, test suite).
///
/// # Errors
/// 500 `INTERNAL_SERVER_ERROR` (R86) when the stored id is not a FHIR id.
pub fn schedule_resource(record: &ScheduleRecord) -> Result<stu3::Schedule, Error> {
    let mut actor = vec![population::reference("Location", &record.location_id)];
    if let Some(practitioner) = &record.practitioner_id {
        actor.push(population::reference("Practitioner", practitioner));
    }
    let extension = record
        .practitioner_role
        .iter()
        .map(|coding| Extension {
            url: extension::PRACTITIONER_ROLE.to_owned(),
            value: Some(ExtensionValue::CodeableConcept(CodeableConcept {
                coding: vec![coding.clone()],
                ..CodeableConcept::default()
            })),
            ..Extension::default()
        })
        .collect();
    Ok(stu3::Schedule {
        id: Some(fhir_id("Schedule", &record.id)?),
        meta: Some(population::meta(profile::SCHEDULE, record.version)),
        extension,
        service_category: record
            .schedule_type
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| CodeableConcept {
                text: Some(t.to_owned()),
                ..CodeableConcept::default()
            }),
        actor,
        planning_horizon: Some(Period {
            start: Some(uk_date_time(record.planning_horizon_start)?),
            end: record.planning_horizon_end.map(uk_date_time).transpose()?,
            ..Period::default()
        }),
        ..stu3::Schedule::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::datetime::uk_today;
    use crate::error::SpineCode;
    use crate::fhir::datatypes::Coding;
    use crate::store::memory::MemoryStore;
    use crate::store::{
        BookingWindow, PracticeImport, PracticeRecord, PracticeStore, SlotRestrictions,
    };
    use crate::testkit::{self, ODS};
    use proptest::prelude::*;
    use serde_json::{Value, json};
    use std::sync::OnceLock;

    /// A Wednesday in GMT (UK local = UTC).
    const WINTER: &str = "2026-11-25T10:00:00Z";
    /// A Wednesday in BST (UK local = UTC+1).
    const SUMMER: &str = "2026-06-10T10:00:00Z";

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    /// `now`'s UK day plus `d` days, as `yyyy-mm-dd`.
    fn day(now: Timestamp, d: i64) -> String {
        uk_today(now)
            .checked_add(jiff::Span::new().days(d))
            .expect("in range")
            .to_string()
    }

    /// Owned query parameters, so tests can build values with `format!`.
    #[derive(Debug, Clone)]
    struct Query(Vec<(String, String)>);

    impl Query {
        /// The minimal valid search: `start`, `end`, `status`, `_include`.
        fn new(start: &str, end: &str) -> Query {
            Query(vec![
                ("start".into(), start.into()),
                ("end".into(), end.into()),
                ("status".into(), "free".into()),
                ("_include".into(), "Slot:schedule".into()),
            ])
        }

        /// Whole UK days `first..=last` after `now`'s day.
        fn days(now: Timestamp, first: i64, last: i64) -> Query {
            Query::new(
                &format!("ge{}", day(now, first)),
                &format!("le{}", day(now, last)),
            )
        }

        fn with(mut self, name: &str, value: &str) -> Query {
            self.0.push((name.into(), value.into()));
            self
        }

        fn without(mut self, name: &str) -> Query {
            self.0.retain(|(n, _)| n != name);
            self
        }

        fn set(mut self, name: &str, value: &str) -> Query {
            for (n, v) in &mut self.0 {
                if n == name {
                    *v = value.into();
                }
            }
            self
        }

        fn parse(&self) -> Result<SlotSearch, Error> {
            let pairs: Vec<(&str, &str)> = self
                .0
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            parse_slot_search(&pairs)
        }
    }

    /// The testkit practice at a fixed `now`.
    struct Fixture {
        store: MemoryStore,
        practice: PracticeRecord,
        now: Timestamp,
    }

    impl Fixture {
        fn new(now: &str) -> Fixture {
            let now = ts(now);
            Fixture {
                store: testkit::memory_store(now).expect("testkit loads"),
                practice: testkit::practice_record(),
                now,
            }
        }

        /// Load more records into the practice.
        fn import(&self, import: PracticeImport) {
            self.store.import(ODS, import).expect("import");
        }

        fn ctx(&self) -> Context<'_> {
            Context {
                store: &self.store,
                practice: &self.practice,
                now: self.now,
                edition: crate::SpecEdition::default(),
            }
        }

        fn try_search(&self, q: &Query) -> Result<Bundle, Error> {
            let search = q.parse()?;
            let answer = search_free_slots(&self.ctx(), &search)?;
            assert_eq!(answer.status, 200);
            assert_eq!(answer.version, None);
            Ok(answer.body)
        }

        fn search(&self, q: &Query) -> Bundle {
            self.try_search(q).expect("search succeeds")
        }
    }

    fn resource_id(r: &Resource) -> Option<&str> {
        let id = match r {
            Resource::Slot(x) => x.id.as_ref(),
            Resource::Schedule(x) => x.id.as_ref(),
            Resource::Practitioner(x) => x.id.as_ref(),
            Resource::Location(x) => x.id.as_ref(),
            Resource::Organization(x) => x.id.as_ref(),
            _ => None,
        };
        id.map(Id::as_str)
    }

    /// `Type/id` of every entry, in order.
    fn refs(b: &Bundle) -> Vec<String> {
        b.entry
            .iter()
            .map(|e| {
                let r = e.resource.as_ref().expect("entry has a resource");
                format!("{}/{}", r.resource_type(), resource_id(r).unwrap_or("?"))
            })
            .collect()
    }

    /// `Type/id` of the entries of one type.
    fn refs_of(b: &Bundle, kind: &str) -> Vec<String> {
        refs(b)
            .into_iter()
            .filter(|r| r.starts_with(&format!("{kind}/")))
            .collect()
    }

    fn slots(b: &Bundle) -> Vec<&stu3::Slot> {
        b.entry
            .iter()
            .filter_map(|e| match e.resource.as_ref() {
                Some(Resource::Slot(s)) => Some(s.as_ref()),
                _ => None,
            })
            .collect()
    }

    fn schedules(b: &Bundle) -> Vec<&stu3::Schedule> {
        b.entry
            .iter()
            .filter_map(|e| match e.resource.as_ref() {
                Some(Resource::Schedule(s)) => Some(s.as_ref()),
                _ => None,
            })
            .collect()
    }

    fn slot_ids(b: &Bundle) -> Vec<String> {
        slots(b)
            .iter()
            .filter_map(|s| s.id.as_ref().map(|i| i.as_str().to_owned()))
            .collect()
    }

    fn has_slot(b: &Bundle, id: &str) -> bool {
        slot_ids(b).iter().any(|s| s == id)
    }

    #[track_caller]
    fn assert_error(result: Result<SlotSearch, Error>, status: u16, code: SpineCode) -> Error {
        match result {
            Ok(s) => panic!("expected {status} {code}, got {s:?}"),
            Err(e) => {
                assert_eq!((e.status(), e.code()), (status, code), "{e}");
                assert!(!e.diagnostics().is_empty());
                e
            }
        }
    }

    #[track_caller]
    fn assert_400(q: &Query) -> Error {
        assert_error(q.parse(), 400, SpineCode::BadRequest)
    }

    #[track_caller]
    fn assert_422(q: &Query) -> Error {
        assert_error(q.parse(), 422, SpineCode::InvalidParameter)
    }

    fn now() -> Timestamp {
        ts(WINTER)
    }

    /// The test suite's default request: from tomorrow, for `days` days.
    fn suite(days: i64) -> Query {
        Query::days(now(), 1, 1 + days)
    }

    // ----- §4.1 request validation ------------------------------------------------------

    #[test]
    fn s4_1_missing_start_or_status_or_both_bounds_is_400_bad_request() {
        let e = assert_400(&suite(3).without("start"));
        assert!(e.diagnostics().contains("'start'"), "{e}");
        assert_400(&suite(3).without("start").without("end"));
        let e = assert_400(&suite(3).without("status"));
        assert!(e.diagnostics().contains("'status'"), "{e}");
    }

    #[test]
    fn s4_1_rec_missing_end_is_400_bad_request() {
        let e = assert_400(&suite(3).without("end"));
        assert!(e.diagnostics().contains("'end'"), "{e}");
    }

    #[test]
    fn s4_1_rec_missing_include_slot_schedule_is_400_bad_request() {
        let e = assert_400(&suite(3).without("_include"));
        assert!(e.diagnostics().contains("Slot:schedule"), "{e}");
        // Another `_include`, or the value under `_include:recurse`, is not it.
        assert_400(&suite(3).set("_include", "Slot:Schedule"));
        assert_400(
            &suite(3)
                .without("_include")
                .with("_include:recurse", "Slot:schedule"),
        );
        assert_400(&suite(3).set("_include", ""));
        // Alongside other `_include`s, and repeated, it is fine.
        assert!(
            suite(3)
                .with("_include", "Slot:other")
                .with("_include", "Slot:schedule")
                .parse()
                .is_ok()
        );
    }

    #[test]
    fn s4_1_decision_repeated_start_end_or_status_is_400_bad_request() {
        let s = format!("ge{}", day(now(), 1));
        let e = assert_400(&suite(3).with("start", &s));
        assert!(e.diagnostics().contains("exactly once"), "{e}");
        assert_400(&suite(3).with("end", &format!("le{}", day(now(), 2))));
        assert_400(&suite(3).with("status", "free"));
    }

    #[test]
    fn s4_1_missing_parameters_are_reported_before_invalid_values() {
        assert_400(&suite(3).set("start", "garbage").without("status"));
        assert_400(&suite(30).without("_include"));
    }

    #[test]
    fn s4_1_status_other_than_free_is_422_invalid_parameter() {
        for status in ["busy", "", "FREE", "free,busy", "free "] {
            let e = assert_422(&suite(3).set("status", status));
            assert!(e.diagnostics().contains("'status'"), "{status}: {e}");
        }
    }

    #[test]
    fn s4_1_invalid_or_empty_start_or_end_value_is_422_invalid_parameter() {
        for (key, value) in [
            ("start", "invalidStartDate"),
            ("start", ""),
            ("end", "invalidEnddate"),
            ("end", ""),
            ("start", "ge2026-02-30"),
            ("end", "le26-12-01"),
        ] {
            assert_422(&suite(3).set(key, value));
        }
    }

    #[test]
    fn s4_1_partial_dates_are_422_invalid_parameter() {
        for (start, end) in [("ge2026", "le2026-12"), ("ge2026-11", "le2026")] {
            assert_422(&Query::new(start, end));
        }
        assert_422(&suite(3).set("end", "le2026-12"));
    }

    #[test]
    fn s4_1_date_time_without_offset_or_with_z_is_422_invalid_parameter() {
        let d1 = day(now(), 1);
        let d3 = day(now(), 3);
        for (start, end) in [
            (format!("ge{d1}T09:00:00"), format!("le{d3}T09:00:00")),
            (format!("ge{d1}T09:00:00Z"), format!("le{d3}T09:00:00")),
            (format!("ge{d1}T09:00:00"), format!("le{d3}T09:00:00Z")),
            (
                format!("ge{d1}T09:00:00+00:00"),
                format!("le{d3}T09:00:00Z"),
            ),
            (
                format!("ge{d1}T09:00:00+02:00"),
                format!("le{d3}T09:00:00+00:00"),
            ),
        ] {
            assert_422(&Query::new(&start, &end));
        }
    }

    #[test]
    fn s4_1_dates_date_times_and_mixtures_with_uk_offsets_are_accepted() {
        let d1 = day(now(), 1);
        let d3 = day(now(), 3);
        for (start, end) in [
            (format!("ge{d1}"), format!("le{d3}")),
            (
                format!("ge{d1}T09:00:00+00:00"),
                format!("le{d3}T17:00:00+00:00"),
            ),
            (format!("ge{d1}T09:00:00+00:00"), format!("le{d3}")),
            (format!("ge{d1}"), format!("le{d3}T17:00:00+01:00")),
        ] {
            assert!(Query::new(&start, &end).parse().is_ok(), "{start} {end}");
        }
    }

    #[test]
    fn s4_1_wrong_prefix_combinations_are_422_invalid_parameter() {
        let d1 = day(now(), 1);
        let d3 = day(now(), 3);
        for (a, b) in [
            ("lt", "gt"),
            ("gt", "gt"),
            ("lt", "lt"),
            ("le", "ge"),
            ("eq", "eq"),
            ("gt", "lt"),
            ("", ""),
            ("ge", ""),
            ("", "le"),
            ("GE", "LE"),
        ] {
            assert_422(&Query::new(&format!("{a}{d1}"), &format!("{b}{d3}")));
        }
    }

    #[test]
    fn s4_1_unknown_prefix_ne_is_422_invalid_parameter() {
        let d1 = day(now(), 1);
        let d3 = day(now(), 3);
        for (a, b) in [
            ("ne", "ne"),
            ("gt", "ne"),
            ("ne", "lt"),
            ("ge", "ne"),
            ("ne", "le"),
            ("xx", "le"),
        ] {
            assert_422(&Query::new(&format!("{a}{d1}"), &format!("{b}{d3}")));
        }
    }

    #[test]
    fn s4_1_range_of_0_8_and_14_days_is_accepted() {
        for days in [0, 8, 14] {
            assert!(suite(days).parse().is_ok(), "{days}");
        }
    }

    #[test]
    fn s4_1_range_over_14_days_or_end_before_start_is_422_invalid_parameter() {
        for days in [15, 31, -1] {
            assert_422(&suite(days));
        }
    }

    #[test]
    fn s4_1_search_in_the_past_is_allowed() {
        assert!(Query::days(now(), -30, -20).parse().is_ok());
    }

    #[test]
    fn s4_1_include_recurse_values_set_their_flags() {
        let s = suite(3).parse().expect("valid");
        assert!(!s.include_practitioner() && !s.include_location());
        assert!(!s.include_managing_organization());
        let s = suite(3)
            .with("_include:recurse", "Schedule:actor:Practitioner")
            .with("_include:recurse", "Schedule:actor:Location")
            .with("_include:recurse", "Location:managingOrganization")
            .parse()
            .expect("valid");
        assert!(s.include_practitioner() && s.include_location());
        assert!(s.include_managing_organization());
        let s = suite(3)
            .with("_include:recurse", "Schedule:actor:Location")
            .parse()
            .expect("valid");
        assert!(!s.include_practitioner() && s.include_location());
    }

    #[test]
    fn s4_1_plain_include_of_actors_and_unknown_recurse_values_are_ignored() {
        let s = suite(3)
            .with("_include", "Schedule:actor:Practitioner")
            .with("_include:recurse", "Schedule:actor:HealthcareService")
            .with("_include:recurse", "schedule:actor:location")
            .parse()
            .expect("valid");
        assert!(!s.include_practitioner() && !s.include_location());
    }

    #[test]
    fn s4_1_search_filters_of_the_two_systems_are_recorded() {
        let s = suite(3)
            .with(
                "searchFilter",
                "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1|urgent-care",
            )
            .with(
                "searchFilter",
                "https://fhir.nhs.uk/Id/ods-organization-code|B82001",
            )
            .parse()
            .expect("valid");
        assert_eq!(s.organisation_types(), ["urgent-care"]);
        assert_eq!(s.ods_codes(), ["B82001"]);
    }

    #[test]
    fn s4_1_unknown_org_type_code_is_accepted() {
        let s = suite(3)
            .with(
                "searchFilter",
                "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1|oncology",
            )
            .parse()
            .expect("valid");
        assert_eq!(s.organisation_types(), ["oncology"]);
    }

    #[test]
    fn s4_1_other_search_filter_systems_are_ignored_without_error() {
        let s = suite(3)
            .with(
                "searchFilter",
                "https://fhir.nhs.uk/Id/uec-dos-service-id|123456",
            )
            .with(
                "searchFilter",
                "urn:oid:2.16.840.1.113883.2.1.3.2.4.17.1|Dx02",
            )
            .with("searchFilter", "no-system-at-all")
            .with(
                "searchFilter",
                "https://fhir.nhs.uk/Id/ods-organization-code|",
            )
            .with("searchFilter", "")
            .parse()
            .expect("valid");
        assert!(s.organisation_types().is_empty() && s.ods_codes().is_empty());
        assert_eq!(s.requesters(), [Requester::default()]);
    }

    #[test]
    fn s2_2_unknown_parameters_count_and_sort_are_ignored() {
        let plain = suite(3).parse().expect("valid");
        let noisy = suite(3)
            .with("_count", "5")
            .with("_sort", "start")
            .with("_format", "application/fhir+json")
            .with("Start", "garbage")
            .with("foo", "bar")
            .parse()
            .expect("valid");
        assert_eq!(plain, noisy);
    }

    #[test]
    fn s4_2_date_bounds_are_whole_uk_days() {
        let s = Query::days(now(), 1, 1).parse().expect("valid");
        // 26 Nov 2026 is GMT: 00:00 to the next 00:00, UTC.
        assert_eq!(s.from(), ts("2026-11-26T00:00:00Z"));
        assert_eq!(s.until(), ts("2026-11-27T00:00:00Z"));
        let summer = ts(SUMMER);
        let s = Query::days(summer, 1, 1).parse().expect("valid");
        assert_eq!(s.from(), ts("2026-06-10T23:00:00Z"));
        assert_eq!(s.until(), ts("2026-06-11T23:00:00Z"));
    }

    #[test]
    fn s4_2_repeated_filters_of_one_system_must_all_allow_a_slot() {
        let s = suite(3)
            .with(
                "searchFilter",
                "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1|urgent-care",
            )
            .with(
                "searchFilter",
                "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1|gp-practice",
            )
            .with(
                "searchFilter",
                "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1|urgent-care",
            )
            .with(
                "searchFilter",
                "https://fhir.nhs.uk/Id/ods-organization-code|B82001",
            )
            .parse()
            .expect("valid");
        assert_eq!(s.organisation_types(), ["urgent-care", "gp-practice"]);
        assert_eq!(s.requesters().len(), 2);
        // Slot 14-1-3 is reserved for urgent-care: not every requester may book it.
        let f = Fixture::new(WINTER);
        let answer = search_free_slots(&f.ctx(), &s).expect("search").body;
        assert!(!has_slot(&answer, "14-1-3"));
        assert!(has_slot(&answer, "14-1-0"));
    }

    // ----- §4.2 which slots ----------------------------------------------------------------

    #[test]
    fn s4_2_only_slots_fully_within_the_range_are_returned() {
        let f = Fixture::new(WINTER);
        let d2 = day(f.now, 2);
        // 09:05–09:35 overlaps 09:00–09:10 and 09:30–09:40: both excluded.
        let b = f.search(&Query::new(
            &format!("ge{d2}T09:05:00+00:00"),
            &format!("le{d2}T09:35:00+00:00"),
        ));
        assert_eq!(slot_ids(&b), ["14-2-1", "15-2-1", "14-2-2", "15-2-2"]);
        // Bounds equal to a slot's start and end include it.
        let b = f.search(&Query::new(
            &format!("ge{d2}T09:10:00+00:00"),
            &format!("le{d2}T09:30:00+00:00"),
        ));
        assert_eq!(slot_ids(&b), ["14-2-1", "15-2-1", "14-2-2", "15-2-2"]);
        // One second short on either side excludes the edge slot.
        let b = f.search(&Query::new(
            &format!("ge{d2}T09:10:01+00:00"),
            &format!("le{d2}T09:29:59+00:00"),
        ));
        assert!(slot_ids(&b).is_empty());
    }

    #[test]
    fn s4_2_date_only_bounds_cover_whole_uk_days() {
        let f = Fixture::new(WINTER);
        let b = f.search(&Query::days(f.now, 2, 2));
        let ids = slot_ids(&b);
        assert_eq!(ids.len(), 36);
        assert!(ids.iter().all(|id| id.contains("-2-")), "{ids:?}");
        let b = f.search(&Query::days(f.now, 2, 3));
        assert_eq!(slot_ids(&b).len(), 72);
    }

    /// A free, bookable, unrestricted slot of schedule 14.
    fn extra_slot(id: &str, start: Timestamp) -> SlotRecord {
        SlotRecord {
            id: id.into(),
            version: 0,
            schedule_id: "14".into(),
            start,
            end: start + SignedDuration::from_mins(10),
            status: SlotStatus::Free,
            appointment_id: None,
            delivery_channel: "In-person".into(),
            service_type: "Late clinic".into(),
            bookable: true,
            restrictions: SlotRestrictions::default(),
            booking_window: None,
        }
    }

    #[test]
    fn s4_2_date_only_bounds_cover_whole_uk_days_in_summer() {
        let f = Fixture::new(SUMMER);
        // Day 2 is 12 June 2026, BST: 23:30 BST is still the 12th (22:30Z);
        // 00:30 BST on the 13th is 23:30Z on the 12th, so a UTC-day reading
        // would take the wrong one.
        f.import(PracticeImport {
            slots: vec![
                extra_slot("late-12th", ts("2026-06-12T22:30:00Z")),
                extra_slot("early-13th", ts("2026-06-12T23:30:00Z")),
                extra_slot("early-12th", ts("2026-06-11T23:10:00Z")),
            ],
            ..PracticeImport::default()
        });
        let b = f.search(&Query::days(f.now, 2, 2));
        assert!(has_slot(&b, "late-12th") && has_slot(&b, "early-12th"));
        assert!(!has_slot(&b, "early-13th"));
        let ids = slot_ids(&b);
        assert_eq!(ids.len(), 36 + 2);
        let b = f.search(&Query::days(f.now, 3, 3));
        assert!(has_slot(&b, "early-13th") && !has_slot(&b, "late-12th"));
    }

    #[test]
    fn s4_2_slot_ending_at_midnight_is_inside_a_date_only_end() {
        let f = Fixture::new(WINTER);
        let d2 = day(f.now, 2);
        let late = extra_slot("14-2-late", ts(&format!("{}T23:50:00Z", day(f.now, 2))));
        f.import(PracticeImport {
            slots: vec![late],
            ..PracticeImport::default()
        });
        let b = f.search(&Query::new(&format!("ge{d2}"), &format!("le{d2}")));
        assert!(has_slot(&b, "14-2-late"));
        // With a date-time end at 23:59:59 it no longer fits.
        let b = f.search(&Query::new(
            &format!("ge{d2}"),
            &format!("le{d2}T23:59:59+00:00"),
        ));
        assert!(!has_slot(&b, "14-2-late"));
    }

    #[test]
    fn s4_2_not_bookable_visit_busy_and_restricted_slots_are_hidden() {
        let f = Fixture::new(WINTER);
        let b = f.search(&Query::days(f.now, 1, 1));
        for hidden in ["14-1-1", "14-1-2", "14-1-3", "14-1-4", "14-1-5"] {
            assert!(!has_slot(&b, hidden), "{hidden}");
        }
        assert!(has_slot(&b, "14-1-0"));
        assert!(has_slot(&b, "14-1-6"));
        // 36 slots that day, minus the five special ones.
        assert_eq!(slot_ids(&b).len(), 31);
        for s in slots(&b) {
            assert_eq!(s.status.as_str(), "free");
        }
    }

    #[test]
    fn s4_2_started_slots_are_hidden_although_the_search_may_be_in_the_past() {
        let f = Fixture::new(WINTER);
        let later = Fixture {
            now: ts(&format!("{}T09:15:00Z", day(f.now, 2))),
            ..f
        };
        let b = later.search(&Query::days(ts(WINTER), 2, 2));
        assert!(!has_slot(&b, "14-2-0") && !has_slot(&b, "14-2-1"));
        assert!(has_slot(&b, "14-2-2"));
        let b = later.search(&Query::days(ts(WINTER), 1, 1));
        assert!(b.entry.is_empty());
    }

    const TYPE: &str = "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1";
    const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";

    /// Which of the testkit's restricted slots (14-1-3 reserved for
    /// urgent-care, 14-1-4 reserved for ODS B82001) a search with these
    /// filters returns.
    fn restricted_visible(org_type: Option<&str>, ods: Option<&str>) -> (bool, bool) {
        let f = Fixture::new(WINTER);
        let mut q = Query::days(f.now, 1, 1);
        if let Some(t) = org_type {
            q = q.with("searchFilter", &format!("{TYPE}|{t}"));
        }
        if let Some(o) = ods {
            q = q.with("searchFilter", &format!("{ODS_SYSTEM}|{o}"));
        }
        let b = f.search(&q);
        // Unrestricted slots are always visible.
        assert!(has_slot(&b, "14-1-0"));
        (has_slot(&b, "14-1-3"), has_slot(&b, "14-1-4"))
    }

    #[test]
    fn s4_2_no_filters_return_only_unrestricted_slots() {
        assert_eq!(restricted_visible(None, None), (false, false));
    }

    #[test]
    fn s4_2_type_only_returns_matching_type_restrictions_but_no_ods_restrictions() {
        assert_eq!(restricted_visible(Some("urgent-care"), None), (true, false));
        assert_eq!(
            restricted_visible(Some("gp-practice"), None),
            (false, false)
        );
        assert_eq!(restricted_visible(Some("oncology"), None), (false, false));
    }

    #[test]
    fn s4_2_ods_only_returns_matching_ods_restrictions_but_no_type_restrictions() {
        assert_eq!(restricted_visible(None, Some("B82001")), (false, true));
        assert_eq!(restricted_visible(None, Some("A20047")), (false, false));
    }

    #[test]
    fn s4_2_type_and_ods_return_each_matching_restriction() {
        assert_eq!(
            restricted_visible(Some("urgent-care"), Some("B82001")),
            (true, true)
        );
        assert_eq!(
            restricted_visible(Some("urgent-care"), Some("A20047")),
            (true, false)
        );
        assert_eq!(
            restricted_visible(Some("gp-practice"), Some("B82001")),
            (false, true)
        );
        assert_eq!(
            restricted_visible(Some("oncology"), Some("RNR01")),
            (false, false)
        );
    }

    #[test]
    fn s4_2_other_filter_systems_do_not_change_the_result() {
        let f = Fixture::new(WINTER);
        let plain = f.search(&Query::days(f.now, 1, 2));
        let other = f.search(
            &Query::days(f.now, 1, 2)
                .with(
                    "searchFilter",
                    "https://fhir.nhs.uk/Id/uec-dos-service-id|1",
                )
                .with("searchFilter", "urn:other|urgent-care"),
        );
        assert_eq!(plain, other);
    }

    #[test]
    fn s4_2_item_4_booking_window_max_days_ahead_hides_later_slots() {
        let mut f = Fixture::new(WINTER);
        f.practice.settings.booking_window = BookingWindow {
            max_days_ahead: Some(2),
            min_notice_minutes: None,
        };
        let b = f.search(&Query::days(f.now, 1, 5));
        let ids = slot_ids(&b);
        assert!(!ids.is_empty());
        assert!(
            ids.iter()
                .all(|id| id.contains("-1-") || id.contains("-2-")),
            "{ids:?}"
        );
        assert!(has_slot(&b, "14-2-17"));
    }

    #[test]
    fn s4_2_item_4_booking_window_min_notice_hides_slots_too_soon() {
        let mut f = Fixture::new(WINTER);
        // now is 10:00; a day's notice closes day 1 before 10:00.
        f.practice.settings.booking_window = BookingWindow {
            max_days_ahead: None,
            min_notice_minutes: Some(24 * 60),
        };
        let b = f.search(&Query::days(f.now, 1, 1));
        let ids = slot_ids(&b);
        assert!(!has_slot(&b, "15-1-5"), "09:50 is too soon: {ids:?}");
        assert!(has_slot(&b, "15-1-6"), "10:00 is a day ahead: {ids:?}");
    }

    #[test]
    fn s4_2_item_4_a_slots_own_booking_window_overrides_the_practice() {
        let f = Fixture::new(WINTER);
        let mut slot = f.store.slot(ODS, "15-3-0").expect("read").expect("slot");
        slot.booking_window = Some(BookingWindow {
            max_days_ahead: Some(1),
            min_notice_minutes: None,
        });
        f.import(PracticeImport {
            slots: vec![slot],
            ..PracticeImport::default()
        });
        let b = f.search(&Query::days(f.now, 3, 3));
        assert!(!has_slot(&b, "15-3-0"));
        assert!(has_slot(&b, "15-3-1"));
    }

    // ----- §4.3 response Bundle ---------------------------------------------------------

    #[test]
    fn s4_3_bundle_is_a_profiled_searchset_without_full_urls() {
        let f = Fixture::new(WINTER);
        let b = f.search(&suite(3));
        assert_eq!(b.type_.as_str(), "searchset");
        let meta = b.meta.as_ref().expect("meta");
        assert_eq!(meta.profile, [profile::SEARCHSET_BUNDLE]);
        assert!(b.id.is_none());
        assert!(!b.entry.is_empty());
        assert!(b.entry.iter().all(|e| e.full_url.is_none()));
    }

    #[test]
    fn s4_3_empty_search_is_a_bundle_without_any_entries() {
        let f = Fixture::new(WINTER);
        // In the past.
        let b = f.search(&Query::days(f.now, -10, -1));
        assert_eq!(b.type_.as_str(), "searchset");
        assert!(b.entry.is_empty());
        // Beyond the slots, with every include.
        let b = f.search(
            &Query::days(f.now, 20, 22)
                .with("_include:recurse", "Schedule:actor:Practitioner")
                .with("_include:recurse", "Schedule:actor:Location")
                .with("_include:recurse", "Location:managingOrganization"),
        );
        assert!(b.entry.is_empty());
    }

    #[test]
    fn s4_3_entries_are_slots_then_schedules_then_the_organization_without_includes() {
        let f = Fixture::new(WINTER);
        let b = f.search(&Query::days(f.now, 2, 2));
        let r = refs(&b);
        assert_eq!(r.len(), 36 + 2 + 1);
        assert!(r[..36].iter().all(|x| x.starts_with("Slot/")));
        assert_eq!(r[36..], ["Schedule/14", "Schedule/15", "Organization/23"]);
    }

    #[test]
    fn s4_3_practitioner_only_when_its_include_was_sent() {
        let f = Fixture::new(WINTER);
        let b = f.search(&suite(2).with("_include:recurse", "Schedule:actor:Practitioner"));
        assert_eq!(
            refs_of(&b, "Practitioner"),
            ["Practitioner/2", "Practitioner/3"]
        );
        assert!(refs_of(&b, "Location").is_empty());
        assert_eq!(refs_of(&b, "Organization"), ["Organization/23"]);
    }

    #[test]
    fn s4_3_location_only_when_its_include_was_sent() {
        let f = Fixture::new(WINTER);
        let b = f.search(&suite(2).with("_include:recurse", "Schedule:actor:Location"));
        assert_eq!(refs_of(&b, "Location"), ["Location/17", "Location/18"]);
        assert!(refs_of(&b, "Practitioner").is_empty());
        for e in &b.entry {
            if let Some(Resource::Location(l)) = &e.resource {
                let org = l
                    .managing_organization
                    .as_ref()
                    .expect("managingOrganization");
                assert_eq!(org.reference.as_deref(), Some("Organization/23"));
                assert!(l.endpoint.is_empty());
                assert_eq!(
                    l.meta.as_ref().map(|m| m.profile.clone()),
                    Some(vec![profile::LOCATION.to_owned()])
                );
            }
        }
    }

    #[test]
    fn s4_3_both_includes_return_practitioners_then_locations_then_organization() {
        let f = Fixture::new(WINTER);
        let b = f.search(
            &Query::days(f.now, 2, 2)
                .with("_include:recurse", "Schedule:actor:Location")
                .with("_include:recurse", "Schedule:actor:Practitioner"),
        );
        assert_eq!(
            refs(&b)[36..],
            [
                "Schedule/14",
                "Schedule/15",
                "Practitioner/2",
                "Practitioner/3",
                "Location/17",
                "Location/18",
                "Organization/23"
            ]
        );
    }

    #[test]
    fn s4_3_organization_is_returned_with_or_without_its_include() {
        let f = Fixture::new(WINTER);
        let without = f.search(&suite(1));
        let with = f.search(&suite(1).with("_include:recurse", "Location:managingOrganization"));
        assert_eq!(refs_of(&without, "Organization"), ["Organization/23"]);
        assert_eq!(without, with);
        for e in &with.entry {
            if let Some(Resource::Organization(o)) = &e.resource {
                assert_eq!(
                    o.meta.as_ref().map(|m| m.profile.clone()),
                    Some(vec![profile::ORGANIZATION.to_owned()])
                );
                assert!(o.contact.is_empty() && o.endpoint.is_empty());
            }
        }
    }

    #[test]
    fn s4_3_only_resources_linked_to_returned_slots_are_included() {
        let f = Fixture::new(WINTER);
        // Only schedule 14's slots are reserved for urgent-care, so an
        // ODS-restricted set of slots comes from one schedule.
        let mut slot = f.store.slot(ODS, "15-3-0").expect("read").expect("slot");
        slot.restrictions.ods_codes = vec!["Y00001".into()];
        f.import(PracticeImport {
            slots: vec![slot],
            ..PracticeImport::default()
        });
        let d3 = day(f.now, 3);
        let b = f.search(
            &Query::new(
                &format!("ge{d3}T09:00:00+00:00"),
                &format!("le{d3}T09:10:00+00:00"),
            )
            .with("_include:recurse", "Schedule:actor:Practitioner")
            .with("_include:recurse", "Schedule:actor:Location"),
        );
        assert_eq!(
            refs(&b),
            [
                "Slot/14-3-0",
                "Schedule/14",
                "Practitioner/2",
                "Location/17",
                "Organization/23"
            ]
        );
    }

    /// A third schedule at Location 17 for Practitioner 2, with slots on
    /// day 2 beside schedule 14's.
    fn shared_schedule(f: &Fixture, practitioner: Option<&str>) {
        let mut schedule = f.store.schedule(ODS, "14").expect("read").expect("14");
        schedule.id = "16".into();
        schedule.practitioner_id = practitioner.map(str::to_owned);
        schedule.schedule_type = Some("Extended hours".into());
        let slots = (0..3)
            .map(|n| {
                let mut s = f
                    .store
                    .slot(ODS, &format!("14-2-{n}"))
                    .expect("read")
                    .expect("slot");
                s.id = format!("16-2-{n}");
                s.schedule_id = "16".into();
                s
            })
            .collect();
        f.import(PracticeImport {
            schedules: vec![schedule],
            slots,
            ..PracticeImport::default()
        });
    }

    #[test]
    fn s4_3_no_duplicate_schedule_practitioner_location_or_organization() {
        let f = Fixture::new(WINTER);
        shared_schedule(&f, Some("2"));
        let b = f.search(
            &suite(13)
                .with("_include:recurse", "Schedule:actor:Practitioner")
                .with("_include:recurse", "Schedule:actor:Location")
                .with("_include:recurse", "Location:managingOrganization"),
        );
        assert_eq!(
            refs(&b)
                .into_iter()
                .filter(|r| !r.starts_with("Slot/"))
                .collect::<Vec<_>>(),
            [
                "Schedule/14",
                "Schedule/15",
                "Schedule/16",
                "Practitioner/2",
                "Practitioner/3",
                "Location/17",
                "Location/18",
                "Organization/23"
            ]
        );
        let all = refs(&b);
        let unique: HashSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
    }

    #[test]
    fn s4_3_schedule_without_practitioner_has_only_the_location_actor() {
        let f = Fixture::new(WINTER);
        shared_schedule(&f, None);
        let d2 = day(f.now, 2);
        let b = f.search(
            &Query::new(
                &format!("ge{d2}T09:00:00+00:00"),
                &format!("le{d2}T09:10:00+00:00"),
            )
            .with("_include:recurse", "Schedule:actor:Practitioner"),
        );
        let s16 = schedules(&b)
            .into_iter()
            .find(|s| s.id.as_ref().is_some_and(|i| i == "16"))
            .expect("schedule 16");
        let actors: Vec<_> = s16
            .actor
            .iter()
            .filter_map(|a| a.reference.as_deref())
            .collect();
        assert_eq!(actors, ["Location/17"]);
        assert_eq!(
            refs_of(&b, "Practitioner"),
            ["Practitioner/2", "Practitioner/3"]
        );
    }

    #[test]
    fn s4_3_slot_resource_has_what_the_profile_needs_and_nothing_forbidden() {
        let f = Fixture::new(WINTER);
        let b = f.search(&suite(1));
        let record = f.store.slot(ODS, "15-1-0").expect("read").expect("slot");
        let slot = slots(&b)
            .into_iter()
            .find(|s| s.id.as_ref().is_some_and(|i| i == "15-1-0"))
            .expect("slot 15-1-0");
        let meta = slot.meta.as_ref().expect("meta");
        assert_eq!(meta.profile, [profile::SLOT]);
        assert_eq!(
            meta.version_id.as_ref().map(Id::as_str),
            Some(record.version.to_string().as_str())
        );
        assert_eq!(slot.schedule.reference.as_deref(), Some("Schedule/15"));
        assert_eq!(slot.status.as_str(), "free");
        assert_eq!(slot.service_type.len(), 1);
        assert_eq!(
            slot.service_type[0].text.as_deref(),
            Some("General GP Appointment")
        );
        assert_eq!(slot.extension.len(), 1);
        assert_eq!(slot.extension[0].url, extension::DELIVERY_CHANNEL);
        assert_eq!(
            slot.extension[0].value,
            Some(ExtensionValue::Code(Code::from_static("Telephone")))
        );
        assert!(slot.specialty.is_empty() && slot.comment.is_none());
        assert!(slot.identifier.is_empty() && slot.text.is_none());
        // The search's memoised times give exactly what slot_resource gives.
        assert_eq!(*slot, slot_resource(&record).expect("slot"));
    }

    #[test]
    fn s4_3_schedule_resource_has_what_the_profile_needs_and_nothing_forbidden() {
        let f = Fixture::new(WINTER);
        let b = f.search(&suite(1));
        let s = schedules(&b)
            .into_iter()
            .find(|s| s.id.as_ref().is_some_and(|i| i == "14"))
            .expect("schedule 14");
        assert_eq!(
            s.meta.as_ref().map(|m| m.profile.clone()),
            Some(vec![profile::SCHEDULE.to_owned()])
        );
        assert!(s.meta.as_ref().is_some_and(|m| m.version_id.is_some()));
        let actors: Vec<_> = s
            .actor
            .iter()
            .filter_map(|a| a.reference.as_deref())
            .collect();
        assert_eq!(actors, ["Location/17", "Practitioner/2"]);
        assert_eq!(
            s.service_category.as_ref().and_then(|c| c.text.as_deref()),
            Some("General GP Appointments")
        );
        assert_eq!(s.extension.len(), 1);
        assert_eq!(s.extension[0].url, extension::PRACTITIONER_ROLE);
        let Some(ExtensionValue::CodeableConcept(cc)) = &s.extension[0].value else {
            panic!("practitioner role is a CodeableConcept");
        };
        assert_eq!(
            cc.coding,
            [Coding {
                system: Some(code_system::SDS_JOB_ROLE_NAME.to_owned()),
                code: Some(Code::from_static("R0260")),
                display: Some("General Medical Practitioner".to_owned()),
                ..Coding::default()
            }]
        );
        assert!(s.comment.is_none() && s.specialty.is_empty());
        let horizon = s.planning_horizon.as_ref().expect("planningHorizon");
        assert_eq!(
            horizon.start.as_ref().map(DateTime::as_str),
            Some("2026-11-25T00:00:00+00:00")
        );
        assert_eq!(
            horizon.end.as_ref().map(DateTime::as_str),
            Some("2026-12-10T00:00:00+00:00")
        );
    }

    #[test]
    fn r18_times_are_uk_local_with_offset_plus_00_00_in_winter() {
        let f = Fixture::new(WINTER);
        let b = f.search(&Query::days(f.now, 2, 2));
        let s = slots(&b)[0];
        assert_eq!(s.start.as_str(), "2026-11-27T09:00:00+00:00");
        assert_eq!(s.end.as_str(), "2026-11-27T09:10:00+00:00");
        for s in slots(&b) {
            assert!(s.start.as_str().ends_with("+00:00"), "{}", s.start);
            assert!(s.end.as_str().ends_with("+00:00"), "{}", s.end);
        }
    }

    #[test]
    fn r18_times_are_uk_local_with_offset_plus_01_00_in_summer() {
        let f = Fixture::new(SUMMER);
        let b = f.search(&Query::days(f.now, 2, 2));
        let s = slots(&b)[0];
        assert_eq!(s.start.as_str(), "2026-06-12T09:00:00+01:00");
        assert_eq!(s.end.as_str(), "2026-06-12T09:10:00+01:00");
        for s in slots(&b) {
            assert!(s.start.as_str().ends_with("+01:00"), "{}", s.start);
            assert!(!s.start.as_str().contains('Z'));
        }
        let horizon = schedules(&b)[0].planning_horizon.clone().expect("horizon");
        assert_eq!(
            horizon.start.as_ref().map(DateTime::as_str),
            Some("2026-06-10T00:00:00+01:00")
        );
    }

    #[test]
    fn s4_3_json_of_a_one_slot_search_has_the_expected_structure() {
        let now = ts(WINTER);
        let mut import = testkit::practice(now);
        import.slots.retain(|s| s.id == "14-2-0");
        let store = MemoryStore::new();
        store.import(ODS, import).expect("import");
        let practice = testkit::practice_record();
        let ctx = Context {
            store: &store,
            practice: &practice,
            now,
            edition: crate::SpecEdition::default(),
        };
        let search = Query::days(now, 2, 2)
            .with("_include:recurse", "Schedule:actor:Practitioner")
            .with("_include:recurse", "Schedule:actor:Location")
            .parse()
            .expect("valid");
        let bundle = search_free_slots(&ctx, &search).expect("search").body;
        let actual: Value =
            serde_json::from_slice(&crate::fhir::to_json(&bundle)).expect("JSON output");

        let v = |kind: &str, id: &str| -> String {
            let version = match kind {
                "Slot" => store.slot(ODS, id).ok().flatten().map(|r| r.version),
                "Schedule" => store.schedule(ODS, id).ok().flatten().map(|r| r.version),
                "Practitioner" => store
                    .practitioner(ODS, id)
                    .ok()
                    .flatten()
                    .map(|r| r.version),
                "Location" => store.location(ODS, id).ok().flatten().map(|r| r.version),
                _ => store
                    .organization(ODS, id)
                    .ok()
                    .flatten()
                    .map(|r| r.version),
            };
            version.expect("record").to_string()
        };
        let address = |line: &str| json!({"use": "work", "line": [line], "city": "Leeds", "postalCode": "LS1 6AE"});
        let phone = json!([{"system": "phone", "value": "03003035678", "use": "work"}]);
        let expected = json!({
            "resourceType": "Bundle",
            "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Searchset-Bundle-1"]},
            "type": "searchset",
            "entry": [
                {"resource": {
                    "resourceType": "Slot",
                    "id": "14-2-0",
                    "meta": {
                        "versionId": v("Slot", "14-2-0"),
                        "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Slot-1"]
                    },
                    "extension": [{
                        "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2",
                        "valueCode": "In-person"
                    }],
                    "serviceType": [{"text": "General GP Appointment"}],
                    "schedule": {"reference": "Schedule/14"},
                    "status": "free",
                    "start": "2026-11-27T09:00:00+00:00",
                    "end": "2026-11-27T09:10:00+00:00"
                }},
                {"resource": {
                    "resourceType": "Schedule",
                    "id": "14",
                    "meta": {
                        "versionId": v("Schedule", "14"),
                        "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Schedule-1"]
                    },
                    "extension": [{
                        "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-PractitionerRole-1",
                        "valueCodeableConcept": {"coding": [{
                            "system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1",
                            "code": "R0260",
                            "display": "General Medical Practitioner"
                        }]}
                    }],
                    "serviceCategory": {"text": "General GP Appointments"},
                    "actor": [{"reference": "Location/17"}, {"reference": "Practitioner/2"}],
                    "planningHorizon": {
                        "start": "2026-11-25T00:00:00+00:00",
                        "end": "2026-12-10T00:00:00+00:00"
                    }
                }},
                {"resource": {
                    "resourceType": "Practitioner",
                    "id": "2",
                    "meta": {
                        "versionId": v("Practitioner", "2"),
                        "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Practitioner-1"]
                    },
                    "identifier": [{"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "111122223333"}],
                    "name": [{"use": "official", "family": "Black", "given": ["Sarah"], "prefix": ["Dr"]}],
                    "gender": "female"
                }},
                {"resource": {
                    "resourceType": "Location",
                    "id": "17",
                    "meta": {
                        "versionId": v("Location", "17"),
                        "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Location-1"]
                    },
                    "name": "The Trevelyan Practice",
                    "telecom": phone,
                    "address": address("Trevelyan Square"),
                    "managingOrganization": {"reference": "Organization/23"}
                }},
                {"resource": {
                    "resourceType": "Organization",
                    "id": "23",
                    "meta": {
                        "versionId": v("Organization", "23"),
                        "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1"]
                    },
                    "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A00001"}],
                    "name": "The Trevelyan Practice",
                    "telecom": phone,
                    "address": [{
                        "use": "work",
                        "line": ["Trevelyan Square", "Boar Ln"],
                        "city": "Leeds",
                        "postalCode": "LS1 6AE"
                    }]
                }}
            ]
        });
        assert_eq!(actual, expected);
        // And the Bundle reads back as the model (both directions agree).
        let back: Bundle =
            crate::fhir::from_json(&crate::fhir::to_json(&bundle), crate::fhir::Limits::REQUEST)
                .expect("decodes");
        assert_eq!(back, bundle);
    }

    // ----- R86: incomplete data fails the whole search ----------------------------------

    #[track_caller]
    fn assert_500(f: &Fixture, q: &Query, mentions: &str) {
        match f.try_search(q) {
            Ok(b) => panic!("expected 500, got {:?}", refs(&b)),
            Err(e) => {
                assert_eq!(e.status(), 500, "{e}");
                assert_eq!(e.code(), SpineCode::InternalServerError);
                assert!(e.diagnostics().contains(mentions), "{e}");
            }
        }
    }

    /// Schedule 16 at `location` for `practitioner`, with one slot on day 2.
    fn schedule_16(f: &Fixture, location: &str, practitioner: &str, slot_schedule: &str) {
        let mut schedule = f.store.schedule(ODS, "14").expect("read").expect("14");
        schedule.id = "16".into();
        schedule.location_id = location.into();
        schedule.practitioner_id = Some(practitioner.into());
        let mut slot = f.store.slot(ODS, "14-2-0").expect("read").expect("slot");
        slot.id = "16-2-0".into();
        slot.schedule_id = slot_schedule.into();
        f.import(PracticeImport {
            schedules: vec![schedule],
            slots: vec![slot],
            ..PracticeImport::default()
        });
    }

    #[test]
    fn r86_schedule_location_missing_fails_the_whole_search_with_500() {
        let f = Fixture::new(WINTER);
        schedule_16(&f, "99", "2", "16");
        // Even without the Location include: the Schedule would refer to it.
        assert_500(&f, &suite(3), "Location/99");
        assert_500(
            &f,
            &suite(3).with("_include:recurse", "Schedule:actor:Location"),
            "Location/99",
        );
    }

    #[test]
    fn r86_schedule_practitioner_missing_fails_the_whole_search_with_500() {
        let f = Fixture::new(WINTER);
        schedule_16(&f, "17", "404", "16");
        assert_500(&f, &suite(3), "Practitioner/404");
    }

    #[test]
    fn r86_slot_schedule_missing_fails_the_whole_search_with_500() {
        let f = Fixture::new(WINTER);
        schedule_16(&f, "17", "2", "77");
        assert_500(&f, &suite(3), "Schedule/77");
    }

    #[test]
    fn r86_practice_organization_missing_fails_the_whole_search_with_500() {
        let mut f = Fixture::new(WINTER);
        f.practice.organization_id = "404".into();
        assert_500(&f, &suite(3), "Organization/404");
        // An empty search needs no Organization.
        assert!(f.search(&Query::days(f.now, -3, -1)).entry.is_empty());
    }

    #[test]
    fn r86_missing_records_of_unreturned_slots_do_not_matter() {
        let f = Fixture::new(WINTER);
        schedule_16(&f, "99", "404", "16");
        // Schedule 16's only slot is on day 2.
        let b = f.search(&Query::days(f.now, 3, 4));
        assert!(!refs(&b).iter().any(|r| r.ends_with("/16")));
    }

    #[test]
    fn s1_8_another_managing_organization_is_returned_too_and_must_exist() {
        let f = Fixture::new(WINTER);
        let mut branch = f.store.location(ODS, "18").expect("read").expect("18");
        branch.resource.managing_organization = Some(population::reference("Organization", "24"));
        f.import(PracticeImport {
            locations: vec![branch],
            ..PracticeImport::default()
        });
        assert_500(&f, &suite(1), "Organization/24");
        let mut other = f.store.organization(ODS, "23").expect("read").expect("23");
        other.id = "24".into();
        other.ods_code = "B99999".into();
        f.import(PracticeImport {
            organizations: vec![other],
            ..PracticeImport::default()
        });
        let b = f.search(&suite(1));
        assert_eq!(
            refs_of(&b, "Organization"),
            ["Organization/23", "Organization/24"]
        );
    }

    #[test]
    fn r86_invalid_stored_data_is_500_not_an_invalid_resource() {
        let mut record = SlotRecord {
            id: "bad_id".into(),
            version: 1,
            schedule_id: "14".into(),
            start: ts("2026-12-01T09:00:00Z"),
            end: ts("2026-12-01T09:10:00Z"),
            status: SlotStatus::Free,
            appointment_id: None,
            delivery_channel: "In-person".into(),
            service_type: "General GP Appointment".into(),
            bookable: true,
            restrictions: SlotRestrictions::default(),
            booking_window: None,
        };
        let e = slot_resource(&record).expect_err("bad id");
        assert_eq!(e.status(), 500);
        record.id = "ok".into();
        record.service_type = String::new();
        assert_eq!(slot_resource(&record).map_err(|e| e.status()), Err(500));
        record.service_type = "x".into();
        record.delivery_channel = " In-person".into();
        assert_eq!(slot_resource(&record).map_err(|e| e.status()), Err(500));
        record.delivery_channel = "In-person".into();
        record.status = SlotStatus::Busy;
        let busy = slot_resource(&record).expect("busy slot");
        assert_eq!(busy.status.as_str(), "busy");
    }

    #[test]
    fn s4_3_schedule_resource_without_role_or_type_omits_them() {
        let record = ScheduleRecord {
            id: "9".into(),
            version: 4,
            location_id: "17".into(),
            practitioner_id: None,
            practitioner_role: None,
            schedule_type: Some(String::new()),
            planning_horizon_start: ts("2026-07-01T08:00:00Z"),
            planning_horizon_end: None,
        };
        let s = schedule_resource(&record).expect("schedule");
        assert!(s.extension.is_empty());
        assert!(s.service_category.is_none());
        let horizon = s.planning_horizon.expect("horizon");
        assert_eq!(
            horizon.start.as_ref().map(DateTime::as_str),
            Some("2026-07-01T09:00:00+01:00")
        );
        assert!(horizon.end.is_none());
        assert_eq!(s.actor.len(), 1);
    }

    // ----- properties ---------------------------------------------------------------------

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("start".to_owned()),
            Just("end".to_owned()),
            Just("status".to_owned()),
            Just("_include".to_owned()),
            Just("_include:recurse".to_owned()),
            Just("searchFilter".to_owned()),
            Just("_count".to_owned()),
            "\\PC{0,12}",
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("free".to_owned()),
            Just("Slot:schedule".to_owned()),
            Just("Schedule:actor:Location".to_owned()),
            "(ge|le|eq|ne|xx|GE)?20[0-9]{2}(-[0-9]{2}(-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,3})?(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?",
            "(https://fhir.nhs.uk/Id/ods-organization-code|https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1|x)?\\|?\\PC{0,8}",
            "\\PC{0,30}",
        ]
    }

    /// The testkit practice at [`WINTER`], loaded once for the properties.
    fn shared() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(|| Fixture::new(WINTER))
    }

    /// A bound: a UK local date-time or the date it falls on.
    fn bound(prefix: &str, t: Timestamp, as_date: bool) -> String {
        if as_date {
            format!("{prefix}{}", uk_today(t))
        } else {
            format!("{prefix}{}", format_uk_local(t))
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_slot_search_never_panics_and_fails_only_with_400_or_422(
            pairs in proptest::collection::vec((name(), value()), 0..10),
            base in any::<bool>(),
        ) {
            let mut q = if base { suite(3).0 } else { Vec::new() };
            q.extend(pairs);
            match Query(q).parse() {
                Ok(s) => {
                    prop_assert!(s.from() <= s.until());
                    prop_assert!(s.until() <= s.from() + SignedDuration::from_hours(24 * 16));
                }
                Err(e) => {
                    let expected = match e.status() {
                        400 => SpineCode::BadRequest,
                        _ => SpineCode::InvalidParameter,
                    };
                    prop_assert!(matches!(e.status(), 400 | 422), "{}", e);
                    prop_assert_eq!(e.code(), expected);
                }
            }
        }

        #[test]
        fn every_returned_slot_is_free_bookable_not_visit_and_fully_within_the_range(
            start_min in -2i64 * 24 * 60..=16 * 24 * 60,
            len_min in 0i64..=14 * 24 * 60,
            start_date in any::<bool>(),
            end_date in any::<bool>(),
            org_type in proptest::option::of(prop_oneof![Just("urgent-care"), Just("gp-practice")]),
            ods in proptest::option::of(prop_oneof![Just("B82001"), Just("A20047")]),
        ) {
            let f = shared();
            let from = f.now + SignedDuration::from_mins(start_min);
            let until = from + SignedDuration::from_mins(len_min);
            let mut q = Query::new(&bound("ge", from, start_date), &bound("le", until, end_date));
            if let Some(t) = org_type {
                q = q.with("searchFilter", &format!("{TYPE}|{t}"));
            }
            if let Some(o) = ods {
                q = q.with("searchFilter", &format!("{ODS_SYSTEM}|{o}"));
            }
            // Whole-day bounds can stretch past 14 days; those are rejected.
            let Ok(search) = q.parse() else {
                prop_assume!(false);
                return Ok(());
            };
            if !start_date {
                prop_assert_eq!(search.from(), from);
            }
            if !end_date {
                prop_assert_eq!(search.until(), until);
            }
            let bundle = search_free_slots(&f.ctx(), &search).expect("search").body;
            let who = Requester { organisation_type: org_type, ods_code: ods };
            for slot in slots(&bundle) {
                let id = slot.id.as_ref().expect("id");
                let record = f.store.slot(ODS, id.as_str()).expect("read").expect("stored");
                prop_assert_eq!(record.status, SlotStatus::Free);
                prop_assert!(record.bookable);
                prop_assert_ne!(record.delivery_channel.as_str(), "Visit");
                prop_assert!(record.start >= search.from() && record.end <= search.until());
                prop_assert!(record.start > f.now);
                prop_assert!(crate::appointments::availability::restrictions_allow(&record.restrictions, &who));
            }
            // Every unreturned slot in range is unavailable to this requester.
            let returned: HashSet<String> = slot_ids(&bundle).into_iter().collect();
            for record in testkit::slots(f.now, 14) {
                if search.covers(&record) && !returned.contains(&record.id) {
                    prop_assert!(availability(&record, &f.practice, &who, f.now).is_err(), "{}", record.id);
                }
            }
            let all = refs(&bundle);
            let unique: HashSet<&String> = all.iter().collect();
            prop_assert_eq!(unique.len(), all.len());
            prop_assert_eq!(all.is_empty(), returned.is_empty());
        }
    }
}
