//! What a `fork` leaves the child. Only the forking thread lives on there, with the kit's state as
//! it was at the fork; the other threads' parts of that state belong to threads the child has not
//! got. So, once in the process, hooks are registered around every fork:
//!
//! - before it, the forking thread takes and holds the kit's locks that another thread could be
//!   holding (in the child nothing would ever let one go): the whole-process turn's state, the
//!   region registry, then under `sampled` the unwinders' and the sample set's. Its own sampling
//!   is off meanwhile, so that an allocation it makes then never waits for a lock it holds;
//! - after it, in the parent, it lets them go;
//! - in the child, it first drops the other threads' parts: their turn and budgets
//!   ([`crate::stats::at_fork`]), their open spans, their span slots and their band slots
//!   ([`crate::tally::in_child`]), and completes a region entry one was adding
//!   ([`crate::region::in_child`]); then it lets the locks go.
//!
//! The hooks are registered by a thread's first publication to the process tally and by the first
//! whole-process turn or thread-scope budget, whichever comes first. Without them
//! (`pthread_atfork` failed), a child could wait for good on a lock or a turn held by a thread it
//! has not got, and exact mode's walks would write to those threads' memory.

use std::any::Any;
use std::cell::RefCell;
use std::sync::atomic::{
    AtomicU64,
    Ordering::{Acquire, Release},
};

thread_local! {
    /// What the forking thread holds across a fork (the locks' guards, and what turns its
    /// sampling back on), let go after it in the parent and in the child.
    static HELD: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// Before a fork: keeps `held` (a lock's guard) until the fork is over.
pub(crate) fn hold<T: 'static>(held: T) {
    let _ = HELD.try_with(|h| h.borrow_mut().push(Box::new(held)));
}

/// In the child: runs `repair` on what was held as a `T`, if anything was.
pub(crate) fn with_held<T: 'static, R>(repair: impl FnOnce(&mut T) -> R) -> Option<R> {
    HELD.try_with(|h| {
        let mut h = h.borrow_mut();
        h.iter_mut().find_map(|b| b.downcast_mut::<T>()).map(repair)
    })
    .ok()
    .flatten()
}

/// After a fork, in the parent: lets go of everything held, the last taken first.
fn release() {
    let _ = HELD.try_with(|h| {
        let mut h = h.borrow_mut();
        while let Some(held) = h.pop() {
            drop(held);
        }
    });
}

/// After a fork, in the child: lets go of everything held, the last taken first, without freeing
/// the memory that held it. A free goes through the global allocator, which under `heap` is
/// dhat's, and dhat takes its global lock for every free, its own blocks or not: another thread
/// may have held it at the fork, and the child would wait for it for good, inside `fork` itself.
/// What is left is a few words per fork, in the child.
fn release_in_child() {
    let _ = HELD.try_with(|h| {
        let mut held = std::mem::take(&mut *h.borrow_mut());
        while let Some(one) = held.pop() {
            let one = Box::into_raw(one);
            // SAFETY: `one` came from `Box::into_raw` just above, is dropped here once, and its
            // memory is never used again (left, not freed).
            unsafe { std::ptr::drop_in_place(one) };
        }
        std::mem::forget(held);
    });
}

/// Registers the hooks, once in the process, before any caller goes on to take a lock they guard.
/// The first caller registers them. A caller that finds the registration under way in this
/// process waits for it: `pthread_atfork` only takes libc's own lock (which a fork holds while it
/// runs the hooks) and allocates with libc's `malloc`, never through this allocator, so the wait
/// is short. Returning at once instead let a caller take the registry's or a turn's lock while the
/// hooks were not yet there, and a fork then gave a child a lock held for good. A child forked by
/// another thread while its parent was registering them (before libc's lock was taken) has no
/// hooks, and in it nobody is registering: its first caller sees that the registration under way
/// was another process's and registers them itself (a `Once` would wait there for good). A child
/// forked after they were registered gets them, and its own hook ([`child`]) marks them done.
pub(crate) fn hook() {
    // Registered: no need to ask for the process's id (a system call).
    if HOOKS.load(Acquire) == HOOKED {
        return;
    }
    once_per_process(&HOOKS, std::process::id(), || {
        // SAFETY: the three hooks live as long as the process. They take the kit's own locks (in
        // an order no other code path reverses, see `prepare`), touch atomics and the forking
        // thread's own state, and never unwind (see `caught`).
        let _ = unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
    });
}

