use ascii::AsciiString;

use std::io::Error as IoError;
use std::io::Result as IoResult;
use std::io::{self, BufReader, BufWriter, ErrorKind, Read, Write};

use std::net::SocketAddr;
use std::str::FromStr;

use crate::common::{HTTPVersion, Header, Method, StatusCode};
use crate::request::Answer;
use crate::util::{Deadline, RefinedTcpStream};
use crate::util::{SequentialReader, SequentialReaderBuilder};
use crate::{Limits, Request, ResponseBox};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// seatcore: after the response that ends a connection whose client may still be sending
/// (a body left unread), how long the connection's thread reads and throws away what comes
/// before it closes the socket (see `ClientConnection::linger`).
const LINGER: Duration = Duration::from_secs(2);

/// A ClientConnection is an object that will store a socket to a client
/// and return Request objects.
///
/// seatcore: and write their responses, one request at a time (see `serve`).
pub struct ClientConnection {
    // address of the client
    remote_addr: IoResult<Option<SocketAddr>>,

    // sequence of Readers to the stream, so that the data is not read in
    //  the wrong order
    source: SequentialReaderBuilder<BufReader<RefinedTcpStream>>,

    // seatcore: where the responses go, written by this connection's own thread only
    sink: BufWriter<RefinedTcpStream>,

    // seatcore: each request's response comes back to this thread through this channel
    answer: Sender<Answer>,
    answered: Receiver<Answer>,

    // Reader to read the next header from
    next_header_source: SequentialReader<BufReader<RefinedTcpStream>>,

    // set to true if we know that the previous request is the last one
    no_more_requests: bool,

    // seatcore: by when the request being read, and the response being written, must be
    // complete (see `Limits`)
    read_deadline: Arc<Deadline>,
    write_deadline: Arc<Deadline>,
    limits: Limits,

    // seatcore: the server's count of responses not written yet (`Server::responses_in_flight`)
    in_flight: Arc<AtomicUsize>,
}

/// Error that can happen when reading a request.
#[derive(Debug)]
enum ReadError {
    /// seatcore: the request is refused with this status and reason (its head is malformed
    /// or too large, or its framing is ambiguous), and the connection closed.
    Refused(StatusCode, &'static str),
    ReadIoError(IoError),
}

impl ClientConnection {
    /// Creates a new `ClientConnection` that takes ownership of the `TcpStream`.
    pub fn new(
        write_socket: RefinedTcpStream,
        mut read_socket: RefinedTcpStream,
        limits: Limits,
        in_flight: Arc<AtomicUsize>,
    ) -> ClientConnection {
        let remote_addr = read_socket.peer_addr();
        let read_deadline = read_socket.deadline();
        let write_deadline = write_socket.deadline();

        let mut source = SequentialReaderBuilder::new(BufReader::with_capacity(1024, read_socket));
        let first_header = source.next().unwrap();
        let (answer, answered) = mpsc::channel();

        ClientConnection {
            source,
            sink: BufWriter::with_capacity(1024, write_socket),
            answer,
            answered,
            remote_addr,
            next_header_source: first_header,
            no_more_requests: false,
            read_deadline,
            write_deadline,
            limits,
            in_flight,
        }
    }

