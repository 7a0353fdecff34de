"""A slow-client attack on an HTTP exporter, and a normal client beside it.

    python3 tests/host/slow_clients.py PORT --clients 40 --seconds 60 [--pid PID]

Opens CLIENTS connections that each send a partial request header one byte
every 2-8 s (reopening when the server closes one), while a normal client
scrapes /metrics every 0.5 s with a 10 s timeout.  Prints one JSON object:
scrapes tried and served, the slowest scrape, how many times the server
cut a slow connection, and with --pid the server's RSS before and after.
Exit status 0 if every scrape was served whole (status 200, ends in a
newline), else 1.
"""
import argparse
import http.client
import json
import random
import socket
import threading
import time

PARTIAL = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: "


def rss_kb(pid):
    if not pid:
        return None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def slow_client(port, stop, seed, stats, lock):
    rng = random.Random(seed)
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            with lock:
                stats["refused"] += 1
            stop.wait(1)
            continue
        with lock:
            stats["opened"] += 1
        data = PARTIAL + b"a" * 100000
        i = 0
        try:
            while not stop.is_set():
                s.send(data[i:i + 1])
                i += 1
                stop.wait(rng.uniform(2, 8))
                # the server cut us if the socket reads EOF or errors
                s.setblocking(False)
                try:
                    if s.recv(4096) == b"":
                        raise ConnectionResetError
                except BlockingIOError:
                    pass
                s.setblocking(True)
        except OSError:
            with lock:
                stats["cut"] += 1
        finally:
            s.close()


def scrape(port, timeout=10):
    """One normal scrape: True if served whole (200, ends in a newline)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", "/metrics")
        r = c.getresponse()
        body = r.read()
        return r.status == 200 and body.endswith(b"\n")
    except OSError:
        return False
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--clients", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--pid", type=int, default=0)
    a = ap.parse_args()

    stats = {"opened": 0, "cut": 0, "refused": 0}
    lock = threading.Lock()
    stop = threading.Event()
    scrape(a.port)  # the first scrape's buffers are not the attack's
    rss_before = rss_kb(a.pid)
    threads = [threading.Thread(target=slow_client, args=(a.port, stop, i, stats, lock))
               for i in range(a.clients)]
    for t in threads:
        t.start()
    tried = served = 0
    slowest = 0.0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        ok = scrape(a.port)
        slowest = max(slowest, time.monotonic() - t0)
        tried += 1
        served += ok
        time.sleep(0.5)
    rss_after = rss_kb(a.pid)
    stop.set()
    for t in threads:
        t.join()
    print(json.dumps({"slow_clients": a.clients, "seconds": a.seconds,
                      "scrapes_tried": tried, "scrapes_served": served,
                      "slowest_scrape_s": round(slowest, 3),
                      "slow_connections_opened": stats["opened"],
                      "slow_connections_cut": stats["cut"],
                      "slow_connections_refused": stats["refused"],
                      "rss_kb_before": rss_before, "rss_kb_after": rss_after}))
    return 0 if tried and served == tried else 1


if __name__ == "__main__":
    raise SystemExit(main())
