package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.FileId;
import org.modtrack.posix.DirectoryReader;
import org.modtrack.posix.Errno;
import org.modtrack.posix.FileHandles;
import org.modtrack.posix.PosixException;
import org.modtrack.posix.Statx;
import org.modtrack.source.linux.rules.RebootRule;
import org.modtrack.source.linux.rules.WalkRule;

/**
 * Names the files changed below the directories that the notification reader recorded instead of
 * them ({@link LinuxSourceOptions.Naming#SCAN}): when a result is made, each such directory's
 * entries are listed and stat'ed, and every one that is not a directory and whose ctime is at or
 * after the watermark (the consumer's last blessed result's checkpoint time less a margin,
 * {@link Reconciliation#marginNanos}, {@link CheckpointTimes}; "at or after" is
 * {@link WalkRule#changedSince}) is named: as written, or as created if it was born at or after
 * the watermark too.
 *
 * <p>Why that names every change the events would have: the reader records a directory (a record
 * in the open period) before it mutes it, and only for the rest of that period (the epoch
 * rule), so every child change the mute silenced happened in a period this result holds, after the
 * consumer's last blessed checkpoint began; the kernel stamped that child's ctime then, from a
 * clock at most a tick behind the one the watermark was read from (the reasoning of
 * {@link Reconciliation}, within one boot and with the wall clock not set back, which
 * {@link CheckpointTimes#since} checks). A write's ctime is set before it returns, and the result
 * is made after the checkpoint's barrier waited for the writes in flight. Deletions, renames and
 * subdirectories stay events (the mute leaves them, {@link NotificationListener#SCANNED_MASK}).
 *
 * <p>Without a watermark it can trust, each recorded directory is rescanned instead. A scan reads at
 * most {@link #MAX_ENTRIES} entries per result; the directories past that are rescanned too.
 */
final class DirectoryScan {
    private static final Logger LOG = Logger.getLogger(DirectoryScan.class.getName());
    /**
     * A directory larger than this (its {@code st_size}: about 8,000 to 16,000 entries on ext4, whose
     * entries take 16 to 32 bytes) keeps an event per changed child instead of being muted and
     * scanned: a scan of every entry of a directory in which one file changed would cost a result
     * more than the events cost its writers.
     */
    static final long LINE_BYTES = 256 * 1024;
    /** The most entries one result's scans read (a few seconds of {@code statx}); past it, rescans. */
    static final long MAX_ENTRIES = 4_000_000;
    private static final int MASK = Statx.STATX_TYPE | Statx.STATX_CTIME | Statx.STATX_BTIME | Statx.STATX_NLINK
            | Statx.STATX_INO | Statx.STATX_SUBVOL;

    private final TrackedFilesystem fs;
    private final String watched;
    private final OptionalLong watermarkNanos;
    private final boolean acrossReboot;
    private final String whyNoWatermark;
    private final boolean keepListings;
    private final long checkpointBeganNanos;
    private final BornListings.Round listings;

    /**
     * @param watermarkNanos the wall-clock time from which a change is named; empty if none can be
     *     trusted ({@code whyNoWatermark} says why): every recorded directory is then rescanned
     * @param acrossReboot whether the watermark was taken in an earlier boot: a directory scope
     *     recorded before this run (a pre-content record, made before its children's writes went
     *     on) is then scanned too, and names every entry, whatever its ctime
     *     ({@link RebootRule#scanFiltersByCtime})
     * @param keepListings whether a walk's records are in the result ({@link Reconciler}): a
     *     directory it recorded must stay a {@code list} entry, since deletions it did not see are
     *     found only by comparing names
     * @param checkpointBeganNanos the wall-clock time read just before this result's checkpoint
     *     began: where the names that left a directory since cannot be told, a directory whose
     *     entries changed since (its ctime) stays a listing too
     */
    DirectoryScan(TrackedFilesystem fs, Path watched, OptionalLong watermarkNanos, boolean acrossReboot,
                  String whyNoWatermark, boolean keepListings, long checkpointBeganNanos) {
        this(fs, watched, watermarkNanos, acrossReboot, whyNoWatermark, keepListings, checkpointBeganNanos,
                BornListings.Round.NONE);
    }

