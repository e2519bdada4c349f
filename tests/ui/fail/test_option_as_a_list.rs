#[anyio::test(timeout(10))]
async fn sleeps() {}

fn main() {}
