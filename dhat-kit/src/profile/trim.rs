//! Taking the allocator's own frames off the top of every stack.

use std::collections::HashMap;

use super::{Frame, Profile, ProgramPoint};

impl Profile {
    /// Takes the frames of the allocator ([`Frame::is_allocator`]: dhat's and dhat-kit's
    /// allocators, Rust's allocator shims, `malloc` and the wrappers of
    /// [`ALLOCATION_WRAPPERS`](super::ALLOCATION_WRAPPERS)), and every frame inside Rust's
    /// global allocator ([`Frame::is_global_allocator_entry`]) whatever its name, off the top
    /// (innermost end) of every program point's stack, keeping at least one frame, then merges the points whose stacks
    /// became equal (DHAT's viewer refuses two points with one stack), adding up their figures.
    /// Returns how many frames were taken off in all.
    ///
    /// dhat trims only the frames it recognises as its own, so in a heap profile written under
    /// dhat-kit's allocator every stack starts with five frames of allocator plumbing; the
    /// profiler calls this on every file it writes, so the viewer's tree starts at the code that
    /// allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":false,
    ///   "bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
    ///   "pps":[{"tb":8,"tbk":1,"fs":[1,3,5]},{"tb":4,"tbk":1,"fs":[2,3,5]},{"tb":2,"tbk":1,"fs":[4,5]}],
    ///   "ftbl":["[root]","0x1: alloc (dhat-0.3.3/src/lib.rs:1176:9)",
    ///     "0x2: <dhat::Alloc as core::alloc::global::GlobalAlloc>::realloc (dhat-0.3.3/src/lib.rs:1200:9)",
    ///     "0x3: __rust_alloc (dhat-kit/src/lib.rs:261:43)",
    ///     "0x4: app::other (src/main.rs:3:5)","0x5: app::main (src/main.rs:9:5)"]}"#;
    /// let mut p = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
    /// assert_eq!(p.trim_allocator_frames(), 4);
    /// assert_eq!(p.pps.len(), 2); // the first two points had the same stack once trimmed
    /// assert_eq!((p.pps[0].tb, &*p.pps[0].fs), (12, &[5][..]));
    /// # Ok::<(), dhat_kit::profile::ProfileError>(())
    /// ```
    pub fn trim_allocator_frames(&mut self) -> usize {
        self.trim_stacks(None)
    }

