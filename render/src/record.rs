//! The clinical record a host system fills in for the Access Record views.
//!
//! Plain data, no FHIR: one list per kind of item, each item carrying the
//! columns its view shows (accessrecord §3). Free text may hold anything,
//! including markup and newlines: the renderer escapes every string and turns
//! line breaks into `<br/>`, so a host never pre-formats HTML.
//!
//! Every item has an [`Exclusion`]: items withheld for confidentiality or
//! patient preference are never shown, and the table they would have
//! appeared in carries the exclusion banner (accessrecord §1.6, §2.3).
//!
//! The model is serde-serialisable so the import path and storage backends
//! can carry it as JSON (`docs/import.md`).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::section::Table;

/// A patient's record, as far as the Access Record views show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ClinicalRecord {
    /// ENC, and Last 3 Encounters in SUM.
    pub encounters: Vec<Encounter>,
    /// CLI.
    pub clinical_items: Vec<ClinicalItem>,
    /// PRB, and Active / Major Inactive in SUM.
    pub problems: Vec<Problem>,
    /// ALL, and Current in SUM.
    pub allergies: Vec<Allergy>,
    /// MED (acute prescriptions and repeat templates, each with its issues),
    /// and Acute / Current Repeat in SUM.
    pub medications: Vec<Medication>,
    /// REF.
    pub referrals: Vec<Referral>,
    /// OBS.
    pub observations: Vec<Observation>,
    /// IMM.
    pub immunisations: Vec<Immunisation>,
    /// ADM.
    pub administrative_items: Vec<AdministrativeItem>,
    /// Emergency Codes (SUM only).
    pub emergency_codes: Vec<EmergencyCode>,
    /// Tables this system cannot fill, and why (placeholders 2–4 of §2.5).
    /// A table not listed is supported.
    pub unavailable: Vec<UnavailableTable>,
}

/// Whether an item is withheld from the consumer (accessrecord §1.6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Exclusion {
    /// Shown.
    #[default]
    None,
    /// Marked confidential on the GP system.
    Confidential,
    /// The patient asked for it not to be shared.
    PatientPreference,
    /// In the configured RCGP sensitive exclusion set.
    Sensitive,
}

impl Exclusion {
    /// Whether the item must be left out (and the exclusion banner shown).
    pub fn is_excluded(self) -> bool {
        self != Exclusion::None
    }
}

/// A consultation or other encounter (ENC: Date, Title, Details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Encounter {
    /// Encounter date.
    pub date: Date,
    /// Short text built from the practitioner and organisation.
    pub title: String,
    /// Free text.
    #[serde(default)]
    pub details: String,
    /// Withheld?
    #[serde(default)]
    pub exclusion: Exclusion,
}

/// A clinical item (CLI: Date, Entry, Details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClinicalItem {
    /// Date of entry.
    pub date: Date,
    /// The coded entry's text.
    pub entry: String,
    /// Free text.
    #[serde(default)]
    pub details: String,
    /// Withheld?
    #[serde(default)]
    pub exclusion: Exclusion,
}

/// Active or inactive (PRB subsections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProblemStatus {
    /// Active Problems and Issues.
    Active,
    /// Major or Other Inactive Problems and Issues, by significance.
    Inactive,
}

/// Problem significance. Two levels, as most GP systems record: Major
/// inactive problems go to the Major table; Minor and unset go to Other
/// (accessrecord §3 PRB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Significance {
    /// Major.
    Major,
    /// Minor.
    Minor,
}

impl Significance {
    /// The text shown in the Significance column.
    pub fn label(self) -> &'static str {
        match self {
            Significance::Major => "Major",
            Significance::Minor => "Minor",
        }
    }
}

/// A problem or issue (PRB: Start Date, [End Date,] Entry, Significance,
/// Details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Problem {
    /// Active or inactive.
    pub status: ProblemStatus,
    /// Onset.
    pub start: Date,
    /// When it became inactive (inactive problems).
    #[serde(default)]
    pub end: Option<Date>,
    /// The coded entry's text.
    pub entry: String,
    /// Significance, if the system records one.
    #[serde(default)]
    pub significance: Option<Significance>,
    /// Free text.
    #[serde(default)]
    pub details: String,
    /// Withheld?
    #[serde(default)]
    pub exclusion: Exclusion,
}

