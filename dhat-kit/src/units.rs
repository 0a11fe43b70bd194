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
