//! The invariants of ARCHITECTURE.md, each stated as an absence and checked here.
//!
//! Each test names the invariant it enforces; a failure message says which file or crate broke it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Every `.rs` file below `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name != "target" && !name.starts_with("target-") && name != "node_modules" {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Source text with line comments removed, so that prose about a rule does not trip it.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crates in `package`'s normal dependency graph for `target` (no dev-dependencies).
fn dependency_names(package: &str, target: &str) -> Vec<String> {
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args(["tree", "--locked", "-p", package, "-e", "normal,build", "--prefix", "none"])
        .args(["--target", target, "--format", "{p}"])
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// Invariant: crypto-core depends on no web, async-runtime, network or storage crate, on any target.
#[test]
fn crypto_core_depends_on_no_web_or_async_runtime_crate() {
    const FORBIDDEN: &[&str] = &[
        "web-sys",
        "js-sys",
        "wasm-bindgen",
        "wasm-bindgen-futures",
        "gloo-net",
        "gloo-utils",
        "indexed_db_futures",
        "leptos",
        "tokio",
        "async-std",
        "futures-executor",
        "axum",
        "hyper",
        "reqwest",
        "rusqlite",
        "getrandom",
    ];
    for target in ["x86_64-unknown-linux-gnu", "wasm32-unknown-unknown"] {
        let deps = dependency_names("crypto-core", target);
        assert!(deps.iter().any(|d| d == "crypto-core"), "cargo tree listed nothing: {deps:?}");
        let bad: Vec<_> = deps.iter().filter(|d| FORBIDDEN.contains(&d.as_str())).collect();
        assert!(bad.is_empty(), "crypto-core pulls in {bad:?} on {target}");
    }
}

/// Invariant: crypto-core performs no I/O, reads no clock and draws no ambient randomness.
#[test]
fn crypto_core_performs_no_io_and_reads_no_clock() {
    const FORBIDDEN: &[&str] = &[
        "std::fs",
        "std::net",
        "std::env",
        "std::process",
        "std::io::stdin",
        "std::thread",
        "SystemTime",
        "Instant::now",
        "OsRng",
        "thread_rng",
        "getrandom",
        "println!",
        "eprintln!",
        "print!(",
        "dbg!(",
    ];
    let src = workspace_root().join("crypto-core/src");
    let files = rust_files(&src);
    assert!(!files.is_empty(), "no sources found under {}", src.display());
    let mut bad = Vec::new();
    for file in files {
        let code = code_of(&file);
        for word in FORBIDDEN {
            if code.contains(word) {
                bad.push(format!("{}: {word}", file.display()));
            }
        }
    }
    assert!(bad.is_empty(), "I/O, clock or ambient randomness in crypto-core:\n{}", bad.join("\n"));
}

/// Invariant: crypto-core contains no unsafe code (the crate forbids it).
#[test]
fn crypto_core_forbids_unsafe_code() {
    let lib = std::fs::read_to_string(workspace_root().join("crypto-core/src/lib.rs")).unwrap();
    assert!(lib.contains("#![forbid(unsafe_code)]"));
    for file in rust_files(&workspace_root().join("crypto-core/src")) {
        let code = code_of(&file);
        assert!(!code.contains("unsafe "), "{} mentions unsafe", file.display());
        assert!(!code.contains("allow(unsafe_code)"), "{} allows unsafe", file.display());
    }
}

/// Invariant: in the app, nothing but `app::net` performs fetch and nothing but `app::storage`
/// touches IndexedDB.
#[test]
fn app_performs_io_only_in_net_and_storage() {
    let src = workspace_root().join("app/src");
    for file in rust_files(&src) {
        let rel = file.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let code = code_of(&file);
        let in_net = rel == "net.rs" || rel.starts_with("net/");
        let in_storage = rel == "storage.rs" || rel.starts_with("storage/");
        // Reaching an API by name (`js_sys::Reflect::get(&window, &"fetch".into())`) would dodge a
        // check of the bindings alone, so the names are refused as strings too.
        if !in_net {
            for word in [
                "gloo_net",
                "fetch_with_request",
                "fetch_with_str",
                "XmlHttpRequest",
                "WebSocket",
                "send_beacon",
                "EventSource",
                "\"fetch\"",
                "\"XMLHttpRequest\"",
                "\"sendBeacon\"",
            ] {
                assert!(!code.contains(word), "app/src/{rel} performs network I/O ({word})");
            }
        }
        if !in_storage {
            for word in [
                "indexed_db_futures",
                "IdbDatabase",
                "IdbFactory",
                "local_storage",
                "localStorage",
                "\"indexedDB\"",
                "\"sessionStorage\"",
                "\"caches\"",
                ".indexed_db(",
                ".session_storage(",
                ".caches(",
            ] {
                assert!(!code.contains(word), "app/src/{rel} touches browser storage ({word})");
            }
        }
    }
}

/// Invariant: the engine (`hush-client`) has no web API and no UI crate in its interface or its
/// dependencies: no Leptos, no web-sys, no gloo, no IndexedDB binding — on any target.
#[test]
fn the_engine_depends_on_no_ui_or_web_crate() {
    for target in ["x86_64-unknown-linux-gnu", "wasm32-unknown-unknown"] {
        let deps = dependency_names("hush-client", target);
        for banned in ["leptos", "web-sys", "gloo-net", "gloo-timers", "indexed_db_futures", "wasm-bindgen-futures"] {
            assert!(!deps.iter().any(|d| d == banned), "hush-client depends on {banned} for {target}");
        }
    }
}

/// The `crate::` modules a Rust file names, by their first path segment.
fn crate_modules_used(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !name.is_empty() && name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
            out.push(name);
        } else if rest.starts_with('{') {
            // `use crate::{a, b::c}`: every top-level name in the braces.
            let inner: String = rest.chars().skip(1).take_while(|c| *c != '}').collect();
            for part in inner.split(',') {
                let head: String = part.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if head.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                    out.push(head);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The top-level modules of the crate in `src` and, for each, the others it uses.
fn module_graph(src: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut graph: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for file in rust_files(src) {
        let rel = file.strip_prefix(src).unwrap().to_string_lossy().replace('\\', "/");
        let top = rel.split('/').next().unwrap().trim_end_matches(".rs").to_owned();
        if top == "lib" || top == "main" {
            continue;
        }
        // Test modules (at the end of a file) and the test-support modules may use anything.
        if top == "conformance" || top == "testing" {
            continue;
        }
        let code = code_of(&file);
        let code = code.split("#[cfg(test)]").next().unwrap_or_default();
        let used = crate_modules_used(code);
        let entry = graph.entry(top.clone()).or_default();
        entry.extend(used.into_iter().filter(|m| *m != top));
        entry.sort();
        entry.dedup();
    }
    graph
}

/// A cycle in `graph`, if any, as the modules along it.
fn find_cycle(graph: &std::collections::BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = Default::default();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

/// Invariant: the engine's and the app's top-level modules form layers: no module reaches, through
/// `crate::` paths, back to one that uses it (no import cycles).
#[test]
fn no_import_cycles_in_the_engine_or_the_app() {
    let root = workspace_root();
    for krate in ["client/src", "app/src"] {
        let graph = module_graph(&root.join(krate));
        assert!(graph.len() > 5, "{krate}: the module graph was not read");
        if let Some(cycle) = find_cycle(&graph) {
            panic!("{krate}: import cycle {}", cycle.join(" → "));
        }
    }
    // The check itself finds a cycle when there is one.
    let mut looped: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    looped.insert("a".into(), vec!["b".into()]);
    looped.insert("b".into(), vec!["a".into()]);
    assert!(find_cycle(&looped).is_some());
    assert_eq!(crate_modules_used("use crate::{a::X, b};\nlet y = crate::c::f();"), ["a", "b", "c"]);
}

/// Invariant: the storage conformance suite is test code: the app's release build does not
/// compile it (it is behind the engine's `conformance` feature, which only the app's tests turn on).
#[test]
fn the_conformance_suite_is_not_in_the_release_app() {
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args(["tree", "--locked", "-p", "app", "-e", "normal,build,features", "--prefix", "none"])
        .args(["--target", "wasm32-unknown-unknown", "-i", "hush-client"])
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(tree.contains("hush-client"), "cargo tree did not list hush-client: {tree}");
    assert!(!tree.contains("\"conformance\""), "the app's normal build enables the conformance suite:\n{tree}");
}

/// House style: self-named module files, never `mod.rs`.
#[test]
fn no_mod_rs_files() {
    let root = workspace_root();
    for dir in ["crypto-core", "client", "app", "node", "xtask"] {
        for file in rust_files(&root.join(dir)) {
            assert_ne!(file.file_name().unwrap(), "mod.rs", "{} should be a self-named module file", file.display());
        }
    }
}

/// crypto-core's secret types: seeds, identities, phrases, onion layer keys (`ResponseKey` is
/// `LayerKey`), the vault's data key, an opened message's plaintext, an attachment's key, and a
/// config's key and decrypted plaintext.
const SECRETS: &[&str] = &[
    "Seed",
    "Identity",
    "Phrase",
    "LayerKey",
    "ResponseKey",
    "DataKey",
    "Opened",
    "AttachmentKey",
    "ConfigKey",
    "Plaintext",
    "BlindedKeys",
    "SecretKey32",
    "GroupAuthData",
    "Saved",
];

/// Invariant: secret types never print: none has a `Display` (their redacted `Debug` is checked
/// by `crypto-core/tests/secrets.rs`).
#[test]
fn secret_types_have_no_display() {
    for file in rust_files(&workspace_root().join("crypto-core/src")) {
        let code = code_of(&file);
        for line in code.lines().filter(|l| l.contains("impl") && l.contains("Display for")) {
            let target = line.split("Display for").nth(1).unwrap_or("").trim();
            let name = target.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("");
            assert!(!SECRETS.contains(&name), "{}: `{}` gives a secret type a Display", file.display(), line.trim());
        }
    }
}

/// Invariant: secret types zeroize on drop, through the `zeroize()` that
/// `secret_types_zeroize_every_field_on_drop` (crypto-core/src/lib.rs) checks field by field.
/// Every secret type gets its `Drop` and `ZeroizeOnDrop` from `wipe_on_drop!`, whose `Drop` calls
/// the type's `zeroize()`; nothing in crypto-core claims `ZeroizeOnDrop` any other way (a bare
/// marker, or a derive whose `Drop` is not that `zeroize()`), so no claim goes untested.
#[test]
fn secret_types_zeroize_through_their_zeroize() {
    let files = rust_files(&workspace_root().join("crypto-core/src"));
    let mut wiped = Vec::new();
    let mut aliases = Vec::new();
    for file in &files {
        let code = code_of(file);
        let flat = code.split_whitespace().collect::<Vec<_>>().join(" ");
        for claim in flat.split("ZeroizeOnDrop for ").skip(1) {
            let name = claim.split(' ').next().unwrap_or("");
            assert!(name == "$ty", "{}: `ZeroizeOnDrop for {name}` by hand: use wipe_on_drop!", file.display());
        }
        for attr in flat.split("#[").skip(1).filter_map(|a| a.split(']').next()) {
            let derived = attr.contains("derive") && attr.contains("ZeroizeOnDrop");
            assert!(!derived && !attr.contains("zeroize(drop)"), "{}: `#[{attr}]`: use wipe_on_drop!", file.display());
        }
        for call in flat.split("wipe_on_drop!(").skip(1) {
            let list = call.split(')').next().unwrap_or("");
            wiped.extend(list.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()));
        }
        for alias in flat.split("type ").skip(1) {
            let mut words = alias.split(' ');
            if let (Some(name), Some("=")) = (words.next(), words.next()) {
                aliases.push(name.to_string());
            }
        }
    }
    for name in SECRETS.iter().filter(|n| !aliases.iter().any(|a| a == *n)) {
        assert!(wiped.iter().any(|t| t == name), "secret type {name} is not given to wipe_on_drop! (found {wiped:?})");
    }
}

/// Invariant: nothing shown to a person is HTML built from data. No Rust or JavaScript in the app
/// sets markup from a string: everything reaches the page as text nodes and attributes.
#[test]
fn nothing_shown_is_html_built_from_data() {
    const MARKUP_SINKS: &[&str] = &[
        "inner_html",
        "innerHTML",
        "outer_html",
        "outerHTML",
        "insertAdjacentHTML",
        "insert_adjacent_html",
        "document.write",
        "createContextualFragment",
        "DOMParser",
        "set_html",
        "srcdoc",
    ];
    let root = workspace_root();
    let mut files = rust_files(&root.join("app/src"));
    for dir in ["app", "scripts", "public"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        files.extend(
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "js" || e == "mjs")),
        );
    }
    files.push(root.join("index.html"));
    assert!(files.len() > 5, "no app sources found: {files:?}");
    for file in files {
        let code = if file.extension().is_some_and(|e| e == "rs") {
            code_of(&file)
        } else {
            std::fs::read_to_string(&file).unwrap_or_default()
        };
        for sink in MARKUP_SINKS {
            assert!(!code.contains(sink), "{} sets markup from a string ({sink})", file.display());
        }
    }
}

/// Invariant: wire logic is not written in the node: it uses crypto-core for peeling, reply
/// sealing, message hashes, signature strings and swarm selection, so it depends on none of the
/// primitives those are built from.
#[test]
fn node_writes_no_wire_logic() {
    const PRIMITIVES: &[&str] = &[
        "ed25519-dalek",
        "curve25519-dalek",
        "chacha20poly1305",
        "aes-gcm",
        "blake2",
        "hmac",
        "crypto_box",
        "crypto_secretbox",
        "prost",
    ];
    let manifest = std::fs::read_to_string(workspace_root().join("node/Cargo.toml")).unwrap();
    let deps = manifest.split("[dependencies]").nth(1).unwrap_or("");
    let deps = deps.split("\n[").next().unwrap_or("");
    let names: Vec<&str> = deps
        .lines()
        .filter_map(|l| l.split(['=', ' ', '.']).next())
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .collect();
    assert!(names.contains(&"crypto-core"), "node/Cargo.toml lists no crypto-core: {names:?}");
    let bad: Vec<_> = names.iter().filter(|n| PRIMITIVES.contains(n)).collect();
    assert!(bad.is_empty(), "hush-node depends directly on wire primitives {bad:?}: use crypto-core");
}
