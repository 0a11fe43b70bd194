//! The stack of a sampled allocation, taken inside the allocator.
//!
//! On Linux x86_64 it is unwound with framehop, from the unwind tables (`.eh_frame`) of the
//! modules loaded when the session began. The tables are copied into memory of the kit's own,
//! with the thread's counting paused, so a library unloaded later leaves nothing dangling. framehop
//! caches the rules it has read and neither allocates nor locks while it unwinds. It gives the same
//! return addresses as libgcc's unwinder (a test checks it) at about a fifteenth of the cost: 0.25
//! µs against 3-4 µs for 25 frames here. That cost is most of what a sample costs.
//!
//! libgcc's unwinder, through the `backtrace` crate, is used elsewhere, and for any stack the fast
//! unwinder cannot finish: a frame outside the modules it knows (a library loaded after the
//! session began), a read outside the thread's stack, or an error in the tables.

/// Writes the return addresses of the calling thread's stack into `ips`, innermost first (the
/// first is an address in this module), and returns how many; stops when `ips` is full.
pub(super) fn trace(ips: &mut [usize]) -> usize {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    if let Some(n) = fast::trace(ips) {
        return n;
    }
    slow(ips)
}

/// Readies the fast unwinder for a session: the modules loaded now. Runs outside the allocator.
pub(super) fn prepare() {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    fast::prepare();
}

/// Before a fork: the unwinders' locks, held until the fork is over (see `crate::fork`). The two
/// are never held together elsewhere (the fast unwind lets its lock go before the slow one runs).
#[cfg(unix)]
pub(super) fn hold_for_fork() {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    fast::hold_for_fork();
    crate::fork::hold(slow_lock());
}

/// Held through each slow unwind, and by the fork hooks across a fork. libgcc's unwinder finds a
/// frame's tables through `dl_iterate_phdr`, which holds the loader's lock, where libgcc is older
/// than 12 or glibc older than 2.35 (newer ones ask `_dl_find_object`, which takes no lock). A fork
/// does not hold that lock, so a child forked while another thread unwinds there would find it held
/// for good, and its first sample would wait on it. With this lock held across the fork, no slow
/// unwind of the sampler's is under way when it comes. Only the sampler's: an unwind for another
/// reason (a panic's backtrace, say) is not the kit's to hold. Never taken twice by one thread: a
/// sample is never taken while this thread takes one (`on_sampled`'s guard).
static SLOW: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// [`SLOW`], locked (a panic while it was held leaves nothing to repair).
fn slow_lock() -> std::sync::MutexGuard<'static, ()> {
    SLOW.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// libgcc's unwinder, through the `backtrace` crate, under [`SLOW`].
fn slow(ips: &mut [usize]) -> usize {
    let _slow = slow_lock();
    let mut n = 0;
    // SAFETY: `trace_unsynchronized` is unsafe only because it may run concurrently with other
    // unwinders on platforms whose unwinder is not thread-safe (Windows' dbghelp); the closure
    // only writes into `ips`, within its bounds, and neither allocates nor panics.
    unsafe {
        backtrace::trace_unsynchronized(|frame| {
            if n == ips.len() {
                return false;
            }
            ips[n] = frame.ip() as usize;
            n += 1;
            true
        });
    }
    n
}

