//! Whose record may be returned at all (accessrecord §1.6).
//!
//! | case | answer |
//! |---|---|
//! | no patient with the NHS number at this practice | 404 PATIENT_NOT_FOUND |
//! | PDS sensitive (S-flag), on any record with the number | 404 PATIENT_NOT_FOUND |
//! | NHS number not "present and verified" (not traced on PDS) | 404 PATIENT_NOT_FOUND |
//! | not a regular (GMS) registration: temporary or other | 404 PATIENT_NOT_FOUND |
//! | left the practice (registration inactive), alive | 404 PATIENT_NOT_FOUND |
//! | deceased more than `deceased_access_days` days ago, or with no date of death | 404 PATIENT_NOT_FOUND |
//! | dissent from sharing | 403 NO_PATIENT_CONSENT |
//! | otherwise (deceased within the window included) | the record |
//!
//! Every "not found" has the same diagnostics, so an answer never reveals
//! which rule hid a patient (an S-flagged registration above all).

use jiff::civil::Date;

use crate::checks::nhs_number::NhsNumber;
use crate::error::{Error, SpineCode};
use crate::operation::Context;
use crate::store::{PatientRecord, RegistrationStatus, RegistrationType};
use crate::stu3::PatientDeceased;

fn not_found() -> Error {
    Error::new(
        SpineCode::PatientNotFound,
        "no patient with this NHS number whose record this practice can share",
    )
}

/// The patient whose record is returned, after every §1.6 rule (module
/// docs). `today` is the UK date of the request.
///
/// Several records may share an NHS number (a patient who left and came
/// back): any sensitive one hides them all; otherwise the current
/// registration (active, alive) is used, else the most recently deceased
/// one, else (only past registrations) the patient is not found.
///
/// # Errors
/// 404 PATIENT_NOT_FOUND or 403 NO_PATIENT_CONSENT as in the module docs;
/// 500 when the store fails.
pub fn shareable_patient(
    ctx: &Context<'_>,
    nhs_number: &NhsNumber,
    today: Date,
) -> Result<PatientRecord, Error> {
    let records = ctx
        .store
        .patients_by_nhs_number(ctx.ods(), nhs_number.as_str())?;
    if records.iter().any(|r| r.flags.sensitive) {
        return Err(not_found());
    }
    let current = records
        .iter()
        .find(|r| r.flags.registration == RegistrationStatus::Active && !is_deceased(r));
    let chosen = match current {
        Some(r) => r,
        None => records
            .iter()
            .filter(|r| is_deceased(r))
            .max_by_key(|r| r.flags.deceased)
            .ok_or_else(not_found)?,
    };
    if !chosen.flags.nhs_number_verified
        || chosen.flags.registration_type != RegistrationType::Regular
    {
        return Err(not_found());
    }
    if is_deceased(chosen) {
        let days = ctx.practice.settings.access_record.deceased_access_days;
        if !within_deceased_window(chosen.flags.deceased, today, days) {
            return Err(not_found());
        }
    }
    if chosen.flags.dissent {
        return Err(Error::new(
            SpineCode::NoPatientConsent,
            "the patient has dissented from sharing their record",
        ));
    }
    Ok(chosen.clone())
}

/// Deceased by the flags or by `Patient.deceased[x]`.
fn is_deceased(r: &PatientRecord) -> bool {
    r.flags.deceased.is_some()
        || matches!(
            r.resource.deceased,
            Some(PatientDeceased::Boolean(true) | PatientDeceased::DateTime(_))
        )
}

/// Whether a patient who died on `died` is still visible `today`: the day
/// of death is day 0 and day `days` is the last visible one (28 days: died
/// 1 March, visible to 29 March inclusive). Without a date of death there is
/// no window to be inside.
pub fn within_deceased_window(died: Option<Date>, today: Date, days: u32) -> bool {
    let Some(died) = died else {
        return false;
    };
    match died.checked_add(jiff::Span::new().days(i64::from(days))) {
        Ok(last) => today <= last,
        // A window reaching past the calendar's end never closes.
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_window_includes_the_last_day_and_not_the_next() {
        let died = Some(date(2026, 3, 1));
        assert!(within_deceased_window(died, date(2026, 3, 1), 28));
        assert!(within_deceased_window(died, date(2026, 3, 29), 28));
        assert!(!within_deceased_window(died, date(2026, 3, 30), 28));
        assert!(within_deceased_window(died, date(2026, 3, 1), 0));
        assert!(!within_deceased_window(died, date(2026, 3, 2), 0));
        assert!(!within_deceased_window(None, date(2026, 3, 1), 28));
        assert!(within_deceased_window(
            Some(date(9999, 12, 30)),
            date(9999, 12, 31),
            28
        ));
    }
}
