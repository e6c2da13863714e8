//! What the relay's test files share: the standalone relay run as a process, a relay served
//! in-process, and a network for a seed to list. Included by each test file with
//! `#[path = "support/relay.rs"] mod support;`; each uses part of it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hush_node::network::{Network, Node};
use hush_node::relay::Relay;
use hush_node::store::Store;

/// Four nodes for a seed to list, at loopback ports where nothing listens.
pub fn network() -> Arc<Network> {
    let nodes = (0u8..4)
        .map(|i| {
            Arc::new(Node::new(&[i + 1; 32], "127.0.0.1".into(), 40000 + u16::from(i), 1, Store::in_memory().unwrap()))
        })
        .collect();
    Arc::new(Network::new(nodes))
}

/// Serves `relay` on a loopback port; returns its URL.
pub async fn serve_relay(relay: Arc<Relay>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = hush_node::relay::router(relay, Some(url.clone()));
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    url
}

/// A running `hush-node relay`; everything it prints (stdout and stderr) is collected.
pub struct RelayProcess {
    child: Child,
    pub url: String,
    output: Arc<Mutex<String>>,
}

impl RelayProcess {
    /// Starts `hush-node relay --listen 127.0.0.1:0 <args>` with `RUST_LOG=<log_filter>` and
    /// waits for the address it prints; `Err` holds its output if it exited.
    pub fn start(args: &[&str], log_filter: &str) -> Result<RelayProcess, String> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hush-node"))
            .args(["relay", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", log_filter)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().unwrap();
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Hush relay is running at ") {
                    let _ = tx.send(url.to_owned());
                }
                sink.lock().unwrap().push_str(&line);
                sink.lock().unwrap().push('\n');
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => Ok(RelayProcess { child, url, output }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                Err(output.lock().unwrap().clone())
            }
        }
    }

    /// [`RelayProcess::start`] with `--allow-loopback-nodes`, for seeds that list nodes on
    /// loopback (a local test network).
    pub fn start_local(args: &[&str], log_filter: &str) -> Result<RelayProcess, String> {
        RelayProcess::start(&[&["--allow-loopback-nodes"], args].concat(), log_filter)
    }

    /// Everything it has printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the output contains `needle`; returns the output.
    pub fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = self.output();
            if out.contains(needle) {
                return out;
            }
            assert!(Instant::now() < deadline, "no {needle:?} in:\n{out}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// A memory figure of the process in KiB, from `/proc/<pid>/status` (`VmRSS`: resident now;
    /// `VmHWM`: the peak).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with(&format!("{field}:"))).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Ctrl-C, as an operator would; returns the exit status and everything printed.
    pub fn interrupt(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the relay did not stop on Ctrl-C");
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(200));
        (status, self.output())
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
