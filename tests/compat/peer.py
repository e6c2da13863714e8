"""A session-python peer for the end-to-end tests.

Usage: peer.py SEED_PORT MNEMONIC MODE ARGS…, printing one JSON line:
  send TO TEXT                      -> {"session_id", "timestamp", "hash"}
  reply TO TEXT QUOTED_TS AUTHOR    -> {"timestamp"}  (a DataMessage with the protocol's Quote)
  react TO TS AUTHOR EMOJI [remove] -> {}             (session-python's add/remove_reaction)
  unsend TO TS HASH                 -> {}             (session-python's delete_message)
  read TO TS…                       -> {}             (session-python's mark_messages_as_read)
  typing TO on|off                  -> {}             (session-python's show/hide_typing_indicator)
  disappear TO read|send|off SECS   -> {"timestamp"}  (a change of the disappearing-messages setting:
                                       a DataMessage with flags=2, Content fields 12/13 set)
  expiring TO TEXT read|send SECS   -> {"timestamp"}  (a text message set to disappear SECS after it
                                       is read or sent: Content fields 12/13 on the message)
  invite TO URL NAME                -> {"timestamp"}  (a community invitation: a DataMessage with
                                       the protocol's openGroupInvitation, url and name, no text)
  poll SECONDS                      -> the text messages received: [{"from", "body"}]
  watch SECONDS KIND [MIN]          -> everything received of KIND (data, reaction, unsend,
                                       receipt, typing), with every field the tests look at,
                                       once at least MIN (default 1) arrived or SECONDS passed

Everything but `reply`, `disappear`, `expiring`, `invite` and `watch` is session-python's own API.
`reply`, `disappear`, `expiring` and `invite` build the Content with session-python's protobuf classes and seal it with its own
functions, as its send_message does (it has no call for quotes or the disappearing-messages
setting); `watch` reads the Content session-python's Poller decodes, with the setting every message
carries (`expirationType`, `expirationTimer`) and the DataMessage's `flags`.
"""

import binascii
import json
import sys
import time

import session_python.network as network
import session_python.polling as polling
from session_python.client import Session
from session_python.crypto import add_message_padding, encrypt_using_session_protocol, wrap_envelope
from session_python.polling import Poller
from session_python.protobuf.signalservice_pb2 import Content, DataMessage, Envelope

# Every Content the Poller decodes, in order, to read what its summaries leave out.
DECODED = []


class _Recording:
    @staticmethod
    def FromString(raw):
        content = Content.FromString(raw)
        DECODED.append(content)
        return content


polling.Content = _Recording


def seal_and_store(me, to, content, timestamp):
    """Seals `content` to `to` (and its sync copy to `me`) and stores both, as send_message does."""
    sync = Content()
    sync.CopyFrom(content)
    sync.dataMessage.syncTarget = to
    for recipient, c in ((to, content), (me.session_id, sync)):
        sealed = encrypt_using_session_protocol(me.keys, recipient, add_message_padding(c.SerializeToString()))
        envelope = Envelope(type=Envelope.Type.SESSION_MESSAGE, timestamp=timestamp, content=sealed)
        data = binascii.b2a_base64(wrap_envelope(envelope.SerializeToString()), newline=False).decode()
        me._store_message(recipient, data, timestamp, namespace=0)


def summary(m, content):
    out = {"from": m["from"], "timestamp": m["timestamp"], "type": m["type"], "hash": m["hash"]}
    # The disappearing-messages setting: Content fields 12 (0 unknown, 1 after read, 2 after send)
    # and 13 (seconds), on every message from a client that knows them.
    if content.HasField("expirationType") or content.HasField("expirationTimer"):
        out["expirationType"] = content.expirationType
        out["expirationTimer"] = content.expirationTimer
    if content.HasField("dataMessage"):
        d = content.dataMessage
        out["body"] = d.body
        out["syncTarget"] = d.syncTarget or None
        out["flags"] = d.flags
        if d.HasField("quote"):
            out["quote"] = {"id": d.quote.id, "author": d.quote.author, "text": d.quote.text}
        if d.HasField("openGroupInvitation"):
            out["invitation"] = {"url": d.openGroupInvitation.url, "name": d.openGroupInvitation.name}
        if d.HasField("reaction"):
            out["type"] = "reaction"
            r = d.reaction
            out["reaction"] = {"id": r.id, "author": r.author, "emoji": r.emoji, "action": r.action}
    if content.HasField("unsendMessage"):
        out["unsend"] = {"timestamp": content.unsendMessage.timestamp, "author": content.unsendMessage.author}
    if content.HasField("receiptMessage"):
        out["receipt"] = {"type": content.receiptMessage.type, "timestamps": list(content.receiptMessage.timestamp)}
    if content.HasField("typingMessage"):
        out["typing"] = {"action": content.typingMessage.action}
    return out


