"""A session-python peer for the end-to-end tests: `send` a message or `poll` for messages.

Usage: peer.py SEED_PORT MNEMONIC send TO TEXT   -> prints {"session_id": ...}
       peer.py SEED_PORT MNEMONIC poll SECONDS   -> prints the data messages received, as JSON
"""

import json
import sys
import time

import session_python.network as network
from session_python.client import Session
from session_python.polling import Poller


def main():
    seed_port, mnemonic, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    network.SEEDS = [{"url": f"127.0.0.1:{seed_port}"}]
    me = Session()
    me.set_mnemonic(mnemonic, "Python Peer")
    if mode == "send":
        me.send_message(sys.argv[4], sys.argv[5])
        print(json.dumps({"session_id": me.session_id}))
    elif mode == "poll":
        deadline = time.time() + float(sys.argv[4])
        got = []
        poller = Poller(me, namespaces=[0])
        while time.time() < deadline:
            got += [m for m in poller.poll() if m["type"] == "data" and m["from"] != me.session_id]
            if got:
                break
            time.sleep(0.5)
        print(json.dumps([{"from": m["from"], "body": m["body"]} for m in got]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
