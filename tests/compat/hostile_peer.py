"""A session-python peer that sends what a hostile Session client could: any display name, any
text and any sent time, for the end-to-end test that peers' text is inert in Hush.

Usage: hostile_peer.py SEED_PORT < {"to": ID, "name": NAME, "text": TEXT, "sent_at_ms": MS or null}
       -> prints {"session_id": ...}

A new account each time (session-python's own random phrase). The message is built, sealed and
stored by session-python's `send_message` unchanged; for `sent_at_ms`, session-python is handed
that time as "now" (it puts it in the envelope, as a client with its clock set there would),
while the store request to the swarm carries the real time, since the nodes refuse a store
dated too far from theirs.
"""

import json
import sys
import time
import types

import session_python.client as client
import session_python.network as network
from session_python.client import Session


def main():
    seed_port = sys.argv[1]
    order = json.load(sys.stdin)
    network.SEEDS = [{"url": f"127.0.0.1:{seed_port}"}]
    me = Session()
    me.set_mnemonic(Session.generate_mnemonic(), order["name"])
    # session-python strips a leading 0x05 byte from a key that is already bare, so it cannot
    # seal its own sync copy when its key starts with 05 (1 account in 256): take another.
    while me.session_id[2:4] == "05":
        me.set_mnemonic(Session.generate_mnemonic(), order["name"])
    sent_at = order.get("sent_at_ms")
    if sent_at is not None:
        client.time = types.SimpleNamespace(time=lambda: sent_at / 1000, sleep=time.sleep)
        store = me._store_message
        me._store_message = lambda to, data, _claimed, namespace=0: store(to, data, int(time.time() * 1000), namespace)
    me.send_message(order["to"], order["text"])
    print(json.dumps({"session_id": me.session_id}))


if __name__ == "__main__":
    main()
