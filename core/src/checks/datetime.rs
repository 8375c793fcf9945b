//! FHIR dates and times, search prefixes and the date rules of GP Connect,
//! evaluated in UK local time.
//!
//! * Lexical validators for the FHIR primitives `date`, `dateTime`,
//!   `instant` and `time` ([`is_valid_date`] and friends). They run on every
//!   parsed resource, so they work on bytes and never allocate.
//! * Precision-aware values: [`PartialDate`] and [`FhirDateTime`].
//! * Search prefixes ([`SearchPrefix`], [`split_prefix`]).
//! * The request rules: slot search bounds (appointments digest §4.1/§4.2),
//!   retrieve-appointments ranges (R50–R53) and the Access Record
//!   `timePeriod` (accessrecord digest §1.4).
//! * UK local time for output (R18): [`uk_local`], [`format_uk_local`],
//!   [`uk_today`].
//!
//! UK local time always comes from the `Europe/London` zone of the tz
//! database bundled into the binary, never from hand-written BST rules, and
//! never from the host's clock or zone: the current time is always a
//! parameter so rules are deterministic and testable.
//!
//! Every failure is an [`Error`]; request-parameter failures are
//! 422 `INVALID_PARAMETER` (digest §4.1, R50–R53, accessrecord §4). Values
//! echoed in diagnostics are quoted and cut to 40 characters.

use std::fmt;
use std::sync::OnceLock;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ToSpan, ZonedDateTime};

use crate::error::{Echo, Error};

// ---------------------------------------------------------------------------
// Lexer: one byte-level pass shared by the validators and the parsers, so the
// two can never disagree about what is well formed.
// ---------------------------------------------------------------------------

/// Why a value is not a well-formed FHIR date/dateTime/time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Malformed {
    Syntax,
    NotACalendarDate,
    TimeOutOfRange,
    OffsetOutOfRange,
    MissingOffset,
    OutOfSupportedRange,
}

impl Malformed {
    fn describe(self) -> &'static str {
        match self {
            Malformed::Syntax => {
                "expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss(.sss)(Z|+hh:mm|-hh:mm)"
            }
            Malformed::NotACalendarDate => "it is not a valid calendar date",
            Malformed::TimeOutOfRange => "it is not a valid time of day",
            Malformed::OffsetOutOfRange => {
                "its time-zone offset is out of range (Z or -14:00 to +14:00)"
            }
            Malformed::MissingOffset => "it has a time but no time-zone offset",
            Malformed::OutOfSupportedRange => "it is outside the supported range of dates",
        }
    }
}

/// A lexed time-zone designator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LexedOffset {
    Absent,
    Z,
    /// Seconds east of UTC; `negative_zero` keeps `-00:00` apart from `+00:00`.
    Fixed {
        seconds: i32,
        negative_zero: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LexedTime {
    hour: i8,
    minute: i8,
    /// `0..=60`: FHIR's lexical space admits a leap second.
    second: i8,
    nanosecond: i32,
    fraction_digits: usize,
    offset: LexedOffset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lexed {
    year: i16,
    month: Option<i8>,
    day: Option<i8>,
    time: Option<LexedTime>,
}

fn digit(b: &[u8], i: usize) -> Option<u8> {
    match b.get(i) {
        Some(c @ b'0'..=b'9') => Some(c - b'0'),
        _ => None,
    }
}

/// Two ASCII digits at `i` as `0..=99`.
fn two_digits(b: &[u8], i: usize) -> Option<i8> {
    let v = digit(b, i)? * 10 + digit(b, i + 1)?;
    i8::try_from(v).ok()
}

fn expect_byte(b: &[u8], i: usize, want: u8) -> Result<(), Malformed> {
    if b.get(i) == Some(&want) {
        Ok(())
    } else {
        Err(Malformed::Syntax)
    }
}

fn is_leap_year(year: i16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i16, month: i8) -> i8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `hh:mm:ss(.s+)?` starting at `start`; returns the time (offset absent)
/// and the index after it.
fn lex_time(b: &[u8], start: usize) -> Result<(LexedTime, usize), Malformed> {
    let hour = two_digits(b, start).ok_or(Malformed::Syntax)?;
    expect_byte(b, start + 2, b':')?;
    let minute = two_digits(b, start + 3).ok_or(Malformed::Syntax)?;
    expect_byte(b, start + 5, b':')?;
    let second = two_digits(b, start + 6).ok_or(Malformed::Syntax)?;
    let mut i = start + 8;
    let mut nanosecond: i32 = 0;
    let mut fraction_digits = 0usize;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while let Some(d) = digit(b, i) {
            // Keep nanosecond precision; further digits are valid FHIR but
            // below what a timestamp can hold, so they are truncated.
            if fraction_digits < 9 {
                nanosecond = nanosecond * 10 + i32::from(d);
            }
            fraction_digits += 1;
            i += 1;
        }
        if fraction_digits == 0 {
            return Err(Malformed::Syntax);
        }
        for _ in fraction_digits..9 {
            nanosecond *= 10;
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(Malformed::TimeOutOfRange);
    }
    let time = LexedTime {
        hour,
        minute,
        second,
        nanosecond,
        fraction_digits,
        offset: LexedOffset::Absent,
    };
    Ok((time, i))
}

/// The rest of the value from `i`: nothing, `Z`, or `±hh:mm` within ±14:00
/// (the FHIR R4 regex: hours 00–13 with any minutes, or exactly 14:00).
fn lex_offset(b: &[u8], i: usize) -> Result<LexedOffset, Malformed> {
    match b.get(i) {
        None => Ok(LexedOffset::Absent),
        Some(b'Z') if b.len() == i + 1 => Ok(LexedOffset::Z),
        Some(&sign @ (b'+' | b'-')) => {
            let hours = two_digits(b, i + 1).ok_or(Malformed::Syntax)?;
            expect_byte(b, i + 3, b':')?;
            let minutes = two_digits(b, i + 4).ok_or(Malformed::Syntax)?;
            if b.len() != i + 6 {
                return Err(Malformed::Syntax);
            }
            if !((hours <= 13 && minutes <= 59) || (hours == 14 && minutes == 0)) {
                return Err(Malformed::OffsetOutOfRange);
            }
            let magnitude = i32::from(hours) * 3600 + i32::from(minutes) * 60;
            Ok(LexedOffset::Fixed {
                seconds: if sign == b'-' { -magnitude } else { magnitude },
                negative_zero: sign == b'-' && magnitude == 0,
            })
        }
        Some(_) => Err(Malformed::Syntax),
    }
}

/// Lex a FHIR `date` or `dateTime`. Year 0000 is excluded and dates must
/// exist in the calendar, as the FHIR R4 regex and "SHALL be valid dates"
/// require. A missing offset is *not* an error here; callers decide.
fn lex(value: &str) -> Result<Lexed, Malformed> {
    let b = value.as_bytes();
    let mut year: i16 = 0;
    for i in 0..4 {
        year = year * 10 + i16::from(digit(b, i).ok_or(Malformed::Syntax)?);
    }
    let mut lexed = Lexed {
        year,
        month: None,
        day: None,
        time: None,
    };
    if b.len() == 4 {
        return if year == 0 {
            Err(Malformed::NotACalendarDate)
        } else {
            Ok(lexed)
        };
    }
    expect_byte(b, 4, b'-')?;
    let month = two_digits(b, 5).ok_or(Malformed::Syntax)?;
    if b.len() > 7 {
        expect_byte(b, 7, b'-')?;
        lexed.day = Some(two_digits(b, 8).ok_or(Malformed::Syntax)?);
    }
    if b.len() > 10 {
        expect_byte(b, 10, b'T')?;
        let (mut time, end) = lex_time(b, 11)?;
        time.offset = lex_offset(b, end)?;
        lexed.time = Some(time);
    }
    // Calendar checks come after the syntax so "2016-13-01x" reports syntax.
    if year == 0 || !(1..=12).contains(&month) {
        return Err(Malformed::NotACalendarDate);
    }
    if let Some(day) = lexed.day {
        if day < 1 || day > days_in_month(year, month) {
            return Err(Malformed::NotACalendarDate);
        }
    }
    lexed.month = Some(month);
    Ok(lexed)
}

// ---------------------------------------------------------------------------
// Lexical validators for the FHIR primitive types.
// ---------------------------------------------------------------------------

/// FHIR `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, a real calendar date,
/// year 0001–9999. Allocation-free.
pub fn is_valid_date(value: &str) -> bool {
    matches!(lex(value), Ok(Lexed { time: None, .. }))
}

/// FHIR `dateTime`: a `date`, or a full date with
/// `Thh:mm:ss(.s+)` and a mandatory `Z`/`±hh:mm` offset (FHIR: "if hours and
/// minutes are specified, a time zone SHALL be populated"). Allocation-free.
pub fn is_valid_date_time(value: &str) -> bool {
    match lex(value) {
        Ok(Lexed { time: None, .. }) => true,
        Ok(Lexed { time: Some(t), .. }) => t.offset != LexedOffset::Absent,
        Err(_) => false,
    }
}

/// FHIR `instant`: always full precision (date, time to the second) and an
/// offset; no partial forms. Allocation-free.
pub fn is_valid_instant(value: &str) -> bool {
    matches!(lex(value), Ok(Lexed { time: Some(t), .. }) if t.offset != LexedOffset::Absent)
}

/// FHIR `time`: `hh:mm:ss(.s+)`, no offset (a time of day, not an instant).
/// Allocation-free.
pub fn is_valid_time(value: &str) -> bool {
    matches!(lex_time(value.as_bytes(), 0), Ok((_, end)) if end == value.len())
}

// ---------------------------------------------------------------------------
// Diagnostics helpers.
// ---------------------------------------------------------------------------

fn out_of_range(what: &str, value: &str) -> Error {
    Error::invalid_parameter(format!(
        "{what} {} is not a valid date: {}",
        Echo(value),
        Malformed::OutOfSupportedRange.describe()
    ))
}

// ---------------------------------------------------------------------------
// Precision-aware values.
// ---------------------------------------------------------------------------

/// A FHIR `date` with its precision kept, because a partial date denotes a
/// whole period (accessrecord §1.4: `2016` ends on 31-Dec-2016).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartialDate {
    /// `YYYY`
    Year(i16),
    /// `YYYY-MM`
    YearMonth(i16, i8),
    /// `YYYY-MM-DD`
    Date(Date),
}

impl PartialDate {
    /// Parse a FHIR `date` (no time allowed).
    ///
    /// # Errors
    /// 422 `INVALID_PARAMETER` when the value is not a FHIR `date`.
    pub fn parse(value: &str) -> Result<PartialDate, Error> {
        let bad = |m: Malformed| {
            Error::invalid_parameter(format!(
                "{} is not a valid FHIR date: {}",
                Echo(value),
                m.describe()
            ))
        };
        let lexed = lex(value).map_err(bad)?;
        if lexed.time.is_some() {
            return Err(Error::invalid_parameter(format!(
                "{} is not a valid FHIR date: a date has no time component",
                Echo(value)
            )));
        }
        partial_from_lexed(&lexed).ok_or_else(|| out_of_range("Value", value))
    }

    /// The first day of the period the value denotes (`2014-05` → 2014-05-01).
    ///
    /// # Errors
    /// 422 `INVALID_PARAMETER` if the variant was built with an impossible
    /// year or month (parsed values never are).
    pub fn first_day(self) -> Result<Date, Error> {
        let date = match self {
            PartialDate::Year(y) => Date::new(y, 1, 1),
            PartialDate::YearMonth(y, m) => Date::new(y, m, 1),
            PartialDate::Date(d) => return Ok(d),
        };
        date.map_err(|_| Error::invalid_parameter(format!("{self} is not a valid date")))
    }

    /// The last day of the period the value denotes (`2016-02` → 2016-02-29,
    /// `2016` → 2016-12-31), so an end bound includes the whole period.
    ///
    /// # Errors
    /// As [`PartialDate::first_day`].
    pub fn last_day(self) -> Result<Date, Error> {
        match self {
            PartialDate::Year(y) => Date::new(y, 12, 31)
                .map_err(|_| Error::invalid_parameter(format!("{self} is not a valid date"))),
            PartialDate::YearMonth(..) => Ok(self.first_day()?.last_of_month()),
            PartialDate::Date(d) => Ok(d),
        }
    }

    /// Whether the value carries a day (a full `YYYY-MM-DD`).
    pub fn is_full_date(self) -> bool {
        matches!(self, PartialDate::Date(_))
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartialDate::Year(y) => write!(f, "{y:04}"),
            PartialDate::YearMonth(y, m) => write!(f, "{y:04}-{m:02}"),
            PartialDate::Date(d) => write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
        }
    }
}

