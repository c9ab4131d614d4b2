#!/usr/bin/env python3
"""Replays the field clients and the hostile clients of issue 14 (groups B and C) against a live
`stelltron serve` on loopback, and fails on any regression.

    scripts/hostile-clients.py [--bin .build/debug]

Every check is bounded in count and time; nothing leaves 127.0.0.1. Standard library only.
Prints one line per check and a closing "N passed, M failed".
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import selectors
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PORT = 18777
SECRET = "hostile-clients-secret-of-32-bytes-or-more"
results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(f"{'ok  ' if condition else 'FAIL'} {name}{'' if condition else ' — ' + str(detail)[:300]}")


def http(method, path, body=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def is_json_error(data):
    try:
        return isinstance(json.loads(data).get("error"), str)
    except (ValueError, AttributeError):
        return False


def raw_exchange(payload, half_close=True, timeout=10):
    with socket.create_connection(("127.0.0.1", PORT), timeout=timeout) as connection:
        connection.sendall(payload)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except socket.timeout:
            pass
        return answer


def start(binary, config, database):
    env = dict(os.environ, LOG_LEVEL="error")
    process = subprocess.Popen([binary, "serve", "--config", config, "--port", str(PORT), "--database", database],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            if http("GET", "/health")[0] == 200:
                return process
        except OSError:
            time.sleep(0.02)
    process.kill()
    sys.exit("server did not start")


def field_clients():
    status, _ = http("POST", "/iot/ping", {"device_id": "sim-230", "voltage": 230.1, "battery_level": 70, "state": "IDLE"})
    check("B5 a ping at mains voltage without nodes_detail is accepted", status == 200, status)
    http("POST", "/iot/ping", {"device_id": "00:A0:C9:1E:6B:F1", "nodes_detail": [
        {"uid": "N1", "voltage": 3.95, "soc": 85, "state": None}, {"uid": "N2", "voltage": 3.6, "soc": 20, "state": "IDLE"}]})
    status, data = http("POST", "/iot/cmd", {"device_id": "00:A0:C9:1E:6B:F1"})
    commands = json.loads(data).get("commands", []) if status == 200 else []
    check("B6 /iot/cmd with only device_id answers commands for the reported nodes",
          [c.get("action") for c in commands] == ["discharge", "charge"], (status, data))
    status, data = http("POST", "/api/v1/iot/energy/report", {"device_id": "00:A0:C9:1E:6B:F1", "kwh_transferred": 0.1})
    check("B7 /api/v1/iot/energy/report exists (an unsigned report is refused, not 404)", status in (401, 403) and is_json_error(data), status)


def hostile_requests(database):
    answer = raw_exchange(b"POST /iot/ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
    check("C10 a malformed chunk size is a 400", answer.startswith(b"HTTP/1.1 400") and b'{"error"' in answer, answer[:80])
    answer = raw_exchange(b"POST /iot/ping HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"device_id\":")
    check("C10 a body cut short is a 400 or a closed connection", answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer[:80])

    modes = [stat.S_IMODE(os.stat(database + suffix).st_mode) for suffix in ("", "-wal", "-shm") if os.path.exists(database + suffix)]
    secret = os.path.join(os.path.dirname(database), "jwt-secret")
    check("C11 the database files are 0600", modes and all(mode == 0o600 for mode in modes), [oct(m) for m in modes])
    check("C11 no JWT secret file is written when one is configured", not os.path.exists(secret))

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    now = int(time.time())
    for alg, digest, lifetime, name in [("HS512", hashlib.sha512, 900, "another algorithm"), ("HS256", hashlib.sha256, 10 ** 7, "an unbounded lifetime")]:
        header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        claims = b64(json.dumps({"sub": "G" + "A" * 55, "user_id": "G" + "A" * 55, "role": "Donor", "iat": now, "exp": now + lifetime}).encode())
        signature = b64(hmac.new(SECRET.encode(), f"{header}.{claims}".encode(), digest).digest())
        status, _ = http("GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {header}.{claims}.{signature}"})
        check(f"C12 a token with {name} is refused", status == 401, status)

    bad = [{"device_id": "rpi-x", "connected_nodes": [{"uid": "A", "voltage": -5}]},
           {"device_id": "rpi-x", "connected_nodes": [{"uid": "A", "voltage": 1e308}]},
           {"device_id": "rpi-x", "nodes_detail": [{"uid": "A", "voltage": 3.9, "soc": 50, "state": "<script>"}]},
           {"device_id": "r\u0440i-x", "status": "heartbeat"},
           {"device_id": "rpi-x", "source": "a\u0000b"}]
    statuses = [http("POST", "/iot/ping", body)[0] for body in bad]
    check("C13 out-of-range voltages, free-text states, homoglyph ids and NUL are 400", statuses == [400] * len(bad), statuses)

    def records():
        return json.loads(http("GET", "/api/v1/ledger/price-history")[1]).get("total_records")
    proof = json.loads(subprocess.check_output([os.path.join(os.path.dirname(args.bin_path), "stelltron-bench"), "wallet"]))
    http("POST", "/api/v1/auth/signup", proof)
    token = json.loads(http("POST", "/api/v1/auth/login", proof)[1])["access_token"]
    time.sleep(1.2)  # let the market's tick record the first quote
    before = records()
    for flip in range(50):
        http("POST", "/iot/ping", {"device_id": "rpi-flip", "nodes_detail": [{"uid": "A", "voltage": 3.9, "soc": 10 if flip % 2 else 90, "state": "IDLE"}]})
        http("GET", "/api/v1/market/price", headers={"Authorization": f"Bearer {token}"})
    after = records()
    check("C14 50 telemetry flips and GETs add at most one price record", after - before <= 1, (before, after))

    verify = json.loads(http("GET", "/api/v1/ledger/verify")[1])
    check("C15 the public verify reports where it started", verify.get("valid") is True and "checked_from_seq" in verify, verify)


def hostile_connections():
    # SSE amplification: CR/LF padding and unknown fields never reach a subscriber.
    stream = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    stream.sendall(b"GET /iot/events HTTP/1.1\r\nHost: x\r\n\r\n")
    stream.recv(4096)
    padding = "\r\n\r" * 8000
    body = ('{' + padding + '"device_id":"rpi-pad",' + padding + '"voltage":3.9,"junk":"' + "x" * 2000 + '"}').encode()
    http("POST", "/iot/ping", raw=body, headers={"Content-Type": "application/json"})
    received = b""
    deadline = time.time() + 5
    while b"rpi-pad" not in received and time.time() < deadline:
        received += stream.recv(65536)
    frame = next((line for line in received.split(b"\n") if b"rpi-pad" in line), b"")
    check("C9 a padded ping reaches subscribers compact, without CR or unknown fields",
          frame and b"\r" not in frame and b"junk" not in frame and len(frame) < 300, frame[:120])
    stream.close()

    # Live feeds per address: the shipped quota is 16 (the stream above is closed).
    feeds = []
    for _ in range(16):
        feed = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        feed.sendall(b"GET /iot/events HTTP/1.1\r\nHost: x\r\n\r\n")
        feed.recv(4096)
        feeds.append(feed)
    status, data = http("GET", "/iot/events")
    check("C8 the 17th live feed from one address is a 429", status == 429 and is_json_error(data), status)
    upgrade = (b"GET /ws/market HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    answer = raw_exchange(upgrade)
    check("C8 a WebSocket beyond the feed quota is closed at once with a reason", b"live feeds" in answer, answer[:120])
    for feed in feeds:
        feed.close()

    # Half-sent requests: the quota of 64 connections, and the request timeout (10 s).
    started = time.time()
    slow = []
    for _ in range(80):
        connection = socket.create_connection(("127.0.0.1", PORT), timeout=20)
        connection.sendall(b"POST /iot/ping HTTP/1.1\r\nHost: x\r\nContent-Le")
        slow.append(connection)
    closed_at = []
    waiting = selectors.DefaultSelector()
    for connection in slow:
        waiting.register(connection, selectors.EVENT_READ)
    while waiting.get_map() and time.time() - started < 20:
        for key, _ in waiting.select(timeout=1):
            try:
                key.fileobj.recv(1)
            except (socket.timeout, ConnectionResetError):
                pass
            closed_at.append(time.time() - started)
            waiting.unregister(key.fileobj)
            key.fileobj.close()
    closed_at += [99.0] * len(waiting.get_map())
    check("C8 80 half-sent requests: all closed within the request timeout", max(closed_at) < 15, round(max(closed_at), 1))
    check("C8 connections beyond 64 from one address are refused at once", sorted(closed_at)[15] < 2, sorted(closed_at)[:20])
    status, _ = http("GET", "/health")
    check("C8 the host serves again once they are gone", status == 200, status)


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/debug")
    args = parser.parse_args()
    args.bin_path = os.path.abspath(os.path.join(args.bin, "stelltron"))
    scratch = tempfile.mkdtemp()
    config = os.path.join(scratch, "plugins.conf")
    with open("plugins.conf") as source, open(config, "w") as target:
        text = source.read().replace('# plugin_dir = "/opt/stelltron/plugins"', f'plugin_dir = "{os.path.abspath(args.bin)}"')
        text = text.replace('# jwt_secret = "..."', f'jwt_secret = "{SECRET}"').replace("rate_limit_per_minute = 100", "rate_limit_per_minute = 0")
        target.write(text)
    database = os.path.join(scratch, "data", "stelltron.sqlite")
    server = start(args.bin_path, config, database)
    try:
        field_clients()
        hostile_requests(database)
        hostile_connections()
    finally:
        server.terminate()
        server.wait()
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
