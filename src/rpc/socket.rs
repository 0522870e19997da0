//! A connection's stream (TCP or unix) the server can cut from outside: hyper and the WebSocket
//! tasks own the I/O, but [`Killer::kill`] wakes every task waiting on it
//! and fails its reads (EOF) and writes from then on, so a task blocked on a
//! client that stopped reading ends at once and its buffers are freed.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::listen::Stream;

/// The I/O half handed to hyper. It reads and writes through tokio's own
/// stream, so they take its fast paths (no zeroed buffers, no extra read to
/// find a drained socket).
pub struct Socket {
    stream: Stream,
    cut: Arc<Cut>,
}

/// The handle that can cut it.
#[derive(Clone)]
pub struct Killer(Arc<Cut>);

#[derive(Default)]
struct Cut {
    killed: AtomicBool,
    reader: AtomicWaker,
    writer: AtomicWaker,
}

impl Socket {
    pub fn new(stream: Stream) -> (Socket, Killer) {
        let cut = Arc::new(Cut::default());
        (
            Socket {
                stream,
                cut: cut.clone(),
            },
            Killer(cut),
        )
    }

    /// Whether the socket was cut, after `waker` registered to hear of it.
    fn killed(&self, waker: &AtomicWaker, cx: &Context<'_>) -> bool {
        waker.register(cx.waker());
        self.cut.killed.load(Ordering::Acquire)
    }
}

impl Killer {
    /// From now on reads see EOF and writes fail; tasks waiting on either wake.
    pub fn kill(&self) {
        self.0.killed.store(true, Ordering::Release);
        self.0.reader.wake();
        self.0.writer.wake();
    }
}

fn cut() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the daemon cut the connection",
    )
}

impl AsyncRead for Socket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.killed(&self.cut.reader, cx) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.killed(&self.cut.writer, cx) {
            return Poll::Ready(Err(cut()));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.killed(&self.cut.writer, cx) {
            return Poll::Ready(Err(cut()));
        }
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
