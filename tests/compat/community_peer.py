"""A session-python peer that posts in a community room, for the end-to-end tests.

Usage: community_peer.py SEED_PORT MNEMONIC SERVER_URL SERVER_PUBKEY ROOM MODE ARGS…, printing one
JSON line:
  id              -> {"session_id", "ed25519", "xed_ok"}  (its id; whether its Ed25519 key is the
                     one an 05 id's X25519 key converts back to, which XEd25519 verification needs)
  post TEXT [N]   -> {"session_id", "ids"}  (TEXT, or N posts "TEXT 1" … "TEXT N")
  forge TEXT      -> {"session_id", "ids"}  (TEXT, its body signed by another key: a post whose
                     signature does not verify, which the server takes as it takes any)

session-python signs SOGS requests with its unblinded `00` Ed25519 key only (`send_sogs_request`,
`sign_sogs_request`: its own), so the server must accept unblinded keys; it then knows the poster
as 05 + the X25519 form of that key, as the real server does. session-python has no call that
makes a post's body (`encode_sogs_message` raises NotImplementedError), so the post is a Content
with a DataMessage (text, timestamp, the display name) built with its protobuf classes, padded
with its own `add_message_padding`, and signed with its Ed25519 key, as Session's clients sign
posts on servers that do not blind.
"""

import base64
import json
import sys
import time

import nacl.signing
import session_python.network as network
from session_python.client import Session
from session_python.crypto import add_message_padding
from session_python.protobuf.signalservice_pb2 import Content


def post(me, server_url, server_pubkey, room, text, forged=False):
    content = Content()
    content.dataMessage.body = text
    content.dataMessage.timestamp = int(time.time() * 1000)
    content.dataMessage.profile.displayName = me.get_display_name() or ""
    data = add_message_padding(content.SerializeToString())
    signer = nacl.signing.SigningKey.generate() if forged else me.keys.signing_key
    signature = signer.sign(data).signature
    body = json.dumps({"data": base64.b64encode(data).decode(), "signature": base64.b64encode(signature).decode()})
    answer = me.send_sogs_request(server_url, server_pubkey, f"/room/{room}/message", "POST", body)
    if "id" not in answer:
        raise SystemExit(f"the server refused the post: {answer}")
    return answer["id"]


def main():
    seed_port, mnemonic, server_url, server_pubkey, room, mode, *args = sys.argv[1:]
    network.SEEDS = [{"url": f"127.0.0.1:{seed_port}"}]
    me = Session()
    me.set_mnemonic(mnemonic, "Python Peer")
    if mode == "id":
        ed = me.keys.ed25519.public_key
        print(json.dumps({"session_id": me.session_id, "ed25519": ed.hex(), "xed_ok": ed[31] & 0x80 == 0}))
    elif mode == "post":
        text, count = args[0], int(args[1]) if len(args) > 1 else 0
        texts = [f"{text} {i}" for i in range(1, count + 1)] if count else [text]
        ids = [post(me, server_url, server_pubkey, room, t) for t in texts]
        print(json.dumps({"session_id": me.session_id, "ids": ids}))
    elif mode == "forge":
        ids = [post(me, server_url, server_pubkey, room, args[0], forged=True)]
        print(json.dumps({"session_id": me.session_id, "ids": ids}))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
