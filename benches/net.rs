//! Networking benchmarks over loopback, side by side in one run with tokio and smol:
//! TCP echo (50 connections x 2,000 round trips of 64 bytes) and the connection rate
//! (connect + accept + close), on one thread and on two.
//!
//! Run with `cargo bench --bench net` (add `-- quick` for fewer repetitions). Reports
//! the median time per operation of each contender and anyio's ratio to each peer.

mod harness;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_io::Async;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use harness::{Smol, anyio_runtime, measure, timed};

const CONNECTIONS: usize = 50;
const ROUND_TRIPS: usize = 2_000;
const MESSAGE: usize = 64;
const CHURN: usize = 2_000;

// ---- anyio ----

/// A listener on loopback, and its port.
async fn anyio_listener() -> (anyio::net::TcpListener, u16) {
    use anyio::TypedAttributeProvider;
    let listener = anyio::create_tcp_listener()
        .local_host("127.0.0.1")
        .await
        .unwrap();
    let port = listener.extra::<anyio::net::LocalPort>().unwrap();
    (listener, port)
}

async fn anyio_echo() -> Duration {
    use anyio::abc::{ByteReceiveStream, ByteSendStream, Listener};
    let (mut listener, port) = anyio_listener().await;
    let mut elapsed = Duration::ZERO;
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            // Each connection's handler is spawned, so that worker threads share them.
            anyio::task_group!(|handlers| {
                loop {
                    let mut stream = listener.accept().await?;
                    handlers.spawn(async move {
                        let mut buffer = Vec::with_capacity(MESSAGE);
                        loop {
                            match stream.receive(MESSAGE - buffer.len()).await {
                                Ok(bytes) => buffer.extend(bytes),
                                Err(_) => return,
                            }
                            if buffer.len() == MESSAGE {
                                if stream.send(&buffer).await.is_err() {
                                    return;
                                }
                                buffer.clear();
                            }
                        }
                    });
                }
                #[allow(unreachable_code)]
                anyio::Result::Ok(())
            })
        });
        elapsed = timed(async {
            anyio::task_group!(|clients| {
                for _ in 0..CONNECTIONS {
                    clients.spawn(async move {
                        let mut stream = anyio::connect_tcp("127.0.0.1", port).await?;
                        let message = [7_u8; MESSAGE];
                        for _ in 0..ROUND_TRIPS {
                            stream.send(&message).await?;
                            let mut received = 0;
                            while received < MESSAGE {
                                received += stream.receive(MESSAGE - received).await?.len();
                            }
                        }
                        anyio::Result::Ok(())
                    });
                }
            })
            .unwrap();
        })
        .await;
        tg.cancel();
    })
    .unwrap();
    elapsed
}

async fn anyio_churn() -> Duration {
    use anyio::abc::{AsyncResource, Listener};
    let (mut listener, port) = anyio_listener().await;
    let mut elapsed = Duration::ZERO;
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            loop {
                let Ok(stream) = listener.accept().await else {
                    return;
                };
                drop(stream);
            }
        });
        elapsed = timed(async {
            for _ in 0..CHURN {
                let mut stream = anyio::connect_tcp("127.0.0.1", port).await.unwrap();
                stream.aclose().await.unwrap();
            }
        })
        .await;
        tg.cancel();
    })
    .unwrap();
    elapsed
}

// ---- tokio ----

