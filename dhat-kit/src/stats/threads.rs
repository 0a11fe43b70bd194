//! The process's threads, as Linux shows them in `/proc/self/task`: how much each has run (the
//! check that nothing else ran during a whole-process span), and the wait, at the end of such a
//! span or of a profiling session, for the threads started in it to finish exiting.

use std::time::{Duration, Instant};

/// The process's threads, how much each has run (CPU ticks and context switches) and whether
/// it is runnable, from `/proc/self/task`. A thread that ran, even briefly, is runnable or has
/// a different figure afterwards.
pub(super) struct Activity {
    /// The process whose threads these are: a child forked since an earlier reading has none of
    /// that reading's threads but the forking one (which has another id there).
    pub(super) pid: u32,
    pub(super) me: Option<u64>,
    pub(super) threads: Result<Vec<Thread>, String>,
}

/// One thread: its id, how much it has run, and its name as the kernel knows it (15 bytes
/// at most).
pub(super) struct Thread {
    tid: u64,
    run: u64,
    /// Running or waiting for a CPU: a thread that is idle waits for something else.
    runnable: bool,
    /// In a timed sleep (`thread::sleep`): not waiting for work, it runs again by itself.
    sleeping: bool,
    name: String,
}

impl Activity {
    pub(super) fn read() -> Activity {
        Activity {
            pid: std::process::id(),
            me: own_id(),
            threads: threads(),
        }
    }

    /// Threads in `self` that were not in `earlier`: someone started them in between.
    pub(super) fn started_since(&self, earlier: &Activity) -> Option<String> {
        let (Ok(now), Ok(before)) = (&self.threads, &earlier.threads) else {
            return None;
        };
        let new = now
            .iter()
            .filter(|t| !before.iter().any(|b| b.tid == t.tid))
            .count();
        (new > 0).then(|| format!("{new} thread(s) started"))
    }

    /// Why other threads than this one ran between `self` and `later`, if they did. Read in a
    /// child forked since `self`, none did: `self`'s threads are the parent's, which run on in
    /// the parent, not here (they read as gone, hence as having run, and refused every span the
    /// forking thread carried into the child).
    pub(super) fn others_ran(&self, later: &Activity) -> Option<String> {
        if later.pid != self.pid {
            return None;
        }
        let (before, after) = match (&self.threads, &later.threads, self.me) {
            (Ok(b), Ok(a), Some(_)) => (b, a),
            (Err(e), _, _) | (_, Err(e), _) => return Some(e.clone()),
            (_, _, None) => {
                return Some("this thread's id could not be read from /proc".to_string())
            }
        };
        let ran: Vec<&Thread> = before
            .iter()
            .filter(|t| Some(t.tid) != self.me)
            .filter(|t| {
                t.runnable
                    || !after
                        .iter()
                        .any(|a| a.tid == t.tid && a.run == t.run && !a.runnable)
            })
            .collect();
        (!ran.is_empty()).then(|| {
            // Linux keeps 15 bytes of a thread's name: a test's name is cut there.
            // (A cut inside a character reads longer: its bytes' replacement is 3 bytes.)
            let cut = if ran.iter().any(|t| t.name.len() >= 15) {
                "; names as Linux keeps them, cut to 15 bytes"
            } else {
                ""
            };
            // The main thread, whose id is the process's, bears the binary's name (a test
            // binary's `neighbours-931a`), which nobody knows as a thread's: it is said to be it.
            let pid = u64::from(self.pid);
            let names: Vec<String> = ran
                .iter()
                .map(|t| match t.tid == pid {
                    true => format!("{} (the main thread)", t.name),
                    false => t.name.clone(),
                })
                .collect();
            format!(
                "{} other thread{} of this process ran meanwhile ({}{cut})",
                ran.len(),
                if ran.len() == 1 { "" } else { "s" },
                names.join(", ")
            )
        })
    }
}

/// The calling thread's id.
fn own_id() -> Option<u64> {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse().ok())
}

/// Each thread's id, activity (CPU ticks + context switches) and name.
fn threads() -> Result<Vec<Thread>, String> {
    threads_where(|_| true)
}

