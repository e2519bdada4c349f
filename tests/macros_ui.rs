//! Misuse of the macros (and of what a task may return) is a compile error that points at
//! the offending token and says how to fix it: one mistake per file under `tests/ui/fail/`,
//! with the expected compiler output committed beside it (`.stderr`). `tests/ui/pass/`
//! holds whole programs that must compile and run.
//!
//! After changing a message on purpose, regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test --test macros_ui` and review the diff.

#[test]
fn misuse_of_the_macros_fails_to_compile_with_a_helpful_message() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
}

#[test]
fn programs_written_with_the_macros_compile_and_run() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
}
