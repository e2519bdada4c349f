//! Stress tests of the runtime's own executor (`runtime/executor.rs`) and of spawned
//! children as raw tasks (`os/raw_task.rs`, `task/spawned.rs`): wakes from threads that
//! are not the runtime's own, polls that must never overlap, a runtime dropped while its
//! children are parked and still being woken, groups cancelled with thousands of children
//! in flight, and runtimes whose threads must all end with them.
//!
//! Each test repeats its race `ANYIO_STRESS` times (default: well under a second each in
//! a debug build). A hang is turned into a failure by a watchdog that aborts the process
//! after a generous real-time limit, and a suspected deadlock by running the scenario on
//! a thread of its own with a bounded wait; no test asserts on timing otherwise.
//!
//! The last two tests failed on 70f89b1 (spawned children left on a runtime dropped while
//! their group lives on elsewhere; see each test's comment) and pass since the executor
//! drops the children it holds when it closes, and groups wake their children outside
//! their lock.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use anyio::{ErrorKind, Runtime, TaskGroup};
use futures_lite::FutureExt;

fn iterations(default: usize) -> usize {
    std::env::var("ANYIO_STRESS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn runtime(workers: usize) -> Runtime {
    Runtime::builder().worker_threads(workers).build().unwrap()
}

/// Aborts the process if it is not dropped within `limit`: a lost wake or a group that
/// never returns fails the run (with the test's name on stderr) instead of hanging it.
struct Watchdog {
    done: Option<mpsc::Sender<()>>,
}

fn watchdog(test: &'static str, limit_secs: u64) -> Watchdog {
    let (done, wait) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("xr-watchdog".into())
        .spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) =
                wait.recv_timeout(Duration::from_secs(limit_secs))
            {
                eprintln!("{test}: still running after {limit_secs} s (a hang); aborting");
                std::process::abort();
            }
        })
        .unwrap();
    Watchdog { done: Some(done) }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
    }
}

/// One counter per child: how many times its future was dropped (or it ran to its end).
fn counters(n: usize) -> Arc<[AtomicUsize]> {
    (0..n).map(|_| AtomicUsize::new(0)).collect()
}

fn assert_each_once(counts: &[AtomicUsize], what: &str) {
    for (i, count) in counts.iter().enumerate() {
        let count = count.load(Ordering::SeqCst);
        assert_eq!(count, 1, "child {i}: {what} {count} times, not once");
    }
}

/// Counts the drop of the future that holds it in its child's entry.
struct DropOnce {
    counts: Arc<[AtomicUsize]>,
    index: usize,
}

impl Drop for DropOnce {
    fn drop(&mut self) {
        self.counts[self.index].fetch_add(1, Ordering::SeqCst);
    }
}

/// One waker slot per child, filled by the child's polls and emptied or woken by other
/// threads; `tokens` move when another thread gives a child a step.
struct Slots {
    wakers: Vec<Mutex<Option<Waker>>>,
    tokens: Vec<AtomicUsize>,
}

impl Slots {
    fn new(n: usize) -> Arc<Slots> {
        Arc::new(Slots {
            wakers: (0..n).map(|_| Mutex::new(None)).collect(),
            tokens: (0..n).map(|_| AtomicUsize::new(0)).collect(),
        })
    }

