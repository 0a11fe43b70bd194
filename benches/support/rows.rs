//! The rows a benchmark run asked for: `cargo bench --bench NAME -- WORD...` keeps the rows whose
//! name holds one of the words (all rows without any); `--list` (what `cargo test --benches`
//! passes to list tests) asks for none.

/// The words given after `--`, or `None` for `--list`.
pub struct Rows(Vec<String>);

impl Rows {
    /// This run's words; `None` when the run only lists tests.
    pub fn from_args() -> Option<Rows> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.iter().any(|a| a == "--list") {
            return None;
        }
        Some(Rows(
            args.into_iter().filter(|a| !a.starts_with("--")).collect(),
        ))
    }

    /// Whether the row called `name` runs.
    pub fn wanted(&self, name: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|word| name.contains(word.as_str()))
    }
}
