//! The sampling scheme and its estimator, as pure functions: the random gaps between samples, the
//! weight of a sample, and the apportioning of exact totals among estimated sites.
//!
//! Sampling is by bytes: the bytes allocated form a line, and sample points fall on it as a Poisson
//! process of mean gap `N` (the interval). An allocation of `s` bytes is sampled when a point falls
//! among its bytes, with probability `p(s) = 1 - exp(-s/N)`; weighing a sample by `s / p(s)` bytes
//! and `1 / p(s)` blocks makes every site's estimate unbiased, whatever its sizes.

/// The next state of a xorshift64* generator and a uniform draw in `(0, 1]`.
pub(crate) fn uniform(state: &mut u64) -> f64 {
    let mut x = *state;
    if x == 0 {
        x = 0x9E37_79B9_7F4A_7C15;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
    ((r >> 11) + 1) as f64 / (1u64 << 53) as f64
}

/// The gap in bytes to the next sample point: exponential with mean `interval`.
pub(crate) fn gap(state: &mut u64, interval: f64) -> i64 {
    let g = -uniform(state).ln() * interval;
    // `as` saturates: a huge interval gives a huge gap, never a wrapped one.
    g as i64
}

/// The weight of a sampled allocation of `size` bytes at mean interval `interval`: the bytes and
/// blocks it stands for, `s / (1 - exp(-s/N))` and `1 / (1 - exp(-s/N))`.
pub(crate) fn weight(size: u64, interval: f64) -> (f64, f64) {
    let s = size as f64;
    // `-expm1(-x)` is `1 - exp(-x)` without the cancellation of small `x`.
    let p = -(-s / interval).exp_m1();
    if p <= 0.0 {
        return (s, 1.0);
    }
    (s / p, 1.0 / p)
}

/// Fits the sites' estimates `est` (with estimated variances `var`) to the exact figure `exact`:
/// while they sum to no more than `exact`, each site keeps its estimate (rounded down) and the rest
/// is returned as the unsampled remainder (what sampling did not see: a thread's allocations before
/// its countdown was armed, at most a batch, and chance). When they sum to more, the excess is taken from the sites in proportion
/// to their variance, never below 0 (a site of blocks that were always sampled, exact, keeps its
/// figure), and only what that cannot absorb by scaling all down; the figures then sum to `exact`
/// and the remainder is 0.
pub(crate) fn apportion(est: &[f64], var: &[f64], exact: u64) -> (Vec<u64>, u64) {
    let n = est.len();
    let target = exact as f64;
    let mut fitted: Vec<f64> = est.iter().map(|&e| e.max(0.0)).collect();
    let sum: f64 = fitted.iter().sum();
    if sum <= target {
        let out: Vec<u64> = fitted.iter().map(|&e| e.floor() as u64).collect();
        let given: u64 = out.iter().sum();
        return (out, exact.saturating_sub(given));
    }
    let mut excess = sum - target;
    for _ in 0..16 {
        let open: f64 = (0..n)
            .filter(|&i| fitted[i] > 0.0)
            .map(|i| var.get(i).copied().unwrap_or(0.0).max(0.0))
            .sum();
        if open <= 0.0 || excess <= 0.0 {
            break;
        }
        let mut taken = 0.0;
        for (f, &v) in fitted.iter_mut().zip(var) {
            if *f > 0.0 {
                let t = (excess * v.max(0.0) / open).min(*f);
                *f -= t;
                taken += t;
            }
        }
        excess -= taken;
    }
    let left: f64 = fitted.iter().sum();
    if left > target && left > 0.0 {
        let scale = target / left;
        for f in &mut fitted {
            *f *= scale;
        }
    }
    // Whole units that sum to `exact`: round down, then the largest fractions get one more.
    let mut out: Vec<u64> = fitted.iter().map(|&e| e.floor() as u64).collect();
    let given: u64 = out.iter().sum();
    let mut order: Vec<usize> = (0..n).collect();
    if given > exact {
        // Only float rounding gets here: take the excess back from the largest.
        order.sort_by(|&a, &b| out[b].cmp(&out[a]));
        let mut over = given - exact;
        for i in order {
            let t = over.min(out[i]);
            out[i] -= t;
            over -= t;
        }
        return (out, 0);
    }
    let mut short = exact - given;
    let frac = |i: usize| fitted[i] - fitted[i].floor();
    order.sort_by(|&a, &b| frac(b).total_cmp(&frac(a)));
    for &i in order.iter().cycle().take(n.saturating_mul(2)) {
        if short == 0 {
            break;
        }
        out[i] += 1;
        short -= 1;
    }
    match order.first() {
        Some(&i) => {
            out[i] += short;
            (out, 0)
        }
        None => (out, short),
    }
}

/// Keeps each point's total at least its floor (`values[i] >= floor[i]`: a point allocated at
/// least what it holds live at the peak or at the end), the sum unchanged: a point below its floor
/// (as a remainder that sampling saw nothing of, whose total the sites' estimates left at 0, while
/// it holds a block live) is raised to it, taking from the points above theirs in proportion to
/// how far above. Where the floors sum to more than the values, nothing changes.
pub(crate) fn keep_at_least(values: &mut [u64], floor: &[u64]) {
    let sum = |v: &[u64]| v.iter().map(|&x| u128::from(x)).sum::<u128>();
    if sum(floor) > sum(values) {
        return;
    }
    let mut deficit = 0u64;
    for (v, &f) in values.iter_mut().zip(floor) {
        deficit += f.saturating_sub(*v);
        *v = (*v).max(f);
    }
    if deficit == 0 {
        return;
    }
    let slack: Vec<u64> = values.iter().zip(floor).map(|(&v, &f)| v - f).collect();
    let all_slack = sum(&slack);
    for (v, &s) in values.iter_mut().zip(&slack) {
        // Rounded down, so never more than the slack (the deficit is at most all the slack).
        let take = (u128::from(deficit) * u128::from(s) / all_slack) as u64;
        *v -= take;
        deficit -= take;
    }
    // What rounding left (less than a unit a point): from the points with the most slack left.
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(values[i] - floor[i]));
    for i in order {
        let take = deficit.min(values[i] - floor[i]);
        values[i] -= take;
        deficit -= take;
    }
}

