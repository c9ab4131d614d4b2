#!/usr/bin/env python3
"""Crash safety: SIGKILL the server in the middle of a write load, restart it on the same
database, and check that the ledger still verifies (hash chain and balances) and that every
request that got a 2xx answer is there.

    scripts/crash-test.py [--bin .build/debug] [--seconds 3] [--term]

With --term the server gets SIGTERM instead, with an event stream open: it must stop accepting,
finish what is in flight, end the stream and exit 0 within 15 s — and lose nothing either.

The load is energy reports (each one mints LT, lists a sell order, chains a carbon record, all in
one transaction), signed by commissioned devices as the shipped trust policy requires; the
scratch config raises max_rated_kw so that the load is not bounded by physics. Needs the
`cryptography` package (Ed25519), like scripts/pi-sim.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from device_signature import signature_headers


def request(port, method, path, body=None, token=None, device_key=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if device_key:
        for name, value in signature_headers(device_key, method, path, data).items():
            req.add_header(name, value)
    with urllib.request.urlopen(req, timeout=5) as response:
        return response.status, json.loads(response.read() or b"{}")


def start(binary, config, database, port):
    env = dict(os.environ, STELLTRON_RATE_LIMIT_PER_MINUTE="0", LOG_LEVEL="error")
    process = subprocess.Popen([binary, "serve", "--config", config, "--port", str(port), "--database", database],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            request(port, "GET", "/health")
            return process
        except OSError:
            time.sleep(0.01)
    process.kill()
    sys.exit("server did not start")


def scratch_setup(bin_dir):
    """A scratch folder with plugins.conf pointing at `bin_dir` and max_rated_kw raised (so that a
    load is not bounded by physics); answers (config path, database path)."""
    scratch = tempfile.mkdtemp()
    config = os.path.join(scratch, "plugins.conf")
    with open("plugins.conf") as source, open(config, "w") as target:
        target.write(source.read().replace('# plugin_dir = "/opt/stelltron/plugins"', f'plugin_dir = "{os.path.abspath(bin_dir)}"')
                     .replace("max_rated_kw = 10.0", "max_rated_kw = 1000000.0"))
    return config, os.path.join(scratch, "data", "stelltron.sqlite")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/debug")
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--term", action="store_true", help="a clean shutdown (SIGTERM) instead of SIGKILL")
    args = parser.parse_args()
    binary = os.path.abspath(os.path.join(args.bin, "stelltron"))
    config, database = scratch_setup(args.bin)
    server = start(binary, config, database, args.port)
    proof = json.loads(subprocess.check_output([os.path.join(args.bin, "stelltron-bench"), "wallet"]))
    request(args.port, "POST", "/api/v1/auth/signup", proof)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    device_key = Ed25519PrivateKey.generate()
    public_key = device_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    # The operator's console commissions the device for the signed-up owner, on the live database.
    subprocess.check_call([binary, "call", "iot.commission", json.dumps({
        "device_id": "rpi-crash", "public_key": public_key, "rated_kw": 1000000, "owner_id": proof["wallet_address"]}),
        "--config", config, "--database", database], stdout=subprocess.DEVNULL)
    time.sleep(0.1)  # at 1 GW, 0.01 kWh needs 36 µs of credited time

    acknowledged = {}
    lock = threading.Lock()
    stop = threading.Event()

    def load(worker):
        sequence = 0
        while not stop.is_set():
            sequence += 1
            report_id = f"w{worker}-{sequence}"
            try:
                status, body = request(args.port, "POST", "/iot/energy/report",
                                       {"device_id": "rpi-crash", "kwh_transferred": 0.01, "avg_voltage": 3.9, "report_id": report_id},
                                       device_key=device_key)
                if 200 <= status < 300:
                    with lock:
                        acknowledged[report_id] = body["tx_hash"]
            except (OSError, urllib.error.URLError, ValueError):
                pass  # in flight when the server died: not acknowledged, may or may not have landed

    stream = socket.create_connection(("127.0.0.1", args.port), timeout=20)
    stream.sendall(b"GET /iot/events HTTP/1.1\r\nHost: x\r\n\r\n")
    workers = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(args.seconds)
    if args.term:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            sys.exit("shutdown test: the server did not exit within 15 s of SIGTERM")
        stream_ended = False
        stream.settimeout(5)
        try:
            while stream.recv(65536):
                pass
            stream_ended = True  # end of stream: the server closed it
        except ConnectionResetError:
            stream_ended = True
        except socket.timeout:
            pass
        if code != 0 or not stream_ended:
            sys.exit(f"shutdown test: exit code {code}, event stream ended: {stream_ended}")
    else:
        server.send_signal(signal.SIGKILL)
        server.wait()
    stream.close()
    stop.set()
    for worker in workers:
        worker.join()

    server = start(binary, config, database, args.port)
    try:
        verify = request(args.port, "GET", "/api/v1/ledger/verify")[1]
        minted, offset = set(), 0
        while True:
            page = request(args.port, "GET", f"/api/v1/ledger/mints?limit=200&offset={offset}")[1]
            minted.update(m["tx_hash"] for m in page["mints"])
            if len(page["mints"]) < 200:
                break
            offset += 200
        missing = [rid for rid, tx in acknowledged.items() if tx not in minted]
        print(f"{'shutdown' if args.term else 'crash'} test: {len(acknowledged)} acknowledged reports, {len(minted)} mints after restart, "
              f"{len(missing)} missing, ledger valid={verify['valid']} entries={verify['entries']}")
        if not acknowledged or missing or not verify["valid"]:
            sys.exit(1)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
