//! [`Profiler`]: a profiling session in one of three modes, written to a DHAT JSON file.

use crate::stats::Threads;
use crate::tally::SessionMark;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

/// What a [`Profiler`] session records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// dhat's full heap profile (every allocation with its backtrace), `dhat-heap.json`. Needs the
    /// `heap` feature, and dhat's allocator under the counting one: `global_allocator!()` installs
    /// `Alloc<dhat::Alloc>` under that feature (a hand-written `Alloc::new()` static, over `System`,
    /// would leave dhat's profile empty).
    Heap,
    /// dhat's ad-hoc profile: one event per region exit, weighted by the bytes allocated inside,
    /// `dhat-ad-hoc.json`. Needs the `ad-hoc` feature.
    AdHoc,
    /// The kit's own cheap profile: totals and region figures in DHAT's JSON format, whose program
    /// points are region paths, `dhat-peak.json`. Needs the `peak` feature (the default).
    Peak,
    /// A sampled heap profile, `dhat-sampled.json`: a call stack for one allocation in every
    /// [`sample_interval`](ProfilerBuilder::sample_interval) bytes on average, each sample weighted
    /// to stand for the bytes it represents; totals and end figures exact, the peak as
    /// [`process_stats`](crate::process_stats) gives it (exact to within 64 KiB per thread).
    /// Needs the `sampled` feature.
    Sampled,
}

/// The mode's name, that of the feature that builds it: `heap`, `ad-hoc`, `peak` or `sampled`.
///
/// # Examples
///
/// ```
/// assert_eq!(dhat_kit::Mode::AdHoc.to_string(), "ad-hoc");
/// ```
impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.feature())
    }
}

impl Mode {
    /// The mode of the enabled features, by precedence: `heap`, then `ad-hoc`, then `sampled`,
    /// then `peak`.
    #[must_use]
    pub const fn enabled() -> Mode {
        if cfg!(feature = "heap") {
            Mode::Heap
        } else if cfg!(feature = "ad-hoc") {
            Mode::AdHoc
        } else if cfg!(feature = "sampled") {
            Mode::Sampled
        } else {
            Mode::Peak
        }
    }

    /// The file a session of this mode writes by default.
    #[must_use]
    pub const fn default_file(self) -> &'static str {
        match self {
            Mode::Heap => "dhat-heap.json",
            Mode::AdHoc => "dhat-ad-hoc.json",
            Mode::Peak => "dhat-peak.json",
            Mode::Sampled => "dhat-sampled.json",
        }
    }

    /// The feature that builds it, which is also its name: `heap`, `ad-hoc`, `peak`, `sampled`.
    fn feature(self) -> &'static str {
        match self {
            Mode::Heap => "heap",
            Mode::AdHoc => "ad-hoc",
            Mode::Peak => "peak",
            Mode::Sampled => "sampled",
        }
    }

    fn built(self) -> bool {
        match self {
            Mode::Heap => cfg!(feature = "heap"),
            Mode::AdHoc => cfg!(feature = "ad-hoc"),
            Mode::Peak => cfg!(feature = "peak"),
            Mode::Sampled => cfg!(feature = "sampled"),
        }
    }
}

/// Why a session could not start or could not write its file.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Another session is running and the builder was told not to wait for it.
    Busy,
    /// A session started on this thread is still running: only one runs at a time in a
    /// process, and waiting for it here would wait for good.
    RunningOnThisThread,
    /// The mode's cargo feature is not enabled in this build.
    NotBuilt {
        /// The mode asked for.
        mode: Mode,
        /// The feature that enables it.
        feature: &'static str,
    },
    /// dhat-kit's allocator is not installed in this binary ([`is_installed`](crate::is_installed)):
    /// a `peak` or `sampled` profile would hold only zeros, an `ad-hoc` one events of no weight,
    /// and a `heap` one nothing (no allocator of dhat's) or the kit's own bookkeeping charged to
    /// the program (a `dhat::Alloc` of the binary's own, in place of the kit's, which wraps it).
    NotInstalled {
        /// The mode asked for.
        mode: Mode,
    },
    /// The sample interval is 0, or `DHAT_KIT_SAMPLE_INTERVAL` is not a positive whole number of
    /// bytes.
    SampleInterval {
        /// The value given (from the builder, or the environment variable).
        value: String,
        /// Where it came from: `ProfilerBuilder::sample_interval` or `DHAT_KIT_SAMPLE_INTERVAL`.
        origin: &'static str,
    },
    /// The mode writes its file through dhat, which names the command from `std::env::args()`
    /// and panics there on an argument that is not UTF-8: the profile would be lost at the
    /// session's end.
    NonUtf8Argument {
        /// The mode asked for.
        mode: Mode,
        /// The argument, lossily.
        argument: String,
    },
    /// The output file could not be written.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Busy => write!(
                f,
                "dhat-kit: another profiling session is running in this process; \
                 end it first, or let this one wait (`ProfilerBuilder::wait(true)`)"
            ),
            Error::RunningOnThisThread => write!(
                f,
                "dhat-kit: a profiling session started on this thread is still running, and only \
                 one runs at a time in a process: waiting for it here would wait for good; end it \
                 first (drop it, or call `finish`)"
            ),
            Error::NonUtf8Argument { mode, argument } => write!(
                f,
                "dhat-kit: the {mode} mode writes its profile through dhat, which would panic at \
                 the session's end on the program's argument {argument:?} (not UTF-8) and lose \
                 the profile; pass arguments in UTF-8, or use the peak or sampled mode, which \
                 write such arguments lossily"
            ),
            Error::NotBuilt { mode, feature } => write!(
                f,
                "dhat-kit: the {mode} mode needs the `{feature}` feature of dhat-kit \
                 (add `features = [\"{feature}\"]` to the dependency)"
            ),
            Error::NotInstalled { mode } => match mode {
                Mode::Heap | Mode::AdHoc => write!(
                    f,
                    "dhat-kit: the {mode} mode profiles through dhat-kit's allocator (which wraps \
                     dhat's and keeps the kit's own bookkeeping out of the profile), and it is \
                     not installed in this binary; put `dhat_kit::global_allocator!();` at the \
                     crate's root, in place of any `#[global_allocator]` (a `dhat::Alloc` of your \
                     own included)"
                ),
                _ => write!(
                    f,
                    "dhat-kit: the {mode} mode counts through dhat-kit's allocator, which is not \
                     installed in this binary; add `dhat_kit::global_allocator!();` at the \
                     crate's root"
                ),
            },
            Error::SampleInterval { value, origin } => write!(
                f,
                "dhat-kit: the sample interval from {origin} is {value:?}; it must be a whole \
                 number of bytes above 0, plain or with a unit, as 16384 or 16 KiB (the default \
                 is {} bytes)",
                crate::sample_interval_default()
            ),
            Error::Io { path, source } => {
                write!(f, "dhat-kit: cannot write {}: {source}", path.display())
            }
        }
    }
}

