//! speedscope's file format (`https://www.speedscope.app/file-format-schema.json`): the frames
//! once, then one sampled profile per figure, each stack a sample weighted by the figure.
//!
//! The samples are most of the file (every stack once per figure), so they are written with
//! little work per frame: frames are numbered by their uses (the outermost frames, in nearly every
//! stack, get the shortest numbers), each number's text is made once, a stack's text is kept and
//! only its part below the previous stack's is redone (sorted stacks share their outer frames),
//! and each figure's walk is cut in parts that threads walk and write into buffers of their own,
//! which go out in order.

use std::io::Write;
use std::ops::Range;
use std::sync::mpsc;

use super::Error;
use crate::analyze::{Fold, FoldBy, Metric};
use crate::profile::Profile;

/// The program points (positions of the sorted walk) in a part of a walk: a part's text is a
/// megabyte or two.
const PART: usize = 1 << 13;

/// The most threads that walk parts.
const MAX_THREADS: usize = 8;

/// Writes `profile` in speedscope's format to `out`: its frames shared, one per function and file
/// (with no line: a function allocates from several, and speedscope's sandwich and left-heavy
/// views list a frame per function, as its own pprof importer keys them; a copy the compiler
/// specialised or split, `app::fill(int, int) [clone .constprop.0]`, is its function's frame; a
/// frame without a symbol is one per address, named by it and its binary, `0x10C785 (in ls)`),
/// and one profile per figure it has (total bytes and blocks; with block lifetimes, bytes and
/// blocks at t-gmax and at t-end; with block accesses, bytes read and written), named `FIGURE:
/// NAME` (`bytes total: NAME`, `events total: NAME`, `bytes read: NAME`), each stack (outermost
/// frame first) a sample weighted by the figure. Stacks whose figure is 0 are left out of that
/// figure's profile. The frames most used come first in `shared.frames`.
///
/// The samples are written by threads (as many as the processors, up to 8), each walking its
/// parts of the stacks into a buffer of its own; this thread writes the buffers out in order. To
/// choose how many, or to start none, use [`speedscope_with_threads`].
///
/// # Errors
///
/// [`Error::Range`] if a figure adds up to more than 2^53, beyond which speedscope, which reads
/// its numbers as JavaScript's doubles, would show other figures (nothing is written);
/// [`Error::Io`] if `out` fails.
///
/// # Examples
///
/// ```
/// let profile = dhat_kit::profile::from_slice(
///     br#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":false,"bkacc":false,
///     "tu":"us","Mtu":"s","cmd":"demo","pid":1,"te":9,
///     "pps":[{"tb":64,"tbk":1,"fs":[1]}],"ftbl":["[root]","main (src/main.rs:3:5)"]}"#,
///     "demo.json",
/// )?;
/// let mut out = Vec::new();
/// dhat_kit::export::speedscope(&profile, "demo.json", &mut out)?;
/// assert!(String::from_utf8(out)?.contains("speedscope.app"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn speedscope(profile: &Profile, name: &str, out: &mut impl Write) -> Result<(), Error> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    speedscope_with_threads(profile, name, out, threads.min(MAX_THREADS))
}

/// [`speedscope`], its samples walked by `threads` threads started for the call (at most one per
/// part of the walk), or by the calling thread alone with `threads == 0`: for a caller that must
/// not start threads (a sandbox, a signal-sensitive process) or that runs many exports at once.
/// The output is the same whatever `threads` is.
///
/// # Errors
///
/// [`Error::Range`] if a figure adds up to more than 2^53, beyond which speedscope, which reads
/// its numbers as JavaScript's doubles, would show other figures (nothing is written);
/// [`Error::Io`] if `out` fails.
///
/// # Examples
///
/// ```
/// # let profile = dhat_kit::profile::from_slice(
/// #     br#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":false,"bkacc":false,
/// #     "tu":"us","Mtu":"s","cmd":"demo","pid":1,"te":9,
/// #     "pps":[{"tb":64,"tbk":1,"fs":[1]}],"ftbl":["[root]","main (src/main.rs:3:5)"]}"#,
/// #     "demo.json",
/// # )?;
/// // On this thread only.
/// let mut out = Vec::new();
/// dhat_kit::export::speedscope_with_threads(&profile, "demo.json", &mut out, 0)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn speedscope_with_threads(
    profile: &Profile,
    name: &str,
    out: &mut impl Write,
    threads: usize,
) -> Result<(), Error> {
    write_parts(profile, name, out, PART, threads)
}

