#[anyio::main(timeout = 10)]
async fn main() {}
