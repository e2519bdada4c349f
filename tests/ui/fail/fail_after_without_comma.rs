async fn run() {
    let _ = anyio::fail_after!(1.5 { anyio::sleep(1).await });
}

fn main() {
    drop(run());
}
