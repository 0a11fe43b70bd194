//! The reader of DHAT files, for files, streams and bytes in memory alike: the one owner of the
//! top level (its keys, the version check, the required fields). The input is read into one large
//! buffer; each element of `pps` and `ftbl`, and each other top-level value, is parsed straight
//! from that buffer as a slice (which serde_json does faster than from a `Read`), and when one
//! runs past the buffer's end, more is read (the buffer grows only for a single value larger than
//! it, to 256 MiB at most) and the element is parsed again. Memory stays at the buffer plus the
//! model. A program point of the usual shape is parsed by `point.rs`, any other by serde
//! (`de.rs`), on the same keys (`keys.rs`). The fuzz test checks the reader against an
//! independent one (`serde_json::Value`).

use std::io::Read;

use serde::de::{DeserializeOwned, DeserializeSeed};

use super::de::{data_message, PpSeed, Tracker};
use super::{Profile, ProfileError, ProgramPoint, FILE_VERSION};

/// The reader's buffer: what one read takes in, grown only as one value needs.
pub(super) const BUFFER: usize = 4 << 20;

/// The most the buffer grows to for one value: far above any DHAT file's (its command line, a
/// frame's name, a program point), so that a value without end (`{"cmd":"aaa...` from a stream
/// that never closes) is an error, not a process out of memory.
const MOST_BUFFER: usize = 256 << 20;

/// The top-level keys the reader uses (a bit each, to find one repeated).
const TOP_KEYS: [&str; 17] = [
    "dhatFileVersion",
    "mode",
    "verb",
    "bklt",
    "bkacc",
    "bu",
    "bsu",
    "bksu",
    "tu",
    "Mtu",
    "tuth",
    "cmd",
    "pid",
    "te",
    "tg",
    "pps",
    "ftbl",
];

thread_local! {
    /// The field path of the reading on this thread (the reader is not reentrant).
    static TRACKER: Tracker = Tracker::default();
}

/// A program point read through the thread's [`TRACKER`], so that serde_json's stream
/// deserializer (which takes a type, not a seed) keeps the field path and missing fields.
struct Tracked(ProgramPoint);

impl<'de> serde::Deserialize<'de> for Tracked {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        TRACKER
            .with(|t| {
                // An earlier try that ran past the buffer's end may have left its key or index.
                t.pp_key.set(None);
                t.index.set(None);
                PpSeed(t).deserialize(d)
            })
            .map(Tracked)
    }
}

/// Parses one value of type `T` at the scanner's position straight from the buffer, reading
/// more and trying again if the value runs past the buffer's end; moves past it.
fn stream_one<R: Read, T: DeserializeOwned>(
    s: &mut Scanner<R>,
    t: &Tracker,
    name: &str,
) -> Result<T, Fail> {
    // From the value's first byte, past the whitespace after a `,`, so that an error said of the
    // whole value (too large) points at its start.
    s.peek()?;
    // A value too large is said at the element (`pps[3]`), not at the field of a program point
    // that serde's last try of it was in when the buffer ran out.
    let more = |s: &mut Scanner<R>| {
        s.fill().inspect_err(|e| {
            if matches!(e, ScanError::TooLarge(_)) && t.top.get() == Some("pps") {
                t.pp_key.set(None);
                t.index.set(None);
            }
        })
    };
    loop {
        let line = s.line;
        let column = s.base + s.pos as u64 - s.line_start + 1;
        let bytes = &s.buf[s.pos..s.end];
        let mut it = serde_json::Deserializer::from_slice(bytes).into_iter::<T>();
        match it.next() {
            Some(Ok(v)) => {
                let n = it.byte_offset();
                s.advance(n);
                return Ok(v);
            }
            Some(Err(e)) if e.is_eof() => {
                if !more(s)? {
                    return Err(piece_error(&e, t, name, line, column).into());
                }
            }
            Some(Err(e)) => return Err(piece_error(&e, t, name, line, column).into()),
            None => {
                if !more(s)? {
                    return Err(ScanError::Eof.into());
                }
            }
        }
    }
}

