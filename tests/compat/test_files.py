"""Files between session-python (from PyPI) and `hush` (the command line, on Hush's engine), both
ways, over the devnet's file server, bytes compared.

session-python talks to the file server over plain HTTP at the address it has built in
(http://filev2.getsession.org); here its requests go to the devnet's file server instead, and the
URL it puts in its pointers names that server with its key (`#p=`), as Session's clients write a
server other than their default. Everything else — the encryption (AES-CBC + HMAC, its padding,
the digest), the pointers and the sealed messages — is session-python's own. Hush uploads and
downloads through onion paths; session-python decrypts what Hush sent with its own function."""

import os
import pathlib
import tempfile
import time
import urllib.parse

import pytest

import session_python.network as network
from session_python.client import Session
from session_python.crypto import decrypt_attachment
from session_python.polling import Poller

from test_cli import PASS, hush, hush_binary, json_lines

REAL = "http://filev2.getsession.org"

# A 1×1 JPEG (JFIF, no metadata: Hush sends it as it is; bytes that were not a picture would go
# as a file, application/octet-stream).
PHOTO = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd0ffd9")
DOCUMENT = b"%PDF-1.4\n" + os.urandom(20_000)


@pytest.fixture
def peer(devnet, monkeypatch):
    """A session-python account whose file-server calls reach the devnet's file server."""
    network.SEEDS = [{"url": f"127.0.0.1:{devnet['seed_port']}"}]
    server = devnet["file_server"]
    py = Session()
    py.set_mnemonic(Session.generate_mnemonic(), "Python Peer")
    send = py.network.session.request

    def to_devnet(method, url, *args, **kwargs):
        if url.startswith(REAL + "/"):
            url = server["url"] + url[len(REAL):]
        return send(method, url, *args, **kwargs)

    def upload(data, timeout=30):
        # session-python's own request; its reply handling reads the id as a number, which the
        # file server's 44-character ids are not: the pointer gets id 0, as Session's clients
        # write for such ids, and a URL naming the devnet's server.
        response = py.network.session.post(REAL + "/file", data=data, timeout=timeout)
        assert response.status_code == 200, response.text
        file_id = response.json()["id"]
        number = int(file_id) if file_id.isdigit() else 0
        return {"id": number, "url": f"{server['url']}/file/{file_id}#p={server['pubkey_ed25519']}"}

    monkeypatch.setattr(py.network.session, "request", to_devnet)
    monkeypatch.setattr(py.network, "upload_attachment", upload)
    return py


def hush_status(data: pathlib.Path, *args: str) -> bool:
    """Runs `hush --data DATA ARGS`; returns whether it succeeded."""
    import subprocess
    done = subprocess.run([str(hush_binary()), "--data", str(data), *args],
                          env={**os.environ, "HUSH_PASSPHRASE": PASS}, capture_output=True, timeout=150)
    return done.returncode == 0


def download(py, url: str) -> bytes:
    """session-python's download of the file a pointer's URL names."""
    file_id = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]
    return py.network.download_attachment(file_id)


