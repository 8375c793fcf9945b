//! Our own extensions: the provider-only settings no GP Connect profile can
//! carry (docs/import.md lists each with its value type, default and
//! meaning), and the readers that turn an extension into a typed value or a
//! precise 422.
//!
//! Every URL lives under [`NAMESPACE`] and is spelled exactly once, here.
//! Why a URN and not an `https://` URL: STU3 defines `Extension.url` as "a
//! logical name or a URL" identifying the definition, so a logical name is
//! conformant; the project owns no domain to publish StructureDefinitions
//! under, and an `https://` URL on a domain we do not control (least of all
//! `fhir.nhs.uk`, whose namespace GP Connect's own extensions use) would
//! claim an authority we do not have and could one day resolve to someone
//! else's definition. The `urn:gpconnect:` prefix keeps ours visibly apart
//! from NHS England's and HL7's.
//!
//! These extensions only ever travel *into* the engine. The importer strips
//! them from every resource it stores, so no consumer ever sees a
//! provider-only flag (a sensitive-patient flag above all).

use crate::error::{Echo, Error};
use crate::fhir::datatypes::{CodeableConcept, Extension, ExtensionValue, Reference};

use super::invalid;

/// Expands to the namespace literal, so every URL below is one `concat!`
/// of it and its own name (and `NAMESPACE` itself cannot drift from them).
macro_rules! namespace {
    () => {
        "urn:gpconnect:fhir:extension:"
    };
}

/// The prefix of every extension URL of ours. Any extension whose URL starts
/// with it and that the importer does not read at that position is an error,
/// so a typo never silently drops a setting.
pub const NAMESPACE: &str = namespace!();

/// On the practice Organization's ODS-code identifier: the ASID of the
/// endpoint (`Ssp-To`, R82). `valueString`, digits only. Exactly one
/// Organization in a practice bundle carries it; that one is the practice.
pub const ASID: &str = concat!(namespace!(), "asid");
/// On the practice Organization: GP Connect switched on (R83). `valueBoolean`,
/// default `false`.
pub const GP_CONNECT_ENABLED: &str = concat!(namespace!(), "gp-connect-enabled");
/// On the practice Organization: Appointment Management switched on (R83).
/// `valueBoolean`, default `false`.
pub const APPOINTMENTS_ENABLED: &str = concat!(namespace!(), "appointments-enabled");
/// On the practice Organization: Access Record HTML switched on.
/// `valueBoolean`, default `false`.
pub const ACCESS_RECORD_ENABLED: &str = concat!(namespace!(), "access-record-enabled");
/// On the practice Organization: the Access Record HTML settings
/// (accessrecord §1.6, §3). Complex, every sub-extension optional:
/// [`DECEASED_ACCESS_DAYS`], [`EMERGENCY_CODES`], [`EMERGENCY_CODES_BANNER`],
/// [`SCHEDULED_END_BANNER`], [`REVIEW_DATE_BANNER`]. Absent: the defaults.
pub const ACCESS_RECORD_SETTINGS: &str = concat!(namespace!(), "access-record-settings");
/// Sub-extension of [`ACCESS_RECORD_SETTINGS`]: `valueInteger` ≥ 0, the days
/// after the date of death a deceased patient's record stays visible (the
/// day of death is day 0, the last day is included). Default 28 (§1.6).
pub const DECEASED_ACCESS_DAYS: &str = "deceasedAccessDays";
/// Sub-extension of [`ACCESS_RECORD_SETTINGS`]: `valueBoolean`, show the
/// Emergency Codes table at the top of Summary. Default `true` (0.7.3).
pub const EMERGENCY_CODES: &str = "emergencyCodes";
/// Sub-extension of [`ACCESS_RECORD_SETTINGS`]: `valueString`, the content
/// banner of the Emergency Codes table. Default none.
pub const EMERGENCY_CODES_BANNER: &str = "emergencyCodesBanner";
/// Sub-extension of [`ACCESS_RECORD_SETTINGS`]: `valueBoolean`, add the
/// optional Acute Medication banner about calculated Scheduled End Dates.
/// Default `false`.
pub const SCHEDULED_END_BANNER: &str = "scheduledEndBanner";
/// Sub-extension of [`ACCESS_RECORD_SETTINGS`]: `valueBoolean`, add the
/// optional Current Repeat banner about Review Dates. Default `false`.
pub const REVIEW_DATE_BANNER: &str = "reviewDateBanner";
/// On the practice Organization, repeating: one of the provider's own
/// Access Record `content-banner`s (accessrecord §2.3), in order. Complex:
/// exactly one of [`BANNER_SECTION`] or [`BANNER_TABLE`] (where it goes),
/// and [`BANNER_TEXT`].
pub const ACCESS_RECORD_CONTENT_BANNER: &str =
    concat!(namespace!(), "access-record-content-banner");
