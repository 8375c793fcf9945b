//! What to render: the section, the consumer's period, "today", and the
//! provider's configuration.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::section::{Section, Table};

/// A consumer's `timePeriod`, already validated and expanded to whole days
/// by the engine (accessrecord §1.4: `2016-02` as an end is 29-Feb-2016).
/// Both bounds are inclusive days; at least one is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatePeriod {
    /// First day included, if the consumer sent a start.
    pub start: Option<Date>,
    /// Last day included, if the consumer sent an end.
    pub end: Option<Date>,
}

impl DatePeriod {
    /// Whether `date` falls in the period (inclusive days).
    pub fn contains(&self, date: Date) -> bool {
        self.start.is_none_or(|s| s <= date) && self.end.is_none_or(|e| date <= e)
    }
}

/// One render of one section for one patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderRequest<'a> {
    /// The section asked for.
    pub section: Section,
    /// The consumer's period; `None` = all items. The engine refuses a
    /// period for SUM, ALL and IMM before rendering.
    pub period: Option<DatePeriod>,
    /// Today in UK local time: Acute Medication covers start dates after
    /// `today − 365 days`, and current repeats end after today.
    pub today: Date,
    /// The patient's record is in transit after a GP2GP transfer: the date
    /// they registered here, for the `gptransfer-banner` on every view.
    pub transfer_since: Option<Date>,
    /// The provider's configuration.
    pub options: &'a RenderOptions,
}

/// What a provider configures about the views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RenderOptions {
    /// Show the Emergency Codes table at the top of Summary (0.7.3; on by
    /// default, switched by configuration, not code).
    pub emergency_codes: bool,
    /// Content banner for the Emergency Codes table, if any.
    pub emergency_codes_banner: Option<String>,
    /// Add the optional Acute Medication banner about calculated Scheduled
    /// End Dates.
    pub scheduled_end_banner: bool,
    /// Add the optional Current Repeat banner about Review Dates.
    pub review_date_banner: bool,
    /// The provider's own content banners (accessrecord §2.3: how a section
    /// or subsection was populated, or where it falls short), in order.
    pub content_banners: Vec<ContentBanner>,
}

/// A provider's `content-banner` (accessrecord §2.2, §2.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContentBanner {
    /// Where it goes.
    pub place: BannerPlace,
    /// The text (escaped like any other; newlines become `<br/>`).
    pub text: String,
}

/// Where a content banner goes (accessrecord §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BannerPlace {
    /// Under the section's h1, after the GP transfer banner.
    Section(Section),
    /// Against one table, wherever it appears (its h2 in multi-table views,
    /// the h1 in single-table views, and in Summary when Summary shows the
    /// table: §2.2 "only when they relate to table content that is visible
    /// in Summary").
    Table(Table),
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            emergency_codes: true,
            emergency_codes_banner: None,
            scheduled_end_banner: false,
            review_date_banner: false,
            content_banners: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_read_from_camel_case_json_with_defaults() {
        let options: RenderOptions = serde_json::from_str(
            r#"{"reviewDateBanner": true, "contentBanners": [
                {"place": {"section": "PRB"}, "text": "All inactive problems are in Other"},
                {"place": {"table": "majorInactiveProblems"}, "text": "x"}]}"#,
        )
        .unwrap();
        assert!(options.emergency_codes && options.review_date_banner);
        assert_eq!(
            options.content_banners[0].place,
            BannerPlace::Section(Section::Problems)
        );
        assert_eq!(
            options.content_banners[1].place,
            BannerPlace::Table(Table::MajorInactiveProblems)
        );
        let back: RenderOptions =
            serde_json::from_str(&serde_json::to_string(&options).unwrap()).unwrap();
        assert_eq!(back, options);
        assert!(serde_json::from_str::<RenderOptions>(r#"{"banners": []}"#).is_err());
    }

    #[test]
    fn sample_record_round_trips_through_json() {
        let record = crate::sample::rich_record(jiff::civil::date(2025, 6, 10));
        let json = serde_json::to_string(&record).unwrap();
        assert!(json.contains("\"lastAuthorised\""));
        let back: crate::ClinicalRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record);
    }
}