/// [`speedscope`], the walks cut in parts of `part` program points, walked by `threads` threads
/// (by this one, with 0).
fn write_parts(
    profile: &Profile,
    name: &str,
    out: &mut impl Write,
    part: usize,
    threads: usize,
) -> Result<(), Error> {
    let figures = super::figures(profile);
    let metrics: Vec<Metric> = figures.iter().map(|f| f.metric).collect();
    let fold = Fold::new(profile, FoldBy::FunctionInFile, &metrics);
    let numbers = Numbers::new(&fold);
    // Every weight is at most its figure's total, so totals within range keep every weight (and
    // speedscope's sums) exact.
    let limit = super::largest_value("speedscope").0;
    if let Some((figure, &total)) = figures
        .iter()
        .zip(&numbers.totals)
        .find(|&(_, &total)| total > limit)
    {
        return Err(Error::Range {
            format: "speedscope",
            figure: figure.pprof_type(),
            total,
        });
    }
    let points = fold.points();
    let parts: Vec<Range<usize>> = (0..points)
        .step_by(part.max(1))
        .map(|start| start..(start + part.max(1)).min(points))
        .collect();
    let tasks: Vec<(usize, Range<usize>)> = (0..figures.len())
        .flat_map(|j| parts.iter().map(move |r| (j, r.clone())))
        .collect();
    let threads = threads.min(tasks.len());
    std::thread::scope(|scope| -> Result<(), Error> {
        // Thread w walks tasks w, w + threads, ...; each sends its parts one at a time (at most
        // one waits), and gets the buffers back once written. Where a thread cannot be started,
        // or there is none, this one walks the tasks.
        let mut workers: Vec<Option<(mpsc::Receiver<Part>, mpsc::Sender<Part>)>> = Vec::new();
        if threads == 0 {
            workers.push(None);
        }
        for w in 0..threads {
            let (full_tx, full_rx) = mpsc::sync_channel::<Part>(1);
            let (empty_tx, empty_rx) = mpsc::channel::<Part>();
            let mine: Vec<(usize, Range<usize>)> =
                tasks.iter().skip(w).step_by(threads).cloned().collect();
            let (fold, numbers) = (&fold, &numbers);
            let spawned = std::thread::Builder::new()
                .name("dhat-kit speedscope".into())
                .spawn_scoped(scope, move || {
                    let mut scratch = Scratch::default();
                    for (j, range) in mine {
                        let mut part = empty_rx.try_recv().unwrap_or_default();
                        part.fill(fold, numbers, j, range, &mut scratch);
                        if full_tx.send(part).is_err() {
                            return; // the writer has stopped
                        }
                    }
                    // The buffers come back once written, to be freed by the thread that made
                    // them (the channel closes when the writer is done).
                    for part in empty_rx {
                        drop(part);
                    }
                });
            workers.push(spawned.ok().map(|_| (full_rx, empty_tx)));
        }
        write_frames(&fold, &numbers, name, out)?;
        let mut scratch = Scratch::default();
        let mut own = Part::default();
        let mut weights: Vec<u8> = Vec::new();
        let mut task = 0;
        let mut head = Vec::with_capacity(256);
        for (j, figure) in figures.iter().enumerate() {
            head.clear();
            head.extend_from_slice(if j == 0 {
                b"\n{\"type\":\"sampled\",\"name\":"
            } else {
                b",\n{\"type\":\"sampled\",\"name\":"
            });
            json(&mut head, &figure.speedscope_name(name));
            write!(
                head,
                ",\"unit\":\"{}\",\"startValue\":0,\"endValue\":{},\"samples\":[",
                figure.speedscope_unit(),
                numbers.totals[j]
            )?;
            out.write_all(&head)?;
            weights.clear();
            for range in &parts {
                let worker = &workers[task % workers.len()];
                task += 1;
                let part = match worker {
                    Some((full, _)) => full.recv().map_err(|_| {
                        std::io::Error::other("a thread writing the speedscope samples stopped")
                    })?,
                    None => {
                        own.fill(&fold, &numbers, j, range.clone(), &mut scratch);
                        std::mem::take(&mut own)
                    }
                };
                if !part.samples.is_empty() {
                    if !weights.is_empty() {
                        out.write_all(b",")?;
                        weights.push(b',');
                    }
                    out.write_all(&part.samples)?;
                    weights.extend_from_slice(&part.weights);
                }
                match worker {
                    Some((_, empty)) => {
                        let _ = empty.send(part);
                    }
                    None => own = part,
                }
            }
            out.write_all(b"],\"weights\":[")?;
            out.write_all(&weights)?;
            out.write_all(b"]}")?;
        }
        out.write_all(b"]}\n")?;
        Ok(())
    })
}

