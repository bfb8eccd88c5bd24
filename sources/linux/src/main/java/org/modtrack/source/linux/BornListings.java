package org.modtrack.source.linux;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.modtrack.posix.Statx;
import org.modtrack.source.linux.rules.WalkRule;

/**
 * The listings of directories born since the watermark whose entries the last result's scans named
 * from the listing alone, every one but a subdirectory as made ({@link DirectoryScan}), kept so that
 * the next result names such a directory's entries from memory, without listing it again, where
 * none of its entries changed since.
 *
 * <p>Why that is the listing the directory would give now: every link, removal and rename in a
 * directory sets its ctime, from the coarse clock or a finer one never behind it
 * (docs/kernel-facts.md), so an entry changed after a reading of the coarse clock leaves the
 * directory a ctime at or after that reading. A listing made after {@code listedAfter} was read is
 * therefore still the directory's if its ctime is before {@code listedAfter} less the margin
 * ({@link Reconciliation#marginNanos}; {@link WalkRule#changedSince}), with the wall clock not set
 * back since by more than {@link CheckpointTimes#STEP_TOLERANCE_MILLIS} (its offset from the
 * monotonic clock, read after that ctime, says so). A directory is known by its device,
 * inode number and birth time: another directory at its path, or its inode number used again, is
 * another key. The entries' inode numbers are kept too: the next result's records may name one of
 * those objects, and then the directory is listed again, as a listing would have sent that entry
 * to its {@code statx}.
 *
 * <p>Who gains: a consumer that asks again before it blesses (it failed while applying, or it
 * watches: {@link LinuxSource#view}), and the other consumers of a root, whose results hold the same
 * directories. A result with a million files in new directories lists them in about 0.15 s of the
 * kernel's time on two CPUs (benchmarks/probes/scan-floor.c); from memory it checks a ctime a
 * directory.
 *
 * <p>Bounded: only one result's listings are kept (each result replaces them with those it used or
 * made), at most {@link #MAX_DIRECTORIES} of them, each of at least {@link #MIN_NAMES} entries, and
 * the result's scans read at most {@link DirectoryScan#MAX_ENTRIES} entries. The names are the
 * lists that result's own read log keeps anyway ({@link ReadLog}); what is kept besides is 8 bytes
 * an entry for its inode number.
 */
final class BornListings {
    /**
     * A reuse still opens the directory and reads its status; a directory of fewer entries saves
     * little more than that by not being listed, not worth keeping its listing.
     */
    static final int MIN_NAMES = 32;
    /** The most directories kept: 65,536 of at least {@link #MIN_NAMES} entries is two million entries. */
    static final int MAX_DIRECTORIES = 1 << 16;

    /** A directory, as no other directory can be at the same time or later on the same file system. */
    record Key(int devMajor, int devMinor, long ino, long btimeNanos) {
        /** The key of the directory {@code self} describes ({@link #MASK} asked for). */
        static Key of(Statx self) {
            return new Key(self.devMajor(), self.devMinor(), self.ino(), self.btimeNanos());
        }
    }

    /** What a {@code statx} of a directory must ask for to tell its key and whether its listing is current. */
    static final int MASK = Statx.STATX_BTIME | Statx.STATX_CTIME | Statx.STATX_INO;

    /**
     * A directory's entries as it listed them after {@code listedAfter} was read: the names of those
     * that are not directories, each named as made, with their inode numbers in any order, and its
     * subdirectories' names (sorted, each once).
     */
    record Listing(CheckpointTimes.Entry listedAfter, NameList names, NameList subdirectories, long[] inodes) {
        Listing {
            if (names.size() != inodes.length) {
                throw new IllegalArgumentException(names.size() + " names and " + inodes.length + " inode numbers");
            }
        }
    }

    /** The listings the last result kept; replaced whole by each result's ({@link Round#end}). */
    private volatile Map<Key, Listing> kept = Map.of();
    /** How many directories the last result named from a kept listing. */
    private volatile int lastReused;

    /**
     * One result's use of the listings: those the last result kept, for its scans to take, and
     * those it keeps for the next one.
     *
     * @param checkpointBegan read before this result's checkpoint began: before every listing its scans make
     */
    Round round(CheckpointTimes.Entry checkpointBegan, long marginNanos) {
        return new Round(this, kept, checkpointBegan, marginNanos);
    }

    /** How many directories' listings are kept now. */
    int size() {
        return kept.size();
    }

    /** How many directories the last result named from a kept listing instead of listing them. */
    int lastReused() {
        return lastReused;
    }

    /** One result's scans' use of the listings; its methods may be called by several scanning threads at once. */
    static final class Round {
        /** A round that keeps nothing and finds nothing: every directory is listed. */
        static final Round NONE = new Round(null, Map.of(), null, 0);

        private final BornListings owner;
        private final Map<Key, Listing> last;
        private final CheckpointTimes.Entry checkpointBegan;
        private final long marginNanos;
        private final Map<Key, Listing> next = new ConcurrentHashMap<>();
        private final AtomicInteger room = new AtomicInteger(MAX_DIRECTORIES);
        private final AtomicInteger reused = new AtomicInteger();

        private Round(BornListings owner, Map<Key, Listing> last, CheckpointTimes.Entry checkpointBegan, long marginNanos) {
            this.owner = owner;
            this.last = last;
            this.checkpointBegan = checkpointBegan;
            this.marginNanos = marginNanos;
        }

        /**
         * The kept listing of the directory {@code self} describes (a {@code statx} with {@link #MASK}),
         * if none of its entries can have changed since it was listed; null otherwise.
         *
         * @param offsetMillisNow reads {@link CheckpointTimes#offsetMillis()} after {@code self} (only
         *     where a listing is kept): a wall clock set back before that stat could have stamped a
         *     later change before the listing
         */
        Listing current(Statx self, LongSupplier offsetMillisNow) {
            if (last.isEmpty() || (self.mask() & MASK) != MASK) {
                return null;
            }
            Listing l = last.get(Key.of(self));
            if (l == null) {
                return null;
            }
            CheckpointTimes.Entry then = l.listedAfter();
            if (WalkRule.changedSince(self.ctimeNanos(), then.watermarkNanos(marginNanos))
                    || CheckpointTimes.steppedBack(then.offsetMillis(), offsetMillisNow.getAsLong())) {
                return null;
            }
            return l;
        }

        /** Notes that this round's scan of {@code self}'s directory took {@code l} ({@link #current}), and keeps it for the next. */
        void reuse(Statx self, Listing l) {
            reused.incrementAndGet();
            keep(self, l);
        }

        /** Keeps a listing made by this round's scan of {@code self}'s directory. */
        void keep(Statx self, NameList names, NameList subdirectories, long[] inodes) {
            if (owner != null && names.size() + subdirectories.size() >= MIN_NAMES) {
                keep(self, new Listing(checkpointBegan, names, subdirectories, inodes));
            }
        }

        /** Keeps {@code l}, the listing of {@code self}'s directory, for the next result (if there is room). */
        private void keep(Statx self, Listing l) {
            if (owner == null || l.names().size() + l.subdirectories().size() < MIN_NAMES || (self.mask() & MASK) != MASK) {
                return;
            }
            if (room.getAndDecrement() > 0) {
                next.put(Key.of(self), l);
            }
        }

        /** How many directories this round's scans named from a kept listing. */
        int reused() {
            return reused.get();
        }

        /** The listings this round used or made replace the last result's (once its result is made). */
        void end() {
            if (owner != null) {
                owner.kept = Map.copyOf(next);
                owner.lastReused = reused.get();
            }
        }
    }
}