/// [`Error::Io`]'s source is the I/O error's own, whose text the message says (a chain that named
/// the I/O error as the source said that text twice); its `source` field holds it.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => source.source(),
            _ => None,
        }
    }
}

/// The frames a backtrace keeps below the allocator's when nothing else is asked for: dhat's
/// default.
const DHAT_DEFAULT_FRAMES: usize = 10;

/// How many more frames than asked for dhat keeps in a backtrace, for the allocator's own frames
/// above the caller's (the kit's, Rust's allocator shims; dhat takes off only its own), which the
/// kit then takes off. A debug build shows two or three; eight leave room.
#[cfg(any(feature = "heap", feature = "ad-hoc"))]
const ALLOCATOR_FRAMES: usize = 8;

/// How many more physical frames dhat keeps in a backtrace for the standard library's between the
/// allocator's and the caller's, which the kit keeps and does not count (see
/// [`ProfilerBuilder::trim_backtraces`]). dhat's cap counts physical frames only (a frame with
/// functions inlined in it is one), the kit's trimming counts every frame.
///
/// Measured on Rust 1.95 (x86_64 Linux): the frames of std between the allocator's and the
/// caller's, physical in a debug build / in a release build with debug info (a frame inlined into
/// the caller's not counted), then with inlined frames, debug / release:
///
/// | allocation | physical | in all |
/// |---|---|---|
/// | `s += &format!("{i}")`, format's `String` | 9 / 6 | 24 / 24 |
/// | the same, `s` growing | 6 / 2 | 8 / 15 |
/// | `HashMap<usize, usize>`, `HashMap<String, T>` growing | 9 / 2 | 16 / 16 |
/// | `BTreeMap<u64, T>::insert` splitting a node | 12 / 2 | 18 / 18 |
/// | `Vec<T>::extend_from_slice` | 8 / 2 | 10 / 14 |
/// | `String::push_str` | 5 / 2 | 7 / 14 |
/// | `str::to_owned` | 4 / 0 | 9 / 13 |
/// | `collect` into a `Vec` | 6 / 1 | 9 / 13 |
///
/// (`T` a type of the program's.) A debug build compiles std's generic functions for the
/// program's types in the program, a physical frame each: the deepest, 12, there. The
/// allocator's own take 4 physical frames in a debug build and 2 in a release build of the 8 of
/// [`ALLOCATOR_FRAMES`], so a cap of `n + 20` holds the deepest chain measured and `n` frames
/// of the caller's with 4 frames to spare in a debug build, 12 in a release build. Each frame
/// more costs every allocation: dhat walks the stack up to the cap (`n + 28` took 15% longer
/// than `n + 20` on the interpreter example, whose recursion reaches any cap).
#[cfg(any(feature = "heap", feature = "ad-hoc"))]
const STD_FRAMES: usize = 12;

/// Only one session runs at a time in a process. A std mutex, as every lock of the kit's: letting
/// it go in a forked child wakes no one (see `crate::fork`). A session whose thread panicked
/// leaves it poisoned, which the next session ignores.
static SESSION: Mutex<()> = Mutex::new(());

