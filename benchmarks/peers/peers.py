#!/usr/bin/env python3
"""modtrack side by side with its peers. Run through benchmarks/peers/run, which prepares the
loop-mounted ext4 and cleans it up; this program only uses it.

Usage: peers.py --work DIR --mnt MNT --repo REPO --ops BIN --floor BIN --javawatch CLASSDIR
                --out FILE --img DIR [--size smoke|quick|full] [--seed N]

Contenders: no tracker (a full rescan afterwards), the kernel's floor under modtrack's marks
(benchmarks/probes/command-floor's mode 5, with the rescan's answers; writer overhead only),
inotifywait -m -r, watchman (since queries with a named cursor), Java's WatchService registered
recursively, the modtrack daemon with --durability process and power (srcu barrier), power with an
event per file, process with the freeze barrier, process with results that name directories
(--detail directories), and process with open-permission events.

Questions: writer overhead on six workloads; missed and false positives of every answer, after a
SIGKILL mid-workload and after a deliberate queue overrun; answer latency as the changed files grow,
against a full rescan; modtrack's recovery time as its journal grows and its memory per changed
file. Every process it starts is a child, killed by its pid in a finally (and listed in WORK/pids
for benchmarks/peers/run's trap). Nothing here asserts a time: it measures and writes markdown and
PNG plots (matplotlib, if the Debian package is there).
"""
import argparse
import glob
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

A = None  # the parsed arguments
PIDS = None  # file of started pids, for benchmarks/peers/run's trap
RNG = None  # seeded; the seed is printed and reported

SIZES = {
    # base: the tree every workload runs beside (kbuild reads it, grep -r reads it); sweep: the
    # latency points (changed files). Crash and overrun sizes are the same in every size: an
    # overrun needs more events than a queue holds.
    "smoke": dict(base=2000, per_dir=100, rounds=1, w1=500, w8=2000, big_files=4, big_mb=8, append_mb=4,
                  kb_per_unit=10, hot=200, churn_dirs=10, churn_files=50, crash_new=800, crash_mod=200,
                  pace_us=20000, churn_pace_us=150000, sweep=[1000, 5000], latency_reps=2, recovery_reps=1),
    "quick": dict(base=10000, per_dir=100, rounds=3, w1=4000, w8=16000, big_files=4, big_mb=32, append_mb=16,
                  kb_per_unit=10, hot=500, churn_dirs=40, churn_files=100, crash_new=4000, crash_mod=800,
                  pace_us=12000, churn_pace_us=100000, sweep=[1000, 10000, 100000], latency_reps=3,
                  recovery_reps=2),
    "full": dict(base=100000, per_dir=200, rounds=3, w1=10000, w8=32000, big_files=4, big_mb=64, append_mb=32,
                 kb_per_unit=10, hot=500, churn_dirs=100, churn_files=100, crash_new=16000, crash_mod=4000,
                 pace_us=4000, churn_pace_us=60000, sweep=[1000, 10000, 100000, 1000000], latency_reps=3,
                 recovery_reps=2),
}
WORKLOADS = [("w1", "1 writer"), ("w8", "8 writers"), ("append", "appends"), ("kbuild", "kbuild mix"),
             ("churn", "dir renames+deletes"), ("grep", "grep -r")]
# modtrack's notification queue (NotificationQueueBound.EVENTS). Renaming 2.5 times this many files
# would take longer than modtrack's watchdog lets a stopped tracker live (a kill, not an overrun), so
# the overrun scenario runs modtrack with the kernel's default queue, as its peers have.
MODTRACK_QUEUE = 262144
KERNEL_DEFAULT_QUEUE = 16384


def log(*msg):
    print("[peers %s]" % time.strftime("%H:%M:%S"), *msg, flush=True)


def start(cmd, out_path, **kw):
    out = open(out_path, "ab")
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kw)
    out.close()
    with open(PIDS, "a") as f:
        f.write("%d\n" % p.pid)
    return p


def kill(p, sig=signal.SIGKILL):
    if p is not None and p.poll() is None:
        os.kill(p.pid, sig)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()


def set_class_archive_aside():
    """Renames bin/modtrack's class data archive of the daemon (cli/target/modtrack-daemon-*.jsa) to
    *.aside, so that a daemon started now runs as in its first life; returns the paths to rename back."""
    paths = glob.glob(os.path.join(A.repo, "cli", "target", "modtrack-daemon-*.jsa"))
    for path in paths:
        os.rename(path, path + ".aside")
    return paths


def release_keepers(state):
    """Tells the queue keepers of a stopped daemon (state directory STATE) to let their queues go;
    returns the (socket path, OSError) of each that could not be told."""
    failed = []
    for path in glob.glob(os.path.join(state, "*", "keeper", "keeper.socket")):
        # Through the directory's descriptor: the path is longer than a socket address may be.
        d = os.open(os.path.dirname(path), os.O_PATH | os.O_DIRECTORY)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
                s.settimeout(10)
                s.connect("/proc/self/fd/%d/keeper.socket" % d)
                s.send(b"release")
                s.recv(4096)
        except OSError as e:
            failed.append((path, e))
        finally:
            os.close(d)
    return failed


STREAM_BYTES = 0  # the bytes the last read_stream read


def read_stream(s, keep=3):
    """Reads a streamed result from socket S up to its end line as a client that only takes the bytes
    would: in blocks of 1 MiB, counting lines, as watchman's answer is read (one line, parsed after
    the clock stops). A loop over the lines in Python costs about 0.4 s a million, which would be the
    reader's time, not the daemon's. Returns (header, entry lines, the first KEEP entry lines); an
    error's header alone, with no entries. The bytes read are left in STREAM_BYTES."""
    head = bytearray()  # the header and the first entries, for the report
    tail = b""  # the last bytes read: where the end line is looked for
    newlines = 0
    global STREAM_BYTES
    STREAM_BYTES = 0
    buf = bytearray(1 << 20)  # read into one buffer: a new 1 MiB object per call costs its page faults
    view = memoryview(buf)
    while True:
        n = s.recv_into(view)
        STREAM_BYTES += n
        if n == 0:
            raise RuntimeError("modtrack: the stream ended before its end line")
        if newlines == 0 and b"\n" in buf[:n]:
            header = json.loads(bytes(head + buf[:n]).split(b"\n", 1)[0])
            if "error" in header:
                return header, 0, []
        newlines += buf.count(b"\n", 0, n)
        if len(head) < (1 << 16):
            head += buf[:n]
        tail = (tail + bytes(view[max(0, n - 4096):n]))[-4096:]
        if newlines > 1 and tail.endswith(b"\n"):
            last = tail[tail.rfind(b"\n", 0, len(tail) - 1) + 1:]
            if last.startswith(b'{"type":"end"') or last.startswith(b'{"type": "end"'):
                break
    lines = bytes(head).split(b"\n")
    first = [l.decode("utf-8", "replace").strip()[:300] for l in lines[1:1 + keep]
             if l and not l.startswith(b'{"type":"end"')]
    return json.loads(lines[0]), newlines - 2, first


def wait_for_text(path, text, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path, "rb") as f:
                if text.encode() in f.read():
                    return
        except FileNotFoundError:
            pass
        if proc is not None and proc.poll() is not None:
            # The log's end in the message: the run's directory, logs and all, is removed on the way out.
            try:
                with open(path, "rb") as f:
                    tail = f.read()[-3000:].decode("utf-8", "replace")
            except OSError as e:
                tail = "(no log: %s)" % e
            raise RuntimeError("%s exited (%s) before saying %r; its log %s ends:\n%s"
                               % (proc.args[0], proc.returncode, text, path, tail))
        time.sleep(0.01)
    raise RuntimeError("no %r in %s within %d s" % (text, path, timeout))


def wait_quiet(paths, quiet=0.5, timeout=300):
    """Waits until the log files stop growing (an event logger has caught up)."""
    last, since, deadline = None, time.time(), time.time() + timeout
    while time.time() < deadline:
        sizes = tuple(os.path.getsize(p) if os.path.exists(p) else -1 for p in paths)
        if sizes != last:
            last, since = sizes, time.time()
        elif time.time() - since >= quiet:
            return
        time.sleep(0.05)


def scan(root):
    """The rescan contender: walk and stat every file. {path: (ino, size, mtime_ns, ctime_ns)}."""
    out, stack = {}, [root]
    while stack:
        d = stack.pop()
        try:
            it = os.scandir(d)
        except FileNotFoundError:
            continue
        with it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    if e.name != "lost+found":
                        stack.append(e.path)
                elif e.is_file(follow_symlinks=False):
                    s = e.stat(follow_symlinks=False)
                    out[e.path] = (s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)
    return out


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ops(*args, log_path="-"):
    return [A.ops] + [str(a) for a in args] + ([log_path] if log_path is not None else [])


def logfile(tag):
    return os.path.join(A.work, "logs", "%s-%d.log" % (tag, time.monotonic_ns()))


# ---------------------------------------------------------------- contenders

class Contender:
    name = "?"
    short = "?"
    cmd_doc = ""
    p = None  # the contender's process, if it has one

    def start(self):
        pass

    def mark(self):
        """Consumes the current answer: the next answer is relative to now."""
        self.answer()

    def answer(self):
        """{paths, all, note, seconds}: what the consumer must look at since the last mark."""
        return None

    def kill9(self):
        kill(self.p)

    def pause(self):
        os.kill(self.p.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.p.pid, signal.SIGCONT)

    def stop(self):
        pass


class NoTracker(Contender):
    name = "no tracker + full rescan"
    short = "rescan"
    cmd_doc = "(nothing runs; afterwards a Python walk + stat of every file, compared with the previous walk)"

    def __init__(self):
        self.prev = None

    def mark(self):
        self.prev = scan(A.mnt)

    def answer(self):
        t = time.perf_counter()
        cur = scan(A.mnt)
        changed = {p for p, k in cur.items() if self.prev.get(p) != k}
        changed.update(p for p in self.prev if p not in cur)  # deleted
        secs = time.perf_counter() - t
        self.prev = cur
        return dict(paths=changed, all=False, note="walked %d files" % len(cur), seconds=secs)


