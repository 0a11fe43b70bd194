//! [`compare`]: recorded figures against new ones, metric by metric, with a tolerance.

use super::file::{BaselineFigures, Measure, METRICS};
use crate::analyze::Metric;
use crate::units::Thousands;
use std::fmt;

/// How one figure compares with its baseline. In JSON: `within`, `regressed` or `improved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Status {
    /// Within the tolerance, either way.
    Within,
    /// Higher than the baseline by more than the tolerance.
    Regressed,
    /// Lower than the baseline by more than the tolerance.
    Improved,
}

/// One row of a [`Comparison`]: a metric's recorded figure, its figure now, and the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Row {
    /// The metric.
    pub metric: Metric,
    /// The recorded figure.
    pub baseline: u64,
    /// The figure now.
    pub now: u64,
    /// The verdict.
    pub status: Status,
}

impl Row {
    /// `now - baseline`.
    #[must_use]
    pub fn delta(&self) -> i128 {
        i128::from(self.now) - i128::from(self.baseline)
    }

    /// The change in percent of the baseline; `None` when the baseline is 0.
    #[must_use]
    pub fn percent(&self) -> Option<f64> {
        (self.baseline != 0).then(|| self.delta() as f64 * 100.0 / self.baseline as f64)
    }

    /// The change as the table shows it: `+1,024` and `+25.0%` (`new` from a baseline of 0). A
    /// change beyond the `tolerance` whose one decimal reads the tolerance itself gets the
    /// decimals that show it beyond (`+5.0001%` at 5%, where `+5.0%  regressed` under
    /// `(tolerance 5%)` read as a figure within it failing).
    fn change(&self, tolerance: f64) -> (String, String) {
        let change = self.delta();
        let sign = if change > 0 {
            "+"
        } else if change < 0 {
            "-"
        } else {
            ""
        };
        let delta = format!("{sign}{}", Thousands(change.unsigned_abs() as u64));
        let percent = match self.percent() {
            _ if change == 0 => "0.0%".to_owned(),
            Some(p) => {
                let beyond = self.status != Status::Within;
                let mut decimals = 1;
                // Up to 12: a change past the tolerance by less than that is one of a figure
                // above 10^14, shown at its last decimal.
                while beyond && decimals < 12 {
                    let shown: f64 = format!("{:.decimals$}", p.abs()).parse().unwrap_or(p);
                    if shown > tolerance {
                        break;
                    }
                    decimals += 1;
                }
                format!("{p:+.decimals$}%")
            }
            None => "new".to_owned(),
        };
        (delta, percent)
    }
}

/// Figures compared with their baseline: one [`Row`] per metric that both have. Prints as a
/// table (see [`compare`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Comparison {
    /// The entry's name.
    pub name: String,
    /// The tolerance, in percent.
    pub tolerance: f64,
    /// One row per compared metric, in the order of [`METRICS`].
    pub rows: Vec<Row>,
}

impl Comparison {
    /// The rows that regressed beyond the tolerance.
    pub fn regressions(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.status == Status::Regressed)
    }

    /// The rows that improved beyond the tolerance.
    pub fn improvements(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.status == Status::Improved)
    }

    /// Whether nothing regressed beyond the tolerance.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.regressions().next().is_none()
    }

    /// Whether every figure is within the tolerance (nothing to record).
    #[must_use]
    pub fn unchanged(&self) -> bool {
        self.rows.iter().all(|r| r.status == Status::Within)
    }
}

