//! The port's reads and commands (import is in `import`).

use std::collections::{BTreeMap, HashMap};

use gpconnect_core::store::*;
use gpconnect_render::{ClinicalRecord, Section};
use jiff::Timestamp;
use postgres::{GenericClient, IsolationLevel};

use crate::PgStore;
use crate::error::{Fail, R, corrupt, nanos, nanos_range, stored_version, version};
use crate::pool::Db;
use crate::rows::{self, *};

const PRACTICE_EXISTS: &str = "SELECT 1 FROM practices WHERE ods = $1";

/// `Ok(())` if practice `ods` is hosted, else [`StoreError::UnknownPractice`].
pub(crate) fn hosted<C: GenericClient>(db: &mut Db<'_, C>, ods: &str) -> R<()> {
    match db.query_opt(PRACTICE_EXISTS, &[&ods])? {
        Some(_) => Ok(()),
        None => Err(StoreError::UnknownPractice(ods.to_owned()).into()),
    }
}

/// Rows of a read scoped to practice `ods`, decoded; when there are none,
/// the practice must be hosted.
fn scoped<C: GenericClient, T>(
    db: &mut Db<'_, C>,
    ods: &str,
    sql: &'static str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
    decode: fn(&postgres::Row) -> R<T>,
) -> R<Vec<T>> {
    let rows = db.query(sql, params)?;
    if rows.is_empty() {
        hosted(db, ods)?;
    }
    rows.iter().map(decode).collect()
}

fn one<T>(mut v: Vec<T>) -> Option<T> {
    v.pop()
}

fn not_found(kind: &'static str, id: &str) -> Fail {
    StoreError::NotFound {
        kind,
        id: id.to_owned(),
    }
    .into()
}

/// Why a compare-and-swap `UPDATE` of an appointment changed no row.
fn appointment_refused<C: GenericClient>(
    db: &mut Db<'_, C>,
    ods: &str,
    change: &AppointmentChange,
    if_cancelled: &str,
) -> Fail {
    let found = match db.query_opt(
        "SELECT version, status FROM appointments WHERE ods = $1 AND id = $2",
        &[&ods, &change.id],
    ) {
        Ok(found) => found,
        Err(e) => return e.into(),
    };
    let Some(row) = found else {
        return match hosted(db, ods) {
            Ok(()) => not_found("Appointment", &change.id),
            Err(f) => f,
        };
    };
    let actual = match row
        .try_get::<_, i64>(0)
        .map_err(Fail::from)
        .and_then(version)
    {
        Ok(v) => v,
        Err(f) => return f,
    };
    if actual != change.expected_version {
        return StoreError::VersionConflict {
            kind: "Appointment",
            id: change.id.clone(),
            expected: change.expected_version,
            actual,
        }
        .into();
    }
    match row.try_get::<_, &str>(1) {
        Ok(CANCELLED) => {
            StoreError::Rejected(format!("Appointment/{} {if_cancelled}", change.id)).into()
        }
        // At the expected version and booked: the row changed under the
        // `UPDATE` and back, which versions never do.
        Ok(_) => corrupt(format!(
            "Appointment/{} refused at its own version",
            change.id
        )),
        Err(e) => e.into(),
    }
}

/// Why a compare-and-swap `UPDATE` of a patient changed no row.
fn patient_refused<C: GenericClient>(
    db: &mut Db<'_, C>,
    ods: &str,
    id: &str,
    expected: u64,
) -> Fail {
    let found = match db.query_opt(
        "SELECT version FROM patients WHERE ods = $1 AND id = $2",
        &[&ods, &id],
    ) {
        Ok(found) => found,
        Err(e) => return e.into(),
    };
    let Some(row) = found else {
        return match hosted(db, ods) {
            Ok(()) => not_found("Patient", id),
            Err(f) => f,
        };
    };
    match row
        .try_get::<_, i64>(0)
        .map_err(Fail::from)
        .and_then(version)
    {
        Ok(actual) => StoreError::VersionConflict {
            kind: "Patient",
            id: id.to_owned(),
            expected,
            actual,
        }
        .into(),
        Err(f) => f,
    }
}

