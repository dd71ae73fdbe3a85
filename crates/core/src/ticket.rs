//! Ticket numbers: `INT-YYYYMM-NNNN` and `DEV-YYYYMM-NNNN`, sequential per kind and month.
//!
//! The counter itself lives in storage (one row per prefix and month, bumped in the
//! creating transaction); this module only formats and parses.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketNumber {
    pub prefix: String,
    /// `YYYYMM`
    pub month: String,
    pub sequence: u32,
}

impl TicketNumber {
    pub fn new(prefix: &str, month: &str, sequence: u32) -> TicketNumber {
        TicketNumber {
            prefix: prefix.to_string(),
            month: month.to_string(),
            sequence,
        }
    }

    /// `YYYYMM` of a UTC timestamp: the counter's period.
    pub fn month_of(at: chrono::DateTime<chrono::Utc>) -> String {
        at.format("%Y%m").to_string()
    }

    pub fn parse(s: &str) -> Option<TicketNumber> {
        let mut parts = s.split('-');
        let (prefix, month, seq) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some()
            || !matches!(prefix, "INT" | "DEV")
            || month.len() != 6
            || !month.bytes().all(|b| b.is_ascii_digit())
            || seq.len() < 4
            || !seq.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(TicketNumber::new(prefix, month, seq.parse().ok()?))
    }
}

/// At least four digits; a month with more than 9,999 tickets simply grows a digit.
impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:04}", self.prefix, self.month, self.sequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_four_digits_and_round_trips() {
        let t = TicketNumber::new("INT", "202511", 7);
        assert_eq!(t.to_string(), "INT-202511-0007");
        assert_eq!(TicketNumber::parse("INT-202511-0007"), Some(t));
        assert_eq!(
            TicketNumber::new("DEV", "202512", 12345).to_string(),
            "DEV-202512-12345"
        );
    }

    #[test]
    fn rejects_malformed_numbers() {
        for bad in [
            "INT-2025-0001",
            "XYZ-202511-0001",
            "INT-202511-01",
            "INT-202511-0001-2",
        ] {
            assert_eq!(TicketNumber::parse(bad), None, "{bad}");
        }
    }
}
