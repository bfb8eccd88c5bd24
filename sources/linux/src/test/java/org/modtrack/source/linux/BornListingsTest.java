package org.modtrack.source.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.modtrack.posix.Statx;

/** When a kept listing of a directory stands for the directory now ({@link BornListings}), and what is kept. */
class BornListingsTest {
    private static final long MARGIN = Reconciliation.MARGIN_NANOS;
    private static final long LISTED_AFTER = 1_700_000_000_000_000_000L;
    private static final long OFFSET = 1_699_999_000_000L;
    private static final CheckpointTimes.Entry CHECKPOINT = new CheckpointTimes.Entry(3, LISTED_AFTER, "boot", OFFSET, true);
    private static final NameList NAMES = NameList.of(IntStream.range(0, BornListings.MIN_NAMES)
            .mapToObj(i -> String.format("f%03d", i)).toArray(String[]::new));
    private static final long[] INODES = IntStream.range(0, BornListings.MIN_NAMES).mapToLong(i -> 100 + i).toArray();

    /** A directory's statx as a scan reads it: inode 12, born at 5, its entries last changed at {@code ctime}. */
    private static Statx directory(int mask, long btime, long ctime) {
        return new Statx(mask, 0040755, 2, 0, 0, 12, 4096, 8, 0, btime, ctime, ctime, 7, 0, 0, 0);
    }

    private static Statx directory(long ctime) {
        return directory(BornListings.MASK | Statx.STATX_TYPE, 5, ctime);
    }

    /** A round of the next result, after one that listed {@link #directory} at {@link #CHECKPOINT}. */
    private static BornListings.Round nextRound(BornListings listings) {
        BornListings.Round first = listings.round(CHECKPOINT, MARGIN);
        first.keep(directory(LISTED_AFTER - 2 * MARGIN), NAMES, NameList.EMPTY, INODES);
        first.end();
        return listings.round(new CheckpointTimes.Entry(4, LISTED_AFTER + 1_000_000_000L, "boot", OFFSET, true), MARGIN);
    }

    @Test
    void aListingStandsWhileTheDirectoryWasNotChangedSinceItsCheckpointLessTheMargin() {
        BornListings.Round next = nextRound(new BornListings());
        BornListings.Listing kept = next.current(directory(LISTED_AFTER - MARGIN - 1), () -> OFFSET);
        assertSame(NAMES, kept.names());
        assertEquals(CHECKPOINT, kept.listedAfter(), "listed after the checkpoint of the result that listed it");
        assertNull(next.current(directory(LISTED_AFTER - MARGIN), () -> OFFSET), "an entry changed at the margin's edge: listed again");
        assertNull(next.current(directory(LISTED_AFTER + 1), () -> OFFSET), "changed since");
    }

    @Test
    void aWallClockSetBackSinceTheListingOrAnotherDirectoryIsListedAgain() {
        BornListings.Round next = nextRound(new BornListings());
        long quiet = LISTED_AFTER - 2 * MARGIN;
        long tolerance = CheckpointTimes.STEP_TOLERANCE_MILLIS;
        assertSame(NAMES, next.current(directory(quiet), () -> OFFSET - tolerance).names(), "within the tolerance");
        assertNull(next.current(directory(quiet), () -> OFFSET - tolerance - 1),
                "set back further: a later change may have an earlier ctime");
        assertNull(next.current(directory(BornListings.MASK | Statx.STATX_TYPE, 6, quiet), () -> OFFSET),
                "another birth time: another directory with the inode number");
        assertNull(next.current(directory(Statx.STATX_BTIME | Statx.STATX_INO | Statx.STATX_TYPE, 5, quiet), () -> OFFSET),
                "no ctime told");
    }

    @Test
    void eachResultKeepsOnlyWhatItUsedOrListedWithinItsBounds() {
        BornListings listings = new BornListings();
        BornListings.Round next = nextRound(listings);
        assertEquals(1, listings.size());
        next.end();
        assertEquals(0, listings.size(), "a result that neither used nor listed it forgets it");

        BornListings.Round small = listings.round(CHECKPOINT, MARGIN);
        small.keep(directory(0), NameList.of("a", "b"), NameList.of("s"), new long[] {1, 2});
        small.end();
        assertEquals(0, listings.size(), "fewer than " + BornListings.MIN_NAMES + " entries are listed again rather than kept");

        BornListings.Round many = listings.round(CHECKPOINT, MARGIN);
        for (int i = 0; i <= BornListings.MAX_DIRECTORIES; i++) {
            Statx another = new Statx(BornListings.MASK, 0040755, 2, 0, 0, i, 4096, 8, 0, 5, 0, 0, 7, 0, 0, 0);
            many.keep(another, NAMES, NameList.EMPTY, INODES);
        }
        many.end();
        assertEquals(BornListings.MAX_DIRECTORIES, listings.size());

        BornListings.Round reusing = listings.round(CHECKPOINT, MARGIN);
        Statx quiet = new Statx(BornListings.MASK, 0040755, 2, 0, 0, 3, 4096, 8, 0, 5, LISTED_AFTER - 2 * MARGIN, 0, 7, 0, 0, 0);
        reusing.reuse(quiet, reusing.current(quiet, () -> OFFSET));
        reusing.end();
        assertEquals(1, reusing.reused());
        assertEquals(1, listings.size(), "the one it used, for the result after");
    }

    @Test
    void aListingHasAnInodeNumberForEachName() {
        assertEquals(BornListings.MIN_NAMES + " names and 2 inode numbers", assertThrows(IllegalArgumentException.class,
                () -> new BornListings.Listing(CHECKPOINT, NAMES, NameList.EMPTY, new long[] {1, 2})).getMessage());
    }
}
