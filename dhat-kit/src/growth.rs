//! [`growth`]: a workload's figures at several input sizes, and the growth class each figure
//! follows ([`GrowthClass`]), fitted as documented on [`GrowthFit`].

use crate::stats::{measure, Stats};
use crate::units::{Bytes, Thousands};
use std::fmt;
use std::str::FromStr;

/// How a figure grows with the input size `n`: constant, `log n`, `n`, `n log n`, `n²` or `n³`,
/// ordered from the slowest to the fastest.
///
/// Written (in [`assert_growth`](macro@crate::assert_growth) and [`str::parse`]) as `"1"`, `"log n"`,
/// `"n"`, `"n log n"`, `"n^2"`, `"n^3"`; `"constant"`, `"n²"` and `"n³"` are accepted too.
/// [`Display`](fmt::Display) writes `1`, `log n`, `n`, `n log n`, `n²`, `n³`.
///
/// # Examples
///
/// ```
/// use dhat_kit::GrowthClass;
///
/// let class: GrowthClass = "n log n".parse().unwrap();
/// assert_eq!(class, GrowthClass::LinearLog);
/// assert!(GrowthClass::Linear < class && class < GrowthClass::Quadratic);
/// assert_eq!("n²".parse::<GrowthClass>(), Ok(GrowthClass::Quadratic));
/// assert_eq!(GrowthClass::Quadratic.to_string(), "n²");
/// assert_eq!(GrowthClass::Quadratic.name(), "n^2");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum GrowthClass {
    /// `1`: the same at every size.
    Constant,
    /// `log n`
    Log,
    /// `n`
    Linear,
    /// `n log n`
    LinearLog,
    /// `n^2`
    Quadratic,
    /// `n^3`
    Cubic,
}

impl GrowthClass {
    /// Every class, from the slowest to the fastest.
    pub const ALL: [GrowthClass; 6] = [
        GrowthClass::Constant,
        GrowthClass::Log,
        GrowthClass::Linear,
        GrowthClass::LinearLog,
        GrowthClass::Quadratic,
        GrowthClass::Cubic,
    ];

    /// The class's name as written in `#[assert_growth]`: `"1"`, `"log n"`, `"n"`, `"n log n"`,
    /// `"n^2"`, `"n^3"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            GrowthClass::Constant => "1",
            GrowthClass::Log => "log n",
            GrowthClass::Linear => "n",
            GrowthClass::LinearLog => "n log n",
            GrowthClass::Quadratic => "n^2",
            GrowthClass::Cubic => "n^3",
        }
    }

    /// The class's function of `n` (the `g` of `a + b·g(n)`; the constant class has none).
    fn g(self, n: f64) -> f64 {
        match self {
            GrowthClass::Constant => 0.0,
            GrowthClass::Log => n.ln(),
            GrowthClass::Linear => n,
            GrowthClass::LinearLog => n * n.ln(),
            GrowthClass::Quadratic => n * n,
            GrowthClass::Cubic => n * n * n,
        }
    }
}

impl fmt::Display for GrowthClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            GrowthClass::Quadratic => "n²",
            GrowthClass::Cubic => "n³",
            other => other.name(),
        })
    }
}

impl FromStr for GrowthClass {
    /// The text that is not a class, and a message that lists the classes.
    type Err = crate::ParseError;

    fn from_str(s: &str) -> Result<GrowthClass, crate::ParseError> {
        Ok(match s {
            "1" | "constant" => GrowthClass::Constant,
            "log n" => GrowthClass::Log,
            "n" => GrowthClass::Linear,
            "n log n" => GrowthClass::LinearLog,
            "n^2" | "n²" => GrowthClass::Quadratic,
            "n^3" | "n³" => GrowthClass::Cubic,
            _ => {
                return Err(crate::ParseError::new(
                    s,
                    format!(
                        "`{s}` is not a growth class; the classes are \"1\", \"log n\", \"n\", \
                         \"n log n\", \"n^2\", \"n^3\""
                    ),
                ))
            }
        })
    }
}

/// The growth of one figure over the sizes: its [`GrowthClass`] and the fitted exponent.
///
/// # The fit
///
/// For each class `g` (`1`, `log n`, `n`, `n log n`, `n²`, `n³`), the figures `y` are fitted as
/// `y ≈ a + b·g(n)` with `a ≥ 0` (a fixed cost: a buffer, a table allocated whatever the size)
/// and `b ≥ 0`, by least squares weighted by `1/(y+1)²`, so that every size counts by its
/// relative error, not the largest by its absolute one. A fit's error is the root mean square of
/// `ln((ŷ+1)/(y+1))` over the sizes. The class is the slowest one whose error is at most 0.12
/// above the best class's (a typical deviation about 12% larger): an exact `a + b·g(n)` (10 KiB of
/// fixed cost plus 40 bytes per item is `n`, not `1` nor `n log n`) is its own class, and
/// irregular figures (a `Vec`'s capacity doubling, which moves bytes per item within a factor of
/// 2, errors of about 0.2 for `n`) are not pushed into a faster class by a fit that is only a
/// little better. Between `n` and `n log n`, which capacity slack alone can tell apart wrongly
/// (a `Vec` filled 78%, 98% and 61% at 10, 1,000 and 10,000 items fits `n log n` with an error
/// of 0.08 and `n` with 0.20), the tolerance for `n` is widened by the best class's own error, up
/// to 0.12 more: figures that no class fits exactly must fit `n log n` better than `n` by more
/// than the tolerance and their own irregularity. Not for figures over four sizes or more whose
/// figure per item rises at every step, which slack does not do (see the limits below). The
/// constant term is what keeps a fixed cost
/// from reading as slower growth, and its sign what keeps a fixed cost from hiding faster growth.
///
/// A fixed cost large against the growth makes every class's relative error small (1 MiB plus 3
/// bytes per item changes by 28% from 1,000 to 100,000 items, and `1` fits it within 0.12), so
/// the power of `n` is read a second time, from the increments `y - y₀` over the smallest size's
/// figure, in which the fixed cost cancels: each class fits `y - y₀ ≈ b·(g(n) - g(n₀))`, its
/// error relative to the increment plus 16 (bytes or blocks: noise that does not follow the size,
/// such as capacity slack or one more digit, fits any class), the slowest within 0.12 of the best.
/// When the increments need a higher power of `n` (`n`, `n log n` against `1`, `log n`; `n²`
/// against `n`), the class is the slowest of that power or more that fits the figures as above.
/// So a per-item term is never read as `1` or `log n` once it adds more than a few times 16
/// bytes over the sizes (0.01 bytes per item from 1,000 to 100,000 items, 4 bytes per item from
/// 1 to 8), whatever the fixed cost; 1 MiB plus 1 byte per item is `n`. A figure that steps (no
/// more than 16 between two sizes, then more between two others: a capacity doubling between
/// nearby sizes) tells that it grows, not how fast: its increments raise the class to `n` at
/// most. A figure that rises between one pair of sizes only, after not changing (a fixed
/// scratch buffer, then a result that outgrows it: 100 KiB, 100 KiB, then 8 bytes per item),
/// fits `n` and faster classes alike: it reads `n` with [`undecided`](Self::undecided) the
/// faster class its figures fit (`n or n²`), so that [`Growth::exceeds`] refuses a declared `n`
/// saying the sizes cannot tell; sizes over which it rises more than once tell.
///
/// A figure that is nothing at the smallest size and rises at every step after it (a buffer the
/// work keeps between runs, sized by an earlier one: each size allocates what it adds) is
/// `b·(g(n) - g(n₀))`, which no `a + b·g(n)` with `a ≥ 0` fits: its class and exponent are read
/// from the increments alone.
///
/// `n³` is the fastest class. Figures that grow faster (`n⁴`, `2ⁿ`: an exponent above 3.5, no
/// step) read `faster than n³` ([`beyond`](Self::beyond)), which no declared class holds. A
/// figure that steps, and that `n³` fits worse than its exponent's power by more than the 0.12
/// tolerance (`n⁴` over `[1, 2, 100]`: 1, 16, then 100,000,000 bytes, the first change within
/// noise), may grow faster than `n³` or only follow a slower class from its step on; the sizes
/// cannot tell which ([`may_be_beyond`](Self::may_be_beyond)), and [`Growth::exceeds`] refuses
/// every declared class for it, saying so.
///
/// What the sizes can tell apart has limits:
/// - **Sizes too close together** cannot tell neighbouring classes apart at all: over `[1, 2, 3]`,
///   figures growing exactly as `n` fit `log n` within the tolerance, and over `[100, 200, 400]`
///   `log n` fits `1`. Such sizes are refused (see Panics): every class must read as itself at the
///   sizes given. A factor of 8 between the smallest and the largest size is enough in the
///   hundreds (`[100, 200, 400, 800]`); `log n` changes less at larger sizes, and
///   `[1_000, 2_000, 4_000]` cannot tell it from `1`. 100 or more tells the classes apart best.
/// - **Sizes close together after the smallest** (the two largest within about 1.3 times):
///   the increments change between them in nearly the same ratio whatever the class, and a
///   slower class fits them within the tolerance. When the increments fit a higher power of `n`
///   best, and that class's own exact increments would read a lower power at these sizes, the
///   class read is [`undecided`](Self::undecided) that one: exact `n²` over `[2, 8_000, 10_000]`
///   reads `n or n²`, 1 KiB plus 8 bytes per item over `[10, 100, 128]` `log n or n`, and
///   [`Growth::exceeds`] refuses a declared slower class; `n⁴` reads `faster than n³`.
/// - **A per-item term that adds only about 16 bytes over the sizes** cannot be told from noise:
///   the class is then `1` with [`undecided`](Self::undecided) `n` when the change follows `n`
///   better than no change (1 MiB plus 2 bytes per item over `[1, 2, 4, 8]`), and
///   [`Growth::exceeds`] refuses a declared `1` for it; larger sizes tell. So is a change of 16 or
///   less in one step, after none (2, 2 and 18 blocks over `[1, 10, 100]`).
/// - **A log factor** is read from the figures' relative error alone, so the tolerance can hide
///   it: `log n` small against a fixed cost reads `1` (4 KiB plus `16·ln n` bytes, 1.7% over
///   `[1_000, 10_000, 100_000]`), and `n log n` reads `n` when a fixed cost is large against the
///   per-item part at the smallest size: over `[1_000, 10_000, 100_000]`, `8·n·ln n` bytes
///   (55 KB at 1,000) read `n log n` with 10 KB of fixed cost but `n` with 20 KB. Choose sizes
///   at which the per-item part dominates the smallest figure, or declare the slower class only
///   where that holds. The power of `n` (1 against `n`, `n` against `n²`) is not hidden so,
///   but for the next case.
/// - **`n²` beside a per-item term as large, over three sizes**: `n² + 1000·n` bytes over three
///   round sizes up to 1,000 can read `n`, within the tolerance widened for slack, since slack
///   also raises a figure per item between three sizes (a `HashMap`'s: 21.9, 27.9 and 35.7 bytes
///   over `[100, 10_000, 1_000_000]`). Over four sizes or more, a figure per item that rises at
///   every step is not taken for slack: `n² + 1000·n` over `[100, 200, 400, 800]` reads `n log n`.
///   Use four sizes, or sizes at which `n²` dominates.
///
/// A figure that falls somewhere as the size grows, and moves over all the sizes by no more than
/// 16 plus twice its largest fall, is `1`: that is variation (a bounded cache whose entries'
/// lengths vary: 10,686, 10,660 and 10,700 bytes), not growth. Where it more than doubles, by
/// more than 16 plus its largest fall, the class the fits read is [`undecided`](Self::undecided)
/// beside it (a cache kept between calls: 0, 495,000 and 220,000 bytes).
///
/// The exponent is `p` of the best fit of `y ≈ a + b·n^p` (the same weights and constraints,
/// `p` from 0 to 6 to within 0.001): about 1 for `n`, 1.1 to 1.2 for `n log n` at thousands of
/// items, 2 for `n²`; 0 for a figure that does not grow, or varies as above; up to 6 for a step. [`terms`](Self::terms)
/// gives the class's `a` and `b`.
///
/// Figures are exact, so the fit is deterministic: the same workload and sizes give the same
/// class on every run. Sizes spread over a factor of 100 or more tell the classes apart best.
///
/// # Examples
///
/// ```
/// use dhat_kit::{GrowthClass, GrowthFit};
///
/// let sizes = [1_000, 10_000, 100_000];
/// // 10 KiB of fixed cost, 40 bytes per item.
/// let bytes: Vec<u64> = sizes.iter().map(|&n| 10_240 + 40 * n as u64).collect();
/// let fit = GrowthFit::of(&sizes, &bytes);
/// assert_eq!(fit.class(), GrowthClass::Linear);
/// assert!((fit.exponent() - 1.0).abs() < 0.01);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrowthFit {
    class: GrowthClass,
    exponent: f64,
    fixed: f64,
    per_g: f64,
    undecided: Option<GrowthClass>,
    beyond: bool,
    may_be_beyond: bool,
    /// The figures rise between one pair of sizes only: more sizes, not larger ones, tell.
    one_rise: bool,
}

