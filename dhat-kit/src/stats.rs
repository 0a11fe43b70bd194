//! [`Stats`], and the measurements that produce it: [`measure`], [`measure_all`], [`thread_stats`],
//! [`process_stats`].

use std::fmt;

use crate::tally::Mark;

mod threads;
pub(crate) use threads::Threads;

/// Heap figures, with dhat's field names and meanings.
///
/// | field | meaning |
/// |---|---|
/// | `total_bytes`, `total_blocks` | everything allocated (a `realloc` counts as one new block of the new size) |
/// | `max_bytes`, `max_blocks` | the peak of live heap bytes, and the live blocks at that peak (the latest of equal peaks) |
/// | `curr_bytes`, `curr_blocks` | live at the end |
///
/// For [`measure`] the peak is measured above the live heap at entry, and `curr_*` is what the
/// closure left live; figures that would be negative (a closure that frees more than it leaves
/// live) read 0.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let (v, stats) = dhat_kit::measure(|| {
///         let mut v = Vec::with_capacity(8);
///         v.extend_from_slice(&[1u64; 8]);
///         v
///     });
///     assert_eq!(stats.total_blocks, 1);
///     assert_eq!(stats.total_bytes, 64);
///     assert_eq!(stats.max_bytes, 64);
///     assert_eq!(stats.curr_bytes, 64);
///     println!("{stats}"); // 64 B in 1 block (peak 64 B in 1 block, live at end 64 B in 1 block)
///     drop(v);
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Bytes allocated in all (a `realloc` counts its new size).
    pub total_bytes: u64,
    /// Blocks allocated in all (a `realloc` counts as one block).
    pub total_blocks: u64,
    /// Live bytes at the peak.
    pub max_bytes: u64,
    /// Live blocks when the live bytes peaked.
    pub max_blocks: u64,
    /// Live bytes at the end.
    pub curr_bytes: u64,
    /// Live blocks at the end.
    pub curr_blocks: u64,
}

impl Stats {
    /// The names of the fields, in declaration order; the keys `#[assert_heap]` accepts.
    pub const FIELDS: [&'static str; 6] = [
        "total_bytes",
        "total_blocks",
        "max_bytes",
        "max_blocks",
        "curr_bytes",
        "curr_blocks",
    ];

    /// The value of the field called `name` (one of [`Stats::FIELDS`]), or `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// let stats = dhat_kit::Stats::default();
    /// assert_eq!(stats.get("max_bytes"), Some(0));
    /// assert_eq!(stats.get("bytes"), None);
    /// ```
    #[must_use]
    pub fn get(&self, name: &str) -> Option<u64> {
        Some(match name {
            "total_bytes" => self.total_bytes,
            "total_blocks" => self.total_blocks,
            "max_bytes" => self.max_bytes,
            "max_blocks" => self.max_blocks,
            "curr_bytes" => self.curr_bytes,
            "curr_blocks" => self.curr_blocks,
            _ => return None,
        })
    }
}

impl fmt::Display for Stats {
    /// `1.2 MiB in 3,401 blocks (peak 512.0 KiB in 12 blocks, live at end 0 B in 0 blocks)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::units::{Bytes, Count};
        write!(
            f,
            "{} in {} (peak {} in {}, live at end {} in {})",
            Bytes(self.total_bytes),
            Count(self.total_blocks, "block"),
            Bytes(self.max_bytes),
            Count(self.max_blocks, "block"),
            Bytes(self.curr_bytes),
            Count(self.curr_blocks, "block"),
        )
    }
}

/// Runs `f` and returns its result with what it allocated on the current thread.
///
/// The peak (`max_bytes`, `max_blocks`) is measured above the live heap at entry. Calls nest:
/// each gives exact figures for its own closure, and an outer call's figures include the inner
/// ones. Allocations on other threads, including threads `f` spawns, are not counted; a block
/// another thread allocated and `f` frees lowers the live figures and their peak by its size
/// (they are this thread's net figures), so that what `f` holds after such a free can read low.
///
/// Without a dhat-kit allocator installed (see [`is_installed`](crate::is_installed)), or built
/// without the `peak` feature, every figure is 0; with the feature, the first such reading in a
/// process where nothing was ever counted says on stderr that the allocator is not installed.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let (len, stats) = dhat_kit::measure(|| {
///         let s = String::from("hello"); // 5 bytes, freed at the end of the closure
///         s.len()
///     });
///     assert_eq!(len, 5);
///     assert_eq!((stats.total_blocks, stats.total_bytes), (1, 5));
///     assert_eq!((stats.max_bytes, stats.curr_bytes), (5, 0));
/// }
/// ```
#[must_use = "what `f` returned and its figures: call `f` itself when they are not needed"]
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Stats) {
    let mark = Mark::begin();
    let r = f();
    let stats = mark.end();
    say_if_nothing_counted("measure", &stats);
    (r, stats)
}

