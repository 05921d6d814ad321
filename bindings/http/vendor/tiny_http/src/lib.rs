//! # Simple usage
//!
//! ## Creating the server
//!
//! The easiest way to create a server is to call `Server::http()`.
//!
//! The `http()` function returns an `IoResult<Server>` which will return an error
//! in the case where the server creation fails (for example if the listening port is already
//! occupied).
//!
//! ```no_run
//! let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! ```
//!
//! A newly-created `Server` will immediately start listening for incoming connections and HTTP
//! requests.
//!
//! ## Receiving requests
//!
//! Calling `server.recv()` will block until the next request is available.
//! This function returns an `IoResult<Request>`, so you need to handle the possible errors.
//!
//! ```no_run
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//!
//! loop {
//!     // blocks until the next request is received
//!     let request = match server.recv() {
//!         Ok(rq) => rq,
//!         Err(e) => { println!("error: {}", e); break }
//!     };
//!
//!     // do something with the request
//!     // ...
//! }
//! ```
//!
//! In a real-case scenario, you will probably want to spawn multiple worker tasks and call
//! `server.recv()` on all of them. Like this:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use std::thread;
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! let server = Arc::new(server);
//! let mut guards = Vec::with_capacity(4);
//!
//! for _ in (0 .. 4) {
//!     let server = server.clone();
//!
//!     let guard = thread::spawn(move || {
//!         loop {
//!             let rq = server.recv().unwrap();
//!
//!             // ...
//!         }
//!     });
//!
//!     guards.push(guard);
//! }
//! ```
//!
//! If you don't want to block, you can call `server.try_recv()` instead.
//!
//! ## Handling requests
//!
//! The `Request` object returned by `server.recv()` contains informations about the client's request.
//! The most useful methods are probably `request.method()` and `request.url()` which return
//! the requested method (`GET`, `POST`, etc.) and url.
//!
//! To handle a request, you need to create a `Response` object. See the docs of this object for
//! more infos. Here is an example of creating a `Response` from a file:
//!
//! ```no_run
//! # use std::fs::File;
//! # use std::path::Path;
//! let response = tiny_http::Response::from_file(File::open(&Path::new("image.png")).unwrap());
//! ```
//!
//! All that remains to do is call `request.respond()`:
//!
//! ```no_run
//! # use std::fs::File;
//! # use std::path::Path;
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! # let request = server.recv().unwrap();
//! # let response = tiny_http::Response::from_file(File::open(&Path::new("image.png")).unwrap());
//! let _ = request.respond(response);
//! ```
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![allow(clippy::match_like_matches_macro)]

use std::error::Error;
use std::io::Error as IoError;
use std::io::ErrorKind as IoErrorKind;
use std::io::Result as IoResult;
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use client::ClientConnection;
use connection::Connection;
use util::MessagesQueue;

pub use common::{HTTPVersion, Header, HeaderField, Method, StatusCode};
pub use connection::{ConfigListenAddr, ListenAddr, Listener};
pub use request::Request;
pub use response::{Response, ResponseBox};

mod client;
mod common;
mod connection;
mod request;
mod response;
mod util;

/// The main class of this library.
///
/// Destroying this object will immediately close the listening socket and the reading
///  part of all the client's connections. Requests that have already been returned by
///  the `recv()` function will not close and the responses will be transferred to the client.
pub struct Server {
    // should be false as long as the server exists
    // when set to true, all the subtasks will close within a few hundreds ms
    close: Arc<AtomicBool>,

    // queue for messages received by child threads
    messages: Arc<MessagesQueue<Message>>,

    // result of TcpListener::local_addr()
    listening_addr: ListenAddr,

    // seatcore: requests handed out whose response is not written yet (see
    // `responses_in_flight`)
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

/// seatcore: handles a request on its connection's thread (`Server::http_with_handler`).
pub type Handler = Arc<dyn Fn(Request) + Send + Sync>;

enum Message {
    Error(IoError),
    NewRequest(Request),
}

impl From<IoError> for Message {
    fn from(e: IoError) -> Message {
        Message::Error(e)
    }
}

impl From<Request> for Message {
    fn from(rq: Request) -> Message {
        Message::NewRequest(rq)
    }
}

// this trait is to make sure that Server implements Share and Send
#[doc(hidden)]
#[allow(dead_code)] // seatcore: a compile-time check, which rustc's dead-code lint reports
trait MustBeShareDummy: Sync + Send {}
#[doc(hidden)]
impl MustBeShareDummy for Server {}

pub struct IncomingRequests<'a> {
    server: &'a Server,
}