/// How much worse than the best class's error a slower class's may be and still be chosen.
const SLACK: f64 = 0.12;

/// A change of a figure between sizes up to this (bytes or blocks) may be noise that does not
/// follow the size (capacity slack, one more digit): the increments' fit adds it to each
/// increment, so that changes of this order fit every class and only larger ones tell a power of
/// `n` (see [`GrowthFit`]).
const NOISE: f64 = 16.0;

impl GrowthFit {
    /// Fits `values[i]`, the figure at `sizes[i]`.
    ///
    /// # Panics
    ///
    /// If `sizes` and `values` differ in length, or `sizes` has fewer than 3 sizes, is not
    /// increasing, starts at 0, or is too close together to tell the classes apart (above).
    #[must_use]
    #[track_caller]
    pub fn of(sizes: &[usize], values: &[u64]) -> GrowthFit {
        assert_eq!(
            sizes.len(),
            values.len(),
            "dhat-kit: GrowthFit::of needs one figure per size"
        );
        check_sizes(sizes);
        let points: Vec<(f64, f64)> = sizes
            .iter()
            .zip(values)
            .map(|(&n, &y)| (n as f64, y as f64))
            .collect();
        let reading = classify(&points);
        let (_, fixed, per_g) = fit(&points, |n| reading.class.g(n));
        GrowthFit {
            class: reading.class,
            // A best power for variation that is not growth would be any (6 fits a last rise).
            exponent: match reading.exponent {
                _ if reading.flat => 0.0,
                Some(e) => e,
                None => exponent(&points),
            },
            fixed,
            per_g,
            undecided: reading.undecided,
            beyond: reading.beyond,
            may_be_beyond: reading.may_be_beyond,
            one_rise: reading.one_rise,
        }
    }

    /// The class: the slowest that fits the figures (see above).
    #[must_use]
    pub fn class(&self) -> GrowthClass {
        self.class
    }

    /// The exponent `p` of the best fit of `a + b·n^p` (see above), from 0 to 6: 6 is the top of
    /// the range searched, where the best fit may lie beyond it (reports say `6 or more`).
    #[must_use]
    pub fn exponent(&self) -> f64 {
        self.exponent
    }

    /// `(a, b)` of the class's fit `a + b·g(n)`: the fixed part, and the figure per unit of
    /// `g(n)` (per item for `n`, per `n²` for `n²`; 0 for `1`). For 1 MiB plus 3 bytes per
    /// item, `(1048576.0, 3.0)` with the class `n`.
    #[must_use]
    pub fn terms(&self) -> (f64, f64) {
        (self.fixed, self.per_g)
    }

    /// A faster class than [`class`](Self::class) that the sizes cannot tell it from, if any:
    /// `Some(n)` when the class is `1` but the figures change over the sizes by about 16 bytes
    /// or blocks (the noise allowed, see above) in the shape of `n`: a per-item term too small
    /// to show at these sizes. Larger sizes tell them apart.
    #[must_use]
    pub fn undecided(&self) -> Option<GrowthClass> {
        self.undecided
    }

    /// Whether the figures grow faster than the fastest class, `n³` (their
    /// [`exponent`](Self::exponent) above 3.5, and no step): `n⁴` or `2ⁿ`. The class reads `n³`,
    /// and no declared class holds such figures ([`Growth::exceeds`] refuses `n³` too).
    #[must_use]
    pub fn beyond(&self) -> bool {
        self.beyond
    }

    /// Whether the figures may grow faster than the fastest class, `n³`, but the sizes cannot
    /// tell: they step (a change within noise, then a rise), and `n³` fits them worse than
    /// their exponent's power by more than the tolerance (see above). They read
    /// `n or faster than n³` (one rise) or `n³ or faster than n³`; [`Growth::exceeds`] refuses
    /// every declared class, asking for other sizes. [`undecided`](Self::undecided) is then
    /// `None`.
    ///
    /// ```
    /// use dhat_kit::GrowthFit;
    ///
    /// // n⁴ bytes: 1 and 16 differ by no more than noise, then 100,000,000.
    /// let fit = GrowthFit::of(&[1, 2, 100], &[1, 16, 100_000_000]);
    /// assert!(fit.may_be_beyond() && !fit.beyond());
    /// assert_eq!(fit.to_string(), "n or faster than n³ (exponent 4.00)");
    /// // Sizes whose figures all rise tell.
    /// let fit = GrowthFit::of(&[2, 10, 100], &[16, 10_000, 100_000_000]);
    /// assert!(fit.beyond());
    /// ```
    #[must_use]
    pub fn may_be_beyond(&self) -> bool {
        self.may_be_beyond
    }
}

impl fmt::Display for GrowthFit {
    /// `n² (exponent 1.98)`; `1 or n (exponent 0.41)` when [`undecided`](Self::undecided);
    /// `faster than n³ (exponent 4.00)` [`beyond`](Self::beyond) the classes; `n or faster than
    /// n³ (exponent 4.00)` when it [`may be`](Self::may_be_beyond). An exponent at the top of the
    /// range searched reads `exponent 6 or more`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = Exponent(self.exponent);
        if self.beyond {
            return write!(f, "faster than {} (exponent {exponent})", self.class);
        }
        if self.may_be_beyond {
            return write!(
                f,
                "{} or faster than {} (exponent {exponent})",
                self.class,
                GrowthClass::Cubic
            );
        }
        match self.undecided {
            Some(faster) => write!(f, "{} or {faster} (exponent {exponent})", self.class),
            None => write!(f, "{} (exponent {exponent})", self.class),
        }
    }
}

/// A fitted exponent as reports say it: `1.98`, or `6 or more` at the top of the range searched,
/// where the best fit lies beyond it (a step, `2ⁿ`): it read `6.00` beside `n`, as if the figures
/// grew as `n⁶`.
struct Exponent(f64);

impl fmt::Display for Exponent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 >= HIGHEST_EXPONENT {
            write!(f, "{HIGHEST_EXPONENT} or more")
        } else {
            write!(f, "{:.2}", self.0)
        }
    }
}

/// Panics unless `sizes` are at least 3, from 1 up, strictly increasing, and far enough apart
/// ([`sizes_problem`]), at the caller's location.
#[track_caller]
fn check_sizes(sizes: &[usize]) {
    if let Some(problem) = sizes_problem(sizes) {
        panic!("{problem}");
    }
}

/// What is wrong with `sizes` for a fit, if anything: fewer than 3, starting at 0, not strictly
/// increasing, or too close together to tell the classes apart ([`indistinct_classes`]).
pub(crate) fn sizes_problem(sizes: &[usize]) -> Option<String> {
    if sizes.len() < 3 {
        Some(format!(
            "dhat-kit: growth needs at least 3 sizes to fit a class, got {sizes:?}"
        ))
    } else if sizes[0] < 1 {
        Some(format!(
            "dhat-kit: growth sizes start at 1 or more (log 0 is undefined), got {sizes:?}"
        ))
    } else if !sizes.windows(2).all(|w| w[0] < w[1]) {
        Some(format!(
            "dhat-kit: growth sizes must be strictly increasing, got {sizes:?}"
        ))
    } else {
        indistinct_classes(sizes).map(|(class, read_as)| {
            format!(
                "dhat-kit: growth sizes {sizes:?} are too close together to tell `{class}` from \
                 `{read_as}` (figures growing exactly as {class} would read as {read_as}); spread \
                 them wider, over a factor of 100 or more, e.g. [1_000, 10_000, 100_000]"
            )
        })
    }
}

