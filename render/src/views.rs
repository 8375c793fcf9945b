//! The ten views (accessrecord §2.2–§3): which items go in which table, in
//! which order, under which banners. Markup is only ever written through
//! `Writer`.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use jiff::civil::Date;

use crate::record::{
    Allergy, AllergyStatus, ClinicalRecord, Discontinuation, Exclusion, Medication,
    MedicationIssue, MedicationKind, Prescriber, Problem, ProblemStatus, Significance,
    Unavailability,
};
use crate::section::{Section, Table};
use crate::view::{BannerPlace, DatePeriod, RenderRequest};
use crate::xhtml::{Attr, Class, Tag, Writer};

/// `exclusion-banner` text (accessrecord §2.3).
pub const EXCLUSION_TEXT: &str = "Items excluded due to confidentiality and/or patient preferences";
/// Mandatory Discontinued Repeat Medication content banner (accessrecord
/// §3 MED 3, §5.1 item 18).
pub const DISCONTINUED_TEXT: &str = "All repeat medication ended by a clinician action";
/// Optional Acute Medication content banner (accessrecord §3 MED 1).
pub const SCHEDULED_END_TEXT: &str = "Scheduled End Date is not always captured in the source; where it was not recorded, the displayed date is calculated from start date and days duration";
/// Optional Current Repeat Medication content banner (accessrecord §3 MED 2).
pub const REVIEW_DATE_TEXT: &str = "The Review Date is that set for each Repeat Course. Reviews may be conducted according to a diary event which differs from the dates shown";
/// `date-banner` text with no consumer period on a filterable table (§2.4).
pub const ALL_RELEVANT_TEXT: &str = "All relevant items";
/// `date-banner` text when a period was sent but this table ignores it (§2.4).
pub const NOT_APPLIED_TEXT: &str = "Date filter not applied";

/// The h2 of a table in a multi-table view (accessrecord §3), and the
/// heading its placeholders quote. Encounters is `Last 3 Encounters`: it is
/// only ever a subsection in Summary; in ENC the h1 is used instead.
pub fn subsection_heading(table: Table) -> &'static str {
    match table {
        Table::EmergencyCodes => "Emergency Codes",
        Table::Encounters => "Last 3 Encounters",
        Table::ClinicalItems => "Clinical Items",
        Table::ActiveProblems => "Active Problems and Issues",
        Table::MajorInactiveProblems => "Major Inactive Problems and Issues",
        Table::OtherInactiveProblems => "Other Inactive Problems and Issues",
        Table::CurrentAllergies => "Current Allergies and Adverse Reactions",
        Table::HistoricalAllergies => "Historical Allergies and Adverse Reactions",
        Table::AcuteMedication => "Acute Medication (Last 12 Months)",
        Table::CurrentRepeatMedication => "Current Repeat Medication",
        Table::DiscontinuedRepeatMedication => "Discontinued Repeat Medication",
        Table::AllMedication => "All Medication",
        Table::AllMedicationIssues => "All Medication Issues",
        Table::Referrals => "Referrals",
        Table::Observations => "Observations",
        Table::Immunisations => "Immunisations",
        Table::AdministrativeItems => "Administrative Items",
    }
}

/// The column headers of a table, in order (accessrecord §3).
pub fn columns(table: Table) -> &'static [&'static str] {
    match table {
        Table::EmergencyCodes => &[
            "Date",
            "Entry",
            "Details",
            "Location of further information",
        ],
        Table::Encounters => &["Date", "Title", "Details"],
        Table::ClinicalItems | Table::AdministrativeItems => &["Date", "Entry", "Details"],
        Table::ActiveProblems => &["Start Date", "Entry", "Significance", "Details"],
        Table::MajorInactiveProblems | Table::OtherInactiveProblems => {
            &["Start Date", "End Date", "Entry", "Significance", "Details"]
        }
        Table::CurrentAllergies => &["Start Date", "Details"],
        Table::HistoricalAllergies => &["Start Date", "End Date", "Details"],
        Table::AcuteMedication => &[
            "Type",
            "Start Date",
            "Medication Item",
            "Dosage Instruction",
            "Quantity",
            "Scheduled End Date",
            "Days Duration",
            "Additional Information",
        ],
        Table::CurrentRepeatMedication => &[
            "Type",
            "Start Date",
            "Medication Item",
            "Dosage Instruction",
            "Quantity",
            "Last Issued Date",
            "Number of Prescriptions Issued",
            "Max Issues",
            "Review Date",
            "Additional Information",
        ],
        Table::DiscontinuedRepeatMedication => &[
            "Type",
            "Last Issued Date",
            "Medication Item",
            "Dosage Instruction",
            "Quantity",
            "Discontinued Date",
            "Discontinuation Reason",
            "Additional Information",
        ],
        Table::AllMedication => &[
            "Type",
            "Start Date",
            "Medication Item",
            "Dosage Instruction",
            "Quantity",
            "Last Issued Date",
            "Number of Prescriptions Issued",
            "Discontinuation Details",
            "Additional Information",
        ],
        Table::AllMedicationIssues => &[
            "Type",
            "Issue Date",
            "Medication Item",
            "Dosage Instruction",
            "Quantity",
            "Days Duration",
            "Additional Information",
        ],
        Table::Referrals => &["Date", "From", "To", "Priority", "Details"],
        Table::Observations => &["Date", "Entry", "Value", "Range", "Details"],
        Table::Immunisations => &["Date", "Vaccination", "Part", "Contents", "Details"],
    }
}

