"""A slow-client attack on an HTTP exporter, and a normal client beside it.

    python3 tests/host/slow_clients.py PORT --clients 40 --seconds 60 [--pid PID]
                                       [--tls CA-FILE [--auth USER:PASSWORD]
                                        [--flood USER:PASSWORD]]

Opens CLIENTS connections that each send a partial request header one byte
every 2-8 s (reopening when the server closes one), while a normal client
scrapes /metrics every 0.5 s with a 10 s timeout.  Prints one JSON object:
scrapes tried and served, the slowest scrape, how many times the server
cut a slow connection, and with --pid the server's RSS before and after.
Exit status 0 if every scrape was served whole (status 200, ends in a
newline), else 1.

With --tls the server speaks TLS (its certificate signed by CA-FILE): half
the slow clients trickle their request inside a finished handshake, the
other half trickle the handshake itself (a ClientHello a byte at a time),
and the normal client scrapes over TLS, with --auth as basic authentication.
With --flood the clients instead send whole requests with those (wrong)
credentials as fast as they are answered: a password guesser beside the
scraper.
"""
import base64
import ssl
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


# the first bytes of a TLS ClientHello: a record header and the handshake's
HELLO = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]) + b"\x00" * 100000


def slow_client(port, stop, seed, stats, lock, tls=None):
    rng = random.Random(seed)
    in_handshake = tls is not None and seed % 2 == 1
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            if tls is not None and not in_handshake:
                s = tls.wrap_socket(s, server_hostname="localhost")
        except OSError:
            with lock:
                stats["refused"] += 1
            stop.wait(1)
            continue
        with lock:
            stats["opened"] += 1
        data = HELLO if in_handshake else PARTIAL + b"a" * 100000
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
                except (BlockingIOError, ssl.SSLWantReadError):
                    pass
                s.setblocking(True)
        except OSError:
            with lock:
                stats["cut"] += 1
        finally:
            s.close()


def flood_client(port, stop, stats, lock, tls, auth):
    while not stop.is_set():
        scrape(port, tls=tls, auth=auth)
        with lock:
            stats["opened"] += 1


def scrape(port, timeout=10, tls=None, auth=None):
    """One normal scrape: True if served whole (200, ends in a newline)."""
    if tls is None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    else:
        c = http.client.HTTPSConnection("localhost", port, timeout=timeout, context=tls)
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    try:
        c.request("GET", "/metrics", headers=headers)
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
    ap.add_argument("--tls", metavar="CA-FILE")
    ap.add_argument("--auth", metavar="USER:PASSWORD")
    ap.add_argument("--flood", metavar="USER:PASSWORD")
    a = ap.parse_args()
    tls = ssl.create_default_context(cafile=a.tls) if a.tls else None

    stats = {"opened": 0, "cut": 0, "refused": 0}
    lock = threading.Lock()
    stop = threading.Event()
    scrape(a.port, tls=tls, auth=a.auth)  # the first scrape's buffers are not the attack's
    rss_before = rss_kb(a.pid)
    if a.flood:
        threads = [threading.Thread(target=flood_client, args=(a.port, stop, stats, lock, tls, a.flood))
                   for i in range(a.clients)]
    else:
        threads = [threading.Thread(target=slow_client, args=(a.port, stop, i, stats, lock, tls))
                   for i in range(a.clients)]
    for t in threads:
        t.start()
    tried = served = 0
    slowest = 0.0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        ok = scrape(a.port, tls=tls, auth=a.auth)
        slowest = max(slowest, time.monotonic() - t0)
        tried += 1
        served += ok
        time.sleep(0.5)
    rss_after = rss_kb(a.pid)
    stop.set()
    for t in threads:
        t.join()
    print(json.dumps({"slow_clients": a.clients, "seconds": a.seconds, "tls": bool(tls),
                      "scrapes_tried": tried, "scrapes_served": served,
                      "slowest_scrape_s": round(slowest, 3),
                      "slow_connections_opened": stats["opened"],
                      "slow_connections_cut": stats["cut"],
                      "slow_connections_refused": stats["refused"],
                      "rss_kb_before": rss_before, "rss_kb_after": rss_after}))
    return 0 if tried and served == tried else 1


if __name__ == "__main__":
    raise SystemExit(main())
