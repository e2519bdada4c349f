//! `open_signal_receiver`: signals sent to this process arrive, in a stream or one by
//! one; several receivers of one signal each get it; dropping the last receiver puts
//! the previous handling back (checked in /proc/self/status: the signal is no longer
//! caught); an uncatchable signal is refused by name. A binary of its own: its tests
//! take turns, since signals are process-wide.

use std::sync::Mutex;
use std::time::Duration;

use anyio::{ErrorKind, Signal};
use futures_lite::StreamExt;

static SERIAL: Mutex<()> = Mutex::new(());

fn bounded<F: std::future::Future>(body: F) -> F::Output {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    anyio::run(anyio::fail_after(30, body)).expect("the test ran out of time")
}

/// Sends `signal` to this process (through `kill`, a separate program).
async fn raise(signal: &str) {
    anyio::run_process([
        "kill",
        &format!("-{signal}"),
        &std::process::id().to_string(),
    ])
    .await
    .unwrap();
}

/// Whether this process catches signal `number` now (the SigCgt mask of /proc).
fn caught(number: i32) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let mask = status
        .lines()
        .find_map(|line| line.strip_prefix("SigCgt:"))
        .unwrap()
        .trim();
    let mask = u64::from_str_radix(mask, 16).unwrap();
    mask & (1 << (number - 1)) != 0
}

#[test]
fn sigusr1_to_the_own_process_is_received() {
    bounded(async {
        let mut signals = anyio::open_signal_receiver([Signal::Usr1]).await.unwrap();
        raise("USR1").await;
        assert_eq!(signals.receive().await.unwrap(), Signal::Usr1);
    });
}

#[test]
fn signals_arrive_in_a_stream_in_order() {
    bounded(async {
        let mut signals = anyio::open_signal_receiver([Signal::Usr1, Signal::Usr2])
            .await
            .unwrap();
        assert_eq!(signals.signals(), [Signal::Usr1, Signal::Usr2]);
        raise("USR2").await;
        assert_eq!(signals.next().await, Some(Signal::Usr2));
        raise("USR1").await;
        assert_eq!(signals.next().await, Some(Signal::Usr1));
    });
}

#[test]
fn every_receiver_of_a_signal_gets_it() {
    bounded(async {
        let mut first = anyio::open_signal_receiver([Signal::Hup]).await.unwrap();
        let mut second = anyio::open_signal_receiver([Signal::Hup]).await.unwrap();
        raise("HUP").await;
        assert_eq!(first.receive().await.unwrap(), Signal::Hup);
        assert_eq!(second.receive().await.unwrap(), Signal::Hup);
    });
}

#[test]
fn dropping_the_last_receiver_restores_the_previous_handling() {
    bounded(async {
        let usr2 = Signal::Usr2 as i32;
        assert!(!caught(usr2), "nothing catches SIGUSR2 before");
        let first = anyio::open_signal_receiver([Signal::Usr2]).await.unwrap();
        let second = anyio::open_signal_receiver([Signal::Usr2]).await.unwrap();
        assert!(caught(usr2));
        drop(first);
        assert!(caught(usr2), "still caught while a receiver is open");
        drop(second);
        assert!(!caught(usr2), "the default action is back");
    });
}

#[test]
fn a_receive_waits_until_a_signal_comes() {
    bounded(async {
        let mut signals = anyio::open_signal_receiver([Signal::Usr1]).await.unwrap();
        let nothing = anyio::move_on_after(Duration::from_millis(30), signals.receive()).await;
        assert!(nothing.is_none(), "no signal was sent yet");
        raise("USR1").await;
        assert_eq!(signals.receive().await.unwrap(), Signal::Usr1);
    });
}

#[test]
fn sigkill_cannot_be_received_and_the_error_says_so() {
    bounded(async {
        let err = anyio::open_signal_receiver([Signal::Kill])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io(std::io::ErrorKind::InvalidInput));
        assert!(err.message().contains("Kill"), "{}", err.message());
    });
}

#[test]
fn a_refused_signal_undoes_the_others_of_the_same_call() {
    bounded(async {
        let usr1 = Signal::Usr1 as i32;
        assert!(!caught(usr1));
        assert!(
            anyio::open_signal_receiver([Signal::Usr1, Signal::Stop])
                .await
                .is_err()
        );
        assert!(!caught(usr1), "SIGUSR1 was given back");
    });
}

#[test]
fn a_fault_signal_is_refused_by_name() {
    bounded(async {
        let err = anyio::open_signal_receiver([Signal::Segv])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io(std::io::ErrorKind::InvalidInput));
        assert!(err.message().contains("Segv"), "{}", err.message());
    });
}
