//! pprof's `profile.proto` (github.com/google/pprof, `proto/profile.proto`), gzip-compressed,
//! encoded here by hand: a profile is a handful of message types of integers and strings.

use std::collections::HashMap;
use std::io::Write;

use flate2::write::GzEncoder;

use super::Error;
use crate::analyze::{Fold, FoldBy, Metric};
use crate::profile::Profile;

/// Writes `profile` as a gzip-compressed pprof profile to `out`.
///
/// Sample types, each a value of every sample, named by the profile's units (bytes and blocks, or
/// for an ad-hoc profile its own, units and events, whose sample types are `total_units` and
/// `total_events`): `total_bytes` and `total_blocks`; with block lifetimes `gmax_bytes`,
/// `gmax_blocks` (live at t-gmax) and `end_bytes`, `end_blocks` (live at t-end); with block
/// accesses (Valgrind's heap profiles) `read_bytes` and `written_bytes`. Their units are the
/// profile's unit (`bytes`, `units`) and, for blocks and events, `count`. The first
/// (`total_bytes`, `total_units`) is the default. One sample per distinct stack of locations. A
/// location is a code location (function, file and line) with its function and line, or, where
/// frames were inlined into one another (Valgrind and dhat-rs give them one address, the caller
/// last), the run of them as one location of several lines, the inlined callee first, as pprof
/// has them. A location's address is one it was seen at: the lowest (for a single frame, the
/// lowest of its frames that share their address with no other frame, where it has one). A
/// location's function is the function itself: a copy the compiler specialised or split
/// (`app::fill(int, int) [clone .constprop.0]`, C's `dup_key.constprop.0`) is a location of its
/// own (its own code) of the function it was made from, so pprof's reports show the function
/// once, the copies added up, as `dhat-kit top --group-by function` does. A frame without a
/// symbol is a location of its own address, its function named by the address and binary
/// (`0x10C785 (in ls)`). One mapping names the program (the command's first word) and says that
/// the frames are symbolised, so that `go tool pprof` looks for no binary; its address range is
/// unknown and no location points to it. The profiled command is a comment.
///
/// In `go tool pprof`, the allocator and standard-library frames can be hidden to rank by the
/// frame `dhat-kit top` reports: `-hide '^(malloc|alloc::.*|core::.*|std::.*)$'`.
///
/// # Errors
///
/// [`Error::Range`] if a sample type's values add up to more than pprof's signed 64-bit values
/// hold (possible in an ad-hoc profile, whose units are the program's), before anything is
/// written; [`Error::Io`] if `out` fails.
///
/// # Examples
///
/// ```
/// use std::io::Read;
/// let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated",
///   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app --fast","pid":1,"te":9,
///   "pps":[{"tb":30,"tbk":1,"fs":[1,2]},{"tb":12,"tbk":1,"fs":[2]}],
///   "ftbl":["[root]","0x1: app::parse (src/p.rs:3:1)","0x2: app::main (src/main.rs:9:5)"]}"#;
/// let p = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
/// let mut out = Vec::new();
/// dhat_kit::export::pprof(&p, &mut out)?;
/// // Gzip-compressed (here read back with the `flate2` crate): its string table names the
/// // sample types, the functions and their files.
/// let mut proto = Vec::new();
/// flate2::read::GzDecoder::new(&out[..]).read_to_end(&mut proto)?;
/// let has = |s: &str| proto.windows(s.len()).any(|w| w == s.as_bytes());
/// assert!(has("total_bytes") && has("total_blocks") && !has("gmax_bytes"));
/// assert!(has("app::parse") && has("src/main.rs"));
///
/// // pprof's values are signed 64-bit: an ad-hoc profile's units can add up to more.
/// let big = json
///     .replace("rust-heap", "rust-ad-hoc")
///     .replace(r#""tb":30"#, &format!(r#""tb":{}"#, i64::MAX));
/// let p = dhat_kit::profile::from_slice(big.as_bytes(), "big.json")?;
/// let mut out = Vec::new();
/// let err = dhat_kit::export::pprof(&p, &mut out).unwrap_err();
/// assert!(matches!(err, dhat_kit::export::Error::Range { .. }), "{err}");
/// assert!(out.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn pprof(profile: &Profile, out: &mut impl Write) -> Result<(), Error> {
    let figures = super::figures(profile);
    let metrics: Vec<Metric> = figures.iter().map(|f| f.metric).collect();
    let fold = Fold::new(profile, FoldBy::Location, &metrics);
    // Every value is at most its type's total, so totals within range keep every value (and
    // `go tool pprof`'s sums) exact.
    let limit = super::largest_value("pprof").0;
    if let Some((figure, total)) = figures
        .iter()
        .zip(fold.totals())
        .find(|&(_, total)| total > limit)
    {
        return Err(Error::Range {
            format: "pprof",
            figure: figure.pprof_type(),
            total,
        });
    }
    // Buffered in front of the encoder: it works best on large writes.
    let mut gz = std::io::BufWriter::with_capacity(
        1 << 16,
        GzEncoder::new(out, flate2::Compression::fast()),
    );
    let mut strings = Strings::default();
    let mut msg = Vec::with_capacity(1024);
    let mut field = Vec::with_capacity(1024);

    // sample_type (1): ValueType { type (1), unit (2) }.
    let mut default_type = 0;
    for figure in &figures {
        let unit = if figure.metric.is_blocks() {
            "count"
        } else {
            &figure.unit
        };
        let t = strings.id(&figure.pprof_type());
        if figure.metric == Metric::TotalBytes {
            default_type = t;
        }
        msg.clear();
        varint_field(&mut msg, 1, t);
        varint_field(&mut msg, 2, strings.id(unit));
        bytes_field(&mut gz, 1, &msg)?;
    }

    // mapping (3): Mapping { id (1), filename (5), has_functions (7), has_filenames (8),
    // has_line_numbers (9), has_inline_frames (10) }: the profiled program, named by the first
    // word of the command, its locations already symbolised (so that pprof looks for no binary
    // to symbolise them with). Its address range is unknown, and no location points to it: the
    // addresses are in the program and in its libraries, which frames with a source file do not
    // tell apart.
    let program = profile.cmd.split_whitespace().next().unwrap_or("");
    msg.clear();
    varint_field(&mut msg, 1, 1);
    varint_field(&mut msg, 5, strings.id(program));
    for flag in 7..=10 {
        varint_field(&mut msg, flag, 1);
    }
    bytes_field(&mut gz, 3, &msg)?;

    // sample (2): Sample { location_id (1, packed, leaf first), value (2, packed) }. The fold's
    // stacks of code locations come with their points, those of one stack together; the points
    // of one stack can differ in which of its frames are inlined into which, so they are
    // sampled by their stacks of locations (runs of inlined frames), in the order of those.
    let addresses: Vec<Option<u64>> = profile
        .ftbl
        .iter()
        .map(|raw| {
            let frame = crate::profile::Frame::parse(raw);
            frame
                .address
                .and_then(|a| u64::from_str_radix(&a[2..], 16).ok())
        })
        .collect();
    let mut locations = Locations::new(&fold, &addresses);
    let mut run: Vec<u32> = Vec::new();
    // The points of the run so far, cut alike ones added up: the first `used` of `points`,
    // whose buffers are kept for the next runs.
    let mut points: Vec<Point> = Vec::new();
    let mut used = 0;
    let mut scratch = Point::default();
    let mut result = Ok(());
    let mut flush = |points: &mut [Point], locations: &mut Locations| {
        points.sort_unstable_by(|a, b| a.lengths.cmp(&b.lengths));
        for point in points.iter() {
            if result.is_err() {
                break;
            }
            msg.clear();
            field.clear();
            let mut keys = point.keys.as_slice();
            for (&len, &address) in point.lengths.iter().zip(&point.addresses) {
                let (group, rest) = keys.split_at((len as usize).min(keys.len()));
                keys = rest;
                varint(&mut field, locations.id(group, address));
            }
            bytes_field(&mut msg, 1, &field).ok();
            field.clear();
            for &v in &point.values {
                varint(&mut field, v);
            }
            bytes_field(&mut msg, 2, &field).ok();
            result = bytes_field(&mut gz, 2, &msg);
        }
    };
    fold.for_each_sorted_point(|keys, pp, values| {
        if keys != run.as_slice() {
            flush(&mut points[..used], &mut locations);
            used = 0;
            run.clear();
            run.extend_from_slice(keys);
        }
        scratch.fill(&fold, keys, &pp.fs, &addresses);
        // Nearly always one point per run, or points cut alike.
        match points[..used]
            .iter_mut()
            .find(|p| p.lengths == scratch.lengths)
        {
            Some(point) => {
                for (v, &w) in point.values.iter_mut().zip(values) {
                    *v = v.saturating_add(w);
                }
                for (a, &b) in point.addresses.iter_mut().zip(&scratch.addresses) {
                    *a = min_address(*a, b);
                }
            }
            None => {
                scratch.values.clear();
                scratch.values.extend_from_slice(values);
                if used == points.len() {
                    points.push(Point::default());
                }
                std::mem::swap(&mut points[used], &mut scratch);
                used += 1;
            }
        }
    });
    flush(&mut points[..used], &mut locations);
    result?;

    // location (4): Location { id (1), address (3), line (4): Line { function_id (1), line (2) },
    // the inlined callee first, its caller last };
    // function (5): Function { id (1), name (2), filename (4) }: one per function itself and
    // file. A copy the compiler specialised or split (`app::fill(int, int) [clone
    // .constprop.0]`) is the function it was made from: the same Function, at locations of its
    // own (its own addresses). No system name (3): the profiles hold names demangled, not as the
    // binary spells them. pprof takes a Function whose system name is its name, or that has no
    // name, for one still to demangle, and, failing to, shortens the name by heuristics (drops
    // `<..>` and `(..)`): `<alloc::alloc::Global as core::alloc::Allocator>::allocate` was shown
    // `::allocate`, out of reach of a `-hide` pattern written for the name `top` shows, and a
    // copy and its function would be two rows (`app::fill(int, int)`, `app::fill`).
    let mut functions: HashMap<(u64, u64), u64> = HashMap::new();
    locations.for_each(|id, keys, address| -> Result<(), Error> {
        let mut lines = Vec::with_capacity(16 * keys.len());
        for &key in keys.iter() {
            let raw = fold.frame(key);
            let frame = super::Written::new(&raw);
            let name = strings.id(&frame.name);
            let file = strings.id(frame.file.unwrap_or(""));
            let next = functions.len() as u64 + 1;
            let function = *functions.entry((name, file)).or_insert_with(|| {
                msg.clear();
                varint_field(&mut msg, 1, next);
                varint_field(&mut msg, 2, name);
                varint_field(&mut msg, 4, file);
                field.clear();
                bytes_field(&mut field, 5, &msg).ok();
                next
            });
            if function == next {
                gz.write_all(&field)?;
            }
            field.clear();
            varint_field(&mut field, 1, function);
            varint_field(&mut field, 2, u64::from(frame.line.unwrap_or(0)));
            bytes_field(&mut lines, 4, &field)?;
        }
        msg.clear();
        varint_field(&mut msg, 1, id);
        varint_field(&mut msg, 3, address.unwrap_or(0));
        msg.extend_from_slice(&lines);
        bytes_field(&mut gz, 4, &msg)?;
        Ok(())
    })?;

    // A sampled profile: period_type (11) and period (12), the mean interval in bytes between
    // samples, as Go's heap profiles give theirs; its comment says the sites are estimates.
    let summary = crate::analyze::summary(profile);
    let sampled = summary.samples.zip(summary.sample_interval_bytes);
    if let Some((_, interval)) = sampled {
        msg.clear();
        varint_field(&mut msg, 1, strings.id("space"));
        varint_field(&mut msg, 2, strings.id("bytes"));
        bytes_field(&mut gz, 11, &msg)?;
        msg.clear();
        varint_field(&mut msg, 12, interval);
        gz.write_all(&msg)?;
    }
    // comment (13), default_sample_type (14), then the string table (6) last, as every index
    // into it is known by now.
    // The same in every run of the same work (not the number of samples, which differs).
    let mut comment = format!("dhat-kit: {} profile of `{}`", profile.mode, profile.cmd);
    if let Some((_, interval)) = sampled {
        comment.push_str(&format!(
            "; its sites' figures are estimates, from samples at a mean interval of {interval} \
             bytes (its totals are exact)"
        ));
    }
    let comment = strings.id(&comment);
    msg.clear();
    varint_field(&mut msg, 13, comment);
    varint_field(&mut msg, 14, default_type);
    gz.write_all(&msg)?;
    for s in &strings.list {
        bytes_field(&mut gz, 6, s.as_bytes())?;
    }
    gz.into_inner().map_err(|e| e.into_error())?.try_finish()?;
    Ok(())
}