    fn store(&self, i: usize, cx: &Context<'_>) {
        let mut slot = self.wakers[i].lock().unwrap();
        match &*slot {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
    }

    /// Wakes child `i` in one of three ways (`how`): by reference under the slot's lock,
    /// by value through a clone, or by value after taking the waker out of the slot.
    fn wake(&self, i: usize, how: usize) {
        match how % 3 {
            0 => {
                if let Some(waker) = &*self.wakers[i].lock().unwrap() {
                    waker.wake_by_ref();
                }
            }
            1 => {
                let waker = self.wakers[i].lock().unwrap().clone();
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            _ => {
                let waker = self.wakers[i].lock().unwrap().take();
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        }
    }

    fn clear(&self) {
        for slot in &self.wakers {
            drop(slot.lock().unwrap().take());
        }
    }
}

/// Plain threads (none of any runtime's) that sweep over the slots waking every child
/// until stopped; `sweeps` counts their passes, so that a test can wait for a few more
/// after some event.
struct Wakers {
    stop: Arc<AtomicBool>,
    sweeps: Arc<AtomicUsize>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Wakers {
    fn start(slots: &Arc<Slots>, threads: usize, give_steps: bool) -> Wakers {
        let stop = Arc::new(AtomicBool::new(false));
        let sweeps = Arc::new(AtomicUsize::new(0));
        let threads = (0..threads)
            .map(|t| {
                let (slots, stop, sweeps) = (slots.clone(), stop.clone(), sweeps.clone());
                std::thread::Builder::new()
                    .name(format!("xr-waker-{t}"))
                    .spawn(move || {
                        let n = slots.wakers.len();
                        let mut how = t;
                        while !stop.load(Ordering::Relaxed) {
                            // Each thread sweeps in its own order, so that they collide
                            // on different children.
                            for k in 0..n {
                                let i = if t % 2 == 1 { n - 1 - k } else { k };
                                if give_steps {
                                    slots.tokens[i].fetch_add(1, Ordering::SeqCst);
                                }
                                slots.wake(i, how);
                                how = how.wrapping_add(1);
                            }
                            sweeps.fetch_add(1, Ordering::SeqCst);
                            std::thread::yield_now();
                        }
                    })
                    .unwrap()
            })
            .collect();
        Wakers {
            stop,
            sweeps,
            threads,
        }
    }

    /// Waits until every thread has swept at least `more` more times.
    fn wait_sweeps(&self, more: usize) {
        let target = self.sweeps.load(Ordering::SeqCst) + more * self.threads.len();
        while self.sweeps.load(Ordering::SeqCst) < target {
            std::thread::yield_now();
        }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads {
            thread.join().expect("a waker thread panicked");
        }
    }
}

/// A future that ends after `steps` moves of its token, each given by another thread
/// (which then wakes it): registers its waker, then looks at the token again, so no step
/// is lost whichever way the waker thread wakes it.
fn stepper(slots: Arc<Slots>, i: usize, steps: usize) -> impl Future<Output = ()> + Send {
    let mut seen = 0;
    let mut done = 0;
    std::future::poll_fn(move |cx| {
        loop {
            let token = slots.tokens[i].load(Ordering::SeqCst);
            if token != seen {
                seen = token;
                done += 1;
                if done == steps {
                    return Poll::Ready(());
                }
                continue;
            }
            slots.store(i, cx);
            if slots.tokens[i].load(Ordering::SeqCst) == seen {
                return Poll::Pending;
            }
        }
    })
}

/// Spawned and local children each park many times on wakers that only plain threads
/// (no runtime's own) wake, by reference, by value through a clone and by value after
/// taking the waker, while the children run, park and finish; on runtimes with 0, 1 and
/// 2 worker threads. Each child runs to its end exactly once, its future is dropped
/// exactly once, and the group returns. A lost wake from a foreign thread (a push that
/// missed every sleeper) hangs the group; a wake that re-ran an ended child, or a double
/// drop, shows in the counts.
#[test]
fn foreign_thread_wakes_drive_children_to_their_end_on_any_worker_count() {
    let _watchdog = watchdog("foreign_thread_wakes_drive_children_to_their_end", 60);
    const CHILDREN: usize = 48;
    const STEPS: usize = 25;
    for workers in [0, 1, 2] {
        let rt = runtime(workers);
        for _ in 0..iterations(100) {
            let slots = Slots::new(CHILDREN);
            let (ends, drops) = (counters(CHILDREN), counters(CHILDREN));
            let wakers = Wakers::start(&slots, 3, true);
            rt.block_on(anyio::fail_after(30, async {
                anyio::task_group!(|tg| {
                    for i in 0..CHILDREN {
                        let guard = DropOnce {
                            counts: drops.clone(),
                            index: i,
                        };
                        let (slots, ends) = (slots.clone(), ends.clone());
                        let child = async move {
                            let _guard = guard;
                            stepper(slots, i, STEPS).await;
                            ends[i].fetch_add(1, Ordering::SeqCst);
                        };
                        // Two in three spawned (raw tasks on the executor), one local.
                        if i % 3 == 2 {
                            tg.start_soon(child);
                        } else {
                            tg.spawn(child);
                        }
                    }
                })
            }))
            .expect("a child parked on a foreign wake was never run again")
            .unwrap();
            // Stale wakers of ended children are still woken for a while: harmless.
            wakers.wait_sweeps(2);
            wakers.stop();
            assert_each_once(&ends, "ran to its end");
            assert_each_once(&drops, "dropped");
            slots.clear();
            assert_each_once(&drops, "dropped (after its wakers went)");
        }
    }
}

/// A spawned child that parks forever: each poll leaves its waker in its slot (half of
/// them also keep a clone of their own waker, a cycle that only the runtime or the group
/// breaks); counts its first poll in `polled` and its drop in `drops`.
fn parked_child(
    i: usize,
    slots: &Arc<Slots>,
    drops: &Arc<[AtomicUsize]>,
    polled: &Arc<AtomicUsize>,
) -> impl Future<Output = ()> + Send + 'static {
    let guard = DropOnce {
        counts: drops.clone(),
        index: i,
    };
    let (slots, polled) = (slots.clone(), polled.clone());
    async move {
        let _guard = guard;
        let mut own: Option<Waker> = None;
        let mut first = true;
        std::future::poll_fn(|cx| {
            slots.store(i, cx);
            if i % 2 == 1 {
                own = Some(cx.waker().clone());
            }
            if std::mem::take(&mut first) {
                polled.fetch_add(1, Ordering::SeqCst);
            }
            Poll::<()>::Pending
        })
        .await;
    }
}

/// Spawned children park forever while plain threads keep waking them by reference and
/// by value, and the runtime (0, 1 or 2 workers) is dropped. The rounds cycle through
/// the group's run future dropped before the runtime (from outside, by `or`, inside
/// `block_on`) or after it (it outlives the runtime: the children it leaves behind are
/// then pushed onto the closed executor by the wakes, and dropped by the waking thread),
/// and through waker threads stopped before the runtime's drop or still waking through
/// it. Each child's future is dropped exactly once, later wakes and waker drops do
/// nothing, no waker thread panics; and when no wake is in flight, the drop of the
/// runtime (or of the run future, whichever comes last) has dropped every child by the
/// time it returns. A leaked child, a double drop (`close` racing a foreign push, a
/// cancelled body dropped again by `release`, a report racing the group's close), or a
/// panic fails the test.
///
/// (A wake in flight on a foreign thread as the runtime drops holds the task's queue
/// reference between its state change and its push: the push then finds the executor
/// closed and drops the child on that thread, just after `drop(runtime)` may have
/// returned. So with wakers still running, the counts are checked once they are joined.)
#[test]
fn dropping_the_runtime_under_foreign_wakes_drops_each_parked_child_once() {
    let _watchdog = watchdog("dropping_the_runtime_under_foreign_wakes", 60);
    const CHILDREN: usize = 64;
    for round in 0..iterations(300) {
        let workers = round % 3;
        let outlives = (round / 3) % 2 == 1;
        let wakers_stop_first = (round / 6) % 2 == 1;
        let slots = Slots::new(CHILDREN);
        let drops = counters(CHILDREN);
        let polled = Arc::new(AtomicUsize::new(0));
        let wakers = Wakers::start(&slots, 2, false);
        let rt = runtime(workers);
        let group = TaskGroup::new();
        let tg = &group;
        let mut run = Some(Box::pin(group.run(async {
            for i in 0..CHILDREN {
                tg.spawn(parked_child(i, &slots, &drops, &polled));
            }
            anyio::sleep_forever().await;
        })));
        rt.block_on(async {
            if outlives {
                let run = run.as_mut().unwrap();
                while polled.load(Ordering::SeqCst) < CHILDREN {
                    let early = futures_lite::future::poll_once(run.as_mut()).await;
                    assert!(early.is_none(), "the group ended on its own");
                    anyio::sleep(0.0002).await;
                }
            } else {
                let stop = async {
                    while polled.load(Ordering::SeqCst) < CHILDREN {
                        anyio::sleep(0.0002).await;
                    }
                    Ok(None)
                };
                run.take().unwrap().or(stop).await.unwrap();
            }
        });
        let wakers = match wakers_stop_first {
            true => {
                wakers.wait_sweeps(1);
                wakers.stop();
                None
            }
            false => Some(wakers),
        };
        drop(rt);
        if let Some(wakers) = &wakers {
            // Some are dropped by the foreign wakes meanwhile.
            wakers.wait_sweeps(2);
        }
        drop(run);
        if wakers_stop_first {
            assert_each_once(&drops, "dropped when its runtime and group were");
        }
        if let Some(wakers) = wakers {
            wakers.wait_sweeps(2);
            wakers.stop();
        }
        assert_each_once(&drops, "dropped (once the wakers were joined)");
        slots.clear();
        assert_each_once(&drops, "dropped (after its last waker went)");
    }
}

/// Each spawned (or local) child plays ping-pong with a plain thread of its own: the
/// thread moves the child's token and wakes it once (by reference, by value through a
/// clone, or by value after taking the waker), then waits for the child's answer before
/// the next wake. Nothing else pushes onto the executor meanwhile, so every runtime
/// thread is asleep when most of these wakes come: a push that reaches no sleeper (the
/// fences between a push and a sleeper's registration, a notification taken by a ticker
/// that stops waiting and not passed on) leaves the child in the queue while every
/// thread sleeps, and its thread waits in vain for the answer. On 0, 1 and 2 workers.
#[test]
fn a_single_foreign_wake_always_reaches_a_sleeping_runtime() {
    let _watchdog = watchdog(
        "a_single_foreign_wake_always_reaches_a_sleeping_runtime",
        60,
    );
    const CHILDREN: usize = 4;
    let volleys = iterations(3_000);
    for workers in [0, 1, 2] {
        let rt = runtime(workers);
        let slots = Slots::new(CHILDREN);
        let mut answers = Vec::new();
        let mut senders = Vec::new();
        for _ in 0..CHILDREN {
            let (tx, rx) = mpsc::channel::<usize>();
            senders.push(tx);
            answers.push(rx);
        }
        let players: Vec<_> = answers
            .into_iter()
            .enumerate()
            .map(|(i, answers)| {
                let slots = slots.clone();
                std::thread::spawn(move || {
                    // The child's first poll answers 0 once it has left its waker.
                    let mut expect = 0;
                    for volley in 0..=volleys {
                        match answers.recv_timeout(Duration::from_secs(20)) {
                            Ok(seen) => assert_eq!(seen, expect),
                            Err(_) => panic!(
                                "child {i}, volley {volley} ({workers} workers): a wake from \
                                 this thread never got the child polled"
                            ),
                        }
                        if volley == volleys {
                            break;
                        }
                        expect = slots.tokens[i].fetch_add(1, Ordering::SeqCst) + 1;
                        slots.wake(i, volley);
                    }
                })
            })
            .collect();
        rt.block_on(anyio::fail_after(60, async {
            anyio::task_group!(|tg| {
                for (i, answer) in senders.drain(..).enumerate() {
                    let slots = slots.clone();
                    let mut seen = usize::MAX;
                    let child = std::future::poll_fn(move |cx: &mut Context<'_>| {
                        slots.store(i, cx);
                        let token = slots.tokens[i].load(Ordering::SeqCst);
                        if token != seen {
                            seen = token;
                            let _ = answer.send(token);
                        }
                        if token == volleys {
                            Poll::Ready(())
                        } else {
                            Poll::Pending
                        }
                    });
                    if i == CHILDREN - 1 {
                        tg.start_soon(child);
                    } else {
                        tg.spawn(child);
                    }
                }
            })
        }))
        .expect("a child never got its last volley")
        .unwrap();
        for player in players {
            player.join().expect("a wake was lost");
        }
        slots.clear();
    }
}

/// A call from a plain thread (`EventLoopToken::run`, a root task of the executor) runs a
/// group whose spawned and local children park forever, woken over and over from other
/// plain threads; the main future returns and the runtime is dropped with the call still
/// in flight. The call fails with `RunFinished` (it does not hang), and each child's
/// future is dropped exactly once: by the time the runtime's drop returns when the waker
/// threads were stopped before it (the root task is dropped by `close`, its group's run
/// future with it, and the spawned children it wakes on the way are pushed onto the
/// closed executor and dropped there), or once the waker threads are joined when they
/// went on waking through the drop (see the test above for why).
#[test]
fn a_group_inside_a_call_from_another_thread_is_torn_down_with_its_runtime() {
    let _watchdog = watchdog("a_group_inside_a_call_from_another_thread", 60);
    const CHILDREN: usize = 32;
    for round in 0..iterations(200) {
        let workers = round % 3;
        let slots = Slots::new(CHILDREN);
        let drops = counters(CHILDREN);
        let polled = Arc::new(AtomicUsize::new(0));
        let wakers = Wakers::start(&slots, 2, false);
        let rt = runtime(workers);
        let caller = rt.block_on(async {
            let token = anyio::lowlevel::current_token();
            let (slots, drops, polled_in_call) = (slots.clone(), drops.clone(), polled.clone());
            let caller = std::thread::spawn(move || {
                token.run(move || async move {
                    anyio::task_group!(|tg| {
                        for i in 0..CHILDREN {
                            let guard = DropOnce {
                                counts: drops.clone(),
                                index: i,
                            };
                            let (slots, polled) = (slots.clone(), polled_in_call.clone());
                            let child = async move {
                                let _guard = guard;
                                let mut first = true;
                                std::future::poll_fn(|cx| {
                                    slots.store(i, cx);
                                    if std::mem::take(&mut first) {
                                        polled.fetch_add(1, Ordering::SeqCst);
                                    }
                                    Poll::<()>::Pending
                                })
                                .await;
                            };
                            if i % 4 == 3 {
                                tg.start_soon(child);
                            } else {
                                tg.spawn(child);
                            }
                        }
                        anyio::sleep_forever().await;
                    })
                })
            });
            while polled.load(Ordering::SeqCst) < CHILDREN {
                anyio::sleep(0.0005).await;
            }
            caller
        });
        let stop_first = round % 2 == 1;
        let wakers = match stop_first {
            true => {
                wakers.stop();
                None
            }
            false => Some(wakers),
        };
        drop(rt);
        if stop_first {
            assert_each_once(&drops, "dropped by the time its runtime was");
        }
        let result = caller.join().expect("the calling thread panicked");
        assert_eq!(
            result
                .expect_err("a call that waits forever cannot succeed")
                .kind(),
            ErrorKind::RunFinished
        );
        if let Some(wakers) = wakers {
            wakers.wait_sweeps(2);
            wakers.stop();
        }
        assert_each_once(&drops, "dropped (once the wakers were joined)");
        slots.clear();
        assert_each_once(&drops, "dropped (after its last waker went)");
    }
}

/// The names of this process's threads that start with `prefix` (Linux only: read from
/// /proc/self/task/*/comm; empty elsewhere).
fn threads_named(prefix: &str) -> Vec<String> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .filter(|name| name.starts_with(prefix))
        .collect()
}

/// Many runtimes (0, 1 and 2 workers, threads named for this test) are created and
/// dropped with work in flight: spawned and local children blocked in `to_thread` jobs
/// that call back with `from_thread`, children parked forever, a group run future dropped
/// from outside, and a plain thread calling into the runtime through a token in a loop
/// until it is told `RunFinished`. Once every runtime is dropped, none of their worker or
/// timer threads is left (a worker that never saw its stop signal, or a timer that was
/// not stopped, stays), the calling thread ended, and every child future was dropped.
#[test]
fn runtimes_dropped_with_work_in_flight_leave_no_threads_behind() {
    let _watchdog = watchdog("runtimes_dropped_with_work_in_flight", 60);
    const PREFIX: &str = "xr-leak";
    const CHILDREN: usize = 12;
    let rounds = iterations(200);
    let drops = counters(rounds * CHILDREN);
    for round in 0..rounds {
        let rt = Runtime::builder()
            .worker_threads(round % 3)
            .thread_name(PREFIX)
            .build()
            .unwrap();
        let started = Arc::new(AtomicUsize::new(0));
        let caller = rt.block_on(async {
            let token = anyio::lowlevel::current_token();
            let caller = std::thread::spawn(move || {
                let mut calls = 0usize;
                loop {
                    match token.run(|| async { anyio::lowlevel::checkpoint().await }) {
                        Ok(()) => calls += 1,
                        Err(error) => {
                            assert_eq!(error.kind(), ErrorKind::RunFinished);
                            return calls;
                        }
                    }
                }
            });
            let group = TaskGroup::new();
            let tg = &group;
            let run = group.run(async {
                for c in 0..CHILDREN {
                    let guard = DropOnce {
                        counts: drops.clone(),
                        index: round * CHILDREN + c,
                    };
                    let started = started.clone();
                    let child = async move {
                        let _guard = guard;
                        started.fetch_add(1, Ordering::SeqCst);
                        match c % 3 {
                            // A thread job that calls back into the event loop (after
                            // the child is gone, the calls fail; the job still ends).
                            0 => {
                                anyio::to_thread::run_sync(|| {
                                    let _ = anyio::from_thread::run(|| async {
                                        anyio::lowlevel::checkpoint().await;
                                    });
                                    let _ = anyio::from_thread::run_sync(|| ());
                                })
                                .await;
                            }
                            // A short job, then parked forever.
                            1 => anyio::to_thread::run_sync(|| ()).await,
                            _ => {}
                        }
                        anyio::sleep_forever().await;
                    };
                    if c % 2 == 1 {
                        tg.start_soon(child);
                    } else {
                        tg.spawn(child);
                    }
                }
                anyio::sleep_forever().await;
            });
            let stop = async {
                while started.load(Ordering::SeqCst) < CHILDREN {
                    anyio::sleep(0.0005).await;
                }
                anyio::sleep(0.001).await;
                Ok(None)
            };
            run.or(stop).await.unwrap();
            caller
        });
        drop(rt);
        caller.join().expect("the calling thread panicked");
        for c in 0..CHILDREN {
            assert_eq!(
                drops[round * CHILDREN + c].load(Ordering::SeqCst),
                1,
                "round {round}, child {c}: not dropped exactly once by its runtime's drop"
            );
        }
    }
    // The runtimes join their threads as they drop; allow the kernel a moment to forget
    // them.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = threads_named(PREFIX);
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "threads of dropped runtimes are still alive: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A group is cancelled (from a plain thread, or by its deadline) while thousands of
/// spawned children are in flight on two workers: yielding in loops, sleeping, ending on
/// their own, and being spawned into the group meanwhile by a spawned child on a worker
/// (which never checkpoints, so it goes on spawning into the cancelled group) and by a
/// local child on the `block_on` thread. The group returns; each child that was spawned
/// was dropped exactly once by then; the group counts no child left, and no task but the
/// main one is listed. A child the group forgot would keep the group (its
/// `spawned_live`) waiting forever, or outlive it.
#[test]
fn cancelling_a_group_while_thousands_of_spawned_children_are_in_flight() {
    let _watchdog = watchdog("cancelling_a_group_while_thousands", 60);
    const REMOTE: usize = 3_000;
    const LOCAL: usize = 1_000;
    let rt = runtime(2);
    for round in 0..iterations(60) {
        let by_deadline = round % 2 == 1;
        let drops = counters(REMOTE + LOCAL);
        let (remote_count, local_count) =
            (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let started = Arc::new(AtomicUsize::new(0));
        let group: Arc<TaskGroup<'static>> = Arc::new(TaskGroup::new());

        fn child(
            i: usize,
            drops: &Arc<[AtomicUsize]>,
            started: &Arc<AtomicUsize>,
        ) -> impl Future<Output = ()> + Send + 'static {
            let guard = DropOnce {
                counts: drops.clone(),
                index: i,
            };
            let started = started.clone();
            async move {
                let _guard = guard;
                started.fetch_add(1, Ordering::SeqCst);
                match i % 4 {
                    0 => loop {
                        anyio::lowlevel::checkpoint().await;
                    },
                    1 => anyio::sleep_forever().await,
                    2 => anyio::sleep(0.0002).await,
                    _ => {}
                }
            }
        }

        let result = rt.block_on(anyio::fail_after(30, {
            let (group, drops, started) = (group.clone(), drops.clone(), started.clone());
            let (remote_count, local_count) = (remote_count.clone(), local_count.clone());
            async move {
                let tg = group.clone();
                group
                    .run(async move {
                        let spawner = tg.clone();
                        let (remote_drops, remote_created, remote_started) =
                            (drops.clone(), remote_count, started.clone());
                        // Spawns from a worker thread, all in one poll.
                        tg.spawn(async move {
                            for i in 0..REMOTE {
                                remote_created.fetch_add(1, Ordering::SeqCst);
                                spawner.spawn(child(i, &remote_drops, &remote_started));
                            }
                        });
                        // Spawns from the `block_on` thread, with checkpoints (so it is
                        // cancelled part way).
                        let local = tg.clone();
                        let (local_drops, local_created, local_started) =
                            (drops.clone(), local_count, started.clone());
                        tg.start_soon(async move {
                            for i in REMOTE..REMOTE + LOCAL {
                                local_created.fetch_add(1, Ordering::SeqCst);
                                local.spawn(child(i, &local_drops, &local_started));
                                if i % 16 == 0 {
                                    anyio::lowlevel::checkpoint().await;
                                }
                            }
                        });
                        while started.load(Ordering::SeqCst) < 500 {
                            anyio::sleep(0.0002).await;
                        }
                        if by_deadline {
                            tg.cancel_scope().set_deadline(Some(anyio::current_time()));
                        } else {
                            let scope = tg.cancel_scope();
                            std::thread::spawn(move || scope.cancel()).join().unwrap();
                        }
                        anyio::sleep_forever().await;
                    })
                    .await
            }
        }));
        let outcome = result.expect("the cancelled group never returned");
        assert_eq!(
            outcome.unwrap(),
            None,
            "the group's own scope ended the body"
        );
        assert_eq!(
            remote_count.load(Ordering::SeqCst),
            REMOTE,
            "the spawner on the worker never checkpoints: it spawns them all"
        );
        let local = local_count.load(Ordering::SeqCst);
        for (i, count) in drops.iter().enumerate() {
            let expected = usize::from(i < REMOTE + local);
            assert_eq!(
                count.load(Ordering::SeqCst),
                expected,
                "child {i} was dropped {} times by the time its group returned",
                count.load(Ordering::SeqCst)
            );
        }
        let described = format!("{group:?}");
        assert!(
            described.contains("children: 0"),
            "the group still counts children: {described}"
        );
        rt.block_on(async {
            assert_eq!(
                anyio::get_running_tasks().len(),
                1,
                "only the main task is left"
            );
        });
    }
}

/// Spawned (and local) children wake themselves during their own polls many times (by
/// reference and through a cloned waker by value: yield loops) while plain threads wake
/// them too, on 0, 1 and 2 workers: a child is never polled by two threads at once,
/// never polled again after it returned `Ready`, and each completes. An overlap (a wake
/// during a poll that queued the task a second time, or a runner that cleared `RUNNING`
/// after the task was re-queued) shows as two polls inside each other.
#[test]
// A wake by value through a clone is one of the paths under test.
#[allow(clippy::waker_clone_wake)]
fn self_wakes_and_foreign_wakes_never_overlap_polls_of_a_child() {
    let _watchdog = watchdog("self_wakes_and_foreign_wakes_never_overlap", 60);
    const CHILDREN: usize = 32;
    const POLLS: usize = 300;
    for workers in [0, 1, 2] {
        let rt = runtime(workers);
        for _ in 0..iterations(6) {
            let slots = Slots::new(CHILDREN);
            let overlaps = Arc::new(AtomicUsize::new(0));
            let late_polls = Arc::new(AtomicUsize::new(0));
            let ends = counters(CHILDREN);
            let wakers = Wakers::start(&slots, 2, false);
            rt.block_on(anyio::fail_after(30, async {
                anyio::task_group!(|tg| {
                    for i in 0..CHILDREN {
                        let (slots, overlaps, late_polls, ends) = (
                            slots.clone(),
                            overlaps.clone(),
                            late_polls.clone(),
                            ends.clone(),
                        );
                        let in_poll = Arc::new(AtomicBool::new(false));
                        let mut polls = 0;
                        let mut done = false;
                        let child = std::future::poll_fn(move |cx: &mut Context<'_>| {
                            if in_poll.swap(true, Ordering::SeqCst) {
                                overlaps.fetch_add(1, Ordering::SeqCst);
                            }
                            if done {
                                late_polls.fetch_add(1, Ordering::SeqCst);
                            }
                            polls += 1;
                            slots.store(i, cx);
                            // Widen the window in which another thread could poll too.
                            for _ in 0..(i % 4) * 50 {
                                std::hint::spin_loop();
                            }
                            let poll = if polls >= POLLS {
                                done = true;
                                ends[i].fetch_add(1, Ordering::SeqCst);
                                Poll::Ready(())
                            } else {
                                match polls % 3 {
                                    0 => cx.waker().wake_by_ref(),
                                    1 => cx.waker().clone().wake(),
                                    _ => {
                                        cx.waker().wake_by_ref();
                                        cx.waker().clone().wake();
                                    }
                                }
                                Poll::Pending
                            };
                            in_poll.store(false, Ordering::SeqCst);
                            poll
                        });
                        if i % 4 == 3 {
                            tg.start_soon(child);
                        } else {
                            tg.spawn(child);
                        }
                    }
                })
            }))
            .expect("a self-waking child stopped being polled")
            .unwrap();
            wakers.wait_sweeps(2);
            wakers.stop();
            slots.clear();
            assert_eq!(
                overlaps.load(Ordering::SeqCst),
                0,
                "a child was polled by two threads at once"
            );
            assert_eq!(
                late_polls.load(Ordering::SeqCst),
                0,
                "a child was polled after its end"
            );
            assert_each_once(&ends, "completed");
        }
    }
}

/// How the deadline of a round is set (see the test below).
#[derive(Clone, Copy, Debug)]
enum Deadline {
    /// `move_on_after` around the group's run.
    MoveOn,
    /// `fail_after` around the group's run.
    FailAfter,
    /// The group's own scope, given a deadline by the body.
    GroupScope,
    /// `move_on_after` inside each child, at staggered times.
    PerChild,
}

/// A ring of children (spawned on two workers, and local) parked on each other's wakers:
/// in "busy" rounds each one, at each poll, wakes the next one through the waker that
/// one left in its slot (a storm of cross-thread wakes that never ends by itself); in
/// "quiet" rounds each waits for a flag its neighbour never sets. A deadline ends them:
/// `move_on_after` or `fail_after` around the group, the group's own scope, or a
/// `move_on_after` inside each child. The right outcome comes back, no poll overlaps
/// another of the same child, each child future is dropped exactly once, and waking the
/// stale wakers left in the ring afterwards (from a plain thread) is harmless.
#[test]
fn deadlines_fire_on_children_parked_on_each_others_wakers() {
    let _watchdog = watchdog(
        "deadlines_fire_on_children_parked_on_each_others_wakers",
        60,
    );
    const CHILDREN: usize = 24;
    let rt = runtime(2);
    let kinds = [
        Deadline::MoveOn,
        Deadline::FailAfter,
        Deadline::GroupScope,
        Deadline::PerChild,
    ];
    for round in 0..iterations(40) {
        let kind = kinds[round % kinds.len()];
        let busy = (round / kinds.len()) % 2 == 1;
        let slots = Slots::new(CHILDREN);
        let drops = counters(CHILDREN);
        let overlaps = Arc::new(AtomicUsize::new(0));
        let never = Arc::new(AtomicBool::new(false));
        let ring = async {
            anyio::task_group!(|tg| {
                if let Deadline::GroupScope = kind {
                    let at = anyio::current_time() + Duration::from_millis(15);
                    tg.cancel_scope().set_deadline(Some(at));
                }
                for i in 0..CHILDREN {
                    let guard = DropOnce {
                        counts: drops.clone(),
                        index: i,
                    };
                    let (slots, overlaps, never) = (slots.clone(), overlaps.clone(), never.clone());
                    let in_poll = AtomicBool::new(false);
                    let parked = std::future::poll_fn(move |cx: &mut Context<'_>| {
                        if in_poll.swap(true, Ordering::SeqCst) {
                            overlaps.fetch_add(1, Ordering::SeqCst);
                        }
                        slots.store(i, cx);
                        if busy {
                            slots.wake((i + 1) % CHILDREN, i);
                        }
                        let poll = match never.load(Ordering::SeqCst) {
                            true => Poll::Ready(()),
                            false => Poll::Pending,
                        };
                        in_poll.store(false, Ordering::SeqCst);
                        poll
                    });
                    let child = async move {
                        let _guard = guard;
                        match kind {
                            Deadline::PerChild => {
                                let delay = 0.002 + 0.001 * (i % 8) as f64;
                                assert!(anyio::move_on_after(delay, parked).await.is_none());
                            }
                            _ => parked.await,
                        }
                    };
                    if i % 3 == 2 {
                        tg.start_soon(child);
                    } else {
                        tg.spawn(child);
                    }
                }
            })
        };
        let outcome: Option<_> = rt.block_on(async {
            match kind {
                Deadline::MoveOn => anyio::move_on_after(0.015, ring).await,
                Deadline::FailAfter => {
                    let err = anyio::fail_after(0.015, ring).await.unwrap_err();
                    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
                    None
                }
                Deadline::GroupScope | Deadline::PerChild => Some(
                    anyio::fail_after(30, ring)
                        .await
                        .expect("the ring never ended"),
                ),
            }
        });
        match kind {
            Deadline::MoveOn | Deadline::FailAfter => assert!(outcome.is_none()),
            // The body ended at once; the children were cancelled by the group's own
            // scope, which the group absorbs.
            Deadline::GroupScope => assert!(outcome.unwrap().is_ok()),
            Deadline::PerChild => {
                assert_eq!(outcome.unwrap().unwrap(), Some(()));
            }
        }
        assert_eq!(
            overlaps.load(Ordering::SeqCst),
            0,
            "{kind:?}: a child was polled by two threads at once"
        );
        assert_each_once(&drops, "dropped");
        // The ring's stale wakers, woken and dropped from a plain thread.
        let stale = slots.clone();
        std::thread::spawn(move || {
            for i in 0..CHILDREN {
                stale.wake(i, i);
            }
            stale.clear();
        })
        .join()
        .unwrap();
        assert_each_once(&drops, "dropped (after stale wakes)");
    }
}

