//! Patients' clinical records as the storage port speaks them: the render
//! crate's [`ClinicalRecord`] (plain data, serde), split into its lists.
//!
//! A record is written only by import ([`PatientClinicalRecord`] in
//! [`PracticeImport`](super::PracticeImport)) and read one section at a time
//! ([`PracticeStore::clinical_record`](super::PracticeStore::clinical_record)).
//! Each section's views need only some of the record's lists
//! ([`ClinicalList::for_section`]), so a store may keep each list of each
//! patient apart and read only those; the helpers here (
//! [`ClinicalList::to_json`], [`ClinicalList::set_from_json`],
//! [`section_view`]) let every backend do that without repeating the
//! list-by-list plumbing.

use gpconnect_render::{ClinicalRecord, Section};

/// A patient's whole clinical record, as imported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientClinicalRecord {
    /// The patient's logical id (the record is keyed by it within the
    /// practice).
    pub patient_id: String,
    /// The record. Importing it replaces whatever the store held for the
    /// patient, list by list: a list left empty here is empty afterwards.
    pub record: ClinicalRecord,
}

/// One list of a [`ClinicalRecord`]: the unit a store keeps and reads.
///
/// The discriminants are stable (a store may use them in keys on disk);
/// [`ClinicalList::name`] is the list's JSON member name in the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ClinicalList {
    /// `encounters` (ENC; Last 3 Encounters in SUM).
    Encounters = 1,
    /// `clinicalItems` (CLI).
    ClinicalItems = 2,
    /// `problems` (PRB; Active and Major Inactive in SUM).
    Problems = 3,
    /// `allergies` (ALL; Current in SUM).
    Allergies = 4,
    /// `medications` (MED; Acute and Current Repeat in SUM).
    Medications = 5,
    /// `referrals` (REF).
    Referrals = 6,
    /// `observations` (OBS).
    Observations = 7,
    /// `immunisations` (IMM).
    Immunisations = 8,
    /// `administrativeItems` (ADM).
    AdministrativeItems = 9,
    /// `emergencyCodes` (SUM only).
    EmergencyCodes = 10,
    /// `unavailable`: the tables the system cannot fill; every section
    /// carries it, since any view may show a placeholder.
    Unavailable = 11,
}

/// Applies `$m!(Variant, field)` to every list, so the variant ↔ field
/// mapping is written once.
macro_rules! each_list {
    ($m:ident) => {
        $m!(Encounters, encounters);
        $m!(ClinicalItems, clinical_items);
        $m!(Problems, problems);
        $m!(Allergies, allergies);
        $m!(Medications, medications);
        $m!(Referrals, referrals);
        $m!(Observations, observations);
        $m!(Immunisations, immunisations);
        $m!(AdministrativeItems, administrative_items);
        $m!(EmergencyCodes, emergency_codes);
        $m!(Unavailable, unavailable);
    };
}

impl ClinicalList {
    /// Every list, in discriminant order.
    pub const ALL: [ClinicalList; 11] = [
        ClinicalList::Encounters,
        ClinicalList::ClinicalItems,
        ClinicalList::Problems,
        ClinicalList::Allergies,
        ClinicalList::Medications,
        ClinicalList::Referrals,
        ClinicalList::Observations,
        ClinicalList::Immunisations,
        ClinicalList::AdministrativeItems,
        ClinicalList::EmergencyCodes,
        ClinicalList::Unavailable,
    ];

    /// The lists `section`'s views read (accessrecord §3): SUM shows
    /// Emergency Codes, the last 3 encounters, active and major inactive
    /// problems, current allergies, acute and current repeat medication;
    /// every other section shows its own list. [`ClinicalList::Unavailable`]
    /// is always included.
    pub fn for_section(section: Section) -> &'static [ClinicalList] {
        use ClinicalList::*;
        match section {
            Section::Summary => &[
                Encounters,
                Problems,
                Allergies,
                Medications,
                EmergencyCodes,
                Unavailable,
            ],
            Section::Encounters => &[Encounters, Unavailable],
            Section::ClinicalItems => &[ClinicalItems, Unavailable],
            Section::Problems => &[Problems, Unavailable],
            Section::Allergies => &[Allergies, Unavailable],
            Section::Medications => &[Medications, Unavailable],
            Section::Referrals => &[Referrals, Unavailable],
            Section::Observations => &[Observations, Unavailable],
            Section::Immunisations => &[Immunisations, Unavailable],
            Section::AdministrativeItems => &[AdministrativeItems, Unavailable],
        }
    }

    /// The stable one-byte tag (the discriminant).
    pub fn tag(self) -> u8 {
        self as u8
    }

    /// The list with tag `tag`.
    pub fn from_tag(tag: u8) -> Option<ClinicalList> {
        ClinicalList::ALL.into_iter().find(|l| l.tag() == tag)
    }

    /// The list's member name in the record's JSON (`clinicalItems`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ClinicalList::Encounters => "encounters",
            ClinicalList::ClinicalItems => "clinicalItems",
            ClinicalList::Problems => "problems",
            ClinicalList::Allergies => "allergies",
            ClinicalList::Medications => "medications",
            ClinicalList::Referrals => "referrals",
            ClinicalList::Observations => "observations",
            ClinicalList::Immunisations => "immunisations",
            ClinicalList::AdministrativeItems => "administrativeItems",
            ClinicalList::EmergencyCodes => "emergencyCodes",
            ClinicalList::Unavailable => "unavailable",
        }
    }

    /// Whether `record`'s list of this kind is empty.
    pub fn is_empty_in(self, record: &ClinicalRecord) -> bool {
        macro_rules! arm {
            ($v:ident, $f:ident) => {
                if self == ClinicalList::$v {
                    return record.$f.is_empty();
                }
            };
        }
        each_list!(arm);
        true
    }

    /// Copy this list from `from` into `into`, replacing `into`'s.
    pub fn copy(self, from: &ClinicalRecord, into: &mut ClinicalRecord) {
        macro_rules! arm {
            ($v:ident, $f:ident) => {
                if self == ClinicalList::$v {
                    into.$f.clone_from(&from.$f);
                    return;
                }
            };
        }
        each_list!(arm);
    }

    /// This list of `record` as a JSON array, or `None` when it is empty (a
    /// store keeps no entry for an empty list, so "absent" and "empty" are
    /// one state).
    ///
    /// # Errors
    /// Only if serde_json fails to write plain data, which it does not for
    /// these types; a store reports it as a backend failure.
    pub fn to_json(self, record: &ClinicalRecord) -> serde_json::Result<Option<Vec<u8>>> {
        macro_rules! arm {
            ($v:ident, $f:ident) => {
                if self == ClinicalList::$v {
                    return if record.$f.is_empty() {
                        Ok(None)
                    } else {
                        serde_json::to_vec(&record.$f).map(Some)
                    };
                }
            };
        }
        each_list!(arm);
        Ok(None)
    }

    /// Set this list of `record` from a JSON array written by
    /// [`ClinicalList::to_json`].
    ///
    /// # Errors
    /// The bytes are not such an array (corruption, for a store).
    pub fn set_from_json(self, record: &mut ClinicalRecord, json: &[u8]) -> serde_json::Result<()> {
        macro_rules! arm {
            ($v:ident, $f:ident) => {
                if self == ClinicalList::$v {
                    record.$f = serde_json::from_slice(json)?;
                    return Ok(());
                }
            };
        }
        each_list!(arm);
        Ok(())
    }
}

