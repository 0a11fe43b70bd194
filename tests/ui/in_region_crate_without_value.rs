#[dhat_kit::in_region(crate)]
fn parse(text: &str) -> usize {
    text.len()
}

#[dhat_kit::in_region("lex", "again")]
fn lex(text: &str) -> usize {
    text.len()
}

fn main() {
    assert_eq!(parse("ab") + lex("ab"), 4);
}
