//! DHAT's JSON profile format: the model, a streaming reader and an atomic writer.
//!
//! One model covers every file DHAT's viewer opens: dhat-rs's heap (`"mode": "rust-heap"`) and
//! ad-hoc (`"rust-ad-hoc"`) profiles, Valgrind DHAT's `heap`, `copy` and `ad-hoc` profiles, and
//! dhat-kit's own peak profiles (`"dhat-kit-peak"`, read as a heap profile). The field names are
//! DHAT's own (file version 2, as documented in Valgrind's `dhat/dh_main.c` and checked by its
//! viewer, `dh_view.js`):
//!
//! | field | meaning |
//! |---|---|
//! | `dhatFileVersion` | always 2 |
//! | `mode` | `heap`, `copy`, `ad-hoc`, `rust-heap`, `rust-ad-hoc`, `dhat-kit-peak` |
//! | `verb` | `Allocated`, `Copied`, `Occurred` |
//! | `bklt` | whether block lifetimes (`tl`, `mb`, `mbk`, `gb`, `gbk`, `eb`, `ebk`, and `tg`, `tuth`) are present |
//! | `bkacc` | whether block accesses (`rb`, `wb`, and optionally `acc`) are present |
//! | `bu`, `bsu`, `bksu` | unit names (singular, plural, and for blocks) when not bytes and blocks |
//! | `tu`, `Mtu` | time unit and its million (`µs`/`s`, or `instrs`/`Minstr`) |
//! | `tuth` | the threshold under which a block counts as short-lived, in `tu` |
//! | `cmd`, `pid` | the profiled command and its process id |
//! | `te`, `tg` | time at the end, and at the global heap peak (t-gmax), in `tu` |
//! | `pps` | the program points: one per distinct allocation stack |
//! | `ftbl` | the frame table: `fs` in a program point indexes it, innermost frame first |
//!
//! # Examples
//!
//! ```
//! let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated",
//!   "bklt":false,"bkacc":false,"bu":"unit","bsu":"units","bksu":"events",
//!   "tu":"µs","Mtu":"s","cmd":"demo","pid":7,"te":100,
//!   "pps":[{"tb":30,"tbk":2,"fs":[1]}],"ftbl":["[root]","0x1: demo::main (src/main.rs:3:5)"]}"#;
//! let profile = dhat_kit::profile::from_slice(json.as_bytes(), "demo.json")?;
//! assert_eq!(profile.kind(), dhat_kit::profile::Kind::AdHoc);
//! assert_eq!(profile.totals().bytes, 30);
//! # Ok::<(), dhat_kit::profile::ProfileError>(())
//! ```

mod de;
mod error;
mod fast;
pub(crate) mod frame;
mod keys;
mod point;
mod ser;
mod trim;

use std::io::Read;
use std::path::Path;

pub use self::error::ProfileError;
pub use self::frame::{Frame, ALLOCATION_WRAPPERS};

/// The DHAT file version this reader and writer speak.
pub const FILE_VERSION: u64 = 2;

/// The `mode` of dhat-kit's own peak profiles (a heap profile with block lifetimes).
pub const PEAK_MODE: &str = "dhat-kit-peak";

/// The `mode` of dhat-kit's sampled profiles (a heap profile with block lifetimes, feature
/// `sampled`).
pub const SAMPLED_MODE: &str = "dhat-kit-sampled";

