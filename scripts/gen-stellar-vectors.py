#!/usr/bin/env python3
"""Writes Stellar sign-in test vectors with the reference Python SDK (pip install stellar-sdk).

Each vector: a keypair from a fixed seed, its G... address, a message and the SEP-53 signature
that wallets' signMessage produce: Ed25519 over SHA256("Stellar Signed Message:\\n" + message).
The Swift tests verify every vector, so the host agrees with a real Stellar implementation.

    python3 scripts/gen-stellar-vectors.py > Tests/StelltronTests/Vectors/stellar-sep53.json
"""
import base64
import hashlib
import json

import stellar_sdk
from stellar_sdk import Keypair

MESSAGES = ["los-tecnicos-auth", "los-tecnicos-auth:3f2a9c1e0b7d4e6f", "", "ünïcödé ☀ kWh"]

vectors = []
for index in range(8):
    seed = hashlib.sha256(f"stelltron test wallet {index}".encode()).digest()
    keypair = Keypair.from_raw_ed25519_seed(seed)
    message = MESSAGES[index % len(MESSAGES)]
    signature = keypair.sign_message(message)
    assert len(signature) == 64
    vectors.append({
        "address": keypair.public_key,
        "secret_seed": keypair.secret,
        "public_key_hex": keypair.raw_public_key().hex(),
        "message": message,
        "signature_base64": base64.b64encode(signature).decode(),
    })

print(json.dumps({"generator": f"stellar-sdk {stellar_sdk.__version__}", "vectors": vectors}, indent=2, ensure_ascii=False))
