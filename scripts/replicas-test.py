#!/usr/bin/env python3
"""Three Stelltron replicas on one PostgreSQL database behind nginx (round robin), end to end.

    scripts/replicas-test.py [--bin .build/debug] [--database postgres://USER@HOST:PORT/DB]

Without --database it starts the private cluster of scripts/postgres-cluster.sh. Either way it
creates a fresh database for the run. Then, through the balancer unless said otherwise:

  1. 20 parallel unstakes of one stake pay once; 20 parallel stakes of 10 LT from 100 LT: ten land;
     a buy placed on replica 2 matches a sell placed on replica 1 (one order book);
  2. one signed energy report sent 10 times at once (same report_id, fresh nonces) mints once
     (every answer is the first one's);
  3. an SSE subscriber on replica 1 sees events made through replicas 2 and 3 directly;
  4. `Last-Event-ID` replay through replica 3 continues where replica 1's stream was, same ids;
  5. the per-address rate limit holds across replicas (60 a minute, wherever requests land);
  6. SIGKILL of the replica holding the periodic-work lease under a signed write load: every
     acknowledged report is in the ledger, the ledger verifies, the other two replicas answer
     throughout, and one of them takes the lease over.

Needs nginx (Debian's package), PostgreSQL (Debian's postgresql) and the `cryptography` package.
Prints one line per check and exits 1 if any failed.
"""
import argparse
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from concurrent.futures import ThreadPoolExecutor

from device_signature import signature_headers

BALANCER = 18380
REPLICAS = [18381, 18382, 18383]
RATE_LIMIT = 60
failures = []