/// A DHAT profile, as in the file, with its frame table shared by every program point.
///
/// Optional per-point figures are kept as plain integers: the profile's [`bklt`](Profile::bklt)
/// and [`bkacc`](Profile::bkacc) say whether they were in the file (and whether
/// [`write`](Profile::write) puts them out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// `dhatFileVersion`: always [`FILE_VERSION`].
    pub version: u64,
    /// `mode`: `heap`, `copy`, `ad-hoc` (Valgrind), `rust-heap`, `rust-ad-hoc` (dhat-rs) or
    /// [`PEAK_MODE`] (dhat-kit).
    pub mode: String,
    /// `verb`: `Allocated`, `Copied` or `Occurred`.
    pub verb: String,
    /// `bklt`: the file has block lifetimes (`tl`, `mb`, `mbk`, `gb`, `gbk`, `eb`, `ebk`, `tg`, `tuth`).
    pub bklt: bool,
    /// `bkacc`: the file has block accesses (`rb`, `wb`, `acc`).
    pub bkacc: bool,
    /// `bu`: the unit's singular name when it is not "byte" (ad-hoc: "unit").
    pub bu: Option<String>,
    /// `bsu`: the unit's plural name when it is not "bytes" (ad-hoc: "units").
    pub bsu: Option<String>,
    /// `bksu`: the plural name of blocks when they are not "blocks" (ad-hoc: "events").
    pub bksu: Option<String>,
    /// `tu`: the time unit (`µs` for dhat-rs and dhat-kit, `instrs` for Valgrind).
    pub tu: String,
    /// `Mtu`: a million time units (`s`, `Minstr`).
    pub mtu: String,
    /// `tuth`: the short-lived threshold, in `tu` (present with block lifetimes).
    pub tuth: Option<u64>,
    /// `cmd`: the profiled command line.
    pub cmd: String,
    /// `pid`: the profiled process's id.
    pub pid: u64,
    /// `te`: the time at the end, in `tu`.
    pub te: u64,
    /// `tg`: the time of the global heap peak (t-gmax), in `tu` (present with block lifetimes).
    pub tg: Option<u64>,
    /// `pps`: the program points.
    pub pps: Vec<ProgramPoint>,
    /// `ftbl`: the frame table; entry 0 is `[root]`.
    pub ftbl: Vec<Box<str>>,
}

/// One program point: the figures of every block allocated (or copy, or event) at one stack.
///
/// Figures the file does not carry (see [`Profile::bklt`] and [`Profile::bkacc`]) read 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgramPoint {
    /// `tb`: total bytes (or units).
    pub tb: u64,
    /// `tbk`: total blocks (or events).
    pub tbk: u64,
    /// `tl`: total lifetime of the blocks, in `tu`.
    pub tl: u64,
    /// `mb`: the point's maximum of live bytes, as its producer records it. Informative only,
    /// and not an upper bound of [`gb`](Self::gb) or [`eb`](Self::eb): Valgrind updates a point's
    /// maximum only when one of its allocations sets a new global maximum, so it is often 0;
    /// dhat-rs records the point's own maximum of live bytes.
    pub mb: u64,
    /// `mbk`: the live blocks when the point's byte maximum was reached (not the point's maximum
    /// of blocks: ten small blocks live at t-gmax can follow a single larger block at the byte
    /// maximum, so `gbk > mbk` is legal). Informative only, like [`mb`](Self::mb).
    pub mbk: u64,
    /// `gb`: live bytes at the global peak (t-gmax).
    pub gb: u64,
    /// `gbk`: live blocks at the global peak (t-gmax).
    pub gbk: u64,
    /// `eb`: live bytes at the end (t-end).
    pub eb: u64,
    /// `ebk`: live blocks at the end (t-end).
    pub ebk: u64,
    /// `rb`: bytes read from the blocks.
    pub rb: u64,
    /// `wb`: bytes written to the blocks.
    pub wb: u64,
    /// `acc`: the run-length encoded access counts per byte offset (a negative entry repeats the
    /// next one that many times), when the file has them.
    pub acc: Option<Box<[i64]>>,
    /// `fs`: the stack, innermost first, as indices into [`Profile::ftbl`].
    pub fs: Box<[u32]>,
}

/// What a profile counts, from its `mode` (and, for a mode this reader does not know, `bklt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Kind {
    /// Heap blocks with lifetimes: `heap`, `rust-heap`, `dhat-kit-peak`.
    Heap,
    /// Memory copies: `copy`.
    Copy,
    /// Weighted events: `ad-hoc`, `rust-ad-hoc`.
    AdHoc,
}

/// The sums of a profile's program points.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Totals {
    /// Total bytes (or units) allocated: the sum of `tb`.
    pub bytes: u64,
    /// Total blocks (or events): the sum of `tbk`.
    pub blocks: u64,
    /// Bytes live at the global peak: the sum of `gb` (heap profiles only).
    pub peak_bytes: Option<u64>,
    /// Blocks live at the global peak: the sum of `gbk` (heap profiles only).
    pub peak_blocks: Option<u64>,
    /// Bytes live at the end: the sum of `eb` (heap profiles only).
    pub end_bytes: Option<u64>,
    /// Blocks live at the end: the sum of `ebk` (heap profiles only).
    pub end_blocks: Option<u64>,
    /// Bytes read from blocks: the sum of `rb` (Valgrind heap profiles only).
    pub read_bytes: Option<u64>,
    /// Bytes written to blocks: the sum of `wb` (Valgrind heap profiles only).
    pub written_bytes: Option<u64>,
}

