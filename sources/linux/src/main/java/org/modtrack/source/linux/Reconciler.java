package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import org.modtrack.engine.ChangeTracker;

/**
 * Finds by a walk ({@link Reconciliation}) what the notification group did not see, instead of
 * making the consumer rescan everything, and says so in every result until one that holds the
 * walk's records is blessed. Two things ask for a walk: a start after a gap (an unclean stop, or
 * writes while no tracker ran), and a notification queue overflow while running, whose walk runs
 * when the events queued before a checkpoint are recorded, so that its records are in that result.
 *
 * <p>Every walk starts from the last blessed result's checkpoint time ({@link CheckpointTimes};
 * before any bless, the time this state began tracking). When there is none, or it cannot be
 * trusted (another boot where no power lease stood, a clock set back: {@link CheckpointTimes#since}),
 * or the walk fails, continuity is marked lost as before: the consumer rescans.
 */
final class Reconciler {
    private static final Logger LOG = Logger.getLogger(Reconciler.class.getName());
    /**
     * Walks one recording of queued events may run: an overflow during a walk asks for another
     * (the walk may have passed the directory whose events were dropped); after this many the loss
     * is reported instead, so a storm of overflows cannot keep a query walking forever.
     */
    static final int MAX_WALKS = 3;

    private final Path watched;
    private final TrackedFilesystem fs;
    private final ChangeTracker tracker;
    private final CheckpointTimes times;
    // Guarded by this: why a walk is wanted (the first reason since the last walk), null if none.
    private String asked;
    // How the latest walk went, said by every result of a consumer until it blesses one that holds
    // its records (reportedIn: each consumer's first result that did; told: those that blessed one).
    // Queries and blesses of a root run one at a time; the maps are concurrent for status readers.
    private volatile Reconciled latest;
    private final Map<String, Long> reportedIn = new ConcurrentHashMap<>();
    private final Set<String> told = ConcurrentHashMap.newKeySet();

    private final Handover handover; // null without a kept notification group
    private long askedTicket; // guarded by this: the handover's count of walks asked, at the latest ask

    Reconciler(Path watched, TrackedFilesystem fs, ChangeTracker tracker, CheckpointTimes times) {
        this(watched, fs, tracker, times, null);
    }

    /** @param handover where a successor learns of a walk asked for and not yet run (null: nowhere) */
    Reconciler(Path watched, TrackedFilesystem fs, ChangeTracker tracker, CheckpointTimes times, Handover handover) {
        this.handover = handover;
        this.watched = watched;
        this.fs = fs;
        this.tracker = tracker;
        this.times = times;
    }

    /**
     * A start after a gap: walks now, before the first result. Null if it did; else why it could
     * not (logged too), for the caller to say as it marks continuity lost.
     */
    String afterGap(String gap) {
        StringBuilder whyNot = new StringBuilder();
        return walk("modtrack did not track " + fs + " for a while (" + gap + ")", whyNot) != null ? null : whyNot.toString();
    }

    /** Asks for a walk at the next recording of queued events (from the notification reader: returns at once). */
    synchronized void ask(String reason) {
        LOG.warning(reason + ": a walk will find what changed");
        if (asked == null) {
            asked = reason;
        }
        if (handover != null) {
            askedTicket = handover.walkAsked();
        }
    }

    /** Whether a walk was asked for and has not run yet. */
    synchronized boolean asked() {
        return asked != null;
    }

    /**
     * Runs the walk asked for, if any. The caller records the events queued meanwhile and calls this
     * again while {@link #asked()}, at most {@link #MAX_WALKS} times, then {@link #giveUp}.
     */
    void walkIfAsked() throws IOException {
        String reason;
        long ticket;
        synchronized (this) {
            reason = asked;
            ticket = askedTicket;
            asked = null;
        }
        if (reason != null && walk(reason, new StringBuilder()) == null) {
            tracker.markContinuityLost(reason + "; rescan " + watched);
        }
        walked(reason, ticket);
    }

    /** Tells the handover that the walks asked up to {@code ticket} are done (run, or their loss recorded). */
    private void walked(String reason, long ticket) {
        if (reason != null && handover != null) {
            handover.walked(ticket);
        }
    }

    /** Overflows kept coming while walking: reports the loss instead. */
    void giveUp() throws IOException {
        String reason;
        long ticket;
        synchronized (this) {
            reason = asked;
            ticket = askedTicket;
            asked = null;
        }
        if (reason != null) {
            tracker.markContinuityLost(reason + "; the queue kept overflowing during " + MAX_WALKS + " walks: rescan "
                    + watched);
        }
        walked(reason, ticket);
    }

    /** {@code r} with the latest walk's figures if its consumer has not blessed a result that holds its records. */
    LinuxResult report(LinuxResult r) {
        Reconciled how = latest;
        if (how == null || told.contains(r.consumer())) {
            return r;
        }
        reportedIn.putIfAbsent(r.consumer(), r.snapshot());
        return r.withReconciled(how);
    }

    /**
     * Whether {@code consumer}'s next result holds the records of a walk it has not blessed: the
     * directories the walk recorded must then stay {@code list} entries.
     */
    boolean walkUnblessedBy(String consumer) {
        return latest != null && !told.contains(consumer);
    }

    /** {@code consumer} blessed result {@code snapshot}. */
    void blessed(String consumer, long snapshot) {
        Long in = reportedIn.get(consumer);
        if (in != null && snapshot >= in) {
            told.add(consumer);
        }
    }

    /** Walks from the last blessed result's checkpoint time; null, having logged and told {@code whyNot} why, if it cannot. */
    private Reconciled walk(String reason, StringBuilder whyNot) {
        long blessed = tracker.keptFrom();
        try {
            Optional<CheckpointTimes.Since> since = times.since(blessed, Reconciliation.marginNanos(fs), whyNot);
            if (since.isPresent()) {
                Reconciled r = Reconciliation.run(since.get().acrossReboot() ? reason + "; the machine rebooted since" : reason,
                        watched, fs, tracker, since.get().nanos());
                LOG.info(() -> reason + ": a walk of " + r.entries() + " entries in " + r.took().toMillis() + " ms found "
                        + r.listed() + " directories and " + r.files() + " files changed since "
                        + (blessed == 0 ? "tracking began" : "result " + blessed + "'s checkpoint"));
                latest = r;
                reportedIn.clear(); // said until each consumer blesses a result made after this walk
                told.clear();
                return r;
            }
        } catch (IOException | RuntimeException e) {
            whyNot.append("the walk failed: ").append(e.getMessage());
        }
        LOG.warning(() -> reason + ", and a walk cannot find what changed (" + whyNot + "): continuity lost");
        return null;
    }
}
