//! Handles: what the opaque C pointers (`gpc_engine *`, `gpc_response *`,
//! `gpc_engine_options *`) are.
//!
//! A handle is the address of an `Arc` the library keeps in a registry of
//! live handles of its kind; the library never dereferences a pointer it
//! receives. Every call looks the address up first, so:
//!
//! - a NULL handle is [`gpc_result::NullParameter`];
//! - a handle already freed or closed, a handle of another kind, or any
//!   other pointer is [`gpc_result::InvalidHandle`] (and a second `_free` is
//!   a no-op), unless the address has since been reused by a new live
//!   handle of the same kind: the guard is best-effort, not a licence;
//! - a call in flight on one thread keeps the object alive (it holds a clone
//!   of the `Arc`) even if another thread closes the handle meanwhile; the
//!   object is dropped when the last such call returns.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::gpc_result;
use crate::ffi::{FfiError, FfiResult};

/// The live handles of one kind.
#[derive(Debug)]
pub(crate) struct Registry<T> {
    kind: &'static str,
    live: Mutex<BTreeMap<usize, Arc<T>>>,
}

impl<T> Registry<T> {
    pub const fn new(kind: &'static str) -> Registry<T> {
        Registry {
            kind,
            live: Mutex::new(BTreeMap::new()),
        }
    }

    fn live(&self) -> std::sync::MutexGuard<'_, BTreeMap<usize, Arc<T>>> {
        // The map is consistent between statements, so a panic while it was
        // held leaves nothing half-done.
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers `value`; the handle to give out.
    pub fn insert<H>(&self, value: T) -> *mut H {
        let arc = Arc::new(value);
        let ptr = Arc::as_ptr(&arc);
        self.live().insert(ptr.addr(), arc);
        ptr.cast::<H>().cast_mut()
    }

    /// The object behind a live handle.
    pub fn get<H>(&self, handle: *const H, what: &str) -> FfiResult<Arc<T>> {
        if handle.is_null() {
            return Err(FfiError::null(what));
        }
        self.live()
            .get(&handle.addr())
            .cloned()
            .ok_or_else(|| self.not_live(what))
    }

    /// Unregisters a handle; its object, for the caller to drop.
    pub fn remove<H>(&self, handle: *const H, what: &str) -> FfiResult<Arc<T>> {
        if handle.is_null() {
            return Err(FfiError::null(what));
        }
        self.live()
            .remove(&handle.addr())
            .ok_or_else(|| self.not_live(what))
    }

    /// How many handles of this kind are live.
    pub fn count(&self) -> usize {
        self.live().len()
    }

    fn not_live(&self, what: &str) -> FfiError {
        FfiError::new(
            gpc_result::InvalidHandle,
            format!(
                "`{what}` is not a live {} (already freed or closed, or not from this library)",
                self.kind
            ),
        )
    }
}

/// The number of live handles of every kind (engines, options, responses):
/// what a host's own tests can check returns to 0 once everything is freed.
#[unsafe(no_mangle)]
pub extern "C" fn gpc_live_handle_count() -> usize {
    crate::ffi::guard_value("gpc_live_handle_count", 0, || {
        Ok(crate::engine::ENGINES.count()
            + crate::engine::OPTIONS.count()
            + crate::response::RESPONSES.count())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Opaque;

    #[test]
    fn handles_are_checked_before_use() {
        let registry: Registry<String> = Registry::new("test object");
        let h: *mut Opaque = registry.insert("x".to_owned());
        assert_eq!(
            registry.get(h, "h").map(|s| (*s).clone()),
            Ok("x".to_owned())
        );
        assert_eq!(registry.count(), 1);
        let held = registry.get(h, "h").expect("live");
        assert!(registry.remove(h, "h").is_ok());
        // A call in flight keeps its object.
        assert_eq!(*held, "x");
        let e = registry.remove(h, "h").expect_err("double free");
        assert_eq!(e.code, gpc_result::InvalidHandle);
        assert_eq!(
            registry
                .get(std::ptr::null::<Opaque>(), "h")
                .map_err(|e| e.code),
            Err(gpc_result::NullParameter)
        );
        let other = 0x10usize as *const Opaque;
        assert_eq!(
            registry.get(other, "h").map_err(|e| e.code),
            Err(gpc_result::InvalidHandle)
        );
        assert_eq!(registry.count(), 0);
    }
}
