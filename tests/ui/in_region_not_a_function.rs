#[dhat_kit::in_region]
struct Parser {
    text: String,
}

fn main() {
    let p = Parser { text: String::new() };
    assert!(p.text.is_empty());
}