/// The lower of two addresses, where known.
fn min_address(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        _ => a.or(b),
    }
}

/// A program point of a run of one stack of code locations: its keys leaf first, cut in
/// locations (frames inlined into one another), and its figures.
#[derive(Default)]
struct Point {
    /// The keys, leaf first.
    keys: Vec<u32>,
    /// The number of keys of each location, leaf first.
    lengths: Vec<u32>,
    /// Each location's address (the lowest of the run's points cut alike).
    addresses: Vec<Option<u64>>,
    values: Vec<u64>,
    /// The keys of the run being cut, once it is longer than [`SHORT_RUN`] (a run of thousands
    /// of frames at one address was searched whole at each of its frames), and where that run
    /// starts.
    run: std::collections::HashSet<u32>,
    run_start: Option<usize>,
}

/// A run of frames at one address up to this long is searched in place for a repeated key.
const SHORT_RUN: usize = 32;

impl Point {
    /// Cuts the stack `keys` (outermost first) of the frames `fs` (leaf first) in locations: a
    /// frame is inlined into the next (its caller) where both are at one address, unless the
    /// caller's location is already in the run (a recursive call, whose frames share the
    /// return address).
    fn fill(&mut self, fold: &Fold<'_>, keys: &[u32], fs: &[u32], addresses: &[Option<u64>]) {
        self.keys.clear();
        self.keys.extend(keys.iter().rev());
        self.lengths.clear();
        self.addresses.clear();
        let frames = fs.iter().copied().filter(|&f| fold.is_kept(f));
        let mut start = 0;
        let mut last: Option<u64> = None;
        self.run_start = None;
        for (n, f) in frames.enumerate() {
            let address = addresses.get(f as usize).copied().flatten();
            let inlined = n > 0 && address.is_some() && address == last && !self.in_run(start, n);
            if inlined {
                *self.lengths.last_mut().unwrap_or(&mut 0) += 1;
                if self.run_start == Some(start) {
                    self.run.insert(self.keys[n]);
                }
            } else {
                start = n;
                self.lengths.push(1);
                self.addresses.push(address);
            }
            last = address;
        }
        if self.lengths.is_empty() {
            // `[root]` alone.
            self.lengths.push(self.keys.len() as u32);
            self.addresses.push(None);
        }
    }

