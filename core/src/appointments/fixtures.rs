//! Test fixtures for the appointment operations: the testkit practice at a
//! fixed "now", and request bodies built from the spec's own examples with
//! the testkit's slot ids, times, patient and location.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::Timestamp;

use super::book::book_appointment;
use crate::checks::datetime::format_uk_local;
use crate::error::{Error, SpineCode};
use crate::fhir::{Limits, from_json};
use crate::operation::{Answer, Context};
use crate::population::reference;
use crate::store::memory::MemoryStore;
use crate::store::{
    AppointmentRecord, AppointmentStatus, PracticeImport, PracticeRecord, PracticeStore,
    SlotRecord, SlotStatus,
};
use crate::stu3::{self, Id, Instant};
use crate::testkit::{self, ODS};

/// The spec's book request (`book_appt_request_example.json`).
pub const BOOK_EXAMPLE: &str = include_str!("../../tests/data/stu3/book_appt_request_example.json");
/// The spec's cancel request (`cancel_appt_request_example.json`).
pub const CANCEL_EXAMPLE: &str =
    include_str!("../../tests/data/stu3/cancel_appt_request_example.json");
/// The spec's amend request (`amend_appt_request_example.json`).
pub const AMEND_EXAMPLE: &str =
    include_str!("../../tests/data/stu3/amend_appt_request_example.json");

/// Wednesday 25 November 2026, 10:00 GMT: day 1 of the testkit is the 26th.
pub fn now() -> Timestamp {
    "2026-11-25T10:00:00Z".parse().unwrap()
}

/// The testkit practice in a memory store, at a fixed now.
#[derive(Debug)]
pub struct Practice {
    pub store: MemoryStore,
    pub practice: PracticeRecord,
    pub now: Timestamp,
}

impl Practice {
    pub fn new(now: Timestamp) -> Practice {
        Practice {
            store: testkit::memory_store(now).unwrap(),
            practice: testkit::practice_record(),
            now,
        }
    }

    /// With other practice settings (booking window, limits).
    pub fn with_settings(now: Timestamp, f: impl FnOnce(&mut PracticeRecord)) -> Practice {
        let mut t = Practice::new(now);
        f(&mut t.practice);
        t.store
            .import(
                ODS,
                PracticeImport {
                    practice: Some(t.practice.clone()),
                    ..Default::default()
                },
            )
            .unwrap();
        t
    }

    pub fn ctx(&self) -> Context<'_> {
        self.ctx_at(self.now)
    }

    /// The same practice with the clock moved.
    pub fn ctx_at(&self, now: Timestamp) -> Context<'_> {
        Context {
            store: &self.store,
            practice: &self.practice,
            now,
            edition: Default::default(),
        }
    }

    pub fn slot(&self, id: &str) -> SlotRecord {
        self.store.slot(ODS, id).unwrap().unwrap()
    }

    pub fn appointment(&self, id: &str) -> AppointmentRecord {
        self.store.appointment(ODS, id).unwrap().unwrap()
    }

    /// The spec's book request for `slot_ids` (from the earliest start to
    /// the latest end), for patient 2 at the first slot's schedule's location.
    pub fn book_body(&self, slot_ids: &[&str]) -> stu3::Appointment {
        let mut a: stu3::Appointment = from_json(BOOK_EXAMPLE.as_bytes(), Limits::REQUEST).unwrap();
        let slots: Vec<SlotRecord> = slot_ids.iter().map(|id| self.slot(id)).collect();
        let schedule = self
            .store
            .schedule(ODS, &slots[0].schedule_id)
            .unwrap()
            .unwrap();
        a.slot = slot_ids.iter().map(|id| reference("Slot", id)).collect();
        let start = slots.iter().map(|s| s.start).min().unwrap();
        let end = slots.iter().map(|s| s.end).max().unwrap();
        a.start = Instant::new(format_uk_local(start)).ok();
        a.end = Instant::new(format_uk_local(end)).ok();
        a.participant[0].actor = Some(reference("Patient", "2"));
        a.participant[1].actor = Some(reference("Location", &schedule.location_id));
        a
    }

    /// Book `slot_ids` with [`Practice::book_body`]; the stored record.
    pub fn book(&self, slot_ids: &[&str]) -> AppointmentRecord {
        let answer = book_appointment(&self.ctx(), self.book_body(slot_ids)).unwrap();
        self.appointment(answer.body.id.as_ref().unwrap().as_str())
    }

    pub fn import_appointment(&self, record: AppointmentRecord) {
        self.store
            .import(
                ODS,
                PracticeImport {
                    appointments: vec![record],
                    ..Default::default()
                },
            )
            .unwrap();
    }

    /// A practice-booked appointment holding `slot_id` for patient 2 (e.g. a
    /// Visit), with its slot marked busy.
    pub fn import_visit(
        &self,
        id: &str,
        slot_id: &str,
        comment: Option<&str>,
    ) -> AppointmentRecord {
        let mut slot = self.slot(slot_id);
        let mut resource = self.book_body(&["14-2-0"]);
        resource.slot = vec![reference("Slot", slot_id)];
        resource.start = Instant::new(format_uk_local(slot.start)).ok();
        resource.end = Instant::new(format_uk_local(slot.end)).ok();
        resource.comment = comment.map(str::to_owned);
        resource.meta = None;
        let record = AppointmentRecord {
            id: id.to_owned(),
            version: 0,
            status: AppointmentStatus::Booked,
            patient_id: "2".to_owned(),
            slot_ids: vec![slot_id.to_owned()],
            start: slot.start,
            end: slot.end,
            booking_ods: None,
            limit_keys: Vec::new(),
            last_modified: self.now,
            resource,
        };
        slot.status = SlotStatus::Busy;
        slot.appointment_id = Some(id.to_owned());
        self.store
            .import(
                ODS,
                PracticeImport {
                    slots: vec![slot],
                    appointments: vec![record],
                    ..Default::default()
                },
            )
            .unwrap();
        self.appointment(id)
    }

    /// What a consumer sends back to amend or cancel: the representation
    /// returned for `id`.
    pub fn representation(&self, id: &str) -> stu3::Appointment {
        super::response::appointment_resource(&self.ctx(), &self.appointment(id)).unwrap()
    }
}