/// The tables of a section's view, in order (accessrecord §3, §5.1 item 13),
/// before any is replaced by a placeholder. Emergency Codes leads Summary
/// when the provider shows it.
pub fn tables(section: Section, emergency_codes: bool) -> Vec<Table> {
    match section {
        Section::Summary => {
            let mut t = Vec::with_capacity(7);
            if emergency_codes {
                t.push(Table::EmergencyCodes);
            }
            t.extend([
                Table::Encounters,
                Table::ActiveProblems,
                Table::MajorInactiveProblems,
                Table::CurrentAllergies,
                Table::AcuteMedication,
                Table::CurrentRepeatMedication,
            ]);
            t
        }
        Section::Encounters => vec![Table::Encounters],
        Section::ClinicalItems => vec![Table::ClinicalItems],
        Section::Problems => vec![
            Table::ActiveProblems,
            Table::MajorInactiveProblems,
            Table::OtherInactiveProblems,
        ],
        Section::Allergies => vec![Table::CurrentAllergies, Table::HistoricalAllergies],
        Section::Medications => vec![
            Table::AcuteMedication,
            Table::CurrentRepeatMedication,
            Table::DiscontinuedRepeatMedication,
            Table::AllMedication,
            Table::AllMedicationIssues,
        ],
        Section::Referrals => vec![Table::Referrals],
        Section::Observations => vec![Table::Observations],
        Section::Immunisations => vec![Table::Immunisations],
        Section::AdministrativeItems => vec![Table::AdministrativeItems],
    }
}

/// Which date banner a table carries (accessrecord §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateBanner {
    /// None at all (SUM, ALL, IMM).
    Omitted,
    /// The period applies to this table.
    Filtered,
    /// The section is filterable but this table always shows everything
    /// (PRB Active; MED Acute, Current Repeat, Discontinued).
    Unfiltered,
}

/// One render in progress.
struct View<'a> {
    record: &'a ClinicalRecord,
    request: &'a RenderRequest<'a>,
    /// The consumer's period, if the section takes one and it has a bound.
    period: Option<DatePeriod>,
    w: Writer,
}

/// Writes the view the request asks for.
pub(crate) fn write(record: &ClinicalRecord, request: &RenderRequest<'_>) -> String {
    let period = request.period.filter(|p| {
        request.section.accepts_time_period() && (p.start.is_some() || p.end.is_some())
    });
    let mut view = View {
        record,
        request,
        period,
        w: Writer::with_capacity(4096),
    };
    view.page();
    view.w.finish()
}

