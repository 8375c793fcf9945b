//! Sample records for demos, tests and benches.
//!
//! [`rich_record`] is this crate's "patient2" (accessrecord §5.3): an
//! invented adult with realistic UK GP data in every table, shaped so the
//! provider suite's HTML checks (§5.1) all have something to find:
//!
//! - every table non-empty, Emergency Codes included, and an excluded
//!   (confidential) clinical item so the exclusion banner shows;
//! - data between 01-May-2015 and 01-Jul-2016 in every filterable view;
//! - **no** items in the "empty period" windows of §5.1 item 7:
//!   ADM 03-May-2014..30-Apr-2015, CLI 03-Feb-2014..24-Jan-2015,
//!   ENC 05-Oct-1982..30-Apr-2015, REF 21-Mar-2014..14-Mar-2015;
//! - medication dates relative to `today` (as the demonstrator shifts its
//!   medication data to the run date), so there is always an acute item in
//!   the last 12 months, current repeats and a discontinued repeat, plus
//!   one fixed acute item in 2015 for the filtered views;
//! - at least two issue rows and an item issued several times, with every
//!   item's issues distinct in (Type, Item, Dosage, Quantity, Days
//!   Duration, Additional Information), so the suite's All Medication ↔
//!   All Medication Issues consistency check (§5.1 item 17) groups them
//!   one item at a time.
//!
//! Free text deliberately holds `&`, `<`, `>`, quotes and newlines, as real
//! clinical notes do.

use jiff::ToSpan;
use jiff::civil::{Date, date};

use crate::record::{
    AdministrativeItem, Allergy, AllergyStatus, ClinicalItem, ClinicalRecord, Discontinuation,
    EmergencyCode, Encounter, Exclusion, Immunisation, Measurement, Medication, MedicationIssue,
    MedicationKind, Observation, Prescriber, Problem, ProblemStatus, ReferenceRange, Referral,
    Significance,
};

fn before(today: Date, days: i64) -> Date {
    today.saturating_sub(days.days())
}

fn after(today: Date, days: i64) -> Date {
    today.saturating_add(days.days())
}

fn issues(dates: impl IntoIterator<Item = Date>) -> Vec<MedicationIssue> {
    dates
        .into_iter()
        .map(|date| MedicationIssue { date })
        .collect()
}

/// A medication with the common fields set and everything else empty.
fn medication(
    kind: MedicationKind,
    start: Date,
    item: &str,
    dosage: &str,
    quantity: &str,
) -> Medication {
    Medication {
        kind,
        prescriber: Prescriber::Practice,
        post_dated: false,
        start,
        item: item.to_owned(),
        dosage: dosage.to_owned(),
        quantity: quantity.to_owned(),
        scheduled_end: None,
        days_duration: None,
        review_date: None,
        max_issues: None,
        controlled_drug: false,
        discontinuation: None,
        authorisation_end: None,
        last_authorised: None,
        reason: None,
        linked_problems: Vec::new(),
        additional_information: None,
        issues: Vec::new(),
        exclusion: Exclusion::None,
    }
}

fn encounter(date: Date, title: &str, details: &str) -> Encounter {
    Encounter {
        date,
        title: title.to_owned(),
        details: details.to_owned(),
        exclusion: Exclusion::None,
    }
}

fn problem(
    status: ProblemStatus,
    start: Date,
    end: Option<Date>,
    entry: &str,
    significance: Option<Significance>,
    details: &str,
) -> Problem {
    Problem {
        status,
        start,
        end,
        entry: entry.to_owned(),
        significance,
        details: details.to_owned(),
        exclusion: Exclusion::None,
    }
}

fn observation(
    date: Date,
    entry: &str,
    value: Option<(&str, Option<&str>)>,
    range: Option<ReferenceRange>,
    details: &str,
) -> Observation {
    Observation {
        date,
        entry: entry.to_owned(),
        value: value.map(|(v, u)| Measurement {
            value: v.to_owned(),
            unit: u.map(str::to_owned),
        }),
        range,
        details: details.to_owned(),
        exclusion: Exclusion::None,
    }
}

fn range(low: &str, high: &str, unit: &str) -> ReferenceRange {
    ReferenceRange {
        low: Some(low.to_owned()),
        high: Some(high.to_owned()),
        unit: Some(unit.to_owned()),
        text: None,
    }
}

