//! Go's `time.ParseDuration` syntax (`500ms`, `1m30s`, `1.5h`), because the
//! flags are drop-in replacements for the Go tool's `--rekor-retry-wait-*`.

use std::time::Duration;

/// Parses a Go duration string. Negative durations are rejected: every
/// duration flag here is a wait, and a negative wait has no meaning.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let err = |why: &str| format!("invalid duration {text:?}: {why}");
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if let Some(magnitude) = rest.strip_prefix('-') {
        if !magnitude.is_empty() && magnitude.chars().all(|c| c == '0' || c == '.') {
            return Ok(Duration::ZERO);
        }
        return Err(err("negative durations are not allowed"));
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(err("empty"));
    }
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let (whole, frac) = match number.split_once('.') {
            Some((w, f)) => (w, f),
            None => (number, ""),
        };
        if (whole.is_empty() && frac.is_empty()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("expected a number"));
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3_600 * 1_000_000_000,
            "" => return Err(err("missing unit (use ns, us, ms, s, m or h)")),
            _ => return Err(err(&format!("unknown unit {unit:?}"))),
        };
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| err("number too large"))?
        };
        let mut nanos = whole
            .checked_mul(unit_nanos)
            .ok_or_else(|| err("too large"))?;
        // Fractions are scaled digit by digit, truncating like Go does.
        let mut scale = unit_nanos;
        for digit in frac.bytes() {
            scale /= 10;
            nanos += u128::from(digit - b'0') * scale;
        }
        total_nanos = total_nanos
            .checked_add(nanos)
            .ok_or_else(|| err("too large"))?;
        rest = next;
    }
    // Go durations are int64 nanoseconds.
    if total_nanos > i64::MAX as u128 {
        return Err(err("too large"));
    }
    Ok(Duration::from_nanos(total_nanos as u64))
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration as p;
    use std::time::Duration;

    #[test]
    fn accepts_go_forms() {
        assert_eq!(p("0").unwrap(), Duration::ZERO);
        assert_eq!(p("1s").unwrap(), Duration::from_secs(1));
        assert_eq!(p("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(p("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(p("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(p(".5s").unwrap(), Duration::from_millis(500));
        assert_eq!(p("1.s").unwrap(), Duration::from_secs(1));
        assert_eq!(p("2h45m").unwrap(), Duration::from_secs(9900));
        assert_eq!(p("10us").unwrap(), Duration::from_micros(10));
        assert_eq!(p("10µs").unwrap(), Duration::from_micros(10));
        assert_eq!(p("7ns").unwrap(), Duration::from_nanos(7));
        assert_eq!(p("+3s").unwrap(), Duration::from_secs(3));
        assert_eq!(p("1.0000000001s").unwrap(), Duration::from_secs(1));
        assert_eq!(
            p("2h45m1.5s").unwrap(),
            Duration::from_millis((2 * 3600 + 45 * 60) * 1000 + 1500)
        );
        assert_eq!(p(".5ms").unwrap(), Duration::from_micros(500));
    }

    #[test]
    fn rejects_bad_forms() {
        for bad in [
            "",
            "1",
            "s",
            "1x",
            "1 s",
            "-1s",
            "1s-",
            ".s",
            "3000000h",
            "1.2.3s",
            "ms1",
            "1..5s",
            "99999999999999999999999h",
        ] {
            assert!(p(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(p("-1s").unwrap_err().contains("negative"));
        assert!(p("5").unwrap_err().contains("missing unit"));
    }
}
