//! dhat-kit's sampled profile beside the peers' sampling allocators, on fixed 64-byte alloc+free
//! pairs, each allocator's `GlobalAlloc` called directly, in one run; ratios to `System`, best of
//! the rounds. Peers: Datadog's `libdd-profiling-heap-allocator` (a sampling countdown; stacks are
//! taken outside the process) and `pprof-alloc`'s sampling wrapper (Go's 512 KiB interval, stacks
//! taken in the process).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[global_allocator]
static KIT: dhat_kit::Alloc = dhat_kit::Alloc::new();
static DATADOG: libdd_profiling_heap_allocator::SampledAllocator<System> =
    libdd_profiling_heap_allocator::SampledAllocator::<System>::DEFAULT;
static PPROF_ALLOC: pprof_alloc::PprofAlloc = pprof_alloc::PprofAlloc::new().with_pprof();

const PAIRS: usize = 1_000_000;
const ROUNDS: usize = 9;

/// Fixed 64-byte alloc+free pairs.
fn pairs64<A: GlobalAlloc>(a: &A) {
    let layout = Layout::from_size_align(64, 8).unwrap();
    for _ in 0..PAIRS {
        // SAFETY: `layout` has a non-zero size; the block is freed with the same layout.
        unsafe {
            let p = a.alloc(layout);
            black_box(p);
            a.dealloc(p, layout);
        }
    }
}

fn main() {
    const NAMES: [&str; 5] = ["System", "peak", "sampled", "libdd-heap", "pprof-alloc"];
    fn run(i: usize) {
        match i {
            0 => pairs64(&System),
            1 | 2 => pairs64(&KIT),
            3 => pairs64(&DATADOG),
            _ => pairs64(&PPROF_ALLOC),
        }
    }
    println!();
    print!("{:<26}", "peers, 64-byte pairs");
    for n in NAMES {
        print!(" {n:>12}");
    }
    println!();
    for threads in [1, 2] {
        let mut best = [Duration::MAX; 5];
        for _ in 0..ROUNDS {
            for (i, b) in best.iter_mut().enumerate() {
                let p = (i == 2).then(|| {
                    dhat_kit::Profiler::builder()
                        .mode(dhat_kit::Mode::Sampled)
                        .file(std::env::temp_dir().join("profile-overhead-peers.json"))
                        .summary(false)
                        .build()
                        .expect("the sampled session starts")
                });
                let start = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(move || run(i));
                    }
                });
                *b = (*b).min(start.elapsed());
                if let Some(p) = p {
                    p.finish().expect("the sampled profile is written");
                }
            }
        }
        print!("{:<26}", format!("{threads} thread(s)"));
        for b in best {
            print!(" {:>11.2}x", b.as_secs_f64() / best[0].as_secs_f64());
        }
        println!();
    }
}
