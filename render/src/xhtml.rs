//! The XHTML writer: the only code in the crate that produces markup.
//!
//! Every byte of output goes through `Writer`, whose API cannot emit an
//! element, attribute or class outside the allow-list of accessrecord §2.1
//! and §2.6, and whose only way to write data is `Writer::text`, which
//! escapes it. There is no "raw" method, so escaping cannot be forgotten.
//!
//! Text normalisation ([`normalise_text`] describes the result):
//! - `&` → `&amp;`, `<` → `&lt;`, `>` → `&gt;` (and `"` → `&quot;` in
//!   attribute values). No other entity is ever written: no `&nbsp;`, no
//!   numeric references; other characters are written literally as UTF-8.
//! - `\r\n`, `\n` and `\r` become `<br/>`; `\t` becomes one space. The
//!   output never holds `\n`, `\r` or `\t` (§2.1, §5.1 item 9).
//! - Characters XML 1.0 does not allow (C0 controls other than the three
//!   above, U+FFFE, U+FFFF) become U+FFFD, so the reader sees that
//!   something was there. Everything else (C1 controls, U+FFFD, bidi
//!   overrides, non-BMP characters) passes through unchanged.

use jiff::civil::Date;

use crate::section::Table;

/// The XHTML namespace, written on the root `<div>` only (FHIR narrative:
/// the div is XHTML; accessrecord §2.1 allows it on the root).
pub const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// The elements a view may contain (accessrecord §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// `div`: the root, subsections, banners and placeholders.
    Div,
    /// `h1`: the section title.
    H1,
    /// `h2`: a subsection title.
    H2,
    /// `p`: banner and placeholder text.
    P,
    /// `table`.
    Table,
    /// `thead`.
    Thead,
    /// `tbody`.
    Tbody,
    /// `tr`.
    Tr,
    /// `th`: never has attributes.
    Th,
    /// `td`.
    Td,
    /// `strong`: `CONTROLLED DRUG` and medication group rows.
    Strong,
    /// `br`: a line break in free text, always written `<br/>`.
    Br,
}

impl Tag {
    /// Every allowed element.
    pub const ALL: [Tag; 12] = [
        Tag::Div,
        Tag::H1,
        Tag::H2,
        Tag::P,
        Tag::Table,
        Tag::Thead,
        Tag::Tbody,
        Tag::Tr,
        Tag::Th,
        Tag::Td,
        Tag::Strong,
        Tag::Br,
    ];

    /// The element name.
    pub fn name(self) -> &'static str {
        match self {
            Tag::Div => "div",
            Tag::H1 => "h1",
            Tag::H2 => "h2",
            Tag::P => "p",
            Tag::Table => "table",
            Tag::Thead => "thead",
            Tag::Tbody => "tbody",
            Tag::Tr => "tr",
            Tag::Th => "th",
            Tag::Td => "td",
            Tag::Strong => "strong",
            Tag::Br => "br",
        }
    }

    /// The element by name (exact, lower case).
    pub fn from_name(name: &str) -> Option<Tag> {
        Tag::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// The classes a view may use (accessrecord §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// `content-banner` (div).
    ContentBanner,
    /// `date-banner` (div).
    DateBanner,
    /// `exclusion-banner` (div).
    ExclusionBanner,
    /// `gptransfer-banner` (div).
    GpTransferBanner,
    /// `date-column` (td holding a date).
    DateColumn,
    /// `med-item-column` (the spanning td of a medication group row).
    MedItemColumn,
}

impl Class {
    /// Every allowed class.
    pub const ALL: [Class; 6] = [
        Class::ContentBanner,
        Class::DateBanner,
        Class::ExclusionBanner,
        Class::GpTransferBanner,
        Class::DateColumn,
        Class::MedItemColumn,
    ];

    /// The class name.
    pub fn name(self) -> &'static str {
        match self {
            Class::ContentBanner => "content-banner",
            Class::DateBanner => "date-banner",
            Class::ExclusionBanner => "exclusion-banner",
            Class::GpTransferBanner => "gptransfer-banner",
            Class::DateColumn => "date-column",
            Class::MedItemColumn => "med-item-column",
        }
    }

    /// The class by name (exact).
    pub fn from_name(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether the class belongs on a banner `div` (else on a `td`).
    pub fn is_banner(self) -> bool {
        matches!(
            self,
            Class::ContentBanner
                | Class::DateBanner
                | Class::ExclusionBanner
                | Class::GpTransferBanner
        )
    }
}

/// Every table id of the views (accessrecord §2.6), in [`Table`] order,
/// without the duplicate `cli-tab`.
pub fn table_ids() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = TABLES.iter().map(|t| t.id()).collect();
    ids.dedup();
    ids
}