const SLOTS_ALL: &str = concat!(
    "SELECT ",
    slot_cols!(),
    " FROM slots WHERE ods = $1 AND start_ns >= $2 AND start_ns <= $3 ORDER BY start_ns, id"
);
const SLOTS_FREE: &str = concat!(
    "SELECT ",
    slot_cols!(),
    " FROM slots WHERE ods = $1 AND start_ns >= $2 AND start_ns <= $3 AND free \
     ORDER BY start_ns, id"
);
const SLOTS_OF_SCHEDULE: &str = concat!(
    "SELECT ",
    slot_cols!(),
    " FROM slots WHERE ods = $1 AND schedule_id = $4 AND start_ns >= $2 AND start_ns <= $3 \
     ORDER BY start_ns, id"
);
const FREE_SLOTS_OF_SCHEDULE: &str = concat!(
    "SELECT ",
    slot_cols!(),
    " FROM slots WHERE ods = $1 AND schedule_id = $4 AND start_ns >= $2 AND start_ns <= $3 \
     AND free ORDER BY start_ns, id"
);

/// Lock a booking's slots, in id order.
const LOCK_SLOTS: &str =
    "SELECT id, free, version FROM slots WHERE ods = $1 AND id = ANY($2) ORDER BY id FOR UPDATE";
/// Add `$3[i]` to counter `$2[i]` (keys sorted, so counters are locked in
/// order), creating it at that value; the new counts.
const BUMP_COUNTERS: &str = "INSERT INTO limit_counters (ods, key, used) \
    SELECT $1, u.k, u.n FROM unnest($2::text[], $3::bigint[]) AS u(k, n) ORDER BY u.k \
    ON CONFLICT (ods, key) DO UPDATE SET used = limit_counters.used + EXCLUDED.used \
    RETURNING key, used";
const INSERT_APPOINTMENT: &str = "INSERT INTO appointments (ods, id, version, status, patient_id, \
    start_ns, end_ns, slot_ids, booking_ods, limit_keys, last_modified_ns, resource) \
    VALUES ($1, nextval('appointment_id_seq')::text, nextval('version_seq'), 'booked', $2, $3, $4, \
    $5, $6, $7, $8, $9::text::jsonb) \
    ON CONFLICT (ods, id) DO NOTHING RETURNING id, version";
const MARK_BOOKED: &str = "UPDATE slots SET free = false, appointment_id = $3, version = $4 \
    WHERE ods = $1 AND id = ANY($2)";
/// The database's own check: a slot already held by a live appointment
/// keeps its hold, and the booking sees which holds it did not get.
const HOLD_SLOTS: &str = "INSERT INTO slot_holds (ods, slot_id, appointment_id) \
    SELECT $1, s, $3 FROM unnest($2::text[]) AS s ORDER BY s \
    ON CONFLICT (ods, slot_id) DO NOTHING RETURNING slot_id";

const AMEND: &str = concat!(
    "UPDATE appointments SET resource = $4::text::jsonb, last_modified_ns = $5, \
     version = nextval('version_seq') \
     WHERE ods = $1 AND id = $2 AND version = $3 AND status = 'booked' RETURNING ",
    appointment_cols!()
);
const CANCEL: &str = concat!(
    "UPDATE appointments SET status = 'cancelled', resource = $4::text::jsonb, \
     last_modified_ns = $5, version = nextval('version_seq') \
     WHERE ods = $1 AND id = $2 AND version = $3 AND status = 'booked' RETURNING ",
    appointment_cols!()
);
/// Free the slots appointment `$4` still holds, locked in id order.
const FREE_HELD_SLOTS: &str = "UPDATE slots SET free = true, appointment_id = NULL, version = $3 \
    WHERE ods = $1 AND id IN (SELECT id FROM slots WHERE ods = $1 AND id = ANY($2) \
    AND appointment_id = $4 ORDER BY id FOR UPDATE)";
