//! Without dhat-kit's allocator installed, nothing is counted, and the kit says so.

mod common;

#[test]
fn is_installed_is_false_and_measure_reads_zero() {
    assert!(!dhat_kit::is_installed());
    let (v, s) = dhat_kit::measure(|| vec![0u8; 1000]);
    assert_eq!(v.len(), 1000);
    assert_eq!(s, dhat_kit::Stats::default());
}

#[test]
#[cfg_attr(
    feature = "peak",
    should_panic(
        expected = "dhat-kit: growth cannot measure: dhat-kit's allocator is not installed"
    )
)]
// Built without counting at all, it says that instead.
#[cfg_attr(
    not(feature = "peak"),
    should_panic(
        expected = "dhat-kit: growth cannot measure: dhat-kit was built without its `peak` feature"
    )
)]
fn growth_refuses_to_fit_zeros() {
    // Every figure 0 would read as constant, and a check of the class would pass.
    let _ = dhat_kit::growth(&[10, 100, 1000], |n| vec![0u8; n * n]);
}

#[test]
fn the_peak_profiler_refuses_to_write_zeros() {
    let dir = common::TempDir::new("not-installed-peak");
    let file = dir.0.join("dhat-peak.json");
    let err = dhat_kit::Profiler::builder()
        .mode(dhat_kit::Mode::Peak)
        .file(&file)
        .build()
        .expect_err("nothing to count");
    if cfg!(feature = "peak") {
        assert!(
            matches!(
                err,
                dhat_kit::Error::NotInstalled {
                    mode: dhat_kit::Mode::Peak
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("dhat_kit::global_allocator!();"),
            "{err}"
        );
    } else {
        // Built without the mode at all, it says that first.
        assert!(
            matches!(
                err,
                dhat_kit::Error::NotBuilt {
                    mode: dhat_kit::Mode::Peak,
                    feature: "peak"
                }
            ),
            "{err:?}"
        );
    }
    assert!(!file.exists(), "no file written");
}

/// Every figure would read 0, as for code that allocates nothing: each measurement refuses to
/// start instead.
#[cfg(feature = "criterion")]
#[test]
fn the_criterion_measurements_refuse_to_read_zeros() {
    use criterion::measurement::Measurement;
    use dhat_kit::criterion::{AllocatedBlocks, AllocatedBytes, PeakBytes};
    let refused = |start: fn()| {
        let why = std::panic::catch_unwind(start).expect_err("a measurement started");
        let why = why.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            why.starts_with("dhat-kit: the criterion measurements cannot count")
                && why.contains("dhat_kit::global_allocator!();"),
            "{why}"
        );
    };
    refused(|| drop(AllocatedBytes.start()));
    refused(|| drop(AllocatedBlocks.start()));
    refused(|| drop(PeakBytes.start()));
}

/// Run by [`measure_says_once_that_nothing_was_counted`] in a process of its own.
#[test]
#[ignore = "run by measure_says_once_that_nothing_was_counted, in a child process"]
fn two_measurements_without_the_allocator() {
    let (_, s) = dhat_kit::measure(|| vec![0u8; 1000]);
    let (_, t) = dhat_kit::measure_all(|| vec![0u8; 1000]);
    assert_eq!(
        (s, t),
        (dhat_kit::Stats::default(), dhat_kit::Stats::default())
    );
}

/// `measure` and `measure_all` read 0 here, as for code that allocates nothing; an assertion of
/// an upper bound on them would pass unmeasured. With the `peak` feature (counting compiled in)
/// the first such reading says once, on stderr, that the allocator is not installed.
#[test]
fn measure_says_once_that_nothing_was_counted() {
    let out = common::run_ignored("two_measurements_without_the_allocator");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let said = stderr.matches("dhat-kit: measure read 0").count()
        + stderr.matches("dhat-kit: measure_all read 0").count();
    if cfg!(feature = "peak") {
        assert_eq!(said, 1, "{stderr}");
        assert!(
            stderr.contains("dhat_kit::global_allocator!();"),
            "{stderr}"
        );
    } else {
        assert_eq!(said, 0, "{stderr}");
    }
}

/// Run by [`regions_say_that_nothing_was_counted`] in a process of its own.
#[test]
#[ignore = "run by regions_say_that_nothing_was_counted, in a child process"]
fn regions_without_the_allocator() {
    {
        dhat_kit::region!("unmeasured");
        drop(std::hint::black_box(vec![0u8; 1000]));
    }
    let regions = dhat_kit::regions();
    if cfg!(feature = "peak") {
        // Its entry is counted; its bytes cannot be.
        let r = regions.get("unmeasured").expect("entered");
        assert_eq!((r.entries, r.inclusive.total_bytes), (1, 0));
    }
}

/// `regions()` without the allocator: entries and no bytes; the table would read as code that
/// allocates nothing, so it says so on stderr, as `measure` does.
#[test]
fn regions_say_that_nothing_was_counted() {
    let out = common::run_ignored("regions_without_the_allocator");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let said = stderr.matches("dhat-kit: regions() read 0").count();
    assert_eq!(said, usize::from(cfg!(feature = "peak")), "{stderr}");
}

/// dhat's modes need the kit's allocator too: without it a heap profile is empty (no allocator
/// of dhat's) or charges the kit's own bookkeeping to the program (a `dhat::Alloc` of the
/// binary's own), and an ad-hoc one weighs its events 0.
#[cfg(any(feature = "heap", feature = "ad-hoc"))]
#[test]
fn dhats_modes_refuse_to_start_without_the_kits_allocator() {
    let modes = [
        (cfg!(feature = "heap"), dhat_kit::Mode::Heap),
        (cfg!(feature = "ad-hoc"), dhat_kit::Mode::AdHoc),
    ];
    for (_, mode) in modes.into_iter().filter(|(built, _)| *built) {
        let file = common::temp("not-installed", &format!("{mode:?}.json"));
        let err = dhat_kit::Profiler::builder()
            .mode(mode)
            .file(&file)
            .build()
            .expect_err("a session started without the allocator");
        assert!(
            matches!(err, dhat_kit::Error::NotInstalled { mode: m } if m == mode),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("dhat_kit::global_allocator!();") && msg.contains("dhat::Alloc"),
            "{msg}"
        );
        assert!(!file.exists(), "no file written");
    }
}
