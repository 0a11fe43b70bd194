//! A real multi-crate workload under dhat-rs's own heap profiler, for the reader's corpus test
//! (`tests/dhat_rs_corpus.rs`): a JSON document built, printed, parsed and indexed with
//! serde_json (and serde, itoa, ryu, std's `HashMap`).
//!
//! One program point is shaped as dhat-rs shapes it when a site's blocks change size: one block of
//! 1,000 bytes, freed, then ten of 10 bytes, live at the global peak. Its maximum is the 1,000-byte
//! block (`mb` 1000, `mbk` 1) and at t-gmax it has ten blocks (`gbk` 10): `gbk > mbk`, legal.
//!
//! `dhat-rs-workload FILE` writes the profile to FILE; dhat prints its totals on stderr.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

use std::collections::HashMap;
use std::hint::black_box;

#[inline(never)]
fn block(size: usize) -> Vec<u8> {
    black_box(vec![7u8; size])
}

#[inline(never)]
fn document(records: usize) -> serde_json::Value {
    let items: Vec<serde_json::Value> = (0..records)
        .map(|i| {
            serde_json::json!({
                "id": i,
                "name": format!("record-{i}"),
                "score": i as f64 / 7.0,
                "tags": ["alpha", "beta", format!("t{}", i % 13)],
            })
        })
        .collect();
    serde_json::json!({ "items": items })
}

#[inline(never)]
fn index(doc: &serde_json::Value) -> HashMap<String, u64> {
    let mut index = HashMap::new();
    for item in doc["items"].as_array().into_iter().flatten() {
        if let (Some(name), Some(id)) = (item["name"].as_str(), item["id"].as_u64()) {
            index.insert(name.to_owned(), id);
        }
    }
    index
}

fn main() {
    let file = std::env::args_os()
        .nth(1)
        .expect("usage: dhat-rs-workload FILE");
    let _profiler = dhat::Profiler::builder().file_name(file).build();

    let mut kept = Vec::with_capacity(10);
    for (i, size) in [1000usize, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10]
        .into_iter()
        .enumerate()
    {
        let b = block(size);
        if i > 0 {
            kept.push(b);
        }
    }

    // The global peak comes here, while the ten small blocks are live.
    let doc = document(2_000);
    let text = serde_json::to_string(&doc).expect("prints");
    let parsed: serde_json::Value = serde_json::from_str(&text).expect("parses");
    let idx = index(&parsed);
    assert_eq!(idx.len(), 2_000);
    black_box((&kept, &idx));
    drop((doc, text, parsed, idx));
    black_box(kept);
}