const RELEASE_HOLDS: &str = "DELETE FROM slot_holds WHERE ods = $1 AND appointment_id = $2";
const LOCK_COUNTERS: &str =
    "SELECT key FROM limit_counters WHERE ods = $1 AND key = ANY($2) ORDER BY key FOR UPDATE";
const RELEASE_COUNTERS: &str = "UPDATE limit_counters c SET used = greatest(c.used - u.n, 0) \
    FROM unnest($2::text[], $3::bigint[]) AS u(k, n) WHERE c.ods = $1 AND c.key = u.k";

const REGISTER: &str = "INSERT INTO patients (ods, id, version, nhs_number, resource, flags) \
    VALUES ($1, 'p' || nextval('patient_id_seq'), nextval('version_seq'), $2, $3::text::jsonb, \
    $4::text::jsonb) ON CONFLICT (ods, id) DO NOTHING RETURNING id, version";
const REACTIVATE: &str = concat!(
    "UPDATE patients SET resource = $4::text::jsonb, flags = $5::text::jsonb, \
     version = nextval('version_seq') WHERE ods = $1 AND id = $2 AND version = $3 RETURNING ",
    patient_cols!()
);
const UPDATE_FLAGS: &str = concat!(
    "UPDATE patients SET flags = $4::text::jsonb, version = nextval('version_seq') \
     WHERE ods = $1 AND id = $2 AND version = $3 RETURNING ",
    patient_cols!()
);

/// How many fresh ids a command tries before giving up (each taken id is
/// one an import already used).
const ID_TRIES: usize = 1000;

/// Keys (sorted) and how much each grows: `per` for each time it appears.
fn counter_changes(keys: impl IntoIterator<Item = String>, per: i64) -> (Vec<String>, Vec<i64>) {
    let mut grouped: BTreeMap<String, i64> = BTreeMap::new();
    for k in keys {
        *grouped.entry(k).or_insert(0) += per;
    }
    grouped.into_iter().unzip()
}

impl PracticeStore for PgStore {
    fn practice(&self, ods: &str) -> StoreResult<Option<PracticeRecord>> {
        self.read("reading a practice", |db| {
            db.query_opt(
                concat!(
                    "SELECT ",
                    practice_cols!(),
                    " FROM practices WHERE ods = $1"
                ),
                &[&ods],
            )?
            .as_ref()
            .map(rows::practice)
            .transpose()
        })
    }

    fn practices(&self) -> StoreResult<Vec<String>> {
        self.read("listing practices", |db| {
            db.query("SELECT ods FROM practices ORDER BY ods", &[])?
                .iter()
                .map(|r| r.try_get(0).map_err(Fail::from))
                .collect()
        })
    }

    fn patient(&self, ods: &str, id: &str) -> StoreResult<Option<PatientRecord>> {
        self.read("reading a patient", |db| {
            scoped(
                db,
                ods,
                concat!(
                    "SELECT ",
                    patient_cols!(),
                    " FROM patients WHERE ods = $1 AND id = $2"
                ),
                &[&ods, &id],
                rows::patient,
            )
            .map(one)
        })
    }

    fn patients_by_nhs_number(
        &self,
        ods: &str,
        nhs_number: &str,
    ) -> StoreResult<Vec<PatientRecord>> {
        self.read("finding patients by NHS number", |db| {
            scoped(
                db,
                ods,
                concat!(
                    "SELECT ",
                    patient_cols!(),
                    " FROM patients WHERE ods = $1 AND nhs_number = $2 ORDER BY id"
                ),
                &[&ods, &nhs_number],
                rows::patient,
            )
        })
    }

    fn practitioner(&self, ods: &str, id: &str) -> StoreResult<Option<PractitionerRecord>> {
        self.read("reading a practitioner", |db| {
            scoped(
                db,
                ods,
                concat!(
                    "SELECT ",
                    practitioner_cols!(),
                    " FROM practitioners WHERE ods = $1 AND id = $2"
                ),
                &[&ods, &id],
                rows::practitioner,
            )
            .map(one)
        })
    }