/// Current or historical (ALL subsections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AllergyStatus {
    /// Current Allergies and Adverse Reactions.
    Current,
    /// Historical Allergies and Adverse Reactions.
    Historical,
}

/// An allergy or adverse reaction (ALL: Start Date, [End Date,] Details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Allergy {
    /// Current or historical.
    pub status: AllergyStatus,
    /// Onset or date recorded.
    pub start: Date,
    /// When it was ended (historical).
    #[serde(default)]
    pub end: Option<Date>,
    /// The allergen and reaction as text.
    pub details: String,
    /// Withheld?
    #[serde(default)]
    pub exclusion: Exclusion,
}

/// How a medication is prescribed (MED subsections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MedicationKind {
    /// A one-off prescription.
    Acute,
    /// A repeat template; its issues are the individual prescriptions.
    Repeat,
    /// A repeat-dispensing template (the GP system holds no issues).
    RepeatDispense,
}

/// Who prescribed it (accessrecord §3 MED: prescribed-elsewhere items carry
/// their agency in Type and have no issues).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Prescriber {
    /// This practice.
    #[default]
    Practice,
    /// Prescribed elsewhere (a dentist, a hospital, OTC); `None` = unknown
    /// prescriber.
    Elsewhere(Option<String>),
}

/// Why a repeat was discontinued or an acute cancelled, by a clinician.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Discontinuation {
    /// Clinician-entered date, else the date of the action.
    pub date: Date,
    /// Coded text and/or free text.
    #[serde(default)]
    pub reason: String,
}

/// One issue (prescription) of a medication (All Medication Issues).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MedicationIssue {
    /// Issue date.
    pub date: Date,
}

/// An acute prescription or a repeat template, with its issues. Dosage,
/// quantity and days duration are the template's (the latest, if it was
/// amended after issue), and every issue shows them.
///
/// Last Issued Date, Number of Prescriptions Issued and All Medication's
/// Start Date are derived from `issues` (latest, count, earliest), so All
/// Medication always agrees with All Medication Issues (accessrecord §5.1
/// item 17). A practice acute is issued once: give it one issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Medication {
    /// Acute, repeat or repeat dispense.
    pub kind: MedicationKind,
    /// Practice or elsewhere.
    #[serde(default)]
    pub prescriber: Prescriber,
    /// Post-dated acute (`Acute Post-Dated`).
    #[serde(default)]
    pub post_dated: bool,
    /// Start: the issue date for an acute (the post date if post-dated, the
    /// expected start if prescribed elsewhere); the first authorisation for a
    /// repeat.
    pub start: Date,
    /// Medication item (drug, form, strength).
    pub item: String,
    /// Dosage instruction.
    #[serde(default)]
    pub dosage: String,
    /// Quantity with its unit.
    #[serde(default)]
    pub quantity: String,
    /// Scheduled end, if captured.
    #[serde(default)]
    pub scheduled_end: Option<Date>,
    /// Days duration, if captured.
    #[serde(default)]
    pub days_duration: Option<u32>,
    /// Review date (repeats).
    #[serde(default)]
    pub review_date: Option<Date>,
    /// Maximum issues authorised (repeats).
    #[serde(default)]
    pub max_issues: Option<u32>,
    /// Controlled drug: `CONTROLLED DRUG` leads Additional Information.
    #[serde(default)]
    pub controlled_drug: bool,
    /// Cancelled (acute) or discontinued (repeat) by a clinician. A repeat
    /// that naturally ended has none.
    #[serde(default)]
    pub discontinuation: Option<Discontinuation>,
    /// When a repeat's authorisation ends (`None` = open-ended). A repeat
    /// is current only while this is after today (accessrecord §3 MED: "effective
    /// end is null or in the future"), so one ending today is not current.
    #[serde(default)]
    pub authorisation_end: Option<Date>,
    /// When a repeat (dispensing) template was last authorised: shown in
    /// Additional Information for repeat dispensing (accessrecord §3 MED).
    #[serde(default)]
    pub last_authorised: Option<Date>,
    /// Reason for the medication.
    #[serde(default)]
    pub reason: Option<String>,
    /// Problems it is linked to (`Linked Problem : …`).
    #[serde(default)]
    pub linked_problems: Vec<String>,
    /// Other information for Additional Information.
    #[serde(default)]
    pub additional_information: Option<String>,
    /// Issues, in any order (none for repeat dispense or prescribed
    /// elsewhere).
    #[serde(default)]
    pub issues: Vec<MedicationIssue>,
    /// Withheld?
    #[serde(default)]
    pub exclusion: Exclusion,
}

