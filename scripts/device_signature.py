"""The device signature the iot plugin checks (README, "Trust model"), for the test scripts:
Ed25519 over "stelltron-device-v1\\n<METHOD>\\n<path>\\n<timestamp>\\n<nonce>\\n<sha256 of the body>".
scripts/pi-sim carries its own copy so that it stays one file to copy onto a Pi."""
import hashlib
import secrets
import time


def signature_headers(key, method, path, body):
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    message = "\n".join(["stelltron-device-v1", method, path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return {"X-Device-Timestamp": timestamp, "X-Device-Nonce": nonce, "X-Device-Signature": key.sign(message.encode()).hex()}
