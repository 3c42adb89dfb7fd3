//! Ending a connection without an answer. A handler can only return a response; a reset or a
//! request left unanswered needs the socket itself. Every accepted stream is wrapped in a
//! [`Switchable`] whose switch the request sees (as `ConnectInfo<ConnHandle>`): once thrown, the
//! next read or write fails, hyper drops the connection, and for a reset `SO_LINGER` 0 makes the
//! close an RST instead of a FIN.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

const OPEN: u8 = 0;
const RESET: u8 = 1;
const CLOSE: u8 = 2;

/// The switch of one connection, handed to its requests.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnHandle(Arc<AtomicU8>);

impl ConnHandle {
    /// The connection ends with a TCP RST at its next read or write.
    pub(crate) fn reset(&self) {
        self.0.store(RESET, Ordering::Release);
    }

    /// The connection ends with a FIN at its next read or write, nothing more sent.
    pub(crate) fn close(&self) {
        self.0.store(CLOSE, Ordering::Release);
    }
}

/// A stream whose connection a request can end.
pub(crate) struct Switchable {
    stream: TcpStream,
    switch: ConnHandle,
}

impl Switchable {
    pub(crate) fn new(stream: TcpStream) -> Self {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        Switchable { stream, switch: ConnHandle::default() }
    }

    pub(crate) fn handle(&self) -> ConnHandle {
        self.switch.clone()
    }

    fn thrown(&self) -> Option<io::Error> {
        match self.switch.0.load(Ordering::Acquire) {
            OPEN => None,
            RESET => {
                // Zero linger: close() discards unsent data and sends RST at once, without blocking.
                if let Err(e) = self.stream.set_zero_linger() {
                    tracing::debug!(error = %e, "cannot set SO_LINGER 0");
                }
                Some(io::Error::new(io::ErrorKind::ConnectionReset, "reset by an armed fault"))
            }
            _ => Some(io::Error::new(io::ErrorKind::BrokenPipe, "closed by an armed fault")),
        }
    }
}

impl AsyncRead for Switchable {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.thrown() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Switchable {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if let Some(e) = self.thrown() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.thrown() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    /// No FIN either once thrown: for a reset the close must be the RST alone, or the client
    /// reads a clean end of stream first.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.thrown() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// A stream that exposes its connection's switch.
pub(crate) trait HasSwitch {
    fn switch(&self) -> ConnHandle;
}

impl HasSwitch for Switchable {
    fn switch(&self) -> ConnHandle {
        self.handle()
    }
}

// One impl per listener: axum's blanket impl for `L::Addr` rules out a generic one (the TLS
// listener's is in `tls.rs`, so that this module does not import it).
impl Connected<IncomingStream<'_, ConnectionListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, ConnectionListener>) -> Self {
        stream.io().switch()
    }
}

/// Plain TCP, every connection switchable (and with `TCP_NODELAY`: small requests and small
/// answers, which Nagle's algorithm would hold back).
pub(crate) struct ConnectionListener {
    inner: TcpListener,
}

impl ConnectionListener {
    pub(crate) fn new(inner: TcpListener) -> Self {
        ConnectionListener { inner }
    }
}

impl Listener for ConnectionListener {
    type Io = Switchable;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => return (Switchable::new(stream), addr),
                // Out of file descriptors and the like: back off instead of spinning.
                Err(e) => {
                    tracing::warn!(error = %e, "TCP accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}
