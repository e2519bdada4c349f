async fn run() {
    let _ = anyio::move_on_after!(1, { anyio::sleep(1).await }, { anyio::sleep(2).await });
}

fn main() {
    drop(run());
}
