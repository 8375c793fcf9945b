//! The Access Record sections of value set `gpconnect-record-section-1`
//! (accessrecord §1.4).

use serde::{Deserialize, Serialize};

/// One of the ten 0.7 record sections. `INV` and `PAT` (0.5) are not
/// sections of 0.7; Emergency Codes has no code and only appears inside
/// Summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Section {
    /// `SUM` Summary.
    #[serde(rename = "SUM")]
    Summary,
    /// `ENC` Encounters.
    #[serde(rename = "ENC")]
    Encounters,
    /// `CLI` Clinical Items.
    #[serde(rename = "CLI")]
    ClinicalItems,
    /// `PRB` Problems and Issues.
    #[serde(rename = "PRB")]
    Problems,
    /// `ALL` Allergies and Adverse Reactions.
    #[serde(rename = "ALL")]
    Allergies,
    /// `MED` Medications.
    #[serde(rename = "MED")]
    Medications,
    /// `REF` Referrals.
    #[serde(rename = "REF")]
    Referrals,
    /// `OBS` Observations.
    #[serde(rename = "OBS")]
    Observations,
    /// `IMM` Immunisations.
    #[serde(rename = "IMM")]
    Immunisations,
    /// `ADM` Administrative Items.
    #[serde(rename = "ADM")]
    AdministrativeItems,
}

impl Section {
    /// Every section, in value-set order.
    pub const ALL: [Section; 10] = [
        Section::Summary,
        Section::Encounters,
        Section::ClinicalItems,
        Section::Problems,
        Section::Allergies,
        Section::Medications,
        Section::Referrals,
        Section::Observations,
        Section::Immunisations,
        Section::AdministrativeItems,
    ];

    /// The section by its code. Codes are case-sensitive: `sum` is not a
    /// code (accessrecord §1.4: mis-cased codes are 422 INVALID_PARAMETER).
    pub fn from_code(code: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The value-set code (`SUM`, `ENC`, …).
    pub fn code(self) -> &'static str {
        match self {
            Section::Summary => "SUM",
            Section::Encounters => "ENC",
            Section::ClinicalItems => "CLI",
            Section::Problems => "PRB",
            Section::Allergies => "ALL",
            Section::Medications => "MED",
            Section::Referrals => "REF",
            Section::Observations => "OBS",
            Section::Immunisations => "IMM",
            Section::AdministrativeItems => "ADM",
        }
    }

    /// The title: `section.title`, `coding.display` and the `<h1>`. The
    /// suite's titles win over the stale value-set file (accessrecord §1.4
    /// \[CONFLICT\]).
    pub fn title(self) -> &'static str {
        match self {
            Section::Summary => "Summary",
            Section::Encounters => "Encounters",
            Section::ClinicalItems => "Clinical Items",
            Section::Problems => "Problems and Issues",
            Section::Allergies => "Allergies and Adverse Reactions",
            Section::Medications => "Medications",
            Section::Referrals => "Referrals",
            Section::Observations => "Observations",
            Section::Immunisations => "Immunisations",
            Section::AdministrativeItems => "Administrative Items",
        }
    }

    /// Whether a consumer may send a `timePeriod` (SUM, ALL and IMM refuse
    /// one with 400).
    pub fn accepts_time_period(self) -> bool {
        !matches!(
            self,
            Section::Summary | Section::Allergies | Section::Immunisations
        )
    }
}

/// One table of the views (accessrecord §2.6). Emergency Codes reuses the
/// `cli-tab` id on purpose, so tables are named by what they hold, not by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Table {
    /// Emergency Codes (Summary only; id `cli-tab`).
    EmergencyCodes,
    /// Encounters (`enc-tab`; Last 3 Encounters in Summary).
    Encounters,
    /// Clinical Items (`cli-tab`).
    ClinicalItems,
    /// Active Problems and Issues (`prb-tab-act`).
    ActiveProblems,
    /// Major Inactive Problems and Issues (`prb-tab-majinact`).
    MajorInactiveProblems,
    /// Other Inactive Problems and Issues (`prb-tab-othinact`).
    OtherInactiveProblems,
    /// Current Allergies and Adverse Reactions (`all-tab-curr`).
    CurrentAllergies,
    /// Historical Allergies and Adverse Reactions (`all-tab-hist`).
    HistoricalAllergies,
    /// Acute Medication (Last 12 Months) (`med-tab-acu-med`).
    AcuteMedication,
    /// Current Repeat Medication (`med-tab-curr-rep`).
    CurrentRepeatMedication,
    /// Discontinued Repeat Medication (`med-tab-dis-rep`).
    DiscontinuedRepeatMedication,
    /// All Medication (`med-tab-all-sum`).
    AllMedication,
    /// All Medication Issues (`med-tab-all-iss`).
    AllMedicationIssues,
    /// Referrals (`ref-tab`).
    Referrals,
    /// Observations (`obs-tab`).
    Observations,
    /// Immunisations (`imm-tab`).
    Immunisations,
    /// Administrative Items (`adm-tab`).
    AdministrativeItems,
}

impl Table {
    /// The table's `id` attribute (accessrecord §2.6).
    pub fn id(self) -> &'static str {
        match self {
            Table::EmergencyCodes | Table::ClinicalItems => "cli-tab",
            Table::Encounters => "enc-tab",
            Table::ActiveProblems => "prb-tab-act",
            Table::MajorInactiveProblems => "prb-tab-majinact",
            Table::OtherInactiveProblems => "prb-tab-othinact",
            Table::CurrentAllergies => "all-tab-curr",
            Table::HistoricalAllergies => "all-tab-hist",
            Table::AcuteMedication => "med-tab-acu-med",
            Table::CurrentRepeatMedication => "med-tab-curr-rep",
            Table::DiscontinuedRepeatMedication => "med-tab-dis-rep",
            Table::AllMedication => "med-tab-all-sum",
            Table::AllMedicationIssues => "med-tab-all-iss",
            Table::Referrals => "ref-tab",
            Table::Observations => "obs-tab",
            Table::Immunisations => "imm-tab",
            Table::AdministrativeItems => "adm-tab",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_case_sensitive() {
        for s in Section::ALL {
            assert_eq!(Section::from_code(s.code()), Some(s));
            assert_eq!(Section::from_code(&s.code().to_lowercase()), None);
        }
        assert_eq!(Section::from_code("INV"), None);
        assert_eq!(Section::from_code(""), None);
    }

    #[test]
    fn sum_all_imm_refuse_a_period() {
        let refusing: Vec<_> = Section::ALL
            .into_iter()
            .filter(|s| !s.accepts_time_period())
            .collect();
        assert_eq!(
            refusing,
            [Section::Summary, Section::Allergies, Section::Immunisations]
        );
    }
}