/// The medications of [`rich_record`], dated relative to `today`.
fn rich_medications(today: Date) -> Vec<Medication> {
    let t = |days| before(today, days);
    let mut meds = Vec::new();

    // Acute, within the last 12 months.
    let mut m = medication(
        MedicationKind::Acute,
        t(40),
        "Amoxicillin 500mg capsules",
        "One capsule three times a day",
        "21 capsule",
    );
    m.scheduled_end = Some(t(33));
    m.days_duration = Some(7);
    m.reason = Some("Lower respiratory tract infection".into());
    m.issues = issues([t(40)]);
    meds.push(m);

    // The same drug over a year ago: outside Acute, a second row of its
    // All Medication group.
    let mut m = medication(
        MedicationKind::Acute,
        t(400),
        "Amoxicillin 500mg capsules",
        "One capsule three times a day",
        "21 capsule",
    );
    m.scheduled_end = Some(t(393));
    m.days_duration = Some(7);
    m.reason = Some("Acute sinusitis".into());
    m.issues = issues([t(400)]);
    meds.push(m);

    // Acute, issued then cancelled by a clinician.
    let mut m = medication(
        MedicationKind::Acute,
        t(150),
        "Naproxen 250mg tablets",
        "One tablet twice a day with food",
        "28 tablet",
    );
    m.days_duration = Some(14);
    m.discontinuation = Some(Discontinuation {
        date: t(149),
        reason: "Prescribed in error: NSAID sensitivity (see allergies)".into(),
    });
    m.issues = issues([t(150)]);
    meds.push(m);

    // Acute prescribed elsewhere: no issues on this system.
    let mut m = medication(
        MedicationKind::Acute,
        t(90),
        "Metronidazole 400mg tablets",
        "One tablet three times a day",
        "15 tablet",
    );
    m.prescriber = Prescriber::Elsewhere(Some("Dentist".into()));
    m.days_duration = Some(5);
    m.reason = Some("Dental abscess".into());
    meds.push(m);

    // Current repeat, issued four times.
    let mut m = medication(
        MedicationKind::Repeat,
        t(700),
        "Ramipril 5mg capsules",
        "One capsule once a day",
        "28 capsule",
    );
    m.days_duration = Some(28);
    m.review_date = Some(after(today, 60));
    m.max_issues = Some(12);
    m.reason = Some("Hypertension".into());
    m.linked_problems = vec!["Essential hypertension".into()];
    m.issues = issues([t(420), t(690), t(510), t(600)]);
    meds.push(m);

    // Current repeat, controlled drug.
    let mut m = medication(
        MedicationKind::Repeat,
        t(200),
        "Tramadol 50mg capsules",
        "One or two capsules up to four times a day when required",
        "60 capsule",
    );
    m.days_duration = Some(15);
    m.review_date = Some(after(today, 20));
    m.max_issues = Some(4);
    m.controlled_drug = true;
    m.reason = Some("Osteoarthritis of knee".into());
    m.linked_problems = vec!["Osteoarthritis of knee".into()];
    m.additional_information = Some("Opioid agreement signed.\nMax 8 capsules in 24 hours".into());
    m.issues = issues([t(190), t(120)]);
    meds.push(m);

    // Current repeat dispensing (no issues on this system).
    let mut m = medication(
        MedicationKind::RepeatDispense,
        t(300),
        "Salbutamol 100micrograms/dose inhaler CFC free",
        "Two puffs up to four times a day when required",
        "200 dose",
    );
    m.review_date = Some(after(today, 65));
    m.max_issues = Some(6);
    m.last_authorised = Some(t(300));
    m.linked_problems = vec!["Asthma".into()];
    meds.push(m);

    // Repeat discontinued by a clinician.
    let mut m = medication(
        MedicationKind::Repeat,
        t(900),
        "Simvastatin 40mg tablets",
        "One tablet at night",
        "28 tablet",
    );
    m.days_duration = Some(28);
    m.max_issues = Some(6);
    m.discontinuation = Some(Discontinuation {
        date: t(700),
        reason: "Myalgia \u{2013} changed to atorvastatin".into(),
    });
    m.issues = issues([t(890), t(800), t(710)]);
    meds.push(m);

    // Repeat whose authorisation ended naturally: neither current nor
    // discontinued, only in All Medication and its issues.
    let mut m = medication(
        MedicationKind::Repeat,
        t(500),
        "Omeprazole 20mg gastro-resistant capsules",
        "One capsule once a day before breakfast",
        "28 capsule",
    );
    m.days_duration = Some(28);
    m.max_issues = Some(5);
    m.authorisation_end = Some(t(100));
    m.issues = issues([t(495), t(405), t(315), t(225), t(135)]);
    meds.push(m);

    // A fixed acute item inside 01-May-2015..01-Jul-2016.
    let mut m = medication(
        MedicationKind::Acute,
        date(2015, 9, 14),
        "Prednisolone 5mg tablets",
        "Six tablets once a day in the morning for 5 days",
        "30 tablet",
    );
    m.scheduled_end = Some(date(2015, 9, 18));
    m.days_duration = Some(5);
    m.reason = Some("Exacerbation of asthma".into());
    m.issues = issues([date(2015, 9, 14)]);
    meds.push(m);

    meds
}

