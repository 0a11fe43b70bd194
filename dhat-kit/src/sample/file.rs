//! The sampled profile in DHAT's JSON format: estimated sites, exact totals.

use std::collections::HashMap;

use super::estimate::{apportion, blocks_of, fit_all, keep_at_least};
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
/// figure in `process` (see [`apportion`]; the remainder's blocks are its bytes at the figure's
/// mean block size, [`blocks_of`], and the sites share the rest of the blocks, [`fit_all`]), and
/// each point is plausible ([`keep_at_least`]): its totals at least what it holds live, its bytes
/// at least its blocks, a block wherever it has bytes. A remainder of nothing is no point.
/// Symbols are resolved here, outside the allocator.
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
    // Every figure as one column: the sites', then the remainder's last.
    let n = sites.len();
    let bytes = |f: fn(&super::Site) -> super::Est, exact: u64| {
        let (v, var) = col(f);
        let (mut fitted, rest) = apportion(&v, &var, exact);
        fitted.push(rest);
        fitted
    };
    // The remainder's blocks follow its bytes (see `blocks_of`), at the mean block size of what
    // the estimates leave uncertain: the figure less the sites sampled exactly (blocks far above
    // the interval, always sampled, each weighing one block: at a peak of 8 MiB in 1 MiB blocks
    // and two small ones unsampled, the figure's mean size gave the remainder one block, and the
    // huge blocks' site the other). The sites share the rest.
    let blocks = |f: fn(&super::Site) -> super::Est,
                  fb: fn(&super::Site) -> super::Est,
                  exact: u64,
                  bytes: &[u64],
                  exact_bytes: u64| {
        let (v, var) = col(f);
        let (mut ub, mut uk) = (exact_bytes, exact);
        for s in sites {
            let (k, b) = (f(s), fb(s));
            if k.value > 0.0 && k.var <= 1e-3 * k.value {
                ub = ub.saturating_sub(b.value.max(0.0).round() as u64);
                uk = uk.saturating_sub(k.value.round() as u64);
            }
        }
        let rest = if ub > 0 && uk > 0 {
            blocks_of(bytes[n], ub, uk)
        } else {
            blocks_of(bytes[n], exact_bytes, exact)
        }
        .min(exact);
        let (mut fitted, left) = fit_all(&v, &var, exact - rest);
        fitted.push(rest + left);
        fitted
    };
    // Each point's figure at least the pointwise largest of `floors`, the sum still the exact one.
    let at_least = |mut v: Vec<u64>, floors: &[&[u64]]| {
        let floor: Vec<u64> = (0..v.len())
            .map(|i| floors.iter().map(|f| f[i]).max().unwrap_or(0))
            .collect();
        keep_at_least(&mut v, &floor);
        v
    };
    let some = |v: &[u64]| v.iter().map(|&x| u64::from(x > 0)).collect::<Vec<u64>>();
    // Bytes first, then blocks, each point with bytes holding a block; then each point's bytes
    // at least its blocks (every block is at least a byte), and its totals at least what it
    // holds live at the peak and at the end.
    let gb = bytes(|s| s.gmax_bytes, process.max_bytes);
    let eb = bytes(|s| s.curr_bytes, process.curr_bytes);
    let tb = bytes(|s| s.total_bytes, process.total_bytes);
    let gbk = at_least(
        blocks(
            |s| s.gmax_blocks,
            |s| s.gmax_bytes,
            process.max_blocks,
            &gb,
            process.max_bytes,
        ),
        &[&some(&gb)],
    );
    let ebk = at_least(
        blocks(
            |s| s.curr_blocks,
            |s| s.curr_bytes,
            process.curr_blocks,
            &eb,
            process.curr_bytes,
        ),
        &[&some(&eb)],
    );
    let tbk = at_least(
        blocks(
            |s| s.total_blocks,
            |s| s.total_bytes,
            process.total_blocks,
            &tb,
            process.total_bytes,
        ),
        &[&gbk, &ebk, &some(&tb)],
    );
    let gb = at_least(gb, &[&gbk]);
    let eb = at_least(eb, &[&ebk]);
    let tb = at_least(tb, &[&gb, &eb, &tbk]);
    let (tb_rest, tbk_rest, gb_rest, gbk_rest, eb_rest, ebk_rest) =
        (tb[n], tbk[n], gb[n], gbk[n], eb[n], ebk[n]);

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
    // A remainder of nothing is no point (its frame stays: the summary reads what the estimates
    // rest on from it). Its totals are at least its live figures, so a total of 0 is all zeros.
    if tb_rest > 0 || tbk_rest > 0 {
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
    }
    // The parsed debug info behind the symbols (tens of MB for a large binary) goes now, not
    // when the process exits.
    backtrace::clear_symbol_cache();
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    let mut profile =
        crate::profiler::kit_profile(SAMPLED_MODE, pps, ftbl, micros, peak_micros.min(micros));
    // The allocator's frames off every stack (the unwinder's and the allocator's own, which every
    // sample has above the caller's), then the frames no stack uses any more out of the table.
    profile.trim_allocator_frames();
    drop_unused_frames(&mut profile);
    profile
}

