#!/usr/bin/env python3
"""Writes a starting corpus of genuine payloads for the signed-payload targets, so the fuzzer
starts from inputs that pass every check and mutates from there:

    python3 seeds.py          # then: cargo fuzz run credential, trust_list, ...

The keys are the harness's fixed test keys (fuzz_targets/common.rs); the encoding is the one
docs/format.md describes, written by the small encoder below.
"""
import hashlib
import os
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, n)
    raise ValueError(n)


def cbor(v):
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        items = sorted((cbor(k), cbor(x)) for k, x in v.items())
        return head(5, len(items)) + b"".join(k + x for k, x in items)
    raise TypeError(v)


def private(secret_byte):
    return Ed25519PrivateKey.from_private_bytes(bytes([secret_byte]) * 32)


def public(secret_byte):
    return private(secret_byte).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def kid(public_key):
    return hashlib.sha256(public_key).digest()[:8]


def sign1(secret_byte, payload, content_type=None):
    header = {1: -19, 4: kid(public(secret_byte))}
    if content_type:
        header[3] = content_type
    protected = cbor(header)
    signature = private(secret_byte).sign(cbor(["Signature1", protected, b"", payload]))
    return cbor([protected, {}, payload, signature])


ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def base45(data):
    out = []
    for i in range(0, len(data), 2):
        chunk = data[i:i + 2]
        n = int.from_bytes(chunk, "big")
        for _ in range(3 if len(chunk) == 2 else 2):
            out.append(ALPHABET[n % 45])
            n //= 45
    return "".join(out)


NOW = 1_639_365_000
DAY = 86_400
issuer = public(2)
device = public(3)


def days(y, m, d):
    import datetime

    return (datetime.date(y, m, d) - datetime.date(1970, 1, 1)).days


def claims(name="김민준"):
    iat = NOW - 10 * DAY
    return cbor({
        1: "KR",
        4: iat + 365 * DAY,
        6: iat,
        7: bytes([0xC7, 1, 2, 3, 4, 5]),
        8: {1: {1: 1, -1: 6, -2: device}},
        -65537: {
            1: name,
            2: days(1985, 3, 14),
            3: [[1, 1, 2, days(2021, 6, 20)], [1, 2, 2, days(2021, 7, 25)],
                [1, 3, 2, days(2021, 12, 1)]],
            4: [[1, 0, iat - DAY]],
            5: [[days(2020, 12, 30)]],
        },
    })


def presentation(claims_bytes):
    credential = sign1(2, claims_bytes)
    message = (b"vaxpass presentation v1\0" + hashlib.sha256(credential).digest()
               + NOW.to_bytes(8, "big"))
    signature = private(3).sign(message)
    return cbor([kid(issuer), claims_bytes, credential[-64:], NOW, signature])


def enrolment_request(nonce, proof):
    message = (b"vaxpass enrolment v1\0" + hashlib.sha256(nonce).digest()
               + hashlib.sha256(proof).digest() + hashlib.sha256(device).digest())
    return cbor({1: nonce, 2: proof, 3: {1: 1, -1: 6, -2: device}, 4: private(3).sign(message)})


trust_payload = cbor({
    1: 1, 2: "KR", 3: NOW - 3600, 4: NOW + DAY,
    5: [{1: kid(issuer), 2: issuer, 3: NOW - 365 * DAY, 4: NOW + 365 * DAY, 5: NOW}],
})
revocation_payload = cbor({1: 1, 2: NOW - 3600, 3: NOW + DAY,
                           4: bytes([1]) * 16 + bytes([2]) * 16})
rules_payload = cbor({
    1: 1, 2: 1, 3: NOW - 3600, 4: NOW + DAY,
    5: [{1: days(2021, 12, 13), 2: 540, 3: {1: 14}, 4: [[1, 48]], 5: 180,
         6: [{1: "restaurant_cafe", 2: [1, 2, 3]}, {1: "exempt"}]},
        {1: days(2022, 1, 3), 2: 540, 3: {1: 14, 2: 180}, 4: [[1, 48], [2, 24]], 5: 180,
         6: [{1: "restaurant_cafe", 2: [1, 2, 3]}, {1: "large_store", 2: [1]}, {1: "exempt"}]}],
})
seeds = {
    "qr_text": [("VC1:" + base45(sign1(2, claims()))).encode(),
                ("VP1:" + base45(presentation(claims()))).encode()],
    "enrolment": [enrolment_request(bytes(32), b"proof"), cbor([sign1(2, claims())]),
                  sign1(2, claims())],
    "signed_lists": [sign1(1, trust_payload, "application/vaxpass-trust-list+cbor"),
                     sign1(1, revocation_payload, "application/vaxpass-revocation-list+cbor")],
    "trust_list": [trust_payload],
    "revocation_list": [revocation_payload],
    "rules_list": [rules_payload],
    "credential": [claims(), claims("Park Soon-ja")],
    "issued_bundle": [cbor([claims()]), cbor([claims(), claims("김서연")])],
}
here = os.path.dirname(os.path.abspath(__file__))
for target, inputs in seeds.items():
    folder = os.path.join(here, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for i, data in enumerate(inputs):
        with open(os.path.join(folder, f"genuine-{i}"), "wb") as f:
            f.write(data)
    print(f"{target}: {len(inputs)} seeds")