/// Every table, in declaration order.
pub(crate) const TABLES: [Table; 17] = [
    Table::EmergencyCodes,
    Table::ClinicalItems,
    Table::Encounters,
    Table::ActiveProblems,
    Table::MajorInactiveProblems,
    Table::OtherInactiveProblems,
    Table::CurrentAllergies,
    Table::HistoricalAllergies,
    Table::AcuteMedication,
    Table::CurrentRepeatMedication,
    Table::DiscontinuedRepeatMedication,
    Table::AllMedication,
    Table::AllMedicationIssues,
    Table::Referrals,
    Table::Observations,
    Table::Immunisations,
    Table::AdministrativeItems,
];

/// An attribute, as the allow-list permits it: the value is always one of
/// a closed set, so no data ever reaches an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attr {
    /// `xmlns` on the root div.
    Xmlns,
    /// `id` on a table.
    Id(Table),
    /// `colspan` on a medication group td.
    Colspan(u8),
    /// `class` on a banner div or a td.
    Class(Class),
}

/// Builds one line of XHTML. See the module docs for what it guarantees.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: String,
}

impl Writer {
    /// A writer with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Writer {
        Writer {
            out: String::with_capacity(capacity),
        }
    }

    /// The markup written so far.
    pub(crate) fn finish(self) -> String {
        self.out
    }

    /// `<tag attrs…>`; `br` is written self-closed and must not be closed.
    pub(crate) fn open(&mut self, tag: Tag, attrs: &[Attr]) {
        self.out.push('<');
        self.out.push_str(tag.name());
        for attr in attrs {
            let (name, value): (&str, &str) = match *attr {
                Attr::Xmlns => ("xmlns", XHTML_NS),
                Attr::Id(table) => ("id", table.id()),
                Attr::Colspan(n) => ("colspan", COLSPAN[usize::from(n.min(9))]),
                Attr::Class(class) => ("class", class.name()),
            };
            self.out.push(' ');
            self.out.push_str(name);
            self.out.push_str("=\"");
            push_attr_value(&mut self.out, value);
            self.out.push('"');
        }
        if tag == Tag::Br {
            self.out.push_str("/>");
        } else {
            self.out.push('>');
        }
    }

    /// `</tag>`.
    pub(crate) fn close(&mut self, tag: Tag) {
        if tag == Tag::Br {
            return;
        }
        self.out.push_str("</");
        self.out.push_str(tag.name());
        self.out.push('>');
    }

    /// `<tag attrs…>` + whatever `body` writes + `</tag>`.
    #[inline]
    pub(crate) fn element(&mut self, tag: Tag, attrs: &[Attr], body: impl FnOnce(&mut Writer)) {
        self.open(tag, attrs);
        body(self);
        self.close(tag);
    }

    /// `<tag attrs…>text</tag>`.
    #[inline]
    pub(crate) fn text_element(&mut self, tag: Tag, attrs: &[Attr], text: &str) {
        self.open(tag, attrs);
        self.text(text);
        self.close(tag);
    }

    /// `<br/>`.
    #[inline]
    pub(crate) fn br(&mut self) {
        self.out.push_str("<br/>");
    }

    /// Escaped, normalised text (module docs).
    #[inline]
    pub(crate) fn text(&mut self, text: &str) {
        push_text(&mut self.out, text);
    }

    /// A date as `dd-Mmm-yyyy` (accessrecord §2.1).
    pub(crate) fn date(&mut self, date: Date) {
        push_date(&mut self.out, date);
    }

    /// A non-negative integer in decimal.
    pub(crate) fn uint(&mut self, n: u64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        let mut n = n;
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for &b in &buf[i..] {
            self.out.push(char::from(b));
        }
    }
}

const COLSPAN: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Appends `date` as `dd-Mmm-yyyy` (a year before 1 keeps its sign:
/// `-0001`; GP data never holds one).
pub(crate) fn push_date(out: &mut String, date: Date) {
    let day = date.day().unsigned_abs();
    out.push(char::from(b'0' + day / 10));
    out.push(char::from(b'0' + day % 10));
    out.push('-');
    let month = usize::from(date.month().unsigned_abs()).clamp(1, 12);
    out.push_str(MONTHS[month - 1]);
    out.push('-');
    let year = date.year();
    if year < 0 {
        out.push('-');
    }
    let y = year.unsigned_abs();
    for d in [y / 1000 % 10, y / 100 % 10, y / 10 % 10, y % 10] {
        out.push(char::from(b'0' + d as u8));
    }
}

/// A date as `dd-Mmm-yyyy` (accessrecord §2.1).
pub fn format_date(date: Date) -> String {
    let mut s = String::with_capacity(11);
    push_date(&mut s, date);
    s
}

/// Bytes that need attention in text: C0 controls, `&`, `<`, `>`, and
/// 0xEF (the lead byte of U+FFFE and U+FFFF).
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[0xEF] = true;
    t
};