class KernelFloor(NoTracker):
    """The kernel's own cost of modtrack's marks, with no tracker behind them: a C reader that
    answers each permission event at once (no record, no sync) after marking its file's directory,
    mutes a directory on its first notification event, and removes every directory's marks whenever
    it is asked for an answer, as a checkpoint does. Its answers are the rescan's: it names nothing."""
    name = "kernel floor: modtrack's marks, nothing recorded (+ full rescan)"
    short = "floor"
    cmd_doc = ("benchmarks/probes/command-floor MNT 5 (modtrack's two groups and their marks, each event "
               "answered at once; SIGUSR1 removes the marks before each answer); the answer is the rescan's")

    def __init__(self, tag):
        super().__init__()
        self.tag, self.n, self.flushes = tag, 0, 0

    def start(self):
        self.n += 1
        self.out = os.path.join(A.work, "logs", "%s-floor-%d.out" % (self.tag, self.n))
        self.p = start([A.floor, A.mnt, "5"], self.out)
        self.flushes = 0
        wait_for_text(self.out, "ready", self.p)

    def flush(self):
        """Removes every directory's marks, as modtrack's checkpoint does, and waits until it has."""
        self.flushes += 1
        os.kill(self.p.pid, signal.SIGUSR1)
        wait_for_text(self.out, "flushed %d:" % self.flushes, self.p)

    def mark(self):
        self.flush()
        super().mark()

    def answer(self):
        self.flush()
        return super().answer()

    def stop(self):
        kill(self.p, signal.SIGTERM)


class LogWatcher(Contender):
    """An event logger whose consumer reads the paths logged since its last answer, from the logs of
    every instance (a restarted one writes a new log). Subclasses: the command and the overflow word."""
    kind, ready_text, overflow_word = "?", "?", "?"

    def __init__(self, tag):
        self.tag, self.p, self.n, self.logs, self.offsets = tag, None, 0, [], {}

    def command(self, log_path):
        raise NotImplementedError

    def start(self):
        self.n += 1
        lg = os.path.join(A.work, "logs", "%s-%s-%d.log" % (self.tag, self.kind, self.n))
        self.logs.append(lg)
        self.p = start(self.command(lg), lg + ".out")
        wait_for_text(lg + ".out", self.ready_text, self.p, timeout=300)

    def consume(self):
        wait_quiet(self.logs)
        paths, dirs, overflow = set(), set(), False
        for l in self.logs:
            if not os.path.exists(l):
                continue
            with open(l, "rb") as f:
                f.seek(self.offsets.get(l, 0))
                data = f.read()
            for line in data.decode(errors="replace").splitlines():
                ev, _, path = line.partition(" ")
                if self.overflow_word in ev:
                    overflow = True
                elif path:
                    paths.add(path)
                    if "ISDIR" in ev:
                        dirs.add(path)
        self.offsets = {l: os.path.getsize(l) if os.path.exists(l) else 0 for l in self.logs}
        return paths, dirs, overflow

    def mark(self):
        self.consume()

    def answer(self):
        t = time.perf_counter()
        paths, dirs, overflow = self.consume()
        return dict(paths=paths, dirs=dirs, all=overflow, note="queue overflow: rescan" if overflow else "union of the logs",
                    seconds=time.perf_counter() - t)

    def stop(self):
        kill(self.p, signal.SIGTERM)


class Inotifywait(LogWatcher):
    name = "inotifywait -m -r"
    short = "inotifywait"
    kind, ready_text, overflow_word = "inotify", "Watches established", "Q_OVERFLOW"
    cmd_doc = ("inotifywait -m -r -e modify,attrib,close_write,moved_to,moved_from,create,delete "
               "--format '%e %w%f' -o LOG MNT")

    def command(self, log_path):
        return ["inotifywait", "-m", "-r", "-e", "modify,attrib,close_write,moved_to,moved_from,create,delete",
                "--format", "%e %w%f", "-o", log_path, A.mnt]


class JavaWatchService(LogWatcher):
    name = "Java WatchService (recursive)"
    short = "WatchService"
    kind, ready_text, overflow_word = "java", "ready", "OVERFLOW"
    cmd_doc = "java -cp CLASSDIR JavaWatch MNT LOG (benchmarks/peers/JavaWatch.java)"

    def command(self, log_path):
        return [os.path.join(os.environ["JAVA_HOME"], "bin", "java"), "-cp", A.javawatch, "JavaWatch", A.mnt, log_path]


class Watchman(Contender):
    name = "watchman (since, named cursor)"
    short = "watchman"

    def __init__(self, tag):
        self.tag, self.p = tag, None
        d = os.path.join(A.work, "watchman-" + tag)
        os.makedirs(d, exist_ok=True)
        self.sock, self.state, self.logf = d + "/sock", d + "/state", d + "/log"
        self.cmd_doc = ("watchman --foreground --sockname S --statefile F; watchman watch MNT; "
                        "[\"query\", MNT, {\"since\": \"n:bench\", \"fields\": [\"name\", \"exists\"]}]")

    def client(self, cmd):
        r = subprocess.run(["watchman", "--sockname", self.sock, "--no-spawn", "--no-pretty", "-j"],
                           input=json.dumps(cmd).encode(), capture_output=True, timeout=600)
        out = json.loads(r.stdout or b"{}")
        if r.returncode != 0 or "error" in out:
            raise RuntimeError("watchman %s: %s %s" % (cmd[0], out.get("error"), r.stderr.decode()[-300:]))
        return out

    def raw(self, cmd):
        """One request on the server's socket (JSON, newline-delimited); returns (seconds, bytes)."""
        t = time.perf_counter()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.sock)
            s.sendall((json.dumps(cmd) + "\n").encode())
            data = s.makefile("rb").readline()
        return time.perf_counter() - t, data

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)  # left by the previous (stopped or killed) server
        self.p = start(["watchman", "--foreground", "--sockname", self.sock, "--statefile", self.state,
                        "--logfile", self.logf, "--log-level", "0"], self.logf + ".out")
        deadline = time.time() + 30
        while True:
            if self.p.poll() is not None:
                raise RuntimeError("watchman exited; see " + self.logf)
            try:
                if os.path.exists(self.sock) and self.client(["get-pid"]).get("pid") == self.p.pid:
                    break
            except Exception:
                if time.time() > deadline:
                    raise
            time.sleep(0.05)
        self.client(["watch", A.mnt])
        self.client(["clock", A.mnt, {"sync_timeout": 300000}])

    def answer(self, since="n:bench"):
        secs, data = self.raw(["query", A.mnt, {"since": since, "fields": ["name", "exists"],
                                                "sync_timeout": 300000}])
        r = json.loads(data)
        if "error" in r:
            raise RuntimeError("watchman query: %s" % r["error"])
        fresh = r.get("is_fresh_instance", False)
        paths = {os.path.join(A.mnt, f["name"]) for f in r.get("files", [])}
        note = "fresh instance: every file" if fresh else "since cursor"
        if r.get("warning"):
            note += " (warning: %s)" % " ".join(r["warning"].split())[:120]
        return dict(paths=paths, all=False, note=note, seconds=secs, fresh=fresh, count=len(r.get("files", [])))

    def stop(self):
        if self.p is not None and self.p.poll() is None:
            try:
                self.client(["shutdown-server"])
            except Exception:
                pass
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill(self.p)


