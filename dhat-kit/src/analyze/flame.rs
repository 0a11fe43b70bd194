//! Flame graphs: each program point's stack, outermost frame first, weighted by one figure.
//!
//! One fold serves the folded stacks, the SVG flame graph and the exports (pprof, speedscope):
//! [`Fold`] maps each frame-table entry to a key (its function, or its code location), sorts the
//! program points by their stacks of keys, and walks them in that order. Identical stacks are then
//! neighbours, and a call-tree node is a run of neighbours, so stacks are added up (and, for a
//! graph, the nodes too narrow to be drawn are cut away) with no text built until a line is written.
//! Its memory is 4 bytes per program point (20 while sorting) and a few per frame-table entry.

use super::Error;
use super::Metric;
use crate::profile::{Frame, Profile, ProgramPoint};

/// What makes two frames the same in a [`Fold`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FoldBy {
    /// The function's name (`;` in it becomes `:`): a flame graph's frames. A copy the compiler
    /// specialised or split (`app::fill(int, int) [clone .constprop.0]`, C's
    /// `dup_key.constprop.0`) is the function it was made from.
    #[default]
    Function,
    /// The code location: function, file (or object) and line, without the address; except
    /// for a frame without a symbol (`0x10C785: ??? (in /usr/bin/ls)`), whose address is all
    /// that tells it from the other unknown code of its binary, so is part of its key.
    Location,
    /// The function and its file (or object), without line or address: one frame per function,
    /// as profilers that key frames by function show it (speedscope's sandwich view lists each
    /// function once); a copy the compiler specialised or split is its function, as in
    /// [`FoldBy::Function`]. A frame without a symbol is one per address, as in
    /// [`FoldBy::Location`].
    FunctionInFile,
}

/// The program points of a profile grouped by stack, in a stable order, for folded stacks, flame
/// graphs and exports.
///
/// Frames are replaced by keys (see [`FoldBy`]); a key's number follows the order of its text, so
/// the stacks come out sorted frame by frame. `[root]` (entry 0) is left out of stacks; a stack
/// with nothing else is `[root]` alone. Program points whose figures are all 0 are left out.
///
/// # Examples
///
/// ```
/// use dhat_kit::analyze::{Fold, FoldBy, Metric};
/// let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated",
///   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
///   "pps":[{"tb":30,"tbk":1,"fs":[1,2]},{"tb":12,"tbk":2,"fs":[2]},{"tb":8,"tbk":1,"fs":[2]}],
///   "ftbl":["[root]","0x1: app::parse (src/p.rs:3:1)","0x2: app::main (src/main.rs:9:5)"]}"#;
/// let p = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
/// let fold = Fold::new(&p, FoldBy::Function, &[Metric::TotalBytes, Metric::TotalBlocks]);
/// let mut stacks = Vec::new();
/// fold.for_each(0, |keys, values| {
///     let names: Vec<&str> = keys.iter().map(|&k| fold.name(k)).collect();
///     stacks.push((names.join(";"), values.to_vec()));
/// });
/// assert_eq!(stacks, [
///     ("app::main".to_owned(), vec![20, 3]),
///     ("app::main;app::parse".to_owned(), vec![30, 1]),
/// ]);
/// # Ok::<(), dhat_kit::profile::ProfileError>(())
/// ```
#[derive(Debug)]
pub struct Fold<'p> {
    profile: &'p Profile,
    by: FoldBy,
    metrics: Vec<Metric>,
    /// Frame-table index to key; [`NONE`] for `[root]`.
    key: Vec<u32>,
    /// Key to its text (function name) and a frame-table entry that has it.
    names: Vec<(Box<str>, u32)>,
    /// The key of `[root]`, for a stack with no other frame.
    root: u32,
    /// Indices of the program points kept, sorted by their stacks of keys.
    order: Vec<u32>,
}

const NONE: u32 = u32::MAX;

/// A stack a cut fold keeps: its keys and its own figures.
type KeptStack = (Box<[u32]>, Box<[u64]>);