struct Scanner<R> {
    reader: R,
    buf: Vec<u8>,
    /// The next unread byte in `buf`.
    pos: usize,
    /// The end of the data in `buf`.
    end: usize,
    /// The file offset of `buf[0]`.
    base: u64,
    eof: bool,
    /// The most `buf` grows to ([`MOST_BUFFER`]).
    most: usize,
    /// The line (from 1) of `buf[pos]`, and the file offset where that line starts.
    line: u64,
    line_start: u64,
}

/// What went wrong while scanning, before any piece was parsed.
enum ScanError {
    Io(std::io::Error),
    Eof,
    Syntax(&'static str),
    /// One value fills the buffer at its most.
    TooLarge(usize),
}

impl<R: Read> Scanner<R> {
    fn new(reader: R, most: usize) -> Self {
        Scanner {
            reader,
            most,
            buf: vec![0; BUFFER.min(most)],
            pos: 0,
            end: 0,
            base: 0,
            eof: false,
            line: 1,
            line_start: 0,
        }
    }

    /// Reads more data, keeping `buf[pos..end]`; false at the end of the input.
    fn fill(&mut self) -> Result<bool, ScanError> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base += self.pos as u64;
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= self.most {
                return Err(ScanError::TooLarge(self.most));
            }
            let grown = (self.buf.len() * 2).min(self.most);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ScanError::Io(e)),
            }
        }
    }

    /// Moves past a UTF-8 byte-order mark at the start of the input, if there is one (some
    /// editors and tools on Windows write one), so that columns count from after it.
    fn skip_bom(&mut self) -> Result<(), ScanError> {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        while self.end < BOM.len() && self.fill()? {}
        if self.buf[..self.end].starts_with(BOM) {
            self.pos = BOM.len();
            self.line_start = BOM.len() as u64;
        }
        Ok(())
    }

    /// Moves past `n` bytes, counting lines.
    fn advance(&mut self, n: usize) {
        let bytes = &self.buf[self.pos..self.pos + n];
        let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
        if newlines > 0 {
            self.line += newlines as u64;
            let last = bytes.iter().rposition(|&b| b == b'\n').unwrap_or(0);
            self.line_start = self.base + (self.pos + last + 1) as u64;
        }
        self.pos += n;
    }

    /// The next byte that is not whitespace, not consumed; `None` at the end.
    fn peek(&mut self) -> Result<Option<u8>, ScanError> {
        loop {
            while self.pos < self.end {
                match self.buf[self.pos] {
                    b'\n' => {
                        self.pos += 1;
                        self.line += 1;
                        self.line_start = self.base + self.pos as u64;
                    }
                    b' ' | b'\r' | b'\t' => self.pos += 1,
                    b => return Ok(Some(b)),
                }
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), ScanError> {
        match self.peek()? {
            Some(b) if b == byte => {
                self.advance(1);
                Ok(())
            }
            Some(_) => Err(ScanError::Syntax(what)),
            None => Err(ScanError::Eof),
        }
    }

    /// The length of the JSON value starting at `pos` (after whitespace): a string, an object
    /// or array (brackets matched outside strings), or a scalar up to the next delimiter. Its
    /// bytes are `buf[pos..pos + len]`. Whether the value is valid JSON is left to its parser.
    fn value(&mut self) -> Result<usize, ScanError> {
        match self.peek()? {
            None => return Err(ScanError::Eof),
            Some(b',' | b':' | b'}' | b']') => return Err(ScanError::Syntax("a value")),
            Some(_) => {}
        }
        let mut i = self.pos;
        let mut depth = 0usize;
        let mut in_string = false;
        loop {
            while i < self.end {
                let b = self.buf[i];
                i += 1;
                if in_string {
                    match b {
                        b'\\' => {
                            if i < self.end {
                                i += 1;
                            } else {
                                i -= 1;
                                break;
                            }
                        }
                        b'"' => {
                            in_string = false;
                            if depth == 0 {
                                return Ok(i - self.pos);
                            }
                        }
                        _ => {}
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        if depth == 0 {
                            return Ok(i - 1 - self.pos);
                        }
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i - self.pos);
                        }
                    }
                    b',' | b' ' | b'\n' | b'\r' | b'\t' | b':' if depth == 0 => {
                        return Ok(i - 1 - self.pos);
                    }
                    _ => {}
                }
            }
            let scanned = i - self.pos;
            if !self.fill()? {
                // A scalar may end the input; anything open may not.
                if depth == 0 && !in_string && scanned > 0 {
                    return Ok(scanned);
                }
                return Err(ScanError::Eof);
            }
            i = self.pos + scanned;
        }
    }
}

