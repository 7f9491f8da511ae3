//! Load check for `GET /api/op/state/sse`: starts the real `stigward` binary on loopback, holds
//! N concurrent SSE clients (default 500) until each has its first event and a keep-alive, and
//! prints the server's resident memory before and after. It prints figures; it asserts only
//! that every client got its events.
//!
//!     cargo bench -p stigward --bench sse_load [-- CLIENTS]
//!     cargo test -p stigward --bench sse_load            (the same, debug build)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const KEEPALIVE_MS: u64 = 1_000;

/// The server's resident set size in KiB, from /proc.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One SSE client: connects, then waits for `events` events; returns the time to the first.
async fn client(port: u16, events: usize) -> Duration {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request =
        "GET /api/op/state/sse HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut seen = 0;
    let mut first = None;
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    while seen < events {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the stream ended early");
        buffer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buffer);
        seen = text.matches("event: state-report").count();
        if seen > 0 && first.is_none() {
            first = Some(started.elapsed());
        }
    }
    first.unwrap()
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

    let started = Instant::now();
    let tasks: Vec<_> = (0..clients).map(|_| tokio::spawn(client(port, 2))).collect();
    let mut firsts = Vec::new();
    for task in tasks {
        firsts.push(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    let after = rss_kib(pid).unwrap_or(0);
    firsts.sort();
    let median = firsts[firsts.len() / 2];
    let slowest = firsts[firsts.len() - 1];

    println!(
        "SSE load: {clients} concurrent clients on loopback, keep-alive every {KEEPALIVE_MS} ms"
    );
    println!("  every client got its first event and a keep-alive in {elapsed:?}");
    println!("  time to first event: median {median:?}, slowest {slowest:?}");
    println!("  server RSS: {before} KiB idle, {after} KiB with {clients} streams open");
    let per_client = after.saturating_sub(before) as f64 / clients as f64;
    println!("  about {per_client:.1} KiB per open stream");

    // the server is a child this program started; stop it by its handle
    let _ = server.kill();
    let _ = server.wait();
}