impl View<'_> {
    fn page(&mut self) {
        let section = self.request.section;
        self.w.open(Tag::Div, &[Attr::Xmlns]);
        self.w.text_element(Tag::H1, &[], section.title());
        if let Some(since) = self.request.transfer_since {
            self.w
                .element(Tag::Div, &[Attr::Class(Class::GpTransferBanner)], |w| {
                    w.element(Tag::P, &[], |w| {
                        w.text("Patient record transfer from previous GP practice not yet complete; information recorded before ");
                        w.date(since);
                        w.text(" may be missing");
                    });
                });
        }
        for banner in &self.request.options.content_banners {
            if banner.place == BannerPlace::Section(section) && !banner.text.is_empty() {
                banner_div(&mut self.w, Class::ContentBanner, &banner.text);
            }
        }
        let multi = matches!(
            section,
            Section::Summary | Section::Problems | Section::Allergies | Section::Medications
        );
        let filterable = section.accepts_time_period();
        for table in tables(section, self.request.options.emergency_codes) {
            let date_banner = if !filterable {
                DateBanner::Omitted
            } else if matches!(
                table,
                Table::ActiveProblems
                    | Table::AcuteMedication
                    | Table::CurrentRepeatMedication
                    | Table::DiscontinuedRepeatMedication
            ) {
                DateBanner::Unfiltered
            } else {
                DateBanner::Filtered
            };
            let heading = if multi {
                subsection_heading(table)
            } else {
                section.title()
            };
            let frame = Frame {
                table,
                heading,
                multi,
                date_banner,
            };
            self.table(&frame);
        }
        self.w.close(Tag::Div);
    }

    /// One table with its subsection, banners and placeholder.
    fn table(&mut self, frame: &Frame) {
        let table = frame.table;
        if frame.multi {
            self.w.open(Tag::Div, &[]);
            self.w.text_element(Tag::H2, &[], frame.heading);
        }
        let options = self.request.options;
        let fixed: Option<&str> = match table {
            Table::EmergencyCodes => options
                .emergency_codes_banner
                .as_deref()
                .filter(|t| !t.is_empty()),
            Table::AcuteMedication if options.scheduled_end_banner => Some(SCHEDULED_END_TEXT),
            Table::CurrentRepeatMedication if options.review_date_banner => Some(REVIEW_DATE_TEXT),
            Table::DiscontinuedRepeatMedication => Some(DISCONTINUED_TEXT),
            _ => None,
        };
        if let Some(text) = fixed {
            banner_div(&mut self.w, Class::ContentBanner, text);
        }
        for banner in &options.content_banners {
            if banner.place == BannerPlace::Table(table) && !banner.text.is_empty() {
                banner_div(&mut self.w, Class::ContentBanner, &banner.text);
            }
        }
        self.date_banner(frame.date_banner);
        let unavailable = self
            .record
            .unavailable
            .iter()
            .find(|u| u.table == table)
            .map(|u| u.reason);
        match unavailable {
            Some(reason) => unavailable_placeholder(&mut self.w, reason, frame.heading),
            None => self.table_body(frame),
        }
        if frame.multi {
            self.w.close(Tag::Div);
        }
    }

    fn date_banner(&mut self, kind: DateBanner) {
        let period = self.period;
        let w = &mut self.w;
        let write_text = |w: &mut Writer| match (kind, period) {
            (DateBanner::Omitted, _) => {}
            (_, None) => w.text(ALL_RELEVANT_TEXT),
            (DateBanner::Unfiltered, Some(_)) => w.text(NOT_APPLIED_TEXT),
            (DateBanner::Filtered, Some(p)) => match (p.start, p.end) {
                (Some(s), Some(e)) => {
                    w.text("For the period '");
                    w.date(s);
                    w.text("' to '");
                    w.date(e);
                    w.text("'");
                }
                (Some(s), None) => {
                    w.text("Data items from '");
                    w.date(s);
                    w.text("'");
                }
                (None, Some(e)) => {
                    w.text("Data items until '");
                    w.date(e);
                    w.text("'");
                }
                (None, None) => w.text(ALL_RELEVANT_TEXT),
            },
        };
        if kind != DateBanner::Omitted {
            w.element(Tag::Div, &[Attr::Class(Class::DateBanner)], |w| {
                w.element(Tag::P, &[], write_text);
            });
        }
    }

    fn in_period(&self, date: Date) -> bool {
        self.period.is_none_or(|p| p.contains(date))
    }

    fn table_body(&mut self, frame: &Frame) {
        let record = self.record;
        let table = frame.table;
        match table {
            Table::EmergencyCodes => {
                let mut all: Vec<_> = record.emergency_codes.iter().collect();
                all.sort_by(|a, b| {
                    b.date
                        .cmp(&a.date)
                        .then_with(|| a.entry.cmp(&b.entry))
                        .then_with(|| a.details.cmp(&b.details))
                        .then_with(|| a.location.cmp(&b.location))
                });
                // Only the most recent code of a group is shown; if that one
                // is withheld, the group shows nothing (an older code would
                // misstate the current status) and the banner says why.
                let mut groups = HashSet::new();
                let mut excluded = false;
                let mut rows = Vec::new();
                for code in all {
                    let newest = code.group.as_deref().is_none_or(|g| groups.insert(g));
                    if !newest {
                        continue;
                    }
                    if code.exclusion.is_excluded() {
                        excluded = true;
                    } else {
                        rows.push(code);
                    }
                }
                self.emit(frame, excluded, &rows, |w, c| {
                    td_date(w, Some(c.date));
                    td(w, &c.entry);
                    td(w, &c.details);
                    td(w, &c.location);
                });
            }
            Table::Encounters => {
                let mut all: Vec<_> = record
                    .encounters
                    .iter()
                    .filter(|e| self.in_period(e.date))
                    .collect();
                all.sort_by(|a, b| {
                    b.date
                        .cmp(&a.date)
                        .then_with(|| a.title.cmp(&b.title))
                        .then_with(|| a.details.cmp(&b.details))
                });
                let summary = self.request.section == Section::Summary;
                let (rows, excluded) = if summary {
                    // Last 3 Encounters: the three most recent that may be
                    // shown; the banner if a withheld one is among the three
                    // most recent of all.
                    let excluded = all.iter().take(3).any(|e| e.exclusion.is_excluded());
                    let rows: Vec<_> = all
                        .into_iter()
                        .filter(|e| !e.exclusion.is_excluded())
                        .take(3)
                        .collect();
                    (rows, excluded)
                } else {
                    split_excluded(all, |e| e.exclusion)
                };
                self.emit(frame, excluded, &rows, |w, e| {
                    td_date(w, Some(e.date));
                    td(w, &e.title);
                    td(w, &e.details);
                });
            }
            Table::ClinicalItems => {
                let mut all: Vec<_> = record
                    .clinical_items
                    .iter()
                    .filter(|e| self.in_period(e.date))
                    .collect();
                all.sort_by(|a, b| {
                    b.date
                        .cmp(&a.date)
                        .then_with(|| a.entry.cmp(&b.entry))
                        .then_with(|| a.details.cmp(&b.details))
                });
                let (rows, excluded) = split_excluded(all, |e| e.exclusion);
                self.emit(frame, excluded, &rows, |w, e| {
                    td_date(w, Some(e.date));
                    td(w, &e.entry);
                    td(w, &e.details);
                });
            }
            Table::AdministrativeItems => {
                let mut all: Vec<_> = record
                    .administrative_items
                    .iter()
                    .filter(|e| self.in_period(e.date))
                    .collect();
                all.sort_by(|a, b| {
                    b.date
                        .cmp(&a.date)
                        .then_with(|| a.entry.cmp(&b.entry))
                        .then_with(|| a.details.cmp(&b.details))
                });
                let (rows, excluded) = split_excluded(all, |e| e.exclusion);
                self.emit(frame, excluded, &rows, |w, e| {
                    td_date(w, Some(e.date));
                    td(w, &e.entry);
                    td(w, &e.details);
                });
            }
            Table::ActiveProblems | Table::MajorInactiveProblems | Table::OtherInactiveProblems => {
                self.problems(frame)
            }
            Table::CurrentAllergies | Table::HistoricalAllergies => self.allergies(frame),
            Table::AcuteMedication
            | Table::CurrentRepeatMedication
            | Table::DiscontinuedRepeatMedication
            | Table::AllMedication
            | Table::AllMedicationIssues => self.medications(frame),
            Table::Referrals => {
                let mut all: Vec<_> = record
                    .referrals
                    .iter()
                    .filter(|e| self.in_period(e.date))
                    .collect();
                all.sort_by(|a, b| {
                    b.date
                        .cmp(&a.date)
                        .then_with(|| a.from.cmp(&b.from))
                        .then_with(|| a.to.cmp(&b.to))
                        .then_with(|| a.priority.cmp(&b.priority))
                        .then_with(|| a.details.cmp(&b.details))
                });
                let (rows, excluded) = split_excluded(all, |e| e.exclusion);
                self.emit(frame, excluded, &rows, |w, e| {
                    td_date(w, Some(e.date));
                    td(w, &e.from);
                    td(w, &e.to);
                    td(w, &e.priority);
                    td(w, &e.details);
                });
            }
            Table::Observations => {
                let mut all: Vec<_> = record
                    .observations
                    .iter()
                    .filter(|e| self.in_period(e.date))
                    .collect();
                all.sort_by(|a, b| {
                    b.date
                        .cmp(&a.date)
                        .then_with(|| a.entry.cmp(&b.entry))
                        .then_with(|| measurement_key(a).cmp(&measurement_key(b)))
                        .then_with(|| a.details.cmp(&b.details))
                });
                let (rows, excluded) = split_excluded(all, |e| e.exclusion);
                self.emit(frame, excluded, &rows, |w, o| {
                    td_date(w, Some(o.date));
                    td(w, &o.entry);
                    let value_unit = o
                        .value
                        .as_ref()
                        .and_then(|v| v.unit.as_deref())
                        .filter(|u| !u.is_empty());
                    w.element(Tag::Td, &[], |w| {
                        if let Some(v) = &o.value {
                            w.text(&v.value);
                            if let Some(unit) = value_unit {
                                w.text(" ");
                                w.text(unit);
                            }
                        }
                    });
                    w.element(Tag::Td, &[], |w| {
                        if let Some(r) = &o.range {
                            write_range(w, r, value_unit);
                        }
                    });
                    td(w, &o.details);
                });
            }
            Table::Immunisations => {
                let mut all: Vec<_> = record
                    .immunisations
                    .iter()
                    .filter(|e| self.in_period(e.date))
                    .collect();
                all.sort_by(|a, b| {
                    b.date
                        .cmp(&a.date)
                        .then_with(|| a.vaccination.cmp(&b.vaccination))
                        .then_with(|| a.part.cmp(&b.part))
                        .then_with(|| a.contents.cmp(&b.contents))
                        .then_with(|| a.details.cmp(&b.details))
                });
                let (rows, excluded) = split_excluded(all, |e| e.exclusion);
                self.emit(frame, excluded, &rows, |w, i| {
                    td_date(w, Some(i.date));
                    td(w, &i.vaccination);
                    td_uint(w, i.part.map(u64::from));
                    td(w, &i.contents);
                    td(w, &i.details);
                });
            }
        }
    }

    fn problems(&mut self, frame: &Frame) {
        let table = frame.table;
        // A system without significance levels has no Major table and puts
        // every inactive problem in Other (accessrecord §3 PRB).
        let no_significance = self.record.unavailable.iter().any(|u| {
            u.table == Table::MajorInactiveProblems && u.reason == Unavailability::NotSupported
        });
        let filter = self.request.section == Section::Problems;
        let mut all: Vec<&Problem> = self
            .record
            .problems
            .iter()
            .filter(|p| match table {
                Table::ActiveProblems => p.status == ProblemStatus::Active,
                _ => {
                    let major = p.significance == Some(Significance::Major) && !no_significance;
                    p.status == ProblemStatus::Inactive
                        && major == (table == Table::MajorInactiveProblems)
                        && (!filter || self.problem_in_period(p))
                }
            })
            .collect();
        let by_text = |a: &&Problem, b: &&Problem| {
            a.entry
                .cmp(&b.entry)
                .then_with(|| {
                    a.significance
                        .map(Significance::label)
                        .cmp(&b.significance.map(Significance::label))
                })
                .then_with(|| a.details.cmp(&b.details))
        };
        if table == Table::ActiveProblems {
            all.sort_by(|a, b| b.start.cmp(&a.start).then_with(|| by_text(a, b)));
        } else {
            all.sort_by(|a, b| {
                b.end
                    .cmp(&a.end)
                    .then_with(|| b.start.cmp(&a.start))
                    .then_with(|| by_text(a, b))
            });
        }
        let (rows, excluded) = split_excluded(all, |p| p.exclusion);
        let inactive = table != Table::ActiveProblems;
        self.emit(frame, excluded, &rows, |w, p| {
            td_date(w, Some(p.start));
            if inactive {
                td_date(w, p.end);
            }
            td(w, &p.entry);
            td(w, p.significance.map_or("", Significance::label));
            td(w, &p.details);
        });
    }

    /// An inactive problem is in the period when the span it was active,
    /// start to end (start alone if no end is recorded), overlaps it. The
    /// spec leaves the date undefined (accessrecord §3 PRB); the overlap
    /// includes every problem the demonstrator's start-date test finds.
    fn problem_in_period(&self, p: &Problem) -> bool {
        self.period
            .is_none_or(|period| overlaps(period, p.start, Some(p.end.unwrap_or(p.start))))
    }

    fn allergies(&mut self, frame: &Frame) {
        let status = if frame.table == Table::CurrentAllergies {
            AllergyStatus::Current
        } else {
            AllergyStatus::Historical
        };
        let mut all: Vec<&Allergy> = self
            .record
            .allergies
            .iter()
            .filter(|a| a.status == status)
            .collect();
        if status == AllergyStatus::Current {
            all.sort_by(|a, b| {
                b.start
                    .cmp(&a.start)
                    .then_with(|| a.details.cmp(&b.details))
            });
        } else {
            all.sort_by(|a, b| {
                b.end
                    .cmp(&a.end)
                    .then_with(|| b.start.cmp(&a.start))
                    .then_with(|| a.details.cmp(&b.details))
            });
        }
        let (rows, excluded) = split_excluded(all, |a| a.exclusion);
        self.emit(frame, excluded, &rows, |w, a| {
            td_date(w, Some(a.start));
            if status == AllergyStatus::Historical {
                td_date(w, a.end);
            }
            td(w, &a.details);
        });
    }

    fn medications(&mut self, frame: &Frame) {
        let today = self.request.today;
        let meds = &self.record.medications;
        match frame.table {
            Table::AcuteMedication => {
                let cutoff = twelve_months_before(today);
                let mut all: Vec<_> = meds
                    .iter()
                    .filter(|m| {
                        m.kind == MedicationKind::Acute && cutoff.is_none_or(|c| m.start > c)
                    })
                    .map(MedRow::new)
                    .collect();
                all.sort_by(|a, b| b.m.start.cmp(&a.m.start).then_with(|| a.by_text(b)));
                let (rows, excluded) = split_excluded(all, |r| r.m.exclusion);
                self.emit(frame, excluded, &rows, |w, r| {
                    td(w, &r.kind_text);
                    td_date(w, Some(r.m.start));
                    td(w, &r.m.item);
                    td(w, &r.m.dosage);
                    td(w, &r.m.quantity);
                    td_date(w, r.m.scheduled_end);
                    td_uint(w, r.m.days_duration.map(u64::from));
                    w.element(Tag::Td, &[], |w| additional_information(w, r.m, true));
                });
            }
            Table::CurrentRepeatMedication => {
                let mut all: Vec<_> = meds
                    .iter()
                    .filter(|m| {
                        m.kind != MedicationKind::Acute
                            && m.discontinuation.is_none()
                            && m.authorisation_end.is_none_or(|end| end > today)
                    })
                    .map(MedRow::new)
                    .collect();
                all.sort_by(|a, b| b.m.start.cmp(&a.m.start).then_with(|| a.by_text(b)));
                let (rows, excluded) = split_excluded(all, |r| r.m.exclusion);
                self.emit(frame, excluded, &rows, |w, r| {
                    td(w, &r.kind_text);
                    td_date(w, Some(r.m.start));
                    td(w, &r.m.item);
                    td(w, &r.m.dosage);
                    td(w, &r.m.quantity);
                    td_date(w, r.last_issued);
                    td_uint(w, r.count());
                    td_uint(w, r.m.max_issues.map(u64::from));
                    td_date(w, r.m.review_date);
                    w.element(Tag::Td, &[], |w| additional_information(w, r.m, false));
                });
            }
            Table::DiscontinuedRepeatMedication => {
                let mut all: Vec<_> = meds
                    .iter()
                    .filter(|m| m.kind != MedicationKind::Acute && m.discontinuation.is_some())
                    .map(MedRow::new)
                    .collect();
                all.sort_by(|a, b| {
                    b.last_issued
                        .cmp(&a.last_issued)
                        .then_with(|| {
                            let d = |r: &MedRow| r.m.discontinuation.as_ref().map(|d| d.date);
                            d(b).cmp(&d(a))
                        })
                        .then_with(|| a.by_text(b))
                });
                let (rows, excluded) = split_excluded(all, |r| r.m.exclusion);
                self.emit(frame, excluded, &rows, |w, r| {
                    td(w, &r.kind_text);
                    td_date(w, r.last_issued);
                    td(w, &r.m.item);
                    td(w, &r.m.dosage);
                    td(w, &r.m.quantity);
                    let d = r.m.discontinuation.as_ref();
                    td_date(w, d.map(|d| d.date));
                    td(w, d.map_or("", |d| d.reason.as_str()));
                    w.element(Tag::Td, &[], |w| additional_information(w, r.m, false));
                });
            }
            Table::AllMedication => {
                let all: Vec<_> = meds
                    .iter()
                    .filter(|m| self.medication_in_period(m))
                    .map(MedRow::new)
                    .collect();
                let (rows, excluded) = split_excluded(all, |r| r.m.exclusion);
                let rank = group_ranks(rows.iter().map(|r| r.m.item.as_str()));
                let mut rows: Vec<(usize, &MedRow)> =
                    rows.iter().map(|r| (rank(&r.m.item), r)).collect();
                rows.sort_by(|(ga, a), (gb, b)| {
                    ga.cmp(gb)
                        .then_with(|| b.all_med_start().cmp(&a.all_med_start()))
                        .then_with(|| a.by_text(b))
                });
                self.emit_grouped(
                    frame,
                    excluded,
                    &rows,
                    9,
                    |(_, r)| &r.m.item,
                    |w, (_, r)| {
                        td(w, &r.kind_text);
                        td_date(w, Some(r.all_med_start()));
                        td(w, &r.m.item);
                        td(w, &r.m.dosage);
                        td(w, &r.m.quantity);
                        td_date(w, r.last_issued);
                        td_uint(w, r.count());
                        w.element(Tag::Td, &[], |w| {
                            if let Some(d) = &r.m.discontinuation {
                                let label = if r.m.kind == MedicationKind::Acute {
                                    "CANCELLED: "
                                } else {
                                    "DISCONTINUED: "
                                };
                                discontinuation(w, label, d);
                            }
                        });
                        w.element(Tag::Td, &[], |w| additional_information(w, r.m, false));
                    },
                );
            }
            Table::AllMedicationIssues => {
                let mut excluded = false;
                let mut meds_with_issues: Vec<MedRow> = Vec::new();
                for m in meds.iter().filter(|m| self.medication_in_period(m)) {
                    if issues_of(m).is_empty() {
                        continue;
                    }
                    if m.exclusion.is_excluded() {
                        excluded = true;
                        continue;
                    }
                    meds_with_issues.push(MedRow::new(m));
                }
                let rank = group_ranks(meds_with_issues.iter().map(|r| r.m.item.as_str()));
                let mut rows: Vec<(usize, &MedRow, &MedicationIssue)> = meds_with_issues
                    .iter()
                    .flat_map(|r| {
                        let g = rank(&r.m.item);
                        issues_of(r.m).iter().map(move |i| (g, r, i))
                    })
                    .collect();
                rows.sort_by(|(ga, a, ia), (gb, b, ib)| {
                    ga.cmp(gb)
                        .then_with(|| ib.date.cmp(&ia.date))
                        .then_with(|| a.by_text(b))
                });
                self.emit_grouped(
                    frame,
                    excluded,
                    &rows,
                    7,
                    |(_, r, _)| &r.m.item,
                    |w, (_, r, issue)| {
                        td(w, &r.kind_text);
                        td_date(w, Some(issue.date));
                        td(w, &r.m.item);
                        td(w, &r.m.dosage);
                        td(w, &r.m.quantity);
                        td_uint(w, r.m.days_duration.map(u64::from));
                        w.element(Tag::Td, &[], |w| additional_information(w, r.m, false));
                    },
                );
            }
            _ => {}
        }
    }

    /// All Medication's date filter (accessrecord §3 MED rules a–c; d does
    /// not arise: every item has a start). The effective end is the
    /// scheduled end; for repeats also the discontinuation date and the
    /// authorisation end, whichever is first (a discontinued repeat is not
    /// "ongoing").
    fn medication_in_period(&self, m: &Medication) -> bool {
        let Some(period) = self.period else {
            return true;
        };
        let end = if m.kind == MedicationKind::Acute {
            m.scheduled_end
        } else {
            [
                m.scheduled_end,
                m.discontinuation.as_ref().map(|d| d.date),
                m.authorisation_end,
            ]
            .into_iter()
            .flatten()
            .min()
        };
        match (m.kind, end) {
            // (a) start and end: the span overlaps the period.
            (_, Some(end)) => overlaps(period, m.start, Some(end)),
            // (c) acute, start only: the start is in the period.
            (MedicationKind::Acute, None) => period.contains(m.start),
            // (b) repeat, start only: ongoing.
            (_, None) => overlaps(period, m.start, None),
        }
    }

    /// Banners for exclusions, then the table or placeholder 1.
    fn emit<T>(
        &mut self,
        frame: &Frame,
        excluded: bool,
        rows: &[T],
        mut row: impl FnMut(&mut Writer, &T),
    ) {
        self.emit_body(frame, excluded, rows.is_empty(), |w| {
            for r in rows {
                w.element(Tag::Tr, &[], |w| row(w, r));
            }
        });
    }

    /// Like `View::emit`, with a group row
    /// `<tr><td colspan="N" class="med-item-column"><strong>ITEM</strong></td></tr>`
    /// before each run of rows with the same medication item (rows come
    /// sorted by item).
    fn emit_grouped<T>(
        &mut self,
        frame: &Frame,
        excluded: bool,
        rows: &[T],
        colspan: u8,
        item: impl Fn(&T) -> &str,
        mut row: impl FnMut(&mut Writer, &T),
    ) {
        self.emit_body(frame, excluded, rows.is_empty(), |w| {
            let mut current: Option<&str> = None;
            for r in rows {
                let this = item(r);
                if current != Some(this) {
                    current = Some(this);
                    w.element(Tag::Tr, &[], |w| {
                        w.element(
                            Tag::Td,
                            &[Attr::Colspan(colspan), Attr::Class(Class::MedItemColumn)],
                            |w| w.text_element(Tag::Strong, &[], this),
                        );
                    });
                }
                w.element(Tag::Tr, &[], |w| row(w, r));
            }
        });
    }

    fn emit_body(
        &mut self,
        frame: &Frame,
        excluded: bool,
        empty: bool,
        body: impl FnOnce(&mut Writer),
    ) {
        let w = &mut self.w;
        if excluded {
            banner_div(w, Class::ExclusionBanner, EXCLUSION_TEXT);
        }
        if empty {
            placeholder(
                w,
                &[
                    "No '",
                    frame.heading,
                    "' data is recorded for this patient.",
                ],
            );
            return;
        }
        w.element(Tag::Table, &[Attr::Id(frame.table)], |w| {
            w.element(Tag::Thead, &[], |w| {
                w.element(Tag::Tr, &[], |w| {
                    for c in columns(frame.table) {
                        w.text_element(Tag::Th, &[], c);
                    }
                });
            });
            w.element(Tag::Tbody, &[], body);
        });
    }
}

