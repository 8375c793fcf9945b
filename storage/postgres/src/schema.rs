//! The schema, owned by the backend: created on first open and upgraded by
//! numbered migrations, each applied in the same transaction as the
//! `schema_version` row that records it.
//!
//! # Layout
//!
//! Every table but `schema_version` leads with `ods` (the practice's ODS
//! code), and every primary key, unique constraint and foreign key starts
//! with it, so any table can become `PARTITION BY HASH (ods)` or
//! `PARTITION BY LIST (ods)` without changing a query (PostgreSQL requires
//! the partition key in every unique constraint of a partitioned table).
//! Nothing is unique across practices except the three sequences.
//!
//! - One row per record. What the port looks records up by, or a command
//!   changes, is a column (`nhs_number`, `sds_user_ids`, `ods_code`, slot
//!   `start_ns`/`free`/`appointment_id`, appointment `status`, `patient_id`,
//!   `slot_ids`, ...); the FHIR resource and the provider settings a record
//!   carries are JSONB beside them, written with serde exactly as the
//!   record holds them.
//! - Times the port queries by ranges are `bigint` nanoseconds since the
//!   Unix epoch: the port's timestamps have nanosecond precision and its
//!   range bounds are exact to the nanosecond, which `timestamptz`
//!   (microseconds) cannot hold.
//! - Ids and keys are `text COLLATE "C"`, so `ORDER BY id` is byte order,
//!   the order of Rust's `String` that the reference store uses, whatever
//!   the database's locale.
//! - `slot_holds`: one row per slot held by an appointment booked through
//!   this engine, primary key `(ods, slot_id)`. It is the database's own
//!   guarantee that a slot is held by at most one live appointment: a
//!   second booking of the slot cannot insert its hold, whatever the code
//!   above it does. Cancel deletes the appointment's holds; an import that
//!   frees a slot, or gives it another holder, or cancels the appointment,
//!   deletes the hold (the practice's own system has the last word).
//! - `limit_counters`: slot-count limit counters (R12), `used >= 0`.
//! - `clinical_lists`: one row per non-empty list of a patient's clinical
//!   record, so a section reads only the lists its views need.
//! - Sequences: `version_seq` (every record version, as in the reference
//!   store: one sequence per store), `appointment_id_seq` (`1`, `2`, ...),
//!   `patient_id_seq` (`p1`, `p2`, ...). Sequences are not transactional:
//!   a transaction that fails after taking a value leaves a gap. Versions
//!   and ids stay fresh (never reused), which is what the port promises; a
//!   single counter row would give gapless numbers but make every command
//!   of every practice wait for the one before it.

use postgres::Transaction;

/// The migrations, in order. Never edit one that has shipped: add the next.
pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "records, slot holds, limit counters, clinical lists, sequences",
    sql: V1,
}];

/// One schema change.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub version: i32,
    pub description: &'static str,
    pub sql: &'static str,
}

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i32 = 1;

const V1: &str = r#"
CREATE TABLE practices (
    ods             text COLLATE "C" PRIMARY KEY,
    version         bigint NOT NULL,
    asid            text NOT NULL,
    organization_id text NOT NULL,
    settings        jsonb NOT NULL
);

CREATE TABLE organizations (
    ods      text COLLATE "C" NOT NULL REFERENCES practices (ods),
    id       text COLLATE "C" NOT NULL,
    version  bigint NOT NULL,
    ods_code text COLLATE "C" NOT NULL,
    resource jsonb NOT NULL,
    PRIMARY KEY (ods, id)
);
CREATE INDEX organizations_by_ods_code ON organizations (ods, ods_code);

CREATE TABLE locations (
    ods      text COLLATE "C" NOT NULL REFERENCES practices (ods),
    id       text COLLATE "C" NOT NULL,
    version  bigint NOT NULL,
    resource jsonb NOT NULL,
    PRIMARY KEY (ods, id)
);

CREATE TABLE practitioners (
    ods          text COLLATE "C" NOT NULL REFERENCES practices (ods),
    id           text COLLATE "C" NOT NULL,
    version      bigint NOT NULL,
    sds_user_ids text[] NOT NULL,
    resource     jsonb NOT NULL,
    PRIMARY KEY (ods, id)
);
CREATE INDEX practitioners_by_sds_user_id ON practitioners USING gin (sds_user_ids);

CREATE TABLE patients (
    ods        text COLLATE "C" NOT NULL REFERENCES practices (ods),
    id         text COLLATE "C" NOT NULL,
    version    bigint NOT NULL,
    nhs_number text COLLATE "C" NOT NULL,
    resource   jsonb NOT NULL,
    flags      jsonb NOT NULL,
    PRIMARY KEY (ods, id)
);
CREATE INDEX patients_by_nhs_number ON patients (ods, nhs_number);

CREATE TABLE schedules (
    ods     text COLLATE "C" NOT NULL REFERENCES practices (ods),
    id      text COLLATE "C" NOT NULL,
    version bigint NOT NULL,
    body    jsonb NOT NULL,
    PRIMARY KEY (ods, id)
);

