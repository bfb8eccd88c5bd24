package org.modtrack.source.linux;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.modtrack.engine.FileId;
import org.modtrack.engine.WriteBarrier;
import org.modtrack.posix.Posix;
import org.modtrack.posix.PosixException;

/**
 * The {@code freeze} barrier: {@code FIFREEZE}, then {@code FITHAW}. The design discussion's
 * "exclusive sb_writers" baseline (docs/correctness.md): always correct, because the freeze returns only once every write in
 * progress on the file system has finished (and its dirty data is written), but every writer waits
 * meanwhile, for as long as the longest write in flight takes.
 *
 * <p>A pre-content event is raised before the write takes the file system's write reference, so a
 * writer blocked on our answer does not hold up the freeze (and the answer does not need the
 * frozen file system: the journal is elsewhere). Files that stay writable without a system call
 * (shared mappings, files opened before the mark) are still carried: stores after the thaw raise
 * no event.
 *
 * <p>Hazard: a tracker killed between freeze and thaw leaves the file system frozen until someone
 * runs {@code fsfreeze -u}; the freeze lasts only while the checkpoint scans for mappings.
 */
final class FreezeBarrier implements WriteBarrier, SyscallBarrier.Fallback {
    private final TrackedFilesystem fs;
    private final SyscallBarrier.IgnoreMarks marks;
    private final AlwaysWritable alwaysWritable;

    FreezeBarrier(TrackedFilesystem fs, SyscallBarrier.IgnoreMarks marks, AlwaysWritable alwaysWritable) {
        this.fs = fs;
        this.marks = marks;
        this.alwaysWritable = alwaysWritable;
    }

    @Override
    public String name() {
        return "freeze";
    }

    @Override
    public Wait begin(long closingSnapshot) throws IOException {
        marks.flush();
        Posix.ioctl(fs.mountFd(), Posix.FIFREEZE, 0);
        return new FrozenWait(null);
    }

    /** Freezes on behalf of another barrier that cannot wait for some writes, saying why in the result. */
    @Override
    public Wait beginAsFallback(String why) throws IOException {
        Posix.ioctl(fs.mountFd(), Posix.FIFREEZE, 0);
        return new FrozenWait("freeze (fallback: " + why + ")");
    }

    /** The frozen file system: every write in progress has ended; the thaw comes at {@link #close}. */
    private final class FrozenWait implements Wait {
        private final String used;
        private boolean thawed;

        FrozenWait(String used) {
            this.used = used;
        }

        @Override
        public boolean isDone() {
            return true;
        }

        @Override
        public void awaitProgress(long maxNanos) {}

        @Override
        public List<FileId> filesToCarry() throws IOException {
            return new ArrayList<>(alwaysWritable.all().values());
        }

        @Override
        public String usedBarrier() {
            return used;
        }

        @Override
        public synchronized void close() throws PosixException {
            if (!thawed) {
                thawed = true;
                Posix.ioctl(fs.mountFd(), Posix.FITHAW, 0);
            }
        }
    }
}