/// A piece's parse error, placed in the file: the tracker's path, and the line and column from
/// the piece's own (1-based) line and column.
fn piece_error(
    e: &serde_json::Error,
    t: &Tracker,
    name: &str,
    line: u64,
    column: u64,
) -> ProfileError {
    use serde_json::error::Category;
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) if e.line() > 0 => &text[..i],
        _ => text.as_str(),
    };
    let expected = match e.classify() {
        Category::Eof => {
            format!("the rest of the JSON document, found the end of the file ({message})")
        }
        // Bytes that are not UTF-8 in a string: Valgrind writes a command line and file names
        // byte for byte, and a Latin-1 argument or directory makes such a file.
        Category::Syntax if message == "invalid unicode code point" => format!(
            "valid JSON ({message}: a string holds bytes that are not UTF-8, as Valgrind writes \
             a command line or a path that is not; convert the file to UTF-8, e.g. with iconv)"
        ),
        Category::Syntax | Category::Io => format!("valid JSON ({message})"),
        Category::Data => data_message(message),
    };
    let (l, c) = if e.line() <= 1 {
        (line, column + e.column().saturating_sub(1) as u64)
    } else {
        (line + e.line() as u64 - 1, e.column() as u64)
    };
    ProfileError::new(name, expected, format!("{}, line {l} column {c}", t.path()))
}

/// Why reading stopped inside an array element.
enum Fail {
    Scan(ScanError),
    Profile(ProfileError),
}

impl From<ScanError> for Fail {
    fn from(e: ScanError) -> Self {
        Fail::Scan(e)
    }
}

impl From<ProfileError> for Fail {
    fn from(e: ProfileError) -> Self {
        Fail::Profile(e)
    }
}

/// Parses the piece of `len` bytes at the scanner's position with `f`, then moves past it.
fn piece<R: Read, T>(
    s: &mut Scanner<R>,
    len: usize,
    t: &Tracker,
    name: &str,
    f: impl for<'a> FnOnce(
        &mut serde_json::Deserializer<serde_json::de::SliceRead<'a>>,
    ) -> Result<T, serde_json::Error>,
) -> Result<T, ProfileError> {
    let line = s.line;
    let column = s.base + s.pos as u64 - s.line_start + 1;
    let bytes = &s.buf[s.pos..s.pos + len];
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = f(&mut de).and_then(|v| de.end().map(|()| v)).map_err(|e| {
        if !e.is_eof() || s.pos + len == s.end {
            return piece_error(&e, t, name, line, column);
        }
        // A number or a literal cut short (`1.`, `tru`) where a delimiter stands, inside
        // the file: the value is incomplete, not the file. Said at that delimiter (such a
        // value holds no line break: a string, array or object ends at its closing byte).
        ProfileError::new(
            name,
            "valid JSON (an incomplete value)",
            format!("{}, line {line} column {}", t.path(), column + len as u64),
        )
    })?;
    s.advance(len);
    Ok(v)
}

