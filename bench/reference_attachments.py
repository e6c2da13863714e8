"""The attachment ciphers of crypto-core/benches/attachment.rs, done with OpenSSL (through the
`cryptography` package that session-python uses) and libsodium (PyNaCl), timed in this process on
the same 10,000,000-byte file. Prints one line per operation: name, milliseconds (best of 5).

encrypt_legacy: zero padding to P(n), AES-256-CBC with PKCS#7, HMAC-SHA256 over iv ‖ ct, SHA-256
                of the output (protocol-files §3.2).
decrypt_legacy: SHA-256 and HMAC checked, AES-256-CBC decrypted, cut to the size.
encrypt_deterministic: BLAKE2b-448 keyed with the seed over the data (the key and header), then
                secretstream (libsodium's, with its own random header: the cost is the same).
decrypt_deterministic: secretstream pull of every chunk.
"""

import hashlib
import hmac
import math
import os
import time

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from nacl import bindings as b

N = 10_000_000
FILE = os.urandom(N)
KEY = os.urandom(64)
SEED = bytes([7] * 32)
CHUNK = 32768


def padded_len(n):
    return min(max(541, math.floor(1.05 ** math.ceil(math.log(max(n, 1)) / math.log(1.05)))), 10_000_000)


def encrypt_legacy():
    iv = os.urandom(16)
    data = FILE + bytes(padded_len(N) - N)
    p = padding.PKCS7(128).padder()
    e = Cipher(algorithms.AES(KEY[:32]), modes.CBC(iv)).encryptor()
    ct = e.update(p.update(data) + p.finalize()) + e.finalize()
    mac = hmac.new(KEY[32:], iv + ct, hashlib.sha256).digest()
    out = iv + ct + mac
    return out, hashlib.sha256(out).digest()


SEALED, DIGEST = encrypt_legacy()


def decrypt_legacy():
    assert hmac.compare_digest(hashlib.sha256(SEALED).digest(), DIGEST)
    iv, ct, mac = SEALED[:16], SEALED[16:-32], SEALED[-32:]
    assert hmac.compare_digest(hmac.new(KEY[32:], SEALED[:-32], hashlib.sha256).digest(), mac)
    d = Cipher(algorithms.AES(KEY[:32]), modes.CBC(iv)).decryptor()
    u = padding.PKCS7(128).unpadder()
    return (u.update(d.update(ct) + d.finalize()) + u.finalize())[:N]


def encrypt_deterministic():
    h = hashlib.blake2b(FILE, digest_size=56, key=SEED, person=b"SessionAttachmnt").digest()
    key = h[24:]
    state = b.crypto_secretstream_xchacha20poly1305_state()
    header = b.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    chunks = [header]
    for i in range(0, N, CHUNK):
        tag = b.crypto_secretstream_xchacha20poly1305_TAG_FINAL if i + CHUNK >= N else 0
        chunks.append(b.crypto_secretstream_xchacha20poly1305_push(state, FILE[i:i + CHUNK], None, tag))
    return key, b"".join(chunks)


DKEY, STREAM = encrypt_deterministic()


def decrypt_deterministic():
    header, rest = STREAM[:24], STREAM[24:]
    state = b.crypto_secretstream_xchacha20poly1305_state()
    b.crypto_secretstream_xchacha20poly1305_init_pull(state, header, DKEY)
    out = []
    for i in range(0, len(rest), CHUNK + 17):
        m, _ = b.crypto_secretstream_xchacha20poly1305_pull(state, rest[i:i + CHUNK + 17], None)
        out.append(m)
    return b"".join(out)


for name, f in [("encrypt_legacy", encrypt_legacy), ("decrypt_legacy", decrypt_legacy),
                ("encrypt_deterministic", encrypt_deterministic), ("decrypt_deterministic", decrypt_deterministic)]:
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    print(f"{name} {best * 1000:.1f}")