/// A table's place in the page.
struct Frame<'a> {
    table: Table,
    /// The h2 (multi-table) or h1 (single-table) the placeholders quote.
    heading: &'a str,
    multi: bool,
    date_banner: DateBanner,
}

/// The items that may be shown, and whether any item was withheld.
fn split_excluded<T>(all: Vec<T>, exclusion: impl Fn(&T) -> Exclusion) -> (Vec<T>, bool) {
    let before = all.len();
    let rows: Vec<T> = all
        .into_iter()
        .filter(|t| !exclusion(t).is_excluded())
        .collect();
    let excluded = rows.len() != before;
    (rows, excluded)
}

/// Whether `[start, end]` (open-ended if `end` is `None`) overlaps the
/// period, inclusive days.
fn overlaps(period: DatePeriod, start: Date, end: Option<Date>) -> bool {
    let (lo, hi) = match end {
        Some(end) if end < start => (end, Some(start)),
        _ => (start, end),
    };
    period.end.is_none_or(|pe| lo <= pe) && period.start.is_none_or(|ps| hi.is_none_or(|h| h >= ps))
}

/// The day before the Acute Medication window: the same day a year before
/// (28 February for 29 February). Items starting after it are in the "Last
/// 12 Months". `None` if the calendar has no such day (year −9999).
pub fn twelve_months_before(today: Date) -> Option<Date> {
    let year = today.year().checked_sub(1)?;
    Date::new(year, today.month(), today.day())
        .or_else(|_| Date::new(year, today.month(), 28))
        .ok()
}

