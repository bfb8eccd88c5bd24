package org.modtrack.benchmarks;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.modtrack.posix.Posix;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * The floor under {@link PreWriteBenchmark}: the bare system calls a journal record costs, with no
 * tracker around them, on the same filesystem. {@link #pwrite} is what one record costs the kernel
 * in process mode; {@link #pwriteFdatasync} is one writer's fdatasync round trip in power mode.
 * Comparing them with the tracker's numbers says how much of its time is the kernel's.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
// FFM downcalls need native access in the forked JVM too.
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Threads(1)
public class JournalFloorBenchmark {
    /** About the size of a PreWriteBenchmark record (8-byte frame, 8-byte header, a ~20-byte path). */
    static final int RECORD_BYTES = 40;
    /** Room for any iteration's records at the offsets a process-mode snapshot would use. */
    static final long SPARSE_BYTES = 1L << 30;
    /** A power-mode snapshot's initial, preallocated size (TrackerConfig's default). */
    static final long PREALLOCATED_BYTES = 1L << 20;

    /** One file per trial, laid out the way the journal lays out a snapshot in each mode. */
    @State(Scope.Thread)
    public static class JournalFile {
        /** Where the file goes; {@value PreWriteBenchmark#TMPDIR} means java.io.tmpdir (as in PreWriteBenchmark). */
        @Param({PreWriteBenchmark.TMPDIR})
        public String dir;

        private Path path;
        private int fd;
        private MemorySegment record;
        private long offset;

        /** Creates the file and a record's worth of bytes to write. */
        @Setup(Level.Trial)
        public void open() throws IOException {
            Path parent = Path.of(PreWriteBenchmark.TMPDIR.equals(dir) ? System.getProperty("java.io.tmpdir") : dir);
            path = Files.createTempFile(parent, "modtrack-floor-", ".bin");
            fd = Posix.open(path.toString(), Posix.O_RDWR | Posix.O_CLOEXEC, 0);
            record = Arena.ofAuto().allocate(RECORD_BYTES);
            record.fill((byte) 'x');
        }

        /**
         * Starts each iteration on a new file's worth of space, as the tracker starts each period
         * on a new snapshot: sparse (truncated to size, as in process mode) for {@link #pwrite},
         * preallocated with zeros and synced (as in power mode) for {@link #pwriteFdatasync}.
         */
        @Setup(Level.Iteration)
        public void fresh(BenchmarkParams params) throws IOException {
            Posix.ftruncate(fd, 0, path.toString());
            if (params.getBenchmark().endsWith("pwriteFdatasync")) {
                MemorySegment zeros = Arena.ofAuto().allocate(PREALLOCATED_BYTES);
                Posix.pwriteFully(fd, zeros, 0, path.toString());
                Posix.fdatasync(fd, path.toString());
            } else {
                Posix.ftruncate(fd, SPARSE_BYTES, path.toString());
            }
            offset = 0;
        }

        /** Closes and deletes the file. */
        @TearDown(Level.Trial)
        public void close() throws IOException {
            Posix.close(fd, path.toString());
            Files.delete(path);
        }
    }

    /** One record handed to the kernel (the process-mode floor): pwrite at the next offset. */
    @Benchmark
    public long pwrite(JournalFile f) throws IOException {
        Posix.pwriteFully(f.fd, f.record, f.offset, "floor");
        f.offset = (f.offset + RECORD_BYTES) % SPARSE_BYTES;
        return f.offset;
    }

    /**
     * One record made durable by one writer alone (the power-mode floor): pwrite into the
     * preallocated space, then fdatasync. Its inverse is the fdatasync latency.
     */
    @Benchmark
    public long pwriteFdatasync(JournalFile f) throws IOException {
        Posix.pwriteFully(f.fd, f.record, f.offset, "floor");
        Posix.fdatasync(f.fd, "floor");
        f.offset = (f.offset + RECORD_BYTES) % PREALLOCATED_BYTES;
        return f.offset;
    }
}