fn partial_from_lexed(lexed: &Lexed) -> Option<PartialDate> {
    Some(match (lexed.month, lexed.day) {
        (None, _) => PartialDate::Year(lexed.year),
        (Some(m), None) => PartialDate::YearMonth(lexed.year, m),
        (Some(m), Some(d)) => PartialDate::Date(Date::new(lexed.year, m, d).ok()?),
    })
}

/// A FHIR `dateTime`: either a (partial) date, or an exact instant together
/// with the offset it was written in (kept so values can be echoed as sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FhirDateTime {
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    Partial(PartialDate),
    /// `YYYY-MM-DDThh:mm:ss(.sss)(Z|±hh:mm)`; `Z` is kept as offset zero.
    DateTime {
        /// The instant.
        timestamp: Timestamp,
        /// The offset the value was written with.
        offset: Offset,
    },
}

impl FhirDateTime {
    /// Parse a FHIR `dateTime`. A leap second (`:60`) is accepted, as FHIR's
    /// lexical space allows, and read as `:59` (timestamps have no leap
    /// seconds); fraction digits beyond nanoseconds are truncated.
    ///
    /// # Errors
    /// 422 `INVALID_PARAMETER` when the value is not a FHIR `dateTime`
    /// (including a time without an offset) or is outside the supported range.
    /// Resource codecs that want `INVALID_RESOURCE` should use
    /// [`is_valid_date_time`] and raise their own error.
    pub fn parse(value: &str) -> Result<FhirDateTime, Error> {
        parse_date_time(value).map_err(|m| {
            Error::invalid_parameter(format!(
                "{} is not a valid FHIR dateTime: {}",
                Echo(value),
                m.describe()
            ))
        })
    }

    /// The date-time in its own offset, for the `DateTime` variant.
    pub fn to_zoned(&self) -> Option<ZonedDateTime> {
        match *self {
            FhirDateTime::Partial(_) => None,
            FhirDateTime::DateTime { timestamp, offset } => {
                Some(timestamp.to_zoned_datetime(offset.to_time_zone()))
            }
        }
    }
}

impl fmt::Display for FhirDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FhirDateTime::Partial(p) => p.fmt(f),
            FhirDateTime::DateTime { timestamp, offset } => {
                write_with_offset(f, timestamp, offset, true)
            }
        }
    }
}

fn parse_date_time(value: &str) -> Result<FhirDateTime, Malformed> {
    let lexed = lex(value)?;
    match lexed.time {
        None => partial_from_lexed(&lexed)
            .map(FhirDateTime::Partial)
            .ok_or(Malformed::OutOfSupportedRange),
        Some(t) => {
            let offset_seconds = match t.offset {
                LexedOffset::Absent => return Err(Malformed::MissingOffset),
                LexedOffset::Z => 0,
                LexedOffset::Fixed { seconds, .. } => seconds,
            };
            let (timestamp, offset) = instant_from_lexed(&lexed, &t, offset_seconds)
                .ok_or(Malformed::OutOfSupportedRange)?;
            Ok(FhirDateTime::DateTime { timestamp, offset })
        }
    }
}

fn instant_from_lexed(
    lexed: &Lexed,
    t: &LexedTime,
    offset_seconds: i32,
) -> Option<(Timestamp, Offset)> {
    let dt = DateTime::new(
        lexed.year,
        lexed.month?,
        lexed.day?,
        t.hour,
        t.minute,
        t.second.min(59),
        t.nanosecond,
    )
    .ok()?;
    let offset = Offset::from_seconds(offset_seconds).ok()?;
    Some((offset.to_timestamp(dt).ok()?, offset))
}

/// Write `yyyy-mm-ddThh:mm:ss[.f]±hh:mm`. An offset that is not whole
/// minutes (London's pre-1847 LMT, −00:01:15) cannot be written as `±hh:mm`,
/// so the instant is written in UTC instead: the text must never denote a
/// different instant.
fn write_with_offset(
    out: &mut impl fmt::Write,
    timestamp: Timestamp,
    offset: Offset,
    with_fraction: bool,
) -> fmt::Result {
    let offset = if offset.seconds() % 60 == 0 {
        offset
    } else {
        Offset::UTC
    };
    let dt = offset.to_datetime(timestamp);
    write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )?;
    let nanos = dt.subsec_nanosecond();
    if with_fraction && nanos != 0 {
        let mut digits = 9;
        let mut n = nanos;
        while n % 10 == 0 {
            n /= 10;
            digits -= 1;
        }
        write!(out, ".{n:0digits$}")?;
    }
    let total = offset.seconds();
    let sign = if total < 0 { '-' } else { '+' };
    let minutes = total.unsigned_abs() / 60;
    write!(out, "{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

// ---------------------------------------------------------------------------
// Search prefixes.
// ---------------------------------------------------------------------------

/// The FHIR search comparison prefixes (`ge2026-03-20`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchPrefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

impl SearchPrefix {
    /// Every prefix, in FHIR's order.
    pub const ALL: [SearchPrefix; 9] = [
        SearchPrefix::Eq,
        SearchPrefix::Ne,
        SearchPrefix::Gt,
        SearchPrefix::Lt,
        SearchPrefix::Ge,
        SearchPrefix::Le,
        SearchPrefix::Sa,
        SearchPrefix::Eb,
        SearchPrefix::Ap,
    ];

    /// The two-letter code, e.g. `ge`.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchPrefix::Eq => "eq",
            SearchPrefix::Ne => "ne",
            SearchPrefix::Gt => "gt",
            SearchPrefix::Lt => "lt",
            SearchPrefix::Ge => "ge",
            SearchPrefix::Le => "le",
            SearchPrefix::Sa => "sa",
            SearchPrefix::Eb => "eb",
            SearchPrefix::Ap => "ap",
        }
    }

    /// The prefix for an exact, case-sensitive two-letter code.
    pub fn from_code(code: &str) -> Option<SearchPrefix> {
        SearchPrefix::ALL.into_iter().find(|p| p.as_str() == code)
    }
}

impl fmt::Display for SearchPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Split a search value into its prefix and the rest.
///
/// FHIR prefixes are exactly two lowercase letters, and no date or number
/// starts with a letter, so:
/// * known prefix → `(Some(prefix), rest)`;
/// * no prefix (`2026-03-20`, `GE2026-…`) → `(None, value)`;
/// * two lowercase letters that are not a prefix (`xx2026-…`) →
///   `(None, value)` with the letters *left in*. The rest then fails any
///   date/number parse, which is the error path: callers reject the value
///   (422) without a separate branch. Use [`try_split_prefix`] to report the
///   unknown prefix itself.
pub fn split_prefix(value: &str) -> (Option<SearchPrefix>, &str) {
    match value.as_bytes() {
        [a, b, ..] if a.is_ascii_lowercase() && b.is_ascii_lowercase() => {
            match (
                value.get(..2).and_then(SearchPrefix::from_code),
                value.get(2..),
            ) {
                (Some(prefix), Some(rest)) => (Some(prefix), rest),
                _ => (None, value),
            }
        }
        _ => (None, value),
    }
}

