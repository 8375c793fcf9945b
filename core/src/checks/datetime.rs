//! (placeholder until the datetime module lands)
pub fn is_valid_date(s: &str) -> bool {
    !s.is_empty()
}
pub fn is_valid_date_time(s: &str) -> bool {
    !s.is_empty()
}
pub fn is_valid_instant(s: &str) -> bool {
    !s.is_empty()
}
pub fn is_valid_time(s: &str) -> bool {
    !s.is_empty()
}
