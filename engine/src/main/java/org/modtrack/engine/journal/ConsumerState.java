package org.modtrack.engine.journal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One named consumer of a tracker, as its control state keeps it: what it has blessed, which
 * results it was given and may still bless, and whether its next result must say that continuity
 * was lost. Every consumer blesses on its own; a snapshot is discarded only once no consumer keeps
 * it ({@link ControlState#keptFrom()}).
 *
 * @param name 1 to {@value #MAX_NAME_BYTES} characters out of {@code [A-Za-z0-9._-]}
 * @param keptFrom the lowest snapshot whose records this consumer still needs: its last blessed id,
 *     or the open period when it was added or dropped (a new consumer starts from there)
 * @param lastBlessed the last result it blessed (0: none since it was added or dropped)
 * @param issued the results it was given and has not blessed yet, oldest first, at most
 *     {@value #MAX_UNBLESSED_RESULTS} (the oldest is forgotten first: a bless of it is then refused)
 * @param lostReportedIn the first result given to it that reported its continuity loss (0: not yet)
 * @param lostReason why its continuity is lost, or empty while it is intact
 * @param ownerUid the only user besides root and the daemon's own that may act as it (-1: any user the socket admits)
 * @param ownerGid or a member of this group (-1: none)
 * @param activeAtMillis the wall-clock time it was added or last blessed (0: not known, as for the
 *     default consumer of a fresh journal: the engine counts from when it first sees it)
 */
public record ConsumerState(
        String name,
        long keptFrom,
        long lastBlessed,
        List<Long> issued,
        long lostReportedIn,
        String lostReason,
        int ownerUid,
        int ownerGid,
        long activeAtMillis) {

    /** The consumer of every request that names none; a fresh tracker has it (and it may be removed). */
    public static final String DEFAULT = "default";
    /** Longest name, in bytes. */
    public static final int MAX_NAME_BYTES = 64;
    /** Results remembered per consumer for a bless; a consumer blesses the newest it acted on, so a few suffice. */
    public static final int MAX_UNBLESSED_RESULTS = 8;
    static final int MAX_REASON_BYTES = 1024;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1," + MAX_NAME_BYTES + "}");

    public ConsumerState {
        Objects.requireNonNull(lostReason, "lostReason");
        checkName(name);
        issued = List.copyOf(issued);
        if (keptFrom < 0 || lastBlessed < 0 || lastBlessed > keptFrom) {
            throw new IllegalArgumentException("consumer " + name + " needs 0 <= lastBlessed (" + lastBlessed
                    + ") <= keptFrom (" + keptFrom + ").");
        }
        if (issued.size() > MAX_UNBLESSED_RESULTS) {
            throw new IllegalArgumentException("consumer " + name + " remembers at most " + MAX_UNBLESSED_RESULTS
                    + " unblessed results, not " + issued.size() + ".");
        }
        for (int i = 0; i < issued.size(); i++) {
            if (issued.get(i) <= keptFrom || i > 0 && issued.get(i) <= issued.get(i - 1)) {
                throw new IllegalArgumentException("consumer " + name + "'s unblessed results " + issued
                        + " must be newer than the snapshot it keeps from (" + keptFrom + ") and in ascending order.");
            }
        }
        lostReason = ControlState.truncate(lostReason, MAX_REASON_BYTES);
    }

    /** Throws a one-sentence {@link IllegalArgumentException} unless {@code name} may name a consumer. */
    public static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a consumer's name is 1 to " + MAX_NAME_BYTES
                    + " letters, digits, '.', '_' or '-', not " + (name == null ? "nothing" : "'" + name + "'") + ".");
        }
    }

    /** A consumer that starts from the open period {@code openSnapshot}. */
    public static ConsumerState added(String name, long openSnapshot, int ownerUid, int ownerGid, long nowMillis) {
        return new ConsumerState(name, openSnapshot, 0, List.of(), 0, "", ownerUid, ownerGid, nowMillis);
    }

    public boolean continuityLost() {
        return !lostReason.isEmpty();
    }

    /** The newest result given to it (0: none since its last bless, or ever). */
    public long newestIssued() {
        return issued.isEmpty() ? lastBlessed : issued.getLast();
    }

    /** Result {@code id} was given to it. */
    ConsumerState withIssued(long id) {
        List<Long> next = new ArrayList<>(issued);
        next.add(id);
        while (next.size() > MAX_UNBLESSED_RESULTS) {
            next.removeFirst();
        }
        long reported = continuityLost() && lostReportedIn == 0 ? id : lostReportedIn;
        return new ConsumerState(name, keptFrom, lastBlessed, next, reported, lostReason, ownerUid, ownerGid, activeAtMillis);
    }

    /** It blessed {@code id}, one of {@link #issued}: a loss it was told of before is over. */
    ConsumerState withBlessed(long id, long nowMillis) {
        List<Long> next = issued.stream().filter(i -> i > id).toList();
        boolean restored = continuityLost() && lostReportedIn > 0 && id >= lostReportedIn;
        return new ConsumerState(name, id, id, next, restored ? 0 : lostReportedIn, restored ? "" : lostReason,
                ownerUid, ownerGid, nowMillis);
    }

    /** Continuity lost for {@code reason}; an earlier reason is kept, the new one appended. */
    ConsumerState withLost(String reason) {
        String combined = lostReason.isEmpty() ? reason : lostReason.contains(reason) ? lostReason : lostReason + " " + reason;
        return new ConsumerState(name, keptFrom, lastBlessed, issued, 0, combined, ownerUid, ownerGid, activeAtMillis);
    }

    /**
     * Dropped for {@code reason}: it keeps nothing older than {@code openSnapshot}, may bless none of
     * the results it was given, and its next result says continuity was lost.
     */
    ConsumerState dropped(String reason, long openSnapshot, long nowMillis) {
        return new ConsumerState(name, Math.max(keptFrom, openSnapshot), 0, List.of(), 0, "", ownerUid, ownerGid, nowMillis)
                .withLost(reason);
    }

    int encodedBytes() {
        return 1 + name.getBytes(StandardCharsets.UTF_8).length + 8 * 4 + 4 + 4 + 1 + 8 * issued.size() + 2
                + lostReason.getBytes(StandardCharsets.UTF_8).length;
    }
}
