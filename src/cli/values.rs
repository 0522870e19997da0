//! Parsing and formatting the command line's values: rates, headers,
//! sizes and durations.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Result};

/// A rate in bytes per second: `1500`, `500K`, `1.5M`, `2MiB`, `1G` (1024-based).
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let err = || format!("{text:?} is not a rate: expected bytes per second like 500K, 2M or 1G");
    let (digits, unit) = match text
        .trim()
        .char_indices()
        .find(|(_, c)| c.is_ascii_alphabetic())
    {
        Some((i, _)) => text.trim().split_at(i),
        None => (text.trim(), ""),
    };
    let value: f64 = digits.parse().map_err(|_| err())?;
    let scale = match unit
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(err()),
    };
    if !value.is_finite() || value < 0.0 {
        return Err(err());
    }
    Ok((value * scale) as u64)
}

/// `Name: value` pairs into the API's header map.
pub fn parse_headers(headers: &[String]) -> Result<BTreeMap<String, String>> {
    headers
        .iter()
        .map(|h| match h.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_owned(), value.trim().to_owned()))
            }
            _ => bail!("invalid --header `{h}`: expected `Name: value`"),
        })
        .collect()
}

/// `1.5 MiB`: sizes for people.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `1h02m`, `3m05s`, `42s`.
pub fn duration(seconds: u64) -> String {
    match seconds {
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// A duration flag that must not be zero (`30s`, `250ms`).
pub fn positive_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("must be longer than zero".to_owned()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_naturally() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(6_291_456_000), "5.9 GiB");
        assert_eq!(duration(42), "42s");
        assert_eq!(duration(185), "3m05s");
        assert_eq!(duration(3720), "1h02m");
    }

    #[test]
    fn rates_take_binary_suffixes() {
        assert_eq!(parse_rate("1500"), Ok(1500));
        assert_eq!(parse_rate("500K"), Ok(500 * 1024));
        assert_eq!(parse_rate(" 2MiB "), Ok(2 << 20));
        assert_eq!(parse_rate("1.5m"), Ok(1536 * 1024));
        assert!(parse_rate("fast").unwrap_err().contains("is not a rate"));
        assert!(parse_rate("-1K").is_err());
    }

    #[test]
    fn headers_need_a_name_and_a_colon() {
        let parsed = parse_headers(&["Cookie: a=b; c=d".into()]).unwrap();
        assert_eq!(parsed["Cookie"], "a=b; c=d");
        assert!(parse_headers(&["nocolon".into()]).is_err());
    }
}
