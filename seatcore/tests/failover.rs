//! Several hosts, servers that stop taking writes, and reads from a hot standby: throwaway
//! clusters of the tests' own (a read-only one stands in for a demoted primary).

use std::net::TcpListener;
use std::time::{Duration, Instant};

use seatcore::testing::Cluster;
use seatcore::{ErrorKind, HistoryQuery, Options, SeatCore, SeatState};

/// A port on 127.0.0.1 where nothing listens (a server that is down).
fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `postgres://postgres@127.0.0.1:P1,127.0.0.1:P2.../seatcore?params`.
fn hosts(ports: &[u16], params: &str) -> String {
    let hosts: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let q = if params.is_empty() { String::new() } else { format!("?{params}") };
    format!("postgres://postgres@{}/seatcore{q}", hosts.join(","))
}

fn options(pool_size: u32) -> Options {
    Options {
        pool_size,
        min_idle: pool_size,
        checkout_timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(2),
        ..Options::default()
    }
}

/// Whether the cluster's `seatcore` database has seatcore's schema.
fn has_schema(cluster: &Cluster) -> bool {
    cluster.client().query_one("SELECT to_regclass('shows') IS NOT NULL", &[]).unwrap().get(0)
}

/// Makes every session of the cluster read-only, as a primary turned standby is, and waits
/// until the server has told its sessions (a new session sees it only after that).
fn make_read_only(cluster: &Cluster) {
    let mut c = cluster.client();
    c.batch_execute("ALTER SYSTEM SET default_transaction_read_only = on").unwrap();
    c.batch_execute("SELECT pg_reload_conf()").unwrap();
    let started = Instant::now();
    while cluster.client().query_one("SHOW default_transaction_read_only", &[]).unwrap().get::<_, &str>(0)
        != "on"
    {
        assert!(started.elapsed() < Duration::from_secs(30), "the configuration was not reloaded");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The SQLSTATE of the database error behind `err`.
fn sqlstate(err: &seatcore::Error) -> Option<String> {
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        if let Some(pg) = s.downcast_ref::<postgres::Error>() {
            return pg.code().map(|c| c.code().to_owned());
        }
        source = s.source();
    }
    None
}

#[test]
fn several_hosts_reach_the_one_that_takes_writes() {
    let read_only = Cluster::start("ro", false);
    let writable = Cluster::start("rw", false);
    read_only
        .client()
        .batch_execute("ALTER DATABASE seatcore SET default_transaction_read_only = on")
        .unwrap();

    // first a host that is down, then a read-only one, then the writable one; without
    // target_session_attrs the core asks for read-write, as for a list of hosts it must
    for params in ["", "target_session_attrs=read-write"] {
        let url = hosts(&[dead_port(), read_only.port, writable.port], params);
        let core = SeatCore::connect(&url, options(2)).unwrap();
        let show = format!("multi{}", params.len());
        core.initialize_show(&show, &["A1", "A2"]).unwrap();
        let hold = core.hold(&show, &["A1"], 60).unwrap();
        let booking = core.book(&show, &hold.hold_id.to_string()).unwrap();
        assert_eq!(booking.seat_ids, ["A1"]);
        let row = writable
            .client()
            .query_one("SELECT count(*) FROM bookings WHERE show_id = $1", &[&show])
            .unwrap();
        assert_eq!(row.get::<_, i64>(0), 1, "the booking is on the writable host");
        assert!(core.audit(Some(&show)).unwrap().summary.ok);
    }
    assert!(!has_schema(&read_only), "nothing was written to the read-only host");

    // asked for any host, the core lands on the read-only one: its writes are refused
    // (SQLSTATE 25006) and end as Unavailable, never as a wrong answer
    let url = hosts(&[read_only.port, writable.port], "target_session_attrs=any");
    let err = SeatCore::connect(&url, options(1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert_eq!(sqlstate(&err).as_deref(), Some("25006"), "{err:?}");
    assert!(!has_schema(&read_only));
}

#[test]
fn a_primary_that_stops_taking_writes_is_left_at_once() {
    let old = Cluster::start("old-primary", false);
    let new = Cluster::start("new-primary", false);
    let seats: Vec<String> = (1..=8).map(|i| format!("A{i}")).collect();
    for cluster in [&old, &new] {
        let direct = SeatCore::connect(&cluster.url("127.0.0.1", ""), options(1)).unwrap();
        direct.initialize_show("s", &seats).unwrap();
    }
    let on_new = SeatCore::connect(&new.url("127.0.0.1", ""), options(1)).unwrap();
    // Holds made on the new primary, released below through the multi-host handle.
    let holds: Vec<String> =
        (1..=5).map(|i| on_new.hold("s", &[format!("A{i}")], 600).unwrap().hold_id.to_string()).collect();

    // Two handles, each with four connections open to the old primary.
    let url = hosts(&[old.port, new.port], "target_session_attrs=read-write");
    let releaser = SeatCore::connect(&url, options(4)).unwrap();
    let holder = SeatCore::connect(&url, options(4)).unwrap();
    for core in [&releaser, &holder] {
        assert_eq!(core.stats().pool_connections, 4);
    }

    make_read_only(&old);

    // A release is never run twice: its first attempt, on a connection to the old primary,
    // is refused (25006) and the caller gets Unavailable. Nothing was released anywhere.
    let err = releaser.release("s", &holds[0]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert_eq!(sqlstate(&err).as_deref(), Some("25006"), "{err:?}");
    assert_eq!(on_new.seat_status("s").unwrap().seats[0].state, SeatState::Held);
    // That refusal retired the pool's other three connections to the old primary: the next
    // releases (never retried) all run on new connections, which find the new primary.
    for hold in &holds {
        releaser.release("s", hold).unwrap();
    }
    let status = on_new.seat_status("s").unwrap();
    assert!(status.seats[..5].iter().all(|s| s.state == SeatState::Available), "{status:?}");

    // A hold may be run again: its first attempt is refused on the old primary, and the
    // same call is retried on a new connection, which reaches the new primary.
    let hold = holder.hold("s", &["A8"], 60).unwrap();
    assert_eq!(on_new.seat_status("s").unwrap().seats[7].state, SeatState::Held);
    holder.book("s", &hold.hold_id.to_string()).unwrap();
    assert_eq!(on_new.seat_status("s").unwrap().counts.booked, 1);

    let old_client = &mut old.client();
    let on_old: i64 = old_client.query_one("SELECT count(*) FROM holds", &[]).unwrap().get(0);
    assert_eq!(on_old, 0, "nothing was written to the old primary once it was read-only");
    assert!(on_new.audit(None).unwrap().summary.ok);
}

#[test]
fn reads_go_to_a_standby_and_say_how_far_behind_it_is() {
    let primary = Cluster::start("primary", false);
    let standby = primary.standby("standby");
    let url = primary.url("127.0.0.1", "");
    // the primary listed first: with several hosts and no target_session_attrs, the reader
    // prefers a standby
    let read_url = hosts(&[primary.port, standby.port], "");
    let core = SeatCore::connect(&url, Options { read_url: Some(read_url), ..options(2) }).unwrap();
    core.initialize_show("s1", &["A1", "A2", "A3"]).unwrap();
    primary.wait_replayed(&standby);

    let status = core.seat_status("s1").unwrap();
    assert!(status.counts.replayed_at.is_some(), "the standby served it: {:?}", status.counts);
    assert_eq!(status.counts.version, core.last_change_id().unwrap());
    let page = core.history("s1", &HistoryQuery::default()).unwrap();
    assert!(page.replayed_at.is_some());
    assert_eq!(page.changes.len(), 1);
    assert_eq!(core.seat_map("s1").unwrap().seats.len(), 3);

    // The standby stops replaying: reads from it fall behind, and say so.
    let mut on_standby = standby.client();
    on_standby.batch_execute("SELECT pg_wal_replay_pause()").unwrap();
    let started = Instant::now();
    while on_standby.query_one("SELECT pg_get_wal_replay_pause_state()", &[]).unwrap().get::<_, &str>(0)
        != "paused"
    {
        assert!(started.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(10));
    }
    // Writes go to the primary (the standby would refuse them).
    let hold = core.hold("s1", &["A1"], 60).unwrap();
    let status = core.seat_status("s1").unwrap();
    assert_eq!(status.seats[0].state, SeatState::Available, "the standby has not seen the hold yet");
    assert!(status.counts.version < core.last_change_id().unwrap(), "the version says it is behind");
    let page = core.history("s1", &HistoryQuery::default()).unwrap();
    assert_eq!(page.changes.len(), 1, "the held record is not on the standby yet");
    assert!(page.replayed_at.is_some());
    // A show the standby does not know yet is looked up on the primary.
    core.initialize_show("s2", &["B1", "B2"]).unwrap();
    let status = core.seat_status("s2").unwrap();
    assert_eq!((status.counts.total, status.counts.replayed_at), (2, None));
    assert_eq!(core.seat_map("s2").unwrap().seats.len(), 2);
    let page = core.history("s2", &HistoryQuery::default()).unwrap();
    assert_eq!((page.changes.len(), page.replayed_at), (1, None));
    // The streamed document carries replayed_at from a standby only.
    let document = serde_json::to_value(core.seat_status("s1").unwrap()).unwrap();
    assert!(document["replayed_at"].is_string(), "{document}");
    let document = serde_json::to_value(core.seat_status("s2").unwrap()).unwrap();
    assert!(document.get("replayed_at").is_none(), "{document}");

    on_standby.batch_execute("SELECT pg_wal_replay_resume()").unwrap();
    primary.wait_replayed(&standby);
    let status = core.seat_status("s1").unwrap();
    assert_eq!(status.seats[0].state, SeatState::Held);
    assert_eq!(status.counts.version, core.last_change_id().unwrap());
    assert!(status.counts.replayed_at.is_some());
    core.book("s1", &hold.hold_id.to_string()).unwrap();

    // The standby goes down: reads go on, served by the primary.
    drop(on_standby);
    let out = standby.pg_sh("stop");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status = core.seat_status("s1").unwrap();
    assert_eq!((status.counts.booked, status.counts.replayed_at), (1, None));
    assert_eq!(core.history("s1", &HistoryQuery::default()).unwrap().changes.len(), 3);
    assert!(core.audit(None).unwrap().summary.ok);
}
