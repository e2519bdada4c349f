#[anyio::main]
struct Main;

fn main() {}