impl<'p> Fold<'p> {
    /// Folds `profile` by `by`, carrying the figures `metrics` (in that order) for each stack.
    /// The first metric is the one a graph is cut by (see [`Fold::for_each`]).
    #[must_use]
    pub fn new(profile: &'p Profile, by: FoldBy, metrics: &[Metric]) -> Fold<'p> {
        // Key texts, deduplicated, then numbered in their sorted order.
        let texts: Vec<String> = profile
            .ftbl
            .iter()
            .map(|raw| key_text(Frame::parse(raw), by))
            .collect();
        let mut distinct: Vec<u32> = (0..texts.len() as u32).collect();
        distinct
            .sort_unstable_by(|&a, &b| texts[a as usize].cmp(&texts[b as usize]).then(a.cmp(&b)));
        let mut key = vec![NONE; texts.len()];
        let mut names: Vec<(Box<str>, u32)> = Vec::new();
        for &i in &distinct {
            let text = &texts[i as usize];
            if names.last().is_none_or(|(last, _)| **last != **text) {
                names.push((text.as_str().into(), i));
            }
            key[i as usize] = (names.len() - 1) as u32;
        }
        drop(texts);
        let root = key.first().copied().unwrap_or(0);
        if let Some(k) = key.first_mut() {
            *k = NONE;
        }
        if names.is_empty() {
            names.push(("[root]".into(), 0));
        }
        let mut fold = Fold {
            profile,
            by,
            metrics: metrics.to_vec(),
            key,
            names,
            root,
            order: Vec::new(),
        };
        // Sorted first by the outermost three keys packed in a u64 (21 bits each: a frame table
        // has fewer than two million entries in practice; beyond, the packing only orders less
        // and the full comparison decides), which settles most comparisons without reading the
        // stacks again; ties are compared whole.
        let mut keyed: Vec<(u64, u32)> = Vec::new();
        let mut cur = Vec::with_capacity(64);
        for (i, pp) in profile.pps.iter().enumerate() {
            if metrics.iter().any(|m| m.of(pp) != 0) {
                fold.stack(&pp.fs, &mut cur);
                keyed.push((fold.prefix(&cur), i as u32));
            }
        }
        keyed.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                fold.compare(&profile.pps[a.1 as usize].fs, &profile.pps[b.1 as usize].fs)
            })
        });
        fold.order = keyed.iter().map(|&(_, i)| i).collect();
        fold
    }

    /// The profile folded.
    #[must_use]
    pub fn profile(&self) -> &'p Profile {
        self.profile
    }

    /// What the keys stand for.
    #[must_use]
    pub fn by(&self) -> FoldBy {
        self.by
    }

    /// The figures carried, in the order of the values [`Fold::for_each`] passes.
    #[must_use]
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// The number of keys (every key is below it).
    #[must_use]
    pub fn keys(&self) -> usize {
        self.names.len()
    }

    /// The text of `key`: the function name (with `;` as `:`, and a control character such as a
    /// newline as its escape, `\n`), the location (`function (file:line)`;
    /// `??? (/usr/bin/ls) at 0x10C785` for a frame without a symbol) or the function and file
    /// (`function (file)`).
    ///
    /// # Panics
    ///
    /// If `key` is not below [`Fold::keys`].
    #[must_use]
    pub fn name(&self, key: u32) -> &str {
        &self.names[key as usize].0
    }

    /// A frame that has `key`, parsed (its function, file and line): one of them, where several
    /// have it (a function's copies, keyed by function, are its frames too).
    ///
    /// # Panics
    ///
    /// If `key` is not below [`Fold::keys`].
    #[must_use]
    pub fn frame(&self, key: u32) -> Frame<'p> {
        let raw = self
            .profile
            .ftbl
            .get(self.names[key as usize].1 as usize)
            .map_or("[root]", |s| s);
        Frame::parse(raw)
    }

    /// The keys of the stack `fs` into `out`, outermost first, without `[root]` (or `[root]`
    /// alone).
    fn stack(&self, fs: &[u32], out: &mut Vec<u32>) {
        out.clear();
        for &f in fs.iter().rev() {
            let k = self.key.get(f as usize).copied().unwrap_or(NONE);
            if k != NONE {
                out.push(k);
            }
        }
        if out.is_empty() {
            out.push(self.root);
        }
    }

    /// The outermost three keys of `keys` packed in a u64, in the order of [`Fold::compare`]:
    /// each key plus one in 21 bits (0 where the stack is shorter); a key too large for its field
    /// fills it and leaves the fields after it 0, so that packed order never contradicts the full
    /// comparison.
    fn prefix(&self, keys: &[u32]) -> u64 {
        const FULL: u64 = (1 << 21) - 1;
        let mut packed = 0;
        for n in 0..3 {
            let field = keys.get(n).map_or(0, |&k| (u64::from(k) + 1).min(FULL));
            packed |= field << (42 - 21 * n);
            if field == FULL || field == 0 {
                break;
            }
        }
        packed
    }

    /// The order of two stacks by their keys, outermost first, as [`Fold::stack`] gives them.
    fn compare(&self, a: &[u32], b: &[u32]) -> std::cmp::Ordering {
        let next = |fs: &[u32], i: &mut usize| -> Option<u32> {
            while *i > 0 {
                *i -= 1;
                let k = self.key.get(fs[*i] as usize).copied().unwrap_or(NONE);
                if k != NONE {
                    return Some(k);
                }
            }
            None
        };
        let (mut i, mut j) = (a.len(), b.len());
        let (mut ka, mut kb) = (next(a, &mut i), next(b, &mut j));
        if ka.is_none() {
            ka = Some(self.root);
        }
        if kb.is_none() {
            kb = Some(self.root);
        }
        loop {
            match (ka, kb) {
                (None, None) => return std::cmp::Ordering::Equal,
                (None, Some(_)) => return std::cmp::Ordering::Less,
                (Some(_), None) => return std::cmp::Ordering::Greater,
                (Some(x), Some(y)) if x != y => return x.cmp(&y),
                _ => {}
            }
            ka = next(a, &mut i);
            kb = next(b, &mut j);
        }
    }

    /// The kept program points in the order of their stacks, which is random in memory: each
    /// step asks the processor to fetch a point some places ahead, and the stack of a point a few
    /// places ahead (whose record has arrived by then), so their cache misses overlap the work.
    fn in_order(&self) -> impl Iterator<Item = &'p ProgramPoint> + '_ {
        self.in_order_from(0)
    }

    /// [`Fold::in_order`] from the `start`th point on.
    fn in_order_from(&self, start: usize) -> impl Iterator<Item = &'p ProgramPoint> + '_ {
        const POINT_AHEAD: usize = 16;
        const STACK_AHEAD: usize = 4;
        let pps: &'p [ProgramPoint] = &self.profile.pps;
        let start = start.min(self.order.len());
        self.order[start..].iter().enumerate().map(move |(n, &i)| {
            let n = start + n;
            if let Some(&j) = self.order.get(n + POINT_AHEAD) {
                prefetch(pps.as_ptr().wrapping_add(j as usize));
            }
            if let Some(&j) = self.order.get(n + STACK_AHEAD) {
                prefetch(pps[j as usize].fs.as_ptr());
            }
            &pps[i as usize]
        })
    }

    /// The sum of each metric over the kept program points.
    #[must_use]
    pub fn totals(&self) -> Vec<u64> {
        let mut totals = vec![0u64; self.metrics.len()];
        for pp in self.in_order() {
            add(&mut totals, &self.metrics, pp);
        }
        totals
    }

    /// Calls `visit` with each stack (keys, outermost first) and its figures (one per metric),
    /// stacks in sorted order, each once.
    ///
    /// With `min_width` above 0, a call-tree node whose first figure is below `min_width` is cut
    /// away: its figures go to its parent's own (a stack ending at the parent), as a flame graph
    /// that does not draw it would show it. The outermost frames are always kept, so the figures
    /// still add up to the profile's totals.
    pub fn for_each(&self, min_width: u64, mut visit: impl FnMut(&[u32], &[u64])) {
        let m = self.metrics.len();
        let mut cur: Vec<u32> = Vec::with_capacity(64);
        let mut values = vec![0u64; m];
        if min_width == 0 {
            // Every node is kept: add up runs of identical stacks.
            return self.runs(None, 0..self.order.len(), visit);
        }
        // The open path of the call tree, with each node's total and own figures (flat, m per
        // depth); a node is closed when the next stack leaves it.
        let mut path: Vec<u32> = Vec::with_capacity(64);
        let mut total: Vec<u64> = Vec::new();
        let mut own: Vec<u64> = Vec::new();
        let mut kept: Vec<KeptStack> = Vec::new();
        let mut close = |path: &mut Vec<u32>, total: &mut Vec<u64>, own: &mut Vec<u64>| {
            let d = path.len();
            let (t, o) = (&total[(d - 1) * m..], &own[(d - 1) * m..]);
            if d == 1 || t[0] >= min_width {
                if o.iter().any(|&v| v != 0) {
                    kept.push((path.as_slice().into(), o.into()));
                }
            } else {
                for j in 0..m {
                    own[(d - 2) * m + j] =
                        own[(d - 2) * m + j].saturating_add(total[(d - 1) * m + j]);
                }
            }
            if d > 1 {
                for j in 0..m {
                    total[(d - 2) * m + j] =
                        total[(d - 2) * m + j].saturating_add(total[(d - 1) * m + j]);
                }
            }
            path.pop();
            total.truncate((d - 1) * m);
            own.truncate((d - 1) * m);
        };
        for pp in self.in_order() {
            self.stack(&pp.fs, &mut cur);
            let common = path.iter().zip(&cur).take_while(|(a, b)| a == b).count();
            while path.len() > common {
                close(&mut path, &mut total, &mut own);
            }
            for &k in &cur[common..] {
                path.push(k);
                total.extend(std::iter::repeat_n(0, m));
                own.extend(std::iter::repeat_n(0, m));
            }
            // The deepest node takes the figures; a node's total goes to its parent's as it
            // closes.
            values.fill(0);
            add(&mut values, &self.metrics, pp);
            let last = (path.len() - 1) * m;
            for j in 0..m {
                total[last + j] = total[last + j].saturating_add(values[j]);
                own[last + j] = own[last + j].saturating_add(values[j]);
            }
        }
        while !path.is_empty() {
            close(&mut path, &mut total, &mut own);
        }
        kept.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (keys, values) in &kept {
            visit(keys, values);
        }
    }

    /// The number of program points kept (those with a figure not 0): the positions of the
    /// sorted walk, which [`Fold::for_each_nonzero_in`] walks part of.
    #[must_use]
    pub fn points(&self) -> usize {
        self.order.len()
    }

    /// [`Fold::for_each`] with `min_width` 0, restricted to the program points whose figure
    /// `metric` (an index into [`Fold::metrics`]) is not 0: each stack whose figure `metric` is
    /// not 0, in sorted order, with the figures of those points only. The stacks of the other
    /// points are never built, so a walk for a figure most points lack (bytes at t-end) is quick.
    ///
    /// # Panics
    ///
    /// If `metric` is not below the number of metrics.
    pub fn for_each_nonzero(&self, metric: usize, visit: impl FnMut(&[u32], &[u64])) {
        assert!(metric < self.metrics.len(), "no metric {metric}");
        self.runs(Some(metric), 0..self.order.len(), visit);
    }

    /// [`Fold::for_each_nonzero`] over a part of the walk: the stacks whose first program point
    /// (of those it walks) is at a position in `positions` (of 0 to [`Fold::points`]), each with
    /// the figures of all the points it walks for that stack, some of which may be after the
    /// part. Walks of consecutive parts visit the stacks of the whole walk once each, in order,
    /// so parts can be walked by different threads and their output joined.
    ///
    /// # Panics
    ///
    /// If `metric` is not below the number of metrics.
    pub fn for_each_nonzero_in(
        &self,
        metric: usize,
        positions: std::ops::Range<usize>,
        visit: impl FnMut(&[u32], &[u64]),
    ) {
        assert!(metric < self.metrics.len(), "no metric {metric}");
        self.runs(Some(metric), positions, visit);
    }

    /// Adds up runs of identical stacks (of the points whose figure `only` is not 0, if given)
    /// that start at a position in `part`, and calls `visit` with each.
    fn runs(
        &self,
        only: Option<usize>,
        part: std::ops::Range<usize>,
        mut visit: impl FnMut(&[u32], &[u64]),
    ) {
        let only = only.map(|j| self.metrics[j]);
        let walked = |pp: &ProgramPoint| only.is_none_or(|metric| metric.of(pp) != 0);
        let end = part.end.min(self.order.len());
        let start = part.start.min(end);
        let mut cur: Vec<u32> = Vec::with_capacity(64);
        let mut run: Vec<u32> = Vec::with_capacity(64);
        let mut sums = vec![0u64; self.metrics.len()];
        // The stack of the last point walked before the part: the points of the same stack at the
        // part's start belong to the run the part before it visits.
        let pps = &self.profile.pps;
        let mut before: Vec<u32> = Vec::new();
        if let Some(&i) = self.order[..start]
            .iter()
            .rev()
            .find(|&&i| walked(&pps[i as usize]))
        {
            self.stack(&pps[i as usize].fs, &mut before);
        }
        // A run that starts in the part goes on past its end for as long as the stack is the same.
        for (pos, pp) in (start..).zip(self.in_order_from(start)) {
            if !walked(pp) {
                continue;
            }
            self.stack(&pp.fs, &mut cur);
            if !before.is_empty() {
                if cur == before {
                    continue;
                }
                before.clear();
            }
            if cur != run {
                if pos >= end {
                    break;
                }
                if !run.is_empty() {
                    visit(&run, &sums);
                }
                std::mem::swap(&mut run, &mut cur);
                sums.fill(0);
            }
            add(&mut sums, &self.metrics, pp);
        }
        if !run.is_empty() {
            visit(&run, &sums);
        }
    }

    /// Calls `visit` with each kept program point's stack (keys, outermost first) and figures,
    /// in the profile's order: neither sorted nor added up, but read from memory in order, so
    /// much quicker than a sorted walk, for what needs no order (counts of the keys' uses).
    pub fn for_each_point(&self, mut visit: impl FnMut(&[u32], &[u64])) {
        let mut cur: Vec<u32> = Vec::with_capacity(64);
        let mut values = vec![0u64; self.metrics.len()];
        let pps = &self.profile.pps;
        for (n, pp) in pps.iter().enumerate() {
            // The points are in order, their stacks (allocated apart) not quite: fetched ahead.
            if let Some(ahead) = pps.get(n + 8) {
                prefetch(ahead.fs.as_ptr());
            }
            values.fill(0);
            add(&mut values, &self.metrics, pp);
            if values.iter().all(|&v| v == 0) {
                continue;
            }
            self.stack(&pp.fs, &mut cur);
            visit(&cur, &values);
        }
    }

    /// Calls `visit` with each kept program point in the order of the sorted walk, with its stack
    /// (keys, outermost first) and figures: the points [`Fold::for_each`] adds up, one at a time,
    /// those of one stack next to each other. For a writer that needs a point's own frames (their
    /// addresses) beside its keys.
    #[cfg_attr(not(feature = "cli"), allow(dead_code))] // pprof is the command's
    pub(crate) fn for_each_sorted_point(
        &self,
        mut visit: impl FnMut(&[u32], &'p ProgramPoint, &[u64]),
    ) {
        let mut cur: Vec<u32> = Vec::with_capacity(64);
        let mut values = vec![0u64; self.metrics.len()];
        for pp in self.in_order() {
            self.stack(&pp.fs, &mut cur);
            values.fill(0);
            add(&mut values, &self.metrics, pp);
            visit(&cur, pp, &values);
        }
    }

    /// Whether the frame-table entry `f` is in the stacks (not `[root]`, and in the table).
    #[cfg_attr(not(feature = "cli"), allow(dead_code))] // pprof is the command's
    pub(crate) fn is_kept(&self, f: u32) -> bool {
        self.key_of(f).is_some()
    }

    /// The key of the frame-table entry `f`, if it is in the stacks.
    #[cfg_attr(not(feature = "cli"), allow(dead_code))] // pprof is the command's
    pub(crate) fn key_of(&self, f: u32) -> Option<u32> {
        self.key.get(f as usize).copied().filter(|&k| k != NONE)
    }

    /// Writes the folded stacks (`a;b;c 42` lines, see [`folded`]) of the first metric to `out`,
    /// cutting nodes below `min_width` as [`Fold::for_each`] does. Returns the number of lines.
    ///
    /// # Errors
    ///
    /// The I/O error of `out`.
    pub fn write_folded(
        &self,
        min_width: u64,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<u64> {
        let mut lines = 0;
        let mut result = Ok(());
        let mut line: Vec<u8> = Vec::with_capacity(1024);
        self.for_each(min_width, |keys, values| {
            if result.is_err() || values[0] == 0 {
                return;
            }
            line.clear();
            for (n, &k) in keys.iter().enumerate() {
                if n > 0 {
                    line.push(b';');
                }
                line.extend_from_slice(self.name(k).as_bytes());
            }
            line.push(b' ');
            crate::export::push_decimal(&mut line, values[0]);
            line.push(b'\n');
            lines += 1;
            result = out.write_all(&line);
        });
        result.map(|()| lines)
    }
}

/// A frame's key text: its function itself (`;` as `:` and control characters escaped, for
/// folded stacks, one line each; see [`no_trailing_count`]), or its location. Made once per
/// frame-table entry.
///
/// Keyed by function, a copy the compiler specialised or split (`app::fill(int, int) [clone
/// .constprop.0]`, C's `dup_key.constprop.0`) is the function it was made from, as in `dhat-kit
/// top --group-by function`; keyed by location, it is code of its own (at its own addresses).
fn key_text(f: Frame<'_>, by: FoldBy) -> String {
    let function = super::summary::stable_name(match by {
        FoldBy::Location => f.function,
        FoldBy::Function | FoldBy::FunctionInFile => f.function_itself(),
    });
    match by {
        // Code without symbols is one function per binary, as `top --group-by function` names
        // it (`??? (in libstdc++.so.6)`): the loader's and a library's unknown code were one
        // `???`.
        FoldBy::Function if f.is_unsymbolised() => {
            let name = match f.object {
                Some(obj) => format!("??? (in {})", obj.rsplit('/').next().unwrap_or(obj)),
                None => "???".to_owned(),
            };
            no_trailing_count(super::one_line(&name.replace(';', ":")).into_owned())
        }
        FoldBy::Function => {
            no_trailing_count(super::one_line(&function.replace(';', ":")).into_owned())
        }
        FoldBy::Location | FoldBy::FunctionInFile => {
            let line = f.line.filter(|_| by == FoldBy::Location);
            let mut key = match (f.file.or(f.object), line) {
                (Some(file), Some(line)) => format!("{function} ({file}:{line})"),
                (Some(file), None) => format!("{function} ({file})"),
                _ => function.to_owned(),
            };
            if let Some(address) = f.address.filter(|_| f.is_unsymbolised()) {
                key.push_str(" at ");
                key.push_str(address);
            }
            key
        }
    }
}

/// A function name ending in a space and a number (`f 12`, `v 1.5`) with that space made a
/// no-break space (U+00A0, drawn the same): at the end of a folded line, after the stack's own
/// count, the number would read as a second count (a differential line, in inferno and
/// flamegraph.pl), and the frame would be drawn without it and with a wrong figure.
fn no_trailing_count(mut name: String) -> String {
    if let Some(space) = name.rfind(' ') {
        let tail = &name[space + 1..];
        if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit() || c == '.') {
            name.replace_range(space..=space, "\u{a0}");
        }
    }
    name
}

