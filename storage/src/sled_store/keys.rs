//! The key layout of the sled store.
//!
//! Every key starts with the practice's ODS code, length-prefixed, so a
//! prefix scan or range of one practice can never reach another's keys (a
//! bare `A1` prefix would also match `A12`). Inner variable-length parts
//! (schedule id, patient id) are length-prefixed for the same reason; the
//! final part (a record id) is raw, so keys sharing everything before it sort
//! by id bytes, which is the order of Rust `String`s and therefore of the
//! reference store's `BTreeMap`s.
//!
//! Timestamps are 16 bytes: the nanosecond count as an `i128` with its sign
//! bit flipped, big-endian, so byte order is time order (also before 1970).
//!
//! | tree | key | value |
//! |---|---|---|
//! | `practices` | ods | `PracticeRecord` JSON |
//! | `organizations`, `locations`, `practitioners`, `patients`, `schedules`, `appointments` | ods · id | record JSON |
//! | `slots` | ods · id | slot, binary (`codec`; first byte the status) |
//! | `patients_by_nhs` | ods · nhs | JSON array of patient ids, sorted |
//! | `slots_by_start` | ods · start · slot id | the slot, binary (covering) |
//! | `slots_by_schedule` | ods · schedule · start · slot id | the slot, binary (covering) |
//! | `appointments_by_patient` | ods · patient · start · appointment id | empty |
//! | `counters` | ods · limit key | `u32` big-endian |
//! | `clinical_records` | ods · patient · list tag (1 byte) | the list, a JSON array (absent when empty) |
//! | `meta` | name | format, counters, reservations, clean flag, `redo/<n>` redo records |

use jiff::Timestamp;

/// Width of an encoded timestamp.
pub(crate) const TS_LEN: usize = 16;

fn push_part(buf: &mut Vec<u8>, part: &str) {
    // Parts longer than u32::MAX bytes cannot be keys of a FHIR store (ids are
    // at most 64 characters); saturating keeps the function total.
    let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(part.as_bytes());
}

/// The prefix of every key of practice `ods`.
pub(crate) fn practice(ods: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + ods.len() + 32);
    push_part(&mut k, ods);
    k
}

/// Sortable bytes of a timestamp.
pub(crate) fn ts(t: Timestamp) -> [u8; TS_LEN] {
    let n = t.as_nanosecond();
    ((n as u128) ^ (1u128 << 127)).to_be_bytes()
}

/// `ods · id`: a record of one of the per-record trees.
pub(crate) fn record(ods: &str, id: &str) -> Vec<u8> {
    let mut k = practice(ods);
    k.extend_from_slice(id.as_bytes());
    k
}

/// `ods · nhs`: the NHS-number index.
pub(crate) fn nhs(ods: &str, nhs_number: &str) -> Vec<u8> {
    record(ods, nhs_number)
}

/// `ods · key`: a slot-count limit counter.
pub(crate) fn counter(ods: &str, key: &str) -> Vec<u8> {
    record(ods, key)
}

/// `ods · start` (then the slot id): the start index, or a bound of it.
pub(crate) fn slot_start(ods: &str, start: Timestamp, id: &str) -> Vec<u8> {
    let mut k = practice(ods);
    k.extend_from_slice(&ts(start));
    k.extend_from_slice(id.as_bytes());
    k
}

/// `ods · schedule · start` (then the slot id): the schedule index.
pub(crate) fn slot_schedule(ods: &str, schedule: &str, start: Timestamp, id: &str) -> Vec<u8> {
    let mut k = practice(ods);
    push_part(&mut k, schedule);
    k.extend_from_slice(&ts(start));
    k.extend_from_slice(id.as_bytes());
    k
}

/// `ods · patient · start` (then the appointment id): the patient index.
pub(crate) fn appointment_patient(ods: &str, patient: &str, start: Timestamp, id: &str) -> Vec<u8> {
    slot_schedule(ods, patient, start, id)
}

/// `ods · patient · tag`: one list of a patient's clinical record.
pub(crate) fn clinical(ods: &str, patient: &str, tag: u8) -> Vec<u8> {
    let mut k = practice(ods);
    push_part(&mut k, patient);
    k.push(tag);
    k
}

/// The record id at the end of an index key whose fixed part is
/// `prefix_len` bytes followed by a timestamp.
pub(crate) fn id_after_ts(key: &[u8], prefix_len: usize) -> Option<&[u8]> {
    key.get(prefix_len + TS_LEN..)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn timestamps_sort_as_bytes_across_the_epoch() {
        let times = [
            t("1960-01-01T00:00:00Z"),
            t("1969-12-31T23:59:59.999999999Z"),
            t("1970-01-01T00:00:00Z"),
            t("2026-12-01T09:00:00Z"),
            t("2026-12-01T09:00:00.000000001Z"),
        ];
        for w in times.windows(2) {
            assert!(ts(w[0]) < ts(w[1]), "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn a_practice_prefix_is_not_a_prefix_of_a_longer_code() {
        assert!(!record("A12", "x").starts_with(&practice("A1")));
        assert!(record("A1", "2x").starts_with(&practice("A1")));
    }

    #[test]
    fn clinical_keys_of_one_patient_never_prefix_another_patients() {
        let a = clinical("A1", "2", 1);
        assert!(a.starts_with(&practice("A1")));
        assert_ne!(&clinical("A1", "21", 1)[..a.len()], &a[..]);
        assert_ne!(clinical("A1", "2", 1), clinical("A1", "2", 2));
        assert!(!clinical("A12", "2", 1).starts_with(&practice("A1")));
    }

    #[test]
    fn index_keys_order_by_start_then_id() {
        let a = slot_start("A1", t("2026-12-01T09:00:00Z"), "b");
        let b = slot_start("A1", t("2026-12-01T09:00:00Z"), "c");
        let c = slot_start("A1", t("2026-12-01T09:10:00Z"), "a");
        assert!(a < b && b < c);
        let prefix = practice("A1").len();
        assert_eq!(id_after_ts(&a, prefix), Some(&b"b"[..]));
    }
}
