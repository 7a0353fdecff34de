"""Send one command to QEMU's human monitor on /tmp/mon.sock and print its answer (smoke.sh)."""
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
for _ in range(600):
    try:
        s.connect("/tmp/mon.sock"); break
    except OSError:
        time.sleep(0.1)
s.settimeout(60)
buf = b""
def until_prompt():
    global buf
    while not buf.rstrip().endswith(b"(qemu)"):
        buf += s.recv(4096)
    out, buf = buf, b""
    return out.decode(errors="replace")
until_prompt()
s.sendall(sys.argv[1].encode() + b"\n")
if sys.argv[1] != "quit":
    print(until_prompt())