thread_local! {
    /// Whether this thread holds [`SESSION`] (a [`Profiler`] is not `Send`: the thread that
    /// started a session ends it), so that a second session started here fails at once instead
    /// of waiting for good on the first.
    static RUNNING_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Sets up a [`Profiler`] session: mode, output file, dhat's backtrace trimming, summary, waiting.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() -> Result<(), dhat_kit::Error> {
///     let dir = std::env::temp_dir();
///     let profiler = dhat_kit::Profiler::builder()
///         .mode(dhat_kit::Mode::Peak)
///         .file(dir.join("doc-example-peak.json"))
///         .summary(false)
///         .build()?;
///     {
///         dhat_kit::region!("work");
///         drop(vec![0u8; 1000]);
///     }
///     let path = profiler.finish()?;
///     assert!(path.exists());
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ProfilerBuilder {
    mode: Mode,
    file: Option<PathBuf>,
    trim_backtraces: Option<usize>,
    summary: bool,
    wait: bool,
    sample_interval: Option<u64>,
}

impl Default for ProfilerBuilder {
    /// The settings of [`Profiler::builder`]: the mode enabled by the build's features, the
    /// default file, backtraces trimmed to 10 frames, the summary printed.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = dhat_kit::ProfilerBuilder::default().summary(false);
    /// # let _ = builder;
    /// ```
    fn default() -> Self {
        ProfilerBuilder {
            mode: Mode::enabled(),
            file: None,
            trim_backtraces: Some(DHAT_DEFAULT_FRAMES),
            summary: true,
            wait: true,
            sample_interval: None,
        }
    }
}

impl ProfilerBuilder {
    /// The mode (default: [`Mode::enabled`]).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The output file (default: the mode's [`default_file`](Mode::default_file) in the directory
    /// named by `DHAT_KIT_OUT`, or in the working directory).
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Backtrace trimming in the heap and ad-hoc modes: at most this many frames per backtrace
    /// of the caller's code and beyond (default: 10, as dhat's; `None` keeps whole backtraces).
    /// The allocator's frames, which the kit takes off every stack, are not among them, nor the
    /// standard library's plumbing between the allocator and the first frame that is not
    /// plumbing (as [`Frame::is_boring`](crate::profile::Frame::is_boring) tells it: `Vec`'s
    /// growth, `format!`, `HashMap`'s resizing), which is kept: `s += &format!("{i}")` reaches
    /// the allocator through 24 frames of std, and a cut at the innermost ten left
    /// `Vec::extend_from_slice` as the site. dhat is asked for 20 more physical frames than
    /// `max_frames` (8 for the allocator's, 12 for std's, the deepest chain measured), so each
    /// allocation's backtrace walks up to that many more frames; a stack of plumbing only (a
    /// binary without symbols, whose frames are all `???`) keeps all dhat took.
    pub fn trim_backtraces(mut self, max_frames: Option<usize>) -> Self {
        self.trim_backtraces = max_frames;
        self
    }

    /// Whether the peak and sampled modes print their summary (totals, process peak, top regions;
    /// for a sampled profile, its samples and stacks too) to stderr at the end (default: true).
    /// dhat prints its own summary in the heap and ad-hoc modes, whatever this says.
    pub fn summary(mut self, on: bool) -> Self {
        self.summary = on;
        self
    }

    /// The mean interval between samples of [`Mode::Sampled`], in bytes allocated (default:
    /// `DHAT_KIT_SAMPLE_INTERVAL` if set, else 512 KiB, as tcmalloc and Go use). A smaller interval
    /// gives more samples (more accurate figures per site) at more cost: each sample unwinds the
    /// stack. At the default, a workload allocating 50 MiB gets about 100 samples.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = dhat_kit::Profiler::builder()
    ///     .mode(dhat_kit::Mode::Sampled)
    ///     .sample_interval(64 * 1024);
    /// # drop(builder);
    /// ```
    pub fn sample_interval(mut self, bytes: u64) -> Self {
        self.sample_interval = Some(bytes);
        self
    }

    /// Whether to wait for a session already running in this process (default: true), or fail
    /// with [`Error::Busy`]. A session started on the same thread is never waited for (it would
    /// never end): told to wait, the start fails with [`Error::RunningOnThisThread`].
    pub fn wait(mut self, wait: bool) -> Self {
        self.wait = wait;
        self
    }

    /// Starts the session.
    ///
    /// # Errors
    ///
    /// [`Error::Busy`] if another session runs and `wait(false)` was set;
    /// [`Error::RunningOnThisThread`] if a session started on this thread still runs and the
    /// builder waits (the wait would never end); [`Error::NonUtf8Argument`] in the heap and ad-hoc modes if an
    /// argument of the program is not UTF-8; [`Error::NotBuilt`] if the
    /// mode's feature is off; [`Error::NotInstalled`] if dhat-kit's allocator is not the binary's; [`Error::SampleInterval`] if the sampled mode's interval is 0 or
    /// `DHAT_KIT_SAMPLE_INTERVAL` is not a size above 0 (`16384`, `16 KiB`); [`Error::Io`] if the output file's directory cannot be created or
    /// written (a missing directory is created).
    pub fn build(self) -> Result<Profiler, Error> {
        if !self.mode.built() {
            return Err(Error::NotBuilt {
                mode: self.mode,
                feature: self.mode.feature(),
            });
        }
        // Every mode needs the kit's allocator: the kit's own modes count through it; dhat's
        // profile through it (it wraps dhat's), which keeps the kit's bookkeeping (the regions'
        // tables) out of dhat's profile and weighs the ad-hoc mode's events. A `dhat::Alloc` of
        // the binary's own charged that bookkeeping to the code that entered the regions, and
        // with no profiling allocator at all the heap profile was empty.
        if !crate::is_installed() {
            return Err(Error::NotInstalled { mode: self.mode });
        }
        if matches!(self.mode, Mode::Heap | Mode::AdHoc) {
            if let Some(argument) = std::env::args_os().find(|a| a.to_str().is_none()) {
                return Err(Error::NonUtf8Argument {
                    mode: self.mode,
                    argument: argument.to_string_lossy().into_owned(),
                });
            }
        }
        let interval = match self.mode {
            Mode::Sampled => sample_interval(self.sample_interval)?,
            _ => 0,
        };
        // Told not to wait, a try of the lock says `Busy` as for any other running session.
        if self.wait && RUNNING_HERE.try_with(std::cell::Cell::get).unwrap_or(false) {
            return Err(Error::RunningOnThisThread);
        }
        // A std mutex may allocate at its first use on some platforms: the kit's, uncounted.
        let guard = crate::tally::uncounted(|| {
            if self.wait {
                Ok(SESSION.lock().unwrap_or_else(PoisonError::into_inner))
            } else {
                match SESSION.try_lock() {
                    Ok(guard) => Ok(guard),
                    Err(TryLockError::Poisoned(poisoned)) => Ok(poisoned.into_inner()),
                    Err(TryLockError::WouldBlock) => Err(Error::Busy),
                }
            }
        })?;
        let path = match self.file {
            Some(p) => p,
            None => {
                let dir = std::env::var_os("DHAT_KIT_OUT").map_or_else(PathBuf::new, PathBuf::from);
                dir.join(self.mode.default_file())
            }
        };
        check_writable(&path)?;
        let inner = match self.mode {
            #[cfg(any(feature = "heap", feature = "ad-hoc"))]
            Mode::Heap | Mode::AdHoc => {
                let mut b = dhat::Profiler::builder().file_name(&path);
                if self.mode == Mode::AdHoc {
                    b = b.ad_hoc();
                }
                let keep = self.trim_backtraces;
                b = b
                    .trim_backtraces(keep.map(|n| n.saturating_add(ALLOCATOR_FRAMES + STD_FRAMES)));
                Inner::Dhat(crate::tally::uncounted(|| b.build()), keep)
            }
            #[cfg(feature = "sampled")]
            Mode::Sampled => {
                let started = Threads::now();
                let regions = crate::tally::uncounted(crate::region::regions_ever);
                let mark = SessionMark::begin();
                crate::tally::uncounted(|| crate::sample::start(interval));
                Inner::Sampled {
                    start: std::time::Instant::now(),
                    started,
                    regions,
                    mark,
                }
            }
            _ => {
                let started = Threads::now();
                let regions = crate::tally::uncounted(crate::region::regions_ever);
                Inner::Peak {
                    start: std::time::Instant::now(),
                    started,
                    regions,
                    mark: SessionMark::begin(),
                }
            }
        };
        let _ = interval;
        let _ = RUNNING_HERE.try_with(|r| r.set(true));
        Ok(Profiler {
            inner: Some(inner),
            mode: self.mode,
            path,
            summary: self.summary,
            began: std::time::SystemTime::now(),
            _session: guard,
        })
    }
}

/// The interval of a sampled session: the builder's, else `DHAT_KIT_SAMPLE_INTERVAL`'s, else the
/// default; 0 or garbage is an error.
fn sample_interval(given: Option<u64>) -> Result<u64, Error> {
    const VAR: &str = "DHAT_KIT_SAMPLE_INTERVAL";
    match given {
        Some(0) => Err(Error::SampleInterval {
            value: "0".into(),
            origin: "ProfilerBuilder::sample_interval",
        }),
        Some(n) => Ok(n),
        None => match std::env::var_os(VAR) {
            None => Ok(crate::sample_interval_default()),
            Some(v) => {
                let text = v.to_string_lossy();
                match crate::units::parse_bytes(&text, "a sample interval") {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(Error::SampleInterval {
                        value: text.into_owned(),
                        origin: VAR,
                    }),
                }
            }
        },
    }
}

/// Creates the output's directory if it is missing (`DHAT_KIT_OUT=target/profiles` needs no
/// `mkdir` first), and fails early, with the file named, when the output cannot be created there.
pub(crate) fn check_writable(path: &Path) -> Result<(), Error> {
    // A path that names no file (empty, `..`, ending with `/`) or an existing directory: said
    // now, where the end, writing the file, said it and lost the profile.
    let names_no_file =
        path.file_name().is_none() || path.as_os_str().as_encoded_bytes().ends_with(b"/");
    if names_no_file || path.is_dir() {
        let (kind, why) = if path.is_dir() {
            (std::io::ErrorKind::IsADirectory, "it is a directory")
        } else {
            (std::io::ErrorKind::InvalidInput, "it names no file")
        };
        return Err(Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(kind, format!("{why}: name the profile's file")),
        });
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // A file (a plain one, or a device as `/dev/null`) where a directory should be: said as
    // such, not as the system's "File exists".
    if let Some(file) = crate::atomic_file::file_in_the_way(&dir) {
        return Err(Error::Io {
            path: path.to_path_buf(),
            source: crate::atomic_file::not_a_directory(file),
        });
    }
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    // Said as the directory's failure: the file's own "No such file or directory" read as if
    // the directory were there.
    std::fs::create_dir_all(&dir).map_err(|e| {
        io(std::io::Error::new(
            e.kind(),
            format!("cannot create its directory {}: {e}", dir.display()),
        ))
    })?;
    let probe = dir.join(format!(".dhat-kit-probe-{}", std::process::id()));
    std::fs::File::create(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(io)
}

#[allow(
    clippy::large_enum_variant,
    reason = "one per profiling session; a box, made as the session begins, would be counted in it"
)]
enum Inner {
    #[cfg(any(feature = "heap", feature = "ad-hoc"))]
    /// dhat's session, and how many frames its stacks keep from the caller's on.
    Dhat(dhat::Profiler, Option<usize>),
    /// The kit's own sessions keep the process's threads at their start: at the end, they wait
    /// for the threads started since to exit or go idle, so that what those hand over as they
    /// exit is in the file (dhat's modes count as dhat does, with no such wait).
    /// And the session's figures are differences from its beginning: the process tally's
    /// (`mark`) and the regions' (read then with counting paused), for the summary.
    Peak {
        start: std::time::Instant,
        started: Threads,
        regions: crate::Regions,
        mark: SessionMark,
    },
    #[cfg(feature = "sampled")]
    Sampled {
        start: std::time::Instant,
        started: Threads,
        regions: crate::Regions,
        mark: SessionMark,
    },
}