/// The first class that figures growing exactly as it (a million at the largest size, a
/// thousand or more at the smallest) would not read as at `sizes`, and the class they would read as: sizes too close together (`[1, 2, 3]`
/// reads `n` as `log n`, `[100, 200, 400]` reads `log n` as `1`), where a class read would say
/// less than it seems to. `None` when every class reads as itself.
fn indistinct_classes(sizes: &[usize]) -> Option<(GrowthClass, GrowthClass)> {
    let largest = sizes[sizes.len() - 1] as f64;
    GrowthClass::ALL.into_iter().find_map(|class| {
        // A million at the largest size, and a thousand or more at the smallest where its
        // function is not 0 (`log n` and `n log n` are 0 at 1, and a thousandth of a byte at 2
        // over `[1, 2, 1_000_000]`): over sizes spread by a million, `n³` at the smallest sizes
        // would be below one byte, no growth at all, and sizes spread so wide were refused.
        let first = sizes
            .iter()
            .map(|&n| class.g(n as f64))
            .find(|&g| g > 0.0)
            .unwrap_or(1.0);
        let scale = (1e6 / class.g(largest)).max(1e3 / first);
        let points: Vec<(f64, f64)> = sizes
            .iter()
            .map(|&n| match class {
                GrowthClass::Constant => (n as f64, 1e6),
                _ => (n as f64, scale * class.g(n as f64)),
            })
            .collect();
        let read_as = classify(&points).class;
        (read_as != class).then_some((class, read_as))
    })
}

/// What [`classify`] reads: the class, and a faster class that the figures fit as well when
/// their change over the sizes is too small to tell the two apart.
struct Reading {
    class: GrowthClass,
    undecided: Option<GrowthClass>,
    /// The figures go down and up by no more than noise ([`flat`]): they do not grow.
    flat: bool,
    /// They grow faster than the fastest class, `n³`.
    beyond: bool,
    /// They may grow faster than `n³`; the sizes cannot tell ([`GrowthFit::may_be_beyond`]).
    may_be_beyond: bool,
    /// They rise between one pair of sizes only.
    one_rise: bool,
    /// The exponent, where the figures' own fit does not give it (see [`classify`]).
    exponent: Option<f64>,
}

impl GrowthClass {
    /// The power of `n`: 0 for `1` and `log n`, 1 for `n` and `n log n`, 2, 3.
    fn power(self) -> u8 {
        match self {
            GrowthClass::Constant | GrowthClass::Log => 0,
            GrowthClass::Linear | GrowthClass::LinearLog => 1,
            GrowthClass::Quadratic => 2,
            GrowthClass::Cubic => 3,
        }
    }
}

/// The class of the figures `points` (size, figure), in two readings (see [`GrowthFit`]):
/// - the figures' own ([`slowest_fitting`]): the slowest class whose relative error is at most
///   [`SLACK`] above the best class's; a fixed cost large against the growth makes every class's
///   relative error small, so this reading alone takes a per-item term for a constant;
/// - the increments' ([`increments_class`]): how the figures change from the smallest size,
///   which a fixed cost does not dilute; it tells the power of `n`.
///
/// When the increments need a higher power of `n`, the class is the figures' reading among the
/// classes of that power or more. When the class is `1` or `log n` and the increments fit `n` as
/// well as their best class, and better than no change at all, the sizes cannot tell them apart:
/// `undecided` is `n`. A figure that steps within noise (unchanged between two sizes, its whole
/// change at most [`NOISE`]) is read as a small smooth change is: `1`, `undecided` `n`.
fn classify(points: &[(f64, f64)]) -> Reading {
    let reading = classify_by_fits(points);
    if reading.class >= GrowthClass::Linear && steps_within_noise(points) {
        return Reading {
            class: GrowthClass::Constant,
            undecided: Some(GrowthClass::Linear),
            flat: false,
            beyond: false,
            may_be_beyond: false,
            one_rise: false,
            exponent: None,
        };
    }
    reading
}

/// Whether the figures never fall, change by at most [`NOISE`] over all the sizes, and stay the
/// same between two of them: 2, 2, then 18 blocks (a `BTreeMap`'s over `[1, 10, 100]`). Such a
/// step is too small to be a step ([`steps_up`]) or a rise, and the fits read it as a steep
/// power (`n log n`, exponent 6 or more) where a change of 17 read `n or n log n` and a smooth
/// change as small reads `1 or n`.
fn steps_within_noise(points: &[(f64, f64)]) -> bool {
    let never_falls = points.windows(2).all(|w| w[1].1 >= w[0].1);
    let (first, last) = (points[0].1, points[points.len() - 1].1);
    never_falls && last - first <= NOISE && points.windows(2).any(|w| w[1].1 == w[0].1)
}

/// [`classify`] by the fits alone.
fn classify_by_fits(points: &[(f64, f64)]) -> Reading {
    if flat(points) {
        // A figure that more than doubles, by more than its largest fall (and noise), is more
        // than that variation: the class the fits read is not ruled out (a cache kept between
        // calls: 0, then 495,000 and 220,000 bytes added read `1` alone, and a declared `1`
        // passed). A bounded cache's few percent (4,864, 4,768 and 4,944 bytes) stay `1`.
        let (lo, hi) = range(points);
        let undecided = (hi - lo > NOISE + largest_fall(points) && hi > 2.0 * lo + NOISE)
            .then(|| classify_fitted(points).class)
            .filter(|&c| c != GrowthClass::Constant);
        return Reading {
            class: GrowthClass::Constant,
            undecided,
            flat: true,
            beyond: false,
            may_be_beyond: false,
            one_rise: false,
            exponent: None,
        };
    }
    classify_fitted(points)
}

/// [`classify_by_fits`] of figures that are not [`flat`].
fn classify_fitted(points: &[(f64, f64)]) -> Reading {
    let (steps, errors) = increments_class(points);
    // Nothing at the smallest size, and a rise at every step after it (a buffer the work keeps,
    // sized by an earlier run: 0, then 8 bytes per item more than that size): the figures are
    // growth from there, `b·(g(n) - g(n₀))`, which no `a + b·g(n)` with `a ≥ 0` fits (they read
    // `n³`); their increments alone tell the class.
    if points[0].1 <= NOISE && points.windows(2).all(|w| w[1].1 - w[0].1 > NOISE) {
        let exponent = increments_exponent(points);
        let untold = faster_untold(points, steps, &errors);
        let beyond = (steps == GrowthClass::Cubic || untold == Some(GrowthClass::Cubic))
            && exponent > BEYOND;
        return Reading {
            class: if beyond { GrowthClass::Cubic } else { steps },
            undecided: untold.filter(|_| !beyond),
            flat: false,
            beyond,
            may_be_beyond: false,
            one_rise: false,
            exponent: Some(exponent),
        };
    }
    let level = slowest_fitting(points, GrowthClass::ALL.as_slice());
    // A step (no change between two sizes, then more than noise) is what a capacity doubling
    // does between nearby sizes: its shape tells that the figure grows, not how fast.
    let stepped = steps_up(points);
    let power = if stepped {
        steps.power().min(1)
    } else {
        steps.power()
    };
    let class = if power > level.power() {
        let faster: Vec<GrowthClass> = GrowthClass::ALL
            .into_iter()
            .filter(|c| c.power() >= power)
            .collect();
        slowest_fitting(points, &faster)
    } else {
        level
    };
    // One rise, after none (a fixed buffer, then a result that outgrows it): the figure grows,
    // but a single rise cannot tell how fast; its figures' own reading (`n²` for 100 KiB then
    // 8 bytes per item) is only one of the classes it fits.
    let rises = points
        .windows(2)
        .filter(|w| w[1].1 - w[0].1 > NOISE)
        .count();
    // Stepped figures that `n³` does not fit (the fastest class, read because it is the
    // fastest) may grow faster than it, or follow a slower class from their step on.
    let may_be_beyond = stepped && class == GrowthClass::Cubic && cubic_misfits(points);
    if rises == 1 && stepped && class > GrowthClass::Linear {
        return Reading {
            class: GrowthClass::Linear,
            undecided: (!may_be_beyond).then_some(class),
            flat: false,
            beyond: false,
            may_be_beyond,
            one_rise: true,
            exponent: None,
        };
    }
    let best = errors.iter().copied().fold(f64::INFINITY, f64::min);
    let linear = errors[GrowthClass::Linear as usize];
    let constant = errors[GrowthClass::Constant as usize];
    let undecided =
        (class == GrowthClass::Constant && linear <= best + SLACK && linear + SLACK < constant)
            .then_some(GrowthClass::Linear)
            .or_else(|| faster_untold(points, class, &errors).filter(|_| !stepped));
    // Faster than the fastest class: n⁴, 2ⁿ. (A step's exponent says nothing.)
    let beyond = (class == GrowthClass::Cubic || undecided == Some(GrowthClass::Cubic))
        && !stepped
        && exponent(points) > BEYOND;
    Reading {
        class: if beyond { GrowthClass::Cubic } else { class },
        undecided: undecided.filter(|_| !beyond),
        flat: false,
        beyond,
        may_be_beyond,
        one_rise: false,
        exponent: None,
    }
}

/// The class of a higher power of `n` than `class` that the increments fit best (`errors`, from
/// [`increments_class`]), when the sizes cannot tell the two apart: that class's own exact
/// increments at these sizes would read a lower power. With the sizes after the smallest close
/// together, increments change in nearly the same ratio whatever the class, and a slower class
/// fits within [`SLACK`]: `n²` over `[2, 8_000, 10_000]` (4 bytes, then 64 and 100 MB) read `n`,
/// and 1 KiB plus 8 bytes per item over `[10, 100, 128]` read `log n`, so that a declared `n`
/// and `log n` passed. Sizes spread so that every power reads as itself never have one.
fn faster_untold(
    points: &[(f64, f64)],
    class: GrowthClass,
    errors: &[f64; 6],
) -> Option<GrowthClass> {
    let best = GrowthClass::ALL
        .into_iter()
        .zip(errors)
        .fold(
            (class, f64::INFINITY),
            |b, (c, &e)| if e < b.1 { (c, e) } else { b },
        )
        .0;
    (best.power() > class.power() && increments_power(points, best) < best.power()).then_some(best)
}

