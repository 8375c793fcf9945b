//! The keys the engine writes to host storage: UTF-8 text, `/`-separated,
//! each user-supplied component escaped (`%` → `%25`, `/` → `%2F`) so a
//! component can never run into the next one.
//!
//! | key | value |
//! |---|---|
//! | `p/{ods}` | the practice (`PracticeRecord` JSON) |
//! | `r/{ods}/{kind}/{id}` | a record of `kind` (`organization`, `location`, `practitioner`, `patient`, `schedule`, `slot`, `appointment`) |
//! | `x/{ods}/{index}/{value...}/{id}` | a copy of the record, found by `value` (see below) |
//! | `k/{ods}/{patient id}/{list}` | one list of a patient's clinical record (a JSON array; absent when empty), `list` being its member name (`encounters`, `problems`, ...) |
//! | `c/{ods}/{limit key}` | a slot-count limit counter (decimal) |
//! | `s/version`, `s/{ods}/appointment`, `s/{ods}/patient` | sequences (decimal) |
//!
//! Indexes (each entry holds the record's JSON, so a lookup is one scan):
//! `organization-ods/{ODS code}`, `practitioner-sds/{SDS user id}`,
//! `patient-nhs/{NHS number}`, `slot-start/{start}`,
//! `free-slot-start/{start}` (free slots only), and
//! `patient-appointment/{patient id}/{start}`. `{start}` is the instant in
//! nanoseconds since 1 January -9999, as 21 decimal digits, so byte order
//! is time order.

use jiff::Timestamp;

/// `%` and `/` escaped.
pub(crate) fn escape(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    for c in component.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            c => out.push(c),
        }
    }
    out
}

/// `p/{ods}`.
pub(crate) fn practice(ods: &str) -> Vec<u8> {
    format!("p/{}", escape(ods)).into_bytes()
}

/// The range of every practice key.
pub(crate) fn practices() -> (Vec<u8>, Vec<u8>) {
    prefix_range("p/")
}

/// `r/{ods}/{kind}/{id}`.
pub(crate) fn record(ods: &str, kind: &str, id: &str) -> Vec<u8> {
    format!("r/{}/{kind}/{}", escape(ods), escape(id)).into_bytes()
}

/// The prefix of index `index` of practice `ods`, through the given
/// components, ending with `/`.
pub(crate) fn index_prefix(ods: &str, index: &str, components: &[&str]) -> String {
    let mut key = format!("x/{}/{index}/", escape(ods));
    for c in components {
        key.push_str(&escape(c));
        key.push('/');
    }
    key
}

/// An index entry: the prefix's components, then the record id.
pub(crate) fn index_entry(ods: &str, index: &str, components: &[&str], id: &str) -> Vec<u8> {
    let mut key = index_prefix(ods, index, components);
    key.push_str(&escape(id));
    key.into_bytes()
}

/// `k/{ods}/{patient}/{list}`: one list of a patient's clinical record.
pub(crate) fn clinical(ods: &str, patient_id: &str, list: &str) -> Vec<u8> {
    format!("k/{}/{}/{list}", escape(ods), escape(patient_id)).into_bytes()
}

/// `c/{ods}/{key}`.
pub(crate) fn counter(ods: &str, key: &str) -> Vec<u8> {
    format!("c/{}/{}", escape(ods), escape(key)).into_bytes()
}

/// `s/version`: every version the store assigns comes from it.
pub(crate) fn version_sequence() -> Vec<u8> {
    b"s/version".to_vec()
}

/// `s/{ods}/{name}`.
pub(crate) fn sequence(ods: &str, name: &str) -> Vec<u8> {
    format!("s/{}/{name}", escape(ods)).into_bytes()
}

/// Nanoseconds from jiff's earliest instant (-9999-01-01), which makes
/// every instant non-negative.
const EPOCH_SHIFT_NANOS: i128 = 377_705_116_800 * 1_000_000_000;

/// An instant as 21 digits, ordered as time.
pub(crate) fn instant(t: Timestamp) -> String {
    format!("{:021}", t.as_nanosecond() + EPOCH_SHIFT_NANOS)
}

/// `[prefix, prefix')` where `prefix'` is `prefix` with its last byte (a
/// `/`) raised by one: exactly the keys that start with `prefix`.
pub(crate) fn prefix_range(prefix: &str) -> (Vec<u8>, Vec<u8>) {
    let from = prefix.as_bytes().to_vec();
    let mut to = from.clone();
    if let Some(last) = to.last_mut() {
        *last += 1;
    }
    (from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_cannot_run_into_each_other() {
        assert_eq!(escape("a/b%c"), "a%2Fb%25c");
        assert_ne!(
            index_entry("A1", "patient-nhs", &["1/2"], "3"),
            index_entry("A1", "patient-nhs", &["1"], "2/3")
        );
        assert_eq!(record("A1", "slot", "14-1-0"), b"r/A1/slot/14-1-0");
    }

    #[test]
    fn instants_sort_as_time() {
        let times: Vec<Timestamp> = [
            Timestamp::MIN,
            "1969-12-31T23:59:59.999999999Z".parse().expect("ts"),
            Timestamp::UNIX_EPOCH,
            "2030-03-04T09:00:00Z".parse().expect("ts"),
            "2030-03-04T09:00:00.000000001Z".parse().expect("ts"),
            Timestamp::MAX,
        ]
        .to_vec();
        let keys: Vec<String> = times.iter().map(|t| instant(*t)).collect();
        assert!(keys.iter().all(|k| k.len() == 21), "{keys:?}");
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    }

    #[test]
    fn a_prefix_range_holds_exactly_the_prefixed_keys() {
        let (from, to) = prefix_range("x/A1/slot-start/");
        let inside = b"x/A1/slot-start/000/1".to_vec();
        let after = b"x/A1/slot-startz".to_vec();
        assert!(from <= inside && inside < to);
        assert!(after >= to);
    }
}
