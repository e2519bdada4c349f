//! The future of `TaskGroup::run`: polls the body and the children inside the group's
//! scope until all have ended, and reports what failed.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use crate::base::context::{self, ScopeEnter};
use crate::base::lock::lock;
use crate::base::scope::{CancelOrigin, effectively_cancelled};
use crate::cancel::deliver::{CancelWatch, DeliveryPoll, Verdict};
use crate::cancel::timer::DeadlineTimer;
use crate::error::{Error, Result};
use crate::runtime::RuntimeShared;
use crate::task::children::{
    BodyWake, Failures, PollingGuard, RunChildren, Status, close_children, poll_children,
};
use crate::task::group::TaskGroup;
use crate::task::output::{TaskOutput, drop_contained};

/// How many rounds of body and child polls a group runs in one poll of its own while they
/// keep waking each other, before it yields to the executor.
const ROUNDS_PER_POLL: usize = 32;

pin_project! {
    /// The future of [`TaskGroup::run`].
    ///
    /// # Cancel safety
    ///
    /// As for [`TaskGroup::run`].
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let group = anyio::TaskGroup::new();
    /// let tg = &group;
    /// let run: anyio::TaskGroupRun<'_, '_, _> = group.run(async {
    ///     let half = tg.create_task(async { anyio::Result::Ok(21) });
    ///     anyio::Result::Ok(half.await? * 2)
    /// });
    /// assert_eq!(run.await.unwrap(), Some(42));
    /// # });
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct TaskGroupRun<'g, 'env, F>
    where
        F: Future,
        F::Output: TaskOutput,
    {
        group: &'g TaskGroup<'env>,
        #[pin]
        body: Option<F>,
        value: Option<<F::Output as TaskOutput>::Value>,
        failures: Failures,
        timer: DeadlineTimer,
        // The runtime's registry entry for this group (removed when it ends).
        registration: Option<(Arc<RuntimeShared>, usize)>,
        children: RunChildren<'env>,
        started: bool,
        finished: bool,
        // The effective cancellation the group last delivered to its children; every
        // change wakes all of them (the delivery protocol's rule 3).
        watch: CancelWatch,
        // The body was dropped by a cancellation.
        body_cancelled: bool,
        // The body's last poll returned `Pending` inside shielded work; kept across the
        // polls that do not poll the body.
        body_shielded: bool,
        // The group has returned `Pending` at least once.
        waited: bool,
        // The body's own waker (it sets `GroupShared::body_woken`), so that the body is
        // polled only when woken.
        body_waker: Option<Waker>,
    }

    impl<'g, 'env, F> PinnedDrop for TaskGroupRun<'g, 'env, F>
    where
        F: Future,
        F::Output: TaskOutput,
    {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if *this.finished || !*this.started {
                return;
            }
            // Dropped from outside anyio before the end: drop every child now.
            this.body.set(None);
            close(this.group, this.children, this.registration);
        }
    }
}

impl<'g, 'env, F> TaskGroupRun<'g, 'env, F>
where
    F: Future,
    F::Output: TaskOutput,
{
    pub(crate) fn new(group: &'g TaskGroup<'env>, body: F) -> Self {
        TaskGroupRun {
            group,
            body: Some(body),
            value: None,
            failures: Failures::default(),
            timer: DeadlineTimer::default(),
            registration: None,
            children: RunChildren::default(),
            started: false,
            finished: false,
            watch: CancelWatch::default(),
            body_cancelled: false,
            body_shielded: false,
            waited: false,
            body_waker: None,
        }
    }
}

/// Closes the group and leaves the runtime's registry.
fn close<'env>(
    group: &TaskGroup<'env>,
    children: &mut RunChildren<'env>,
    registration: &mut Option<(Arc<RuntimeShared>, usize)>,
) {
    close_children(group, children);
    if let Some((runtime, key)) = registration.take() {
        runtime.registry.unregister_group(key);
    }
}