def main():
    seed_port, mnemonic, mode, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    network.SEEDS = [{"url": f"127.0.0.1:{seed_port}"}]
    me = Session()
    me.set_mnemonic(mnemonic, "Python Peer")
    result = {}
    if mode == "send":
        sent = me.send_message(args[0], args[1])
        result = {"session_id": me.session_id, "timestamp": sent["timestamp"], "hash": sent["messageHash"]}
    elif mode == "reply":
        to, text, quoted, author = args[0], args[1], int(args[2]), args[3]
        timestamp = int(time.time() * 1000)
        content = Content()
        content.dataMessage.body = text
        content.dataMessage.profile.displayName = "Python Peer"
        content.dataMessage.quote.id = quoted
        content.dataMessage.quote.author = author
        seal_and_store(me, to, content, timestamp)
        result = {"timestamp": timestamp}
    elif mode == "invite":
        to, url, name = args[0], args[1], args[2]
        timestamp = int(time.time() * 1000)
        content = Content()
        content.dataMessage.openGroupInvitation.url = url
        content.dataMessage.openGroupInvitation.name = name
        content.dataMessage.profile.displayName = "Python Peer"
        seal_and_store(me, to, content, timestamp)
        result = {"timestamp": timestamp}
    elif mode == "disappear":
        to, kind, seconds = args[0], args[1], int(args[2])
        kinds = {"read": Content.DELETE_AFTER_READ, "send": Content.DELETE_AFTER_SEND, "off": Content.UNKNOWN}
        if kind not in kinds:
            sys.exit("the setting is read, send or off")
        timestamp = int(time.time() * 1000)
        content = Content()
        content.dataMessage.flags = DataMessage.EXPIRATION_TIMER_UPDATE
        content.expirationType = kinds[kind]
        content.expirationTimer = 0 if kind == "off" else seconds
        seal_and_store(me, to, content, timestamp)
        result = {"timestamp": timestamp}
    elif mode == "expiring":
        to, text, kind, seconds = args[0], args[1], args[2], int(args[3])
        kinds = {"read": Content.DELETE_AFTER_READ, "send": Content.DELETE_AFTER_SEND}
        if kind not in kinds:
            sys.exit("the setting is read or send")
        timestamp = int(time.time() * 1000)
        content = Content()
        content.dataMessage.body = text
        content.dataMessage.profile.displayName = "Python Peer"
        content.expirationType = kinds[kind]
        content.expirationTimer = seconds
        seal_and_store(me, to, content, timestamp)
        result = {"timestamp": timestamp}
    elif mode == "react":
        to, ts, author, emoji = args[0], int(args[1]), args[2], args[3]
        if author not in (to, me.session_id):
            sys.exit("a reaction is to a message of the conversation with TO")
        # session-python sends a reaction to the message's author: to TO for their message, and
        # only to its own swarm for its own message (then the conversation does not hear it).
        (me.remove_reaction if args[4:] == ["remove"] else me.add_reaction)(ts, author, emoji)
    elif mode == "unsend":
        me.delete_message(args[0], int(args[1]), args[2])
    elif mode == "read":
        me.mark_messages_as_read(args[0], [int(t) for t in args[1:]])
    elif mode == "typing":
        (me.show_typing_indicator if args[1] == "on" else me.hide_typing_indicator)(args[0])
    elif mode == "poll":
        deadline = time.time() + float(args[0])
        got = []
        poller = Poller(me, namespaces=[0])
        while time.time() < deadline:
            got += [m for m in poller.poll() if m["type"] == "data" and m["from"] != me.session_id]
            if got:
                break
            time.sleep(0.5)
        result = [{"from": m["from"], "body": m["body"]} for m in got]
    elif mode == "watch":
        deadline, kind = time.time() + float(args[0]), args[1]
        least = int(args[2]) if len(args) > 2 else 1
        poller, got = Poller(me, namespaces=[0]), []
        while time.time() < deadline and len(got) < least:
            DECODED.clear()
            mapped = poller.poll()
            for m, content in zip(mapped, DECODED):
                s = summary(m, content)
                if s["type"] == kind and m["from"] != me.session_id:
                    got.append(s)
            time.sleep(0.5)
        result = got
    else:
        sys.exit(f"unknown mode {mode}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
