//! A region's literal name with `/` (which separates a path's names) or none at all is a compile
//! error: `region!("x/y")` inside `outer` read as the path `outer/x/y`, the same as `y` inside `x`.
dhat_kit::global_allocator!();

#[dhat_kit::in_region("parse/tokens")]
fn parse(text: &str) -> usize {
    text.len()
}

fn main() {
    dhat_kit::region!("outer");
    {
        dhat_kit::region!("x/y");
    }
    {
        dhat_kit::region!("");
    }
    assert_eq!(parse("ab"), 2);
}
