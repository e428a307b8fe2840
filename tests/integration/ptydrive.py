#!/usr/bin/python3
"""ptydrive.py — run a command on a pseudo-terminal and answer its prompts
(tests only): ptydrive.py PROMPT ANSWER [PROMPT ANSWER ...] -- CMD [ARGS...]
Prints everything the terminal showed, then "EXIT <status>". Used to check
that crtoken-enroll asks on the terminal, in order, without echo."""
import os
import pty
import sys
import time

sep = sys.argv.index("--")
pairs = sys.argv[1:sep]
cmd = sys.argv[sep + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
seen = b""


def read_until(pattern, timeout=20):
    global seen
    end = time.time() + timeout
    while pattern not in seen and time.time() < end:
        try:
            seen += os.read(fd, 4096)
        except OSError:
            return


for i in range(0, len(pairs), 2):
    read_until(pairs[i].encode())
    os.write(fd, pairs[i + 1].encode() + b"\n")
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    seen += data
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
print("EXIT %d" % os.waitstatus_to_exitcode(status))