/// Writes the file's start: its name, and the frames in the order of their numbers.
fn write_frames(
    fold: &Fold<'_>,
    numbers: &Numbers,
    name: &str,
    out: &mut impl Write,
) -> Result<(), Error> {
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(
        b"{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"name\":",
    );
    json(&mut buf, name);
    write!(
        buf,
        ",\"exporter\":\"dhat-kit {}\",\"activeProfileIndex\":0,\"shared\":{{\"frames\":[",
        env!("CARGO_PKG_VERSION")
    )?;
    for (n, &key) in numbers.keys.iter().enumerate() {
        let frame = super::Written::new(&fold.frame(key));
        buf.extend_from_slice(if n == 0 {
            b"\n{\"name\":"
        } else {
            b",\n{\"name\":"
        });
        json(&mut buf, &frame.name);
        if let Some(file) = frame.file {
            buf.extend_from_slice(b",\"file\":");
            json(&mut buf, file);
        }
        buf.push(b'}');
        if buf.len() >= 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"]},\n\"profiles\":[");
    out.write_all(&buf)?;
    Ok(())
}

/// `s` as a JSON string.
fn json(buf: &mut Vec<u8>, s: &str) {
    // Writing into a `Vec` cannot fail, nor can serialising a string.
    let _ = serde_json::to_writer(&mut *buf, s);
}

/// The text of a part of a figure's samples: the samples (`[0,4,17],[0,4,18]`) and their
/// weights (`12,30`), without brackets around them.
#[derive(Default)]
struct Part {
    samples: Vec<u8>,
    weights: Vec<u8>,
}

/// A walker's memory from stack to stack.
#[derive(Default)]
struct Scratch {
    /// The text of the last stack: its frames' numbers, each followed by a comma.
    text: Vec<u8>,
    /// Where the text of the last stack's first d frames ends, for each depth d.
    ends: Vec<usize>,
    /// The last stack's keys.
    last: Vec<u32>,
    /// The texts of the new frames' numbers, as [`Numbers::text`] has them.
    packed: Vec<u64>,
}

impl Part {
    /// The samples of figure `j` whose stacks start in `range` of the sorted walk.
    fn fill(
        &mut self,
        fold: &Fold<'_>,
        numbers: &Numbers,
        j: usize,
        range: Range<usize>,
        scratch: &mut Scratch,
    ) {
        self.samples.clear();
        self.weights.clear();
        let Scratch {
            text,
            ends,
            last,
            packed,
        } = scratch;
        text.clear();
        ends.clear();
        ends.push(0);
        last.clear();
        fold.for_each_nonzero_in(j, range, |keys, values| {
            if values[j] == 0 {
                return;
            }
            let same = last.iter().zip(keys).take_while(|(a, b)| a == b).count();
            ends.truncate(same + 1);
            text.truncate(ends[same]);
            // The numbers' texts are looked up first, all at once, so that their cache misses
            // overlap; then written.
            packed.clear();
            packed.extend(keys[same..].iter().map(|&k| numbers.text[k as usize]));
            for (&k, &p) in keys[same..].iter().zip(packed.iter()) {
                numbers.push(text, k, p);
                ends.push(text.len());
            }
            last.clear();
            last.extend_from_slice(keys);
            if !self.samples.is_empty() {
                self.samples.push(b',');
                self.weights.push(b',');
            }
            self.samples.push(b'[');
            self.samples.extend_from_slice(&text[..text.len() - 1]);
            self.samples.push(b']');
            super::push_decimal(&mut self.weights, values[j]);
        });
    }
}