/// Runs `scenario` on a thread of its own and gives back what it sends, each message
/// within `limit`: a deadlock (a thread blocked on a lock it holds) fails the test with
/// `what` instead of hanging it. The deadlocked thread is left behind, blocked.
fn within<T: Send + std::fmt::Debug + 'static>(
    limit: Duration,
    what: &'static str,
    messages: usize,
    scenario: impl FnOnce(mpsc::Sender<T>) + Send + 'static,
) -> Vec<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("xr-scenario".into())
        .spawn(move || scenario(tx))
        .unwrap();
    let mut received = Vec::new();
    for step in 0..messages {
        match rx.recv_timeout(limit) {
            Ok(message) => received.push(message),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "{what} (no answer for step {step} after {limit:?}: a deadlock; steps so \
                 far: {received:?})"
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("{what}: the scenario's thread panicked at step {step}")
            }
        }
    }
    received
}

/// A child is spawned into a group that has not started yet, from a thread of runtime B
/// (so its task is bound to B's executor), B is dropped, and the group then runs on
/// runtime A. The group's first poll launches the deferred child: its wake finds B's
/// executor closed, which drops (abandons) the child on the spot, and the abandoned
/// child reports to its group. The group must return and the child be dropped once.
/// Found on 70f89b1 (and older: 2b71a65 too), since fixed: the launch woke the child
/// under the group's `children` lock (`TaskGroupRun::poll`, `launch(&mut children, ..)`
/// in `try_spawn_named`), and `report` takes that same lock: the thread deadlocked on
/// itself.
#[test]
fn a_child_deferred_onto_a_runtime_dropped_before_its_group_runs() {
    let drops = counters(1);
    let counts = drops.clone();
    within(
        Duration::from_secs(10),
        "the group's first poll deadlocked launching a child bound to a dropped runtime",
        1,
        move |done: mpsc::Sender<()>| {
            let group = TaskGroup::new();
            let rt_b = runtime(0);
            rt_b.block_on(async {
                let guard = DropOnce { counts, index: 0 };
                group.spawn(async move {
                    let _guard = guard;
                    anyio::lowlevel::checkpoint().await;
                });
            });
            drop(rt_b);
            let rt_a = runtime(1);
            // Ended or cancelled, the child does not keep the group for long.
            let _ = rt_a.block_on(anyio::fail_after(10, group.run(async {})));
            done.send(()).unwrap();
        },
    );
    assert_each_once(&drops, "dropped");
}