/// Says once in the process, on stderr, that a measurement read 0 because nothing has ever been
/// counted in the process: dhat-kit's allocator is not installed, and an upper bound asserted on
/// the figures would pass unmeasured. Costs nothing where something was counted (the process
/// figures are read only when the measurement's are 0); built without the `peak` feature (nothing
/// counted by choice), it says nothing.
pub(crate) fn say_if_nothing_counted(what: &str, stats: &Stats) {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if cfg!(feature = "peak")
        && stats.total_blocks == 0
        && process_stats().total_blocks == 0
        && !SAID.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        crate::note::note(&format!(
            "dhat-kit: {what} read 0: nothing has been counted in this process, so dhat-kit's \
             allocator is not installed (dhat_kit::is_installed() says so).\n{}\n",
            crate::INSTALL
        ));
    }
}

/// Runs `f` and returns its result with what every thread of the process allocated while it ran.
///
/// Threads `f` starts (`std::thread::scope`, a rayon pool, a multi-threaded tokio runtime) are
/// counted, and so is any other thread that allocates meanwhile. The figures are exact: while a
/// `measure_all` runs, every thread hands each operation to a shared tally as it happens (a few
/// atomic additions per operation, paid only then), so `total_*` is everything allocated, the
/// peak (`max_bytes`, `max_blocks`) is the peak of the process's live heap during `f` above what
/// was live when it began, and `curr_*` is what is left live at the end. A block allocated on one
/// thread and freed on another is freed: `std::thread::spawn(|| {}).join()` leaves 0 live.
/// `max_blocks` is the live blocks at that same instant: the live bytes and blocks change
/// together, in one word, so threads allocating at once never pair one moment's bytes with
/// another's blocks.
///
/// Calls are serialised: a `measure_all` on another thread (or an `#[assert_heap]` test) waits
/// for this one to end. Nested on the same thread, the inner call measures its own closure, and
/// the outer one's figures include it; threads that keep working meanwhile (a pool started in the
/// outer one) are counted exactly in the inner one too: each of their operations falls wholly
/// inside it or wholly outside, however close to its beginning or end. [`region!`](crate::region!) and [`measure`] inside work as
/// usual. Call it from the thread that runs the test: one called on a thread that another
/// `measure_all`'s closure (or a thread-scope `#[assert_heap]` test) started and waits for would
/// wait for that one to end, which never comes: after 10 s it says so on stderr, and goes on
/// waiting.
///
/// A thread frees std's bookkeeping of it (its boxed closure, its handle) as it exits, after the
/// end of a [`std::thread::scope`] has gone on: the scope waits for its threads' closures, not for
/// their exits. So at its end `measure_all` (nested or not) waits for the threads started inside
/// it to exit, or to go idle (a pool's workers waiting for work; a thread in `thread::sleep` is
/// not idle, it runs again by itself), for at most 0.5 s; threads that stay keep what they hold
/// live in `curr_*`, and a thread still running (or asleep) when the wait gives up is said on
/// stderr (what it does from then on is in no figure, or, for a nested call, only in
/// the enclosing one's). That wait reads
/// the process's threads from `/proc/self/task` (Linux); elsewhere, join the threads inside `f`
/// (`JoinHandle::join` waits for the exit).
///
/// # Isolation
///
/// Whole-process figures mean something only when nothing else runs meanwhile. In a test binary
/// that cargo built (run by `cargo test` or `cargo nextest run`), `measure_all` therefore first
/// waits (up to 5 s) until the process's other threads have been idle for 30 ms (the harness
/// starting the test, threads a finished test left behind), and at the end checks that no thread
/// that existed before it ran or allocated meanwhile; if one did, it panics rather than return
/// mixed figures, with a message naming the ways to run such a test alone:
/// `cargo nextest run` (a process per test) or `cargo test -- --test-threads 1`. Threads that an
/// earlier measurement started and that outlive it (rayon's global pool, started by a test's
/// first `par_iter`) run in the next test's measurement as other threads, one test at a time or
/// not: the message then says so, and names what helps there (a process per test, or a pool of
/// the test's own, built inside the measurement). Under plain
/// parallel `cargo test`, tests of the same binary that use dhat-kit (`measure_all`,
/// `#[assert_heap]`) wait for each other, so a binary whose tests all run their whole body inside
/// them is exact there too; other tests cannot be held back. Threads started before the
/// measurement (a pool, a runtime) count as "other threads": start them inside it, or inside an
/// outer `measure_all` around the whole test (nested calls are not checked). Outside test
/// binaries nothing is checked: every thread's allocations are the process's. The check reads
/// the threads' activity from `/proc/self/task` (Linux); where that cannot be read, a test binary
/// accepts only a run under cargo-nextest.
///
/// Without a dhat-kit allocator installed, or built without the `peak` feature, every figure is 0;
/// with the feature, the first such reading in a process where nothing was ever counted says on
/// stderr that the allocator is not installed, as [`measure`]'s does.
///
/// # Panics
///
/// In a test binary, when another thread of the process ran during the measurement (see above);
/// and if `f` panics.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let (sum, stats) = dhat_kit::measure_all(|| {
///         std::thread::scope(|s| {
///             let a = s.spawn(|| vec![1u8; 4096].len());
///             let b = s.spawn(|| vec![1u8; 1024].len());
///             a.join().unwrap() + b.join().unwrap()
///         })
///     });
///     assert_eq!(sum, 5120);
///     // The two threads' buffers, and what starting the threads allocates.
///     assert!(stats.total_bytes > 5120, "{stats}");
///     assert_eq!(stats.curr_bytes, 0);
/// }
/// ```
#[track_caller]
#[must_use = "what `f` returned and its figures: call `f` itself when they are not needed"]
pub fn measure_all<R>(f: impl FnOnce() -> R) -> (R, Stats) {
    let span = whole::Span::begin("measure_all");
    let r = f();
    let stats = span.end();
    say_if_nothing_counted("measure_all", &stats);
    (r, stats)
}

