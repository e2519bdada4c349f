#[anyio::main(worker_threads = 1.5)]
async fn main() {}
