#[dhat_kit::in_region]
const fn width() -> usize {
    8
}

fn main() {
    assert_eq!(width(), 8);
}