/// This thread's figures since it started: everything it allocated, its peak of live bytes, and
/// what it holds live now. Blocks this thread freed that other threads allocated lower its live
/// figures and their peak (net figures: each reads 0 rather than below, so after freeing another
/// thread's block the live bytes and blocks read less than what the thread holds).
///
/// Without a dhat-kit allocator installed, or built without the `peak` feature, every figure is 0.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let before = dhat_kit::thread_stats();
///     let v = vec![1u8; 100];
///     let after = dhat_kit::thread_stats();
///     assert_eq!(after.total_bytes - before.total_bytes, 100);
///     # drop(v);
/// }
/// ```
#[must_use]
pub fn thread_stats() -> Stats {
    crate::tally::thread_stats()
}

/// The whole process's figures since it started.
///
/// Totals and live figures are exact to the operation: threads hand their figures to the process
/// tally in batches (every 1,024 allocations, or as soon as their live bytes moved by 64 KiB),
/// which keeps the allocator free of shared counters on its hot path, so this sums instead every
/// running thread's figures, read from its own tally (exactly for an idle thread; for one
/// allocating meanwhile, to within the operation in progress), and those of the threads that
/// have exited. The peak (`max_bytes`) is
/// the batches' (exact to within 64 KiB for each thread alive at the time of the peak), and at
/// least the live figures now. A thread frees std's bookkeeping of it as it exits, after the end of
/// a [`std::thread::scope`] has gone on (which waits for its threads' closures, not for their
/// exits): join a scoped thread's handle when those frees must be in.
///
/// Without a dhat-kit allocator installed, or built without the `peak` feature, every figure is 0.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let v = vec![1u8; 1 << 20];
///     assert!(dhat_kit::process_stats().max_bytes >= 1 << 20);
///     # drop(v);
/// }
/// ```
#[must_use]
pub fn process_stats() -> Stats {
    crate::tally::process_stats()
}

#[cfg(all(unix, feature = "peak"))]
pub(crate) use whole::at_fork;
pub(crate) use whole::{Late, Shared, Span as WholeSpan};

/// The whole-process scope: [`measure_all`]'s span, the serialisation of the kit's measurements
/// across a test binary's threads, and the check that nothing else ran meanwhile.
mod whole {
    use super::threads::{Activity, Threads};
    use super::Stats;
    use crate::tally::SpanMark;
    use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
    use std::thread::ThreadId;
    use std::time::{Duration, Instant};

    /// Who measures now: one whole-process span (its thread, how deeply nested), or any number of
    /// thread-scope budgets; never both.
    struct State {
        owner: Option<(ThreadId, usize)>,
        shared: usize,
        waiting: usize,
        /// The thread-scope places held by the threads waiting for the turn.
        held_waiting: usize,
    }

    static STATE: Mutex<State> = Mutex::new(State {
        owner: None,
        shared: 0,
        waiting: 0,
        held_waiting: 0,
    });
    static CHANGED: Condvar = Condvar::new();

