package org.modtrack.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Unix domain sockets that carry file descriptors ({@code SCM_RIGHTS}) and tell who is on the
 * other end ({@code SO_PEERCRED}), bound with {@code java.lang.foreign}: the JDK's
 * {@code SocketChannel} does neither. Used to hand fanotify groups from one process to another and
 * to systemd's file descriptor store.
 *
 * <p>Connections are {@code SOCK_SEQPACKET}: each message arrives whole, and a peer's death reads
 * as the end of the stream at once. Every descriptor made here is close-on-exec, received
 * descriptors included ({@code MSG_CMSG_CLOEXEC}).
 */
public final class UnixSockets {
    /** The longest message this class sends or receives, in bytes. */
    public static final int MAX_MESSAGE = 4096;
    /** The most descriptors one message carries. */
    public static final int MAX_FDS = 8;
    /** {@code sun_path}'s size: a socket's path must be shorter. */
    private static final int SUN_PATH = 108;

    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_SEQPACKET = 5;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int SO_PEERCRED = 17;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_CTRUNC = 0x8;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    /** {@code struct msghdr} on x86_64: name, namelen, iov, iovlen, control, controllen, flags. */
    private static final long MSGHDR_SIZE = 56;
    private static final long CMSGHDR_SIZE = 16;

    private static final MethodHandle SOCKET = Posix.downcall("socket",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle BIND = Posix.downcall("bind",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle LISTEN = Posix.downcall("listen",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle ACCEPT4 = Posix.downcall("accept4",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT));
    private static final MethodHandle CONNECT = Posix.downcall("connect",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle SENDMSG = Posix.downcall("sendmsg",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle RECVMSG = Posix.downcall("recvmsg",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle SHUTDOWN = Posix.downcall("shutdown",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final int SHUT_RDWR = 2;
    private static final MethodHandle GETSOCKOPT = Posix.downcall("getsockopt",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS, ValueLayout.ADDRESS));

    private UnixSockets() {}

    /** Who is on the other end of a connection, as the kernel saw it when the connection was made. */
    public record Peer(int pid, int uid, int gid) {}

    /** A message: its bytes and the descriptors that came with it (now this process's, close-on-exec). */
    public record Message(byte[] bytes, int[] fds) {
        public String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    /** A listening socket at {@code path} (which must not exist), with a backlog of {@code backlog}. */
    public static int listen(Path path, int backlog) throws PosixException {
        int fd = socket(SOCK_SEQPACKET, path);
        try (Arena arena = Arena.ofConfined(); Reachable at = Reachable.of(path)) {
            MemorySegment address = address(arena, at.path());
            check((int) BIND.invokeExact(Posix.callState(), fd, address, (int) address.byteSize()), "bind of " + path);
            check((int) LISTEN.invokeExact(Posix.callState(), fd, backlog), "listen on " + path);
            return fd;
        } catch (PosixException e) {
            Posix.close(fd, path.toString());
            throw e;
        } catch (Throwable t) {
            throw Posix.linkageFailure("bind", t);
        }
    }

    /** Accepts a connection on {@code listening} (blocking unless it is non-blocking: then -1 if none waits). */
    public static int accept(int listening) throws PosixException {
        while (true) {
            int fd;
            try {
                fd = (int) ACCEPT4.invokeExact(Posix.callState(), listening, MemorySegment.NULL, MemorySegment.NULL,
                        SOCK_CLOEXEC);
            } catch (Throwable t) {
                throw Posix.linkageFailure("accept4", t);
            }
            if (fd >= 0) {
                return fd;
            }
            int errno = Posix.lastErrno();
            if (errno == Errno.EAGAIN) {
                return -1;
            }
            if (errno != Errno.EINTR && errno != Errno.ECONNABORTED) {
                throw new PosixException("accept on fd " + listening, errno);
            }
        }
    }

    /**
     * A connection to the listening socket at {@code path}. A {@link PosixException} with
     * {@link Errno#ENOENT} or {@link Errno#ECONNREFUSED} means nobody listens there.
     */
    public static int connect(Path path) throws PosixException {
        int fd = socket(SOCK_SEQPACKET, path);
        try (Arena arena = Arena.ofConfined(); Reachable at = Reachable.of(path)) {
            MemorySegment address = address(arena, at.path());
            while (true) {
                int rc = (int) CONNECT.invokeExact(Posix.callState(), fd, address, (int) address.byteSize());
                if (rc == 0) {
                    return fd;
                }
                if (Posix.lastErrno() != Errno.EINTR) {
                    throw new PosixException("connect to " + path, Posix.lastErrno());
                }
            }
        } catch (PosixException e) {
            Posix.close(fd, path.toString());
            throw e;
        } catch (Throwable t) {
            Posix.close(fd, path.toString());
            throw Posix.linkageFailure("connect", t);
        }
    }

    /**
     * Ends connection {@code fd} in both directions, now: the peer sees its end, and a thread of
     * this process polling it wakes (closing it would not: a poll holds its socket open).
     */
    public static void shutdown(int fd) throws PosixException {
        try {
            int rc = (int) SHUTDOWN.invokeExact(Posix.callState(), fd, SHUT_RDWR);
            if (rc != 0 && Posix.lastErrno() != Errno.ENOTCONN) {
                throw new PosixException("shutdown of fd " + fd, Posix.lastErrno());
            }
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw Posix.linkageFailure("shutdown", t);
        }
    }

    /** The process on the other end of connection {@code fd}. */
    public static Peer peer(int fd) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cred = arena.allocate(12, 4);
            MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            length.set(ValueLayout.JAVA_INT, 0, 12);
            check((int) GETSOCKOPT.invokeExact(Posix.callState(), fd, SOL_SOCKET, SO_PEERCRED, cred, length),
                    "SO_PEERCRED of fd " + fd);
            return new Peer(cred.get(ValueLayout.JAVA_INT, 0), cred.get(ValueLayout.JAVA_INT, 4),
                    cred.get(ValueLayout.JAVA_INT, 8));
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw Posix.linkageFailure("getsockopt", t);
        }
    }

    /** Sends one message with {@code fds} (copies of them: the caller keeps its own) on connection {@code fd}. */
    public static void send(int fd, String text, int... fds) throws PosixException {
        sendTo(fd, null, text.getBytes(StandardCharsets.UTF_8), fds);
    }

    /**
     * Sends one datagram to {@code path} (a leading {@code @} names an abstract socket, as
     * {@code $NOTIFY_SOCKET} may) from a new unbound socket, with {@code fds}.
     */
    public static void sendDatagram(String path, String text, int... fds) throws PosixException {
        int fd = socket(SOCK_DGRAM, Path.of("/"));
        try {
            sendTo(fd, path, text.getBytes(StandardCharsets.UTF_8), fds);
        } finally {
            Posix.close(fd, "a datagram socket");
        }
    }

    private static void sendTo(int fd, String path, byte[] bytes, int[] fds) throws PosixException {
        if (bytes.length > MAX_MESSAGE || fds.length > MAX_FDS) {
            throw new IllegalArgumentException("a message is at most " + MAX_MESSAGE + " bytes with " + MAX_FDS
                    + " descriptors, not " + bytes.length + " with " + fds.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment header = arena.allocate(MSGHDR_SIZE, 8);
            if (path != null) {
                MemorySegment address = path.startsWith("@") ? abstractAddress(arena, path.substring(1))
                        : address(arena, Path.of(path));
                header.set(ValueLayout.ADDRESS, 0, address);
                header.set(ValueLayout.JAVA_INT, 8, (int) address.byteSize());
            }
            MemorySegment data = arena.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, 0, bytes.length);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ValueLayout.ADDRESS, 0, data);
            iov.set(ValueLayout.JAVA_LONG, 8, bytes.length);
            header.set(ValueLayout.ADDRESS, 16, iov);
            header.set(ValueLayout.JAVA_LONG, 24, 1);
            if (fds.length > 0) {
                long space = CMSGHDR_SIZE + align(4L * fds.length);
                MemorySegment control = arena.allocate(space, 8);
                control.set(ValueLayout.JAVA_LONG, 0, CMSGHDR_SIZE + 4L * fds.length);
                control.set(ValueLayout.JAVA_INT, 8, SOL_SOCKET);
                control.set(ValueLayout.JAVA_INT, 12, SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) {
                    control.set(ValueLayout.JAVA_INT, CMSGHDR_SIZE + 4L * i, fds[i]);
                }
                header.set(ValueLayout.ADDRESS, 32, control);
                header.set(ValueLayout.JAVA_LONG, 40, space);
            }
            while (true) {
                long n = (long) SENDMSG.invokeExact(Posix.callState(), fd, header, MSG_NOSIGNAL);
                if (n == bytes.length) {
                    return;
                }
                if (n >= 0) {
                    throw new PosixException("sendmsg of " + bytes.length + " bytes on fd " + fd + " (only " + n
                            + " went)", Errno.EIO);
                }
                if (Posix.lastErrno() != Errno.EINTR) {
                    throw new PosixException("sendmsg of " + bytes.length + " bytes on fd " + fd
                            + (path == null ? "" : " to " + path), Posix.lastErrno());
                }
            }
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw Posix.linkageFailure("sendmsg", t);
        }
    }

    /**
     * Receives one message on connection {@code fd} (blocking unless it is non-blocking); null when
     * the peer has closed its end (or died). A message cut short, or with more than
     * {@link #MAX_FDS} descriptors, is an error (the descriptors that did come are closed).
     */
    public static Message receive(int fd) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment header = arena.allocate(MSGHDR_SIZE, 8);
            MemorySegment data = arena.allocate(MAX_MESSAGE);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ValueLayout.ADDRESS, 0, data);
            iov.set(ValueLayout.JAVA_LONG, 8, MAX_MESSAGE);
            header.set(ValueLayout.ADDRESS, 16, iov);
            header.set(ValueLayout.JAVA_LONG, 24, 1);
            long space = CMSGHDR_SIZE + align(4L * MAX_FDS);
            MemorySegment control = arena.allocate(space, 8);
            header.set(ValueLayout.ADDRESS, 32, control);
            header.set(ValueLayout.JAVA_LONG, 40, space);
            long n;
            while (true) {
                n = (long) RECVMSG.invokeExact(Posix.callState(), fd, header, MSG_CMSG_CLOEXEC);
                if (n >= 0 || Posix.lastErrno() != Errno.EINTR) {
                    break;
                }
            }
            if (n < 0) {
                throw new PosixException("recvmsg on fd " + fd, Posix.lastErrno());
            }
            int[] fds = receivedFds(header, control);
            boolean cut = (header.get(ValueLayout.JAVA_INT, 48) & MSG_CTRUNC) != 0;
            if (cut) {
                closeAll(fds);
                throw new PosixException("recvmsg on fd " + fd + " (more than " + MAX_FDS + " descriptors came)",
                        Errno.EMSGSIZE);
            }
            if (n == 0 && fds.length == 0) {
                return null;
            }
            return new Message(data.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), fds);
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw Posix.linkageFailure("recvmsg", t);
        }
    }

    private static int[] receivedFds(MemorySegment header, MemorySegment control) {
        long controlLength = header.get(ValueLayout.JAVA_LONG, 40);
        int[] fds = new int[0];
        long at = 0;
        while (at + CMSGHDR_SIZE <= controlLength) {
            long length = control.get(ValueLayout.JAVA_LONG, at);
            if (length < CMSGHDR_SIZE || at + length > controlLength) {
                break;
            }
            if (control.get(ValueLayout.JAVA_INT, at + 8) == SOL_SOCKET
                    && control.get(ValueLayout.JAVA_INT, at + 12) == SCM_RIGHTS) {
                int count = (int) ((length - CMSGHDR_SIZE) / 4);
                int[] more = Arrays.copyOf(fds, fds.length + count);
                for (int i = 0; i < count; i++) {
                    more[fds.length + i] = control.get(ValueLayout.JAVA_INT, at + CMSGHDR_SIZE + 4L * i);
                }
                fds = more;
            }
            at += CMSGHDR_SIZE + align(length - CMSGHDR_SIZE);
        }
        return fds;
    }

    /** Closes every descriptor of {@code fds}, ignoring failures (they are unwanted). */
    public static void closeAll(int[] fds) {
        for (int fd : fds) {
            try {
                Posix.close(fd, "a received descriptor");
            } catch (PosixException e) {
                // already gone: nothing to release
            }
        }
    }

    private static long align(long n) {
        return (n + 7) & ~7L;
    }

    private static int socket(int type, Path forMessage) throws PosixException {
        try {
            int fd = (int) SOCKET.invokeExact(Posix.callState(), AF_UNIX, type | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw new PosixException("socket for " + forMessage, Posix.lastErrno());
            }
            return fd;
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw Posix.linkageFailure("socket", t);
        }
    }

    /**
     * A path to {@code path} short enough for {@code sun_path}: itself, or, when it is longer, the
     * same file reached through its directory opened {@code O_PATH}, as
     * {@code /proc/self/fd/N/NAME} (a state directory under a long root path easily passes 107
     * bytes). Closing it closes that directory.
     */
    private record Reachable(Path path, int directory) implements AutoCloseable {
        static Reachable of(Path path) throws PosixException {
            if (path.toString().getBytes(StandardCharsets.UTF_8).length < SUN_PATH || path.getParent() == null) {
                return new Reachable(path, -1);
            }
            int dir = Posix.open(path.getParent().toString(), Posix.O_PATH | Posix.O_DIRECTORY | Posix.O_CLOEXEC, 0);
            return new Reachable(Path.of("/proc/self/fd/" + dir).resolve(path.getFileName()), dir);
        }

        @Override
        public void close() throws PosixException {
            if (directory >= 0) {
                Posix.close(directory, "a socket's directory");
            }
        }
    }

    private static MemorySegment address(Arena arena, Path path) throws PosixException {
        byte[] bytes = path.toString().getBytes(StandardCharsets.UTF_8);
        if (bytes.length >= SUN_PATH) {
            throw new PosixException("a Unix socket at " + path + " (" + bytes.length + " bytes; at most "
                    + (SUN_PATH - 1) + ")", Errno.ENAMETOOLONG);
        }
        MemorySegment a = arena.allocate(2 + bytes.length + 1, 2);
        a.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(bytes, 0, a, ValueLayout.JAVA_BYTE, 2, bytes.length);
        return a;
    }

    private static MemorySegment abstractAddress(Arena arena, String name) throws PosixException {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        if (bytes.length + 1 > SUN_PATH) {
            throw new PosixException("an abstract Unix socket named " + name, Errno.ENAMETOOLONG);
        }
        MemorySegment a = arena.allocate(2 + 1 + bytes.length, 2);
        a.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(bytes, 0, a, ValueLayout.JAVA_BYTE, 3, bytes.length);
        return a;
    }

    private static void check(int rc, String attempted) throws PosixException {
        if (rc != 0) {
            throw new PosixException(attempted, Posix.lastErrno());
        }
    }
}