/// The power of `n` that the increments of figures growing exactly as `class` from nothing at
/// the smallest of the sizes of `points` (a thousand or more at the next, a million or more at
/// the largest, so that [`NOISE`] does not blur them) read at those sizes ([`increments_class`]).
fn increments_power(points: &[(f64, f64)], class: GrowthClass) -> u8 {
    let n0 = points[0].0;
    let rise = |n: f64| class.g(n) - class.g(n0);
    let scale = (1e6 / rise(points[points.len() - 1].0)).max(1e3 / rise(points[1].0));
    let exact: Vec<(f64, f64)> = points.iter().map(|&(n, _)| (n, scale * rise(n))).collect();
    increments_class(&exact).0.power()
}

/// Whether `n³` fits the figures worse, by more than [`SLACK`], than `n^p` at their
/// [`exponent`] `p` above 3: growth faster than the fastest class, as far as the figures'
/// own fit tells.
fn cubic_misfits(points: &[(f64, f64)]) -> bool {
    let p = exponent(points);
    p > 3.0 && fit(points, |n| GrowthClass::Cubic.g(n)).0 > fit(points, |n| n.powf(p)).0 + SLACK
}

/// An exponent above this, on figures read as `n³` that do not step, is growth faster than
/// `n³` (`n⁴` reads 4.00): no class holds it.
const BEYOND: f64 = 3.5;

/// Whether the figures fall somewhere as the size grows and move over all the sizes by no more
/// than [`NOISE`] plus twice their largest fall: a figure that falls by `F` between two sizes
/// varies by about `F` whatever the size (a bounded cache whose entries' lengths vary), so a
/// rise of that order elsewhere is the same variation, not growth. 10,686, 10,660 and 10,700
/// bytes at 1,000, 8,000 and 64,000 items are flat; a figure that never falls is left to the
/// fits, however small its change.
fn flat(points: &[(f64, f64)]) -> bool {
    let fall = largest_fall(points);
    let (lo, hi) = range(points);
    fall > 0.0 && hi - lo <= NOISE + 2.0 * fall
}

/// The largest fall of the figures between two consecutive sizes (0 if they never fall).
fn largest_fall(points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .map(|w| w[0].1 - w[1].1)
        .fold(0.0, f64::max)
}

/// The lowest and the highest figure over all the sizes.
fn range(points: &[(f64, f64)]) -> (f64, f64) {
    points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, y)| {
            (lo.min(y), hi.max(y))
        })
}

/// Whether the figures stay within [`NOISE`] between two consecutive sizes and later grow by
/// more between two others.
fn steps_up(points: &[(f64, f64)]) -> bool {
    let rises: Vec<f64> = points.windows(2).map(|w| w[1].1 - w[0].1).collect();
    rises
        .iter()
        .enumerate()
        .any(|(i, &flat)| flat <= NOISE && rises[i + 1..].iter().any(|&r| r > NOISE))
}

/// The slowest of `classes` whose fit's error is at most [`SLACK`] above the best of theirs;
/// for `n`, up to the best error more (capacity slack), unless the figures outgrow `n` at every
/// step ([`outgrows_linear`]), which slack does not do.
fn slowest_fitting(points: &[(f64, f64)], classes: &[GrowthClass]) -> GrowthClass {
    let errors: Vec<f64> = classes
        .iter()
        .map(|class| fit(points, |n| class.g(n)).0)
        .collect();
    let best = errors.iter().copied().fold(f64::INFINITY, f64::min);
    let slack = !outgrows_linear(points);
    classes
        .iter()
        .zip(&errors)
        .find(|&(&c, &e)| {
            e <= best
                + SLACK
                + if c == GrowthClass::Linear && slack {
                    best.min(SLACK)
                } else {
                    0.0
                }
        })
        .map_or(GrowthClass::Cubic, |(&c, _)| c)
}

/// Whether the figures, at four sizes or more, outgrow `n` at every step: the figure at each size
/// is above the previous size's scaled by the sizes' ratio, by more than [`NOISE`] (the figure
/// per item rises three times or more). Capacity slack (a `Vec`, a `HashMap`) fills its capacity
/// more at one size and less at another, so its figure per item goes up and down; a per-item
/// term beside a faster one (`n² + 1000·n`: 1.1, 1.2, 1.4 and 1.8 KiB per item over `[100, 200,
/// 400, 800]`) rises every time, and fit `n` within the tolerance widened for slack though it
/// outgrows it. Over three sizes, two rises are no sign: a `HashMap`'s slack rises twice over
/// `[100, 10_000, 1_000_000]` (21.9, 27.9 and 35.7 bytes per item).
fn outgrows_linear(points: &[(f64, f64)]) -> bool {
    points.len() >= 4
        && points
            .windows(2)
            .all(|w| w[1].1 - w[0].1 * (w[1].0 / w[0].0) > NOISE)
}

/// The error of the fit of the increments `y - y₀` as `b·(g(n) - g(n₀))` (see
/// [`increments_class`]).
fn increments_error(points: &[(f64, f64)], g: impl Fn(f64) -> f64) -> f64 {
    let (n0, y0) = points[0];
    let rows: Vec<(f64, f64, f64)> = points[1..]
        .iter()
        .map(|&(n, y)| {
            let d = (y - y0).max(0.0);
            (g(n) - g(n0), d, 1.0 / ((d + NOISE) * (d + NOISE)))
        })
        .collect();
    let sxx: f64 = rows.iter().map(|&(x, _, w)| w * x * x).sum();
    let sxd: f64 = rows.iter().map(|&(x, d, w)| w * x * d).sum();
    let b = if sxx > 0.0 { (sxd / sxx).max(0.0) } else { 0.0 };
    let mean_square = rows
        .iter()
        .map(|&(x, d, _)| ((b * x + NOISE) / (d + NOISE)).ln().powi(2))
        .sum::<f64>()
        / rows.len() as f64;
    mean_square.sqrt()
}

/// The exponent `p` of the best fit of the increments as `b·(n^p - n₀^p)`, as [`exponent`] is
/// of the figures.
fn increments_exponent(points: &[(f64, f64)]) -> f64 {
    best_power(|p| increments_error(points, |n| n.powf(p)))
}

/// The class of the increments `y - y₀` over the smallest size's figure `y₀` (a fixed cost
/// cancels in them), and each class's error, in the order of [`GrowthClass::ALL`].
///
/// Each class `g` fits `y - y₀ ≈ b·(g(n) - g(n₀))` with `b ≥ 0`, by least squares weighted by
/// `1/(y - y₀ + NOISE)²`, its error the root mean square of
/// `ln((b·(g(n) - g(n₀)) + NOISE)/(y - y₀ + NOISE))`: relative to the growth itself, not to the
/// figure, with [`NOISE`] bytes or blocks of change fitting any class. The class is the slowest
/// within [`SLACK`] of the best, as for the figures.
fn increments_class(points: &[(f64, f64)]) -> (GrowthClass, [f64; 6]) {
    let errors = GrowthClass::ALL.map(|class| increments_error(points, |n| class.g(n)));
    let best = errors.iter().copied().fold(f64::INFINITY, f64::min);
    let class = GrowthClass::ALL
        .into_iter()
        .zip(errors)
        .find(|&(_, e)| e <= best + SLACK)
        .map_or(GrowthClass::Cubic, |(c, _)| c);
    (class, errors)
}

/// The best fit of `y ≈ a + b·g(n)`, `a, b ≥ 0`, weighted by `1/(y+1)²` (see [`GrowthFit`]): its
/// error, `a` and `b`.
fn fit(points: &[(f64, f64)], g: impl Fn(f64) -> f64) -> (f64, f64, f64) {
    let rows: Vec<(f64, f64, f64)> = points
        .iter()
        .map(|&(n, y)| (g(n), y, 1.0 / ((y + 1.0) * (y + 1.0))))
        .collect();
    let sum = |f: &dyn Fn(&(f64, f64, f64)) -> f64| rows.iter().map(f).sum::<f64>();
    let (sw, swg, swgg) = (
        sum(&|r| r.2),
        sum(&|r| r.2 * r.0),
        sum(&|r| r.2 * r.0 * r.0),
    );
    let (swy, swgy) = (sum(&|r| r.2 * r.1), sum(&|r| r.2 * r.0 * r.1));
    let mut candidates = vec![(swy / sw, 0.0)];
    if swgg > 0.0 {
        candidates.push((0.0, swgy / swgg));
    }
    let det = sw * swgg - swg * swg;
    if det > 1e-12 * sw * swgg {
        let b = (sw * swgy - swg * swy) / det;
        let a = (swy - b * swg) / sw;
        candidates.push((a, b));
    }
    candidates
        .into_iter()
        .filter(|&(a, b)| a >= 0.0 && b >= 0.0)
        .map(|(a, b)| {
            let mean_square = rows
                .iter()
                .map(|&(g, y, _)| ((a + b * g + 1.0) / (y + 1.0)).ln().powi(2))
                .sum::<f64>()
                / rows.len() as f64;
            (mean_square.sqrt(), a, b)
        })
        .fold((f64::INFINITY, 0.0, 0.0), |best, c| {
            if c.0 < best.0 {
                c
            } else {
                best
            }
        })
}

/// The highest exponent searched.
const HIGHEST_EXPONENT: f64 = 6.0;

/// The `p` of the best fit of `a + b·n^p`, from 0 to [`HIGHEST_EXPONENT`], to within 0.001.
fn exponent(points: &[(f64, f64)]) -> f64 {
    best_power(|p| fit(points, |n| n.powf(p)).0)
}

/// The power from 0 to 6, to within 0.001, whose fit's `error` is least.
fn best_power(error: impl Fn(f64) -> f64) -> f64 {
    let mut best = (f64::INFINITY, 0.0);
    for step in 0..=600 {
        let p = f64::from(step) / 100.0;
        let e = error(p);
        if e < best.0 - 1e-12 {
            best = (e, p);
        }
    }
    let centre = best.1;
    for step in -10..=10 {
        let p = centre + f64::from(step) / 1000.0;
        if (0.0..=HIGHEST_EXPONENT).contains(&p) {
            let e = error(p);
            if e < best.0 - 1e-12 {
                best = (e, p);
            }
        }
    }
    best.1
}