/// A patient with data in every table (module docs). `today` dates the
/// medications; every other date is fixed.
pub fn rich_record(today: Date) -> ClinicalRecord {
    let riverside = "Riverside Medical Practice";
    ClinicalRecord {
        encounters: vec![
            encounter(
                date(2016, 3, 14),
                &format!("Dr Sarah Patel, {riverside}"),
                "Knee pain worse on stairs.\nExamination: crepitus R knee, no effusion.\nPlan: analgesia & physio; review if > 6 weeks.",
            ),
            encounter(
                date(2015, 11, 16),
                &format!("Dr Sarah Patel, {riverside}"),
                "Right knee pain for 3 months. X-ray: osteoarthritic changes.",
            ),
            encounter(
                date(2015, 7, 2),
                &format!("Dr James O'Neill, {riverside}"),
                "Swollen painful left calf for <2 days. Wells score 3.\r\nReferred same day to the DVT clinic.",
            ),
            encounter(
                date(1980, 4, 10),
                "Dr Anthony Marsh, Chapel Allerton Surgery",
                "Wheeze and night cough; started \"blue\" salbutamol inhaler.",
            ),
        ],
        clinical_items: vec![
            ClinicalItem {
                date: date(2016, 1, 11),
                entry: "Asthma annual review".into(),
                details: "Peak flow 420 L/min (best 480).\nInhaler technique good; ACT score 21.".into(),
                exclusion: Exclusion::None,
            },
            ClinicalItem {
                date: date(2015, 9, 14),
                entry: "Exacerbation of asthma".into(),
                details: "Prednisolone 30mg once a day for 5 days.".into(),
                exclusion: Exclusion::None,
            },
            ClinicalItem {
                date: date(2015, 10, 10),
                entry: "Seen in sexual health clinic".into(),
                details: "Marked confidential on the GP system.".into(),
                exclusion: Exclusion::Confidential,
            },
        ],
        problems: vec![
            problem(
                ProblemStatus::Active,
                date(2012, 3, 14),
                None,
                "Essential hypertension",
                Some(Significance::Major),
                "Home BP average 152/94 before treatment.",
            ),
            problem(
                ProblemStatus::Active,
                date(1980, 4, 10),
                None,
                "Asthma",
                Some(Significance::Major),
                "",
            ),
            problem(
                ProblemStatus::Active,
                date(2015, 11, 16),
                None,
                "Osteoarthritis of knee",
                Some(Significance::Minor),
                "Right knee.",
            ),
            problem(
                ProblemStatus::Inactive,
                date(2015, 7, 2),
                Some(date(2015, 12, 30)),
                "Deep vein thrombosis of leg",
                Some(Significance::Major),
                "Left calf. Rivaroxaban course completed.",
            ),
            problem(
                ProblemStatus::Inactive,
                date(2015, 8, 3),
                Some(date(2015, 8, 24)),
                "Otitis externa",
                Some(Significance::Minor),
                "Left ear.",
            ),
            problem(
                ProblemStatus::Inactive,
                date(2014, 4, 10),
                Some(date(2014, 6, 1)),
                "Low back pain",
                None,
                "",
            ),
        ],
        allergies: vec![
            Allergy {
                status: AllergyStatus::Current,
                start: date(2015, 6, 11),
                end: None,
                details: "Ibuprofen \u{2013} bronchospasm".into(),
                exclusion: Exclusion::None,
            },
            Allergy {
                status: AllergyStatus::Historical,
                start: date(2008, 5, 20),
                end: Some(date(2015, 7, 1)),
                details: "Elastoplast \u{2013} contact dermatitis; has tolerated dressings since".into(),
                exclusion: Exclusion::None,
            },
        ],
        medications: rich_medications(today),
        referrals: vec![
            Referral {
                date: date(2015, 7, 2),
                from: format!("Dr James O'Neill, {riverside}"),
                to: "DVT clinic, Leeds General Infirmary".into(),
                priority: "Urgent".into(),
                details: "Suspected deep vein thrombosis\nWells score 3; D-dimer not available in primary care.".into(),
                exclusion: Exclusion::None,
            },
            Referral {
                date: date(2016, 3, 14),
                from: format!("Dr Sarah Patel, {riverside}"),
                to: "Physiotherapy, Riverside Community MSK Service".into(),
                priority: "Routine".into(),
                details: "Osteoarthritis of knee\nQuadriceps strengthening please.".into(),
                exclusion: Exclusion::None,
            },
        ],
        observations: vec![
            observation(
                date(2016, 1, 11),
                "Systolic arterial pressure",
                Some(("148", Some("mmHg"))),
                Some(range("90", "140", "mmHg")),
                "Seated, right arm.",
            ),
            observation(
                date(2016, 1, 11),
                "Peak expiratory flow rate",
                Some(("420", Some("L/min"))),
                Some(ReferenceRange {
                    low: None,
                    high: None,
                    unit: None,
                    text: Some("Predicted 480 L/min".into()),
                }),
                "",
            ),
            observation(
                date(2015, 12, 7),
                "Serum potassium",
                Some(("4.6", Some("mmol/L"))),
                Some(range("3.5", "5.3", "mmol/L")),
                "",
            ),
            observation(
                date(2015, 12, 7),
                "Haemoglobin concentration",
                Some(("12.8", Some("g/dL"))),
                Some(range("130", "170", "g/L")),
                "Laboratory range reported in g/L.",
            ),
            observation(
                date(2015, 11, 16),
                "Body mass index",
                Some(("27.4", Some("kg/m2"))),
                None,
                "Weight 82 kg, height 1.73 m.",
            ),
        ],
        immunisations: vec![
            Immunisation {
                date: date(2015, 10, 5),
                vaccination: "Seasonal influenza vaccination".into(),
                part: Some(1),
                contents: "Influvac sub-unit Tetra".into(),
                details: "Left deltoid.".into(),
                exclusion: Exclusion::None,
            },
            Immunisation {
                date: date(2015, 11, 23),
                vaccination: "Pneumococcal polysaccharide vaccination".into(),
                part: Some(1),
                contents: "Pneumovax 23".into(),
                details: String::new(),
                exclusion: Exclusion::None,
            },
            Immunisation {
                date: date(2016, 4, 20),
                vaccination: "Tetanus, diphtheria and poliomyelitis booster".into(),
                part: Some(5),
                contents: "Revaxis".into(),
                details: "Travel to Kenya.".into(),
                exclusion: Exclusion::None,
            },
        ],
        administrative_items: vec![
            AdministrativeItem {
                date: date(2015, 5, 12),
                entry: "New patient health check".into(),
                details: "Transferred from Chapel Allerton Surgery.".into(),
                exclusion: Exclusion::None,
            },
            AdministrativeItem {
                date: date(2016, 2, 22),
                entry: "Did not attend appointment".into(),
                details: "Asthma clinic with the practice nurse.".into(),
                exclusion: Exclusion::None,
            },
        ],
        emergency_codes: vec![
            EmergencyCode {
                date: date(2020, 3, 27),
                entry: "High risk category for developing complication from COVID-19 infection".into(),
                details: "Severe asthma.".into(),
                location: "Problems and Issues".into(),
                group: Some("covid-19-risk".into()),
                exclusion: Exclusion::None,
            },
            EmergencyCode {
                date: date(2020, 3, 20),
                entry: "Moderate risk category for developing complication from COVID-19 infection".into(),
                details: String::new(),
                location: "Problems and Issues".into(),
                group: Some("covid-19-risk".into()),
                exclusion: Exclusion::None,
            },
            EmergencyCode {
                date: date(2020, 4, 2),
                entry: "Advised to shield from COVID-19".into(),
                details: "Letter sent.".into(),
                location: "Administrative Items".into(),
                group: None,
                exclusion: Exclusion::None,
            },
        ],
        unavailable: Vec::new(),
    }
}

