//! A real program whose `#[anyio::main]` returns a `Result` and uses `?` on the macros.

#[anyio::main]
async fn main() -> anyio::Result<()> {
    let value = anyio::fail_after!(5, {
        anyio::sleep(0.001).await;
        21
    })?;
    let doubled = anyio::task_group!(|_tg| { anyio::Result::Ok(value * 2) })?;
    assert_eq!(doubled, Some(42));
    assert_eq!(anyio::move_on_after!(0.001, { anyio::sleep_forever().await }), None::<()>);
    Ok(())
}
