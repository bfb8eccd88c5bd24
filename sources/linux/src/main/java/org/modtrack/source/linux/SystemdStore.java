package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.logging.Logger;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.UnixSockets;

/**
 * systemd's file descriptor store as a {@link QueueHolder}: the notification group is sent to the
 * service manager ({@code sd_notify} {@code FDSTORE=1}, named after the state directory, with
 * {@code FDPOLL=0}) and comes back at the service's next start, automatic restart included, as a
 * descriptor from 3 on ({@code LISTEN_FDS}, {@code LISTEN_FDNAMES}, {@code LISTEN_PID}). Why not
 * the keeper under systemd: when the service's main process dies, systemd stops every other process
 * of its control group before it restarts the service, the keeper too.
 *
 * <p>What the group was kept with (its id, events and device) is a file in the state directory,
 * written before the group is sent. Needs {@code FileDescriptorStoreMax=} above zero
 * (packaging/modtrack.service sets it; systemd 254 and later say so in {@code $FDSTORE}).
 */
public final class SystemdStore implements QueueHolder {
    private static final Logger LOG = Logger.getLogger(SystemdStore.class.getName());
    private static final int LISTEN_FDS_START = 3;
    static final String META_FILE = "notification-group";

    /** The descriptors systemd passed this process, by name; each is claimed once (guarded by the class). */
    private static Map<String, Integer> passed;

    private final String notifySocket;
    private final Path state;
    private final String name;

    private SystemdStore(String notifySocket, Path state, String name) {
        this.notifySocket = notifySocket;
        this.state = state;
        this.name = name;
    }

    /**
     * The store, if this process runs as a systemd service ({@code $NOTIFY_SOCKET}) that may store
     * descriptors: {@code $FDSTORE} above zero, or absent (systemd before 254 does not say; the
     * unit must set {@code FileDescriptorStoreMax=}, and without it systemd drops what is sent, so
     * the next start finds no group and walks, as without a holder). {@code name} tells this state
     * directory's group from other roots'.
     */
    static Optional<SystemdStore> fromEnvironment(Path state, String name) {
        String socket = System.getenv("NOTIFY_SOCKET");
        String max = System.getenv("FDSTORE");
        if (socket == null || socket.isBlank()) {
            return Optional.empty();
        }
        if (max != null && !max.matches("[1-9][0-9]{0,6}")) {
            LOG.warning("this service may store no descriptors (FDSTORE=" + max + "): set FileDescriptorStoreMax= in its"
                    + " unit, or a restart walks the file system to find what changed meanwhile");
        }
        return Optional.of(new SystemdStore(socket, state, name));
    }

    /** The descriptors systemd passed, by name, if {@code LISTEN_PID} is this process (read once). */
    private static synchronized Map<String, Integer> passed() {
        if (passed == null) {
            passed = parse(System.getenv("LISTEN_PID"), System.getenv("LISTEN_FDS"), System.getenv("LISTEN_FDNAMES"),
                    ProcessHandle.current().pid());
        }
        return passed;
    }

    /** {@code sd_listen_fds_with_names}: descriptors from 3 on, named by the colon-separated names (unnamed: "unknown"). */
    static Map<String, Integer> parse(String listenPid, String listenFds, String names, long myPid) {
        Map<String, Integer> out = new LinkedHashMap<>();
        if (listenPid == null || listenFds == null || !listenPid.equals(Long.toString(myPid))
                || !listenFds.matches("[0-9]{1,4}")) {
            return out;
        }
        int count = Integer.parseInt(listenFds);
        String[] split = names == null ? new String[0] : names.split(":", -1);
        for (int i = 0; i < count; i++) {
            String n = i < split.length && !split[i].isEmpty() ? split[i] : "unknown";
            out.putIfAbsent(n, LISTEN_FDS_START + i); // a second descriptor of one name is not ours to use
        }
        return out;
    }

    @Override
    public Optional<Group> take() throws IOException {
        Integer fd;
        synchronized (SystemdStore.class) {
            fd = passed().remove(name);
        }
        if (fd == null) {
            return Optional.empty();
        }
        Path meta = state.resolve(META_FILE);
        if (!Files.exists(meta)) {
            LOG.warning("systemd passed a notification group for " + state + " but " + meta + " is missing: not used");
            forget(fd);
            return Optional.empty();
        }
        return Optional.of(Group.parse(fd, Files.readString(meta, StandardCharsets.UTF_8)));
    }

    /**
     * Sends {@code group} to the store: first what it was kept with, to the state directory, then
     * the descriptor, replacing any stored under this name.
     */
    @Override
    public void keep(Group group) throws IOException {
        Path meta = state.resolve(META_FILE);
        Path tmp = state.resolve(META_FILE + ".tmp");
        Files.writeString(tmp, group.meta() + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, meta, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        UnixSockets.sendDatagram(notifySocket, "FDSTOREREMOVE=1\nFDNAME=" + name);
        UnixSockets.sendDatagram(notifySocket, "FDSTORE=1\nFDNAME=" + name + "\nFDPOLL=0", group.fd());
    }

    /** Closes a passed descriptor this process will not use and tells systemd to drop its copy. */
    private void forget(int fd) throws PosixException {
        Posix.close(fd, "a stored notification group");
        UnixSockets.sendDatagram(notifySocket, "FDSTOREREMOVE=1\nFDNAME=" + name);
    }

    /**
     * Closes every passed descriptor no root claimed (a root no longer watched, say), and has
     * systemd drop its copies; returns their names.
     */
    public static synchronized List<String> releaseUnclaimed() {
        List<String> released = new ArrayList<>();
        String socket = System.getenv("NOTIFY_SOCKET");
        for (Map.Entry<String, Integer> e : passed().entrySet()) {
            try {
                Posix.close(e.getValue(), "an unclaimed stored descriptor");
                if (socket != null && !socket.isBlank()) {
                    UnixSockets.sendDatagram(socket, "FDSTOREREMOVE=1\nFDNAME=" + e.getKey());
                }
                released.add(e.getKey());
            } catch (PosixException ex) {
                LOG.warning("could not release the stored descriptor " + e.getKey() + ": " + ex.getMessage());
            }
        }
        passed.clear();
        return released;
    }

    /** {@code sd_notify(0, text)} if this process runs as a systemd service; false if it does not. */
    public static boolean notify(String text) throws PosixException {
        String socket = System.getenv("NOTIFY_SOCKET");
        if (socket == null || socket.isBlank()) {
            return false;
        }
        UnixSockets.sendDatagram(socket, text);
        return true;
    }

    @Override
    public String kind() {
        return "systemd";
    }

    @Override
    public OptionalInt pid() {
        return OptionalInt.empty();
    }

    /** systemd keeps its copy: nothing to end. */
    @Override
    public void close() {
    }
}
