//! `gpc_engine`: options, opening on a store (memory, sled, host storage),
//! closing, and the front door `gpc_engine_handle`.

use std::ffi::c_char;
use std::sync::{Arc, Mutex, PoisonError};

use gpconnect_core::Error;
use gpconnect_core::clock::{Clock, FixedClock, SystemClock};
use gpconnect_core::engine::{Engine, EngineConfig, HttpRequest};
use gpconnect_core::foundations::{Pds, PdsError, PdsRecord, SoftwareInfo};
use gpconnect_core::store::PracticeStore;
use gpconnect_core::store::memory::MemoryStore;
use gpconnect_storage::{Durability, SledOptions, SledStore};
use jiff::Timestamp;

use crate::error::gpc_result;
use crate::ffi::{FfiError, FfiResult, bytes, guard, text};
use crate::handle::Registry;
use crate::host::{HostStore, gpc_host_storage};
use crate::response::{Response, gpc_response};

/// An engine (opaque): the GP Connect provider over one store. Made by a
/// `gpc_engine_open_*` function; the caller owns it and closes it with
/// `gpc_engine_close`.
///
/// **Thread-safe**: one engine serves every thread of the host. All
/// `gpc_engine_*` calls on it may run concurrently from any threads; the
/// store decides how concurrent commands are serialised (a host storage
/// table's callbacks are then called concurrently too).
#[derive(Debug)]
pub struct gpc_engine {
    _private: [u8; 0],
}

/// How to open an engine (opaque): made by `gpc_engine_options_new`, set
/// with the `gpc_engine_options_set_*` functions, read by the
/// `gpc_engine_open_*` functions (which copy what they need) and freed with
/// `gpc_engine_options_free`. New settings come as new setter functions, so
/// the ABI never changes shape.
#[derive(Debug)]
pub struct gpc_engine_options {
    _private: [u8; 0],
}

/// `gpc_engine_options_set_sled_durability`: a booking is acknowledged only
/// once sled has flushed it to the device (the default): it survives the
/// process being killed; on power loss the latest acknowledged bookings may
/// be lost (each whole), because sled's flush on Linux does not sync the
/// device's write cache.
pub const GPC_SLED_DURABILITY_IMMEDIATE: u32 = 0;
/// `gpc_engine_options_set_sled_durability`: a booking is acknowledged on
/// commit and flushed in the background within about 500 ms; a crash can
/// lose the latest acknowledged bookings (each whole), never corrupt the
/// store.
pub const GPC_SLED_DURABILITY_BUFFERED: u32 = 1;
/// `gpc_engine_options_set_sled_durability`: as
/// `GPC_SLED_DURABILITY_IMMEDIATE`, then `fdatasync` of sled's log, so an
/// acknowledged booking survives power loss; costs the disk's sync latency
/// once per group of concurrent bookings.
pub const GPC_SLED_DURABILITY_SYNCED: u32 = 2;

/// What the options hold.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    software: Option<SoftwareInfo>,
    fixed_now: Option<Timestamp>,
    routing_segment: Option<String>,
    public_base_url: Option<String>,
    durability: Durability,
}

pub(crate) static OPTIONS: Registry<Mutex<Options>> = Registry::new("gpc_engine_options");