/// Whether the hooks are registered: [`UNHOOKED`], [`HOOKED`], or the id of the process whose
/// thread is registering them, shifted left by 2, with [`REGISTERING`].
static HOOKS: AtomicU64 = AtomicU64::new(UNHOOKED);
const UNHOOKED: u64 = 0;
const HOOKED: u64 = 1;
const REGISTERING: u64 = 2;

/// Runs `register` once in the process `pid`, the state kept in `state` (see [`HOOKS`]);
/// returns when it has run, here or on another thread of the process.
fn once_per_process(state: &AtomicU64, pid: u32, register: impl FnOnce()) {
    let ours = u64::from(pid) << 2 | REGISTERING;
    let mut seen = state.load(Acquire);
    loop {
        if seen == HOOKED {
            return;
        }
        // Nobody registering, or the registration under way was another process's (this is a
        // child forked meanwhile): register here.
        if seen != ours {
            match state.compare_exchange(seen, ours, Acquire, Acquire) {
                Ok(_) => {
                    register();
                    state.store(HOOKED, Release);
                    return;
                }
                Err(now) => seen = now,
            }
        } else {
            std::thread::yield_now();
            seen = state.load(Acquire);
        }
    }
}

/// Runs a hook's work; a panic there (none is expected) ends in the hook, which must not unwind.
fn caught(work: impl FnOnce()) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
}

/// Before a fork, on the forking thread. The sampler's locks are taken last: a thread holding the
/// whole-process state or the registry may allocate, and so take a sampler lock, never the other
/// way round (and none holds those two together). What it allocates (its thread-locals' first
/// use) is the kit's own, uncounted.
extern "C" fn prepare() {
    caught(|| {
        crate::tally::uncounted(|| {
            #[cfg(feature = "sampled")]
            crate::sample::at_fork::quiet();
            crate::stats::at_fork::hold();
            crate::region::hold_for_fork();
            #[cfg(feature = "sampled")]
            crate::sample::at_fork::hold();
        });
    });
}

/// After a fork, in the parent. What `prepare` held was allocated uncounted, so it goes
/// uncounted: counted, each fork would lower the thread's live figures by what the hooks hold.
extern "C" fn parent() {
    caught(|| crate::tally::uncounted(release));
}

