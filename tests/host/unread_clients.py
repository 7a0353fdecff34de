"""Clients that ask for /metrics and never read the answer, and a normal one.

    python3 tests/host/unread_clients.py PORT --clients 1000 --seconds 15 --pid PID

Opens CLIENTS connections from 127.0.0.2 on, spread over --sources
addresses (8 by default: a per-address connection limit does not stop
them all; 1: one client's flood, which that limit must), each
with a 4 KiB receive buffer, that send `GET /metrics` (every other one
accepting gzip) and never read; one the server cuts is opened again.
Beside them a normal client scrapes every 0.5 s.  Prints one JSON object:
the server's peak RSS (VmHWM) before and at the end, scrapes tried and
served, connections opened.  Exit status 0 if every scrape was served
whole and the peak grew by at most --max-growth-mb, else 1.
"""
import argparse
import json
import resource
import socket
import threading
import time

from slow_clients import scrape

REQ = (b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
       b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def unread(port, i, sources, stop, stats, lock):
    src = "127.0.0.%d" % (2 + i % sources)
    while not stop.is_set():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            s.bind((src, 0))
            s.settimeout(10)
            s.connect(("127.0.0.1", port))
            s.sendall(REQ[i % 2])
            with lock:
                stats["opened"] += 1
            # never read: wait until the server gives up on us
            while not stop.is_set():
                s.setblocking(False)
                try:
                    s.recv(1, socket.MSG_PEEK)
                except BlockingIOError:
                    pass
                stop.wait(1)
                try:
                    s.getpeername()
                except OSError:
                    break
        except OSError:
            stop.wait(0.5)
        finally:
            s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--max-growth-mb", type=float, default=64)
    ap.add_argument("--sources", type=int, default=8)
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, a.clients + 256), hard))
    scrape(a.port, 15)  # the first rendering is not the attack's
    hwm_before = status_kb(a.pid, "VmHWM")
    stats = {"opened": 0}
    lock = threading.Lock()
    stop = threading.Event()
    threads = [threading.Thread(target=unread, args=(a.port, i, a.sources, stop, stats, lock), daemon=True)
               for i in range(a.clients)]
    for t in threads:
        t.start()
    tried = served = 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        tried += 1
        served += scrape(a.port, 15)
        time.sleep(0.5)
    hwm_after = status_kb(a.pid, "VmHWM")
    stop.set()
    for t in threads:
        t.join(15)
    growth_mb = (hwm_after - hwm_before) / 1024
    print(json.dumps({"unread_clients": a.clients, "sources": a.sources, "seconds": a.seconds,
                      "connections_opened": stats["opened"],
                      "scrapes_tried": tried, "scrapes_served": served,
                      "peak_rss_kb_before": hwm_before, "peak_rss_kb_after": hwm_after,
                      "peak_growth_mb": round(growth_mb, 1)}))
    return 0 if tried and served == tried and growth_mb <= a.max_growth_mb else 1


if __name__ == "__main__":
    raise SystemExit(main())
