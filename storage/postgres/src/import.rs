//! Import: upsert a practice's records by id in one transaction, keeping
//! the version of every record whose content is unchanged.
//!
//! Each kind's stored rows are read (locked) in one statement, compared
//! with the incoming records in Rust (the same `PartialEq` the reference
//! store uses), and the changed ones written in one statement per kind
//! (`jsonb_to_recordset` over a JSON array of rows). Versions are drawn in
//! one statement for the whole import and handed out in the reference
//! store's order: practice, organisations, locations, practitioners,
//! patients, schedules, slots, appointments.

use std::collections::{BTreeSet, HashMap};

use gpconnect_core::store::*;
use gpconnect_render::ClinicalRecord;
use postgres::{IsolationLevel, Transaction};
use serde_json::Value;

use crate::PgStore;
use crate::error::{Fail, R, corrupt, stored_version};
use crate::pool::Db;
use crate::rows::{self, Kind, practice_cols, to_json};

type Tx<'a, 'b> = Db<'a, Transaction<'b>>;

pub(crate) fn import(
    store: &PgStore,
    ods: &str,
    import: &PracticeImport,
) -> StoreResult<ImportSummary> {
    store.transaction(
        IsolationLevel::ReadCommitted,
        "importing a practice",
        PgStore::gave_up("importing a practice"),
        |db| run(db, ods, import),
    )
}

/// The records of one kind an import writes, in import order (a record
/// that appears twice is written twice, as in the reference store).
struct Plan<T> {
    writes: Vec<T>,
}

impl<T: Kind> Plan<T> {
    fn new(db: &mut Tx<'_, '_>, ods: &str, incoming: &[T], summary: &mut ImportSummary) -> R<Self> {
        let mut writes = Vec::new();
        if incoming.is_empty() {
            return Ok(Plan { writes });
        }
        let ids: Vec<String> = incoming
            .iter()
            .map(|r| r.id().to_owned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut current: HashMap<String, T> = HashMap::with_capacity(ids.len());
        for row in db.query(T::LOAD, &[&ods, &ids])? {
            let r = T::decode(&row)?;
            current.insert(r.id().to_owned(), r);
        }
        for r in incoming {
            let mut r = r.clone();
            *r.version_mut() = 0;
            if let Some(existing) = current.get(r.id()) {
                let mut existing = existing.clone();
                *existing.version_mut() = 0;
                if existing == r {
                    summary.unchanged += 1;
                    continue;
                }
            }
            summary.written += 1;
            current.insert(r.id().to_owned(), r.clone());
            writes.push(r);
        }
        Ok(Plan { writes })
    }

    fn assign(&mut self, versions: &mut impl Iterator<Item = u64>) -> R<()> {
        for r in &mut self.writes {
            *r.version_mut() = versions
                .next()
                .ok_or_else(|| corrupt("the version sequence returned too few values"))?;
        }
        Ok(())
    }

    /// The final state of each written record (the last write of an id).
    fn finals(&self) -> Vec<&T> {
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, r) in self.writes.iter().enumerate() {
            last.insert(r.id(), i);
        }
        let mut idx: Vec<usize> = last.into_values().collect();
        idx.sort_unstable();
        idx.into_iter().map(|i| &self.writes[i]).collect()
    }

    fn write(&self, db: &mut Tx<'_, '_>, ods: &str) -> R<Vec<&T>> {
        let finals = self.finals();
        if finals.is_empty() {
            return Ok(finals);
        }
        let rows: Vec<Value> = finals.iter().map(|r| r.encode()).collect::<R<_>>()?;
        let rows = to_json(&rows, "import rows")?;
        db.execute(T::UPSERT, &[&ods, &rows])?;
        Ok(finals)
    }
}

