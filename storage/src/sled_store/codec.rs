//! Binary encodings of the sled store: slots and redo records.
//!
//! **Slots** are the one record a search reads by the thousand, and they
//! hold no FHIR, so they are not JSON but a fixed-order binary layout
//! (written and read by hand: no self-description, no field names, no
//! timestamp parsing). Decoding one is a handful of length-prefixed copies,
//! several times faster than `serde_json`. The **first byte is the status**
//! ([`FREE`] or [`BUSY`]), so a free-only search skips a busy slot by
//! looking at one byte ([`is_free`]) without decoding it.
//!
//! | field | bytes |
//! |---|---|
//! | status | 1 (`0` free, `1` busy) |
//! | version | 8, little-endian |
//! | start, end | 16 each: nanoseconds as `i128`, little-endian |
//! | bookable | 1 |
//! | id, schedule id | string |
//! | appointment id | 1 (`0` none, `1` some), then the string |
//! | delivery channel, service type | string |
//! | restriction organisation types, ODS codes | `u32` count, then strings |
//! | booking window | 1 (`0` none, `1` some), then two optional `u32`s |
//!
//! Strings are a `u32` byte length, little-endian, then UTF-8; an optional
//! `u32` is a tag byte then the value.
//!
//! **Redo records** (see the module docs of `sled_store`) are a format byte
//! ([`REDO_FORMAT`]) then a sequence of writes: tree index (1 byte), kind (1
//! byte: `1` insert, `0` remove), key (`u32` length, bytes), and for an
//! insert the value (`u32` length, bytes).

use gpconnect_core::store::{BookingWindow, SlotRecord, SlotRestrictions, SlotStatus};
use jiff::Timestamp;

/// First byte of a free slot.
pub(crate) const FREE: u8 = 0;
/// First byte of a busy slot.
pub(crate) const BUSY: u8 = 1;

/// Whether encoded slot bytes are a free slot (without decoding them).
pub(crate) fn is_free(bytes: &[u8]) -> bool {
    bytes.first() == Some(&FREE)
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    // A part longer than u32::MAX bytes cannot occur (ids are at most 64
    // characters, values are records); `try_from` keeps the encoding total
    // by refusing at the caller instead (see `encode_slot`).
    let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(b);
}

fn put_opt_u32(out: &mut Vec<u8>, v: Option<u32>) {
    match v {
        None => out.push(0),
        Some(n) => {
            out.push(1);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

fn put_list(out: &mut Vec<u8>, list: &[String]) {
    let n = u32::try_from(list.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&n.to_le_bytes());
    for s in list {
        put_str(out, s);
    }
}

/// Encode a slot (see the module docs).
pub(crate) fn encode_slot(s: &SlotRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        80 + s.id.len()
            + s.schedule_id.len()
            + s.appointment_id.as_ref().map_or(0, String::len)
            + s.delivery_channel.len()
            + s.service_type.len(),
    );
    out.push(match s.status {
        SlotStatus::Free => FREE,
        SlotStatus::Busy => BUSY,
    });
    out.extend_from_slice(&s.version.to_le_bytes());
    out.extend_from_slice(&s.start.as_nanosecond().to_le_bytes());
    out.extend_from_slice(&s.end.as_nanosecond().to_le_bytes());
    out.push(u8::from(s.bookable));
    put_str(&mut out, &s.id);
    put_str(&mut out, &s.schedule_id);
    match &s.appointment_id {
        None => out.push(0),
        Some(a) => {
            out.push(1);
            put_str(&mut out, a);
        }
    }
    put_str(&mut out, &s.delivery_channel);
    put_str(&mut out, &s.service_type);
    put_list(&mut out, &s.restrictions.organisation_types);
    put_list(&mut out, &s.restrictions.ods_codes);
    match &s.booking_window {
        None => out.push(0),
        Some(w) => {
            out.push(1);
            put_opt_u32(&mut out, w.max_days_ahead);
            put_opt_u32(&mut out, w.min_notice_minutes);
        }
    }
    out
}

/// A cursor over encoded bytes; every read fails (`None`) past the end.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|b| <[u8; N]>::try_from(b).ok())
    }

    fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        self.take(len)
    }

    fn string(&mut self) -> Option<String> {
        std::str::from_utf8(self.bytes()?).ok().map(str::to_owned)
    }

    fn timestamp(&mut self) -> Option<Timestamp> {
        Timestamp::from_nanosecond(i128::from_le_bytes(self.array()?)).ok()
    }

    fn flag(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn opt_u32(&mut self) -> Option<Option<u32>> {
        if self.flag()? {
            self.u32().map(Some)
        } else {
            Some(None)
        }
    }

    fn list(&mut self) -> Option<Vec<String>> {
        let n = usize::try_from(self.u32()?).ok()?;
        // Each string takes at least its 4 length bytes: a corrupt count
        // cannot make us allocate more than the input could hold.
        let mut out = Vec::with_capacity(n.min(self.rest.len() / 4));
        for _ in 0..n {
            out.push(self.string()?);
        }
        Some(out)
    }
}

