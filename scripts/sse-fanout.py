#!/usr/bin/env python3
"""SSE fan-out over real sockets: N clients on /iot/events, one event published (a device
heartbeat), and the time until each client received it. Prints p50/p99/max latency and the
server's resident memory per subscriber.

    scripts/sse-fanout.py --port 18080 --pid <server pid> --clients 1000 10000

Needs `ulimit -n` above the client count, for this process and the server. Standard library only.
"""
import argparse
import json
import selectors
import socket
import time
import urllib.request


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run(port, pid, count):
    selector = selectors.DefaultSelector()
    sockets = []
    before = rss_kib(pid)
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"GET /iot/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        client.setblocking(False)
        sockets.append(client)
        selector.register(client, selectors.EVENT_READ, bytearray())
    # Wait until every stream said ": connected", so all are subscribed before the event.
    connected = set()
    deadline = time.time() + 60
    while len(connected) < count and time.time() < deadline:
        for key, _ in selector.select(timeout=1):
            data = key.fileobj.recv(65536)
            key.data.extend(data)
            if b": connected" in key.data:
                connected.add(key.fileobj)
    time.sleep(0.5)
    during = rss_kib(pid)
    for key in list(selector.get_map().values()):
        key.data.clear()

    body = json.dumps({"device_id": "fanout-probe", "status": "heartbeat"}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/iot/ping", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    urllib.request.urlopen(request, timeout=10).read()
    latencies = []
    waiting = set(sockets)
    deadline = time.time() + 30
    while waiting and time.time() < deadline:
        for key, _ in selector.select(timeout=1):
            data = key.fileobj.recv(65536)
            key.data.extend(data)
            if key.fileobj in waiting and b"fanout-probe" in key.data:
                latencies.append(time.perf_counter() - start)
                waiting.discard(key.fileobj)
    for client in sockets:
        selector.unregister(client)
        client.close()
    latencies.sort()
    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
    print(f"sse_fanout clients={count} connected={len(connected)} received={len(latencies)} "
          f"p50_ms={pct(0.5):.1f} p99_ms={pct(0.99):.1f} max_ms={(latencies[-1] * 1000 if latencies else float('nan')):.1f} "
          f"server_rss_per_subscriber_kib={(during - before) / max(1, count):.1f}")
    time.sleep(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    for count in args.clients:
        run(args.port, args.pid, count)


if __name__ == "__main__":
    main()
