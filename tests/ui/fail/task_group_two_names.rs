async fn run() {
    let _ = anyio::task_group!(|tg, scope| {
        anyio::sleep(1).await;
    });
}

fn main() {
    drop(run());
}