/// A profiling session of the enabled mode, running until it drops or [`finish`](Profiler::finish)
/// ends it; then it writes its file.
///
/// | feature | mode | file |
/// |---|---|---|
/// | `heap` | dhat's heap profile | `dhat-heap.json` |
/// | `ad-hoc` | dhat's ad-hoc profile of region exits | `dhat-ad-hoc.json` |
/// | `peak` (default) | totals and regions in DHAT's format | `dhat-peak.json` |
/// | `sampled` | sampled call stacks, exact totals | `dhat-sampled.json` |
///
/// All four open in DHAT's viewer (`dh_view.html`) and in the `dhat-kit` command. One session runs
/// at a time in a process: a second waits for the first (see [`ProfilerBuilder::wait`]).
///
/// On Unix, a child made by `fork` goes on with the session it inherits (and no other can start
/// there), and whichever process ends it writes the file: a child that should leave the parent's
/// file alone leaves through `_exit` or an `exec`. In the `heap` and `ad-hoc` modes, a child
/// forked while another thread was inside dhat's allocator may wait for good on dhat's lock.
///
/// A `Profiler` is not `Send`, where dhat's is: the session ends on the thread that started it,
/// whose own figures make its peak exact where it worked alone, and which holds the process's
/// one session until then. To end it from elsewhere (a Ctrl-C handler, a server's shutdown),
/// tell that thread, which calls [`finish`](Profiler::finish) or drops it:
///
/// ```compile_fail
/// let profiler = dhat_kit::Profiler::start();
/// // error: `MutexGuard<'static, ()>` cannot be sent between threads safely
/// std::thread::spawn(move || drop(profiler));
/// ```
///
/// The `peak` and `sampled` files count from the session's start, as dhat's do
/// ([`Profiler::stats`]): totals and t-end figures are the process's changes since then, t-gmax
/// its highest live heap since then above the live heap at the start; neither holds what ran
/// before (std's runtime before `main` included). A region also entered before the session has
/// its entries and totals since the start; its peak is exact when an entry during the session
/// passed the earlier ones, and otherwise the lower of its earlier peak and all it allocated
/// since. An entry counts when it ends: one open at the start on the session's thread counts what
/// it did since, but one open then on another thread, or a future's entry polled before the start,
/// counts whole, what it allocated before the start too, and the point outside any region then
/// holds that much less of the session's totals (the session's end warns where the regions' totals
/// pass the session's); one still open at the end is not in the file. Every thread's work is in the totals and t-end figures to the operation, the threads
/// still running at either end read from their own tallies (see
/// [`process_stats`](crate::process_stats)); the peak leaves out what an idle thread held from
/// before the session when it hands that over during it. A thread frees std's bookkeeping of it as it
/// exits, and the end of a [`std::thread::scope`] waits for its threads' closures, not for their
/// exits; so at its end the session first waits for the threads started during it to exit, or to
/// go idle (a pool's workers), for at most 0.5 s (it reads the threads from `/proc/self/task`, on
/// Linux; elsewhere, join them before the session ends). The `heap` and
/// `ad-hoc` files are dhat's, which counts every operation as it happens, with no such wait.
///
/// # Examples
///
/// ```no_run
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let _profiler = dhat_kit::Profiler::start();
///     // ... the program; the profile is written when `_profiler` drops.
/// }
/// ```
#[must_use = "the session ends when the profiler drops: bind it with `let _profiler = ...`"]
pub struct Profiler {
    inner: Option<Inner>,
    mode: Mode,
    path: PathBuf,
    summary: bool,
    /// When the session began: a file written after it by another process is said to be replaced.
    began: std::time::SystemTime,
    _session: MutexGuard<'static, ()>,
}