/// Like [`split_prefix`], but two leading lowercase letters that are not a
/// FHIR prefix are an error.
///
/// # Errors
/// 422 `INVALID_PARAMETER` naming the unknown prefix.
pub fn try_split_prefix(value: &str) -> Result<(Option<SearchPrefix>, &str), Error> {
    let split = split_prefix(value);
    if split.0.is_none() && starts_with_two_lowercase(value) {
        return Err(Error::invalid_parameter(format!(
            "{} has an unknown search prefix {}",
            Echo(value),
            Echo(value.get(..2).unwrap_or_default())
        )));
    }
    Ok(split)
}

fn starts_with_two_lowercase(value: &str) -> bool {
    matches!(value.as_bytes(), [a, b, ..] if a.is_ascii_lowercase() && b.is_ascii_lowercase())
}

// ---------------------------------------------------------------------------
// UK local time.
// ---------------------------------------------------------------------------

/// `Europe/London` from the bundled tz database, looked up once.
fn uk_zone() -> Result<&'static TimeZone, Error> {
    static ZONE: OnceLock<Option<TimeZone>> = OnceLock::new();
    ZONE.get_or_init(|| TimeZone::get("Europe/London").ok())
        .as_ref()
        .ok_or_else(|| Error::internal("the bundled time zone database has no Europe/London zone"))
}

/// The `Europe/London` zone GP Connect's "UK local time" means.
///
/// # Errors
/// 500 `INTERNAL_SERVER_ERROR` only if the crate was built without the
/// bundled tz database (a test guards against that).
pub fn uk_time_zone() -> Result<TimeZone, Error> {
    uk_zone().cloned()
}

/// `ts` on the UK wall clock (GMT or BST as the tz database says).
///
/// Infallible for callers' convenience: the zone is compiled in. Were it
/// missing, the result would be in jiff's `Etc/Unknown` (UTC) zone, which is
/// visible in the zone name; the `bundled_tzdb_has_europe_london` test makes
/// that a build failure rather than a runtime surprise.
pub fn uk_local(ts: Timestamp) -> ZonedDateTime {
    let tz = uk_zone().cloned().unwrap_or_else(|_| TimeZone::unknown());
    ts.to_zoned_datetime(tz)
}

/// `ts` as `yyyy-mm-ddThh:mm:ss+hh:mm` in UK local time (R18: `start`, `end`
/// and `created` carry the local offset, never `Z`). Sub-second digits are
/// dropped (truncated) because the R18 format has none.
pub fn format_uk_local(ts: Timestamp) -> String {
    // Hot path (every slot of a search, every appointment response): look up
    // the offset only, and write digits without `fmt` machinery.
    let offset = match uk_zone() {
        Ok(tz) => tz.to_offset(ts),
        Err(_) => Offset::UTC,
    };
    let offset = if offset.seconds() % 60 == 0 {
        offset
    } else {
        Offset::UTC
    };
    let dt = offset.to_datetime(ts);
    let year = dt.year();
    if !(0..=9999).contains(&year) {
        let mut out = String::with_capacity(25);
        // Writing to a String cannot fail.
        let _ = write_with_offset(&mut out, ts, offset, false);
        return out;
    }
    let mut buf = *b"0000-00-00T00:00:00+00:00";
    let put = |buf: &mut [u8; 25], at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (0..width).rev() {
            buf[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(&mut buf, 0, year as u32, 4);
    put(&mut buf, 5, dt.month() as u32, 2);
    put(&mut buf, 8, dt.day() as u32, 2);
    put(&mut buf, 11, dt.hour() as u32, 2);
    put(&mut buf, 14, dt.minute() as u32, 2);
    put(&mut buf, 17, dt.second() as u32, 2);
    let total = offset.seconds();
    if total < 0 {
        buf[19] = b'-';
    }
    let minutes = total.unsigned_abs() / 60;
    put(&mut buf, 20, minutes / 60, 2);
    put(&mut buf, 23, minutes % 60, 2);
    // Only ASCII digits and separators were written.
    String::from_utf8_lossy(&buf).into_owned()
}

/// Today's date on the UK wall clock at `now` (so 23:30 UTC on 30 June is
/// already 1 July in BST).
pub fn uk_today(now: Timestamp) -> Date {
    uk_local(now).date()
}

/// The instant 00:00 UK local time begins on `date`.
///
/// # Errors
/// 422 `INVALID_PARAMETER` at the very ends of the supported range; 500 if
/// the tz database is missing.
pub fn uk_start_of_day(date: Date) -> Result<Timestamp, Error> {
    uk_zone()?
        .to_timestamp(date.to_datetime(Time::midnight()))
        .map_err(|_| Error::invalid_parameter(format!("{date} is outside the supported range")))
}

/// The half-open instant range `[first 00:00, (last + 1 day) 00:00)` in UK
/// local time covering the inclusive day range `first..=last` (e.g. for R54:
/// appointments whose start falls on those days). DST days are 23 or 25 hours
/// long, which is why this is computed per zone and not as `24h × days`.
///
/// # Errors
/// As [`uk_start_of_day`].
pub fn uk_day_range(first: Date, last: Date) -> Result<(Timestamp, Timestamp), Error> {
    let after_last = last
        .tomorrow()
        .map_err(|_| Error::invalid_parameter(format!("{last} is outside the supported range")))?;
    Ok((uk_start_of_day(first)?, uk_start_of_day(after_last)?))
}

// ---------------------------------------------------------------------------
// Slot search (appointments digest §4.1, §4.2).
// ---------------------------------------------------------------------------

/// One bound of a slot search, as sent: a full date, or a UK local date-time
/// with offset `+00:00` or `+01:00` (digest §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlotBound {
    /// `yyyy-mm-dd`: a whole UK day (§4.2 rule 2, \[REC\]).
    Date(Date),
    /// `yyyy-mm-ddThh:mm:ss+00:00` or `+01:00`.
    DateTime {
        /// The instant.
        timestamp: Timestamp,
        /// `+00:00` or `+01:00`, as sent.
        offset: Offset,
    },
}

impl SlotBound {
    /// The first instant covered when this is the `ge` (start) bound: a
    /// date means 00:00 UK local time on that day.
    ///
    /// # Errors
    /// As [`uk_start_of_day`].
    pub fn start_instant(&self) -> Result<Timestamp, Error> {
        match *self {
            SlotBound::Date(d) => uk_start_of_day(d),
            SlotBound::DateTime { timestamp, .. } => Ok(timestamp),
        }
    }

    /// The exclusive end when this is the `le` (end) bound: a date means up
    /// to the end of that UK day, i.e. 00:00 UK local on the next day
    /// (exclusive), so a slot ending at midnight is included; a date-time is
    /// the instant itself, which a slot's end may equal (`slot.end <= end`).
    ///
    /// # Errors
    /// As [`uk_start_of_day`].
    pub fn end_instant_exclusive(&self) -> Result<Timestamp, Error> {
        match *self {
            SlotBound::Date(d) => Ok(uk_day_range(d, d)?.1),
            SlotBound::DateTime { timestamp, .. } => Ok(timestamp),
        }
    }

    /// The bound as written, on the UK wall clock (a date is its 00:00).
    fn uk_wall_clock(&self, tz: &TimeZone) -> DateTime {
        match *self {
            SlotBound::Date(d) => d.to_datetime(Time::midnight()),
            SlotBound::DateTime { timestamp, .. } => tz.to_datetime(timestamp),
        }
    }
}

fn slot_param_name(expected: SearchPrefix) -> &'static str {
    match expected {
        SearchPrefix::Ge => "start",
        SearchPrefix::Le => "end",
        _ => "date",
    }
}

/// Parse one slot search value (`start=ge…` or `end=le…`, digest §4.1).
///
/// The value must carry exactly `expected` as its prefix; a missing, wrong
/// (`lt`, `gt`, `eq`, `ne`, …) or unknown prefix is 422. The date must be a
/// full `yyyy-mm-dd`, or `yyyy-mm-ddThh:mm:ss` with offset `+00:00` or
/// `+01:00` exactly as the spec writes it: no fractional seconds, no `Z`, no
/// missing offset, no other offset. The offset is not required to match the
/// one in force in London on that date, because the instant is unambiguous
/// either way and rejecting it would only hurt interoperability.
///
/// # Errors
/// 422 `INVALID_PARAMETER` with diagnostics naming the parameter.
pub fn parse_slot_search_bound(
    param_value: &str,
    expected: SearchPrefix,
) -> Result<SlotBound, Error> {
    let name = slot_param_name(expected);
    let invalid = |why: &str| {
        Error::invalid_parameter(format!(
            "Slot search parameter '{name}' value {} is invalid: {why}",
            Echo(param_value)
        ))
    };
    let value = match split_prefix(param_value) {
        (Some(p), rest) if p == expected => rest,
        (Some(p), _) => {
            return Err(invalid(&format!(
                "'{name}' must use the '{expected}' prefix, not '{p}'"
            )));
        }
        (None, _) if starts_with_two_lowercase(param_value) => {
            return Err(invalid(&format!(
                "unknown search prefix; '{name}' must use the '{expected}' prefix"
            )));
        }
        (None, _) => {
            return Err(invalid(&format!(
                "'{name}' must have the '{expected}' prefix (e.g. {expected}2026-03-20)"
            )));
        }
    };
    let lexed = lex(value).map_err(|m| invalid(m.describe()))?;
    let (Some(month), Some(day)) = (lexed.month, lexed.day) else {
        return Err(invalid(
            "partial dates (yyyy, yyyy-mm) are not allowed; use yyyy-mm-dd or yyyy-mm-ddThh:mm:ss+hh:mm",
        ));
    };
    let Some(t) = lexed.time else {
        return Date::new(lexed.year, month, day)
            .map(SlotBound::Date)
            .map_err(|_| invalid(Malformed::NotACalendarDate.describe()));
    };
    if t.fraction_digits > 0 {
        return Err(invalid(
            "fractional seconds are not allowed; use yyyy-mm-ddThh:mm:ss+hh:mm",
        ));
    }
    match t.offset {
        LexedOffset::Absent => Err(invalid(
            "a date-time must carry the UK local offset +00:00 or +01:00",
        )),
        LexedOffset::Z => Err(invalid(
            "'Z' is not allowed; give UK local time with offset +00:00 or +01:00",
        )),
        LexedOffset::Fixed {
            seconds: seconds @ (0 | 3600),
            negative_zero: false,
        } => {
            let (timestamp, offset) = instant_from_lexed(&lexed, &t, seconds)
                .ok_or_else(|| invalid(Malformed::OutOfSupportedRange.describe()))?;
            Ok(SlotBound::DateTime { timestamp, offset })
        }
        LexedOffset::Fixed { .. } => Err(invalid(
            "the offset must be +00:00 (GMT) or +01:00 (BST), UK local time",
        )),
    }
}