/// The frames' numbers in the file: the fold's keys ordered by their uses (the stacks they are
/// in, counted once per figure a stack is written for), the most used first, with the text of
/// each number; and the figures' totals.
struct Numbers {
    /// The keys in the order of their numbers (the order of `shared.frames`).
    keys: Vec<u32>,
    /// For each key, its number's decimal text and a comma, packed in a u64 (the first character
    /// in the lowest byte; every character is non-zero, so the length is in the leading zero
    /// bytes); 0 for a number of more than 7 digits, which is formatted as it is written.
    text: Vec<u64>,
    /// For each key, its number.
    number: Vec<u32>,
    /// The sum of each figure over the profile.
    totals: Vec<u64>,
}

impl Numbers {
    /// Counts each key's uses in one pass over the program points in memory order, with the
    /// figures' totals, and numbers the keys.
    fn new(fold: &Fold<'_>) -> Numbers {
        // u32 counts (saturating; only their order matters), so that the table, randomly
        // accessed, takes half the cache.
        let mut uses = vec![0u32; fold.keys()];
        let mut totals = vec![0u64; fold.metrics().len()];
        fold.for_each_point(|keys, values| {
            let figures = values.iter().filter(|&&v| v != 0).count() as u32;
            for &k in keys {
                uses[k as usize] = uses[k as usize].saturating_add(figures);
            }
            for (t, &v) in totals.iter_mut().zip(values) {
                *t = t.saturating_add(v);
            }
        });
        let mut keys: Vec<u32> = (0..fold.keys() as u32).collect();
        keys.sort_unstable_by(|&a, &b| uses[b as usize].cmp(&uses[a as usize]).then(a.cmp(&b)));
        let mut number = vec![0u32; keys.len()];
        let mut text = vec![0u64; keys.len()];
        for (n, &k) in keys.iter().enumerate() {
            number[k as usize] = n as u32;
            text[k as usize] = Self::packed(n as u32);
        }
        Numbers {
            keys,
            text,
            number,
            totals,
        }
    }

    /// The text of number `n` and a comma, packed as in [`Numbers::text`].
    fn packed(n: u32) -> u64 {
        if n >= 10_000_000 {
            return 0;
        }
        let mut digits = Vec::with_capacity(16);
        super::push_decimal(&mut digits, u64::from(n));
        digits.push(b',');
        let mut packed = [0u8; 8];
        packed[..digits.len()].copy_from_slice(&digits);
        u64::from_le_bytes(packed)
    }

