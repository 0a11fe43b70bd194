//! The fence between exact mode's operations and a span's step ([`super::process`]): an
//! asymmetric one where the system offers it.
//!
//! An operation marks itself in progress and then reads whether a step is being taken; a step
//! sets that flag and then reads the marks. Each side needs its write ordered before its read
//! (a store-load fence), or both may miss the other. Operations are many and steps are few, so
//! the cost goes to the step: on Linux, the step calls `membarrier` (private expedited), which
//! runs a full fence on every processor running one of the process's threads before it returns,
//! and the operation's fence is only the compiler's ([`light`]). Where `membarrier` is not offered
//! (another system, an older kernel, a sandbox that filters it), both sides use a full fence.
//!
//! Whether it is offered is settled once, by the first span's beginning ([`settle`]), before any
//! step; it never changes afterwards (but in a forked child, see [`in_child`]), so every step sees
//! the same answer, and an operation that reads it before it is settled uses the full fence, which
//! is correct against either kind of step.

use std::sync::atomic::{compiler_fence, fence, AtomicU8, Ordering::SeqCst};

/// Not settled yet: no span has begun.
const UNKNOWN: u8 = 0;
/// `membarrier` is registered for the process: operations need only the compiler's fence.
const ASYMMETRIC: u8 = 2;
/// No `membarrier`: a full fence on both sides.
const SYMMETRIC: u8 = 3;

static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Settles which fence the process uses. Called by every span's beginning, before its first
/// step. Threads that ask at once each ask the system (registering twice is harmless) and the
/// first answer stored stands: none waits for another, so a child forked while a thread of the
/// parent's was asking never waits for it.
pub(super) fn settle() {
    if STATE.load(SeqCst) == UNKNOWN {
        let _ = STATE.compare_exchange(UNKNOWN, ask(), SeqCst, SeqCst);
    }
}

/// An operation's fence, between its mark and its read of the step's flag.
#[inline(always)]
pub(super) fn light() {
    if STATE.load(SeqCst) == ASYMMETRIC {
        compiler_fence(SeqCst);
    } else {
        fence(SeqCst);
    }
}

/// A step's fence, between its setting of the flag and its read of the marks. Only after
/// [`settle`].
pub(super) fn heavy() {
    if STATE.load(SeqCst) == ASYMMETRIC {
        if !barrier() {
            // Registered, it cannot fail (membarrier(2)); if it did, operations running with the
            // compiler's fence alone could be missed, and the figures would be wrong without a
            // word.
            #[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
            membarrier::fail();
        }
    } else {
        fence(SeqCst);
    }
}

/// In a forked child, where only the forking thread lives: a registration may not carry over, so
/// the child asks again if the parent had asked. No other thread runs yet, so none can hold an
/// answer that changes.
#[cfg(unix)]
pub(super) fn in_child() {
    if STATE.load(SeqCst) != UNKNOWN {
        STATE.store(ask(), SeqCst);
    }
}

/// Linux with glibc or musl: the `libc` crate names the call there (not on uClibc).
#[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
mod membarrier {
    /// `MEMBARRIER_CMD_PRIVATE_EXPEDITED` and its registration (`linux/membarrier.h`).
    pub(super) const PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    pub(super) const REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    /// Says that a registered barrier failed, and aborts: a step taken without it could miss an
    /// operation. Writes with `write(2)` alone: taking stderr's lock could wait for a thread that
    /// holds it and waits, inside an allocation, for the step this thread is taking.
    pub(super) fn fail() -> ! {
        const MESSAGE: &[u8] = b"dhat-kit: membarrier failed after its registration; aborting\n";
        // SAFETY: writes `MESSAGE`, a valid buffer of its length, to file descriptor 2.
        let _ = unsafe { libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len()) };
        std::process::abort()
    }

    /// `membarrier(cmd, 0, 0)`; whether it succeeded.
    pub(super) fn call(cmd: libc::c_long) -> bool {
        // SAFETY: `membarrier` reads no memory of the caller's; an unknown or unregistered
        // command fails with an error code.
        unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                cmd,
                0 as libc::c_long,
                0 as libc::c_long,
            ) == 0
        }
    }
}

/// Registers the process for `membarrier` and checks that a barrier works: [`ASYMMETRIC`] if so,
/// else [`SYMMETRIC`].
fn ask() -> u8 {
    #[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
    if membarrier::call(membarrier::REGISTER_PRIVATE_EXPEDITED) && barrier() {
        return ASYMMETRIC;
    }
    SYMMETRIC
}

