//! Request counters and latency histograms, written in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use seatcore::Stats;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Latency {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters of one server process.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// (route, method, status) → requests.
    requests: BTreeMap<(&'static str, &'static str, u16), u64>,
    /// (route, method) → latency.
    latency: BTreeMap<(&'static str, &'static str), Latency>,
}

impl Metrics {
    /// Counts one answered request. `route` is a template such as `/shows/{show_id}/hold`;
    /// `took` runs from the request's arrival (its head read) to its reply, time in the
    /// queue included.
    pub fn record(&self, route: &'static str, method: &'static str, status: u16, took: Duration) {
        let secs = took.as_secs_f64();
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *m.requests.entry((route, method, status)).or_default() += 1;
        let l = m.latency.entry((route, method)).or_default();
        l.count += 1;
        l.sum += secs;
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            l.buckets[i] += 1;
        }
    }

    /// The exposition text, with the core's counters and pool state, the event-stream
    /// readers and the bytes of seat-status documents read but not sent yet.
    pub fn render(&self, core: &Stats, event_streams: usize, status_buffered: usize) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP seatcore_event_streams Event-stream readers connected now.\n");
        out.push_str("# TYPE seatcore_event_streams gauge\n");
        let _ = writeln!(out, "seatcore_event_streams {event_streams}");
        out.push_str(
            "# HELP seatcore_status_buffer_bytes Seat-status JSON read from the database and not sent yet.\n",
        );
        out.push_str("# TYPE seatcore_status_buffer_bytes gauge\n");
        let _ = writeln!(out, "seatcore_status_buffer_bytes {status_buffered}");
        {
            let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            out.push_str(
                "# HELP seatcore_http_requests_total HTTP requests answered, by route, method and status.\n",
            );
            out.push_str("# TYPE seatcore_http_requests_total counter\n");
            for ((route, method, status), n) in &m.requests {
                let _ = writeln!(
                    out,
                    "seatcore_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
                );
            }
            out.push_str("# HELP seatcore_http_request_duration_seconds Time from a request's arrival (its head read) to its reply, time in the queue included.\n");
            out.push_str("# TYPE seatcore_http_request_duration_seconds histogram\n");
            for ((route, method), l) in &m.latency {
                let labels = format!("route=\"{route}\",method=\"{method}\"");
                let mut cumulative = 0;
                for (bound, n) in BUCKETS.iter().zip(l.buckets) {
                    cumulative += n;
                    let _ = writeln!(out, "seatcore_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
                }
                let _ = writeln!(
                    out,
                    "seatcore_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    l.count
                );
                let _ = writeln!(out, "seatcore_http_request_duration_seconds_sum{{{labels}}} {}", l.sum);
                let _ = writeln!(out, "seatcore_http_request_duration_seconds_count{{{labels}}} {}", l.count);
            }
        }
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n");
        };
        counter(&mut out, "seatcore_holds_granted_total", "Holds granted.", core.holds_granted);
        counter(
            &mut out,
            "seatcore_holds_refused_total",
            "Holds refused because seats were taken.",
            core.holds_refused,
        );
        counter(&mut out, "seatcore_bookings_total", "Holds booked (first bookings only).", core.bookings);
        counter(&mut out, "seatcore_releases_total", "Holds released early.", core.releases);
        counter(
            &mut out,
            "seatcore_expirations_total",
            "Expired holds removed by sweeps.",
            core.holds_expired_swept,
        );
        out.push_str("# HELP seatcore_hold_groups_total Groups of holds made in one transaction, by how many holds they had.\n");
        out.push_str("# TYPE seatcore_hold_groups_total counter\n");
        for (i, n) in core.hold_groups.iter().enumerate() {
            let (low, high) = (1u64 << i, (1u64 << (i + 1)) - 1);
            let size = match (low == high, i + 1 == core.hold_groups.len()) {
                (true, _) => low.to_string(),
                (false, true) => format!("{low}+"),
                (false, false) => format!("{low}-{high}"),
            };
            let _ = writeln!(out, "seatcore_hold_groups_total{{size=\"{size}\"}} {n}");
        }
        let in_use = core.pool_connections.saturating_sub(core.pool_idle);
        let _ = write!(
            out,
            "# HELP seatcore_pool_connections Database connections of the pool, by state.\n\
             # TYPE seatcore_pool_connections gauge\n\
             seatcore_pool_connections{{state=\"in_use\"}} {in_use}\n\
             seatcore_pool_connections{{state=\"idle\"}} {}\n\
             # HELP seatcore_pool_max_connections Most connections the pool opens.\n\
             # TYPE seatcore_pool_max_connections gauge\n\
             seatcore_pool_max_connections {}\n",
            core.pool_idle, core.pool_max
        );
        if let Some(rss) = resident_bytes() {
            let _ = write!(
                out,
                "# HELP process_resident_memory_bytes Resident memory size in bytes.\n\
                 # TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {rss}\n"
            );
        }
        out
    }
}

/// The process's resident set size, from /proc (Linux only).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.record("/shows/{show_id}/hold", "POST", 201, Duration::from_micros(300));
        m.record("/shows/{show_id}/hold", "POST", 409, Duration::from_millis(3));
        m.record("/shows/{show_id}/hold", "POST", 201, Duration::from_secs(20));
        let stats =
            Stats { holds_granted: 2, pool_connections: 5, pool_idle: 3, pool_max: 16, ..Stats::default() };
        let text = m.render(&stats, 3, 70_000);
        assert!(text.contains("seatcore_event_streams 3"), "{text}");
        assert!(text.contains("seatcore_status_buffer_bytes 70000"), "{text}");
        let has = |line: &str| assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        has(r#"seatcore_http_requests_total{route="/shows/{show_id}/hold",method="POST",status="201"} 2"#);
        has(r#"seatcore_http_requests_total{route="/shows/{show_id}/hold",method="POST",status="409"} 1"#);
        has(
            r#"seatcore_http_request_duration_seconds_bucket{route="/shows/{show_id}/hold",method="POST",le="0.0005"} 1"#,
        );
        has(
            r#"seatcore_http_request_duration_seconds_bucket{route="/shows/{show_id}/hold",method="POST",le="0.005"} 2"#,
        );
        has(
            r#"seatcore_http_request_duration_seconds_bucket{route="/shows/{show_id}/hold",method="POST",le="10"} 2"#,
        );
        has(
            r#"seatcore_http_request_duration_seconds_bucket{route="/shows/{show_id}/hold",method="POST",le="+Inf"} 3"#,
        );
        has("seatcore_holds_granted_total 2");
        has(r#"seatcore_pool_connections{state="in_use"} 2"#);
        has("seatcore_pool_max_connections 16");
    }
}
