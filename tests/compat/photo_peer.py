"""A session-python peer that sends a photo with no text, for the end-to-end test of what Hush
shows for content it cannot display yet.

Usage: photo_peer.py SEED_PORT MNEMONIC TO   -> prints {"session_id": ...}

The devnet has no file server yet, so the encrypted upload is not sent anywhere: session-python's
upload step is replaced by one that returns a file id. Everything else — the attachment's
encryption, its pointer (id, key, digest, content type, size) and the sealed message — is
session-python's own, as a Session client sends a photo.
"""

import json
import sys

import session_python.network as network
from session_python.client import Session

# A 1×1 JPEG is enough: Hush only has to recognise an image attachment with no text.
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912"
    "130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b08000100"
    "0101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303"
    "020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282"
    "090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a7374757677"
    "78797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3"
    "d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd0ffd9"
)


def main():
    seed_port, mnemonic, to = sys.argv[1], sys.argv[2], sys.argv[3]
    network.SEEDS = [{"url": f"127.0.0.1:{seed_port}"}]
    me = Session()
    me.set_mnemonic(mnemonic, "Python Peer")
    me.network.upload_attachment = lambda data, timeout=30: {"id": 4242, "url": "http://127.0.0.1:9/file/4242"}
    me.send_message(to, None, attachments=[{"data": JPEG, "name": "photo.jpg", "content_type": "image/jpeg"}])
    print(json.dumps({"session_id": me.session_id}))


if __name__ == "__main__":
    main()
