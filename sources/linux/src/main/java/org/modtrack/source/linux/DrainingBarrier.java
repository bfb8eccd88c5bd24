package org.modtrack.source.linux;

import java.io.IOException;
import java.util.List;
import org.modtrack.engine.FileId;
import org.modtrack.engine.WriteBarrier;

/**
 * The Linux source's barrier around the configured one ({@code srcu} or {@code freeze}). Before it
 * begins (the new period has started, the marks are not flushed yet), it records ahead what the
 * new period will need first ({@link BeforeFlush}: the directories busy in the closing period), so
 * that their first accesses after the flush find them recorded and wait for no sync. After its
 * wait, once the writes it waited for have left their calls, it waits until their notification
 * events are recorded. Why: with directory records a child's write is named only by
 * its {@code FAN_MODIFY}, which the kernel queues when the write call ends; a result built between
 * the end of the barrier and the reading of that event would leave out a write that completed
 * before the checkpoint (it would come one result late). The same holds for a creation, deletion
 * or rename made just before the checkpoint, and for a queue overflow that must turn the result
 * into "continuity lost".
 */
final class DrainingBarrier implements WriteBarrier {

    /** What runs after the inner barrier's wait is over, before the result is built. */
    @FunctionalInterface
    interface AfterWait {
        /** Records what is queued; marks continuity lost itself if it cannot. */
        void drain() throws IOException, InterruptedException;
    }

    /** What runs after the new period began and before the inner barrier flushes the marks. */
    @FunctionalInterface
    interface BeforeFlush {
        /** Best effort: a failure only means the accesses record themselves, as without it. */
        void prepare(long closingSnapshot);
    }

    private final WriteBarrier inner;
    // Both set once, after the tracker this barrier is given to exists, and before any query.
    private volatile AfterWait afterWait; // once the notification reader exists
    private volatile BeforeFlush beforeFlush; // with directory records; null: nothing to record ahead

    DrainingBarrier(WriteBarrier inner) {
        this.inner = inner;
    }

    void drainWith(AfterWait drain) {
        if (afterWait != null) {
            throw new IllegalStateException("the barrier's drain is set once");
        }
        this.afterWait = drain;
    }

    void prepareWith(BeforeFlush prepare) {
        if (beforeFlush != null) {
            throw new IllegalStateException("what the barrier records ahead is set once");
        }
        this.beforeFlush = prepare;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public Wait begin(long closingSnapshot) throws IOException {
        BeforeFlush prepare = beforeFlush;
        if (prepare != null) {
            prepare.prepare(closingSnapshot);
        }
        Wait wait = inner.begin(closingSnapshot);
        AfterWait drain = afterWait;
        if (drain == null) {
            throw new IllegalStateException("a checkpoint began before the notification reader was started");
        }
        return new DrainingWait(wait, drain);
    }

    private record DrainingWait(Wait inner, AfterWait drain) implements Wait {
        @Override
        public boolean isDone() throws IOException {
            return inner.isDone();
        }

        @Override
        public void awaitProgress(long maxNanos) throws InterruptedException, IOException {
            inner.awaitProgress(maxNanos);
        }

        @Override
        public List<FileId> filesToCarry() throws IOException {
            return inner.filesToCarry();
        }

        @Override
        public String usedBarrier() {
            return inner.usedBarrier();
        }

        /** Ends the inner wait first (a freeze thaws), then drains: a frozen writer queues nothing. */
        @Override
        public void close() throws IOException {
            inner.close();
            try {
                drain.drain();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while recording the notification events queued before the checkpoint", e);
            }
        }
    }
}
