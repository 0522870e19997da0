//! The threads that serve connections: one single-threaded Tokio runtime
//! each, one per core by default (`--rpc-threads`).
//!
//! A connection lives on one thread for its whole life, so a request is
//! read, answered and written without waking another thread; on a shared
//! multi-threaded runtime, handing each request between idle workers cost
//! about a third of the daemon's CPU per call. The engine keeps its own
//! runtime: a download never runs on these threads, and these threads only
//! touch the engine through its locks.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::mpsc;

/// The serving threads; [`Threads::run`] hands a connection to the least
/// busy one.
pub struct Threads {
    threads: Vec<Thread>,
    handles: Vec<JoinHandle<()>>,
}

struct Thread {
    jobs: mpsc::UnboundedSender<BoxFuture<'static, ()>>,
    /// Connections being served on it.
    load: Arc<AtomicUsize>,
}

impl Threads {
    /// Starts `count` threads (at least one).
    pub fn start(count: usize) -> io::Result<Threads> {
        let mut threads = Vec::new();
        let mut handles = Vec::new();
        for number in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (jobs, mut queue) = mpsc::unbounded_channel::<BoxFuture<'static, ()>>();
            let handle = std::thread::Builder::new()
                .name(format!("haul-rpc-{number}"))
                .spawn(move || {
                    // Ends once the senders are gone; dropping the runtime
                    // then drops the connections still open on it.
                    runtime.block_on(async move {
                        while let Some(job) = queue.recv().await {
                            tokio::spawn(job);
                        }
                    });
                })?;
            threads.push(Thread {
                jobs,
                load: Arc::new(AtomicUsize::new(0)),
            });
            handles.push(handle);
        }
        Ok(Threads { threads, handles })
    }

    /// Runs `connection` on the thread serving the fewest connections. It is
    /// first polled there: register sockets with that thread's runtime inside
    /// it (`TcpStream::from_std`).
    pub fn run(&self, connection: impl Future<Output = ()> + Send + 'static) {
        let thread = self
            .threads
            .iter()
            .min_by_key(|t| t.load.load(Ordering::Relaxed))
            .expect("at least one thread");
        let busy = Busy::new(&thread.load);
        let job = async move {
            connection.await;
            drop(busy);
        };
        // Fails only when the thread is gone, which only `stop` does.
        let _ = thread.jobs.send(job.boxed());
    }

    /// Ends the threads, dropping what still runs on them, and waits for them.
    pub async fn stop(self) {
        let Threads { threads, handles } = self;
        drop(threads);
        let _ = tokio::task::spawn_blocking(move || {
            for handle in handles {
                let _ = handle.join();
            }
        })
        .await;
    }
}

/// Counts one connection on a thread for as long as it lives, even if its
/// task panics or is dropped.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn new(load: &Arc<AtomicUsize>) -> Busy {
        load.fetch_add(1, Ordering::Relaxed);
        Busy(load.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::Threads;
    use std::sync::atomic::Ordering;
    use tokio::sync::{mpsc, watch};

    /// Starts a connection that reports its thread's name and lives until
    /// `open` turns false.
    fn connect(
        threads: &Threads,
        names: &mpsc::UnboundedSender<String>,
        open: &watch::Receiver<bool>,
    ) {
        let (names, mut open) = (names.clone(), open.clone());
        threads.run(async move {
            let name = std::thread::current().name().unwrap_or_default().to_owned();
            let _ = names.send(name);
            let _ = open.wait_for(|open| !*open).await;
        });
    }

    #[tokio::test]
    async fn connections_are_spread_over_the_threads_and_a_closed_one_frees_its_place() {
        let threads = Threads::start(2).unwrap();
        let (names, mut landed) = mpsc::unbounded_channel();
        let (close_first, first) = watch::channel(true);
        let (_keep, rest) = watch::channel(true);
        let mut on = Vec::new();
        connect(&threads, &names, &first);
        on.push(landed.recv().await.unwrap());
        for _ in 0..3 {
            connect(&threads, &names, &rest);
            on.push(landed.recv().await.unwrap());
        }
        let mut sorted = on.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            ["haul-rpc-0", "haul-rpc-0", "haul-rpc-1", "haul-rpc-1"]
        );

        // The first connection ends: its thread is now the less busy one.
        close_first.send(false).unwrap();
        let load = |t: usize| threads.threads[t].load.load(Ordering::Relaxed);
        let counted = async {
            while load(0) + load(1) != 3 {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), counted)
            .await
            .expect("a closed connection stops counting");
        connect(&threads, &names, &rest);
        assert_eq!(landed.recv().await.unwrap(), on[0]);
        threads.stop().await;
    }
}
