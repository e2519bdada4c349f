//! The testing tools: `testing::task_tree()` (every task with its parent, state and the
//! scopes around it) and the watchdog of `#[anyio::test(timeout = ..)]`, which ends a
//! test that ignores its cancel with the task tree instead of hanging the suite (checked
//! by running a test that hangs on purpose in a child process).

use std::time::Duration;

use anyio::testing::task_tree;

fn line_of(tree: &str, name: &str) -> String {
    tree.lines()
        .find(|line| line.contains(name))
        .unwrap_or_else(|| panic!("no line for {name} in:\n{tree}"))
        .to_owned()
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

#[test]
fn outside_a_runtime_the_tree_is_empty_and_says_so() {
    let tree = task_tree();
    assert!(tree.is_empty());
    assert!(tree.to_string().contains("not inside an anyio runtime"));
}

#[anyio::test(timeout = 10)]
async fn the_main_task_alone_is_running() {
    let tree = task_tree();
    assert_eq!(tree.len(), 1);
    let text = tree.to_string();
    assert!(text.starts_with("main (task "), "{text}");
    assert!(text.contains("running (it asked for this tree)"), "{text}");
}

#[anyio::test(timeout = 10)]
async fn children_are_indented_under_their_parents() {
    anyio::task_group!(|tg| {
        tg.start_soon_named("outer", async {
            anyio::task_group!(|inner| {
                inner.start_soon_named("inner", anyio::sleep(0.2));
            })
            .unwrap();
        });
        anyio::sleep(0.02).await;
        let text = task_tree().to_string();
        let (main, outer, inner) = (
            line_of(&text, "main"),
            line_of(&text, "outer"),
            line_of(&text, "inner (task"),
        );
        assert!(indent(&main) < indent(&outer), "{text}");
        assert!(indent(&outer) < indent(&inner), "{text}");
        let task_names: Vec<String> = task_tree().tasks().map(|t| t.name.clone()).collect();
        assert_eq!(task_names.len(), 3, "{task_names:?}");
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn a_waiting_child_is_shown_waiting() {
    anyio::task_group!(|tg| {
        tg.start_soon_named("sleeper", anyio::sleep(0.2));
        anyio::sleep(0.02).await;
        let text = task_tree().to_string();
        assert!(line_of(&text, "sleeper").ends_with("waiting"), "{text}");
        tg.cancel();
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn the_scopes_around_a_child_are_listed_with_their_deadlines() {
    anyio::fail_after(30, async {
        anyio::task_group!(|tg| {
            tg.start_soon_named("in a deadline", anyio::sleep(0.2));
            anyio::sleep(0.02).await;
            let text = task_tree().to_string();
            assert!(text.contains("in a scope: deadline in 29."), "{text}");
            tg.cancel();
        })
    })
    .await
    .unwrap()
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn a_cancelled_scope_says_why() {
    let scope = anyio::CancelScope::new();
    scope
        .run(async {
            anyio::task_group!(|tg| {
                tg.start_soon_named("child", async {
                    anyio::CancelScope::shielded().run(anyio::sleep(0.05)).await;
                });
                anyio::lowlevel::cancel_shielded_checkpoint().await; // the child starts
                scope.cancel_with_reason("shutting down");
                let text = task_tree().to_string();
                assert!(text.contains("cancel called (shutting down"), "{text}");
            })
        })
        .await;
}

#[anyio::test(timeout = 10)]
async fn a_shielded_scope_is_marked() {
    anyio::CancelScope::shielded()
        .run(async {
            anyio::task_group!(|tg| {
                tg.start_soon_named("protected", anyio::sleep(0.2));
                anyio::sleep(0.02).await;
                let text = task_tree().to_string();
                assert!(text.contains("shielded"), "{text}");
                tg.cancel();
            })
            .unwrap();
        })
        .await;
}

/// Hangs on purpose: a child that waits, shielded, forever, so the timeout's cancel
/// cannot end the test. Run only by `a_hung_test_is_ended_by_the_watchdog_with_its_tree`,
/// in a child process.
#[anyio::test(timeout = 0.2)]
#[ignore = "hangs on purpose; run by the watchdog test in a child process"]
async fn hangs_on_purpose() {
    if std::env::var_os("ANYIO_WATCHDOG_PROBE").is_none() {
        return;
    }
    anyio::task_group!(|tg| {
        tg.start_soon_named("stuck-child", async {
            anyio::CancelScope::shielded()
                .run(anyio::sleep_forever())
                .await;
        });
    })
    .unwrap();
}

#[test]
fn a_hung_test_is_ended_by_the_watchdog_with_its_tree() {
    let start = std::time::Instant::now();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "hangs_on_purpose",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ANYIO_WATCHDOG_PROBE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(101), "{stderr}");
    assert!(
        stderr.contains("test `hangs_on_purpose` did not end within its timeout of 0.2 s"),
        "{stderr}"
    );
    assert!(stderr.contains("stuck-child"), "{stderr}");
    assert!(stderr.contains("shielded"), "{stderr}");
    // Bounded: the timeout plus the 2 s grace, not forever.
    assert!(start.elapsed() < Duration::from_secs(30));
}