    fn practitioners_by_sds_user_id(
        &self,
        ods: &str,
        sds_user_id: &str,
    ) -> StoreResult<Vec<PractitionerRecord>> {
        self.read("finding practitioners by SDS user id", |db| {
            scoped(
                db,
                ods,
                concat!(
                    "SELECT ",
                    practitioner_cols!(),
                    " FROM practitioners WHERE ods = $1 AND sds_user_ids @> ARRAY[$2::text] \
                     ORDER BY id"
                ),
                &[&ods, &sds_user_id],
                rows::practitioner,
            )
        })
    }

    fn organization(&self, ods: &str, id: &str) -> StoreResult<Option<OrganizationRecord>> {
        self.read("reading an organisation", |db| {
            scoped(
                db,
                ods,
                concat!(
                    "SELECT ",
                    organization_cols!(),
                    " FROM organizations WHERE ods = $1 AND id = $2"
                ),
                &[&ods, &id],
                rows::organization,
            )
            .map(one)
        })
    }

    fn organizations_by_ods_code(
        &self,
        ods: &str,
        ods_code: &str,
    ) -> StoreResult<Vec<OrganizationRecord>> {
        self.read("finding organisations by ODS code", |db| {
            scoped(
                db,
                ods,
                concat!(
                    "SELECT ",
                    organization_cols!(),
                    " FROM organizations WHERE ods = $1 AND ods_code = $2 ORDER BY id"
                ),
                &[&ods, &ods_code],
                rows::organization,
            )
        })
    }

    fn location(&self, ods: &str, id: &str) -> StoreResult<Option<LocationRecord>> {
        self.read("reading a location", |db| {
            scoped(
                db,
                ods,
                concat!(
                    "SELECT ",
                    location_cols!(),
                    " FROM locations WHERE ods = $1 AND id = $2"
                ),
                &[&ods, &id],
                rows::location,
            )
            .map(one)
        })
    }

    fn schedule(&self, ods: &str, id: &str) -> StoreResult<Option<ScheduleRecord>> {
        self.read("reading a schedule", |db| {
            scoped(
                db,
                ods,
                concat!(
                    "SELECT ",
                    schedule_cols!(),
                    " FROM schedules WHERE ods = $1 AND id = $2"
                ),
                &[&ods, &id],
                rows::schedule,
            )
            .map(one)
        })
    }

    fn slot(&self, ods: &str, id: &str) -> StoreResult<Option<SlotRecord>> {
        self.read("reading a slot", |db| {
            scoped(
                db,
                ods,
                concat!(
                    "SELECT ",
                    slot_cols!(),
                    " FROM slots WHERE ods = $1 AND id = $2"
                ),
                &[&ods, &id],
                rows::slot,
            )
            .map(one)
        })
    }

    fn slots(&self, ods: &str, query: &SlotQuery<'_>) -> StoreResult<Vec<SlotRecord>> {
        self.read("searching slots", |db| {
            let Some((from, last)) = nanos_range(query.from, query.to) else {
                hosted(db, ods)?;
                return Ok(Vec::new());
            };
            match (query.schedule_id, query.free_only) {
                (None, false) => scoped(db, ods, SLOTS_ALL, &[&ods, &from, &last], rows::slot),
                (None, true) => scoped(db, ods, SLOTS_FREE, &[&ods, &from, &last], rows::slot),
                (Some(s), false) => scoped(
                    db,
                    ods,
                    SLOTS_OF_SCHEDULE,
                    &[&ods, &from, &last, &s],
                    rows::slot,
                ),
                (Some(s), true) => scoped(
                    db,
                    ods,
                    FREE_SLOTS_OF_SCHEDULE,
                    &[&ods, &from, &last, &s],
                    rows::slot,
                ),
            }
        })
    }