/// Sub-extension of [`ACCESS_RECORD_CONTENT_BANNER`]: `valueCode`, a section
/// code (`SUM` … `ADM`): the banner goes under that section's h1.
pub const BANNER_SECTION: &str = "section";
/// Sub-extension of [`ACCESS_RECORD_CONTENT_BANNER`]: `valueCode`, a table
/// (`currentAllergies`, `discontinuedRepeatMedication`, ...): the banner goes
/// against that table wherever it appears.
pub const BANNER_TABLE: &str = "table";
/// Sub-extension of [`ACCESS_RECORD_CONTENT_BANNER`]: `valueString`, the
/// banner's text (not blank).
pub const BANNER_TEXT: &str = "text";
/// On the practice Organization (the default for every slot) or on a Slot
/// (that slot's own window, replacing the default): complex, with the
/// sub-extensions [`MAX_DAYS_AHEAD`] and [`MIN_NOTICE_MINUTES`] (§4.2 item 4).
pub const BOOKING_WINDOW: &str = concat!(namespace!(), "booking-window");
/// Sub-extension of [`BOOKING_WINDOW`]: `valueInteger` ≥ 0, the furthest UK
/// day ahead a slot can be seen and booked. Absent: no limit.
pub const MAX_DAYS_AHEAD: &str = "maxDaysAhead";
/// Sub-extension of [`BOOKING_WINDOW`]: `valueInteger` ≥ 0, the minutes of
/// notice a booking needs before the slot starts. Absent: no limit.
pub const MIN_NOTICE_MINUTES: &str = "minNoticeMinutes";
/// On the practice Organization, repeating: one organisational slot-count
/// limit (R12). Complex: exactly one of [`LIMIT_ODS_CODE`] or
/// [`LIMIT_ORGANISATION_TYPE`], and [`LIMIT_MAX_SLOTS_PER_DAY`].
pub const SLOT_COUNT_LIMIT: &str = concat!(namespace!(), "slot-count-limit");
/// Sub-extension of [`SLOT_COUNT_LIMIT`]: `valueCode`, the booking
/// organisation's ODS code the limit counts.
pub const LIMIT_ODS_CODE: &str = "odsCode";
/// Sub-extension of [`SLOT_COUNT_LIMIT`]: `valueCode`, the organisation type
/// (`GPConnect-OrganisationType-1`, e.g. `urgent-care`) the limit counts.
pub const LIMIT_ORGANISATION_TYPE: &str = "organisationType";
/// Sub-extension of [`SLOT_COUNT_LIMIT`]: `valueInteger` ≥ 0, slots starting
/// on one UK day that the matched organisations may hold.
pub const LIMIT_MAX_SLOTS_PER_DAY: &str = "maxSlotsPerDay";

/// On a Slot: marked "GP Connect bookable" by the practice (§4.2 item 3).
/// `valueBoolean`, default `false`: exposing a slot is the practice's
/// explicit decision, so a forgotten flag hides a slot rather than exposing
/// one meant for internal use.
pub const BOOKABLE: &str = concat!(namespace!(), "bookable");
/// On a Slot, repeating: an organisation type the slot is reserved for
/// ("TypeR", §4.2 table). `valueCode`.
pub const ORGANISATION_TYPE_RESTRICTION: &str =
    concat!(namespace!(), "organisation-type-restriction");
/// On a Slot, repeating: an ODS code the slot is reserved for ("OdsR",
/// §4.2 table). `valueCode`.
pub const ODS_CODE_RESTRICTION: &str = concat!(namespace!(), "ods-code-restriction");

