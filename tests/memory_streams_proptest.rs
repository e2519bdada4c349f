//! Property test: random interleavings of send, receive, clone, close and cancel on a
//! memory object stream neither lose nor duplicate an item.
//!
//! Operations are stepped by hand (`poll_once`) on one task, so every interleaving is
//! reproducible from its proptest seed. Each item records its own fate: received, or
//! dropped (a withdrawn send, or one handed back in an error). One receive end is never
//! closed, so no accepted item may be dropped for lack of receivers.

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use anyio::{CancelScope, ErrorKind, MemoryObjectReceiveStream, MemoryObjectSendStream, SendError};
use futures_lite::future::poll_once;
use proptest::prelude::*;

#[derive(Default)]
struct Ledger {
    created: Vec<u64>,
    accepted: HashSet<u64>,
    received: Vec<u64>,
    dropped: Vec<u64>,
}

struct Item {
    id: u64,
    ledger: Rc<RefCell<Ledger>>,
    received: bool,
}

impl Item {
    fn receive(mut self) {
        self.received = true;
        self.ledger.borrow_mut().received.push(self.id);
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        if !self.received {
            self.ledger.borrow_mut().dropped.push(self.id);
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Send(usize),
    SendNowait(usize),
    Receive(usize),
    ReceiveNowait(usize),
    Poll(usize),
    Drop(usize),
    Cancel(usize),
    CloneSender(usize),
    CloneReceiver(usize),
    CloseSender(usize),
    CloseReceiver(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..4usize).prop_map(Op::Send),
        2 => (0..4usize).prop_map(Op::SendNowait),
        3 => (0..4usize).prop_map(Op::Receive),
        2 => (0..4usize).prop_map(Op::ReceiveNowait),
        4 => (0..8usize).prop_map(Op::Poll),
        1 => (0..8usize).prop_map(Op::Drop),
        1 => (0..8usize).prop_map(Op::Cancel),
        1 => (0..4usize).prop_map(Op::CloneSender),
        1 => (0..4usize).prop_map(Op::CloneReceiver),
        1 => (0..4usize).prop_map(Op::CloseSender),
        1 => (0..4usize).prop_map(Op::CloseReceiver),
    ]
}

enum Outcome {
    Sent(Result<(), SendError<Item>>),
    Received(anyio::Result<Item>),
}

/// A send or receive in flight, inside its own cancel scope.
struct Pending {
    scope: CancelScope,
    future: Pin<Box<dyn Future<Output = Option<Outcome>>>>,
}

struct Model {
    ledger: Rc<RefCell<Ledger>>,
    senders: Vec<Rc<MemoryObjectSendStream<Item>>>,
    /// `receivers[0]` is never closed.
    receivers: Vec<Rc<MemoryObjectReceiveStream<Item>>>,
    pending: Vec<Pending>,
    next_id: u64,
}

impl Model {
    fn item(&mut self) -> Item {
        self.next_id += 1;
        self.ledger.borrow_mut().created.push(self.next_id);
        Item {
            id: self.next_id,
            ledger: self.ledger.clone(),
            received: false,
        }
    }

    fn record(&self, outcome: Outcome, id: Option<u64>) {
        match outcome {
            Outcome::Sent(Ok(())) => {
                self.ledger
                    .borrow_mut()
                    .accepted
                    .insert(id.expect("sends know their id"));
            }
            Outcome::Sent(Err(error)) => drop(error.into_inner()),
            Outcome::Received(Ok(item)) => item.receive(),
            Outcome::Received(Err(error)) => assert!(
                matches!(
                    error.kind(),
                    ErrorKind::EndOfStream | ErrorKind::ClosedResource | ErrorKind::WouldBlock
                ),
                "{error}"
            ),
        }
    }

