#[anyio::test(timeout = 0)]
async fn sleeps() {}

fn main() {}
