//! The sampled profile in DHAT's JSON format: estimated sites, exact totals.

use std::collections::HashMap;

use super::estimate::{apportion, keep_at_least};
use super::State;
use crate::profile::{Profile, ProgramPoint, SAMPLED_MODE};

/// The frame of the remainder point, which also says what the estimates rest on (the summary
/// reads it back): `[unsampled remainder] estimated from N samples at mean interval M bytes`.
pub(crate) fn remainder_frame(samples: u64, interval: u64) -> String {
    format!(
        "[unsampled remainder] estimated from {samples} samples at mean interval {interval} bytes"
    )
}

/// The sampled profile of a session: one program point per sampled stack, whose figures are the
/// estimates scaled so that, with the remainder point, every total equals the session's exact
/// figure in `process` (see [`apportion`]), and each point's totals are at least what it holds
/// live ([`keep_at_least`]). Symbols are resolved here, outside the allocator.
pub(crate) fn profile(
    state: &State,
    peak_micros: u64,
    process: &crate::Stats,
    elapsed: std::time::Duration,
) -> Profile {
    let sites = &state.sites;
    let col = |f: fn(&super::Site) -> super::Est| {
        let (v, var) = sites
            .iter()
            .map(|s| {
                let e = f(s);
                (e.value.max(0.0), e.var.max(0.0))
            })
            .unzip::<f64, f64, Vec<f64>, Vec<f64>>();
        (v, var)
    };
    let fit = |f: fn(&super::Site) -> super::Est, exact: u64| {
        let (v, var) = col(f);
        apportion(&v, &var, exact)
    };
    // Each point's figure at least the pointwise largest of `held` (the remainder last), the
    // sum still the exact one.
    let at_least = |(mut v, rest): (Vec<u64>, u64), held: &[(&[u64], u64)]| {
        v.push(rest);
        let floor: Vec<u64> = (0..v.len())
            .map(|i| {
                held.iter()
                    .map(|(sites, rest)| sites.get(i).copied().unwrap_or(*rest))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        keep_at_least(&mut v, &floor);
        let rest = v.pop().unwrap_or(0);
        (v, rest)
    };
    // Blocks and bytes are fitted apart, and a block is at least a byte: no point holds more
    // blocks than bytes (the remainder of a short session can get the blocks the sites' estimates
    // missed and none of the bytes, which they overestimated).
    let (gbk, gbk_rest) = fit(|s| s.gmax_blocks, process.max_blocks);
    let (ebk, ebk_rest) = fit(|s| s.curr_blocks, process.curr_blocks);
    let gmax_bytes = fit(|s| s.gmax_bytes, process.max_bytes);
    let (gb, gb_rest) = at_least(gmax_bytes, &[(&gbk, gbk_rest)]);
    let end_bytes = fit(|s| s.curr_bytes, process.curr_bytes);
    let (eb, eb_rest) = at_least(end_bytes, &[(&ebk, ebk_rest)]);
    // Each point's totals at least what it holds live at the peak and at the end, and its bytes
    // at least its blocks.
    let (tbk, tbk_rest) = at_least(
        fit(|s| s.total_blocks, process.total_blocks),
        &[(&gbk, gbk_rest), (&ebk, ebk_rest)],
    );
    let (tb, tb_rest) = at_least(
        fit(|s| s.total_bytes, process.total_bytes),
        &[(&gb, gb_rest), (&eb, eb_rest), (&tbk, tbk_rest)],
    );

    // Lifetimes: each site's estimate; the remainder's blocks at the sampled blocks' mean lifetime.
    let lifetimes: f64 = sites.iter().map(|s| s.lifetimes.max(0.0)).sum();
    let sampled_blocks: f64 = sites.iter().map(|s| s.total_blocks.value.max(0.0)).sum();
    let mean_lifetime = if sampled_blocks > 0.0 {
        lifetimes / sampled_blocks
    } else {
        0.0
    };
    let samples: u64 = sites.iter().map(|s| s.samples).sum();
    let mut ftbl: Vec<Box<str>> = vec![
        "[root]".into(),
        remainder_frame(samples, state.interval as u64).into(),
    ];
    let mut symbols = Symbols::default();
    let mut pps = Vec::with_capacity(sites.len() + 1);
    for (i, s) in sites.iter().enumerate() {
        pps.push(ProgramPoint {
            tb: tb[i],
            tbk: tbk[i],
            tl: s.lifetimes.max(0.0).round() as u64,
            // The site's own highest estimate of live bytes, within what the fitted figures
            // allow (an unfitted sample at a long interval can weigh more than everything the
            // site allocated): never above its total nor, for bytes, the process's peak; never
            // below what it holds at the peak or at the end.
            mb: (s.max_bytes.max(0.0).round() as u64)
                .min(tb[i])
                .min(process.max_bytes)
                .max(gb[i])
                .max(eb[i]),
            mbk: (s.max_blocks.max(0.0).round() as u64)
                .min(tbk[i])
                .max(gbk[i])
                .max(ebk[i]),
            gb: gb[i],
            gbk: gbk[i],
            eb: eb[i],
            ebk: ebk[i],
            fs: {
                let mut fs = symbols.stack(s.ips.get(1..).unwrap_or_default(), &mut ftbl);
                fs.extend(region_frames(
                    s.ips.first().copied(),
                    &mut symbols,
                    &mut ftbl,
                ));
                fs.into()
            },
            ..ProgramPoint::default()
        });
    }
    pps.push(ProgramPoint {
        tb: tb_rest,
        tbk: tbk_rest,
        tl: (tbk_rest as f64 * mean_lifetime).round() as u64,
        mb: gb_rest.max(eb_rest),
        mbk: gbk_rest.max(ebk_rest),
        gb: gb_rest,
        gbk: gbk_rest,
        eb: eb_rest,
        ebk: ebk_rest,
        fs: Box::new([1]),
        ..ProgramPoint::default()
    });
    // The parsed debug info behind the symbols (tens of MB for a large binary) goes now, not
    // when the process exits.
    backtrace::clear_symbol_cache();
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    crate::profiler::kit_profile(SAMPLED_MODE, pps, ftbl, micros, peak_micros.min(micros))
}

/// The frames of the region path active at a site's samples, at the outer end of its stack
/// (innermost region first, as DHAT lists a backtrace): `region Interpreter::call_function`.
fn region_frames(
    region: Option<usize>,
    symbols: &mut Symbols,
    ftbl: &mut Vec<Box<str>>,
) -> Vec<u32> {
    let Some(path) = region
        .and_then(|gid| u32::try_from(gid).ok())
        .and_then(crate::region::imp::path_of)
    else {
        return Vec::new();
    };
    // As in peak profiles: one frame per region of the path, `region NAME`.
    path.rsplit('/')
        .map(|name| symbols.text(format!("region {name}"), ftbl))
        .collect()
}

/// Frames of resolved addresses, each address resolved once (an address can stand for several
/// frames: the functions inlined there, innermost first).
#[derive(Default)]
struct Symbols {
    by_ip: HashMap<usize, Vec<u32>>,
    by_text: HashMap<String, u32>,
}

impl Symbols {
    /// The frame indices of a stack, innermost first, without the unwinder's own frames.
    fn stack(&mut self, ips: &[usize], ftbl: &mut Vec<Box<str>>) -> Vec<u32> {
        let mut fs = Vec::with_capacity(ips.len());
        for &ip in ips {
            let frames = match self.by_ip.get(&ip) {
                Some(f) => f.clone(),
                None => {
                    let f = self.resolve(ip, ftbl);
                    self.by_ip.insert(ip, f.clone());
                    f
                }
            };
            fs.extend(frames);
        }
        // The unwinder's frames sit above the allocator's: take them off, so that the allocator
        // trimming that follows reaches the caller.
        let skip = fs
            .iter()
            .position(|&f| !ftbl[f as usize].contains(": backtrace::"))
            .unwrap_or(0);
        fs.drain(..skip);
        if fs.is_empty() {
            fs.push(self.text("???".to_owned(), ftbl));
        }
        fs
    }

    fn resolve(&mut self, ip: usize, ftbl: &mut Vec<Box<str>>) -> Vec<u32> {
        let mut texts = Vec::new();
        backtrace::resolve(ip as *mut std::ffi::c_void, |sym| {
            let name = sym
                .name()
                .map_or_else(|| "???".to_owned(), |n| format!("{n:#}"));
            let text = match (sym.filename(), sym.lineno()) {
                (Some(file), Some(line)) => format!(
                    "{ip:#x}: {name} ({}:{line}:{})",
                    file.display(),
                    sym.colno().unwrap_or(0)
                ),
                _ => format!("{ip:#x}: {name}"),
            };
            texts.push(text);
        });
        if texts.is_empty() {
            texts.push(format!("{ip:#x}: ???"));
        }
        texts.into_iter().map(|t| self.text(t, ftbl)).collect()
    }

    fn text(&mut self, text: String, ftbl: &mut Vec<Box<str>>) -> u32 {
        if let Some(&i) = self.by_text.get(&text) {
            return i;
        }
        let i = u32::try_from(ftbl.len()).unwrap_or(u32::MAX);
        ftbl.push(text.clone().into());
        self.by_text.insert(text, i);
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remainder_frame_reads_back() {
        let f = remainder_frame(1234, 524_288);
        assert_eq!(
            f,
            "[unsampled remainder] estimated from 1234 samples at mean interval 524288 bytes"
        );
    }

    /// A site's estimates: `(total, at t-gmax)`, bytes then blocks, each with a variance of its
    /// own size.
    fn site(bytes: (f64, f64), blocks: (f64, f64)) -> super::super::Site {
        let est = |value: f64| super::super::Est { value, var: value };
        super::super::Site {
            samples: 1,
            total_bytes: est(bytes.0),
            gmax_bytes: est(bytes.1),
            total_blocks: est(blocks.0),
            gmax_blocks: est(blocks.1),
            ..super::super::Site::default()
        }
    }

    #[test]
    fn no_point_holds_more_blocks_than_bytes() {
        // A short session: the sites' estimates overshoot the bytes and miss most of the blocks
        // (small and never sampled), which go to the remainder.
        let state = State {
            interval: 524_288.0,
            sites: vec![
                site((2.0e6, 1.1e6), (3.0, 2.0)),
                site((1.1e6, 2.0e5), (1_800.0, 20.0)),
            ],
            stacks: Default::default(),
            live: Default::default(),
            slots: Box::new([]),
            id: u64::MAX,
        };
        let process = crate::Stats {
            total_bytes: 3_000_000,
            total_blocks: 8_119,
            max_bytes: 1_200_000,
            max_blocks: 3_200,
            curr_bytes: 1_024,
            curr_blocks: 1,
        };
        let p = profile(&state, 0, &process, std::time::Duration::from_secs(1));
        let sum = |f: fn(&ProgramPoint) -> u64| p.pps.iter().map(f).sum::<u64>();
        assert_eq!(
            [sum(|p| p.tb), sum(|p| p.tbk), sum(|p| p.gb), sum(|p| p.gbk)],
            [3_000_000, 8_119, 1_200_000, 3_200]
        );
        assert_eq!([sum(|p| p.eb), sum(|p| p.ebk)], [1_024, 1]);
        let rest = p.pps.last().unwrap();
        assert!(rest.tbk > 6_000 && rest.gbk > 3_000, "{rest:?}");
        for pp in &p.pps {
            assert!(
                pp.tb >= pp.tbk && pp.gb >= pp.gbk && pp.eb >= pp.ebk,
                "more blocks than bytes: {pp:?}"
            );
            assert!(
                pp.tb >= pp.gb.max(pp.eb) && pp.tbk >= pp.gbk.max(pp.ebk),
                "{pp:?}"
            );
        }
    }
}