class Modtrack(Contender):
    def __init__(self, tag, durability, barrier="srcu", detail="files", source=None, naming=None):
        """source: None for the best the kernel offers, or "open-perm" (what kernels 6.1-6.13 get);
        naming: None for the daemon's default (a scan), or "events"."""
        self.tag, self.durability, self.barrier, self.detail, self.p, self.n = tag, durability, barrier, detail, None, 0
        self.source, self.naming = source, naming
        extra = (("" if detail == "files" else " --detail " + detail) + ("" if source is None else " --source " + source)
                 + ("" if naming is None else " --naming " + naming))
        self.name = "modtrack --durability %s --barrier %s%s" % (durability, barrier, extra)
        self.short = "modtrack %s/%s%s%s%s" % (durability, barrier, "" if detail == "files" else "/" + detail,
                                               "" if source is None else "/" + source, "" if naming is None else "/" + naming)
        key = "%s-%s-%s%s%s%s" % (tag, durability, barrier, "" if detail == "files" else "-" + detail,
                                  "" if source is None else "-" + source, "" if naming is None else "-" + naming)
        self.state = os.path.join(A.work, "state-" + key)
        self.sock = os.path.join(A.work, key + ".sock")
        self.cmd_doc = ("bin/modtrack daemon --watch MNT --state DIR --socket SOCK --durability %s --barrier %s%s"
                        % (durability, barrier, extra))
        self.queue_events = None  # the overrun scenario: the kernel's default queue, as the peers have
        self.simulated_boot = None  # the played power loss: the boot id the restarted daemon takes for its own

    def start(self):
        """Starts the daemon; returns the seconds until it logged "listening"."""
        self.n += 1
        self.logf = os.path.join(A.work, "logs", "%s-modtrack-%s-%s-%s%s%s-%d.log" % (
            self.tag, self.durability, self.barrier, self.detail, "" if self.source is None else "-" + self.source,
            "" if self.naming is None else "-" + self.naming, self.n))
        t = time.perf_counter()
        env = dict(os.environ)
        tool_options = []
        if self.queue_events:
            tool_options.append("-Dmodtrack.notificationQueueEvents=%d" % self.queue_events)
        if self.simulated_boot:
            tool_options.append("-Dmodtrack.simulatedBoot=%s" % self.simulated_boot)
        if tool_options:
            env["JAVA_TOOL_OPTIONS"] = " ".join(tool_options)
        self.p = start([os.path.join(A.repo, "bin", "modtrack"), "daemon", "--watch", A.mnt, "--state", self.state,
                        "--socket", self.sock, "--durability", self.durability, "--barrier", self.barrier,
                        "--detail", self.detail] + ([] if self.source is None else ["--source", self.source])
                       + ([] if self.naming is None else ["--naming", self.naming]),
                       self.logf, env=env)
        wait_for_text(self.logf, "listening", self.p, timeout=900)
        return time.perf_counter() - t

    def call(self, req):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.sock)
            s.sendall((json.dumps(dict(req, v=1)) + "\n").encode())
            r = json.loads(s.makefile("rb").readline())
        if "error" in r:
            raise RuntimeError("modtrack %s: %s" % (req["cmd"], r["error"]))
        return r

    def stream_query(self, compact=False):
        """A streamed query (with COMPACT, its entries in the compact form), timed until its end line;
        nothing parsed but the header and the count. Returns (seconds, header, lines)."""
        t = time.perf_counter()
        q = {"v": 1, "cmd": "query", "root": A.mnt, "stream": True}
        if compact:
            q["compact"] = True
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.sock)
            s.sendall((json.dumps(q) + "\n").encode())
            header, lines, self.first_lines = read_stream(s)
            if "error" in header:
                raise RuntimeError("modtrack query: %s" % header["error"])
        return time.perf_counter() - t, header, lines

    def answer(self, bless=True):
        t = time.perf_counter()
        r = self.call({"cmd": "query", "root": A.mnt})
        secs = time.perf_counter() - t
        if bless:
            self.call({"cmd": "bless", "root": A.mnt, "snapshot": r["snapshot"]})
        rescan = [c["path"] for c in r["changes"] if c["kind"] == "rescan"]
        lists = {c["path"] for c in r["changes"] if c["kind"] == "list" and not c.get("namesOnly")}
        # A listing by names: the consumer drops the names gone and reads the new ones; what changed
        # below the names it keeps has entries of its own.
        name_lists = {c["path"] for c in r["changes"] if c["kind"] == "list" and c.get("namesOnly")}
        paths = {c["path"] for c in r["changes"] if c["kind"] not in ("rescan", "list")}
        paths.update(c["from"] for c in r["changes"] if c.get("from"))
        dirs = {c[k] for c in r["changes"] if c.get("directory") and c["kind"] != "list"
                for k in ("path", "from") if c.get(k)}
        lost = r["continuity"] not in ("intact", "reconciled") or bool(rescan)
        reason = r["continuityReason"]
        walk = r.get("reconciliation")
        if walk:
            why = " (a walk of %d entries in %d ms)" % (walk["entries"], walk["walkMs"])
        elif "did not stop cleanly" in reason:
            why = " (rescan MNT: unclean stop)"
        else:
            why = " (%s)" % reason if reason else ""
        note = "continuity %s%s, recovered %s, %d named%s" % (
            r["continuity"], why, str(r["recovered"]).lower(), len(paths),
            ", %d `rescan` entries (of %s)" % (len(rescan), some_of(rescan)) if rescan else "")
        if lists or name_lists:
            note += ", %d `list` entries" % (len(lists) + len(name_lists))
        return dict(paths=paths, dirs=dirs, lists=lists, name_lists=name_lists, all=lost, note=note, seconds=secs,
                    barrier_ms=r.get("barrierWaitMs"),
                    readOnlyDropped=r.get("readOnlyDropped"), readOnlyReported=r.get("readOnlyReported"))

    def keeper_pid(self):
        """The pid of the process that keeps the daemon's notification queue across its restarts, or None."""
        return self.call({"cmd": "status", "root": A.mnt}).get("keeperPid")

    def stop(self):
        """Stops the daemon (SIGTERM) and then its queue keeper, which would otherwise hold the queue
        for the next start for 5 minutes, raising events that later contenders' writers would pay for."""
        kill(self.p, signal.SIGTERM)
        for path, e in release_keepers(self.state):
            log("could not release the queue keeper at %s: %s" % (path, e))


def contenders(tag, missing, freeze=True, floor=True):
    cs = [NoTracker()]
    if floor:
        cs.append(KernelFloor(tag))
    if "inotify-tools" not in missing:
        cs.append(Inotifywait(tag))
    if "watchman" not in missing:
        cs.append(Watchman(tag))
    cs.append(JavaWatchService(tag))
    cs += [Modtrack(tag, "process"), Modtrack(tag, "power"), Modtrack(tag, "power", naming="events")]
    if freeze:
        cs.append(Modtrack(tag, "process", "freeze"))
    cs.append(Modtrack(tag, "process", "srcu", "directories"))
    cs.append(Modtrack(tag, "process", "srcu", "files", "open-perm"))
    return cs


# ---------------------------------------------------------------- correctness of one answer

def directories(root):
    """Every directory under root: what a consumer knows before a run (to follow `list` entries)."""
    out = set()
    for d, subdirs, _ in os.walk(root):
        out.add(d)
    return out


def covered(path, exact, prefixes, lists=(), known=None, name_lists=()):
    """A path is covered when the answer names it, or names one of its directories as a subtree, or
    lists it or its own directory (modtrack's `list` entries: the directory, its entries and its
    files), or lists the parent of one of its directories that is new or gone since the consumer
    last looked (`known`): the consumer then lists that directory whole, or drops it."""
    if path in exact or path in lists or path.rsplit("/", 1)[0] in lists:
        return True
    if (lists or name_lists) and known is not None:
        a = path.rsplit("/", 1)[0]
        while len(a) > len(A.mnt):
            up = a.rsplit("/", 1)[0]
            if (up in lists or up in name_lists) and (a not in known or not os.path.lexists(a)):
                return True
            a = a.rsplit("/", 1)[0]
    while len(path) > len(A.mnt):
        path = path.rsplit("/", 1)[0]
        if path in prefixes:
            return True
    return False


def evaluate(a, truth, known=None):
    """missed: changed paths (created, modified, or gone) the answer does not cover; false positives:
    files that exist and did not change but that the answer covers (an answer that says to rescan
    covers every file); named missed: changed paths not covered by the paths the answer names.
    Subtrees: a named path that is gone now stands for everything that was below it (a consumer
    deletes the subtree of a deleted or renamed-away directory), and so does each of the answer's
    "dirs" (modtrack's directory entries, inotify's ISDIR events); a directory that only changed
    its listing (watchman's type d entries) covers nothing but itself."""
    prefixes = set(a.get("dirs", ())) | {p for p in a["paths"] if not os.path.lexists(p)}
    # A listing by names covers the names gone from it (the consumer drops them) and the directory
    # itself; the new names and the changed files are entries of their own.
    exact = set(a["paths"]) | {t for t in truth if t.rsplit("/", 1)[0] in a.get("name_lists", ())
                               and not os.path.lexists(t)} | set(a.get("name_lists", ()))
    named_missed = sum(1 for t in truth if not covered(t, exact, prefixes, a.get("lists", ()), known,
                                                     a.get("name_lists", ())))
    if a["all"] or a.get("fresh"):
        now = scan(A.mnt)
        return dict(missed=0, fp=sum(1 for p in now if p not in truth), named_missed=named_missed)
    fp = {p for p in a["paths"] if p not in truth and os.path.isfile(p) and not os.path.islink(p)}
    for d in a.get("dirs", ()):
        if d.startswith(A.mnt + "/") and os.path.isdir(d) and not os.path.islink(d):
            fp.update(f for f in scan(d) if f not in truth)
    for d in a.get("lists", ()):  # a listed directory's files that did not change
        if os.path.isdir(d) and not os.path.islink(d):
            with os.scandir(d) as it:
                fp.update(e.path for e in it if e.is_file(follow_symlinks=False) and e.path not in truth)
    return dict(missed=named_missed, fp=len(fp), named_missed=named_missed)


# ---------------------------------------------------------------- workloads

def run_procs(cmds, err="workload.err"):
    """Starts the commands at once, waits for all; returns the wall seconds."""
    t = time.perf_counter()
    procs = [start(c, os.path.join(A.work, "logs", err)) for c in cmds]
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError("%s failed; see %s/logs/%s" % (p.args[:2], A.work, err))
    return time.perf_counter() - t


def truth_of(logs):
    out = set()
    for l in logs:
        if os.path.exists(l):
            with open(l) as f:
                out.update(x for x in f.read().splitlines() if x)
    return out


def writer_cmd(d, count, size, lg, pace=0, mods=None):
    return [A.ops, "write", d, str(count), str(size), lg, str(pace)] + ([mods] if mods else [])


