//! Chapter "Memory object streams and backpressure".

use std::time::Duration;

use anyio::{ErrorKind, MemoryObjectReceiveStream, MemoryObjectSendStream};

// ANCHOR: producer_consumer
async fn producer(tx: MemoryObjectSendStream<u32>) -> anyio::Result<()> {
    for n in 0..5 {
        tx.send(n).await?; // waits while the buffer is full: backpressure
        println!("  produced {n}");
    }
    Ok(()) // dropping `tx` closes the stream: the consumer sees its end
}

async fn consumer(rx: MemoryObjectReceiveStream<u32>) -> anyio::Result<()> {
    loop {
        match rx.receive().await {
            Ok(n) => {
                anyio::sleep(Duration::from_millis(2)).await; // a slow consumer
                println!("  consumed {n}");
            }
            Err(e) if e.kind() == ErrorKind::EndOfStream => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

async fn pipeline() -> anyio::Result<()> {
    let (tx, rx) = anyio::create_memory_object_stream::<u32>(2);
    anyio::task_group!(|tg| {
        tg.start_soon(producer(tx));
        tg.start_soon(consumer(rx));
    })?;
    Ok(())
}
// ANCHOR_END: producer_consumer

// ANCHOR: fan_in
async fn fan_in() -> anyio::Result<()> {
    let (tx, rx) = anyio::create_memory_object_stream::<String>(8);
    anyio::task_group!(|tg| {
        for sensor in ["north", "south", "east"] {
            let tx = tx.clone(); // each producer owns a clone
            tg.start_soon(async move {
                for reading in 0..2 {
                    tx.send(format!("{sensor}:{reading}")).await?;
                }
                anyio::Result::Ok(())
            });
        }
        drop(tx); // keep no clone here, or the stream would never end
        let mut all = Vec::new();
        while let Some(reading) = rx.next().await {
            all.push(reading);
        }
        println!("  collected {} readings", all.len());
        anyio::Result::Ok(())
    })?;
    Ok(())
}
// ANCHOR_END: fan_in

// ANCHOR: fan_out
async fn fan_out() -> anyio::Result<()> {
    let (tx, rx) = anyio::create_memory_object_stream::<u32>(0);
    let done = std::sync::Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        for worker in 0..3 {
            let (rx, done) = (rx.clone(), &done);
            tg.start_soon(async move {
                // Each job goes to exactly one of the workers.
                while let Ok(job) = rx.receive().await {
                    anyio::sleep(Duration::from_millis(1)).await;
                    done.lock().unwrap().push((worker, job));
                }
            });
        }
        drop(rx);
        for job in 0..9 {
            tx.send(job).await?;
        }
        drop(tx); // no more jobs: the workers' loops end
        anyio::Result::Ok(())
    })?;
    println!(
        "  {} jobs done by 3 workers",
        done.into_inner().unwrap().len()
    );
    Ok(())
}
// ANCHOR_END: fan_out

// ANCHOR: closing
fn closing() {
    let (tx, rx) = anyio::create_memory_object_stream::<&str>(1);
    rx.close(); // nobody will ever receive
    let error = tx.send_nowait("lost?").unwrap_err();
    println!("  {} (the item comes back: {:?})", error, error.item());
}
// ANCHOR_END: closing

#[anyio::main]
async fn main() -> anyio::Result<()> {
    pipeline().await?;
    fan_in().await?;
    fan_out().await?;
    closing();
    Ok(())
}
