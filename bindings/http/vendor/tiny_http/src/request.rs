use std::io::Error as IoError;
use std::io::{self, Cursor, ErrorKind, Read, Write};

use std::fmt;
use std::net::SocketAddr;

use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::util::{Deadline, EqualReader, FusedReader};
use crate::{HTTPVersion, Header, Method, Response, ResponseBox, StatusCode};
use chunked_transfer::Decoder;

/// Represents an HTTP request made by a client.
///
/// A `Request` object is what is produced by the server, and is your what
/// your code must analyse and answer.
///
/// This object implements the `Send` trait, therefore you can dispatch your requests to
/// worker threads.
///
/// # Pipelining
///
/// seatcore: a connection has at most one `Request` out at a time. Its own thread reads a
/// request, waits for the response, writes it, and only then reads the client's next request;
/// pipelined requests wait in the socket, and one connection never holds more than one of the
/// threads that call `recv()`.
///
/// # Automatic cleanup
///
/// If a `Request` object is destroyed without `respond` being called,
/// a response with a 500 status code (internal server error, worded by
/// `Limits::error_response`) will automatically be sent back to the client.
/// This means that if your code fails during the handling of a request, this "internal server
/// error" response will automatically be sent during the stack unwinding.
///
pub struct Request {
    // where to read the body from
    data_reader: Option<Body>,

    // seatcore: where the response goes (the connection's own thread writes it); `None`
    // once the request has been answered
    answer: Option<Sender<Answer>>,

    remote_addr: Option<SocketAddr>,

    method: Method,

    path: String,

    http_version: HTTPVersion,

    headers: Vec<Header>,

    body_length: Option<usize>,

    // seatcore: when its head was read, and when it was handed out (see `arrived`, `queued`)
    arrived: Instant,
    queued: Instant,

    // seatcore: handed out by `Server::recv` (counted in `Server::responses_in_flight`)
    pub(crate) taken: bool,
}

/// seatcore: a request's body, and how much of it the connection's thread has not read from
/// the socket yet.
pub(crate) struct Body {
    reader: Box<dyn Read + Send + 'static>,
    /// Bytes of the body still on the socket: `Some(0)` when it was read ahead (or there is
    /// none), `None` when it is not known (the rest of a long chunked body).
    pub(crate) unread: Option<u64>,
    /// For a body the handler reads from the socket: the connection's read deadline, set
    /// to this long from the handler's first read (the request may have waited for a
    /// handler past the deadline of its first byte, while the client could not send on).
    rearm: Option<(Arc<Deadline>, Duration)>,
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((deadline, within)) = self.rearm.take() {
            deadline.set(Some(Instant::now() + within));
        }
        let n = self.reader.read(buf)?;
        if let Some(unread) = &mut self.unread {
            *unread = unread.saturating_sub(n as u64);
        }
        Ok(n)
    }
}

/// seatcore: what a `Request` hands back to its connection's thread: the response (`None`
/// when the request was dropped unanswered) and what is left of the request's body, which
/// that thread reads to its end before it reads the next request.
pub(crate) struct Answer {
    pub(crate) response: Option<ResponseBox>,
    pub(crate) body: Option<Body>,
    /// The request was counted in `Server::responses_in_flight`.
    pub(crate) taken: bool,
    /// Instead of a response: the handler takes the connection's socket (`hand_over`).
    pub(crate) hand_over: Option<HandOver>,
}

/// seatcore: what takes a connection's socket over (`Request::hand_over`).
pub(crate) type HandOver = Box<dyn FnOnce(std::net::TcpStream) + Send>;

/// Error that can happen when building a `Request` object.
#[derive(Debug)]
pub enum RequestCreationError {
    /// The client sent an `Expect` header that was not recognized by tiny-http.
    ExpectationFailed,

    /// Error while reading data from the socket during the creation of the `Request`.
    CreationIoError(IoError),