/// A change to a request body, for table-driven tests.
pub type Edit = fn(&mut stu3::Appointment);

/// `W/"{version}"`.
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// The spec's cancel request for the stored appointment `record`: its own
/// shape (no provider-populated elements), with the record's id, slots,
/// times, participants, description and comment.
pub fn cancel_body(record: &AppointmentRecord, reason: &str) -> stu3::Appointment {
    let mut a: stu3::Appointment = from_json(CANCEL_EXAMPLE.as_bytes(), Limits::REQUEST).unwrap();
    let stored = &record.resource;
    a.id = Id::new(record.id.clone()).ok();
    a.slot = stored.slot.clone();
    a.start = Instant::new(format_uk_local(record.start)).ok();
    a.end = Instant::new(format_uk_local(record.end)).ok();
    a.participant = stored.participant.clone();
    a.description = stored.description.clone();
    a.comment = stored.comment.clone();
    a.created = stored.created.clone();
    for e in &mut a.extension {
        if e.url == stu3::profiles::extension::APPOINTMENT_CANCELLATION_REASON {
            e.value = Some(stu3::ExtensionValue::String(reason.to_owned()));
        }
    }
    a
}

/// The spec's amend request for `record`, with a new description.
pub fn amend_body(record: &AppointmentRecord, description: &str) -> stu3::Appointment {
    let mut a: stu3::Appointment = from_json(AMEND_EXAMPLE.as_bytes(), Limits::REQUEST).unwrap();
    let stored = &record.resource;
    a.id = Id::new(record.id.clone()).ok();
    a.slot = stored.slot.clone();
    a.start = Instant::new(format_uk_local(record.start)).ok();
    a.end = Instant::new(format_uk_local(record.end)).ok();
    a.participant = stored.participant.clone();
    a.comment = stored.comment.clone();
    a.created = stored.created.clone();
    a.description = Some(description.to_owned());
    a
}

/// Assert an error's HTTP status and Spine code.
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(
    result: Result<T, Error>,
    status: u16,
    code: SpineCode,
) -> Error {
    match result {
        Ok(v) => panic!("expected {status} {code}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!((e.status(), e.code()), (status, code), "{e}");
            e
        }
    }
}

/// The body of a successful answer.
#[track_caller]
pub fn ok<T: std::fmt::Debug>(result: Result<Answer<T>, Error>) -> Answer<T> {
    match result {
        Ok(a) => a,
        Err(e) => panic!("expected success, got {e}"),
    }
}
