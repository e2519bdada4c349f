#[anyio::test]
async fn sleeps(seconds: f64) {
    anyio::sleep(seconds).await;
}

fn main() {}
