//! `hush` against `hush`, through the built binary, on a devnet this test starts on ephemeral
//! loopback ports: accounts, messages both ways, `inbox` printing each new message once, message
//! requests, restoring from the phrase, and the refusals a script relies on (exit codes).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hush_node::devnet::{Devnet, DevnetConfig};
use serde_json::Value;
use tempfile::TempDir;

const PASS: &str = "a long enough passphrase";
/// No command of this test may take longer.
const COMMAND_DEADLINE: Duration = Duration::from_secs(150);

struct World {
    devnet: Devnet,
    relay: String,
    /// The devnet's devnet.json: its nodes are the trust anchors for its relay (`--anchors`).
    anchors: String,
    dir: TempDir,
    // Runs the devnet's servers; dropped last.
    _runtime: tokio::runtime::Runtime,
}

impl World {
    fn start() -> World {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let dir = tempfile::Builder::new().prefix("hush-cli-test-").tempdir().unwrap();
        let mut config = DevnetConfig::on_free_ports(dir.path().join("devnet"));
        config.nodes = 6;
        let devnet = runtime.block_on(Devnet::start(config)).unwrap();
        let relay = devnet.info()["app_url"].as_str().unwrap().to_owned();
        let anchors = dir.path().join("devnet").join("devnet.json").to_string_lossy().into_owned();
        World { devnet, relay, anchors, dir, _runtime: runtime }
    }

    fn data(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.devnet.shutdown();
    }
}

fn hush_command(data: &Path, pass: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hush"));
    command.arg("--data").arg(data).args(args).env("HUSH_PASSPHRASE", pass);
    command
}