fn parse<T: DeserializeOwned>(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
) -> Result<T, serde_json::Error> {
    T::deserialize(de)
}

pub(crate) fn read<R: Read>(reader: R, name: &str) -> Result<Profile, ProfileError> {
    read_within(reader, name, MOST_BUFFER)
}

/// [`read`], with the buffer grown to `most` bytes at most.
pub(super) fn read_within<R: Read>(
    reader: R,
    name: &str,
    most: usize,
) -> Result<Profile, ProfileError> {
    TRACKER.with(|t| {
        t.reset();
        read_tracked(reader, name, t, most)
    })
}

fn read_tracked<R: Read>(
    reader: R,
    name: &str,
    t: &Tracker,
    most: usize,
) -> Result<Profile, ProfileError> {
    let mut s = Scanner::new(reader, most);
    let scan = |s: &Scanner<R>, t: &Tracker, e: ScanError| -> ProfileError {
        let column = s.base + s.pos as u64 - s.line_start + 1;
        let at = format!("{}, line {} column {column}", t.path(), s.line);
        match e {
            ScanError::Io(e) => ProfileError::unreadable(name, e, at),
            ScanError::Eof if s.base + s.pos as u64 == 0 => {
                ProfileError::new(name, "a DHAT JSON profile, found an empty file", at)
            }
            ScanError::Eof => ProfileError::new(
                name,
                "the rest of the JSON document, found the end of the file",
                at,
            ),
            ScanError::Syntax(what) => ProfileError::new(name, format!("valid JSON ({what})"), at),
            ScanError::TooLarge(most) => ProfileError::new(
                name,
                format!(
                    "a value of at most {} (a command line, a frame, a program point), found \
                     one larger: no DHAT profile holds one",
                    crate::units::Bytes(most as u64)
                ),
                at,
            ),
        }
    };
    macro_rules! scan {
        ($e:expr) => {
            $e.map_err(|e| scan(&s, t, e))?
        };
    }
    scan!(s.skip_bom());
    // A compressed profile (`dhat-heap.json.gz`, or a pprof file given by mistake) is said to
    // be one, rather than "valid JSON" at its first byte.
    while s.end - s.pos < 2 && scan!(s.fill()) {}
    if s.buf[s.pos..s.end].starts_with(&[0x1f, 0x8b]) {
        return Err(ProfileError::new(
            name,
            "a DHAT JSON profile, found gzip-compressed data: decompress it first \
             (gunzip -k FILE; a .pb.gz is a pprof profile, which this command does not read)",
            "top level, line 1 column 1",
        ));
    }
    // A profile saved as UTF-16 (by an editor, or PowerShell's `>`) or UTF-32: said to be one.
    while s.end - s.pos < 4 && scan!(s.fill()) {}
    let head = &s.buf[s.pos..s.end];
    let wide = if head.starts_with(&[0xff, 0xfe, 0, 0]) || head.starts_with(&[0, 0, 0xfe, 0xff]) {
        Some("UTF-32")
    } else if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        Some("UTF-16")
    } else {
        None
    };
    if let Some(wide) = wide {
        return Err(ProfileError::new(
            name,
            format!(
                "a DHAT JSON profile in UTF-8, found {wide} text (its byte-order mark): convert \
                 it first (iconv -f {wide} -t UTF-8 FILE)"
            ),
            "top level, line 1 column 1",
        ));
    }
    match scan!(s.peek()) {
        Some(b'{') => s.advance(1),
        // A file of white space alone is as empty as an empty one.
        None if s.base + s.pos as u64 > 0 => {
            return Err(ProfileError::new(
                name,
                "a DHAT JSON profile, found only white space",
                format!("top level, line {} column 1", s.line),
            ))
        }
        None => scan!(Err(ScanError::Eof)),
        // Anything else is no profile, said at its first byte: reading on to the value's end
        // read a file of zeros whole, and an endless input until memory ran out.
        Some(_) => {
            let at_line = s.line;
            let column = s.base + s.pos as u64 - s.line_start + 1;
            return Err(ProfileError::new(
                name,
                "a DHAT profile (a JSON object with dhatFileVersion, mode, pps, ftbl, ...)",
                format!("top level, line {at_line} column {column}"),
            ));
        }
    }
    let mut version = None;
    let (mut mode, mut verb, mut tu, mut mtu, mut cmd) = (None, None, None, None, None);
    let (mut bklt, mut bkacc, mut pid, mut te) = (None, None, None, None);
    let (mut bu, mut bsu, mut bksu, mut tuth, mut tg) = (None, None, None, None, None);
    let mut pps: Option<Vec<ProgramPoint>> = None;
    let mut ftbl: Option<Vec<Box<str>>> = None;
    // The known keys seen (a bit each, in the order of `TOP_KEYS`), and the others (rarely any).
    let mut seen = 0u32;
    let mut others: Vec<String> = Vec::new();
    let mut first = true;
    loop {
        match scan!(s.peek()) {
            Some(b'}') => {
                s.advance(1);
                break;
            }
            Some(b',') if !first => s.advance(1),
            Some(_) if first => {}
            Some(_) => scan!(Err(ScanError::Syntax("expected `,` or `}`"))),
            None => scan!(Err(ScanError::Eof)),
        }
        first = false;
        if scan!(s.peek()) != Some(b'"') {
            scan!(Err(ScanError::Syntax("expected a key")));
        }
        let (key_line, key_column) = (s.line, s.base + s.pos as u64 - s.line_start + 1);
        let len = scan!(s.value());
        let key: String = piece(&mut s, len, t, name, parse)?;
        // A repeated key is an error: the last value does not win.
        let known = TOP_KEYS.iter().position(|&k| k == key);
        let repeated = match known {
            Some(i) => {
                let bit = 1u32 << i;
                let repeated = seen & bit != 0;
                seen |= bit;
                repeated
            }
            None if others.contains(&key) => true,
            None => {
                others.push(key.clone());
                false
            }
        };
        if repeated {
            let place = known.map_or("top level", |i| TOP_KEYS[i]);
            return Err(ProfileError::new(
                name,
                super::keys::duplicate(&key),
                format!("{place}, line {key_line} column {key_column}"),
            ));
        }
        scan!(s.expect(b':', "expected `:`"));
        macro_rules! value {
            ($name:literal) => {{
                t.top.set(Some($name));
                let len = scan!(s.value());
                piece(&mut s, len, t, name, parse)?
            }};
        }
        match key.as_str() {
            "dhatFileVersion" => {
                let v: u64 = value!("dhatFileVersion");
                if v != FILE_VERSION {
                    let column = s.base + s.pos as u64 - s.line_start + 1;
                    return Err(ProfileError::new(
                        name,
                        format!("DHAT file version {FILE_VERSION}, found {v}"),
                        format!("dhatFileVersion, line {} column {column}", s.line),
                    ));
                }
                version = Some(v);
            }
            "mode" => mode = Some(value!("mode")),
            "verb" => verb = Some(value!("verb")),
            "bklt" => bklt = Some(value!("bklt")),
            "bkacc" => bkacc = Some(value!("bkacc")),
            "bu" => bu = value!("bu"),
            "bsu" => bsu = value!("bsu"),
            "bksu" => bksu = value!("bksu"),
            "tu" => tu = Some(value!("tu")),
            "Mtu" => mtu = Some(value!("Mtu")),
            "tuth" => tuth = value!("tuth"),
            "cmd" => cmd = Some(value!("cmd")),
            "pid" => pid = Some(value!("pid")),
            "te" => te = Some(value!("te")),
            "tg" => tg = value!("tg"),
            "pps" => {
                t.top.set(Some("pps"));
                let mut out: Vec<ProgramPoint> = Vec::new();
                array(&mut s, t, &scan, |s, t| {
                    t.pp.set(Some(out.len()));
                    let pp = match super::point::parse(&s.buf[s.pos..s.end], t) {
                        Some((pp, len)) => {
                            s.advance(len);
                            pp
                        }
                        None => stream_one::<_, Tracked>(s, t, name)?.0,
                    };
                    if out.len() == out.capacity() {
                        out.reserve_exact((out.len() / 8).max(1 << 12));
                    }
                    out.push(pp);
                    t.pp_key.set(None);
                    Ok(())
                })?;
                out.shrink_to_fit();
                pps = Some(out);
            }
            "ftbl" => {
                t.top.set(Some("ftbl"));
                let mut out: Vec<Box<str>> = Vec::new();
                array(&mut s, t, &scan, |s, t| {
                    t.index.set(Some(out.len()));
                    let f: Box<str> = stream_one(s, t, name)?;
                    out.push(f);
                    Ok(())
                })?;
                out.shrink_to_fit();
                ftbl = Some(out);
            }
            _ => {
                t.top.set(None);
                t.other.replace(Some(key.into()));
                let len = scan!(s.value());
                let _: super::de::Skipped = piece(&mut s, len, t, name, parse)?;
            }
        }
        t.top.set(None);
        t.other.replace(None);
        t.pp.set(None);
        t.pp_key.set(None);
        t.index.set(None);
    }
    if scan!(s.peek()).is_some() {
        scan!(Err(ScanError::Syntax("trailing characters")));
    }
    let missing = |field: &str| {
        ProfileError::new(
            name,
            format!("field `{field}`, found none"),
            format!(
                "top level, line {} column {}",
                s.line,
                s.base + s.pos as u64 - s.line_start + 1
            ),
        )
    };
    macro_rules! required {
        ($v:expr, $name:literal) => {
            $v.ok_or_else(|| missing($name))?
        };
    }
    let profile = Profile {
        version: required!(version, "dhatFileVersion"),
        mode: required!(mode, "mode"),
        verb: required!(verb, "verb"),
        bklt: required!(bklt, "bklt"),
        bkacc: required!(bkacc, "bkacc"),
        bu,
        bsu,
        bksu,
        tu: required!(tu, "tu"),
        mtu: required!(mtu, "Mtu"),
        tuth,
        cmd: required!(cmd, "cmd"),
        pid: required!(pid, "pid"),
        te: required!(te, "te"),
        tg,
        pps: required!(pps, "pps"),
        ftbl: required!(ftbl, "ftbl"),
    };
    t.check_missing(&profile, name)?;
    Ok(profile)
}

