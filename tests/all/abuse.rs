//! Abuse limits of `andon serve` over real sockets: a slowloris flood is cut off by
//! the header deadline while a legitimate client is still answered; connections
//! over the cap are closed at once; a principal over its rate gets `429` with
//! `Retry-After`; a trickled body gets `408`.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::http_client::Client;
use crate::mcp_http::Server;
use crate::support::Host;

fn authority(server: &Server) -> String {
    server.base.strip_prefix("http://").unwrap().to_string()
}

/// Waits until the server closes `stream` (read gives 0 or an error); how long it took.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            // A 408 or similar before the close is fine.
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => return None,
            Err(_) => return Some(started.elapsed()),
        }
    }
}

#[test]
fn a_slowloris_flood_is_cut_off_and_legitimate_clients_are_still_answered() {
    let host = Host::new();
    let server = Server::start(&host, &["--header-timeout", "1s"]);
    let addr = authority(&server);
    // 200 connections that send half a request head and stall.
    let mut slow: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ").as_bytes()).unwrap();
            s
        })
        .collect();
    // Meanwhile a legitimate client is answered at once.
    let client = Client::new(&server.url, None);
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(client.send("GET", "/healthz", &[], None).status, 200);
    }
    let legit = started.elapsed();
    assert!(legit < Duration::from_secs(5), "20 legitimate requests took {legit:?} during the flood");
    // Every stalled connection is closed by the header deadline (1 s).
    for s in &mut slow {
        let closed = closed_within(s, Duration::from_secs(10));
        assert!(closed.is_some(), "a stalled connection was still open after 10 s");
    }
    // A connection that sends nothing at all is closed too.
    let mut idle = TcpStream::connect(&addr).unwrap();
    assert!(closed_within(&mut idle, Duration::from_secs(10)).is_some(), "an idle connection stayed open");
}

#[test]
fn connections_over_the_cap_are_closed_at_once() {
    let host = Host::new();
    let server = Server::start(&host, &["--max-connections", "4", "--header-timeout", "3s"]);
    let addr = authority(&server);
    let held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut extra = TcpStream::connect(&addr).unwrap();
    let closed = closed_within(&mut extra, Duration::from_secs(2));
    assert!(closed.is_some_and(|d| d < Duration::from_secs(2)), "the fifth connection was not closed: {closed:?}");
    drop(held);
    // Slots come back when connections end.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(Client::new(&server.url, None).send("GET", "/healthz", &[], None).status, 200);
}

#[test]
fn a_principal_over_its_rate_gets_429_with_retry_after() {
    let host = Host::new();
    let server = Server::start(&host, &["--rate-limit", "1", "--rate-burst", "3"]);
    let client = Client::new(&server.url, None);
    let statuses: Vec<u16> = (0..8).map(|_| client.send("GET", "/metrics", &[], None).status).collect();
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    let limited = client.send("GET", "/metrics", &[], None);
    assert_eq!(limited.status, 429);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    std::thread::sleep(Duration::from_secs(retry));
    assert_eq!(client.send("GET", "/metrics", &[], None).status, 200);
}

#[test]
fn a_trickled_body_gets_408() {
    let host = Host::new();
    let server = Server::start(&host, &["--body-timeout", "1s"]);
    let addr = authority(&server);
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{{\"jsonrpc\""
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut response = Vec::new();
    let _ = s.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
}
