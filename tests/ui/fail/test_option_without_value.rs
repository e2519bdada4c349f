#[anyio::test(timeout)]
async fn sleeps() {}

fn main() {}