impl fmt::Debug for Profiler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profiler")
            .field("mode", &self.mode)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Profiler {
    /// Starts a session of the enabled mode with the default settings, waiting for any session
    /// already running in this process.
    ///
    /// # Panics
    ///
    /// If the output file's directory cannot be created or written (a read-only directory, or
    /// `DHAT_KIT_OUT` naming a plain file), if dhat-kit's allocator is not installed, or, in
    /// the sampled mode, if `DHAT_KIT_SAMPLE_INTERVAL`
    /// is 0 or not a number, or if a session started on this thread still runs (waiting for it
    /// would never end); use [`Profiler::builder`] to get the [`Error`] instead.
    /// A missing directory is created. The panic names the caller's line.
    #[track_caller]
    pub fn start() -> Profiler {
        match Profiler::builder().build() {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    /// A builder for a session with other settings.
    pub fn builder() -> ProfilerBuilder {
        ProfilerBuilder::default()
    }

    /// The session's figures so far: the totals, t-gmax and t-end figures its file would hold if
    /// it ended now. In the `peak` and `sampled` modes, the process's since the session began
    /// (as [`process_stats`](crate::process_stats) reads them: totals and live figures to the
    /// operation; the peak within 64 KiB per thread, but exact where no other thread worked
    /// during the session and this thread's own peak rose during it); in the `heap` mode, dhat's own (`dhat::HeapStats`); `None` in the `ad-hoc`
    /// mode, whose file counts events.
    ///
    /// The live figures are the change since the start: a block allocated before the session and
    /// freed during it lowers them, where dhat, which never saw the block, ignores its free. A
    /// temporary of the statement that starts the session is such a block (it is freed at the
    /// statement's end): bind what the builder is given beforehand, as below.
    ///
    /// # Examples
    ///
    /// ```
    /// dhat_kit::global_allocator!();
    ///
    /// fn main() {
    ///     let before = vec![0u8; 1000]; // allocated before the session: not in its figures
    ///     let file = std::env::temp_dir().join("dhat-kit-doc-stats.json");
    ///     let profiler = dhat_kit::Profiler::builder()
    ///         .mode(dhat_kit::Mode::Peak)
    ///         .file(&file)
    ///         .summary(false)
    ///         .build()
    ///         .unwrap();
    ///     let v = vec![0u8; 4096];
    ///     let stats = profiler.stats().expect("a peak session has heap figures");
    ///     assert_eq!((stats.total_bytes, stats.curr_bytes), (4096, 4096));
    ///     drop((v, before));
    /// }
    /// ```
    #[must_use]
    pub fn stats(&self) -> Option<crate::Stats> {
        match self.inner.as_ref()? {
            #[cfg(feature = "heap")]
            Inner::Dhat(..) if !matches!(self.mode, Mode::AdHoc) => {
                let s = dhat::HeapStats::get();
                Some(crate::Stats {
                    total_bytes: s.total_bytes,
                    total_blocks: s.total_blocks,
                    max_bytes: s.max_bytes as u64,
                    max_blocks: s.max_blocks as u64,
                    curr_bytes: s.curr_bytes as u64,
                    curr_blocks: s.curr_blocks as u64,
                })
            }
            #[cfg(any(feature = "heap", feature = "ad-hoc"))]
            Inner::Dhat(..) => None,
            Inner::Peak { mark, .. } => Some(mark.read()),
            #[cfg(feature = "sampled")]
            Inner::Sampled { mark, .. } => Some(mark.read()),
        }
    }

    /// The file this session writes.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Ends the session now and writes its file, returning its path.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file could not be written.
    pub fn finish(mut self) -> Result<PathBuf, Error> {
        self.end()?;
        Ok(self.path.clone())
    }

    fn end(&mut self) -> Result<(), Error> {
        match self.inner.take() {
            None => Ok(()),
            #[cfg(any(feature = "heap", feature = "ad-hoc"))]
            Some(Inner::Dhat(p, keep)) => {
                crate::tally::uncounted(|| say_if_replacing(&self.path, self.began));
                // dhat prints its summary before it writes the file, with `eprintln!`, which
                // panics where stderr cannot be written (a closed pipe): the file is then not
                // written, and that panic must not leave `Drop` (an abort while unwinding).
                let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    crate::tally::uncounted(|| drop(p))
                }));
                if let Err(panic) = dropped {
                    let why = panic
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| panic.downcast_ref::<&str>().copied())
                        .unwrap_or("a panic");
                    return Err(Error::Io {
                        path: self.path.clone(),
                        source: std::io::Error::other(format!(
                            "dhat did not write the profile: {why}"
                        )),
                    });
                }
                if !self.path.exists() {
                    return Err(Error::Io {
                        path: self.path.clone(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            "dhat did not write the profile",
                        ),
                    });
                }
                // dhat trims only the frames it knows as its own: take dhat-kit's allocator (and
                // dhat's inlined frames) off every stack, so the viewer starts at the caller.
                crate::tally::uncounted(|| {
                    let mut profile = crate::profile::read(&self.path)
                        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                    profile.trim_stacks(keep);
                    profile.write(&self.path)
                })
                .map_err(|source| Error::Io {
                    path: self.path.clone(),
                    source,
                })
            }
            #[cfg(feature = "sampled")]
            Some(Inner::Sampled {
                start,
                started,
                regions,
                mark,
            }) => {
                started.settle();
                self.end_sampled(start, mark, regions)
            }
            Some(Inner::Peak {
                start,
                started,
                regions: at_start,
                mark,
            }) => {
                started.settle();
                let elapsed = start.elapsed();
                let (path, summary) = (&self.path, self.summary);
                // All the session's own work is uncounted, its allocations and their frees alike
                // (a block allocated uncounted but freed counted would pull the figures below the
                // truth). One snapshot for the file and the summary, taken before either
                // allocates, so both show the same figures.
                crate::tally::uncounted(|| {
                    let (process, others) = mark.end();
                    let regions = crate::region::regions_ever().since(&at_start);
                    // Read uncounted, so freed uncounted.
                    drop(at_start);
                    let mut bytes = Vec::new();
                    let mut profile = peak_profile(&process, &regions, elapsed);
                    profile.trim_allocator_frames();
                    profile.write_to(&mut bytes)?;
                    say_if_replacing(path, self.began);
                    crate::atomic_file::write(path, &bytes)?;
                    if summary {
                        crate::note::note(&peak_summary(&process, others, &regions, path));
                    }
                    if let Some(warning) = regions_past_the_session(&process, &regions, path) {
                        crate::note::note(&warning);
                    }
                    Ok(())
                })
                .map_err(|source| Error::Io {
                    path: self.path.clone(),
                    source,
                })
            }
        }
    }
}