/// Takes the frames that no program point uses out of the frame table, renumbering the points'
/// frames: a frame resolved for a sampled stack and then trimmed off it (the unwinder's, the
/// allocator's: 27 of them in one run) is no frame of the profile. The first two stay wherever
/// they are used: `[root]`, as in every DHAT file, and the remainder's, which says what the
/// estimates rest on (the summary reads it) even when no remainder point is written.
fn drop_unused_frames(profile: &mut Profile) {
    let mut used = vec![false; profile.ftbl.len()];
    for u in used.iter_mut().take(2) {
        *u = true;
    }
    for pp in &profile.pps {
        for &f in pp.fs.iter() {
            if let Some(u) = used.get_mut(f as usize) {
                *u = true;
            }
        }
    }
    let mut renumbered = vec![0u32; used.len()];
    let mut next = 0u32;
    for (r, &u) in renumbered.iter_mut().zip(&used) {
        *r = next;
        next += u32::from(u);
    }
    let mut i = 0;
    profile.ftbl.retain(|_| {
        i += 1;
        used[i - 1]
    });
    for pp in &mut profile.pps {
        for f in pp.fs.iter_mut() {
            if let Some(&r) = renumbered.get(*f as usize) {
                *f = r;
            }
        }
    }
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

    /// The invariants of every sampled file: the exact totals, and every point plausible: no
    /// more blocks than bytes, no bytes without blocks, totals at least the live figures, no
    /// point of zeros.
    fn plausible(p: &Profile, process: &crate::Stats) {
        let sum = |f: fn(&ProgramPoint) -> u64| p.pps.iter().map(f).sum::<u64>();
        assert_eq!(
            [sum(|p| p.tb), sum(|p| p.tbk), sum(|p| p.gb), sum(|p| p.gbk)],
            [
                process.total_bytes,
                process.total_blocks,
                process.max_bytes,
                process.max_blocks
            ]
        );
        assert_eq!(
            [sum(|p| p.eb), sum(|p| p.ebk)],
            [process.curr_bytes, process.curr_blocks]
        );
        for pp in &p.pps {
            for (bytes, blocks) in [(pp.tb, pp.tbk), (pp.gb, pp.gbk), (pp.eb, pp.ebk)] {
                assert!(blocks <= bytes, "more blocks than bytes: {pp:?}");
                assert!(bytes == 0 || blocks > 0, "bytes without blocks: {pp:?}");
            }
            assert!(
                pp.tb >= pp.gb.max(pp.eb) && pp.tbk >= pp.gbk.max(pp.ebk),
                "{pp:?}"
            );
            assert!(pp.tb > 0, "a point of zeros: {pp:?}");
        }
    }

    fn state(sites: Vec<super::super::Site>) -> State {
        State {
            interval: 524_288.0,
            sites,
            stacks: Default::default(),
            live: Default::default(),
            slots: Box::new([]),
            id: u64::MAX,
        }
    }

    /// The remainder of the point `p` (its frame, `[1]`), if it was written.
    fn remainder(p: &Profile) -> Option<&ProgramPoint> {
        p.pps.iter().find(|pp| *pp.fs == [1])
    }

    #[test]
    fn a_remainder_with_bytes_has_blocks() {
        // The sites' estimates fall short of the bytes and overshoot the blocks (a few samples
        // of small blocks, each weighing thousands): the remainder read 6,480,279 bytes in 0
        // blocks.
        let state = state(vec![
            site((2.0e6, 1.0e6), (9_000.0, 3_000.0)),
            site((1.0e6, 1.0e5), (500.0, 50.0)),
        ]);
        let process = crate::Stats {
            total_bytes: 9_480_279,
            total_blocks: 8_000,
            max_bytes: 1_500_000,
            max_blocks: 2_000,
            curr_bytes: 0,
            curr_blocks: 0,
        };
        let p = profile(&state, 0, &process, std::time::Duration::from_secs(1));
        plausible(&p, &process);
        // Its blocks are its bytes at the session's mean block size, rounded up.
        let rest = remainder(&p).expect("a remainder");
        assert_eq!(rest.tb, 6_480_279, "{rest:?}");
        assert_eq!(rest.tbk, 5_469, "{rest:?}");
    }

    #[test]
    fn a_remainder_of_zeros_is_not_a_point() {
        // The estimates reach every exact figure: nothing remains, and no point says so; the
        // frame that tells what the estimates rest on stays, for the summary.
        let state = state(vec![site((1_100.0, 600.0), (11.0, 6.0))]);
        let process = crate::Stats {
            total_bytes: 1_000,
            total_blocks: 10,
            max_bytes: 500,
            max_blocks: 5,
            curr_bytes: 0,
            curr_blocks: 0,
        };
        let p = profile(&state, 0, &process, std::time::Duration::from_secs(1));
        plausible(&p, &process);
        assert_eq!(p.pps.len(), 1, "{:?}", p.pps);
        assert!(remainder(&p).is_none());
        assert!(p.ftbl[1].starts_with("[unsampled remainder] estimated from 1 samples"));
    }

    #[test]
    fn frames_no_point_uses_are_dropped() {
        let point = |fs: &[u32]| ProgramPoint {
            tb: 1,
            tbk: 1,
            fs: fs.into(),
            ..ProgramPoint::default()
        };
        let ftbl = ["[root]", "[unsampled remainder]", "a", "b", "c", "d"];
        let mut p = crate::profiler::kit_profile(
            SAMPLED_MODE,
            vec![point(&[5, 3]), point(&[3])],
            ftbl.iter().map(|&f| f.into()).collect(),
            1,
            1,
        );
        drop_unused_frames(&mut p);
        let ftbl: Vec<&str> = p.ftbl.iter().map(|f| &**f).collect();
        assert_eq!(ftbl, ["[root]", "[unsampled remainder]", "b", "d"]);
        assert_eq!((&*p.pps[0].fs, &*p.pps[1].fs), (&[3, 2][..], &[2][..]));
    }

    #[test]
    fn no_point_holds_more_blocks_than_bytes() {
        // A short session: the sites' estimates overshoot the bytes and miss most of the blocks
        // (small and never sampled), which go to the remainder.
        let state = state(vec![
            site((2.0e6, 1.1e6), (3.0, 2.0)),
            site((1.1e6, 2.0e5), (1_800.0, 20.0)),
        ]);
        let process = crate::Stats {
            total_bytes: 3_000_000,
            total_blocks: 8_119,
            max_bytes: 1_200_000,
            max_blocks: 3_200,
            curr_bytes: 1_024,
            curr_blocks: 1,
        };
        let p = profile(&state, 0, &process, std::time::Duration::from_secs(1));
        plausible(&p, &process);
        // The sites' estimates overshoot the bytes: no bytes remain at the peak, so no blocks
        // do either (they read 3,178 blocks in as many bytes there, and in total 6,316 blocks in
        // as many bytes: 1-byte blocks). The blocks the sites' estimates missed are the sites',
        // in proportion to their variance; the block live at the end, which no site holds, is
        // the remainder's.
        let rest = remainder(&p).expect("a remainder");
        assert_eq!(
            (rest.gb, rest.gbk, rest.eb, rest.ebk),
            (0, 0, 1_024, 1),
            "{rest:?}"
        );
        assert_eq!((rest.tb, rest.tbk), (1_024, 1), "{rest:?}");
    }
}
