//! Memory object streams (AnyIO's MS-* behaviours, in Rust idiom).

mod common;

use std::sync::Mutex;

use anyio::{
    CancelScope, ErrorKind, MemoryObjectStreamStatistics, create_memory_object_stream,
    create_unbounded_memory_object_stream, wait_all_tasks_blocked,
};
use common::*;
use futures_lite::future::poll_once;

#[anyio::test(timeout = 10)]
async fn rendezvous_delivers_to_a_waiting_receiver_in_order() {
    let (tx, rx) = create_memory_object_stream::<&str>(0);
    let received = Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            for _ in 0..2 {
                let item = rx.receive().await?;
                received.lock().unwrap().push(item);
            }
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        tx.send("hello").await?;
        tx.send("world").await?;
        anyio::Result::Ok(())
    })
    .unwrap();
    assert_eq!(*received.lock().unwrap(), ["hello", "world"]);
}

#[anyio::test(timeout = 10)]
async fn rendezvous_send_nowait_hands_items_to_parked_receivers() {
    let (tx, rx) = create_memory_object_stream::<&str>(0);
    let received = Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        for _ in 0..2 {
            tg.start_soon(async {
                let item = rx.receive().await?;
                received.lock().unwrap().push(item);
                anyio::Result::Ok(())
            });
        }
        wait_all_tasks_blocked().await;
        tx.send_nowait("hello")?;
        tx.send_nowait("anyio")?;
        anyio::Result::Ok(())
    })
    .unwrap();
    let mut received = received.into_inner().unwrap();
    received.sort();
    assert_eq!(received, ["anyio", "hello"]);
}

#[anyio::test(timeout = 10)]
async fn rendezvous_send_nowait_without_a_receiver_would_block_and_returns_the_item() {
    let (tx, _rx) = create_memory_object_stream::<String>(0);
    let error = tx.send_nowait("kept".to_owned()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WouldBlock);
    assert_eq!(error.into_inner(), "kept");
}