    async fn step(&mut self, op: Op) {
        match op {
            Op::Send(h) => {
                let tx = self.senders[h % self.senders.len()].clone();
                let item = self.item();
                let id = item.id;
                let scope = CancelScope::new();
                let run = scope.clone();
                let future = Box::pin(async move {
                    run.run(async move { Outcome::Sent(tx.send(item).await) })
                        .await
                });
                self.start(scope, future, Some(id)).await;
            }
            Op::SendNowait(h) => {
                let item = self.item();
                let id = item.id;
                let result = self.senders[h % self.senders.len()].send_nowait(item);
                self.record(Outcome::Sent(result), Some(id));
            }
            Op::Receive(h) => {
                let rx = self.receivers[h % self.receivers.len()].clone();
                let scope = CancelScope::new();
                let run = scope.clone();
                let future = Box::pin(async move {
                    run.run(async move { Outcome::Received(rx.receive().await) })
                        .await
                });
                self.start(scope, future, None).await;
            }
            Op::ReceiveNowait(h) => {
                let result = self.receivers[h % self.receivers.len()].receive_nowait();
                self.record(Outcome::Received(result), None);
            }
            Op::Poll(i) if !self.pending.is_empty() => {
                let i = i % self.pending.len();
                if let Some(done) = poll_once(&mut self.pending[i].future).await {
                    self.pending.remove(i);
                    if let Some(outcome) = done {
                        self.record_finished(outcome);
                    }
                }
            }
            Op::Drop(i) if !self.pending.is_empty() => {
                let i = i % self.pending.len();
                drop(self.pending.remove(i));
            }
            Op::Cancel(i) if !self.pending.is_empty() => {
                let i = i % self.pending.len();
                self.pending[i].scope.cancel();
            }
            Op::CloneSender(h) => {
                let clone = self.senders[h % self.senders.len()].as_ref().clone();
                self.senders.push(Rc::new(clone));
            }
            Op::CloneReceiver(h) => {
                let clone = self.receivers[h % self.receivers.len()].as_ref().clone();
                self.receivers.push(Rc::new(clone));
            }
            Op::CloseSender(h) => self.senders[h % self.senders.len()].close(),
            Op::CloseReceiver(h) if self.receivers.len() > 1 => {
                self.receivers[1 + h % (self.receivers.len() - 1)].close();
            }
            Op::Poll(_) | Op::Drop(_) | Op::Cancel(_) | Op::CloseReceiver(_) => {}
        }
    }

    async fn start(
        &mut self,
        scope: CancelScope,
        mut future: Pin<Box<dyn Future<Output = Option<Outcome>>>>,
        id: Option<u64>,
    ) {
        match poll_once(&mut future).await {
            Some(Some(outcome)) => self.record(outcome, id),
            Some(None) => {}
            None => {
                // Remember the id of a parked send for when it completes.
                let ledger = self.ledger.clone();
                let future = Box::pin(async move {
                    let outcome = future.await;
                    if let (Some(Outcome::Sent(Ok(()))), Some(id)) = (&outcome, id) {
                        ledger.borrow_mut().accepted.insert(id);
                    }
                    outcome
                });
                self.pending.push(Pending { scope, future });
            }
        }
    }

    fn record_finished(&self, outcome: Outcome) {
        match outcome {
            Outcome::Sent(Ok(())) => {} // recorded by the wrapper, which knows the id
            other => self.record(other, None),
        }
    }

    /// Ends every operation, closes the send side and drains the kept receiver.
    async fn finish(mut self) -> Rc<RefCell<Ledger>> {
        self.pending.clear();
        self.senders.clear();
        let keeper = self.receivers[0].clone();
        loop {
            match keeper.receive_nowait() {
                Ok(item) => item.receive(),
                Err(error) => {
                    assert_eq!(error.kind(), ErrorKind::EndOfStream, "{error}");
                    break;
                }
            }
        }
        self.receivers.clear();
        drop(keeper);
        self.ledger
    }
}

fn check(ops: Vec<Op>, capacity: usize) -> Result<(), TestCaseError> {
    let ledger = anyio::run(async move {
        anyio::fail_after(30, async move {
            let (tx, rx) = anyio::create_memory_object_stream::<Item>(capacity);
            let mut model = Model {
                ledger: Rc::default(),
                senders: vec![Rc::new(tx)],
                receivers: vec![Rc::new(rx)],
                pending: Vec::new(),
                next_id: 0,
            };
            for op in ops {
                model.step(op).await;
            }
            model.finish().await
        })
        .await
        .expect("the property run timed out")
    });
    let ledger = ledger.borrow();
    let received: HashSet<u64> = ledger.received.iter().copied().collect();
    prop_assert_eq!(
        received.len(),
        ledger.received.len(),
        "an item was received twice"
    );
    let dropped: HashSet<u64> = ledger.dropped.iter().copied().collect();
    prop_assert_eq!(
        dropped.len(),
        ledger.dropped.len(),
        "an item was dropped twice"
    );
    prop_assert!(
        received.is_disjoint(&dropped),
        "an item was received and dropped"
    );
    for id in &ledger.accepted {
        prop_assert!(received.contains(id), "accepted item {} was lost", id);
    }
    let created: HashSet<u64> = ledger.created.iter().copied().collect();
    let fates: HashSet<u64> = received.union(&dropped).copied().collect();
    prop_assert_eq!(created, fates, "an item vanished without a fate");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_item_is_lost_or_duplicated(
        ops in proptest::collection::vec(op(), 1..60),
        capacity in prop_oneof![Just(0usize), Just(1), Just(3), Just(usize::MAX)],
    ) {
        check(ops, capacity)?;
    }
}