    /// seatcore: the request's framing is invalid or unsupported (RFC 9112 §6.3): answer
    /// with this status and close the connection.
    Refused(StatusCode, &'static str),
}

impl From<IoError> for RequestCreationError {
    fn from(err: IoError) -> RequestCreationError {
        RequestCreationError::CreationIoError(err)
    }
}

/// Builds a new request.
///
/// After the request line and headers have been read from the socket, a new `Request` object
/// is built.
///
/// You must pass a `Read` that will allow the `Request` object to read from the incoming data.
/// It is the responsibility of the `Request` to read only the data of the request and not further.
///
/// seatcore: `interim` receives the `100 Continue` an `Expect: 100-continue` asks for, at once;
/// `answer` takes the response back to the connection's thread (see `Answer`); `arrived` is
/// when the head was read.
#[allow(clippy::too_many_arguments)]
pub fn new_request<R>(
    method: Method,
    path: String,
    version: HTTPVersion,
    headers: Vec<Header>,
    remote_addr: Option<SocketAddr>,
    mut source_data: R,
    interim: &mut dyn Write,
    answer: Sender<Answer>,
    prefetch_body_bytes: usize,
    arrived: Instant,
    read_deadline: (Arc<Deadline>, Duration),
) -> Result<Request, RequestCreationError>
where
    R: Read + Send + 'static,
{
    // seatcore: the body's framing as RFC 9112 §6.3 has it. Anything ambiguous is refused
    // and the connection closed, so that no request can hide in another's body (request
    // smuggling). Upstream read the body as chunked whenever a Transfer-Encoding was given,
    // whatever its value and whatever Content-Length said, and took the first
    // Content-Length as given (`+2` accepted, an overflow read as none).
    let has_transfer_encoding = headers.iter().any(|h| h.field.equiv("Transfer-Encoding"));
    if has_transfer_encoding && headers.iter().any(|h| h.field.equiv("Content-Length")) {
        return Err(RequestCreationError::Refused(
            StatusCode(400),
            "Content-Length and Transfer-Encoding must not be used together",
        ));
    }
    let chunked = has_transfer_encoding && is_chunked(&headers, &version)?;
    let content_length = content_length(&headers)?;

    // true if the client sent a `Expect: 100-continue` header
    let expects_continue = {
        match headers
            .iter()
            .find(|h: &&Header| h.field.equiv("Expect"))
            .map(|h| h.value.as_str())
        {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("100-continue") => true,
            _ => return Err(RequestCreationError::ExpectationFailed),
        }
    };

    // seatcore: upstream sent `100 Continue` when the handler first read the body, through
    // the response writer. Here the connection's thread sends it at once (RFC 9110 §10.1.1
    // allows it) and then reads the body like any other; HTTP/1.0 clients get none.
    if expects_continue && version >= (1, 1) && (chunked || content_length.unwrap_or(0) > 0) {
        interim.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        interim.flush()?;
    }

    // we wrap `source_data` around a reading whose nature depends on the transfer-encoding and
    // content-length headers
    // seatcore: with the number of bytes left on the socket (see `Body`)
    let (reader, unread) = if let Some(content_length) = content_length {
        if content_length == 0 {
            (
                Box::new(io::empty()) as Box<dyn Read + Send + 'static>,
                Some(0),
            )
        } else if content_length <= prefetch_body_bytes {
            // seatcore: upstream read bodies up to 1 KiB here, in the connection's own
            // thread; larger ones were read by whoever handled the request, so a client
            // trickling its body tied up a worker. Bodies up to `Limits::prefetch_body_bytes`
            // are now read here, under the connection's request deadline.
            // if the content-length is small enough, we just read everything into a buffer

            let mut buffer = vec![0; content_length];
            let mut offset = 0;

            while offset != content_length {
                let read = source_data.read(&mut buffer[offset..])?;
                if read == 0 {
                    // the socket returned EOF, but we were before the expected content-length
                    // aborting
                    let info = "Connection has been closed before we received enough data";
                    let err = IoError::new(ErrorKind::ConnectionAborted, info);
                    return Err(RequestCreationError::CreationIoError(err));
                }

                offset += read;
            }

            (
                Box::new(Cursor::new(buffer)) as Box<dyn Read + Send + 'static>,
                Some(0),
            )
        } else {
            let data_reader = EqualReader::new(source_data, content_length);
            (
                Box::new(FusedReader::new(data_reader)) as Box<dyn Read + Send + 'static>,
                Some(content_length as u64),
            )
        }
    } else if chunked {
        // seatcore: the first `prefetch_body_bytes` of a chunked body are read here too,
        // under the request deadline; whoever handles the request reads the rest, if any.
        let mut decoder = FusedReader::new(Decoder::new(source_data));
        let mut buffer = Vec::new();
        let limit = prefetch_body_bytes as u64 + 1;
        if let Err(e) = decoder.by_ref().take(limit).read_to_end(&mut buffer) {
            return Err(match e.kind() {
                ErrorKind::InvalidInput => {
                    RequestCreationError::Refused(StatusCode(400), "malformed chunked body")
                }
                _ => RequestCreationError::CreationIoError(e),
            });
        }
        if buffer.len() <= prefetch_body_bytes {
            (
                Box::new(Cursor::new(buffer)) as Box<dyn Read + Send + 'static>,
                Some(0),
            )
        } else {
            (
                Box::new(Cursor::new(buffer).chain(decoder)) as Box<dyn Read + Send + 'static>,
                None,
            )
        }
    } else {
        // if we have neither a Content-Length nor a Transfer-Encoding,
        // assuming that we have no data
        // TODO: could also be multipart/byteranges
        (
            Box::new(io::empty()) as Box<dyn Read + Send + 'static>,
            Some(0),
        )
    };

    Ok(Request {
        data_reader: Some(Body {
            reader,
            rearm: (unread != Some(0)).then_some(read_deadline),
            unread,
        }),
        answer: Some(answer),
        remote_addr,
        method,
        path,
        http_version: version,
        headers,
        body_length: content_length,
        arrived,
        queued: Instant::now(),
        taken: false,
    })
}

/// seatcore: whether a request with a `Transfer-Encoding` has a chunked body. Only `chunked`
/// alone is understood (RFC 9112 §6.1): a body whose last coding is not `chunked` has no
/// known end (400); other codings are not implemented (501); HTTP/1.0 has no transfer
/// codings (400).
fn is_chunked(headers: &[Header], version: &HTTPVersion) -> Result<bool, RequestCreationError> {
    if *version < (1, 1) {
        let info = "Transfer-Encoding is not HTTP/1.0";
        return Err(RequestCreationError::Refused(StatusCode(400), info));
    }
    let codings: Vec<&str> = headers
        .iter()
        .filter(|h| h.field.equiv("Transfer-Encoding"))
        .flat_map(|h| h.value.as_str().split(','))
        .map(|c| c.trim_matches(|c| c == ' ' || c == '\t'))
        .collect();
    match codings.as_slice() {
        [only] if only.eq_ignore_ascii_case("chunked") => Ok(true),
        [.., last] if !last.eq_ignore_ascii_case("chunked") => {
            let info = "chunked must be the last transfer coding";
            Err(RequestCreationError::Refused(StatusCode(400), info))
        }
        _ => {
            let info = "only the chunked transfer coding is supported";
            Err(RequestCreationError::Refused(StatusCode(501), info))
        }
    }
}

/// seatcore: the body length the `Content-Length` headers give, if any. Every value, of
/// repeated headers and of comma-separated lists alike, must be the same plain decimal
/// number (RFC 9110 §8.6: digits only, no sign, within `usize`).
fn content_length(headers: &[Header]) -> Result<Option<usize>, RequestCreationError> {
    let mut length = None;
    let values = headers
        .iter()
        .filter(|h| h.field.equiv("Content-Length"))
        .flat_map(|h| h.value.as_str().split(','))
        .map(|v| v.trim_matches(|c| c == ' ' || c == '\t'));
    for value in values {
        let n = if value.bytes().all(|b| b.is_ascii_digit()) {
            value.parse::<usize>().ok()
        } else {
            None
        };
        match (n, length) {
            (None, _) => {
                let info = "Content-Length must be a decimal number of bytes";
                return Err(RequestCreationError::Refused(StatusCode(400), info));
            }
            (Some(n), Some(l)) if n != l => {
                let info = "Content-Length values differ";
                return Err(RequestCreationError::Refused(StatusCode(400), info));
            }
            (Some(n), _) => length = Some(n),
        }
    }
    Ok(length)
}

impl Request {
    /// Returns the method requested by the client (eg. `GET`, `POST`, etc.).
    #[inline]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Returns the resource requested by the client.
    #[inline]
    pub fn url(&self) -> &str {
        &self.path
    }