    /// [`trim_allocator_frames`](Profile::trim_allocator_frames), then keeps, of what is left of
    /// each stack, the frames of plumbing ([`Frame::is_boring`], or inlined into the precompiled
    /// standard library's functions: the standard library's collections, formatting and
    /// allocator API, as `dhat-kit top` passes them by to find a site)
    /// before its first frame that is not plumbing, and `max_frames` frames (at least one) from
    /// that frame on, whatever they are; a stack of plumbing only is kept whole. The chain from
    /// the caller to the allocator is deeper than dhat's default of 10 frames on current Rust
    /// (`s += &format!(..)` goes through 24 frames of std), and a cut at the innermost
    /// `max_frames` left std's functions as the site. Then merges the points whose stacks became
    /// equal. Returns how many frames were taken off in all.
    pub(crate) fn trim_stacks(&mut self, max_frames: Option<usize>) -> usize {
        let allocator: Vec<bool> = self
            .ftbl
            .iter()
            .map(|f| Frame::parse(f).is_allocator())
            .collect();
        let entry: Vec<bool> = self
            .ftbl
            .iter()
            .map(|f| Frame::parse(f).is_global_allocator_entry())
            .collect();
        // As `dhat-kit top` tells plumbing from a site (`Frames::informative`), without skips.
        let plumbing: Vec<bool> = match max_frames {
            Some(_) => {
                let stacks = self.pps.iter().map(|pp| &*pp.fs);
                let inlined = super::frame::inlined_into_std(&self.ftbl, stacks);
                self.ftbl
                    .iter()
                    .zip(inlined)
                    .map(|(f, inlined)| inlined || Frame::parse(f).is_boring())
                    .collect()
            }
            None => Vec::new(),
        };
        let is_allocator = |f: u32| allocator.get(f as usize).copied().unwrap_or(false);
        let is_plumbing = |&f: &u32| plumbing.get(f as usize).copied().unwrap_or(false);
        let is_entry = |&f: &u32| entry.get(f as usize).copied().unwrap_or(false);
        // The standard library's frames between the kit's own ([`kit_frames`]).
        let boring: Vec<bool> = self
            .ftbl
            .iter()
            .map(|f| Frame::parse(f).is_boring())
            .collect();
        let is_boring = |f: u32| boring.get(f as usize).copied().unwrap_or(false);
        let mut removed = 0;
        let mut merged: Vec<ProgramPoint> = Vec::with_capacity(self.pps.len());
        let mut index: HashMap<Box<[u32]>, usize> = HashMap::with_capacity(self.pps.len());
        for mut pp in std::mem::take(&mut self.pps) {
            let inside = super::frame::allocator_frames(&pp.fs, is_entry);
            let inside = inside.max(kit_frames(&pp.fs, is_allocator, is_boring));
            let keep_from = pp.fs[inside..]
                .iter()
                .position(|&f| !is_allocator(f))
                .map_or(pp.fs.len().saturating_sub(1), |pos| inside + pos);
            let keep_to = match max_frames {
                None => pp.fs.len(),
                Some(n) => match pp.fs[keep_from..].iter().position(|f| !is_plumbing(f)) {
                    Some(caller) => pp.fs.len().min(keep_from + caller + n.max(1)),
                    None => pp.fs.len(),
                },
            };
            if keep_from > 0 || keep_to < pp.fs.len() {
                removed += pp.fs.len() - (keep_to - keep_from);
                pp.fs = pp.fs[keep_from..keep_to].into();
            }
            match index.get(&pp.fs) {
                Some(&i) => add(&mut merged[i], &pp),
                None => {
                    index.insert(pp.fs.clone(), merged.len());
                    merged.push(pp);
                }
            }
        }
        self.pps = merged;
        removed
    }
}

/// How many frames at the top of `fs` are the kit's: up to its last allocator frame (dhat's and
/// dhat-kit's own among them) that only plumbing frames precede. An ad-hoc event that a region
/// records as it closes comes through std's thread-local access above the kit's frames
/// (`LocalKey::try_with`, then `dhat_kit::region::thread::close_from`, ..,
/// `drop_in_place<dhat_kit::region::Region>`), which the first non-allocator frame would stop at.
fn kit_frames(
    fs: &[u32],
    is_allocator: impl Fn(u32) -> bool,
    is_boring: impl Fn(u32) -> bool,
) -> usize {
    let run = fs.iter().position(|&f| !is_boring(f)).unwrap_or(fs.len());
    fs[..run]
        .iter()
        .rposition(|&f| is_allocator(f))
        .map_or(0, |i| i + 1)
}

/// Adds the figures of `pp` to `into` (the same stack). The per-point maxima (`mb`, `mbk`) add up
/// too: the sum bounds the merged point's maximum, and is its exact value when the two maxima
/// were reached at the same time.
fn add(into: &mut ProgramPoint, pp: &ProgramPoint) {
    for (a, b) in [
        (&mut into.tb, pp.tb),
        (&mut into.tbk, pp.tbk),
        (&mut into.tl, pp.tl),
        (&mut into.mb, pp.mb),
        (&mut into.mbk, pp.mbk),
        (&mut into.gb, pp.gb),
        (&mut into.gbk, pp.gbk),
        (&mut into.eb, pp.eb),
        (&mut into.ebk, pp.ebk),
        (&mut into.rb, pp.rb),
        (&mut into.wb, pp.wb),
    ] {
        *a = a.saturating_add(b);
    }
    into.acc = match (into.acc.take(), &pp.acc) {
        (Some(a), Some(b)) => Some(add_accesses(&a, b)),
        (a, b) => a.or_else(|| b.clone()),
    };
}