    /// Whether key `n` is among the keys of the run from `start` to it (a recursive call).
    fn in_run(&mut self, start: usize, n: usize) -> bool {
        let key = self.keys[n];
        if n - start <= SHORT_RUN {
            return self.keys[start..n].contains(&key);
        }
        if self.run_start != Some(start) {
            self.run.clear();
            self.run.extend(&self.keys[start..n]);
            self.run_start = Some(start);
        }
        self.run.contains(&key)
    }
}

/// The locations written. A location of one key, nearly every one, is numbered by its key
/// (`key + 1`), with no lookup, and its address is the lowest of the frames of its key; a run of
/// frames inlined into one another (callee first) is numbered after every key, in the order the
/// runs are first met, and its address is the lowest it was seen at.
struct Locations {
    /// Whether the location of each key alone is in a sample.
    used: Vec<bool>,
    /// The address of the location of each key alone.
    single: Vec<Option<u64>>,
    ids: HashMap<Box<[u32]>, u64>,
    runs: Vec<(Box<[u32]>, Option<u64>)>,
}

impl Locations {
    /// The locations of `fold`'s keys, whose frame-table entries are at `addresses`.
    ///
    /// A key's own location is at the lowest address of its entries that no other entry shares
    /// (the entries at one address are frames inlined into one another there), or, where every
    /// one is shared, the lowest of them.
    fn new(fold: &Fold<'_>, addresses: &[Option<u64>]) -> Locations {
        let mut entries_at: HashMap<u64, u32> = HashMap::new();
        for address in addresses.iter().flatten() {
            *entries_at.entry(*address).or_default() += 1;
        }
        // The lowest address of each key's entries, alone at theirs and of any.
        let mut alone = vec![None; fold.keys()];
        let mut any = vec![None; fold.keys()];
        for (f, &address) in addresses.iter().enumerate() {
            if let Some(key) = fold.key_of(f as u32) {
                let k = key as usize;
                any[k] = min_address(any[k], address);
                if address.is_some_and(|a| entries_at.get(&a) == Some(&1)) {
                    alone[k] = min_address(alone[k], address);
                }
            }
        }
        let single = alone.into_iter().zip(any).map(|(a, b)| a.or(b)).collect();
        Locations {
            used: vec![false; fold.keys()],
            single,
            ids: HashMap::new(),
            runs: Vec::new(),
        }
    }

