//! The Go `time` parsing rules that decide whether a stored entry parses.
//!
//! No timestamp ends up in an index key, but Go rejects a certificate whose
//! validity times do not survive `time.Parse` + `Format` unchanged
//! (`cryptobyte`'s UTCTime/GeneralizedTime readers), and `encoding/json`
//! rejects an in-toto SLSA v0.2 predicate whose `buildStartedOn` is not
//! RFC 3339 as `time.Parse` understands it — which drops the material
//! digests. Only acceptance is computed here, never a time value.

/// Which year rule a two- or four-digit year follows.
#[derive(Clone, Copy)]
enum Year {
    /// `06`: two digits, 69–99 → 19xx, else 20xx.
    Short,
    /// `2006`: four digits.
    Long,
}

/// `cryptobyte.ReadASN1UTCTime` acceptance: `YYMMDDhhmmss` or (fallback)
/// `YYMMDDhhmm`, then `Z` or a non-zero `±hhmm`, exactly as Go would format
/// the parsed value back.
pub fn valid_utc_time(s: &[u8]) -> bool {
    match canonical_fixed(s, Year::Short, true) {
        Some(ok) => ok,
        None => canonical_fixed(s, Year::Short, false).unwrap_or(false),
    }
}

/// `cryptobyte.ReadASN1GeneralizedTime` acceptance: `YYYYMMDDhhmmss`, then
/// `Z` or a non-zero `±hhmm`, re-formatting to the same text.
pub fn valid_generalized_time(s: &[u8]) -> bool {
    canonical_fixed(s, Year::Long, true).unwrap_or(false)
}

/// Parses `s` with a Go layout of the `060102150405Z0700` family. `None`:
/// `time.Parse` fails. `Some(ok)`: it parses, and `ok` says whether
/// `Format` gives back exactly `s`.
fn canonical_fixed(s: &[u8], year: Year, seconds: bool) -> Option<bool> {
    let mut p = Cursor(s);
    let (year_value, canonical_year) = match year {
        Year::Short => {
            // Go's atoi would accept a sign here, but the re-format check
            // rejects anything but two digits.
            let yy = p.take(2)?;
            let digits = all_digits(yy);
            let n = atoi_signed(yy)?;
            (if n >= 69 { 1900 + n } else { 2000 + n }, digits)
        }
        Year::Long => {
            let yyyy = p.take(4)?;
            if !yyyy.first().is_some_and(u8::is_ascii_digit) || !all_digits(yyyy) {
                return None;
            }
            (num(yyyy), true)
        }
    };
    let month = p.fixed2()?;
    if !(1..=12).contains(&month) {
        return None;
    }
    let day = p.fixed2()?;
    let (hour, hour_width) = p.flexible2()?;
    if hour >= 24 {
        return None;
    }
    let minute = p.fixed2()?;
    if minute >= 60 {
        return None;
    }
    let mut canonical = canonical_year && hour_width == 2;
    if seconds {
        let second = p.fixed2()?;
        if second >= 60 {
            return None;
        }
        if p.fraction() {
            // Parsed, but Format never prints a fraction for this layout.
            canonical = false;
        }
    }
    // Zone: `Z`, or ±hhmm.
    match p.0.first() {
        Some(b'Z') => {
            p.0 = &p.0[1..];
        }
        _ => {
            let zone = p.take(5)?;
            let (sign, hh, mm) = (zone[0], &zone[1..3], &zone[3..5]);
            if !all_digits(hh) || !all_digits(mm) {
                return None;
            }
            if sign != b'+' && sign != b'-' {
                return None;
            }
            let (hh, mm) = (num(hh), num(mm));
            if hh > 24 || mm > 60 {
                return None;
            }
            // Format prints a zero offset as `Z` and folds 60 minutes.
            if (hh == 0 && mm == 0) || mm == 60 {
                canonical = false;
            }
        }
    }
    if !p.0.is_empty() {
        return None;
    }
    if day < 1 || day > days_in(month, year_value) {
        return None;
    }
    Some(canonical)
}

