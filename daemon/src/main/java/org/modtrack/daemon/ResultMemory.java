package org.modtrack.daemon;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.engine.ResultAdmission;
import org.modtrack.engine.ResultTooLargeException;

/**
 * The heap the daemon's results share: every root and every consumer makes its results in one heap,
 * and a result holds memory from the moment it is made until its last entry is sent. While it is
 * made, an admitted result holds its weight (its records, a record with names counting twice) of
 * one bound, {@link ResultBound#records}, the most one result may hold alone; once it is made, and
 * until it is sent, what its entries hold ({@link #sentWeight}, {@link Grant#made}): the bound
 * counts 384 bytes a unit of weight while a result is made (its handles, its plan, its order, and
 * the collector's room), a made result keeps only its entries, 120 bytes each at most, and 60 for a
 * file only a scan names, which the query does not count. A result that does not fit beside those
 * already held is refused before anything of it is made or issued; its query then waits, first
 * come first served and outside the tracker's locks ({@link #awaitRoom}), for them to be made or
 * sent, and is asked again with the room it waited for, at most {@link #wait} after its client
 * asked; past that the client is refused ({@code busy}; nothing is lost, and it queries again). Without it,
 * results that each fit the heap alone could run it out together (two roots' made at once, or
 * several consumers' being sent while another is made): the daemon ends (an OutOfMemoryError),
 * restarts, and the same queries end it again.
 *
 * <p>The tracker admits a result on the thread that queries, while it holds its control lock, so an
 * admission never waits; {@link Root} queries each root on a thread of its own, waits for room
 * there, and takes the result's {@link Grant} there once it is made ({@link #take}); the
 * connection lets it go once the result is sent.
 */
final class ResultMemory implements ResultAdmission {
    private static final Logger LOG = Logger.getLogger(ResultMemory.class.getName());

    /**
     * What a made result's entry holds until it is sent, measured with {@code jcmd GC.run} and
     * {@code GC.heap_info} while a client took a result slowly and after it went away: 300,000
     * removed files, 108 bytes an entry; two results of 160,000 renamed files, 120.
     */
    static final long BYTES_PER_ENTRY = 120;
    /** What a file only a scan names holds until its result is sent: its name in its directory's sorted array. */
    static final long BYTES_PER_SCANNED_FILE = 60;
    /**
     * A result of at most this share of the bound that fits is admitted even while others wait for
     * room: a query of a few changes does not wait for a large one to find room (a 64th of the
     * bound is 273 records at 64 MiB, 34,000 at 1 GiB), and such results are made and sent
     * quickly, so a large one waiting is not held back for long.
     */
    static final long SMALL_SHARE = 64;

    private final long bound;
    private final Duration wait;
    /** What grants not yet let go hold, reservations included; guarded by this. */
    private long held;
    /** Set once the daemon stops; guarded by this. */
    private boolean stopping;
    /** The queries waiting for room, first come first served: at most one a root; guarded by this. */
    private final ArrayDeque<Object> waiting = new ArrayDeque<>();
    /** The grant of the result admitted on this thread and not yet taken. */
    private final ThreadLocal<Grant> admitted = new ThreadLocal<>();
    /** Room this thread waited for ({@link #awaitRoom}), for its query's next admission. */
    private final ThreadLocal<Grant> reserved = new ThreadLocal<>();

    /**
     * @param bound what the results made and sent at once may count for together
     * @param wait how long a query whose result does not fit may wait for room, from when its client
     *     asked: a little more than a client's idle timeout, so that a client that stopped taking its
     *     result is cut off (at most an eighth of its timeout late) and its memory let go before a
     *     query that waits for it gives up
     */
    ResultMemory(long bound, Duration wait) {
        if (bound < 1 || wait.isNegative()) {
            throw new IllegalArgumentException("a bound of at least 1 and a wait not negative, not " + bound + " and " + wait + ".");
        }
        this.bound = bound;
        this.wait = wait;
    }

    /** The wait for a daemon whose clients may take {@code idleTimeout} to take each piece of an answer. */
    static Duration waitFor(Duration idleTimeout) {
        // Not Duration.dividedBy: it divides as a BigDecimal, whose class initialisation cost a
        // restart about 20 ms before the daemon listened (Java Flight Recorder of a restart).
        return idleTimeout.plusMillis(idleTimeout.toMillis() / 4);
    }

    /** Until when ({@link System#nanoTime}) a query asked for now may wait for room. */
    long deadlineFromNow() {
        return System.nanoTime() + wait.toNanos();
    }

    /**
     * {@inheritDoc} It never waits: the tracker asks while it holds its control lock (a bless of
     * another consumer of the root waits for it). The room this thread waited for
     * ({@link #awaitRoom}) is used first; else a result is admitted only if it fits and no other
     * query waits for room, or it is small ({@link #SMALL_SHARE}) and fits; else it is refused, and
     * its caller waits for room and queries again.
     */
    @Override
    public void admit(long records, long weight) throws ResultTooLargeException {
        forgetAdmitted();
        Grant room = reserved.get();
        reserved.remove();
        if (weight > bound) {
            if (room != null) {
                room.close();
            }
            throw new ResultTooLargeException(records, weight, bound);
        }
        Grant g = room != null ? room : new Grant(0);
        synchronized (this) {
            long more = weight - g.weight;
            boolean small = weight <= bound / SMALL_SHARE;
            if (more > 0 && ((room == null && !small && !waiting.isEmpty()) || held + more > bound)) {
                long others = held - g.weight;
                g.close();
                throw new ResultTooLargeException(records, weight, bound, Math.max(1, others));
            }
            held += more; // less than 0: the query counted fewer records than it waited room for
            g.weight = weight;
            assert held >= 0 : held + " held";
            notifyAll();
        }
        admitted.set(g);
    }