/// A workload's figures at each input size, and the growth of each figure: what [`growth`]
/// returns. [`Display`](fmt::Display) prints it as a table, one row per size, then each figure's
/// class and exponent.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a growth measured is checked by `fit` or `exceeds`, or printed"]
pub struct Growth {
    rows: Vec<(usize, Stats)>,
    fits: [GrowthFit; 6],
    /// Measured on every thread of the process ([`growth_all`]), not on the current one.
    all_threads: bool,
}

impl Growth {
    /// The figures at each size, in the order of the sizes.
    #[must_use]
    pub fn rows(&self) -> &[(usize, Stats)] {
        &self.rows
    }

    /// The growth of the figure `name`, one of [`Stats::FIELDS`] (`total_bytes`,
    /// `total_blocks`, `max_bytes`, `max_blocks`, `curr_bytes`, `curr_blocks`).
    ///
    /// # Errors
    ///
    /// For another name, a [`ParseError`](crate::ParseError) whose message names it and the
    /// figures (`peak_bytes` is not one: the peak is `max_bytes`). It is a
    /// [`std::error::Error`], so `?` takes it into `anyhow::Error` or `Box<dyn Error>`.
    pub fn fit(&self, name: &str) -> Result<GrowthFit, crate::ParseError> {
        match Stats::FIELDS.iter().position(|&f| f == name) {
            Some(i) => Ok(self.fits[i]),
            None => Err(unknown_figure(name)),
        }
    }

    /// Peak bytes per item at each size: `max_bytes / n`.
    #[must_use]
    pub fn bytes_per_item(&self) -> Vec<(usize, f64)> {
        self.rows
            .iter()
            .map(|&(n, s)| (n, s.max_bytes as f64 / n as f64))
            .collect()
    }

    /// Why `name` may grow faster than `declared`; `None` if it does not.
    ///
    /// `max_bytes grows as n² (exponent 1.98), declared n` when its class is faster; when the
    /// class is within `declared` but the sizes cannot tell it from a faster one
    /// ([`GrowthFit::undecided`]): `curr_bytes reads 1 or n (exponent 0.41) at sizes [1, 2, 4,
    /// 8]: they cannot tell 1 from n, declared 1; use larger sizes, spread wider`; and for every declared class
    /// when the figures [may grow faster than `n³`](GrowthFit::may_be_beyond).
    ///
    /// # Panics
    ///
    /// If `name` is not one of [`Stats::FIELDS`], with the message [`fit`](Self::fit) gives.
    #[must_use]
    #[track_caller]
    pub fn exceeds(&self, name: &str, declared: GrowthClass) -> Option<String> {
        let fit = match self.fit(name) {
            Ok(fit) => fit,
            Err(err) => panic!("dhat-kit: {err}"),
        };
        if fit.beyond {
            return Some(format!("{name} grows {fit}, declared {declared}"));
        }
        if fit.class > declared {
            if fit.undecided.is_some() || fit.may_be_beyond {
                return Some(format!(
                    "{name} grows as {} at least (it reads {fit}), declared {declared}",
                    fit.class
                ));
            }
            return Some(format!("{name} grows as {fit}, declared {declared}"));
        }
        let sizes: Vec<usize> = self.rows.iter().map(|&(n, _)| n).collect();
        // A single rise, or a step, is told by more sizes, over which it rises again; a change
        // within noise by larger ones.
        let advice = if fit.one_rise || fit.may_be_beyond {
            "add sizes, over which it rises at more than one step"
        } else {
            "use larger sizes, spread wider"
        };
        if fit.may_be_beyond {
            return Some(format!(
                "{name} reads {fit} at sizes {sizes:?}: they cannot tell {} from faster than {}, \
                 declared {declared}; {advice}",
                fit.class,
                GrowthClass::Cubic
            ));
        }
        let faster = fit.undecided.filter(|&faster| faster > declared)?;
        Some(format!(
            "{name} reads {fit} at sizes {sizes:?}: they cannot tell {} from {faster}, declared \
             {declared}; {advice}",
            fit.class
        ))
    }
}

