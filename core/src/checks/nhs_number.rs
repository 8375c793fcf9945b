//! NHS number validation: the Modulus 11 check of appointments digest §8.3
//! (the same algorithm the Access Record digest §1.4 describes).
//!
//! A number that fails is answered with 400 `INVALID_NHS_NUMBER`. The
//! diagnostics say *what* is wrong but never echo the value: it is a patient
//! identifier and diagnostics end up in consumer logs.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, SpineCode};

/// Weights for digits 1–9 (digest §8.3 step 2).
const WEIGHTS: [u32; 9] = [10, 9, 8, 7, 6, 5, 4, 3, 2];

/// A structurally valid NHS number: exactly 10 ASCII digits whose tenth digit
/// is the Modulus 11 check digit of the first nine.
///
/// The only way to obtain one is [`NhsNumber::parse`], so holding an
/// `NhsNumber` proves the check ran.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber(String);

impl NhsNumber {
    /// Validate `value` (the FHIR identifier value, so no spaces or
    /// separators are tolerated, §8.3 step 1).
    ///
    /// # Errors
    /// 400 `INVALID_NHS_NUMBER` when the value is empty, is not exactly 10
    /// ASCII digits, has a computed check digit of 10, or its tenth digit does
    /// not match the check digit.
    pub fn parse(value: &str) -> Result<NhsNumber, Error> {
        match check(value) {
            Ok(()) => Ok(NhsNumber(value.to_owned())),
            Err(problem) => Err(Error::new(
                SpineCode::InvalidNhsNumber,
                format!("NHS number is invalid: {}", problem.describe()),
            )),
        }
    }

    /// The 10 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for NhsNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for NhsNumber {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NhsNumber::parse(s)
    }
}

/// Whether `value` passes the §8.3 check, without allocating (for model
/// validation and the JWT `requested_record` comparison).
pub fn is_valid_nhs_number(value: &str) -> bool {
    check(value).is_ok()
}

/// The Modulus 11 check digit for the first nine digits (each `0..=9`),
/// or `None` when the algorithm yields 10, i.e. no valid NHS number starts
/// with these nine digits (§8.3 steps 2–4). Also `None` if any element is
/// not a decimal digit value.
pub fn check_digit(first_nine: [u8; 9]) -> Option<u8> {
    if first_nine.iter().any(|&d| d > 9) {
        return None;
    }
    let sum: u32 = first_nine
        .iter()
        .zip(WEIGHTS)
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        // 1..=9, so the narrowing cannot truncate.
        c => u8::try_from(c).ok(),
    }
}

/// Why a value is not a valid NHS number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Empty,
    WrongLength(usize),
    NotDigits,
    CheckDigitIsTen,
    CheckDigitMismatch,
}

impl Problem {
    fn describe(self) -> String {
        match self {
            Problem::Empty => "the value is empty".to_owned(),
            Problem::WrongLength(n) => {
                format!("it must be exactly 10 digits with no spaces, but has {n} characters")
            }
            Problem::NotDigits => {
                "it must contain only the digits 0-9 (no spaces or separators)".to_owned()
            }
            Problem::CheckDigitIsTen => {
                "the Modulus 11 check digit of the first nine digits is 10, which no valid NHS number has".to_owned()
            }
            Problem::CheckDigitMismatch => {
                "the tenth digit does not match the Modulus 11 check digit".to_owned()
            }
        }
    }
}