/// A stream of allocations sampled as the allocator samples them: for the tests of the estimator.
#[cfg(test)]
pub(crate) struct Sampler {
    countdown: i64,
    rng: u64,
    interval: f64,
}

#[cfg(test)]
impl Sampler {
    pub(crate) fn new(seed: u64, interval: u64) -> Sampler {
        let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let interval = interval as f64;
        Sampler {
            countdown: gap(&mut rng, interval),
            rng,
            interval,
        }
    }

    /// The weight of this allocation if it is sampled: the allocator's countdown exactly.
    pub(crate) fn alloc(&mut self, size: u64) -> Option<(f64, f64)> {
        self.countdown = self.countdown.wrapping_sub(size as i64);
        if self.countdown >= 0 {
            return None;
        }
        self.countdown = gap(&mut self.rng, self.interval);
        Some(weight(size, self.interval))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The estimate of the bytes and blocks of `stream` (sizes) at `interval`, with `seed`.
    fn estimate(stream: &[u64], interval: u64, seed: u64) -> (f64, f64) {
        let mut s = Sampler::new(seed, interval);
        stream
            .iter()
            .filter_map(|&size| s.alloc(size))
            .fold((0.0, 0.0), |(b, k), (wb, wk)| (b + wb, k + wk))
    }

    /// Over `runs` seeds, the mean estimate of bytes and blocks, and the standard error of the
    /// bytes' mean.
    fn mean_estimate(stream: &[u64], interval: u64, runs: u64) -> (f64, f64, f64) {
        let ests: Vec<(f64, f64)> = (0..runs)
            .map(|seed| estimate(stream, interval, seed + 1))
            .collect();
        let n = runs as f64;
        let mb = ests.iter().map(|e| e.0).sum::<f64>() / n;
        let mk = ests.iter().map(|e| e.1).sum::<f64>() / n;
        let var = ests.iter().map(|e| (e.0 - mb).powi(2)).sum::<f64>() / (n - 1.0);
        (mb, mk, (var / n).sqrt())
    }

    /// The mean of many runs is within 5 standard errors of the truth (a false failure about one
    /// time in 3.5 million per figure), and the standard error is itself small.
    fn converges(stream: &[u64], interval: u64) {
        let truth_bytes: u64 = stream.iter().sum();
        let truth_blocks = stream.len() as f64;
        let (mb, mk, se) = mean_estimate(stream, interval, 2000);
        let t = truth_bytes as f64;
        assert!(
            (mb - t).abs() <= 5.0 * se,
            "bytes: mean {mb} vs truth {t}, standard error {se}"
        );
        assert!(se < 0.02 * t, "standard error {se} of {t}");
        // The blocks' estimate is unbiased too; its error follows the bytes' (relative) one.
        let rel = 5.0 * se / t + 0.01;
        assert!(
            (mk - truth_blocks).abs() <= rel * truth_blocks,
            "blocks: mean {mk} vs truth {truth_blocks}"
        );
    }

    #[test]
    fn one_site_of_many_small_blocks() {
        converges(&vec![48; 200_000], 64 * 1024);
    }

    #[test]
    fn one_site_of_few_huge_blocks() {
        // Blocks far above the interval are always sampled, each with its own weight.
        let stream = vec![4 * 1024 * 1024; 20];
        let (b, k) = estimate(&stream, 64 * 1024, 7);
        let truth: u64 = stream.iter().sum();
        assert!(
            (b - truth as f64).abs() < 1e-3 * truth as f64,
            "{b} vs {truth}"
        );
        assert!((k - 20.0).abs() < 1e-3, "{k}");
        converges(&[100_000; 300], 64 * 1024);
    }

    #[test]
    fn mixed_sizes() {
        let stream: Vec<u64> = (0..100_000u64)
            .map(|i| match i % 7 {
                0 => 1 + i % 13,
                1..=4 => 64,
                5 => 4096,
                _ => 70_000,
            })
            .collect();
        converges(&stream, 128 * 1024);
    }

    #[test]
    fn the_mean_gap_is_the_interval() {
        let mut rng = 12345;
        let n = 200_000;
        let mean = (0..n).map(|_| gap(&mut rng, 1000.0) as f64).sum::<f64>() / n as f64;
        // Exponential: standard deviation 1000, so the mean's standard error is 1000/sqrt(n) ≈ 2.2;
        // the truncation to whole bytes lowers the mean by 0.5.
        assert!((mean - 999.5).abs() < 5.0 * 2.24, "{mean}");
    }

    #[test]
    fn weights() {
        // Small blocks weigh about the interval; huge ones their own size.
        let (b, k) = weight(1, 1024.0);
        assert!((b - 1024.5).abs() < 0.01, "{b}");
        assert!((k - 1024.5).abs() < 0.01, "{k}");
        let (b, k) = weight(1 << 30, 1024.0);
        assert_eq!((b, k), ((1u64 << 30) as f64, 1.0));
    }

    #[test]
    fn apportioning_keeps_exact_sums() {
        assert_eq!(
            apportion(&[10.4, 20.6], &[1.0, 1.0], 100),
            (vec![10, 20], 70)
        );
        // The excess of 20 is taken in proportion to the variance: 5 from the first, 15 from the
        // second.
        assert_eq!(
            apportion(&[60.0, 60.0], &[1.0, 3.0], 100),
            (vec![55, 45], 0)
        );
        // An exact site (no variance) keeps its figure while the others can absorb the excess.
        assert_eq!(
            apportion(&[80.0, 30.0], &[0.0, 9.0], 100),
            (vec![80, 20], 0)
        );
        // More excess than the uncertain sites hold: they go to 0, and the rest is scaled.
        assert_eq!(apportion(&[80.0, 30.0], &[0.0, 9.0], 40), (vec![40, 0], 0));
        assert_eq!(
            apportion(&[60.0, 60.0], &[0.0, 0.0], 100),
            (vec![50, 50], 0)
        );
        assert_eq!(apportion(&[], &[], 7), (vec![], 7));
        // A remainder holding a 192-byte block live with nothing allocated, by the fit of the
        // site's estimate: the remainder allocated it, taken from the site's total.
        let mut totals = [20 << 20, 0];
        keep_at_least(&mut totals, &[0, 192]);
        assert_eq!(totals, [(20 << 20) - 192, 192]);
        assert_eq!(
            apportion(&[1.0, 2.0, 3.0], &[1.0; 3], 0),
            (vec![0, 0, 0], 0)
        );
    }

    proptest! {
        #[test]
        fn apportioned_figures_sum_to_the_exact_figure(
            est in proptest::collection::vec((0.0f64..1e9, 0.0f64..1e12), 0..40),
            exact in 0u64..10_000_000_000,
        ) {
            let (est, var): (Vec<f64>, Vec<f64>) = est.into_iter().unzip();
            let (out, rest) = apportion(&est, &var, exact);
            prop_assert_eq!(out.iter().sum::<u64>() + rest, exact);
            prop_assert_eq!(out.len(), est.len());
        }

        #[test]
        fn totals_stay_at_least_their_floors_and_keep_their_sum(
            points in proptest::collection::vec((0u64..1 << 40, 0u64..1 << 40), 0..40),
        ) {
            let (mut values, floor): (Vec<u64>, Vec<u64>) = points.into_iter().unzip();
            let before = values.clone();
            keep_at_least(&mut values, &floor);
            let sum = |v: &[u64]| v.iter().map(|&x| u128::from(x)).sum::<u128>();
            prop_assert_eq!(sum(&values), sum(&before));
            if sum(&floor) <= sum(&before) {
                prop_assert!(values.iter().zip(&floor).all(|(v, f)| v >= f), "{:?} {:?}", values, floor);
                // A point below its floor only rises; one above it never falls below it.
                for ((v, b), f) in values.iter().zip(&before).zip(&floor) {
                    let kept = if b < f { v == f } else { v >= f && v <= b };
                    prop_assert!(kept, "{} from {} with floor {}", v, b, f);
                }
            } else {
                prop_assert_eq!(values, before);
            }
        }

        #[test]
        fn a_weight_is_at_least_the_size_and_the_interval_bounds_it(size in 1u64..1 << 40) {
            let n = 512.0 * 1024.0;
            let (b, k) = weight(size, n);
            prop_assert!(b >= size as f64 * 0.999_999);
            prop_assert!(b <= size as f64 + n * 1.000_001);
            prop_assert!(k >= 1.0 - 1e-9);
        }
    }
}