#[cfg(feature = "sampled")]
impl Profiler {
    /// Ends a sampled session: stops sampling, then writes the file (symbols resolved here) with
    /// the session's exact figures of one snapshot, all of it uncounted.
    fn end_sampled(
        &self,
        start: std::time::Instant,
        mark: SessionMark,
        at_start: crate::Regions,
    ) -> Result<(), Error> {
        let elapsed = start.elapsed();
        let (path, summary) = (&self.path, self.summary);
        crate::tally::uncounted(|| {
            // The live figures now at the session's peak (above every batch's when a thread
            // kept blocks since its last one): the set live now is the one at t-gmax, so that the
            // sites' t-gmax figures are those of the same moment.
            let now = mark.read();
            if now.curr_bytes >= now.max_bytes {
                crate::sample::on_new_peak();
            }
            let stopped = crate::sample::stop();
            let (process, others) = mark.end();
            let regions = crate::region::regions_ever().since(&at_start);
            // Read uncounted, so freed uncounted.
            drop(at_start);
            let mut profile = match &stopped {
                Some((state, peak_micros)) => {
                    crate::sample::profile(state, *peak_micros, &process, elapsed)
                }
                // No sample set to end (none of this session's): said, not taken for a file
                // written.
                None => {
                    return Err(std::io::Error::other(
                        "the session's samples were gone at its end: nothing written",
                    ))
                }
            };
            drop(stopped);
            profile.trim_allocator_frames();
            let mut bytes = Vec::new();
            profile.write_to(&mut bytes)?;
            say_if_replacing(path, self.began);
            crate::atomic_file::write(path, &bytes)?;
            if summary {
                // The remainder's point (written only where something remains) is not a stack;
                // the samples are as `dhat-kit summary` counts them.
                let remainder = |pp: &crate::profile::ProgramPoint| {
                    let frame = pp.fs.first().map(|&f| &*profile.ftbl[f as usize]);
                    pp.fs.len() == 1
                        && frame.is_some_and(|f| f.starts_with(crate::analyze::REMAINDER))
                };
                let stacks = profile.pps.iter().filter(|pp| !remainder(pp)).count();
                let stacks = crate::units::Count(stacks as u64, "distinct call stack");
                let samples = crate::analyze::summary(&profile).samples.unwrap_or(0);
                // Nothing sampled of a session that allocated (one that allocated nothing has
                // nothing to sample, whatever the interval).
                let none = if samples == 0 && process.total_blocks > 0 {
                    "dhat-kit: no allocation was sampled, so the profile knows no call stack: \
                     its figures are all the unsampled remainder's; a smaller interval \
                     (DHAT_KIT_SAMPLE_INTERVAL, or ProfilerBuilder::sample_interval) takes \
                     samples\n"
                } else {
                    ""
                };
                let samples = crate::units::Count(samples, "sample");
                let others = if others { OTHERS_WORKED } else { "" };
                crate::note::note(&format!(
                    "dhat-kit: {process}\n{others}{}dhat-kit: {samples} at {stacks}; the profile \
                     is in {}\n{none}",
                    top_regions(&regions),
                    path.display()
                ));
            }
            Ok(())
        })
        .map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })
    }
}

