package org.modtrack.source.linux;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Numbered pieces of a result's work, done by the query's thread and, where there is more than one
 * CPU, by {@link #HELPERS} more at the same nice value ({@link ThreadNice#CHECKPOINT}): the time of a
 * large result is system calls per object ({@code statx}, {@code open_by_handle_at}), which a
 * second CPU halves. Every piece is done, whatever thread takes it; the first failure stops the
 * others taking more and is thrown once every thread has stopped.
 */
final class SharedWork {
    /** One piece of the work. */
    interface Piece {
        void run(int index) throws IOException;
    }

    /** One piece of the work, given what the thread doing it keeps from one piece to the next. */
    interface PieceWith<S> {
        void run(S kept, int index) throws IOException;
    }

    /** What one element of a list becomes. */
    interface Mapping<A, B> {
        B apply(A element) throws IOException;
    }

    /** Threads beside the query's own: one, for a machine of two CPUs whose other work is the writers'. */
    static final int HELPERS = 1;
    private static final ThreadFactory THREADS = ThreadNice.daemonThreads("modtrack-result", ThreadNice.CHECKPOINT);

    private SharedWork() {}

    /** {@code f} of each element of {@code in}, in their order, shared out as {@link #run} shares them. */
    static <A, B> List<B> map(List<A> in, int batch, Mapping<A, B> f) throws IOException, InterruptedException {
        Object[] out = new Object[in.size()];
        run(in.size(), batch, i -> out[i] = f.apply(in.get(i)));
        @SuppressWarnings("unchecked") // every element was put by f, a B
        List<B> mapped = (List<B>) (List<?>) Arrays.asList(out);
        return mapped;
    }

    /**
     * Runs {@code piece} for each index below {@code count}, {@code batch} indices at a time (a
     * thread takes the next batch when it is done with its own); helpers are started only when there
     * is more than one batch.
     */
    static void run(int count, int batch, Piece piece) throws IOException, InterruptedException {
        run(count, batch, () -> null, (kept, i) -> piece.run(i));
    }

    /**
     * As {@link #run(int, int, Piece)}, each thread first making its own {@code S} with
     * {@code keep} and handing it to every piece it does: scratch space reused from one piece to
     * the next rather than made for each, and dropped when the work is done.
     */
    static <S> void run(int count, int batch, Supplier<S> keep, PieceWith<S> piece) throws IOException, InterruptedException {
        assert batch > 0 : batch;
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Runnable work = () -> {
            try {
                S kept = keep.get();
                for (int from = next.getAndAdd(batch); from < count && failed.get() == null; from = next.getAndAdd(batch)) {
                    for (int i = from, to = Math.min(count, from + batch); i < to; i++) {
                        piece.run(kept, i);
                    }
                }
            } catch (IOException | RuntimeException | Error e) {
                failed.compareAndSet(null, e);
            }
        };
        int helpers = count > batch ? Math.min(HELPERS, Runtime.getRuntime().availableProcessors() - 1) : 0;
        List<Thread> started = new ArrayList<>(helpers);
        for (int h = 0; h < helpers; h++) {
            Thread t = THREADS.newThread(work);
            t.start();
            started.add(t);
        }
        work.run();
        for (Thread t : started) {
            while (true) {
                try {
                    t.join(); // it stops after the batch it is in: each piece is bounded by its caller
                    break;
                } catch (InterruptedException e) {
                    failed.compareAndSet(null, e); // the helpers take no further batch
                }
            }
        }
        switch (failed.get()) {
            case null -> { }
            case InterruptedException e -> throw e;
            case IOException e -> throw e;
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            default -> throw new AssertionError(failed.get());
        }
    }
}
