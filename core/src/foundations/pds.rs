//! The Personal Demographics Service (PDS) port, and the NHS-number
//! verification rule of digest §1.3 that find (F2) and register (F4) apply
//! with it.
//!
//! # The port
//!
//! [`Pds::retrieve`] answers one question: what does PDS hold for this NHS
//! number? `Ok(Some(record))` is a PDS record, `Ok(None)` means PDS has no
//! such number (F4 answers 400 INVALID_PATIENT_DEMOGRAPHICS; F2 leaves an
//! unverified patient out), and `Err(PdsError::Unavailable)` means PDS
//! could not be asked (500 INTERNAL_SERVER_ERROR, §1.5).
//!
//! # Plugging in a real PDS client
//!
//! The engine ships no Spine client: the provider's host system already has
//! one (PDS access is part of GP system assurance). To use it, implement
//! [`Pds`] over it:
//!
//! - do a PDS *retrieval* by NHS number (the PDS FHIR API
//!   `GET /Patient/{nhs}`, or the Spine "Retrieval" / "Cross Check Trace
//!   then Retrieval" of the HL7 v3 interface, §1.5 step 1);
//! - map the answer into a [`PdsRecord`]: the usual name (family, given,
//!   prefix), the date of birth, gender, home address and telecoms, and
//!   the flags the rules look at: deceased, and the *Invalid*, *Sensitive*
//!   (S-flag, restricted) and *Superseded* (merged into another number)
//!   markers;
//! - answer `Ok(None)` for "not found" and `Err(PdsError::Unavailable)` for
//!   transport failures, timeouts and Spine errors. Keep the timeout inside
//!   the command budget (F4 is a command: SHALL < 250 ms end to end, §7),
//!   or answer from the host's own recently traced copy;
//! - be `Send + Sync`: one instance serves concurrent requests.
//!
//! The engine never writes to PDS (§1.5 step 6: no automatic PDS update).
//!
//! # `LocalPds`
//!
//! [`LocalPds`] is the in-memory implementation: the test double of the
//! operations' tests, and an offline provider for a host that has no live
//! PDS connection but holds traced demographics it is willing to vouch for
//! (seed it with [`LocalPds::from_patients`] or [`LocalPds::insert`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock};

use jiff::civil::Date;

use crate::checks::datetime::PartialDate;
use crate::error::Error;
use crate::fhir::datatypes::{Address, ContactPoint};
use crate::fhir::primitive::Code;
use crate::store::PatientRecord;
use crate::stu3::{self, PatientDeceased};

/// What PDS holds for one NHS number.
#[derive(Debug, Clone, PartialEq)]
pub struct PdsRecord {
    /// The NHS number.
    pub nhs_number: String,
    /// Family name of the usual name.
    pub family: String,
    /// Given names of the usual name, first first.
    pub given: Vec<String>,
    /// Name prefixes (`Mrs`, `Dr`).
    pub prefix: Vec<String>,
    /// Date of birth.
    pub birth_date: Date,
    /// Administrative gender code (`male`, `female`, `other`, `unknown`).
    pub gender: Option<Code>,
    /// Home and other addresses.
    pub address: Vec<Address>,
    /// Telephone numbers and email addresses.
    pub telecom: Vec<ContactPoint>,
    /// Recorded as deceased (F2 "not deceased on PDS"; F4 → 400
    /// INVALID_PATIENT_DEMOGRAPHICS).
    pub deceased: bool,
    /// Sensitive (S-flag): F2 leaves the patient out (R60), F4 → 400
    /// INVALID_PATIENT_DEMOGRAPHICS (R62).
    pub sensitive: bool,
    /// Flagged invalid: F4 → 400 INVALID_NHS_NUMBER.
    pub invalid: bool,
    /// Superseded by another NHS number: F4 → 400 INVALID_NHS_NUMBER.
    pub superseded: bool,
}

impl PdsRecord {
    /// A live, unflagged record with a name and date of birth.
    pub fn new(
        nhs_number: impl Into<String>,
        family: impl Into<String>,
        given: impl IntoIterator<Item = impl Into<String>>,
        birth_date: Date,
    ) -> Self {
        PdsRecord {
            nhs_number: nhs_number.into(),
            family: family.into(),
            given: given.into_iter().map(Into::into).collect(),
            prefix: Vec::new(),
            birth_date,
            gender: None,
            address: Vec::new(),
            telecom: Vec::new(),
            deceased: false,
            sensitive: false,
            invalid: false,
            superseded: false,
        }
    }