impl Drop for Profiler {
    fn drop(&mut self) {
        if let Err(e) = self.end() {
            crate::note::note(&format!("{e}\n"));
        }
        // The session's lock goes with the fields, right after this.
        let _ = RUNNING_HERE.try_with(|r| r.set(false));
    }
}

/// Records an event of `weight` units at this call stack in a running `ad-hoc` session, as
/// `dhat::ad_hoc_event` does: what a program that counted its own events with dhat (calls,
/// arguments, tokens) calls instead. Its stacks start at the caller, as the regions' events do
/// (a region's exit is an event weighted by the bytes allocated inside). Nothing happens in the
/// other modes, with no session, or built without the `ad-hoc` feature, so the call can stay in
/// code that is not always profiled; it costs a backtrace only while an ad-hoc session runs.
///
/// # Examples
///
/// ```
/// fn call_function(args: &[i64]) -> i64 {
///     dhat_kit::ad_hoc_event(args.len()); // one event, weighted by the arguments
///     args.iter().sum()
/// }
/// assert_eq!(call_function(&[1, 2, 3]), 6);
/// ```
pub fn ad_hoc_event(weight: usize) {
    #[cfg(feature = "ad-hoc")]
    crate::tally::uncounted(|| dhat::ad_hoc_event(weight));
    #[cfg(not(feature = "ad-hoc"))]
    let _ = weight;
}

/// Says on stderr that the session's file replaces one that another process wrote since the
/// session `began`: a child, or the program started again by itself, writing the same default
/// name, whose profile would otherwise be lost without a word. The writer is the file's `pid`.
/// Says so too of a file an earlier session of this process wrote (tests that each profile
/// under the default name: only the last profile is left, and each summary named the file).
fn say_if_replacing(path: &Path, began: std::time::SystemTime) {
    /// The files this process's sessions wrote, by their directory's canonical path.
    static WRITTEN: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let (Ok(dir), Some(name)) = (std::fs::canonicalize(dir), path.file_name()) {
        let file = dir.join(name);
        let mut written = WRITTEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if written.contains(&file) {
            crate::note::note(&format!(
                "dhat-kit: {} holds an earlier session's profile of this process, which this \
                 session's replaces (give each session its own file: ProfilerBuilder::file)\n",
                path.display()
            ));
        } else {
            written.push(file);
        }
    }
    let written_since = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|m| m >= began);
    if !written_since {
        return;
    }
    let Some(pid) = writer_pid(path) else {
        return;
    };
    if pid != std::process::id() {
        crate::note::note(&format!(
            "dhat-kit: {} was written by process {pid} while this session ran; this session's \
             profile replaces it (give each process its own DHAT_KIT_OUT or file)\n",
            path.display()
        ));
    }
}

/// The `pid` of a DHAT file, from its first 64 KiB (it comes before the program points).
fn writer_pid(path: &Path) -> Option<u32> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(64 << 10)
        .read_to_end(&mut head)
        .ok()?;
    let at = head.windows(6).position(|w| w == b"\"pid\":")? + 6;
    let digits: String = head[at..]
        .iter()
        .map(|&b| b as char)
        .skip_while(char::is_ascii_whitespace)
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The stderr summary of a peak session: totals, the process peak, and the top regions.
fn peak_summary(
    process: &crate::Stats,
    others: bool,
    regions: &crate::Regions,
    path: &Path,
) -> String {
    let mut s = format!("dhat-kit: {process}\n");
    if others {
        s.push_str(OTHERS_WORKED);
    }
    s.push_str(&top_regions(regions));
    s.push_str(&format!("dhat-kit: the profile is in {}\n", path.display()));
    s
}