/// Asks the processor to bring the cache line at `p` in; a hint that reads nothing and never
/// faults, whatever `p` is.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` only hints the cache; it does not dereference `p` (any address is
    // allowed, none faults), and SSE, which it needs, is part of every x86_64 target.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

fn add(sums: &mut [u64], metrics: &[Metric], pp: &ProgramPoint) {
    for (s, m) in sums.iter_mut().zip(metrics) {
        *s = s.saturating_add(m.of(pp));
    }
}

/// The program points of `profile` as folded stacks (`main;parse;alloc::vec::Vec::with_capacity 1942`):
/// frames outermost first, by function name (`;` in a name becomes `:`, a newline or other control
/// character its escape, `\n`, so that a stack stays one line; a copy the compiler specialised or
/// split, `app::fill(int, int) [clone .constprop.0]`, named by its function), weighted by `metric`;
/// points whose weight is 0 are left out, identical stacks are added up, and the lines are sorted
/// frame by frame (a caller before its callees).
///
/// For a large profile, [`Fold::write_folded`] writes the same lines without holding them (it
/// checks no metric: a figure the profile lacks writes no line there).
///
/// # Examples
///
/// ```
/// let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated",
///   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
///   "pps":[{"tb":30,"tbk":1,"fs":[1,2]},{"tb":12,"tbk":1,"fs":[2]}],
///   "ftbl":["[root]","0x1: app::parse (src/p.rs:3:1)","0x2: app::main (src/main.rs:9:5)"]}"#;
/// let p = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
/// use dhat_kit::analyze::Metric;
/// let lines = dhat_kit::analyze::folded(&p, Metric::TotalBytes)?;
/// assert_eq!(lines, ["app::main 12", "app::main;app::parse 30"]);
/// // An ad-hoc profile has no block lifetimes, hence no figure at the end.
/// assert!(dhat_kit::analyze::folded(&p, Metric::EndBytes).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`Error::Metric`] when the profile lacks what `metric` needs ([`Metric::check`]): an empty
/// list would read as a profile with nothing in it.
pub fn folded(profile: &Profile, metric: Metric) -> Result<Vec<String>, Error> {
    metric.check(profile)?;
    let fold = Fold::new(profile, FoldBy::Function, &[metric]);
    let mut out = Vec::new();
    // Writing to a vector fails only when memory runs out, which aborts first.
    let _ = fold.write_folded(0, &mut out);
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// The narrowest node inferno draws with `opts`: its `min_width` is a percentage of the total.
/// Rounded down, so that the cut never drops a frame inferno would draw.
#[cfg(feature = "cli")]
fn min_width(total: u64, opts: &inferno::flamegraph::Options<'_>) -> u64 {
    (total as f64 * opts.min_width / 100.0).floor() as u64
}

/// The default title of `profile`'s flame graph of `figure`: `"{name}: {figure}"`, where a
/// sampled profile's also says that its sites are estimated from samples, as each of its tables
/// does. The command's `flamegraph` and the HTML report both title their graphs with it.
///
/// # Examples
///
/// ```
/// use dhat_kit::analyze::flame_title;
/// let json = |mode: &str| format!(r#"{{"dhatFileVersion":2,"mode":"{mode}","verb":"Allocated",
///   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
///   "pps":[{{"tb":30,"tbk":1,"fs":[1]}}],"ftbl":["[root]","0x1: app::f (src/f.rs:1:1)"]}}"#);
/// let heap = dhat_kit::profile::from_slice(json("rust-heap").as_bytes(), "heap.json")?;
/// assert_eq!(flame_title("heap.json", "total bytes", &heap), "heap.json: total bytes");
/// let sampled = json(dhat_kit::profile::SAMPLED_MODE);
/// let sampled = dhat_kit::profile::from_slice(sampled.as_bytes(), "s.json")?;
/// assert_eq!(
///     flame_title("s.json", "total bytes", &sampled),
///     "s.json: total bytes (sites estimated from samples)"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn flame_title(name: &str, figure: &str, profile: &Profile) -> String {
    if profile.mode == crate::profile::SAMPLED_MODE {
        format!("{name}: {figure} (sites estimated from samples)")
    } else {
        format!("{name}: {figure}")
    }
}

