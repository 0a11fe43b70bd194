use std::future::Future;

#[dhat_kit::in_region]
fn handle(n: usize) -> impl Future<Output = usize> + Send {
    async move { vec![0u8; n].len() }
}

fn main() {
    drop(handle(4));
}