CREATE TABLE slots (
    ods            text COLLATE "C" NOT NULL REFERENCES practices (ods),
    id             text COLLATE "C" NOT NULL,
    version        bigint NOT NULL,
    schedule_id    text COLLATE "C" NOT NULL,
    start_ns       bigint NOT NULL,
    end_ns         bigint NOT NULL,
    free           boolean NOT NULL,
    appointment_id text COLLATE "C",
    body           jsonb NOT NULL,
    PRIMARY KEY (ods, id)
);
CREATE INDEX slots_by_start ON slots (ods, start_ns, id);
CREATE INDEX slots_by_schedule ON slots (ods, schedule_id, start_ns, id);
CREATE INDEX free_slots_by_start ON slots (ods, start_ns, id) WHERE free;

CREATE TABLE appointments (
    ods              text COLLATE "C" NOT NULL REFERENCES practices (ods),
    id               text COLLATE "C" NOT NULL,
    version          bigint NOT NULL,
    status           text NOT NULL CHECK (status IN ('booked', 'cancelled')),
    patient_id       text COLLATE "C" NOT NULL,
    start_ns         bigint NOT NULL,
    end_ns           bigint NOT NULL,
    slot_ids         text[] NOT NULL,
    booking_ods      text,
    limit_keys       text[] NOT NULL,
    last_modified_ns bigint NOT NULL,
    resource         jsonb NOT NULL,
    PRIMARY KEY (ods, id)
);
CREATE INDEX appointments_by_patient ON appointments (ods, patient_id, start_ns, id);

CREATE TABLE slot_holds (
    ods            text COLLATE "C" NOT NULL,
    slot_id        text COLLATE "C" NOT NULL,
    appointment_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (ods, slot_id),
    FOREIGN KEY (ods, slot_id) REFERENCES slots (ods, id),
    FOREIGN KEY (ods, appointment_id) REFERENCES appointments (ods, id)
);
CREATE INDEX slot_holds_by_appointment ON slot_holds (ods, appointment_id);

CREATE TABLE limit_counters (
    ods  text COLLATE "C" NOT NULL REFERENCES practices (ods),
    key  text COLLATE "C" NOT NULL,
    used bigint NOT NULL CHECK (used >= 0),
    PRIMARY KEY (ods, key)
);

CREATE TABLE clinical_lists (
    ods        text COLLATE "C" NOT NULL REFERENCES practices (ods),
    patient_id text COLLATE "C" NOT NULL,
    list       smallint NOT NULL,
    items      jsonb NOT NULL,
    PRIMARY KEY (ods, patient_id, list)
);

CREATE SEQUENCE version_seq;
CREATE SEQUENCE appointment_id_seq;
CREATE SEQUENCE patient_id_seq;
"#;

/// Why the schema could not be brought up to date.
#[derive(Debug)]
pub(crate) enum MigrateError {
    Pg(postgres::Error),
    /// The database was migrated by a newer build.
    TooNew(i32),
}

impl From<postgres::Error> for MigrateError {
    fn from(e: postgres::Error) -> Self {
        MigrateError::Pg(e)
    }
}

/// Create `schema` if missing and apply every migration it lacks, in one
/// transaction under an advisory lock (so two processes opening the same
/// schema at once migrate it once). Returns the version now in force.
///
/// `schema` has been checked to be a plain lower-case identifier, and the
/// connection's `search_path` is `schema`.
pub(crate) fn migrate(tx: &mut Transaction<'_>, schema: &str) -> Result<i32, MigrateError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('gpconnect schema ' || $1, 0))",
        &[&schema],
    )?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema};
         CREATE TABLE IF NOT EXISTS {schema}.schema_version (
             version     integer PRIMARY KEY,
             description text NOT NULL,
             applied_at  timestamptz NOT NULL DEFAULT now()
         );
         SET LOCAL search_path TO {schema};"
    ))?;
    let current: Option<i32> = tx
        .query_one(
            &format!("SELECT max(version) FROM {schema}.schema_version"),
            &[],
        )?
        .get(0);
    let current = current.unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(MigrateError::TooNew(current));
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.batch_execute(m.sql)?;
        tx.execute(
            &format!("INSERT INTO {schema}.schema_version (version, description) VALUES ($1, $2)"),
            &[&m.version, &m.description],
        )?;
    }
    Ok(SCHEMA_VERSION)
}

/// Whether `name` can be used unquoted as a schema name: a lower-case
/// letter or `_`, then lower-case letters, digits or `_`, at most 63 bytes,
/// and not a `pg_` name.
pub(crate) fn valid_schema_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 63
        && !name.starts_with("pg_")
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i32 + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }

    #[test]
    fn every_table_leads_with_ods_for_partitioning() {
        for m in MIGRATIONS {
            for table in m.sql.split("CREATE TABLE ").skip(1) {
                let (name, rest) = table.split_once(" (").expect("a table definition");
                let first = rest.split_whitespace().next();
                assert_eq!(first, Some("ods"), "table {name}");
                let key = rest
                    .lines()
                    .find(|l| l.trim_start().starts_with("PRIMARY KEY"))
                    .or_else(|| rest.lines().find(|l| l.contains("PRIMARY KEY")));
                let key = key.expect("a primary key");
                assert!(
                    key.contains("PRIMARY KEY (ods") || key.trim_start().starts_with("ods "),
                    "table {name}: primary key {key:?} must start with ods"
                );
            }
        }
    }

    #[test]
    fn schema_names() {
        for ok in ["gpconnect", "_x", "gpc_test_1"] {
            assert!(valid_schema_name(ok), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "Gpc",
            "a-b",
            "a;drop",
            "pg_catalog",
            &"a".repeat(64),
        ] {
            assert!(!valid_schema_name(bad), "{bad}");
        }
    }
}