    /// Appends the number of `key` and a comma to `buf`, given `packed`, its entry in
    /// [`Numbers::text`].
    #[inline]
    fn push(&self, buf: &mut Vec<u8>, key: u32, packed: u64) {
        if packed != 0 {
            let len = buf.len();
            buf.extend_from_slice(&packed.to_le_bytes());
            buf.truncate(len + 8 - packed.leading_zeros() as usize / 8);
        } else {
            super::push_decimal(buf, u64::from(self.number[key as usize]));
            buf.push(b',');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A figure above 2^53, which speedscope would read as another (its numbers are doubles:
    /// 2^53 + 1 read as 2^53, its weights no longer adding up to the profile's end value), is
    /// refused, naming the figure, and nothing is written; 2^53 itself is exact and written.
    #[test]
    fn a_figure_beyond_what_speedscope_reads_exactly_is_refused() {
        let profile = |tb: u64| {
            let json = format!(
                r#"{{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":false,
                "bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
                "pps":[{{"tb":{tb},"tbk":1,"fs":[1]}},{{"tb":1,"tbk":1,"fs":[2]}}],
                "ftbl":["[root]","0x1: app::f (src/f.rs:4:9)","0x2: app::g (src/g.rs:4:9)"]}}"#
            );
            crate::profile::from_slice(json.as_bytes(), "app.json").unwrap()
        };
        let mut out = Vec::new();
        let e = speedscope(&profile(1 << 53), "app.json", &mut out).unwrap_err();
        assert!(
            matches!(&e, Error::Range { format: "speedscope", figure, total } if figure == "total_bytes" && *total == (1 << 53) + 1),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "total_bytes adds up to 9007199254740993, above speedscope's largest value, \
             9007199254740992 (speedscope reads its numbers as JavaScript's doubles, exact up to \
             2^53): nothing written"
        );
        assert!(out.is_empty());
        speedscope(&profile((1 << 53) - 1), "app.json", &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["profiles"][0]["endValue"], 1u64 << 53);
    }

    #[test]
    fn frames_and_one_profile_per_figure() {
        let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,"bkacc":false,
          "tu":"µs","Mtu":"s","tuth":10,"cmd":"app","pid":1,"tg":5,"te":9,
          "pps":[{"tb":30,"tbk":1,"tl":1,"mb":30,"mbk":1,"gb":30,"gbk":1,"eb":0,"ebk":0,"fs":[1,2]},
                 {"tb":12,"tbk":2,"tl":1,"mb":6,"mbk":1,"gb":0,"gbk":0,"eb":6,"ebk":1,"fs":[2]}],
          "ftbl":["[root]","0x1: app::parse (src/p.rs:3:1)","0x2: app::main (src/main.rs:9:5)"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "app.json").unwrap();
        let mut out = Vec::new();
        speedscope(&p, "app.json", &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let frames = &v["shared"]["frames"];
        // The most used frames first: main is in both stacks (for 8 figures), parse in one (4),
        // `[root]` in none.
        let (main, parse) = (0, 1);
        assert_eq!(frames[parse]["name"], "app::parse");
        assert_eq!(
            frames[parse],
            serde_json::json!({ "name": "app::parse", "file": "src/p.rs" })
        );
        assert_eq!(frames[main]["name"], "app::main");
        assert_eq!(frames[2]["name"], "[root]");
        let profiles = v["profiles"].as_array().unwrap();
        let names: Vec<&str> = profiles
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "bytes total: app.json",
                "blocks total: app.json",
                "bytes at t-gmax: app.json",
                "blocks at t-gmax: app.json",
                "bytes at t-end: app.json",
                "blocks at t-end: app.json"
            ]
        );
        assert_eq!(
            profiles[0]["samples"],
            serde_json::json!([[main], [main, parse]])
        );
        assert_eq!(profiles[0]["weights"], serde_json::json!([12, 30]));
        assert_eq!(profiles[0]["endValue"], 42);
        assert_eq!(profiles[0]["unit"], "bytes");
        assert_eq!(profiles[1]["unit"], "none");
        assert_eq!(profiles[2]["samples"], serde_json::json!([[main, parse]]));
        assert_eq!(profiles[4]["samples"], serde_json::json!([[main]]));
        assert_eq!(profiles[4]["weights"], serde_json::json!([6]));
    }

    #[test]
    fn a_function_is_one_frame_whatever_lines_it_allocates_from() {
        // main allocates from lines 9 and 12 and through parse; `parse` of two files is two.
        let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":false,"bkacc":false,
          "tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
          "pps":[{"tb":30,"tbk":1,"fs":[1,2]},{"tb":12,"tbk":1,"fs":[3]},{"tb":5,"tbk":1,"fs":[4,3]}],
          "ftbl":["[root]","0x1: parse (src/p.rs:3:1)","0x2: main (src/main.rs:9:5)",
            "0x3: main (src/main.rs:12:5)","0x4: parse (src/q.rs:3:1)"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "app.json").unwrap();
        let mut out = Vec::new();
        speedscope(&p, "app.json", &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["shared"]["frames"],
            serde_json::json!([
                { "name": "main", "file": "src/main.rs" },
                { "name": "parse", "file": "src/p.rs" },
                { "name": "parse", "file": "src/q.rs" },
                { "name": "[root]" },
            ])
        );
        assert_eq!(
            v["profiles"][0]["samples"],
            serde_json::json!([[0], [0, 1], [0, 2]])
        );
        assert_eq!(v["profiles"][0]["weights"], serde_json::json!([12, 30, 5]));
    }