/// The part of `record` that `section`'s views read: the lists of
/// [`ClinicalList::for_section`], every other list empty.
pub fn section_view(record: &ClinicalRecord, section: Section) -> ClinicalRecord {
    let mut out = ClinicalRecord::default();
    for list in ClinicalList::for_section(section) {
        list.copy(record, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpconnect_render::record::{
        Allergy, AllergyStatus, Encounter, Exclusion, Unavailability, UnavailableTable,
    };
    use gpconnect_render::section::Table;
    use jiff::civil::date;

    fn record() -> ClinicalRecord {
        ClinicalRecord {
            encounters: vec![Encounter {
                date: date(2016, 1, 12),
                title: "Surgery consultation".into(),
                details: "Back pain".into(),
                exclusion: Exclusion::None,
            }],
            allergies: vec![Allergy {
                status: AllergyStatus::Current,
                start: date(2010, 3, 1),
                end: None,
                details: "Penicillin: rash".into(),
                exclusion: Exclusion::None,
            }],
            unavailable: vec![UnavailableTable {
                table: Table::AdministrativeItems,
                reason: Unavailability::NotSupported,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn tags_and_names_are_distinct_and_round_trip() {
        for l in ClinicalList::ALL {
            assert_eq!(ClinicalList::from_tag(l.tag()), Some(l));
        }
        assert_eq!(ClinicalList::from_tag(0), None);
        let mut names: Vec<_> = ClinicalList::ALL.iter().map(|l| l.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ClinicalList::ALL.len());
    }

    #[test]
    fn names_are_the_record_json_members() {
        let json = serde_json::to_value(ClinicalRecord::default()).expect("json");
        let object = json.as_object().expect("object");
        assert_eq!(object.len(), ClinicalList::ALL.len());
        for l in ClinicalList::ALL {
            assert!(object.contains_key(l.name()), "{}", l.name());
        }
    }

    #[test]
    fn every_section_carries_unavailable_and_summary_five_lists() {
        for s in Section::ALL {
            assert!(ClinicalList::for_section(s).contains(&ClinicalList::Unavailable));
        }
        assert_eq!(ClinicalList::for_section(Section::Summary).len(), 6);
        assert_eq!(
            ClinicalList::for_section(Section::Encounters),
            [ClinicalList::Encounters, ClinicalList::Unavailable]
        );
    }

    #[test]
    fn a_list_round_trips_through_json_and_empty_is_none() {
        let r = record();
        let mut back = ClinicalRecord::default();
        for l in ClinicalList::ALL {
            match l.to_json(&r).expect("encode") {
                Some(bytes) => {
                    assert!(!l.is_empty_in(&r));
                    l.set_from_json(&mut back, &bytes).expect("decode");
                }
                None => assert!(l.is_empty_in(&r), "{l:?}"),
            }
        }
        assert_eq!(back, r);
        assert!(
            ClinicalList::Encounters
                .set_from_json(&mut back, b"{}")
                .is_err()
        );
    }

    #[test]
    fn a_section_view_keeps_only_its_lists() {
        let r = record();
        let enc = section_view(&r, Section::Encounters);
        assert_eq!(enc.encounters, r.encounters);
        assert!(enc.allergies.is_empty());
        assert_eq!(enc.unavailable, r.unavailable);
        let sum = section_view(&r, Section::Summary);
        assert_eq!(sum, r, "SUM reads encounters and allergies");
        let imm = section_view(&r, Section::Immunisations);
        assert_eq!(
            imm,
            ClinicalRecord {
                unavailable: r.unavailable.clone(),
                ..Default::default()
            }
        );
    }
}