/// Compares `now` with `baseline` on `metrics` (those both have; the others are left out): a
/// figure above `baseline × (1 + tolerance/100)` regressed, one below
/// `baseline × (1 − tolerance/100)` improved, exactly (the tolerance read as the decimal it is
/// written as: 113 is within 13% of 100, 114 is not). From a baseline of 0, any growth regresses.
///
/// The comparison prints as a table:
///
/// ```text
/// memory baseline `parse` (tolerance 5%):
///   metric            baseline           now         delta         %
///   total bytes         10,000        10,100          +100     +1.0%
///   peak bytes           4,096         5,120        +1,024    +25.0%  regressed
/// ```
///
/// # Examples
///
/// ```
/// use dhat_kit::baseline::{compare, BaselineFigures, Metric, Status, METRICS};
///
/// let was = BaselineFigures {
///     peak_bytes: Some(1000),
///     total_blocks: Some(10),
///     ..BaselineFigures::default()
/// };
/// let now = BaselineFigures {
///     peak_bytes: Some(1040),
///     total_blocks: Some(5),
///     ..BaselineFigures::default()
/// };
/// let c = compare("t", &was, &now, 5.0, &METRICS);
/// assert!(c.passed()); // +4% is within 5%
/// assert_eq!(c.improvements().next().unwrap().metric, Metric::TotalBlocks);
/// ```
#[must_use]
pub fn compare(
    name: &str,
    baseline: &BaselineFigures,
    now: &BaselineFigures,
    tolerance: f64,
    metrics: &[Metric],
) -> Comparison {
    let tolerance = if tolerance.is_finite() {
        tolerance.max(0.0)
    } else {
        0.0
    };
    let rows = METRICS
        .into_iter()
        .filter(|m| metrics.contains(m))
        .filter_map(|metric| {
            let (b, n) = (baseline.get(metric)?, now.get(metric)?);
            let status = if n > b && beyond(n - b, b, tolerance) {
                Status::Regressed
            } else if n < b && beyond(b - n, b, tolerance) {
                Status::Improved
            } else {
                Status::Within
            };
            Some(Row {
                metric,
                baseline: b,
                now: n,
                status,
            })
        })
        .collect();
    Comparison {
        name: name.to_owned(),
        tolerance,
        rows,
    }
}

/// Whether a change of `change` from `base` is more than `tolerance` percent of `base`, with the
/// tolerance read as the decimal it was written as (its shortest form: `13`, `0.3`): a change of
/// exactly the tolerance is within it. In floating point, `100 * (1 + 13 / 100)` is
/// 112.99999999999999, and 113 was beyond 13% of 100.
fn beyond(change: u64, base: u64, tolerance: f64) -> bool {
    // `change * 100 > base * tolerance`, as integers: the tolerance's digits over a power of ten.
    let written = format!("{tolerance}");
    let (whole, fraction) = written.split_once('.').unwrap_or((&written, ""));
    let exact = format!("{whole}{fraction}")
        .parse::<u128>()
        .ok()
        .zip(u32::try_from(fraction.len()).ok())
        .and_then(|(digits, scale)| {
            let left = u128::from(change)
                .checked_mul(100)?
                .checked_mul(10u128.checked_pow(scale)?)?;
            let right = u128::from(base).checked_mul(digits)?;
            Some(left > right)
        });
    // Past 128 bits (a tolerance of 10^20 percent, or of 40 decimals): as closely as a double can.
    exact.unwrap_or(change as f64 * 100.0 > base as f64 * tolerance)
}

impl Comparison {
    /// The table of figures that measure `measure`: its rows name them in its units (`total
    /// units`, `total events` for an ad-hoc profile's), where [`Display`](fmt::Display) says
    /// bytes and blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// use dhat_kit::baseline::{compare, BaselineFigures, Measure, METRICS};
    /// use dhat_kit::profile::Kind;
    ///
    /// let was = BaselineFigures {
    ///     total_bytes: Some(100),
    ///     total_blocks: Some(4),
    ///     ..BaselineFigures::default()
    /// };
    /// let now = BaselineFigures {
    ///     total_bytes: Some(150),
    ///     total_blocks: Some(4),
    ///     ..BaselineFigures::default()
    /// };
    /// let ad_hoc = Measure { kind: Kind::AdHoc, unit: "units".into(), blocks: "events".into() };
    /// let table = compare("parse", &was, &now, 5.0, &METRICS).measured(&ad_hoc).to_string();
    /// assert!(table.contains("total units") && table.contains("total events"));
    /// ```
    #[must_use]
    pub fn measured<'a>(&'a self, measure: &'a Measure) -> impl fmt::Display + 'a {
        Measured {
            comparison: self,
            measure,
        }
    }
}

impl Comparison {
    /// The table as GitHub-flavoured Markdown, its rows named in `measure`'s units: baseline,
    /// now, delta, %, status (`within`, `regressed`, `improved`) and metric.
    pub(crate) fn markdown(&self, measure: &Measure) -> String {
        let view = Measured {
            comparison: self,
            measure,
        };
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                let (delta, percent) = r.change(self.tolerance);
                let status = match r.status {
                    Status::Within => "within",
                    Status::Regressed => "regressed",
                    Status::Improved => "improved",
                };
                vec![
                    Thousands(r.baseline).to_string(),
                    Thousands(r.now).to_string(),
                    delta,
                    percent,
                    status.to_owned(),
                    view.label(r.metric),
                ]
            })
            .collect();
        if rows.is_empty() {
            return "(no figure in common)\n".to_owned();
        }
        crate::analyze::render_table(
            &["baseline", "now", "delta", "%", "status", "metric"],
            &rows,
            true,
        )
    }
}