/// A group runs on runtime A; a child is spawned into it from a thread of runtime B (its
/// task bound to B's executor), parks there, and B is dropped. Then the group is
/// cancelled. Two things must hold: the cancel does not deadlock the group, and the
/// child's future is dropped exactly once, by the time the group returns. The test
/// also expects the child to be dropped with B, as every task of an async-executor was
/// when the executor dropped (the executor before 622db2e).
/// Found on 70f89b1, since fixed: (1) B's drop left the child's future alive, parked on
/// an executor nothing runs any more, so its group waited for it until something woke
/// it or cancelled the group; (2) the cancel then deadlocked: `poll_children` woke every
/// spawned child under the group's `children` lock, the wake found B's executor closed
/// and abandoned the child on the spot, and the child's `report` takes that same lock.
#[test]
fn a_child_parked_on_a_runtime_dropped_under_its_running_group() {
    #[derive(Debug)]
    enum Step {
        RuntimeBDropped { child_dropped: usize },
        GroupReturned { child_dropped: usize },
    }
    let steps = within(
        Duration::from_secs(10),
        "cancelling a group whose child sits on a dropped runtime deadlocked",
        2,
        |report: mpsc::Sender<Step>| {
            let drops = counters(1);
            let rt_a = runtime(1);
            let group = TaskGroup::new();
            let tg = &group;
            std::thread::scope(|threads| {
                let result = rt_a.block_on(anyio::fail_after(
                    10,
                    group.run(async {
                        let on_b = threads.spawn(|| {
                            let rt_b = runtime(1);
                            let started = Arc::new(AtomicBool::new(false));
                            rt_b.block_on(async {
                                let guard = DropOnce {
                                    counts: drops.clone(),
                                    index: 0,
                                };
                                let child_started = started.clone();
                                tg.spawn(async move {
                                    let _guard = guard;
                                    child_started.store(true, Ordering::SeqCst);
                                    anyio::sleep_forever().await;
                                });
                                while !started.load(Ordering::SeqCst) {
                                    anyio::sleep(0.0005).await;
                                }
                            });
                            drop(rt_b);
                        });
                        while !on_b.is_finished() {
                            anyio::sleep(0.0005).await;
                        }
                        on_b.join().unwrap();
                        let child_dropped = drops[0].load(Ordering::SeqCst);
                        report
                            .send(Step::RuntimeBDropped { child_dropped })
                            .unwrap();
                        tg.cancel();
                    }),
                ));
                let _ = result;
                let child_dropped = drops[0].load(Ordering::SeqCst);
                report.send(Step::GroupReturned { child_dropped }).unwrap();
            });
        },
    );
    match steps.as_slice() {
        [
            Step::RuntimeBDropped {
                child_dropped: with_b,
            },
            Step::GroupReturned {
                child_dropped: at_end,
            },
        ] => {
            assert_eq!(
                *at_end, 1,
                "the child was not dropped exactly once by its group's end"
            );
            assert_eq!(
                *with_b, 1,
                "a child parked on runtime B outlived B's drop (its group could only wait)"
            );
        }
        other => panic!("unexpected steps {other:?}"),
    }
}

