//! Writes the dhat-rs fixtures of dhat-kit's profile reader (`tests/fixtures/dhat-rs-*.json`):
//! a small workload with a few distinct allocation sites, under dhat-rs's own heap or ad-hoc
//! profiler.
//!
//! ```sh
//! cargo run --example dhat_rs_fixture -- heap   tests/fixtures/dhat-rs-heap.json
//! cargo run --example dhat_rs_fixture -- ad-hoc tests/fixtures/dhat-rs-ad-hoc.json
//! ```
//!
//! dhat prints its totals on stderr; the fixtures keep them beside the file (`*.stderr`), and the
//! reader's tests check the file's totals against them.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[inline(never)]
fn tokenize(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

#[inline(never)]
fn build_index(words: &[String]) -> std::collections::HashMap<String, usize> {
    let mut index = std::collections::HashMap::new();
    for (i, w) in words.iter().enumerate() {
        index.insert(w.clone(), i);
    }
    index
}

#[inline(never)]
fn render(words: &[String]) -> String {
    let mut out = String::new();
    for w in words {
        out.push_str(w);
        out.push('\n');
    }
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "heap".into());
    let file = args
        .next()
        .unwrap_or_else(|| format!("dhat-rs-{mode}.json"));
    let _profiler = match mode.as_str() {
        "heap" => dhat::Profiler::builder().file_name(&file).build(),
        "ad-hoc" => dhat::Profiler::builder().ad_hoc().file_name(&file).build(),
        other => {
            eprintln!("dhat_rs_fixture: unknown mode {other:?}: expected heap or ad-hoc");
            std::process::exit(2);
        }
    };
    let text = "the quick brown fox jumps over the lazy dog ".repeat(20);
    let words = tokenize(&text);
    dhat::ad_hoc_event(words.len());
    let index = build_index(&words);
    dhat::ad_hoc_event(index.len() * 10);
    let page = render(&words);
    dhat::ad_hoc_event(page.len());
    // Kept to the end, so the heap profile has bytes live at exit.
    std::mem::forget(page);
    drop(index);
}
