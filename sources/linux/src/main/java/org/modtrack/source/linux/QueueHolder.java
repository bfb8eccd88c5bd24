package org.modtrack.source.linux;

import java.io.IOException;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Something outside the tracking process that holds its notification group open while no tracker
 * runs, so the kernel goes on queueing, and hands the group to the next start: a {@link QueueKeeper}
 * process ({@link KeptQueue}), or systemd's file descriptor store ({@link SystemdStore}).
 * docs/linux-source.md, <i>Restarts without a gap</i>.
 */
interface QueueHolder extends AutoCloseable {
    /**
     * A kept group: this process's descriptor of it, and what it was kept with: the device of the
     * tracked file system's root as stat gives it ({@code device}, how the next start knows the
     * group as its own), and its superblock's, as mountinfo names it ({@code superblock}: how the
     * keeper knows it is still mounted; they differ on btrfs, whose subvolumes each have a device of
     * their own; empty where the group was kept without it).
     */
    record Group(int fd, long id, long mask, String device, String superblock) {
        String meta() {
            return "id=" + Long.toHexString(id) + " mask=" + mask + " dev=" + device + " sb=" + superblock;
        }

        /** Parses {@link #meta}; fields it does not know (a later version's) are skipped. */
        static Group parse(int fd, String meta) {
            long id = 0;
            long mask = -1;
            String device = "";
            String superblock = "";
            for (String field : meta.strip().split(" ")) {
                int eq = field.indexOf('=');
                String key = eq < 0 ? field : field.substring(0, eq);
                String value = eq < 0 ? "" : field.substring(eq + 1);
                switch (key) {
                    case "id" -> id = Long.parseUnsignedLong(value, 16);
                    case "mask" -> mask = Long.parseLong(value);
                    case "dev" -> device = value;
                    case "sb" -> superblock = value;
                    default -> { }
                }
            }
            return new Group(fd, id, mask, device, superblock);
        }
    }

    /** The group held for this state directory, as a descriptor of this process's; empty if none is. */
    Optional<Group> take() throws IOException;

    /** Holds {@code group} from now on (instead of any other). */
    void keep(Group group) throws IOException;

    /** Who holds the group, for status and the log: {@code keeper} or {@code systemd}. */
    String kind();

    /** The holding process's id, if it is a process of modtrack's that still runs. */
    OptionalInt pid();

    /** Ends this tracker's use of the holder; the group stays held for a successor. */
    @Override
    void close() throws IOException;
}
