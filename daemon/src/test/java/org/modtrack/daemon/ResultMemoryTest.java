package org.modtrack.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.modtrack.engine.ResultTooLargeException;

/** The heap the daemon's results share: what they hold together, who waits, in which order, and for how long. */
class ResultMemoryTest {
    /** Longer than any of these tests waits: a wait for others that only an interrupt or a grant let go ends. */
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
    }

    @Test
    void aResultThatDoesNotFitBesideOthersWaitsForThemAndIsThenAdmitted() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultMemory.Grant holder = admitted(m, 7);
        CompletableFuture<ResultMemory.Grant> waiter = admitLater(m, 5);
        awaitWaiting(m, 1);
        assertEquals(7, m.held(), "not admitted while the holder holds its memory");
        holder.close();
        ResultMemory.Grant g = waiter.get(1, TimeUnit.MINUTES);
        assertEquals(5, m.held());
        g.close();
        assertEquals(0, m.held());
    }

    @Test
    void aMadeResultHoldsAThirdUntilItIsSentAndLetsAWaitingOneIn() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultMemory.Grant sent = admitted(m, 9);
        CompletableFuture<ResultMemory.Grant> waiter = admitLater(m, 7);
        awaitWaiting(m, 1);
        sent.made();
        assertEquals(3, sent.weight(), "a third of 9");
        ResultMemory.Grant g = waiter.get(1, TimeUnit.MINUTES);
        assertEquals(10, m.held(), "the made one's third and the new one's whole");
        g.made();
        assertEquals(3 + 3, m.held(), "a third of 7, rounded up");
        sent.close();
        g.close();
        assertEquals(0, m.held());
        assertEquals(1, ResultMemory.sentWeight(1), "a made result of one record still holds one");
    }

    @Test
    void aResultStillWithoutRoomAfterTheWaitIsRefusedNamingWhatOthersHold() throws Exception {
        ResultMemory m = new ResultMemory(10, Duration.ofMillis(50));
        ResultMemory.Grant holder = admitted(m, 7);
        ResultTooLargeException e = assertThrows(ResultTooLargeException.class, () -> m.admit(5, 6));
        assertEquals(7, e.heldByOthers());
        assertEquals(5, e.records());
        assertEquals(6, e.weight());
        assertEquals(10, e.bound());
        assertEquals(7, m.held(), "a refused result holds nothing");
        assertSame(ResultMemory.Grant.NONE, m.take());
        holder.close();
    }

    @Test
    void aQueryWhoseWaitWasSpentBeforeItRanIsRefusedAtOnceIfThereIsNoRoomAndAdmittedIfThereIs() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultMemory.Grant holder = admitted(m, 7);
        m.admitUntil(System.nanoTime() - 1); // it waited its whole wait behind another query of its root
        assertEquals(7, assertThrows(ResultTooLargeException.class, () -> m.admit(5, 5)).heldByOthers());
        m.admitUntil(System.nanoTime() - 1);
        ResultMemory.Grant fits = admitted(m, 3);
        assertEquals(10, m.held(), "room needs no wait");
        fits.close();
        holder.close();
    }

    @Test
    void aResultLargerThanTheBoundAloneIsRefusedWithoutWaiting() {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultTooLargeException e = assertThrows(ResultTooLargeException.class, () -> m.admit(11, 11));
        assertEquals(0, e.heldByOthers(), "too large for the heap itself, not for what others hold");
        assertEquals(0, m.held());
    }

    @Test
    void waitingResultsAreAdmittedFirstComeFirstServedSoALargeOneIsNotPassedByEverySmallOne() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultMemory.Grant holder = admitted(m, 8);
        CompletableFuture<ResultMemory.Grant> large = admitLater(m, 10);
        awaitWaiting(m, 1);
        CompletableFuture<ResultMemory.Grant> small = admitLater(m, 1);
        awaitWaiting(m, 2);
        assertEquals(8, m.held(), "the small one would fit, but the large one came first");
        holder.close();
        ResultMemory.Grant l = large.get(1, TimeUnit.MINUTES);
        assertEquals(10, m.held());
        assertEquals(1, m.waiting(), "the small one waits for the large one");
        l.close();
        small.get(1, TimeUnit.MINUTES).close();
        assertEquals(0, m.held());
    }

    @Test
    void aWaitingQueryThatIsInterruptedIsRefusedAndKeepsItsInterrupt() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultMemory.Grant holder = admitted(m, 10);
        CompletableFuture<Boolean> interruptedAfter = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                m.admit(1, 1);
                interruptedAfter.completeExceptionally(new AssertionError("admitted while the holder held all"));
            } catch (ResultTooLargeException e) {
                interruptedAfter.complete(Thread.currentThread().isInterrupted());
            }
        });
        awaitWaiting(m, 1);
        t.interrupt();
        assertTrue(interruptedAfter.get(1, TimeUnit.MINUTES), "refused, the interrupt kept for the query's caller");
        assertEquals(0, m.waiting());
        holder.close();
        assertEquals(0, m.held());
    }

    @Test
    void aStopRefusesTheResultsWaitingAndThoseThatWouldWaitButNotThoseThatFit() throws Exception {
        ResultMemory m = new ResultMemory(10, LONG);
        ResultMemory.Grant holder = admitted(m, 8);
        CompletableFuture<ResultMemory.Grant> waiter = admitLater(m, 5);
        awaitWaiting(m, 1);
        m.stop();
        ExecutionException e = assertThrows(ExecutionException.class, () -> waiter.get(1, TimeUnit.MINUTES));
        assertTrue(e.getCause() instanceof ResultTooLargeException, e.toString());
        assertThrows(ResultTooLargeException.class, () -> m.admit(3, 3), "it would wait: refused at once");
        admitted(m, 2).close();
        holder.close();
        assertEquals(0, m.held());
    }

    @Test
    void aGrantAdmittedButNeverTakenIsLetGoByTheThreadsNextAdmission() throws Exception {
        ResultMemory m = new ResultMemory(10, Duration.ofMillis(50));
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

    private static CompletableFuture<ResultMemory.Grant> admitLater(ResultMemory m, long weight) {
        CompletableFuture<ResultMemory.Grant> f = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try {
                f.complete(admitted(m, weight));
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /** Until {@code n} results wait (bounded: a minute). */
    private static void awaitWaiting(ResultMemory m, int n) throws InterruptedException, TimeoutException, ExecutionException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (m.waiting() < n) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(n + " waiting results expected, " + m.waiting() + " after a minute");
            }
            Thread.sleep(5);
        }
    }
}
