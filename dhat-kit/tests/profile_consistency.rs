//! The `dhat-kit` command on a profile whose figures no real run gives: a program point with more
//! bytes (or blocks) live at t-gmax or at the end than it allocated exits 2 with one line naming the
//! file, what was expected and where.

mod support;
use support::{fixture, run, TempDir};

#[test]
fn a_point_with_more_live_than_it_allocated_exits_2_with_one_line() {
    let good = std::fs::read_to_string(fixture("valgrind-heap.json")).unwrap();
    // pps[2] allocated 8128 bytes.
    let at_peak = "\"gb\":4096,\"gbk\":1\n  ,\"eb\":0,\"ebk\":0";
    assert!(good.contains(at_peak));
    let dir = TempDir::new("consistency", "bad");
    for (name, live, expected) in [
        (
            "gb-above-tb.json",
            "\"gb\":1000000000,\"gbk\":1\n  ,\"eb\":0,\"ebk\":0",
            "expected `gb` (1000000000) at most `tb` (8128), at pps[2].gb",
        ),
        (
            "eb-above-tb.json",
            "\"gb\":4096,\"gbk\":1\n  ,\"eb\":8129,\"ebk\":1",
            "expected `eb` (8129) at most `tb` (8128), at pps[2].eb",
        ),
    ] {
        let file = dir.write(name, &good.replacen(at_peak, live, 1));
        let f = file.display().to_string();
        for sub in [&["summary"][..], &["summary", "--json"], &["top"]] {
            let mut args = sub.to_vec();
            args.insert(1, &f);
            let out = run(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} {sub:?}: {stderr}");
            assert_eq!(stderr, format!("dhat-kit: {f}: {expected}\n"), "{sub:?}");
            assert!(out.stdout.is_empty(), "{name} {sub:?}");
        }
    }
}