/// The per-offset access counts of two blocks' run-length encoded `acc` arrays (a negative entry
/// repeats the next one that many times), added offset by offset, encoded the same way. Added run
/// by run, never expanded: a run's length comes from the file, and `[-1000000000000, 1]` expanded
/// asked for 8 TB.
fn add_accesses(a: &[i64], b: &[i64]) -> Box<[i64]> {
    let (mut xs, mut ys) = (runs(a), runs(b));
    let (mut x, mut y) = (xs.next(), ys.next());
    let mut out = Encoder::default();
    loop {
        let (len, value) = match (&mut x, &mut y) {
            (Some((lx, vx)), Some((ly, vy))) => {
                let len = (*lx).min(*ly);
                *lx -= len;
                *ly -= len;
                (len, vx.saturating_add(*vy))
            }
            (Some(run), None) | (None, Some(run)) => std::mem::take(run),
            (None, None) => break,
        };
        out.push(len, value);
        if x.is_some_and(|(len, _)| len == 0) {
            x = xs.next();
        }
        if y.is_some_and(|(len, _)| len == 0) {
            y = ys.next();
        }
    }
    out.finish()
}

/// The runs of a run-length encoded `acc` array: (how many offsets, their count), each at least
/// one offset long.
fn runs(acc: &[i64]) -> impl Iterator<Item = (u64, i64)> + '_ {
    let mut it = acc.iter();
    std::iter::from_fn(move || {
        let &v = it.next()?;
        Some(if v < 0 {
            (v.unsigned_abs(), it.next().copied().unwrap_or(0))
        } else {
            (1, v)
        })
    })
}

/// Writes runs as an `acc` array, joining neighbours of one count.
#[derive(Default)]
struct Encoder {
    out: Vec<i64>,
    /// The run not yet written (its length may pass what one entry holds).
    open: Option<(u128, i64)>,
}

impl Encoder {
    fn push(&mut self, len: u64, value: i64) {
        match &mut self.open {
            Some((open, v)) if *v == value => *open += u128::from(len),
            _ => {
                self.flush();
                self.open = Some((u128::from(len), value));
            }
        }
    }

    fn flush(&mut self) {
        let Some((mut len, value)) = self.open.take() else {
            return;
        };
        // One entry repeats at most 2^63 times (i64::MIN).
        const MOST: u128 = 1 << 63;
        while len > 0 {
            let run = len.min(MOST);
            // A negative count alone would read as a run's length: it gets a run of one.
            if run > 1 || value < 0 {
                self.out.push(0i64.wrapping_sub_unsigned(run as u64));
            }
            self.out.push(value);
            len -= run;
        }
    }

    fn finish(mut self) -> Box<[i64]> {
        self.flush();
        self.out.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_keep_at_most_the_frames_asked_for_below_the_allocator() {
        let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":false,
          "bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
          "pps":[{"tb":8,"tbk":1,"fs":[1,2,3,4,5]},{"tb":4,"tbk":1,"fs":[1,2,3,6]},
                 {"tb":2,"tbk":1,"fs":[1,5]}],
          "ftbl":["[root]","0x1: __rust_alloc (dhat-kit/src/lib.rs:261:43)",
            "0x2: app::leaf (src/a.rs:1:1)","0x3: app::mid (src/a.rs:2:1)",
            "0x4: app::top (src/a.rs:3:1)","0x5: app::main (src/main.rs:9:5)",
            "0x6: app::other (src/a.rs:4:1)"]}"#;
        let read = || super::super::from_slice(json.as_bytes(), "app.json").unwrap();
        let mut p = read();
        // Two frames below the allocator's: the first two points become one (leaf, mid).
        assert_eq!(p.trim_stacks(Some(2)), 3 + 2 + 1);
        let stacks: Vec<(u64, &[u32])> = p.pps.iter().map(|pp| (pp.tb, &*pp.fs)).collect();
        assert_eq!(stacks, [(12, &[2, 3][..]), (2, &[5][..])]);
        // No limit: the allocator's frame only.
        let mut p = read();
        assert_eq!(p.trim_stacks(None), 3);
        assert_eq!(p.pps[0].fs.len(), 4);
    }

