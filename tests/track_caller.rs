//! A function that panics on misuse names the caller's line, not anyio's (issue 15,
//! point 4). One test in its own binary: it installs a panic hook.

use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::sync::Mutex;

static LAST_PANIC: Mutex<Option<(String, u32)>> = Mutex::new(None);

/// Runs `f`, which must panic, and returns the file and line the panic named.
fn panic_location(f: impl FnOnce()) -> (String, u32) {
    *LAST_PANIC.lock().unwrap() = None;
    assert!(
        catch_unwind(AssertUnwindSafe(f)).is_err(),
        "expected a panic"
    );
    LAST_PANIC
        .lock()
        .unwrap()
        .take()
        .expect("the hook saw the panic")
}

#[test]
fn misuse_panics_name_the_callers_line() {
    std::panic::set_hook(Box::new(|info| {
        if let Some(location) = info.location() {
            *LAST_PANIC.lock().unwrap() = Some((location.file().to_owned(), location.line()));
        }
    }));
    let here = Location::caller().file().to_owned();

    let (file, _) = panic_location(|| {
        let _ = anyio::get_current_task();
    });
    assert_eq!(file, here, "get_current_task outside a runtime");

    let (file, _) = panic_location(|| {
        let _ = anyio::Error::from_failures(Vec::new());
    });
    assert_eq!(file, here, "from_failures of nothing");

    anyio::run(async {
        let group = anyio::TaskGroup::new();
        group.run(async {}).await.unwrap();
        let (file, line) = panic_location(|| group.start_soon(async {}));
        assert_eq!(file, here, "start_soon into a finished group");
        assert!(line > 0);
        let (file, _) = panic_location(|| {
            let _ = group.create_task(async {});
        });
        assert_eq!(file, here, "create_task into a finished group");
        let (file, _) = panic_location(|| group.spawn(async {}));
        assert_eq!(file, here, "spawn into a finished group");
    });

    let (file, _) = panic_location(|| {
        let _ = anyio::amap(|n: u8| async move { anyio::Result::Ok(n) }, [1]).limit(0);
    });
    assert_eq!(file, here, "amap limit(0)");
    let _ = std::panic::take_hook();
}
