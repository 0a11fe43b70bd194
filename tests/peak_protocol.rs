//! Measurements and region entries in any order, against a model of the live bytes: random
//! programs of allocations, frees, region guards entered and dropped in any order (moved into
//! measurements, returned out of them, dropped out of order) and nested measurements. Every
//! measurement's figures and every region's (entries, inclusive total and peak) must be the
//! model's exactly. Its own binary: each program starts from `reset_regions()`.

// What this test measures is counted with the `peak` feature only.
#![cfg(feature = "peak")]

dhat_kit::global_allocator!();

mod common;
use common::Rng;

use dhat_kit::Region;
use std::collections::BTreeMap;
use std::hint::black_box;

/// Region names; a program never enters a name already open on the stack (that is recursion,
/// which counts as the open entry and is tested elsewhere).
const NAMES: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

#[derive(Debug, Clone)]
enum Op {
    /// Allocates this many bytes and keeps them.
    Keep(usize),
    /// Allocates and frees at once.
    Churn(usize),
    /// Frees a kept block (by index, modulo how many are kept), if any.
    Free(usize),
    /// Enters a region (the first name not open, from this index on).
    Enter(usize),
    /// Drops a guard (by index, modulo how many were made), if it is still held.
    Drop(usize),
    /// Runs the ops inside `dhat_kit::measure`.
    Measure(Vec<Op>),
}

fn program(rng: &mut Rng, depth: u32) -> Vec<Op> {
    let len = 2 + rng.below(8);
    (0..len)
        .map(|_| match rng.below(if depth < 3 { 12 } else { 10 }) {
            0..=2 => Op::Keep(1 + rng.below(500)),
            3 => Op::Churn(1 + rng.below(2000)),
            4 => Op::Free(rng.below(64)),
            5..=6 => Op::Enter(rng.below(NAMES.len() as u64)),
            7..=9 => Op::Drop(rng.below(64)),
            _ => Op::Measure(program(rng, depth + 1)),
        })
        .collect()
}

/// An open measurement or region entry in the model: the live bytes when it began, the highest
/// since, and what was allocated since.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: i64,
    max: i64,
    total: u64,
}

/// A region's path as the indices of its names, outermost first (a name is open once on the
/// stack, so a path has at most `NAMES.len()` of them): `Copy`, so that the model allocates
/// nothing while the program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Path {
    names: [u8; NAMES.len()],
    len: usize,
}

impl Path {
    fn child(parent: Option<&Path>, name: usize) -> Path {
        let mut p = parent.copied().unwrap_or(Path {
            names: [0; NAMES.len()],
            len: 0,
        });
        p.names[p.len] = name as u8;
        p.len += 1;
        p
    }

    fn holds(&self, name: usize) -> bool {
        self.names[..self.len].contains(&(name as u8))
    }

    fn text(&self) -> String {
        let names: Vec<&str> = self.names[..self.len]
            .iter()
            .map(|&n| NAMES[n as usize])
            .collect();
        names.join("/")
    }
}

/// The program's live bytes, and what each measurement and region entry saw of them. Its vectors
/// are made with room beforehand: it allocates nothing while the program runs.
struct Model {
    live: i64,
    spans: Vec<Option<Span>>,
    /// The open region entries, outermost first: (span, path, guard).
    stack: Vec<(usize, Path, usize)>,
    /// Per path: entries, inclusive total, inclusive peak.
    regions: Vec<(Path, u64, u64, u64)>,
}

impl Model {
    fn new() -> Model {
        Model {
            live: 0,
            spans: Vec::with_capacity(4096),
            stack: Vec::with_capacity(64),
            regions: Vec::with_capacity(4096),
        }
    }

    fn open(&mut self) -> usize {
        self.spans.push(Some(Span {
            start: self.live,
            max: self.live,
            total: 0,
        }));
        self.spans.len() - 1
    }

    fn close(&mut self, span: usize) -> Span {
        self.spans[span].take().expect("open")
    }

    fn alloc(&mut self, n: usize) {
        self.live += n as i64;
        for s in self.spans.iter_mut().flatten() {
            s.total += n as u64;
            s.max = s.max.max(self.live);
        }
    }

    fn free(&mut self, n: usize) {
        self.live -= n as i64;
    }

    /// Ends the entry of guard `guard` if it is open, and every entry entered after it.
    fn drop_guard(&mut self, guard: usize) {
        let Some(at) = self.stack.iter().position(|&(_, _, g)| g == guard) else {
            return;
        };
        while self.stack.len() > at {
            let (span, path, _) = self.stack.pop().expect("open");
            let s = self.close(span);
            let at = match self.regions.iter().position(|r| r.0 == path) {
                Some(at) => at,
                None => {
                    self.regions.push((path, 0, 0, 0));
                    self.regions.len() - 1
                }
            };
            let r = &mut self.regions[at];
            r.1 += 1;
            r.2 += s.total;
            r.3 = r.3.max((s.max - s.start) as u64);
        }
    }
}