#[cfg(all(test, unix))]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::{mpsc, Arc};

    /// A fork waits for a slow unwind under way on another thread: the child never inherits the
    /// loader's lock from one (before, the fork went ahead at once, and `done` read false).
    #[test]
    fn a_fork_waits_for_a_slow_unwind_under_way() {
        crate::fork::hook();
        let (began, unwinding) = mpsc::channel();
        let done = Arc::new(AtomicBool::new(false));
        let unwind = std::thread::spawn({
            let done = Arc::clone(&done);
            move || {
                // As `slow` holds it while libgcc unwinds.
                let held = super::slow_lock();
                began.send(()).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(200));
                done.store(true, SeqCst);
                drop(held);
            }
        });
        unwinding.recv().unwrap();
        // SAFETY: the child only exits, at once, without running anything of the parent's.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: ends the child without unwinding or running destructors.
            unsafe { libc::_exit(0) };
        }
        assert!(pid > 0, "fork failed: {}", std::io::Error::last_os_error());
        let forked_after_the_unwind = done.load(SeqCst);
        let mut status = 0;
        // SAFETY: waits for the child just forked, writing its status into a local.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        unwind.join().unwrap();
        assert!(
            forked_after_the_unwind,
            "the fork came while a slow unwind was under way"
        );
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod fast {
    use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64};
    use framehop::{
        ExplicitModuleSectionInfo, FrameAddress, Module, MustNotAllocateDuringUnwind, Unwinder,
    };
    use std::cell::Cell;
    use std::ops::Range;
    use std::sync::{Mutex, MutexGuard, PoisonError};

    type Policy = MustNotAllocateDuringUnwind;

    /// The unwinder over the modules loaded when the session began, its cache of rules, and the
    /// modules' address ranges, sorted.
    struct Fast {
        unwinder: UnwinderX86_64<Vec<u8>, Policy>,
        cache: CacheX86_64<Policy>,
        ranges: Vec<Range<u64>>,
    }

    /// Whether `address` lies in one of the modules' ranges (sorted).
    fn knows(ranges: &[Range<u64>], address: u64) -> bool {
        let i = ranges.partition_point(|r| r.end <= address);
        ranges.get(i).is_some_and(|r| r.contains(&address))
    }

    /// A std mutex, so that the fork hooks can hold it across a fork and let it go in the child
    /// (see `STATE` in the parent module).
    static FAST: Mutex<Option<Fast>> = Mutex::new(None);

    /// The unwinder, locked (a panic while it was held leaves it as usable as it was).
    fn lock() -> MutexGuard<'static, Option<Fast>> {
        FAST.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Before a fork: the unwinder's lock, held until the fork is over.
    pub(super) fn hold_for_fork() {
        crate::fork::hold(lock());
    }

    thread_local! {
        /// This thread's stack (lowest address, highest), read once; `(0, 0)` before.
        static STACK: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    }

    pub(super) fn prepare() {
        crate::tally::uncounted(|| {
            let mut fast = Fast {
                unwinder: UnwinderX86_64::new(),
                cache: CacheX86_64::new_in(),
                ranges: Vec::new(),
            };
            // SAFETY: `each` is called with `dl_iterate_phdr`'s own arguments and `fast` as its
            // data, which outlives the call; the loader's lock is held meanwhile, so the modules
            // it describes stay mapped while their tables are copied.
            unsafe {
                libc::dl_iterate_phdr(Some(each), (&raw mut fast).cast());
            }
            fast.ranges.sort_by_key(|r| r.start);
            *lock() = Some(fast);
        });
    }

    /// Adds one loaded module (its executable range and a copy of its unwind tables).
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _size: usize,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: `dl_iterate_phdr` passes a valid `info` and the `data` given to it, a `Fast`.
        let (info, fast) = unsafe { (&*info, &mut *data.cast::<Fast>()) };
        // SAFETY: `info` describes a loaded module: its headers and segments are mapped.
        if let Some((range, module)) = unsafe { module(info) } {
            fast.ranges.push(range);
            fast.unwinder.add_module(module);
        }
        0
    }

    /// The module `info` describes, if it has unwind tables (`PT_GNU_EH_FRAME`) in the usual
    /// encoding.
    ///
    /// # Safety
    ///
    /// `info` must describe a module that stays mapped during the call.
    unsafe fn module(info: &libc::dl_phdr_info) -> Option<(Range<u64>, Module<Vec<u8>>)> {
        let base = info.dlpi_addr;
        if info.dlpi_phdr.is_null() {
            return None;
        }
        // SAFETY: the loader's program headers for the module, `dlpi_phnum` of them.
        let headers = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum.into()) };
        let loads: Vec<Range<u64>> = headers
            .iter()
            .filter(|h| h.p_type == libc::PT_LOAD)
            .map(|h| h.p_vaddr..h.p_vaddr + h.p_memsz)
            .collect();
        let text = headers
            .iter()
            .find(|h| h.p_type == libc::PT_LOAD && h.p_flags & libc::PF_X != 0)
            .map(|h| h.p_vaddr..h.p_vaddr + h.p_memsz)?;
        let hdr = headers
            .iter()
            .find(|h| h.p_type == libc::PT_GNU_EH_FRAME)
            .map(|h| h.p_vaddr..h.p_vaddr + h.p_memsz)?;
        let copy = |r: &Range<u64>| -> Vec<u8> {
            // SAFETY: `r` lies within one of the module's loaded segments, mapped and readable.
            unsafe {
                std::slice::from_raw_parts(
                    (base + r.start) as *const u8,
                    (r.end - r.start) as usize,
                )
            }
            .to_vec()
        };
        let hdr_bytes = copy(&hdr);
        // `.eh_frame_hdr`: version 1, then the encoding of the pointer to `.eh_frame` (a signed
        // 4-byte offset from the pointer's own place, 0x1b), which follows at offset 4.
        if hdr_bytes.len() < 8 || hdr_bytes[0] != 1 || hdr_bytes[1] != 0x1b {
            return None;
        }
        let offset = i32::from_le_bytes(hdr_bytes[4..8].try_into().ok()?);
        let eh_frame_start = (hdr.start + 4).checked_add_signed(offset.into())?;
        // `.eh_frame` ends with its segment at the latest (a zero terminator ends it before).
        let segment = loads.iter().find(|r| r.contains(&eh_frame_start))?;
        let eh_frame = eh_frame_start..segment.end;
        let section_info = ExplicitModuleSectionInfo {
            base_svma: 0,
            text_svma: Some(text),
            eh_frame: Some(copy(&eh_frame)),
            eh_frame_svma: Some(eh_frame),
            eh_frame_hdr: Some(hdr_bytes),
            eh_frame_hdr_svma: Some(hdr),
            ..ExplicitModuleSectionInfo::default()
        };
        let start = loads.iter().map(|r| r.start).min()?;
        let end = loads.iter().map(|r| r.end).max()?;
        let range = base + start..base + end;
        let name = if info.dlpi_name.is_null() {
            String::new()
        } else {
            // SAFETY: the loader gives a module's name as a C string, or null (handled above).
            unsafe { std::ffi::CStr::from_ptr(info.dlpi_name) }
                .to_string_lossy()
                .into_owned()
        };
        Some((range.clone(), Module::new(name, range, base, section_info)))
    }

    /// This thread's stack, read once per thread (glibc's `pthread_getattr_np`, which uses its
    /// own allocator, not the global one).
    fn stack() -> Option<(u64, u64)> {
        let known = STACK.try_with(Cell::get).ok()?;
        if known.1 != 0 {
            return Some(known);
        }
        // SAFETY: `attr` is initialised by `pthread_getattr_np` before it is read, and destroyed
        // once; the out-pointers are valid for the writes.
        let bounds = unsafe {
            let mut attr: libc::pthread_attr_t = std::mem::zeroed();
            if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
                return None;
            }
            let (mut addr, mut size) = (std::ptr::null_mut(), 0);
            let got = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
            libc::pthread_attr_destroy(&mut attr);
            if got != 0 {
                return None;
            }
            (addr as u64, addr as u64 + size as u64)
        };
        let _ = STACK.try_with(|s| s.set(bounds));
        Some(bounds)
    }

    /// The fast unwind; `None` when it cannot vouch for the whole stack.
    #[inline(never)]
    pub(super) fn trace(ips: &mut [usize]) -> Option<usize> {
        let (low, high) = stack()?;
        let mut guard = lock();
        let fast = guard.as_mut()?;
        let (rip, rsp, rbp): (u64, u64, u64);
        // SAFETY: reads the instruction pointer, stack pointer and frame pointer into registers;
        // nothing else is touched.
        unsafe {
            std::arch::asm!(
                "lea {ip}, [rip]",
                "mov {sp}, rsp",
                "mov {bp}, rbp",
                ip = out(reg) rip,
                sp = out(reg) rsp,
                bp = out(reg) rbp,
                options(nomem, nostack, preserves_flags),
            );
        }
        // Reads stay between the stack pointer and the stack's top: that part of the stack is
        // mapped (below it, a main thread's stack may not have grown yet), and every frame the
        // unwinder needs lies there. A stack pointer outside the thread's stack (a coroutine's
        // own stack) is left to libgcc.
        if !(low..high).contains(&rsp) {
            return None;
        }
        let mut read_stack = |address: u64| {
            if address.is_multiple_of(8) && address >= rsp && address < high.saturating_sub(7) {
                // SAFETY: an aligned word of this thread's own stack between the stack pointer
                // and the top, which is mapped; it lies in this function's frame or its callers',
                // which are not written meanwhile.
                Ok(unsafe { std::ptr::read_volatile(address as *const u64) })
            } else {
                Err(())
            }
        };
        let Fast {
            unwinder,
            cache,
            ranges,
        } = fast;
        let mut frames = unwinder.iter_frames(
            rip,
            UnwindRegsX86_64::new(rip, rsp, rbp),
            cache,
            &mut read_stack,
        );
        let mut n = 0;
        while n < ips.len() {
            match frames.next() {
                Ok(Some(frame)) => {
                    let address = match frame {
                        FrameAddress::InstructionPointer(a) => a,
                        FrameAddress::ReturnAddress(a) => a.get(),
                    };
                    // A frame outside the modules known at the session's start: libgcc's turn.
                    if !knows(ranges, address) {
                        return None;
                    }
                    ips[n] = address as usize;
                    n += 1;
                }
                Ok(None) => break,
                Err(_) => return None,
            }
        }
        Some(n)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[inline(never)]
        fn nested(depth: u32, f: &mut dyn FnMut()) {
            if depth == 0 {
                f();
            } else {
                nested(depth - 1, f);
                std::hint::black_box(depth);
            }
        }

        #[test]
        fn the_fast_unwinder_gives_libgcc_s_stack() {
            prepare();
            nested(12, &mut || {
                let (mut fast, mut slow) = ([0usize; 128], [0usize; 128]);
                let nf = trace(&mut fast).expect("the fast unwinder finishes this stack");
                let ns = super::super::slow(&mut slow);
                // Each starts in its own function; from the caller of this closure on, the two
                // stacks are the same return addresses (libgcc may end with a null frame).
                let slow_frames: Vec<usize> =
                    slow[..ns].iter().copied().filter(|&a| a != 0).collect();
                let from = slow_frames.len() - (nf - 2);
                assert!(nf > 14, "only {nf} frames");
                assert_eq!(&fast[2..nf], &slow_frames[from..], "the stacks differ");
            });
        }
    }
}
