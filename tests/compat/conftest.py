"""Starts a real `hush-node devnet` on free loopback ports for the compatibility tests."""

import json
import os
import pathlib
import subprocess
import tempfile
import time
import urllib.parse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def hush_node_binary() -> pathlib.Path:
    explicit = os.environ.get("HUSH_NODE")
    if explicit:
        return pathlib.Path(explicit)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "hush-node"


@pytest.fixture(scope="session")
def devnet():
    data = pathlib.Path(tempfile.mkdtemp(prefix="hush-compat-"))
    # Port 0: the devnet binds every port itself and names them in devnet.json, so nothing can take
    # a port between choosing it and binding it.
    proc = subprocess.Popen(
        [str(hush_node_binary()), "devnet", "--data", str(data), "--seed-port", "0",
         "--app-port", "0", "--base-port", "0", "--static", str(data / "no-app")],
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
    info["seed_port"] = urllib.parse.urlsplit(info["seed_url"]).port
    yield info
    proc.terminate()
    proc.wait(timeout=10)