    #[test]
    fn a_copy_the_compiler_made_is_its_functions_frame() {
        // `g++ -O2`'s copy of `app::fill` for a constant argument, and the function itself, from
        // one line under one caller; `gcc -O2`'s copy of C's `dup_key` alone.
        let json = r#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":false,"bkacc":false,
          "tu":"instrs","Mtu":"Minstr","cmd":"./clones","pid":1,"te":9,
          "pps":[{"tb":256,"tbk":1,"fs":[1,2]},{"tb":64,"tbk":2,"fs":[3,2]},{"tb":5,"tbk":1,"fs":[4,2]}],
          "ftbl":["[root]","0x1091EF: app::fill(int, int) [clone .constprop.0] (clones.cpp:16)",
            "0x10932F: app::fill_both(int, int) (clones.cpp:37)",
            "0x10922B: app::fill(int, int) (clones.cpp:16)","0x109379: dup_key.constprop.0 (keys.c:27)"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "clones.json").unwrap();
        let mut out = Vec::new();
        speedscope(&p, "clones.json", &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["shared"]["frames"],
            serde_json::json!([
                { "name": "app::fill_both(int, int)", "file": "clones.cpp" },
                { "name": "app::fill(int, int)", "file": "clones.cpp" },
                { "name": "dup_key", "file": "keys.c" },
                { "name": "[root]" },
            ])
        );
        assert_eq!(
            v["profiles"][0]["samples"],
            serde_json::json!([[0, 1], [0, 2]])
        );
        assert_eq!(v["profiles"][0]["weights"], serde_json::json!([320, 5]));
        assert_eq!(v["profiles"][1]["weights"], serde_json::json!([3, 1]));
    }