    /// The standard library's plumbing between the allocator and the caller is kept and not
    /// counted: `s += &format!(..)` has 24 frames of it in a debug build, and a cut at the
    /// innermost `max_frames` left only std's functions as the site.
    #[test]
    fn the_frames_asked_for_count_from_the_first_frame_past_std() {
        let plumbing = [
            "0x2: alloc::alloc::alloc (alloc/src/alloc.rs:95:9)",
            "0x2: <alloc::alloc::Global as core::alloc::Allocator>::allocate (alloc/src/alloc.rs:429:14)",
            "0x2: <alloc::raw_vec::RawVecInner>::finish_grow (src/raw_vec/mod.rs:558:24)",
            "0x3: <alloc::raw_vec::RawVecInner>::grow_amortized (src/raw_vec/mod.rs:527:33)",
            "0x4: <alloc::raw_vec::RawVecInner>::reserve (src/raw_vec/mod.rs:673:17)",
            "0x4: <alloc::vec::Vec<u8>>::reserve (src/vec/mod.rs:1446:18)",
            "0x4: <alloc::vec::Vec<u8>>::extend_from_slice (src/vec/mod.rs:3500:14)",
            "0x4: <alloc::string::String>::push_str (alloc/src/string.rs:1102:18)",
            "0x5: <u64 as core::fmt::Display>::fmt (src/fmt/num.rs:143:32)",
            "0x6: core::fmt::write (src/fmt/mod.rs:0:0)",
            "0x7: alloc::fmt::format::format_inner (alloc/src/fmt.rs:654:14)",
            "0x8: core::option::Option<T>::map_or_else (core/src/option.rs:1278:21)",
        ];
        let app = [
            "0x9: app::render (src/render.rs:10:15)",
            "0xa: app::page (src/render.rs:20:5)",
            "0xb: app::site (src/render.rs:30:5)",
            "0xc: app::main (src/main.rs:3:5)",
        ];
        let mut ftbl = vec!["[root]", "0x1: __rust_alloc (dhat-kit/src/lib.rs:261:43)"];
        ftbl.extend(plumbing);
        ftbl.extend(app);
        // Allocator, 12 frames of std, 4 of the program's; a stack of std only; a stack with std
        // between the program's frames.
        let whole: Vec<u32> = (1..=17).collect();
        let std_only: Vec<u32> = (1..=6).collect();
        let between: Vec<u32> = [1, 2, 3, 4, 14, 8, 9, 15, 16, 17].into();
        let json = serde_json::json!({
            "dhatFileVersion": 2, "mode": "rust-heap", "verb": "Allocated", "bklt": false,
            "bkacc": false, "tu": "µs", "Mtu": "s", "cmd": "app", "pid": 1, "te": 9,
            "pps": [{"tb": 8, "tbk": 1, "fs": whole}, {"tb": 4, "tbk": 1, "fs": std_only},
                    {"tb": 2, "tbk": 1, "fs": between}],
            "ftbl": ftbl,
        })
        .to_string();
        let read = || super::super::from_slice(json.as_bytes(), "app.json").unwrap();
        let names = |p: &Profile, i: usize| -> Vec<String> {
            p.pps[i]
                .fs
                .iter()
                .map(|&f| Frame::parse(&p.ftbl[f as usize]).function.to_owned())
                .collect()
        };
        let mut p = read();
        // Three of the program's frames: the std frames before them are kept and not counted,
        // the allocator's taken off.
        assert_eq!(p.trim_stacks(Some(3)), 2 + 1 + 4);
        assert_eq!(&*p.pps[0].fs, &(2..=16).collect::<Vec<u32>>()[..]);
        assert_eq!(
            names(&p, 0)[12..],
            ["app::render", "app::page", "app::site"]
        );
        // A stack of std only keeps all of it.
        assert_eq!(&*p.pps[1].fs, &[2, 3, 4, 5, 6]);
        // The frames counted are all those from the first of the program's, std's among them.
        assert_eq!(&*p.pps[2].fs, &[2, 3, 4, 14, 8, 9]);
        // With the default of 10, the whole stack below the allocator.
        let mut p = read();
        assert_eq!(p.trim_stacks(Some(10)), 3);
        assert_eq!(names(&p, 0).last().map(String::as_str), Some("app::main"));
        assert_eq!(p.pps[0].fs.len(), 16);
        // One frame asked for: std's and the caller's.
        let mut p = read();
        p.trim_stacks(Some(1));
        assert_eq!(names(&p, 0).last().map(String::as_str), Some("app::render"));
        assert_eq!(p.pps[0].fs.len(), 13);
        assert_eq!(
            names(&p, 2),
            [
                "alloc::alloc::alloc",
                "<alloc::alloc::Global as core::alloc::Allocator>::allocate",
                "<alloc::raw_vec::RawVecInner>::finish_grow",
                "app::render"
            ]
        );
    }

