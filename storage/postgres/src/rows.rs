//! Records to rows and back. Each kind of record has its column list (a
//! macro, so statements can be `concat!`ed into `&'static str`s), a decoder
//! from a row in that order, and, for import, a JSON object per row that
//! `jsonb_to_recordset` turns into the table's columns in one statement.

use gpconnect_core::store::*;
use postgres::Row;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Fail, R, corrupt, nanos, timestamp, version};

macro_rules! practice_cols {
    () => {
        "ods, version, asid, organization_id, settings::text"
    };
}
macro_rules! organization_cols {
    () => {
        "id, version, ods_code, resource::text"
    };
}
macro_rules! location_cols {
    () => {
        "id, version, resource::text"
    };
}
macro_rules! practitioner_cols {
    () => {
        "id, version, sds_user_ids, resource::text"
    };
}
macro_rules! patient_cols {
    () => {
        "id, version, nhs_number, resource::text, flags::text"
    };
}
macro_rules! schedule_cols {
    () => {
        "id, version, body::text"
    };
}
macro_rules! slot_cols {
    () => {
        "id, version, schedule_id, start_ns, end_ns, free, appointment_id, body::text"
    };
}
macro_rules! appointment_cols {
    () => {
        "id, version, status, patient_id, start_ns, end_ns, slot_ids, booking_ods, limit_keys, \
         last_modified_ns, resource::text"
    };
}
pub(crate) use {
    appointment_cols, location_cols, organization_cols, patient_cols, practice_cols,
    practitioner_cols, schedule_cols, slot_cols,
};

/// A JSON column, decoded.
fn parse<T: DeserializeOwned>(row: &Row, idx: usize, what: &str) -> R<T> {
    let text: &str = row.try_get(idx)?;
    serde_json::from_str(text).map_err(|e| corrupt(format!("{what}: {e}")))
}

/// A value as the JSON a column holds.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T, what: &str) -> R<String> {
    serde_json::to_string(value).map_err(|e| {
        Fail::Store(StoreError::Backend(format!(
            "PostgreSQL: encoding {what}: {e}"
        )))
    })
}

fn to_value<T: Serialize + ?Sized>(value: &T, what: &str) -> R<Value> {
    serde_json::to_value(value).map_err(|e| {
        Fail::Store(StoreError::Backend(format!(
            "PostgreSQL: encoding {what}: {e}"
        )))
    })
}

fn ver(row: &Row, idx: usize) -> R<u64> {
    version(row.try_get(idx)?)
}

fn time(row: &Row, idx: usize) -> R<jiff::Timestamp> {
    timestamp(row.try_get(idx)?)
}

pub(crate) fn practice(row: &Row) -> R<PracticeRecord> {
    Ok(PracticeRecord {
        ods_code: row.try_get(0)?,
        version: ver(row, 1)?,
        asid: row.try_get(2)?,
        organization_id: row.try_get(3)?,
        settings: parse(row, 4, "practice settings")?,
    })
}

pub(crate) fn organization(row: &Row) -> R<OrganizationRecord> {
    Ok(OrganizationRecord {
        id: row.try_get(0)?,
        version: ver(row, 1)?,
        ods_code: row.try_get(2)?,
        resource: parse(row, 3, "Organization")?,
    })
}

pub(crate) fn location(row: &Row) -> R<LocationRecord> {
    Ok(LocationRecord {
        id: row.try_get(0)?,
        version: ver(row, 1)?,
        resource: parse(row, 2, "Location")?,
    })
}

pub(crate) fn practitioner(row: &Row) -> R<PractitionerRecord> {
    Ok(PractitionerRecord {
        id: row.try_get(0)?,
        version: ver(row, 1)?,
        sds_user_ids: row.try_get(2)?,
        resource: parse(row, 3, "Practitioner")?,
    })
}

pub(crate) fn patient(row: &Row) -> R<PatientRecord> {
    Ok(PatientRecord {
        id: row.try_get(0)?,
        version: ver(row, 1)?,
        nhs_number: row.try_get(2)?,
        resource: parse(row, 3, "Patient")?,
        flags: parse(row, 4, "patient flags")?,
    })
}

/// A schedule's columns other than id and version.
#[derive(Serialize, Deserialize)]
struct ScheduleBody {
    location_id: String,
    practitioner_id: Option<String>,
    practitioner_role: Option<gpconnect_core::fhir::datatypes::Coding>,
    schedule_type: Option<String>,
    planning_horizon_start: jiff::Timestamp,
    planning_horizon_end: Option<jiff::Timestamp>,
}