fn run(db: &mut Tx<'_, '_>, ods: &str, import: &PracticeImport) -> R<ImportSummary> {
    let mut summary = ImportSummary::default();
    // NO KEY UPDATE serialises imports of one practice without blocking the
    // foreign-key checks (KEY SHARE) of its bookings.
    let existing = db
        .query_opt(
            concat!(
                "SELECT ",
                practice_cols!(),
                " FROM practices WHERE ods = $1 FOR NO KEY UPDATE"
            ),
            &[&ods],
        )?
        .as_ref()
        .map(rows::practice)
        .transpose()?;
    let mut practice = None;
    match (&import.practice, &existing) {
        (Some(incoming), existing) => {
            let record = PracticeRecord {
                ods_code: ods.to_owned(),
                version: existing.as_ref().map_or(0, |e| e.version),
                ..incoming.clone()
            };
            if existing.as_ref() == Some(&record) {
                summary.unchanged += 1;
            } else {
                summary.written += 1;
                practice = Some(record);
            }
        }
        (None, Some(_)) => {}
        (None, None) => return Err(StoreError::UnknownPractice(ods.to_owned()).into()),
    }

    let mut organizations = Plan::new(db, ods, &import.organizations, &mut summary)?;
    let mut locations = Plan::new(db, ods, &import.locations, &mut summary)?;
    let mut practitioners = Plan::new(db, ods, &import.practitioners, &mut summary)?;
    let mut patients = Plan::new(db, ods, &import.patients, &mut summary)?;
    let mut schedules = Plan::new(db, ods, &import.schedules, &mut summary)?;
    let mut slots = Plan::new(db, ods, &import.slots, &mut summary)?;
    let mut appointments = Plan::new(db, ods, &import.appointments, &mut summary)?;

    let wanted = usize::from(practice.is_some())
        + organizations.writes.len()
        + locations.writes.len()
        + practitioners.writes.len()
        + patients.writes.len()
        + schedules.writes.len()
        + slots.writes.len()
        + appointments.writes.len();
    let mut versions = take_versions(db, wanted)?.into_iter();

    if let Some(mut p) = practice {
        p.version = versions
            .next()
            .ok_or_else(|| corrupt("the version sequence returned too few values"))?;
        let settings = to_json(&p.settings, "practice settings")?;
        db.execute(
            "INSERT INTO practices (ods, version, asid, organization_id, settings) \
             VALUES ($1, $2, $3, $4, $5::text::jsonb) \
             ON CONFLICT (ods) DO UPDATE SET version = EXCLUDED.version, asid = EXCLUDED.asid, \
             organization_id = EXCLUDED.organization_id, settings = EXCLUDED.settings",
            &[
                &ods,
                &stored_version(p.version),
                &p.asid,
                &p.organization_id,
                &settings,
            ],
        )?;
    }
    organizations.assign(&mut versions)?;
    locations.assign(&mut versions)?;
    practitioners.assign(&mut versions)?;
    patients.assign(&mut versions)?;
    schedules.assign(&mut versions)?;
    slots.assign(&mut versions)?;
    appointments.assign(&mut versions)?;
    organizations.write(db, ods)?;
    locations.write(db, ods)?;
    practitioners.write(db, ods)?;
    patients.write(db, ods)?;
    schedules.write(db, ods)?;

    let written_slots: Vec<String> = slots.write(db, ods)?.iter().map(|s| s.id.clone()).collect();
    if !written_slots.is_empty() {
        // The practice's word on a slot ends a hold it contradicts.
        db.execute(
            "DELETE FROM slot_holds h USING slots s \
             WHERE h.ods = $1 AND h.slot_id = ANY($2) AND s.ods = h.ods AND s.id = h.slot_id \
             AND (s.free OR s.appointment_id IS DISTINCT FROM h.appointment_id)",
            &[&ods, &written_slots],
        )?;
    }

    let finals = appointments.write(db, ods)?;
    let cancelled: Vec<&str> = finals
        .iter()
        .filter(|a| a.status == AppointmentStatus::Cancelled)
        .map(|a| a.id.as_str())
        .collect();
    if !cancelled.is_empty() {
        db.execute(
            "DELETE FROM slot_holds WHERE ods = $1 AND appointment_id = ANY($2)",
            &[&ods, &cancelled],
        )?;
    }
    // A later booking never takes an imported numeric id.
    if let Some(max) = import
        .appointments
        .iter()
        .filter_map(|a| a.id.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .max()
    {
        db.query(
            "SELECT setval('appointment_id_seq', $1) FROM appointment_id_seq \
             WHERE (is_called AND last_value < $1) OR (NOT is_called AND last_value <= $1)",
            &[&max],
        )?;
    }

    clinical_records(db, ods, &import.clinical_records, &mut summary)?;
    Ok(summary)
}

/// `n` fresh versions, ascending.
fn take_versions(db: &mut Tx<'_, '_>, n: usize) -> R<Vec<u64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let n = i64::try_from(n).map_err(|_| corrupt("too many records"))?;
    let mut out: Vec<u64> = db
        .query(
            "SELECT nextval('version_seq') FROM generate_series(1, $1::bigint)",
            &[&n],
        )?
        .iter()
        .map(|r| crate::error::version(r.try_get(0)?))
        .collect::<R<_>>()?;
    out.sort_unstable();
    Ok(out)
}

