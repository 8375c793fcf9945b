//! The audit trail: one JSON line per call, failures included (R84;
//! accessrecord §1.7), appended to a file the operator keeps.

use std::fs::{File, OpenOptions};
use std::io::{LineWriter, Write};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use gpconnect_core::engine::AuditRecord;

/// Where audit lines go.
#[derive(Debug)]
pub struct AuditLog {
    out: Mutex<LineWriter<File>>,
}

impl AuditLog {
    /// Append to `path`, creating it if needed.
    ///
    /// # Errors
    /// The file cannot be opened for appending.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog {
            out: Mutex::new(LineWriter::new(file)),
        })
    }

    /// Write one call's record as a line. A failed write is logged, not
    /// returned: the consumer already has its answer, and refusing service
    /// because the audit disk is full is the operator's call, made by
    /// watching this log.
    pub fn record(&self, record: &AuditRecord) {
        let mut line = record.to_json_line();
        line.push('\n');
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = out.write_all(line.as_bytes()) {
            tracing::error!(error = %e, sequence = record.sequence, "audit write failed");
        }
    }

    /// Flush buffered lines (each line is written as it completes; this
    /// is for shutdown).
    pub fn flush(&self) {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = out.flush() {
            tracing::error!(error = %e, "audit flush failed");
        }
    }
}
