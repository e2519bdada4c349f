async fn run() {
    let _ = anyio::fail_after!(1.5,);
}

fn main() {
    drop(run());
}
