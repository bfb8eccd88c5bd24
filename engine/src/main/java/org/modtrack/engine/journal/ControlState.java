package org.modtrack.engine.journal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import org.modtrack.engine.Durability;

/**
 * The small piece of state beside the snapshots, replaced atomically (write a temporary file,
 * fsync it, rename it over {@code control}, fsync the directory). Format in docs/journal-format.md.
 *
 * @param lastBlessed the last blessed snapshot id; snapshots below it are discarded (0: none)
 * @param highestIssued the highest snapshot id a query returned; a bless above it is refused
 * @param recoveredThrough snapshots up to this id were recovered after an unclean stop (0: none)
 * @param lostReportedIn the result that first reported the continuity loss (0: not yet reported)
 * @param clean whether the tracker stopped cleanly (set only by a clean close)
 * @param durability the durability the journal was last written with
 * @param bootId the machine's boot id when the journal was last opened
 * @param lostReason why continuity is lost, or empty while it is intact
 */
public record ControlState(
        long lastBlessed,
        long highestIssued,
        long recoveredThrough,
        long lostReportedIn,
        boolean clean,
        Durability durability,
        String bootId,
        String lostReason) {

    static final String FILE = "control";
    static final String TEMPORARY = "control.tmp";
    private static final byte[] MAGIC = "MTCTRL01".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final int MAX_BOOT_ID = 64;
    private static final int MAX_REASON = 1024;

    public ControlState {
        Objects.requireNonNull(durability, "durability");
        Objects.requireNonNull(bootId, "bootId");
        Objects.requireNonNull(lostReason, "lostReason");
        if (lastBlessed < 0 || highestIssued < lastBlessed) {
            throw new IllegalArgumentException("control state needs 0 <= lastBlessed (" + lastBlessed
                    + ") <= highestIssued (" + highestIssued + ").");
        }
        bootId = truncate(bootId, MAX_BOOT_ID);
        lostReason = truncate(lostReason, MAX_REASON);
    }

    /** The state of a journal that was never used. */
    static ControlState fresh(Durability durability, String bootId) {
        return new ControlState(0, 0, 0, 0, false, durability, bootId, "");
    }

    public boolean continuityLost() {
        return !lostReason.isEmpty();
    }

    public ControlState withLastBlessed(long id) {
        return new ControlState(id, highestIssued, recoveredThrough, lostReportedIn, clean, durability, bootId, lostReason);
    }

    public ControlState withHighestIssued(long id) {
        return new ControlState(lastBlessed, id, recoveredThrough, lostReportedIn, clean, durability, bootId, lostReason);
    }

    public ControlState withRecoveredThrough(long id) {
        return new ControlState(lastBlessed, highestIssued, id, lostReportedIn, clean, durability, bootId, lostReason);
    }

    public ControlState withClean(boolean c) {
        return new ControlState(lastBlessed, highestIssued, recoveredThrough, lostReportedIn, c, durability, bootId, lostReason);
    }

    public ControlState withRun(Durability d, String boot) {
        return new ControlState(lastBlessed, highestIssued, recoveredThrough, lostReportedIn, clean, d, boot, lostReason);
    }

    /** Continuity lost for {@code reason}; an earlier reason is kept, the new one appended. */
    public ControlState withLost(String reason) {
        String combined = lostReason.isEmpty() ? reason : lostReason.contains(reason) ? lostReason : lostReason + " " + reason;
        return new ControlState(lastBlessed, highestIssued, recoveredThrough, 0, clean, durability, bootId, combined);
    }

    public ControlState withLostReportedIn(long id) {
        return new ControlState(lastBlessed, highestIssued, recoveredThrough, id, clean, durability, bootId, lostReason);
    }

    public ControlState withContinuityRestored() {
        return new ControlState(lastBlessed, highestIssued, recoveredThrough, 0, clean, durability, bootId, "");
    }

    ByteBuffer encode() {
        byte[] boot = bootId.getBytes(StandardCharsets.UTF_8);
        byte[] reason = lostReason.getBytes(StandardCharsets.UTF_8);
        int length = 8 + 4 + 4 + 8 * 4 + 3 + 1 + boot.length + 2 + reason.length + 4;
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(VERSION).putInt(length);
        b.putLong(lastBlessed).putLong(highestIssued).putLong(recoveredThrough).putLong(lostReportedIn);
        b.put((byte) (clean ? 1 : 0)).put((byte) durability.ordinal()).put((byte) 0);
        b.put((byte) boot.length).put(boot);
        b.putShort((short) reason.length).put(reason);
        b.putInt(SnapshotFormat.crc(b, length - 4));
        return b.flip();
    }

    /** Decodes a control file; empty if it is damaged in any way. Never throws on bad input. */
    static Optional<ControlState> decode(ByteBuffer file) {
        try {
            ByteBuffer b = file.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            int length = b.limit();
            if (length < 60) {
                return Optional.empty();
            }
            for (int i = 0; i < MAGIC.length; i++) {
                if (b.get(i) != MAGIC[i]) {
                    return Optional.empty();
                }
            }
            if (b.getInt(8) != VERSION || b.getInt(12) != length || b.getInt(length - 4) != SnapshotFormat.crc(b, length - 4)) {
                return Optional.empty();
            }
            b.position(16);
            long lastBlessed = b.getLong();
            long highestIssued = b.getLong();
            long recoveredThrough = b.getLong();
            long lostReportedIn = b.getLong();
            boolean clean = b.get() == 1;
            int durability = b.get();
            b.get();
            byte[] boot = new byte[Byte.toUnsignedInt(b.get())];
            b.get(boot);
            byte[] reason = new byte[Short.toUnsignedInt(b.getShort())];
            b.get(reason);
            if (b.position() != length - 4 || durability < 0 || durability >= Durability.values().length) {
                return Optional.empty();
            }
            return Optional.of(new ControlState(lastBlessed, highestIssued, recoveredThrough, lostReportedIn, clean,
                    Durability.values()[durability], new String(boot, StandardCharsets.UTF_8),
                    new String(reason, StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String truncate(String s, int maxBytes) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= maxBytes) {
            return s;
        }
        int end = maxBytes;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80) {
            end--; // do not cut a character in half
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }
}