/// Renders `profile` as an interactive SVG flame graph of `metric` by call stack (with
/// inferno), titled `title`, into `out`.
///
/// The stacks are folded by frame ([`Fold`]) and the nodes narrower than the narrowest frame
/// inferno draws (0.01% of the total) are cut before any text is built, so
/// the graph of a profile of millions of program points takes little more memory than the
/// profile.
///
/// # Errors
///
/// [`Error`] if the profile does not have the figure, or inferno or `out` fails;
/// [`Error::Range`] if the figure adds up past 2^53, which inferno, drawing its counts as
/// doubles, would show as other figures. A profile with nothing to draw (every point's figure
/// is 0) gives a graph that says so.
///
/// # Examples
///
/// ```
/// use dhat_kit::analyze::{flamegraph_svg, Metric};
/// let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated",
///   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
///   "pps":[{"tb":30,"tbk":1,"fs":[1,2]},{"tb":12,"tbk":1,"fs":[2]}],
///   "ftbl":["[root]","0x1: app::parse (src/p.rs:3:1)","0x2: app::main (src/main.rs:9:5)"]}"#;
/// let p = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
/// let mut svg = Vec::new();
/// flamegraph_svg(&p, Metric::TotalBytes, "app.json: total bytes", &mut svg)?;
/// let svg = String::from_utf8(svg)?;
/// assert!(svg.contains("<svg") && svg.contains("app.json: total bytes"));
/// assert!(svg.contains("app::parse (30 bytes, 71.43%)"));
///
/// // A figure the profile lacks is an error; one that is 0 everywhere, a graph that says so.
/// assert!(flamegraph_svg(&p, Metric::PeakBytes, "t-gmax", Vec::new()).is_err());
/// let zero = json.replace(r#""tb":30"#, r#""tb":0"#).replace(r#""tb":12"#, r#""tb":0"#);
/// let p = dhat_kit::profile::from_slice(zero.as_bytes(), "zero.json")?;
/// let mut svg = Vec::new();
/// flamegraph_svg(&p, Metric::TotalBytes, "zero.json", &mut svg)?;
/// assert!(String::from_utf8(svg)?.contains("nothing to draw: every program point's"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "cli")]
pub fn flamegraph_svg(
    profile: &Profile,
    metric: Metric,
    title: &str,
    out: impl std::io::Write,
) -> Result<(), Error> {
    metric.check(profile)?;
    // The title is the profile's file name by default: escaped as names are, since XML forbids
    // control characters even as references.
    let title = &super::one_line(title);
    let fold = Fold::new(profile, FoldBy::Function, &[metric]);
    let total = fold.totals()[0];
    if total == 0 {
        return empty_svg(title, metric, out);
    }
    // Every frame's figure is at most the total, so a total within range keeps every title
    // exact.
    if total > 1 << 53 {
        return Err(Error::Range {
            metric,
            figure: metric.name_in(profile),
            total,
        });
    }
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = title.to_string();
    opts.count_name = if metric.is_blocks() {
        profile.blocks_plural().to_owned()
    } else {
        profile.unit_plural().to_owned()
    };
    opts.name_type = "Function:".to_owned();
    opts.colors =
        inferno::flamegraph::color::Palette::Basic(inferno::flamegraph::color::BasicPalette::Mem);
    let mut text = Vec::new();
    fold.write_folded(min_width(total, &opts), &mut text)
        .map_err(Error::output("fold the stacks"))?;
    drop(fold);
    let text = String::from_utf8_lossy(&text);
    inferno::flamegraph::from_lines(&mut opts, text.lines(), out)
        .map_err(Error::output("draw the flame graph"))
}

