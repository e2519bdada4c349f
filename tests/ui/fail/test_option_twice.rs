#[anyio::test(timeout = 5, timeout = 10)]
async fn sleeps() {}

fn main() {}