    /// The id of the location of `keys` (callee first), seen at `address`.
    fn id(&mut self, keys: &[u32], address: Option<u64>) -> u64 {
        if let &[key] = keys {
            self.used[key as usize] = true;
            return u64::from(key) + 1;
        }
        let base = self.used.len() as u64;
        if let Some(&id) = self.ids.get(keys) {
            let seen = &mut self.runs[(id - base) as usize - 1].1;
            *seen = min_address(*seen, address);
            return id;
        }
        self.runs.push((keys.into(), address));
        let id = base + self.runs.len() as u64;
        self.ids.insert(keys.into(), id);
        id
    }

    /// Calls `visit` with each location in a sample: its id, keys (callee first) and address;
    /// the keys' own first, in their order, then the runs.
    fn for_each<E>(
        &self,
        mut visit: impl FnMut(u64, &[u32], Option<u64>) -> Result<(), E>,
    ) -> Result<(), E> {
        for key in 0..self.used.len() as u32 {
            if self.used[key as usize] {
                visit(u64::from(key) + 1, &[key], self.single[key as usize])?;
            }
        }
        let base = self.used.len() as u64;
        for (i, (keys, address)) in self.runs.iter().enumerate() {
            visit(base + i as u64 + 1, keys, *address)?;
        }
        Ok(())
    }
}

/// The string table: index 0 is "".
struct Strings {
    ids: HashMap<String, u64>,
    list: Vec<String>,
}

impl Default for Strings {
    fn default() -> Self {
        Strings {
            ids: HashMap::from([(String::new(), 0)]),
            list: vec![String::new()],
        }
    }
}