/// The longest slot search, in calendar days on the UK wall clock (§4.1).
const MAX_SLOT_SEARCH_DAYS: i32 = 14;

/// Resolve a slot search's `start` (`ge…`) and `end` (`le…`) values into the
/// half-open instant range `[from, until)` (digest §4.1, §4.2 \[REC\]).
///
/// * `from`: a date means 00:00 UK local on that day; a date-time is itself.
/// * `until` (exclusive): a date means 00:00 UK local on the *next* day, so
///   the named day is included in full; a date-time is itself. A slot lies
///   within the search iff `slot.start >= from && slot.end <= until`.
/// * End before start → 422. For a date-only `end`, that means its date is
///   before the start's UK date (`ge2026-03-20T10:00:00+00:00` with
///   `le2026-03-20` is fine: the rest of that day); otherwise the instants
///   are compared. Equal instants are allowed (an empty search).
/// * More than 14 days → 422. The limit is `end − start ≤ 14` calendar days
///   measured between the bounds *as written* on the UK wall clock (a date
///   counts as its 00:00): `ge2026-03-20`..`le2026-04-03` is 14 days and
///   passes although it spans 15 whole days and the BST change (the test
///   suite's "+14 days OK"), and `09:00+00:00`..`09:00+01:00` fourteen days
///   later passes although only 14 days − 1 hour elapse.
///
/// # Errors
/// 422 `INVALID_PARAMETER` for any invalid bound or range.
pub fn slot_search_range(start: &str, end: &str) -> Result<(Timestamp, Timestamp), Error> {
    let tz = uk_zone()?;
    let lower = parse_slot_search_bound(start, SearchPrefix::Ge)?;
    let upper = parse_slot_search_bound(end, SearchPrefix::Le)?;
    let from = lower.start_instant()?;
    let until = upper.end_instant_exclusive()?;
    let start_wall = lower.uk_wall_clock(tz);
    let end_wall = upper.uk_wall_clock(tz);

    let end_before_start = match upper {
        SlotBound::Date(d) => d < start_wall.date(),
        SlotBound::DateTime { timestamp, .. } => timestamp < from,
    };
    if end_before_start {
        return Err(Error::invalid_parameter(format!(
            "Slot search range is invalid: end {} is before start {}",
            Echo(end),
            Echo(start)
        )));
    }
    let too_long = match start_wall.checked_add(MAX_SLOT_SEARCH_DAYS.days()) {
        Ok(limit) => end_wall > limit,
        // Start within 14 days of the end of time: nothing can exceed it.
        Err(_) => false,
    };
    if too_long {
        return Err(Error::invalid_parameter(format!(
            "Slot search range from {} to {} is longer than the maximum of {MAX_SLOT_SEARCH_DAYS} days",
            Echo(start),
            Echo(end)
        )));
    }
    Ok((from, until))
}

// ---------------------------------------------------------------------------
// Retrieve a patient's appointments (R50–R53).
// ---------------------------------------------------------------------------

/// Validate the two `start` parameters of a retrieve (R50–R53) and return
/// the inclusive date range `(first, last)`: appointments whose start falls
/// on those UK days, today's earlier ones included (R52, R54). Use
/// [`uk_day_range`] for instants.
///
/// Exactly two values, one `ge` and one `le` in either order, each a full
/// `yyyy-mm-dd` with no time (R50, R51). Checks run in this order so the
/// answer for a malformed request does not depend on the clock: shape and
/// prefixes, then end before start (R53), then a start before `today` (R52).
/// There is no maximum length (R53).
///
/// # Errors
/// 422 `INVALID_PARAMETER` with diagnostics for every violation.
pub fn retrieve_range(start_params: &[&str], today: Date) -> Result<(Date, Date), Error> {
    let [a, b] = start_params else {
        return Err(Error::invalid_parameter(format!(
            "Exactly two 'start' parameters are required, one with the 'ge' prefix and one with 'le'; got {}",
            start_params.len()
        )));
    };
    let (pa, da) = retrieve_bound(a)?;
    let (pb, db) = retrieve_bound(b)?;
    let (first, last) = match (pa, pb) {
        (SearchPrefix::Ge, SearchPrefix::Le) => (da, db),
        (SearchPrefix::Le, SearchPrefix::Ge) => (db, da),
        _ => {
            return Err(Error::invalid_parameter(format!(
                "The two 'start' parameters must use the prefixes 'ge' and 'le' once each; got '{pa}' and '{pb}'"
            )));
        }
    };
    if last < first {
        return Err(Error::invalid_parameter(format!(
            "Invalid date range: the end date {last} is before the start date {first}"
        )));
    }
    if first < today {
        return Err(Error::invalid_parameter(format!(
            "Past appointments cannot be requested: the range starts on {first}, before today ({today})"
        )));
    }
    Ok((first, last))
}

fn retrieve_bound(raw: &str) -> Result<(SearchPrefix, Date), Error> {
    let invalid = |why: &str| {
        Error::invalid_parameter(format!(
            "Parameter 'start' value {} is invalid: {why}",
            Echo(raw)
        ))
    };
    let (prefix, value) = match split_prefix(raw) {
        (Some(p @ (SearchPrefix::Ge | SearchPrefix::Le)), rest) => (p, rest),
        (Some(p), _) => {
            return Err(invalid(&format!(
                "prefix '{p}' is not allowed; use 'ge' and 'le'"
            )));
        }
        (None, _) => {
            return Err(invalid(
                "a 'ge' or 'le' prefix followed by a yyyy-mm-dd date is required",
            ));
        }
    };
    let lexed = lex(value).map_err(|m| invalid(m.describe()))?;
    match lexed {
        Lexed { time: Some(_), .. } => Err(invalid(
            "the value must be a date only (yyyy-mm-dd), without a time",
        )),
        Lexed {
            month: Some(m),
            day: Some(d),
            ..
        } => Date::new(lexed.year, m, d)
            .map(|date| (prefix, date))
            .map_err(|_| invalid(Malformed::NotACalendarDate.describe())),
        _ => Err(invalid(
            "partial dates (yyyy, yyyy-mm) are not allowed; use yyyy-mm-dd",
        )),
    }
}

// ---------------------------------------------------------------------------
// Access Record timePeriod (accessrecord digest §1.4).
// ---------------------------------------------------------------------------

/// A validated Access Record `timePeriod`, with partial dates expanded to
/// whole periods and both views the renderer needs: civil dates for the
/// date banners and a half-open instant range for filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimePeriod {
    start: Option<FhirDateTime>,
    end: Option<FhirDateTime>,
    start_date: Option<Date>,
    end_date: Option<Date>,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
}

impl TimePeriod {
    /// `start` as sent.
    pub fn start(&self) -> Option<FhirDateTime> {
        self.start
    }

    /// `end` as sent.
    pub fn end(&self) -> Option<FhirDateTime> {
        self.end
    }

    /// First day of the period for the banner (`2014-05` → 2014-05-01; a
    /// date-time → its UK local date).
    pub fn start_date(&self) -> Option<Date> {
        self.start_date
    }

    /// Last day of the period for the banner, inclusive (`2016-02` →
    /// 2016-02-29; a date-time → its UK local date).
    pub fn end_date(&self) -> Option<Date> {
        self.end_date
    }

    /// Inclusive lower instant; `None` = unbounded (only an end was sent).
    pub fn from_inclusive(&self) -> Option<Timestamp> {
        self.from
    }

    /// Exclusive upper instant; `None` = unbounded (only a start was sent,
    /// so future-dated items are included, §1.4).
    pub fn until_exclusive(&self) -> Option<Timestamp> {
        self.until
    }

    /// Whether `ts` falls in the period: `from <= ts < until`.
    pub fn contains(&self, ts: Timestamp) -> bool {
        self.from.is_none_or(|from| from <= ts) && self.until.is_none_or(|until| ts < until)
    }
}