/// Whether Go's `time.Time.UnmarshalJSON` accepts the text between the
/// quotes of a JSON string (raw bytes, escapes not processed): Go 1.26 falls
/// back from its fast RFC 3339 parser to `time.Parse(time.RFC3339, …)`,
/// which accepts a superset (one-digit hour, `,` fractions, offsets up to
/// 24:60), and the strict re-checks are disabled.
pub fn valid_rfc3339(s: &[u8]) -> bool {
    let mut p = Cursor(s);
    let Some(yyyy) = p.take(4) else { return false };
    if !all_digits(yyyy) {
        return false;
    }
    let year = num(yyyy);
    let parsed = (|| {
        p.literal(b'-')?;
        let month = p.fixed2()?;
        if !(1..=12).contains(&month) {
            return None;
        }
        p.literal(b'-')?;
        let day = p.fixed2()?;
        p.literal(b'T')?;
        let (hour, _) = p.flexible2()?;
        if hour >= 24 {
            return None;
        }
        p.literal(b':')?;
        if p.fixed2()? >= 60 {
            return None;
        }
        p.literal(b':')?;
        if p.fixed2()? >= 60 {
            return None;
        }
        p.fraction();
        if p.0.first() == Some(&b'Z') {
            p.0 = &p.0[1..];
        } else {
            let zone = p.take(6)?;
            if zone[3] != b':' || !all_digits(&zone[1..3]) || !all_digits(&zone[4..6]) {
                return None;
            }
            if num(&zone[1..3]) > 24 || num(&zone[4..6]) > 60 {
                return None;
            }
            if zone[0] != b'+' && zone[0] != b'-' {
                return None;
            }
        }
        if !p.0.is_empty() {
            return None;
        }
        Some((month, day))
    })();
    match parsed {
        Some((month, day)) => day >= 1 && day <= days_in(month, year),
        None => false,
    }
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn literal(&mut self, c: u8) -> Option<()> {
        (self.take(1)? == [c]).then_some(())
    }

    /// Go `getnum(s, fixed=true)`: exactly two digits.
    fn fixed2(&mut self) -> Option<u32> {
        let d = self.0.get(..2)?;
        if !all_digits(d) {
            return None;
        }
        self.0 = &self.0[2..];
        Some(num(d))
    }

    /// Go `getnum(s, fixed=false)`: one or two digits, and how many.
    fn flexible2(&mut self) -> Option<(u32, usize)> {
        let first = *self.0.first()?;
        if !first.is_ascii_digit() {
            return None;
        }
        match self.0.get(1) {
            Some(d) if d.is_ascii_digit() => {
                let v = num(&self.0[..2]);
                self.0 = &self.0[2..];
                Some((v, 2))
            }
            _ => {
                self.0 = &self.0[1..];
                Some((u32::from(first - b'0'), 1))
            }
        }
    }

    /// Go's "fractional second in the value but not in the layout" rule:
    /// `.` or `,` followed by digits is consumed. Returns whether it was.
    fn fraction(&mut self) -> bool {
        if self.0.len() >= 2 && matches!(self.0[0], b'.' | b',') && self.0[1].is_ascii_digit() {
            let n = 1 + self.0[1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            self.0 = &self.0[n..];
            return true;
        }
        false
    }
}

fn all_digits(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_digit)
}

fn num(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
}

/// Go `atoi` on a short field: optional sign, then digits only.
fn atoi_signed(b: &[u8]) -> Option<u32> {
    let digits = match b.first() {
        Some(b'+' | b'-') => &b[1..],
        _ => b,
    };
    if digits.is_empty() || !all_digits(digits) {
        return None;
    }
    // A negative two-digit year cannot occur in a value that re-formats
    // identically; treat it like its magnitude (the caller rejects it).
    Some(num(digits))
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_time_follows_go_round_trip_rules() {
        assert!(valid_utc_time(b"230101120000Z"));
        assert!(valid_utc_time(b"2301011200Z"));
        assert!(valid_utc_time(b"230101120000+0130"));
        assert!(!valid_utc_time(b"230101120000+0000"));
        assert!(!valid_utc_time(b"230101120000"));
        assert!(!valid_utc_time(b"231301120000Z"));
        assert!(!valid_utc_time(b"230230120000Z"));
        assert!(valid_utc_time(b"000229120000Z"));
        assert!(!valid_utc_time(b"010229120000Z"));
        assert!(!valid_utc_time(b"230101240000Z"));
        assert!(!valid_utc_time(b"230101120000.5Z"));
        assert!(!valid_utc_time(b"+30101120000Z"));
    }

    #[test]
    fn generalized_time_has_no_fraction_and_four_digit_year() {
        assert!(valid_generalized_time(b"20500101000000Z"));
        assert!(!valid_generalized_time(b"20500101000000.123Z"));
        assert!(!valid_generalized_time(b"205001010000Z"));
        assert!(valid_generalized_time(b"20240229235959-0800"));
        assert!(!valid_generalized_time(b"21000229000000Z"));
    }

    #[test]
    fn rfc3339_is_go_lenient_parse() {
        assert!(valid_rfc3339(b"2023-01-02T03:04:05Z"));
        assert!(valid_rfc3339(b"2023-01-02T03:04:05.123456789Z"));
        assert!(valid_rfc3339(b"2023-01-02T3:04:05Z"));
        assert!(valid_rfc3339(b"2023-01-02T03:04:05,5+24:00"));
        assert!(valid_rfc3339(b"2023-01-02T03:04:05-07:00"));
        assert!(!valid_rfc3339(b"2023-01-02 03:04:05Z"));
        assert!(!valid_rfc3339(b"2023-02-30T03:04:05Z"));
        assert!(!valid_rfc3339(b"2023-01-02T03:04:05"));
        assert!(!valid_rfc3339(b"2023-01-02T03:04:05+0700"));
        assert!(!valid_rfc3339(b"2023-1-02T03:04:05Z"));
        assert!(!valid_rfc3339(b"2023-01-02t03:04:05Z"));
    }
}
