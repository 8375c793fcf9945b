//! How PostgreSQL's failures become [`StoreError`]s, and the conversions
//! between the port's values and column values that can fail.

use gpconnect_core::store::StoreError;
use jiff::Timestamp;
use postgres::error::SqlState;

/// What went wrong inside a unit of work: an answer of the port (returned
/// as is, after rolling back), or a failure of the database or the pool.
#[derive(Debug)]
pub(crate) enum Fail {
    Store(StoreError),
    Pg(postgres::Error),
    Pool(r2d2::Error),
}

pub(crate) type R<T> = Result<T, Fail>;

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Self {
        Fail::Pg(e)
    }
}

impl From<r2d2::Error> for Fail {
    fn from(e: r2d2::Error) -> Self {
        Fail::Pool(e)
    }
}

/// A record the database holds that this build cannot read.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> Fail {
    Fail::Store(StoreError::Backend(format!(
        "PostgreSQL: unreadable stored record: {what}"
    )))
}

/// The SQLSTATE of a database error.
pub(crate) fn code(e: &postgres::Error) -> Option<&SqlState> {
    e.code()
}

/// A serialization failure or a deadlock: the transaction was rolled back
/// and can be run again from the start.
pub(crate) fn retryable(e: &postgres::Error) -> bool {
    matches!(
        code(e),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// The connection died (the server restarted or went away, or closed an
/// idle session) rather than the statement failing: nothing of an
/// uncommitted transaction on it remains, so it can be run again on
/// another connection.
pub(crate) fn connection_lost(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(c) = code(e) {
        // Class 08 (connection exception), 57P01-57P03 (the server is
        // shutting down, crashed, or starting up).
        return c.code().starts_with("08")
            || *c == SqlState::ADMIN_SHUTDOWN
            || *c == SqlState::CRASH_SHUTDOWN
            || *c == SqlState::CANNOT_CONNECT_NOW;
    }
    std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

/// `lock_timeout` expired waiting for a row another transaction holds.
pub(crate) fn lock_timeout(e: &postgres::Error) -> bool {
    code(e) == Some(&SqlState::LOCK_NOT_AVAILABLE)
}

/// A readable account of a database or connection failure (never the
/// connection string, which may hold a password).
pub(crate) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
            if let Some(detail) = db.detail() {
                s.push_str(" (");
                s.push_str(detail);
                s.push(')');
            }
            s
        }
        None if e.is_closed() => format!("the connection to the database was lost ({e})"),
        None => e.to_string(),
    }
}

/// The [`StoreError::Backend`] for a failure while doing `what`.
pub(crate) fn backend(what: &str, fail: Fail) -> StoreError {
    match fail {
        Fail::Store(e) => e,
        Fail::Pg(e) => StoreError::Backend(format!("PostgreSQL: {what}: {}", describe(&e))),
        Fail::Pool(e) => StoreError::Backend(format!(
            "PostgreSQL is unavailable: {what}: no connection could be had: {e}"
        )),
    }
}

/// A timestamp as nanoseconds since the Unix epoch, the form the range
/// columns hold (1677-09-21 to 2262-04-11).
pub(crate) fn nanos(t: Timestamp) -> Result<i64, StoreError> {
    i64::try_from(t.as_nanosecond()).map_err(|_| {
        StoreError::Rejected(format!(
            "{t} is outside the range the PostgreSQL backend stores (1677-09-21 to 2262-04-11)"
        ))
    })
}

/// The inverse of [`nanos`].
pub(crate) fn timestamp(ns: i64) -> R<Timestamp> {
    Timestamp::from_nanosecond(i128::from(ns)).map_err(|e| corrupt(format!("timestamp {ns}: {e}")))
}

/// `[from, to)` as inclusive bounds on the nanosecond columns, clamped to
/// what they can hold; `None` when no stored time can fall in it.
pub(crate) fn nanos_range(from: Timestamp, to: Timestamp) -> Option<(i64, i64)> {
    let (from, to) = (from.as_nanosecond(), to.as_nanosecond());
    let last = to - 1;
    if from > last || from > i128::from(i64::MAX) || last < i128::from(i64::MIN) {
        return None;
    }
    let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    Some((clamp(from), clamp(last)))
}

/// A version as stored (`bigint`); a version the store never assigned
/// (above `i64::MAX`) matches nothing.
pub(crate) fn stored_version(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(-1)
}

/// A stored version.
pub(crate) fn version(v: i64) -> R<u64> {
    u64::try_from(v).map_err(|_| corrupt(format!("negative version {v}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanosecond_columns_round_trip_and_refuse_what_they_cannot_hold() {
        let t: Timestamp = "2026-12-01T09:00:00.123456789Z".parse().expect("ts");
        let ns = nanos(t).expect("in range");
        assert_eq!(timestamp(ns).expect("back"), t);
        assert!(matches!(
            nanos("2300-01-01T00:00:00Z".parse().expect("ts")),
            Err(StoreError::Rejected(_))
        ));
    }

    #[test]
    fn ranges_are_half_open_and_clamped() {
        let t: Timestamp = "2026-12-01T09:00:00Z".parse().expect("ts");
        let ns = nanos(t).expect("ns");
        let one = jiff::SignedDuration::from_nanos(1);
        assert_eq!(nanos_range(t, t + one), Some((ns, ns)));
        assert_eq!(nanos_range(t, t), None);
        assert_eq!(nanos_range(t + one, t), None);
        assert_eq!(
            nanos_range(Timestamp::MIN, Timestamp::MAX),
            Some((i64::MIN, i64::MAX))
        );
        assert_eq!(nanos_range(Timestamp::MIN, t), Some((i64::MIN, ns - 1)));
        assert_eq!(
            nanos_range("2300-01-01T00:00:00Z".parse().expect("ts"), Timestamp::MAX),
            None
        );
    }

    #[test]
    fn versions_beyond_bigint_match_nothing() {
        assert_eq!(stored_version(7), 7);
        assert_eq!(stored_version(u64::MAX), -1);
        assert!(version(-1).is_err());
    }
}