impl Profile {
    /// What the profile counts: [`Kind::Heap`] for `heap`, `rust-heap` and [`PEAK_MODE`];
    /// [`Kind::Copy`] for `copy`; [`Kind::AdHoc`] for `ad-hoc` and `rust-ad-hoc`. Another mode is
    /// a heap profile if it has block lifetimes, ad-hoc otherwise.
    #[must_use]
    pub fn kind(&self) -> Kind {
        match self.mode.as_str() {
            "heap" | "rust-heap" | PEAK_MODE => Kind::Heap,
            "copy" => Kind::Copy,
            "ad-hoc" | "rust-ad-hoc" => Kind::AdHoc,
            _ if self.bklt => Kind::Heap,
            _ => Kind::AdHoc,
        }
    }

    /// The totals DHAT prints at exit (`Total`, `At t-gmax`, `At t-end`, `Reads`, `Writes`),
    /// summed over the program points.
    #[must_use]
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        let (mut gb, mut gbk, mut eb, mut ebk, mut rb, mut wb) =
            (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
        for pp in &self.pps {
            t.bytes = t.bytes.saturating_add(pp.tb);
            t.blocks = t.blocks.saturating_add(pp.tbk);
            gb = gb.saturating_add(pp.gb);
            gbk = gbk.saturating_add(pp.gbk);
            eb = eb.saturating_add(pp.eb);
            ebk = ebk.saturating_add(pp.ebk);
            rb = rb.saturating_add(pp.rb);
            wb = wb.saturating_add(pp.wb);
        }
        if self.bklt {
            t.peak_bytes = Some(gb);
            t.peak_blocks = Some(gbk);
            t.end_bytes = Some(eb);
            t.end_blocks = Some(ebk);
        }
        if self.bkacc {
            t.read_bytes = Some(rb);
            t.written_bytes = Some(wb);
        }
        t
    }

    /// The plural name of the profile's unit: `bytes`, or the file's `bsu` (`units`).
    #[must_use]
    pub fn unit_plural(&self) -> &str {
        self.bsu.as_deref().unwrap_or("bytes")
    }

    /// The plural name of the profile's blocks: `blocks`, or the file's `bksu` (`events`).
    #[must_use]
    pub fn blocks_plural(&self) -> &str {
        self.bksu.as_deref().unwrap_or("blocks")
    }