/// A [`Comparison`]'s table in the units of what it measures.
struct Measured<'a> {
    comparison: &'a Comparison,
    measure: &'a Measure,
}

impl Measured<'_> {
    /// The row's name: `total bytes`, or `total units` for figures in units.
    fn label(&self, metric: Metric) -> String {
        let m = self.measure;
        crate::analyze::in_units(metric.label(), &m.unit, &m.blocks)
    }
}

impl fmt::Display for Measured<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.comparison;
        writeln!(
            f,
            "memory baseline `{}` (tolerance {}%):",
            c.name, c.tolerance
        )?;
        let labels: Vec<String> = c.rows.iter().map(|r| self.label(r.metric)).collect();
        let width = labels.iter().map(|l| l.len() + 2).fold(14, usize::max);
        let cells: Vec<[String; 4]> = c
            .rows
            .iter()
            .map(|row| {
                let (delta, percent) = row.change(c.tolerance);
                [
                    Thousands(row.baseline).to_string(),
                    Thousands(row.now).to_string(),
                    delta,
                    percent,
                ]
            })
            .collect();
        // 14 wide for figures and 9 for the percentage, wider where a figure needs it (a change
        // of +1,716,900.0% stays in its column).
        let wide = |i: usize, least: usize| {
            cells
                .iter()
                .map(|c| c[i].chars().count() + usize::from(i < 3) * 2)
                .fold(least, usize::max)
        };
        let (b, n, d, p) = (wide(0, 14), wide(1, 14), wide(2, 14), wide(3, 9));
        write!(
            f,
            "  {:<width$}{:>b$}{:>n$}{:>d$} {:>p$}",
            "metric", "baseline", "now", "delta", "%"
        )?;
        for ((row, label), [baseline, now, delta, percent]) in
            c.rows.iter().zip(&labels).zip(&cells)
        {
            let status = match row.status {
                Status::Within => "",
                Status::Regressed => "  regressed",
                Status::Improved => "  improved",
            };
            write!(
                f,
                "\n  {label:<width$}{baseline:>b$}{now:>n$}{delta:>d$} {percent:>p$}{status}"
            )?;
        }
        if c.rows.is_empty() {
            write!(f, "\n  (no figure in common)")?;
        }
        Ok(())
    }
}

