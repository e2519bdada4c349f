//! Any error type from a child or a body: no `map_err(anyio::Error::other)` needed, and
//! the error stays reachable (issue 15, point 3).

use std::fmt;

use anyio::ErrorKind;

#[derive(Debug, PartialEq)]
struct QuotaExceeded {
    used: u32,
}

impl fmt::Display for QuotaExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "quota exceeded ({} used)", self.used)
    }
}

impl std::error::Error for QuotaExceeded {}

#[anyio::test(timeout = 10)]
async fn a_child_may_fail_with_its_own_error_type_and_it_stays_reachable() {
    let error = anyio::task_group!(|tg| {
        tg.start_soon(async { Err::<(), _>(QuotaExceeded { used: 7 }) });
    })
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Other);
    assert_eq!(error.to_string(), "quota exceeded (7 used)");
    assert_eq!(
        error.downcast_ref::<QuotaExceeded>(),
        Some(&QuotaExceeded { used: 7 })
    );
}

#[anyio::test(timeout = 10)]
async fn a_child_may_fail_with_a_string_or_a_str() {
    let error = anyio::task_group!(|tg| {
        tg.start_soon(async { Err::<(), _>(String::from("owned words")) });
    })
    .unwrap_err();
    assert_eq!(error.to_string(), "owned words");
    let error = anyio::task_group!(|tg| {
        tg.start_soon(async { Err::<(), _>("static words") });
    })
    .unwrap_err();
    assert_eq!(error.to_string(), "static words");
}

#[anyio::test(timeout = 10)]
async fn a_child_may_fail_with_a_boxed_error() {
    let error = anyio::task_group!(|tg| {
        tg.start_soon(async {
            let boxed: Box<dyn std::error::Error + Send + Sync> =
                Box::new(QuotaExceeded { used: 1 });
            Err::<(), _>(boxed)
        });
    })
    .unwrap_err();
    assert!(error.downcast_ref::<QuotaExceeded>().is_some());
}

#[anyio::test(timeout = 10)]
async fn anyio_and_io_errors_keep_their_kind() {
    let error = anyio::task_group!(|tg| {
        tg.start_soon(async {
            Err::<(), _>(anyio::Error::new(
                ErrorKind::BrokenResource,
                "peer went away",
            ))
        });
    })
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BrokenResource);
    let error = anyio::task_group!(|tg| {
        tg.start_soon(async { Err::<(), _>(std::io::Error::from(std::io::ErrorKind::NotFound)) });
    })
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io(std::io::ErrorKind::NotFound));
}

#[anyio::test(timeout = 10)]
async fn a_body_may_fail_with_any_error_type() {
    let error = anyio::task_group!(|_tg| { Err::<(), _>(QuotaExceeded { used: 3 }) }).unwrap_err();
    assert_eq!(
        error.downcast_ref::<QuotaExceeded>(),
        Some(&QuotaExceeded { used: 3 })
    );
}

#[anyio::test(timeout = 10)]
async fn errors_of_different_types_from_several_children_form_one_group_error() {
    let error = anyio::task_group!(|tg| {
        tg.start_soon(async { Err::<(), _>("first") });
        tg.start_soon(async { Err::<(), _>(QuotaExceeded { used: 2 }) });
    })
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Group);
    let messages: Vec<String> = error.errors().map(|e| e.to_string()).collect();
    assert_eq!(messages, ["first", "quota exceeded (2 used)"]);
    assert!(
        error
            .errors()
            .any(|e| e.downcast_ref::<QuotaExceeded>().is_some())
    );
}

#[anyio::test(timeout = 10)]
async fn a_task_handle_names_a_failure_of_any_type() {
    let mut message = String::new();
    let result = anyio::task_group!(|tg| {
        let handle = tg.create_task(async { Err::<u8, _>(QuotaExceeded { used: 9 }) });
        message = handle.await.unwrap_err().to_string();
    });
    assert!(message.contains("quota exceeded (9 used)"), "{message}");
    assert!(
        result
            .unwrap_err()
            .downcast_ref::<QuotaExceeded>()
            .is_some()
    );
}

#[anyio::test(timeout = 10)]
async fn a_spawned_child_may_fail_with_any_error_type() {
    let error = anyio::task_group!(|tg| {
        tg.spawn(async { Err::<(), _>(QuotaExceeded { used: 4 }) });
    })
    .unwrap_err();
    assert_eq!(
        error.downcast_ref::<QuotaExceeded>(),
        Some(&QuotaExceeded { used: 4 })
    );
}
