//! Human units for reports: `1.2 MiB`, `3,401 blocks`.

use std::fmt;

/// A byte count in binary units: `0 B`, `999 B`, `1,000 B`, `1.2 KiB`, `3.4 MiB`, `1.0 GiB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let text = if self.0 < 1024 {
            format!("{} B", Thousands(self.0))
        } else {
            let mut value = self.0 as f64 / 1024.0;
            let mut unit = 0;
            while value >= 1023.95 && unit + 1 < UNITS.len() {
                value /= 1024.0;
                unit += 1;
            }
            format!("{value:.1} {}", UNITS[unit])
        };
        f.pad(&text)
    }
}

/// A count with thousands separators and a noun: `1 block`, `3,401 blocks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Count(pub u64, pub &'static str);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.0 == 1 { "" } else { "s" };
        f.pad(&format!("{} {}{plural}", Thousands(self.0), self.1))
    }
}

/// A number with thousands separators: `3,401`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Thousands(pub u64);

impl fmt::Display for Thousands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        f.pad(&out)
    }
}

/// Reads a size in bytes: a whole number (`16384`, `16_384`), or a number and a unit, decimal
/// (`B`, `KB`, `MB`, `GB`, `TB`) or binary (`KiB`, `MiB`, `GiB`, `TiB`), lower case too, with or
/// without a space (`16KiB`, `1.5 MiB`, `500 kb`). `what` names the setting in the message of a
/// size that is not a whole number of bytes (`"0.5 B"`, `"1.0001 KiB"`; `"1.5 KiB"` is 1,536).
///
/// # Errors
///
/// What is wrong with `text`, for a message that names where it came from.
#[cfg_attr(not(any(feature = "budget", feature = "sampled")), allow(dead_code))]
pub(crate) fn parse_bytes(text: &str, what: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(t.len());
    let (num, unit) = (t[..split].replace('_', ""), t[split..].trim());
    // Whatever the letters' case (`8 MIB` and `8 Kb` were refused where `8 mib` and `8 kb` were
    // taken): a size here is of bytes, never of bits.
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" | "bytes" => 1,
        "kb" => 1000,
        "mb" => 1000 * 1000,
        "gb" => 1000 * 1000 * 1000,
        "tb" => 1000 * 1000 * 1000 * 1000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "bad unit {unit:?} in {text:?}: expected B, KB, MB, GB, TB, KiB, MiB, GiB, TiB or %"
            ))
        }
    };
    if num.is_empty() || num.parse::<f64>().is_err() {
        return Err(format!(
            "bad size {text:?}: expected a number before the unit"
        ));
    }
    // In exact arithmetic: whole part times the unit, plus the fraction's digits times the unit
    // over 10^digits, which must come out whole ("1.5 KiB" is 1536 B, "0.5 B" is no size).
    let out_of_range = || format!("bad size {text:?}: out of range");
    let (whole, frac) = num.split_once('.').unwrap_or((&num, ""));
    let frac = frac.trim_end_matches('0');
    let whole: u128 = match whole {
        "" => 0,
        w => w.parse().map_err(|_| out_of_range())?,
    };
    let (frac_num, frac_den): (u128, u128) = match frac {
        "" => (0, 1),
        f => {
            let too_precise = || format!("bad size {text:?}: too many digits");
            let n: u128 = f.parse().map_err(|_| too_precise())?;
            let den = u32::try_from(f.len())
                .ok()
                .and_then(|len| 10u128.checked_pow(len))
                .ok_or_else(too_precise)?;
            let n = n
                .checked_mul(u128::from(multiplier))
                .ok_or_else(too_precise)?;
            (n, den)
        }
    };
    if frac_num % frac_den != 0 {
        return Err(format!(
            "bad size {text:?}: {what} must be a whole number of bytes"
        ));
    }
    whole
        .checked_mul(u128::from(multiplier))
        .and_then(|b| b.checked_add(frac_num / frac_den))
        .and_then(|b| u64::try_from(b).ok())
        .ok_or_else(out_of_range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_in_binary_units() {
        let cases = [
            (0, "0 B"),
            (1000, "1,000 B"),
            (1023, "1,023 B"),
            (1024, "1.0 KiB"),
            (1229, "1.2 KiB"),
            (1024 * 1024 - 1, "1.0 MiB"),
            (1258291, "1.2 MiB"),
            (5 << 30, "5.0 GiB"),
            (u64::MAX, "16.0 EiB"),
        ];
        for (n, text) in cases {
            assert_eq!(Bytes(n).to_string(), text, "{n}");
        }
    }

    /// A unit is read whatever its letters' case: `8 MIB` and `8 Kb` were refused where
    /// `8 mib` and `8 kb` were taken.
    #[test]
    fn units_in_any_case() {
        for (text, bytes) in [
            ("8 MiB", 8 << 20),
            ("8 MIB", 8 << 20),
            ("8 mib", 8 << 20),
            ("8 KB", 8_000),
            ("8 Kb", 8_000),
            ("8 kB", 8_000),
            ("2 GIB", 2 << 30),
            ("5 BYTES", 5),
        ] {
            assert_eq!(parse_bytes(text, "a limit"), Ok(bytes), "{text}");
        }
        assert!(parse_bytes("8 MiBs", "a limit").is_err());
    }

    #[test]
    fn counts_with_separators_and_plurals() {
        assert_eq!(Count(0, "block").to_string(), "0 blocks");
        assert_eq!(Count(1, "block").to_string(), "1 block");
        assert_eq!(Count(3401, "block").to_string(), "3,401 blocks");
        assert_eq!(Thousands(1_234_567).to_string(), "1,234,567");
        assert_eq!(Thousands(100).to_string(), "100");
        assert_eq!(format!("{:>8}", Thousands(1000)), "   1,000");
    }
}