    /// The parsed frame `index` of the frame table, or `None` if out of range.
    #[must_use]
    pub fn frame(&self, index: u32) -> Option<Frame<'_>> {
        self.ftbl.get(index as usize).map(|s| Frame::parse(s))
    }

    /// Writes the profile as DHAT JSON, in the layout Valgrind uses (one program point per few
    /// lines), to `path`, atomically: a temporary file in the same directory, then a rename.
    ///
    /// # Errors
    ///
    /// The I/O error of creating, writing or renaming the file.
    pub fn write(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let path = path.as_ref();
        let mut bytes = Vec::new();
        self.write_to(&mut bytes)?;
        crate::atomic_file::write(path, &bytes)
    }

    /// Writes the profile as DHAT JSON to `out`.
    ///
    /// # Errors
    ///
    /// The I/O error of `out`.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        ser::write(self, out)
    }

    /// Checks what a well-typed file can still get wrong, and no real producer writes: the
    /// version, the fields its `bklt` needs, frame indices in range, t-gmax after the end, a
    /// point's live figures above what it allocated (see below), and sums of a figure over the
    /// program points that overflow 64 bits.
    ///
    /// With block lifetimes, the bytes and blocks a point holds live at t-gmax or at the end are
    /// at most what it allocated: `gb` and `eb` at most `tb`, `gbk` and `ebk` at most `tbk`. Not
    /// in dhat-kit's peak profiles ([`PEAK_MODE`]), whose point for allocations outside any
    /// region holds the whole session's live figures. A point's maximum (`mb`, `mbk`) is not checked against them: it is not an
    /// upper bound of its figures at t-gmax or at the end in files that real producers write (see
    /// [`ProgramPoint::mb`]).
    ///
    /// # Errors
    ///
    /// A [`ProfileError`] naming `file`, what was expected and the field path.
    pub fn validate(&self, file: &str) -> Result<(), ProfileError> {
        let bad = |path: String, expected: String| Err(ProfileError::new(file, expected, path));
        if self.version != FILE_VERSION {
            return bad(
                "dhatFileVersion".into(),
                format!("DHAT file version {FILE_VERSION}, found {}", self.version),
            );
        }
        if self.bklt {
            if self.tg.is_none() {
                return bad("tg".into(), "field `tg` (bklt is true)".into());
            }
            if self.tuth.is_none() {
                return bad("tuth".into(), "field `tuth` (bklt is true)".into());
            }
        }
        if let Some(tg) = self.tg {
            if tg > self.te {
                return bad(
                    "tg".into(),
                    format!("t-gmax `tg` ({tg}) at or before the end `te` ({})", self.te),
                );
            }
        }
        let frames = self.ftbl.len();
        for (i, pp) in self.pps.iter().enumerate() {
            for (j, &f) in pp.fs.iter().enumerate() {
                if f as usize >= frames {
                    return bad(
                        format!("pps[{i}].fs[{j}]"),
                        format!("a frame index below {frames} (the size of ftbl), found {f}"),
                    );
                }
            }
        }
        self.check_live(file)?;
        self.check_sums(file)
    }

    /// Checks that no point holds more bytes or blocks live, at t-gmax or at the end, than it
    /// allocated (see [`validate`](Profile::validate)).
    fn check_live(&self, file: &str) -> Result<(), ProfileError> {
        if !self.bklt || self.mode == PEAK_MODE {
            return Ok(());
        }
        for (i, pp) in self.pps.iter().enumerate() {
            for (name, live, total_name, total) in [
                ("gb", pp.gb, "tb", pp.tb),
                ("eb", pp.eb, "tb", pp.tb),
                ("gbk", pp.gbk, "tbk", pp.tbk),
                ("ebk", pp.ebk, "tbk", pp.tbk),
            ] {
                if live > total {
                    return Err(ProfileError::new(
                        file,
                        format!("`{name}` ({live}) at most `{total_name}` ({total})"),
                        format!("pps[{i}].{name}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks that each figure summed over the program points fits in a `u64`, so that
    /// [`totals`](Profile::totals) and every table built on them are exact.
    fn check_sums(&self, file: &str) -> Result<(), ProfileError> {
        type Field = (&'static str, fn(&ProgramPoint) -> u64);
        const FIELDS: [Field; 8] = [
            ("tb", |p| p.tb),
            ("tbk", |p| p.tbk),
            ("gb", |p| p.gb),
            ("gbk", |p| p.gbk),
            ("eb", |p| p.eb),
            ("ebk", |p| p.ebk),
            ("rb", |p| p.rb),
            ("wb", |p| p.wb),
        ];
        let mut sums = [0u64; FIELDS.len()];
        for (i, pp) in self.pps.iter().enumerate() {
            for ((name, get), sum) in FIELDS.iter().zip(&mut sums) {
                *sum = sum.checked_add(get(pp)).ok_or_else(|| {
                    ProfileError::new(
                        file,
                        format!("figures whose sum over the program points fits in 64 bits, found `{name}` overflowing"),
                        format!("pps[{i}].{name}"),
                    )
                })?;
            }
        }
        Ok(())
    }
}

/// Reads and checks the DHAT profile at `path`, streaming: the file is never held whole in
/// memory, and frames are kept once, in the frame table.
///
/// # Errors
///
/// A [`ProfileError`] that names the file, what was expected, and where (line and column, and
/// the field path), if the file cannot be read, is not JSON, is not a DHAT profile of version 2,
/// or is inconsistent (a frame index out of range, a negative count, a point with more bytes or
/// blocks live at t-gmax or at the end than it allocated).
///
/// # Examples
///
/// ```no_run
/// let profile = dhat_kit::profile::read("dhat-heap.json")?;
/// println!("{} program points", profile.pps.len());
/// # Ok::<(), dhat_kit::profile::ProfileError>(())
/// ```
pub fn read(path: impl AsRef<Path>) -> Result<Profile, ProfileError> {
    read_with_progress(path, |_| {})
}

/// [`read`], calling `progress` with the number of bytes read so far as the reading goes (every
/// 4 MiB or so), for a progress bar.
///
/// # Errors
///
/// As [`read`].
pub fn read_with_progress(
    path: impl AsRef<Path>,
    progress: impl FnMut(u64),
) -> Result<Profile, ProfileError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| ProfileError::unreadable(&name, e, "open"))?;
    // A directory opens on Unix, and only its first read fails.
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(ProfileError::new(
            &name,
            "a file, found a directory",
            "open",
        ));
    }
    from_reader(de::Progress::new(file, progress), &name)
}

/// Reads and checks a DHAT profile from `reader` (buffered here); `name` names it in errors.
///
/// # Errors
///
/// As [`read`].
pub fn from_reader(reader: impl Read, name: &str) -> Result<Profile, ProfileError> {
    let profile = fast::read(reader, name)?;
    profile.validate(name)?;
    Ok(profile)
}

/// Reads and checks a DHAT profile held in memory; `name` names it in errors.
///
/// # Errors
///
/// As [`read`].
pub fn from_slice(bytes: &[u8], name: &str) -> Result<Profile, ProfileError> {
    let profile = fast::read(bytes, name)?;
    profile.validate(name)?;
    Ok(profile)
}

#[cfg(test)]
mod tests {
    /// A heap profile with block lifetimes, one program point: `tb` 4096 in `tbk` 4 blocks, its
    /// live figures replaced by `live` (`"gb":...,"gbk":...,"eb":...,"ebk":...`).
    fn heap(mode: &str, live: &str) -> String {
        format!(
            r#"{{"dhatFileVersion":2,"mode":"{mode}","verb":"Allocated","bklt":true,"bkacc":false,
              "tu":"µs","Mtu":"s","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,
              "pps":[{{"tb":4096,"tbk":4,"tl":3,"mb":0,"mbk":0,{live},"fs":[1]}}],
              "ftbl":["[root]","0x1: app::main (src/main.rs:3:5)"]}}"#
        )
    }

    #[test]
    fn live_figures_up_to_the_points_totals_read() {
        // All live at t-gmax and at the end, above a point's maximum (`mb`, `mbk` are 0).
        let json = heap("heap", r#""gb":4096,"gbk":4,"eb":4096,"ebk":4"#);
        let p = super::from_slice(json.as_bytes(), "ok.json").unwrap();
        assert_eq!(p.totals().peak_bytes, Some(4096));
    }

    #[test]
    fn a_peak_profiles_outside_point_holds_the_sessions_live_figures() {
        // dhat-kit's peak profile gives what is live in the whole session to its outside point,
        // whose totals are only what was allocated outside any region.
        let json = heap(super::PEAK_MODE, r#""gb":8192,"gbk":9,"eb":8192,"ebk":9"#);
        let p = super::from_slice(json.as_bytes(), "peak.json").unwrap();
        assert_eq!(p.totals().peak_blocks, Some(9));
    }

    #[test]
    fn live_figures_above_the_points_totals_are_rejected() {
        for (live, expected, at) in [
            (
                r#""gb":1000000000,"gbk":4,"eb":0,"ebk":0"#,
                "`gb` (1000000000) at most `tb` (4096)",
                "pps[0].gb",
            ),
            (
                r#""gb":4096,"gbk":4,"eb":4097,"ebk":1"#,
                "`eb` (4097) at most `tb` (4096)",
                "pps[0].eb",
            ),
            (
                r#""gb":4096,"gbk":5,"eb":0,"ebk":0"#,
                "`gbk` (5) at most `tbk` (4)",
                "pps[0].gbk",
            ),
            (
                r#""gb":0,"gbk":0,"eb":10,"ebk":40"#,
                "`ebk` (40) at most `tbk` (4)",
                "pps[0].ebk",
            ),
        ] {
            let json = heap("rust-heap", live);
            let e = super::from_slice(json.as_bytes(), "bad.json").unwrap_err();
            assert_eq!(e.file(), "bad.json");
            assert_eq!(e.expected(), expected, "{live}");
            assert_eq!(e.location(), at, "{live}");
            assert_eq!(
                e.to_string(),
                format!("dhat-kit: bad.json: expected {expected}, at {at}")
            );
        }
    }

    /// Input that is no JSON object is refused at its first byte, without reading on: a file of
    /// zeros (a preallocated file never written) was read whole, 530 MB held for 300 MB, before
    /// its error at line 1 column 1, and an endless one (`/dev/zero`) ran the process out of
    /// memory.
    #[test]
    fn input_that_is_no_object_is_refused_at_its_first_byte() {
        struct Counted<R>(R, std::rc::Rc<std::cell::Cell<u64>>);
        impl<R: std::io::Read> std::io::Read for Counted<R> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.read(buf)?;
                self.1.set(self.1.get() + n as u64);
                Ok(n)
            }
        }
        for (byte, found) in [(0u8, "zeros"), (b'[', "an array"), (b'7', "digits")] {
            let read = std::rc::Rc::new(std::cell::Cell::new(0));
            let input = std::io::Read::take(std::io::repeat(byte), 64 << 20);
            let err = super::from_reader(Counted(input, read.clone()), "zeros.json").unwrap_err();
            // One buffer's read, at most.
            let most = super::fast::BUFFER as u64;
            assert!(read.get() <= most, "{found}: {} bytes read", read.get());
            assert_eq!(
                err.to_string(),
                "dhat-kit: zeros.json: expected a DHAT profile (a JSON object with \
                 dhatFileVersion, mode, pps, ftbl, ...), at top level, line 1 column 1",
                "{found}"
            );
        }
        // Endless: the same error, at once.
        assert!(super::from_reader(std::io::repeat(0), "zero").is_err());
    }

    /// The value of a key the reader does not know is read as JSON whole, and refused where it
    /// is none.
    #[test]
    fn a_value_of_an_unknown_key_is_read_as_json_whole() {
        let file = |top: &str, point: &str| {
            let mut f = br#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":false,
"bkacc":false,"tu":"i","Mtu":"M","cmd":"a","pid":1,"te":1,"pps":[{"tb":1,"tbk":1,"fs":[]"#
                .to_vec();
            f.extend_from_slice(point.as_bytes());
            f.extend_from_slice(b"}],\"ftbl\":[\"[root]\"]");
            f.extend_from_slice(top.as_bytes());
            f.push(b'}');
            f
        };
        // Values of every kind are read through and dropped, here and in a program point.
        let any = r#","x":[1,-2,3.5e3,true,null,"\u00e9\n",{"k":[{}],"l":"cafÃ©"}]"#;
        let p = super::from_slice(&file(any, any), "any.json").unwrap();
        assert_eq!((p.pps.len(), p.pps[0].tb), (1, 1));
        // A string that is not UTF-8 is no JSON, wherever it is: serde's IgnoredAny skipped its
        // bytes unchecked, and the file read (found by fuzzing).
        let mut bad = file("", "");
        bad.truncate(bad.len() - 1);
        bad.extend_from_slice(b",\"x\":\"\xff\"}");
        let err = super::from_slice(&bad, "top.json").unwrap_err();
        // Said as bytes that are not UTF-8 (Valgrind's file of a Latin-1 command line), with what
        // to do: it said "invalid unicode code point" alone.
        assert_eq!(
            err.expected(),
            "valid JSON (invalid unicode code point: a string holds bytes that are not UTF-8, as \
             Valgrind writes a command line or a path that is not; convert the file to UTF-8, \
             e.g. with iconv)"
        );
        assert_eq!(err.location(), r#""x", line 2 column 115"#);
        let mut bad = file("", "");
        let at = bad.windows(3).position(|w| w == b"[]}").unwrap() + 2;
        bad.splice(at..at, b",\"x\":[\"\xff\"]".iter().copied());
        let err = super::from_slice(&bad, "point.json").unwrap_err();
        assert!(err.expected().contains("not UTF-8"), "{}", err.expected());
        assert_eq!(err.location(), "pps[0], line 2 column 96");
    }

    /// One value without end (`{"cmd":"aaa...` from a stream that never closes) is refused once
    /// it fills the reader's buffer at its most: the buffer doubled for it until the process ran
    /// out of memory. A value within the most is read.
    #[test]
    fn a_value_without_end_is_refused_at_the_buffers_most() {
        use std::io::Read;
        let most = 16 << 20;
        let head = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
            "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"pid":1,"te":10,"tg":5,"cmd":""#;
        let endless = head.as_bytes().chain(std::io::repeat(b'a'));
        let err = super::fast::read_within(endless, "stdin", most).unwrap_err();
        assert_eq!(
            err.expected(),
            "a value of at most 16.0 MiB (a command line, a frame, a program point), found one \
             larger: no DHAT profile holds one"
        );
        // The value's opening quote, in bytes.
        assert_eq!(err.location(), "cmd, line 2 column 87");
        // An element of pps or ftbl on a line of its own is said where it starts, as an
        // element: it was said at the end of the line before, and a program point at the field
        // serde's last try of it had reached (pps[1].fs[32730]).
        let big_fs = vec!["1"; 4 << 20].join(",");
        let pps = format!(
            r#"{head}t","pps":[{{"tb":1,"tbk":1,"fs":[1]}},
  {{"tb":1,"tbk":1,"fs":[{big_fs}]}}],"ftbl":["[root]"]}}"#
        );
        let err = super::fast::read_within(pps.as_bytes(), "pps.json", 1 << 20).unwrap_err();
        assert_eq!(err.location(), "pps[1], line 3 column 3");
        let ftbl = format!(
            r#"{head}t","pps":[],"ftbl":["[root]",
 "{}"]}}"#,
            "f".repeat(2 << 20)
        );
        let err = super::fast::read_within(ftbl.as_bytes(), "ftbl.json", 1 << 20).unwrap_err();
        assert_eq!(err.location(), "ftbl[1], line 3 column 2");
        // A key no profile has is named by the path where its value goes wrong: it was said
        // at "top level".
        let other = format!(r#"{head}t","extra":"{}"#, "a".repeat(2 << 20));
        let err = super::fast::read_within(other.as_bytes(), "other.json", 1 << 20).unwrap_err();
        assert_eq!(err.location(), r#""extra", line 2 column 99"#);
        let long = format!(r#"{head}t","{}\n":[1,}}"#, "k".repeat(70));
        let err = super::fast::read(long.as_bytes(), "long.json").unwrap_err();
        assert_eq!(
            err.location(),
            format!(r#""{}…", line 2 column 169"#, "k".repeat(60))
        );
        let escaped = format!(r#"{head}t","a\nb":tru}}"#);
        let err = super::fast::read(escaped.as_bytes(), "escaped.json").unwrap_err();
        assert_eq!(err.location(), r#""a\nb", line 2 column 101"#);
        // A value cut short inside the file (`1.`, `tru`) is said as incomplete, at the
        // delimiter after it; it was said as the end of the file, a column before.
        assert_eq!(err.expected(), "valid JSON (an incomplete value)");
        for (value, column) in [("1.", 98), ("-", 97), ("1e+", 99), ("nul", 99)] {
            let text = format!(r#"{head}t","bu":{value},"pps":[],"ftbl":["[root]"]}}"#);
            let err = super::fast::read(text.as_bytes(), "cut.json").unwrap_err();
            assert_eq!(
                err.expected(),
                "valid JSON (an incomplete value)",
                "{value}"
            );
            assert_eq!(
                err.location(),
                format!("bu, line 2 column {column}"),
                "{value}"
            );
        }
        // At the end of the file, it is the file that ends.
        let text = format!(r#"{head}t","bu":1."#);
        let err = super::fast::read(text.as_bytes(), "end.json").unwrap_err();
        assert!(
            err.expected().starts_with("the rest of the JSON document"),
            "{err}"
        );
        // A command line of 12 MiB, beyond the first buffer (4 MiB), within the most.
        let cmd = "a".repeat(12 << 20);
        let whole = format!(r#"{head}{cmd}","pps":[],"ftbl":["[root]"]}}"#);
        let p = super::fast::read_within(whole.as_bytes(), "big.json", most).unwrap();
        assert_eq!(p.cmd.len(), cmd.len());
    }
}