/// Decode a slot; `None` if the bytes are not one.
pub(crate) fn decode_slot(bytes: &[u8]) -> Option<SlotRecord> {
    let mut r = Reader { rest: bytes };
    let status = match r.u8()? {
        FREE => SlotStatus::Free,
        BUSY => SlotStatus::Busy,
        _ => return None,
    };
    let version = u64::from_le_bytes(r.array()?);
    let start = r.timestamp()?;
    let end = r.timestamp()?;
    let bookable = r.flag()?;
    let id = r.string()?;
    let schedule_id = r.string()?;
    let appointment_id = if r.flag()? { Some(r.string()?) } else { None };
    let delivery_channel = r.string()?;
    let service_type = r.string()?;
    let organisation_types = r.list()?;
    let ods_codes = r.list()?;
    let booking_window = if r.flag()? {
        Some(BookingWindow {
            max_days_ahead: r.opt_u32()?,
            min_notice_minutes: r.opt_u32()?,
        })
    } else {
        None
    };
    if !r.rest.is_empty() {
        return None;
    }
    Some(SlotRecord {
        id,
        version,
        schedule_id,
        start,
        end,
        status,
        appointment_id,
        delivery_channel,
        service_type,
        bookable,
        restrictions: SlotRestrictions {
            organisation_types,
            ods_codes,
        },
        booking_window,
    })
}

/// Format byte of a redo record.
pub(crate) const REDO_FORMAT: u8 = 1;

/// One write of a redo record: tree index, key, and the value (`None`
/// removes the key).
pub(crate) type Write<'a> = (usize, &'a [u8], Option<&'a [u8]>);

/// Encode writes as a redo record.
pub(crate) fn encode_redo<'a>(
    writes: impl Iterator<Item = Write<'a>>,
    size_hint: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + size_hint);
    out.push(REDO_FORMAT);
    for (tree, key, value) in writes {
        out.push(u8::try_from(tree).unwrap_or(u8::MAX));
        out.push(u8::from(value.is_some()));
        put_bytes(&mut out, key);
        if let Some(v) = value {
            put_bytes(&mut out, v);
        }
    }
    out
}

/// Decode a redo record; `None` if the bytes are not one.
pub(crate) fn decode_redo(bytes: &[u8]) -> Option<Vec<Write<'_>>> {
    let mut r = Reader { rest: bytes };
    if r.u8()? != REDO_FORMAT {
        return None;
    }
    let mut out = Vec::new();
    while !r.rest.is_empty() {
        let tree = usize::from(r.u8()?);
        let insert = r.flag()?;
        let key = r.bytes()?;
        let value = if insert { Some(r.bytes()?) } else { None };
        out.push((tree, key, value));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot() -> SlotRecord {
        SlotRecord {
            id: "14-1-5".into(),
            version: 42,
            schedule_id: "sch14".into(),
            start: "1969-12-31T23:59:59.5Z".parse().expect("ts"),
            end: "2026-12-01T09:10:00Z".parse().expect("ts"),
            status: SlotStatus::Busy,
            appointment_id: Some("7".into()),
            delivery_channel: "In-person".into(),
            service_type: "General GP Appointment".into(),
            bookable: true,
            restrictions: SlotRestrictions {
                organisation_types: vec!["urgent-care".into(), "gp-practice".into()],
                ods_codes: vec!["B82001".into()],
            },
            booking_window: Some(BookingWindow {
                max_days_ahead: Some(28),
                min_notice_minutes: None,
            }),
        }
    }

    #[test]
    fn slots_round_trip_and_the_first_byte_is_the_status() {
        let busy = slot();
        let bytes = encode_slot(&busy);
        assert!(!is_free(&bytes));
        assert_eq!(decode_slot(&bytes), Some(busy.clone()));
        let free = SlotRecord {
            status: SlotStatus::Free,
            appointment_id: None,
            booking_window: None,
            restrictions: SlotRestrictions::default(),
            ..busy
        };
        let bytes = encode_slot(&free);
        assert!(is_free(&bytes));
        assert_eq!(decode_slot(&bytes), Some(free));
    }

    #[test]
    fn truncated_or_padded_slots_are_refused() {
        let bytes = encode_slot(&slot());
        for n in 0..bytes.len() {
            assert_eq!(decode_slot(&bytes[..n]), None, "{n} bytes");
        }
        let mut padded = bytes;
        padded.push(0);
        assert_eq!(decode_slot(&padded), None);
    }

    #[test]
    fn redo_records_round_trip() {
        let writes: Vec<Write<'_>> = vec![
            (3, b"k1", Some(b"v1")),
            (0, b"", None),
            (13, b"k2", Some(b"")),
        ];
        let bytes = encode_redo(writes.iter().copied(), 0);
        assert_eq!(decode_redo(&bytes), Some(writes));
        assert_eq!(decode_redo(&bytes[..bytes.len() - 1]), None);
        assert_eq!(decode_redo(&[9]), None);
    }
}
