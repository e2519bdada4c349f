#[anyio::test]
fn sleeps() {}

fn main() {}