/// Medication groups: alphabetical ignoring case, then exact text so equal
/// items stay together and the order never depends on the input order.
fn item_order(a: &str, b: &str) -> Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
        .then_with(|| a.cmp(b))
}

/// Each distinct medication item's place in the group order
/// ([`item_order`]), so rows sort on an integer instead of comparing text.
fn group_ranks<'a>(items: impl Iterator<Item = &'a str>) -> impl Fn(&str) -> usize + 'a {
    let mut distinct: Vec<&'a str> = items.collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.sort_by(|a, b| item_order(a, b));
    let ranks: HashMap<&'a str, usize> = distinct
        .into_iter()
        .enumerate()
        .map(|(i, s)| (s, i))
        .collect();
    move |item: &str| ranks.get(item).copied().unwrap_or(usize::MAX)
}

/// The issues a medication shows: none for repeat dispensing or items
/// prescribed elsewhere (the GP system holds none; accessrecord §3 MED 5),
/// whatever the host sent.
fn issues_of(m: &Medication) -> &[MedicationIssue] {
    if m.kind == MedicationKind::RepeatDispense || matches!(m.prescriber, Prescriber::Elsewhere(_))
    {
        &[]
    } else {
        &m.issues
    }
}

/// The Type column (accessrecord §3 MED).
pub fn medication_type(m: &Medication) -> Cow<'static, str> {
    let base = match m.kind {
        MedicationKind::Acute if m.post_dated => "Acute Post-Dated",
        MedicationKind::Acute => "Acute",
        MedicationKind::Repeat => "Repeat",
        MedicationKind::RepeatDispense => "Repeat Dispensing",
    };
    match &m.prescriber {
        Prescriber::Practice => Cow::Borrowed(base),
        Prescriber::Elsewhere(agency) => {
            let agency = agency
                .as_deref()
                .filter(|a| !a.is_empty())
                .unwrap_or("Unknown Prescriber");
            Cow::Owned(format!("{base} \u{2013} {agency}"))
        }
    }
}