/// On a Patient: `valueCode` `active` (registered; the default) or
/// `inactive` (left, or registration never completed) (F2, F4).
pub const REGISTRATION_STATUS: &str = concat!(namespace!(), "registration-status");
/// On a Patient: `valueDate` (a full date), the date of death. Absent: alive.
pub const DECEASED: &str = concat!(namespace!(), "deceased");
/// On a Patient: PDS sensitive (S-flag), hidden from every interaction
/// (R25, R60–R62). `valueBoolean`, default `false`.
pub const SENSITIVE: &str = concat!(namespace!(), "sensitive");
/// On a Patient: dissent from sharing the record (Access Record only, R24).
/// `valueBoolean`, default `false`.
pub const DISSENT: &str = concat!(namespace!(), "dissent");
/// On a Patient: the record is in transit after a GP2GP transfer (Access
/// Record `gptransfer-banner`). `valueDate` (a full date): the date the
/// patient registered at this practice, which the banner shows. Absent: the
/// record is complete.
pub const RECORD_IN_TRANSIT: &str = concat!(namespace!(), "record-in-transit");

/// Every URL of ours, for tests and tooling.
pub const ALL: [&str; 16] = [
    ASID,
    GP_CONNECT_ENABLED,
    APPOINTMENTS_ENABLED,
    ACCESS_RECORD_ENABLED,
    ACCESS_RECORD_SETTINGS,
    ACCESS_RECORD_CONTENT_BANNER,
    BOOKING_WINDOW,
    SLOT_COUNT_LIMIT,
    BOOKABLE,
    ORGANISATION_TYPE_RESTRICTION,
    ODS_CODE_RESTRICTION,
    REGISTRATION_STATUS,
    DECEASED,
    SENSITIVE,
    DISSENT,
    RECORD_IN_TRANSIT,
];

/// Whether `url` is in our namespace.
pub fn is_ours(url: &str) -> bool {
    url.starts_with(NAMESPACE)
}

/// The `value[x]` element name of a value, for diagnostics.
pub(crate) fn value_name(v: &ExtensionValue) -> &'static str {
    match v {
        ExtensionValue::Boolean(_) => "valueBoolean",
        ExtensionValue::Integer(_) => "valueInteger",
        ExtensionValue::String(_) => "valueString",
        ExtensionValue::Uri(_) => "valueUri",
        ExtensionValue::Date(_) => "valueDate",
        ExtensionValue::DateTime(_) => "valueDateTime",
        ExtensionValue::Instant(_) => "valueInstant",
        ExtensionValue::Time(_) => "valueTime",
        ExtensionValue::Code(_) => "valueCode",
        ExtensionValue::Coding(_) => "valueCoding",
        ExtensionValue::CodeableConcept(_) => "valueCodeableConcept",
        ExtensionValue::Identifier(_) => "valueIdentifier",
        ExtensionValue::Period(_) => "valuePeriod",
        ExtensionValue::Reference(_) => "valueReference",
    }
}

/// One extension and the element path it was found at
/// (`Bundle.entry[3].resource(Slot/1).extension[2]`).
#[derive(Debug, Clone)]
pub(crate) struct Ext<'a> {
    pub path: String,
    pub ext: &'a Extension,
}

impl<'a> Ext<'a> {
    fn wrong_type(&self, expected: &str) -> Error {
        let found = match (&self.ext.value, self.ext.extension.is_empty()) {
            (Some(v), _) => value_name(v),
            (None, false) => "sub-extensions",
            (None, true) => "no value",
        };
        invalid(
            &self.path,
            format!("{} must have {expected}, not {found}", self.ext.url),
        )
    }

