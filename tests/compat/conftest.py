"""Starts a real `hush-node devnet` on free loopback ports for the compatibility tests."""

import json
import os
import pathlib
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hush_node_binary() -> pathlib.Path:
    explicit = os.environ.get("HUSH_NODE")
    if explicit:
        return pathlib.Path(explicit)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "hush-node"


@pytest.fixture(scope="session")
def devnet():
    data = pathlib.Path(tempfile.mkdtemp(prefix="hush-compat-"))
    seed_port, app_port = free_port(), free_port()
    base_port = free_port()
    # Node i listens on base_port + i: pick a base with 12 free ports after it.
    for _ in range(50):
        if all(_is_free(base_port + i) for i in range(12)):
            break
        base_port = free_port()
    proc = subprocess.Popen(
        [str(hush_node_binary()), "devnet", "--data", str(data), "--seed-port", str(seed_port),
         "--app-port", str(app_port), "--base-port", str(base_port), "--static", str(data / "no-app")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    info_path = data / "devnet.json"
    deadline = time.time() + 30
    while not info_path.exists():
        if proc.poll() is not None or time.time() > deadline:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise RuntimeError(f"the devnet did not start:\n{out}")
        time.sleep(0.1)
    info = json.loads(info_path.read_text())
    info["seed_port"] = seed_port
    yield info
    proc.terminate()
    proc.wait(timeout=10)


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
