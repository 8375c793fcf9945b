//! Foundations 1.2.9 (F1–F9) (in progress).
