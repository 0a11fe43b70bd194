//! `reset_regions()` while another thread exits regions. Its own binary: a reset clears every
//! region of the process, which would disturb other tests' figures.

dhat_kit::global_allocator!();

use dhat_kit::{region, regions};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// A reset while another thread exits regions (which its docs ask not to do) may leave wrong
/// counts, but never an entry that stays half added, on which a read (`regions()`, or the
/// thread's own hand-over as it ends) would wait for good.
#[test]
fn a_reset_while_another_thread_exits_never_hangs_a_read() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(Relaxed) {
                    region!("reset-while-exiting");
                    black_box(vec![0u8; 100]);
                }
            });
            let deadline = Instant::now() + Duration::from_secs(1);
            while Instant::now() < deadline {
                dhat_kit::reset_regions();
            }
            stop.store(true, Relaxed);
        });
        let _ = done.send(regions().len());
    });
    finished
        .recv_timeout(Duration::from_secs(20))
        .expect("a read waited for good on an entry left half added");
}