/// A medication with what its rows derive from its issues.
struct MedRow<'a> {
    m: &'a Medication,
    kind_text: Cow<'static, str>,
    first_issued: Option<Date>,
    last_issued: Option<Date>,
    issued: usize,
}

impl<'a> MedRow<'a> {
    fn new(m: &'a Medication) -> MedRow<'a> {
        let issues = issues_of(m);
        MedRow {
            m,
            kind_text: medication_type(m),
            first_issued: issues.iter().map(|i| i.date).min(),
            last_issued: issues.iter().map(|i| i.date).max(),
            issued: issues.len(),
        }
    }

    /// Number of Prescriptions Issued: empty when nothing was issued.
    fn count(&self) -> Option<u64> {
        (self.issued > 0).then_some(self.issued as u64)
    }

    /// All Medication's Start Date: the first issue when there are issues
    /// (the suite checks Start Date = min issue date, §5.1 item 17), else
    /// the item's start.
    fn all_med_start(&self) -> Date {
        self.first_issued.unwrap_or(self.m.start)
    }

    fn by_text(&self, other: &MedRow) -> Ordering {
        self.m
            .item
            .cmp(&other.m.item)
            .then_with(|| self.kind_text.cmp(&other.kind_text))
            .then_with(|| self.m.dosage.cmp(&other.m.dosage))
            .then_with(|| self.m.quantity.cmp(&other.m.quantity))
            .then_with(|| self.m.start.cmp(&other.m.start))
    }
}

/// `CANCELLED: dd-Mmm-yyyy reason` / `DISCONTINUED: …`.
fn discontinuation(w: &mut Writer, label: &str, d: &Discontinuation) {
    w.text(label);
    w.date(d.date);
    if !d.reason.is_empty() {
        w.text(" ");
        w.text(&d.reason);
    }
}

/// Additional Information: a `<br/>`-separated list (accessrecord §3 MED):
/// `CONTROLLED DRUG` in bold; `CANCELLED: …` for a cancelled acute when the
/// table has no discontinuation column (`cancelled`); the reason;
/// `Linked Problem : …` per problem; for repeat dispensing the last
/// authorisation and the issues authorised; other information.
fn additional_information(w: &mut Writer, m: &Medication, cancelled: bool) {
    let mut first = true;
    let mut next = |w: &mut Writer| {
        if !first {
            w.br();
        }
        first = false;
    };
    if m.controlled_drug {
        next(w);
        w.text_element(Tag::Strong, &[], "CONTROLLED DRUG");
    }
    if cancelled && m.kind == MedicationKind::Acute {
        if let Some(d) = &m.discontinuation {
            next(w);
            discontinuation(w, "CANCELLED: ", d);
        }
    }
    if let Some(reason) = m.reason.as_deref().filter(|r| !r.is_empty()) {
        next(w);
        w.text(reason);
    }
    for problem in m.linked_problems.iter().filter(|p| !p.is_empty()) {
        next(w);
        w.text("Linked Problem : ");
        w.text(problem);
    }
    if m.kind == MedicationKind::RepeatDispense {
        if let Some(d) = m.last_authorised {
            next(w);
            w.text("Last Authorised : ");
            w.date(d);
        }
        if let Some(n) = m.max_issues {
            next(w);
            w.text("Issues Authorised : ");
            w.uint(u64::from(n));
        }
    }
    if let Some(info) = m
        .additional_information
        .as_deref()
        .filter(|i| !i.is_empty())
    {
        next(w);
        w.text(info);
    }
}

/// Range: `low - high`, `≥ low` or `≤ high`, the range's unit when it
/// differs from the value's, then any free-text range, space-separated.
fn write_range(w: &mut Writer, r: &crate::record::ReferenceRange, value_unit: Option<&str>) {
    let mut wrote = false;
    let mut space = |w: &mut Writer| {
        if wrote {
            w.text(" ");
        }
        wrote = true;
    };
    let low = r.low.as_deref().filter(|s| !s.is_empty());
    let high = r.high.as_deref().filter(|s| !s.is_empty());
    match (low, high) {
        (Some(l), Some(h)) => {
            space(w);
            w.text(l);
            w.text(" - ");
            w.text(h);
        }
        (Some(l), None) => {
            space(w);
            w.text("\u{2265} ");
            w.text(l);
        }
        (None, Some(h)) => {
            space(w);
            w.text("\u{2264} ");
            w.text(h);
        }
        (None, None) => {}
    }
    if let Some(unit) = r.unit.as_deref().filter(|u| !u.is_empty()) {
        if (low.is_some() || high.is_some()) && Some(unit) != value_unit {
            space(w);
            w.text(unit);
        }
    }
    if let Some(text) = r.text.as_deref().filter(|t| !t.is_empty()) {
        space(w);
        w.text(text);
    }
}

fn measurement_key(o: &crate::record::Observation) -> Option<(&str, Option<&str>)> {
    o.value
        .as_ref()
        .map(|v| (v.value.as_str(), v.unit.as_deref()))
}

fn td(w: &mut Writer, text: &str) {
    w.text_element(Tag::Td, &[], text);
}

/// A date cell: `class="date-column"` when it holds a date, a bare empty
/// `<td></td>` otherwise (accessrecord §2.6).
fn td_date(w: &mut Writer, date: Option<Date>) {
    match date {
        Some(d) => w.element(Tag::Td, &[Attr::Class(Class::DateColumn)], |w| w.date(d)),
        None => w.element(Tag::Td, &[], |_| {}),
    }
}

fn td_uint(w: &mut Writer, n: Option<u64>) {
    w.element(Tag::Td, &[], |w| {
        if let Some(n) = n {
            w.uint(n);
        }
    });
}

/// `<div class="CLASS"><p>TEXT</p></div>` (accessrecord §2.3).
fn banner_div(w: &mut Writer, class: Class, text: &str) {
    w.element(Tag::Div, &[Attr::Class(class)], |w| {
        w.text_element(Tag::P, &[], text);
    });
}

/// A placeholder: `<div><p>…</p></div>` (accessrecord §2.5).
fn placeholder(w: &mut Writer, parts: &[&str]) {
    w.element(Tag::Div, &[], |w| {
        w.element(Tag::P, &[], |w| {
            for p in parts {
                w.text(p);
            }
        });
    });
}

/// Placeholders 2–4 (accessrecord §2.5).
fn unavailable_placeholder(w: &mut Writer, reason: Unavailability, heading: &str) {
    const MAY_EXIST: &str = "This data may still exist in the source system.";
    w.element(Tag::Div, &[], |w| match reason {
        Unavailability::CannotExtract => {
            w.element(Tag::P, &[], |w| {
                w.text("This system does not support retrieval of '");
                w.text(heading);
                w.text("' data.");
            });
            w.text_element(Tag::P, &[], MAY_EXIST);
        }
        Unavailability::AccessDenied => {
            w.element(Tag::P, &[], |w| {
                w.text("Access is denied to '");
                w.text(heading);
                w.text("' data for this patient.");
            });
            w.text_element(Tag::P, &[], MAY_EXIST);
        }
        Unavailability::NotSupported => {
            w.element(Tag::P, &[], |w| {
                w.text("'");
                w.text(heading);
                w.text("' data is not supported by this system.");
            });
        }
    });
}