/// Replace each imported patient's clinical record list by list: a record
/// equal to the stored one (none stored equals an empty one) is unchanged.
fn clinical_records(
    db: &mut Tx<'_, '_>,
    ods: &str,
    incoming: &[PatientClinicalRecord],
    summary: &mut ImportSummary,
) -> R<()> {
    if incoming.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = incoming
        .iter()
        .map(|c| c.patient_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut current: HashMap<String, ClinicalRecord> = HashMap::new();
    for row in db.query(
        "SELECT patient_id, list, items::text FROM clinical_lists \
         WHERE ods = $1 AND patient_id = ANY($2) ORDER BY patient_id, list FOR UPDATE",
        &[&ods, &ids],
    )? {
        let patient: String = row.try_get(0)?;
        let tag: i16 = row.try_get(1)?;
        let items: String = row.try_get(2)?;
        let list = u8::try_from(tag)
            .ok()
            .and_then(ClinicalList::from_tag)
            .ok_or_else(|| corrupt(format!("clinical list tag {tag}")))?;
        list.set_from_json(current.entry(patient).or_default(), items.as_bytes())
            .map_err(|e| corrupt(format!("clinical list {}: {e}", list.name())))?;
    }
    let mut changed = BTreeSet::new();
    for c in incoming {
        let stored = current.get(&c.patient_id);
        let same = match stored {
            Some(s) => *s == c.record,
            None => c.record == ClinicalRecord::default(),
        };
        if same {
            summary.unchanged += 1;
            continue;
        }
        summary.written += 1;
        current.insert(c.patient_id.clone(), c.record.clone());
        changed.insert(c.patient_id.clone());
    }
    for patient in changed {
        db.execute(
            "DELETE FROM clinical_lists WHERE ods = $1 AND patient_id = $2",
            &[&ods, &patient],
        )?;
        let record = current.get(&patient).cloned().unwrap_or_default();
        let mut tags: Vec<i16> = Vec::new();
        let mut items: Vec<String> = Vec::new();
        for list in ClinicalList::ALL {
            let json = list.to_json(&record).map_err(|e| {
                Fail::Store(StoreError::Backend(format!(
                    "PostgreSQL: encoding clinical list {}: {e}",
                    list.name()
                )))
            })?;
            if let Some(json) = json {
                tags.push(i16::from(list.tag()));
                items.push(String::from_utf8(json).map_err(|e| corrupt(e.to_string()))?);
            }
        }
        if !tags.is_empty() {
            db.execute(
                "INSERT INTO clinical_lists (ods, patient_id, list, items) \
                 SELECT $1, $2, u.l, u.i::jsonb FROM unnest($3::smallint[], $4::text[]) AS u(l, i)",
                &[&ods, &patient, &tags, &items],
            )?;
        }
    }
    Ok(())
}
