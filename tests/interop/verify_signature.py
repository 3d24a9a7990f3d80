#!/usr/bin/env python3
"""Verifies tryvoha frames the way docs/signatures.md tells a third party to, with the
`cryptography` package and no tryvoha code: proof that the documentation alone is enough.

Usage: verify_signature.py KEYS.json STREAM.txt   (exit 0 when every data line verifies and at
least one tampered copy fails; prints the count)."""
import base64
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def verify(text, keys):
    i = text.rfind(',"sig":{')
    if i < 0:
        raise ValueError("no sig member")
    signed = (text[:i] + "}").encode("utf-8")
    sig = json.loads(text[i + 7:-1])
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[sig["kid"]]))
    key.verify(base64.b64decode(sig["ed25519"]), signed)


def main(keys_path, stream_path):
    keys = {k["kid"]: k["public_key"] for k in json.load(open(keys_path, encoding="utf-8"))["keys"]}
    frames = [line[len("data: "):].rstrip("\n") for line in open(stream_path, encoding="utf-8") if line.startswith("data: ")]
    for text in frames:
        verify(text, keys)
        tampered = text.replace('"seq":', '"seq":1', 1)
        try:
            verify(tampered, keys)
            sys.exit(f"a tampered frame verified: {tampered[:80]}")
        except InvalidSignature:
            pass
    print(f"{len(frames)} frames verified")
    sys.exit(0 if frames else 1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
