"""The same operations as crypto-core/benches/seal.rs, done with libsodium (through PyNaCl's
bindings), timed in this process. Prints one line per operation: name, then microseconds per op
as the mean over all batches and as the best batch.

seal: crypto_sign_detached over M ‖ A ‖ Y, then crypto_box_seal of M ‖ A ‖ SIG to Y.
open: crypto_box_seal_open, crypto_sign_verify_detached over M ‖ A ‖ Y, and
      crypto_sign_ed25519_pk_to_curve25519(A) for the sender's Session ID.
phrase: decoding a 13-word phrase, written here from the protocol's description (libsodium has no
        phrase code; this is a pure-Python reference, not a like-for-like native comparison).
"""

import sys
import timeit
import zlib

from nacl import bindings as b

M = b"a" * 1024
SEED_A = bytes([1] * 32)
SEED_B = bytes([2] * 32)
A_PK, A_SK = b.crypto_sign_seed_keypair(SEED_A)
B_PK, B_SK = b.crypto_sign_seed_keypair(SEED_B)
Y = b.crypto_sign_ed25519_pk_to_curve25519(B_PK)
Y_SK = b.crypto_sign_ed25519_sk_to_curve25519(B_SK)


def seal():
    sig = b.crypto_sign(M + A_PK + Y, A_SK)[:64]
    return b.crypto_box_seal(M + A_PK + sig, Y)


SEALED = seal()


def open_():
    inner = b.crypto_box_seal_open(SEALED, Y, Y_SK)
    m, a, sig = inner[:-96], inner[-96:-64], inner[-64:]
    b.crypto_sign_open(sig + m + a + Y, a)  # verifies the detached signature
    return b.crypto_sign_ed25519_pk_to_curve25519(a)


WORDS = None


def load_words():
    global WORDS
    with open(sys.argv[1] if len(sys.argv) > 1 else "crypto-core/src/mnemonic/english.txt") as f:
        WORDS = f.read().split()
    return {w[:3]: i for i, w in enumerate(WORDS)}


INDEX = load_words()
PHRASE = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi"


def decode_phrase():
    words = PHRASE.lower().split()
    idx = [INDEX[w[:3]] for w in words]
    data, check = idx[:-1], idx[-1]
    n = 1626
    out = bytearray()
    for i in range(0, len(data), 3):
        w1, w2, w3 = data[i:i + 3]
        x = w1 + n * ((n - w1 + w2) % n) + n * n * ((n - w2 + w3) % n)
        assert x % n == w1 and x < 2**32
        out += x.to_bytes(4, "little")
    crc = zlib.crc32("".join(WORDS[i][:3] for i in data).encode())
    assert data[crc % len(data)] == check
    return bytes(out)


assert decode_phrase().hex() == "39038c8988db02c1af44e8c847bd9713"


def measure(fn, number, repeat):
    """Times `repeat` batches of `number` calls: (best batch, mean over all), in µs per call.

    Short batches, like criterion's samples, so that on a shared machine the best batch is as
    likely to land in a quiet moment as criterion's best sample is.
    """
    fn()
    batches = timeit.repeat(fn, number=number, repeat=repeat)
    return min(batches) / number * 1e6, sum(batches) / (number * repeat) * 1e6


for name, fn, number, repeat in [
    ("seal", seal, 30, 300),
    ("open", open_, 30, 300),
    ("phrase", decode_phrase, 1000, 200),
]:
    best, mean = measure(fn, number, repeat)
    print(f"{name}\t{mean:.2f}\t{best:.2f}")