impl Strings {
    fn id(&mut self, s: &str) -> u64 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.list.len() as u64;
        self.ids.insert(s.to_owned(), id);
        self.list.push(s.to_owned());
        id
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A varint field (wire type 0); 0 is the default and is not written.
fn varint_field(out: &mut Vec<u8>, number: u32, v: u64) {
    if v == 0 {
        return;
    }
    varint(out, u64::from(number) << 3);
    varint(out, v);
}

/// A length-delimited field (wire type 2).
fn bytes_field(out: &mut impl Write, number: u32, bytes: &[u8]) -> std::io::Result<()> {
    let mut b = Vec::with_capacity(16);
    varint(&mut b, (u64::from(number) << 3) | 2);
    varint(&mut b, bytes.len() as u64);
    out.write_all(&b)?;
    out.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A location read back: its id, address and lines (function id and line).
    type Location = (u64, u64, Vec<(u64, u64)>);

    /// A pprof profile read back, its string indices resolved.
    #[derive(Debug, Default)]
    struct Decoded {
        /// Each sample type's type and unit.
        types: Vec<(String, String)>,
        /// Each sample's location ids (leaf first) and values.
        samples: Vec<(Vec<u64>, Vec<u64>)>,
        /// Each location's id, address and lines (function id and line).
        locations: Vec<Location>,
        /// Each function's id, name and file name.
        functions: HashMap<u64, (String, String)>,
        /// Each function's system name (an index into the strings).
        system_names: Vec<u64>,
        default_type: String,
        /// The period type's type and unit, and the period (0 when not written).
        period: (String, String, u64),
        /// The comments.
        comments: Vec<String>,
        /// Each mapping's fields.
        mappings: Vec<Vec<(u64, u64)>>,
        strings: Vec<String>,
    }

    impl Decoded {
        /// Each sample's stack, leaf first, each location its lines (the inlined callee first)
        /// as `function (file:line)` joined by ` < `, then `@address`.
        fn inlined(&self) -> Vec<(Vec<String>, u64)> {
            let location = |id: u64| {
                let (_, address, lines) = self.locations.iter().find(|l| l.0 == id).unwrap();
                let lines: Vec<String> = lines
                    .iter()
                    .map(|&(function, line)| {
                        let (name, file) = &self.functions[&function];
                        format!("{name} ({file}:{line})")
                    })
                    .collect();
                format!("{} @{address:#x}", lines.join(" < "))
            };
            self.samples
                .iter()
                .map(|(ids, values)| (ids.iter().map(|&id| location(id)).collect(), values[0]))
                .collect()
        }

        /// Each sample's stack, leaf first, as `function (file:line) @address`.
        fn stacks(&self) -> Vec<(Vec<String>, Vec<u64>)> {
            let location = |id: u64| {
                let (_, address, lines) = self.locations.iter().find(|l| l.0 == id).unwrap();
                let (function, line) = lines[0];
                let (name, file) = &self.functions[&function];
                format!("{name} ({file}:{line}) @{address:#x}")
            };
            self.samples
                .iter()
                .map(|(ids, values)| (ids.iter().map(|&id| location(id)).collect(), values.clone()))
                .collect()
        }
    }

    fn read_varint(b: &mut &[u8]) -> u64 {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let byte = b[0];
            *b = &b[1..];
            v |= u64::from(byte & 0x7F) << shift;
            shift += 7;
            if byte < 0x80 {
                return v;
            }
        }
    }