async fn tokio_echo() -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let mut buffer = [0_u8; MESSAGE];
                while stream.read_exact(&mut buffer).await.is_ok() {
                    if stream.write_all(&buffer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let elapsed = timed(async {
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                tokio::spawn(async move {
                    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let message = [7_u8; MESSAGE];
                    let mut buffer = [0_u8; MESSAGE];
                    for _ in 0..ROUND_TRIPS {
                        stream.write_all(&message).await.unwrap();
                        stream.read_exact(&mut buffer).await.unwrap();
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
    })
    .await;
    server.abort();
    elapsed
}

async fn tokio_churn() -> Duration {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            drop(stream);
        }
    });
    let elapsed = timed(async {
        for _ in 0..CHURN {
            let stream = tokio::net::TcpStream::connect(address).await.unwrap();
            drop(stream);
        }
    })
    .await;
    server.abort();
    elapsed
}

// ---- smol (async-io sockets on an async-executor) ----

fn smol_echo(smol: &Smol) -> Duration {
    let executor = smol.executor.clone();
    smol.block_on(async move {
        let listener = Async::<std::net::TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
        let address: SocketAddr = listener.get_ref().local_addr().unwrap();
        let server_executor = executor.clone();
        let server = executor.spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                stream.get_ref().set_nodelay(true).unwrap();
                server_executor
                    .spawn(async move {
                        let mut buffer = [0_u8; MESSAGE];
                        while stream.read_exact(&mut buffer).await.is_ok() {
                            if stream.write_all(&buffer).await.is_err() {
                                return;
                            }
                        }
                    })
                    .detach();
            }
        });
        let elapsed = timed(async {
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|_| {
                    executor.spawn(async move {
                        let mut stream = Async::<std::net::TcpStream>::connect(address)
                            .await
                            .unwrap();
                        stream.get_ref().set_nodelay(true).unwrap();
                        let message = [7_u8; MESSAGE];
                        let mut buffer = [0_u8; MESSAGE];
                        for _ in 0..ROUND_TRIPS {
                            stream.write_all(&message).await.unwrap();
                            stream.read_exact(&mut buffer).await.unwrap();
                        }
                    })
                })
                .collect();
            for client in clients {
                client.await;
            }
        })
        .await;
        drop(server);
        elapsed
    })
}

fn smol_churn(smol: &Smol) -> Duration {
    let executor = smol.executor.clone();
    smol.block_on(async move {
        let listener = Async::<std::net::TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
        let address: SocketAddr = listener.get_ref().local_addr().unwrap();
        let server = executor.spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                drop(stream);
            }
        });
        let elapsed = timed(async {
            for _ in 0..CHURN {
                let stream = Async::<std::net::TcpStream>::connect(address)
                    .await
                    .unwrap();
                drop(stream);
            }
        })
        .await;
        drop(server);
        elapsed
    })
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let reps = if quick { 3 } else { 7 };
    let echo_ops = CONNECTIONS * ROUND_TRIPS;
    println!(
        "{:<30} {:<10} {:>10} {:>11} {:>10}  anyio/peer",
        "case", "threads", "anyio ns", "peer", "peer ns"
    );
    for (threads, extra) in [("1 thread", 0), ("2 threads", 1)] {
        let rt = anyio_runtime(extra);
        let tokio_rt = match extra {
            0 => tokio::runtime::Builder::new_current_thread(),
            _ => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(2);
                builder
            }
        }
        .enable_all()
        .build()
        .expect("tokio runtime");
        let smol = Arc::new(Smol::new(extra));
        for (case, ops) in [
            ("echo 50x2000x64 B (per trip)", echo_ops),
            ("connect+accept+close", CHURN),
        ] {
            let echo = case.starts_with("echo");
            let anyio_ns = measure(reps, ops, || {
                rt.block_on(async {
                    if echo {
                        anyio_echo().await
                    } else {
                        anyio_churn().await
                    }
                })
            });
            let tokio_ns = measure(reps, ops, || {
                tokio_rt.block_on(async {
                    if echo {
                        tokio_echo().await
                    } else {
                        tokio_churn().await
                    }
                })
            });
            let smol_ns = measure(reps, ops, || {
                if echo {
                    smol_echo(&smol)
                } else {
                    smol_churn(&smol)
                }
            });
            for (peer, peer_ns) in [("tokio", tokio_ns), ("smol", smol_ns)] {
                println!(
                    "{case:<30} {threads:<10} {anyio_ns:>10.0} {peer:>11} {peer_ns:>10.0}  {:>6.2}x",
                    anyio_ns / peer_ns
                );
            }
        }
    }
    println!("(median ns per operation of {reps} runs; ratios below 1 mean anyio is faster)");
}