    thread_local! {
        /// Thread-scope budgets this thread holds (a `measure_all` inside one waits for the others only).
        static MINE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    fn state() -> MutexGuard<'static, State> {
        STATE.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes the waiting threads, only when one of them may go on: a waiting thread that wakes
    /// up runs, which a span's check would see as another thread's activity.
    fn notify() {
        CHANGED.notify_all();
    }

    fn wait(guard: MutexGuard<'static, State>) -> MutexGuard<'static, State> {
        CHANGED.wait(guard).unwrap_or_else(PoisonError::into_inner)
    }

    /// A thread-scope measurement held against whole-process ones: while any is held, a
    /// `measure_all` on another thread waits, and it waits for them.
    #[must_use = "the measurement is serialised until this is dropped"]
    pub(crate) struct Shared(());

    impl Shared {
        pub(crate) fn acquire() -> Shared {
            crate::tally::uncounted(|| {
                #[cfg(all(unix, feature = "peak"))]
                crate::fork::hook();
                let me = std::thread::current().id();
                // A budget nested in one this thread holds does not queue behind a waiting span
                // (which waits for the outer one).
                let nested = MINE.try_with(std::cell::Cell::get).unwrap_or(0) > 0;
                let mut s = state();
                while matches!(s.owner, Some((t, _)) if t != me)
                    || (s.waiting > 0 && s.owner.is_none() && !nested)
                {
                    s = wait(s);
                }
                s.shared += 1;
                let _ = MINE.try_with(|m| m.set(m.get() + 1));
            });
            Shared(())
        }
    }

    impl Drop for Shared {
        fn drop(&mut self) {
            crate::tally::uncounted(|| {
                let mut s = state();
                s.shared -= 1;
                let _ = MINE.try_with(|m| m.set(m.get().saturating_sub(1)));
                let free = s.owner.is_none();
                drop(s);
                if free {
                    notify();
                }
            });
        }
    }

    /// Takes the whole-process turn for this thread: waits for other threads' spans and
    /// thread-scope budgets to end. Returns whether this is the outermost span of the thread.
    /// Where every thread-scope place is held by a thread waiting for the turn, this one's
    /// among them (two tests, each inside its thread-scope budget, each in a `measure_all`),
    /// no budget's thread is at work: this one takes the turn, and the others wait for it on
    /// (each waited for the other for good; then the second to wait was refused, failing its
    /// test under plain `cargo test`).
    fn take_turn() -> bool {
        crate::tally::uncounted(|| {
            #[cfg(all(unix, feature = "peak"))]
            crate::fork::hook();
            let me = std::thread::current().id();
            let mine = MINE.try_with(std::cell::Cell::get).unwrap_or(0);
            // A thread started inside the span that holds the turn waits for that span to end,
            // which, if it waits for this thread (a scope, a join, a pool's task), never comes.
            // Its waking (to say so) is that span's own work, not another thread's.
            let inside = crate::tally::born_inside_open_span();
            let mut s = state();
            if let Some((t, depth)) = &mut s.owner {
                if *t == me {
                    *depth += 1;
                    return false;
                }
            }
            s.waiting += 1;
            s.held_waiting += mine;
            // Since when this thread has waited for thread-scope budgets alone (no span's turn),
            // or, started inside the span that holds the turn, for that span.
            let mut since: Option<Instant> = None;
            let mut said = false;
            while s.owner.is_some() || s.shared > mine {
                if mine > 0 && s.owner.is_none() && s.held_waiting == s.shared {
                    break;
                }
                // A wait for thread-scope budgets that does not end may be one no check here can
                // see: this thread is one that such a budget's test waits for (a join).
                since = match s.owner {
                    Some(_) if !inside => None,
                    _ => Some(since.unwrap_or_else(Instant::now)),
                };
                if !said && since.is_some_and(|t| t.elapsed() >= LONG_WAIT) {
                    said = true;
                    let text = if s.owner.is_some() {
                        inside_wait()
                    } else {
                        long_wait(s.shared - mine)
                    };
                    // Said without the lock, which stderr's writer may keep a while.
                    drop(s);
                    crate::note::note(&text);
                    s = state();
                    continue;
                }
                // Woken when the state changes, or when the note is due. Only then: while another
                // thread's span holds the turn, a waiting thread that woke would run during it,
                // which its check would see as another thread's activity.
                s = match since {
                    Some(t) if !said => {
                        let due = LONG_WAIT.saturating_sub(t.elapsed());
                        CHANGED
                            .wait_timeout(s, due.max(Duration::from_millis(1)))
                            .unwrap_or_else(PoisonError::into_inner)
                            .0
                    }
                    _ => wait(s),
                };
            }
            s.waiting -= 1;
            s.held_waiting -= mine;
            s.owner = Some((me, 1));
            true
        })
    }

    /// How long a whole-process measurement waits for thread-scope budgets before it says so.
    const LONG_WAIT: Duration = Duration::from_secs(10);

    /// What a whole-process measurement says when it has waited [`LONG_WAIT`] for `budgets`
    /// thread-scope budgets of other threads to end.
    fn long_wait(budgets: usize) -> String {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("an unnamed thread");
        format!(
            "dhat-kit: a whole-process measurement (measure_all, growth_all, threads = \"all\") \
             on {name} has waited {} s for {budgets} thread-scope {} (#[assert_heap], \
             #[assert_growth]) of other threads to end, and goes on waiting. If such a test waits \
             for this thread (a join), neither ever ends: measure outside that budget, or give \
             it threads = \"all\"\n",
            LONG_WAIT.as_secs(),
            if budgets == 1 { "budget" } else { "budgets" }
        )
    }

    /// What a whole-process measurement says when it has waited [`LONG_WAIT`] for the one that
    /// started its thread to end.
    fn inside_wait() -> String {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("an unnamed thread");
        format!(
            "dhat-kit: a whole-process measurement (measure_all, growth_all, threads = \"all\") \
             on {name}, a thread started inside another one, has waited {} s for that one to \
             end, and goes on waiting. If that one waits for this thread (a scope, a join, a \
             pool's task), neither ever ends: measure in the outer one only, or outside it\n",
            LONG_WAIT.as_secs()
        )
    }

    fn end_turn() {
        crate::tally::uncounted(|| {
            let mut s = state();
            if let Some((_, depth)) = &mut s.owner {
                *depth -= 1;
                if *depth == 0 {
                    s.owner = None;
                }
            }
            let free = s.owner.is_none();
            drop(s);
            if free {
                notify();
            }
        });
    }

    /// The state across a fork (see `crate::fork`).
    #[cfg(all(unix, feature = "peak"))]
    pub(crate) mod at_fork {
        use super::{state, State, MINE};
        use std::cell::Cell;
        use std::sync::MutexGuard;
        use std::thread::ThreadId;

        /// What is held across a fork: the state, and the forking thread's id.
        type Held = (MutexGuard<'static, State>, ThreadId);

        /// Before a fork: holds the state until the fork is over, so that no other thread holds
        /// it at the fork.
        pub(crate) fn hold() {
            let me = std::thread::current().id();
            crate::fork::hold::<Held>((state(), me));
        }

        /// After a fork, in the child: drops the turn and the thread-scope budgets of the threads
        /// the child has not got (no one would end them). Returns how many whole-process spans
        /// this thread has open: its turn's depth.
        pub(crate) fn in_child() -> usize {
            crate::fork::with_held(|(s, me): &mut Held| {
                let own = match s.owner {
                    Some((t, depth)) if t == *me => depth,
                    _ => 0,
                };
                if own == 0 {
                    s.owner = None;
                }
                s.shared = MINE.try_with(Cell::get).unwrap_or(0);
                // A thread that waits is not the forking one.
                s.waiting = 0;
                s.held_waiting = 0;
                own
            })
            .unwrap_or(0)
        }
    }

    /// An open whole-process measurement. Dropped without [`Span::end`] (its closure panicked),
    /// it still turns exact mode off and gives the turn back.
    #[must_use = "a span measures until `end` is called"]
    pub(crate) struct Span {
        /// The other threads' activity when it began, if it is checked.
        before: Option<Activity>,
        /// The process's threads when the span began: the threads started in it are the others,
        /// whose exits it waits for at its end (an inner span's too: its figures are its own).
        threads_before: Option<Threads>,
        what: &'static str,
        /// What its note says of a thread it started that still runs when its wait gives up: by
        /// default, in no figure where no other span of this thread was open when it began (its
        /// figures are final), in the enclosing one's otherwise (which goes on counting).
        late: Late,
        raw: Option<SpanMark>,
        /// [`left_behind_ops`] when it began, if it is checked.
        left_behind: u64,
    }

    /// Where the work of a thread a span started goes, when the thread still runs as the span's
    /// wait for it gives up: what the span's note says of it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Late {
        /// In no figure: the span is the outermost, or the one around it is not reported (a
        /// test's runtime).
        InNoFigure,
        /// In the figures of the span around it (a nested `measure_all`'s default).
        InTheEnclosing,
        /// In the figures of the sizes measured after this one (`growth_all`'s size).
        InLaterSizes,
        /// In the figures of the sizes measured after `growth_all`'s first run, which is not
        /// measured.
        AfterTheWarmUp,
        /// Nothing said: the spans inside it said it (`growth_all`'s, a test runtime's own).
        Unsaid,
    }

    impl Span {
        /// Begins measuring the whole process; `what` names the caller in messages.
        ///
        /// # Panics
        ///
        /// When checked (see [`measure_all`](super::measure_all)) and the process's other threads
        /// never went idle.
        #[track_caller]
        pub(crate) fn begin(what: &'static str) -> Span {
            // Not in a closure, so that the panic names the caller's line.
            match Span::try_begin(what) {
                Ok(span) => span,
                Err(refused) => panic!("{refused}"),
            }
        }

        /// [`Span::begin`], the refusal returned as its message rather than panicked with.
        pub(crate) fn try_begin(what: &'static str) -> Result<Span, String> {
            let outermost = take_turn();
            let mut span = Span {
                before: None,
                threads_before: None,
                what,
                late: if outermost {
                    Late::InNoFigure
                } else {
                    Late::InTheEnclosing
                },
                raw: None,
                left_behind: 0,
            };
            if outermost && crate::tally::uncounted(checked) {
                match crate::tally::uncounted(wait_idle) {
                    Ok(before) => span.before = before,
                    Err(why) => {
                        drop(span);
                        let others = if crate::tally::uncounted(in_nextest) {
                            Others::FromBefore { nextest: true }
                        } else {
                            Others::Unknown
                        };
                        return Err(refusal(what, &why, others));
                    }
                }
            }
            span.threads_before = Some(Threads::now());
            span.raw = Some(SpanMark::begin(outermost));
            span.left_behind = left_behind_ops();
            Ok(span)
        }

        /// A span that never checks for other activity: a unit test's, in a binary whose other
        /// tests run meanwhile.
        #[cfg(all(test, unix, feature = "peak"))]
        pub(crate) fn unchecked(what: &'static str) -> Span {
            let outermost = take_turn();
            Span {
                before: None,
                threads_before: None,
                what,
                late: Late::InNoFigure,
                raw: Some(SpanMark::begin(outermost)),
                left_behind: 0,
            }
        }

        /// The span, its note saying `late` of a thread it started that outlives its wait (by
        /// default, in no figure for the outermost span, in the enclosing one's for another).
        pub(crate) fn late(mut self, late: Late) -> Span {
            self.late = late;
            self
        }

        /// Ends the span: its figures. It first waits for the threads started in it to exit or go
        /// idle (see [`Threads::settle`]), and says on stderr when one still runs after the wait.
        ///
        /// # Panics
        ///
        /// When checked and another thread ran meanwhile.
        #[track_caller]
        pub(crate) fn end(self) -> Stats {
            match self.try_end() {
                Ok(stats) => stats,
                Err(refused) => panic!("{refused}"),
            }
        }

        /// [`Span::end`], the refusal returned as its message rather than panicked with.
        pub(crate) fn try_end(mut self) -> Result<Stats, String> {
            if let Some(threads) = self.threads_before.take() {
                let running = threads.settle();
                // Made and written uncounted: not in the figures it speaks of.
                let what = self.what;
                let late = self.late;
                let say = |running: usize| {
                    let test = std::thread::current();
                    let test = test.name().map(|t| format!(" in {t}")).unwrap_or_default();
                    let (they, them) = if running == 1 {
                        ("it allocates or frees", "it")
                    } else {
                        ("they allocate or free", "them")
                    };
                    let counted = match late {
                        Late::InNoFigure | Late::Unsaid => "is in no figure",
                        Late::InTheEnclosing => {
                            "is not in this one's figures (an enclosing measurement counts it)"
                        }
                        Late::InLaterSizes => {
                            "is not in this size's figures but in those of the sizes measured \
                             after it"
                        }
                        Late::AfterTheWarmUp => {
                            "is in the figures of the sizes measured after the first run, which \
                             is not measured"
                        }
                    };
                    crate::note::note(&format!(
                        "dhat-kit: {what}{test}: {running} {threads} started during the measurement \
                         still ran 0.5 s after its closure returned: what {they} from then on \
                         {counted} (join {them} inside the measurement)\n",
                        threads = if running == 1 { "thread" } else { "threads" },
                    ));
                };
                if running > 0 && late != Late::Unsaid {
                    crate::tally::uncounted(|| say(running));
                }
            }
            let (stats, foreign_ops) = self.raw.take().map(SpanMark::end).unwrap_or_default();
            if let Some(before) = self.before.take() {
                // Read, compared and dropped uncounted, as they were made.
                let ran = crate::tally::uncounted(move || before.others_ran(&Activity::read()));
                let left_behind = left_behind_ops().wrapping_sub(self.left_behind);
                let what = self.what;
                drop(self);
                let why = match ran {
                    Some(why) => why,
                    None if foreign_ops > 0 => format!(
                        "{foreign_ops} allocations or frees were made by threads that were running \
                         before it began"
                    ),
                    None => return Ok(stats),
                };
                let others = if left_behind > 0 {
                    Others::LeftBehind(left_behind)
                } else if crate::tally::uncounted(in_nextest) {
                    Others::FromBefore { nextest: true }
                } else if crate::tally::uncounted(one_test_at_a_time) {
                    Others::FromBefore { nextest: false }
                } else {
                    Others::Unknown
                };
                return Err(refusal(what, &why, others));
            }
            Ok(stats)
        }
    }

    impl std::fmt::Debug for Span {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Span")
                .field("what", &self.what)
                .finish_non_exhaustive()
        }
    }

    impl Drop for Span {
        fn drop(&mut self) {
            if let Some(raw) = self.raw.take() {
                raw.end();
            }
            let before = self.before.take();
            crate::tally::uncounted(move || drop(before));
            end_turn();
        }
    }

    /// What is known of the other threads that ran during a refused measurement.
    #[derive(Clone, Copy)]
    enum Others {
        /// Nothing more: another test's threads, or threads started before the measurement.
        Unknown,
        /// Threads started inside an earlier whole-process measurement and still alive, which
        /// made this many allocations or frees in this one: a pool that outlived its test.
        LeftBehind(u64),
        /// The test binary runs one test at a time (`--test-threads 1`, or a process per test
        /// under cargo-nextest: `true`): threads started before this measurement, by an earlier
        /// test or by this one.
        FromBefore {
            /// Under cargo-nextest, whose process runs this test alone.
            nextest: bool,
        },
    }

    /// What to do of a pool or runtime the test starts before its measurement.
    const START_INSIDE: &str = "- a pool or runtime this test starts: start it inside the \
                                measurement (or inside an outer measure_all around the whole test)\n";

    /// A pool that outlives the test that started it.
    const POOL: &str = "a pool that outlives its test, such as rayon's global pool or a shared \
                        runtime";

    /// A pool's threads, unnamed, show the name of the thread that started them.
    const NAMES: &str = "a thread without a name of its own shows the name, cut to 15 bytes, of \
                         the thread that started it";

    /// The advice when the threads that ran were started before the measurement: running one
    /// test at a time cannot help.
    const OWN_POOL: &str = "- run each such test in a process of its own:\n\n    \
                            cargo nextest run\n\n\
                            - or give the test a pool of its own, built inside the measurement:\n\n    \
                            rayon::ThreadPoolBuilder::new().build()?.install(|| ...)\n\n\
                            - a runtime likewise, built inside the test as #[tokio::test] builds \
                            one (not one kept in a static for every test):\n\n    \
                            tokio::runtime::Runtime::new()?.block_on(async { ... })\n";

    /// The message of a whole-process measurement that cannot be exact here.
    fn refusal(what: &str, why: &str, others: Others) -> String {
        let thread = std::thread::current();
        let test = thread.name().unwrap_or("this test");
        let head = format!("dhat-kit: {what} in {test} cannot give exact figures: {why}");
        let tail = "Figures of the whole process mean something only when nothing else runs \
                    meanwhile";
        match others {
            Others::Unknown => format!(
                "{head}. {tail}:\n\
                 - no other test: run this test in a process of its own, or one test at a time:\n\n    \
                 cargo nextest run\n    \
                 cargo test -- --test-threads 1\n\n\
                 - no thread started before the measurement: start a pool or runtime inside it (or \
                 inside an outer measure_all around the whole test)\n\
                 - no pool left running by an earlier test ({POOL}): give the test a pool of its \
                 own, built inside the measurement (rayon::ThreadPoolBuilder::new().build()?\
                 .install(|| ...)), or run it in a process of its own\n"
            ),
            Others::LeftBehind(ops) => format!(
                "{head}; they were started during an earlier whole-process measurement of this \
                 process, by an earlier test or earlier in this one, and are still alive: {POOL} \
                 (they made {ops} allocations or frees in this one; {NAMES}). Running one test at \
                 a time cannot help: the pool outlives the measurement that started it. \
                 {tail}:\n{OWN_POOL}{START_INSIDE}"
            ),
            Others::FromBefore { nextest: true } => format!(
                "{head}; this test runs in a process of its own (cargo-nextest), so they were \
                 started by this test before the measurement began ({NAMES}). {tail}:\n{START_INSIDE}"
            ),
            Others::FromBefore { nextest: false } => format!(
                "{head}; this test binary runs one test at a time, so they were started before \
                 this measurement: by an earlier test and still alive ({POOL}), or by this test \
                 before the measurement began ({NAMES}). {tail}:\n{OWN_POOL}\n{START_INSIDE}"
            ),
        }
    }

    /// [`left_behind_ops`](crate::tally::process::left_behind_ops): what the threads born inside
    /// an earlier span did in exact mode since the process started.
    #[cfg(feature = "peak")]
    fn left_behind_ops() -> u64 {
        crate::tally::process::left_behind_ops()
    }

    /// Without counting, nothing is known of them.
    #[cfg(not(feature = "peak"))]
    fn left_behind_ops() -> u64 {
        0
    }

    /// Whether this process is the one cargo-nextest started for the test it runs (a process per
    /// test: `--exact NAME`, the name in `NEXTEST_TEST_NAME`), not a child of such a process that
    /// runs tests of its own (which inherits nextest's variables).
    fn in_nextest() -> bool {
        let var = std::env::var_os;
        match (var("NEXTEST_EXECUTION_MODE"), var("NEXTEST_TEST_NAME")) {
            (Some(mode), Some(name)) if mode == "process-per-test" => {
                let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
                args.iter().any(|a| a == "--exact") && args.contains(&name)
            }
            _ => false,
        }
    }

    /// Whether libtest runs this binary's tests one at a time (`--test-threads 1`, or
    /// `RUST_TEST_THREADS=1`): another test's thread that runs meanwhile then belongs to a test
    /// that has finished.
    fn one_test_at_a_time() -> bool {
        let args: Vec<String> = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        // The last one given wins.
        let mut threads = std::env::var("RUST_TEST_THREADS").ok();
        for (i, arg) in args.iter().enumerate() {
            if arg == "--test-threads" {
                threads = args.get(i + 1).cloned();
            } else if let Some(n) = arg.strip_prefix("--test-threads=") {
                threads = Some(n.to_string());
            }
        }
        threads.is_some_and(|n| n.trim() == "1")
    }

    /// Whether this measurement must check for other activity: in a test binary that cargo built
    /// (`target/<profile>/deps/<name>-<16 hex digits>`), where libtest runs tests on parallel
    /// threads; where, even one test at a time, threads a finished test left behind may still
    /// run; and where, even in a process per test (cargo-nextest), the harness's main thread
    /// is still busy with the test's start when the test begins.
    fn checked() -> bool {
        let Some(exe) = std::env::args_os().next() else {
            return false;
        };
        let exe = std::path::Path::new(&exe);
        let in_deps = exe
            .parent()
            .and_then(|d| d.file_name())
            .is_some_and(|d| d == "deps");
        let hashed = exe
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.rsplit_once('-'))
            .is_some_and(|(_, hash)| {
                hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
            });
        in_deps && hashed
    }