    /// The fields of a message: number, and a varint's value or a length-delimited field's
    /// bytes.
    fn fields(mut b: &[u8]) -> Vec<(u64, Result<u64, &[u8]>)> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let tag = read_varint(&mut b);
            match tag & 7 {
                0 => out.push((tag >> 3, Ok(read_varint(&mut b)))),
                2 => {
                    let len = read_varint(&mut b) as usize;
                    out.push((tag >> 3, Err(&b[..len])));
                    b = &b[len..];
                }
                wire => panic!("wire type {wire}"),
            }
        }
        out
    }

    /// A repeated varint field's values: one, or packed.
    fn packed(f: Result<u64, &[u8]>) -> Vec<u64> {
        match f {
            Ok(v) => vec![v],
            Err(mut b) => {
                let mut out = Vec::new();
                while !b.is_empty() {
                    out.push(read_varint(&mut b));
                }
                out
            }
        }
    }

    fn decode(gz: &[u8]) -> Decoded {
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut bytes)
            .unwrap();
        let top = fields(&bytes);
        let strings: Vec<String> = top
            .iter()
            .filter(|f| f.0 == 6)
            .map(|f| String::from_utf8(f.1.unwrap_err().to_vec()).unwrap())
            .collect();
        let int = |m: &[(u64, Result<u64, &[u8]>)], n: u64| {
            m.iter().find(|f| f.0 == n).map_or(0, |f| f.1.unwrap())
        };
        let string = |m: &[(u64, Result<u64, &[u8]>)], n: u64| strings[int(m, n) as usize].clone();
        let mut d = Decoded::default();
        for &(number, value) in &top {
            let Err(body) = value else {
                match number {
                    14 => d.default_type = strings[value.unwrap() as usize].clone(),
                    12 => d.period.2 = value.unwrap(),
                    13 => d.comments.push(strings[value.unwrap() as usize].clone()),
                    _ => {}
                }
                continue;
            };
            if number == 11 {
                let m = fields(body);
                (d.period.0, d.period.1) = (string(&m, 1), string(&m, 2));
                continue;
            }
            if ![1, 2, 3, 4, 5].contains(&number) {
                continue; // the strings
            }
            let m = fields(body);
            match number {
                1 => d.types.push((string(&m, 1), string(&m, 2))),
                3 => d
                    .mappings
                    .push(m.iter().map(|f| (f.0, f.1.unwrap())).collect()),
                2 => {
                    let of = |n| m.iter().filter(move |f| f.0 == n).flat_map(|f| packed(f.1));
                    d.samples.push((of(1).collect(), of(2).collect()));
                }
                4 => {
                    let lines = m
                        .iter()
                        .filter(|f| f.0 == 4)
                        .map(|f| {
                            let line = fields(f.1.unwrap_err());
                            (int(&line, 1), int(&line, 2))
                        })
                        .collect();
                    d.locations.push((int(&m, 1), int(&m, 3), lines));
                }
                5 => {
                    d.functions
                        .insert(int(&m, 1), (string(&m, 2), string(&m, 4)));
                    d.system_names.push(int(&m, 3));
                }
                _ => {}
            }
        }
        d.strings = strings;
        d
    }

    fn written(json: &str) -> Decoded {
        let p = crate::profile::from_slice(json.as_bytes(), "t.json").unwrap();
        let mut out = Vec::new();
        pprof(&p, &mut out).unwrap();
        decode(&out)
    }

    #[test]
    fn unknown_code_at_each_address_is_a_location_and_a_function_of_its_own() {
        // `ls` without symbols: three unknown frames, two at the same address.
        let d = written(
            r#"{"dhatFileVersion":2,"mode":"copy","verb":"Copied","bklt":false,"bkacc":false,
            "tu":"instrs","Mtu":"Minstr","cmd":"ls","pid":1,"te":9,
            "pps":[{"tb":24,"tbk":1,"fs":[1,2,3,4]},{"tb":8,"tbk":1,"fs":[1,4]}],
            "ftbl":["[root]","0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_dhat.so)",
              "0x10C785: ??? (in /usr/bin/ls)","0x10A1F0: ??? (in /usr/bin/ls)",
              "0x10C785: ??? (in /usr/bin/ls)"]}"#,
        );
        let s = |t: &[&str]| t.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        let malloc = "malloc (/usr/libexec/valgrind/vgpreload_dhat.so:0) @0x48417b4";
        let (a, b) = (
            "0x10C785 (in ls) (/usr/bin/ls:0) @0x10c785",
            "0x10A1F0 (in ls) (/usr/bin/ls:0) @0x10a1f0",
        );
        assert_eq!(
            d.stacks(),
            [
                (s(&[malloc, a, b, a]), vec![24, 1]),
                (s(&[malloc, a]), vec![8, 1]),
            ]
        );
        assert_eq!(d.locations.len(), 3);
    }

    /// A run of frames at one address is cut alike however long it is (past its first 32
    /// frames, a repeated function is found in a set of the run's keys, where the run was
    /// searched whole at each frame: quadratic in the run's length).
    #[test]
    fn a_long_run_at_one_address_is_cut_at_its_repeated_function() {
        let ftbl: Vec<String> = (0..100)
            .map(|i| format!("\"0x10: f{i} (t.c:{i})\""))
            .collect();
        // 80 frames at one address, then f5 again, then 19 more: the run is cut at f5's second
        // frame, a call, and the rest is one location.
        let fs: Vec<String> = (1..=80)
            .chain([6])
            .chain(81..=99)
            .map(|i| i.to_string())
            .collect();
        let d = written(&format!(
            r#"{{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":false,"bkacc":false,
            "tu":"instrs","Mtu":"Minstr","cmd":"./t","pid":1,"te":9,
            "pps":[{{"tb":22,"tbk":1,"fs":[{}]}}],
            "ftbl":["[root]",{}]}}"#,
            fs.join(","),
            ftbl[..99].join(",")
        ));
        let got = d.inlined();
        assert_eq!(got.len(), 1);
        let lines: Vec<usize> = got[0].0.iter().map(|l| l.split(" < ").count()).collect();
        assert_eq!(lines, [80, 20], "{got:?}");
        assert!(
            got[0].0[1].starts_with("f5 (t.c:5) < f80 (t.c:80)"),
            "{got:?}"
        );
    }

    #[test]
    fn inlined_frames_at_one_address_are_one_location_callee_first() {
        // Valgrind's DHAT on `gcc -O2 -g`: `mk` and `mid` inlined into `outer` (at 0x1091BD),
        // `mk` into `main` (0x109089); `rec` calls itself from one return address (not inlined:
        // one entry twice); and the stack of the second point has the keys of the first's but at
        // two addresses (called, not inlined).
        let d = written(
            r#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":false,"bkacc":false,
            "tu":"instrs","Mtu":"Minstr","cmd":"./t","pid":1,"te":9,
            "pps":[{"tb":22,"tbk":1,"fs":[1,2,3,4,5]},{"tb":7,"tbk":1,"fs":[1,6,7]},
                   {"tb":5,"tbk":1,"fs":[1,10,11]},{"tb":3,"tbk":1,"fs":[1,8,8,9]},
                   {"tb":2,"tbk":1,"fs":[1,6,7]}],
            "ftbl":["[root]","0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_dhat.so)",
              "0x1091BD: mk (t.c:3)","0x1091BD: mid (t.c:4)","0x1091BD: outer (t.c:5)",
              "0x10907E: main (t.c:7)","0x109089: mk (t.c:3)","0x109089: main (t.c:8)",
              "0x1090A0: rec (t.c:12)","0x1090B0: main (t.c:9)",
              "0x1090C0: mk (t.c:3)","0x1090D0: main (t.c:8)"]}"#,
        );
        let malloc = "malloc (/usr/libexec/valgrind/vgpreload_dhat.so:0) @0x48417b4";
        let s = |t: &[&str]| t.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        let mut got = d.inlined();
        got.sort();
        let mut want = vec![
            (
                s(&[
                    malloc,
                    "mk (t.c:3) < mid (t.c:4) < outer (t.c:5) @0x1091bd",
                    "main (t.c:7) @0x10907e",
                ]),
                22,
            ),
            (s(&[malloc, "mk (t.c:3) < main (t.c:8) @0x109089"]), 9),
            (
                s(&[malloc, "mk (t.c:3) @0x1090c0", "main (t.c:8) @0x1090d0"]),
                5,
            ),
            (
                s(&[
                    malloc,
                    "rec (t.c:12) @0x1090a0",
                    "rec (t.c:12) @0x1090a0",
                    "main (t.c:9) @0x1090b0",
                ]),
                3,
            ),
        ];
        want.sort();
        assert_eq!(got, want);
        assert_eq!(d.locations.len(), 8);
    }

    #[test]
    fn a_copy_the_compiler_made_is_its_function_at_locations_of_its_own() {
        // `g++ -O2`'s copy of `app::fill` for a constant argument, and the function itself, from
        // one line under one caller; `gcc -O2`'s copy of C's `dup_key` alone.
        let d = written(
            r#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":false,"bkacc":false,
            "tu":"instrs","Mtu":"Minstr","cmd":"./clones","pid":1,"te":9,
            "pps":[{"tb":256,"tbk":1,"fs":[1,2]},{"tb":64,"tbk":2,"fs":[3,2]},{"tb":5,"tbk":1,"fs":[4,2]}],
            "ftbl":["[root]","0x1091EF: app::fill(int, int) [clone .constprop.0] (clones.cpp:16)",
              "0x10932F: app::fill_both(int, int) (clones.cpp:37)",
              "0x10922B: app::fill(int, int) (clones.cpp:16)",
              "0x109379: dup_key.constprop.0 (keys.c:27)"]}"#,
        );
        let mut functions: Vec<&(String, String)> = d.functions.values().collect();
        functions.sort();
        let f = |name: &str, file: &str| (name.to_owned(), file.to_owned());
        assert_eq!(
            functions,
            [
                &f("app::fill(int, int)", "clones.cpp"),
                &f("app::fill_both(int, int)", "clones.cpp"),
                &f("dup_key", "keys.c"),
            ]
        );
        let mut stacks = d.stacks();
        stacks.sort();
        let s = |t: &[&str]| t.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        let caller = "app::fill_both(int, int) (clones.cpp:37) @0x10932f";
        assert_eq!(
            stacks,
            [
                (
                    s(&["app::fill(int, int) (clones.cpp:16) @0x1091ef", caller]),
                    vec![256, 1]
                ),
                (
                    s(&["app::fill(int, int) (clones.cpp:16) @0x10922b", caller]),
                    vec![64, 2]
                ),
                (s(&["dup_key (keys.c:27) @0x109379", caller]), vec![5, 1]),
            ]
        );
        // Both names of a Function are the function itself.
        let system_names: Vec<&str> = d
            .system_names
            .iter()
            .map(|&i| d.strings[i as usize].as_str())
            .collect();
        assert!(
            system_names.iter().all(|n| !n.contains("constprop")),
            "{system_names:?}"
        );
    }

    #[test]
    fn one_mapping_names_the_program_and_says_its_frames_are_symbolised() {
        // Without one, `go tool pprof` looks for the main binary to symbolise with, and says
        // "Main binary filename not available".
        let d = written(
            r#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":false,"bkacc":false,
            "tu":"instrs","Mtu":"Minstr","cmd":"./t --n 3","pid":1,"te":9,
            "pps":[{"tb":22,"tbk":1,"fs":[1]}],"ftbl":["[root]","0x10907E: main (t.c:7)"]}"#,
        );
        let filename = d.strings.iter().position(|s| s == "./t").unwrap() as u64;
        assert_eq!(
            d.mappings,
            [vec![(1, 1), (5, filename), (7, 1), (8, 1), (9, 1), (10, 1)]]
        );
    }

    #[test]
    fn an_unknown_file_is_left_out() {
        // dhat-rs writes a frame it has no file for as `(???:0:0)`.
        let d = written(
            r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":false,"bkacc":false,
            "tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
            "pps":[{"tb":24,"tbk":1,"fs":[1,2]}],
            "ftbl":["[root]","0x56350217: <alloc::raw_vec::RawVecInner>::finish_grow (???:0:0)",
              "0x56350218: app::main (src/main.rs:4:9)"]}"#,
        );
        assert_eq!(
            d.stacks(),
            [(
                vec![
                    "<alloc::raw_vec::RawVecInner>::finish_grow (:0) @0x56350217".to_owned(),
                    "app::main (src/main.rs:4) @0x56350218".to_owned()
                ],
                vec![24, 1]
            )]
        );
    }

    /// A sampled profile gives its mean interval as the period, in bytes of space, and says in
    /// its comment that its sites are estimates (`go tool pprof` showed `Period: 0`); an exact
    /// profile gives none.
    #[test]
    fn a_sampled_profile_gives_its_interval_as_the_period() {
        let profile = |mode: &str| {
            format!(
                r#"{{"dhatFileVersion":2,"mode":"{mode}","verb":"Allocated","bklt":true,
                "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":9,"tg":5,
                "pps":[{{"tb":4096,"tbk":1,"tl":1,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,
                "fs":[2]}},{{"tb":100,"tbk":1,"tl":1,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,
                "fs":[1]}}],"ftbl":["[root]",
                "[unsampled remainder] estimated from 12 samples at mean interval 524288 bytes",
                "0x1: app::f (src/f.rs:1:1)"]}}"#
            )
        };
        let d = written(&profile("dhat-kit-sampled"));
        assert_eq!(d.period, ("space".into(), "bytes".into(), 524_288));
        assert_eq!(
            d.comments,
            [
                "dhat-kit: dhat-kit-sampled profile of `app`; its sites' figures are estimates, \
                 from samples at a mean interval of 524288 bytes (its totals are exact)"
            ]
        );
        let d = written(&profile("dhat-kit-peak"));
        assert_eq!(d.period, (String::new(), String::new(), 0));
        assert_eq!(d.comments, ["dhat-kit: dhat-kit-peak profile of `app`"]);
    }

    #[test]
    fn sample_types_are_named_by_the_profiles_units() {
        let d = written(
            r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,
            "bkacc":false,"bu":"unit","bsu":"units","bksu":"events","tu":"µs","Mtu":"s",
            "cmd":"app","pid":1,"te":9,"pps":[{"tb":30,"tbk":3,"fs":[1]}],
            "ftbl":["[root]","0x1: app::main (src/main.rs:4:9)"]}"#,
        );
        let s = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(
            d.types,
            [s("total_units", "units"), s("total_events", "count")]
        );
        assert_eq!(d.default_type, "total_units");
        assert_eq!(d.samples[0].1, [30, 3]);
    }

    #[test]
    fn reads_and_writes_are_sample_types_with_block_accesses() {
        let d = written(
            r#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":true,"bkacc":true,
            "tu":"instrs","Mtu":"Minstr","tuth":500,"cmd":"ls","pid":1,"te":9,"tg":5,
            "pps":[{"tb":472,"tbk":1,"tl":10,"mb":472,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,
                    "rb":1628,"wb":882,"fs":[1]},
                   {"tb":24,"tbk":2,"tl":10,"mb":24,"mbk":2,"gb":24,"gbk":2,"eb":24,"ebk":2,
                    "rb":9007199254740993,"wb":0,"fs":[1,2]}],
            "ftbl":["[root]","0x1: malloc (in /usr/lib/vgpreload_dhat.so)","0x2: main (m.c:4)"]}"#,
        );
        let types: Vec<&str> = d.types.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(
            types,
            [
                "total_bytes",
                "total_blocks",
                "gmax_bytes",
                "gmax_blocks",
                "end_bytes",
                "end_blocks",
                "read_bytes",
                "written_bytes"
            ]
        );
        assert_eq!(d.types[6].1, "bytes");
        assert_eq!(d.types[7].1, "bytes");
        assert_eq!(d.default_type, "total_bytes");
        let values: Vec<&[u64]> = d.samples.iter().map(|s| s.1.as_slice()).collect();
        // Exact, past a double's 2^53.
        assert_eq!(
            values,
            [
                &[24, 2, 24, 2, 24, 2, 9_007_199_254_740_993, 0][..],
                &[472, 1, 0, 0, 0, 0, 1628, 882][..],
            ]
        );
    }

    #[test]
    fn a_figure_beyond_pprofs_range_is_named_in_the_profiles_units() {
        let p = crate::profile::from_slice(
            r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,
            "bkacc":false,"bu":"unit","bsu":"units","bksu":"events","tu":"µs","Mtu":"s",
            "cmd":"app","pid":1,"te":9,
            "pps":[{"tb":9223372036854775807,"tbk":1,"fs":[1]},{"tb":1,"tbk":1,"fs":[1]}],
            "ftbl":["[root]","0x1: app::main (src/main.rs:4:9)"]}"#
                .as_bytes(),
            "t.json",
        )
        .unwrap();
        let mut out = Vec::new();
        let e = pprof(&p, &mut out).unwrap_err();
        assert!(
            matches!(&e, Error::Range { figure, total: 9_223_372_036_854_775_808, .. } if figure == "total_units"),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .starts_with("total_units adds up to 9223372036854775808, above pprof's"),
            "{e}"
        );
        assert!(out.is_empty());
        // A sum that reaches the largest u64 may be exactly it, or more: it said "more than".
        let p = crate::profile::from_slice(
            r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,
            "bkacc":false,"bu":"unit","bsu":"units","bksu":"events","tu":"µs","Mtu":"s",
            "cmd":"app","pid":1,"te":9,
            "pps":[{"tb":18446744073709551615,"tbk":1,"fs":[1]}],
            "ftbl":["[root]","0x1: app::main (src/main.rs:4:9)"]}"#
                .as_bytes(),
            "t.json",
        )
        .unwrap();
        let e = pprof(&p, &mut Vec::new()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("total_units adds up to 18446744073709551615 or more, above pprof's"),
            "{e}"
        );
    }

    #[test]
    fn varints() {
        let mut b = Vec::new();
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            varint(&mut b, v);
        }
        assert_eq!(
            b,
            [
                0, 1, 127, 0x80, 1, 0xAC, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                1
            ]
        );
    }
}