/// Appends `text` escaped and normalised (module docs).
fn push_text(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !SPECIAL[usize::from(b)] {
            i += 1;
            continue;
        }
        // Every special byte is ASCII or a UTF-8 lead byte, so `start..i`
        // and the skip below stay on character boundaries.
        let (replacement, width): (&str, usize) = match b {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => ("<br/>", 2),
            b'\r' | b'\n' => ("<br/>", 1),
            b'\t' => (" ", 1),
            0xEF => {
                if bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF))
                {
                    ("\u{FFFD}", 3)
                } else {
                    i += 1;
                    continue;
                }
            }
            _ => ("\u{FFFD}", 1),
        };
        out.push_str(&text[start..i]);
        out.push_str(replacement);
        i += width;
        start = i;
    }
    out.push_str(&text[start..]);
}

/// Appends an attribute value escaped. Values come from closed sets, but
/// they go through escaping all the same; anything XML could not carry in
/// an attribute becomes U+FFFD.
fn push_attr_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// The text a reader gets back from `Writer::text` once `<br/>` is read
/// as `\n`: line breaks (`\r\n`, `\r`, `\n`) become `\n`, tabs become a
/// space, characters XML 1.0 forbids (C0 controls, U+FFFE, U+FFFF) become
/// U+FFFD, everything else is unchanged.
pub fn normalise_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\n' => out.push('\n'),
            '\t' => out.push(' '),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        let mut w = Writer::default();
        w.text(s);
        w.finish()
    }

    #[test]
    fn text_escapes_markup_but_not_quotes() {
        assert_eq!(
            text(r#"<script>alert("x") & 'y'</script>"#),
            r#"&lt;script&gt;alert("x") &amp; 'y'&lt;/script&gt;"#
        );
        assert_eq!(text("&amp;lt; &nbsp;"), "&amp;amp;lt; &amp;nbsp;");
    }

    #[test]
    fn text_newlines_become_br_and_tabs_spaces() {
        assert_eq!(text("a\r\nb\nc\rd\te"), "a<br/>b<br/>c<br/>d e");
        assert_eq!(text("\r\r\n\n"), "<br/><br/><br/>");
        assert_eq!(text("\r"), "<br/>");
    }

    #[test]
    fn text_replaces_characters_xml_forbids() {
        assert_eq!(text("a\u{0}b\u{1b}c\u{c}"), "a\u{FFFD}b\u{FFFD}c\u{FFFD}");
        assert_eq!(text("\u{FFFE}\u{FFFF}\u{FFFD}"), "\u{FFFD}\u{FFFD}\u{FFFD}");
        // Other characters led by 0xEF stay.
        assert_eq!(text("\u{F900}\u{FFFC}\u{202E}"), "\u{F900}\u{FFFC}\u{202E}");
        assert_eq!(text("\u{85}\u{9f}😀"), "\u{85}\u{9f}😀");
    }

    #[test]
    fn normalise_text_matches_what_the_writer_writes() {
        let s = "x\r\n\ty\u{0}\u{FFFF}z\rq";
        assert_eq!(normalise_text(s), "x\n y\u{FFFD}\u{FFFD}z\nq");
        assert_eq!(text(s).replace("<br/>", "\n"), normalise_text(s));
    }

    #[test]
    fn attributes_are_quoted_and_escaped() {
        let mut w = Writer::default();
        w.open(
            Tag::Td,
            &[Attr::Colspan(9), Attr::Class(Class::MedItemColumn)],
        );
        w.close(Tag::Td);
        w.open(Tag::Br, &[]);
        w.close(Tag::Br);
        assert_eq!(
            w.finish(),
            r#"<td colspan="9" class="med-item-column"></td><br/>"#
        );
        let mut s = String::new();
        push_attr_value(&mut s, "a\"<&>\n");
        assert_eq!(s, "a&quot;&lt;&amp;&gt;\u{FFFD}");
    }

    #[test]
    fn dates_are_dd_mmm_yyyy() {
        let d = |y, m, d| format_date(Date::new(y, m, d).unwrap());
        assert_eq!(d(2014, 5, 3), "03-May-2014");
        assert_eq!(d(2016, 2, 29), "29-Feb-2016");
        assert_eq!(d(982, 12, 31), "31-Dec-0982");
        assert_eq!(d(-1, 1, 1), "01-Jan--0001");
    }

    #[test]
    fn integers() {
        let mut w = Writer::default();
        w.uint(0);
        w.text(" ");
        w.uint(u64::MAX);
        assert_eq!(w.finish(), "0 18446744073709551615");
    }

    #[test]
    fn names_round_trip() {
        for t in Tag::ALL {
            assert_eq!(Tag::from_name(t.name()), Some(t));
        }
        for c in Class::ALL {
            assert_eq!(Class::from_name(c.name()), Some(c));
        }
        assert_eq!(table_ids().len(), 16);
    }
}