fn check(value: &str) -> Result<(), Problem> {
    if value.is_empty() {
        return Err(Problem::Empty);
    }
    // Lengths are counted in characters, as a person would count them; a
    // 10-character value that is not 10 bytes holds non-ASCII characters.
    let Ok(digits) = <&[u8; 10]>::try_from(value.as_bytes()) else {
        let chars = value.chars().count();
        return Err(if chars == 10 {
            Problem::NotDigits
        } else {
            Problem::WrongLength(chars)
        });
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(Problem::NotDigits);
    }
    let mut first_nine = [0u8; 9];
    for (slot, &b) in first_nine.iter_mut().zip(digits.iter()) {
        *slot = b - b'0';
    }
    match check_digit(first_nine) {
        None => Err(Problem::CheckDigitIsTen),
        Some(c) if c == digits[9] - b'0' => Ok(()),
        Some(_) => Err(Problem::CheckDigitMismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn assert_invalid_nhs_number(value: &str) {
        let err = NhsNumber::parse(value).expect_err(value);
        assert_eq!(err.code(), SpineCode::InvalidNhsNumber, "{value}");
        assert_eq!(err.status(), 400, "{value}");
        assert!(!is_valid_nhs_number(value), "{value}");
    }

    #[test]
    fn s8_3_test_suite_valid_examples_pass() {
        for value in ["9000000009", "9476719931", "9658218873"] {
            let n = NhsNumber::parse(value).expect(value);
            assert_eq!(n.as_str(), value);
            assert_eq!(n.to_string(), value);
            assert!(is_valid_nhs_number(value));
        }
    }

    #[test]
    fn s8_3_test_suite_invalid_examples_are_400_invalid_nhs_number() {
        for value in [
            "34555##4",
            "hello",
            "999999999",
            "9000000008",
            "90000000090",
        ] {
            assert_invalid_nhs_number(value);
        }
    }

    #[test]
    fn accessrecord_suite_1234567891_is_invalid() {
        assert_invalid_nhs_number("1234567891");
    }

    #[test]
    fn s8_3_step1_spaces_and_separators_are_rejected() {
        for value in [
            "943 476 5919",
            " 9434765919",
            "9434765919 ",
            "943-476-5919",
            "",
        ] {
            assert_invalid_nhs_number(value);
        }
        assert!(is_valid_nhs_number("9434765919"));
    }

    #[test]
    fn s8_3_step1_non_ascii_digits_are_rejected() {
        // Arabic-Indic and full-width digits are "digits" to Unicode, not to §8.3.
        assert_invalid_nhs_number("٩٤٣٤٧٦٥٩١٩");
        assert_invalid_nhs_number("９４３４７６５９１９");
        assert_invalid_nhs_number("943476591é");
    }

    #[test]
    fn s8_3_step4_check_of_eleven_becomes_zero() {
        // 2*10 + 1*2 = 22, 22 mod 11 = 0, 11 - 0 = 11 -> 0.
        assert_eq!(check_digit([2, 0, 0, 0, 0, 0, 0, 0, 1]), Some(0));
        assert!(is_valid_nhs_number("2000000010"));
        assert!(!is_valid_nhs_number("2000000011"));
    }

    #[test]
    fn s8_3_step4_check_of_ten_is_invalid_whatever_the_last_digit() {
        // 6*2 = 12, 12 mod 11 = 1, 11 - 1 = 10 -> no valid tenth digit.
        assert_eq!(check_digit([0, 0, 0, 0, 0, 0, 0, 0, 6]), None);
        for last in 0..=9 {
            let value = format!("000000006{last}");
            let err = NhsNumber::parse(&value).expect_err(&value);
            assert!(err.diagnostics().contains("is 10"), "{}", err.diagnostics());
        }
    }

    #[test]
    fn s8_3_step5_check_digit_must_equal_digit_ten() {
        // 9*10 = 90, 90 mod 11 = 2, 11 - 2 = 9.
        assert_eq!(check_digit([9, 0, 0, 0, 0, 0, 0, 0, 0]), Some(9));
        for last in 0..=8 {
            assert_invalid_nhs_number(&format!("900000000{last}"));
        }
    }

    #[test]
    fn diagnostics_explain_the_problem_without_echoing_the_number() {
        let err = NhsNumber::parse("9000000008").expect_err("mismatch");
        assert!(err.diagnostics().contains("tenth digit"));
        assert!(!err.diagnostics().contains("9000000008"));
        let err = NhsNumber::parse("999999999").expect_err("short");
        assert!(err.diagnostics().contains("9 characters"));
        let err = NhsNumber::parse("34555##4").expect_err("junk");
        assert!(err.diagnostics().contains("8 characters"));
        let err = NhsNumber::parse("900000000X").expect_err("letter");
        assert!(err.diagnostics().contains("only the digits"));
        let err = NhsNumber::parse("").expect_err("empty");
        assert!(err.diagnostics().contains("empty"));
    }

    #[test]
    fn check_digit_rejects_non_digit_values() {
        assert_eq!(check_digit([10, 0, 0, 0, 0, 0, 0, 0, 0]), None);
    }

    #[test]
    fn from_str_matches_parse() {
        let n: NhsNumber = "9658218873".parse().expect("valid");
        assert_eq!(n.as_ref(), "9658218873");
        assert!("9658218874".parse::<NhsNumber>().is_err());
    }

    proptest! {
        #[test]
        fn s8_3_appending_the_check_digit_gives_a_valid_number(nine in proptest::array::uniform9(0u8..=9)) {
            let prefix: String = nine.iter().map(|d| char::from(b'0' + d)).collect();
            match check_digit(nine) {
                Some(c) => {
                    let value = format!("{prefix}{c}");
                    prop_assert!(is_valid_nhs_number(&value));
                    prop_assert!(NhsNumber::parse(&value).is_ok());
                }
                None => {
                    for last in 0..=9u8 {
                        let value = format!("{prefix}{last}");
                        prop_assert!(!is_valid_nhs_number(&value));
                    }
                }
            }
        }

        #[test]
        fn s8_3_changing_any_single_digit_of_a_valid_number_invalidates_it(
            nine in proptest::array::uniform9(0u8..=9),
            position in 0usize..10,
            delta in 1u8..=9,
        ) {
            let Some(c) = check_digit(nine) else { return Ok(()); };
            let mut digits: Vec<u8> = nine.to_vec();
            digits.push(c);
            digits[position] = (digits[position] + delta) % 10;
            let value: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            prop_assert!(!is_valid_nhs_number(&value), "{}", value);
        }

        #[test]
        fn parse_never_panics_and_agrees_with_is_valid(s in "\\PC{0,16}|[0-9 #]{0,12}") {
            prop_assert_eq!(NhsNumber::parse(&s).is_ok(), is_valid_nhs_number(&s));
        }
    }
}
