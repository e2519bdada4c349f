#[anyio::main]
async fn main<T>() {}
