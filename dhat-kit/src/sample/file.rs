//! The sampled profile in DHAT's JSON format: estimated sites, exact totals.

use std::collections::HashMap;

use super::estimate::{
    apportion, blocks_of, bytes_to_blocks, fit_all, keep_at_least, keep_blocks_within,
    live_within_totals, most_blocks, Gives, Held, Point,
};
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
/// at least its blocks, a block wherever it has bytes ([`bytes_to_blocks`]), the units each needs
/// taken from the remainder first, then from the estimated sites in proportion to their variance.
/// An estimated site's blocks beyond its estimates' reach are then the remainder's
/// ([`keep_blocks_within`]). A site sampled exactly ([`is_exact`]) keeps its figures through all
/// of it. A remainder of nothing is no point. Symbols are resolved here, outside the allocator.
pub(crate) fn profile(
    state: &State,
    peak_micros: u64,
    process: &crate::Stats,
    elapsed: std::time::Duration,
) -> Profile {
    let sites = &state.sites;
    let exact: Vec<bool> = sites.iter().map(is_exact).collect();
    // A column of estimates: an exact site's figure is whole and of no variance, so that no fit
    // moves it (the fits take from and give to the sites in proportion to their variance). Its
    // blocks each weigh a hair above one (`1 + e^-16` at 16 times the interval), so its estimate
    // is a hair above its blocks' figure, a few bytes on many large blocks (512 blocks of 64 KiB
    // read 32 MiB + 3.8): scaled by its samples over their weight, it is its blocks' figure again
    // (exactly where its blocks are of one size), whole once rounded. Left above it, an exact
    // site held bytes that other points' blocks needed (a 16-byte block's point had 15 bytes).
    let col = |f: fn(&super::Site) -> super::Est| {
        let (v, var) = sites
            .iter()
            .zip(&exact)
            .map(|(s, &exact)| {
                let e = f(s);
                if exact {
                    let unweighted = s.samples as f64 / s.total_blocks.value;
                    ((e.value * unweighted).max(0.0).round(), 0.0)
                } else {
                    (e.value.max(0.0), e.var.max(0.0))
                }
            })
            .unzip::<f64, f64, Vec<f64>, Vec<f64>>();
        (v, var)
    };
    // Every figure as one column: the sites', then the remainder's last.
    let n = sites.len();
    // What each point gives up to raise another to its floor: the remainder first, then the
    // estimated sites in proportion to their variance; an exact site nothing.
    let gives = |f: fn(&super::Site) -> super::Est| {
        let (_, var) = col(f);
        let mut g: Vec<Gives> = var
            .iter()
            .zip(&exact)
            .map(|(&v, &exact)| {
                if exact {
                    Gives::Never
                } else {
                    Gives::ByVariance(v)
                }
            })
            .collect();
        g.push(Gives::First);
        g
    };
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
                  exact_blocks: u64,
                  bytes: &[u64],
                  exact_bytes: u64| {
        let (v, var) = col(f);
        let (vb, _) = col(fb);
        let (mut ub, mut uk) = (exact_bytes, exact_blocks);
        for i in (0..n).filter(|&i| exact[i]) {
            ub = ub.saturating_sub(vb[i] as u64);
            uk = uk.saturating_sub(v[i] as u64);
        }
        let rest = if ub > 0 && uk > 0 {
            blocks_of(bytes[n], ub, uk)
        } else {
            blocks_of(bytes[n], exact_bytes, exact_blocks)
        }
        .min(exact_blocks);
        let (mut fitted, left) = fit_all(&v, &var, exact_blocks - rest);
        fitted.push(rest + left);
        fitted
    };
    // Each point's figure at least the pointwise largest of `floors`, the sum still the exact one.
    let at_least = |mut v: Vec<u64>, floors: &[&[u64]], gives: &[Gives]| {
        let floor: Vec<u64> = (0..v.len())
            .map(|i| floors.iter().map(|f| f[i]).max().unwrap_or(0))
            .collect();
        keep_at_least(&mut v, &floor, gives);
        v
    };
    let some = |v: &[u64]| v.iter().map(|&x| u64::from(x > 0)).collect::<Vec<u64>>();
    // A block wherever there are bytes; where the blocks do not go round (fewer of them than
    // points with bytes, once the exact sites hold theirs), the bytes go where the blocks are.
    // (`floors`: the blocks' other floors.)
    let with_blocks =
        |mut b: Vec<u64>, k: Vec<u64>, floors: &[&[u64]], gb: &[Gives], gk: &[Gives]| {
            let mut floors = floors.to_vec();
            let some = some(&b);
            floors.push(&some);
            let k = at_least(k, &floors, gk);
            bytes_to_blocks(&mut b, &k, gb);
            (b, k)
        };
    let (gives_gb, gives_gbk) = (gives(|s| s.gmax_bytes), gives(|s| s.gmax_blocks));
    let (gives_eb, gives_ebk) = (gives(|s| s.curr_bytes), gives(|s| s.curr_blocks));
    let (gives_tb, gives_tbk) = (gives(|s| s.total_bytes), gives(|s| s.total_blocks));
    // Bytes first, then blocks, each point with bytes holding a block; then each point's bytes
    // at least its blocks (every block is at least a byte), and its totals at least what it
    // holds live at the peak and at the end.
    let gb = bytes(|s| s.gmax_bytes, process.max_bytes);
    let eb = bytes(|s| s.curr_bytes, process.curr_bytes);
    let tb = bytes(|s| s.total_bytes, process.total_bytes);
    let gbk = blocks(
        |s| s.gmax_blocks,
        |s| s.gmax_bytes,
        process.max_blocks,
        &gb,
        process.max_bytes,
    );
    let (gb, gbk) = with_blocks(gb, gbk, &[], &gives_gb, &gives_gbk);
    let ebk = blocks(
        |s| s.curr_blocks,
        |s| s.curr_bytes,
        process.curr_blocks,
        &eb,
        process.curr_bytes,
    );
    let (eb, ebk) = with_blocks(eb, ebk, &[], &gives_eb, &gives_ebk);
    let tbk = blocks(
        |s| s.total_blocks,
        |s| s.total_bytes,
        process.total_blocks,
        &tb,
        process.total_bytes,
    );
    let (tb, mut tbk) = with_blocks(tb, tbk, &[&gbk, &ebk], &gives_tb, &gives_tbk);
    let gb = at_least(gb, &[&gbk], &gives_gb);
    let eb = at_least(eb, &[&ebk], &gives_eb);
    let mut tb = at_least(tb, &[&gb, &eb, &tbk], &gives_tb);
    // Bytes in all still without a block (no point held one when the blocks were shared out) go
    // where the blocks are now, so that what a point holds live can go there too.
    bytes_to_blocks(&mut tb, &tbk, &gives_tb);
    // Where a total could not rise to what its point holds live (the units it needed were on
    // exact sites, or on sites at their own floors), what the point holds above it goes to the
    // points that allocated more than they hold: every point's totals at least its live figures.
    let (mut gb, mut gbk, mut eb, mut ebk) = (gb, gbk, eb, ebk);
    live_within_totals(&tb, &tbk, &mut gb, &mut gbk, &gives_gb);
    live_within_totals(&tb, &tbk, &mut eb, &mut ebk, &gives_eb);
    // An estimated site's blocks beyond its estimates' reach are the remainder's.
    for i in (0..n).filter(|&i| !exact[i]) {
        let s = &sites[i];
        let most = most_blocks([s.total_blocks, s.gmax_blocks, s.curr_blocks]);
        let point = |i: usize| Point {
            total: Held {
                bytes: tb[i],
                blocks: tbk[i],
            },
            peak: Held {
                bytes: gb[i],
                blocks: gbk[i],
            },
            end: Held {
                bytes: eb[i],
                blocks: ebk[i],
            },
        };
        let (mut site, mut rest) = (point(i), point(n));
        keep_blocks_within(&mut site, &mut rest, most);
        for (j, p) in [(i, site), (n, rest)] {
            (tb[j], tbk[j]) = (p.total.bytes, p.total.blocks);
            (gb[j], gbk[j]) = (p.peak.bytes, p.peak.blocks);
            (eb[j], ebk[j]) = (p.end.bytes, p.end.blocks);
        }
    }
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
    // rest on from it). Its totals are at least its live figures wherever the floors can be met
    // without an exact site; where they cannot (one block, live at the peak and at the end, put
    // on a site at the one and on the remainder at the other), a figure of its own still makes
    // it a point, or the file's figures would fall short of the exact ones.
    if [tb_rest, tbk_rest, gb_rest, gbk_rest, eb_rest, ebk_rest]
        .iter()
        .any(|&x| x > 0)
    {
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

/// Whether every block of the site was sampled, all but certainly, so that its figures are exact:
/// a site of blocks many times the interval (a 64 KiB block at 4 KiB is missed with probability
/// `e^-16`). The variance of its blocks' estimate, `w (w - 1)` summed over its samples of weight
/// `w = 1/p`, is about the number of its blocks that sampling is expected to have missed
/// (`(1 - p) / p` a sample, `1 - p` for `p` near 1): under 1 in 100 here.
fn is_exact(s: &super::Site) -> bool {
    s.samples > 0 && s.total_blocks.value > 0.0 && s.total_blocks.var < 0.01
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
            texts.push(frame_text(
                ip,
                &name,
                sym.filename(),
                sym.lineno(),
                sym.colno(),
            ));
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

/// A frame as the file writes it: `0x1a2b: app::parse (app/src/p.rs:12:5)`; a file whose debug
/// information gives no line keeps its file, at line 0 as dhat writes it (`de.rs:0:0`), so that
/// its sites match dhat's and group by file; a frame without a file is its name alone.
fn frame_text(
    ip: usize,
    name: &str,
    file: Option<&std::path::Path>,
    line: Option<u32>,
    column: Option<u32>,
) -> String {
    match file {
        Some(file) => format!(
            "{ip:#x}: {name} ({}:{}:{})",
            from_crate(file).display(),
            line.unwrap_or(0),
            column.unwrap_or(0)
        ),
        None => format!("{ip:#x}: {name}"),
    }
}

/// A source file's path from its crate's directory on (the one above its last `src`):
/// `~/.cargo/registry/src/index.crates.io-…/pulldown-cmark-0.12.2/src/tree.rs` is
/// `pulldown-cmark-0.12.2/src/tree.rs`, `/rustc/…/library/alloc/src/vec/mod.rs` is
/// `alloc/src/vec/mod.rs`, `/home/me/app/src/main.rs` is `app/src/main.rs`: what names its crate,
/// without a home directory or a registry's hash (dhat writes a path's last three components).
/// A path without such a directory (a C library's source) is kept whole.
fn from_crate(path: &std::path::Path) -> &std::path::Path {
    let last_src = path
        .components()
        .enumerate()
        .filter(|(_, c)| c.as_os_str() == "src")
        .map(|(at, _)| at)
        .last();
    match last_src {
        Some(at) if at >= 1 => {
            let mut rest = path.components();
            for _ in 0..at - 1 {
                rest.next();
            }
            rest.as_path()
        }
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame whose debug information gives a file but no line keeps its file (it was written
    /// with its name alone, so that `diff` against dhat's profile of the same work, which writes
    /// `de.rs:0:0`, showed the site as new on one side and gone on the other).
    #[test]
    fn a_frame_without_a_line_keeps_its_file() {
        let file = std::path::Path::new("/r/src/serde_json-1.0.1/src/de.rs");
        assert_eq!(
            frame_text(0x1b65, "serde_json::de::f", Some(file), None, None),
            "0x1b65: serde_json::de::f (serde_json-1.0.1/src/de.rs:0:0)"
        );
        assert_eq!(
            frame_text(0x1b65, "app::g", Some(file), Some(12), Some(5)),
            "0x1b65: app::g (serde_json-1.0.1/src/de.rs:12:5)"
        );
        assert_eq!(
            frame_text(0x1b65, "???", None, Some(3), None),
            "0x1b65: ???"
        );
    }

    #[test]
    fn a_source_path_starts_at_its_crate() {
        let short = |p: &str| {
            from_crate(std::path::Path::new(p))
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            short("/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulldown-cmark-0.12.2/src/tree.rs"),
            "pulldown-cmark-0.12.2/src/tree.rs"
        );
        assert_eq!(
            short("/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/alloc/src/vec/mod.rs"),
            "alloc/src/vec/mod.rs"
        );
        assert_eq!(short("/home/me/app/src/bin/tool.rs"), "app/src/bin/tool.rs");
        assert_eq!(short("app/src/main.rs"), "app/src/main.rs");
        assert_eq!(short("src/main.rs"), "src/main.rs");
        assert_eq!(short("/src/main.rs"), "/src/main.rs");
        // No crate directory: whole.
        assert_eq!(
            short("/build/glibc-x/nptl/pthread_create.c"),
            "/build/glibc-x/nptl/pthread_create.c"
        );
        // The crate is still read from it.
        let f = "0x1: pulldown_cmark::tree::Tree<T>::with_capacity (pulldown-cmark-0.12.2/src/tree.rs:65:9)";
        assert_eq!(
            crate::profile::Frame::parse(f).crate_name(),
            "pulldown_cmark"
        );
    }

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

    /// The sample set of `sites`, each given a stack of its own (no region, one address) where
    /// it has none: sites of one stack would be one point.
    fn state(mut sites: Vec<super::super::Site>) -> State {
        for (i, s) in sites.iter_mut().enumerate() {
            if s.ips.is_empty() {
                s.ips = [usize::MAX, 0x1000 + 0x10 * i].into();
            }
        }
        State {
            interval: 524_288.0,
            sites,
            stacks: Default::default(),
            live: Default::default(),
            slots: Box::new([]),
            id: u64::MAX,
        }
    }

    /// The session's exact figures: `[bytes, blocks]` in all, at the peak, at the end.
    fn stats(total: [u64; 2], max: [u64; 2], curr: [u64; 2]) -> crate::Stats {
        crate::Stats {
            total_bytes: total[0],
            total_blocks: total[1],
            max_bytes: max[0],
            max_blocks: max[1],
            curr_bytes: curr[0],
            curr_blocks: curr[1],
        }
    }

    /// The profile of `state` with the exact figures `process`, checked [`plausible`].
    fn plausible_profile(state: &State, process: &crate::Stats) -> Profile {
        let p = profile(state, 0, process, std::time::Duration::from_secs(1));
        plausible(&p, process);
        p
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
        let process = stats([9_480_279, 8_000], [1_500_000, 2_000], [0, 0]);
        let p = plausible_profile(&state, &process);
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
        let process = stats([1_000, 10], [500, 5], [0, 0]);
        let p = plausible_profile(&state, &process);
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
        let process = stats([3_000_000, 8_119], [1_200_000, 3_200], [1_024, 1]);
        let p = plausible_profile(&state, &process);
        // The sites' estimates overshoot the bytes: no bytes remain at the peak. The blocks
        // the estimates missed went to the sites in proportion to their variance: the second
        // read 2,910 blocks at the peak and 7,828 in all. Their estimates (a variance of their
        // own size here, as a count's) fall short by 3 standard deviations about one time in
        // 740: a site keeps no more blocks than that reach, 6 and 33 at the peak, 8 and 1,927
        // in all (the first keeps 7: the blocks that go from its peak go from its total too,
        // but for the one the remainder's total had room for). The rest are the remainder's, a
        // byte with each (the sites' bytes overshoot by far more).
        let blocks = |pp: &ProgramPoint| (pp.tbk, pp.gbk);
        assert_eq!(blocks(&p.pps[0]), (7, 6), "{:?}", p.pps);
        assert_eq!(blocks(&p.pps[1]), (1_927, 33), "{:?}", p.pps);
        let rest = remainder(&p).expect("a remainder");
        assert_eq!(
            (rest.gb, rest.gbk, rest.eb, rest.ebk),
            (3_161, 3_161, 1_024, 1),
            "{rest:?}"
        );
        assert_eq!((rest.tb, rest.tbk), (7_208, 6_185), "{rest:?}");
    }

    /// The estimates of `count` blocks of `size` bytes, each sampled, at mean interval
    /// `interval`: bytes, then blocks (as the sample set adds them up).
    fn sampled(size: u64, count: u64, interval: u64) -> (super::super::Est, super::super::Est) {
        let (wb, wk) = super::super::estimate::weight(size, interval as f64);
        let n = count as f64;
        let est = |w: f64, x: f64| super::super::Est {
            value: n * w,
            var: n * w * (w - x),
        };
        (est(wb, size as f64), est(wk, 1.0))
    }

    /// A site of `count` blocks of `size` bytes sampled at `interval`, `live` of them live at the
    /// peak and at the end.
    fn sampled_site(size: u64, count: u64, live: u64, interval: u64) -> super::super::Site {
        let (tb, tbk) = sampled(size, count, interval);
        let (eb, ebk) = sampled(size, live, interval);
        super::super::Site {
            samples: count,
            total_bytes: tb,
            total_blocks: tbk,
            gmax_bytes: eb,
            gmax_blocks: ebk,
            curr_bytes: eb,
            curr_blocks: ebk,
            max_bytes: eb.value,
            max_blocks: ebk.value,
            ..super::super::Site::default()
        }
    }

    /// A site's figures in the file: total, t-gmax, t-end, bytes then blocks.
    fn figures(pp: &ProgramPoint) -> [u64; 6] {
        [pp.tb, pp.tbk, pp.gb, pp.gbk, pp.eb, pp.ebk]
    }

    #[test]
    fn an_exact_site_keeps_its_figures() {
        // The threads of tests/sampled.rs at their end (which failed about one run in 8): 512
        // blocks of 64 KiB at a 4 KiB interval, every one sampled, 256 live; two sites of one
        // sampled 100-byte block each, live, which the sites' estimates (41 blocks each) put far
        // above the one small block the process holds besides. The blocks' fit leaves one of
        // them with bytes and no block, and its floor of a block was taken from the site with the
        // most to spare, the exact one: 255 blocks live against 256.
        let interval = 4_096;
        let state = State {
            interval: interval as f64,
            ..state(vec![
                sampled_site(64 << 10, 512, 256, interval),
                sampled_site(100, 1, 1, interval),
                sampled_site(100, 1, 1, interval),
            ])
        };
        assert!(is_exact(&state.sites[0]) && !is_exact(&state.sites[1]));
        let process = stats(
            [(512 << 16) + 300 + 9_900, 512 + 1 + 99],
            [(256 << 16) + 300, 256 + 1],
            [(256 << 16) + 300, 256 + 1],
        );
        let p = plausible_profile(&state, &process);
        // Its blocks' figures: every block sampled, each weighing a hair above itself
        // (1 + e^-16), which rounded read 4 bytes more in all and 2 at the peak and the end.
        let mib = 1 << 20;
        assert_eq!(
            figures(&p.pps[0]),
            [32 * mib, 512, 16 * mib, 256, 16 * mib, 256],
            "{:?}",
            p.pps
        );
    }

    #[test]
    fn a_site_of_large_blocks_keeps_no_blocks_beyond_its_estimates_reach() {
        // Sixteen blocks of 1 MiB live at the peak, each sampled at the default interval and
        // weighing 1.16 of itself, and 440 blocks of 32 bytes no sample fell on. The site's
        // bytes overshoot the peak, so no bytes remain for the blocks sampling missed, and those
        // went to the one site with a variance: it read 456 blocks of 36 KiB on average.
        let interval = 524_288;
        let mib = 1 << 20;
        let state = State {
            interval: interval as f64,
            ..state(vec![sampled_site(mib, 16, 16, interval)])
        };
        assert!(!is_exact(&state.sites[0]));
        let small = 440 * 32;
        let process = stats(
            [16 * mib + small, 16 + 440],
            [16 * mib + small, 16 + 440],
            [16 * mib + small, 16 + 440],
        );
        let p = plausible_profile(&state, &process);
        // Its estimate, 18.5 blocks give or take 1.7, and 3 standard deviations above it: 23
        // (its estimate's own overcount stays: it has 16); the 433 blocks beyond are the
        // remainder's, a byte with each, taken from the site's bytes.
        let [tb, tbk, gb, gbk, eb, ebk] = figures(&p.pps[0]);
        assert_eq!([tbk, gbk, ebk], [23, 23, 23], "{:?}", p.pps);
        assert!(
            [tb, gb, eb].iter().all(|&b| b > 16 * mib - small),
            "{:?}",
            p.pps
        );
        let rest = remainder(&p).expect("a remainder");
        assert_eq!([rest.tbk, rest.gbk, rest.ebk], [433, 433, 433], "{rest:?}");
    }

    #[test]
    fn an_unsampled_block_live_at_the_end_holds_its_bytes() {
        // A growth chain of 8 bytes to 256 KiB, 16 blocks, its last one live at the end, three
        // of its blocks sampled at the default interval, none of them the last: the site's
        // estimates overshoot every total and hold nothing at the end, so the remainder held
        // the live block, beyond its 64 bytes in all; its bytes went to the site, not its block,
        // and the site read 262,080 bytes live in 0 blocks.
        let est = |value: f64, var: f64| super::super::Est { value, var };
        let (bytes, blocks) = (est(1_691_133.0, 8.227_594e11), est(29.536, 335.75));
        let state = state(vec![super::super::Site {
            samples: 3,
            total_bytes: bytes,
            total_blocks: blocks,
            gmax_bytes: bytes,
            gmax_blocks: blocks,
            max_bytes: bytes.value,
            max_blocks: blocks.value,
            ..super::super::Site::default()
        }]);
        let process = stats([524_280, 16], [524_216, 15], [262_144, 1]);
        let p = plausible_profile(&state, &process);
        assert_eq!(figures(&p.pps[0])[4..], [262_144, 1], "{:?}", p.pps);
    }

    proptest::proptest! {
        #[test]
        fn exact_sites_keep_their_figures(
            // Blocks of 16 to 64 times the interval (4 KiB): all but certainly sampled, each
            // weighing a hair above itself. `(size, count, at the peak, at the end)`.
            exact in proptest::collection::vec((16u64..64, 1u64..1_000, 0u64..1_000, 0u64..1_000), 1..4),
            // Estimated sites of small blocks: `(size, samples, at the peak, at the end)`, each
            // sample a block the process allocated.
            est in proptest::collection::vec((1u64..4_096, 1u64..20, 0u64..20, 0u64..20), 0..6),
            // What the process allocated besides the exact sites' blocks: `(size, blocks, at the
            // peak, at the end)`, at least a block in each.
            other in (16u64..8_192, 1u64..10_000, 1u64..10_000, 1u64..10_000),
        ) {
            let interval = 4_096u64;
            let site = |size: u64, count: u64, gmax: u64, curr: u64| {
                let (tb, tbk) = sampled(size, count, interval);
                let (gb, gbk) = sampled(size, gmax.min(count), interval);
                let (eb, ebk) = sampled(size, curr.min(count), interval);
                super::super::Site {
                    samples: count,
                    total_bytes: tb,
                    total_blocks: tbk,
                    gmax_bytes: gb,
                    gmax_blocks: gbk,
                    curr_bytes: eb,
                    curr_blocks: ebk,
                    max_bytes: gb.value.max(eb.value),
                    max_blocks: gbk.value.max(ebk.value),
                    ..super::super::Site::default()
                }
            };
            let mut sites: Vec<super::super::Site> = exact
                .iter()
                .map(|&(k, count, gmax, curr)| site(k * interval, count, gmax, curr))
                .collect();
            sites.extend(est.iter().map(|&(size, count, gmax, curr)| site(size, count, gmax, curr)));
            let (size, blocks, gmax, curr) = other;
            let (gmax, curr) = (gmax.min(blocks), curr.min(blocks));
            let mut process = crate::Stats {
                total_bytes: size * blocks,
                total_blocks: blocks,
                max_bytes: size * gmax,
                max_blocks: gmax,
                curr_bytes: size * curr,
                curr_blocks: curr,
            };
            // Every sampled block is one the process allocated (and held, at the peak and at
            // the end, as its site says): the estimated sites' blocks too, with `other` what
            // sampling missed. (A site's samples of blocks the process never had asked the fit
            // for more blocks than there were, which no file holds with the exact sites kept.)
            let blocks_of_sites = exact
                .iter()
                .map(|&(k, count, g, c)| (k * interval, count, g, c))
                .chain(est.iter().copied());
            for (size, count, g, c) in blocks_of_sites {
                process.total_bytes += size * count;
                process.total_blocks += count;
                process.max_bytes += size * g.min(count);
                process.max_blocks += g.min(count);
                process.curr_bytes += size * c.min(count);
                process.curr_blocks += c.min(count);
            }
            let state = State { interval: interval as f64, ..state(sites) };
            let p = profile(&state, 0, &process, std::time::Duration::from_secs(1));
            let sum = |f: fn(&ProgramPoint) -> u64| p.pps.iter().map(f).sum::<u64>();
            proptest::prop_assert_eq!(
                [sum(|p| p.tb), sum(|p| p.tbk), sum(|p| p.gb), sum(|p| p.gbk), sum(|p| p.eb), sum(|p| p.ebk)],
                [
                    process.total_bytes,
                    process.total_blocks,
                    process.max_bytes,
                    process.max_blocks,
                    process.curr_bytes,
                    process.curr_blocks
                ]
            );
            // An exact site has its blocks' own totals, and holds live at least its own: more
            // only where the estimated points' totals leave no room for what they hold (as one
            // sample of a 1-byte block, weighing 4,096 of them, takes all the bytes there are).
            for (i, s) in state.sites.iter().enumerate().take(exact.len()) {
                proptest::prop_assert!(is_exact(s));
                let (k, count, g, c) = exact[i];
                let size = k * interval;
                let (g, c) = (g.min(count), c.min(count));
                let got = figures(&p.pps[i]);
                proptest::prop_assert_eq!(&got[..2], &[size * count, count][..], "{:?}", p.pps);
                let own = [size * g, g, size * c, c];
                proptest::prop_assert!(
                    got[2..].iter().zip(own).all(|(&got, own)| got >= own),
                    "{:?} below {:?}: {:?}",
                    got,
                    own,
                    p.pps
                );
            }
            // Every point's totals at least what it holds live: the reader takes the file.
            for pp in &p.pps {
                proptest::prop_assert!(
                    pp.tb >= pp.gb.max(pp.eb) && pp.tbk >= pp.gbk.max(pp.ebk),
                    "{:?}",
                    p.pps
                );
            }
            // Every point with bytes live holds a block, and no more blocks than bytes, where
            // the totals allow it: each point's blocks in all no more than its bytes, and a
            // block wherever it allocated bytes. (Where they do not, as a remainder left 3
            // blocks and no bytes in all by estimates of the sites far above what they held,
            // what is live cannot fit so, and staying within the totals comes first.)
            let consistent = |b: u64, k: u64| k <= b && (b == 0 || k > 0);
            if p.pps.iter().all(|pp| consistent(pp.tb, pp.tbk)) {
                for pp in &p.pps {
                    for (bytes, blocks) in [(pp.gb, pp.gbk), (pp.eb, pp.ebk)] {
                        proptest::prop_assert!(consistent(bytes, blocks), "{:?}", pp);
                    }
                }
            }
        }
    }
}
