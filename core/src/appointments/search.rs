//! A1 search for free slots (in progress).