    /// seatcore: serves the connection until it closes. Each request is read, handed to
    /// `dispatch` (for a thread calling `Server::recv`), and its response, once given, is
    /// written here, within `Limits::write_timeout`; what the handler left of the body is
    /// read to its end, and only then is the next request read. Upstream handed out every
    /// request as soon as it was read: a client pipelining requests without reading the
    /// responses held one handler per request, all waiting to write in turn.
    ///
    /// What is left of a body is read in small pieces, up to `Limits::drain_body_bytes`;
    /// when more is left (known from its `Content-Length`), the response carries
    /// `Connection: close` and the connection closes after it, the rest never read; when
    /// the rest of a chunked body turns out longer, the connection closes too.
    pub(crate) fn serve(mut self, dispatch: impl Fn(Request)) {
        while let Some(rq) = self.next_request() {
            let version = rq.http_version().clone();
            let do_not_send_body = *rq.method() == Method::Head;
            let te: Vec<Header> = rq
                .headers()
                .iter()
                .filter(|h| h.field.equiv("TE"))
                .cloned()
                .collect();
            dispatch(rq);

            let (mut response, body, taken) = match self.answered.recv() {
                // seatcore: the handler takes the connection over
                Ok(Answer {
                    hand_over: Some(take),
                    body,
                    taken,
                    ..
                }) => {
                    drop(body);
                    if taken {
                        self.in_flight.fetch_sub(1, Ordering::Relaxed);
                    }
                    if let Ok(socket) = self.sink.get_mut().detach() {
                        take(socket);
                    }
                    return;
                }
                Ok(Answer {
                    response: Some(response),
                    body,
                    taken,
                    ..
                }) => (response, body, taken),
                // the request was dropped unanswered
                Ok(Answer {
                    response: None,
                    body,
                    taken,
                    ..
                }) => (
                    self.limits.refusal(StatusCode(500), "no response"),
                    body,
                    taken,
                ),
                Err(_) => return,
            };
            let drain = self.limits.drain_body_bytes as u64;
            let unread = body.as_ref().map_or(Some(0), |b| b.unread);
            let too_long = unread.is_some_and(|n| n > drain);
            if too_long {
                response = response.with_connection_close();
            }
            let written = self.write_response(response, version, &te, do_not_send_body);
            if taken {
                self.in_flight.fetch_sub(1, Ordering::Relaxed);
            }
            if written.is_err() {
                return;
            }
            if too_long {
                drop(body);
                self.linger();
                return;
            }
            if let Some(body) = body {
                let drained = io::copy(&mut body.take(drain + 1), &mut io::sink());
                match drained {
                    Ok(n) if n <= drain => {}
                    // longer than it may be: no next request is read
                    Ok(_) => {
                        self.linger();
                        return;
                    }
                    Err(_) => return,
                }
            }
        }
    }