    /**
     * Like the constructor above; {@code listings}: the listings of directories born since the
     * watermark that the last result kept, which this one's scans take instead of listing such a
     * directory again where none of its entries changed since, and keep for the next
     * ({@link BornListings}).
     */
    DirectoryScan(TrackedFilesystem fs, Path watched, OptionalLong watermarkNanos, boolean acrossReboot,
                  String whyNoWatermark, boolean keepListings, long checkpointBeganNanos, BornListings.Round listings) {
        this.listings = listings;
        this.checkpointBeganNanos = checkpointBeganNanos;
        this.acrossReboot = acrossReboot;
        this.fs = fs;
        this.watched = watched.toString();
        this.watermarkNanos = watermarkNanos;
        this.whyNoWatermark = whyNoWatermark;
        this.keepListings = keepListings;
    }

    /**
     * What a scan made of a result's records: the records, where each is now, the directories to
     * rescan, the paths where a file changed in the result's periods is no more (removed or renamed
     * away after the records were frozen), the other names the scan found of a file it names
     * (hard links), each to be read as it stands, and the files it names that only their paths
     * identify (not among {@code files}), and how many entries the scans stat'ed (an entry of a
     * directory born since the watermark needs no stat of its own).
     */
    record Expanded(List<ChangedFile> files, List<Namespace.Where> now, List<String> rescans, List<String> removals,
                    List<Namespace.Where> otherNames, ScanNamedFiles scanNamed, long entriesStatted) {
        /** The same, with the files only their paths identify among {@code files} as records. */
        Expanded withScanNamedAsRecords() {
            if (scanNamed.isEmpty()) {
                return this;
            }
            List<ChangedFile> f = new ArrayList<>(files);
            List<Namespace.Where> w = new ArrayList<>(now);
            scanNamed.addTo(f, w);
            return new Expanded(f, w, rescans, removals, otherNames, ScanNamedFiles.NONE, entriesStatted);
        }
    }

    /**
     * Where the names that left each directory since the result's checkpoint began are asked for,
     * once every scan has listed its directory: it records the notification events queued by then
     * first, so that a name missing from a listing because it left is among them. Null if they
     * cannot all be told (the events not recorded in time, or forgotten).
     */
    interface DepartureLog {
        Map<FileId, List<String>> departedSinceCheckpoint() throws IOException, InterruptedException;
    }

    /**
     * Which objects of {@code files} are gone for good ({@code now}: where each is): their handles
     * are freed (a path alone proves nothing). Asked once: each question reads a record a million
     * others have pushed out of the caches.
     */
    private static BitSet goneByHandle(List<ChangedFile> files, List<Namespace.Where> now) {
        BitSet gone = new BitSet(files.size());
        for (int i = 0; i < files.size(); i++) {
            if (now.get(i).gone() && files.get(i).file().hasHandle()) {
                gone.set(i);
            }
        }
        return gone;
    }

    /**
     * Replaces each recorded directory of {@code files} ({@code now}: where each is, as
     * {@link Namespace#locate} found it) by the files the scan names, merged into the records of
     * the same files, and keeps the directory's own other changes.
     */
    Expanded expand(List<ChangedFile> files, List<Namespace.Where> now, DepartureLog departures)
            throws IOException, InterruptedException {
        return expand(files, now, departures, Set.of());
    }

    /**
     * Like {@link #expand(List, List, DepartureLog)}; {@code alsoKnown}: objects the caller keeps
     * something about besides {@code files} (where the last result put them), which a file the scan
     * names must be recognized as.
     */
    Expanded expand(List<ChangedFile> files, List<Namespace.Where> now, DepartureLog departures, Set<FileId> alsoKnown)
            throws IOException, InterruptedException {
        List<Integer> recorded = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            if (scannable(files.get(i), now.get(i))) {
                recorded.add(i);
            }
        }
        if (recorded.isEmpty()) {
            return new Expanded(files, now, List.of(), List.of(), List.of(), ScanNamedFiles.NONE, 0);
        }
        if (watermarkNanos.isEmpty()) {
            LOG.warning(() -> "the files changed below " + recorded.size() + " recorded directories of " + watched
                    + " cannot be named by ctime (" + whyNoWatermark + "): each is rescanned");
        }
        List<String> rescans = new ArrayList<>();
        Scanned[] scanned = new Scanned[files.size()];
        BitSet gone = goneByHandle(files, now);
        if (watermarkNanos.isEmpty()) {
            for (int i : recorded) {
                rescans.add(now.get(i).path());
            }
        } else {
            scanAll(recorded, files, now, watermarkNanos.getAsLong(), Identities.of(files, gone, alsoKnown), scanned);
            for (int i : recorded) {
                Scanned s = scanned[i];
                if (!s.vanished && s.cut) {
                    rescans.add(s.path); // what it did name stays named; the rest is read whole
                }
            }
        }
        Map<FileId, List<String>> departed = departures.departedSinceCheckpoint();
        // A name a recorded rename took away is the record's to move or remove: the departures go back
        // to before the closing period's last events were read, and its own rename is often among them.
        Set<String> renamedAway = departed == null || departed.isEmpty() ? Set.of() : renamedAway(files);

