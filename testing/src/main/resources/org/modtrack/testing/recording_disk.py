# A recording disk for power-cut tests (RecordingDisk.java runs it): a FUSE file system that serves
# the files of a backing directory (image files for loop devices) and logs, in ONE order across all
# of them, every write (file, offset, bytes), every fsync and fdatasync (what a loop device turns a
# flush of its queue into), every truncation and every close, as xfstests' dm-log-writes and
# CrashMonkey do below a block device. WriteLog.java reads the log; CrashImages.java builds what a
# disk may hold after a power cut at any point of it.
#
# Writes to the file ".marks" are not stored: each is logged as a mark (its bytes are a label), so
# a test can say in the log where it stood ("bless 4", "end").
#
# The log: the 8 bytes "MTRLOG1\n", then records of a 24-byte header, little-endian
# (u32 type, u32 file, u64 offset, u64 length), followed by `length` bytes of payload for the
# types that carry one:
#   1 WRITE     file, offset, the bytes written
#   2 FSYNC     file, offset 1 for fdatasync, 0 for fsync; no payload
#   3 CLOSE     file (a FUSE flush: a close, not a durability point); no payload
#   4 MARK      the label
#   5 NAME      file, the file's name (once, before its first record)
#   6 TRUNCATE  file, offset = the new size; no payload
# A record is logged before the request is answered, so a request answered before another was
# sent comes first in the log.
#
# Needs Debian's python3-pyfuse3 and fuse3; run it with /usr/bin/python3 (the system one).
# Usage: /usr/bin/python3 recording_disk.py BACKING_DIR MOUNT_POINT LOG
import errno
import os
import stat
import struct
import sys

import pyfuse3
import trio

WRITE, FSYNC, CLOSE, MARK, NAME, TRUNCATE = 1, 2, 3, 4, 5, 6
HEADER = struct.Struct("<IIQQ")
MARKS = ".marks"
MARKS_INODE = 2
MARKS_FH = 1 << 40  # above any descriptor