/// The message for a figure's name that is not one of [`Stats::FIELDS`].
fn unknown_figure(name: &str) -> crate::ParseError {
    let message = format!(
        "`{name}` is not a figure; the figures are {}",
        Stats::FIELDS
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    crate::ParseError::new(name, message)
}

impl fmt::Display for Growth {
    /// ```text
    ///    items  total_bytes  total_blocks  max_bytes  max_blocks  curr_bytes  curr_blocks  peak/item
    ///    1,000     39.1 KiB             1   39.1 KiB           1         0 B            0     40.0 B
    ///   10,000    390.6 KiB             1  390.6 KiB           1         0 B            0     40.0 B
    ///  100,000      3.8 MiB             1    3.8 MiB           1         0 B            0     40.0 B
    ///   growth            n             1          n           1           1            1
    /// exponent         1.00          0.00       1.00        0.00        0.00         0.00
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut cells: Vec<[String; 8]> = Vec::new();
        let mut header: [String; 8] = Default::default();
        header[0] = "items".into();
        for (i, name) in Stats::FIELDS.iter().enumerate() {
            header[i + 1] = (*name).into();
        }
        header[7] = "peak/item".into();
        cells.push(header);
        for &(n, s) in &self.rows {
            let mut row: [String; 8] = Default::default();
            row[0] = Thousands(n as u64).to_string();
            for (i, name) in Stats::FIELDS.iter().enumerate() {
                let v = s.get(name).unwrap_or_default();
                row[i + 1] = if name.ends_with("bytes") {
                    Bytes(v).to_string()
                } else {
                    Thousands(v).to_string()
                };
            }
            let per_item = s.max_bytes as f64 / n as f64;
            row[7] = if per_item < 1024.0 {
                format!("{per_item:.1} B")
            } else {
                Bytes(per_item.round() as u64).to_string()
            };
            cells.push(row);
        }
        let mut class: [String; 8] = Default::default();
        let mut exponent: [String; 8] = Default::default();
        class[0] = "growth".into();
        exponent[0] = "exponent".into();
        for (i, fit) in self.fits.iter().enumerate() {
            class[i + 1] = match fit.undecided {
                _ if fit.beyond => format!("> {}", fit.class),
                _ if fit.may_be_beyond => format!("{} or > {}", fit.class, GrowthClass::Cubic),
                Some(faster) => format!("{} or {faster}", fit.class),
                None => fit.class.to_string(),
            };
            exponent[i + 1] = Exponent(fit.exponent).to_string();
        }
        cells.push(class);
        cells.push(exponent);
        let widths: Vec<usize> = (0..8)
            .map(|c| {
                cells
                    .iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for (r, row) in cells.iter().enumerate() {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c > 0 {
                    line.push_str("  ");
                }
                line.push_str(&format!("{cell:>w$}", w = widths[c]));
            }
            if r > 0 {
                f.write_str("\n")?;
            }
            f.write_str(line.trim_end())?;
        }
        Ok(())
    }
}

/// Runs `work` at each size with [`measure`] and fits how each figure grows with the size.
///
/// `work` runs once more first, at the smallest size, unmeasured: what it sets up on first use
/// and keeps (a `OnceLock`, a lazily built table, a pool, a cache warmed once) is then in no
/// size's figures, rather than in the first size's alone, where it read as a fall hiding the
/// growth of the others. So it is called `sizes.len() + 1` times: a closure that takes one
/// prepared input per call needs one more. A prepared input that the work frees lowers its
/// figures, as a free of a block from before [`measure`] does (the live heap change, clamped at
/// 0): freeing a 5,000-byte input, then allocating 1,000 bytes, reads `max_bytes` 0. Prepare
/// inputs the work only borrows, or drop them after it returns. Each run is measured on the current thread, as [`measure`] measures (threads `work` spawns are
/// not counted); what `work` returns is dropped after it is measured, so `curr_bytes` is what a
/// run's result (and anything else it leaves behind) holds. The fit is documented on
/// [`GrowthFit`]; [`Growth`] prints as the table a person writes up ("10 items: 2 MB, 50: 15 MB"),
/// with each figure's class and exponent.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// use dhat_kit::GrowthClass;
///
/// fn main() {
///     // Every pair of n items: n² bytes at the peak.
///     let report = dhat_kit::growth(&[100, 200, 400, 800], |n| {
///         let pairs = vec![0u8; n * n];
///         pairs.len()
///     });
///     println!("{report}");
///     assert_eq!(report.fit("max_bytes").unwrap().class(), GrowthClass::Quadratic);
///     assert_eq!(report.fit("total_blocks").unwrap().class(), GrowthClass::Constant);
///     assert_eq!(
///         report.exceeds("max_bytes", GrowthClass::Linear).unwrap(),
///         "max_bytes grows as n² (exponent 2.00), declared n"
///     );
/// }
/// ```
///
/// # Panics
///
/// If `sizes` has fewer than 3 sizes, is not strictly increasing, starts at 0, or is too close
/// together to tell the classes apart (`[1, 2, 3]`, see [`GrowthFit`]); rather than
/// fitting figures that are all 0 (every class would read as constant), if nothing can be
/// measured: dhat-kit's allocator is not installed ([`is_installed`](crate::is_installed)), or
/// dhat-kit was built without its `peak` feature; and if `work` panics.
#[track_caller]
pub fn growth<R>(sizes: &[usize], mut work: impl FnMut(usize) -> R) -> Growth {
    check_measurable(sizes, "growth");
    warm_up(sizes, &mut work);
    let rows: Vec<(usize, Stats)> = sizes
        .iter()
        .map(|&n| {
            let (r, stats) = measure(|| at_size(n, "", || work(n)));
            drop(r);
            (n, stats)
        })
        .collect();
    Growth::of(rows, false)
}

/// [`growth`] measured on every thread of the process, as [`measure_all`](crate::measure_all)
/// measures: for work spread over threads it starts (a pool, `std::thread::scope`, a runtime's
/// workers), which [`growth`] does not count. `#[assert_growth(threads = "all", ..)]`.
///
/// The first, unmeasured run and every size's run happen inside one whole-process span, so that
/// a pool the first run starts (rayon's global pool, started by its first `par_iter`) is one of
/// the measurement's own threads, not a thread from before it. In a test binary that span is
/// checked as `measure_all`'s are (see its Isolation): it waits for the process's other threads
/// to go idle, and fails rather than return figures that another test's threads moved.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// use dhat_kit::GrowthClass;
///
/// fn main() {
///     // n bytes on each of two threads: `growth` would see none of it.
///     let report = dhat_kit::growth_all(&[1_000, 10_000, 100_000], |n| {
///         std::thread::scope(|s| {
///             for _ in 0..2 {
///                 s.spawn(move || drop(std::hint::black_box(vec![0u8; n])));
///             }
///         })
///     });
///     assert_eq!(report.fit("total_bytes").unwrap().class(), GrowthClass::Linear);
/// }
/// ```
///
/// # Panics
///
/// As [`growth`], and as [`measure_all`](crate::measure_all) when another thread of the process
/// ran during the measurement in a test binary.
#[track_caller]
pub fn growth_all<R>(sizes: &[usize], work: impl FnMut(usize) -> R) -> Growth {
    check_measurable(sizes, "growth_all");
    match growth_all_checked("dhat_kit::growth_all", sizes, work) {
        Ok(report) => report,
        Err(refused) => panic!("{refused}"),
    }
}

/// [`growth_all`], a whole-process measurement's refusal returned as its message; `what` names
/// the caller in it. The sizes and the allocator are checked by the caller.
pub(crate) fn growth_all_checked<R>(
    what: &'static str,
    sizes: &[usize],
    mut work: impl FnMut(usize) -> R,
) -> Result<Growth, String> {
    use crate::stats::{Late, WholeSpan};
    // Its figures are nobody's: a thread still running at its end was said by the span of the
    // run that started it.
    let outer = WholeSpan::try_begin(what)?.late(Late::Unsaid);
    // The first run in a span of its own, whose figures are dropped too: it waits for the threads
    // the run started, so that they are not the first size's, and says when one outlives the wait.
    let warm = WholeSpan::try_begin(what)?.late(Late::AfterTheWarmUp);
    warm_up(sizes, &mut work);
    warm.try_end()?;
    let mut rows = Vec::with_capacity(sizes.len());
    for (i, &n) in sizes.iter().enumerate() {
        // Nested in `outer`: never refused, exact. The threads the run started hand over their
        // last frees as they exit, after a scope has gone on: the span waits for them at its
        // end, so that they are this size's and not the next's. One still running after the
        // wait works on in the later sizes' spans (or in none after the last), as its note says.
        let late = if i + 1 < sizes.len() {
            Late::InLaterSizes
        } else {
            Late::InNoFigure
        };
        let span = WholeSpan::try_begin(what)?.late(late);
        let r = at_size(n, "", || work(n));
        let stats = span.try_end()?;
        drop(r);
        rows.push((n, stats));
    }
    outer.try_end()?;
    Ok(Growth::of(rows, true))
}

/// Panics, at the caller's location, when `sizes` cannot be fitted or nothing can be measured;
/// `what` names the function in the message.
#[track_caller]
fn check_measurable(sizes: &[usize], what: &str) {
    check_sizes(sizes);
    assert!(
        crate::is_installed(),
        "dhat-kit: {what} cannot measure: {}",
        if cfg!(feature = "peak") {
            "dhat-kit's allocator is not installed in this binary (add \
             `dhat_kit::global_allocator!();` at the crate's root; in a library's src/lib.rs, \
             under #[cfg(test)])"
        } else {
            "dhat-kit was built without its `peak` feature, so nothing is counted"
        }
    );
}

/// Runs the work once, unmeasured, at the smallest size: what it sets up on first use and keeps
/// (a `OnceLock`, a lazily built table, a pool) would be in the first size's figures alone, and
/// read as a fall that hides growth (a 1 MiB table with 8 bytes per item read `1`) or as growth
/// that is not there.
fn warm_up<R>(sizes: &[usize], work: &mut impl FnMut(usize) -> R) {
    at_size(sizes[0], " (the first run, unmeasured)", || {
        drop(work(sizes[0]))
    });
}

impl Growth {
    /// The report of `rows`, each figure fitted.
    fn of(rows: Vec<(usize, Stats)>, all_threads: bool) -> Growth {
        let sizes: Vec<usize> = rows.iter().map(|&(n, _)| n).collect();
        let fits = std::array::from_fn(|i| {
            let values: Vec<u64> = rows
                .iter()
                .map(|(_, s)| s.get(Stats::FIELDS[i]).unwrap_or_default())
                .collect();
            GrowthFit::of(&sizes, &values)
        });
        Growth {
            rows,
            fits,
            all_threads,
        }
    }

    /// Whether the figures are of every thread of the process ([`growth_all`]), not of the
    /// current one ([`growth`]).
    #[must_use]
    pub fn all_threads(&self) -> bool {
        self.all_threads
    }
}

/// Runs `run` (the work at size `n`); when it panics, says at which size (the panic's own message
/// names none) before the panic goes on. Not for `#[assert_growth]`'s failure of a work that
/// returned an error, which names the size itself: nothing panicked there.
fn at_size<T>(n: usize, which: &str, run: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(value) => value,
        Err(payload)
            if payload.downcast_ref::<String>().is_some_and(|m| {
                m.starts_with("dhat-kit: ") && m.contains(" returned an error at size ")
            }) =>
        {
            std::panic::resume_unwind(payload)
        }
        Err(payload) => {
            crate::note::note(&format!(
                "dhat-kit: growth: the work panicked at size {}{which}\n",
                Thousands(n as u64)
            ));
            std::panic::resume_unwind(payload)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A figure that steps within noise reads `1 or n`, as a small smooth change does: a
    /// `BTreeMap`'s 2, 2 and 18 blocks over `[1, 10, 100]` read `n log n` (exponent 6 or more),
    /// failing a declared `n`, while 19 read `n or n log n`.
    #[test]
    fn a_step_within_noise_reads_1_or_n() {
        for (sizes, figures) in [
            (&[1, 10, 100][..], &[2, 2, 18][..]),
            (&[1, 10, 100], &[2, 2, 17]),
            (&[1, 10, 100], &[100, 100, 116]),
            (&[100, 1_000, 10_000, 100_000], &[5, 5, 5, 21]),
        ] {
            let fit = GrowthFit::of(sizes, figures);
            assert_eq!(
                (fit.class(), fit.undecided()),
                (GrowthClass::Constant, Some(GrowthClass::Linear)),
                "{figures:?}"
            );
        }
        // A rise of 17 is a step; a change as small that never stays the same is the fits'.
        let fit = GrowthFit::of(&[1, 10, 100], &[2, 2, 19]);
        assert_eq!(fit.class(), GrowthClass::Linear);
        assert_eq!(
            GrowthFit::of(&[1, 2, 4, 8], &[1, 2, 4, 8]).class(),
            GrowthClass::Linear
        );
    }

    /// `n² + 1000·n` over four sizes, its figure per item rising at every step, reads faster than
    /// `n` (it read `n`, in the tolerance widened for slack); a `HashMap`'s slack over three
    /// sizes, whose figure per item also rises at both steps, still reads `n`.
    #[test]
    fn a_figure_per_item_rising_at_every_one_of_four_sizes_is_not_slack() {
        let sizes = [100, 200, 400, 800];
        let figures: Vec<u64> = sizes.iter().map(|&n| (n * n + 1000 * n) as u64).collect();
        assert_eq!(
            GrowthFit::of(&sizes, &figures).class(),
            GrowthClass::LinearLog
        );
        // hashbrown's table for `HashMap<u64, u64>`: 16 bytes and a control byte per bucket,
        // the buckets the next power of two above 8/7 of the items, 16 control bytes more.
        let table = |n: usize| {
            let buckets = (n * 8 / 7).next_power_of_two();
            (buckets * 17 + 16) as u64
        };
        let sizes = [100, 10_000, 1_000_000];
        let figures: Vec<u64> = sizes.iter().map(|&n| table(n)).collect();
        assert!(figures
            .windows(2)
            .zip(sizes.windows(2))
            .all(|(y, n)| { y[1] as f64 / n[1] as f64 > y[0] as f64 / n[0] as f64 }));
        assert_eq!(GrowthFit::of(&sizes, &figures).class(), GrowthClass::Linear);
    }

    /// Figures that fall somewhere but spread past that fall (and noise) are not only variation:
    /// a cache kept between calls added 0, 495,000 and 220,000 bytes over `[100, 1_000, 1_200]`
    /// (entry k is k bytes) and read `1` alone, so that a declared `1` passed. The class the fits
    /// read is now undecided beside `1`; variation within the fall still reads `1` alone.
    #[test]
    fn a_spread_past_the_fall_is_not_only_variation() {
        let fit = GrowthFit::of(&[100, 1_000, 1_200], &[0, 495_000, 220_000]);
        assert_eq!(fit.class(), GrowthClass::Constant, "{fit}");
        assert!(
            fit.undecided().is_some_and(|c| c != GrowthClass::Constant),
            "{fit}"
        );
        let table = Growth {
            rows: [100, 1_000, 1_200]
                .iter()
                .map(|&n| (n, Stats::default()))
                .collect(),
            fits: [fit; 6],
            all_threads: false,
        };
        assert!(table
            .exceeds("total_bytes", GrowthClass::Constant)
            .is_some());
        // Bounded caches: variation, `1` alone (the README's, and ones that moved by more than
        // 16 plus their fall, which read `1 or n` with a first version of this rule).
        for (sizes, figures) in [
            ([1_000, 8_000, 64_000], [10_686, 10_660, 10_700]),
            ([1_000, 8_000, 64_000], [10_686, 10_660, 10_705]),
            ([1_000, 12_000, 120_000], [4_864, 4_768, 4_944]),
        ] {
            let cache = GrowthFit::of(&sizes, &figures);
            assert_eq!(
                (cache.class(), cache.undecided()),
                (GrowthClass::Constant, None),
                "{figures:?}"
            );
        }
    }

    /// With the sizes after the smallest close together (within about 1.3 times), exact figures
    /// read one or two classes too slow, so a declared slower class passed them: `n²` over
    /// `[2, 8_000, 10_000]` read `n (exponent 2.00)`, 1 KiB plus 8 bytes per item over
    /// `[10, 100, 128]` read `log n`, `n⁴` over `[2, 1_000, 1_200]` read `n²`. The sizes cannot
    /// tell the classes apart within the tolerance: the reading is undecided, and a declared
    /// slower class fails.
    #[test]
    fn close_sizes_do_not_read_exact_figures_as_a_slower_class() {
        let exact = |sizes: &[usize], f: fn(f64) -> f64| -> GrowthFit {
            let values: Vec<u64> = sizes.iter().map(|&n| f(n as f64).round() as u64).collect();
            GrowthFit::of(sizes, &values)
        };
        let n2: fn(f64) -> f64 = |n| n * n;
        for (sizes, f, class, faster) in [
            (
                &[2, 8_000, 10_000][..],
                n2,
                GrowthClass::Linear,
                GrowthClass::Quadratic,
            ),
            (
                &[2, 1_000, 1_200],
                n2,
                GrowthClass::Linear,
                GrowthClass::Quadratic,
            ),
            (
                &[2, 1_000, 1_300],
                n2,
                GrowthClass::LinearLog,
                GrowthClass::Quadratic,
            ),
            (
                &[4, 6, 8, 10, 12],
                n2,
                GrowthClass::LinearLog,
                GrowthClass::Quadratic,
            ),
            (
                &[2, 8_000, 10_000],
                |n| 8.0 * n,
                GrowthClass::Log,
                GrowthClass::Linear,
            ),
            (
                &[10, 100, 128],
                |n| 1024.0 + 8.0 * n,
                GrowthClass::Log,
                GrowthClass::Linear,
            ),
            (
                &[2, 1_000, 1_200],
                |n| n * n * n,
                GrowthClass::Quadratic,
                GrowthClass::Cubic,
            ),
        ] {
            let fit = exact(sizes, f);
            assert_eq!(
                (fit.class(), fit.undecided(), fit.beyond()),
                (class, Some(faster), false),
                "{sizes:?}: {fit}"
            );
            let table = Growth {
                rows: sizes.iter().map(|&n| (n, Stats::default())).collect(),
                fits: [fit; 6],
                all_threads: false,
            };
            for declared in GrowthClass::ALL {
                assert_eq!(
                    table.exceeds("max_bytes", declared).is_some(),
                    declared < faster,
                    "{sizes:?}: {fit}, declared {declared}"
                );
            }
        }
        let fit = GrowthFit::of(&[2, 8_000, 10_000], &[4, 64_000_000, 100_000_000]);
        assert_eq!(fit.to_string(), "n or n² (exponent 2.00)");
        // n⁴ is faster than every class, as over sizes spread wider.
        let fourth = exact(&[2, 1_000, 1_200], |n| n * n * n * n);
        assert!(fourth.beyond(), "{fourth}");
        assert_eq!(fourth.to_string(), "faster than n³ (exponent 4.00)");
        // Sizes spread wider still read each class as itself, undecided about none.
        for sizes in [&WIDE[..], &DOUBLING[..], &[10, 100, 1_000][..]] {
            for (f, class) in [
                (n2, GrowthClass::Quadratic),
                (|n: f64| 8.0 * n, GrowthClass::Linear),
                (|n: f64| 1024.0 + 8.0 * n, GrowthClass::Linear),
                (|n: f64| n * n * n, GrowthClass::Cubic),
            ] {
                let fit = exact(sizes, f);
                assert_eq!((fit.class(), fit.undecided()), (class, None), "{sizes:?}");
            }
        }
    }

    fn class(sizes: &[usize], f: impl Fn(f64) -> f64) -> GrowthClass {
        let values: Vec<u64> = sizes.iter().map(|&n| f(n as f64).round() as u64).collect();
        GrowthFit::of(sizes, &values).class()
    }

    const WIDE: [usize; 3] = [1_000, 10_000, 100_000];
    const DOUBLING: [usize; 4] = [100, 200, 400, 800];

    #[test]
    fn exact_classes() {
        for sizes in [&WIDE[..], &DOUBLING[..], &[10, 100, 1000, 10000][..]] {
            assert_eq!(class(sizes, |_| 4096.0), GrowthClass::Constant);
            assert_eq!(class(sizes, |n| 100.0 * n.ln()), GrowthClass::Log);
            assert_eq!(class(sizes, |n| 40.0 * n), GrowthClass::Linear);
            assert_eq!(class(sizes, |n| 8.0 * n * n.ln()), GrowthClass::LinearLog);
            assert_eq!(class(sizes, |n| n * n), GrowthClass::Quadratic);
            assert_eq!(class(sizes, |n| n * n * n / 8.0), GrowthClass::Cubic);
        }
    }

    #[test]
    fn constant_overhead() {
        assert_eq!(class(&WIDE, |n| 10_240.0 + 40.0 * n), GrowthClass::Linear);
        assert_eq!(
            class(&DOUBLING, |n| 10_240.0 + 40.0 * n),
            GrowthClass::Linear
        );
        assert_eq!(
            class(&DOUBLING, |n| 65_536.0 + n * n),
            GrowthClass::Quadratic
        );
        assert_eq!(class(&WIDE, |n| 4096.0 + 4096.0 * n.ln()), GrowthClass::Log);
        // A log too small against the constant to matter at these sizes (1.7% in all).
        assert_eq!(
            class(&WIDE, |n| 4096.0 + 16.0 * n.ln()),
            GrowthClass::Constant
        );
        assert_eq!(class(&WIDE, |_| 0.0), GrowthClass::Constant);
    }

    #[test]
    fn a_fixed_cost_large_against_the_smallest_figure_hides_n_log_n() {
        // 8·n·ln n is 55,262 bytes at 1,000 (the limit documented on `GrowthFit`).
        let n_log_n = |fixed: f64| move |n: f64| fixed + 8.0 * n * n.ln();
        assert_eq!(class(&WIDE, n_log_n(10_000.0)), GrowthClass::LinearLog);
        assert_eq!(class(&WIDE, n_log_n(20_000.0)), GrowthClass::Linear);
    }

    #[test]
    fn sizes_too_close_together_are_refused() {
        let problem = |sizes: &[usize]| sizes_problem(sizes).unwrap_or_default();
        assert_eq!(
            problem(&[1, 2, 3]),
            "dhat-kit: growth sizes [1, 2, 3] are too close together to tell `n` from `log n` \
             (figures growing exactly as n would read as log n); spread them wider, over a factor \
             of 100 or more, e.g. [1_000, 10_000, 100_000]"
        );
        assert!(problem(&[2, 4, 6]).contains("to tell `n` from `log n`"));
        assert!(problem(&[100, 200, 400]).contains("to tell `log n` from `1`"));
        assert!(problem(&[1_000, 2_000, 4_000]).contains("to tell `log n` from `1`"));
        let read = std::panic::catch_unwind(|| GrowthFit::of(&[1, 2, 3], &[100, 200, 300]));
        assert!(read.is_err(), "n over [1, 2, 3] would read as {read:?}");
        for sizes in [
            &WIDE[..],
            &DOUBLING[..],
            &[1, 10, 100][..],
            &[1, 2, 4, 8][..],
            &[4, 6, 8, 10, 12][..],
            &[100, 500, 1_000, 2_000][..],
            // Spread by a million and more: `n³` at the smallest sizes was below a byte, no
            // growth, and these were refused as too close together.
            &[1_000, 10_000, 1_000_000_000][..],
            &[1_000, 1_000_000_000, usize::MAX][..],
        ] {
            assert_eq!(sizes_problem(sizes), None, "{sizes:?}");
        }
    }

    #[test]
    fn vec_doubling_is_linear() {
        // Pushing n u64 into a Vec: capacities 4, 8, 16, .. up to the next power of two,
        // all allocated in turn (total) or the last one (peak).
        let total = |n: f64| {
            let mut cap = 4.0;
            let mut sum = 32.0;
            while cap < n {
                cap *= 2.0;
                sum += 8.0 * cap;
            }
            sum
        };
        let peak = |n: f64| 8.0 * (n.max(4.0)).log2().ceil().exp2();
        for sizes in [
            &WIDE[..],
            &[1_000, 3_000, 10_000, 30_000, 100_000][..],
            &[100, 1_000, 10_000][..],
            &[1_500, 15_000, 150_000][..],
        ] {
            assert_eq!(class(sizes, total), GrowthClass::Linear, "{sizes:?}");
            assert_eq!(class(sizes, peak), GrowthClass::Linear, "{sizes:?}");
        }
    }

    #[test]
    fn a_per_item_term_under_a_large_fixed_cost_is_never_bounded() {
        // 1 MiB plus k bytes per item changes by 9% to 113% over these sizes: every class fits
        // that within a few percent, but only n fits how it changes.
        for k in [0.01, 0.5, 1.0, 2.0, 3.0, 4.0, 8.0, 12.0] {
            let fit = |n: f64| 1_048_576.0 + k * n;
            for sizes in [&WIDE[..], &DOUBLING[..], &[1, 10, 100][..]] {
                if k * (sizes[sizes.len() - 1] - sizes[0]) as f64 > 64.0 {
                    assert_eq!(class(sizes, fit), GrowthClass::Linear, "k = {k}, {sizes:?}");
                }
            }
        }
        let mib_plus = |g: fn(f64) -> f64| move |n: f64| 1_048_576.0 + g(n);
        assert_eq!(
            class(&[100, 300, 1_000], mib_plus(|n| n * n)),
            GrowthClass::Quadratic
        );
        assert_eq!(
            class(&[10, 100, 1_000], mib_plus(|n| n * n)),
            GrowthClass::Quadratic
        );
        let cube = mib_plus(|n| n * n * n / 100.0);
        assert_eq!(class(&[10, 100, 200], cube), GrowthClass::Cubic);
        // A log n term stays log n or 1.
        assert_eq!(
            class(&WIDE, mib_plus(|n| 4096.0 * n.ln())),
            GrowthClass::Constant
        );
    }

    #[test]
    fn vec_doubling_under_a_fixed_cost_is_linear() {
        let peak = |n: f64| 1_048_576.0 + 8.0 * (n.max(4.0)).log2().ceil().exp2();
        for sizes in [
            &WIDE[..],
            &DOUBLING[..],
            &[1_500, 15_000, 150_000][..],
            &[100, 500, 1_000, 2_000][..],
            &[1_000, 3_000, 10_000, 30_000, 100_000][..],
            &[600, 1_000, 10_000, 100_000][..],
        ] {
            assert_eq!(class(sizes, peak), GrowthClass::Linear, "{sizes:?}");
        }
    }

    #[test]
    fn a_step_reads_n_at_most() {
        // A log n-sized buffer's capacity doubling once, on 1 MiB: unchanged, then up 768 bytes.
        let fit = GrowthFit::of(&WIDE, &[1_049_344, 1_049_344, 1_050_112]);
        assert_eq!((fit.class(), fit.undecided()), (GrowthClass::Linear, None));
    }

    /// A fixed scratch buffer freed before a result that outgrows it rises once: it read
    /// `n² (exponent 6.01)` and failed a true `n`; the one rise cannot tell, more rises can.
    #[test]
    fn one_rise_cannot_tell_n_from_faster() {
        let scratch_then = |sizes: &[usize], per_item: u64| -> Vec<u64> {
            sizes
                .iter()
                .map(|&n| (100 * 1024).max(per_item * n as u64))
                .collect()
        };
        let sizes = [1_000, 10_000, 100_000];
        let fit = GrowthFit::of(&sizes, &scratch_then(&sizes, 8));
        assert_eq!(fit.class(), GrowthClass::Linear);
        assert!(fit.undecided() > Some(GrowthClass::Linear), "{fit}");
        let more = [1_000, 10_000, 100_000, 1_000_000];
        let fit = GrowthFit::of(&more, &scratch_then(&more, 8));
        assert_eq!((fit.class(), fit.undecided()), (GrowthClass::Linear, None));
    }

    /// `n⁴` and `2ⁿ` read `n³`, so a declared `n³` passed them.
    /// A `Vec` at its smallest capacity (32 bytes) at 1 and 2 items, then filled: one rise,
    /// which read `n log n (exponent 6.01)` and failed a true `n` as growing faster.
    #[test]
    fn one_rise_over_a_smallest_capacity_reads_n_or_faster() {
        let fit = GrowthFit::of(&[1, 2, 100], &[32, 32, 1024]);
        assert_eq!(
            (fit.class(), fit.undecided()),
            (GrowthClass::Linear, Some(GrowthClass::LinearLog)),
            "{fit}"
        );
        // The exponent stays within the range searched, 0 to 6 (it printed 6.01), and at its
        // top is said to be (it printed 6.00, as if the figures grew as n⁶).
        assert_eq!(fit.exponent(), 6.0);
        assert_eq!(fit.to_string(), "n or n log n (exponent 6 or more)");
        // The table says so too (its row read 6.00 beside the fit's line).
        let table = Growth {
            rows: Vec::new(),
            fits: [fit; 6],
            all_threads: false,
        }
        .to_string();
        let row = table.lines().find(|l| l.starts_with("exponent")).unwrap();
        assert!(
            row.contains("6 or more") && !row.contains("6.00"),
            "{table}"
        );
    }

    /// Capacity slack that rises and falls between sizes fitted `n log n` better than `n` by a
    /// little more than the tolerance, and a `Vec` or a `HashMap` filled `n` times read `n log n`.
    #[test]
    fn capacity_slack_does_not_read_n_log_n() {
        for (sizes, values) in [
            (&[10, 1_000, 10_000][..], &[128, 8_192, 131_072][..]),
            (&[10, 500, 5_000], &[128, 4_096, 65_536]),
            (&[100, 10_000, 1_000_000], &[3_296, 417_824, 53_477_408]),
            (&[10, 100, 1_000], &[440, 3_296, 52_256]),
        ] {
            let fit = GrowthFit::of(sizes, values);
            assert_eq!(fit.class(), GrowthClass::Linear, "{sizes:?}: {fit}");
        }
        // An exact n log n is still n log n, and with 10 KiB of fixed cost over WIDE.
        for (sizes, fixed) in [
            (&WIDE[..], 0),
            (&WIDE[..], 10_240),
            (&[10, 1_000, 10_000], 0),
            (&[100, 10_000, 1_000_000], 0),
        ] {
            let values: Vec<u64> = sizes
                .iter()
                .map(|&n| fixed + (8.0 * n as f64 * (n as f64).ln()) as u64)
                .collect();
            let fit = GrowthFit::of(sizes, &values);
            assert_eq!(fit.class(), GrowthClass::LinearLog, "{sizes:?}: {fit}");
        }
    }

    #[test]
    fn growth_faster_than_cubic_is_beyond_every_class() {
        let fourth = GrowthFit::of(&[10, 30, 100], &[10_000, 810_000, 100_000_000]);
        assert!(fourth.beyond());
        assert_eq!(fourth.to_string(), "faster than n³ (exponent 4.00)");
        let cubic = GrowthFit::of(&[10, 30, 100], &[1_000, 27_000, 1_000_000]);
        assert_eq!((cubic.class(), cubic.beyond()), (GrowthClass::Cubic, false));
        let quadratic = GrowthFit::of(&[10, 30, 100], &[100, 900, 10_000]);
        assert!(!quadratic.beyond());
    }

    /// `n⁴` and `2ⁿ` whose first change is within noise (a step) read `n or n³` or `n³`
    /// (exponent 4.00), so a declared `n³` passed them.
    #[test]
    fn growth_faster_than_cubic_after_a_step_may_be_beyond() {
        for (sizes, values) in [
            (&[1, 2, 100][..], &[1, 16, 100_000_000][..]),
            (&[1, 2, 50, 100], &[1, 16, 6_250_000, 100_000_000]),
            (&[1, 2, 10, 100], &[1, 16, 10_000, 100_000_000]),
            (&[1, 2, 20], &[2, 4, 1_048_576]),
        ] {
            let fit = GrowthFit::of(sizes, values);
            assert!(fit.may_be_beyond() && !fit.beyond(), "{sizes:?}: {fit}");
            assert_eq!(fit.undecided(), None, "{sizes:?}: {fit}");
        }
        // n³ after the same step, with a fixed cost, or on capacities doubling, is n³.
        for (sizes, values) in [
            (&[1, 2, 50, 100][..], &[1, 8, 125_000, 1_000_000][..]),
            (&[1, 2, 50, 100], &[1_001, 1_008, 126_000, 1_001_000]),
            (&[1, 2, 50, 100], &[8, 64, 1_048_576, 8_388_608]),
        ] {
            let fit = GrowthFit::of(sizes, values);
            assert_eq!(fit.class(), GrowthClass::Cubic, "{sizes:?}: {fit}");
            assert!(!fit.may_be_beyond() && !fit.beyond(), "{sizes:?}: {fit}");
        }
        // A fixed buffer, then n² bytes that outgrow it: one rise, which n³ fits too.
        let fit = GrowthFit::of(&WIDE, &[1_000_000_000, 1_000_000_000, 80_000_000_000]);
        assert_eq!(
            (fit.class(), fit.undecided(), fit.may_be_beyond()),
            (GrowthClass::Linear, Some(GrowthClass::Cubic), false)
        );
    }

    #[test]
    fn changes_within_noise_are_undecided_or_bounded() {
        let of = |values: &[u64]| {
            let fit = GrowthFit::of(&[1, 2, 4, 8], values);
            (fit.class(), fit.undecided())
        };
        let (one, n) = (GrowthClass::Constant, Some(GrowthClass::Linear));
        // 2 bytes per item: 14 bytes of change, in the shape of n.
        assert_eq!(of(&[1_048_578, 1_048_580, 1_048_584, 1_048_592]), (one, n));
        assert_eq!(of(&[1_048_576; 4]), (one, None));
        // Noise that does not follow n.
        assert_eq!(of(&[4_096, 4_100, 4_096, 4_098]), (one, None));
        let fit = GrowthFit::of(&[1, 2, 4, 8], &[1_048_578, 1_048_580, 1_048_584, 1_048_592]);
        assert_eq!(fit.to_string(), "1 or n (exponent 1.00)");
    }

    #[test]
    fn variation_that_falls_and_rises_is_no_growth() {
        // A cache bounded at 64 entries whose words' lengths vary: it read `n (exponent 6.01)`.
        let sizes = [1_000, 8_000, 64_000];
        let fit = GrowthFit::of(&sizes, &[10_686, 10_660, 10_700]);
        assert_eq!(
            (fit.class(), fit.undecided(), fit.exponent()),
            (GrowthClass::Constant, None, 0.0)
        );
        assert_eq!(fit.to_string(), "1 (exponent 0.00)");
        // Growth beyond the variation is still growth: a fall of 26 bytes, then 1 byte per item.
        let fit = GrowthFit::of(&sizes, &[1_001_000, 1_000_974, 1_064_000]);
        assert_eq!(fit.class(), GrowthClass::Linear, "{fit}");
        // A figure that never falls is read by the fits, however little it changes.
        let fit = GrowthFit::of(&[1, 2, 4, 8], &[1_048_578, 1_048_580, 1_048_584, 1_048_592]);
        assert_eq!(fit.undecided(), Some(GrowthClass::Linear), "{fit}");
    }

    #[test]
    fn terms() {
        let values: Vec<u64> = WIDE.iter().map(|&n| 1_048_576 + 3 * n as u64).collect();
        let (a, b) = GrowthFit::of(&WIDE, &values).terms();
        assert!(
            (a - 1_048_576.0).abs() < 1e-3 && (b - 3.0).abs() < 1e-9,
            "{a} {b}"
        );
        let (a, b) = GrowthFit::of(&WIDE, &[77, 77, 77]).terms();
        assert_eq!((a, b), (77.0, 0.0));
    }

    #[test]
    fn exponents() {
        let e = |f: fn(f64) -> f64| {
            let values: Vec<u64> = DOUBLING.iter().map(|&n| f(n as f64) as u64).collect();
            GrowthFit::of(&DOUBLING, &values).exponent()
        };
        assert_eq!(e(|n| n * n), 2.0);
        assert_eq!(e(|n| 10_240.0 + 40.0 * n), 1.0);
        assert_eq!(e(|_| 0.0), 0.0);
        assert_eq!(e(|_| 77.0), 0.0);
    }

    #[test]
    fn class_names_round_trip() {
        for c in GrowthClass::ALL {
            assert_eq!(c.name().parse::<GrowthClass>(), Ok(c));
            assert_eq!(c.to_string().parse::<GrowthClass>(), Ok(c));
        }
        assert_eq!("constant".parse(), Ok(GrowthClass::Constant));
        assert!("n^4"
            .parse::<GrowthClass>()
            .unwrap_err()
            .to_string()
            .contains("`n^4`"));
    }
}