    /// seatcore: ends a connection whose client may still be sending: half-closes it (the
    /// client sees the end of the responses) and reads what comes for at most `LINGER`, or
    /// until the client closes its side, before the socket is closed. Closing a socket with
    /// unread bytes resets the connection, and the client could lose the response it has
    /// not read yet.
    fn linger(&mut self) {
        let until = Instant::now() + LINGER;
        let _ = self.sink.flush();
        self.sink.get_mut().shutdown_write();
        self.read_deadline.set(Some(until));
        let mut buf = [0u8; 8192];
        while Instant::now() < until {
            match self.next_header_source.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }

    /// seatcore: writes a response, completely, within `Limits::write_timeout` from now.
    fn write_response(
        &mut self,
        response: ResponseBox,
        version: HTTPVersion,
        request_headers: &[Header],
        do_not_send_body: bool,
    ) -> IoResult<()> {
        self.write_deadline
            .set(Some(Instant::now() + self.limits.write_timeout));
        response.raw_print(
            &mut self.sink,
            version,
            request_headers,
            do_not_send_body,
            None,
        )?;
        self.sink.flush()
    }

    /// seatcore: answers a request the library refuses by itself; the connection closes.
    fn refuse(&mut self, status: StatusCode, reason: &'static str) {
        let response = self.limits.refusal(status, reason);
        self.write_response(response, HTTPVersion(1, 1), &[], false)
            .ok();
    }

    /// Reads the next line from self.next_header_source.
    ///
    /// Reads until `CRLF` is reached. The next read will start
    ///  at the first byte of the new line.
    ///
    /// seatcore: a bare `LF` ends a line too (RFC 9112 §2.2; upstream waited for a `CRLF`
    ///  until the request timed out). A bare `CR`, another control character than `HTAB`
    ///  or a byte beyond ASCII refuses the request with 400 (upstream closed the connection
    ///  without a response), a line longer than `Limits::max_header_line` with 414 for the
    ///  request line and 431 for a header line.
    fn read_next_line(&mut self, first_line: bool) -> Result<AsciiString, ReadError> {
        let mut buf = Vec::new();
        let mut prev_byte_was_cr = false;

        loop {
            let byte = self.next_header_source.by_ref().bytes().next();

            let byte = match byte {
                Some(b) => b.map_err(ReadError::ReadIoError)?,
                None => {
                    let err = IoError::new(ErrorKind::ConnectionAborted, "Unexpected EOF");
                    return Err(ReadError::ReadIoError(err));
                }
            };
            // seatcore: the request's first byte is here; the rest of its head and its
            // body (when read here, see `request::new_request`) must follow in time.
            if first_line && buf.is_empty() && !prev_byte_was_cr {
                self.read_deadline
                    .set(Some(Instant::now() + self.limits.request_timeout));
            }

            if byte == b'\n' {
                return AsciiString::from_ascii(buf)
                    .map_err(|_| ReadError::Refused(StatusCode(400), "non-ASCII request head"));
            }
            if prev_byte_was_cr {
                return Err(ReadError::Refused(
                    StatusCode(400),
                    "bare CR in the request head",
                ));
            }
            prev_byte_was_cr = byte == b'\r';
            if prev_byte_was_cr {
                continue;
            }
            if !byte.is_ascii() {
                return Err(ReadError::Refused(
                    StatusCode(400),
                    "non-ASCII request head",
                ));
            }
            if byte.is_ascii_control() && byte != b'\t' {
                let info = "control character in the request head";
                return Err(ReadError::Refused(StatusCode(400), info));
            }
            if buf.len() >= self.limits.max_header_line {
                return Err(if first_line {
                    ReadError::Refused(StatusCode(414), "request line too long")
                } else {
                    ReadError::Refused(StatusCode(431), "header line too long")
                });
            }

            buf.push(byte);
        }
    }

    /// Reads a request from the stream.
    /// Blocks until the header has been read.
    fn read(&mut self) -> Result<Request, ReadError> {
        let (method, path, version, headers) = {
            // reading the request line
            let (method, path, version) = {
                // seatcore: an idle keep-alive connection may wait this long for its next request.
                self.read_deadline
                    .set(Some(Instant::now() + self.limits.idle_timeout));
                let line = self.read_next_line(true)?;

                parse_request_line(
                    line.as_str().trim(), // TODO: remove this conversion
                )?
            };

            // seatcore: versions but 1.0 and 1.1 get 505 and the connection closes (upstream
            // answered those above 1.1 and went on reading the connection; it served 0.9).
            if !(HTTPVersion(1, 0)..=HTTPVersion(1, 1)).contains(&version) {
                let info = "only HTTP/1.0 and HTTP/1.1 are supported";
                return Err(ReadError::Refused(StatusCode(505), info));
            }

            // getting all headers
            let headers = {
                let mut headers = Vec::new();
                loop {
                    let line = self.read_next_line(false)?;

                    if line.is_empty() {
                        break;
                    };
                    if headers.len() >= self.limits.max_headers {
                        return Err(ReadError::Refused(StatusCode(431), "too many header lines"));
                    }
                    // seatcore: the line is parsed as sent. Upstream trimmed it first, taking
                    // an obsolete folded line (` X: y`, RFC 9112 §5.2) for a header of its own.
                    headers.push(match Header::from_str(line.as_str()) {
                        Ok(h) if !h.field.as_str().is_empty() => h,
                        _ => {
                            return Err(ReadError::Refused(
                                StatusCode(400),
                                "malformed header line",
                            ))
                        }
                    });
                }

                headers
            };

            (method, path, version, headers)
        };

        // seatcore: the request has arrived: its head is read
        let arrived = Instant::now();

        // follow-up for next potential request
        let mut data_source = self.source.next().unwrap();
        std::mem::swap(&mut self.next_header_source, &mut data_source);

        // seatcore: a `100 Continue` is written here, in time, like a response.
        self.write_deadline
            .set(Some(Instant::now() + self.limits.write_timeout));

        // building the next reader
        let request = crate::request::new_request(
            method,
            path,
            version,
            headers,
            // seatcore: upstream unwrapped this, a panic when the client was already gone
            self.remote_addr.as_ref().ok().copied().flatten(),
            data_source,
            &mut self.sink,
            self.answer.clone(),
            self.limits.prefetch_body_bytes,
            arrived,
            (Arc::clone(&self.read_deadline), self.limits.request_timeout),
        )
        .map_err(|e| {
            use crate::request;
            match e {
                request::RequestCreationError::CreationIoError(e) => ReadError::ReadIoError(e),
                request::RequestCreationError::ExpectationFailed => {
                    ReadError::Refused(StatusCode(417), "only Expect: 100-continue is supported")
                }
                request::RequestCreationError::Refused(status, info) => {
                    ReadError::Refused(status, info)
                }
            }
        })?;

        // return the request
        Ok(request)
    }

    /// Blocks until the next Request is available.
    /// Returns None when no new Requests will come from the client.
    ///
    /// seatcore: upstream's `Iterator::next`; the library's own replies are worded by
    /// `Limits::error_response` (upstream's had no body), and every refusal closes the
    /// connection.
    fn next_request(&mut self) -> Option<Request> {
        // the client sent a "connection: close" header in this previous request
        //  or is using HTTP 1.0, meaning that no new request will come
        if self.no_more_requests {
            return None;
        }

        let rq = match self.read() {
            Err(ReadError::Refused(status, info)) => {
                self.refuse(status, info);
                return None; // we don't know where the next request would start,
                             // se we have to close
            }

            Err(ReadError::ReadIoError(ref err)) if err.kind() == ErrorKind::TimedOut => {
                // request timeout
                self.refuse(StatusCode(408), "request not received in time");
                return None; // closing the connection
            }

            Err(ReadError::ReadIoError(_)) => return None,

            Ok(rq) => rq,
        };

        // updating the status of the connection
        let connection_header = rq
            .headers()
            .iter()
            .find(|h| h.field.equiv("Connection"))
            .map(|h| h.value.as_str());

        let lowercase = connection_header.map(|h| h.to_ascii_lowercase());

        match lowercase {
            Some(ref val) if val.contains("close") => self.no_more_requests = true,
            Some(ref val) if val.contains("upgrade") => self.no_more_requests = true,
            Some(ref val)
                if !val.contains("keep-alive") && *rq.http_version() == HTTPVersion(1, 0) =>
            {
                self.no_more_requests = true
            }
            None if *rq.http_version() == HTTPVersion(1, 0) => self.no_more_requests = true,
            _ => (),
        };

        // returning the request
        Some(rq)
    }
}

/// Parses a "HTTP/1.1" string.
fn parse_http_version(version: &str) -> Result<HTTPVersion, ReadError> {
    let (major, minor) = match version {
        "HTTP/0.9" => (0, 9),
        "HTTP/1.0" => (1, 0),
        "HTTP/1.1" => (1, 1),
        "HTTP/2.0" => (2, 0),
        "HTTP/3.0" => (3, 0),
        _ => {
            return Err(ReadError::Refused(
                StatusCode(400),
                "malformed request line",
            ))
        }
    };

    Ok(HTTPVersion(major, minor))
}

/// Parses the request line of the request.
/// eg. GET / HTTP/1.1
///
/// seatcore: exactly three parts, none empty (upstream read `GET  HTTP/1.1` as a request
/// for `` and ignored anything after the version).
fn parse_request_line(line: &str) -> Result<(Method, String, HTTPVersion), ReadError> {
    let mut parts = line.split(' ');

    let method = parts
        .next()
        .filter(|w| !w.is_empty())
        .and_then(|w| w.parse().ok());
    let path = parts
        .next()
        .filter(|w| !w.is_empty())
        .map(ToOwned::to_owned);
    let version = parts.next().and_then(|w| parse_http_version(w).ok());
    let rest = parts.next();

    method
        .and_then(|method| Some((method, path?, version?)))
        .filter(|_| rest.is_none())
        .ok_or(ReadError::Refused(
            StatusCode(400),
            "malformed request line",
        ))
}

#[cfg(test)]
mod test {
    #[test]
    fn test_parse_request_line() {
        let (method, path, ver) = super::parse_request_line("GET /hello HTTP/1.1").unwrap();

        assert!(method == crate::Method::Get);
        assert!(path == "/hello");
        assert!(ver == crate::common::HTTPVersion(1, 1));

        assert!(super::parse_request_line("GET /hello").is_err());
        assert!(super::parse_request_line("qsd qsd qsd").is_err());
    }
}