/// What a `gpc_engine` handle refers to.
pub(crate) struct EngineHandle {
    pub engine: Engine,
    pub store: Arc<dyn PracticeStore>,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for EngineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineHandle")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

pub(crate) static ENGINES: Registry<EngineHandle> = Registry::new("gpc_engine");

/// The engine behind a handle.
pub(crate) fn engine(handle: *const gpc_engine) -> FfiResult<Arc<EngineHandle>> {
    ENGINES.get(handle, "engine")
}

/// PDS as the C API has it today: not connected. A find (F2) of a patient
/// whose NHS number is not yet verified, and a registration (F4), answer
/// 500 saying why; verified patients are found as usual.
#[derive(Debug)]
struct NoPds;

impl Pds for NoPds {
    fn retrieve(&self, _nhs_number: &str) -> Result<Option<PdsRecord>, PdsError> {
        Err(PdsError::Unavailable(
            "no PDS is connected to this engine (the C API has no PDS adapter yet)".to_owned(),
        ))
    }
}

/// The library's name and version, e.g. `gpconnect-ffi 0.1.0`: a static
/// NUL-terminated string, never freed.
#[unsafe(no_mangle)]
pub extern "C" fn gpc_version() -> *const c_char {
    concat!("gpconnect-ffi ", env!("CARGO_PKG_VERSION"), "\0")
        .as_ptr()
        .cast::<c_char>()
}

fn with_options(
    options: *mut gpc_engine_options,
    f: impl FnOnce(&mut Options) -> FfiResult<()>,
) -> FfiResult<()> {
    let options = OPTIONS.get(options, "options")?;
    let mut o = options.lock().unwrap_or_else(PoisonError::into_inner);
    f(&mut o)
}

/// Makes options with every setting at its default; `*options_out` gets the
/// handle, which the caller frees with `gpc_engine_options_free`. The
/// software must be set (`gpc_engine_options_set_software`) before an
/// engine can be opened.
///
/// # Safety
///
/// `options_out` must be a valid pointer to write to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_engine_options_new(
    options_out: *mut *mut gpc_engine_options,
) -> gpc_result {
    guard("gpc_engine_options_new", || {
        crate::ffi::out_ptr(options_out, "options_out")?;
        let handle = OPTIONS.insert::<gpc_engine_options>(Mutex::new(Options::default()));
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { crate::ffi::write_out(options_out, handle, "options_out") }
    })
}

/// Frees options. NULL and options already freed are ignored.
#[unsafe(no_mangle)]
pub extern "C" fn gpc_engine_options_free(options: *mut gpc_engine_options) {
    if options.is_null() {
        return;
    }
    let _ = guard("gpc_engine_options_free", || {
        drop(OPTIONS.remove(options, "options")?);
        Ok(())
    });
}

/// Sets the software the CapabilityStatement and Conformance describe
/// (required): its name, version, publisher (the vendor) and release date
/// (`YYYY-MM-DD`). None may be blank.
///
/// # Safety
///
/// Each text pointer must be valid for reads of its length.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gpc_engine_options_set_software(
    options: *mut gpc_engine_options,
    name: *const c_char,
    name_len: usize,
    version: *const c_char,
    version_len: usize,
    publisher: *const c_char,
    publisher_len: usize,
    release_date: *const c_char,
    release_date_len: usize,
) -> gpc_result {
    guard("gpc_engine_options_set_software", || {
        // SAFETY: the caller's contract, for each pair.
        let (name, version, publisher, date) = unsafe {
            (
                text(name, name_len, "name")?,
                text(version, version_len, "version")?,
                text(publisher, publisher_len, "publisher")?,
                text(release_date, release_date_len, "release_date")?,
            )
        };
        for (what, value) in [
            ("name", name),
            ("version", version),
            ("publisher", publisher),
        ] {
            if value.trim().is_empty() {
                return Err(FfiError::argument(format!("`{what}` must not be blank")));
            }
        }
        let release_date: jiff::civil::Date = date.parse().map_err(|e| {
            FfiError::argument(format!(
                "`release_date` {date:?} is not a YYYY-MM-DD date: {e}"
            ))
        })?;
        with_options(options, |o| {
            o.software = Some(SoftwareInfo {
                name: name.to_owned(),
                version: version.to_owned(),
                release_date,
                publisher: publisher.to_owned(),
                contact_name: None,
            });
            Ok(())
        })
    })
}

/// Stops the engine's clock at `instant`, an RFC 3339 timestamp such as
/// `2030-03-01T10:00:00Z`: "now" for slot availability, booking windows,
/// token expiry and `Last-Modified`. For tests and replays; by default the
/// engine uses the system clock.
///
/// # Safety
///
/// `instant` must be valid for reads of `instant_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_engine_options_set_fixed_now(
    options: *mut gpc_engine_options,
    instant: *const c_char,
    instant_len: usize,
) -> gpc_result {
    guard("gpc_engine_options_set_fixed_now", || {
        // SAFETY: the caller's contract.
        let raw = unsafe { text(instant, instant_len, "instant") }?;
        let now: Timestamp = raw.parse().map_err(|e| {
            FfiError::argument(format!(
                "`instant` {raw:?} is not an RFC 3339 timestamp: {e}"
            ))
        })?;
        with_options(options, |o| {
            o.fixed_now = Some(now);
            Ok(())
        })
    })
}

