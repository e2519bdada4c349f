//! Chapter "Your first program".

// ANCHOR: all
use std::time::Duration;

#[anyio::main]
async fn main() {
    println!("making tea and toast at the same time");
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::sleep(Duration::from_millis(30)).await;
            println!("  the kettle boiled");
        });
        tg.start_soon(async {
            anyio::sleep(Duration::from_millis(20)).await;
            println!("  the toast popped up");
        });
        println!("  both started; the group now waits for them");
    })
    .expect("neither child can fail");
    println!("breakfast is ready: the group ended after its last child");
}
// ANCHOR_END: all