/// Validate and expand an Access Record `timePeriod` (accessrecord §1.4).
///
/// Each bound is `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or a full dateTime with an
/// offset (`Z` included). Whole days are inclusive and partial dates cover
/// their whole period: a date start begins at 00:00 UK local on its first
/// day; a date end runs to 00:00 UK local after its last day (exclusive). A
/// date-time start is that instant; a date-time end includes the whole second
/// it names (FHIR: an end includes everything that matches it at its
/// precision). An empty string counts as a bad value, not as absent (FHIR
/// has no empty primitives).
///
/// # Errors
/// 422 `INVALID_PARAMETER` for: neither bound; a value that is not a FHIR
/// `dateTime` (including a time without an offset); start after end (an
/// empty range).
pub fn parse_time_period(start: Option<&str>, end: Option<&str>) -> Result<TimePeriod, Error> {
    if start.is_none() && end.is_none() {
        return Err(Error::invalid_parameter(
            "timePeriod must have a start, an end, or both",
        ));
    }
    let parse = |which: &str, value: &str| {
        parse_date_time(value).map_err(|m| {
            Error::invalid_parameter(format!(
                "timePeriod {which} {} is not a valid date or dateTime: {}",
                Echo(value),
                m.describe()
            ))
        })
    };
    let start = start.map(|s| parse("start", s)).transpose()?;
    let end = end.map(|e| parse("end", e)).transpose()?;

    let mut period = TimePeriod {
        start,
        end,
        start_date: None,
        end_date: None,
        from: None,
        until: None,
    };
    if let Some(s) = start {
        let (date, from) = match s {
            FhirDateTime::Partial(p) => {
                let date = p.first_day()?;
                (date, uk_start_of_day(date)?)
            }
            FhirDateTime::DateTime { timestamp, .. } => (uk_today(timestamp), timestamp),
        };
        period.start_date = Some(date);
        period.from = Some(from);
    }
    if let Some(e) = end {
        let (date, until) = match e {
            FhirDateTime::Partial(p) => {
                let date = p.last_day()?;
                (date, uk_day_range(date, date)?.1)
            }
            FhirDateTime::DateTime { timestamp, .. } => {
                let floor = timestamp.as_second() - i64::from(timestamp.subsec_nanosecond() < 0);
                let until = Timestamp::from_second(floor.saturating_add(1))
                    .map_err(|_| out_of_range("timePeriod end", &e.to_string()))?;
                (uk_today(timestamp), until)
            }
        };
        period.end_date = Some(date);
        period.until = Some(until);
    }
    if let (Some(from), Some(until)) = (period.from, period.until) {
        if from >= until {
            return Err(Error::invalid_parameter(format!(
                "timePeriod start {} is after end {}",
                start.map(|s| s.to_string()).unwrap_or_default(),
                end.map(|e| e.to_string()).unwrap_or_default()
            )));
        }
    }
    Ok(period)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SpineCode;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect(s)
    }

    fn assert_422(result: Result<impl fmt::Debug, Error>, context: &str) -> Error {
        let err = result.expect_err(context);
        assert_eq!(err.code(), SpineCode::InvalidParameter, "{context}: {err}");
        assert_eq!(err.status(), 422, "{context}");
        assert!(!err.diagnostics().is_empty(), "{context}");
        err
    }

    // ----- FHIR primitives -------------------------------------------------

    #[test]
    fn fhir_date_accepts_year_year_month_and_full_date() {
        for v in [
            "2016",
            "2016-02",
            "2016-02-29",
            "0001",
            "9999-12-31",
            "2000-02-29",
        ] {
            assert!(is_valid_date(v), "{v}");
            assert!(is_valid_date_time(v), "{v}");
        }
    }

    #[test]
    fn fhir_date_must_be_a_real_calendar_date() {
        for v in [
            "0000",
            "2016-00",
            "2016-13",
            "2015-02-29",
            "1900-02-29",
            "2016-04-31",
            "2016-01-00",
            "2016-01-32",
        ] {
            assert!(!is_valid_date(v), "{v}");
            assert!(!is_valid_date_time(v), "{v}");
        }
    }

    #[test]
    fn fhir_date_rejects_other_shapes() {
        for v in [
            "",
            "201",
            "20160",
            "-2016",
            "+2016",
            "2016-1",
            "2016-1-01",
            "2016/01/01",
            "2016-01-01 ",
            " 2016",
            "2016-01-01T",
            "20160101",
            "２０１６",
            "2016-01-01T10:00:00Z",
        ] {
            assert!(!is_valid_date(v), "{v:?}");
        }
    }

    #[test]
    fn fhir_date_time_with_time_requires_an_offset() {
        assert!(!is_valid_date_time("2015-10-23T11:08:32"));
        assert!(!is_valid_date_time("2015-10-23T11:08:32.123"));
        assert!(is_valid_date_time("2015-10-23T11:08:32Z"));
        assert!(is_valid_date_time("2015-10-23T11:08:32+00:00"));
        assert!(is_valid_date_time("2015-10-23T11:08:32.5-05:30"));
        let err = assert_422(FhirDateTime::parse("2015-10-23T11:08:32"), "no offset");
        assert!(err.diagnostics().contains("no time-zone offset"), "{err}");
    }

    #[test]
    fn fhir_date_time_requires_seconds_and_uppercase_designators() {
        for v in [
            "2015-10-23T11:08+00:00",
            "2015-10-23T11+00:00",
            "2015-10-23t11:08:32Z",
            "2015-10-23T11:08:32z",
            "2015-10-23T11:08:32.+00:00",
            "2015-10-23T11:08:32+0000",
            "2015-10-23T11:08:32+00",
            "2015-10-23T11:08:32Z ",
            "2015-10-23T11:08:32ZZ",
        ] {
            assert!(!is_valid_date_time(v), "{v}");
        }
    }

    #[test]
    fn fhir_time_of_day_ranges_are_enforced() {
        assert!(is_valid_date_time("2015-10-23T23:59:59Z"));
        assert!(is_valid_date_time("2015-10-23T00:00:00Z"));
        for v in [
            "2015-10-23T24:00:00Z",
            "2015-10-23T10:60:00Z",
            "2015-10-23T10:00:61Z",
        ] {
            assert!(!is_valid_date_time(v), "{v}");
        }
    }

    #[test]
    fn fhir_offsets_range_from_minus_to_plus_14_hours() {
        for v in ["+14:00", "-14:00", "+13:59", "-00:00", "+05:45"] {
            assert!(
                is_valid_date_time(&format!("2015-10-23T10:00:00{v}")),
                "{v}"
            );
        }
        for v in ["+14:01", "+15:00", "-14:30", "+01:60", "+24:00"] {
            assert!(
                !is_valid_date_time(&format!("2015-10-23T10:00:00{v}")),
                "{v}"
            );
        }
    }

    #[test]
    fn fhir_instant_requires_full_precision_and_an_offset() {
        assert!(is_valid_instant("2015-02-07T13:28:17.239+02:00"));
        assert!(is_valid_instant("2017-01-01T00:00:00Z"));
        for v in [
            "2015",
            "2015-02",
            "2015-02-07",
            "2015-02-07T13:28:17",
            "2015-02-07T13:28Z",
        ] {
            assert!(!is_valid_instant(v), "{v}");
        }
    }

    #[test]
    fn fhir_time_is_hh_mm_ss_with_optional_fraction_and_no_offset() {
        for v in [
            "00:00:00",
            "23:59:59",
            "12:30:00.5",
            "12:30:00.123456789012",
            "23:59:60",
        ] {
            assert!(is_valid_time(v), "{v}");
        }
        for v in [
            "24:00:00",
            "12:30",
            "12:30:00Z",
            "12:30:00+01:00",
            "12:30:00.",
            "1:30:00",
            "",
        ] {
            assert!(!is_valid_time(v), "{v}");
        }
    }

    #[test]
    fn fhir_leap_second_is_lexically_valid_and_reads_as_59() {
        let v = "2016-12-31T23:59:60Z";
        assert!(is_valid_instant(v));
        let parsed = FhirDateTime::parse(v).expect(v);
        assert_eq!(
            parsed,
            FhirDateTime::DateTime {
                timestamp: ts("2016-12-31T23:59:59Z"),
                offset: Offset::UTC
            }
        );
    }

    #[test]
    fn fhir_fraction_beyond_nanoseconds_is_truncated() {
        let parsed = FhirDateTime::parse("2016-01-01T00:00:00.1234567899+00:00").expect("valid");
        let FhirDateTime::DateTime { timestamp, .. } = parsed else {
            panic!("expected a date-time")
        };
        assert_eq!(timestamp.subsec_nanosecond(), 123_456_789);
    }

    #[test]
    fn fhir_date_time_parse_keeps_precision_and_offset() {
        assert_eq!(
            FhirDateTime::parse("2016").expect("year"),
            FhirDateTime::Partial(PartialDate::Year(2016))
        );
        assert_eq!(
            FhirDateTime::parse("2016-02").expect("month"),
            FhirDateTime::Partial(PartialDate::YearMonth(2016, 2))
        );
        assert_eq!(
            FhirDateTime::parse("2016-02-03").expect("date"),
            FhirDateTime::Partial(PartialDate::Date(date(2016, 2, 3)))
        );
        let parsed = FhirDateTime::parse("2015-10-23T11:08:32.5+01:00").expect("dt");
        assert_eq!(parsed.to_string(), "2015-10-23T11:08:32.5+01:00");
        let zoned = parsed.to_zoned().expect("zoned");
        assert_eq!(zoned.timestamp(), ts("2015-10-23T10:08:32.5Z"));
        assert_eq!(zoned.offset().seconds(), 3600);
        assert_eq!(
            FhirDateTime::parse("2015-10-23T11:08:32Z")
                .expect("z")
                .to_string(),
            "2015-10-23T11:08:32+00:00"
        );
    }

    #[test]
    fn partial_date_parse_rejects_a_time_and_formats_back() {
        assert_422(PartialDate::parse("2016-01-01T00:00:00Z"), "time");
        assert_422(PartialDate::parse("abcd"), "garbage");
        for v in ["0001", "2016-02", "2016-02-29"] {
            assert_eq!(PartialDate::parse(v).expect(v).to_string(), v);
        }
        assert!(PartialDate::parse("2016-02-29").expect("d").is_full_date());
    }

    #[test]
    fn partial_date_built_with_impossible_values_errors_instead_of_panicking() {
        assert_422(PartialDate::YearMonth(2016, 13).first_day(), "month 13");
        assert_422(PartialDate::YearMonth(2016, 0).last_day(), "month 0");
        assert_422(PartialDate::Year(i16::MAX).last_day(), "year");
    }

    #[test]
    fn out_of_range_date_time_is_422_not_a_panic() {
        assert!(is_valid_date_time("9999-12-31T23:59:59-14:00"));
        let err = assert_422(FhirDateTime::parse("9999-12-31T23:59:59-14:00"), "max");
        assert!(err.diagnostics().contains("supported range"), "{err}");
    }

    #[test]
    fn diagnostics_quote_and_truncate_echoed_values() {
        let long = "x".repeat(500);
        let err = assert_422(FhirDateTime::parse(&long), "long");
        assert!(err.diagnostics().len() < 250, "{}", err.diagnostics());
        assert!(err.diagnostics().contains('…'));
        let err = assert_422(FhirDateTime::parse("a\"b\n"), "escape");
        assert!(
            err.diagnostics().contains(r#""a\"b\n""#),
            "{}",
            err.diagnostics()
        );
    }

    // ----- search prefixes ----------------------------------------------------

    #[test]
    fn split_prefix_recognises_every_fhir_prefix() {
        for p in SearchPrefix::ALL {
            let value = format!("{p}2026-03-20");
            assert_eq!(split_prefix(&value), (Some(p), "2026-03-20"));
            assert_eq!(SearchPrefix::from_code(p.as_str()), Some(p));
        }
    }

    #[test]
    fn split_prefix_without_a_prefix_returns_the_value_unchanged() {
        assert_eq!(split_prefix("2026-03-20"), (None, "2026-03-20"));
        assert_eq!(split_prefix("GE2026-03-20"), (None, "GE2026-03-20"));
        assert_eq!(split_prefix(""), (None, ""));
        assert_eq!(split_prefix("g"), (None, "g"));
        assert_eq!(split_prefix("ge"), (Some(SearchPrefix::Ge), ""));
    }

    #[test]
    fn split_prefix_leaves_an_unknown_prefix_in_so_the_value_fails_to_parse() {
        assert_eq!(split_prefix("xx2026-03-20"), (None, "xx2026-03-20"));
        assert!(!is_valid_date(split_prefix("xx2026-03-20").1));
        let err = assert_422(try_split_prefix("xx2026-03-20"), "unknown");
        assert!(err.diagnostics().contains("unknown search prefix"), "{err}");
        assert_eq!(
            try_split_prefix("ge2026-03-20").expect("known"),
            (Some(SearchPrefix::Ge), "2026-03-20")
        );
        assert_eq!(try_split_prefix("2026").expect("none"), (None, "2026"));
    }

    #[test]
    fn split_prefix_takes_only_two_letters() {
        // R51 "eqs/le": 'eq' is a prefix, and "s2026-…" is then not a date.
        assert_eq!(
            split_prefix("eqs2026-03-20"),
            (Some(SearchPrefix::Eq), "s2026-03-20")
        );
    }

    // ----- UK local time (R18) --------------------------------------------------

    #[test]
    fn bundled_tzdb_has_europe_london() {
        let tz = uk_time_zone().expect("bundled tzdb");
        assert_eq!(tz.iana_name(), Some("Europe/London"));
    }

    #[test]
    fn r18_format_uk_local_is_plus_00_in_winter_and_plus_01_in_summer() {
        assert_eq!(
            format_uk_local(ts("2026-01-15T09:30:00Z")),
            "2026-01-15T09:30:00+00:00"
        );
        assert_eq!(
            format_uk_local(ts("2026-07-15T09:30:00Z")),
            "2026-07-15T10:30:00+01:00"
        );
    }

    #[test]
    fn r18_format_uk_local_never_uses_z_and_drops_subseconds() {
        let s = format_uk_local(ts("2026-01-15T09:30:00.999Z"));
        assert_eq!(s, "2026-01-15T09:30:00+00:00");
        assert!(!s.contains('Z'));
    }

    #[test]
    fn bst_starts_at_0100_utc_on_the_last_sunday_of_march() {
        // 2026-03-29 and 2025-03-30 are the last Sundays of March.
        assert_eq!(
            format_uk_local(ts("2026-03-29T00:59:59Z")),
            "2026-03-29T00:59:59+00:00"
        );
        assert_eq!(
            format_uk_local(ts("2026-03-29T01:00:00Z")),
            "2026-03-29T02:00:00+01:00"
        );
        assert_eq!(
            format_uk_local(ts("2025-03-30T00:59:59Z")),
            "2025-03-30T00:59:59+00:00"
        );
        assert_eq!(
            format_uk_local(ts("2025-03-30T01:00:00Z")),
            "2025-03-30T02:00:00+01:00"
        );
    }

    #[test]
    fn bst_ends_at_0100_utc_on_the_last_sunday_of_october() {
        // 2026-10-25 and 2025-10-26: 01:00–01:59 happens twice on the wall clock.
        assert_eq!(
            format_uk_local(ts("2026-10-25T00:59:59Z")),
            "2026-10-25T01:59:59+01:00"
        );
        assert_eq!(
            format_uk_local(ts("2026-10-25T01:00:00Z")),
            "2026-10-25T01:00:00+00:00"
        );
        assert_eq!(
            format_uk_local(ts("2025-10-26T00:30:00Z")),
            "2025-10-26T01:30:00+01:00"
        );
        assert_eq!(
            format_uk_local(ts("2025-10-26T01:30:00Z")),
            "2025-10-26T01:30:00+00:00"
        );
    }

    #[test]
    fn pre_1847_london_mean_time_is_written_in_utc_not_with_a_wrong_offset() {
        let t = ts("1800-06-01T12:00:00Z");
        assert_eq!(uk_local(t).offset().seconds(), -75);
        assert_eq!(format_uk_local(t), "1800-06-01T12:00:00+00:00");
    }

    #[test]
    fn uk_time_functions_handle_the_extremes_of_time() {
        for t in [Timestamp::MIN, Timestamp::MAX] {
            let s = format_uk_local(t);
            assert!(s.ends_with("+00:00"), "{s}");
            let _ = uk_today(t);
        }
        assert_422(uk_start_of_day(Date::MIN), "min");
    }

    #[test]
    fn uk_today_rolls_over_at_uk_midnight_not_utc_midnight() {
        assert_eq!(uk_today(ts("2026-06-30T22:59:59Z")), date(2026, 6, 30));
        assert_eq!(uk_today(ts("2026-06-30T23:00:00Z")), date(2026, 7, 1));
        assert_eq!(uk_today(ts("2026-12-31T23:30:00Z")), date(2026, 12, 31));
    }

    #[test]
    fn uk_day_range_is_23_or_25_hours_on_dst_change_days() {
        let (a, b) = uk_day_range(date(2026, 3, 29), date(2026, 3, 29)).expect("spring");
        assert_eq!(
            (a, b),
            (ts("2026-03-29T00:00:00Z"), ts("2026-03-29T23:00:00Z"))
        );
        let (a, b) = uk_day_range(date(2026, 10, 25), date(2026, 10, 25)).expect("autumn");
        assert_eq!(
            (a, b),
            (ts("2026-10-24T23:00:00Z"), ts("2026-10-26T00:00:00Z"))
        );
        assert_422(
            uk_day_range(date(9999, 12, 31), date(9999, 12, 31)),
            "end of time",
        );
    }

    // ----- slot search (§4.1, §4.2) ------------------------------------------------

    #[test]
    fn s4_2_date_only_bounds_cover_whole_uk_days_in_gmt() {
        let (from, until) = slot_search_range("ge2026-01-10", "le2026-01-12").expect("ok");
        assert_eq!(from, ts("2026-01-10T00:00:00Z"));
        assert_eq!(until, ts("2026-01-13T00:00:00Z"));
    }

    #[test]
    fn s4_2_date_only_bounds_in_bst_start_at_2300_utc_the_day_before() {
        let (from, until) = slot_search_range("ge2026-07-10", "le2026-07-10").expect("ok");
        assert_eq!(from, ts("2026-07-09T23:00:00Z"));
        assert_eq!(until, ts("2026-07-10T23:00:00Z"));
    }

    #[test]
    fn s4_2_bst_change_days_are_23_and_25_hours_long() {
        let (from, until) = slot_search_range("ge2026-03-29", "le2026-03-29").expect("spring");
        assert_eq!(until.duration_since(from).as_hours(), 23);
        let (from, until) = slot_search_range("ge2026-10-25", "le2026-10-25").expect("autumn");
        assert_eq!(until.duration_since(from).as_hours(), 25);
    }

    #[test]
    fn s4_1_date_time_bounds_take_gmt_and_bst_offsets_and_may_mix_with_dates() {
        let (from, until) =
            slot_search_range("ge2026-07-10T09:00:00+01:00", "le2026-07-10T17:30:00+01:00")
                .expect("bst");
        assert_eq!(from, ts("2026-07-10T08:00:00Z"));
        assert_eq!(until, ts("2026-07-10T16:30:00Z"));
        let (from, until) =
            slot_search_range("ge2026-01-10T09:00:00+00:00", "le2026-01-11").expect("mixed");
        assert_eq!(from, ts("2026-01-10T09:00:00Z"));
        assert_eq!(until, ts("2026-01-12T00:00:00Z"));
        let (from, _) =
            slot_search_range("ge2026-01-10", "le2026-01-11T12:00:00+00:00").expect("mixed");
        assert_eq!(from, ts("2026-01-10T00:00:00Z"));
    }

    #[test]
    fn s4_1_z_or_missing_or_other_offsets_are_422() {
        for v in [
            "ge2026-01-10T09:00:00Z",
            "ge2026-01-10T09:00:00",
            "ge2026-01-10T09:00:00+02:00",
            "ge2026-01-10T09:00:00-01:00",
            "ge2026-01-10T09:00:00-00:00",
            "ge2026-01-10T09:00:00.000+00:00",
            "ge2026-01-10T09:00+00:00",
        ] {
            assert_422(parse_slot_search_bound(v, SearchPrefix::Ge), v);
        }
        let err = assert_422(
            parse_slot_search_bound("ge2026-01-10T09:00:00Z", SearchPrefix::Ge),
            "Z",
        );
        assert!(err.diagnostics().contains("'Z' is not allowed"), "{err}");
    }

    #[test]
    fn s4_1_offset_need_not_match_the_one_in_force() {
        // +01:00 in January is still an unambiguous instant.
        let b =
            parse_slot_search_bound("ge2026-01-10T09:00:00+01:00", SearchPrefix::Ge).expect("ok");
        assert_eq!(
            b.start_instant().expect("instant"),
            ts("2026-01-10T08:00:00Z")
        );
    }

    #[test]
    fn s4_1_partial_dates_are_422() {
        for v in ["ge2026", "ge2026-03"] {
            let err = assert_422(parse_slot_search_bound(v, SearchPrefix::Ge), v);
            assert!(err.diagnostics().contains("partial dates"), "{err}");
        }
        assert_422(
            slot_search_range("ge2026-03", "le2026-03-20"),
            "start partial",
        );
        assert_422(slot_search_range("ge2026-03-20", "le2026"), "end partial");
    }

    #[test]
    fn s4_1_wrong_prefix_combinations_are_422() {
        for (s, e) in [
            ("lt", "gt"),
            ("gt", "gt"),
            ("lt", "lt"),
            ("le", "ge"),
            ("eq", "eq"),
            ("gt", "lt"),
            ("ne", "le"),
            ("ge", "ne"),
        ] {
            let start = format!("{s}2026-03-20");
            let end = format!("{e}2026-03-22");
            assert_422(slot_search_range(&start, &end), &format!("{s}/{e}"));
        }
    }

    #[test]
    fn s4_1_missing_or_unknown_prefix_is_422() {
        let err = assert_422(slot_search_range("2026-03-20", "le2026-03-22"), "missing");
        assert!(
            err.diagnostics().contains("must have the 'ge' prefix"),
            "{err}"
        );
        let err = assert_422(slot_search_range("ge2026-03-20", "xx2026-03-22"), "unknown");
        assert!(err.diagnostics().contains("unknown search prefix"), "{err}");
        let err = assert_422(
            slot_search_range("GE2026-03-20", "le2026-03-22"),
            "uppercase",
        );
        assert!(err.diagnostics().contains("'start'"), "{err}");
    }

    #[test]
    fn s4_1_invalid_or_empty_values_are_422() {
        for v in [
            "",
            "ge",
            "gefoo",
            "ge2026-02-30",
            "ge2026-03-20T25:00:00+00:00",
            "ge 2026-03-20",
            "ge2026-03-20 ",
        ] {
            assert_422(parse_slot_search_bound(v, SearchPrefix::Ge), v);
        }
    }

    #[test]
    fn slot_search_range_of_0_8_and_14_days_is_accepted() {
        for (end, days) in [
            ("le2026-05-01", 0),
            ("le2026-05-09", 8),
            ("le2026-05-15", 14),
        ] {
            assert!(slot_search_range("ge2026-05-01", end).is_ok(), "+{days}");
        }
    }

    #[test]
    fn slot_search_range_over_14_days_is_422() {
        for end in ["le2026-05-16", "le2026-06-01"] {
            let err = assert_422(slot_search_range("ge2026-05-01", end), end);
            assert!(err.diagnostics().contains("14 days"), "{err}");
        }
    }

    #[test]
    fn slot_search_range_end_before_start_is_422() {
        let err = assert_422(slot_search_range("ge2026-05-01", "le2026-04-30"), "-1 day");
        assert!(err.diagnostics().contains("before start"), "{err}");
        assert_422(
            slot_search_range("ge2026-05-01T10:00:00+01:00", "le2026-05-01T09:59:59+01:00"),
            "-1 s",
        );
        // Same instant: allowed, just empty.
        let (from, until) =
            slot_search_range("ge2026-05-01T10:00:00+01:00", "le2026-05-01T09:00:00+00:00")
                .expect("equal instants");
        assert_eq!(from, until);
    }

    #[test]
    fn slot_search_range_date_end_on_the_start_day_means_the_rest_of_that_day() {
        let (from, until) =
            slot_search_range("ge2026-05-01T10:00:00+01:00", "le2026-05-01").expect("rest of day");
        assert_eq!(from, ts("2026-05-01T09:00:00Z"));
        assert_eq!(until, ts("2026-05-01T23:00:00Z"));
        assert_422(
            slot_search_range("ge2026-05-01T10:00:00+01:00", "le2026-04-30"),
            "day before",
        );
    }

    #[test]
    fn slot_search_range_14_days_across_bst_start_is_measured_on_the_uk_wall_clock() {
        let (from, until) = slot_search_range("ge2026-03-20", "le2026-04-03").expect("14 days");
        assert_eq!(from, ts("2026-03-20T00:00:00Z"));
        assert_eq!(until, ts("2026-04-03T23:00:00Z"));
        assert_422(slot_search_range("ge2026-03-20", "le2026-04-04"), "15 days");
        assert!(
            slot_search_range("ge2026-03-20T09:00:00+00:00", "le2026-04-03T09:00:00+01:00").is_ok()
        );
        assert_422(
            slot_search_range("ge2026-03-20T09:00:00+00:00", "le2026-04-03T09:00:01+01:00"),
            "14 days + 1 s",
        );
    }

    #[test]
    fn slot_search_range_14_days_across_bst_end_is_measured_on_the_uk_wall_clock() {
        assert!(slot_search_range("ge2026-10-18", "le2026-11-01").is_ok());
        assert_422(slot_search_range("ge2026-10-18", "le2026-11-02"), "15 days");
        // 14 days + 1 hour elapse, but it is 14 days on the wall clock.
        assert!(
            slot_search_range("ge2026-10-18T09:00:00+01:00", "le2026-11-01T09:00:00+00:00").is_ok()
        );
    }

    // ----- retrieve appointments (R50–R53) ---------------------------------------------

    const TODAY: Date = Date::constant(2026, 3, 20);

    #[test]
    fn r50_exactly_two_start_parameters_are_required() {
        assert_422(retrieve_range(&[], TODAY), "none");
        assert_422(retrieve_range(&["ge2026-03-20"], TODAY), "one");
        assert_422(
            retrieve_range(&["ge2026-03-20", "le2026-03-25", "le2026-03-26"], TODAY),
            "three",
        );
    }

    #[test]
    fn r50_one_ge_and_one_le_in_either_order() {
        let want = (date(2026, 3, 20), date(2026, 4, 30));
        assert_eq!(
            retrieve_range(&["ge2026-03-20", "le2026-04-30"], TODAY).expect("ge,le"),
            want
        );
        assert_eq!(
            retrieve_range(&["le2026-04-30", "ge2026-03-20"], TODAY).expect("le,ge"),
            want
        );
    }

    #[test]
    fn r51_partial_date_is_invalid_parameter() {
        for (a, b) in [
            ("ge2026", "le2027-01-01"),
            ("ge2026-03-20", "le2026-04"),
            ("ge2026-04", "le2026-05"),
        ] {
            let err = assert_422(retrieve_range(&[a, b], TODAY), a);
            assert!(err.diagnostics().contains("partial dates"), "{err}");
        }
    }

    #[test]
    fn r51_time_component_is_invalid_parameter() {
        let err = assert_422(
            retrieve_range(&["ge2026-03-20T09:00:00+00:00", "le2026-03-25"], TODAY),
            "time",
        );
        assert!(err.diagnostics().contains("date only"), "{err}");
        assert_422(
            retrieve_range(&["ge2026-03-20", "le2026-03-25T09:00:00"], TODAY),
            "no offset",
        );
    }

    #[test]
    fn r51_prefix_combinations_other_than_ge_le_are_invalid_parameter() {
        for (a, b) in [
            ("ge", "lt"),
            ("ge", "gt"),
            ("ge", "eq"),
            ("ge", "ge"),
            ("lt", "le"),
            ("gt", "le"),
            ("eqs", "le"),
            ("le", "le"),
            ("", "le"),
            ("xx", "le"),
        ] {
            let start = format!("{a}2026-03-21");
            let end = format!("{b}2026-03-25");
            assert_422(retrieve_range(&[&start, &end], TODAY), &format!("{a}/{b}"));
        }
        assert_422(
            retrieve_range(&["garbage", "le2026-03-25"], TODAY),
            "garbage",
        );
        assert_422(
            retrieve_range(&["ge2026-02-30", "le2026-03-25"], TODAY),
            "no such day",
        );
    }

    #[test]
    fn r52_lower_bound_before_today_says_past_appointments_cannot_be_requested() {
        for (a, b) in [
            ("ge2010-02-03", "le2010-03-03"),
            ("ge2010-03-03", "le2030-03-30"),
            ("ge2026-03-19", "le2026-03-25"),
        ] {
            let err = assert_422(retrieve_range(&[a, b], TODAY), a);
            assert!(
                err.diagnostics()
                    .contains("Past appointments cannot be requested"),
                "{err}"
            );
        }
    }

    #[test]
    fn r52_today_is_allowed() {
        assert_eq!(
            retrieve_range(&["ge2026-03-20", "le2026-03-20"], TODAY).expect("today"),
            (TODAY, TODAY)
        );
    }

    #[test]
    fn r53_end_before_start_is_invalid_parameter() {
        let err = assert_422(
            retrieve_range(&["ge2026-03-25", "le2026-03-24"], TODAY),
            "inverted",
        );
        assert!(err.diagnostics().contains("before the start"), "{err}");
    }

    #[test]
    fn r53_there_is_no_maximum_range() {
        assert!(retrieve_range(&["ge2026-03-20", "le2099-12-31"], TODAY).is_ok());
    }

    // ----- Access Record timePeriod (§1.4) ------------------------------------------

    #[test]
    fn s1_4_partial_start_expands_to_the_first_day() {
        let p = parse_time_period(Some("2014-05"), None).expect("month");
        assert_eq!(p.start_date(), Some(date(2014, 5, 1)));
        assert_eq!(p.from_inclusive(), Some(ts("2014-04-30T23:00:00Z")));
        assert_eq!(p.until_exclusive(), None);
        let p = parse_time_period(Some("2014"), None).expect("year");
        assert_eq!(p.start_date(), Some(date(2014, 1, 1)));
    }

    #[test]
    fn s1_4_partial_end_expands_to_the_last_day() {
        for (end, last) in [
            ("2016-09", date(2016, 9, 30)),
            ("2016", date(2016, 12, 31)),
            ("2016-02", date(2016, 2, 29)),
            ("2015-02", date(2015, 2, 28)),
            ("2016-02-03", date(2016, 2, 3)),
        ] {
            let p = parse_time_period(None, Some(end)).expect(end);
            assert_eq!(p.end_date(), Some(last), "{end}");
            assert_eq!(p.from_inclusive(), None);
        }
        let p = parse_time_period(None, Some("2016")).expect("year");
        assert_eq!(p.until_exclusive(), Some(ts("2017-01-01T00:00:00Z")));
    }

    #[test]
    fn s1_4_whole_days_are_inclusive() {
        let p = parse_time_period(Some("2016-05-23"), Some("2016-05-27")).expect("ok");
        assert_eq!(p.from_inclusive(), Some(ts("2016-05-22T23:00:00Z")));
        assert_eq!(p.until_exclusive(), Some(ts("2016-05-27T23:00:00Z")));
        assert!(p.contains(ts("2016-05-22T23:00:00Z")));
        assert!(p.contains(ts("2016-05-27T22:59:59.999Z")));
        assert!(!p.contains(ts("2016-05-27T23:00:00Z")));
        assert!(!p.contains(ts("2016-05-22T22:59:59Z")));
        let same_day = parse_time_period(Some("2016-05-23"), Some("2016-05-23")).expect("one day");
        assert!(same_day.contains(ts("2016-05-23T12:00:00Z")));
    }

    #[test]
    fn s1_4_date_time_with_offset_is_accepted_and_its_end_second_included() {
        let p = parse_time_period(
            Some("2015-10-23T11:08:32+00:00"),
            Some("2015-10-24T23:30:00Z"),
        )
        .expect("ok");
        assert_eq!(p.from_inclusive(), Some(ts("2015-10-23T11:08:32Z")));
        assert_eq!(p.until_exclusive(), Some(ts("2015-10-24T23:30:01Z")));
        assert!(p.contains(ts("2015-10-24T23:30:00.5Z")));
        assert_eq!(p.start_date(), Some(date(2015, 10, 23)));
        // 23:30 UTC on 24 Oct 2015 is 00:30 BST on the 25th: banners use UK dates.
        assert_eq!(p.end_date(), Some(date(2015, 10, 25)));
        assert_eq!(
            p.start().map(|s| s.to_string()).as_deref(),
            Some("2015-10-23T11:08:32+00:00")
        );
        assert!(
            parse_time_period(Some("2015-10-23T11:08:32Z"), Some("2015-10-23T11:08:32Z")).is_ok()
        );
    }

    #[test]
    fn s1_4_date_time_without_offset_is_422() {
        assert_422(
            parse_time_period(Some("2015-10-23T11:08:32"), None),
            "start",
        );
        assert_422(parse_time_period(None, Some("2015-10-23T11:08:32")), "end");
    }

    #[test]
    fn s1_4_garbage_and_empty_values_are_422() {
        for v in [
            "abcd",
            "",
            "2016-13",
            "23-05-2016",
            "2016-05-23T11:08+00:00",
        ] {
            assert_422(parse_time_period(Some(v), None), v);
            assert_422(parse_time_period(Some("2014"), Some(v)), v);
        }
    }

    #[test]
    fn s1_4_start_after_end_is_422() {
        assert_422(
            parse_time_period(Some("2016-05-24"), Some("2016-05-23")),
            "dates",
        );
        assert_422(parse_time_period(Some("2017"), Some("2016")), "years");
        assert_422(
            parse_time_period(Some("2016-05-24T00:00:00+01:00"), Some("2016-05-23")),
            "mixed",
        );
        assert!(parse_time_period(Some("2016"), Some("2016")).is_ok());
    }

    #[test]
    fn s1_4_neither_start_nor_end_is_422() {
        assert_422(parse_time_period(None, None), "neither");
    }

    // ----- properties ---------------------------------------------------------------------

    fn valid_date() -> impl Strategy<Value = (i16, i8, i8)> {
        (1i16..=9999, 1i8..=12).prop_flat_map(|(y, m)| (Just(y), Just(m), 1..=days_in_month(y, m)))
    }

    fn time_part() -> impl Strategy<Value = String> {
        (
            0u8..24,
            0u8..60,
            0u8..60,
            proptest::option::of("[0-9]{1,12}"),
        )
            .prop_map(|(h, m, s, f)| match f {
                Some(f) => format!("{h:02}:{m:02}:{s:02}.{f}"),
                None => format!("{h:02}:{m:02}:{s:02}"),
            })
    }

    /// Strings near the grammar, to reach the deep branches, plus anything.
    fn fuzz() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,40}",
            "(ge|le|eq|lt|xx|GE)?[0-9T:+\\-Z. ]{0,30}",
            "(ge|le)?[0-9]{4}(-[0-9]{2}(-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,12})?(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?",
        ]
    }

    proptest! {
        #[test]
        fn r18_formatting_then_parsing_round_trips(secs in -3_786_825_600i64..=253_402_207_200) {
            // 1850-01-01 ..= 9999-12-30T22:00:00Z (Timestamp::MAX)
            let t = Timestamp::from_second(secs).expect("in range");
            let s = format_uk_local(t);
            let parsed = FhirDateTime::parse(&s).expect("own output parses");
            let FhirDateTime::DateTime { timestamp, .. } = parsed else {
                return Err(TestCaseError::fail("not a date-time"));
            };
            prop_assert_eq!(timestamp, t);
            prop_assert!(is_valid_instant(&s));
            prop_assert!(!s.contains('Z'));
        }

        #[test]
        fn r18_modern_uk_output_is_accepted_as_a_slot_bound(secs in 63_072_000i64..=4_102_444_800, nanos in 0i32..1_000_000_000) {
            // 1972-01-01 ..= 2100-01-01: the UK has used only GMT and BST since.
            let t = Timestamp::new(secs, nanos).expect("in range");
            let s = format_uk_local(t);
            let bound = parse_slot_search_bound(&format!("ge{s}"), SearchPrefix::Ge).expect("slot bound");
            prop_assert_eq!(bound.start_instant().expect("instant"), Timestamp::from_second(secs).expect("in range"));
        }

        #[test]
        fn generated_fhir_dates_are_valid_at_every_precision((y, m, d) in valid_date(), precision in 0usize..3) {
            let s = match precision {
                0 => format!("{y:04}"),
                1 => format!("{y:04}-{m:02}"),
                _ => format!("{y:04}-{m:02}-{d:02}"),
            };
            prop_assert!(is_valid_date(&s));
            prop_assert!(is_valid_date_time(&s));
            prop_assert!(!is_valid_instant(&s));
            let parsed = PartialDate::parse(&s).expect("valid date parses");
            prop_assert_eq!(parsed.to_string(), s);
        }

        #[test]
        fn a_time_without_an_offset_is_never_a_valid_date_time((y, m, d) in valid_date(), t in time_part()) {
            let s = format!("{y:04}-{m:02}-{d:02}T{t}");
            prop_assert!(!is_valid_date_time(&s));
            prop_assert!(!is_valid_instant(&s));
            prop_assert!(is_valid_time(&t));
            let with_offset = format!("{s}+01:00");
            prop_assert!(is_valid_date_time(&with_offset));
            prop_assert!(is_valid_instant(&with_offset));
        }

        #[test]
        fn slot_search_of_whole_days_is_accepted_iff_at_most_14_days(offset in 0i32..40_000, k in -2i32..=30) {
            let start = date(2000, 1, 1).checked_add(offset.days()).expect("in range");
            let end = start.checked_add(k.days()).expect("in range");
            let result = slot_search_range(&format!("ge{start}"), &format!("le{end}"));
            prop_assert_eq!(result.is_ok(), (0..=14).contains(&k), "{} {} {:?}", start, end, result);
        }

        #[test]
        fn no_public_parser_panics_on_any_input(a in fuzz(), b in fuzz()) {
            let _ = is_valid_date(&a);
            let _ = is_valid_time(&a);
            let _ = is_valid_instant(&a);
            let valid = is_valid_date_time(&a);
            let _ = split_prefix(&a);
            let _ = try_split_prefix(&a);
            let _ = PartialDate::parse(&a);
            if let Ok(parsed) = FhirDateTime::parse(&a) {
                // Whatever parses is lexically valid and re-parses to itself.
                prop_assert!(valid, "{}", a);
                prop_assert_eq!(FhirDateTime::parse(&parsed.to_string()).ok(), Some(parsed));
            }
            let _ = parse_slot_search_bound(&a, SearchPrefix::Ge);
            let _ = parse_slot_search_bound(&a, SearchPrefix::Le);
            let _ = slot_search_range(&a, &b);
            let _ = retrieve_range(&[&a, &b], TODAY);
            let _ = retrieve_range(&[&a], TODAY);
            let _ = parse_time_period(Some(&a), Some(&b));
            let _ = parse_time_period(Some(&a), None);
            let _ = parse_time_period(None, Some(&b));
        }
    }
}
