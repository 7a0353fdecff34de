#!/usr/bin/env python3
"""Drive QEMU over QMP for the lab tests (Python's standard library only).

    qmp.py SOCKET COMMAND [JSON-ARGUMENTS]
    qmp.py SOCKET device_del ID [--timeout SECONDS]
    qmp.py SOCKET wait-gone ID [--timeout SECONDS]

Connects (waiting for the socket up to the timeout), negotiates
capabilities, runs COMMAND with its arguments and prints the "return"
value as JSON.  device_del also waits for QEMU's DEVICE_DELETED event for
ID; wait-gone waits until /machine/peripheral no longer lists ID.  An
error answer is printed with QEMU's own class and description, and the
exit status is 1; no answer, a closed socket or a timeout (default 120 s)
exit 2 with what was awaited.  Never waits without a bound.
"""
import json
import socket
import sys
import time


class QMPError(Exception):
    pass


class QMP:
    def __init__(self, path, timeout):
        self.deadline = time.monotonic() + timeout
        self.buf = b""
        self.events = []
        self.sock = None
        while True:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.settimeout(self.left())
                s.connect(path)
                self.sock = s
                break
            except OSError as e:
                s.close()
                if time.monotonic() >= self.deadline:
                    raise TimeoutError(f"cannot connect to {path}: {e}")
                time.sleep(0.1)
        greeting = self.read()
        if "QMP" not in greeting:
            raise QMPError(f"not a QMP greeting: {greeting}")
        self.command("qmp_capabilities")

    def left(self):
        return max(0.01, self.deadline - time.monotonic())

    def read(self):
        """One JSON message (a line); events are kept aside by callers."""
        while b"\n" not in self.buf:
            self.sock.settimeout(self.left())
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("no answer from QEMU")
            except ConnectionResetError:
                # closed with our command unread: the same as a close
                chunk = b""
            if not chunk:
                raise ConnectionError("QEMU closed the QMP socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            raise QMPError(f"not JSON from QEMU: {line[:200]!r}")

    def command(self, name, args=None):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        try:
            self.sock.sendall(json.dumps(msg).encode() + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            raise ConnectionError("QEMU closed the QMP socket")
        while True:
            m = self.read()
            if "event" in m:
                self.events.append(m)
                continue
            if "error" in m:
                e = m["error"]
                raise QMPError(f"{name}: {e.get('class', '?')}: {e.get('desc', '?')}")
            if "return" in m:
                return m["return"]

    def wait_event(self, name, pred):
        for m in self.events:
            if m.get("event") == name and pred(m.get("data", {})):
                return m
        while True:
            m = self.read()
            if m.get("event") == name and pred(m.get("data", {})):
                return m

    def peripherals(self):
        return {p["name"] for p in self.command("qom-list", {"path": "/machine/peripheral"})}


def main(argv):
    timeout = 120.0
    if "--timeout" in argv:
        i = argv.index("--timeout")
        try:
            timeout = float(argv[i + 1])
        except (IndexError, ValueError):
            raise SystemExit("qmp.py: --timeout takes seconds")
        del argv[i:i + 2]
    if len(argv) < 3:
        raise SystemExit(__doc__)
    path, cmd = argv[1], argv[2]
    args = None
    if cmd not in ("device_del", "wait-gone") and len(argv) > 3:
        try:
            args = json.loads(argv[3])
        except ValueError as e:
            print(f"qmp.py: {cmd}: the arguments are not JSON: {e}", file=sys.stderr)
            return 2
    elif cmd in ("device_del", "wait-gone") and len(argv) < 4:
        print(f"qmp.py: {cmd} needs a device id", file=sys.stderr)
        return 2
    try:
        q = QMP(path, timeout)
        if cmd == "device_del":
            dev = argv[3]
            q.command("device_del", {"id": dev})
            q.wait_event("DEVICE_DELETED", lambda d: d.get("device") == dev)
            print(json.dumps({"deleted": dev}))
        elif cmd == "wait-gone":
            dev = argv[3]
            while dev in q.peripherals():
                if time.monotonic() >= q.deadline:
                    raise TimeoutError(f"{dev} still in /machine/peripheral")
                time.sleep(0.2)
            print(json.dumps({"gone": dev}))
        else:
            print(json.dumps(q.command(cmd, args)))
    except QMPError as e:
        print(f"qmp.py: QEMU says: {e}", file=sys.stderr)
        return 1
    except TimeoutError as e:
        print(f"qmp.py: {cmd}: {e} (waited at most {timeout:g} s)", file=sys.stderr)
        return 2
    except (ConnectionError, OSError) as e:
        print(f"qmp.py: {cmd}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