pub(crate) fn schedule(row: &Row) -> R<ScheduleRecord> {
    let b: ScheduleBody = parse(row, 2, "schedule")?;
    Ok(ScheduleRecord {
        id: row.try_get(0)?,
        version: ver(row, 1)?,
        location_id: b.location_id,
        practitioner_id: b.practitioner_id,
        practitioner_role: b.practitioner_role,
        schedule_type: b.schedule_type,
        planning_horizon_start: b.planning_horizon_start,
        planning_horizon_end: b.planning_horizon_end,
    })
}

/// What a slot holds besides its indexed columns.
#[derive(Serialize, Deserialize)]
struct SlotBody {
    delivery_channel: String,
    service_type: String,
    bookable: bool,
    restrictions: SlotRestrictions,
    booking_window: Option<BookingWindow>,
}

pub(crate) fn slot(row: &Row) -> R<SlotRecord> {
    let b: SlotBody = parse(row, 7, "slot")?;
    let free: bool = row.try_get(5)?;
    Ok(SlotRecord {
        id: row.try_get(0)?,
        version: ver(row, 1)?,
        schedule_id: row.try_get(2)?,
        start: time(row, 3)?,
        end: time(row, 4)?,
        status: if free {
            SlotStatus::Free
        } else {
            SlotStatus::Busy
        },
        appointment_id: row.try_get(6)?,
        delivery_channel: b.delivery_channel,
        service_type: b.service_type,
        bookable: b.bookable,
        restrictions: b.restrictions,
        booking_window: b.booking_window,
    })
}

pub(crate) const BOOKED: &str = "booked";
pub(crate) const CANCELLED: &str = "cancelled";

pub(crate) fn status_name(s: AppointmentStatus) -> &'static str {
    match s {
        AppointmentStatus::Booked => BOOKED,
        AppointmentStatus::Cancelled => CANCELLED,
    }
}

pub(crate) fn appointment(row: &Row) -> R<AppointmentRecord> {
    let status: &str = row.try_get(2)?;
    Ok(AppointmentRecord {
        id: row.try_get(0)?,
        version: ver(row, 1)?,
        status: match status {
            BOOKED => AppointmentStatus::Booked,
            CANCELLED => AppointmentStatus::Cancelled,
            other => return Err(corrupt(format!("appointment status {other:?}"))),
        },
        patient_id: row.try_get(3)?,
        start: time(row, 4)?,
        end: time(row, 5)?,
        slot_ids: row.try_get(6)?,
        booking_ods: row.try_get(7)?,
        limit_keys: row.try_get(8)?,
        last_modified: time(row, 9)?,
        resource: parse(row, 10, "Appointment")?,
    })
}

/// A kind of record an import upserts by id.
pub(crate) trait Kind: Clone + PartialEq {
    /// The rows of `$2::text[]` ids in practice `$1`, locked, in id order.
    const LOAD: &'static str;
    /// Upsert the rows of the JSON array `$2` into practice `$1`.
    const UPSERT: &'static str;
    fn id(&self) -> &str;
    fn version_mut(&mut self) -> &mut u64;
    fn decode(row: &Row) -> R<Self>;
    /// The row as `UPSERT` reads it.
    fn encode(&self) -> R<Value>;
}

impl Kind for OrganizationRecord {
    const LOAD: &'static str = concat!(
        "SELECT ",
        organization_cols!(),
        " FROM organizations WHERE ods = $1 AND id = ANY($2) ORDER BY id FOR UPDATE"
    );
    const UPSERT: &'static str = "INSERT INTO organizations (ods, id, version, ods_code, resource) \
        SELECT $1, r.id, r.version, r.ods_code, r.resource \
        FROM jsonb_to_recordset($2::text::jsonb) AS r(id text, version bigint, ods_code text, resource jsonb) \
        ON CONFLICT (ods, id) DO UPDATE SET version = EXCLUDED.version, \
        ods_code = EXCLUDED.ods_code, resource = EXCLUDED.resource";
    fn id(&self) -> &str {
        &self.id
    }
    fn version_mut(&mut self) -> &mut u64 {
        &mut self.version
    }
    fn decode(row: &Row) -> R<Self> {
        organization(row)
    }
    fn encode(&self) -> R<Value> {
        Ok(json!({
            "id": self.id,
            "version": self.version,
            "ods_code": self.ods_code,
            "resource": to_value(&self.resource, "Organization")?,
        }))
    }
}

