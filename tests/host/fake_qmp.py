#!/usr/bin/env python3
"""A QMP server that misbehaves as told, for tests/guest/qmp.py's bad-input
checks (tests/host/qmp.sh).

    fake_qmp.py SOCKET MODE

MODE: ok (answers every command with {}), error (answers commands after
qmp_capabilities with QEMU's GenericError), silent (accepts, never
greets), mute (greets, never answers a command), close (greets, then
closes), reset (greets, waits for a command and closes without reading
it: the client's read fails with ECONNRESET, not EOF), garbage (greets,
then answers with a line that is not JSON), noevent (device_del answers
{} but DEVICE_DELETED never comes).  Serves until killed.
"""
import json
import os
import select
import socket
import sys
import threading
import time

GREETING = {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}}


def serve(conn, mode):
    f = conn.makefile("rwb")

    def send(obj):
        f.write(json.dumps(obj).encode() + b"\n")
        f.flush()

    if mode == "silent":
        time.sleep(3600)
        return
    send(GREETING)
    if mode == "reset":
        select.select([conn], [], [])
    if mode in ("close", "reset"):
        f.close()
        conn.close()
        return
    for line in f:
        msg = json.loads(line)
        cmd = msg.get("execute")
        if mode == "mute":
            continue
        if cmd == "qmp_capabilities":
            send({"return": {}})
        elif mode == "garbage":
            f.write(b"this is not JSON\n")
            f.flush()
        elif mode == "error":
            send({"error": {"class": "GenericError", "desc": "Device 'nic9' not found"}})
        else:
            send({"return": {}})


def main():
    path, mode = sys.argv[1], sys.argv[2]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(8)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


main()
