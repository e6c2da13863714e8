"""`hush` (the command line, on Hush's engine) and session-python (from PyPI) exchange messages
both ways over the devnet: session-python writes first, `hush inbox --json` prints it, `hush send`
replies, and session-python decrypts the reply."""

import json
import os
import pathlib
import subprocess
import tempfile
import time

import session_python.network as network
from session_python.client import Session
from session_python.polling import Poller

from conftest import ROOT

PASS = "a long enough passphrase"


def hush_binary() -> pathlib.Path:
    explicit = os.environ.get("HUSH_CLI")
    if explicit:
        return pathlib.Path(explicit)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "hush"


def hush(data: pathlib.Path, *args: str) -> str:
    """Runs `hush --data DATA ARGS` (bounded in time); returns stdout, failing on a non-zero exit."""
    done = subprocess.run(
        [str(hush_binary()), "--data", str(data), *args],
        env={**os.environ, "HUSH_PASSPHRASE": PASS}, capture_output=True, text=True, timeout=150,
    )
    assert done.returncode == 0, f"hush {' '.join(args)} exited {done.returncode}: {done.stderr}"
    assert PASS not in done.stdout + done.stderr
    return done.stdout


def json_lines(text: str) -> list:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_hush_on_the_command_line_and_session_python_talk_both_ways(devnet):
    network.SEEDS = [{"url": f"127.0.0.1:{devnet['seed_port']}"}]
    py = Session()
    py.set_mnemonic(Session.generate_mnemonic(), "Python Peer")

    with tempfile.TemporaryDirectory(prefix="hush-compat-cli-") as tmp:
        data = pathlib.Path(tmp) / "cli"
        # The devnet's nodes are the trusted nodes its relay's node list is checked against.
        anchors = pathlib.Path(tmp) / "devnet.json"
        anchors.write_text(json.dumps(devnet))
        cli_id = hush(data, "--relay", devnet["app_url"], "--anchors", str(anchors), "create", "--name", "Carl").strip()
        assert cli_id.startswith("05") and len(cli_id) == 66

        # session-python writes first: `hush inbox` prints it once, as a message request.
        py.send_message(cli_id, "hello from session-python")
        got, deadline = [], time.time() + 45
        while not got and time.time() < deadline:
            got = json_lines(hush(data, "inbox", "--json"))
        assert [(m["from"], m["text"]) for m in got] == [(py.session_id, "hello from session-python")]
        assert len(got[0]["hash"]) == 43
        assert hush(data, "inbox", "--json") == ""
        conversations = json_lines(hush(data, "conversations", "--json"))
        assert [(c["peer"], c["name"], c["standing"]) for c in conversations] == [
            (py.session_id, "Python Peer", "request")
        ]

        # `hush send` exits 0 once the reply is stored; session-python opens it. Replying accepts.
        hush(data, "send", py.session_id, "hello back from hush")
        assert json_lines(hush(data, "conversations", "--json"))[0]["standing"] == "accepted"
        poller, bodies, deadline = Poller(py, namespaces=[0]), [], time.time() + 30
        while "hello back from hush" not in bodies and time.time() < deadline:
            bodies += [m["body"] for m in poller.poll() if m["type"] == "data" and m["from"] == cli_id]
            time.sleep(0.5)
        assert bodies == ["hello back from hush"]