/// A referral (REF: Date, From, To, Priority, Details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Referral {
    /// Referral date.
    pub date: Date,
    /// Referrer.
    #[serde(default)]
    pub from: String,
    /// Referred to.
    #[serde(default)]
    pub to: String,
    /// Priority (`Routine`, `Urgent`, …).
    #[serde(default)]
    pub priority: String,
    /// The original term text of the main coded item, then further lines.
    #[serde(default)]
    pub details: String,
    /// Withheld?
    #[serde(default)]
    pub exclusion: Exclusion,
}

/// A measured value with its unit, as the source system formats it
/// (`0.5`, never `0.50`: accessrecord §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Measurement {
    /// The value as text.
    pub value: String,
    /// Its unit, if any.
    #[serde(default)]
    pub unit: Option<String>,
}

/// A reference range (`3.5 - 5.0`), with a unit only where it differs from
/// the value's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReferenceRange {
    /// Low bound as text.
    #[serde(default)]
    pub low: Option<String>,
    /// High bound as text.
    #[serde(default)]
    pub high: Option<String>,
    /// The range's unit.
    #[serde(default)]
    pub unit: Option<String>,
    /// Free-text range when the source has no bounds.
    #[serde(default)]
    pub text: Option<String>,
}

/// An observation (OBS: Date, Entry, Value, Range, Details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Observation {
    /// Observation date.
    pub date: Date,
    /// The coded entry's text.
    pub entry: String,
    /// The value with its unit.
    #[serde(default)]
    pub value: Option<Measurement>,
    /// Reference range.
    #[serde(default)]
    pub range: Option<ReferenceRange>,
    /// Free text.
    #[serde(default)]
    pub details: String,
    /// Withheld?
    #[serde(default)]
    pub exclusion: Exclusion,
}

/// An immunisation (IMM: Date, Vaccination, Part, Contents, Details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Immunisation {
    /// Date given.
    pub date: Date,
    /// Vaccination.
    pub vaccination: String,
    /// Part (dose number) of the course.
    #[serde(default)]
    pub part: Option<u32>,
    /// Contents.
    #[serde(default)]
    pub contents: String,
    /// Free text.
    #[serde(default)]
    pub details: String,
    /// Withheld?
    #[serde(default)]
    pub exclusion: Exclusion,
}

/// An administrative item (ADM: Date, Entry, Details; Details carries no
/// Read or SNOMED codes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdministrativeItem {
    /// Date.
    pub date: Date,
    /// The entry's text.
    pub entry: String,
    /// Free text.
    #[serde(default)]
    pub details: String,
    /// Withheld?
    #[serde(default)]
    pub exclusion: Exclusion,
}

/// An emergency code (SUM Emergency Codes: Date, Entry, Details, Location
/// of further information).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmergencyCode {
    /// Date recorded.
    pub date: Date,
    /// The code's text.
    pub entry: String,
    /// Free text.
    #[serde(default)]
    pub details: String,
    /// The view(s) where the item also appears (e.g. `Problems and Issues`).
    #[serde(default)]
    pub location: String,
    /// Codes in one group show only the most recent of the group.
    #[serde(default)]
    pub group: Option<String>,
    /// Withheld?
    #[serde(default)]
    pub exclusion: Exclusion,
}

/// Why a table cannot be shown (accessrecord §2.5 placeholders 2–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Unavailability {
    /// "This system does not support retrieval of '…' data." + "This data
    /// may still exist in the source system."
    CannotExtract,
    /// "Access is denied to '…' data for this patient." + "This data may
    /// still exist in the source system."
    AccessDenied,
    /// "'…' data is not supported by this system."
    NotSupported,
}

/// A table a host cannot fill (e.g. EMIS cannot supply Administrative
/// Items: `{"table": "administrativeItems", "reason": "notSupported"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UnavailableTable {
    /// The table; it applies wherever that table appears, Summary included.
    pub table: Table,
    /// Which placeholder to show.
    pub reason: Unavailability,
}