/// A deterministic record of about `n_items` items spread over every table
/// (a third of them medications, each repeat with six issues), with
/// realistic text lengths, some `&`, `<` and newlines: for benches.
/// Dates fall in the ten years before `today`.
pub fn large_record(today: Date, n_items: usize) -> ClinicalRecord {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n.max(1)
    };
    const DRUGS: [&str; 12] = [
        "Amoxicillin 500mg capsules",
        "Ramipril 5mg capsules",
        "Atorvastatin 20mg tablets",
        "Metformin 500mg tablets",
        "Omeprazole 20mg gastro-resistant capsules",
        "Salbutamol 100micrograms/dose inhaler CFC free",
        "Sertraline 50mg tablets",
        "Amlodipine 5mg tablets",
        "Levothyroxine sodium 50microgram tablets",
        "Lansoprazole 30mg gastro-resistant capsules",
        "Co-codamol 30mg/500mg tablets",
        "Bendroflumethiazide 2.5mg tablets",
    ];
    const NOTE: &str = "Seen with spouse. History as per letter & referral; symptoms < 2 weeks.\nExamination unremarkable. Advised to return if worse > 48 hours.";
    let mut record = ClinicalRecord::default();
    let per_table = n_items / 3 / 8;
    let meds = n_items - per_table * 8;
    for i in 0..per_table {
        let d = before(today, next(3650) as i64);
        let text = &NOTE[..40 + (i % 60)];
        record.encounters.push(encounter(
            d,
            "Dr Sarah Patel, Riverside Medical Practice",
            NOTE,
        ));
        record.clinical_items.push(ClinicalItem {
            date: d,
            entry: "Asthma annual review".into(),
            details: text.into(),
            exclusion: Exclusion::None,
        });
        record.problems.push(problem(
            if i % 2 == 0 {
                ProblemStatus::Active
            } else {
                ProblemStatus::Inactive
            },
            d,
            (i % 2 == 1).then(|| after(d, 30)),
            "Essential hypertension",
            [Some(Significance::Major), Some(Significance::Minor), None][i % 3],
            text,
        ));
        record.allergies.push(Allergy {
            status: if i % 2 == 0 {
                AllergyStatus::Current
            } else {
                AllergyStatus::Historical
            },
            start: d,
            end: (i % 2 == 1).then(|| after(d, 100)),
            details: "Penicillin \u{2013} urticarial rash".into(),
            exclusion: Exclusion::None,
        });
        record.referrals.push(Referral {
            date: d,
            from: "Dr Sarah Patel, Riverside Medical Practice".into(),
            to: "Cardiology, Leeds General Infirmary".into(),
            priority: "Routine".into(),
            details: NOTE.into(),
            exclusion: Exclusion::None,
        });
        record.observations.push(observation(
            d,
            "Serum potassium",
            Some(("4.6", Some("mmol/L"))),
            Some(range("3.5", "5.3", "mmol/L")),
            text,
        ));
        record.immunisations.push(Immunisation {
            date: d,
            vaccination: "Seasonal influenza vaccination".into(),
            part: Some(1),
            contents: "Influvac sub-unit Tetra".into(),
            details: text.into(),
            exclusion: Exclusion::None,
        });
        record.administrative_items.push(AdministrativeItem {
            date: d,
            entry: "Did not attend appointment".into(),
            details: text.into(),
            exclusion: Exclusion::None,
        });
    }
    for i in 0..meds {
        let start = before(today, next(3650) as i64);
        let kind = [
            MedicationKind::Acute,
            MedicationKind::Repeat,
            MedicationKind::RepeatDispense,
        ][i % 3];
        let mut m = medication(
            kind,
            start,
            DRUGS[next(DRUGS.len() as u64) as usize],
            "One tablet twice a day",
            "56 tablet",
        );
        m.days_duration = Some(28);
        m.reason = Some("Long-term condition".into());
        m.linked_problems = vec!["Essential hypertension".into()];
        match kind {
            MedicationKind::Acute => m.issues = issues([start]),
            MedicationKind::Repeat => {
                m.max_issues = Some(6);
                m.review_date = Some(after(start, 365));
                m.issues = issues((0..6).map(|k| after(start, 28 * k)));
                if i % 4 == 0 {
                    m.discontinuation = Some(Discontinuation {
                        date: after(start, 200),
                        reason: "Side effects".into(),
                    });
                }
            }
            MedicationKind::RepeatDispense => {
                m.max_issues = Some(6);
                m.last_authorised = Some(start);
            }
        }
        record.medications.push(m);
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_record_has_about_n_items() {
        let r = large_record(date(2025, 6, 10), 5000);
        let n = r.encounters.len()
            + r.clinical_items.len()
            + r.problems.len()
            + r.allergies.len()
            + r.medications.len()
            + r.referrals.len()
            + r.observations.len()
            + r.immunisations.len()
            + r.administrative_items.len();
        assert_eq!(n, 5000);
    }
}