    /// Returns a list of all headers sent by the client.
    #[inline]
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Returns the HTTP version of the request.
    #[inline]
    pub fn http_version(&self) -> &HTTPVersion {
        &self.http_version
    }

    /// Returns the length of the body in bytes.
    ///
    /// Returns `None` if the length is unknown.
    #[inline]
    pub fn body_length(&self) -> Option<usize> {
        self.body_length
    }

    /// seatcore: when the request arrived: the instant its head had been read. What the
    /// client waits for runs from here: the rest of the body read ahead, the time in the
    /// queue of `Server::recv`, the handler.
    #[inline]
    pub fn arrived(&self) -> Instant {
        self.arrived
    }

    /// seatcore: when the request was queued for `Server::recv`: its head and the part of
    /// its body the connection's thread reads ahead (`Limits::prefetch_body_bytes`) had been
    /// read. Its time in the queue runs from here.
    #[inline]
    pub fn queued(&self) -> Instant {
        self.queued
    }

    /// Returns the address of the client that sent this request.
    ///
    /// The address is always `Some` for TCP listeners, but always `None` for UNIX listeners
    /// (as the remote address of a UNIX client is almost always unnamed).
    ///
    /// Note that this is gathered from the socket. If you receive the request from a proxy,
    /// this function will return the address of the proxy and not the address of the actual
    /// user.
    #[inline]
    pub fn remote_addr(&self) -> Option<&SocketAddr> {
        self.remote_addr.as_ref()
    }