impl Kind for LocationRecord {
    const LOAD: &'static str = concat!(
        "SELECT ",
        location_cols!(),
        " FROM locations WHERE ods = $1 AND id = ANY($2) ORDER BY id FOR UPDATE"
    );
    const UPSERT: &'static str = "INSERT INTO locations (ods, id, version, resource) \
        SELECT $1, r.id, r.version, r.resource \
        FROM jsonb_to_recordset($2::text::jsonb) AS r(id text, version bigint, resource jsonb) \
        ON CONFLICT (ods, id) DO UPDATE SET version = EXCLUDED.version, resource = EXCLUDED.resource";
    fn id(&self) -> &str {
        &self.id
    }
    fn version_mut(&mut self) -> &mut u64 {
        &mut self.version
    }
    fn decode(row: &Row) -> R<Self> {
        location(row)
    }
    fn encode(&self) -> R<Value> {
        Ok(json!({
            "id": self.id,
            "version": self.version,
            "resource": to_value(&self.resource, "Location")?,
        }))
    }
}

impl Kind for PractitionerRecord {
    const LOAD: &'static str = concat!(
        "SELECT ",
        practitioner_cols!(),
        " FROM practitioners WHERE ods = $1 AND id = ANY($2) ORDER BY id FOR UPDATE"
    );
    const UPSERT: &'static str = "INSERT INTO practitioners (ods, id, version, sds_user_ids, resource) \
        SELECT $1, r.id, r.version, r.sds_user_ids, r.resource \
        FROM jsonb_to_recordset($2::text::jsonb) \
        AS r(id text, version bigint, sds_user_ids text[], resource jsonb) \
        ON CONFLICT (ods, id) DO UPDATE SET version = EXCLUDED.version, \
        sds_user_ids = EXCLUDED.sds_user_ids, resource = EXCLUDED.resource";
    fn id(&self) -> &str {
        &self.id
    }
    fn version_mut(&mut self) -> &mut u64 {
        &mut self.version
    }
    fn decode(row: &Row) -> R<Self> {
        practitioner(row)
    }
    fn encode(&self) -> R<Value> {
        Ok(json!({
            "id": self.id,
            "version": self.version,
            "sds_user_ids": self.sds_user_ids,
            "resource": to_value(&self.resource, "Practitioner")?,
        }))
    }
}

impl Kind for PatientRecord {
    const LOAD: &'static str = concat!(
        "SELECT ",
        patient_cols!(),
        " FROM patients WHERE ods = $1 AND id = ANY($2) ORDER BY id FOR UPDATE"
    );
    const UPSERT: &'static str = "INSERT INTO patients (ods, id, version, nhs_number, resource, flags) \
        SELECT $1, r.id, r.version, r.nhs_number, r.resource, r.flags \
        FROM jsonb_to_recordset($2::text::jsonb) \
        AS r(id text, version bigint, nhs_number text, resource jsonb, flags jsonb) \
        ON CONFLICT (ods, id) DO UPDATE SET version = EXCLUDED.version, \
        nhs_number = EXCLUDED.nhs_number, resource = EXCLUDED.resource, flags = EXCLUDED.flags";
    fn id(&self) -> &str {
        &self.id
    }
    fn version_mut(&mut self) -> &mut u64 {
        &mut self.version
    }
    fn decode(row: &Row) -> R<Self> {
        patient(row)
    }
    fn encode(&self) -> R<Value> {
        Ok(json!({
            "id": self.id,
            "version": self.version,
            "nhs_number": self.nhs_number,
            "resource": to_value(&self.resource, "Patient")?,
            "flags": to_value(&self.flags, "patient flags")?,
        }))
    }
}

impl Kind for ScheduleRecord {
    const LOAD: &'static str = concat!(
        "SELECT ",
        schedule_cols!(),
        " FROM schedules WHERE ods = $1 AND id = ANY($2) ORDER BY id FOR UPDATE"
    );
    const UPSERT: &'static str = "INSERT INTO schedules (ods, id, version, body) \
        SELECT $1, r.id, r.version, r.body \
        FROM jsonb_to_recordset($2::text::jsonb) AS r(id text, version bigint, body jsonb) \
        ON CONFLICT (ods, id) DO UPDATE SET version = EXCLUDED.version, body = EXCLUDED.body";
    fn id(&self) -> &str {
        &self.id
    }
    fn version_mut(&mut self) -> &mut u64 {
        &mut self.version
    }
    fn decode(row: &Row) -> R<Self> {
        schedule(row)
    }
    fn encode(&self) -> R<Value> {
        let body = ScheduleBody {
            location_id: self.location_id.clone(),
            practitioner_id: self.practitioner_id.clone(),
            practitioner_role: self.practitioner_role.clone(),
            schedule_type: self.schedule_type.clone(),
            planning_horizon_start: self.planning_horizon_start,
            planning_horizon_end: self.planning_horizon_end,
        };
        Ok(json!({
            "id": self.id,
            "version": self.version,
            "body": to_value(&body, "schedule")?,
        }))
    }
}

