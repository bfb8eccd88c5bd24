# A writer for WorkloadTest: a random mix of file operations in one directory, each logged after it
# completed as "start end kind path [path]" (time.monotonic_ns(), the clock of Java's System.nanoTime()
# on Linux). Names are never reused: every new name takes the next counter value. SIGTERM ends it
# after the operation in progress, logged: a test that restarts its tracker a given number of times
# keeps the writers going until the last restart, however long the restarts take.
# Usage: writer.py <dir> <seed> <ops> <log> [pause-microseconds-between-operations]
import ctypes, mmap, os, random, signal, sys, time

d, seed, ops, log_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
pause = int(sys.argv[5]) / 1e6 if len(sys.argv) > 5 else 0
rnd = random.Random(seed)
log = open(log_path, "w", buffering=1)  # line by line: the test reads its size as progress
ro = sorted(os.path.join(d, n) for n in os.listdir(d) if n.startswith("ro_"))
live = []
counter = 0
done = 0
stopping = False


def stop(signum, frame):
    # Python runs this between bytecodes, after the system call in progress returned: the operation
    # it belongs to is still logged.
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, stop)


def new_name(prefix, parent=d):
    global counter
    counter += 1
    return os.path.join(parent, "%s%d" % (prefix, counter))


def logged(kind, fn, *paths):
    global done
    start = time.monotonic_ns()
    fn()
    end = time.monotonic_ns()
    log.write("%d %d %s %s\n" % (start, end, kind, " ".join(paths)))
    done += 1


def data(lo=1, hi=4096):
    return rnd.randbytes(rnd.randint(lo, hi))


def write_file(p, mode, content, seek=None):
    with open(p, mode) as f:
        if seek is not None:
            f.seek(seek)
        f.write(content)


def create():
    p = new_name("f")
    logged("create", lambda: write_file(p, "wb", data()), p)
    live.append(p)


def append(p):
    logged("append", lambda: write_file(p, "ab", data(1, 512)), p)


def overwrite(p):
    size = os.path.getsize(p)
    logged("overwrite", lambda: write_file(p, "r+b", data(1, 256), rnd.randint(0, size)), p)


def truncate(p):
    size = os.path.getsize(p)
    to = rnd.randint(0, size)
    # truncate(2) to the size a file has changes nothing, not even its ctime (POSIX): no tracker can name it.
    logged("truncate" if to != size else "unchanged", lambda: os.truncate(p, to), p)


def open_trunc(p):
    logged("otrunc", lambda: write_file(p, "wb", data(0, 256)), p)


def fallocate(p):
    def run():
        fd = os.open(p, os.O_RDWR)
        try:
            os.posix_fallocate(fd, 0, os.fstat(fd).st_size + rnd.randint(1, 16384))
        finally:
            os.close(fd)
    logged("fallocate", run, p)


def mmap_store(p):
    if os.path.getsize(p) == 0:
        return append(p)
    def run():
        with open(p, "r+b") as f:
            m = mmap.mmap(f.fileno(), 0)
            at = rnd.randrange(len(m))
            m[at:at + 1] = bytes([rnd.randrange(256)])
            m.close()
    logged("mmap", run, p)


libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
MAPPED_BYTES = 4096
mapped = None  # (path, address): a file of this writer mapped shared and writable until it exits


def mapped_store():
    # The first call makes a file and maps it with libc's mmap (Python's mmap module would keep a
    # duplicate of its descriptor open), then closes its descriptor: from then on only the mapping
    # writes it, across many checkpoints, with no event. The file is never renamed or removed.
    global mapped
    if mapped is None:
        p = new_name("m")
        logged("create", lambda: write_file(p, "wb", bytes(MAPPED_BYTES)), p)
        fd = os.open(p, os.O_RDWR)
        at = libc.mmap(None, MAPPED_BYTES, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
        os.close(fd)
        if at in (None, 2 ** 64 - 1):
            raise OSError(ctypes.get_errno(), "mmap of " + p)
        mapped = (p, at)
    p, at = mapped
    offset, value = rnd.randrange(MAPPED_BYTES), bytes([rnd.randrange(256)])
    logged("mmap", lambda: ctypes.memmove(at + offset, value, 1), p)


def rename(p):
    # Not over another name of the same file: rename() then does nothing, and both names stay.
    others = [q for q in live if q != p and not os.path.samefile(p, q)]
    if others and rnd.random() < 0.6:
        q = rnd.choice(others)  # over an existing file
        live.remove(q)
    else:
        q = new_name("r")
    logged("rename", lambda: os.rename(p, q), p, q)
    live.remove(p)
    live.append(q)


def link(p):
    q = new_name("h")
    logged("link", lambda: os.link(p, q), p, q)
    live.append(q)
    append(q)


def dir_move():
    a = new_name("d")
    logged("mkdir", lambda: os.mkdir(a), a)
    inside = []
    for _ in range(rnd.randint(1, 3)):
        p = new_name("f", a)
        logged("create", lambda: write_file(p, "wb", data()), p)
        inside.append(p)
    b = new_name("d")
    logged("dirmove", lambda: os.rename(a, b), a, b)
    live.extend(os.path.join(b, os.path.basename(p)) for p in inside)


def delete(p):
    logged("delete", lambda: os.unlink(p), p)
    live.remove(p)


def read(p):
    def run():
        with open(p, "rb") as f:
            f.read()
    logged("read", run, p)


OPS = [(create, 10), (append, 14), (overwrite, 10), (truncate, 5), (open_trunc, 5), (fallocate, 4),
       (mmap_store, 5), (mapped_store, 4), (rename, 6), (link, 3), (dir_move, 2), (delete, 8), (read, 20)]
CHOICES = [op for op, w in OPS for _ in range(w)]

while done < ops and not stopping:
    if pause:
        time.sleep(pause)
    op = rnd.choice(CHOICES)
    if op is create or op is dir_move or op is mapped_store:
        op()
    elif op is read:
        read(rnd.choice(ro))
    elif not live:
        create()
    elif op is delete or len(live) > 40 and rnd.random() < 0.5:
        delete(rnd.choice(live))
    else:
        op(rnd.choice(live))
log.close()
