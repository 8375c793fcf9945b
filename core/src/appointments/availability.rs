//! Slot availability rules, shared by search (§4.2: which slots to show) and
//! book (R12: which slots may be taken). Pure functions of the slot, the
//! practice's settings, who is asking, and "now".
//!
//! These rules apply only to search and book; read, retrieve, amend and
//! cancel see the whole appointment book (R12, sam).

use jiff::{SignedDuration, Timestamp};

use crate::checks::datetime::uk_today;
use crate::store::{
    BookingWindow, DELIVERY_CHANNEL_VISIT, OrganisationMatch, PracticeRecord, SlotRecord,
    SlotRestrictions, SlotStatus,
};

/// Who wants the slots: the `searchFilter` values of a search, or the
/// booking organisation's type and ODS code on a booking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requester<'a> {
    /// `GPConnect-OrganisationType-1` code (`gp-practice`, `urgent-care`, ...).
    pub organisation_type: Option<&'a str>,
    /// ODS code.
    pub ods_code: Option<&'a str>,
}

/// Why a slot is not available to a requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// Already busy (R11).
    NotFree,
    /// Not marked GP Connect bookable (§4.2 item 3).
    NotBookable,
    /// Delivery channel `Visit` (§4.2 item 6, R15).
    Visit,
    /// Reserved for another organisation type or ODS code (§4.2 table).
    Restricted,
    /// Starts at or before now (R1).
    Started,
    /// Outside the booking window (§4.2 item 4).
    OutsideWindow,
}

impl Unavailable {
    /// Diagnostics for a refused booking (R12 \[REC\]: 422 with diagnostics).
    pub fn describe(self) -> &'static str {
        match self {
            Unavailable::NotFree => "the slot is not free",
            Unavailable::NotBookable => "the slot is not bookable through GP Connect",
            Unavailable::Visit => "visit slots cannot be booked through GP Connect",
            Unavailable::Restricted => {
                "the slot is reserved for another organisation type or ODS code"
            }
            Unavailable::Started => "the slot starts in the past",
            Unavailable::OutsideWindow => "the slot is outside the practice's booking window",
        }
    }
}

/// The §4.2 restriction table: with no filter a slot must be unrestricted;
/// a restriction of a kind must match the requester's value of that kind.
pub fn restrictions_allow(r: &SlotRestrictions, who: &Requester<'_>) -> bool {
    let type_ok = r.organisation_types.is_empty()
        || who
            .organisation_type
            .is_some_and(|t| r.organisation_types.iter().any(|x| x == t));
    let ods_ok = r.ods_codes.is_empty()
        || who
            .ods_code
            .is_some_and(|c| r.ods_codes.iter().any(|x| x == c));
    type_ok && ods_ok
}

/// The slot's own booking window, else the practice's.
pub fn effective_window(slot: &SlotRecord, practice: &PracticeRecord) -> BookingWindow {
    slot.booking_window
        .unwrap_or(practice.settings.booking_window)
}

/// Whether a slot starting at `start` is inside `window` at `now`:
/// `max_days_ahead` counts UK calendar days (a slot opens at the start of
/// the day that is that many days ahead); `min_notice_minutes` is measured
/// from `now`.
pub fn within_window(start: Timestamp, window: &BookingWindow, now: Timestamp) -> bool {
    if let Some(minutes) = window.min_notice_minutes {
        if start < now + SignedDuration::from_mins(i64::from(minutes)) {
            return false;
        }
    }
    if let Some(days) = window.max_days_ahead {
        let last_day = uk_today(now).checked_add(jiff::Span::new().days(i64::from(days)));
        let slot_day = uk_today(start);
        match last_day {
            Ok(last) if slot_day <= last => {}
            Ok(_) => return false,
            Err(_) => {}
        }
    }
    true
}

/// Whether `who` may see (search) or take (book) `slot` at `now`; the first
/// reason it may not, in the order a consumer can act on.
pub fn availability(
    slot: &SlotRecord,
    practice: &PracticeRecord,
    who: &Requester<'_>,
    now: Timestamp,
) -> Result<(), Unavailable> {
    if slot.status != SlotStatus::Free {
        return Err(Unavailable::NotFree);
    }
    if slot.delivery_channel == DELIVERY_CHANNEL_VISIT {
        return Err(Unavailable::Visit);
    }
    if !slot.bookable {
        return Err(Unavailable::NotBookable);
    }
    if slot.start <= now {
        return Err(Unavailable::Started);
    }
    if !restrictions_allow(&slot.restrictions, who) {
        return Err(Unavailable::Restricted);
    }
    if !within_window(slot.start, &effective_window(slot, practice), now) {
        return Err(Unavailable::OutsideWindow);
    }
    Ok(())
}

