//! Write-behind for the store. After `open` the engine only writes to its
//! store, so one thread owns it: callers queue writes and move on (no disk
//! I/O under the registry lock or on the async runtime), and the thread
//! commits everything queued so far in one transaction. A burst of writes —
//! 100 adds in one JSON-RPC batch, a checkpoint of every active download —
//! costs one commit. Writes keep their order. A crash loses at most the
//! writes queued in the last moment, never claims made before the data:
//! a checkpoint is queued only after its bytes are synced.

use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;

use super::status::Gid;
use super::store::{DownloadRecord, Store, Write};

pub(crate) struct Writer {
    queue: Mutex<Option<mpsc::Sender<Message>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

enum Message {
    Write(Write),
    /// Answered once every write queued before it is committed.
    Flush(tokio::sync::oneshot::Sender<()>),
}

impl Writer {
    pub fn spawn(mut store: Box<dyn Store>) -> Writer {
        let (queue, inbox) = mpsc::channel::<Message>();
        let thread = std::thread::Builder::new()
            .name("haul-store".into())
            .spawn(move || {
                // Until every sender is gone: the engine is dropped or closed.
                while let Ok(first) = inbox.recv() {
                    let mut writes = Vec::new();
                    let mut flushes = Vec::new();
                    for message in std::iter::once(first).chain(inbox.try_iter()) {
                        match message {
                            Message::Write(write) => writes.push(write),
                            Message::Flush(done) => flushes.push(done),
                        }
                    }
                    if !writes.is_empty() {
                        if let Err(e) = store.apply(&writes) {
                            tracing::error!(
                                "cannot record {} changes in the store: {e}",
                                writes.len()
                            );
                        }
                    }
                    for done in flushes {
                        let _ = done.send(());
                    }
                }
            });
        let thread = match thread {
            Ok(thread) => Some(thread),
            Err(e) => {
                tracing::error!("cannot start the store's writer thread: {e}");
                None
            }
        };
        Writer {
            queue: Mutex::new(Some(queue)),
            thread: Mutex::new(thread),
        }
    }

    pub fn save(&self, record: &DownloadRecord) {
        self.send(Message::Write(Write::Save(Box::new(record.clone()))));
    }

    pub fn delete(&self, gid: Gid) {
        self.send(Message::Write(Write::Delete(gid)));
    }

    /// Waits until every write queued so far is committed.
    pub async fn flush(&self) {
        let (done, committed) = tokio::sync::oneshot::channel();
        self.send(Message::Flush(done));
        let _ = committed.await;
    }

    /// Commits what is queued and stops the thread; later writes are dropped.
    pub async fn close(&self) {
        self.flush().await;
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    fn send(&self, message: Message) {
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let sent = queue.as_ref().map(|q| q.send(message).is_ok());
        if sent != Some(true) {
            tracing::warn!("a change arrived after the store was closed; it is not recorded");
        }
    }
}