    /// Allows to read the body of the request.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # extern crate rustc_serialize;
    /// # extern crate tiny_http;
    /// # use rustc_serialize::json::Json;
    /// # use std::io::Read;
    /// # fn get_content_type(_: &tiny_http::Request) -> &'static str { "" }
    /// # fn main() {
    /// # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
    /// let mut request = server.recv().unwrap();
    ///
    /// if get_content_type(&request) == "application/json" {
    ///     let mut content = String::new();
    ///     request.as_reader().read_to_string(&mut content).unwrap();
    ///     let json: Json = content.parse().unwrap();
    /// }
    /// # }
    /// ```
    ///
    /// seatcore: a client that sent `Expect: 100-continue` has had its `100 Continue` when the
    ///  request was read.
    #[inline]
    pub fn as_reader(&mut self) -> &mut dyn Read {
        self.data_reader.as_mut().unwrap()
    }

    /// Sends a response to this request.
    ///
    /// seatcore: the response goes to the connection's own thread, which writes it (within
    /// `Limits::write_timeout`, or the connection is closed) and only then reads the
    /// client's next request; this returns at once, so a client that does not read costs
    /// its own connection's thread, never the caller. An error means that the connection
    /// is already closed.
    #[inline]
    pub fn respond<R>(mut self, response: Response<R>) -> Result<(), IoError>
    where
        R: Read + Send + 'static,
    {
        self.respond_impl(Some(response.boxed()))
    }

    /// seatcore: instead of a response, the connection's socket goes to `take`, which
    /// writes whatever it likes for as long as it likes (seatcore-server's event streams,
    /// served by an event loop of their own). `take` runs on the connection's thread, once
    /// any previous response is written, with the socket in blocking mode without timeouts;
    /// the library then forgets the connection (it no longer counts towards
    /// `Limits::max_connections`) and never reads from or shuts down the socket again.
    /// Bytes the client sent after this request's head and body (pipelined requests) are
    /// dropped. A Unix-socket connection is closed instead, and `take` is not called. An
    /// error means that the connection is already closed.
    pub fn hand_over<F>(mut self, take: F) -> Result<(), IoError>
    where
        F: FnOnce(std::net::TcpStream) + Send + 'static,
    {
        self.answer_with(None, Some(Box::new(take)))
    }

    fn respond_impl(&mut self, response: Option<ResponseBox>) -> Result<(), IoError> {
        self.answer_with(response, None)
    }

    fn answer_with(
        &mut self,
        response: Option<ResponseBox>,
        hand_over: Option<HandOver>,
    ) -> Result<(), IoError> {
        let answer = Answer {
            response,
            body: self.data_reader.take(),
            taken: self.taken,
            hand_over,
        };
        match self.answer.take() {
            Some(sender) => sender
                .send(answer)
                .map_err(|_| IoError::new(ErrorKind::BrokenPipe, "the connection is closed")),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> Result<(), fmt::Error> {
        write!(
            formatter,
            "Request({} {} from {:?})",
            self.method, self.path, self.remote_addr
        )
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if self.answer.is_some() {
            let _ = self.respond_impl(None); // the connection's thread answers 500
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Request;

    #[test]
    fn must_be_send() {
        #![allow(dead_code)]
        fn f<T: Send>(_: &T) {}
        fn bar(rq: &Request) {
            f(rq);
        }
    }
}
