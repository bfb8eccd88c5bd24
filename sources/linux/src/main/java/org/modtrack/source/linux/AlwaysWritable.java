package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.modtrack.engine.FileId;
import org.modtrack.source.linux.SyscallBarrier.WritableFd;
import org.modtrack.source.linux.rules.CarryRule;

/**
 * Files that stay writable without any system call a barrier could wait for, so every checkpoint
 * carries them into the new period whatever the barrier: files mapped shared and possibly writable
 * (stores through a mapping raise no event), and files opened for writing before the filesystem
 * mark ({@link PreOpenedWriters}).
 *
 * <p>With directory records or opens alone, also every file open for writing, as
 * {@link CarryRule#everyOpenWriter} decides (for the source and the simulator's model alike). Why,
 * with directory records: a child of a recorded directory raises no permission event, so nothing
 * records its {@code mmap}; a store through a mapping that is gone by the checkpoint while the
 * descriptor stays open raises no event either ({@code FAN_CLOSE_WRITE} comes only with the last
 * close, maybe never). Found by the simulator's directory-records model (docs/simulation.md). The
 * price: a file held open for writing (a log, a database) is named in every result, as a
 * pre-opened one is.
 */
final class AlwaysWritable {
    private final TrackedFiles tracked;
    private final SyscallBarrier.SystemView system;
    private final SyscallBarrier.Identifier identifier;
    private final boolean everyOpenWriter;
    /**
     * Found once the filesystem mark is in place (a file opened after it raises its own events), so
     * after the barriers that use this exist; null until then.
     */
    private volatile PreOpenedWriters preOpened;

    /** @param everyOpenWriter whether every file open for writing is carried too ({@link CarryRule#everyOpenWriter}) */
    AlwaysWritable(TrackedFiles tracked, SyscallBarrier.SystemView system, SyscallBarrier.Identifier identifier,
                   boolean everyOpenWriter) {
        this.tracked = tracked;
        this.everyOpenWriter = everyOpenWriter;
        this.system = system;
        this.identifier = identifier;
    }

    /** From now on, also carries {@code writers} for as long as they stay open; once only. */
    void carryPreOpened(PreOpenedWriters writers) {
        if (preOpened != null) {
            throw new IllegalStateException("the files opened for writing before the mark are scanned once");
        }
        preOpened = writers;
    }

    /** Adds the always-writable files of processes {@code pids} (and every pre-opened file) to {@code carry}. */
    void addTo(Map<String, FileId> carry, Collection<Integer> pids) {
        TrackedFiles look = tracked.forOneLook();
        for (int pid : pids) {
            for (Path mapped : system.writableSharedMappings(pid, look)) {
                addIdentified(carry, mapped);
            }
            if (everyOpenWriter) {
                for (WritableFd fd : system.writableFds(pid, look)) {
                    addWritable(carry, pid, fd);
                }
            }
        }
        PreOpenedWriters writers = preOpened;
        for (Path link : writers == null ? List.<Path>of() : writers.stillOpen()) {
            addIdentified(carry, link);
        }
    }

    /** Every process's always-writable files. */
    Map<String, FileId> all() throws IOException {
        Map<String, FileId> carry = new LinkedHashMap<>();
        Set<Integer> pids = new LinkedHashSet<>();
        for (long[] t : system.threads()) {
            pids.add((int) t[0]);
        }
        addTo(carry, pids);
        return carry;
    }

    /**
     * Adds the file behind {@code fd} of {@code tid} if the number still leads to the file it did
     * when listed, open for writing, once it is identified. Why after: a writer that closes a
     * written file and opens one to read gets the same number back, and the file read would be
     * carried (and named as modified) in its place; the file listed was closed, so its write
     * ended, and a file opened since raises events of its own.
     */
    void addWritable(Map<String, FileId> carry, int tid, WritableFd fd) {
        FileId id;
        try {
            id = identifier.identify(Path.of("/proc/" + tid + "/fd/" + fd.fd()));
        } catch (IOException e) {
            return; // closed since: that write has ended
        }
        if (fd.equals(system.writableFd(tid, fd.fd()))) {
            carry.putIfAbsent(id.toString(), id);
        }
    }

    /** Adds the file behind {@code link} (a mapping under /proc); one that vanished meanwhile needs no carrying. */
    void addIdentified(Map<String, FileId> carry, Path link) {
        try {
            FileId id = identifier.identify(link);
            carry.putIfAbsent(id.toString(), id);
        } catch (IOException e) {
            // The fd was closed or the mapping removed since: that write has ended (with directory
            // records, the last close queued FAN_CLOSE_WRITE, which the query drains after this).
        }
    }
}