    /// The PDS view of a stored patient, for seeding a [`LocalPds`] from a
    /// practice's own (traced) records: its official name, full date of
    /// birth, gender, addresses and telecoms, deceased when either the
    /// flags or the resource say so, sensitive from the S-flag. `None` when
    /// the record has no official name with a family name, or no full date
    /// of birth.
    pub fn from_patient(record: &PatientRecord) -> Option<PdsRecord> {
        let r = &record.resource;
        let name = official_names(r).next()?;
        let family = name.family.as_deref().filter(|f| !f.trim().is_empty())?;
        let Ok(PartialDate::Date(birth_date)) = PartialDate::parse(r.birth_date.as_ref()?.as_str())
        else {
            return None;
        };
        Some(PdsRecord {
            nhs_number: record.nhs_number.clone(),
            family: family.to_owned(),
            given: name.given.clone(),
            prefix: name.prefix.clone(),
            birth_date,
            gender: r.gender.clone(),
            address: r.address.clone(),
            telecom: r.telecom.clone(),
            deceased: record.flags.deceased.is_some()
                || matches!(
                    r.deceased,
                    Some(PatientDeceased::Boolean(true) | PatientDeceased::DateTime(_))
                ),
            sensitive: record.flags.sensitive,
            invalid: false,
            superseded: false,
        })
    }

    /// The NHS number is usable: not flagged Invalid or Superseded.
    pub fn number_is_usable(&self) -> bool {
        !self.invalid && !self.superseded
    }
}

/// Why PDS could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdsError {
    /// PDS could not be reached or failed (§1.5: 500 INTERNAL_SERVER_ERROR).
    #[error("PDS is unavailable: {0}")]
    Unavailable(String),
}

impl From<PdsError> for Error {
    fn from(e: PdsError) -> Self {
        Error::internal(e.to_string())
    }
}

/// The PDS port (see the module docs).
pub trait Pds: Send + Sync {
    /// PDS's record for `nhs_number` (a structurally valid NHS number), or
    /// `None` when PDS has no such number.
    ///
    /// # Errors
    /// [`PdsError::Unavailable`] when PDS cannot be asked.
    fn retrieve(&self, nhs_number: &str) -> Result<Option<PdsRecord>, PdsError>;
}

/// An in-memory PDS (see the module docs). It can be told to fail, to
/// exercise the 500 path.
#[derive(Debug, Default)]
pub struct LocalPds {
    records: RwLock<HashMap<String, PdsRecord>>,
    unavailable: AtomicBool,
}

impl LocalPds {
    /// An empty PDS: every number is unknown.
    pub fn new() -> Self {
        Self::default()
    }

    /// A PDS holding `records` (a later record for the same number wins).
    pub fn from_records(records: impl IntoIterator<Item = PdsRecord>) -> Self {
        let pds = Self::new();
        for r in records {
            pds.insert(r);
        }
        pds
    }

    /// A PDS holding the PDS view ([`PdsRecord::from_patient`]) of each of
    /// `patients` that has one.
    pub fn from_patients<'a>(patients: impl IntoIterator<Item = &'a PatientRecord>) -> Self {
        Self::from_records(patients.into_iter().filter_map(PdsRecord::from_patient))
    }

    /// Add or replace the record for its NHS number; the old one, if any.
    pub fn insert(&self, record: PdsRecord) -> Option<PdsRecord> {
        self.records
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(record.nhs_number.clone(), record)
    }

    /// Forget a number; its record, if any.
    pub fn remove(&self, nhs_number: &str) -> Option<PdsRecord> {
        self.records
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(nhs_number)
    }

    /// Make every retrieval fail with [`PdsError::Unavailable`] (or succeed
    /// again).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }
}

impl Pds for LocalPds {
    fn retrieve(&self, nhs_number: &str) -> Result<Option<PdsRecord>, PdsError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(PdsError::Unavailable(
                "the local PDS is switched to unavailable".to_owned(),
            ));
        }
        Ok(self
            .records
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(nhs_number)
            .cloned())
    }
}

/// The names of `patient` with `use = official`, in order.
pub(crate) fn official_names(patient: &stu3::Patient) -> impl Iterator<Item = &stu3::HumanName> {
    patient
        .name
        .iter()
        .filter(|n| n.use_.as_ref().is_some_and(|u| u.as_str() == "official"))
}

/// The demographics a verification compares with PDS: family name, first
/// given name, date of birth (possibly partial).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demographics<'a> {
    /// Family name.
    pub family: &'a str,
    /// First given name, if any.
    pub given: Option<&'a str>,
    /// Date of birth.
    pub birth_date: PartialDate,
}