/// The slot-count counters a booking by `who` of slots starting at `start`
/// must stay within (R12): one per matching limit, keyed by what it counts
/// and the slot's UK day (`ods:A81001:2026-12-01`, `type:urgent-care:...`).
pub fn limit_checks(
    practice: &PracticeRecord,
    who: &Requester<'_>,
    start: Timestamp,
) -> Vec<crate::store::LimitCheck> {
    let day = uk_today(start);
    practice
        .settings
        .slot_limits
        .iter()
        .filter_map(|limit| {
            let key = match &limit.applies_to {
                OrganisationMatch::OdsCode(code) if who.ods_code == Some(code.as_str()) => {
                    format!("ods:{code}:{day}")
                }
                OrganisationMatch::OrganisationType(t)
                    if who.organisation_type == Some(t.as_str()) =>
                {
                    format!("type:{t}:{day}")
                }
                _ => return None,
            };
            Some(crate::store::LimitCheck {
                key,
                max: limit.max_slots_per_day,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{PracticeSettings, SlotCountLimit};

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn slot() -> SlotRecord {
        SlotRecord {
            id: "1".into(),
            version: 1,
            schedule_id: "14".into(),
            start: ts("2026-12-02T09:00:00Z"),
            end: ts("2026-12-02T09:10:00Z"),
            status: SlotStatus::Free,
            appointment_id: None,
            delivery_channel: "In-person".into(),
            service_type: "General GP Appointment".into(),
            bookable: true,
            restrictions: SlotRestrictions::default(),
            booking_window: None,
        }
    }

    fn practice() -> PracticeRecord {
        PracticeRecord {
            ods_code: "A00001".into(),
            asid: "1".into(),
            organization_id: "23".into(),
            settings: PracticeSettings::default(),
            version: 1,
        }
    }

    const NOW: &str = "2026-11-25T10:00:00Z";

    fn who<'a>(t: Option<&'a str>, o: Option<&'a str>) -> Requester<'a> {
        Requester {
            organisation_type: t,
            ods_code: o,
        }
    }

    #[test]
    fn search_filter_table_of_section_4_2() {
        let none = SlotRestrictions::default();
        let typed = SlotRestrictions {
            organisation_types: vec!["urgent-care".into()],
            ods_codes: vec![],
        };
        let ods = SlotRestrictions {
            organisation_types: vec![],
            ods_codes: vec!["B1".into(), "B2".into()],
        };
        let both = SlotRestrictions {
            organisation_types: vec!["urgent-care".into()],
            ods_codes: vec!["B1".into()],
        };
        // No filters: only unrestricted slots.
        assert!(restrictions_allow(&none, &who(None, None)));
        assert!(!restrictions_allow(&typed, &who(None, None)));
        assert!(!restrictions_allow(&ods, &who(None, None)));
        // Type only.
        assert!(restrictions_allow(&typed, &who(Some("urgent-care"), None)));
        assert!(!restrictions_allow(&typed, &who(Some("gp-practice"), None)));
        assert!(!restrictions_allow(&ods, &who(Some("urgent-care"), None)));
        // ODS only.
        assert!(restrictions_allow(&ods, &who(None, Some("B2"))));
        assert!(!restrictions_allow(&ods, &who(None, Some("B3"))));
        assert!(!restrictions_allow(&typed, &who(None, Some("B1"))));
        // Both.
        assert!(restrictions_allow(
            &both,
            &who(Some("urgent-care"), Some("B1"))
        ));
        assert!(!restrictions_allow(
            &both,
            &who(Some("urgent-care"), Some("B2"))
        ));
        assert!(restrictions_allow(
            &none,
            &who(Some("oncology"), Some("B9"))
        ));
    }

    #[test]
    fn r15_visit_slots_are_never_available() {
        let mut s = slot();
        s.delivery_channel = "Visit".into();
        s.bookable = true;
        assert_eq!(
            availability(&s, &practice(), &Requester::default(), ts(NOW)),
            Err(Unavailable::Visit)
        );
    }

    #[test]
    fn r1_started_slots_are_not_available() {
        let s = slot();
        assert_eq!(
            availability(&s, &practice(), &Requester::default(), s.start),
            Err(Unavailable::Started)
        );
    }

    #[test]
    fn booking_window_opens_by_uk_day_and_closes_by_notice() {
        let w = BookingWindow {
            max_days_ahead: Some(7),
            min_notice_minutes: Some(60),
        };
        let now = ts("2026-11-25T10:00:00Z");
        assert!(within_window(ts("2026-12-02T23:30:00Z"), &w, now));
        assert!(!within_window(ts("2026-12-03T00:00:00Z"), &w, now));
        assert!(within_window(ts("2026-11-25T11:00:00Z"), &w, now));
        assert!(!within_window(ts("2026-11-25T10:59:59Z"), &w, now));
    }

    #[test]
    fn r12_limits_are_keyed_by_organisation_and_uk_day() {
        let mut p = practice();
        p.settings.slot_limits = vec![
            SlotCountLimit {
                applies_to: OrganisationMatch::OdsCode("B1".into()),
                max_slots_per_day: 2,
            },
            SlotCountLimit {
                applies_to: OrganisationMatch::OrganisationType("urgent-care".into()),
                max_slots_per_day: 5,
            },
        ];
        // 23:30 UTC on 1 July is 00:30 BST on 2 July.
        let checks = limit_checks(
            &p,
            &who(Some("urgent-care"), Some("B1")),
            ts("2026-07-01T23:30:00Z"),
        );
        let keys: Vec<_> = checks.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["ods:B1:2026-07-02", "type:urgent-care:2026-07-02"]);
        assert!(limit_checks(&p, &who(None, Some("B9")), ts(NOW)).is_empty());
    }
}