impl fmt::Display for Comparison {
    /// The table of figures in bytes and blocks; [`measured`](Comparison::measured) names
    /// other units.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.measured(&Measure::default()).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(total: u64, peak: u64) -> BaselineFigures {
        BaselineFigures {
            total_bytes: Some(total),
            peak_bytes: Some(peak),
            ..BaselineFigures::default()
        }
    }

    /// The first row of the comparison of `was` with `now` (each figure alike) at `tolerance`.
    fn row(was: u64, now: u64, tolerance: f64) -> Row {
        compare(
            "t",
            &figures(was, was),
            &figures(now, now),
            tolerance,
            &METRICS,
        )
        .rows[0]
    }

    #[test]
    fn a_change_of_exactly_the_tolerance_is_within_it() {
        let status = |was: u64, now: u64, tolerance: f64| row(was, now, tolerance).status;
        // Exactly at the tolerance, both ways: 100 * 1.13 is 112.99999999999999 in a double.
        for (was, now, tolerance) in [
            (100, 113, 13.0),
            (200, 201, 0.5),
            (1000, 1003, 0.3),
            (100, 87, 13.0),
            (1000, 836, 16.4),
            (u64::MAX / 2, u64::MAX / 2 * 2, 100.0),
        ] {
            assert_eq!(
                status(was, now, tolerance),
                Status::Within,
                "{was} -> {now} at {tolerance}%"
            );
        }
        // One past it.
        assert_eq!(status(100, 114, 13.0), Status::Regressed);
        assert_eq!(status(1000, 1004, 0.3), Status::Regressed);
        assert_eq!(status(100, 86, 13.0), Status::Improved);
        assert_eq!(status(1000, 835, 16.4), Status::Improved);
        assert_eq!(status(0, 1, 1e30), Status::Regressed);
        assert_eq!(status(10, 11, 0.0), Status::Regressed);
    }

    /// A change beyond the tolerance never reads as the tolerance itself: `+5.0%  regressed`
    /// under `(tolerance 5%)` said a figure within it failed (78,559 bytes, then 82,487).
    #[test]
    fn a_change_just_beyond_the_tolerance_shows_the_decimals_that_say_so() {
        let percent =
            |was: u64, now: u64, tolerance: f64| row(was, now, tolerance).change(tolerance).1;
        assert_eq!(percent(78_559, 82_487, 5.0), "+5.0001%");
        assert_eq!(percent(100_000, 102_501, 2.5), "+2.501%");
        assert_eq!(percent(100_000, 97_499, 2.5), "-2.501%");
        // Within, or clearly beyond: one decimal.
        assert_eq!(percent(100_000, 105_000, 5.0), "+5.0%");
        assert_eq!(percent(100_000, 104_990, 5.0), "+5.0%");
        assert_eq!(percent(100_000, 106_000, 5.0), "+6.0%");
        assert_eq!(percent(100, 114, 13.0), "+14.0%");
    }

    #[test]
    fn a_huge_change_stays_in_its_columns() {
        let c = compare(
            "t",
            &figures(1, 4000),
            &figures(17_170, 5_396),
            5.0,
            &METRICS,
        );
        let text = c.to_string();
        let lines: Vec<&str> = text.lines().skip(1).collect();
        // Every row's percentage ends where the header's `%` does, and its delta where `delta` does.
        let header = lines[0];
        let delta_end = header.find("delta").unwrap() + "delta".len();
        for row in &lines[1..] {
            assert!(row[..header.len()].ends_with('%'), "{text}");
            assert!(row[..delta_end].ends_with(char::is_numeric), "{text}");
            assert_eq!(row.as_bytes()[delta_end], b' ', "{text}");
        }
        assert!(text.contains("+1716900.0%"), "{text}");
    }

    #[test]
    fn tolerance_bounds_are_inclusive() {
        let was = figures(1000, 1000);
        let c = compare("t", &was, &figures(1050, 950), 5.0, &METRICS);
        assert!(c.unchanged() && c.passed(), "{c}");
        let c = compare("t", &was, &figures(1051, 949), 5.0, &METRICS);
        assert_eq!(c.rows[0].status, Status::Regressed);
        assert_eq!(c.rows[1].status, Status::Improved);
        assert!(!c.passed());
    }

    #[test]
    fn growth_from_zero_regresses_and_metrics_are_chosen() {
        let c = compare("t", &figures(0, 0), &figures(1, 0), 50.0, &METRICS);
        assert_eq!(c.rows[0].status, Status::Regressed);
        assert_eq!(c.rows[0].percent(), None);
        let c = compare(
            "t",
            &figures(0, 0),
            &figures(1, 0),
            50.0,
            &[Metric::PeakBytes],
        );
        assert!(c.passed());
        assert_eq!(c.rows.len(), 1);
    }

    #[test]
    fn the_table() {
        let c = compare(
            "parse",
            &figures(10_000, 4096),
            &figures(10_100, 5120),
            5.0,
            &METRICS,
        );
        assert_eq!(
            c.to_string(),
            "memory baseline `parse` (tolerance 5%):
  metric              baseline           now         delta         %
  total bytes           10,000        10,100          +100     +1.0%
  peak bytes             4,096         5,120        +1,024    +25.0%  regressed"
        );
    }

    #[test]
    fn an_ad_hoc_table_names_units_and_events() {
        let was = BaselineFigures {
            total_bytes: Some(100),
            total_blocks: Some(4),
            ..BaselineFigures::default()
        };
        let now = BaselineFigures {
            total_bytes: Some(150),
            ..was
        };
        let c = compare("interp", &was, &now, 5.0, &METRICS);
        assert_eq!(
            c.measured(&Measure::ad_hoc()).to_string(),
            "memory baseline `interp` (tolerance 5%):
  metric              baseline           now         delta         %
  total units              100           150           +50    +50.0%  regressed
  total events               4             4             0      0.0%"
        );
        let long = Measure {
            unit: "instructions".into(),
            ..Measure::ad_hoc()
        };
        let table = c.measured(&long).to_string();
        assert!(
            table.contains("\n  metric                    baseline")
                && table.contains("\n  total instructions             100"),
            "{table}"
        );
    }
}
