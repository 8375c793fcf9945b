//! The records of a practice's appointment book, as the storage port speaks
//! them.
//!
//! Reference data (patients, practitioners, organisations, locations) is
//! held as the GP Connect FHIR resource, with the keys the port looks up by
//! lifted out beside it, so a store never parses FHIR. What the rules decide
//! on (slot times, status, bookability, restrictions, booking windows,
//! appointment status and slots) is typed domain data. Every record carries a
//! `version`: the store assigns it, and it is the `meta.versionId` / ETag
//! (R81).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::fhir::datatypes::Coding;
use crate::stu3;

/// A hosted practice: the routing key (ODS code), the ASID its endpoint
/// answers to (`Ssp-To`, R82), and the provider settings the profiles cannot
/// carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PracticeRecord {
    /// ODS code: the first path segment of the service root.
    pub ods_code: String,
    /// The endpoint's ASID (`Ssp-To` must equal it).
    pub asid: String,
    /// Id of the practice's own `Organization` (F8; `managingOrganization`).
    pub organization_id: String,
    /// Provider-only settings.
    pub settings: PracticeSettings,
    /// Store-assigned version.
    pub version: u64,
}

/// Provider-only settings of a practice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PracticeSettings {
    /// GP Connect switched on for the practice (R83; default off).
    pub gp_connect_enabled: bool,
    /// Appointment Management switched on (R83; default off).
    pub appointments_enabled: bool,
    /// Access Record HTML switched on (default off).
    pub access_record_enabled: bool,
    /// Default booking window for slots without their own (§4.2 item 4).
    pub booking_window: BookingWindow,
    /// Per-organisation limits on slots booked per day (R12).
    pub slot_limits: Vec<SlotCountLimit>,
    /// Access Record HTML settings.
    pub access_record: AccessRecordSettings,
}

/// Provider settings of Access Record HTML (accessrecord §1.6, §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecordSettings {
    /// A deceased patient's record stays visible for this many days after
    /// the date of death, the day of death being day 0: with 28, a patient
    /// who died on 1 March is visible up to and including 29 March, and
    /// 404 PATIENT_NOT_FOUND from 30 March (§1.6: 28 days, configurable).
    pub deceased_access_days: u32,
    /// What the provider configures about the views (Emergency Codes,
    /// optional banners).
    pub render: gpconnect_render::RenderOptions,
}

impl AccessRecordSettings {
    /// The §1.6 default window.
    pub const DEFAULT_DECEASED_ACCESS_DAYS: u32 = 28;
}

impl Default for AccessRecordSettings {
    fn default() -> Self {
        AccessRecordSettings {
            deceased_access_days: Self::DEFAULT_DECEASED_ACCESS_DAYS,
            render: gpconnect_render::RenderOptions::default(),
        }
    }
}

/// How far ahead a slot opens and how close to its start it closes
/// (§4.2 item 4, R12). `None` means no limit on that side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingWindow {
    /// A slot can be seen and booked only when it starts at most this many
    /// days from now.
    pub max_days_ahead: Option<u32>,
    /// A slot can be seen and booked only when it starts at least this many
    /// minutes from now.
    pub min_notice_minutes: Option<u32>,
}

/// Which booking organisations a [`SlotCountLimit`] counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrganisationMatch {
    /// One organisation, by ODS code.
    OdsCode(String),
    /// Every organisation of a type (`gp-practice`, `urgent-care`).
    OrganisationType(String),
}

/// At most `max_slots_per_day` slots starting on one (UK) day may be held by
/// the organisations `applies_to` matches (R12 "organisational slot-count
/// limit").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotCountLimit {
    /// Who is counted.
    pub applies_to: OrganisationMatch,
    /// The limit.
    pub max_slots_per_day: u32,
}

/// A practice's `Organization` (F7/F8; the booking organisation is not one
/// of these, it is contained in the appointment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationRecord {
    /// Logical id.
    pub id: String,
    /// Store-assigned version.
    pub version: u64,
    /// ODS code (F7 find key).
    pub ods_code: String,
    /// The resource (CareConnect-GPC-Organization-1).
    pub resource: stu3::Organization,
}

/// A surgery (F9; `Schedule.actor`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationRecord {
    /// Logical id.
    pub id: String,
    /// Store-assigned version.
    pub version: u64,
    /// The resource (CareConnect-GPC-Location-1).
    pub resource: stu3::Location,
}

/// A practitioner (F5/F6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PractitionerRecord {
    /// Logical id.
    pub id: String,
    /// Store-assigned version.
    pub version: u64,
    /// SDS user ids (F5 find key).
    pub sds_user_ids: Vec<String>,
    /// The resource (CareConnect-GPC-Practitioner-1).
    pub resource: stu3::Practitioner,
}

/// Whether a patient is registered at the practice (F2 "active" = not left,
/// not deceased).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RegistrationStatus {
    /// Registered.
    #[default]
    Active,
    /// Left the practice (or never completed registration).
    Inactive,
}

/// The kind of registration (F4 creates or re-activates only temporary ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RegistrationType {
    /// GMS / regular.
    #[default]
    Regular,
    /// Temporary (code `T`).
    Temporary,
    /// Any other local type.
    Other,
}