/// Represents the parameters required to create a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The addresses to try to listen to.
    pub addr: ConfigListenAddr,

    /// seatcore: bounds on what one client connection may cost.
    pub limits: Limits,
}

/// seatcore: what a single connection may hold. Each connection has its own thread (as
/// upstream), which reads its requests and writes their responses, so slow clients cost
/// threads, not workers; these bounds keep that finite.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once; a connection beyond it gets `503` and is closed at once.
    pub max_connections: usize,
    /// How long a keep-alive connection may sit idle before its next request starts.
    pub idle_timeout: Duration,
    /// From a request's first byte, how long the client has to send its head and (when
    /// it is at most `prefetch_body_bytes`) its body. A slower client gets `408`.
    pub request_timeout: Duration,
    /// From the start of a response, how long the connection's thread may take to write all
    /// of it (a client that reads slowly or not at all); then the connection is closed.
    pub write_timeout: Duration,
    /// Bodies up to this size (and as much of a chunked body) are read by the connection's
    /// thread before the request is handed out, so a handler never waits on a slow body.
    pub prefetch_body_bytes: usize,
    /// What a handler leaves unread of a longer body is read and thrown away by the
    /// connection's thread, up to this many bytes, so the connection can serve its next
    /// request. When more is left, the response carries `Connection: close`, the rest is
    /// never read, and the connection closes.
    pub drain_body_bytes: usize,
    /// Longest request line or header line, in bytes.
    pub max_header_line: usize,
    /// Most header lines in one request.
    pub max_headers: usize,
    /// The response the library sends by itself, given its status (400, 408, 414, 417, 431,
    /// 500, 501, 503, 505) and what went wrong, in a few words: the application chooses its
    /// body and headers; the status stays, and `Connection: close` is added.
    pub error_response: fn(StatusCode, &'static str) -> ResponseBox,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            prefetch_body_bytes: 1024 * 1024,
            drain_body_bytes: 1024 * 1024,
            max_header_line: 16 * 1024,
            max_headers: 100,
            error_response: |status, _| Response::empty(status).boxed(),
        }
    }
}

impl Limits {
    /// The response for a request the library refuses by itself.
    fn refusal(&self, status: StatusCode, info: &'static str) -> ResponseBox {
        let response = (self.error_response)(status, info).with_status_code(status);
        response.with_connection_close()
    }
}

/// How often a blocked read or write wakes up to check its connection's deadline.
const WAKEUP: Duration = Duration::from_millis(500);

impl Server {
    /// Shortcut for a simple server on a specific address.
    #[inline]
    pub fn http<A>(addr: A) -> Result<Server, Box<dyn Error + Send + Sync + 'static>>
    where
        A: ToSocketAddrs,
    {
        Server::new(ServerConfig {
            addr: ConfigListenAddr::from_socket_addrs(addr)?,
            limits: Limits::default(),
        })
    }

    /// seatcore: a plain HTTP server with the given connection limits whose requests are
    /// handled by `handler`, each on its connection's thread as soon as it is read (counted
    /// in `responses_in_flight` until its response is written), never queued for `recv`.
    pub fn http_with_handler<A>(
        addr: A,
        limits: Limits,
        handler: Handler,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>>
    where
        A: ToSocketAddrs,
    {
        let listener = ConfigListenAddr::from_socket_addrs(addr)?.bind()?;
        Self::start(listener, limits, Some(handler))
    }

    #[cfg(unix)]
    #[inline]
    /// Shortcut for a UNIX socket server at a specific path
    pub fn http_unix(
        path: &std::path::Path,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Server::new(ServerConfig {
            addr: ConfigListenAddr::unix_from_path(path),
            limits: Limits::default(),
        })
    }

    /// Builds a new server that listens on the specified address.
    pub fn new(config: ServerConfig) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        let listener = config.addr.bind()?;
        Self::from_listener_with_limits(listener, config.limits)
    }

    /// Builds a new server using the specified TCP listener.
    ///
    /// This is useful if you've constructed TcpListener using some less usual method
    /// such as from systemd. For other cases, you probably want the `new()` function.
    pub fn from_listener<L: Into<Listener>>(
        listener: L,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Self::from_listener_with_limits(listener, Limits::default())
    }

