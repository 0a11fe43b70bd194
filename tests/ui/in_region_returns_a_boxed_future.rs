use std::future::Future;
use std::pin::Pin;

#[dhat_kit::in_region]
fn handle(n: usize) -> Pin<Box<dyn Future<Output = usize> + Send>> {
    Box::pin(async move { vec![0u8; n].len() })
}

fn main() {
    drop(handle(4));
}