/// After a fork, in the child, where the forking thread is the only one. What it drops is the
/// kit's own bookkeeping, uncounted as it was made.
extern "C" fn child() {
    // The hooks run, so they are registered, whether or not the parent's registering thread had
    // said so when the fork came.
    HOOKS.store(HOOKED, Release);
    caught(|| {
        crate::tally::uncounted(|| {
            let own_spans = crate::stats::at_fork::in_child();
            crate::tally::in_child(own_spans);
            crate::region::in_child();
            release_in_child();
        });
    });
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::mpsc::channel;
    use std::time::{Duration, Instant};

    /// Forks; the child runs `child` and leaves through `_exit` with its result (0: passed);
    /// the parent waits at most 30 seconds for it, killing it after that, and returns whether it
    /// passed.
    pub(crate) fn in_a_child(child: impl FnOnce() -> bool) -> Result<(), String> {
        // SAFETY: the child runs `child` (the test's own code) on the only thread it has and ends
        // through `_exit`, running nothing of the parent's.
        match unsafe { libc::fork() } {
            0 => {
                let passed = child();
                // SAFETY: ends the child at once.
                unsafe { libc::_exit(if passed { 0 } else { 1 }) }
            }
            -1 => Err(format!("fork failed: {}", std::io::Error::last_os_error())),
            pid => {
                let start = Instant::now();
                let mut status = 0;
                loop {
                    // SAFETY: `pid` is this process's child, `status` a valid place to write.
                    let got = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
                    if got == pid {
                        break;
                    }
                    if got == -1 {
                        return Err(format!("waitpid: {}", std::io::Error::last_os_error()));
                    }
                    if start.elapsed() > Duration::from_secs(30) {
                        // SAFETY: `pid` is this process's child, not yet waited for.
                        unsafe {
                            libc::kill(pid, libc::SIGKILL);
                            libc::waitpid(pid, &mut status, 0);
                        }
                        return Err("the child hung for 30 seconds".to_string());
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
                    Ok(())
                } else {
                    Err(format!("the child failed (status {status})"))
                }
            }
        }
    }

    /// Runs `hold` on another thread, which keeps the second half of what it returns until
    /// `test` is over; `test` runs here, with the first half.
    pub(crate) fn while_another_thread_holds<S: Send + 'static, K: 'static, R>(
        hold: impl FnOnce() -> (S, K) + Send + 'static,
        test: impl FnOnce(S) -> R,
    ) -> R {
        let (tell, told) = channel::<S>();
        let (release, wait) = channel::<()>();
        let other = std::thread::spawn(move || {
            let (sent, kept) = hold();
            tell.send(sent).unwrap();
            // Released, or `test` panicked.
            let _ = wait.recv();
            drop(kept);
        });
        let r = test(told.recv().unwrap());
        release.send(()).unwrap();
        other.join().unwrap();
        r
    }

    /// A thread holds a thread-scope budget and an open whole-process span when another forks:
    /// the child has not got that thread, so neither may outlive the fork there. Without the
    /// hooks, the child's `measure_all` waits for good for the budget to end, and every operation
    /// of the child takes exact mode's slow path.
    #[test]
    fn a_forked_child_is_left_no_budget_or_span_of_a_thread_it_has_not_got() {
        super::hook();
        let hold = || {
            let budget = crate::stats::Shared::acquire();
            let span = crate::stats::WholeSpan::unchecked("the other thread's span");
            ((), (span, budget))
        };
        let child = while_another_thread_holds(hold, |()| {
            assert!(
                crate::tally::exact_mode(),
                "the other thread's span is open"
            );
            in_a_child(|| {
                let no_span = !crate::tally::exact_mode();
                let ((), _) = crate::measure_all(|| drop(std::hint::black_box(vec![1u8; 10])));
                no_span && !crate::tally::exact_mode()
            })
        });
        child.unwrap();
    }

    /// The first caller registers the hooks; later callers do not.
    #[test]
    fn the_first_caller_registers_and_no_later_one() {
        use super::{once_per_process, HOOKED, UNHOOKED};
        use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
        let state = AtomicU64::new(UNHOOKED);
        let mut runs = 0;
        for _ in 0..3 {
            once_per_process(&state, std::process::id(), || runs += 1);
        }
        assert_eq!(runs, 1);
        assert_eq!(state.load(SeqCst), HOOKED);
    }

    /// A caller that finds another thread of its process registering the hooks returns only once
    /// they are registered: it may go on to take a lock the hooks guard.
    #[test]
    fn a_caller_waits_for_a_registration_under_way_in_its_process() {
        use super::{once_per_process, HOOKED, REGISTERING};
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
        use std::sync::Arc;
        let ours = u64::from(std::process::id()) << 2 | REGISTERING;
        let state = Arc::new(AtomicU64::new(ours));
        let registered = Arc::new(AtomicBool::new(false));
        let registrant = {
            let (state, registered) = (state.clone(), registered.clone());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                registered.store(true, SeqCst);
                state.store(HOOKED, SeqCst);
            })
        };
        once_per_process(&state, std::process::id(), || {
            panic!("registered a second time")
        });
        assert!(
            registered.load(SeqCst),
            "returned before the registration under way was done"
        );
        registrant.join().unwrap();
    }

    /// A child forked while a thread of its parent was registering the hooks (which the child has
    /// not got) registers them itself, and does not wait for that thread.
    #[test]
    fn a_child_forked_during_a_registration_registers_them_itself() {
        use super::{once_per_process, HOOKED, REGISTERING};
        use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
        let parents = u64::from(std::process::id()) << 2 | REGISTERING;
        let state = AtomicU64::new(parents);
        in_a_child(|| {
            let mut runs = 0;
            once_per_process(&state, std::process::id(), || runs += 1);
            runs == 1 && state.load(SeqCst) == HOOKED
        })
        .unwrap();
    }

    /// A child forked after the hooks were registered, but before the registering thread said so,
    /// has them (they ran in it): its own hook says so, and nothing registers them twice there.
    #[test]
    fn a_child_forked_just_after_the_registration_knows_the_hooks_are_there() {
        use super::{HOOKED, HOOKS, REGISTERING};
        use std::sync::atomic::Ordering::SeqCst;
        super::hook();
        // As if this thread had registered them and not yet said so (other tests' callers wait
        // meanwhile).
        HOOKS.store(u64::from(std::process::id()) << 2 | REGISTERING, SeqCst);
        let child = in_a_child(|| HOOKS.load(SeqCst) == HOOKED);
        HOOKS.store(HOOKED, SeqCst);
        child.unwrap();
    }
}