    /**
     * Waits, first come first served, until {@code weight} fits beside what others hold, and holds
     * it for this thread's next admission (its query, asked again); false, holding nothing, if it
     * does not fit by {@code deadlineNanos}, or the daemon stops, or the thread is interrupted (its
     * interrupt kept). Called with no lock held.
     */
    boolean awaitRoom(long weight, long deadlineNanos) {
        dropRoom();
        if (weight > bound) {
            return false;
        }
        Object turn = new Object();
        synchronized (this) {
            waiting.addLast(turn);
            try {
                while (waiting.peekFirst() != turn || held + weight > bound) {
                    long left = deadlineNanos - System.nanoTime();
                    if (left <= 0 || stopping) {
                        return false;
                    }
                    try {
                        TimeUnit.NANOSECONDS.timedWait(this, left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt(); // the query is being cancelled
                        return false;
                    }
                }
                held += weight;
            } finally {
                waiting.remove(turn);
                notifyAll(); // the next in line may fit now
            }
        }
        reserved.set(new Grant(weight));
        return true;
    }

    /** Lets go the room this thread waited for and did not use. */
    void dropRoom() {
        Grant room = reserved.get();
        reserved.remove();
        if (room != null) {
            room.close();
        }
    }

    /** The grant of the result admitted on this thread since the last call ({@link Grant#NONE} if none), which the caller now holds. */
    Grant take() {
        Grant g = admitted.get();
        admitted.remove();
        return g == null ? Grant.NONE : g;
    }

    /**
     * Lets go a grant admitted on this thread that nobody took: none is expected (every query on a
     * root's thread takes its own); one would otherwise hold its weight for good.
     */
    private void forgetAdmitted() {
        Grant stale = take();
        if (stale != Grant.NONE) {
            LOG.log(Level.SEVERE, "a result's memory (" + stale.weight + " records) was admitted on " + Thread.currentThread()
                    + " and never taken; letting it go");
            stale.close();
        }
    }

    /**
     * The daemon is stopping: a query waiting for room stops waiting now, and so does any later one
     * that would wait, so that no stop waits out a query's wait.
     */
    synchronized void stop() {
        stopping = true;
        notifyAll();
    }

    /** What admitted results not yet let go hold (for {@code status}). */
    synchronized long held() {
        return held;
    }

    long bound() {
        return bound;
    }

    /** How many queries wait for room. */
    synchronized int waiting() {
        return waiting.size();
    }

    private synchronized void letGo(long weight) {
        held -= weight;
        assert held >= 0 : held + " held";
        notifyAll();
    }

    /**
     * What a made result of {@code entries} entries, {@code scanNamed} of them files only a scan
     * names, holds until it is sent, in the bound's units ({@link ResultBound#BYTES_PER_RECORD} a
     * unit), rounded up: {@link #BYTES_PER_ENTRY} an entry, {@link #BYTES_PER_SCANNED_FILE} a file
     * only a scan names. At least 1 for a result of any entry.
     */
    static long sentWeight(long entries, long scanNamed) {
        if (scanNamed < 0 || scanNamed > entries) {
            throw new IllegalArgumentException(scanNamed + " files a scan names of " + entries + " entries.");
        }
        long bytes = (entries - scanNamed) * BYTES_PER_ENTRY + scanNamed * BYTES_PER_SCANNED_FILE;
        return (bytes + ResultBound.BYTES_PER_RECORD - 1) / ResultBound.BYTES_PER_RECORD;
    }

    /** What one admitted result holds, until it is closed (once; closing again does nothing). */
    final class Grant implements AutoCloseable {
        /** Holds nothing: a result that was not admitted (refused, or failed before it was counted). */
        static final Grant NONE = new ResultMemory(1, Duration.ZERO).new Grant(0);

        private long weight;

        private Grant(long weight) {
            this.weight = weight;
        }

        /**
         * The result is made: from now until it is sent it holds {@code sent}, what its entries hold
         * ({@link #sentWeight}). Less than what it held while it was made, as a rule; more where
         * files a scan names, which its query did not count, are many: what others may hold then
         * shrinks until it is sent.
         */
        void made(long sent) {
            if (this == NONE) {
                return; // not admitted: nothing to count against
            }
            long before;
            synchronized (ResultMemory.this) {
                before = weight;
                weight = sent;
                held += sent - before;
                assert held >= 0 : held + " held";
                ResultMemory.this.notifyAll();
            }
        }

        /** What it holds now. */
        long weight() {
            synchronized (ResultMemory.this) {
                return weight;
            }
        }

        @Override
        public void close() {
            long w;
            synchronized (ResultMemory.this) {
                w = weight;
                weight = 0;
            }
            if (w > 0) {
                letGo(w);
            }
        }
    }
}