    #[test]
    fn accesses_add_offset_by_offset() {
        assert_eq!(&*add_accesses(&[-3, 5], &[1, 2]), &[6, 7, 5]);
        // Runs from the file are added as runs: expanded, these asked for 8 TB and aborted, or
        // for 2^63 entries and panicked (found by fuzzing).
        assert_eq!(
            &*add_accesses(&[-1_000_000_000_000, 1], &[-1_000_000_000_000, 1]),
            &[-1_000_000_000_000, 2]
        );
        assert_eq!(
            &*add_accesses(&[i64::MIN, 1, 7], &[-2, 1]),
            &[-2, 2, -(1i64 << 62) * 2 + 2, 1, 7]
        );
        // A negative count (no access counts so, but the reader takes any) keeps a run of one:
        // alone, it read as a run's length.
        assert_eq!(&*add_accesses(&[-1, -5, 7], &[]), &[-1, -5, 7]);
        assert_eq!(&*add_accesses(&[-2, -3], &[1]), &[-1, -2, -1, -3]);
        // Two runs of 2^63 of one count are two entries' worth.
        assert_eq!(
            &*add_accesses(&[i64::MIN, 3, i64::MIN, 3], &[]),
            &[i64::MIN, 3, i64::MIN, 3]
        );
        assert_eq!(&*add_accesses(&[1], &[-2, 0, 4]), &[1, 0, 4]);
        assert_eq!(&*add_accesses(&[-2, 1], &[-2, 1]), &[-2, 2]);
    }

