use std::io::Result as IoResult;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::connection::Connection;

pub(crate) enum Stream {
    Http(Connection),
}

impl Stream {
    // seatcore: upstream's `Clone` unwrapped `try_clone`, which fails with EMFILE when the
    // descriptors run out: the panic killed the accept thread and closed the listener.
    fn try_clone(&self) -> IoResult<Self> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.try_clone().map(Stream::Http),
        }
    }
}

impl From<Connection> for Stream {
    fn from(tcp_stream: Connection) -> Self {
        Stream::Http(tcp_stream)
    }
}

impl Stream {
    fn peer_addr(&mut self) -> IoResult<Option<SocketAddr>> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.peer_addr(),
        }
    }

    fn shutdown(&mut self, how: Shutdown) -> IoResult<()> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.shutdown(how),
        }
    }

    fn detach(&self) -> IoResult<std::net::TcpStream> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.detach(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> IoResult<usize> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.write(buf),
        }
    }

    fn flush(&mut self) -> IoResult<()> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.flush(),
        }
    }
}

pub struct RefinedTcpStream {
    stream: Stream,
    close_read: bool,
    close_write: bool,
    deadline: Arc<Deadline>,
    // seatcore: set once the connection is handed over (`detach`): neither half shuts the
    // socket down when dropped, as the socket lives on in the handler's hands.
    handed_over: Arc<AtomicBool>,
}

/// seatcore: the instant by which the current read (on the read half) or write (on the write
/// half) must have completed, set by the `ClientConnection`. The socket's timeouts are short,
/// so a blocked read or write wakes up regularly; it is retried until this deadline passes,
/// then fails with `TimedOut`, and no write starts after it. This bounds how long a client
/// may take to send a request, or to take a response, in total, however it trickles its
/// bytes (slowloris).
#[derive(Default)]
pub(crate) struct Deadline(Mutex<Option<Instant>>);

impl Deadline {
    pub(crate) fn set(&self, at: Option<Instant>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    fn passed(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|at| Instant::now() >= at)
    }
}

impl RefinedTcpStream {
    pub(crate) fn new<S>(stream: S) -> IoResult<(RefinedTcpStream, RefinedTcpStream)>
    where
        S: Into<Stream>,
    {
        let stream: Stream = stream.into();

        let (read, write) = (stream.try_clone()?, stream);
        let handed_over = Arc::new(AtomicBool::new(false));

        let read = RefinedTcpStream {
            stream: read,
            close_read: true,
            close_write: false,
            deadline: Arc::new(Deadline::default()),
            handed_over: Arc::clone(&handed_over),
        };

        let write = RefinedTcpStream {
            stream: write,
            close_read: false,
            close_write: true,
            deadline: Arc::new(Deadline::default()),
            handed_over,
        };

        Ok((read, write))
    }

    pub(crate) fn peer_addr(&mut self) -> IoResult<Option<SocketAddr>> {
        self.stream.peer_addr()
    }

    /// seatcore: shuts the connection down for writing: the client reads the end of the
    /// responses, and the connection can still be read.
    pub(crate) fn shutdown_write(&mut self) {
        self.stream.shutdown(Shutdown::Write).ok();
    }

    /// seatcore: the connection's socket, for a handler that takes the connection over
    /// (`Request::hand_over`): blocking, without timeouts, and never shut down by this
    /// library afterwards.
    pub(crate) fn detach(&mut self) -> IoResult<std::net::TcpStream> {
        let socket = self.stream.detach()?;
        self.handed_over.store(true, Ordering::Release);
        Ok(socket)
    }

    /// seatcore: this half's deadline.
    pub(crate) fn deadline(&self) -> Arc<Deadline> {
        Arc::clone(&self.deadline)
    }
}

impl Drop for RefinedTcpStream {
    fn drop(&mut self) {
        if self.handed_over.load(Ordering::Acquire) {
            return;
        }
        if self.close_read {
            self.stream.shutdown(Shutdown::Read).ok();
        }

        if self.close_write {
            self.stream.shutdown(Shutdown::Write).ok();
        }
    }
}

/// seatcore: the error of a read past the deadline.
fn too_slow() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "the client was too slow sending its request",
    )
}

impl Read for RefinedTcpStream {
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        loop {
            // seatcore: a client that keeps sending, a little at a time, is held to the
            // deadline too, not only one that stops.
            if self.deadline.passed() {
                return Err(too_slow());
            }
            match self.stream.read(buf) {
                // seatcore: the socket's read timeout fired; keep waiting until the deadline.
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    if self.deadline.passed() {
                        return Err(too_slow());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }
}

impl Write for RefinedTcpStream {
    fn write(&mut self, buf: &[u8]) -> IoResult<usize> {
        loop {
            // seatcore: as `read`, with the check before each write too, as a client that
            // reads a little at a time makes every write succeed, with a few bytes.
            if self.deadline.passed() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the client was too slow reading the response",
                ));
            }
            match self.stream.write(buf) {
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                other => return other,
            }
        }
    }

    fn flush(&mut self) -> IoResult<()> {
        self.stream.flush()
    }
}
