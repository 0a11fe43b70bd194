// The name and `crate = ".."` in either order, a trailing comma after either.
#[dhat_kit::in_region(crate = "dhat_kit", "parse")]
fn parse(text: &str) -> usize {
    text.len()
}

#[dhat_kit::in_region(crate = "dhat_kit",)]
fn lex(text: &str) -> usize {
    text.len()
}

#[dhat_kit::in_region("split", crate = "dhat_kit",)]
fn split(text: &str) -> usize {
    text.len()
}

fn main() {
    assert_eq!(parse("ab") + lex("ab") + split("ab"), 6);
}