/// The graph of a profile whose every point weighs 0: the title and a line that says so.
#[cfg(feature = "cli")]
fn empty_svg(title: &str, metric: Metric, mut out: impl std::io::Write) -> Result<(), Error> {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    write!(
        out,
        "<?xml version=\"1.0\" standalone=\"no\"?>\n\
         <svg version=\"1.1\" width=\"1200\" height=\"90\" viewBox=\"0 0 1200 90\" \
         xmlns=\"http://www.w3.org/2000/svg\">\n\
         <text x=\"600\" y=\"30\" text-anchor=\"middle\" font-size=\"17\" \
         font-family=\"Verdana\">{}</text>\n\
         <text x=\"600\" y=\"60\" text-anchor=\"middle\" font-size=\"12\" \
         font-family=\"Verdana\">nothing to draw: every program point's {metric} is 0</text>\n\
         </svg>\n",
        escape(title)
    )
    .map_err(Error::output("write the flame graph"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::profile::from_slice;

    /// A deterministic xorshift generator: `next(n)` is in `0..n`. For the tests' random profiles.
    pub(crate) fn rng(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            seed.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
        }
    }

    fn profile(pps: &str, ftbl: &str) -> Profile {
        let json = format!(
            r#"{{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,"bkacc":false,
            "tu":"µs","Mtu":"s","cmd":"t","pid":1,"te":9,"pps":[{pps}],"ftbl":["[root]",{ftbl}]}}"#
        );
        from_slice(json.as_bytes(), "t.json").unwrap()
    }

    /// A figure past 2^53, which inferno would draw as another (2^53 + 1 bytes titled 2^53,
    /// below the total's own 2^53 + 2), is refused, naming it, and nothing is drawn; 2^53 is
    /// exact and drawn, with its figure in the frame's title.
    #[cfg(feature = "cli")]
    #[test]
    fn a_figure_past_what_the_graph_draws_exactly_is_refused() {
        let ftbl = r#""0x1: app::f (src/f.rs:1:1)","0x2: app::g (src/g.rs:1:1)""#;
        let past = profile(
            &format!(
                r#"{{"tb":{},"tbk":1,"fs":[1]}},{{"tb":1,"tbk":1,"fs":[2]}}"#,
                1u64 << 53
            ),
            ftbl,
        );
        let mut svg = Vec::new();
        let e = flamegraph_svg(&past, Metric::TotalBytes, "t", &mut svg).unwrap_err();
        assert!(
            matches!(e, Error::Range { metric: Metric::TotalBytes, total, .. } if total == (1 << 53) + 1),
            "{e:?}"
        );
        assert!(
            e.to_string().starts_with(
                "total-bytes adds up to 9007199254740993, above 9007199254740992, the largest \
                 figure the flame graph draws exactly"
            ),
            "{e}"
        );
        assert!(svg.is_empty());
        let at = profile(
            &format!(
                r#"{{"tb":{},"tbk":1,"fs":[1]}},{{"tb":1,"tbk":1,"fs":[2]}}"#,
                (1u64 << 53) - 1
            ),
            ftbl,
        );
        flamegraph_svg(&at, Metric::TotalBytes, "t", &mut svg).unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert!(
            svg.contains("app::f (9,007,199,254,740,991 bytes,"),
            "{svg}"
        );
    }

    /// An ad-hoc profile that names its units (`bsu`, `bksu`) is refused in them: its figure is
    /// `total-units`, as `top` heads it (the message said `total-bytes`).
    #[cfg(feature = "cli")]
    #[test]
    fn a_figure_past_what_the_graph_draws_is_named_in_the_profiles_units() {
        let json = format!(
            r#"{{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Occurred","bklt":false,
            "bkacc":false,"bu":"unit","bsu":"units","bksu":"events","tu":"µs","Mtu":"s",
            "cmd":"t","pid":1,"te":9,"pps":[{{"tb":{},"tbk":1,"fs":[1]}},
            {{"tb":1,"tbk":1,"fs":[1]}}],"ftbl":["[root]","0x1: app::f (src/f.rs:1:1)"]}}"#,
            u64::MAX / 2
        );
        let p = from_slice(json.as_bytes(), "t.json").unwrap();
        let e = flamegraph_svg(&p, Metric::TotalBytes, "t", Vec::new()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("total-units adds up to 9223372036854775808, above 9007199254740992"),
            "{e}"
        );
        // The report's "No flame graph:" says the same.
        let page = crate::report::html(&p, "t.json", None, &Default::default()).unwrap();
        assert!(
            page.contains(r#""flame_error":"total-units adds up to 9223372036854775808"#),
            "{page}"
        );
    }

    /// The folded lines the old text-keyed fold gave: one string per stack, added up, sorted.
    fn by_text(p: &Profile) -> Vec<String> {
        let mut stacks = std::collections::BTreeMap::<String, u64>::new();
        for pp in &p.pps {
            if pp.tb == 0 {
                continue;
            }
            let names: Vec<String> = pp
                .fs
                .iter()
                .rev()
                .filter(|&&f| f != 0)
                .map(|&f| {
                    let name = Frame::parse(&p.ftbl[f as usize]).function.replace(';', ":");
                    crate::analyze::one_line(&name).into_owned()
                })
                .collect();
            let line = if names.is_empty() {
                "[root]".to_owned()
            } else {
                names.join(";")
            };
            *stacks.entry(line).or_default() += pp.tb;
        }
        stacks
            .into_iter()
            .map(|(s, w)| format!("{s} {w}"))
            .collect()
    }

    #[test]
    fn same_function_at_two_addresses_is_one_frame() {
        let p = profile(
            r#"{"tb":5,"tbk":1,"fs":[1,3]},{"tb":7,"tbk":1,"fs":[2,3]},{"tb":0,"tbk":1,"fs":[1]},{"tb":4,"tbk":1,"fs":[]}"#,
            r#""0x1: a::f (a.rs:1:1)","0x2: a::f (a.rs:2:1)","0x3: a;main (m.rs:1:1)""#,
        );
        assert_eq!(
            folded(&p, Metric::TotalBytes).unwrap(),
            ["[root] 4", "a:main;a::f 12"]
        );
        assert_eq!(folded(&p, Metric::TotalBytes).unwrap(), by_text(&p));
        let by_loc = Fold::new(&p, FoldBy::Location, &[Metric::TotalBytes]);
        let mut lines = Vec::new();
        by_loc.write_folded(0, &mut lines).unwrap();
        assert_eq!(
            String::from_utf8(lines).unwrap(),
            "[root] 4\na;main (m.rs:1);a::f (a.rs:1) 5\na;main (m.rs:1);a::f (a.rs:2) 7\n"
        );
    }

    #[test]
    fn by_function_in_file_lines_are_one_frame_and_files_and_addresses_apart() {
        // main allocates from two lines; `f` is the name of functions of two files; two
        // frames without symbols are apart by their addresses.
        let p = profile(
            r#"{"tb":5,"tbk":1,"fs":[1,3]},{"tb":7,"tbk":1,"fs":[2,4]},{"tb":1,"tbk":1,"fs":[5,3]},
               {"tb":2,"tbk":1,"fs":[6,3]},{"tb":3,"tbk":1,"fs":[7,3]}"#,
            r#""0x1: f (a.rs:1:1)","0x2: f (a.rs:2:1)","0x3: main (m.rs:1:1)","0x4: main (m.rs:7:3)",
               "0x5: f (b.rs:1:1)","0x6: ??? (in /bin/x)","0x7: ??? (in /bin/x)""#,
        );
        let fold = Fold::new(&p, FoldBy::FunctionInFile, &[Metric::TotalBytes]);
        let mut lines = Vec::new();
        fold.write_folded(0, &mut lines).unwrap();
        assert_eq!(
            String::from_utf8(lines).unwrap(),
            "main (m.rs);??? (/bin/x) at 0x6 2\nmain (m.rs);??? (/bin/x) at 0x7 3\n\
             main (m.rs);f (a.rs) 12\nmain (m.rs);f (b.rs) 1\n"
        );
        // The locations' fold is as it was.
        let by_loc = Fold::new(&p, FoldBy::Location, &[Metric::TotalBytes]);
        assert_eq!(by_loc.keys(), 8);
    }

    #[test]
    fn a_copy_the_compiler_made_is_its_function() {
        // Valgrind's DHAT on `g++ -O2 -g` (tests/fixtures/src/clones.cpp): `fill_both` calls
        // `app::fill` and GCC's copy of it specialised for a constant; and `gcc -O2`'s copy of
        // C's `dup_key`, under `main` beside the function itself.
        let p = profile(
            r#"{"tb":256,"tbk":1,"fs":[1,2,3]},{"tb":64,"tbk":1,"fs":[4,2,3]},
               {"tb":5,"tbk":1,"fs":[5,3]},{"tb":7,"tbk":1,"fs":[6,3]}"#,
            r#""0x1091EF: app::fill(int, int) [clone .constprop.0] (clones.cpp:16)",
               "0x10932F: app::fill_both(int, int) (clones.cpp:37)","0x1090D1: main (clones.cpp:51)",
               "0x10922B: app::fill(int, int) (clones.cpp:16)",
               "0x109379: dup_key.constprop.0 (keys.c:27)","0x109400: dup_key (keys.c:27)""#,
        );
        assert_eq!(
            folded(&p, Metric::TotalBytes).unwrap(),
            [
                "main;app::fill_both(int, int);app::fill(int, int) 320",
                "main;dup_key 12"
            ]
        );
        let by_function = Fold::new(&p, FoldBy::FunctionInFile, &[Metric::TotalBytes]);
        let mut lines = Vec::new();
        by_function.write_folded(0, &mut lines).unwrap();
        assert_eq!(
            String::from_utf8(lines).unwrap(),
            "main (clones.cpp);app::fill_both(int, int) (clones.cpp);app::fill(int, int) (clones.cpp) 320\n\
             main (clones.cpp);dup_key (keys.c) 12\n"
        );
        // The copies are code of their own: their locations are apart.
        let by_loc = Fold::new(&p, FoldBy::Location, &[Metric::TotalBytes]);
        let mut lines = Vec::new();
        by_loc.write_folded(0, &mut lines).unwrap();
        let lines = String::from_utf8(lines).unwrap();
        assert_eq!(lines.lines().count(), 4, "{lines}");
        assert!(lines.contains("app::fill(int, int) [clone .constprop.0] (clones.cpp:16) 256"));
        assert!(lines.contains("dup_key.constprop.0 (keys.c:27) 5"));
    }

    #[test]
    fn unknown_code_at_two_addresses_is_two_locations_and_one_function() {
        // Three frames of a binary without symbols, one stack: not one location thrice, which
        // would read as recursion.
        let p = profile(
            r#"{"tb":5,"tbk":1,"fs":[1,2,3]},{"tb":7,"tbk":1,"fs":[4,3]}"#,
            r#""0x10C785: ??? (in /usr/bin/ls)","0x10A1F0: ??? (in /usr/bin/ls)",
               "0x10C785: ??? (in /usr/bin/ls)","0x20: ??? (in /usr/bin/ls)""#,
        );
        let by_loc = Fold::new(&p, FoldBy::Location, &[Metric::TotalBytes]);
        assert_eq!(by_loc.keys(), 4); // `[root]`, and the three addresses
        let mut stacks = Vec::new();
        by_loc.for_each(0, |keys, values| {
            let names: Vec<&str> = keys.iter().map(|&k| by_loc.name(k)).collect();
            let addresses: Vec<&str> = keys
                .iter()
                .map(|&k| by_loc.frame(k).address.unwrap())
                .collect();
            stacks.push((names.join(";"), addresses.join(";"), values[0]));
        });
        let s = |t: &str| t.to_owned();
        assert_eq!(
            stacks,
            [
                (
                    s(
                        "??? (/usr/bin/ls) at 0x10C785;??? (/usr/bin/ls) at 0x10A1F0;\
                       ??? (/usr/bin/ls) at 0x10C785"
                    ),
                    s("0x10C785;0x10A1F0;0x10C785"),
                    5
                ),
                (
                    s("??? (/usr/bin/ls) at 0x10C785;??? (/usr/bin/ls) at 0x20"),
                    s("0x10C785;0x20"),
                    7
                ),
            ]
        );
        // A flame graph's frames are functions: the unknown code is one per binary, as `top
        // --group-by function` names it.
        assert_eq!(
            folded(&p, Metric::TotalBytes).unwrap(),
            [
                "??? (in ls);??? (in ls) 7",
                "??? (in ls);??? (in ls);??? (in ls) 5"
            ]
        );
        // Two binaries' unknown code is two functions (the loader's and a library's were one).
        let two = profile(
            r#"{"tb":5,"tbk":1,"fs":[1,2]},{"tb":7,"tbk":1,"fs":[3,2]}"#,
            r#""0x401AB9F: ??? (in /usr/lib/ld-linux-x86-64.so.2)","0x1: main (m.c:3)",
               "0x49017B9: ??? (in /usr/lib/libstdc++.so.6.0.30)""#,
        );
        assert_eq!(
            folded(&two, Metric::TotalBytes).unwrap(),
            [
                "main;??? (in ld-linux-x86-64.so.2) 5",
                "main;??? (in libstdc++.so.6.0.30) 7"
            ]
        );
    }

    #[test]
    fn narrow_nodes_go_to_their_parent_and_totals_stay() {
        // main -> {big 100, small1 3, small2 2 -> deep 1}, other 1 (outermost: always kept).
        let p = profile(
            r#"{"tb":100,"tbk":1,"fs":[2,1]},{"tb":3,"tbk":1,"fs":[3,1]},{"tb":2,"tbk":1,"fs":[4,1]},
               {"tb":1,"tbk":1,"fs":[5,4,1]},{"tb":1,"tbk":1,"fs":[6]},{"tb":6,"tbk":1,"fs":[1]}"#,
            r#""main","big","small1","small2","deep","other""#,
        );
        let fold = Fold::new(
            &p,
            FoldBy::Function,
            &[Metric::TotalBytes, Metric::TotalBlocks],
        );
        let mut got = Vec::new();
        fold.for_each(4, |k, v| {
            let names: Vec<&str> = k.iter().map(|&k| fold.name(k)).collect();
            got.push((names.join(";"), v.to_vec()));
        });
        let s = |t: &str| t.to_owned();
        assert_eq!(
            got,
            [
                (s("main"), vec![12, 4]), // its own 6 and 1 block, small1 3, small2 2 + deep 1
                (s("main;big"), vec![100, 1]),
                (s("other"), vec![1, 1]),
            ]
        );
        assert_eq!(fold.totals(), [113, 6]);
        let mut all = Vec::new();
        fold.for_each(0, |_, v| all.push(v[0]));
        assert_eq!(all, [6, 100, 3, 2, 1, 1]); // main, big, small1, small2, small2;deep, other
    }

    /// The frames a flame graph draws: each `<title>` (name, figure and share), sorted.
    #[cfg(feature = "cli")]
    fn drawn(svg: &[u8]) -> Vec<String> {
        let svg = String::from_utf8_lossy(svg);
        let mut titles: Vec<String> = svg
            .split("<title>")
            .skip(1)
            .filter_map(|t| t.split_once("</title>").map(|(t, _)| t.to_owned()))
            .collect();
        titles.sort();
        titles
    }

    #[test]
    #[cfg(feature = "cli")]
    fn the_cut_graph_draws_what_inferno_draws_from_every_stack() {
        // 3,000 stacks of 1 to 6 frames out of 300 functions, mostly narrow, a few wide.
        let mut next = rng(0x9E37_79B9_7F4A_7C15u64);
        // Names of one length: inferno sorts its lines as text, which splits a frame's callees
        // when one name is another's prefix (`f1;f7` sorts after `f10`), in the full graph and
        // the cut one differently.
        let ftbl: Vec<String> = (1..=300)
            .map(|i| format!("\"0x{i:x}: f{i:03} (x.rs:{i})\""))
            .collect();
        let pps: Vec<String> = (0..3000)
            .map(|n| {
                let depth = 1 + next(6);
                let fs: Vec<String> = (0..depth)
                    .map(|d| (1 + next(if d + 1 == depth { 4 } else { 300 })).to_string())
                    .collect();
                let tb = if n % 500 == 0 { 200_000 } else { 1 + next(60) };
                format!(r#"{{"tb":{tb},"tbk":1,"fs":[{}]}}"#, fs.join(","))
            })
            .collect();
        let p = profile(&pps.join(","), &ftbl.join(","));
        let mut cut = Vec::new();
        flamegraph_svg(&p, Metric::TotalBytes, "t", &mut cut).unwrap();
        let lines = folded(&p, Metric::TotalBytes).unwrap();
        let mut opts = inferno::flamegraph::Options::default();
        opts.title = "t".to_owned();
        opts.count_name = "bytes".to_owned();
        opts.name_type = "Function:".to_owned();
        opts.colors = inferno::flamegraph::color::Palette::Basic(
            inferno::flamegraph::color::BasicPalette::Mem,
        );
        let mut full = Vec::new();
        inferno::flamegraph::from_lines(&mut opts, lines.iter().map(String::as_str), &mut full)
            .unwrap();
        let (cut, full) = (drawn(&cut), drawn(&full));
        assert!(full.len() > 50, "{}", full.len()); // a graph of many frames
        assert_eq!(cut, full);
        // The cut left most of the 3,000 stacks out of the text inferno was given.
        let fold = Fold::new(&p, FoldBy::Function, &[Metric::TotalBytes]);
        let total = fold.totals()[0];
        let min = min_width(total, &opts);
        let mut kept = Vec::new();
        fold.write_folded(min, &mut kept).unwrap();
        let kept = String::from_utf8(kept).unwrap();
        assert!(
            kept.lines().count() * 4 < lines.len(),
            "{} of {}",
            kept.lines().count(),
            lines.len()
        );
    }

    /// Names with a newline, a carriage return and a tab, under `main`.
    fn control_characters() -> Profile {
        profile(
            r#"{"tb":400,"tbk":1,"fs":[1,3]},{"tb":100,"tbk":1,"fs":[2,3]},
               {"tb":7,"tbk":1,"fs":[4,3]}"#,
            r#""0x1: app::new\nline (src/n.rs:4:5)","0x2: app::cr\r\nx (src/c.rs:1:1)",
               "0x3: main (src/main.rs:9:1)","0x4: app::tab\there x (src/t.rs:1:1)""#,
        )
    }

    #[test]
    fn a_name_with_a_newline_keeps_its_stack_on_one_line() {
        let p = control_characters();
        assert_eq!(
            folded(&p, Metric::TotalBytes).unwrap(),
            [
                r"main;app::cr\r\nx 100",
                r"main;app::new\nline 400",
                r"main;app::tab\there x 7",
            ]
        );
        let mut out = Vec::new();
        let fold = Fold::new(&p, FoldBy::Function, &[Metric::TotalBytes]);
        assert_eq!(fold.write_folded(0, &mut out).unwrap(), 3);
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 3);
    }

    #[test]
    #[cfg(feature = "cli")]
    fn a_name_with_a_newline_is_drawn_with_its_figure() {
        let mut svg = Vec::new();
        flamegraph_svg(&control_characters(), Metric::TotalBytes, "t", &mut svg).unwrap();
        let titles = drawn(&svg);
        for want in [
            "main (507 bytes, 100.00%)",
            r"app::new\nline (400 bytes, 78.90%)",
            r"app::cr\r\nx (100 bytes, 19.72%)",
            r"app::tab\there x (7 bytes, 1.38%)",
        ] {
            assert!(titles.iter().any(|t| t == want), "{want}: {titles:?}");
        }
    }

    #[test]
    fn a_name_ending_in_a_number_keeps_its_number_and_its_figure() {
        // The leaf `app::f 12` (no allocator frame below it): its line would end `f 12 400`.
        let p = profile(
            r#"{"tb":400,"tbk":1,"fs":[1,3]},{"tb":100,"tbk":1,"fs":[2,3]}"#,
            r#""0x1: app::f 12 (src/f.rs:1:1)","0x2: app::g 1.5x (src/g.rs:1:1)",
               "0x3: main (src/main.rs:9:1)""#,
        );
        assert_eq!(
            folded(&p, Metric::TotalBytes).unwrap(),
            ["main;app::f\u{a0}12 400", "main;app::g 1.5x 100"]
        );
        #[cfg(feature = "cli")]
        {
            let mut svg = Vec::new();
            flamegraph_svg(&p, Metric::TotalBytes, "t", &mut svg).unwrap();
            let titles = drawn(&svg);
            for want in [
                "app::f\u{a0}12 (400 bytes, 80.00%)",
                "app::g 1.5x (100 bytes, 20.00%)",
            ] {
                assert!(titles.iter().any(|t| t == want), "{want}: {titles:?}");
            }
        }
    }

    #[test]
    #[cfg(feature = "cli")]
    fn nothing_to_draw_is_a_graph_that_says_so() {
        let p = profile(r#"{"tb":0,"tbk":1,"fs":[1]}"#, r#""main""#);
        let mut svg = Vec::new();
        flamegraph_svg(&p, Metric::TotalBytes, "a <b>", &mut svg).unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.contains(">a &lt;b&gt;</text>"), "{svg}");
        assert!(svg.contains("nothing to draw: every program point's total-bytes is 0"));
    }

    #[test]
    fn walks_of_one_figure_and_of_parts_visit_the_same_stacks() {
        let mut next = rng(0x9E37_79B9_7F4A_7C15u64);
        type Visits = Vec<(Vec<u32>, Vec<u64>)>;
        for round in 0..100 {
            // Few frames, so that stacks repeat; bytes often 0 where blocks are not.
            let frames = 1 + next(4);
            let ftbl: Vec<String> = (1..=frames)
                .map(|i| format!("\"0x{i:x}: f{} (x.rs:1)\"", next(3)))
                .collect();
            let pps: Vec<String> = (0..next(30))
                .map(|_| {
                    let fs: Vec<String> =
                        (0..next(3)).map(|_| next(frames + 1).to_string()).collect();
                    let tb = if next(2) == 0 { 0 } else { next(9) };
                    format!(r#"{{"tb":{tb},"tbk":{},"fs":[{}]}}"#, next(3), fs.join(","))
                })
                .collect();
            let p = profile(&pps.join(","), &ftbl.join(","));
            let metrics = [Metric::TotalBytes, Metric::TotalBlocks];
            let fold = Fold::new(&p, FoldBy::Function, &metrics);
            let mut all: Visits = Vec::new();
            fold.for_each(0, |k, v| all.push((k.to_vec(), v.to_vec())));
            let (mut points, mut sums) = (0, vec![0u64; 2]);
            fold.for_each_point(|_, v| {
                points += 1;
                sums[0] += v[0];
                sums[1] += v[1];
            });
            assert_eq!((points, &sums), (fold.points(), &fold.totals()));
            for j in 0..2 {
                let mut whole: Visits = Vec::new();
                fold.for_each_nonzero(j, |k, v| whole.push((k.to_vec(), v.to_vec())));
                // The stacks whose figure j is not 0, with the same figure j.
                let want: Vec<(Vec<u32>, u64)> = all
                    .iter()
                    .filter(|(_, v)| v[j] != 0)
                    .map(|(k, v)| (k.clone(), v[j]))
                    .collect();
                let got: Vec<(Vec<u32>, u64)> =
                    whole.iter().map(|(k, v)| (k.clone(), v[j])).collect();
                assert_eq!(got, want, "round {round}, figure {j}");
                for part in 1..5 {
                    let mut joined: Visits = Vec::new();
                    for start in (0..fold.points() + 2).step_by(part) {
                        fold.for_each_nonzero_in(j, start..start + part, |k, v| {
                            joined.push((k.to_vec(), v.to_vec()))
                        });
                    }
                    assert_eq!(joined, whole, "round {round}, figure {j}, parts of {part}");
                }
            }
        }
    }

    #[test]
    fn matches_the_text_fold_on_random_profiles() {
        let mut next = rng(0x2545_F491_4F6C_DD1Du64);
        for _ in 0..50 {
            let frames = 1 + next(8);
            let ftbl: Vec<String> = (1..=frames)
                .map(|i| format!("\"0x{i:x}: f{} (x.rs:{i})\"", next(4)))
                .collect();
            let pps: Vec<String> = (0..next(20))
                .map(|_| {
                    let fs: Vec<String> =
                        (0..next(5)).map(|_| next(frames + 1).to_string()).collect();
                    format!(r#"{{"tb":{},"tbk":1,"fs":[{}]}}"#, next(4), fs.join(","))
                })
                .collect();
            let p = profile(&pps.join(","), &ftbl.join(","));
            assert_eq!(folded(&p, Metric::TotalBytes).unwrap(), by_text(&p));
        }
    }
}
