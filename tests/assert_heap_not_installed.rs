//! `#[assert_heap]` in a test binary without dhat-kit's allocator: the test fails, and says which
//! line to add, instead of passing with nothing measured.

use dhat_kit::assert_heap;
use std::panic::catch_unwind;

#[assert_heap(max_bytes = 4096)]
fn small() {
    drop(std::hint::black_box(vec![0u8; 16]));
}

const NOT_INSTALLED: &str = "dhat-kit: #[assert_heap] on assert_heap_not_installed::small cannot \
measure: dhat-kit's allocator is not installed in this test binary.
Install it at the root of the crate the test is in: at the top of the file under tests/ (or \
benches/, or a binary's src/main.rs):

    dhat_kit::global_allocator!();

and for a library's unit tests, in src/lib.rs under #[cfg(test)], so that the library does not \
install it in every program that uses it:

    #[cfg(test)]
    dhat_kit::global_allocator!();
";

/// What `cargo test --no-default-features` says: dhat-kit counts nothing without `peak`.
const NO_FEATURE: &str = "dhat-kit: #[assert_heap] on assert_heap_not_installed::small cannot \
measure: dhat-kit was built without its `peak` feature, so nothing is counted.
Enable it (it is a default feature) where dhat-kit is a dependency, e.g. in Cargo.toml:

    dhat-kit = { version = \"0.1\", features = [\"peak\"] }
";

#[test]
fn without_the_allocator_the_test_fails_with_the_line_to_add() {
    assert!(!dhat_kit::is_installed());
    let payload = catch_unwind(small).expect_err("a budget must not pass unmeasured");
    let message = payload.downcast::<String>().expect("a String message");
    let expected = if cfg!(feature = "peak") {
        NOT_INSTALLED
    } else {
        NO_FEATURE
    };
    assert_eq!(*message, expected);
}

#[allow(unused_attributes)]
#[should_panic]
#[assert_heap(max_bytes = 4096)]
fn should_panic_unmeasured() {
    panic!("the expected panic");
}

#[test]
fn a_should_panic_test_fails_by_returning_without_running_its_body() {
    // Returning normally is what makes the harness fail a `#[should_panic]` test.
    assert!(catch_unwind(should_panic_unmeasured).is_ok());
}