/// [`threads`], of the threads whose id `keep` accepts.
fn threads_where(keep: impl Fn(u64) -> bool) -> Result<Vec<Thread>, String> {
    let listed = list().map_err(|e| {
        format!("the process's threads could not be read from /proc/self/task ({e})")
    })?;
    let mut out = Vec::new();
    for (tid, dir) in listed {
        if !keep(tid) {
            continue;
        }
        // A thread that ended between the listing and the read has run: it is left out, which
        // reads as "ran" against an earlier listing.
        if let Some((run, runnable, name)) = activity(&dir) {
            let sleeping = !runnable && asleep(&dir);
            out.push(Thread {
                tid,
                run,
                runnable,
                sleeping,
                name,
            });
        }
    }
    Ok(out)
}

/// The process's threads: each one's id and directory.
///
/// The kernel lists a process's threads by walking on from the thread it listed last, and ends
/// the listing early when that one has exited meanwhile: the threads after it are missing. So a
/// listing whose last thread is gone by its end is read again (up to [`RELISTS`] times).
fn list() -> std::io::Result<Vec<(u64, std::path::PathBuf)>> {
    let mut relists = 0;
    loop {
        let mut listed = Vec::new();
        for entry in std::fs::read_dir("/proc/self/task")? {
            let entry = entry?;
            if let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) {
                listed.push((tid, entry.path()));
            }
        }
        let cut_short = listed
            .last()
            .is_some_and(|(_, dir)| std::fs::symlink_metadata(dir).is_err());
        if !cut_short || relists == RELISTS {
            return Ok(listed);
        }
        relists += 1;
    }
}

/// How many times [`list`] reads a listing again that may have been cut short.
const RELISTS: usize = 64;