fn wait_bounded(mut child: Child, what: &str) -> Output {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > COMMAND_DEADLINE {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("`hush {what}` took over {COMMAND_DEADLINE:?}; stderr: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `hush --data DATA ARGS` with `stdin`, bounded in time.
fn hush_with(data: &Path, pass: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = hush_command(data, pass, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = wait_bounded(child, &args.join(" "));
    for stream in [&out.stdout, &out.stderr] {
        assert!(!String::from_utf8_lossy(stream).contains(pass), "hush printed the passphrase");
    }
    out
}

fn hush(data: &Path, args: &[&str]) -> Output {
    hush_with(data, PASS, args, "")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command that must succeed; returns its stdout.
fn ok(data: &Path, args: &[&str]) -> String {
    let out = hush(data, args);
    assert!(out.status.success(), "`hush {}` failed ({}): {}", args.join(" "), out.status, text(&out.stderr));
    text(&out.stdout)
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

/// `create`: the Session ID on stdout, the phrase (13 words) on stderr.
fn create(world: &World, name: &str) -> (PathBuf, String, String) {
    let data = world.data(name);
    let out = hush(&data, &["--relay", &world.relay, "--anchors", &world.anchors, "create", "--name", name]);
    assert!(out.status.success(), "create: {}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_owned();
    assert!(id.len() == 66 && id.starts_with("05"), "{id}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("keep it secret"), "{stderr}");
    let phrase = stderr.lines().find(|l| l.split(' ').count() == 13).expect("the phrase on stderr").to_owned();
    assert!(!text(&out.stdout).contains(&phrase), "the phrase went to stdout");
    // Options go before the command, as the forms say.
    (data, id, phrase)
}

fn texts(messages: &[Value]) -> Vec<&str> {
    messages.iter().map(|m| m["text"].as_str().unwrap()).collect()
}

#[test]
fn two_command_lines_talk_through_the_devnet() {
    let world = World::start();
    let (alice, alice_id, alice_phrase) = create(&world, "Alice");
    let (bob, bob_id, _) = create(&world, "Bob");

    // Alice writes first: Bob gets it as a message request.
    ok(&alice, &["send", &bob_id, "Hello Bob, Alice here"]);
    let got = json_lines(&ok(&bob, &["inbox", "--json"]));
    assert_eq!(texts(&got), ["Hello Bob, Alice here"]);
    assert_eq!(got[0]["from"], alice_id.as_str());
    assert_eq!(got[0]["hash"].as_str().unwrap().len(), 43, "{}", got[0]);
    assert!(got[0]["timestamp"].as_u64().unwrap() > 1_600_000_000_000);
    // Shown once: nothing is new the second time.
    assert_eq!(ok(&bob, &["inbox", "--json"]), "");

    let conversations = json_lines(&ok(&bob, &["conversations", "--json"]));
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["peer"], alice_id.as_str());
    assert_eq!(conversations[0]["name"], "Alice");
    assert_eq!(conversations[0]["standing"], "request");

    // Bob accepts; then both write, Alice twice at once.
    ok(&bob, &["accept", &alice_id]);
    assert_eq!(json_lines(&ok(&bob, &["conversations", "--json"]))[0]["standing"], "accepted");
    ok(&bob, &["send", &alice_id, "Hi Alice!"]);
    ok(&alice, &["send", &bob_id, "Second"]);
    ok(&alice, &["send", &bob_id, "Third"]);
    let got = json_lines(&ok(&alice, &["inbox", "--json"]));
    assert_eq!(texts(&got), ["Hi Alice!"]);
    assert_eq!(got[0]["from"], bob_id.as_str());
    assert_eq!(texts(&json_lines(&ok(&bob, &["inbox", "--json"]))), ["Second", "Third"]);
    assert_eq!(ok(&bob, &["inbox", "--json"]), "");
    // Without --json: one line per message, with the sender.
    ok(&bob, &["send", &alice_id, "Plain"]);
    let plain = ok(&alice, &["inbox"]);
    assert!(plain.contains("Bob") && plain.contains(&bob_id) && plain.trim_end().ends_with("Plain"), "{plain}");

    // --follow prints what arrives while it runs, and ends cleanly on SIGTERM.
    let mut follow = hush_command(&bob, PASS, &["inbox", "--follow", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel();
    let stdout = follow.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = lines_tx.send(line.unwrap());
        }
    });
    ok(&alice, &["send", &bob_id, "While you follow"]);
    let line = lines.recv_timeout(Duration::from_secs(60)).expect("--follow printed the message");
    assert_eq!(serde_json::from_str::<Value>(&line).unwrap()["text"], "While you follow");
    let killed = Command::new("kill").args(["-TERM", &follow.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = wait_bounded(follow, "inbox --follow");
    assert!(out.status.success(), "--follow ended with {}: {}", out.status, text(&out.stderr));
    assert_eq!(ok(&bob, &["inbox", "--json"]), "", "what --follow printed is not new again");

    // The phrase restores the same account in another folder (phrase on stdin).
    let restored = world.data("alice-restored");
    let out = hush_with(&restored, PASS, &["restore", "--name", "Alice"], &format!("{alice_phrase}\n"));
    assert!(out.status.success(), "restore: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), alice_id);
    assert!(!text(&out.stderr).contains(&alice_phrase) && !text(&out.stdout).contains(&alice_phrase));
    assert_eq!(ok(&restored, &["id"]).trim(), alice_id);
    // A relay given once is kept for the next commands.
    ok(&restored, &["--relay", &world.relay, "--anchors", &world.anchors, "send", &bob_id, "Restored"]);
    ok(&restored, &["send", &bob_id, "Kept"]);
    assert_eq!(texts(&json_lines(&ok(&bob, &["inbox", "--json"]))), ["Restored", "Kept"]);
    // In the folder of that account, the phrase replaces a forgotten passphrase; history stays.
    let new_pass = "a brand new passphrase";
    let out = hush_with(&restored, new_pass, &["restore", "--name", "Alice"], &alice_phrase);
    assert!(out.status.success(), "restore over the account: {}", text(&out.stderr));
    assert_eq!(hush(&restored, &["id"]).status.code(), Some(3), "the old passphrase no longer opens it");
    let kept = hush_with(&restored, new_pass, &["conversations", "--json"], "");
    assert_eq!(json_lines(&text(&kept.stdout))[0]["peer"], bob_id.as_str());

    // A network by name is kept too (in DIR/network: its name only), until a relay is given.
    ok(&alice, &["--network", "testnet", "id"]);
    assert_eq!(std::fs::read_to_string(alice.join("network")).unwrap().trim(), "testnet");
    ok(&alice, &["--relay", &world.relay, "id"]);
    assert!(!alice.join("network").exists());

    // Refusals, each with its exit code and the engine's sentence.
    let wrong = hush_with(&alice, "not the passphrase", &["id"], "");
    assert_eq!(wrong.status.code(), Some(3));
    assert_eq!(text(&wrong.stderr).trim(), "hush: That passphrase does not unlock this account.");
    assert!(wrong.stdout.is_empty());
    let none = hush(&world.data("nobody"), &["id"]);
    assert_eq!(none.status.code(), Some(3));
    assert!(text(&none.stderr).contains("There is no Hush account in"), "{}", text(&none.stderr));
    let again = hush(&alice, &["create", "--name", "Alice"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("already exists"), "{}", text(&again.stderr));
    assert_eq!(ok(&alice, &["id"]).trim(), alice_id, "a refused create changes nothing");
    let bad_phrase = hush_with(&world.data("bad-phrase"), PASS, &["restore", "--name", "X"], "one two three\n");
    assert_eq!(bad_phrase.status.code(), Some(1));
    assert!(text(&bad_phrase.stderr).contains("13 words"), "{}", text(&bad_phrase.stderr));
    let bad_id = hush(&alice, &["send", "05abc", "x"]);
    assert_eq!(bad_id.status.code(), Some(2));
}

#[test]
fn a_send_the_network_does_not_confirm_ends_with_its_own_exit_code() {
    // No relay listens on this port: the message fails its rounds (or the deadline passes first).
    let dir = tempfile::Builder::new().prefix("hush-cli-test-").tempdir().unwrap();
    let data = dir.path().join("a");
    let anchors = concat!(env!("CARGO_MANIFEST_DIR"), "/../public/network.json");
    let out = hush(&data, &["--relay", "http://127.0.0.1:9", "--anchors", anchors, "create", "--name", "A"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let peer = format!("05{}", "d4".repeat(32));
    let out = hush(&data, &["send", &peer, "into the void", "--timeout", "3"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("stays in the outbox"), "{}", text(&out.stderr));
}

#[test]
fn the_relay_and_the_network_are_one_choice() {
    let dir = tempfile::Builder::new().prefix("hush-cli-test-").tempdir().unwrap();
    let out = hush(dir.path(), &["--relay", "http://127.0.0.1:8080", "--network", "mainnet", "create", "--name", "A"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot be used with"), "{}", text(&out.stderr));
    let out = hush(dir.path(), &["--network", "moon", "id"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a Session network"), "{}", text(&out.stderr));
    let help = Command::new(env!("CARGO_BIN_EXE_hush")).arg("--help").output().unwrap();
    assert!(text(&help.stdout).contains("Exit codes:"));
    assert!(!dir.path().join("vault.sqlite").exists(), "refused command lines write nothing");
}

/// A relay whose node list the network does not confirm is refused before anything is sent, with
/// the engine's sentence and exit code 1: here a second devnet's relay, which lists only its own
/// nodes, for an account that trusts the first devnet. A relay with no trusted nodes to check it
/// against is refused too, and so is an `--anchors` file that is not one.
#[test]
fn a_relay_the_network_does_not_confirm_is_refused() {
    let world = World::start();
    let other = world._runtime.block_on(async {
        let mut config = DevnetConfig::on_free_ports(world.dir.path().join("other-devnet"));
        config.nodes = 4;
        Devnet::start(config).await.unwrap()
    });
    let (alice, _, _) = create(&world, "Alice");
    let (_, bob_id, _) = create(&world, "Bob");
    let out = hush(&alice, &["--relay", &other.app_url, "send", &bob_id, "not through that relay", "--timeout", "60"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("hush: The network could not confirm this relay's node list"), "{stderr}");
    assert!(stderr.trim_end().ends_with("Hush will not use this relay."), "{stderr}");
    let now = hush_node::server::now_ms();
    let total: usize =
        other.network.nodes().iter().map(|n| n.store().messages_after(0, 1_000, now).unwrap().len()).sum();
    assert_eq!(total, 0, "nothing reached the other devnet's nodes");
    // Back to the network's own relay: the account still works (nothing was queued).
    ok(&alice, &["--relay", &world.relay, "send", &bob_id, "through the right one"]);

    // No anchors at all for a relay: refused with what to do.
    let carol = world.data("carol");
    ok(&carol, &["--relay", &world.relay, "create", "--name", "Carol"]);
    let out = hush(&carol, &["send", &bob_id, "x", "--timeout", "20"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("give them with --anchors FILE"), "{}", text(&out.stderr));
    // An --anchors file that lists no trusted nodes: refused before anything is written.
    let bad = world.data("bad.json");
    std::fs::write(&bad, "{\"anchors\": []}").unwrap();
    let dave = world.data("dave");
    let out = hush(&dave, &["--relay", &world.relay, "--anchors", bad.to_str().unwrap(), "create", "--name", "D"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("the list of trusted nodes is empty"), "{}", text(&out.stderr));
    assert!(!dave.exists(), "nothing written");
    drop(other);
}

/// A 1×1 JPEG (baseline, JFIF, no metadata): a picture the engine sends as it is.
const JPEG_HEX: &str = concat!(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912",
    "130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001",
    "000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b51000020103",
    "03020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f024336272",
    "82090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475",
    "767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9",
    "cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd0ffd9",
);

/// A file both ways: `send --file` uploads it (encrypted, through an onion path to the devnet's
/// file server, which `--anchors` named) and sends its pointer; `inbox --json` lists it; `save`
/// downloads, checks and writes it, byte for byte, and never over an existing file.
#[test]
fn the_command_line_sends_and_saves_a_file() {
    let world = World::start();
    let (alice, _, _) = create(&world, "Alice");
    let (bob, bob_id, _) = create(&world, "Bob");
    let photo = hex::decode(JPEG_HEX).unwrap();
    let path = world.data("photo.jpg");
    std::fs::write(&path, &photo).unwrap();
    ok(&alice, &["send", &bob_id, "a photo", "--file", path.to_str().unwrap()]);
    let got = json_lines(&ok(&bob, &["inbox", "--json"]));
    assert_eq!(texts(&got), ["a photo"]);
    let file = &got[0]["files"][0];
    assert_eq!((file["name"].as_str(), file["content_type"].as_str()), (Some("photo.jpg"), Some("image/jpeg")));
    assert_eq!((file["size"].as_u64(), file["kind"].as_str()), (Some(photo.len() as u64), Some("image")));
    let hash = got[0]["hash"].as_str().unwrap();
    let saved = world.data("saved.jpg");
    ok(&bob, &["save", hash, "--to", saved.to_str().unwrap()]);
    assert_eq!(std::fs::read(&saved).unwrap(), photo);
    let again = hush(&bob, &["save", hash, "--to", saved.to_str().unwrap()]);
    assert!(!again.status.success(), "an existing file is not overwritten");
    assert!(text(&again.stderr).contains("saved.jpg"), "{}", text(&again.stderr));
    // A missing file sends nothing.
    let missing = hush(&alice, &["send", &bob_id, "--file", "/nonexistent/file.bin"]);
    assert!(!missing.status.success());
    assert_eq!(world.devnet.file_server.file_count().unwrap(), 1);
}

/// `community`: two command lines join the devnet's `lobby` by its URL, post (by URL and by
/// token, a reply too) and read each other's posts with names and blinded ids.
#[test]
fn the_command_line_joins_a_community_posts_and_reads() {
    let world = World::start();
    let (alice, _, _) = create(&world, "Alice");
    let (bob, _, _) = create(&world, "Bob");
    let lobby = world.devnet.community.room_url(&world.devnet.community_url, "lobby");

    let joined = ok(&alice, &["community", "join", &lobby]);
    assert!(joined.trim().ends_with("  Lobby"), "{joined}");
    ok(&bob, &["community", "join", &lobby]);
    let rooms = json_lines(&ok(&alice, &["community", "list", "--json"]));
    assert_eq!((rooms.len(), rooms[0]["name"].as_str()), (1, Some("Lobby")));
    let alice_blinded = rooms[0]["me"].as_str().unwrap().to_owned();
    assert!(alice_blinded.starts_with("15"));

    let first: u64 = ok(&alice, &["community", "post", &lobby, "Hello from the command line"]).trim().parse().unwrap();
    ok(&bob, &["community", "post", "lobby", "Hi Alice", "--reply-to", &first.to_string()]);
    let read = json_lines(&ok(&alice, &["community", "read", "lobby", "--json"]));
    assert_eq!(texts(&read), ["Hello from the command line", "Hi Alice"]);
    assert_eq!((read[0]["id"].as_u64(), read[0]["from"].as_str()), (Some(first), Some(alice_blinded.as_str())));
    assert_eq!(read[1]["name"].as_str(), Some("Bob"));

    // An unknown room is refused; leaving takes the room off the list.
    assert!(!hush(&alice, &["community", "post", "nowhere", "x"]).status.success());
    ok(&alice, &["community", "leave", "lobby"]);
    assert!(ok(&alice, &["community", "list"]).trim().is_empty());
}
