//! One criterion benchmark measured three ways: time, bytes allocated per iteration and peak
//! bytes per iteration (`dhat_kit::criterion`). Run with
//! `cargo bench --bench criterion_parse --features criterion`; add `-- alloc/` for the bytes alone.

dhat_kit::global_allocator!();

use criterion::measurement::{Measurement, WallTime};
use criterion::{criterion_group, criterion_main, Criterion};
use dhat_kit::criterion::{per_iteration, AllocatedBytes, PeakBytes};
use std::collections::HashMap;
use std::hint::black_box;

const INPUT: &str =
    "name = dhat-kit\nversion = 0.1.0\nedition = 2021\nlicense = MIT OR Apache-2.0\n";

/// Parses `key = value` lines into a map of owned strings.
fn parse_document(input: &str) -> HashMap<String, String> {
    input
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn parse<M: Measurement>(c: &mut Criterion<M>, group: &str) {
    c.benchmark_group(group)
        .bench_function("parse", |b| b.iter(|| parse_document(black_box(INPUT))));
}

fn parse_time(c: &mut Criterion<WallTime>) {
    parse(c, "time");
}

fn parse_alloc(c: &mut Criterion<AllocatedBytes>) {
    parse(c, "alloc");
}

/// The peak needs each iteration measured on its own: `per_iteration` (left out of the others,
/// where it would only add to the time).
fn parse_peak(c: &mut Criterion<PeakBytes>) {
    c.benchmark_group("peak").bench_function("parse", |b| {
        b.iter(per_iteration(|| parse_document(black_box(INPUT))))
    });
}

criterion_group!(time, parse_time);
criterion_group! {
    name = alloc;
    config = Criterion::default().with_measurement(AllocatedBytes).without_plots();
    targets = parse_alloc
}
criterion_group! {
    name = peak;
    config = Criterion::default().with_measurement(PeakBytes).without_plots();
    targets = parse_peak
}
criterion_main!(time, alloc, peak);