    #[test]
    fn kit_heap_profile_frames_are_taken_off_and_equal_stacks_merged() {
        let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,
          "pps":[
            {"tb":100,"tbk":1,"tl":3,"mb":100,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1,2,3,4,5,6,7]},
            {"tb":10,"tbk":10,"tl":3,"mb":10,"mbk":10,"gb":10,"gbk":10,"eb":10,"ebk":10,"fs":[1,2,3,4,5,6,7]},
            {"tb":7,"tbk":1,"tl":1,"mb":7,"mbk":1,"gb":7,"gbk":1,"eb":0,"ebk":0,"fs":[1,7]},
            {"tb":1,"tbk":1,"tl":1,"mb":1,"mbk":1,"gb":1,"gbk":1,"eb":1,"ebk":1,"fs":[1,2]}
          ],
          "ftbl":["[root]",
            "0x1: alloc (dhat-0.3.3/src/lib.rs:1176:9)",
            "0x2: {closure#0}<dhat::Alloc> (dhat-kit/src/alloc.rs:356:40)",
            "0x2: counted<*mut u8, dhat_kit::alloc::counting::{impl#3}::alloc::{closure_env#0}<dhat::Alloc>> (dhat-kit/src/alloc.rs:250:5)",
            "0x2: alloc<dhat::Alloc> (dhat-kit/src/alloc.rs:353:13)",
            "0x2: __rust_alloc (dhat-kit/src/lib.rs:261:43)",
            "0x2: alloc (alloc/src/alloc.rs:95:9)",
            "0x3: app::main (src/main.rs:3:5)"]}"#;
        let mut p = crate::profile::from_slice(json.as_bytes(), "t.json").unwrap();
        let before = p.totals();
        assert_eq!(p.trim_allocator_frames(), 5 + 5 + 1 + 1);
        assert_eq!(p.totals(), before);
        assert_eq!(p.pps.len(), 3);
        assert_eq!(&*p.pps[0].fs, &[6, 7]);
        assert_eq!(
            (p.pps[0].tb, p.pps[0].tbk, p.pps[0].gbk, p.pps[0].mbk),
            (110, 11, 10, 11)
        );
        // A stack of allocator frames only keeps its outermost one.
        assert_eq!(&*p.pps[2].fs, &[2]);
        for pp in &p.pps {
            assert!(!Frame::parse(&p.ftbl[pp.fs[0] as usize]).is_allocator() || pp.fs.len() == 1);
        }
        p.validate("t.json").unwrap();
    }

    #[test]
    fn every_frame_inside_the_global_allocator_goes_whatever_its_name() {
        // Valgrind's names for a release build's inlined allocator frames.
        let json = r#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":false,
          "bkacc":false,"tu":"instrs","Mtu":"instr","cmd":"app","pid":1,"te":9,
          "pps":[{"tb":8,"tbk":1,"fs":[1,2,3,4,5]},{"tb":4,"tbk":1,"fs":[1,3,4,5]},
                 {"tb":2,"tbk":1,"fs":[1,2,3]}],
          "ftbl":["[root]",
            "0x1: malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)",
            "0x2: {closure#0}<std::alloc::System> (src/alloc.rs:97)",
            "0x3: __rustc::__rust_alloc (src/lib.rs:469)",
            "0x4: app::build (src/build.rs:3)","0x5: app::main (src/main.rs:9)"]}"#;
        let mut p = crate::profile::from_slice(json.as_bytes(), "vg.json").unwrap();
        assert_eq!(p.trim_allocator_frames(), 3 + 2 + 2);
        assert_eq!(p.pps.len(), 2);
        assert_eq!((p.pps[0].tb, &*p.pps[0].fs), (12, &[4, 5][..]));
        // A stack cut at the entry keeps its outermost frame.
        assert_eq!((p.pps[1].tb, &*p.pps[1].fs), (2, &[3][..]));
    }

    /// Two points that merge once the allocator's frames are gone, each with a run of 10^12
    /// offsets in `acc`: the merge aborted the process, out of memory (found by fuzzing).
    #[test]
    fn points_with_long_runs_of_accesses_merge() {
        let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
          "bkacc":true,"tu":"instrs","Mtu":"Minstr","cmd":"app","pid":1,"te":9,"tg":1,"tuth":500,
          "pps":[{"tb":8,"tbk":1,"tl":1,"mb":8,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"rb":0,
                  "wb":0,"acc":[-1000000000000,1],"fs":[1,3]},
                 {"tb":4,"tbk":1,"tl":1,"mb":4,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"rb":0,
                  "wb":0,"acc":[-1000000000000,1],"fs":[2,3]}],
          "ftbl":["[root]","0x1: malloc (in vgpreload_dhat.so)",
            "0x2: malloc (in vgpreload_dhat.so)","0x3: app::main (src/main.rs:1:1)"]}"#;
        let mut p = super::super::from_slice(json.as_bytes(), "acc.json").unwrap();
        assert_eq!(p.trim_allocator_frames(), 2);
        assert_eq!(p.pps.len(), 1);
        assert_eq!(p.pps[0].acc.as_deref(), Some(&[-1_000_000_000_000, 2][..]));
    }

    /// The counts offset by offset, expanded: what the runs must add up to.
    fn expanded(acc: &[i64]) -> Vec<i64> {
        runs(acc)
            .flat_map(|(n, v)| std::iter::repeat_n(v, n as usize))
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2048, failure_persistence: None, ..Default::default()
        })]

        /// Added run by run, two arrays give the offset-by-offset sums of their expansions,
        /// encoded with no two neighbouring runs of one count.
        #[test]
        fn runs_add_as_their_offsets_do(
            a in proptest::collection::vec(-5i64..4, 0..12),
            b in proptest::collection::vec(-5i64..4, 0..12),
        ) {
            // Any entries: a negative one repeats the next, whatever it is (a negative count,
            // or none at the end: 0).
            let (x, y) = (expanded(&a), expanded(&b));
            let want: Vec<i64> = (0..x.len().max(y.len()))
                .map(|i| x.get(i).unwrap_or(&0).saturating_add(*y.get(i).unwrap_or(&0)))
                .collect();
            let sum = add_accesses(&a, &b);
            proptest::prop_assert_eq!(expanded(&sum), want);
            let counts: Vec<i64> = runs(&sum).map(|(_, v)| v).collect();
            proptest::prop_assert!(counts.windows(2).all(|w| w[0] != w[1]), "{:?}", sum);
            proptest::prop_assert_eq!(&*add_accesses(&sum, &[]), &*sum, "written as read");
        }
    }
}