def test_files_go_both_ways_between_session_python_and_hush(devnet, peer):
    with tempfile.TemporaryDirectory(prefix="hush-compat-files-") as tmp:
        tmp = pathlib.Path(tmp)
        data = tmp / "cli"
        anchors = tmp / "devnet.json"
        anchors.write_text(__import__("json").dumps(devnet))
        cli_id = hush(data, "--relay", devnet["app_url"], "--anchors", str(anchors), "create", "--name", "Carl").strip()

        # session-python sends a photo and a document with a caption; Hush lists both and saves
        # them byte for byte (downloaded through an onion path, digest and MAC checked).
        peer.send_message(cli_id, "a photo and a document", attachments=[
            {"data": PHOTO, "name": "photo.jpg", "content_type": "image/jpeg"},
            {"data": DOCUMENT, "name": "report.pdf", "content_type": "application/pdf"},
        ])
        got, deadline = [], time.time() + 45
        while not got and time.time() < deadline:
            got = json_lines(hush(data, "inbox", "--json"))
        assert [m["text"] for m in got] == ["a photo and a document"]
        files = got[0]["files"]
        assert [(f["name"], f["content_type"], f["size"], f["kind"]) for f in files] == [
            ("photo.jpg", "image/jpeg", len(PHOTO), "image"),
            ("report.pdf", "application/pdf", len(DOCUMENT), "file"),
        ]
        for index, expected in enumerate([PHOTO, DOCUMENT]):
            saved = tmp / f"saved-{index}"
            hush(data, "save", got[0]["hash"], "--index", str(index), "--to", str(saved))
            assert saved.read_bytes() == expected

        # Hush sends a photo and a document back; session-python downloads each from the file
        # server and opens it with its own decrypt_attachment (MAC, digest, size).
        photo, document = tmp / "back.jpg", tmp / "back.pdf"
        photo.write_bytes(PHOTO)
        document.write_bytes(DOCUMENT[::-1])
        hush(data, "send", peer.session_id, "back to you", "--file", str(photo), "--file", str(document))
        poller, received, deadline = Poller(peer, namespaces=[0]), [], time.time() + 30
        while not received and time.time() < deadline:
            received = [m for m in poller.poll() if m["type"] == "data" and m["from"] == cli_id]
            time.sleep(0.5)
        assert [m["body"] for m in received] == ["back to you"]
        pointers = received[0]["attachments"]
        assert [(p["name"], p["contentType"], p["size"]) for p in pointers] == [
            ("back.jpg", "image/jpeg", len(PHOTO)),
            ("back.pdf", "application/pdf", len(DOCUMENT)),
        ]
        for pointer, expected in zip(pointers, [PHOTO, DOCUMENT[::-1]]):
            assert len(pointer["key"]) == 64 and len(pointer["digest"]) == 32
            assert f"#p={devnet['file_server']['pubkey_ed25519']}" in pointer["url"]
            opened = decrypt_attachment(download(peer, pointer["url"]), pointer["key"], pointer["digest"],
                                        pointer["size"])
            assert opened == expected


def test_profile_pictures_go_both_ways_between_session_python_and_hush(devnet, peer):
    import json
    from session_python.crypto import decrypt_profile

    # peer.py records every Content the Poller decodes (it hooks the Poller when imported).
    from peer import DECODED as decoded
    with tempfile.TemporaryDirectory(prefix="hush-compat-avatars-") as tmp:
        tmp = pathlib.Path(tmp)
        data = tmp / "cli"
        anchors = tmp / "devnet.json"
        anchors.write_text(json.dumps(devnet))
        cli_id = hush(data, "--relay", devnet["app_url"], "--anchors", str(anchors), "create", "--name", "Carl").strip()

        # Hush sets a picture; its messages carry the URL and key; session-python opens it.
        mine = tmp / "mine.png"
        mine.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(3000))
        hush(data, "avatar", str(mine))
        hush(data, "send", peer.session_id, "my picture")
        poller, received, deadline = Poller(peer, namespaces=[0]), [], time.time() + 30
        while not received and time.time() < deadline:
            received = [m for m in poller.poll() if m["type"] == "data" and m["from"] == cli_id]
            time.sleep(0.5)
        assert [m["body"] for m in received] == ["my picture"]
        message = next(c for c in decoded if c.dataMessage.body == "my picture")
        url, key = message.dataMessage.profile.profilePicture, message.dataMessage.profileKey
        assert len(key) == 32 and f"#p={devnet['file_server']['pubkey_ed25519']}" in url
        assert message.dataMessage.profile.displayName == "Carl"
        assert decrypt_profile(download(peer, url), key) == mine.read_bytes()

        # session-python sets its picture (its own AES-GCM and upload) and accepts the request:
        # its acceptance carries the picture, which Hush fetches, checks and saves.
        theirs = b"\xff\xd8\xff\xe0" + os.urandom(5000)
        peer.set_avatar(theirs)
        peer.accept_conversation_request(cli_id)
        saved, deadline = tmp / "theirs.jpg", time.time() + 30
        while not saved.exists() and time.time() < deadline:
            hush(data, "inbox")
            subprocess_ok = hush_status(data, "avatar", "--of", peer.session_id, "--to", str(saved))
            if not subprocess_ok:
                time.sleep(0.5)
        assert saved.read_bytes() == theirs