/// What a run of the program does, with room made beforehand so that nothing but the program's
/// own blocks is allocated.
struct State {
    kept: Vec<Vec<u8>>,
    guards: Vec<Option<Region>>,
    /// Each measurement's figures (total, peak) as `measure` gave them, in the order they ended.
    measured: Vec<(u64, u64)>,
}

fn run(ops: &[Op], state: &mut State, model: &mut Model, expected: &mut Vec<(u64, u64)>) {
    for op in ops {
        match op {
            &Op::Keep(n) => {
                state.kept.push(black_box(vec![0u8; n]));
                model.alloc(n);
            }
            &Op::Churn(n) => {
                drop(black_box(vec![0u8; n]));
                model.alloc(n);
                model.free(n);
            }
            &Op::Free(i) => {
                if !state.kept.is_empty() {
                    let block = state.kept.swap_remove(i % state.kept.len());
                    model.free(block.len());
                    drop(block);
                }
            }
            &Op::Enter(i) => {
                let parent = model.stack.last().map(|(_, p, _)| *p);
                let Some(name) = (0..NAMES.len())
                    .map(|k| (i + k) % NAMES.len())
                    .find(|&n| !parent.is_some_and(|p| p.holds(n)))
                else {
                    continue;
                };
                let path = Path::child(parent.as_ref(), name);
                let guard = state.guards.len();
                state.guards.push(Some(Region::enter(NAMES[name])));
                let span = model.open();
                model.stack.push((span, path, guard));
            }
            &Op::Drop(i) => {
                if !state.guards.is_empty() {
                    let g = i % state.guards.len();
                    drop(state.guards[g].take());
                    model.drop_guard(g);
                }
            }
            Op::Measure(inner) => {
                let span = model.open();
                let ((), stats) = dhat_kit::measure(|| run(inner, state, model, expected));
                let s = model.close(span);
                state.measured.push((stats.total_bytes, stats.max_bytes));
                expected.push((s.total, (s.max - s.start) as u64));
            }
        }
    }
}

#[test]
fn measurements_and_regions_in_any_order_are_exact() {
    for seed in 1..=2000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let ops = program(&mut rng, 0);
        dhat_kit::reset_regions();
        let mut state = State {
            kept: Vec::with_capacity(4096),
            guards: Vec::with_capacity(4096),
            measured: Vec::with_capacity(4096),
        };
        let mut model = Model::new();
        let mut expected = Vec::with_capacity(4096);
        run(&ops, &mut state, &mut model, &mut expected);
        // The guards still held end last, in the order they were made.
        for g in 0..state.guards.len() {
            drop(state.guards[g].take());
            model.drop_guard(g);
        }
        assert_eq!(state.measured, expected, "seed {seed}: {ops:?}");
        // The program's regions (another test of this binary enters one of its own).
        let got: BTreeMap<String, (u64, u64, u64)> = dhat_kit::regions()
            .iter()
            .filter(|r| r.path.split('/').all(|name| NAMES.contains(&name)))
            .map(|r| {
                (
                    r.path.clone(),
                    (r.entries, r.inclusive.total_bytes, r.inclusive.max_bytes),
                )
            })
            .collect();
        let modelled: BTreeMap<String, (u64, u64, u64)> = model
            .regions
            .iter()
            .map(|&(path, entries, total, max)| (path.text(), (entries, total, max)))
            .collect();
        assert_eq!(got, modelled, "seed {seed}: {ops:?}");
    }
}

/// A guard returned from the innermost of 40 nested measurements: past the 32 it kept in place,
/// a measurement lost the peak before the guard's entry (10 bytes for 100).
#[test]
fn a_guard_returned_from_deep_inside_nested_measurements() {
    fn nested(levels: usize, figures: &mut Vec<(u64, u64)>) -> Region {
        let (guard, stats) = dhat_kit::measure(|| {
            if levels == 0 {
                drop(black_box(vec![0u8; 100]));
                let guard = Region::enter("deep");
                drop(black_box(vec![0u8; 10]));
                guard
            } else {
                nested(levels - 1, figures)
            }
        });
        figures.push((stats.max_bytes, stats.total_bytes));
        guard
    }
    let mut figures = Vec::with_capacity(64);
    drop(nested(39, &mut figures));
    assert_eq!(figures, vec![(100, 110); 40]);
}