/// Provider facts about a patient that the FHIR resource does not carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientFlags {
    /// Registered or left.
    pub registration: RegistrationStatus,
    /// GMS, temporary, other.
    pub registration_type: RegistrationType,
    /// Date of death, when deceased (F2, F4; Access Record 28-day rule).
    pub deceased: Option<jiff::civil::Date>,
    /// PDS sensitive (S-flag): hidden from every interaction (R25, R60–R62).
    pub sensitive: bool,
    /// NHS number traced and verified on PDS (F2).
    pub nhs_number_verified: bool,
    /// Dissent from sharing the record (Access Record only; never appointments, R24).
    pub dissent: bool,
    /// The record is in transit after a GP2GP transfer (not yet fully
    /// integrated): the date the patient registered at this practice, which
    /// the Access Record `gptransfer-banner` shows ("information recorded
    /// before dd-Mmm-yyyy may be missing"). `None`: the record is complete.
    pub record_in_transit: Option<jiff::civil::Date>,
}

/// A patient of the practice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientRecord {
    /// Logical id.
    pub id: String,
    /// Store-assigned version.
    pub version: u64,
    /// NHS number (F2 find key).
    pub nhs_number: String,
    /// Demographics (CareConnect-GPC-Patient-1).
    pub resource: stu3::Patient,
    /// Provider facts.
    pub flags: PatientFlags,
}

/// A schedule (GPConnect-Schedule-1): whose diary, where, and its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    /// Logical id.
    pub id: String,
    /// Store-assigned version.
    pub version: u64,
    /// The surgery where its appointments take place (mandatory actor).
    pub location_id: String,
    /// The practitioner whose diary it is, if any.
    pub practitioner_id: Option<String>,
    /// Practitioner role (CareConnect-SDSJobRoleName-1), mandatory for
    /// bookable schedules (§4.3).
    pub practitioner_role: Option<Coding>,
    /// Schedule type (session or rota name): `serviceCategory.text`.
    pub schedule_type: Option<String>,
    /// `planningHorizon.start`.
    pub planning_horizon_start: Timestamp,
    /// `planningHorizon.end`.
    pub planning_horizon_end: Option<Timestamp>,
}

/// Whether a slot can take a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SlotStatus {
    /// Free to book.
    #[default]
    Free,
    /// Booked (by GP Connect or the practice's own system).
    Busy,
}

/// Who a slot is reserved for (§4.2 restriction table). Empty lists mean no
/// restriction of that kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotRestrictions {
    /// Organisation types allowed (TypeR).
    pub organisation_types: Vec<String>,
    /// ODS codes allowed (OdsR).
    pub ods_codes: Vec<String>,
}

/// The delivery channel code of a Slot that can never be booked (1.2.9).
pub const DELIVERY_CHANNEL_VISIT: &str = "Visit";

/// A slot in a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotRecord {
    /// Logical id.
    pub id: String,
    /// Store-assigned version (changes when the slot is booked or freed).
    pub version: u64,
    /// The schedule it belongs to.
    pub schedule_id: String,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// Free or busy.
    pub status: SlotStatus,
    /// The appointment holding it, when booked through this engine.
    pub appointment_id: Option<String>,
    /// Delivery channel code: `In-person`, `Telephone`, `Video` or `Visit`.
    pub delivery_channel: String,
    /// Slot type: `serviceType[0].text` (SHALL, §4.3).
    pub service_type: String,
    /// Marked "GP Connect bookable" by the practice (§4.2 item 3).
    pub bookable: bool,
    /// Who may book it.
    pub restrictions: SlotRestrictions,
    /// Overrides the practice's default booking window.
    pub booking_window: Option<BookingWindow>,
}

/// Booked or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppointmentStatus {
    /// `booked`.
    Booked,
    /// `cancelled`.
    Cancelled,
}

/// An appointment.
///
/// `resource` is the Appointment as the consumer booked it (and amended or
/// cancelled it), minus what the provider populates on every response
/// (`id`, `meta`, `serviceType`, `serviceCategory`, the practitioner-role
/// and delivery-channel extensions, the Practitioner participant: R18, R49),
/// so responses reflect the
/// current schedule and amend/cancel can compare what the consumer sent
/// with what is stored (R26, R36).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppointmentRecord {
    /// Logical id (store-assigned on book).
    pub id: String,
    /// Store-assigned version.
    pub version: u64,
    /// Booked or cancelled.
    pub status: AppointmentStatus,
    /// The patient.
    pub patient_id: String,
    /// The slots it holds (or held, once cancelled), in time order.
    pub slot_ids: Vec<String>,
    /// Start (the first slot's start, R13).
    pub start: Timestamp,
    /// End (the last slot's end, R13).
    pub end: Timestamp,
    /// ODS code of the booking organisation, when it sent one.
    pub booking_ods: Option<String>,
    /// Slot-count limit counters this booking counts against (R12); a
    /// cancel releases them.
    pub limit_keys: Vec<String>,
    /// When the record last changed (`Last-Modified`).
    pub last_modified: Timestamp,
    /// The consumer's resource (see the type docs).
    pub resource: stu3::Appointment,
}
