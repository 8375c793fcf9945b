//! The conformance suite against every backend, so they cannot drift: the
//! reference `MemoryStore`, `SledStore` in every durability mode, and the
//! example host adapter `TableStore`.

mod memory {
    gpconnect_storage::conformance_tests!(gpconnect_storage::MemoryStore::new);
}

mod sled_immediate {
    use gpconnect_storage::{Durability, SledOptions, SledStore};

    fn store() -> SledStore {
        SledStore::open_temporary(SledOptions::with_durability(Durability::Immediate))
            .expect("temporary sled store")
    }

    gpconnect_storage::conformance_tests!(store);
}

mod sled_synced {
    use gpconnect_storage::{Durability, SledOptions, SledStore};

    fn store() -> SledStore {
        SledStore::open_temporary(SledOptions::with_durability(Durability::Synced))
            .expect("temporary sled store")
    }

    gpconnect_storage::conformance_tests!(store);
}

mod sled_buffered {
    use gpconnect_storage::{Durability, SledOptions, SledStore};

    fn store() -> SledStore {
        SledStore::open_temporary(SledOptions::with_durability(Durability::Buffered))
            .expect("temporary sled store")
    }

    gpconnect_storage::conformance_tests!(store);
}

mod host_tables {
    gpconnect_storage::conformance_tests!(gpconnect_storage::host::TableStore::new);
}