class Workloads:
    """Each workload: prepare (untimed, before the contender's mark), then the timed command(s)
    and the ground truth of what they changed. cmd_doc: the command of each, for the report."""

    def __init__(self, cfg, base_list, hot_list, big):
        self.cfg, self.base_list, self.hot_list, self.big = cfg, base_list, hot_list, big
        c = cfg
        self.units = c["base"] // c["kb_per_unit"]
        self.cmd_doc = {
            "w1": "ops write RUN/w1 %d 4096 LOG 0  (1 process: create %d files of 4 KiB)" % (c["w1"], c["w1"]),
            "w8": "8 x ops write RUN/w8-i %d 4096 LOG 0  (8 processes at once, %d files in all)" % (
                c["w8"] // 8, c["w8"]),
            "append": "%d x ops append BIG/bN %d 4096 1048576 LOG  (%d files of %d MiB, each appended %d MiB in "
                      "4 KiB writes, reopened every MiB)" % (c["big_files"], c["append_mb"] << 20, c["big_files"],
                                                            c["big_mb"], c["append_mb"]),
            "kbuild": "2 x ops compile BASELIST i*%d (i+1)*%d %d HOTLIST %d RUN/obj LOG; then ops link RUN/obj %d "
                      "RUN/vmlinux LOG  (reads all %d base files + 4 of %d hot ones per unit, writes %d objects of "
                      "16 KiB and their link)" % (self.units // 2, self.units // 2, c["kb_per_unit"], c["hot"],
                                                  self.units, c["base"], c["hot"], self.units),
            "churn": "ops churn RUN/churn %d LOG 0  (prepared: %d directories of %d files; renames every second "
                     "directory, deletes the others file by file)" % (c["churn_dirs"], c["churn_dirs"],
                                                                      c["churn_files"]),
            "grep": "grep -r -q no-such-text-anywhere MNT/base  (reads the %d base files)" % c["base"],
        }

    def prepare(self, wl, run):
        """Returns whether it changed the mount (then the contender must answer before the timed run)."""
        c = self.cfg
        if wl == "append":
            for b in self.big:
                os.truncate(b, c["big_mb"] << 20)
            return True
        if wl == "churn":
            sh(ops("mkfiles", os.path.join(run, "churn"), 0, c["churn_dirs"], c["churn_files"], 4096))
            return True
        return False

    def run(self, wl, run):
        """Runs the timed part; returns (seconds, truth)."""
        c = self.cfg
        if wl == "w1":
            lg = logfile("w1")
            return run_procs([writer_cmd(os.path.join(run, "w1"), c["w1"], 4096, lg)]), truth_of([lg])
        if wl == "w8":
            lgs = [logfile("w8") for _ in range(8)]
            secs = run_procs([writer_cmd(os.path.join(run, "w8-%d" % i), c["w8"] // 8, 4096, lgs[i]) for i in range(8)])
            return secs, truth_of(lgs)
        if wl == "append":
            lgs = [logfile("append") for _ in self.big]
            secs = run_procs([ops("append", b, c["append_mb"] << 20, 4096, 1 << 20, log_path=lgs[i])
                              for i, b in enumerate(self.big)])
            return secs, truth_of(lgs)
        if wl == "kbuild":
            obj = os.path.join(run, "obj")
            os.makedirs(obj, exist_ok=True)
            lgs = [logfile("kbuild") for _ in range(3)]
            half = self.units // 2
            t = time.perf_counter()
            run_procs([ops("compile", self.base_list, i * half, (i + 1) * half, c["kb_per_unit"],
                           self.hot_list, c["hot"], obj, log_path=lgs[i]) for i in range(2)])
            run_procs([ops("link", obj, half * 2, os.path.join(run, "vmlinux"), log_path=lgs[2])])
            return time.perf_counter() - t, truth_of(lgs)
        if wl == "churn":
            lg = logfile("churn")
            return run_procs([ops("churn", os.path.join(run, "churn"), c["churn_dirs"], lg, 0, log_path=None)]), truth_of([lg])
        if wl == "grep":
            t = time.perf_counter()
            subprocess.run(["grep", "-r", "-q", "no-such-text-anywhere", os.path.join(A.mnt, "base")])
            return time.perf_counter() - t, set()
        raise ValueError(wl)


def make_base(cfg):
    """The base tree (cfg base files of 4 KiB, cfg per_dir per directory) and the large files."""
    base = os.path.join(A.mnt, "base")
    n, per = cfg["base"], cfg["per_dir"]
    ndirs = (n + per - 1) // per
    half = ndirs // 2
    run_procs([ops("mkfiles", base, 0, half, per, 4096), ops("mkfiles", base, half, ndirs - half, per, 4096)])
    files = sorted(scan(base))
    base_list = os.path.join(A.work, "base.list")
    with open(base_list, "w") as f:
        f.write("\n".join(files) + "\n")
    hot_list = os.path.join(A.work, "hot.list")
    with open(hot_list, "w") as f:
        f.write("\n".join(RNG.sample(files, cfg["hot"])) + "\n")  # the "headers": seeded choice
    bigdir = os.path.join(A.mnt, "big")
    os.makedirs(bigdir, exist_ok=True)
    big = [os.path.join(bigdir, "b%d" % i) for i in range(cfg["big_files"])]
    chunk = b"z" * (1 << 20)
    for b in big:
        with open(b, "wb") as f:
            for _ in range(cfg["big_mb"]):
                f.write(chunk)
    sh(["sync"])
    return files, base_list, hot_list, big


def rmtree(path):
    subprocess.run(["rm", "-rf", "--one-file-system", path], check=True)


# ---------------------------------------------------------------- question 1: writer overhead

def overhead(cs, cfg, wls, workloads=WORKLOADS):
    """Every workload's wall time per contender, in rounds; the contenders' order is shuffled in
    each round (seeded). After each workload the contender answers, and the answer is checked."""
    times = {c.name: {w: [] for w, _ in workloads} for c in cs}
    checks = {c.name: {w: [] for w, _ in workloads} for c in cs}
    answers = {c.name: {w: [] for w, _ in workloads} for c in cs}
    for rnd in range(cfg["rounds"]):
        order = list(cs)
        RNG.shuffle(order)
        for c in order:
            log("overhead round %d/%d: %s" % (rnd + 1, cfg["rounds"], c.name))
            run = os.path.join(A.mnt, "runs", "r%d" % rnd)
            c.start()
            try:
                os.makedirs(run, exist_ok=True)
                for i, (wl, _) in enumerate(workloads):
                    if wls.prepare(wl, run) or i == 0:
                        c.mark()  # otherwise the previous workload's answer was the mark
                    sh(["sync"])
                    known = directories(A.mnt) if isinstance(c, Modtrack) and c.detail != "files" else None
                    secs, truth = wls.run(wl, run)
                    times[c.name][wl].append(secs)
                    a = c.answer()
                    ev = evaluate(a, truth, known)
                    checks[c.name][wl].append(ev)
                    answers[c.name][wl].append((len(truth), a["seconds"], a["note"], a.get("barrier_ms")))
                    if ev["missed"] or ev["fp"]:
                        log("  %s: %d changed, missed %d, false positives %d: %s" % (
                            wl, len(truth), ev["missed"], ev["fp"], a["note"]))
            finally:
                c.stop()
            rmtree(os.path.join(A.mnt, "runs"))
    return times, checks, answers


def overhead_only(cs, cfg, wls):
    """The overhead question alone, for the workloads and contenders named on the command line
    (--workloads, --contenders), printed as a table: to tell a noisy row from a real cost with more
    rounds than the full run affords. Writes nothing into the docs."""
    keys = A.workloads.split(",")
    unknown = set(keys) - {w for w, _ in WORKLOADS}
    if unknown:
        sys.exit("peers.py: unknown workload(s) %s; known: %s" % (", ".join(sorted(unknown)),
                                                                 ",".join(w for w, _ in WORKLOADS)))
    workloads = [(w, label) for w, label in WORKLOADS if w in keys]
    if A.contenders:
        wanted = A.contenders.split(",")
        unknown = set(wanted) - {c.short for c in cs}
        if unknown:
            sys.exit("peers.py: unknown contender(s) %s; known: %s" % (", ".join(sorted(unknown)),
                                                                      ",".join(c.short for c in cs)))
        cs = [c for c in cs if isinstance(c, NoTracker) or c.short in wanted]
    times, checks, _ = overhead(cs, cfg, wls, workloads)
    base = next(c for c in cs if isinstance(c, NoTracker))
    print("%d rounds; cell: ratio to the untracked median, median seconds (min-max), missed / false positives "
          "at most" % cfg["rounds"])
    for w, label in workloads:
        print("%s (%s)" % (label, wls.cmd_doc[w]))
        bmed = med(times[base.name][w])
        for c in cs:
            t, k = times[c.name][w], checks[c.name][w]
            print("  %-40s %.2fx %s  %d / %d" % (c.short, med(t) / bmed, fmt_runs(t), max(e["missed"] for e in k),
                                                max(e["fp"] for e in k)))


def sweep_only(cfg, missing):
    """The latency sweep alone (--sweep-only), printed: each contender's answers at each step, then the
    recoveries and the memory. To look at the answer times with their peers beside them without the
    hour the full run takes. Writes nothing into the docs."""
    sw = sweep(cfg, missing)
    for k, rows in sw["latency"].items():
        for n, answers in zip(sw["steps"], rows):
            print("%-8s %9d changed: %s  (%s)" % (k, n, fmt_runs([s for s, _ in answers]), answers[-1][1]))
    for r in sw["recovery"]:
        print("recovery %9d changed: listening %.2f s, first answer %.2f s%s%s, %d entries, continuity %s"
              % (r["n"], r["listening"], r["first"], " (compact entries)" if r.get("compact") else "",
                 " (no class data archive: a first life)" if not r.get("archive", True) else "", r["lines"],
                 r["continuity"]))
    for m in sw["memory"]:
        print("memory   %9d changed: heap %.1f MB, resident %.1f MB" % (m["n"], m["heap"] / 1e6, m["rss"] / 1e6))


# ---------------------------------------------------------------- question 2: faults

def crash(c, cfg, base, scenario):
    """One fault scenario for one contender: 'none' and 'kill-files' (8 paced writers create files
    and append to base files; SIGKILL once a third is done, restarted at once), 'kill-churn' (the
    directory workload, paced; the same kill), 'overrun' (the consumer is stopped with SIGSTOP during
    a burst of renames larger than its queue, then continued); modtrack only: 'kill-all-files' (as
    'kill-files', and its queue keeper is killed too, as `systemctl kill` would), 'restart-files'
    (as 'kill-files', with a planned restart: SIGTERM, then start again) and 'power-files' (a power
    loss played: the daemon and its keeper are stopped, then killed, so nothing of theirs runs after
    it, and the restarted daemon takes another boot id; the disks lose nothing, which the simulator
    and the power-cut tests cover). Returns the row."""
    d = os.path.join(A.mnt, "crash")
    os.makedirs(d, exist_ok=True)
    burst = A.inotify_queue * 5 // 2
    if scenario == "overrun":
        # made before the contender starts: only the burst is in its answer
        sh(writer_cmd(os.path.join(d, "burst"), burst, 0, "/dev/null"))
        if isinstance(c, Modtrack):
            c.queue_events = KERNEL_DEFAULT_QUEUE
    if scenario == "kill-churn":
        sh(ops("mkfiles", os.path.join(d, "churn"), 0, cfg["churn_dirs"], cfg["churn_files"], 4096))
    try:
        c.start()
    finally:
        if isinstance(c, Modtrack):
            c.queue_events = None
    try:
        c.mark()
        known = directories(A.mnt)
        logs, procs = [], []
        at_kill = at_ready = restart_s = None
        if scenario == "overrun":
            lg = logfile("overrun")
            logs.append(lg)
            paused = not isinstance(c, NoTracker)
            if paused:
                c.pause()
            t = time.perf_counter()
            try:
                sh(ops("rename", os.path.join(d, "burst"), burst, log_path=lg))
            finally:
                if paused:
                    c.resume()
            restart_s = time.perf_counter() - t  # here: how long the consumer was stopped
            total_ops = burst
        elif scenario in ("none", "kill-files", "kill-all-files", "restart-files", "power-files"):
            n_mod = cfg["crash_mod"] // 8
            per = cfg["crash_new"] // 8
            total_ops = 8 * (per + n_mod)
            for i in range(8):
                m = os.path.join(A.work, "logs", "mods-%d.txt" % i)
                with open(m, "w") as f:
                    f.write("\n".join(base[i * n_mod:(i + 1) * n_mod]) + "\n")
                lg = logfile("crash")
                logs.append(lg)
                procs.append(start(writer_cmd(os.path.join(d, "w%d" % i), per, 4096, lg, cfg["pace_us"], m),
                                   os.path.join(A.work, "logs", "writers.err")))
        else:  # kill-churn: lines logged = 2 per file of a renamed directory, 1 per file of a deleted one
            lg = logfile("crash-churn")
            logs.append(lg)
            nd = cfg["churn_dirs"]
            total_ops = cfg["churn_files"] * (2 * ((nd + 1) // 2) + nd // 2)
            procs.append(start(ops("churn", os.path.join(d, "churn"), nd, lg, cfg["churn_pace_us"], log_path=None),
                               os.path.join(A.work, "logs", "writers.err")))

        def done():
            n = 0
            for l in logs:
                if os.path.exists(l):
                    with open(l, "rb") as f:
                        n += f.read().count(b"\n")
            return n
        first_answer_s = None
        if scenario.startswith(("kill", "restart", "power")) and not isinstance(c, NoTracker):
            while done() < total_ops // 3 and any(p.poll() is None for p in procs):
                time.sleep(0.01)
            keeper = c.keeper_pid() if scenario in ("kill-all-files", "power-files") else None
            at_kill = done()
            t = time.perf_counter()
            if scenario == "restart-files":
                kill(c.p, signal.SIGTERM)
                c.p.wait()
            elif scenario == "power-files":
                for pid in (keeper, c.p.pid):  # stopped first: neither runs another instruction
                    if pid:
                        os.kill(pid, signal.SIGSTOP)
                c.kill9()
                c.simulated_boot = "bench-power-loss-%d:%d" % (os.getpid(), time.time_ns())
            else:
                c.kill9()
            if keeper:
                os.kill(keeper, signal.SIGKILL)
            c.start()
            restart_s = time.perf_counter() - t
            at_ready = done()
            if isinstance(c, Modtrack):
                c.call({"cmd": "query", "root": A.mnt})  # not blessed: the answer below holds it all again
                first_answer_s = time.perf_counter() - t
        for p in procs:
            if p.wait() != 0:
                raise RuntimeError("a workload process failed; see %s/logs/writers.err" % A.work)
        alive = c.p is None or c.p.poll() is None
        if not alive:  # e.g. a daemon killed by its own watchdog while it was stopped
            note_dead = "%s exited (%s) while stopped; restarted. " % (c.short, c.p.returncode)
            # The run's work directory goes at its end: the log's tail is the only evidence kept.
            tail = open(c.logf, errors="replace").read().splitlines()[-20:] if os.path.exists(getattr(c, "logf", "")) else []
            log("%s exited (%s) in scenario %s; the last lines of its log %s:\n  %s"
                % (c.short, c.p.returncode, scenario, getattr(c, "logf", "(none)"), "\n  ".join(tail)))
            c.start()
        else:
            note_dead = ""
        a = c.answer()
        truth = truth_of(logs)
        ev = evaluate(a, truth, known)
        if isinstance(c, Modtrack):
            c.simulated_boot = None
        return dict(name=c.name, cmd=c.cmd_doc, scenario=scenario, total_ops=total_ops, at_kill=at_kill,
                    at_ready=at_ready, restart_s=restart_s, first_answer_s=first_answer_s, truth=len(truth),
                    note=note_dead + a["note"],
                    unchanged=sum(1 for p in scan(A.mnt) if p not in truth), burst=burst, **ev)
    finally:
        c.stop()
        rmtree(d)


# ---------------------------------------------------------------- questions 3 and 4: latency, recovery, memory
def memory_base(memory):
    """The first step with changed files (the baseline per-file growth is measured from) and the steps after it."""
    steps = [m for m in memory if m["n"]]
    return steps[0], steps[1:]



def heap_used(pid):
    """The daemon's heap after a full GC (jcmd), and its RSS, in bytes."""
    jcmd = os.path.join(os.environ["JAVA_HOME"], "bin", "jcmd")
    subprocess.run([jcmd, str(pid), "GC.run"], capture_output=True, timeout=600)
    out = subprocess.run([jcmd, str(pid), "GC.heap_info"], capture_output=True, timeout=600).stdout.decode()
    used = sum(int(m) * 1024 for m in re.findall(r"used (\d+)K", out.split("Metaspace")[0]))
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return used, rss


def rescan_cmd(out):
    return ["find", A.mnt, "-xdev", "-type", "f", "-printf", "%i %s %T@ %C@ %p\\n"], out


def sweep(cfg, missing):
    """Creates the changed files step by step (empty files, 1,000 per directory, in 2 processes) and
    at each step times the answers: a full rescan (find, walk + stat of the whole mount), watchman
    since the clock taken before the first step, modtrack process/srcu, process/freeze and the
    defaults, power/srcu (streamed query, never blessed, so each answer holds every file created so
    far), the srcu daemons' also with compact entries. At each step modtrack srcu's heap
    after a full GC, and a fourth daemon (the defaults) is SIGKILLed and restarted: time to
    'listening' and to its first complete answer, with the journal it had. That daemon is stopped
    cleanly once before the first step, so that its restarts load their classes from the archive
    the JVM writes at a clean stop (docs/install.md, *Restarts*), as any restart of an installed
    daemon but those in its first life after an install or an upgrade does; at each step one more
    restart runs with the archive set aside, as in that first life."""
    sw = os.path.join(A.mnt, "sweep")
    os.makedirs(sw)
    wm = Watchman("sweep") if "watchman" not in missing else None
    lat_a = Modtrack("sweep", "process", "srcu")
    lat_b = Modtrack("sweep", "process", "freeze")
    lat_p = Modtrack("sweep", "power", "srcu")  # the daemon's default options
    rec = Modtrack("sweep-rec", "power", "srcu")
    started = []
    rows = dict(steps=[], latency={}, memory=[], recovery=[], create_s=[])
    try:
        for c in [x for x in (wm, lat_a, lat_b, lat_p, rec) if x]:
            c.start()
            started.append(c)
        rec.stop()  # a clean stop: the JVM writes the class data archive
        rec.start()
        lat_a.mark()
        lat_b.mark()
        lat_p.mark()
        rec.mark()
        clock = wm.client(["clock", A.mnt, {"sync_timeout": 300000}])["clock"] if wm else None
        mem0 = heap_used(lat_a.p.pid)
        rows["memory"].append(dict(n=0, heap=mem0[0], rss=mem0[1]))
        made = 0
        for n in cfg["sweep"]:
            first_dir, ndirs = made // 1000, (n - made + 999) // 1000
            per = min(1000, n - made)
            h = ndirs // 2
            cmds = [ops("mkfiles", sw, first_dir, ndirs - h, per, 0)]
            if h:
                cmds.append(ops("mkfiles", sw, first_dir + ndirs - h, h, per, 0))
            secs = run_procs(cmds)
            made = n
            rows["create_s"].append(secs)
            sh(["sync"])
            log("sweep: %d changed files (made in %.1f s under watchman and 4 modtrack daemons)" % (n, secs))
            rows["steps"].append(n)
            lat = {}
            for rep in range(cfg["latency_reps"]):
                cmd, out = rescan_cmd(os.path.join(A.work, "scan.txt"))
                t = time.perf_counter()
                with open(out, "w") as f:
                    subprocess.run(cmd, stdout=f, check=True)
                lat.setdefault("rescan", []).append((time.perf_counter() - t, "walked the mount"))
                if wm:
                    s, data = wm.raw(["query", A.mnt, {"since": clock, "fields": ["name"], "sync_timeout": 300000}])
                    r = json.loads(data)
                    lat.setdefault("watchman", []).append((s, "%d files%s" % (
                        len(r.get("files", [])), ", fresh instance" if r.get("is_fresh_instance") else "")))
                for key, m, compact in (("srcu", lat_a, False), ("srcu-compact", lat_a, True), ("power", lat_p, False),
                                        ("power-compact", lat_p, True), ("freeze", lat_b, False)):
                    s, hdr, lines = m.stream_query(compact)
                    lat.setdefault(key, []).append((s, "%d changes, continuity %s, barrier wait %s ms, %.0f B an entry" % (
                        lines, hdr["continuity"], hdr.get("barrierWaitMs"), STREAM_BYTES / max(lines, 1))))
            for k, v in lat.items():
                rows["latency"].setdefault(k, []).append(v)
            used, rss = heap_used(lat_a.p.pid)
            rows["memory"].append(dict(n=n, heap=used, rss=rss))
            for rep in range(cfg["recovery_reps"] + 2):
                archive = rep > 0  # the first without the class data archive, as in a first life
                compact = rep == cfg["recovery_reps"] + 1  # once more, its client asking for compact entries
                st = rec.call({"cmd": "status", "root": A.mnt})
                rec.kill9()
                aside = [] if archive else set_class_archive_aside()
                try:
                    t = time.perf_counter()
                    listening = rec.start()
                finally:
                    for path in aside:
                        os.rename(path + ".aside", path)
                s, hdr, lines = rec.stream_query(compact)
                first = time.perf_counter() - t
                rows["recovery"].append(dict(n=n, journal=st.get("journalBytes"), records=st.get("records"),
                                             listening=listening, first=first, lines=lines, compact=compact,
                                             archive=archive, continuity=hdr["continuity"],
                                             barrier_ms=hdr.get("barrierWaitMs")))
                log("  recovery %d at %d: %d entries, header %s, first entries %s" % (
                    rep + 1, n, lines, json.dumps(hdr)[:400], rec.first_lines))
            log("  rescan %.2f s, srcu %.2f s, freeze %.2f s, heap %.1f MB, recovery %.1f s" % (
                lat["rescan"][0][0], lat["srcu"][0][0], lat["freeze"][0][0], used / 1e6, first))
    finally:
        for c in started:
            c.stop()
        rmtree(sw)
    rows["cmd"] = {
        "rescan": " ".join(rescan_cmd("")[0][:-1]) + " '%i %s %T@ %C@ %p\\n' > LIST  (warm cache; the "
                  "comparison with the previous list is not timed)",
        "watchman": '["query", MNT, {"since": CLOCK, "fields": ["name"]}] on its socket, until the whole '
                    'response line is read',
        "srcu": lat_a.cmd_doc + '; {"cmd":"query","stream":true} on SOCK, read in blocks until the end line',
        "srcu-compact": 'the same daemon; {"cmd":"query","stream":true,"compact":true} on SOCK, read in blocks until the '
                        'end line',
        "power": lat_p.cmd_doc + ' (the defaults); {"cmd":"query","stream":true} on SOCK, read in blocks until the end line',
        "power-compact": 'the same daemon; {"cmd":"query","stream":true,"compact":true} on SOCK, read in blocks until the '
                         'end line',
        "freeze": lat_b.cmd_doc + '; {"cmd":"query","stream":true} on SOCK, read in blocks until the end line',
        "recovery": rec.cmd_doc + " (stopped cleanly once: the class data archive); status; SIGKILL; start again "
                    "(once with cli/target/modtrack-daemon-*.jsa set aside); time to 'listening' and to the end of the "
                    "first streamed query",
        "memory": "jcmd PID GC.run; jcmd PID GC.heap_info (used, young + old); VmRSS from /proc/PID/status",
    }
    return rows


# ---------------------------------------------------------------- report

def med(xs):
    return statistics.median(xs)


def fmt_runs(xs, digits=3):
    f = "%%.%df" % digits
    return (f + " (" + f + "–" + f + ")") % (med(xs), min(xs), max(xs))


def span(xs):
    return str(xs[0]) if min(xs) == max(xs) else "%d–%d" % (min(xs), max(xs))


def plots(cs, times, sw, img):
    """PNG plots; returns their file names, or a reason they were not made."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        return "no plots: matplotlib is not available (%s); benchmarks/peers/run installs python3-matplotlib" % e
    os.makedirs(img, exist_ok=True)
    made = []
    base = cs[0].name
    fig, ax = plt.subplots(figsize=(11, 5))
    width = 0.8 / len(cs)
    for i, c in enumerate(cs):
        ratios = [med(times[c.name][w]) / med(times[base][w]) for w, _ in WORKLOADS]
        lo = [min(times[c.name][w]) / med(times[base][w]) for w, _ in WORKLOADS]
        hi = [max(times[c.name][w]) / med(times[base][w]) for w, _ in WORKLOADS]
        xs = [j + i * width for j in range(len(WORKLOADS))]
        ax.bar(xs, ratios, width, label=c.short,
               yerr=[[r - l for r, l in zip(ratios, lo)], [h - r for r, h in zip(ratios, hi)]], capsize=2)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(WORKLOADS))])
    ax.set_xticklabels([label for _, label in WORKLOADS])
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_ylabel("wall time / untracked (median; bars: min–max)")
    ax.set_title("Writer overhead per workload")
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.08))  # below: never over a bar
    fig.tight_layout()
    fig.savefig(os.path.join(img, "peers-overhead.png"), dpi=90)
    plt.close(fig)
    made.append("peers-overhead.png")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    labels = {"rescan": "full rescan (find)", "watchman": "watchman since", "srcu": "modtrack srcu",
              "srcu-compact": "modtrack srcu, compact entries", "power": "modtrack defaults (power/srcu)",
              "power-compact": "modtrack defaults, compact entries", "freeze": "modtrack freeze"}
    for k, series in sw["latency"].items():
        ys = [med([x[0] for x in reps]) for reps in series]
        ax1.plot(sw["steps"], ys, marker="o", label=labels.get(k, k))
    rec = sw["recovery"]
    if rec:
        ys = [med([r["first"] for r in rec if r["n"] == n and not r.get("compact") and r.get("archive", True)])
              for n in sw["steps"]]
        ax1.plot(sw["steps"], ys, marker="x", linestyle="--", label="modtrack restart after SIGKILL to first answer")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("changed files")
    ax1.set_ylabel("seconds (median)")
    ax1.set_title("Answer latency as changed files grow")
    ax1.legend(fontsize=8)
    base, later = memory_base(sw["memory"])
    ax2.plot([m["n"] for m in later], [(m["heap"] - base["heap"]) / (m["n"] - base["n"]) for m in later], marker="o",
             label="heap after full GC")
    ax2.set_xscale("log")
    ax2.set_xlabel("changed files (unblessed)")
    ax2.set_ylabel("bytes per changed file (growth since the first step)")
    ax2.set_title("modtrack daemon memory per changed file")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(img, "peers-latency.png"), dpi=90)
    plt.close(fig)
    made.append("peers-latency.png")
    return made


def report(cfg, cs, wls, times, checks, answers, crashes, sw, pngs, env, phases):
    cmd = "benchmarks/peers/run" + ("" if A.size == "full" else " --" + A.size)
    base_name = cs[0].name
    mt = [c for c in cs if isinstance(c, Modtrack)]
    peers = [c for c in cs if not isinstance(c, (Modtrack, NoTracker))]
    floor = next((c for c in cs if isinstance(c, KernelFloor)), None)
    L = []
    L.append("# Against the tools users would pick instead\n")
    L.append("Generated by **`%s`** (as root; the full run is `benchmarks/peers/run`, %s) on %s. "
             "**Do not edit this section by hand**: rerun the command. Environment: %s. Seed %d (the contenders' "
             "order in each round, the kbuild mix's \"headers\").\n"
             % (cmd, "measured below" if A.size == "full" else "see benchmarks/README.md for its wall time",
                time.strftime("%Y-%m-%d %H:%M"), env, A.seed))
    total = sum(s for _, s in phases)
    L.append("Wall time of this run: **%.1f min** from `%s` starting to this file (%s).\n" % (
        (time.time() - A.started) / 60 if A.started else total / 60, cmd,
        ", ".join("%s %.1f min" % (n, s / 60) for n, s in phases)))
    L.append("Setup: a fresh sparse %s MiB ext4 image (`mkfs.ext4 -i 4096`), loop-mounted under "
             "`/tmp/modtrack-loop-bench*/mnt` (made and removed by benchmarks/peers/run); a base tree of %d files of 4 KiB "
             "in directories of %d (`ops mkfiles`), and %d large files of %d MiB. Every workload is a separate "
             "C process (`benchmarks/workloads/ops.c`) that logs every path it changes outside the mount "
             "(the ground truth). Trackers' state, sockets and logs are outside the tracked mount.\n"
             % (A.image_mb, cfg["base"], cfg["per_dir"], cfg["big_files"], cfg["big_mb"]))
    if isinstance(pngs, str):
        L.append("**%s.**\n" % pngs)

    L.append("## What does it cost my writers?\n")
    L.append("Each contender is started, runs the six workloads in turn, and is stopped; %d rounds, the "
             "contenders in a shuffled order in each. Before each timed run: the workload's preparation (untimed), "
             "the contender's answer (so the run starts a new period; modtrack: query + bless), `sync`. Cell: "
             "ratio = median wall time / median with no tracker, then the median seconds (min–max). The kernel "
             "floor row is what modtrack's marks cost by themselves: its two fanotify groups, marked as its defaults "
             "mark them, with a C reader that answers each permission event at once (no record, no sync, no "
             "tracker logic) and removes the marks before each answer as a checkpoint does; a ratio of modtrack "
             "reads against it as well as against the peers.\n" % cfg["rounds"])
    L.append("| workload | command |")
    L.append("| --- | --- |")
    for w, label in WORKLOADS:
        L.append("| %s | `%s` |" % (label, wls.cmd_doc[w]))
    L.append("")
    L.append("| contender | " + " | ".join(label for _, label in WORKLOADS) + " | command |")
    L.append("| --- " * (len(WORKLOADS) + 2) + "|")
    bmed = {w: med(times[base_name][w]) for w, _ in WORKLOADS}
    for c in cs:
        t = times[c.name]
        L.append("| %s | %s | `%s` |" % (c.name, " | ".join(
            "**%.2fx** %s" % (med(t[w]) / bmed[w], fmt_runs(t[w])) for w, _ in WORKLOADS), c.cmd_doc))
    L.append("")
    if not isinstance(pngs, str):
        L.append("![writer overhead per workload](img/peers-overhead.png)\n")

    L.append("## Are its answers right after each workload?\n")
    L.append("After every timed run above, the contender's answer against the ground truth. Cell: **missed** / "
             "**false positives** over the %d rounds (one number if every round gave it, else min–max). missed: "
             "changed paths (created, modified, renamed from or to, deleted) the answer does not cover; false "
             "positive: an unchanged file it covers. A reported directory covers its subtree; an answer that says "
             "to rescan (overflow, fresh instance, continuity lost) covers every file. The grep -r column is "
             "the read-only pass: every file it reports is a false positive.\n" % cfg["rounds"])
    L.append("| contender | " + " | ".join(label for _, label in WORKLOADS) + " | answer says (last round, 8 "
             "writers) | command |")
    L.append("| --- " * (len(WORKLOADS) + 3) + "|")
    for c in cs:
        k = checks[c.name]
        L.append("| %s | %s | %s | `%s` |" % (c.name, " | ".join(
            "%s / %s" % (span([e["missed"] for e in k[w]]), span([e["fp"] for e in k[w]])) for w, _ in WORKLOADS),
            answers[c.name]["w8"][-1][2], c.cmd_doc))
    L.append("")
    L.append("Answer time after the 8-writer run (%d changed files), seconds, median (min–max): %s. "
             "inotifywait's and the WatchService's are the consumer reading their log until it has been quiet "
             "for 0.5 s (not comparable); the rescan's is a Python walk of the whole mount. The latency sweep "
             "below compares answers properly.\n" % (
                 cfg["w8"], "; ".join("%s %s" % (c.short, fmt_runs([x[1] for x in answers[c.name]["w8"]]))
                                      for c in cs)))

    waits = []
    for c in mt:
        ms = [x[3] for w, _ in WORKLOADS for x in answers[c.name][w] if x[3] is not None]
        if ms:
            waits.append("%s: %d answers, %d waited 5 s or more, longest %d ms" % (
                c.short, len(ms), sum(1 for m in ms if m >= 5000), max(ms)))
    L.append("modtrack's checkpoint waits (`barrierWaitMs` of each answer above, the daemon's own figure): %s. "
             "The `srcu` barrier waits, up to its deadline, for every thread on the machine that is inside a "
             "system call that may write and that it cannot rule out (SyscallBarrier); on this shared machine a "
             "process of someone else's blocked in such a call makes each srcu checkpoint wait that long.\n"
             % "; ".join(waits))
    L.append("## Does it miss changes when it is killed, or when its queue overruns?\n")
    L.append("Scenarios: **no fault**: 8 writer processes, paced (%d µs pause per operation), each create %d "
             "files and append 100 bytes to %d distinct base files (%d changed files); **SIGKILL, files**: the "
             "same, and the contender is killed with SIGKILL once a third of the operations are done and "
             "restarted at once (ops done at the kill / when it was ready again are shown); **SIGKILL, "
             "directories**: the directory workload (%d directories of %d files; %d µs pause per directory), "
             "killed the same way (modtrack's restarted daemon takes over the queue its keeper held meanwhile); "
             "modtrack only: **SIGKILL of every modtrack process**: as SIGKILL, files, with its queue keeper "
             "killed too, as `systemctl kill` would (the restart walks); **planned restart**: as SIGKILL, files, "
             "with SIGTERM (a clean stop) and a start at once, as an upgrade would; **power loss played**: as "
             "SIGKILL of every modtrack process, with both stopped (SIGSTOP) before the kill so that neither "
             "runs after it, and the restarted daemon taking another boot id (`-Dmodtrack.simulatedBoot`): "
             "its answer is the reconciliation across a reboot, with every directory recorded before the loss "
             "read whole (the disks lose nothing here); for modtrack also the time "
             "from the kill or SIGTERM until its first answer after the restart was complete; **overrun**: %d files renamed one by one as fast as one process can "
             "(`ops rename`), while the contender's process is stopped with SIGSTOP, then SIGCONT: more events "
             "than inotify's `max_queued_events` (%d here) and fanotify's default queue hold; modtrack's own queue "
             "(%d events) is not overrun by it, so in this scenario its daemon runs with the kernel's default "
             "(`JAVA_TOOL_OPTIONS=-Dmodtrack.notificationQueueEvents=16384`). Then "
             "the contender is asked once. Columns as above; **named missed**: changed paths missing from the "
             "paths the answer names (what a consumer that ignores the rescan signal would miss). inotifywait and "
             "the WatchService answers are the union of the logs of both instances: they give no signal that "
             "events were lost while they were down.\n"
             % (cfg["pace_us"], cfg["crash_new"] // 8, cfg["crash_mod"] // 8, cfg["crash_new"] + cfg["crash_mod"],
                cfg["churn_dirs"], cfg["churn_files"], cfg["churn_pace_us"], crashes[0]["burst"], A.inotify_queue,
                MODTRACK_QUEUE))
    L.append("| contender | scenario | changed | missed | false positives (of unchanged) | named missed | answer says "
             "| command |")
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in crashes:
        notr = r["name"] == NoTracker.name
        if r["scenario"] == "none":
            scen = "no fault"
        elif r["scenario"] == "overrun":
            scen = ("overrun: nothing runs to stop" if notr else
                    "overrun: stopped %.1f s during %d renames" % (r["restart_s"], r["total_ops"]))
        else:
            what = "directories" if r["scenario"] == "kill-churn" else "files"
            how = {"kill-all-files": "SIGKILL of every modtrack process (its queue keeper too)",
                   "restart-files": "planned restart (SIGTERM, start again)",
                   "power-files": "power loss played (every modtrack process stopped, killed; a new boot id)"}.get(
                r["scenario"], "SIGKILL")
            scen = ("%s, %s: nothing runs to kill" % (how, what) if notr else
                    "%s, %s, at %d/%d ops, ready again %.1f s later at %d%s" % (
                        how, what, r["at_kill"], r["total_ops"], r["restart_s"], r["at_ready"],
                        "" if r.get("first_answer_s") is None else
                        ", its first answer complete %.1f s after the stop" % r["first_answer_s"]))
        L.append("| %s | %s | %d | %d | %d (of %d) | %d | %s | `%s` |" % (
            r["name"], scen, r["truth"], r["missed"], r["fp"], r["unchanged"], r["named_missed"], r["note"],
            r["cmd"]))
    L.append("")
    bad = [r for r in crashes if r["name"].startswith("modtrack") and r["missed"]]
    L.append("modtrack's misses in these scenarios: %s.\n" % (
        "**none** (0 missed in every scenario, every configuration)" if not bad else
        "**FOUND: %s**" % "; ".join("%s, %s: %d missed" % (r["name"], r["scenario"], r["missed"]) for r in bad)))

    L.append("## How fast does it answer as the changed files grow?\n")
    L.append("Empty files created 1,000 per directory (`ops mkfiles MNT/sweep ... 0`, 2 processes) while watchman "
             "and four modtrack daemons (process/srcu, process/freeze, the defaults power/srcu, and the one that "
             "recovers below) run; at each step every contender answers %d "
             "times (median (min–max) seconds), nothing is blessed (each answer holds every file created so "
             "far). The mount also holds the base tree (%d files) and the large files: the rescan walks them "
             "too, as a backup would. Creating the files took %s s per step. The srcu daemons answer "
             "twice each time: its entries in the full form, then in the compact form (docs/protocol.md, *Compact "
             "entries*: the same information, paths relative to the root and defaults left out); watchman is "
             "asked for names only, relative to its root.\n" % (
                 cfg["latency_reps"], cfg["base"], ", ".join("%.1f" % s for s in sw["create_s"])))
    L.append("| contender | " + " | ".join("%s changed" % f"{n:,}" for n in sw["steps"]) + " | command |")
    L.append("| --- " * (len(sw["steps"]) + 2) + "|")
    names = {"rescan": "full rescan (find, walk + stat)", "watchman": "watchman since a clock",
             "srcu": "modtrack process/srcu", "srcu-compact": "modtrack process/srcu, compact entries",
             "power": "modtrack power/srcu (the defaults)", "power-compact": "modtrack power/srcu, compact entries",
             "freeze": "modtrack process/freeze"}
    for k, series in sw["latency"].items():
        L.append("| %s | %s | `%s` |" % (names[k], " | ".join(
            "%s<br>%s" % (fmt_runs([x[0] for x in reps]), reps[-1][1]) for reps in series), sw["cmd"][k]))
    L.append("")
    if not isinstance(pngs, str):
        L.append("![answer latency and memory as changed files grow](img/peers-latency.png)\n")

    L.append("## How long does modtrack take to recover after SIGKILL, as its journal grows?\n")
    L.append("The sweep's fourth daemon (the defaults: power/srcu), stopped cleanly once before the first step "
             "(so that the JVM wrote its class data archive, as any restart but those of a first life after an "
             "install or an upgrade has it: docs/install.md, *Restarts*), then SIGKILLed at each step with every "
             "record since the first step unblessed and started again at once: once with the archive set aside "
             "(a first life), %d time(s) with it, and once more with it and its client asking for compact "
             "entries. Time from the start to `listening`, and to the end of its first streamed answer.\n"
             % cfg["recovery_reps"])
    L.append("| changed files | journal bytes at each kill | to listening s | to first answer s | to first answer, "
             "compact entries, s | to listening, first answer, no archive (a first life), s | answer | command |")
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for n in sw["steps"]:
        rs = [r for r in sw["recovery"] if r["n"] == n and not r.get("compact") and r.get("archive", True)]
        rc = [r for r in sw["recovery"] if r["n"] == n and r.get("compact")]
        rn = [r for r in sw["recovery"] if r["n"] == n and not r.get("archive", True)]
        L.append("| %s | %s | %s | %s | %s | %s | %d changes, continuity %s, barrier wait %s ms | `%s` |" % (
            f"{n:,}", "/".join(f"{r['journal']:,}" for r in rs + rc),
            fmt_runs([r["listening"] for r in rs + rc], 2), fmt_runs([r["first"] for r in rs], 2),
            " ".join("%.2f" % r["first"] for r in rc), " ".join("%.2f, %.2f" % (r["listening"], r["first"]) for r in rn),
            rs[-1]["lines"], rs[-1]["continuity"], "/".join(str(r["barrier_ms"]) for r in rn + rs + rc),
            sw["cmd"]["recovery"]))
    L.append("")

    L.append("## How much memory per changed file?\n")
    base, later = memory_base(sw["memory"])
    L.append("modtrack process/srcu of the sweep, after each step's answers (nothing blessed). Per file: the "
             "growth since the first step (%s changed files: the daemon has answered by then, so its compiled code "
             "and its collector's sizing have settled; from the empty start they have not, and the growth can be "
             "negative) divided by the files added since.\n" % f"{base['n']:,}")
    L.append("| changed files | heap used after full GC | per file | RSS | per file | command |")
    L.append("| --- | --- | --- | --- | --- | --- |")
    for m in sw["memory"]:
        grown = m in later
        L.append("| %s | %.1f MB | %s | %.1f MB | %s | `%s` |" % (
            f"{m['n']:,}", m["heap"] / 1e6, "%.0f B" % ((m["heap"] - base["heap"]) / (m["n"] - base["n"])) if grown else "",
            m["rss"] / 1e6, "%.0f B" % ((m["rss"] - base["rss"]) / (m["n"] - base["n"])) if grown else "",
            sw["cmd"]["memory"]))
    L.append("")

    L.append("## Where modtrack loses\n")
    L.append("Computed from the tables above by the harness (so they stay true when it is rerun). A peer counts as "
             "cheaper or faster only when its slowest run beat modtrack's fastest (the ranges do not overlap):\n")
    for c in mt:
        for wl, label in WORKLOADS:
            mine = med(times[c.name][wl])
            beaters = ["%s %.2fx" % (o.short, med(times[o.name][wl]) / bmed[wl])
                       for o in peers if max(times[o.name][wl]) < min(times[c.name][wl])]
            if beaters:
                L.append("- %s, %s: %.2fx the untracked time%s; cheaper for the writers: %s.%s" % (
                    c.name, label, mine / bmed[wl],
                    " (the kernel's floor under its marks: %.2fx)" % (med(times[floor.name][wl]) / bmed[wl])
                    if floor else "", ", ".join(beaters),
                    " (By design the first access in each directory in a period waits for the directory's record%s:"
                    " docs/linux-source.md, *Directory records*.)" % (
                        ", and every change raises notification events in the writer's context"
                        if c.detail == "files" else ", and its first notification event in a period")))
    for c in mt:
        for wl, label in WORKLOADS:
            fps = [e["fp"] for e in checks[c.name][wl]]
            better = [o.short for o in peers + cs[:1] if max(e["fp"] for e in checks[o.name][wl]) < min(fps)
                      and max(e["missed"] for e in checks[o.name][wl]) == 0]
            if min(fps) > 0 and better:
                L.append("- %s, %s: %s false positives; fewer with 0 missed: %s." % (c.name, label, span(fps),
                                                                                     ", ".join(better)))
    for i, n in enumerate(sw["steps"]):
        for k in ("srcu", "srcu-compact", "power", "power-compact", "freeze"):
            mine = med([x[0] for x in sw["latency"][k][i]])
            faster = ["%s %.3f s" % (names[o], med([x[0] for x in sw["latency"][o][i]]))
                      for o in ("rescan", "watchman") if o in sw["latency"]
                      and max(x[0] for x in sw["latency"][o][i]) < min(x[0] for x in sw["latency"][k][i])]
            if faster:
                L.append("- %s, answer with %s changed files: %.3f s; faster: %s." % (
                    names[k], f"{n:,}", mine, ", ".join(faster)))
    for r in crashes:
        if r["name"].startswith("modtrack") and r["scenario"] != "none":
            others = [o for o in crashes if o["scenario"] == r["scenario"] and not o["name"].startswith("modtrack")
                      and o["missed"] == 0 and o["fp"] < r["fp"]]
            if r["fp"] and others:
                L.append("- %s, %s: %d missed, %d false positives (%s); fewer false positives with 0 missed: %s." % (
                    r["name"], r["scenario"], r["missed"], r["fp"], r["note"],
                    ", ".join("%s (%d)" % (o["name"], o["fp"]) for o in others)))
    L.append("")
    L.append("## Not measured\n")
    L.append("- `--durability power --barrier freeze`: the barrier only acts at a checkpoint, so its writer cost is "
             "the `power` row's and its checkpoint cost the process/freeze row's.\n"
             "- The latency sweep creates empty files (no data blocks, so 1,000,000 of them fit the image and the "
             "hour). Its directories are all made after the "
             "daemons started, so modtrack names their files from their listings (directories born since the "
             "watermark, docs/linux-source.md); files changed in older directories take a `statx` each "
             "(*One daemon's answer, alone*, `--workload modified`).\n"
             "- Recovery for `process` durability and the freeze barrier (the sweep's recovering daemon runs "
             "the defaults, power/srcu), and memory for power and freeze (the memory is process/srcu's).\n"
             "- The rescan's times are walks with a warm page cache; a cold walk (after a reboot) is slower.\n")
    return "\n".join(L)


def some_of(paths, at_most=3):
    """`paths` sorted, at most `at_most` of them named and how many more: a power loss's answer
    rescans hundreds of directories, which would fill a table's cell."""
    p = sorted(set(paths))
    if len(p) <= at_most + 1:
        return ", ".join(p)
    return "%s and %d more" % (", ".join(p[:at_most]), len(p) - at_most)


def main():
    global A, PIDS, RNG
    ap = argparse.ArgumentParser()
    for k in ("work", "mnt", "repo", "ops", "floor", "javawatch", "out", "img", "env", "missing"):
        ap.add_argument("--" + k, default="")
    ap.add_argument("--size", choices=sorted(SIZES), default="quick")
    ap.add_argument("--image-mb", type=int, default=0)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=0, help="overhead rounds (0: the size's)")
    ap.add_argument("--started", type=float, default=0.0, help="epoch seconds when benchmarks/peers/run started")
    ap.add_argument("--workloads", default="", help="comma-separated workload keys (%s): only the overhead "
                    "question for these, its table printed, no report written" % ",".join(w for w, _ in WORKLOADS))
    ap.add_argument("--sweep-only", action="store_true", help="only the latency sweep (with its recovery and memory), "
                    "printed as a table; no report written")
    ap.add_argument("--contenders", default="", help="with --workloads: comma-separated short names "
                    "(rescan, inotifywait, watchman, WatchService, modtrack power/srcu, ...); the untracked "
                    "baseline and the kernel's floor (floor) always run")
    A = ap.parse_args()
    PIDS = os.path.join(A.work, "pids")
    os.makedirs(os.path.join(A.work, "logs"), exist_ok=True)
    RNG = random.Random(A.seed)
    cfg = dict(SIZES[A.size])
    if A.rounds > 0:
        cfg["rounds"] = A.rounds
    with open("/proc/sys/fs/inotify/max_queued_events") as f:
        A.inotify_queue = int(f.read())
    log("size %s, seed %d, inotify max_queued_events %d" % (A.size, A.seed, A.inotify_queue))
    missing = set(x for x in A.missing.split(",") if x)
    load_start = os.getloadavg()
    phases = []

    def phase(name, fn, *args):
        t = time.time()
        out = fn(*args)
        phases.append((name, time.time() - t))
        log("%s took %.1f min" % (name, phases[-1][1] / 60))
        return out

    log("making the base tree of %d files" % cfg["base"])
    base, base_list, hot_list, big = phase("base tree", make_base, cfg)
    wls = Workloads(cfg, base_list, hot_list, big)
    cs = contenders("ovh", missing)
    if A.workloads:
        overhead_only(cs, cfg, wls)
        return
    if A.sweep_only:
        sweep_only(cfg, missing)
        return
    times, checks, answers = phase("overhead", overhead, cs, cfg, wls)

    def faults():
        rows = []
        for c in contenders("crash", missing, floor=False):
            extra = ("kill-all-files", "restart-files", "power-files") if isinstance(c, Modtrack) else ()
            for scenario in ("none", "kill-files", "kill-churn", "overrun") + extra:
                log("fault scenario %s: %s" % (scenario, c.name))
                if isinstance(c, Modtrack):
                    rmtree(c.state)  # each scenario starts from an empty state directory
                r = crash(c, cfg, base, scenario)
                log("  changed %d, missed %d, false positives %d, named missed %d: %s"
                    % (r["truth"], r["missed"], r["fp"], r["named_missed"], r["note"]))
                rows.append(r)
        return rows
    crashes = phase("faults", faults)
    sw = phase("latency sweep", sweep, cfg, missing)
    pngs = plots(cs, times, sw, A.img)
    env = A.env + "; load average %.1f at the start, %.1f at the end: other work shares the machine" % (
        load_start[0], os.getloadavg()[0])
    md = report(cfg, cs, wls, times, checks, answers, crashes, sw, pngs, env, phases)
    md = md.replace(A.mnt, "MNT").replace(A.work, "WORK")
    if missing:
        md = md.replace("## What does it cost", "**Not run: %s (the Debian package could not be installed).**\n\n"
                        "## What does it cost" % ", ".join(sorted(missing)), 1)
    with open(A.out, "w") as f:
        f.write(md)
    with open(os.path.join(A.work, "results.json"), "w") as f:
        json.dump(dict(cfg=cfg, times=times, checks=checks, crashes=crashes, sweep=sw, phases=phases), f, indent=1)
    log("wrote " + A.out + (" and " + ", ".join(pngs) if not isinstance(pngs, str) else " (" + pngs + ")"))


if __name__ == "__main__":
    main()
