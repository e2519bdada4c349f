async fn run() {
    let _ = anyio::task_group!(|tg| tg.start_soon(anyio::sleep(1)); anyio::sleep(2).await);
}

fn main() {
    drop(run());
}