#[anyio::test(timeout = 10)]
async fn receive_nowait_takes_straight_from_a_parked_sender() {
    let (tx, rx) = create_memory_object_stream::<&str>(0);
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            tx.send("hello").await?;
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        assert_eq!(rx.receive_nowait()?, "hello");
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn receive_nowait_refills_the_buffer_from_a_parked_sender() {
    let (tx, rx) = create_memory_object_stream::<&str>(1);
    let sender_done = flag();
    anyio::task_group!(|tg| {
        tx.send_nowait("hello")?;
        tg.start_soon(async {
            tx.send("anyio").await?;
            set(&sender_done);
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        assert_eq!(rx.receive_nowait()?, "hello");
        assert_eq!(
            rx.statistics().current_buffer_used,
            1,
            "the parked item moved in"
        );
        anyio::fail_after!(1, {
            while !is_set(&sender_done) {
                anyio::sleep(0.001).await;
            }
        })?;
        assert_eq!(rx.receive_nowait()?, "anyio");
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn buffered_items_come_out_first_in_first_out() {
    let (tx, rx) = create_memory_object_stream::<u8>(2);
    tx.send_nowait(1).unwrap();
    tx.send_nowait(2).unwrap();
    assert_eq!(tx.send_nowait(3).unwrap_err().kind(), ErrorKind::WouldBlock);
    assert_eq!(rx.receive_nowait().unwrap(), 1);
    assert_eq!(rx.receive_nowait().unwrap(), 2);
    assert_eq!(
        rx.receive_nowait().unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}

#[anyio::test(timeout = 10)]
async fn iterating_yields_every_item_and_ends_when_senders_close() {
    let (tx, rx) = create_memory_object_stream::<u32>(0);
    let collected = anyio::task_group!(|tg| {
        tg.start_soon(async move {
            for n in 0..5 {
                tx.send(n).await?;
            }
            anyio::Result::Ok(())
        });
        let mut items = Vec::new();
        while let Some(item) = rx.next().await {
            items.push(item);
        }
        anyio::Result::Ok(items)
    });
    assert_eq!(collected.unwrap().unwrap(), [0, 1, 2, 3, 4]);
}

#[anyio::test(timeout = 10)]
async fn closed_send_end_gives_end_of_stream_and_closed_resource() {
    let (tx, rx) = create_memory_object_stream::<u8>(1);
    tx.close();
    assert_eq!(
        rx.receive_nowait().unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
    assert_eq!(
        rx.receive().await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
    let error = tx.send(5).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ClosedResource);
    assert_eq!(error.into_inner(), 5);
}

#[anyio::test(timeout = 10)]
async fn closed_receive_end_gives_closed_resource_and_broken_resource() {
    let (tx, rx) = create_memory_object_stream::<u8>(1);
    rx.close();
    assert_eq!(
        rx.receive_nowait().unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
    assert_eq!(
        rx.receive().await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
    let error = tx.send(7).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BrokenResource);
    assert_eq!(*error.item(), 7);
    assert_eq!(
        tx.send_nowait(8).unwrap_err().kind(),
        ErrorKind::BrokenResource
    );
}

#[anyio::test(timeout = 10)]
async fn cancelled_receiver_leaves_the_queue() {
    let (tx, rx) = create_memory_object_stream::<&str>(0);
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            rx.receive().await?;
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        tg.cancel();
    })
    .unwrap();
    assert_eq!(
        tx.send_nowait("lost?").unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}

#[anyio::test(timeout = 10)]
async fn cancelled_sender_withdraws_its_item() {
    let (tx, rx) = create_memory_object_stream::<&str>(0);
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            tx.send("withdrawn").await?;
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        tg.cancel();
    })
    .unwrap();
    assert_eq!(
        rx.receive_nowait().unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}

#[anyio::test(timeout = 10)]
async fn clones_keep_the_stream_open_until_all_are_closed() {
    let (tx, rx) = create_memory_object_stream::<u8>(1);
    let (tx2, rx2) = (tx.clone(), rx.clone());
    assert_eq!(tx.statistics().open_send_streams, 2);
    assert_eq!(tx.statistics().open_receive_streams, 2);
    tx.close();
    rx.close();
    tx2.send_nowait(1).unwrap();
    assert_eq!(rx2.receive_nowait().unwrap(), 1);
    drop(tx2);
    assert_eq!(
        rx2.receive_nowait().unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
}

#[anyio::test(timeout = 10)]
async fn cloning_a_closed_end_is_a_closed_resource_error() {
    let (tx, rx) = create_memory_object_stream::<u8>(1);
    tx.close();
    rx.close();
    assert_eq!(
        tx.try_clone().unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
    assert_eq!(
        rx.try_clone().unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
    // `Clone` gives a closed end rather than panicking.
    assert!(tx.clone().is_closed());
    assert_eq!(
        rx.clone().receive_nowait().unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
}

#[anyio::test(timeout = 10)]
async fn closing_the_last_sender_ends_a_parked_receive() {
    let (tx, rx) = create_memory_object_stream::<u8>(0);
    let result = anyio::task_group!(|tg| {
        tg.start_soon(async {
            rx.receive().await?;
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        tx.close();
    });
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::EndOfStream);
    assert_eq!(error.errors().count(), 1);
}

#[anyio::test(timeout = 10)]
async fn closing_the_last_receiver_breaks_a_parked_send_and_returns_the_unit_item() {
    let (tx, rx) = create_memory_object_stream::<()>(0);
    let result = anyio::task_group!(|tg| {
        tg.start_soon(async {
            let error = tx.send(()).await.unwrap_err();
            assert_eq!(error.into_inner(), (), "a unit item is still an item");
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        rx.close();
    });
    result.unwrap();
    assert_eq!(tx.statistics().tasks_waiting_send, 0);
}

#[anyio::test(timeout = 10)]
async fn buffered_items_are_delivered_after_the_sender_closes() {
    let (tx, rx) = create_memory_object_stream::<&str>(1);
    tx.send_nowait("last words").unwrap();
    drop(tx);
    assert_eq!(rx.receive().await.unwrap(), "last words");
    assert_eq!(
        rx.receive().await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
}

#[anyio::test(timeout = 10)]
async fn receive_in_a_cancelled_scope_takes_nothing() {
    let (tx, rx) = create_memory_object_stream::<&str>(0);
    anyio::task_group!(|tg| {
        for item in ["hello", "world"] {
            let tx = &tx;
            tg.start_soon(async move {
                tx.send(item).await?;
                anyio::Result::Ok(())
            });
            wait_all_tasks_blocked().await;
        }
        let scope = CancelScope::new();
        scope.cancel();
        assert!(scope.run(rx.receive()).await.is_none());
        assert_eq!(rx.receive().await?, "hello");
        assert_eq!(rx.receive().await?, "world");
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn send_in_a_cancelled_scope_delivers_nothing() {
    let (tx, rx) = create_memory_object_stream::<&str>(0);
    let received = Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            let item = rx.receive().await?;
            received.lock().unwrap().push(item);
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        let scope = CancelScope::new();
        scope.cancel();
        assert!(scope.run(tx.send("hello")).await.is_none());
        tx.send("world").await?;
        anyio::Result::Ok(())
    })
    .unwrap();
    assert_eq!(*received.lock().unwrap(), ["world"]);
}

#[anyio::test(timeout = 10)]
async fn item_handed_to_a_receiver_is_returned_even_if_it_is_cancelled_next() {
    let (tx, rx) = create_memory_object_stream::<&str>(0);
    let scope = CancelScope::new();
    let got = Mutex::new(None);
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            scope
                .run(async {
                    *got.lock().unwrap() = Some(rx.receive().await?);
                    anyio::Result::Ok(())
                })
                .await;
        });
        wait_all_tasks_blocked().await;
        tx.send_nowait("hello")?;
        scope.cancel();
        anyio::Result::Ok(())
    })
    .unwrap();
    assert_eq!(*got.lock().unwrap(), Some("hello"));
    assert!(scope.cancel_called());
}

#[anyio::test(timeout = 10)]
async fn item_sent_after_the_receiver_was_cancelled_stays_in_the_buffer() {
    let (tx, rx) = create_memory_object_stream::<&str>(1);
    let scope = CancelScope::new();
    let got = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            scope
                .run(async {
                    rx.receive().await?;
                    set(&got);
                    anyio::Result::Ok(())
                })
                .await;
        });
        wait_all_tasks_blocked().await;
        scope.cancel();
        tx.send_nowait("item")?;
        anyio::Result::Ok(())
    })
    .unwrap();
    assert!(!is_set(&got));
    assert_eq!(rx.receive_nowait().unwrap(), "item");
}

#[anyio::test(timeout = 10)]
async fn both_ends_closing_themselves_do_not_hang() {
    let (tx, rx) = create_memory_object_stream::<u8>(0);
    anyio::task_group!(|tg| {
        tg.start_soon(async move {
            tx.send(1).await?;
            anyio::Result::Ok(())
        });
        tg.start_soon(async move {
            rx.receive().await?;
            anyio::Result::Ok(())
        });
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn statistics_are_the_same_from_both_ends_at_every_step() {
    let (tx, rx) = create_memory_object_stream::<&str>(1);
    // (buffer used, senders waiting, receivers waiting); the rest never changes here.
    let stats = |used: usize, waiting_send: usize, waiting_receive: usize| {
        (used, 1, 1, 1, waiting_send, waiting_receive)
    };
    let view = |s: MemoryObjectStreamStatistics| {
        (
            s.current_buffer_used,
            s.max_buffer_size,
            s.open_send_streams,
            s.open_receive_streams,
            s.tasks_waiting_send,
            s.tasks_waiting_receive,
        )
    };
    let check = |expected| {
        assert_eq!(view(tx.statistics()), expected);
        assert_eq!(view(rx.statistics()), expected);
    };
    check(stats(0, 0, 0));
    anyio::task_group!(|tg| {
        tx.send_nowait("buffered")?;
        check(stats(1, 0, 0));
        tg.start_soon(async {
            tx.send("parked").await?;
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        check(stats(1, 1, 0));
        rx.receive_nowait()?;
        check(stats(1, 0, 0));
        rx.receive_nowait()?;
        check(stats(0, 0, 0));
        tg.start_soon(async {
            rx.receive().await?;
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        check(stats(0, 0, 1));
        tx.send_nowait("taken")?;
        check(stats(0, 0, 0));
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn statistics_count_parked_senders_down_as_items_drain() {
    let (tx, rx) = create_memory_object_stream::<u8>(0);
    anyio::task_group!(|tg| {
        for n in 0..3 {
            let tx = &tx;
            tg.start_soon(async move {
                tx.send(n).await?;
                anyio::Result::Ok(())
            });
        }
        wait_all_tasks_blocked().await;
        for expected in [2, 1, 0] {
            rx.receive_nowait()?;
            assert_eq!(rx.statistics().tasks_waiting_send, expected);
        }
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn closed_ends_refuse_nowait_operations() {
    let (tx, rx) = create_memory_object_stream::<u8>(1);
    tx.close();
    rx.close();
    assert_eq!(
        tx.send_nowait(1).unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
    assert_eq!(
        rx.receive_nowait().unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
}

#[anyio::test(timeout = 10)]
async fn dropping_the_last_sender_ends_the_stream_like_close() {
    let (tx, rx) = create_memory_object_stream::<u8>(1);
    drop(tx);
    assert_eq!(rx.statistics().open_send_streams, 0);
    assert_eq!(
        rx.receive().await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
}

#[anyio::test(timeout = 10)]
async fn dropped_receive_future_does_not_receive_later_items() {
    let (tx, rx) = create_memory_object_stream::<u8>(1);
    {
        let mut receive = Box::pin(rx.receive());
        assert!(poll_once(&mut receive).await.is_none());
        assert_eq!(rx.statistics().tasks_waiting_receive, 1);
    }
    assert_eq!(rx.statistics().tasks_waiting_receive, 0);
    tx.send_nowait(9).unwrap();
    assert_eq!(
        rx.statistics().current_buffer_used,
        1,
        "the item went to the buffer"
    );
}

#[anyio::test(timeout = 10)]
async fn item_handed_to_a_dropped_receive_goes_back_to_the_front() {
    let (tx, rx) = create_memory_object_stream::<u8>(2);
    let mut receive = Box::pin(rx.receive());
    assert!(poll_once(&mut receive).await.is_none());
    tx.send_nowait(1).unwrap(); // handed to the parked receive
    tx.send_nowait(2).unwrap(); // buffered
    drop(receive); // never took item 1: it goes back in front of item 2
    assert_eq!(rx.receive_nowait().unwrap(), 1);
    assert_eq!(rx.receive_nowait().unwrap(), 2);
}

#[anyio::test(timeout = 10)]
async fn item_handed_to_a_dropped_receive_goes_to_the_next_receiver() {
    let (tx, rx) = create_memory_object_stream::<u8>(0);
    let mut first = Box::pin(rx.receive());
    assert!(poll_once(&mut first).await.is_none());
    let mut second = Box::pin(rx.receive());
    assert!(poll_once(&mut second).await.is_none());
    tx.send_nowait(5).unwrap();
    drop(first);
    assert_eq!(poll_once(&mut second).await.unwrap().unwrap(), 5);
}

#[anyio::test(timeout = 10)]
async fn send_future_dropped_before_delivery_withdraws_the_item() {
    let (tx, rx) = create_memory_object_stream::<u8>(0);
    {
        let mut send = Box::pin(tx.send(3));
        assert!(poll_once(&mut send).await.is_none());
        assert_eq!(tx.statistics().tasks_waiting_send, 1);
    }
    assert_eq!(tx.statistics().tasks_waiting_send, 0);
    assert_eq!(
        rx.receive_nowait().unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}

#[anyio::test(timeout = 10)]
async fn send_taken_by_a_receiver_completes_ok() {
    let (tx, rx) = create_memory_object_stream::<u8>(0);
    let mut send = Box::pin(tx.send(3));
    assert!(poll_once(&mut send).await.is_none());
    assert_eq!(rx.receive_nowait().unwrap(), 3);
    assert!(poll_once(&mut send).await.unwrap().is_ok());
}

#[anyio::test(timeout = 10)]
async fn unbounded_stream_never_blocks_a_sender() {
    let (tx, rx) = create_unbounded_memory_object_stream::<usize>();
    for n in 0..10_000 {
        tx.send(n).await.unwrap();
    }
    assert_eq!(rx.statistics().current_buffer_used, 10_000);
    assert_eq!(rx.statistics().max_buffer_size, usize::MAX);
    assert_eq!(rx.receive().await.unwrap(), 0);
}

#[anyio::test(timeout = 10)]
async fn send_error_converts_into_an_anyio_error() {
    async fn forward(tx: &anyio::MemoryObjectSendStream<u8>) -> anyio::Result<()> {
        tx.send(1).await?;
        Ok(())
    }
    let (tx, rx) = create_memory_object_stream::<u8>(0);
    drop(rx);
    let error = forward(&tx).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BrokenResource);
    assert!(error.message().contains("receive end"), "{error}");
}

#[anyio::test(timeout = 10, worker_threads = 2)]
async fn spawned_producers_and_consumers_on_threads_lose_and_duplicate_nothing() {
    let (tx, rx) = create_memory_object_stream::<usize>(4);
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    anyio::task_group!(|tg| {
        for producer in 0..4 {
            let tx = tx.clone();
            tg.spawn(async move {
                for n in 0..250 {
                    tx.send(producer * 1000 + n).await?;
                }
                anyio::Result::Ok(())
            });
        }
        for _ in 0..3 {
            let (rx, seen) = (rx.clone(), seen.clone());
            tg.spawn(async move {
                while let Ok(item) = rx.receive().await {
                    seen.lock().unwrap().push(item);
                }
            });
        }
        drop((tx, rx));
    })
    .unwrap();
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_unstable();
    let expected: Vec<usize> = (0..4)
        .flat_map(|p| (0..250).map(move |n| p * 1000 + n))
        .collect();
    assert_eq!(seen, expected);
}

#[anyio::test(timeout = 10)]
async fn closing_a_receive_end_fails_the_receives_parked_on_it_only() {
    let (tx, rx) = create_memory_object_stream::<u8>(0);
    let other = rx.clone();
    let result = anyio::task_group!(|tg| {
        tg.start_soon(async {
            let error = rx.receive().await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ClosedResource);
        });
        tg.start_soon(async {
            assert_eq!(
                other.receive().await.unwrap(),
                5,
                "the clone still receives"
            );
        });
        wait_all_tasks_blocked().await;
        rx.close();
        wait_all_tasks_blocked().await;
        assert_eq!(rx.statistics().tasks_waiting_receive, 1);
        tx.send(5).await?;
        anyio::Result::Ok(())
    });
    result.unwrap();
}

#[anyio::test(timeout = 10)]
async fn closing_a_send_end_fails_the_sends_parked_on_it_with_their_items() {
    let (tx, rx) = create_memory_object_stream::<String>(0);
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            let error = tx.send("parked".to_owned()).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ClosedResource);
            assert_eq!(error.into_inner(), "parked");
        });
        wait_all_tasks_blocked().await;
        tx.close();
    })
    .unwrap();
    assert_eq!(
        rx.receive_nowait().unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
}

#[anyio::test(timeout = 10)]
async fn rendezvous_stays_a_rendezvous_after_an_item_was_given_back() {
    let (tx, rx) = create_memory_object_stream::<u8>(0);
    let mut receive = Box::pin(rx.receive());
    assert!(poll_once(&mut receive).await.is_none());
    tx.send_nowait(1).unwrap(); // handed to the parked receive
    let mut send = Box::pin(tx.send(2));
    assert!(poll_once(&mut send).await.is_none()); // no receiver: parked
    drop(receive); // item 1 goes back to the (zero-size) buffer
    assert_eq!(rx.receive_nowait().unwrap(), 1);
    // Item 2 was not moved into the buffer: its send still waits for a receiver.
    assert!(poll_once(&mut send).await.is_none());
    assert_eq!(rx.receive_nowait().unwrap(), 2);
    assert!(poll_once(&mut send).await.unwrap().is_ok());
}

#[anyio::test(timeout = 10)]
async fn item_handed_to_an_abandoned_stream_poll_is_reclaimed_by_receive() {
    // `Stream::poll_next` parks in a slot of the end itself (the inherent `next()` does
    // not: see `abandoned_next_leaves_no_waiting_receiver`).
    use futures_lite::StreamExt;
    let (tx, mut rx) = create_memory_object_stream::<u8>(0);
    {
        let mut next = StreamExt::next(&mut rx);
        assert!(poll_once(&mut next).await.is_none()); // parked in the stream's slot
    } // the `next()` future is dropped; the slot stays with `rx`
    tx.send_nowait(1).unwrap(); // handed to that slot
    assert_eq!(
        rx.receive_nowait().unwrap(),
        1,
        "receive_nowait reclaims it"
    );
    {
        let mut next = StreamExt::next(&mut rx);
        assert!(poll_once(&mut next).await.is_none());
    }
    tx.send_nowait(2).unwrap();
    assert_eq!(rx.receive().await.unwrap(), 2, "receive reclaims it too");
    assert_eq!(rx.statistics().tasks_waiting_receive, 0);
}

#[anyio::test(timeout = 10)]
async fn item_handed_to_an_abandoned_stream_poll_survives_dropping_the_end() {
    use futures_lite::StreamExt;
    let (tx, rx) = create_memory_object_stream::<u8>(1);
    let mut first = rx.clone();
    {
        let mut next = StreamExt::next(&mut first);
        assert!(poll_once(&mut next).await.is_none());
    }
    tx.send_nowait(3).unwrap();
    drop(first); // its slot's item goes back to the buffer
    assert_eq!(rx.receive_nowait().unwrap(), 3);
}
