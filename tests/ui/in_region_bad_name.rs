#[dhat_kit::in_region(parse)]
fn parse(text: &str) -> usize {
    text.len()
}

fn main() {
    assert_eq!(parse("ab"), 2);
}
