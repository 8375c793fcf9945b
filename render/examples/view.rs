//! Prints one view of the sample record:
//! `cargo run -p gpconnect-render --example view -- SECTION [START|-] [END|-] [empty]`
//! e.g. `… -- MED 2015-05-01 2016-07-01`. "Today" is 10-Jun-2025.

use gpconnect_render::{
    ClinicalRecord, DatePeriod, RenderOptions, RenderRequest, Section, render, sample,
};
use jiff::civil::{Date, date};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(section) = args.first().and_then(|c| Section::from_code(c)) else {
        eprintln!("usage: view SECTION [START|-] [END|-] [empty]");
        std::process::exit(2);
    };
    let day = |i: usize| -> Option<Date> { args.get(i).and_then(|s| s.parse().ok()) };
    let (start, end) = (day(1), day(2));
    let period = (start.is_some() || end.is_some()).then_some(DatePeriod { start, end });
    let today = date(2025, 6, 10);
    let record = if args.iter().any(|a| a == "empty") {
        ClinicalRecord::default()
    } else {
        sample::rich_record(today)
    };
    let options = RenderOptions::default();
    let request = RenderRequest {
        section,
        period,
        today,
        transfer_since: None,
        options: &options,
    };
    println!("{}", render(&record, &request));
}
