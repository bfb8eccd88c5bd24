# A writer for PowerCutTest: a seeded mix of creations, appends, overwrites in place (some followed
# by an fdatasync or an fsync, which write the data and may leave the new ctime behind), renames
# (within and across directories, some over an existing name), deletions, and name reuse (each
# directory's files take their names from a small pool, so a name removed or renamed away comes
# back). Every write's bytes are new (the operation's number and random bytes), so a file's contents
# say which version it is.
#
# After each operation it appends "seq start end kind path [path2] [sync]" to its log
# (time.monotonic_ns()) and, when given one, writes "w seq kind path [path2]" as a mark to the
# recording disk's .marks, so the disk's log says where each operation ended.
# It works in the directories of <root> whose names start with <prefix> (several writers take
# different prefixes).
# Usage: power_cut_writer.py <root> <prefix> <seed> <ops> <log> [marks|-] [max-pause-microseconds]
import os, random, sys, time

root, prefix, seed, ops, log_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
marks = sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] != "-" else None
max_pause = int(sys.argv[7]) / 1e6 if len(sys.argv) > 7 else 0.02
rnd = random.Random(seed)
log = open(log_path, "w", buffering=1)
DIRS = sorted(n for n in os.listdir(root) if n.startswith(prefix) and os.path.isdir(os.path.join(root, n)))
POOL = 8  # names per directory: f0..f7
seq = 0


def files():
    out = []
    for d in DIRS:
        for n in os.listdir(os.path.join(root, d)):
            out.append(os.path.join(d, n))
    return sorted(out)


def free_names():
    out = []
    for d in DIRS:
        present = set(os.listdir(os.path.join(root, d)))
        out.extend(os.path.join(d, "f%d" % i) for i in range(POOL) if "f%d" % i not in present)
    return out


def content(lo, hi):
    return ("%d:" % seq).encode() + rnd.randbytes(rnd.randint(lo, hi))


def sync(fd):
    r = rnd.random()
    if r < 0.3:
        os.fdatasync(fd)
        return "fdatasync"
    if r < 0.45:
        os.fsync(fd)
        return "fsync"
    return ""


def write_at(path, flags, data, offset=None):
    fd = os.open(os.path.join(root, path), flags, 0o644)
    try:
        if offset is not None:
            os.pwrite(fd, data, offset)
        else:
            os.write(fd, data)
        return sync(fd)
    finally:
        os.close(fd)


def create(p):
    return write_at(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, content(1, 3000))


def append(p):
    return write_at(p, os.O_WRONLY | os.O_APPEND, content(1, 600))


def overwrite(p):
    size = os.path.getsize(os.path.join(root, p))
    data = content(1, 200)
    if size <= len(data):
        return write_at(p, os.O_WRONLY, data, 0)
    return write_at(p, os.O_WRONLY, data, rnd.randint(0, size - len(data)))


def logged(kind, fn, *paths):
    global seq
    start = time.monotonic_ns()
    how = fn() or ""
    end = time.monotonic_ns()
    log.write("%d %d %d %s %s %s\n" % (seq, start, end, kind, " ".join(paths), how))
    if marks:
        with open(marks, "wb", buffering=0) as m:
            m.write(("w %d %s %s %s" % (seq, kind, " ".join(paths), how)).strip().encode())
    seq += 1


while seq < ops:
    time.sleep(rnd.random() * max_pause)
    present = files()
    free = free_names()
    r = rnd.random()
    if (r < 0.2 or not present) and free:
        p = rnd.choice(free)
        logged("create", lambda: create(p), p)
    elif r < 0.4:
        p = rnd.choice(present)
        logged("append", lambda: append(p), p)
    elif r < 0.6:
        p = rnd.choice(present)
        logged("overwrite", lambda: overwrite(p), p)
    elif r < 0.75:
        p = rnd.choice(present)
        q = rnd.choice(free + present) if free else rnd.choice(present)
        if p != q:
            logged("rename", lambda: os.rename(os.path.join(root, p), os.path.join(root, q)), p, q)
    elif r < 0.87:
        p = rnd.choice(present)
        logged("delete", lambda: os.unlink(os.path.join(root, p)), p)
    else:
        # A name reused at once: removed and made again with new contents.
        p = rnd.choice(present)
        logged("delete", lambda: os.unlink(os.path.join(root, p)), p)
        logged("create", lambda: create(p), p)
log.close()
