#[anyio::main]
async fn start() {}

fn main() {}