impl<F> Future for TaskGroupRun<'_, '_, F>
where
    F: Future,
    F::Output: TaskOutput,
{
    type Output = Result<Option<<F::Output as TaskOutput>::Value>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let group = *this.group;
        let scope = &group.shared.scope;
        assert!(
            !*this.finished,
            "a TaskGroup's run future was polled after it completed"
        );

        if !*this.started {
            *this.started = true;
            let deferred_spawns = {
                let mut local = group.lock_local();
                assert!(
                    local.status == Status::Idle,
                    "a TaskGroup can be run only once; create a new TaskGroup for each run"
                );
                local.status = Status::Running;
                std::mem::take(&mut local.deferred_spawns)
            };
            assert!(
                scope.enter(context::current_scope()),
                "the cancel scope of a TaskGroup was entered elsewhere; a group's scope \
                 belongs to its run"
            );
            group
                .shared
                .host_task
                .store(context::current_task_id(), Ordering::Release);
            if let Some(runtime) = crate::runtime::current_runtime() {
                let key = runtime
                    .registry
                    .register_group(Arc::downgrade(&group.shared) as _);
                *this.registration = Some((runtime, key));
            }
            DeadlineTimer::check_on_entry(scope);
            // Children spawned before the group ran: launched now that its scope is in
            // the tree (listed before the group's first look at its children).
            let launched: Vec<_> = {
                let mut children = lock(&group.shared.children);
                children.spawns_open = true;
                deferred_spawns
                    .into_iter()
                    .map(|launch| launch(&mut children))
                    .collect()
            };
            // Woken outside the lock: a wake may drop a child at once (its runtime is
            // gone), and the child's report takes the lock.
            for task in launched {
                task.wake();
            }
        } else {
            this.timer.poll_armed(scope, cx);
        }
        // Registered before looking at any child, so no wake from now on is lost.
        scope.waker.register(cx.waker());
        let _polling = PollingGuard::new(&group.shared);

        let mut enter = ScopeEnter::new(Some(scope.clone()));
        let mut rounds = 0;
        loop {
            let delivery = DeliveryPoll::begin(effectively_cancelled(Some(scope)));
            let wake_all = this.watch.changed(delivery.started_cancelled());

            let body_waker = this.body_waker.get_or_insert_with(|| {
                Waker::from(Arc::new(BodyWake {
                    group: group.shared.clone(),
                }))
            });
            let body_woken = &group.shared.body_woken;
            let poll_body = body_woken.swap(false, Ordering::SeqCst) || wake_all;
            let mut body_yielded = false;
            if let Some(body) = this.body.as_mut().as_pin_mut().filter(|_| poll_body) {
                context::clear_pending_under_shield();
                let _activity = context::Activity::new();
                let mut body_cx = Context::from_waker(body_waker);
                match catch_unwind(AssertUnwindSafe(|| body.poll(&mut body_cx))) {
                    Ok(Poll::Ready(output)) => {
                        this.body.set(None);
                        match output.into_result() {
                            Ok(value) => *this.value = Some(value),
                            Err(error) => {
                                this.failures.errors.push(error);
                                scope.cancel(CancelOrigin::Explicit, None);
                            }
                        }
                    }
                    Ok(Poll::Pending) => {
                        // Woken during its own poll: it yielded, to let other tasks run.
                        body_yielded = body_woken.load(Ordering::SeqCst);
                        *this.body_shielded = context::pending_under_shield();
                        // A cancel during this poll is picked up below, with the children.
                        if delivery.after_pending(*this.body_shielded, || false) == Verdict::Drop {
                            if let Err(payload) = drop_contained(this.body.as_mut()) {
                                this.failures.panic.get_or_insert(payload);
                                scope.cancel(CancelOrigin::Explicit, None);
                            }
                            *this.body_cancelled = true;
                        }
                    }
                    Err(payload) => {
                        let _ = drop_contained(this.body.as_mut());
                        this.failures.panic.get_or_insert(payload);
                        scope.cancel(CancelOrigin::Explicit, None);
                    }
                }
            }

            let more = poll_children(group, wake_all, this.children, this.failures);

            if this.watch.seen() != effectively_cancelled(Some(scope)) {
                // Cancelled (or un-cancelled) during this round: deliver it now rather
                // than at a later poll.
                continue;
            }
            let body_woken =
                this.body.is_some() && !body_yielded && body_woken.load(Ordering::SeqCst);
            if body_woken || more {
                // The body or children woke each other (e.g. over a channel): serve them
                // here, like a small executor, rather than through a reschedule of the
                // whole group; after a budget of rounds, let other tasks run. Those that
                // woke themselves (yielded) wait for the next poll of the group.
                rounds += 1;
                if rounds < ROUNDS_PER_POLL {
                    continue;
                }
                cx.waker().wake_by_ref();
            }
            break;
        }

        let mut local = group.lock_local();
        // Spawned children are counted in under `children` (held here) and record a
        // failure before they count themselves out: none starts or fails unseen between
        // this look and the group's closing.
        let mut children = lock(&group.shared.children);
        this.failures.absorb(&mut children.reported);
        let alive = local.new.len()
            + this.children.live
            + group.shared.spawned_live.load(Ordering::Acquire);
        if alive == 0 && this.body.is_none() {
            let cancelled = effectively_cancelled(Some(scope));
            if this.failures.panic.is_none()
                && this.failures.errors.is_empty()
                && cancelled
                && !scope.is_delivering()
                && (*this.body_cancelled || *this.waited || this.failures.child_cancelled)
            {
                // Cancelled from outside: stay pending so that the delivering scope drops
                // the group and the code after it does not run.
                drop(children);
                drop(local);
                enter.report_shielded = false;
                return Poll::Pending;
            }
            // Closed under the same locks that saw no child left: a child started from
            // another thread from now on is refused, not silently dropped.
            children.spawns_open = false;
            drop(children);
            local.status = Status::Closed;
            drop(local);
            *this.finished = true;
            drop(enter);
            close(group, this.children, this.registration);
            if let Some(payload) = this.failures.panic.take() {
                resume_unwind(payload);
            }
            if !this.failures.errors.is_empty() {
                let errors = std::mem::take(&mut this.failures.errors);
                return Poll::Ready(Err(Error::from_failures(errors)));
            }
            if *this.body_cancelled && scope.cancel_called() {
                scope.set_cancelled_caught();
            }
            return Poll::Ready(Ok(this.value.take()));
        }
        drop(children);
        drop(local);

        *this.waited = true;
        if !this.watch.seen() && this.timer.arm(scope, cx) {
            cx.waker().wake_by_ref();
        }
        enter.report_shielded = alive > 0 || (this.body.is_some() && *this.body_shielded);
        Poll::Pending
    }
}