def check(name, condition, detail=""):
    print(f"{'PASS' if condition else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
    if not condition:
        failures.append(name)


# The replicas see the rightmost address nginx was not (X-Forwarded-For): each request a random one
# of 16 million, so that no load runs into the per-address limit — except the rate-limit case's own
# address, which is outside that range.
LIMITED_CLIENT = "192.0.2.77"


def random_address():
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def request(port, method, path, body=None, token=None, device_key=None, client=None, timeout=10):
    """One HTTP request; answers (status, JSON body). `client` is the address the replicas see
    (nginx appends its peer to X-Forwarded-For; the replicas trust 127.0.0.1 as a proxy)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json", "X-Forwarded-For": client or random_address()})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if device_key:
        for name, value in signature_headers(device_key, method, path, data).items():
            req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_for(port, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if request(port, "GET", "/health", timeout=1)[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


class SSE:
    """A raw `/iot/events` stream on one replica."""

    def __init__(self, port, last_event_id=None):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        extra = f"Last-Event-ID: {last_event_id}\r\n" if last_event_id is not None else ""
        self.socket.sendall(f"GET /iot/events HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {random_address()}\r\n{extra}\r\n".encode())
        self.buffer = b""

    def next(self, seconds=10):
        """The next event as (id, data); None on timeout."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            while b"\n\n" in self.buffer:
                block, self.buffer = self.buffer.split(b"\n\n", 1)
                lines = block.decode(errors="replace").splitlines()
                ids = [line[4:] for line in lines if line.startswith("id: ")]
                data = [line[6:] for line in lines if line.startswith("data: ")]
                if ids and data:
                    return int(ids[0]), json.loads(data[0])
            self.socket.settimeout(max(0.05, deadline - time.time()))
            try:
                chunk = self.socket.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                return None
            self.buffer += chunk
        return None

    def close(self):
        self.socket.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/debug")
    parser.add_argument("--database", help="postgres://USER@HOST:PORT/DB of a server to create the run's database on")
    args = parser.parse_args()
    binary = os.path.abspath(os.path.join(args.bin, "stelltron"))
    server_url = args.database or subprocess.check_output(["scripts/postgres-cluster.sh", "start"], text=True).strip()
    database = subprocess.check_output(["scripts/postgres-cluster.sh", "database", server_url, "stelltron_e2e"], text=True).strip()
    name = database.rsplit("/", 1)[1]

    scratch = tempfile.mkdtemp(prefix="stelltron-replicas-")
    config = os.path.join(scratch, "plugins.conf")
    with open("plugins.conf") as source, open(config, "w") as target:
        target.write(source.read().replace('# plugin_dir = "/opt/stelltron/plugins"', f'plugin_dir = "{os.path.abspath(args.bin)}"')
                     .replace("max_rated_kw = 10.0", "max_rated_kw = 1000000.0"))
    environment = dict(os.environ, STELLTRON_JWT_SECRET=secrets.token_hex(32), STELLTRON_TRUSTED_PROXIES="127.0.0.1",
                       STELLTRON_RATE_LIMIT_PER_MINUTE=str(RATE_LIMIT), LOG_LEVEL="info")

    # Any number of replicas may start at once on an empty database: migrations run once.
    logs, replicas = [], []
    for port in REPLICAS:
        log = open(os.path.join(scratch, f"replica-{port}.log"), "w+")
        logs.append(log)
        replicas.append(subprocess.Popen([binary, "serve", "--config", config, "--port", str(port), "--database", database],
                                         env=environment, stdout=log, stderr=subprocess.STDOUT))
    nginx_conf = os.path.join(scratch, "nginx.conf")
    upstreams = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in REPLICAS)
    with open(nginx_conf, "w") as conf:
        conf.write(f"""
worker_processes 1;
pid {scratch}/nginx.pid;
error_log {scratch}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {scratch}/body; proxy_temp_path {scratch}/proxy; fastcgi_temp_path {scratch}/fastcgi;
    uwsgi_temp_path {scratch}/uwsgi; scgi_temp_path {scratch}/scgi;
    upstream stelltron {{
{upstreams}
    }}
    server {{
        listen 127.0.0.1:{BALANCER};
        location / {{
            proxy_pass http://stelltron;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
""")
    nginx = subprocess.Popen(["nginx", "-p", scratch, "-c", nginx_conf, "-e", f"{scratch}/nginx-error.log", "-g", "daemon off;"])
    try:
        started = all(wait_for(port) for port in REPLICAS)
        check("three replicas started together on an empty database", started)
        if not started:
            for log in logs:
                log.seek(0)
                print(log.read()[-2000:])
            sys.exit(1)
        check("the balancer answers", wait_for(BALANCER))
        migrations = subprocess.check_output(["psql", "-tAq", database, "-c",
                                              "SELECT COUNT(*), COUNT(DISTINCT (plugin_id, migration_id)) FROM host_migrations"], text=True).strip()
        total, distinct = migrations.split("|")
        check("each migration recorded once", total == distinct and int(total) > 0, f"{total} rows")
        run_cases(binary, config, database, replicas, logs)
    finally:
        nginx.terminate()
        for process in replicas:
            if process.poll() is None:
                process.terminate()
        for process in replicas + [nginx]:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.call(["psql", "-q", server_url, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    print(f"replicas test: {len(failures)} failed" + (f" ({', '.join(failures)})" if failures else ""))
    sys.exit(1 if failures else 0)


def sign_in(bench):
    proof = json.loads(subprocess.check_output([bench, "wallet"]))
    status, _ = request(BALANCER, "POST", "/api/v1/auth/signup", proof)
    assert status in (200, 201), status
    status, tokens = request(BALANCER, "POST", "/api/v1/auth/login", proof)
    assert status == 200, tokens
    return proof["wallet_address"], tokens["access_token"]


def operator(binary, config, database, service, body):
    """The operator's console on the shared database (one transaction, like any replica's)."""
    return json.loads(subprocess.check_output([binary, "call", service, json.dumps(body), "--config", config, "--database", database]))


def balance(wallet):
    return request(BALANCER, "GET", f"/api/v1/ledger/balance/{wallet}")[1].get("balance")


def run_cases(binary, config, database, replicas, logs):
    bench = os.path.join(os.path.dirname(binary), "stelltron-bench")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    # 1. Concurrency through the balancer.
    alice, alice_token = sign_in(bench)
    operator(binary, config, database, "ledger.mint", {"account": alice, "amount_micro": 1_000_000_000, "reason": "e2e"})
    status, stake = request(BALANCER, "POST", "/api/v1/defi/pool/stake", {"amount": 100}, token=alice_token)
    check("a stake through the balancer", status == 201, f"{status} {stake}")
    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda _: request(BALANCER, "POST", "/api/v1/defi/pool/unstake", {"stake_id": stake.get("stake_id")},
                                                   token=alice_token)[0], range(20)))
    check("20 parallel unstakes over three replicas pay once", statuses.count(200) == 1, f"{sorted(statuses)}")
    after = balance(alice)
    check("the unstaked balance is the stake back, once", after is not None and 1000 <= after < 1001, f"{after}")

    bob, bob_token = sign_in(bench)
    operator(binary, config, database, "ledger.mint", {"account": bob, "amount_micro": 100_000_000, "reason": "e2e"})
    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda _: request(BALANCER, "POST", "/api/v1/defi/pool/stake", {"amount": 10}, token=bob_token)[0], range(20)))
    check("20 parallel stakes of 10 LT from 100 LT: ten land", statuses.count(201) == 10, f"{sorted(statuses)}")
    check("and the balance never goes below zero", balance(bob) == 0, f"{balance(bob)}")

    carol, _ = sign_in(bench)
    device = Ed25519PrivateKey.generate()
    public_key = device.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    operator(binary, config, database, "iot.commission",
             {"device_id": "rpi-e2e", "public_key": public_key, "rated_kw": 1000000, "owner_id": carol})
    time.sleep(0.1)
    before = request(BALANCER, "GET", "/api/v1/tokens/supply")[1]["total_mint_events"]
    report = {"device_id": "rpi-e2e", "kwh_transferred": 0.01, "avg_voltage": 3.9, "report_id": "e2e-once"}
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: request(BALANCER, "POST", "/iot/energy/report", report, device_key=device), range(10)))
    minted = request(BALANCER, "GET", "/api/v1/tokens/supply")[1]["total_mint_events"] - before
    # A repeated report_id answers the first report's answer again (behaviour §13): one mint, one tx_hash.
    hashes = {body.get("tx_hash") for status, body in answers if status == 200}
    check("one report_id sent 10 times at once mints once", minted == 1 and len(hashes) == 1,
          f"{sorted(status for status, _ in answers)}, {minted} mints, {len(hashes)} distinct tx_hash")

    # The order book is one: a sell placed on replica 1 matches a buy placed on replica 2.
    seller, seller_token = sign_in(bench)
    buyer, buyer_token = sign_in(bench)
    operator(binary, config, database, "ledger.mint", {"account": seller, "amount_micro": 1_000_000_000, "reason": "e2e"})
    operator(binary, config, database, "ledger.mint", {"account": buyer, "amount_micro": 100_000_000, "reason": "e2e"})
    sold = request(REPLICAS[0], "POST", "/api/v1/market/order/create", {"type": "sell", "kwh_amount": 0.5, "token_price": 9}, token=seller_token)
    bought = request(REPLICAS[1], "POST", "/api/v1/market/order/create", {"type": "buy", "kwh_amount": 0.3, "token_price": 10}, token=buyer_token)
    # (Cheaper sells listed earlier by energy reports match first: the book is the same for all.)
    from_seller = [trade for trade in bought[1].get("trades") or [] if trade.get("donor_id") == seller]
    check("a buy on replica 2 matches a sell placed on replica 1", sold[0] == 201 and bought[0] == 201 and bought[1].get("status") == "Matched"
          and len(from_seller) == 1, f"sell {sold[0]}, buy {bought[0]} {bought[1].get('status')}, "
          f"{len(bought[1].get('trades') or [])} trades, {len(from_seller)} with the seller")

    # 2. Events cross replicas; Last-Event-ID replays through another one.
    stream = SSE(REPLICAS[0])
    time.sleep(0.3)
    seen = []
    # Every event the live stream delivered, by id: other events (a tick's price_tick) may come
    # between the two pings' node_data, and the replay must match whichever came next.
    live = {}
    for port in REPLICAS[1:]:
        request(port, "POST", "/iot/ping", {"device_id": f"rpi-seen-{port}", "battery_level": 50, "voltage": 3.8})
    for _ in range(10):
        event = stream.next(5)
        if event is None:
            break
        live[event[0]] = event[1]
        if event[1].get("type") == "node_data":
            seen.append(event)
        if len(seen) == 2:
            break
    stream.close()
    devices = sorted(event[1]["payload"].get("device_id", "") for event in seen)
    check("an SSE subscriber on replica 1 sees events made through replicas 2 and 3",
          devices == [f"rpi-seen-{REPLICAS[1]}", f"rpi-seen-{REPLICAS[2]}"], f"{devices}")
    if seen:
        first_id = seen[0][0]
        replay = SSE(REPLICAS[2], last_event_id=first_id)
        replayed = replay.next(5)
        replay.close()
        check("Last-Event-ID replay through replica 3 continues with the same ids",
              replayed is not None and replayed[0] == first_id + 1 and len(seen) > 1 and replayed[1] == live.get(first_id + 1),
              f"after {first_id}: {replayed and replayed[0]} ({replayed and replayed[1].get('type')}; "
              f"live: {sorted((id, event.get('type')) for id, event in live.items())})")

    # 3. One address's limit, wherever its requests land.
    statuses = [request(BALANCER, "GET", "/health", client=LIMITED_CLIENT)[0] for _ in range(RATE_LIMIT + 10)]
    check(f"the rate limit ({RATE_LIMIT}/min) holds across replicas", RATE_LIMIT <= statuses.count(200) <= RATE_LIMIT + 2
          and statuses.count(429) >= 8, f"{statuses.count(200)} admitted, {statuses.count(429)} refused")

    # 4. SIGKILL the lease holder under a write load.
    def holder():
        for index, log in enumerate(logs):
            log.flush()
            log.seek(0)
            if "holds the periodic-work lease" in log.read():
                return index
        return None
    leaseholder = holder()
    check("exactly one replica holds the periodic-work lease",
          leaseholder is not None and sum("holds the periodic-work lease" in open(log.name).read() for log in logs) == 1)
    victim = leaseholder if leaseholder is not None else 1
    acknowledged, lock, stop = {}, threading.Lock(), threading.Event()
    survivors_failed = []

    def load(worker):
        sequence = 0
        while not stop.is_set():
            sequence += 1
            report_id = f"kill-{worker}-{sequence}"
            try:
                status, body = request(BALANCER, "POST", "/iot/energy/report",
                                       {"device_id": "rpi-e2e", "kwh_transferred": 0.01, "avg_voltage": 3.9, "report_id": report_id},
                                       device_key=device, timeout=10)
                if status == 200:
                    with lock:
                        acknowledged[report_id] = body["tx_hash"]
            except (OSError, ValueError):
                pass  # cut off with the killed replica: not acknowledged

    def watch_survivors():
        while not stop.is_set():
            for index, port in enumerate(REPLICAS):
                if index == victim:
                    continue
                try:
                    status = request(port, "GET", "/health", timeout=2)[0]
                    if status != 200:
                        survivors_failed.append(f"{port}: {status}")
                except OSError as error:
                    survivors_failed.append(f"{port}: {error}")
            time.sleep(0.05)

    workers = [threading.Thread(target=load, args=(n,)) for n in range(4)] + [threading.Thread(target=watch_survivors)]
    for worker in workers:
        worker.start()
    time.sleep(1.5)
    replicas[victim].send_signal(signal.SIGKILL)
    replicas[victim].wait()
    killed_at = len(acknowledged)
    time.sleep(2.5)
    stop.set()
    for worker in workers:
        worker.join()
    check("writes went on after the kill", len(acknowledged) > killed_at, f"{killed_at} before, {len(acknowledged)} in all")
    check("the other replicas answered throughout", not survivors_failed, f"{len(survivors_failed)} failed health checks {survivors_failed[:3]}")
    minted, offset = set(), 0
    while True:
        page = request(BALANCER, "GET", f"/api/v1/ledger/mints?limit=200&offset={offset}")[1]
        minted.update(mint["tx_hash"] for mint in page["mints"])
        if len(page["mints"]) < 200:
            break
        offset += 200
    missing = [report for report, tx in acknowledged.items() if tx not in minted]
    check("every acknowledged report is in the ledger", acknowledged and not missing, f"{len(acknowledged)} acknowledged, {len(missing)} missing")
    verify = request(BALANCER, "GET", "/api/v1/ledger/verify")[1]
    check("the ledger verifies", verify.get("valid") is True, f"{verify.get('entries')} entries")
    taken = None
    for _ in range(100):
        survivors = [index for index in range(len(REPLICAS)) if index != victim]
        taken = next((index for index in survivors if "holds the periodic-work lease" in open(logs[index].name).read()), None)
        if taken is not None:
            break
        time.sleep(0.1)
    check("another replica took the periodic-work lease over", taken is not None, f"replica {taken + 1 if taken is not None else '-'}")


if __name__ == "__main__":
    main()