/// A full fence on every processor running one of the process's threads.
fn barrier() -> bool {
    #[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
    let done = membarrier::call(membarrier::PRIVATE_EXPEDITED);
    #[cfg(not(all(target_os = "linux", any(target_env = "gnu", target_env = "musl"))))]
    let done = false;
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_settled_once() {
        settle();
        let first = STATE.load(SeqCst);
        assert!(first == ASYMMETRIC || first == SYMMETRIC);
        settle();
        assert_eq!(STATE.load(SeqCst), first);
        // A step's fence works with either answer.
        heavy();
        light();
    }

    /// The store-buffering test: each of two threads writes its flag, takes its side's fence and
    /// reads the other's flag, round after round, both starting at once (then each after a
    /// random short delay, so that some rounds line up); at least one must see the other's write.
    /// With the compiler's fence alone on both sides, both miss within a few thousand rounds here
    /// (the writes wait in the processors' store buffers while the reads go ahead), and with a
    /// full fence on the step's side alone too: the operation's side needs one, which is what
    /// `membarrier` supplies. It cannot tell `membarrier` from any slow system call (the store
    /// buffer drains meanwhile); that the call is registered and works is `ask`'s check, and
    /// `linux_offers_the_asymmetric_fence`'s. A thread that waits long for the other yields (a busy
    /// machine); with one processor the test is skipped.
    #[test]
    fn of_an_operation_and_a_step_at_least_one_sees_the_other() {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, Ordering::Relaxed};
        const ROUNDS: u64 = 200_000;
        if std::thread::available_parallelism().map_or(1, usize::from) < 2 {
            // Two threads never run at once there: nothing to buffer against.
            eprintln!("skipped: the store-buffering test needs two processors");
            return;
        }
        settle();
        static READY: AtomicU64 = AtomicU64::new(0);
        static MARK: AtomicBool = AtomicBool::new(false);
        static FLAG: AtomicBool = AtomicBool::new(false);
        // Both threads arrive, then both go (round `r`'s arrivals are `2r - 1` and `2r`), then
        // each waits a random few spins.
        fn start(r: u64, rng: &mut u64) {
            READY.fetch_add(1, SeqCst);
            let mut spins = 0u32;
            while READY.load(SeqCst) < 2 * r {
                spins += 1;
                if spins < 1000 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            for _ in 0..*rng % 32 {
                std::hint::spin_loop();
            }
        }
        // One side's rounds: write its flag (as that side does), its fence, read the other's.
        fn side(
            seed: u64,
            (own, write): (&AtomicBool, Ordering),
            fence: fn(),
            other: &AtomicBool,
        ) -> Vec<bool> {
            let (mut rng, mut saw) = (seed, Vec::with_capacity(ROUNDS as usize));
            for r in 1..=ROUNDS {
                start(2 * r - 1, &mut rng);
                own.store(true, write);
                fence();
                saw.push(other.load(SeqCst));
                start(2 * r, &mut rng);
                own.store(false, SeqCst);
            }
            saw
        }
        let operation =
            std::thread::spawn(|| side(0x9e37_79b9_7f4a_7c15, (&MARK, Relaxed), light, &FLAG));
        let saw = side(0x2545_f491_4f6c_dd1d, (&FLAG, SeqCst), heavy, &MARK);
        let op_saw = operation.join().unwrap();
        let both_missed = (0..ROUNDS as usize)
            .filter(|&i| !saw[i] && !op_saw[i])
            .count();
        assert_eq!(both_missed, 0, "rounds in which each side missed the other");
    }

    /// A forked child takes steps with the answer it asks for again (a registration need not
    /// carry over).
    #[cfg(unix)]
    #[test]
    fn a_forked_child_settles_again() {
        crate::fork::hook();
        settle();
        let child = crate::fork::tests::in_a_child(|| {
            heavy();
            light();
            let settled = STATE.load(SeqCst);
            in_child();
            heavy();
            settled == STATE.load(SeqCst) && (settled == ASYMMETRIC || settled == SYMMETRIC)
        });
        child.unwrap();
    }

    /// On Linux the kernels the project runs on offer `membarrier`: the operations' fence is the
    /// compiler's there (a sandbox that filters the call would show here).
    #[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
    #[test]
    fn linux_offers_the_asymmetric_fence() {
        settle();
        assert_eq!(STATE.load(SeqCst), ASYMMETRIC);
    }
}