/// Sets the provider routing segment of the service roots (default
/// `gpconnect`, as in `/A00001/STU3/1/gpconnect/...`); empty for roots
/// without one. Checked when the engine is opened.
///
/// # Safety
///
/// `segment` must be valid for reads of `segment_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_engine_options_set_routing_segment(
    options: *mut gpc_engine_options,
    segment: *const c_char,
    segment_len: usize,
) -> gpc_result {
    guard("gpc_engine_options_set_routing_segment", || {
        // SAFETY: the caller's contract.
        let segment = unsafe { text(segment, segment_len, "segment") }?.to_owned();
        with_options(options, |o| {
            o.routing_segment = Some(segment);
            Ok(())
        })
    })
}

/// Sets the scheme and host consumers reach this provider on, e.g.
/// `https://gpconnect.example.nhs.uk` (no trailing `/`): it makes
/// `Location` headers absolute and is the expected JWT audience prefix.
/// Checked when the engine is opened.
///
/// # Safety
///
/// `url` must be valid for reads of `url_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_engine_options_set_public_base_url(
    options: *mut gpc_engine_options,
    url: *const c_char,
    url_len: usize,
) -> gpc_result {
    guard("gpc_engine_options_set_public_base_url", || {
        // SAFETY: the caller's contract.
        let url = unsafe { text(url, url_len, "url") }?.to_owned();
        with_options(options, |o| {
            o.public_base_url = Some(url);
            Ok(())
        })
    })
}

/// Sets when a sled store acknowledges a command:
/// `GPC_SLED_DURABILITY_IMMEDIATE` (default), `GPC_SLED_DURABILITY_SYNCED`
/// or `GPC_SLED_DURABILITY_BUFFERED`. Only `gpc_engine_open_sled` reads it.
#[unsafe(no_mangle)]
pub extern "C" fn gpc_engine_options_set_sled_durability(
    options: *mut gpc_engine_options,
    durability: u32,
) -> gpc_result {
    guard("gpc_engine_options_set_sled_durability", || {
        let durability = match durability {
            GPC_SLED_DURABILITY_IMMEDIATE => Durability::Immediate,
            GPC_SLED_DURABILITY_BUFFERED => Durability::Buffered,
            GPC_SLED_DURABILITY_SYNCED => Durability::Synced,
            other => {
                return Err(FfiError::argument(format!(
                    "`durability` {other} is none of GPC_SLED_DURABILITY_IMMEDIATE (0), GPC_SLED_DURABILITY_BUFFERED (1) and GPC_SLED_DURABILITY_SYNCED (2)"
                )));
            }
        };
        with_options(options, |o| {
            o.durability = durability;
            Ok(())
        })
    })
}

/// A copy of the options behind a handle.
fn read_options(options: *const gpc_engine_options) -> FfiResult<Options> {
    let options = OPTIONS.get(options, "options")?;
    let o = options.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(o.clone())
}

/// What an engine is built from, checked before any store is opened.
struct Prepared {
    config: EngineConfig,
    clock: Arc<dyn Clock>,
}

fn prepare(options: &Options) -> FfiResult<Prepared> {
    let software = options.software.clone().ok_or_else(|| {
        FfiError::argument("the options name no software: call gpc_engine_options_set_software")
    })?;
    let mut config = EngineConfig::new(software);
    if let Some(segment) = &options.routing_segment {
        config.routing_segment.clone_from(segment);
    }
    config.public_base_url.clone_from(&options.public_base_url);
    config
        .validate()
        .map_err(|e| FfiError::argument(e.to_string()))?;
    let clock: Arc<dyn Clock> = match options.fixed_now {
        Some(now) => Arc::new(FixedClock::new(now)),
        None => Arc::new(SystemClock),
    };
    Ok(Prepared { config, clock })
}