    #[test]
    fn unknown_code_at_each_address_is_a_frame_of_its_own() {
        let json = r#"{"dhatFileVersion":2,"mode":"copy","verb":"Copied","bklt":false,"bkacc":false,
          "tu":"instrs","Mtu":"Minstr","cmd":"ls","pid":1,"te":9,
          "pps":[{"tb":24,"tbk":1,"fs":[1,2,3]}],
          "ftbl":["[root]","0x10C785: ??? (in /usr/bin/ls)","0x10A1F0: ??? (in /usr/bin/ls)",
            "0x10C785: ??? (in /usr/bin/ls)"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "ls.json").unwrap();
        let mut out = Vec::new();
        speedscope(&p, "ls.json", &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let names: Vec<&str> = v["profiles"][0]["samples"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                v["shared"]["frames"][k.as_u64().unwrap() as usize]["name"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            names,
            ["0x10C785 (in ls)", "0x10A1F0 (in ls)", "0x10C785 (in ls)"]
        );
        let first = &v["shared"]["frames"][0];
        assert_eq!(first["file"], "/usr/bin/ls");
    }

    #[test]
    fn an_unknown_file_is_left_out() {
        let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":false,"bkacc":false,
          "tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,"pps":[{"tb":24,"tbk":1,"fs":[1]}],
          "ftbl":["[root]","0x1: <alloc::raw_vec::RawVecInner>::finish_grow (???:0:0)"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "app.json").unwrap();
        let mut out = Vec::new();
        speedscope(&p, "app.json", &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["shared"]["frames"][0],
            serde_json::json!({ "name": "<alloc::raw_vec::RawVecInner>::finish_grow" })
        );
    }

    #[test]
    fn reads_and_writes_are_profiles_with_block_accesses() {
        let json = r#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":true,"bkacc":true,
          "tu":"instrs","Mtu":"Minstr","tuth":500,"cmd":"ls","pid":1,"te":9,"tg":5,
          "pps":[{"tb":472,"tbk":1,"tl":10,"mb":472,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,
                  "rb":1628,"wb":882,"fs":[1]},
                 {"tb":24,"tbk":2,"tl":10,"mb":24,"mbk":2,"gb":24,"gbk":2,"eb":24,"ebk":2,
                  "rb":7,"wb":0,"fs":[2]}],
          "ftbl":["[root]","0x1: f (f.c:1)","0x2: g (g.c:1)"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "ls.json").unwrap();
        let mut out = Vec::new();
        speedscope(&p, "ls.json", &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let profiles = v["profiles"].as_array().unwrap();
        assert_eq!(profiles.len(), 8);
        let (read, written) = (&profiles[6], &profiles[7]);
        assert_eq!(read["name"], "bytes read: ls.json");
        assert_eq!(read["unit"], "bytes");
        assert_eq!(read["weights"], serde_json::json!([1628, 7]));
        assert_eq!(read["endValue"], 1635);
        assert_eq!(written["name"], "bytes written: ls.json");
        assert_eq!(written["weights"], serde_json::json!([882]));
        assert_eq!(written["samples"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn numbers_of_any_length() {
        let values = [
            0,
            7,
            10,
            99,
            100,
            4_321,
            9_999_999,
            10_000_000,
            123_456_789,
            u32::MAX,
        ];
        let numbers = Numbers {
            keys: Vec::new(),
            text: values.iter().map(|&n| Numbers::packed(n)).collect(),
            number: values.to_vec(),
            totals: Vec::new(),
        };
        let mut buf = b"[".to_vec();
        for k in 0..values.len() as u32 {
            numbers.push(&mut buf, k, numbers.text[k as usize]);
        }
        let want: String = values.iter().map(|n| format!("{n},")).collect();
        assert_eq!(String::from_utf8(buf).unwrap(), format!("[{want}"));
    }

    /// An ad-hoc profile of `points` program points over three frames.
    fn ad_hoc(points: usize) -> Profile {
        let pps: Vec<String> = (0..points)
            .map(|i| format!(r#"{{"tb":{i},"tbk":1,"fs":[{}]}}"#, 1 + i % 3))
            .collect();
        let json = format!(
            r#"{{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,"bkacc":false,
            "tu":"µs","Mtu":"s","cmd":"t","pid":1,"te":9,"pps":[{}],"ftbl":["[root]","a","b","c"]}}"#,
            pps.join(",")
        );
        crate::profile::from_slice(json.as_bytes(), "t.json").unwrap()
    }

    #[test]
    fn any_number_of_threads_writes_the_same_file() {
        let p = ad_hoc(3000);
        let mut default = Vec::new();
        speedscope(&p, "t.json", &mut default).unwrap();
        for threads in [0, 1, 2, 64] {
            let mut out = Vec::new();
            speedscope_with_threads(&p, "t.json", &mut out, threads).unwrap();
            assert!(out == default, "{threads} threads");
        }
    }

    #[test]
    fn a_failing_output_stops_the_threads() {
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0 < buf.len() {
                    return Err(std::io::Error::other("disk full"));
                }
                self.0 -= buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let p = ad_hoc(200);
        let mut whole = Vec::new();
        write_parts(&p, "t.json", &mut whole, 2, 3).unwrap();
        for room in [0, 100, whole.len() / 2, whole.len() - 1] {
            let result = write_parts(&p, "t.json", &mut Full(room), 2, 3);
            assert!(matches!(result, Err(Error::Io(_))), "{room}: {result:?}");
        }
    }

    /// The writer before frames were numbered by their uses and the walks cut in parts: frames
    /// numbered by the fold's keys, each figure's samples from one whole walk.
    fn by_keys(profile: &Profile, name: &str) -> serde_json::Value {
        let figures = super::super::figures(profile);
        let metrics: Vec<Metric> = figures.iter().map(|f| f.metric).collect();
        let fold = Fold::new(profile, FoldBy::FunctionInFile, &metrics);
        let frames: Vec<serde_json::Value> = (0..fold.keys() as u32)
            .map(|k| {
                let f = super::super::Written::new(&fold.frame(k));
                let mut o = serde_json::json!({ "name": f.name });
                if let Some(file) = f.file {
                    o["file"] = file.into();
                }
                o
            })
            .collect();
        let totals = fold.totals();
        let profiles: Vec<serde_json::Value> = figures
            .iter()
            .enumerate()
            .map(|(j, figure)| {
                let (mut samples, mut weights) = (Vec::new(), Vec::new());
                fold.for_each(0, |keys, values| {
                    if values[j] != 0 {
                        samples.push(keys.to_vec());
                        weights.push(values[j]);
                    }
                });
                serde_json::json!({
                    "type": "sampled", "name": figure.speedscope_name(name),
                    "unit": figure.speedscope_unit(), "startValue": 0, "endValue": totals[j],
                    "samples": samples, "weights": weights,
                })
            })
            .collect();
        serde_json::json!({ "shared": { "frames": frames }, "profiles": profiles })
    }

    /// Each profile's samples with their frames written out in full, and the rest of it.
    /// A file's shared frames, as text, sorted.
    fn sorted_frames(file: &serde_json::Value) -> Vec<String> {
        let mut frames: Vec<String> = file["shared"]["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.to_string())
            .collect();
        frames.sort();
        frames
    }

    fn named(file: &serde_json::Value) -> Vec<serde_json::Value> {
        let frames = file["shared"]["frames"].as_array().unwrap();
        file["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let mut p = p.clone();
                let samples: Vec<Vec<serde_json::Value>> = p["samples"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| {
                        s.as_array()
                            .unwrap()
                            .iter()
                            .map(|k| frames[k.as_u64().unwrap() as usize].clone())
                            .collect()
                    })
                    .collect();
                p["samples"] = serde_json::json!(samples);
                p
            })
            .collect()
    }

    #[test]
    fn samples_name_the_frames_the_fold_has_and_parts_join_up() {
        let mut next = crate::analyze::test_rng(0x9E37_79B9_7F4A_7C15u64);
        for round in 0..60 {
            // Frames of a few functions, some at two addresses or lines (one key).
            let frames = 1 + next(12);
            let ftbl: Vec<String> = (1..=frames)
                .map(|i| {
                    let f = next(6);
                    format!("\"0x{i:x}: f{f} (src/f{f}.rs:{}:{})\"", f % 3 + 1, next(3))
                })
                .collect();
            let pps: Vec<String> = (0..next(40))
                .map(|_| {
                    let fs: Vec<String> = (0..next(6))
                        .map(|_| next(frames + 1).to_string())
                        .collect();
                    // Figures often 0, so that the figures' samples differ; the live ones at
                    // most the totals, as in any profile that reads.
                    let mut f = |most: u64| {
                        if most == 0 || next(3) == 0 {
                            0
                        } else {
                            1 + next(most)
                        }
                    };
                    let (tb, tbk) = (f(1000), f(1000));
                    format!(
                        r#"{{"tb":{tb},"tbk":{tbk},"tl":1,"mb":1,"mbk":1,"gb":{},"gbk":{},"eb":{},"ebk":{},"fs":[{}]}}"#,
                        f(tb), f(tbk), f(tb), f(tbk),
                        fs.join(",")
                    )
                })
                .collect();
            let json = format!(
                r#"{{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,"bkacc":false,
                "tu":"µs","Mtu":"s","tuth":10,"cmd":"t","pid":1,"tg":5,"te":9,
                "pps":[{}],"ftbl":["[root]",{}]}}"#,
                pps.join(","),
                ftbl.join(",")
            );
            let p = crate::profile::from_slice(json.as_bytes(), "t.json").unwrap();
            let want = by_keys(&p, "t.json");
            let frames = sorted_frames(&want);
            for (part, threads) in [(1, 2), (2, 0), (3, 1), (7, 3), (PART, 2)] {
                let mut out = Vec::new();
                write_parts(&p, "t.json", &mut out, part, threads).unwrap();
                let got: serde_json::Value = serde_json::from_slice(&out)
                    .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
                assert_eq!(
                    named(&got),
                    named(&want),
                    "round {round}, parts of {part}, {threads} threads"
                );
                assert_eq!(
                    sorted_frames(&got),
                    frames,
                    "round {round}: the same frames"
                );
            }
        }
    }
}
