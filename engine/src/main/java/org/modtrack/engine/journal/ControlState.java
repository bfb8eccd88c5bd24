package org.modtrack.engine.journal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.modtrack.engine.Durability;

/**
 * The small piece of state beside the snapshots, replaced atomically (write a temporary file,
 * fsync it, rename it over {@code control}, fsync the directory). Format in docs/journal-format.md.
 *
 * @param keptFrom snapshots below it are discarded: the lowest any consumer keeps
 *     ({@link ConsumerState#keptFrom()}); 0 before anything was discarded
 * @param highestIssued the highest snapshot id a query returned, to any consumer
 * @param recoveredThrough snapshots up to this id were recovered after an unclean stop (0: none)
 * @param clean whether the tracker stopped cleanly (set only by a clean close)
 * @param durability the durability the journal was last written with
 * @param bootId the machine's boot id when the journal was last opened
 * @param consumers the consumers, each blessing on its own, at most {@value #MAX_CONSUMERS}
 */
public record ControlState(
        long keptFrom,
        long highestIssued,
        long recoveredThrough,
        boolean clean,
        Durability durability,
        String bootId,
        List<ConsumerState> consumers) {

    /** The most consumers a root may have: each costs a few hundred bytes of every control write. */
    public static final int MAX_CONSUMERS = 32;
    static final String FILE = "control";
    static final String TEMPORARY = "control.tmp";
    private static final byte[] MAGIC = "MTCTRL01".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 2;
    private static final int MAX_BOOT_ID = 64;

    public ControlState {
        Objects.requireNonNull(durability, "durability");
        Objects.requireNonNull(bootId, "bootId");
        consumers = List.copyOf(consumers);
        if (keptFrom < 0 || highestIssued < 0 || consumers.size() > MAX_CONSUMERS) {
            throw new IllegalArgumentException("control state needs keptFrom (" + keptFrom + ") and highestIssued ("
                    + highestIssued + ") >= 0 and at most " + MAX_CONSUMERS + " consumers, not " + consumers.size() + ".");
        }
        Set<String> names = new HashSet<>();
        for (ConsumerState c : consumers) {
            if (!names.add(c.name()) || c.keptFrom() < keptFrom || c.newestIssued() > highestIssued) {
                throw new IllegalArgumentException("consumer " + c.name() + " is named twice, keeps snapshots from "
                        + c.keptFrom() + " below " + keptFrom + ", or was given a result above " + highestIssued + ".");
            }
        }
        bootId = truncate(bootId, MAX_BOOT_ID);
    }

    /** The state of a journal that was never used: the {@linkplain ConsumerState#DEFAULT default} consumer keeps everything. */
    static ControlState fresh(Durability durability, String bootId) {
        return new ControlState(0, 0, 0, false, durability, bootId, List.of(ConsumerState.added(ConsumerState.DEFAULT, 0, -1, -1, 0)));
    }

    /**
     * The state when the control file is lost: every snapshot from {@code lowest} to {@code highest}
     * kept for the default consumer, which may bless the newest of them (the named consumers are
     * gone with the file).
     */
    static ControlState replacement(long lowest, long highest) {
        List<Long> issued = new ArrayList<>();
        for (long id = Math.max(lowest + 1, highest - ConsumerState.MAX_UNBLESSED_RESULTS + 1); id <= highest; id++) {
            issued.add(id);
        }
        ConsumerState c = new ConsumerState(ConsumerState.DEFAULT, lowest, 0, issued, 0, "", -1, -1, 0);
        return new ControlState(lowest, highest, highest, false, Durability.PROCESS, "unknown", List.of(c));
    }

    /** Whether some consumer's next result must say that continuity was lost. */
    public boolean continuityLost() {
        return consumers.stream().anyMatch(ConsumerState::continuityLost);
    }

    /** The consumer named {@code name}, if there is one. */
    public Optional<ConsumerState> consumer(String name) {
        return consumers.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    /** A checkpoint issued result {@code id} as a view, to no consumer to bless. */
    public ControlState withHighestIssued(long id) {
        return new ControlState(keptFrom, Math.max(highestIssued, id), recoveredThrough, clean, durability, bootId, consumers);
    }

    /** A checkpoint issued result {@code id} to {@code consumer}. */
    public ControlState withIssued(String consumer, long id) {
        return new ControlState(keptFrom, Math.max(highestIssued, id), recoveredThrough, clean, durability, bootId,
                replaced(consumer, c -> c.withIssued(id)));
    }

    /** {@code consumer} blessed {@code id}, one of the results it was given; snapshots no consumer keeps are discarded. */
    public ControlState withBlessed(String consumer, long id, long nowMillis, long openSnapshot) {
        return withConsumers(replaced(consumer, c -> c.withBlessed(id, nowMillis)), openSnapshot);
    }

    /** {@code added} is a new consumer. */
    public ControlState withConsumer(ConsumerState added, long openSnapshot) {
        if (consumer(added.name()).isPresent()) {
            throw new IllegalArgumentException("consumer " + added.name() + " exists already.");
        }
        List<ConsumerState> next = new ArrayList<>(consumers);
        next.add(added);
        return withConsumers(next, openSnapshot);
    }

    /** {@code name} is removed: the snapshots only it kept are discarded. */
    public ControlState withoutConsumer(String name, long openSnapshot) {
        return withConsumers(consumers.stream().filter(c -> !c.name().equals(name)).toList(), openSnapshot);
    }

    /** {@code name} is dropped for {@code reason} (see {@link ConsumerState#dropped}). */
    public ControlState withDropped(String name, String reason, long openSnapshot, long nowMillis) {
        return withConsumers(replaced(name, c -> c.dropped(reason, openSnapshot, nowMillis)), openSnapshot);
    }

    private ControlState withConsumers(List<ConsumerState> next, long openSnapshot) {
        // Discarded snapshots never come back: the lowest kept only rises.
        long lowest = next.stream().mapToLong(ConsumerState::keptFrom).min().orElse(openSnapshot);
        return new ControlState(Math.max(keptFrom, lowest), highestIssued, recoveredThrough, clean, durability, bootId, next);
    }

    private List<ConsumerState> replaced(String name, UnaryOperator<ConsumerState> change) {
        if (consumer(name).isEmpty()) {
            throw new IllegalArgumentException("there is no consumer " + name + ".");
        }
        return consumers.stream().map(c -> c.name().equals(name) ? change.apply(c) : c).toList();
    }

    public ControlState withRecoveredThrough(long id) {
        return new ControlState(keptFrom, highestIssued, id, clean, durability, bootId, consumers);
    }

    public ControlState withClean(boolean c) {
        return new ControlState(keptFrom, highestIssued, recoveredThrough, c, durability, bootId, consumers);
    }

    public ControlState withRun(Durability d, String boot) {
        return new ControlState(keptFrom, highestIssued, recoveredThrough, clean, d, boot, consumers);
    }

    /** Continuity lost for {@code reason}, for every consumer; an earlier reason is kept, the new one appended. */
    public ControlState withLost(String reason) {
        return new ControlState(keptFrom, highestIssued, recoveredThrough, clean, durability, bootId,
                consumers.stream().map(c -> c.withLost(reason)).toList());
    }

    ByteBuffer encode() {
        byte[] boot = bootId.getBytes(StandardCharsets.UTF_8);
        int length = 8 + 4 + 4 + 8 * 3 + 3 + 1 + boot.length + 2 + 4;
        for (ConsumerState c : consumers) {
            length += c.encodedBytes();
        }
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(VERSION).putInt(length);
        b.putLong(keptFrom).putLong(highestIssued).putLong(recoveredThrough);
        b.put((byte) (clean ? 1 : 0)).put((byte) durability.ordinal()).put((byte) 0);
        b.put((byte) boot.length).put(boot);
        b.putShort((short) consumers.size());
        for (ConsumerState c : consumers) {
            byte[] name = c.name().getBytes(StandardCharsets.UTF_8);
            byte[] reason = c.lostReason().getBytes(StandardCharsets.UTF_8);
            b.put((byte) name.length).put(name);
            b.putLong(c.keptFrom()).putLong(c.lastBlessed()).putLong(c.lostReportedIn()).putLong(c.activeAtMillis());
            b.putInt(c.ownerUid()).putInt(c.ownerGid());
            b.put((byte) c.issued().size());
            for (long id : c.issued()) {
                b.putLong(id);
            }
            b.putShort((short) reason.length).put(reason);
        }
        b.putInt(SnapshotFormat.crc(b, length - 4));
        return b.flip();
    }

    /**
     * Decodes a control file, of this version or of version 1 (one consumer, which becomes the
     * default one); empty if it is damaged in any way. Never throws on bad input.
     */
    static Optional<ControlState> decode(ByteBuffer file) {
        try {
            ByteBuffer b = file.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            int length = b.limit();
            if (length < 44) {
                return Optional.empty();
            }
            for (int i = 0; i < MAGIC.length; i++) {
                if (b.get(i) != MAGIC[i]) {
                    return Optional.empty();
                }
            }
            int version = b.getInt(8);
            if (version < 1 || version > VERSION || b.getInt(12) != length
                    || b.getInt(length - 4) != SnapshotFormat.crc(b, length - 4)) {
                return Optional.empty();
            }
            b.position(16);
            return Optional.ofNullable(version == 1 ? decodeVersion1(b, length) : decodeFields(b, length));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static ControlState decodeFields(ByteBuffer b, int length) {
        long keptFrom = b.getLong();
        long highestIssued = b.getLong();
        long recoveredThrough = b.getLong();
        boolean clean = b.get() == 1;
        int durability = b.get();
        b.get();
        String boot = string(b, Byte.toUnsignedInt(b.get()));
        int count = Short.toUnsignedInt(b.getShort());
        List<ConsumerState> consumers = new ArrayList<>(Math.min(count, MAX_CONSUMERS));
        for (int i = 0; i < count; i++) {
            String name = string(b, Byte.toUnsignedInt(b.get()));
            long consumerKeptFrom = b.getLong();
            long lastBlessed = b.getLong();
            long lostReportedIn = b.getLong();
            long activeAt = b.getLong();
            int uid = b.getInt();
            int gid = b.getInt();
            int issuedCount = Byte.toUnsignedInt(b.get());
            List<Long> issued = new ArrayList<>(Math.min(issuedCount, ConsumerState.MAX_UNBLESSED_RESULTS));
            for (int j = 0; j < issuedCount; j++) {
                issued.add(b.getLong());
            }
            String reason = string(b, Short.toUnsignedInt(b.getShort()));
            consumers.add(new ConsumerState(name, consumerKeptFrom, lastBlessed, issued, lostReportedIn, reason, uid, gid, activeAt));
        }
        if (b.position() != length - 4 || durability < 0 || durability >= Durability.values().length) {
            return null;
        }
        return new ControlState(keptFrom, highestIssued, recoveredThrough, clean, Durability.values()[durability], boot, consumers);
    }

    /** Version 1 had one consumer: the root's, which is the default consumer now. */
    private static ControlState decodeVersion1(ByteBuffer b, int length) {
        long lastBlessed = b.getLong();
        long highestIssued = b.getLong();
        long recoveredThrough = b.getLong();
        long lostReportedIn = b.getLong();
        boolean clean = b.get() == 1;
        int durability = b.get();
        b.get();
        String boot = string(b, Byte.toUnsignedInt(b.get()));
        String reason = string(b, Short.toUnsignedInt(b.getShort()));
        if (b.position() != length - 4 || durability < 0 || durability >= Durability.values().length) {
            return null;
        }
        List<Long> issued = new ArrayList<>();
        for (long id = Math.max(lastBlessed + 1, highestIssued - ConsumerState.MAX_UNBLESSED_RESULTS + 1); id <= highestIssued; id++) {
            issued.add(id);
        }
        ConsumerState c = new ConsumerState(ConsumerState.DEFAULT, lastBlessed, lastBlessed, issued, lostReportedIn, reason, -1, -1, 0);
        return new ControlState(lastBlessed, highestIssued, recoveredThrough, clean, Durability.values()[durability], boot, List.of(c));
    }

    private static String string(ByteBuffer b, int length) {
        byte[] bytes = new byte[length];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    static String truncate(String s, int maxBytes) {
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