/// The table of a session's ten regions that allocated most, as a summary prints it (nothing
/// without regions).
fn top_regions(regions: &crate::Regions) -> String {
    if regions.is_empty() {
        return String::new();
    }
    crate::Regions::from_vec(regions.iter().take(10).cloned().collect()).to_string()
}

/// What a session's summary says when threads other than its own allocated or freed during it:
/// its peak is read from the threads' batches, which a thread that holds less than a batch at
/// its peak never hands over.
const OTHERS_WORKED: &str = "dhat-kit: other threads worked during the session: its peak is the \
    highest their batches showed, exact to within 64 KiB per thread at work at the peak (threads \
    that each hold less may not show in it at all); dhat_kit::measure_all counts it exactly\n";

/// What a session's end says when its regions' own totals pass the session's: an entry open at
/// its start elsewhere (on another thread, or a future's entry polled before it) counts whole
/// when it ends, what it allocated before the start too, and the point outside any region,
/// which holds the rest of the session's totals, is left with less than it allocated. Said
/// whether or not the summary is.
fn regions_past_the_session(
    process: &crate::Stats,
    regions: &crate::Regions,
    path: &std::path::Path,
) -> Option<String> {
    let (bytes, blocks) = regions.iter().fold((0u64, 0u64), |(b, k), r| {
        (
            b.saturating_add(r.self_stats.total_bytes),
            k.saturating_add(r.self_stats.total_blocks),
        )
    });
    (bytes > process.total_bytes || blocks > process.total_blocks).then(|| {
        format!(
            "dhat-kit: warning: {}: the regions' entries that ended in the session counted {} in \
             {}, more than the session allocated ({} in {}): an entry open at its \
             start on another thread, or a future's polled before it, counts whole when it ends, \
             what it allocated before the start too, and the point outside any region is left \
             with less than was allocated outside them. Start the session before such regions \
             are entered, or read their figures with dhat_kit::regions()\n",
            path.display(),
            crate::units::Bytes(bytes),
            crate::units::Count(blocks, "block"),
            crate::units::Bytes(process.total_bytes),
            crate::units::Count(process.total_blocks, "block"),
        )
    })
}

/// The frame of the program point for allocations made outside any region.
pub(crate) use crate::analyze::OUTSIDE;

/// The peak profile: DHAT's JSON (file version 2, heap kind with block lifetimes), one program
/// point per region path (its self figures; frames innermost first, as DHAT lists a backtrace) and
/// one for allocations outside any region.
///
/// What is live at the session's peak (`gb`) and at its end (`eb`) is not tracked per region (that
/// would take a record per block): both are given whole to the outside point, so that the file's
/// t-gmax and t-end totals are the session's (`process`, its figures since it began). Block
/// lifetimes are not tracked either (`tl` is 0), and `tg` is the end of the session.
fn peak_profile(
    process: &crate::Stats,
    regions: &crate::Regions,
    elapsed: std::time::Duration,
) -> crate::profile::Profile {
    use crate::profile::{ProgramPoint, PEAK_MODE};
    let mut ftbl: Vec<Box<str>> = vec!["[root]".into(), OUTSIDE.into()];
    let mut frame = |name: &str| -> u32 {
        let label = format!("region {name}");
        let i = match ftbl.iter().position(|f| **f == *label) {
            Some(i) => i,
            None => {
                ftbl.push(label.into());
                ftbl.len() - 1
            }
        };
        u32::try_from(i).unwrap_or(u32::MAX)
    };
    let mut pps = Vec::with_capacity(regions.len() + 1);
    let (mut in_bytes, mut in_blocks) = (0u64, 0u64);
    for r in regions.iter() {
        let s = &r.self_stats;
        in_bytes += s.total_bytes;
        in_blocks += s.total_blocks;
        pps.push(ProgramPoint {
            tb: s.total_bytes,
            tbk: s.total_blocks,
            mb: s.max_bytes,
            mbk: s.max_blocks,
            fs: r.path.split('/').rev().map(&mut frame).collect(),
            ..ProgramPoint::default()
        });
    }
    pps.push(ProgramPoint {
        tb: process.total_bytes.saturating_sub(in_bytes),
        tbk: process.total_blocks.saturating_sub(in_blocks),
        mb: process.max_bytes,
        mbk: process.max_blocks,
        gb: process.max_bytes,
        gbk: process.max_blocks,
        eb: process.curr_bytes,
        ebk: process.curr_blocks,
        fs: Box::new([1]),
        ..ProgramPoint::default()
    });
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    kit_profile(PEAK_MODE, pps, ftbl, micros, micros)
}

/// A heap profile with block lifetimes written by the kit itself (`mode` is [`PEAK_MODE`](crate::profile::PEAK_MODE) or the
/// sampled mode): times in microseconds, `te` and `tg` as given, this process's command and id.
pub(crate) fn kit_profile(
    mode: &str,
    pps: Vec<crate::profile::ProgramPoint>,
    ftbl: Vec<Box<str>>,
    te: u64,
    tg: u64,
) -> crate::profile::Profile {
    crate::profile::Profile {
        version: crate::profile::FILE_VERSION,
        mode: mode.into(),
        verb: "Allocated".into(),
        bklt: true,
        bkacc: false,
        bu: None,
        bsu: None,
        bksu: None,
        tu: "µs".into(),
        mtu: "s".into(),
        tuth: Some(500),
        cmd: std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" "),
        pid: u64::from(std::process::id()),
        te,
        tg: Some(tg),
        pps,
        ftbl,
    }
}