    fn appointment(&self, ods: &str, id: &str) -> StoreResult<Option<AppointmentRecord>> {
        self.read("reading an appointment", |db| {
            scoped(
                db,
                ods,
                concat!(
                    "SELECT ",
                    appointment_cols!(),
                    " FROM appointments WHERE ods = $1 AND id = $2"
                ),
                &[&ods, &id],
                rows::appointment,
            )
            .map(one)
        })
    }

    fn patient_appointments(
        &self,
        ods: &str,
        patient_id: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<AppointmentRecord>> {
        self.read("listing a patient's appointments", |db| {
            let Some((from, last)) = nanos_range(from, to) else {
                hosted(db, ods)?;
                return Ok(Vec::new());
            };
            scoped(
                db,
                ods,
                concat!(
                    "SELECT ",
                    appointment_cols!(),
                    " FROM appointments WHERE ods = $1 AND patient_id = $2 \
                     AND start_ns >= $3 AND start_ns <= $4 ORDER BY start_ns, id"
                ),
                &[&ods, &patient_id, &from, &last],
                rows::appointment,
            )
        })
    }

    fn clinical_record(
        &self,
        ods: &str,
        patient_id: &str,
        section: Section,
    ) -> StoreResult<ClinicalRecord> {
        let lists: Vec<i16> = ClinicalList::for_section(section)
            .iter()
            .map(|l| i16::from(l.tag()))
            .collect();
        self.read("reading a clinical record", |db| {
            let found = scoped(
                db,
                ods,
                "SELECT list, items::text FROM clinical_lists \
                 WHERE ods = $1 AND patient_id = $2 AND list = ANY($3)",
                &[&ods, &patient_id, &lists],
                |row| {
                    let tag: i16 = row.try_get(0)?;
                    let items: String = row.try_get(1)?;
                    Ok((tag, items))
                },
            )?;
            let mut record = ClinicalRecord::default();
            for (tag, items) in found {
                let list = u8::try_from(tag)
                    .ok()
                    .and_then(ClinicalList::from_tag)
                    .ok_or_else(|| corrupt(format!("clinical list tag {tag}")))?;
                list.set_from_json(&mut record, items.as_bytes())
                    .map_err(|e| corrupt(format!("clinical list {}: {e}", list.name())))?;
            }
            Ok(record)
        })
    }

    fn book(&self, ods: &str, booking: NewBooking) -> StoreResult<AppointmentRecord> {
        let start = nanos(booking.start)?;
        let end = nanos(booking.end)?;
        let now = nanos(booking.now)?;
        let resource = to_json(&booking.resource, "Appointment").map_err(fail_to_store)?;
        let mut sorted: Vec<String> = booking.slots.iter().map(|(id, _)| id.clone()).collect();
        sorted.sort();
        sorted.dedup();
        let held = booking.slots.len() as i64;
        let (keys, amounts) = counter_changes(booking.limits.iter().map(|l| l.key.clone()), held);
        let slot_ids: Vec<String> = booking.slots.iter().map(|(id, _)| id.clone()).collect();
        let limit_keys: Vec<String> = booking.limits.iter().map(|l| l.key.clone()).collect();
        let lost = || StoreError::SlotUnavailable {
            slot_id: booking
                .slots
                .first()
                .map(|(id, _)| id.clone())
                .unwrap_or_default(),
        };
        self.transaction(IsolationLevel::ReadCommitted, "booking", lost, |db| {
            let locked = db.query(LOCK_SLOTS, &[&ods, &sorted])?;
            if locked.is_empty() {
                hosted(db, ods)?;
            }
            let mut current: HashMap<String, (bool, i64)> = HashMap::with_capacity(locked.len());
            for row in &locked {
                current.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
            }
            for (id, expected) in &booking.slots {
                match current.get(id) {
                    None => return Err(not_found("Slot", id)),
                    Some(&(free, v)) if !free || v != stored_version(*expected) => {
                        return Err(StoreError::SlotUnavailable {
                            slot_id: id.clone(),
                        }
                        .into());
                    }
                    Some(_) => {}
                }
            }
            if !keys.is_empty() {
                let mut before: HashMap<String, i64> = HashMap::with_capacity(keys.len());
                for row in db.query(BUMP_COUNTERS, &[&ods, &keys, &amounts])? {
                    let key: String = row.try_get(0)?;
                    let used: i64 = row.try_get(1)?;
                    let added = keys
                        .iter()
                        .position(|k| *k == key)
                        .map_or(0, |i| amounts[i]);
                    before.insert(key, used - added);
                }
                for limit in &booking.limits {
                    let used = before.get(&limit.key).copied().unwrap_or(0);
                    if used.saturating_add(held) > i64::from(limit.max) {
                        return Err(StoreError::LimitReached {
                            key: limit.key.clone(),
                        }
                        .into());
                    }
                }
            }
            let mut inserted = None;
            for _ in 0..ID_TRIES {
                inserted = db.query_opt(
                    INSERT_APPOINTMENT,
                    &[
                        &ods,
                        &booking.patient_id,
                        &start,
                        &end,
                        &slot_ids,
                        &booking.booking_ods,
                        &limit_keys,
                        &now,
                        &resource,
                    ],
                )?;
                if inserted.is_some() {
                    break;
                }
            }
            let row = inserted.ok_or_else(|| {
                Fail::Store(StoreError::Backend(format!(
                    "PostgreSQL: no free appointment id after {ID_TRIES} tries"
                )))
            })?;
            let id: String = row.try_get(0)?;
            let v: i64 = row.try_get(1)?;
            db.execute(MARK_BOOKED, &[&ods, &sorted, &id, &v])?;
            let holds = db.query(HOLD_SLOTS, &[&ods, &sorted, &id])?;
            if holds.len() != sorted.len() {
                let got: Vec<String> = holds
                    .iter()
                    .map(|r| r.try_get(0))
                    .collect::<Result<_, _>>()?;
                let taken = slot_ids
                    .iter()
                    .find(|s| !got.contains(s))
                    .cloned()
                    .unwrap_or_default();
                return Err(StoreError::SlotUnavailable { slot_id: taken }.into());
            }
            Ok(AppointmentRecord {
                id,
                version: version(v)?,
                status: AppointmentStatus::Booked,
                patient_id: booking.patient_id.clone(),
                slot_ids: slot_ids.clone(),
                start: booking.start,
                end: booking.end,
                booking_ods: booking.booking_ods.clone(),
                limit_keys: limit_keys.clone(),
                last_modified: booking.now,
                resource: booking.resource.clone(),
            })
        })
    }

    fn amend(&self, ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord> {
        let now = nanos(change.now)?;
        let resource = to_json(&change.resource, "Appointment").map_err(fail_to_store)?;
        let expected = stored_version(change.expected_version);
        self.transaction(
            IsolationLevel::ReadCommitted,
            "amending an appointment",
            PgStore::gave_up("amending an appointment"),
            |db| match db.query_opt(AMEND, &[&ods, &change.id, &expected, &resource, &now])? {
                Some(row) => rows::appointment(&row),
                None => Err(appointment_refused(db, ods, &change, "is cancelled")),
            },
        )
    }

    fn cancel(&self, ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord> {
        let now = nanos(change.now)?;
        let resource = to_json(&change.resource, "Appointment").map_err(fail_to_store)?;
        let expected = stored_version(change.expected_version);
        self.transaction(
            IsolationLevel::ReadCommitted,
            "cancelling an appointment",
            PgStore::gave_up("cancelling an appointment"),
            |db| {
                let Some(row) =
                    db.query_opt(CANCEL, &[&ods, &change.id, &expected, &resource, &now])?
                else {
                    return Err(appointment_refused(
                        db,
                        ods,
                        &change,
                        "is already cancelled",
                    ));
                };
                let record = rows::appointment(&row)?;
                let v = stored_version(record.version);
                db.execute(FREE_HELD_SLOTS, &[&ods, &record.slot_ids, &v, &record.id])?;
                db.execute(RELEASE_HOLDS, &[&ods, &record.id])?;
                if !record.limit_keys.is_empty() {
                    let (keys, amounts) = counter_changes(
                        record.limit_keys.iter().cloned(),
                        record.slot_ids.len() as i64,
                    );
                    db.query(LOCK_COUNTERS, &[&ods, &keys])?;
                    db.execute(RELEASE_COUNTERS, &[&ods, &keys, &amounts])?;
                }
                Ok(record)
            },
        )
    }

    fn register_patient(
        &self,
        ods: &str,
        registration: PatientRegistration,
    ) -> StoreResult<PatientRecord> {
        match registration {
            PatientRegistration::New {
                nhs_number,
                resource,
                flags,
            } => {
                let resource_json = to_json(&resource, "Patient").map_err(fail_to_store)?;
                let flags_json = to_json(&flags, "patient flags").map_err(fail_to_store)?;
                // SERIALIZABLE: two registrations of one NHS number both find
                // none; one of them must fail and, run again, see the other.
                self.transaction(
                    IsolationLevel::Serializable,
                    "registering a patient",
                    PgStore::gave_up("registering a patient"),
                    |db| {
                        hosted(db, ods)?;
                        if db
                            .query_opt(
                                "SELECT 1 FROM patients WHERE ods = $1 AND nhs_number = $2 LIMIT 1",
                                &[&ods, &nhs_number],
                            )?
                            .is_some()
                        {
                            return Err(StoreError::DuplicatePatient.into());
                        }
                        for _ in 0..ID_TRIES {
                            if let Some(row) = db.query_opt(
                                REGISTER,
                                &[&ods, &nhs_number, &resource_json, &flags_json],
                            )? {
                                return Ok(PatientRecord {
                                    id: row.try_get(0)?,
                                    version: version(row.try_get(1)?)?,
                                    nhs_number: nhs_number.clone(),
                                    resource: resource.clone(),
                                    flags: flags.clone(),
                                });
                            }
                        }
                        Err(StoreError::Backend(format!(
                            "PostgreSQL: no free patient id after {ID_TRIES} tries"
                        ))
                        .into())
                    },
                )
            }
            PatientRegistration::Reactivate {
                id,
                expected_version,
                resource,
                flags,
            } => {
                let resource_json = to_json(&resource, "Patient").map_err(fail_to_store)?;
                let flags_json = to_json(&flags, "patient flags").map_err(fail_to_store)?;
                let expected = stored_version(expected_version);
                self.transaction(
                    IsolationLevel::ReadCommitted,
                    "re-activating a patient",
                    PgStore::gave_up("re-activating a patient"),
                    |db| match db.query_opt(
                        REACTIVATE,
                        &[&ods, &id, &expected, &resource_json, &flags_json],
                    )? {
                        Some(row) => rows::patient(&row),
                        None => Err(patient_refused(db, ods, &id, expected_version)),
                    },
                )
            }
        }
    }

    fn update_patient_flags(
        &self,
        ods: &str,
        id: &str,
        expected_version: u64,
        flags: PatientFlags,
    ) -> StoreResult<PatientRecord> {
        let flags_json = to_json(&flags, "patient flags").map_err(fail_to_store)?;
        let expected = stored_version(expected_version);
        self.transaction(
            IsolationLevel::ReadCommitted,
            "updating a patient's flags",
            PgStore::gave_up("updating a patient's flags"),
            |db| match db.query_opt(UPDATE_FLAGS, &[&ods, &id, &expected, &flags_json])? {
                Some(row) => rows::patient(&row),
                None => Err(patient_refused(db, ods, id, expected_version)),
            },
        )
    }

    fn import(&self, ods: &str, import: PracticeImport) -> StoreResult<ImportSummary> {
        crate::import::import(self, ods, &import)
    }
}

/// A failure before any database work (encoding a value) as the port's
/// error.
pub(crate) fn fail_to_store(f: Fail) -> StoreError {
    crate::error::backend("encoding", f)
}
