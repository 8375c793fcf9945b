//! gpconnect-render: the GP Connect Access Record HTML views (0.7.4).
//!
//! A leaf crate: a plain clinical-record model ([`record`]) goes in, one
//! line of XHTML for `Composition.section[0].text.div` comes out. It knows
//! nothing of FHIR or storage; the engine (`gpconnect-core`) fetches the
//! record, validates the request, and wraps the HTML in a Composition.
//!
//! - [`section::Section`]: the ten record sections (SUM … ADM) with their
//!   titles and whether they accept a `timePeriod` (accessrecord §1.4).
//! - [`record`]: what a host system fills in: encounters, problems,
//!   allergies, medications (with issues), referrals, observations,
//!   immunisations, administrative items and emergency codes.
//! - [`view`]: the render request (section, period, "today", banners) and
//!   options a provider configures.

pub mod record;
pub mod section;
pub mod view;

pub use record::ClinicalRecord;
pub use section::Section;
pub use section::Table;
pub use view::{DatePeriod, RenderOptions, RenderRequest};