fn activity(dir: &std::path::Path) -> Option<(u64, bool, String)> {
    // As bytes: Linux keeps 15 bytes of a thread's name, and a cut inside a character (a test
    // named `test_aéééééééé`, whose threads take its name) is not UTF-8; read as text, such a
    // thread was left out of every wait and check.
    let stat = std::fs::read(dir.join("stat")).ok()?;
    let stat = String::from_utf8_lossy(&stat);
    // `pid (name) state ...`: the name may hold spaces and parentheses. After it, state is
    // field 3, utime 14, stime 15.
    let (head, tail) = stat.rsplit_once(')')?;
    let name = head.split_once('(').map_or("", |(_, n)| n).to_string();
    let fields: Vec<&str> = tail.split_whitespace().collect();
    let runnable = fields.first()? == &"R";
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read(dir.join("status")).ok()?;
    let status = String::from_utf8_lossy(&status);
    let switches: u64 = status
        .lines()
        .filter(|l| l.contains("ctxt_switches:"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum();
    Some((ticks + switches, runnable, name))
}

/// Whether the thread whose directory is `dir` is blocked in a timed sleep (`nanosleep`,
/// `clock_nanosleep`: `thread::sleep`), as its `syscall` file shows; `false` where it cannot be
/// read.
fn asleep(dir: &std::path::Path) -> bool {
    #[cfg(all(target_os = "linux", feature = "peak"))]
    {
        let Ok(text) = std::fs::read_to_string(dir.join("syscall")) else {
            return false;
        };
        let nr = text
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<i64>().ok());
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        if nr == Some(libc::SYS_nanosleep) {
            return true;
        }
        nr == Some(libc::SYS_clock_nanosleep)
    }
    #[cfg(not(all(target_os = "linux", feature = "peak")))]
    {
        let _ = dir;
        false
    }
}

/// The process's threads at one moment (a whole-process span's beginning, a profiling session's
/// start), for [`Threads::settle`] at a later one. Made, and dropped, with counting paused.
#[must_use = "the threads of one moment, for `settle` at a later one"]
pub(crate) struct Threads(Option<Vec<u64>>);

impl Threads {
    /// The threads now; none where `/proc/self/task` cannot be read.
    pub(crate) fn now() -> Threads {
        Threads(crate::tally::uncounted(ids))
    }

    /// Waits until the threads started since [`Threads::now`] have exited or stay idle (see
    /// [`settle`]): how many of them still ran when it gave up (0 where the threads cannot be
    /// read).
    pub(crate) fn settle(mut self) -> usize {
        let before = self.0.take();
        // Given up after `SETTLE`: the figures are taken as they are then.
        crate::tally::uncounted(move || before.map_or(0, |before| settle(&before)))
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        let before = self.0.take();
        crate::tally::uncounted(move || drop(before));
    }
}

/// The ids of the process's threads now, sorted; `None` where `/proc/self/task` cannot be read.
fn ids() -> Option<Vec<u64>> {
    let mut ids: Vec<u64> = list().ok()?.into_iter().map(|(tid, _)| tid).collect();
    ids.sort_unstable();
    Some(ids)
}

/// How long [`settle`] waits at most, for threads that neither exit nor go idle.
const SETTLE: Duration = Duration::from_millis(500);

/// How long [`settle`] waits between two readings: a thread idle at both, that did not run in
/// between, is taken as one that stays (a pool's worker waiting for work).
const POLL: Duration = Duration::from_millis(1);

/// Waits until each thread that is not among `before` (sorted), other than the calling one, has
/// exited or stays idle (waiting for something other than a timer); or gives up when [`SETTLE`]
/// has passed. Returns how many still ran then
/// (0 when they settled, or when the threads cannot be read).
///
/// The calling thread may not be among `before` though it ran nothing new: in a child forked
/// while a span or session was open, the thread that ends it has an id of its own.
///
/// A thread hands its last frees over as it exits (std's bookkeeping of it, its thread-locals),
/// after whatever waited for its closure has gone on: the end of a [`std::thread::scope`] waits
/// for the closures of its threads, not for their exits. So a whole-process span that ended as
/// soon as its closure returned would find blocks live that the threads it started are about
/// to free.
fn settle(before: &[u64]) -> usize {
    let start = Instant::now();
    let me = own_id();
    // The new threads idle at the previous reading, with how much each had run.
    let mut idle: Vec<(u64, u64)> = Vec::new();
    loop {
        let Ok(new) = threads_where(|tid| Some(tid) != me && before.binary_search(&tid).is_err())
        else {
            return 0;
        };
        // Idle, not in a timed sleep (a thread that naps, then works, is no pool's worker
        // waiting for work: it was taken for one, and what it did after its nap was in no
        // figure, without a word), and unchanged since the previous reading.
        let stay = |t: &Thread| !t.runnable && !t.sleeping && idle.contains(&(t.tid, t.run));
        let running = new.iter().filter(|t| !stay(t)).count();
        if running == 0 || start.elapsed() >= SETTLE {
            return running;
        }
        idle = new
            .iter()
            .filter(|t| !t.runnable)
            .map(|t| (t.tid, t.run))
            .collect();
        std::thread::sleep(POLL);
    }
}

#[cfg(all(test, target_os = "linux", feature = "peak"))]
mod tests {
    use super::{ids, settle, Activity, Thread};

    /// Of the threads that ran, the main thread is said to be it: it bears the binary's name
    /// (`neighbours-931a` in a test binary), which read as a thread nobody started.
    #[test]
    fn the_main_thread_is_named_as_such() {
        let pid = u64::from(std::process::id());
        let thread = |tid: u64, run: u64, name: &str| Thread {
            tid,
            run,
            runnable: false,
            sleeping: false,
            name: name.to_owned(),
        };
        let at = |run: u64| Activity {
            pid: std::process::id(),
            me: Some(pid + 1),
            threads: Ok(vec![
                thread(pid, run, "neighbours-931a"),
                thread(pid + 1, 0, "me"),
                thread(pid + 2, run, "busy_neighbour"),
            ]),
        };
        assert_eq!(
            at(1).others_ran(&at(2)).unwrap(),
            "2 other threads of this process ran meanwhile (neighbours-931a (the main thread), \
             busy_neighbour; names as Linux keeps them, cut to 15 bytes)"
        );
        assert_eq!(at(1).others_ran(&at(1)), None);
    }

    /// In a child forked since a reading, the reading's threads are the parent's: none ran in
    /// the child's process (they read as gone, hence as having run, and a span the forking
    /// thread carried into the child was refused, naming the parent's threads).
    #[test]
    fn a_forked_child_sees_none_of_its_parents_threads_run() {
        crate::fork::hook();
        // Another thread of the parent's, which the child has not got.
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || stopped.recv());
        let before = Activity::read();
        let result =
            crate::fork::tests::in_a_child(move || before.others_ran(&Activity::read()).is_none());
        stop.send(()).unwrap();
        other.join().unwrap().unwrap();
        result.unwrap();
    }

    /// In a child forked while a span was open, the thread that ends it is not among the threads
    /// listed when it began: it is not waited for as a new thread would be (for [`SETTLE`], since
    /// it runs the whole time).
    ///
    /// [`SETTLE`]: super::SETTLE
    #[test]
    fn a_forked_child_does_not_wait_for_its_own_thread() {
        crate::fork::hook();
        let before = ids().expect("/proc/self/task");
        crate::fork::tests::in_a_child(move || settle(&before) == 0).unwrap();
    }
}
