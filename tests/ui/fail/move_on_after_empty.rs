async fn run() {
    let _ = anyio::move_on_after!();
}

fn main() {
    drop(run());
}
