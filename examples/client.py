#!/usr/bin/env python3
"""A modtrack client in Python 3, standard library only, written from docs/protocol.md.

Queries a watched root, prints its changes, and blesses the result (a real consumer would back
the changes up before blessing). Usage: client.py SOCKET ROOT [CONSUMER]

Without CONSUMER it acts as the root's default consumer; with it, as that named consumer (added
first with `modtrack consumers add ROOT CONSUMER`), which blesses on its own.
"""
import json
import socket
import sys


def call(sock, reader, request):
    """Sends one request line and returns the one-line response; an error ends the script."""
    sock.sendall((json.dumps(dict(request, v=1)) + "\n").encode("utf-8"))
    response = json.loads(reader.readline())
    if "error" in response:
        sys.exit("modtrack: %(message)s (%(code)s)" % response["error"])
    return response


def main(socket_path, root, consumer=None):
    named = {"consumer": consumer} if consumer else {}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(socket_path)
        reader = sock.makefile("r", encoding="utf-8")
        if call(sock, reader, {"cmd": "hello"})["protocol"] != 1:
            sys.exit("modtrack: this client speaks protocol version 1 only")
        result = call(sock, reader, dict({"cmd": "query", "root": root}, **named))
        if result["continuity"] not in ("intact", "reconciled"):
            print("continuity lost, rescan:", result["continuityReason"])
        for change in result["changes"]:
            print(change["kind"], change["path"], "from " + change["from"] if "from" in change else "")
        call(sock, reader, dict({"cmd": "bless", "root": root, "snapshot": result["snapshot"]}, **named))
        print("blessed", result["snapshot"])


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: client.py SOCKET ROOT [CONSUMER]")
    main(*sys.argv[1:])
