package org.modtrack.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.modtrack.engine.ResultTooLargeException;

/**
 * The heap the daemon's results share: what they hold together, that an admission never waits,
 * who waits for room, in which order, and for how long.
 */
class ResultMemoryTest {
    /** Longer than any of these tests waits: a wait that only room, an interrupt or a stop ends. */
    private static final Duration LONG = Duration.ofMinutes(5);

    @Test
    void resultsThatFitTogetherAreAdmittedAtOnceAndLetTheirMemoryGoOnce() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultMemory.Grant a = admitted(m, 4);
        ResultMemory.Grant b = admitted(m, 6);
        assertEquals(10, m.held());
        a.close();
        a.close();
        assertEquals(6, m.held(), "closing twice lets go once");
        b.close();
        assertEquals(0, m.held());
        assertSame(ResultMemory.Grant.NONE, m.take(), "taken: nothing left on the thread");
        ResultMemory.Grant.NONE.made(5);
        assertEquals(0, ResultMemory.Grant.NONE.weight(), "a result never admitted counts nothing, made or not");
    }

    @Test
    void aResultThatDoesNotFitIsRefusedAtOnceAndItsQueryIsAdmittedOnceItHasWaitedForRoom() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultMemory.Grant holder = admitted(m, 7);
        ResultTooLargeException e = assertThrows(ResultTooLargeException.class, () -> m.admit(5, 6));
        assertEquals(7, e.heldByOthers());
        assertEquals(5, e.records());
        assertEquals(6, e.weight());
        assertEquals(10, e.bound());
        assertEquals(7, m.held(), "a refused result holds nothing");
        CompletableFuture<ResultMemory.Grant> asked = askAgainOnceThereIsRoom(m, 6, m.deadlineFromNow());
        awaitWaiting(m, 1);
        assertEquals(7, m.held(), "no room while the holder holds its memory");
        holder.close();
        ResultMemory.Grant g = asked.get(1, TimeUnit.MINUTES);
        assertEquals(6, g.weight());
        assertEquals(6, m.held());
        g.close();
        assertEquals(0, m.held());
    }

    @Test
    void aQueryStillWithoutRoomAtItsDeadlineStopsWaitingHoldingNothing() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultMemory.Grant holder = admitted(m, 7);
        assertFalse(m.awaitRoom(5, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50)));
        assertFalse(m.awaitRoom(5, System.nanoTime() - 1), "a deadline spent waiting for the root's other queries");
        assertEquals(7, m.held());
        assertEquals(0, m.waiting());
        assertTrue(m.awaitRoom(3, System.nanoTime() - 1), "room needs no wait");
        m.dropRoom();
        assertEquals(7, m.held(), "room not used is let go");
        holder.close();
    }

    @Test
    void aResultLargerThanTheBoundAloneIsRefusedAndNotWaitedFor() {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultTooLargeException e = assertThrows(ResultTooLargeException.class, () -> m.admit(11, 11));
        assertEquals(0, e.heldByOthers(), "too large for the heap itself, not for what others hold");
        assertFalse(m.awaitRoom(11, m.deadlineFromNow()));
        assertEquals(0, m.held());
    }

    @Test
    void roomIsGivenFirstComeFirstServedSoALargeResultIsNotPassedByEverySmallOne() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultMemory.Grant holder = admitted(m, 8);
        CompletableFuture<ResultMemory.Grant> large = askAgainOnceThereIsRoom(m, 10, m.deadlineFromNow());
        awaitWaiting(m, 1);
        assertEquals(8, assertThrows(ResultTooLargeException.class, () -> m.admit(1, 1)).heldByOthers(),
                "a small result would fit, but a large one waits for room before it");
        CompletableFuture<ResultMemory.Grant> small = askAgainOnceThereIsRoom(m, 1, m.deadlineFromNow());
        awaitWaiting(m, 2);
        holder.close();
        ResultMemory.Grant l = large.get(1, TimeUnit.MINUTES);
        assertEquals(10, m.held());
        assertEquals(1, m.waiting(), "the small one waits for the large one");
        l.close();
        small.get(1, TimeUnit.MINUTES).close();
        assertEquals(0, m.held());
    }

    @Test
    void aSmallResultThatFitsIsAdmittedWhileALargeOneWaits() throws Exception {
        ResultMemory m = new ResultMemory(640, LONG);
        ResultMemory.Grant holder = admitted(m, 500);
        CompletableFuture<ResultMemory.Grant> large = askAgainOnceThereIsRoom(m, 600, m.deadlineFromNow());
        awaitWaiting(m, 1);
        ResultMemory.Grant small = admitted(m, 640 / ResultMemory.SMALL_SHARE);
        assertEquals(510, m.held(), "a 64th of the bound, beside the holder: no wait behind the large one");
        assertThrows(ResultTooLargeException.class, () -> m.admit(11, 11), "larger than a 64th: it waits in line");
        small.close();
        holder.close();
        large.get(1, TimeUnit.MINUTES).close();
        assertEquals(0, m.held());
    }

    @Test
    void roomWaitedForIsWhatTheQueryUsesAndWhatItCountedSinceIsAdmittedIfThereIsRoomForIt() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        assertTrue(m.awaitRoom(6, m.deadlineFromNow()));
        assertEquals(6, m.held(), "held for the query asked again");
        m.admit(4, 4); // it counted fewer records than the refused one
        assertEquals(4, m.held());
        m.take().close();
        assertTrue(m.awaitRoom(3, m.deadlineFromNow()));
        m.admit(5, 5); // more records written since: there is room for them
        assertEquals(5, m.held());
        ResultMemory.Grant five = m.take();
        assertTrue(m.awaitRoom(3, m.deadlineFromNow()));
        assertEquals(8, m.held());
        assertEquals(5, assertThrows(ResultTooLargeException.class, () -> m.admit(6, 6)).heldByOthers(),
                "no room for what was written since: refused, and the room let go");
        assertEquals(5, m.held());
        five.close();
    }

    @Test
    void aWaitingQueryThatIsInterruptedStopsWaitingAndKeepsItsInterrupt() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultMemory.Grant holder = admitted(m, 10);
        CompletableFuture<Boolean> interruptedAfter = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().start(() -> {
            boolean room = m.awaitRoom(1, m.deadlineFromNow());
            interruptedAfter.complete(!room && Thread.currentThread().isInterrupted());
        });
        awaitWaiting(m, 1);
        t.interrupt();
        assertTrue(interruptedAfter.get(1, TimeUnit.MINUTES), "no room, the interrupt kept for the query's caller");
        assertEquals(0, m.waiting());
        holder.close();
        assertEquals(0, m.held());
    }

    @Test
    void aMadeResultHoldsWhatItsEntriesHoldUntilItIsSentAndLetsAWaitingOneIn() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultMemory.Grant sent = admitted(m, 9);
        CompletableFuture<ResultMemory.Grant> asked = askAgainOnceThereIsRoom(m, 7, m.deadlineFromNow());
        awaitWaiting(m, 1);
        sent.made(3);
        assertEquals(3, sent.weight());
        ResultMemory.Grant g = asked.get(1, TimeUnit.MINUTES);
        assertEquals(10, m.held(), "the made one's entries and the new one's whole");
        g.made(12); // many files a scan names, which its query did not count: more than the bound
        assertEquals(15, m.held());
        CompletableFuture<ResultMemory.Grant> next = askAgainOnceThereIsRoom(m, 1, m.deadlineFromNow());
        awaitWaiting(m, 1);
        sent.close();
        assertEquals(1, m.waiting(), "still above the bound: it waits");
        g.close();
        next.get(1, TimeUnit.MINUTES).close();
        assertEquals(0, m.held());
    }

    @Test
    void whatAMadeResultHoldsIsWhatItsEntriesTakeInTheBoundsUnits() {
        assertEquals(0, ResultMemory.sentWeight(0, 0));
        assertEquals(1, ResultMemory.sentWeight(1, 0), "an entry holds a unit at least: rounded up");
        assertEquals(1, ResultMemory.sentWeight(1, 1));
        assertEquals(312_500, ResultMemory.sentWeight(1_000_000, 0), "120 bytes an entry, 384 a unit");
        assertEquals(156_250, ResultMemory.sentWeight(1_000_000, 1_000_000), "60 bytes a file a scan names");
        assertThrows(IllegalArgumentException.class, () -> ResultMemory.sentWeight(1, 2));
    }

    @Test
    void aStopEndsTheWaitsAndThoseThatWouldWaitButAdmitsWhatFits() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultMemory.Grant holder = admitted(m, 8);
        CompletableFuture<ResultMemory.Grant> asked = askAgainOnceThereIsRoom(m, 5, m.deadlineFromNow());
        awaitWaiting(m, 1);
        m.stop();
        assertNull(asked.get(1, TimeUnit.MINUTES), "no room: its wait ended by the stop");
        assertFalse(m.awaitRoom(3, m.deadlineFromNow()), "it would wait: not after a stop");
        admitted(m, 2).close();
        holder.close();
        assertEquals(0, m.held());
    }

    @Test
    void aGrantAdmittedButNeverTakenIsLetGoByTheThreadsNextAdmission() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        m.admit(8, 8); // not taken: a caller that failed to take its grant
        assertEquals(8, m.held());
        m.admit(9, 9);
        assertEquals(9, m.held(), "the stale grant let go, not held for good");
        m.take().close();
        assertEquals(0, m.held());
    }

    private static ResultMemory.Grant admitted(ResultMemory m, long weight) throws ResultTooLargeException {
        m.admit(weight, weight);
        return m.take();
    }

    /** As a root's query does once refused: waits for room on a thread of its own, then is admitted with it (null: no room). */
    private static CompletableFuture<ResultMemory.Grant> askAgainOnceThereIsRoom(ResultMemory m, long weight, long deadline) {
        CompletableFuture<ResultMemory.Grant> f = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try {
                f.complete(m.awaitRoom(weight, deadline) ? admitted(m, weight) : null);
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /** Until {@code n} queries wait for room (bounded: a minute). */
    private static void awaitWaiting(ResultMemory m, int n) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (m.waiting() < n) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(n + " waiting queries expected, " + m.waiting() + " after a minute");
            }
            Thread.sleep(5);
        }
    }
}
