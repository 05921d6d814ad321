//! What the router answers: a status, extra headers and a body, with no tiny_http types.

use std::io::Read;

use seatcore::contract;
use serde_json::Value;

/// A response body.
pub enum Payload {
    /// A JSON document, already serialized.
    Json(Vec<u8>),
    /// JSON produced while it is sent (large seat maps); the length is unknown.
    JsonStream(Box<dyn Read + Send>),
    /// Server-sent events, produced as they happen, until the stream ends: the connection
    /// goes to the event loop.
    EventStream(crate::events::Opening),
    Html(&'static str),
    /// Prometheus text exposition format.
    Metrics(String),
    Empty,
}

/// A handler's answer.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub payload: Payload,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: u16, value: &Value) -> Reply {
        // Serializing a `Value` cannot fail.
        let bytes = serde_json::to_vec(value).unwrap_or_default();
        Reply { status, headers: Vec::new(), payload: Payload::Json(bytes) }
    }

    /// A refusal of the server's own (not found, wrong method, admin token), in the
    /// contract's error shape.
    pub fn refusal(status: u16, message: &str) -> Reply {
        Reply::json(status, &contract::error_body(message))
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    /// The `Content-Type` of the payload, if it has one.
    pub fn content_type(&self) -> Option<&'static str> {
        match self.payload {
            Payload::Json(_) | Payload::JsonStream(_) => Some("application/json"),
            Payload::EventStream(_) => Some("text/event-stream"),
            Payload::Html(_) => Some("text/html; charset=utf-8"),
            Payload::Metrics(_) => Some("text/plain; version=0.0.4; charset=utf-8"),
            Payload::Empty => None,
        }
    }

    /// The body as bytes, for tests (a stream is read to its end).
    #[cfg(test)]
    pub fn body_bytes(self) -> Vec<u8> {
        match self.payload {
            Payload::Json(b) => b,
            Payload::JsonStream(mut r) => {
                let mut b = Vec::new();
                r.read_to_end(&mut b).expect("reading a streamed body");
                b
            }
            Payload::EventStream(_) => panic!("an event stream has no body of its own"),
            Payload::Html(s) => s.as_bytes().to_vec(),
            Payload::Metrics(s) => s.into_bytes(),
            Payload::Empty => Vec::new(),
        }
    }

    /// The body parsed as JSON, for tests.
    #[cfg(test)]
    pub fn body_json(self) -> Value {
        serde_json::from_slice(&self.body_bytes()).expect("a JSON body")
    }
}