        List<ChangedFile> outFiles = new ArrayList<>(files);
        List<Namespace.Where> outNow = new ArrayList<>(now);
        List<String> removals = new ArrayList<>();
        List<Namespace.Where> otherNames = new ArrayList<>();
        List<ScanNamedFiles.Directory> scanNamed = new ArrayList<>();
        int scannedByHandle = 0;
        long statted = 0;
        for (Scanned s : scanned) {
            statted += s == null ? 0 : s.statted;
            for (int k = 0; s != null && k < s.files.size(); k++) {
                scannedByHandle += s.files.get(k).file().hasHandle() ? 1 : 0;
            }
        }
        // Sized for the scans' files known by handle too: a million-file result otherwise spends its
        // time growing it. A file known by its path (Identities) is no other object: it needs no place.
        // Nor does a gone one: no listing holds it (a million removals made this map for nothing).
        Map<FileId, Integer> index = HashMap.newHashMap(files.size() - gone.cardinality() + scannedByHandle);
        for (int i = gone.nextClearBit(0); i < files.size(); i = gone.nextClearBit(i + 1)) {
            index.putIfAbsent(files.get(i).file(), i);
        }
        boolean[] drop = new boolean[files.size()];
        for (int i : recorded) {
            ChangedFile dir = files.get(i);
            Scanned s = scanned[i];
            if (s != null && s.vanished) {
                // Removed or moved since it was located: it stays a listing, which the consumer finds
                // gone (its removal or rename is the next result's event).
                continue;
            }
            boolean listing = keepListings;
            if (s != null) {
                for (int k = 0; k < s.files.size(); k++) {
                    ChangedFile f = s.files.get(k);
                    Integer at = f.file().hasHandle() ? index.get(f.file()) : null;
                    if (at == null) {
                        if (f.file().hasHandle()) {
                            index.put(f.file(), outFiles.size());
                        }
                        outFiles.add(f);
                        outNow.add(s.where.get(k));
                        continue;
                    }
                    // Recorded already (renamed, made, removed at another name), or another name of a
                    // file this scan named: written too, and read at this name as well (it may be new
                    // to the consumer: a link made since, which only its muted directory's event told).
                    ChangedFile before = outFiles.get(at);
                    Set<Change> changes = EnumSet.copyOf(before.changes());
                    changes.add(Change.WRITTEN);
                    outFiles.set(at, before.withChanges(changes));
                    if (!s.where.get(k).path().equals(outNow.get(at).path())) {
                        otherNames.add(s.where.get(k));
                    }
                }
                scanNamed.add(new ScanNamedFiles.Directory(s.path, dir.recovered(), s.born, s.written));
                if (departed == null) {
                    // Which names left since the checkpoint is not known: if any did (the directory's
                    // ctime says so), the consumer compares its names.
                    listing |= s.entriesChangedSinceCheckpoint;
                } else {
                    for (String name : departed.getOrDefault(dir.file(), List.of())) {
                        String path = s.path.endsWith("/") ? s.path + name : s.path + "/" + name;
                        if (!s.listed(name) && !renamedAway.contains(path)) {
                            removals.add(path);
                        }
                    }
                }
                if (LOG.isLoggable(Level.FINE)) {
                    // Where a test finds a change no result named: when the directory was read, and what it named.
                    Scanned listed = s;
                    LOG.fine(() -> "scanned " + listed.path + " [" + listed.listedFrom + ".." + listed.listedTo + "]"
                            + (listed.reused ? " (its listing kept from the last result)" : "") + ": born "
                            + listed.born.size() + ", written " + listed.written.size() + ", by record " + listed.files.size()
                            + ", departed " + (departed == null ? "unknown" : departed.getOrDefault(dir.file(), List.of())));
                }
            }
            if (!listing) {
                Set<Change> rest = EnumSet.copyOf(dir.changes());
                rest.remove(Change.WRITTEN);
                if (rest.isEmpty()) {
                    drop[i] = true;
                } else {
                    outFiles.set(i, outFiles.get(i).withChanges(rest));
                }
            }
        }
        // Compacted in place: a copy of a million-entry list for the few records dropped is garbage.
        int kept = 0;
        for (int i = 0; i < outFiles.size(); i++) {
            if (i >= files.size() || !drop[i]) {
                outFiles.set(kept, outFiles.get(i));
                outNow.set(kept, outNow.get(i));
                kept++;
            }
        }
        outFiles.subList(kept, outFiles.size()).clear();
        outNow.subList(kept, outNow.size()).clear();
        return new Expanded(outFiles, outNow, rescans, removals, otherNames, new ScanNamedFiles(scanNamed), statted);
    }

    /** Every name the records of {@code files} were renamed away from: each record moves or removes it. */
    private static Set<String> renamedAway(List<ChangedFile> files) {
        Set<String> names = new HashSet<>();
        for (ChangedFile c : files) {
            if (c.renamedFrom() != null) {
                names.add(c.renamedFrom());
                names.addAll(c.formerNames());
            }
        }
        return names;
    }

    /**
     * A directory the notification reader recorded for its children (or, across a reboot, a
     * directory scope recorded before this run), alive and named below the watched one.
     */
    private boolean scannable(ChangedFile c, Namespace.Where w) {
        return c.directory() && (c.changes().contains(Change.WRITTEN) || readWhole(c)) && !w.gone() && !w.nameless()
                && w.directory() && ResultPlanner.isAtOrBelow(w.path(), watched);
    }

    /**
     * Whether every entry of {@code c} is named: a directory scope recorded before this run, its
     * watermark from an earlier boot. Its children's writes went on after that durable record,
     * and an overwrite in place may have reached the disk without its new ctime.
     */
    private boolean readWhole(ChangedFile c) {
        return !RebootRule.scanFiltersByCtime(acrossReboot && c.recovered() && c.changes().contains(Change.SCOPE));
    }

    private static final class Scanned {
        final String path;
        /** The changed files it names that need a record: another object may be one of them. */
        final List<ChangedFile> files = new ArrayList<>();
        final List<Namespace.Where> where = new ArrayList<>();
        /** The changed files only their paths identify ({@link ScanNamedFiles}), born at or after the watermark or not. */
        NameList born = NameList.EMPTY;
        NameList written = NameList.EMPTY;
        /** Every other name the listing found: a departed name found again came back. */
        NameList others = NameList.EMPTY;
        boolean cut;
        boolean vanished;
        /** Its names are a listing the last result kept ({@link BornListings}): it was not listed again. */
        boolean reused;
        /** How many of {@link #others} are not directories. */
        int otherFiles;
        long statted;
        boolean entriesChangedSinceCheckpoint;
        /** When its listing began and ended ({@link System#nanoTime}), for the log at FINE. */
        long listedFrom;
        long listedTo;

        Scanned(String path) {
            this.path = path;
        }

        /** Whether the listing found {@code name} (among the changed files or not). */
        boolean listed(String name) {
            return born.contains(name) || written.contains(name) || others.contains(name);
        }
    }

    /**
     * Scans the directories {@code recorded} indexes into {@code scanned}, shared between this
     * thread and another where there are CPUs for it ({@link SharedWork}): a scan's time is
     * {@code statx} and {@code name_to_handle_at} per entry, which a second CPU halves.
     */
    private void scanAll(List<Integer> recorded, List<ChangedFile> files, List<Namespace.Where> now, long watermark,
                         Identities known, Scanned[] scanned) throws IOException, InterruptedException {
        Budget budget = new Budget(MAX_ENTRIES);
        SharedWork.run(recorded.size(), 1, Lists::new, (lists, k) -> {
            int i = recorded.get(k);
            scanned[i] = scan(now.get(i).path(), files.get(i), watermark, known, budget, lists);
        });
    }

    /**
     * The inode numbers of the objects a scanned file may be (the result's records, and what the
     * caller knows besides): a file whose number is none of them, with one link, named where its
     * directory was recorded, is an object nothing else in the result or the resolver's memory
     * names, so its path is identity enough ({@link FileId#ofPath}) and the scan asks for no handle
     * (a {@code name_to_handle_at} per entry: about 1.2 µs of the kernel's 2.7 µs per entry,
     * benchmarks/probes/scan-floor.c). A number may match an object that is gone (its number
     * reused): the handle is then asked for, and tells them apart. When a record's handle does not
     * say its inode number (an unknown layout, or no handle), every file gets its handle.
     *
     * <p>The numbers are kept in a table of primitive {@code long}s, not a {@code Set<Long>}: a scan
     * asks about every entry it lists, and each question boxed the entry's number. With this table
     * a million created files were answered in 0.447-0.504 s against 0.556-0.616 s (medians of two
     * runs each of benchmarks/peers/answer --files 1000000, alternating, with a second change then
     * made to the names' copies; docs/benchmarks.md).
     */
    static final class Identities {
        private final InodeSet inodes;
        private final boolean everyHandle;

        private Identities(InodeSet inodes, boolean everyHandle) {
            this.inodes = inodes;
            this.everyHandle = everyHandle;
        }

        /**
         * The identities of {@code files} that may be listed and of {@code alsoKnown}. Not of a file
         * {@code gone} by its handle: its inode is freed, so a listed entry with its number is another
         * object, which the handle would have told apart anyway.
         */
        static Identities of(List<ChangedFile> files, BitSet gone, Set<FileId> alsoKnown) {
            InodeSet inodes = new InodeSet(files.size() - gone.cardinality() + alsoKnown.size());
            boolean every = false;
            for (int i = gone.nextClearBit(0); i < files.size(); i = gone.nextClearBit(i + 1)) {
                every |= !add(files.get(i).file(), inodes);
            }
            for (FileId id : alsoKnown) {
                every |= !add(id, inodes);
            }
            return new Identities(inodes, every);
        }

        /** Adds the inode number {@code id}'s handle encodes; false if it encodes none that can be read. */
        private static boolean add(FileId id, InodeSet inodes) {
            long ino = id.hasHandle() ? FileHandles.inodeNumber(id.handleType(), id.handle()) : -1;
            if (ino < 0) {
                return false;
            }
            inodes.add(ino);
            return true;
        }

        /** Whether every file needs its handle: some record's handle says no inode number. */
        boolean everyHandle() {
            return everyHandle;
        }

        /** Whether a file found with these status fields needs its handle to be told from the known objects. */
        boolean needHandle(Statx st) {
            return st.nlink() != 1 || mayBe(st.ino());
        }

        /** Whether the file with inode number {@code ino} may be one of the known objects. */
        boolean mayBe(long ino) {
            return everyHandle || inodes.contains(ino);
        }
    }

    /**
     * A set of inode numbers (each at least 0), filled once and then only read, by any number of
     * threads: open addressing with linear probing, at most half full, -1 marking a free slot.
     */
    static final class InodeSet {
        private static final long FREE = -1;
        private final long[] slots;
        private final int mask;
        private final int shift;
        private final int most;
        private int size;

        /** Room for {@code expected} numbers; the table never grows, so more are refused. */
        InodeSet(int expected) {
            if (expected < 0 || expected > 1 << 28) {
                throw new IllegalArgumentException("an inode set of " + expected + " numbers: at most 2^28");
            }
            int capacity = Integer.highestOneBit(Math.max(1, expected)) << 2; // a power of two, more than twice
            slots = new long[capacity];
            Arrays.fill(slots, FREE);
            mask = capacity - 1;
            shift = 64 - Integer.numberOfTrailingZeros(capacity);
            most = expected;
        }

        /** @throws IllegalStateException past the numbers it was made for (its probes end at a free slot) */
        void add(long ino) {
            if (ino < 0) {
                throw new IllegalArgumentException("inode number " + ino);
            }
            for (int i = home(ino); ; i = (i + 1) & mask) {
                if (slots[i] == ino) {
                    return;
                }
                if (slots[i] == FREE) {
                    if (size == most) {
                        throw new IllegalStateException("an inode set made for " + most + " numbers is full");
                    }
                    slots[i] = ino;
                    size++;
                    return;
                }
            }
        }

        boolean contains(long ino) {
            for (int i = home(ino); ; i = (i + 1) & mask) {
                long at = slots[i];
                if (at == ino) {
                    return true;
                }
                if (at == FREE) {
                    return false; // at most half full: a free slot always ends the probe
                }
            }
        }

        private int home(long ino) {
            // Fibonacci hashing: inode numbers come in runs (a directory's files), which the
            // multiplication spreads over the table.
            return (int) ((ino * 0x9E3779B97F4A7C15L) >>> shift);
        }
    }

    /** The entries all of a result's scans may still read ({@link #MAX_ENTRIES}), taken in blocks by the scanning threads. */
    private static final class Budget {
        private static final long BLOCK = 1024;
        private final AtomicLong left;

        Budget(long entries) {
            left = new AtomicLong(entries);
        }

        /** Takes {@code n} entries if that many are left (all or none). */
        boolean takeAll(long n) {
            while (true) {
                long l = left.get();
                if (l < n) {
                    return false;
                }
                if (left.compareAndSet(l, l - n)) {
                    return true;
                }
            }
        }

        /** Up to {@link #BLOCK} more entries for the caller; 0 when none are left. */
        long take() {
            while (true) {
                long l = left.get();
                long n = Math.min(BLOCK, l);
                if (n == 0 || left.compareAndSet(l, l - n)) {
                    return n;
                }
            }
        }
    }

    /**
     * Whether a directory's open failed because nothing, or no directory, stands at its path any more
     * (removed or moved since it was located; a symbolic link put there is not followed).
     */
    static boolean vanishedDirectory(int errno) {
        return errno == Errno.ENOENT || errno == Errno.ENOTDIR || errno == Errno.ELOOP;
    }

    /**
     * One scanning thread's lists of names, emptied for each directory it scans. Why kept: made anew
     * for each directory, the lists and their sort's keys were most of what a million-file answer
     * allocated (65 KB a directory of a thousand names, as each grew from its first size), which
     * made the collector grow the heap while the answer was made.
     */
    private static final class Lists {
        final NameList.Builder born = new NameList.Builder();
        final NameList.Builder written = new NameList.Builder();
        final NameList.Builder others = new NameList.Builder();
        /** The inode numbers of the names {@link #born} took from the listing, in the listing's order. */
        long[] bornInodes = new long[256];
        int bornInodeCount;

        void clear() {
            born.clear();
            written.clear();
            others.clear();
            bornInodeCount = 0;
            if (bornInodes.length > NameList.Builder.KEPT_NAMES) {
                bornInodes = new long[256];
            }
        }

        void addBornInode(long ino) {
            if (bornInodeCount == bornInodes.length) {
                bornInodes = Arrays.copyOf(bornInodes, bornInodeCount * 2);
            }
            bornInodes[bornInodeCount++] = ino;
        }
    }

    /** The entries of {@code path} changed at or after {@code watermark}, reading at most what {@code budget} allows. */
    private Scanned scan(String path, ChangedFile dir, long watermark, Identities known, Budget budget, Lists lists)
            throws IOException {
        Scanned s = new Scanned(path);
        s.listedFrom = System.nanoTime();
        boolean whole = readWhole(dir);
        String recordedAt = dir.file().path(); // the directory's path in its record: a file's hint would be below it
        DirectoryReader opened;
        try {
            opened = DirectoryReader.open(path);
        } catch (PosixException e) {
            if (!vanishedDirectory(e.errno())) {
                throw e;
            }
            s.vanished = true;
            return s;
        }
        Statx self = null; // the directory's own status, where it may be born since the watermark
        boolean bornSince = false;
        BornListings.Listing kept = null;
        lists.clear();
        // A path holding U+FFFD names no file (a name that is not UTF-8 was decoded to it): such files
        // stay records, which the resolver has the consumer read from the nearest nameable directory.
        boolean nameablePath = path.indexOf(ResultResolver.UNNAMABLE) < 0;
        try (DirectoryReader list = opened) {
            boolean atRecordedName = recordedAt == null || recordedAt.equals(path);
            // A directory born at or after the watermark holds nothing the consumer has: each entry was
            // made, linked or moved there since, which set its ctime then, so the stat would name every
            // one that is not a directory. getdents64's type and inode number tell what else the stat
            // was for (a directory; an object the result knows), and the entry is named as made without
            // it: the directories of an unpack or a build cost their listing only, not a statx each
            // (most of a million-file answer's time, benchmarks/peers/answer). An entry removed since it
            // was listed is then named too, and found gone by the consumer (docs/protocol.md).
            if (!whole && atRecordedName && nameablePath && !known.everyHandle()) {
                self = list.statxDirectory(BornListings.MASK);
                bornSince = (self.mask() & Statx.STATX_BTIME) != 0 && WalkRule.changedSince(self.btimeNanos(), watermark);
            }
            if (bornSince) {
                // Its names as the last result listed them, if none of its entries changed since
                // (its ctime, read just now, says so) and none is an object this result knows.
                kept = listings.current(self, CheckpointTimes::offsetMillis);
                if (kept != null && (anyKnown(kept.inodes(), known)
                        || !budget.takeAll(kept.names().size() + kept.subdirectories().size()))) { // the entries a listing would read
                    kept = null;
                }
                s.reused = kept != null;
            }
            if (!s.reused) {
                readEntries(list, s, new EntryRules(dir, recordedAt, watermark, known, whole, atRecordedName, nameablePath,
                        bornSince), budget, lists);
            }
        }
        // A directory changed while it is read may list a name twice, and two entries at one path
        // would be one too many: each list has each name once, and a name born is not also written.
        s.listedTo = System.nanoTime();
        if (s.reused) {
            s.born = kept.names();
            s.others = kept.subdirectories();
        } else {
            s.born = lists.born.sorted(NameList.EMPTY);
            s.written = lists.written.sorted(s.born);
            s.others = lists.others.sorted(NameList.EMPTY);
        }
        // Whether an entry left since the checkpoint began, for when the departures cannot tell
        // which: read after the listing, so that every entry that left before it shows here.
        try {
            Statx after = Statx.statx(Statx.AT_FDCWD, path, Statx.AT_SYMLINK_NOFOLLOW, Statx.STATX_CTIME);
            s.entriesChangedSinceCheckpoint = WalkRule.changedSince(after.ctimeNanos(),
                    checkpointBeganNanos - Reconciliation.marginNanos(fs));
        } catch (PosixException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
            s.vanished = true; // removed or moved since its listing: it stays a listing, found gone
        }
        if (s.vanished) {
            return s;
        }
        if (s.reused) {
            listings.reuse(self, kept);
        } else if (bornSince && wholeBornListing(s, lists)) {
            listings.keep(self, s.born, s.others, Arrays.copyOf(lists.bornInodes, lists.bornInodeCount));
        }
        return s;
    }

    /** What reading one directory's entries needs to know of the directory and the result. */
    private record EntryRules(ChangedFile dir, String recordedAt, long watermark, Identities known, boolean whole,
                              boolean atRecordedName, boolean nameablePath, boolean bornSince) {
    }

    /**
     * Reads the listing's entries into {@code s} and {@code lists}, as many as {@code budget}
     * allows. A loop of its own, and an entry's stat a method of its own, so that the JIT compiles
     * the loop small and soon: inside {@link #scan}, with everything inlined, the C2 compilations of
     * that one method took 470 ms of CPU during a restarted daemon's first answer of a million files
     * (Java Flight Recorder's compilations; docs/benchmarks.md, *A restart*).
     */
    private void readEntries(DirectoryReader list, Scanned s, EntryRules rules, Budget budget, Lists lists)
            throws IOException {
        long allowed = 0;
        while (list.next()) {
            if (allowed == 0 && (allowed = budget.take()) == 0) {
                s.cut = true;
                return;
            }
            allowed--;
            if (!rules.bornSince() || !namedAsBorn(list, rules.known(), lists)) {
                statEntry(list, s, rules, lists);
            }
        }
    }

    /**
     * Whether the listing alone names the entry as made (its directory was born since the
     * watermark): it is no directory, no object the result knows, and its name is UTF-8 (one that is
     * not goes on to be a record).
     */
    private static boolean namedAsBorn(DirectoryReader list, Identities known, Lists lists) {
        int type = list.type();
        if (type == DirectoryReader.DT_UNKNOWN || type == DirectoryReader.DT_DIR) {
            return false;
        }
        long ino = list.inode(); // read once: a read of the listing's buffer is slow until compiled
        if (known.mayBe(ino) || !lists.born.add(list, true)) {
            return false;
        }
        lists.addBornInode(ino);
        return true;
    }

    /** An entry the listing alone does not name: its stat says whether it changed, and how it is named. */
    private void statEntry(DirectoryReader list, Scanned s, EntryRules rules, Lists lists) throws IOException {
        Statx st;
        s.statted++;
        try {
            st = list.statx(Statx.AT_SYMLINK_NOFOLLOW, MASK);
        } catch (PosixException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
            return; // removed since it was listed: a departure, named if it left since the checkpoint
        }
        // Only a name found standing is one that did not leave: one removed between the
        // directory's read and its stat (found by WorkloadTest) must count as departed.
        boolean ours;
        try {
            // The path is made only for a device not known yet (a btrfs subvolume's first file).
            ours = fs.holds(st) || !st.isDirectory() && fs.holds(Statx.AT_FDCWD, list.childPath(), st);
        } catch (PosixException e) {
            if (e.errno() != Errno.ENOENT && e.errno() != Errno.ENOTDIR) {
                throw e;
            }
            return; // removed since its stat: a departure, as above
        }
        if (st.isDirectory() || !ours || !(rules.whole() || WalkRule.changedSince(st.ctimeNanos(), rules.watermark()))) {
            s.otherFiles += st.isDirectory() ? 0 : 1;
            lists.others.add(list, false);
            return; // a subdirectory's own changes are events; another file system is not tracked
        }
        boolean wasBorn = (st.mask() & Statx.STATX_BTIME) != 0 && WalkRule.changedSince(st.btimeNanos(), rules.watermark());
        boolean byPath = rules.atRecordedName() && !rules.known().needHandle(st);
        if (byPath && rules.nameablePath() && (wasBorn ? lists.born : lists.written).add(list, true)) {
            return; // a name that is not UTF-8 was refused: it goes on to be a record
        }
        String name = list.name();
        String childPath = list.childPath();
        Set<Change> changes = wasBorn ? EnumSet.of(Change.CREATED, Change.WRITTEN) : EnumSet.of(Change.WRITTEN);
        FileId id;
        if (byPath) {
            id = FileId.ofPath(childPath);
        } else {
            FileHandles.FileHandle h;
            try {
                h = list.handle();
            } catch (PosixException e) {
                if (e.errno() != Errno.ENOENT) {
                    throw e;
                }
                return; // gone since its stat: departed
            }
            String recordedAt = rules.recordedAt();
            String hint = rules.atRecordedName() ? childPath
                    : (recordedAt.endsWith("/") ? recordedAt + name : recordedAt + "/" + name);
            id = FileId.ofHandle(fs.fsid(), h.handleType(), h.handle(), hint, null);
        }
        lists.others.add(list, false);
        s.files.add(new ChangedFile(id, changes, null, false, false, rules.dir().recovered()));
        // No stamp: only an object recorded as read alone is compared with one, and a scan
        // names written ones (a million-entry result would keep a million of them).
        s.where.add(new Namespace.Where(childPath, false, false, st.nlink(), null));
    }

    /**
     * Whether {@code s}, listed just now, named every entry of its directory that is not a
     * subdirectory as made, from the listing alone: its names and its subdirectories' are then all
     * a later result needs of the directory while none of its entries changes ({@link BornListings}).
     */
    private static boolean wholeBornListing(Scanned s, Lists lists) {
        return !s.cut && s.files.isEmpty() && s.written.size() == 0 && s.otherFiles == 0
                && s.born.size() == lists.bornInodeCount; // fewer: a name listed twice, the directory changing meanwhile
    }

    /** Whether any of {@code inodes} may be an object of {@code known}: the directory must then be listed again. */
    private static boolean anyKnown(long[] inodes, Identities known) {
        for (long ino : inodes) {
            if (known.mayBe(ino)) {
                return true;
            }
        }
        return false;
    }
}
