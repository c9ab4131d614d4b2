#!/usr/bin/env python3
"""SSE fan-out over real sockets: N clients on /iot/events, one event published (a device
heartbeat), and the time until each client received it. Prints p50/p99/max latency and the
server's resident memory per subscriber.

Two latencies per client: when this (single-threaded) script read the event, and when the event
arrived in the client's socket (the kernel's receive timestamp, SO_TIMESTAMPNS). With 10 000
sockets read one after another the first includes this script's own turn through them; the second
is the server's fan-out alone.

    scripts/sse-fanout.py --port 18080 --pid <server pid> --clients 1000 10000

Needs `ulimit -n` above the client count, for this process and the server. Standard library only.
"""
import argparse
import json
import selectors
import socket
import struct
import time
import urllib.request

# Linux's SO_TIMESTAMPNS (also the control message's type); Python's socket module lacks the name.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def arrival_seconds(ancillary, start_ns):
    """Seconds from start_ns to the kernel's receive timestamp of the read's last segment."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return (seconds * 1_000_000_000 + nanoseconds - start_ns) / 1e9
    return None


def run(port, pid, count):
    selector = selectors.DefaultSelector()
    sockets = []
    before = rss_kib(pid)
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port))
        client.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
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
    # The kernel stamps arrivals with the real-time clock.
    start_ns = time.time_ns()
    urllib.request.urlopen(request, timeout=10).read()
    latencies = []
    arrivals = []
    waiting = set(sockets)
    deadline = time.time() + 30
    while waiting and time.time() < deadline:
        for key, _ in selector.select(timeout=1):
            data, ancillary, _, _ = key.fileobj.recvmsg(65536, socket.CMSG_SPACE(16))
            key.data.extend(data)
            if key.fileobj in waiting and b"fanout-probe" in key.data:
                latencies.append(time.perf_counter() - start)
                arrivals.append(arrival_seconds(ancillary, start_ns))
                waiting.discard(key.fileobj)
    for client in sockets:
        selector.unregister(client)
        client.close()
    latencies.sort()
    arrivals = sorted(a for a in arrivals if a is not None)
    def pct(values, p):
        return values[min(len(values) - 1, int(p * len(values)))] * 1000 if values else float("nan")
    print(f"sse_fanout clients={count} connected={len(connected)} received={len(latencies)} "
          f"p50_ms={pct(latencies, 0.5):.1f} p99_ms={pct(latencies, 0.99):.1f} max_ms={pct(latencies, 1):.1f} "
          f"arrived_p50_ms={pct(arrivals, 0.5):.1f} arrived_p99_ms={pct(arrivals, 0.99):.1f} "
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
