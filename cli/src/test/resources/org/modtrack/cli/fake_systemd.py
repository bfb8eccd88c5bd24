"""Plays systemd's side of a Type=notify service that keeps descriptors in its file descriptor store.

usage: fake_systemd.py NOTIFY_SOCKET_PATH -- COMMAND...

Commands on stdin, one per line:
  start  starts COMMAND with NOTIFY_SOCKET, FDSTORE=8 and the stored descriptors placed from fd 3
         on (LISTEN_FDS, LISTEN_FDNAMES, and LISTEN_PID set to the service's own pid)
  kill   SIGKILLs the service and waits for it
  term   SIGTERMs it and waits
  quit   SIGKILLs it if it runs, closes the store, exits
Prints a line per event: "started PID", "ready", "stopping", "stored NAME", "removed NAME",
"exited STATUS" (negative: the signal).
"""
import fcntl
import os
import signal
import socket
import subprocess
import sys
import threading

lock = threading.Lock()
store = {}  # name -> this process's descriptor of the stored file


def say(line):
    print(line, flush=True)


def receive(sock):
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(sock, 65536, 16)
        except OSError:
            return
        fields = dict(l.split("=", 1) for l in msg.decode().split("\n") if "=" in l)
        name = fields.get("FDNAME", "stored")
        with lock:
            if fields.get("FDSTOREREMOVE") == "1" and name in store:
                os.close(store.pop(name))
                say("removed " + name)
            if fields.get("FDSTORE") == "1" and fds:
                if name in store:
                    os.close(store.pop(name))
                store[name] = fds[0]
                for extra in fds[1:]:
                    os.close(extra)
                say("stored " + name)
            elif fds:
                for fd in fds:
                    os.close(fd)
        if fields.get("READY") == "1":
            say("ready")
        if fields.get("STOPPING") == "1":
            say("stopping")


def start(path, command):
    with lock:
        names = list(store)
        fds = [store[n] for n in names]
    env = dict(os.environ, NOTIFY_SOCKET=path, FDSTORE="8")
    if fds:
        env["LISTEN_FDS"] = str(len(fds))
        env["LISTEN_FDNAMES"] = ":".join(names)

    def place():
        # Out of the way first, then to 3, 4, ...: the child's copies, as systemd passes them.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]
        for i, fd in enumerate(high):
            os.dup2(fd, 3 + i)
        for fd in high:
            os.close(fd)

    argv = ["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh"] + command
    p = subprocess.Popen(argv, env=env, preexec_fn=place, pass_fds=tuple(range(3, 3 + len(fds))),
                         stdin=subprocess.DEVNULL)
    say("started %d" % p.pid)
    return p


def main():
    path = sys.argv[1]
    command = sys.argv[sys.argv.index("--") + 1:]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    threading.Thread(target=receive, args=(sock,), daemon=True).start()
    service = None
    for line in sys.stdin:
        c = line.strip()
        if c == "start":
            service = start(path, command)
        elif c in ("kill", "term") and service is not None:
            service.send_signal(signal.SIGKILL if c == "kill" else signal.SIGTERM)
            say("exited %d" % service.wait(60))
            service = None
        elif c == "quit":
            break
    if service is not None:
        service.kill()
        service.wait(60)
    with lock:
        for fd in store.values():
            os.close(fd)
    say("quit")


if __name__ == "__main__":
    main()