impl Kind for SlotRecord {
    const LOAD: &'static str = concat!(
        "SELECT ",
        slot_cols!(),
        " FROM slots WHERE ods = $1 AND id = ANY($2) ORDER BY id FOR UPDATE"
    );
    const UPSERT: &'static str = "INSERT INTO slots \
        (ods, id, version, schedule_id, start_ns, end_ns, free, appointment_id, body) \
        SELECT $1, r.id, r.version, r.schedule_id, r.start_ns, r.end_ns, r.free, r.appointment_id, r.body \
        FROM jsonb_to_recordset($2::text::jsonb) AS r(id text, version bigint, schedule_id text, \
        start_ns bigint, end_ns bigint, free boolean, appointment_id text, body jsonb) \
        ON CONFLICT (ods, id) DO UPDATE SET version = EXCLUDED.version, \
        schedule_id = EXCLUDED.schedule_id, start_ns = EXCLUDED.start_ns, end_ns = EXCLUDED.end_ns, \
        free = EXCLUDED.free, appointment_id = EXCLUDED.appointment_id, body = EXCLUDED.body";
    fn id(&self) -> &str {
        &self.id
    }
    fn version_mut(&mut self) -> &mut u64 {
        &mut self.version
    }
    fn decode(row: &Row) -> R<Self> {
        slot(row)
    }
    fn encode(&self) -> R<Value> {
        let body = SlotBody {
            delivery_channel: self.delivery_channel.clone(),
            service_type: self.service_type.clone(),
            bookable: self.bookable,
            restrictions: self.restrictions.clone(),
            booking_window: self.booking_window,
        };
        Ok(json!({
            "id": self.id,
            "version": self.version,
            "schedule_id": self.schedule_id,
            "start_ns": nanos(self.start)?,
            "end_ns": nanos(self.end)?,
            "free": self.status == SlotStatus::Free,
            "appointment_id": self.appointment_id,
            "body": to_value(&body, "slot")?,
        }))
    }
}

impl Kind for AppointmentRecord {
    const LOAD: &'static str = concat!(
        "SELECT ",
        appointment_cols!(),
        " FROM appointments WHERE ods = $1 AND id = ANY($2) ORDER BY id FOR UPDATE"
    );
    const UPSERT: &'static str = "INSERT INTO appointments (ods, id, version, status, patient_id, \
        start_ns, end_ns, slot_ids, booking_ods, limit_keys, last_modified_ns, resource) \
        SELECT $1, r.id, r.version, r.status, r.patient_id, r.start_ns, r.end_ns, r.slot_ids, \
        r.booking_ods, r.limit_keys, r.last_modified_ns, r.resource \
        FROM jsonb_to_recordset($2::text::jsonb) AS r(id text, version bigint, status text, \
        patient_id text, start_ns bigint, end_ns bigint, slot_ids text[], booking_ods text, \
        limit_keys text[], last_modified_ns bigint, resource jsonb) \
        ON CONFLICT (ods, id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status, \
        patient_id = EXCLUDED.patient_id, start_ns = EXCLUDED.start_ns, end_ns = EXCLUDED.end_ns, \
        slot_ids = EXCLUDED.slot_ids, booking_ods = EXCLUDED.booking_ods, \
        limit_keys = EXCLUDED.limit_keys, last_modified_ns = EXCLUDED.last_modified_ns, \
        resource = EXCLUDED.resource";
    fn id(&self) -> &str {
        &self.id
    }
    fn version_mut(&mut self) -> &mut u64 {
        &mut self.version
    }
    fn decode(row: &Row) -> R<Self> {
        appointment(row)
    }
    fn encode(&self) -> R<Value> {
        Ok(json!({
            "id": self.id,
            "version": self.version,
            "status": status_name(self.status),
            "patient_id": self.patient_id,
            "start_ns": nanos(self.start)?,
            "end_ns": nanos(self.end)?,
            "slot_ids": self.slot_ids,
            "booking_ods": self.booking_ods,
            "limit_keys": self.limit_keys,
            "last_modified_ns": nanos(self.last_modified)?,
            "resource": to_value(&self.resource, "Appointment")?,
        }))
    }
}
