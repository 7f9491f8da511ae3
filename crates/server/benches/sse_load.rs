//! Load check for `GET /api/op/state/sse`: starts the real `stigward` binary on loopback,
//! opens N concurrent SSE clients (default 500), and once every one of them has its first event
//! and all are still open, prints the server's resident memory and open file descriptors; then
//! each client reads one more event (its stream stayed live) and hangs up. It prints figures;
//! it asserts only that every client got its events.
//!
//!     cargo bench -p stigward --bench sse_load [-- CLIENTS]
//!     cargo test -p stigward --bench sse_load            (the same, debug build)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

const KEEPALIVE_MS: u64 = 1_000;

/// The server's resident set size in KiB, from /proc.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// How many file descriptors the server holds open (its sockets among them).
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| dir.count())
}

/// Reads from an SSE stream until `events` events have arrived in all.
async fn read_events(stream: &mut TcpStream, buffer: &mut Vec<u8>, events: usize) {
    let mut chunk = [0u8; 4096];
    while String::from_utf8_lossy(buffer).matches("event: state-report").count() < events {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the stream ended early");
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// One SSE client: connects, reads its first event and reports how long that took, holds its
/// stream open until `release`, then reads one more event (a keep-alive) and hangs up.
async fn client(port: u16, first: mpsc::Sender<Duration>, mut release: watch::Receiver<bool>) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request =
        "GET /api/op/state/sse HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = Vec::new();
    read_events(&mut stream, &mut buffer, 1).await;
    first.send(started.elapsed()).await.unwrap();
    release.wait_for(|go| *go).await.unwrap();
    read_events(&mut stream, &mut buffer, 2).await;
}

#[tokio::main]
async fn main() {
    let clients: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(500);
    let data = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_stigward"))
        .arg("serve")
        .env("STIGWARD_DATA_DIR", data.path())
        .env("STIGMAN_API_ADDRESS", "127.0.0.1")
        .env("STIGMAN_API_PORT", "0")
        .env("STIGWARD_SSE_KEEPALIVE_MS", KEEPALIVE_MS.to_string())
        .env("STIGMAN_LOG_LEVEL", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the stigward binary");
    let pid = server.id();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let port: u16 = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "stigward exited");
        if let Some(rest) = line.split("127.0.0.1:").nth(1) {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
    };
    let before = rss_kib(pid).unwrap_or(0);
    let fds_before = open_fds(pid);

    let started = Instant::now();
    let (first_tx, mut first_rx) = mpsc::channel(clients);
    let (release, held) = watch::channel(false);
    let tasks: Vec<_> =
        (0..clients).map(|_| tokio::spawn(client(port, first_tx.clone(), held.clone()))).collect();
    let mut firsts = Vec::new();
    while firsts.len() < clients {
        firsts.push(first_rx.recv().await.unwrap());
    }
    // every client now has its first event and is waiting, its stream open
    let elapsed = started.elapsed();
    let open = rss_kib(pid).unwrap_or(0);
    let fds_open = open_fds(pid);
    release.send(true).unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    firsts.sort();
    let median = firsts[firsts.len() / 2];
    let slowest = firsts[firsts.len() - 1];

    println!(
        "SSE load: {clients} concurrent clients on loopback, keep-alive every {KEEPALIVE_MS} ms"
    );
    println!("  all {clients} streams open with their first event after {elapsed:?}");
    println!("  time to first event: median {median:?}, slowest {slowest:?}");
    println!("  server file descriptors: {fds_before} idle, {fds_open} with the streams open");
    println!("  server RSS: {before} KiB idle, {open} KiB with {clients} streams open");
    let per_client = open.saturating_sub(before) as f64 / clients as f64;
    println!("  about {per_client:.1} KiB per open stream");
    println!("  every client then read a keep-alive on its held stream and hung up");

    // the server is a child this program started; stop it by its handle
    let _ = server.kill();
    let _ = server.wait();
}
