package org.modtrack.posix;

import java.util.Map;

/** The Linux error numbers modtrack reacts to, and their names for messages. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EXDEV = 18;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int ELOOP = 40;
    public static final int ESTALE = 116;
    public static final int EOVERFLOW = 75;
    public static final int EOPNOTSUPP = 95;
    public static final int EMSGSIZE = 90;
    public static final int ECONNABORTED = 103;
    public static final int ECONNREFUSED = 111;
    public static final int ENOTCONN = 107;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(EPERM, "EPERM (Operation not permitted)"),
            Map.entry(ENOENT, "ENOENT (No such file or directory)"),
            Map.entry(ESRCH, "ESRCH (No such process)"),
            Map.entry(EINTR, "EINTR (Interrupted system call)"),
            Map.entry(EIO, "EIO (Input/output error)"),
            Map.entry(EBADF, "EBADF (Bad file descriptor)"),
            Map.entry(EAGAIN, "EAGAIN (Resource temporarily unavailable)"),
            Map.entry(ENOMEM, "ENOMEM (Cannot allocate memory)"),
            Map.entry(EACCES, "EACCES (Permission denied)"),
            Map.entry(EFAULT, "EFAULT (Bad address)"),
            Map.entry(EBUSY, "EBUSY (Device or resource busy)"),
            Map.entry(EEXIST, "EEXIST (File exists)"),
            Map.entry(EXDEV, "EXDEV (Invalid cross-device link)"),
            Map.entry(ENODEV, "ENODEV (No such device)"),
            Map.entry(ENOTDIR, "ENOTDIR (Not a directory)"),
            Map.entry(EISDIR, "EISDIR (Is a directory)"),
            Map.entry(EINVAL, "EINVAL (Invalid argument)"),
            Map.entry(EMFILE, "EMFILE (Too many open files)"),
            Map.entry(ENOTTY, "ENOTTY (Inappropriate ioctl for device)"),
            Map.entry(ENOSPC, "ENOSPC (No space left on device)"),
            Map.entry(EROFS, "EROFS (Read-only file system)"),
            Map.entry(ENAMETOOLONG, "ENAMETOOLONG (File name too long)"),
            Map.entry(ENOSYS, "ENOSYS (Function not implemented)"),
            Map.entry(ELOOP, "ELOOP (Too many levels of symbolic links)"),
            Map.entry(ESTALE, "ESTALE (Stale file handle)"),
            Map.entry(EOVERFLOW, "EOVERFLOW (Value too large for defined data type)"),
            Map.entry(EOPNOTSUPP, "EOPNOTSUPP (Operation not supported)"),
            Map.entry(EMSGSIZE, "EMSGSIZE (Message too long)"),
            Map.entry(ECONNABORTED, "ECONNABORTED (Software caused connection abort)"),
            Map.entry(ECONNREFUSED, "ECONNREFUSED (Connection refused)"),
            Map.entry(ENOTCONN, "ENOTCONN (Transport endpoint is not connected)"));

    private Errno() {}

    /** {@code "ENOSPC (No space left on device)"}, or {@code "errno 123"} for numbers not listed. */
    public static String describe(int errno) {
        return NAMES.getOrDefault(errno, "errno " + errno);
    }
}