impl<'a> Demographics<'a> {
    /// The official name's family and first given name and the birth date
    /// of `patient`; `None` when any of family name or birth date is
    /// missing or unreadable.
    pub fn of(patient: &'a stu3::Patient) -> Option<Demographics<'a>> {
        let name = official_names(patient).next()?;
        let family = name.family.as_deref().filter(|f| !f.trim().is_empty())?;
        let birth_date = PartialDate::parse(patient.birth_date.as_ref()?.as_str()).ok()?;
        Some(Demographics {
            family,
            given: name.given.first().map(String::as_str),
            birth_date,
        })
    }
}

/// The verification rule of digest §1.3 (also F4 step 1): the demographics
/// match PDS when the date of birth matches exactly, **or** two of its
/// three parts (year, month, day) match **and** the first three characters
/// of the family name match **and** the first character of the (first)
/// given name matches. Names compare case-insensitively, ignoring
/// surrounding whitespace; a part the local date lacks (a partial date)
/// does not match.
pub fn demographics_match(local: &Demographics<'_>, pds: &PdsRecord) -> bool {
    let (year, month, day) = match local.birth_date {
        PartialDate::Year(y) => (Some(y), None, None),
        PartialDate::YearMonth(y, m) => (Some(y), Some(m), None),
        PartialDate::Date(d) => (Some(d.year()), Some(d.month()), Some(d.day())),
    };
    let parts = [
        year == Some(pds.birth_date.year()),
        month == Some(pds.birth_date.month()),
        day == Some(pds.birth_date.day()),
    ];
    let matching = parts.iter().filter(|&&m| m).count();
    if matching == 3 {
        return true;
    }
    let family_ok = prefix_folded(local.family, 3) == prefix_folded(&pds.family, 3);
    let given_ok = match (local.given, pds.given.first()) {
        (Some(a), Some(b)) => {
            let a = prefix_folded(a, 1);
            !a.is_empty() && a == prefix_folded(b, 1)
        }
        _ => false,
    };
    matching == 2 && family_ok && given_ok
}

/// The first `n` characters of `s`, trimmed and lower-cased.
fn prefix_folded(s: &str, n: usize) -> String {
    s.trim()
        .chars()
        .take(n)
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether two family names are the same name (case-insensitive, ignoring
/// surrounding whitespace): F4's "family name matches PDS" (R65).
pub fn same_family_name(a: &str, b: &str) -> bool {
    let fold = |s: &str| {
        s.trim()
            .chars()
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    fold(a) == fold(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pds() -> PdsRecord {
        PdsRecord::new(
            "9000000009",
            "Dawes",
            ["Minnie"],
            Date::constant(1952, 5, 31),
        )
    }

    fn local<'a>(family: &'a str, given: Option<&'a str>, dob: &str) -> Demographics<'a> {
        Demographics {
            family,
            given,
            birth_date: PartialDate::parse(dob).expect("date"),
        }
    }

    #[test]
    fn s1_3_exact_date_of_birth_verifies_whatever_the_names() {
        assert!(demographics_match(
            &local("Other", None, "1952-05-31"),
            &pds()
        ));
    }

    #[test]
    fn s1_3_two_of_three_date_parts_need_both_name_checks() {
        // Day differs; family "DAW" and given "M" match.
        assert!(demographics_match(
            &local("dawson", Some("mary"), "1952-05-30"),
            &pds()
        ));
        // Family prefix differs.
        assert!(!demographics_match(
            &local("Davies", Some("Minnie"), "1952-05-30"),
            &pds()
        ));
        // Given initial differs.
        assert!(!demographics_match(
            &local("Dawes", Some("Jane"), "1952-05-30"),
            &pds()
        ));
        // No given name.
        assert!(!demographics_match(
            &local("Dawes", None, "1952-05-30"),
            &pds()
        ));
    }

    #[test]
    fn s1_3_one_of_three_date_parts_never_verifies() {
        assert!(!demographics_match(
            &local("Dawes", Some("Minnie"), "1952-06-30"),
            &pds()
        ));
    }

    #[test]
    fn s1_3_a_partial_local_date_counts_only_its_parts() {
        assert!(demographics_match(
            &local(" DAWES ", Some("M"), "1952-05"),
            &pds()
        ));
        assert!(!demographics_match(
            &local("Dawes", Some("M"), "1952"),
            &pds()
        ));
    }

    #[test]
    fn local_pds_answers_none_for_unknown_and_500_when_unavailable() {
        let p = LocalPds::from_records([pds()]);
        assert_eq!(p.retrieve("9000000009").expect("ok"), Some(pds()));
        assert_eq!(p.retrieve("9476719931").expect("ok"), None);
        p.set_unavailable(true);
        let e: Error = p.retrieve("9000000009").expect_err("down").into();
        assert_eq!(e.status(), 500);
        p.set_unavailable(false);
        assert_eq!(p.remove("9000000009"), Some(pds()));
        assert_eq!(p.retrieve("9000000009").expect("ok"), None);
    }

    #[test]
    fn local_pds_is_seeded_from_the_practice_records() {
        let now = crate::foundations::test_support::now();
        let practice = crate::testkit::practice(now);
        let p = LocalPds::from_patients(&practice.patients);
        let dawes = p.retrieve("9000000009").expect("ok").expect("record");
        assert_eq!(dawes.family, "Dawes");
        assert_eq!(dawes.birth_date, Date::constant(1952, 5, 31));
        assert!(p.retrieve("9658218873").expect("ok").expect("S").sensitive);
        assert!(
            p.retrieve("9000000033")
                .expect("ok")
                .expect("dead")
                .deceased
        );
    }

    #[test]
    fn family_names_compare_case_insensitively() {
        assert!(same_family_name("Jackson", " JACKSON"));
        assert!(!same_family_name("Jackson", "Jacks"));
    }
}