/// Children spawned into an idle group from runtime B's thread, B dropped, the group then
/// run on runtime A: the launches meet B's closed executor (each child is dropped at
/// once), and a later spawn sweeps those ended tasks under the group's lock, where the
/// last one holds B's executor. Dropping that executor there must not lock the group
/// again. Found by a helper's review (a self-deadlock), since fixed: the executor's own
/// drop only empties its queue.
#[test]
fn the_last_task_of_a_dropped_runtime_swept_under_its_group_lock() {
    let drops = counters(64);
    let counts = drops.clone();
    within(
        Duration::from_secs(10),
        "sweeping the last task of a dropped runtime deadlocked its group",
        1,
        move |done: mpsc::Sender<()>| {
            let group = TaskGroup::new();
            let rt_b = runtime(0);
            rt_b.block_on(async {
                for index in 0..64 {
                    let guard = DropOnce {
                        counts: counts.clone(),
                        index,
                    };
                    group.spawn(async move {
                        let _guard = guard;
                        anyio::lowlevel::checkpoint().await;
                    });
                }
            });
            drop(rt_b);
            let rt_a = runtime(1);
            let tg = &group;
            let _ = rt_a.block_on(anyio::fail_after(
                10,
                group.run(async move {
                    anyio::lowlevel::checkpoint().await;
                    tg.spawn(async {});
                }),
            ));
            done.send(()).unwrap();
        },
    );
    assert_each_once(&drops, "dropped");
}