    /// seatcore: `from_listener` with connection limits.
    pub fn from_listener_with_limits<L: Into<Listener>>(
        listener: L,
        limits: Limits,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Self::start(listener, limits, None)
    }

    /// seatcore: starts the accept thread; each connection's requests go to `handler` on
    /// the connection's thread, or without one to the queue `recv` takes them from.
    fn start<L: Into<Listener>>(
        listener: L,
        limits: Limits,
        handler: Option<Handler>,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        let listener = listener.into();
        let open_connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let inside_in_flight = Arc::clone(&in_flight);
        // building the "close" variable
        let close_trigger = Arc::new(AtomicBool::new(false));

        // building the TcpListener
        let (server, local_addr) = {
            let local_addr = listener.local_addr()?;
            log::debug!("Server listening on {}", local_addr);
            (listener, local_addr)
        };

        // creating a task where server.accept() is continuously called
        // and ClientConnection objects are pushed in the messages queue
        let messages = MessagesQueue::with_capacity(8);

        let inside_close_trigger = close_trigger.clone();
        let inside_messages = messages.clone();
        thread::spawn(move || {
            // a tasks pool is used to dispatch the connections into threads
            let tasks_pool = util::TaskPool::new();

            log::debug!("Running accept thread");
            while !inside_close_trigger.load(Relaxed) {
                let new_client = match server.accept() {
                    Ok((sock, _)) => {
                        use util::RefinedTcpStream;
                        // seatcore: over the cap, answer 503 and close instead of taking a
                        // thread. One write, on a fresh socket, given up after `WAKEUP`.
                        if open_connections.load(Relaxed) >= limits.max_connections {
                            let mut reply = Vec::new();
                            let response = limits.refusal(StatusCode(503), "too many connections");
                            let _ =
                                response.raw_print(&mut reply, HTTPVersion(1, 1), &[], false, None);
                            let mut sock = sock;
                            let _ = sock.set_timeouts(None, Some(WAKEUP));
                            let _ = std::io::Write::write_all(&mut sock, &reply);
                            let _ = sock.shutdown(Shutdown::Write);
                            continue;
                        }
                        if sock.set_timeouts(Some(WAKEUP), Some(WAKEUP)).is_err() {
                            continue;
                        }
                        // seatcore: without it, only slower (see `set_nodelay`).
                        let _ = sock.set_nodelay();
                        let halves = RefinedTcpStream::new(sock);
                        // seatcore: no descriptor for the second half: drop this client
                        // (the socket closes) and keep listening.
                        let (read_closable, write_closable) = match halves {
                            Ok(h) => h,
                            Err(e) => {
                                log::error!("Error setting up a new client: {}", e);
                                thread::sleep(Duration::from_millis(20));
                                continue;
                            }
                        };

                        Ok(ClientConnection::new(
                            write_closable,
                            read_closable,
                            limits,
                            Arc::clone(&inside_in_flight),
                        ))
                    }
                    Err(e) => Err(e),
                };

                match new_client {
                    Ok(client) => {
                        let messages = inside_messages.clone();
                        let handler = handler.clone();
                        let in_flight = Arc::clone(&inside_in_flight);
                        let mut client = Some(client);
                        // seatcore: counts the connection until its task ends (or is dropped).
                        struct Open(Arc<std::sync::atomic::AtomicUsize>);
                        impl Drop for Open {
                            fn drop(&mut self) {
                                self.0.fetch_sub(1, Relaxed);
                            }
                        }
                        open_connections.fetch_add(1, Relaxed);
                        let mut open = Some(Open(Arc::clone(&open_connections)));
                        tasks_pool.spawn(Box::new(move || {
                            let _open = open.take();
                            if let Some(client) = client.take() {
                                match &handler {
                                    Some(handle) => {
                                        client.serve(|rq| handle(hand_out(&in_flight, rq)))
                                    }
                                    None => client.serve(|rq| messages.push(rq.into())),
                                }
                            }
                        }));
                    }

                    // seatcore: upstream ended the accept loop on any error, so one EMFILE
                    // (descriptors exhausted) or ECONNABORTED silenced the server for good
                    // while the process lived on. Pause briefly (descriptors may come back;
                    // the kernel keeps new connections in the backlog) and go on.
                    Err(e) => {
                        log::error!("Error accepting new client: {}", e);
                        thread::sleep(Duration::from_millis(20));
                    }
                }
            }
            log::debug!("Terminating accept thread");
        });

        // result
        Ok(Server {
            messages,
            close: close_trigger,
            listening_addr: local_addr,
            in_flight,
        })
    }