/// Builds the engine over `store` and hands out its handle.
///
/// # Safety
/// `engine_out` must be NULL or valid for a write.
unsafe fn open(
    prepared: Prepared,
    store: Arc<dyn PracticeStore>,
    engine_out: *mut *mut gpc_engine,
) -> FfiResult<()> {
    let Prepared { config, clock } = prepared;
    let engine = Engine::new(store.clone(), clock.clone(), Arc::new(NoPds), config)
        .map_err(|e| FfiError::argument(e.to_string()))?;
    let handle = ENGINES.insert::<gpc_engine>(EngineHandle {
        engine,
        store,
        clock,
    });
    // SAFETY: the caller checked it non-NULL and guarantees it is writable.
    unsafe { crate::ffi::write_out(engine_out, handle, "engine_out") }
}

/// Opens an engine on an empty in-memory store (load practices with
/// `gpc_engine_import_practice`). Everything is lost on close.
///
/// # Safety
///
/// `engine_out` must be a valid pointer to write to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_engine_open_memory(
    options: *const gpc_engine_options,
    engine_out: *mut *mut gpc_engine,
) -> gpc_result {
    guard("gpc_engine_open_memory", || {
        crate::ffi::out_ptr(engine_out, "engine_out")?;
        let prepared = prepare(&read_options(options)?)?;
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { open(prepared, Arc::new(MemoryStore::new()), engine_out) }
    })
}

/// Opens an engine on the sled store in directory `path` (UTF-8), creating
/// it if missing. One process at a time may hold a store open;
/// `gpc_engine_close` flushes and releases it.
///
/// # Safety
///
/// `path` must be valid for reads of `path_len` bytes; `engine_out` must be
/// a valid pointer to write to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_engine_open_sled(
    options: *const gpc_engine_options,
    path: *const c_char,
    path_len: usize,
    engine_out: *mut *mut gpc_engine,
) -> gpc_result {
    guard("gpc_engine_open_sled", || {
        crate::ffi::out_ptr(engine_out, "engine_out")?;
        // SAFETY: the caller's contract.
        let path = unsafe { text(path, path_len, "path") }?;
        if path.is_empty() {
            return Err(FfiError::argument("`path` is empty"));
        }
        let options = read_options(options)?;
        let prepared = prepare(&options)?;
        let store = SledStore::open(path, SledOptions::with_durability(options.durability))
            .map_err(|e| FfiError::new(gpc_result::Storage, e.to_string()))?;
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { open(prepared, Arc::new(store), engine_out) }
    })
}

/// Opens an engine on host storage: the callbacks of `storage` (copied; see
/// `gpc_host_storage` for the contract). On success the engine owns
/// `storage->user_data` and calls `storage->destroy` (if not NULL) once,
/// when it is closed; on failure nothing was called and the caller still
/// owns it.
///
/// # Safety
///
/// `storage` must point to a `gpc_host_storage` whose `struct_size` bytes
/// are readable, with callbacks that honour its contract; `engine_out` must
/// be a valid pointer to write to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_engine_open_host(
    options: *const gpc_engine_options,
    storage: *const gpc_host_storage,
    engine_out: *mut *mut gpc_engine,
) -> gpc_result {
    guard("gpc_engine_open_host", || {
        crate::ffi::out_ptr(engine_out, "engine_out")?;
        let prepared = prepare(&read_options(options)?)?;
        // SAFETY: the caller's contract.
        let table = unsafe { crate::host::copy_table(storage) }?;
        // Nothing can fail from here on: the engine owns user_data.
        let store = HostStore::new(table);
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { open(prepared, Arc::new(store), engine_out) }
    })
}

/// Closes an engine: the store is flushed and released (a host storage's
/// `destroy` is called) once no call on it is running any more. NULL and
/// an engine already closed are ignored. Every response stays valid.
#[unsafe(no_mangle)]
pub extern "C" fn gpc_engine_close(engine: *mut gpc_engine) {
    if engine.is_null() {
        return;
    }
    let _ = guard("gpc_engine_close", || {
        drop(ENGINES.remove(engine, "engine")?);
        Ok(())
    });
}

/// One request header: name and value as borrowed pointer + length (UTF-8;
/// no NUL needed).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct gpc_header {
    /// The name, in any case.
    pub name: *const c_char,
    /// Bytes in `name`.
    pub name_len: usize,
    /// The value.
    pub value: *const c_char,
    /// Bytes in `value`.
    pub value_len: usize,
}

