//! A crawler-style fan-out: every page links to more pages, each found page is fetched
//! in a task of its own, and a `CapacityLimiter` keeps at most 4 fetches in flight.
//! The "network" is simulated (no sockets): a page's links and latency come from its
//! name.
//!
//! Run it with `cargo run --example crawler`.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyio::{CapacityLimiter, TaskGroup};

/// The links on a page: pages 0..40 form a small site.
fn links_of(page: u32) -> Vec<u32> {
    [page * 2 + 1, page * 2 + 2, page / 3]
        .into_iter()
        .filter(|&p| p < 40)
        .collect()
}

/// Pretends to download a page: 1 to 4 ms.
async fn fetch(page: u32) -> Vec<u32> {
    anyio::sleep(Duration::from_millis(1 + u64::from(page % 4))).await;
    links_of(page)
}

struct Crawler {
    limiter: CapacityLimiter,
    seen: Mutex<HashSet<u32>>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl Crawler {
    /// Fetches `page` (waiting for a token), then starts a task for each new link in
    /// the same group: the group ends when the whole site was crawled. (Boxed, as a
    /// recursive async function must be.)
    fn crawl<'a>(&'a self, tg: &'a TaskGroup<'a>, page: u32) -> Crawl<'a> {
        Box::pin(async move {
            let links = {
                let _token = self.limiter.acquire().await?;
                let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                self.peak.fetch_max(now, Ordering::SeqCst);
                let links = fetch(page).await;
                self.in_flight.fetch_sub(1, Ordering::SeqCst);
                links
            };
            for link in links {
                if self.seen.lock().unwrap().insert(link) {
                    tg.start_soon(self.crawl(tg, link));
                }
            }
            Ok(())
        })
    }
}

type Crawl<'a> = Pin<Box<dyn Future<Output = anyio::Result<()>> + Send + 'a>>;

#[anyio::main]
async fn main() -> anyio::Result<()> {
    let crawler = Crawler {
        limiter: CapacityLimiter::new(4),
        seen: Mutex::new(HashSet::from([0])),
        in_flight: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
    };
    let group = TaskGroup::new();
    let tg = &group;
    group
        .run(async {
            tg.start_soon(crawler.crawl(tg, 0));
        })
        .await?;
    let seen = crawler.seen.lock().unwrap().len();
    println!(
        "crawled {seen} pages with at most {} fetches at once (limit {})",
        crawler.peak.load(Ordering::SeqCst),
        crawler.limiter.total_tokens()
    );
    assert!(crawler.peak.load(Ordering::SeqCst) <= 4);
    Ok(())
}
