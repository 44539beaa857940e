#!/usr/bin/env python3
"""Drives `ssh -tt ARGS...` in a terminal of its own: asks the remote shell its size, resizes the
terminal (the ssh client then sends window-change), asks again, and prints everything it saw."""
import fcntl, os, pty, select, struct, sys, termios, time

pid, fd = pty.fork()
if pid == 0:
    os.execvp("ssh", ["ssh", "-tt", *sys.argv[1:]])


def resize(rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def read_until(marker, limit=20.0):
    seen, until = b"", time.time() + limit
    while marker not in seen and time.time() < until:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


resize(24, 80)
# The quotes keep the typed line (which the terminal echoes) from holding the marker itself.
os.write(fd, b"echo size-$(stty size | tr ' ' x)-o''ne\n")
out = read_until(b"-one\r\n")
resize(40, 100)
time.sleep(0.5)
os.write(fd, b"echo size-$(stty size | tr ' ' x)-t''wo; exit\n")
out += read_until(b"-two\r\n")
sys.stdout.write(out.decode(errors="replace"))
os.waitpid(pid, 0)