class RecordingDisk(pyfuse3.Operations):
    def __init__(self, backing, log):
        super().__init__()
        self.backing = backing
        self.log = log
        self.inodes = {}  # name: inode
        self.names = {}  # inode: name
        self.named = set()  # inodes whose NAME record is logged
        self.next_inode = 3
        self.open_files = {}  # descriptor: inode

    def record(self, kind, file, offset=0, payload=b"", length=None):
        if kind != NAME and kind != MARK and file not in self.named:
            name = self.names[file].encode()
            self.log.write(HEADER.pack(NAME, file, 0, len(name)) + name)
            self.named.add(file)
        self.log.write(HEADER.pack(kind, file, offset, len(payload) if length is None else length))
        if payload:
            self.log.write(payload)

    def path(self, inode):
        return os.path.join(self.backing, self.names[inode])

    def inode_of(self, name):
        if name not in self.inodes:
            self.inodes[name] = self.next_inode
            self.names[self.next_inode] = name
            self.next_inode += 1
        return self.inodes[name]

    def attributes(self, inode):
        a = pyfuse3.EntryAttributes()
        if inode == pyfuse3.ROOT_INODE:
            s = os.stat(self.backing)
        elif inode == MARKS_INODE:
            s = os.stat(self.backing)
            a.st_mode = stat.S_IFREG | 0o600
            a.st_size = 0
            a.st_ino = inode
            a.st_nlink = 1
            a.st_uid, a.st_gid = s.st_uid, s.st_gid
            a.st_atime_ns = a.st_mtime_ns = a.st_ctime_ns = s.st_mtime_ns
            a.entry_timeout = a.attr_timeout = 0
            return a
        else:
            try:
                s = os.stat(self.path(inode))
            except (KeyError, FileNotFoundError):
                raise pyfuse3.FUSEError(errno.ENOENT)
        a.st_ino = inode
        a.st_mode = s.st_mode
        a.st_nlink = s.st_nlink
        a.st_uid, a.st_gid = s.st_uid, s.st_gid
        a.st_size = s.st_size
        a.st_blksize = 4096
        a.st_blocks = s.st_blocks
        a.st_atime_ns, a.st_mtime_ns, a.st_ctime_ns = s.st_atime_ns, s.st_mtime_ns, s.st_ctime_ns
        a.entry_timeout = a.attr_timeout = 0
        return a

    async def getattr(self, inode, ctx=None):
        return self.attributes(inode)

    async def lookup(self, parent, name, ctx=None):
        name = os.fsdecode(name)
        if parent != pyfuse3.ROOT_INODE:
            raise pyfuse3.FUSEError(errno.ENOENT)
        if name == MARKS:
            return self.attributes(MARKS_INODE)
        if not os.path.lexists(os.path.join(self.backing, name)):
            raise pyfuse3.FUSEError(errno.ENOENT)
        return self.attributes(self.inode_of(name))

    async def opendir(self, inode, ctx):
        if inode != pyfuse3.ROOT_INODE:
            raise pyfuse3.FUSEError(errno.ENOTDIR)
        return inode

    async def readdir(self, fh, start, token):
        names = sorted(os.listdir(self.backing))
        for i, name in enumerate(names[start:], start):
            if not pyfuse3.readdir_reply(token, os.fsencode(name), self.attributes(self.inode_of(name)), i + 1):
                break

    async def releasedir(self, fh):
        pass

    async def setattr(self, inode, attr, fields, fh, ctx):
        if inode == MARKS_INODE:
            return self.attributes(inode)
        p = self.path(inode)
        if fields.update_size:
            os.truncate(p, attr.st_size)
            self.record(TRUNCATE, inode, attr.st_size)
        if fields.update_mode:
            os.chmod(p, stat.S_IMODE(attr.st_mode))
        if fields.update_atime or fields.update_mtime:
            s = os.stat(p)
            os.utime(p, ns=(attr.st_atime_ns if fields.update_atime else s.st_atime_ns,
                            attr.st_mtime_ns if fields.update_mtime else s.st_mtime_ns))
        return self.attributes(inode)

    async def open(self, inode, flags, ctx):
        if inode == MARKS_INODE:
            return pyfuse3.FileInfo(fh=MARKS_FH, direct_io=True)
        fd = os.open(self.path(inode), flags & ~(os.O_CREAT | os.O_EXCL | os.O_TRUNC | os.O_APPEND | os.O_DIRECT))
        self.open_files[fd] = inode
        if flags & os.O_TRUNC:
            os.ftruncate(fd, 0)
            self.record(TRUNCATE, inode, 0)
        return pyfuse3.FileInfo(fh=fd, keep_cache=True)

    async def create(self, parent, name, mode, flags, ctx):
        name = os.fsdecode(name)
        if parent != pyfuse3.ROOT_INODE or name == MARKS:
            raise pyfuse3.FUSEError(errno.EPERM)
        fd = os.open(os.path.join(self.backing, name), (flags | os.O_CREAT) & ~(os.O_APPEND | os.O_DIRECT), mode)
        inode = self.inode_of(name)
        self.open_files[fd] = inode
        self.record(TRUNCATE, inode, 0)
        return pyfuse3.FileInfo(fh=fd), self.attributes(inode)

    async def read(self, fh, off, size):
        if fh == MARKS_FH:
            return b""
        return os.pread(fh, size, off)

    async def write(self, fh, off, buf):
        if fh == MARKS_FH:
            self.record(MARK, 0, 0, bytes(buf))
            return len(buf)
        inode = self.open_files[fh]
        n = os.pwrite(fh, buf, off)
        self.record(WRITE, inode, off, bytes(buf[:n]))
        return n

    async def fsync(self, fh, datasync):
        if fh != MARKS_FH:
            # Logged, not passed on: the backing file is never what survives a cut, the log is.
            self.record(FSYNC, self.open_files[fh], 1 if datasync else 0)

    async def flush(self, fh):
        if fh != MARKS_FH:
            self.record(CLOSE, self.open_files[fh])

    async def release(self, fh):
        if fh != MARKS_FH:
            del self.open_files[fh]
            os.close(fh)

    async def unlink(self, parent, name, ctx):
        name = os.fsdecode(name)
        if parent != pyfuse3.ROOT_INODE or name == MARKS:
            raise pyfuse3.FUSEError(errno.EPERM)
        os.unlink(os.path.join(self.backing, name))
        self.inodes.pop(name, None)  # open descriptors keep their inode; a new file of that name gets a new one

    async def statfs(self, ctx):
        s = os.statvfs(self.backing)
        r = pyfuse3.StatvfsData()
        for f in ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree", "f_favail",
                  "f_namemax"):
            setattr(r, f, getattr(s, f))
        return r


def main():
    backing, mount_point, log_path = sys.argv[1], sys.argv[2], sys.argv[3]
    log = open(log_path, "wb", buffering=1 << 20)
    log.write(b"MTRLOG1\n")
    disk = RecordingDisk(os.path.abspath(backing), log)
    options = set(pyfuse3.default_options)
    options.add("fsname=modtrack-recording-disk")
    pyfuse3.init(disk, mount_point, options)
    print("mounted", flush=True)
    try:
        trio.run(pyfuse3.main, 1, 1)
    finally:
        pyfuse3.close(unmount=True)
        log.flush()
        log.close()


if __name__ == "__main__":
    main()