    /// How long the other threads must stay idle before a checked span begins, and how long to
    /// wait for that at most.
    const IDLE: Duration = Duration::from_millis(30);
    const PATIENCE: Duration = Duration::from_secs(5);

    /// Waits until no other thread of the process runs for [`IDLE`]; the activity then, to
    /// compare with at the end. Where the threads cannot be read (no `/proc`), only a process per
    /// test (cargo-nextest) is accepted, after waiting [`IDLE`] for its harness to settle.
    fn wait_idle() -> Result<Option<Activity>, String> {
        let start = Instant::now();
        let mut before = Activity::read();
        if let Err(why) = &before.threads {
            if std::env::var_os("NEXTEST").is_some() {
                std::thread::sleep(IDLE);
                return Ok(None);
            }
            return Err(format!(
                "{why}, so whether another test runs meanwhile cannot be checked here; \
                 only `cargo nextest run` runs it exactly on this platform"
            ));
        }
        loop {
            std::thread::sleep(IDLE);
            let now = Activity::read();
            match before
                .others_ran(&now)
                .or_else(|| now.started_since(&before))
            {
                None => return Ok(Some(now)),
                Some(why) if start.elapsed() > PATIENCE => {
                    return Err(format!(
                        "other threads of this process kept running for {} s ({why})",
                        PATIENCE.as_secs()
                    ))
                }
                Some(_) => before = now,
            }
        }
    }
}
