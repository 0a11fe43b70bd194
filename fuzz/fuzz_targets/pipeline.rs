//! Every step over a profile that read: none may panic, and what is written reads back.
use crate::common;
use dhat_kit::analyze::{
    self, budget::Budgets, DiffOptions, Fold, FoldBy, Format, GroupBy, Metric, Skip, TopOptions,
};
use dhat_kit::{baseline, export, profile, report};

const BUDGET: &str = r#"
[[component]]
name = "parsing"
match = { crate = "serde_json" }
max = "40%"

[[component]]
name = "main"
match = { function = "main" }
max = 50

[[component]]
name = "files"
match = { file = "src/main.rs" }
max = "1 MiB"
metric = "total-blocks"

[[component]]
name = "region"
match = { region = "parse" }
max = "10%"
metric = "peak-bytes"
"#;

pub fn pipeline(bytes: &[u8]) {
    let Ok(p) = profile::from_slice(bytes, "fuzz.json") else {
        return;
    };
    run(&p, bytes.len());
}

pub fn run(p: &profile::Profile, sel: usize) {
    let p = p.clone();
    let bytes = vec![0u8; sel];
    let _ = p.totals();
    let _ = p.kind();
    let mut q = p.clone();
    let _ = q.trim_allocator_frames();
    let mut out = Vec::new();
    q.write_to(&mut out).unwrap();
    if let Err(e) = profile::from_slice(&out, "trimmed.json") {
        panic!("TRIMMED profile does not read back: {e}");
    }
    let s = analyze::summary(&p);
    let _ = s.to_string();
    let _ = s.warnings();
    let skip = Skip::new().with("*alloc*").with("a*b*c*d*e");
    for &by in &Metric::ALL {
        let _ = analyze::folded(&p, by);
        for group_by in [
            GroupBy::Site,
            GroupBy::Function,
            GroupBy::File,
            GroupBy::Crate,
        ] {
            let mut opts = TopOptions::default();
            (opts.n, opts.by, opts.group_by) = (5, by, group_by);
            (opts.stack, opts.skip) = (3, skip.clone());
            if let Ok(top) = analyze::top(&p, &opts) {
                for f in [Format::Table, Format::Markdown, Format::Json] {
                    let _ = top.render(&p, f);
                }
            }
        }
    }
    if let Ok(r) = analyze::regions(&p) {
        for f in [Format::Table, Format::Markdown, Format::Json] {
            let _ = r.render(f);
        }
    }
    for by in [FoldBy::Function, FoldBy::Location] {
        let fold = Fold::new(&p, by, &[Metric::TotalBytes, Metric::TotalBlocks]);
        let _ = fold.totals();
        fold.for_each(1, |_, _| {});
        fold.for_each_point(|_, _| {});
    }
    let fx = common::fixture(bytes.len() as u8);
    for (before, after) in [(&p, &p), (&fx, &p), (&p, &fx)] {
        for by in [Metric::TotalBytes, Metric::PeakBytes, Metric::Reads] {
            let mut opts = DiffOptions::default();
            (opts.n, opts.by, opts.group_by) = (5, by, GroupBy::Site);
            opts.skip = skip.clone();
            if let Ok(d) = analyze::diff(before, after, &opts) {
                for f in [Format::Table, Format::Markdown, Format::Json] {
                    let _ = d.render(after, f);
                }
            }
        }
    }
    for to in [
        export::To::Pprof,
        export::To::Speedscope,
        export::To::Folded,
    ] {
        for by in [Metric::TotalBytes, Metric::PeakBytes, Metric::Writes] {
            let mut o = export::Options::new(to);
            o.by = by;
            let mut out = Vec::new();
            let _ = export::write(&p, "fuzz.json", &o, &mut out);
        }
    }
    let mut svg = Vec::new();
    let _ = analyze::flamegraph_svg(&p, Metric::TotalBytes, "fuzz.json", &mut svg);
    let budgets = Budgets::parse(BUDGET, "budgets.toml").unwrap();
    let budget = match budgets.check(&p) {
        Ok(r) => {
            common::say_all(&r);
            Some(r)
        }
        Err(e) => {
            let _ = e.to_string();
            None
        }
    };
    let mut ropts = report::ReportOptions::default();
    (ropts.rows, ropts.stack, ropts.diff_rows, ropts.budget) = (3, 4, 3, budget);
    let _ = report::html(&p, "fuzz.json", None, &ropts);
    let _ = report::html(&p, "fuzz.json", Some((&fx, "fx.json")), &ropts);
    let figs = baseline::BaselineFigures::from_profile(&p);
    let c = baseline::compare(
        "t",
        &figs,
        &baseline::BaselineFigures::from_profile(&fx),
        5.0,
        &baseline::METRICS,
    );
    let _ = c.to_string();
    let _ = c.measured(&baseline::Measure::of(&p)).to_string();
}
