#!/usr/bin/env python3
"""A mirror in Python 3, standard library only, written from docs/protocol.md.

Keeps the local directory DEST equal to the watched ROOT, one query/apply/bless cycle per run,
applying each result entry after entry in the order given (docs/protocol.md, "Applying a
result"). The first run copies everything. Usage: mirror.py SOCKET ROOT DEST

It remembers that the first copy is done in DEST + ".modtrack-mirror" (beside DEST, not in it). A
run that stops in the middle re-applies its next result from the start, which does no harm; it
blesses only after every entry is applied and the copies are synced. `modtrack mirror` is the
complete tool (progress saved, resumed results, rsync destinations).
"""
import json
import os
import shutil
import socket
import stat
import sys


def call(socket_path, request):
    """Sends one request on a connection of its own and returns the one-line response; an error
    ends the script. (A connection left idle while the mirror works would be closed by the daemon.)"""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(socket_path)
        sock.sendall((json.dumps(dict(request, v=1)) + "\n").encode("utf-8"))
        line = sock.makefile("r", encoding="utf-8").readline()
    if not line:
        sys.exit("modtrack: the daemon closed the connection without an answer")
    response = json.loads(line)
    if "error" in response:
        sys.exit("modtrack: %(message)s (%(code)s)" % response["error"])
    return response


class Mirror:
    """The steps of docs/protocol.md on a local directory."""

    def __init__(self, root, dest):
        self.root, self.dest = root.rstrip("/"), dest.rstrip("/")
        self.copied = 0

    def target(self, path):
        relative = os.path.relpath(path, self.root)
        return self.dest if relative == "." else os.path.join(self.dest, relative)

    def forget(self, path):
        t = self.target(path)
        if t == self.dest:
            for name in os.listdir(t):
                self.forget(os.path.join(path, name))
        elif os.path.isdir(t) and not os.path.islink(t):
            shutil.rmtree(t)
        elif os.path.lexists(t):
            os.unlink(t)

    def read(self, path):
        """Reads one path as it is now (a directory: itself only); something gone is forgotten."""
        t = self.target(path)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            self.forget(path)  # gone by now: a later result says where it went
            return
        if stat.S_ISDIR(st.st_mode):
            if not os.path.isdir(t) or os.path.islink(t):
                self.forget(path)
                os.makedirs(t)
            os.chmod(t, stat.S_IMODE(st.st_mode))
        elif stat.S_ISLNK(st.st_mode):
            self.forget(path)
            os.symlink(os.readlink(path), t)
        elif stat.S_ISREG(st.st_mode):
            if os.path.isdir(t) and not os.path.islink(t):
                shutil.rmtree(t)
            temporary = t + ".mirror-tmp"  # never a half-written file at the real name
            try:
                shutil.copy2(path, temporary)
            except FileNotFoundError:
                self.forget(path)
                return
            with open(temporary, "rb") as f:
                os.fsync(f.fileno())
            os.replace(temporary, t)
            self.copied += 1

    def read_tree(self, path):
        """Forgets what it had at path, then reads all of it."""
        self.forget(path)
        self.read(path)
        if os.path.isdir(path) and not os.path.islink(path):
            for name in sorted(os.listdir(path)):
                self.read_tree(os.path.join(path, name))

    def list_names(self, path):
        """A listing by names: drops the names the directory no longer has, reads the new ones whole;
        what changed below the names it keeps has entries of its own."""
        t = self.target(path)
        if not os.path.isdir(t) or os.path.islink(t):
            self.read_tree(path)
            return
        self.read(path)  # the directory's own attributes
        try:
            now = set(os.listdir(path))
        except (FileNotFoundError, NotADirectoryError):
            self.forget(path)  # gone by now: a later result says where it went
            return
        had = set(os.listdir(t))
        for name in sorted(had - now):
            self.forget(os.path.join(path, name))
        for name in sorted(now - had):
            self.read_tree(os.path.join(path, name))

    def current(self, path):
        """Whether what it has at path is what stands there now, as a stat tells."""
        try:
            a, b = os.lstat(path), os.lstat(self.target(path))
        except FileNotFoundError:
            return False
        return (stat.S_IFMT(a.st_mode) == stat.S_IFMT(b.st_mode) and a.st_size == b.st_size
                and a.st_mtime_ns == b.st_mtime_ns)

    def apply(self, change):
        """One entry, as the table in docs/protocol.md says."""
        kind, path = change["kind"], change["path"]
        if kind == "deleted":
            self.forget(path)
        elif kind == "renamed":
            source, target = self.target(change["from"]), self.target(path)
            if os.path.lexists(source):
                self.forget(path)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.rename(source, target)
                if change.get("changed", True) or not self.current(path):
                    self.read(path)
            elif change["directory"]:
                self.read_tree(path)
            else:
                self.forget(path)
                self.read(path)
        elif kind == "created":
            self.forget(path)
            self.read(path)
        elif kind == "modified":
            self.read(path)
        elif kind == "list" and change.get("namesOnly"):
            self.list_names(path)
        elif kind in ("rescan", "list"):  # a full "list" (--detail directories): reading it whole is the simple way
            self.read_tree(path)
        else:
            sys.exit("modtrack: a change of unknown kind %r: this client speaks protocol version 1" % kind)


    def read_other_links(self, root, changes):
        """A file is one entry, under one of its names: its other names (same device and inode) are read too."""
        named = {c["path"] for c in changes if c["links"] > 1 and not c["directory"]
                 and c["kind"] != "deleted" and (c["kind"] != "renamed" or c.get("changed", True))}
        inodes = set()
        for path in named:
            try:
                s = os.lstat(path)
                inodes.add((s.st_dev, s.st_ino))
            except FileNotFoundError:
                pass  # gone by now: a later result names it
        if not inodes:
            return
        for directory, _, files in os.walk(root):
            for name in files:
                path = os.path.join(directory, name)
                try:
                    s = os.lstat(path)
                except FileNotFoundError:
                    continue
                if (s.st_dev, s.st_ino) in inodes and path not in named:
                    self.read(path)


def main(socket_path, root, dest):
    state = dest.rstrip("/") + ".modtrack-mirror"
    mirror = Mirror(root, dest)
    if call(socket_path, {"cmd": "hello"})["protocol"] != 1:
        sys.exit("modtrack: this client speaks protocol version 1 only")
    result = call(socket_path, {"cmd": "query", "root": root})
    os.makedirs(dest, exist_ok=True)
    if not os.path.exists(state):
        mirror.read_tree(root)  # the first copy: what changes meanwhile is in the next result
        entries = 0
    else:
        for change in result["changes"]:
            mirror.apply(change)
        mirror.read_other_links(root, result["changes"])
        if result["continuity"] not in ("intact", "reconciled"):
            mirror.read_tree(root)  # the reason names what to read again; the root covers it
        entries = len(result["changes"])
    os.sync()  # the copies and the directories that name them, before the bless
    call(socket_path, {"cmd": "bless", "root": root, "snapshot": result["snapshot"]})
    with open(state, "w") as f:
        f.write(json.dumps({"root": root, "blessed": result["snapshot"]}) + "\n")
    print("applied %d entries, copied %d files, blessed %d" % (entries, mirror.copied, result["snapshot"]))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: mirror.py SOCKET ROOT DEST")
    main(*sys.argv[1:])
