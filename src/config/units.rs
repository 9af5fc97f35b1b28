//! Time and size units of HAProxy's config language.

use std::time::Duration;

/// Parse a time value: digits followed by an optional unit `us`, `ms`, `s`, `m`, `h`, `d` (default ms).
pub fn parse_time(s: &str) -> Result<Duration, String> {
    let digits = s.bytes().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return Err(format!("expects a time value, got '{s}'"));
    }
    let n: u64 = s[..digits].parse().map_err(|_| format!("time value '{s}' is too large"))?;
    let d = match &s[digits..] {
        "us" => Some(Duration::from_micros(n)),
        "" | "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        // `min` is not documented but HAProxy reads the `m` and accepts it; configs in the wild use it.
        "m" | "min" => n.checked_mul(60).map(Duration::from_secs),
        "h" => n.checked_mul(3600).map(Duration::from_secs),
        "d" => n.checked_mul(86400).map(Duration::from_secs),
        u => return Err(format!("unexpected character '{}' in time value '{s}'", u.chars().next().unwrap_or('?'))),
    };
    d.ok_or_else(|| format!("time value '{s}' is too large"))
}

/// Parse a size: digits followed by an optional `k`, `m` or `g` (powers of 1024, either case).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let digits = s.bytes().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return Err(format!("expects a size value, got '{s}'"));
    }
    let n: u64 = s[..digits].parse().map_err(|_| format!("size value '{s}' is too large"))?;
    let mul: u64 = match &s[digits..] {
        "" => 1,
        "k" | "K" => 1 << 10,
        "m" | "M" => 1 << 20,
        "g" | "G" => 1 << 30,
        u => return Err(format!("unexpected character '{}' in size value '{s}'", u.chars().next().unwrap_or('?'))),
    };
    n.checked_mul(mul).ok_or_else(|| format!("size value '{s}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("5000"), Ok(Duration::from_millis(5000)));
        assert_eq!(parse_time("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_time("10us"), Ok(Duration::from_micros(10)));
        assert_eq!(parse_time("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_time("15min"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_time("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_time("1d"), Ok(Duration::from_secs(86400)));
        assert_eq!(parse_time("7ms"), Ok(Duration::from_millis(7)));
        assert!(parse_time("5x").is_err());
        assert!(parse_time("").is_err());
        assert!(parse_time("s").is_err());
        assert!(parse_time("99999999999999999999").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16384"), Ok(16384));
        assert_eq!(parse_size("16k"), Ok(16384));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert!(parse_size("1t").is_err());
        assert!(parse_size("k").is_err());
    }
}
