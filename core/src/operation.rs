//! What every GP Connect operation takes and gives, independent of
//! transport: the [`Context`] (store, practice, "now") in, an [`Answer`]
//! (status, body, the header values the spec requires) out. Operations are
//! functions over these, so the HTTP server and the C bindings share them.

use jiff::Timestamp;

use crate::error::SpecEdition;
use crate::store::{PracticeRecord, PracticeStore};

/// What an operation runs against.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The practice's data.
    pub store: &'a dyn PracticeStore,
    /// The practice addressed by the URL's ODS code.
    pub practice: &'a PracticeRecord,
    /// "Now", from the engine's clock.
    pub now: Timestamp,
    /// Which spec edition's spellings to use.
    pub edition: SpecEdition,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("practice", &self.practice.ods_code)
            .field("now", &self.now)
            .field("edition", &self.edition)
            .finish_non_exhaustive()
    }
}

impl Context<'_> {
    /// The practice's ODS code (every store call is scoped by it).
    pub fn ods(&self) -> &str {
        &self.practice.ods_code
    }
}

/// A successful answer: HTTP status, body, and what goes in `ETag`
/// (`W/"{version}"`), `Last-Modified` and `Location` (§2.3).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<T> {
    /// 200 or 201.
    pub status: u16,
    /// The resource.
    pub body: T,
    /// The version for `ETag` (read, create, update).
    pub version: Option<u64>,
    /// `Last-Modified` (create).
    pub last_modified: Option<Timestamp>,
    /// `Location` path relative to the service root (create):
    /// `Appointment/{id}/_history/{vid}`.
    pub location: Option<String>,
}

impl<T> Answer<T> {
    /// 200 with no headers beyond the defaults (searches).
    pub fn ok(body: T) -> Self {
        Answer {
            status: 200,
            body,
            version: None,
            last_modified: None,
            location: None,
        }
    }

    /// 200 with an ETag (reads, amend, cancel).
    pub fn versioned(body: T, version: u64) -> Self {
        Answer {
            version: Some(version),
            ..Answer::ok(body)
        }
    }
}
