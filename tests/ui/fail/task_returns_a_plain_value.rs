// A task gives its value as `Ok(value)`: a plain value is refused with a message that
// says so.
#[anyio::main]
async fn main() {
    anyio::task_group!(|tg| {
        let handle = tg.create_task(async { 5 });
        let _ = handle.await;
    })
    .unwrap();
}