/// Answers one HTTP request: the GP Connect front door (routing, content
/// negotiation, SSP headers, JWT, the operation, response headers, audit
/// record). Every argument is borrowed for the call only.
///
/// - `method`: e.g. `GET`; `path`: the full path, e.g.
///   `/A00001/STU3/1/gpconnect/Slot`, not percent-decoded; `query`: the raw
///   query without `?` (may be empty); `headers`: `headers_len` headers in
///   request order; `body`: the decoded body (may be empty).
/// - A (pointer, length) pair may be (NULL, 0) for empty.
///
/// On `GPC_RESULT_OK`, `*response_out` is a new response the caller frees
/// with `gpc_response_free`, whatever its HTTP status: a request GP Connect
/// refuses is answered (400, 404, 409, 422, ... with an OperationOutcome),
/// not failed. A method, path or query that is not UTF-8 is answered 400; a
/// header whose name or value is not UTF-8 is left out (as if not sent).
///
/// # Safety
///
/// Each (pointer, length) pair must be readable for its length (the
/// `headers` array and every name and value in it), unchanged during the
/// call; `response_out` must be a valid pointer to write to.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gpc_engine_handle(
    engine: *const gpc_engine,
    method: *const c_char,
    method_len: usize,
    path: *const c_char,
    path_len: usize,
    query: *const c_char,
    query_len: usize,
    headers: *const gpc_header,
    headers_len: usize,
    body: *const u8,
    body_len: usize,
    response_out: *mut *mut gpc_response,
) -> gpc_result {
    guard("gpc_engine_handle", || {
        let handle = self::engine(engine)?;
        crate::ffi::out_ptr(response_out, "response_out")?;
        // SAFETY: the caller's contract, for each pair.
        let (method, path, query, body) = unsafe {
            (
                bytes(method.cast::<u8>(), method_len, "method")?,
                bytes(path.cast::<u8>(), path_len, "path")?,
                bytes(query.cast::<u8>(), query_len, "query")?,
                bytes(body, body_len, "body")?,
            )
        };
        let header_array: &[gpc_header] = if headers_len == 0 {
            &[]
        } else if headers.is_null() {
            return Err(FfiError::new(
                gpc_result::NullParameter,
                format!("`headers` is NULL but `headers_len` is {headers_len}"),
            ));
        } else {
            // SAFETY: non-NULL, and the caller guarantees `headers_len`
            // readable, unchanging elements for the call.
            unsafe { std::slice::from_raw_parts(headers, headers_len) }
        };
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(header_array.len());
        for (i, h) in header_array.iter().enumerate() {
            if (h.name.is_null() && h.name_len > 0) || (h.value.is_null() && h.value_len > 0) {
                return Err(FfiError::new(
                    gpc_result::NullParameter,
                    format!("`headers[{i}]` has a NULL name or value with a non-zero length"),
                ));
            }
            // SAFETY: the caller's contract covers every name and value;
            // NULL only with length 0, checked above.
            let (name, value) = unsafe {
                (
                    bytes(h.name.cast::<u8>(), h.name_len, "header name")?,
                    bytes(h.value.cast::<u8>(), h.value_len, "header value")?,
                )
            };
            if let (Ok(name), Ok(value)) = (std::str::from_utf8(name), std::str::from_utf8(value)) {
                pairs.push((name, value));
            }
        }
        let answer = match (
            std::str::from_utf8(method),
            std::str::from_utf8(path),
            std::str::from_utf8(query),
        ) {
            (Ok(method), Ok(path), Ok(query)) => handle.engine.handle(&HttpRequest {
                method,
                path,
                query,
                headers: &pairs,
                body,
            }),
            (m, p, _) => {
                let what = if m.is_err() {
                    "method"
                } else if p.is_err() {
                    "path"
                } else {
                    "query"
                };
                let (method, path, query) = (
                    String::from_utf8_lossy(method),
                    String::from_utf8_lossy(path),
                    String::from_utf8_lossy(query),
                );
                handle.engine.reject(
                    &HttpRequest {
                        method: &method,
                        path: &path,
                        query: &query,
                        headers: &pairs,
                        body,
                    },
                    &Error::bad_request(format!("the request {what} is not valid UTF-8")),
                )
            }
        };
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { crate::response::give(Response::from_http(answer), response_out) }
    })
}