    /// Returns an iterator for all the incoming requests.
    ///
    /// The iterator will return `None` if the server socket is shutdown.
    #[inline]
    pub fn incoming_requests(&self) -> IncomingRequests<'_> {
        IncomingRequests { server: self }
    }

    /// Returns the address the server is listening to.
    #[inline]
    pub fn server_addr(&self) -> ListenAddr {
        self.listening_addr.clone()
    }

    /// Returns the number of clients currently connected to the server.
    pub fn num_connections(&self) -> usize {
        unimplemented!()
        //self.requests_receiver.lock().len()
    }

    /// seatcore: how many requests handed out (by `recv`, `recv_timeout`, `try_recv`, or to
    /// the `Handler`) have a response that is not written yet: not given to `respond`, or
    /// given and not yet written to the connection completely (nor given up). A server that
    /// stops waits for it to reach 0 before it exits, or the last responses are lost.
    pub fn responses_in_flight(&self) -> usize {
        self.in_flight.load(Relaxed)
    }

    fn hand_out(&self, rq: Request) -> Request {
        hand_out(&self.in_flight, rq)
    }

    /// Blocks until an HTTP request has been submitted and returns it.
    pub fn recv(&self) -> IoResult<Request> {
        match self.messages.pop() {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(self.hand_out(rq)),
            None => Err(IoError::new(IoErrorKind::Other, "thread unblocked")),
        }
    }

    /// Same as `recv()` but doesn't block longer than timeout
    pub fn recv_timeout(&self, timeout: Duration) -> IoResult<Option<Request>> {
        match self.messages.pop_timeout(timeout) {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(Some(self.hand_out(rq))),
            None => Ok(None),
        }
    }

    /// Same as `recv()` but doesn't block.
    pub fn try_recv(&self) -> IoResult<Option<Request>> {
        match self.messages.try_pop() {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(Some(self.hand_out(rq))),
            None => Ok(None),
        }
    }

    /// Unblock thread stuck in recv() or incoming_requests().
    /// If there are several such threads, only one is unblocked.
    /// This method allows graceful shutdown of server.
    pub fn unblock(&self) {
        self.messages.unblock();
    }
}

/// seatcore: counts a request handed out (to `recv` or a `Handler`), until its connection's
/// thread has written its response.
fn hand_out(in_flight: &std::sync::atomic::AtomicUsize, mut rq: Request) -> Request {
    rq.taken = true;
    in_flight.fetch_add(1, Relaxed);
    rq
}

impl Iterator for IncomingRequests<'_> {
    type Item = Request;
    fn next(&mut self) -> Option<Request> {
        self.server.recv().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.close.store(true, Relaxed);
        // Connect briefly to ourselves to unblock the accept thread
        let maybe_stream = match &self.listening_addr {
            ListenAddr::IP(addr) => TcpStream::connect(addr).map(Connection::from),
            #[cfg(unix)]
            ListenAddr::Unix(addr) => {
                // TODO: use connect_addr when its stabilized.
                let path = addr.as_pathname().unwrap();
                std::os::unix::net::UnixStream::connect(path).map(Connection::from)
            }
        };
        if let Ok(stream) = maybe_stream {
            let _ = stream.shutdown(Shutdown::Both);
        }

        #[cfg(unix)]
        if let ListenAddr::Unix(addr) = &self.listening_addr {
            if let Some(path) = addr.as_pathname() {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::mpsc;

    /// seatcore: every accepted TCP connection has Nagle's algorithm off, as seen on the
    /// socket a handler takes over (the accepted socket itself).
    #[test]
    fn accepted_connections_send_without_nagle_delay() {
        let server = crate::Server::http("127.0.0.1:0").unwrap();
        let addr = server.server_addr().to_ip().unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let rq = server.recv().unwrap();
        let (tx, rx) = mpsc::channel();
        rq.hand_over(move |s| tx.send(s.nodelay().unwrap()).unwrap())
            .unwrap();
        assert!(rx.recv().unwrap(), "TCP_NODELAY on the accepted socket");
    }
}
