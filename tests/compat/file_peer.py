"""A session-python peer that sends and receives files, for the end-to-end tests.

Usage: file_peer.py SEED_PORT MNEMONIC FILE_SERVER_URL FILE_SERVER_ED25519 MODE ARGS…, printing one
JSON line:
  send TO TEXT NAME TYPE PATH [NAME TYPE PATH…]  -> {"session_id", "timestamp"}
  fetch SECONDS MIN                              -> the data messages received once at least MIN
                                                    came or SECONDS passed, each with its files
                                                    downloaded and opened:
                                                    [{"from", "body", "files": [{"name",
                                                    "contentType", "size", "flags", "sha256"}]}]

session-python talks to the file server over plain HTTP at the address it has built in
(http://filev2.getsession.org); here its requests go to the devnet's file server, and the URL in its
pointers names that server with its key (`#p=`), as Session's clients write a server other than
their default. Its upload reads the file's id as a number, which the file server's 44-character
ids are not: the pointer gets id 0, as Session's clients write for such ids. The encryption, the
pointers, the sealed message and the decryption are session-python's own.
"""

import hashlib
import json
import pathlib
import sys
import time
import urllib.parse

import session_python.network as network
from session_python.client import Session
from session_python.crypto import decrypt_attachment
from session_python.polling import Poller

# peer.py records every Content the Poller decodes (it hooks the Poller when imported).
from peer import DECODED

REAL = "http://filev2.getsession.org"


def peer(seed_port, mnemonic, server_url, server_ed25519):
    network.SEEDS = [{"url": f"127.0.0.1:{seed_port}"}]
    me = Session()
    me.set_mnemonic(mnemonic, "Python Peer")
    send = me.network.session.request

    def to_devnet(method, url, *args, **kwargs):
        if url.startswith(REAL + "/"):
            url = server_url + url[len(REAL):]
        return send(method, url, *args, **kwargs)

    def upload(data, timeout=30):
        response = me.network.session.post(REAL + "/file", data=data, timeout=timeout)
        response.raise_for_status()
        file_id = response.json()["id"]
        number = int(file_id) if file_id.isdigit() else 0
        return {"id": number, "url": f"{server_url}/file/{file_id}#p={server_ed25519}"}

    me.network.session.request = to_devnet
    me.network.upload_attachment = upload
    return me


def main():
    seed_port, mnemonic, server_url, server_ed25519, mode, *args = sys.argv[1:]
    me = peer(seed_port, mnemonic, server_url, server_ed25519)
    if mode == "send":
        to, text, *files = args
        attachments = [
            {"data": pathlib.Path(path).read_bytes(), "name": name, "content_type": content_type}
            for name, content_type, path in zip(files[0::3], files[1::3], files[2::3])
        ]
        before = int(time.time() * 1000)
        me.send_message(to, text, attachments=attachments)
        print(json.dumps({"session_id": me.session_id, "timestamp": before}))
    elif mode == "fetch":
        seconds, minimum = float(args[0]), int(args[1])
        poller, got, deadline = Poller(me, namespaces=[0]), [], time.time() + seconds
        while len(got) < minimum and time.time() < deadline:
            start = len(DECODED)
            # Each message the poll returns follows the Content it decoded, in order.
            for m, content in zip(poller.poll(), DECODED[start:]):
                if m["type"] == "data" and m["from"] != me.session_id:
                    got.append((m, content))
            time.sleep(0.5)
        out = []
        for m, content in got:
            files = []
            for a in content.dataMessage.attachments:
                file_id = urllib.parse.urlsplit(a.url).path.rsplit("/", 1)[-1]
                opened = decrypt_attachment(me.network.download_attachment(file_id), a.key, a.digest, a.size)
                files.append({"name": a.fileName, "contentType": a.contentType, "size": a.size, "flags": a.flags,
                              "sha256": hashlib.sha256(opened).hexdigest()})
            out.append({"from": m["from"], "body": m["body"], "files": files})
        print(json.dumps(out))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
