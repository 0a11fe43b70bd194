//! A user's constants named as the expansion's locals were (`value`, `result`) leave every budget
//! in their scope as it is: `let value = ..` matched `const value` as a pattern ("refutable
//! pattern in local binding"), and the result's closure took `result` for the constant.
#![allow(non_upper_case_globals)]

dhat_kit::global_allocator!();

const value: usize = 4096;
const result: usize = 2;

struct Parser;

impl Parser {
    const LIMIT: usize = 4096;

    #[dhat_kit::assert_heap(max_bytes = Self::LIMIT * 2, total_blocks = result)]
    fn parse() -> Result<usize, String> {
        Ok(std::hint::black_box(vec![0u8; 64]).len())
    }
}

#[dhat_kit::assert_heap(max_bytes = value, curr_bytes = value - 4096)]
fn budget() -> Result<(), String> {
    Parser::parse().map(drop)
}

// Compiled, not run: trybuild builds dhat-kit without its features, where nothing counts.
fn main() {
    let _: fn() -> Result<(), String> = budget;
}