    /// A simple extension has a value and no sub-extensions (FHIR ext-1).
    fn value(&self, expected: &str) -> Result<&'a ExtensionValue, Error> {
        match (&self.ext.value, self.ext.extension.is_empty()) {
            (Some(v), true) => Ok(v),
            _ => Err(self.wrong_type(expected)),
        }
    }

    /// `valueBoolean`.
    pub fn boolean(&self) -> Result<bool, Error> {
        match self.value("valueBoolean")? {
            ExtensionValue::Boolean(b) => Ok(*b),
            _ => Err(self.wrong_type("valueBoolean")),
        }
    }

    /// `valueCode`.
    pub fn code(&self) -> Result<&'a str, Error> {
        match self.value("valueCode")? {
            ExtensionValue::Code(c) => Ok(c.as_str()),
            _ => Err(self.wrong_type("valueCode")),
        }
    }

    /// `valueString`.
    pub fn string(&self) -> Result<&'a str, Error> {
        match self.value("valueString")? {
            ExtensionValue::String(s) => Ok(s.as_str()),
            _ => Err(self.wrong_type("valueString")),
        }
    }

    /// `valueInteger` that must be ≥ 0 (FHIR extensions have no
    /// `valueUnsignedInt` in our value model, and counts cannot be negative).
    pub fn count(&self) -> Result<u32, Error> {
        match self.value("valueInteger")? {
            ExtensionValue::Integer(i) => u32::try_from(*i).map_err(|_| {
                invalid(
                    &self.path,
                    format!("{} must not be negative, found {i}", self.ext.url),
                )
            }),
            _ => Err(self.wrong_type("valueInteger")),
        }
    }

    /// `valueDate` with day precision.
    pub fn full_date(&self) -> Result<jiff::civil::Date, Error> {
        match self.value("valueDate")? {
            ExtensionValue::Date(d) => d.as_str().parse::<jiff::civil::Date>().map_err(|_| {
                invalid(
                    &self.path,
                    format!(
                        "{} must be a full date (YYYY-MM-DD), not {}",
                        self.ext.url,
                        Echo(d.as_str())
                    ),
                )
            }),
            _ => Err(self.wrong_type("valueDate")),
        }
    }

    /// `valueCodeableConcept`.
    pub fn codeable_concept(&self) -> Result<&'a CodeableConcept, Error> {
        match self.value("valueCodeableConcept")? {
            ExtensionValue::CodeableConcept(c) => Ok(c),
            _ => Err(self.wrong_type("valueCodeableConcept")),
        }
    }

    /// `valueReference`.
    pub fn reference(&self) -> Result<&'a Reference, Error> {
        match self.value("valueReference")? {
            ExtensionValue::Reference(r) => Ok(r),
            _ => Err(self.wrong_type("valueReference")),
        }
    }

    /// The sub-extensions of a complex extension: no value of its own, at
    /// least one sub-extension (FHIR ext-1), every sub-extension's `url` one
    /// of `allowed`, each at most once.
    pub fn complex(&self, allowed: &[&str]) -> Result<Extensions<'a>, Error> {
        if self.ext.value.is_some() || self.ext.extension.is_empty() {
            return Err(self.wrong_type("sub-extensions"));
        }
        let mut items = Vec::with_capacity(self.ext.extension.len());
        for (i, sub) in self.ext.extension.iter().enumerate() {
            let path = format!("{}.extension[{i}]", self.path);
            if !allowed.contains(&sub.url.as_str()) {
                return Err(invalid(
                    path,
                    format!(
                        "{} is not a part of {}; expected one of: {}",
                        Echo(&sub.url),
                        self.ext.url,
                        allowed.join(", ")
                    ),
                ));
            }
            items.push(Ext { path, ext: sub });
        }
        let subs = Extensions { items };
        for name in allowed {
            subs.single(name)?;
        }
        Ok(subs)
    }
}

/// The extensions of one element that the importer reads, with their paths.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extensions<'a> {
    items: Vec<Ext<'a>>,
}

impl<'a> Extensions<'a> {
    /// Our extensions on an element at `base` (a resource or an
    /// identifier), plus the standard ones named in `standard`.
    ///
    /// Fails on any extension of our namespace that is not in `ours` (a
    /// typo, or a setting on the wrong resource, which would otherwise be
    /// silently ignored), and on one of ours used as a modifier extension
    /// (none of them changes the meaning of the element it sits on).
    pub fn read(
        base: &str,
        extension: &'a [Extension],
        modifier_extension: &'a [Extension],
        ours: &[&str],
        standard: &[&str],
        holder: &str,
    ) -> Result<Self, Error> {
        if let Some(i) = modifier_extension.iter().position(|e| is_ours(&e.url)) {
            return Err(invalid(
                format!("{base}.modifierExtension[{i}]"),
                format!(
                    "{} is not a modifier extension; put it in extension",
                    Echo(&modifier_extension[i].url)
                ),
            ));
        }
        let mut items = Vec::new();
        for (i, ext) in extension.iter().enumerate() {
            // Built only for the extensions kept or refused: a bulk import
            // carries many extensions the importer does not read.
            let path = || format!("{base}.extension[{i}]");
            if is_ours(&ext.url) {
                if !ours.contains(&ext.url.as_str()) {
                    return Err(invalid(
                        path(),
                        format!(
                            "{} is not an extension the importer reads on {holder}{}",
                            Echo(&ext.url),
                            if ours.is_empty() {
                                String::new()
                            } else {
                                format!(" (expected one of: {})", ours.join(", "))
                            }
                        ),
                    ));
                }
                items.push(Ext { path: path(), ext });
            } else if standard.contains(&ext.url.as_str()) {
                items.push(Ext { path: path(), ext });
            }
        }
        Ok(Extensions { items })
    }

