//! Memory per dataset size for a similarity computation, and the growth test that catches it
//! being quadratic.
//!
//! An API service scores how similar its documents are to each other. Written the obvious way,
//! it keeps a matrix of every pair's score, so its memory grows as n²: fine at 100 documents,
//! 15 MiB at 2,000. `dhat_kit::growth` prints memory per dataset size (the table a team writes
//! up by hand) with the growth of each figure, and `#[dhat_kit::assert_growth(max_bytes = "n")]`
//! turns "memory grows linearly" into a test that fails on the quadratic version and passes on
//! one that keeps only each document's best matches.
//!
//! `cargo run --release --example similarity_growth`

dhat_kit::global_allocator!();

use std::hint::black_box;

const DIMENSIONS: usize = 32;
const SIZES: [usize; 4] = [100, 500, 1_000, 2_000];

/// `n` documents as small embeddings, deterministic.
fn documents(n: usize) -> Vec<[f32; DIMENSIONS]> {
    (0..n)
        .map(|i| std::array::from_fn(|d| ((i * 31 + d * 17) % 101) as f32 / 101.0))
        .collect()
}

fn cosine(a: &[f32; DIMENSIONS], b: &[f32; DIMENSIONS]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32; DIMENSIONS]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b)).max(f32::MIN_POSITIVE)
}

/// Every pair's score, kept: an n × n matrix.
fn all_pairs(docs: &[[f32; DIMENSIONS]]) -> Vec<Vec<f32>> {
    docs.iter()
        .map(|a| docs.iter().map(|b| cosine(a, b)).collect())
        .collect()
}

/// Each document's 5 best matches, scored one row at a time: the row is reused.
fn top_matches(docs: &[[f32; DIMENSIONS]]) -> Vec<[usize; 5]> {
    let mut row: Vec<(f32, usize)> = Vec::with_capacity(docs.len());
    docs.iter()
        .enumerate()
        .map(|(i, a)| {
            row.clear();
            row.extend(
                docs.iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(j, b)| (cosine(a, b), j)),
            );
            row.sort_unstable_by(|x, y| y.0.total_cmp(&x.0));
            std::array::from_fn(|k| row.get(k).map_or(usize::MAX, |m| m.1))
        })
        .collect()
}

/// The growth test as a team writes it beside `#[test]`: memory must grow at most linearly.
#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 500, 1_000, 2_000])]
fn similarity_memory_is_linear(n: usize) {
    black_box(all_pairs(&documents(n)));
}

/// The same test on the version that keeps only the best matches.
#[dhat_kit::assert_growth(max_bytes = "n", total_blocks = "1", sizes = [100, 500, 1_000, 2_000])]
fn top_matches_memory_is_linear(n: usize) {
    black_box(top_matches(&documents(n)));
}

fn main() {
    println!("memory per dataset size, all pairs:");
    let report = dhat_kit::growth(&SIZES, |n| all_pairs(&documents(n)));
    for &(n, stats) in report.rows() {
        println!(
            "  {n:>5} documents: {:>6.2} MiB at the peak, {:>4.1} KiB per document",
            stats.max_bytes as f64 / (1024.0 * 1024.0),
            stats.max_bytes as f64 / 1024.0 / n as f64
        );
    }
    println!("\n{report}\n");

    // The growth test, run here by hand; under `cargo test` it is a #[test] that fails.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let failure = std::panic::catch_unwind(similarity_memory_is_linear);
    std::panic::set_hook(previous);
    match failure {
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .map_or("(no message)", String::as_str);
            println!("#[assert_growth(max_bytes = \"n\")] on all pairs fails:\n{message}\n");
        }
        Ok(()) => println!("#[assert_growth(max_bytes = \"n\")] on all pairs passed\n"),
    }

    println!("memory per dataset size, best 5 matches:");
    let report = dhat_kit::growth(&SIZES, |n| top_matches(&documents(n)));
    println!("{report}\n");
    top_matches_memory_is_linear();
    println!("#[assert_growth(max_bytes = \"n\", total_blocks = \"1\")] on best matches passes");
}
