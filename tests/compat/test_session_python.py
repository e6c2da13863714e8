"""A Session client not written here (session-python, from PyPI) against the devnet, unchanged.

The only thing set is its seed list, which it keeps as module data: it is pointed at the
devnet's seed the way a user would point it at another network.
"""

import session_python.network as network
from session_python.client import Session
from session_python.polling import Poller


def account(name: str, seed_port: int) -> Session:
    network.SEEDS = [{"url": f"127.0.0.1:{seed_port}"}]
    s = Session()
    s.set_mnemonic(Session.generate_mnemonic(), name)
    return s


def test_session_python_stores_for_another_id_and_that_id_retrieves_it(devnet):
    alice = account("Alice", devnet["seed_port"])
    bob = account("Bob", devnet["seed_port"])

    # It found the devnet's nodes through the seed.
    nodes = alice.get_snodes()
    assert len(nodes) == len(devnet["nodes"])
    assert {n["pubkey_ed25519"] for n in nodes} == {n["pubkey_ed25519"] for n in devnet["nodes"]}

    sent = alice.send_message(bob.session_id, "hello from session-python")
    assert len(sent["messageHash"]) == 43 and len(sent["syncMessageHash"]) == 43

    received = Poller(bob, namespaces=[0]).poll()
    bodies = [(m["from"], m["body"]) for m in received if m["type"] == "data"]
    assert (alice.session_id, "hello from session-python") in bodies

    # Alice's sync copy went to her own swarm, marked with Bob as the target.
    own = Poller(alice, namespaces=[0]).poll()
    assert any(m["syncTarget"] == bob.session_id and m["body"] == "hello from session-python" for m in own)

    # Polling again with the remembered last hash returns nothing new.
    assert [m for m in Poller(bob, namespaces=[0]).poll() if m["type"] == "data"] == []
