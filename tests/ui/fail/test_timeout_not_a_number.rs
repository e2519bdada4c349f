#[anyio::test(timeout = "10s")]
async fn sleeps() {}

fn main() {}