    /// Every occurrence of `url`.
    pub fn all<'s>(&'s self, url: &'s str) -> impl Iterator<Item = &'s Ext<'a>> + 's {
        self.items.iter().filter(move |e| e.ext.url == url)
    }

    /// The one occurrence of `url`, if any; a second is an error (every
    /// single-valued setting has one source of truth).
    pub fn single(&self, url: &str) -> Result<Option<&Ext<'a>>, Error> {
        let mut found = self.items.iter().filter(|e| e.ext.url == url);
        let first = found.next();
        if let Some(second) = found.next() {
            return Err(invalid(
                &second.path,
                format!(
                    "{url} appears more than once (first at {})",
                    first.map(|f| f.path.as_str()).unwrap_or_default()
                ),
            ));
        }
        Ok(first)
    }

    /// The `valueBoolean` of the single `url`, or `default`.
    pub fn boolean_or(&self, url: &str, default: bool) -> Result<bool, Error> {
        self.single(url)?.map_or(Ok(default), Ext::boolean)
    }

    /// The `valueInteger` ≥ 0 of the single `url`, if present.
    pub fn count(&self, url: &str) -> Result<Option<u32>, Error> {
        self.single(url)?.map(Ext::count).transpose()
    }
}

/// Strip every extension of our namespace from a list, so what the store
/// keeps (and consumers later see) carries none of them.
pub(crate) fn strip_ours(extensions: &mut Vec<Extension>) {
    extensions.retain(|e| !is_ours(&e.url));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::primitive::{Code, Date};

    fn ext(url: &str, value: ExtensionValue) -> Extension {
        Extension {
            url: url.to_owned(),
            value: Some(value),
            ..Default::default()
        }
    }

    fn complex(url: &str, subs: Vec<Extension>) -> Extension {
        Extension {
            url: url.to_owned(),
            extension: subs,
            ..Default::default()
        }
    }

    fn read<'a>(exts: &'a [Extension], ours: &[&str]) -> Result<Extensions<'a>, Error> {
        Extensions::read("X", exts, &[], ours, &[], "X")
    }

    #[test]
    fn every_url_is_in_the_namespace_and_distinct() {
        let urls: Vec<&str> = ALL.to_vec();
        for u in &urls {
            assert!(is_ours(u), "{u}");
            assert!(u.len() > NAMESPACE.len(), "{u}");
        }
        let mut sorted = urls.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), urls.len());
        assert_eq!(BOOKABLE, "urn:gpconnect:fhir:extension:bookable");
    }

    #[test]
    fn booleans_default_and_read() {
        let exts = [ext(BOOKABLE, ExtensionValue::Boolean(true))];
        let e = read(&exts, &[BOOKABLE, SENSITIVE]).expect("read");
        assert_eq!(e.boolean_or(BOOKABLE, false), Ok(true));
        assert_eq!(e.boolean_or(SENSITIVE, false), Ok(false));
    }

    #[test]
    fn a_wrong_value_type_names_both_types() {
        let exts = [ext(BOOKABLE, ExtensionValue::String("yes".into()))];
        let e = read(&exts, &[BOOKABLE]).expect("read");
        let err = e.boolean_or(BOOKABLE, false).expect_err("wrong type");
        assert_eq!(
            err.diagnostics(),
            "X.extension[0]: urn:gpconnect:fhir:extension:bookable must have valueBoolean, not valueString"
        );
    }

    #[test]
    fn an_unknown_url_in_our_namespace_is_refused() {
        let exts = [ext(
            "urn:gpconnect:fhir:extension:bookabel",
            ExtensionValue::Boolean(true),
        )];
        let err = read(&exts, &[BOOKABLE]).expect_err("typo");
        assert!(
            err.diagnostics().starts_with(
                "X.extension[0]: \"urn:gpconnect:fhir:extension:bookabel\" is not an extension the importer reads on X"
            ),
            "{}",
            err.diagnostics()
        );
    }

    #[test]
    fn other_namespaces_are_left_alone() {
        let exts = [ext(
            "https://example.org/fhir/whatever",
            ExtensionValue::Boolean(true),
        )];
        assert!(read(&exts, &[]).is_ok());
    }

    #[test]
    fn ours_as_a_modifier_is_refused() {
        let m = [ext(SENSITIVE, ExtensionValue::Boolean(true))];
        let err = Extensions::read("X", &[], &m, &[SENSITIVE], &[], "X").expect_err("modifier");
        assert!(
            err.diagnostics().starts_with("X.modifierExtension[0]: "),
            "{}",
            err.diagnostics()
        );
    }

    #[test]
    fn a_repeated_single_extension_is_refused() {
        let exts = [
            ext(SENSITIVE, ExtensionValue::Boolean(true)),
            ext(SENSITIVE, ExtensionValue::Boolean(false)),
        ];
        let e = read(&exts, &[SENSITIVE]).expect("read");
        let err = e.boolean_or(SENSITIVE, false).expect_err("twice");
        assert_eq!(
            err.diagnostics(),
            "X.extension[1]: urn:gpconnect:fhir:extension:sensitive appears more than once (first at X.extension[0])"
        );
    }

    #[test]
    fn counts_must_not_be_negative() {
        let exts = [complex(
            BOOKING_WINDOW,
            vec![ext(MAX_DAYS_AHEAD, ExtensionValue::Integer(-1))],
        )];
        let e = read(&exts, &[BOOKING_WINDOW]).expect("read");
        let window = e.single(BOOKING_WINDOW).expect("single").expect("present");
        let subs = window
            .complex(&[MAX_DAYS_AHEAD, MIN_NOTICE_MINUTES])
            .expect("complex");
        assert_eq!(
            subs.count(MAX_DAYS_AHEAD)
                .expect_err("negative")
                .diagnostics(),
            "X.extension[0].extension[0]: maxDaysAhead must not be negative, found -1"
        );
    }

    #[test]
    fn complex_extensions_need_known_parts_and_no_value() {
        let exts = [
            complex(
                BOOKING_WINDOW,
                vec![ext("maxDays", ExtensionValue::Integer(1))],
            ),
            ext(BOOKING_WINDOW, ExtensionValue::Integer(1)),
        ];
        let e = read(&exts, &[BOOKING_WINDOW]).expect("read");
        let mut it = e.all(BOOKING_WINDOW);
        let unknown = it.next().expect("first");
        assert!(
            unknown
                .complex(&[MAX_DAYS_AHEAD])
                .expect_err("unknown part")
                .diagnostics()
                .starts_with("X.extension[0].extension[0]: \"maxDays\" is not a part of")
        );
        let valued = it.next().expect("second");
        assert_eq!(
            valued
                .complex(&[MAX_DAYS_AHEAD])
                .expect_err("value")
                .diagnostics(),
            "X.extension[1]: urn:gpconnect:fhir:extension:booking-window must have sub-extensions, not valueInteger"
        );
    }

    #[test]
    fn dates_must_be_full() {
        let partial = Date::new("2026-01").expect("date");
        let full = Date::new("2026-01-02").expect("date");
        let exts = [
            ext(DECEASED, ExtensionValue::Date(partial)),
            ext(DECEASED, ExtensionValue::Date(full)),
        ];
        let e = read(&exts, &[DECEASED]).expect("read");
        let mut it = e.all(DECEASED);
        assert!(it.next().expect("partial").full_date().is_err());
        assert_eq!(
            it.next().expect("full").full_date(),
            Ok(jiff::civil::date(2026, 1, 2))
        );
    }

    #[test]
    fn strip_removes_only_ours() {
        let mut exts = vec![
            ext(SENSITIVE, ExtensionValue::Boolean(true)),
            ext(
                "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2",
                ExtensionValue::Code(Code::from_static("In-person")),
            ),
        ];
        strip_ours(&mut exts);
        assert_eq!(exts.len(), 1);
        assert!(!is_ours(&exts[0].url));
    }
}
