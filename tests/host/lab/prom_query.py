"""Small helpers of the Prometheus end-to-end test (export-e2e.sh).

    prom_query.py free-port    a TCP port free on 127.0.0.1 now
    prom_query.py value        the single value of a /api/v1/query answer on
                               stdin ("N results" when not exactly one)
"""
import json
import socket
import sys


def main():
    if sys.argv[1:] == ["free-port"]:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
    elif sys.argv[1:] == ["value"]:
        r = json.load(sys.stdin)["data"]["result"]
        print(r[0]["value"][1] if len(r) == 1 else "%d results" % len(r))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