/// Scans a JSON array, calling `element` at each element's start.
fn array<R: Read>(
    s: &mut Scanner<R>,
    t: &Tracker,
    scan: &impl Fn(&Scanner<R>, &Tracker, ScanError) -> ProfileError,
    mut element: impl FnMut(&mut Scanner<R>, &Tracker) -> Result<(), Fail>,
) -> Result<(), ProfileError> {
    let mut run = |s: &mut Scanner<R>| -> Result<(), Fail> {
        match s.peek()? {
            Some(b'[') => s.advance(1),
            Some(_) => return Err(ScanError::Syntax("expected an array").into()),
            None => return Err(ScanError::Eof.into()),
        }
        let mut first = true;
        loop {
            match s.peek()? {
                Some(b']') => {
                    s.advance(1);
                    return Ok(());
                }
                Some(b',') if !first => s.advance(1),
                Some(_) if first => {}
                Some(_) => return Err(ScanError::Syntax("expected `,` or `]`").into()),
                None => return Err(ScanError::Eof.into()),
            }
            first = false;
            element(s, t)?;
        }
    };
    match run(s) {
        Ok(()) => Ok(()),
        Err(Fail::Profile(e)) => Err(e),
        Err(Fail::Scan(e)) => Err(scan(s, t, e)),
    }
}
