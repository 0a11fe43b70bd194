//! `#[in_region]` in every form: unnamed, named, with `crate = "..."`, on methods and `async fn`s
//! (their figures are checked in tests/regions_async.rs).

mod kit {
    pub use dhat_kit::*;
}

#[dhat_kit::in_region]
fn unnamed() -> usize {
    #![allow(clippy::let_and_return)]
    let n = 1;
    n
}

#[dhat_kit::in_region("named", crate = "kit")]
fn named() {}

#[dhat_kit::in_region(crate = "kit")]
async fn in_future(text: &str) -> Result<usize, std::num::ParseIntError> {
    text.parse::<usize>()
}

struct S;

impl S {
    #[dhat_kit::in_region("method")]
    async fn method(&self) -> usize {
        2
    }
}

fn assert_send<T: Send>(_: T) {}

fn main() {
    assert_eq!(unnamed(), 1);
    named();
    assert_send(in_future("3"));
    assert_send(S.method());
}
