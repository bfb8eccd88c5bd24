package org.modtrack.source.linux;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.modtrack.engine.Change;
import org.modtrack.engine.ChangedFile;
import org.modtrack.engine.FileId;
import org.modtrack.engine.QueryResult;
import org.modtrack.engine.StatStamp;

/**
 * Names every file of an engine result by its path, and orders the entries so that a consumer can
 * apply them one after another (docs/protocol.md, *Applying a result*; the order is
 * {@link ResultPlanner}'s). For each recorded object it works out where the consumer has it (the
 * name before its first rename since the last blessed result, moved along with the directories
 * renamed since; nowhere if it was created since) and where it is now (its handle, looked up now).
 *
 * <p>A file recorded only because it was read is left out if its status (inode, size, mtime,
 * ctime) is what it was at its first record: with multigrain timestamps any write after that
 * {@code statx} changes ctime and mtime (docs/kernel-facts.md, 5). After an unclean stop a stamp
 * proves nothing (data can reach the disk before the metadata that would show it), so recovered
 * read records are reported. An object the kernel freed, or whose handle no longer opens, is gone:
 * it is removed at every name it may have had in the consumer's view, never dropped; one that no
 * result named before and is gone again is not mentioned.
 */
final class ResultResolver {
    private static final Logger LOG = Logger.getLogger(ResultResolver.class.getName());
    /** What a name's bytes that are not UTF-8 were decoded to: no path holding it can be trusted to exist. */
    static final char UNNAMABLE = '\uFFFD';
    /** Results with fewer entries encode their reads on the query's thread: a hand-off would cost more. */
    private static final int READ_LOG_INLINE = 10_000;
    /** One thread, gone after 30 s without a large result, so an idle daemon keeps none. */
    private static final ExecutorService READ_LOGS = new ThreadPoolExecutor(0, 1, 30, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), ThreadNice.daemonThreads("modtrack-read-log", ThreadNice.CHECKPOINT));
    private final Namespace namespace;
    private final Path watched;
    // What the newest result resolved told the consumer, for the next result if the consumer blessed
    // it. A consumer reads the file system as it is when it gets to an entry, and a result is
    // resolved a little after its records were frozen: both can be ahead of the records.
    private long lastResolved;
    /**
     * The entries that made the consumer read something. A directory moved before the consumer got
     * to them either took along what it then found gone, or put what it read below the directory's
     * new path: when the next result moves that directory, it names them again where they are now.
     */
    private Future<ReadLog> lastReads = CompletableFuture.completedFuture(ReadLog.EMPTY);
    /**
     * Where the result put objects that had moved since their last record (after the records were
     * frozen, before the result was resolved): the next result starts from there, not from the
     * records. Only those objects, so this stays small.
     */
    private Map<FileId, String> lastPositions = Map.of();
    private Map<FileId, String> previousPositions = Map.of(); // lastPositions while the next result is resolved, if blessed
    private ReadLog previousReads = ReadLog.EMPTY; // lastReads the same way
    /**
     * Paths where the result would have removed a gone object but found another object that no
     * record of it named (one that came after its records were frozen): the next result looks at
     * them again, and removes what is there then or reads it.
     */
    private Set<String> lastUnsure = Set.of();
    /**
     * The result resolved before the newest, with where it put objects and the paths it was unsure
     * of: a consumer that did not bless the newest (it lost what it applied of it, or never applied
     * it) has the view that one left, and the records of the objects it placed do not say where.
     * Its reads only if it was small ({@link #READ_LOG_INLINE} entries): a large one's would double
     * what a large result keeps between answers, and without them the next result reads as if
     * that one had rescanned the root.
     */
    private long olderResolved;
    private ReadLog olderReads; // null: not kept
    private boolean lastResultSmall = true; // whether lastReads is a small result's, made at once
    private Map<FileId, String> olderPositions = Map.of();
    private Set<String> olderUnsure = Set.of();
    /**
     * Whether a walk recorded every change since the last blessed result's checkpoint that the
     * records from before an unclean stop may miss ({@link Reconciliation}): their directory scopes
     * then need no rescan, and a removal or rename their records lost is in the listing of a
     * directory whose entries changed (every such record was made after that checkpoint began).
     */
    private boolean reconciled;
    /**
     * Whether this run took over a kept notification queue seamlessly ({@link QueueKeeper}): every
     * creation, removal, rename and content change since the records from before the stop is in
     * that queue, as in a run that never stopped, so recovered records are trusted like live ones.
     */
    private boolean queueTakenOver;
    /** The mounts inside the tree when the newest result was resolved: the consumer's if it blessed that result. */
    private Set<MountAliases.Mount> lastMounts = Set.of();
    /**
     * The mount points of every result resolved since the consumer last blessed the newest one
     * (that one's included): the consumer may have any of them as a mount showed it then.
     */
    private final Set<String> mountPointsSinceBlessed = new HashSet<>();
    /** Whether {@link #mountPointsSinceBlessed} outgrew its bound: until the consumer blesses the newest result, the tree is rescanned. */
    private boolean mountPointsForgotten;
    /** A bound on {@link #mountPointsSinceBlessed}: mounts that come and go at new points while the consumer blesses nothing. */
    static final int MAX_MOUNT_POINTS_SINCE_BLESSED = 4 * MountAliases.MAX_MOUNTS;
    private final boolean listsByName;

    /**
     * @param listsByName whether files are named one by one (a listing then asks only for names to be
     *     compared), as opposed to results that name directories
     */
    ResultResolver(Namespace namespace, Path watched, boolean listsByName) {
        this.namespace = namespace;
        this.watched = watched;
        this.listsByName = listsByName;
    }

    /** A walk has recorded what changed while no tracker watched: recovered directory scopes need no rescan. */
    void reconciled() {
        reconciled = true;
    }

    /** This run took a kept notification queue over with nothing lost: recovered records are as good as live ones. */
    void queueTakenOver() {
        queueTakenOver = true;
    }

    LinuxResult resolve(QueryResult r) throws IOException {
        try {
            return resolve(r, null, null, false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // interrupted waiting for the last result's reads
            throw new InterruptedIOException("interrupted while the result was resolved");
        }
    }

    /**
     * Like {@link #resolve(QueryResult)}; {@code scan}, if not null, names the files below the
     * directories recorded for their children ({@link DirectoryScan}), with the names that left
     * them meanwhile from {@code departures}. {@code acrossReboot}: the consumer's last blessed
     * checkpoint was taken in an earlier boot, so a directory scope recorded before this run that
     * no scan read whole is a rescan ({@link DirectoryScan}).
     */
    LinuxResult resolve(QueryResult r, DirectoryScan scan, DirectoryScan.DepartureLog departures, boolean acrossReboot)
            throws IOException, InterruptedException {
        boolean blessedLast = r.lastBlessed() == lastResolved && lastResolved > 0;
        boolean blessedOlder = !blessedLast && r.lastBlessed() == olderResolved && olderResolved > 0;
        previousPositions = blessedLast ? lastPositions : blessedOlder ? olderPositions : Map.of();
        ReadLog olderKept = blessedOlder ? olderReads : null;
        boolean readsKnown = blessedLast || olderKept != null;
        ReadLog blessedReads = blessedLast ? lastReads() : olderKept != null ? olderKept : ReadLog.EMPTY;
        // Without the blessed result's reads (a restart), any could have been a rescan of the root.
        previousReads = readsKnown ? blessedReads : ReadLog.rescanOf(watched.toString());
        List<ChangedFile> files = r.changes();
        List<Namespace.Where> now = locateAll(files);
        List<Namespace.Where> otherNames = List.of();
        List<String> scanRescans = List.of();
        List<String> scanRemovals = List.of();
        ScanNamedFiles scanNamed = ScanNamedFiles.NONE;
        Moves moves = null;
        if (scan != null) {
            DirectoryScan.Expanded x = scan.expand(files, now, departures, previousPositions.keySet());
            moves = Moves.of(x.files(), x.now(), this::vacated);
            if (!x.scanNamed().isEmpty() && !moves.none()) {
                // Below a moved directory a file may be where the consumer has another object: each is
                // worked out as a record (such a file is no directory: the moves stay the same).
                x = x.withScanNamedAsRecords();
            }
            files = x.files();
            now = x.now();
            scanRescans = x.rescans();
            scanRemovals = x.removals();
            otherNames = x.otherNames();
            scanNamed = x.scanNamed();
        }
        Items items = new Items(scanNamed, files.size());
        for (String path : scanRescans) {
            if (isWatched(path)) {
                items.rescans.add(path);
            }
        }
        for (String path : scanRemovals) {
            if (isWatched(path)) {
                items.removals.add(new ResultPlanner.Removal(path, false, false, r.recovered()));
            }
        }
        if (moves == null) {
            moves = Moves.of(files, now, this::vacated);
        }
        Set<String> mountPoints = rescanMounts(namespace.mountsInside(), blessedLast, moves, items);
        items.lookAtGoneNames(files, now, moves);
        if (readsKnown) {
            items.readAgain.addAll(readsDisturbed(blessedReads, files, now, moves));
        }
        if (blessedLast || blessedOlder) {
            for (String path : blessedLast ? lastUnsure : olderUnsure) {
                if (namespace.at(path) == Namespace.Occupant.NOTHING) {
                    items.removals.add(new ResultPlanner.Removal(path, false, false, r.recovered()));
                } else {
                    items.readAgain.add(path);
                }
            }
        }
        for (String directory : moves.uncertain()) {
            if (isWatched(directory)) {
                items.rescans.add(directory); // where the consumer has it is not certain: it is read whole where it is
            }
        }
        boolean intact = r.continuity().intact();
        int dropped = 0;
        int readOnlyReported = 0;
        for (int i = 0; i < files.size(); i++) {
            ChangedFile c = files.get(i);
            Namespace.Where w = now.get(i);
            if (c.changes().contains(Change.SCOPE)) {
                if (acrossReboot && scan == null && c.recovered()) {
                    scope(c, w, false, items); // its children's writes may have kept their old ctimes on disk
                } else {
                    scope(c, w, intact, items);
                }
                c = withoutScope(c);
                if (c == null) {
                    continue;
                }
            }
            boolean readOnly = c.changes().size() == 1 && c.changes().contains(Change.READ);
            if (readOnly) {
                if (!c.recovered() && !c.carried() && !w.gone() && !w.nameless() && unchanged(c.file().stamp(), w.stamp())) {
                    dropped++;
                    continue;
                }
                readOnlyReported++;
            }
            if (c.moreNames()) {
                items.rescans.add(watched.toString()); // names it had are not all known: whoever must see it, rescan
            }
            for (String directory : c.namesLostIn()) {
                // A name it had there was not kept: the consumer reads the directory again (the name
                // may have replaced a file there without an event of that file's own).
                if (isWatched(directory)) {
                    items.rescans.add(directory);
                }
            }
            if (isListing(c)) {
                listing(c, w, moves, intact, items);
            } else if (w.gone()) {
                gone(c, moves, intact, items);
            } else if (w.nameless()) {
                items.rescans.add(watched.toString()); // alive, but the kernel names it only by a removed link
            } else {
                live(c, w, moves, items);
            }
        }
        readAgainBelowMovedDirectories(blessedReads, moves, items);
        readAgainWhatRemovalsTake(files, moves, items);
        items.settleSharedPaths(moves);
        items.readOtherNames(otherNames, r.recovered());
        items.markReadAgain(r.recovered());
        items.rescanUnnamable();
        items.forgetViewsBelow(mountPoints);

        List<PathChange> changes;
        try {
            changes = ResultPlanner.plan(items.all(), items.removals, items.rescans, scanNamed);
        } catch (IllegalStateException e) {
            // A bug in the planner must not cost a change: the consumer reads the whole root again.
            LOG.log(Level.WARNING, "could not order the result of snapshot " + r.snapshot() + "; it says rescan " + watched
                    + ". The planner's input: " + ResultPlanner.describe(items.all(), items.removals, items.rescans)
                    + ", " + scanNamed, e);
            changes = List.of(new PathChange(watched.toString(), PathChange.Kind.RESCAN, null, true, false, r.recovered(), 0));
            // The consumer reads everything where it stands: nothing is anywhere else, nothing is unsure.
            items.positions.clear();
            items.unsure.clear();
        }
        olderResolved = lastResolved;
        olderPositions = lastPositions;
        olderUnsure = lastUnsure;
        olderReads = lastResultSmall ? lastReads() : null; // a small result's reads were made at once
        lastResolved = r.snapshot();
        lastResultSmall = changes.size() < READ_LOG_INLINE;
        lastReads = readLogOf(changes);
        lastPositions = items.positions;
        lastUnsure = items.unsure;
        return new LinuxResult(r.consumer(), r.snapshot(), r.lastBlessed(), r.recovered(), r.continuity(), changes, r.barrier(),
                r.barrierWait(), dropped, readOnlyReported, null, listsByName);
    }

    /**
     * The reads of a result, encoded beside the writing of the result to its consumer when it is
     * large (0.3 s of a million-entry answer otherwise: benchmarks/peers/answer), at the query's
     * nice value; the next result waits for them.
     */
    private static Future<ReadLog> readLogOf(List<PathChange> changes) {
        if (changes.size() < READ_LOG_INLINE) {
            return CompletableFuture.completedFuture(ReadLog.of(changes));
        }
        return READ_LOGS.submit(() -> ReadLog.of(changes));
    }

    /** The last result's reads, once encoded. */
    private ReadLog lastReads() throws InterruptedException {
        try {
            return lastReads.get();
        } catch (ExecutionException e) {
            // Only a log past 2 GiB fails (ReadLog.of), which the result holding it could not be either.
            throw new IllegalStateException("the reads of the last result could not be kept", e.getCause());
        }
    }

    /**
     * The paths the blessed result told the consumer to read at which the namespace changed since
     * (an object came or went there, or a directory above was renamed): the consumer read them
     * when it got to them, so what it has there may be another object than the one the result
     * meant, and they are read again.
     */
    private static Set<String> readsDisturbed(ReadLog blessedReads, List<ChangedFile> files,
                                              List<Namespace.Where> now, Moves moves) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < files.size(); i++) {
            ChangedFile c = files.get(i);
            if (c.changes().contains(Change.CREATED) || c.changes().contains(Change.DELETED)
                    || c.changes().contains(Change.RENAMED)) {
                names.addAll(Moves.names(c));
                if (now.get(i).path() != null) {
                    names.add(now.get(i).path());
                }
            }
        }
        Set<String> disturbed = new HashSet<>();
        for (ReadLog.Read read : blessedReads) {
            if (read.kind() != PathChange.Kind.RESCAN && (names.contains(read.path()) || moves.belowARenamedDirectory(read.path()))) {
                disturbed.add(read.path());
            }
        }
        return disturbed;
    }

    /**
     * What the blessed result told the consumer to read below a directory this result moves is read
     * again where it is now. The consumer reads the file system as it is when it gets to an entry: a
     * directory moved in between either took along what the consumer then found gone, or put what it
     * read below the directory's new path, which this result's move replaces. The same holds for a
     * path the blessed result told the consumer to read whole that this result moves a directory
     * from or to: the consumer read what stood there when it got to it (perhaps another directory
     * that was moved there meanwhile), so the move would carry that along, or replace it with what
     * the consumer has at the source; the move's target is read whole again.
     */
    private void readAgainBelowMovedDirectories(ReadLog blessedReads, Moves moves, Items items) {
        for (ReadLog.Read read : blessedReads) {
            if (read.kind() == PathChange.Kind.RESCAN) {
                for (String target : moves.targetsFromOrTo(read.path())) {
                    if (isWatched(target) && namespace.at(target) != Namespace.Occupant.NOTHING) {
                        items.rescans.add(target);
                    }
                }
            }
            String now = moves.forward(read.path());
            boolean tookAlong = !now.equals(read.path());
            if (!(tookAlong || moves.belowAMoveTarget(read.path())) || !isWatched(now)) {
                continue;
            }
            Namespace.Occupant there = namespace.at(now);
            if (there == Namespace.Occupant.NOTHING) {
                if (tookAlong) {
                    // What the consumer read there, the move takes along to where nothing stands now.
                    items.removals.add(new ResultPlanner.Removal(now, read.directory(), read.carried(), read.recovered()));
                }
                continue;
            }
            if (read.kind() == PathChange.Kind.RESCAN || tookAlong && read.directory() && read.kind() != PathChange.Kind.LIST) {
                // A directory read for itself alone that the consumer found gone, moved away above it,
                // was forgotten with everything below it: read whole where it is now.
                items.rescans.add(now);
            } else {
                items.live.add(new ResultPlanner.Item(tookAlong ? read.path() : null, now, there == Namespace.Occupant.DIRECTORY,
                        true, false, read.kind() == PathChange.Kind.LIST, read.carried(), read.recovered(), read.links()));
            }
        }
    }

    /**
     * Objects the blessed result put elsewhere than their records say ({@link #previousPositions})
     * that this result records no more, below a path this result removes: the consumer's copy goes
     * with the removal, and no record would name the object again (found by the contract model: a
     * directory moved while a result was made, read whole where it stood then, removed there by the
     * next result once it moved back). Each is read again where it is now.
     */
    private void readAgainWhatRemovalsTake(List<ChangedFile> files, Moves moves, Items items) throws IOException {
        if (previousPositions.isEmpty() || items.removals.isEmpty()) {
            return;
        }
        Set<FileId> recorded = HashSet.newHashSet(files.size());
        for (ChangedFile c : files) {
            recorded.add(c.file());
        }
        Set<String> removed = HashSet.newHashSet(items.removals.size());
        for (ResultPlanner.Removal removal : items.removals) {
            removed.add(removal.path());
        }
        for (Map.Entry<FileId, String> placed : previousPositions.entrySet()) {
            if (recorded.contains(placed.getKey())
                    || !ResultPlanner.isAtOrBelowAny(placed.getValue(), removed)
                    && !ResultPlanner.isAtOrBelowAny(moves.forward(placed.getValue()), removed)) {
                continue;
            }
            Namespace.Where w = namespace.locate(new ChangedFile(placed.getKey(), EnumSet.of(Change.WRITTEN), null, false,
                    false, false));
            if (w.nameless()) {
                items.rescans.add(watched.toString()); // alive, but the kernel names it only by a removed link
            } else if (w.path() != null && isWatched(w.path())) {
                items.readAgain.add(w.path());
                items.positions.put(placed.getKey(), w.path());
            }
        }
    }

    /** Fewer gone names than this are looked at one by one, as they are removed: no helper thread for them. */
    private static final int LOOKED_AT_AHEAD = 2_048;

    /** The planner's input in the making. */
    private final class Items {
        /** The files only a scan names, each an entry of its own at a path no other object of the result has. */
        final ScanNamedFiles scanNamed;
        final List<ResultPlanner.Item> live;
        final List<ResultPlanner.Removal> removals = new ArrayList<>();
        final List<String> rescans = new ArrayList<>();
        final Map<FileId, String> positions = new HashMap<>();
        final Set<String> readAgain = new TreeSet<>();
        final Set<String> unsure = new HashSet<>();
        final Set<String> placedFromNow = new HashSet<>(); // objects whose view is where they are now, moves undone
        /** Where a gone or moved object was and something stood when looked at: the removal it would have been. */
        final Map<String, ResultPlanner.Removal> occupied = new TreeMap<>();
        /** What stood at the names of gone objects, looked at ahead ({@link #lookAtGoneNames}); each taken once. */
        private Map<String, Namespace.Occupant> lookedAt = Map.of();

        /**
         * @param records the result's records: most become an item each, so that many arrays are
         *     made once rather than grown through a copy of each size up to it (a million-entry
         *     result's largest copies are arrays the collector handles one by one, each able to start
         *     a marking cycle)
         */
        Items(ScanNamedFiles scanNamed, int records) {
            this.scanNamed = scanNamed;
            this.live = new ArrayList<>(records);
        }

        /**
         * The other names a scan found of a file it named (hard links): each is read where it stands,
         * unless an entry of this result stands there already. Not looked at again next time, as a
         * name taken by an unknown object is: its object is this result's, and its removal is an event.
         */
        void readOtherNames(List<Namespace.Where> names, boolean recovered) {
            if (names.isEmpty()) {
                return;
            }
            Set<String> named = HashSet.newHashSet(live.size());
            for (ResultPlanner.Item it : live) {
                if (it.now() != null) {
                    named.add(it.now());
                }
            }
            for (Namespace.Where w : names) {
                if (isWatched(w.path()) && !scanNamed.contains(w.path()) && named.add(w.path())) {
                    live.add(new ResultPlanner.Item(null, w.path(), false, true, false, false, false, recovered, w.links()));
                }
            }
        }

        /**
         * Where a mount came, went or shows another file system, what the consumer has below its
         * point is not what the records saw there: an object the records place there for the
         * consumer is new to it (read where it is now, not moved from there), and the point's rescan
         * reads what is there now.
         */
        void forgetViewsBelow(Set<String> points) {
            if (points.isEmpty()) {
                return;
            }
            for (int i = 0; i < live.size(); i++) {
                ResultPlanner.Item it = live.get(i);
                if (it.view() != null && atOrBelowAny(it.view(), points)) {
                    live.set(i, new ResultPlanner.Item(null, it.now(), it.directory(), true, it.created(), it.listing(),
                            it.carried(), it.recovered(), it.links()));
                }
            }
        }

        /**
         * Whether {@code path} or a directory above it is one of {@code points}: a look-up per level
         * of the path, not a comparison per point (a million entries against a thousand mounts).
         */
        private static boolean atOrBelowAny(String path, Set<String> points) {
            for (String p = path; !p.isEmpty(); p = p.substring(0, Math.max(0, p.lastIndexOf('/')))) {
                if (points.contains(p)) {
                    return true;
                }
            }
            return points.contains("/");
        }

        /**
         * The paths to read again: an object of this result there is read again (as changed); where
         * no object of this result stands, what stands there is read as new.
         */
        void markReadAgain(boolean recovered) {
            // A name another object of this result stands at now is that object's entry's business
            // (it is moved there, created there, or stays there). One taken by an object no record
            // of this result names (it came after the checkpoint) is read now, and looked at again
            // next time: it may be gone by then without a result naming it.
            Set<String> named = Set.of();
            if (!occupied.isEmpty()) { // built only when needed: a million-entry result has a million names
                named = HashSet.newHashSet(live.size());
                for (ResultPlanner.Item it : live) {
                    if (it.now() != null) {
                        named.add(it.now());
                    }
                }
            }
            for (String p : occupied.keySet()) {
                if (!named.contains(p) && !scanNamed.contains(p)) {
                    readAgain.add(p);
                    unsure.add(p);
                }
            }
            // A file only a scan names is read (as new or changed) by its own entry already.
            readAgain.removeIf(scanNamed::contains);
            for (int i = 0; i < live.size() && !readAgain.isEmpty(); i++) {
                ResultPlanner.Item it = live.get(i);
                if (it.now() != null && readAgain.remove(it.now())) {
                    live.set(i, new ResultPlanner.Item(it.view(), it.now(), it.directory(), true, it.created(), it.listing(),
                            it.carried(), it.recovered(), it.links()));
                }
            }
            Set<String> removed = null; // the removals' paths, built only if an occupied path emptied (rare)
            for (String path : readAgain) {
                Namespace.Occupant there = namespace.at(path);
                if (there != Namespace.Occupant.NOTHING && isWatched(path)) {
                    live.add(new ResultPlanner.Item(null, path, there == Namespace.Occupant.DIRECTORY, true, false, false,
                            false, recovered, 1));
                } else if (there == Namespace.Occupant.NOTHING && occupied.containsKey(path) && isWatched(path)) {
                    // What stood there went away while this result was made (found on btrfs by
                    // WorkloadTest: a file renamed over a written one, then deleted): the consumer's
                    // copy of the gone object goes, or nothing would name the path at all.
                    if (removed == null) {
                        removed = new HashSet<>();
                        for (ResultPlanner.Removal r : removals) {
                            removed.add(r.path());
                        }
                    }
                    if (removed.add(path)) {
                        removals.add(occupied.get(path));
                    }
                }
            }
            readAgain.clear();
        }

        /**
         * Paths that no entry can name: the kernel gives names as bytes, and one that is not UTF-8
         * was decoded with U+FFFD, so no such path exists and a JSON result cannot carry the real
         * one. The nearest directory above that can be named (at most the watched root) is read
         * again whole instead, and an object the consumer has at such a path has no place there
         * that an entry could name: it is read where it is now. A name that really holds U+FFFD
         * costs the same rescan; nothing is missed either way.
         */
        void rescanUnnamable() {
            for (int i = 0; i < live.size(); i++) {
                ResultPlanner.Item it = live.get(i);
                rescanIfUnnamable(it.now());
                if (rescanIfUnnamable(it.view())) {
                    live.set(i, new ResultPlanner.Item(null, it.now(), it.directory(), it.changed(), it.created(), it.listing(),
                            it.carried(), it.recovered(), it.links()));
                }
            }
            for (ResultPlanner.Removal removal : removals) {
                rescanIfUnnamable(removal.path());
            }
            for (int i = 0; i < rescans.size(); i++) {
                String nameable = nameableAbove(rescans.get(i));
                if (nameable != null) {
                    rescans.set(i, nameable);
                }
            }
        }

        private boolean rescanIfUnnamable(String path) {
            String nameable = path == null ? null : nameableAbove(path);
            if (nameable != null) {
                rescans.add(nameable);
            }
            return nameable != null;
        }

        /** The nearest directory above a path holding U+FFFD that does not (at most the watched root); null if it holds none. */
        private String nameableAbove(String path) {
            int bad = path.indexOf(UNNAMABLE);
            if (bad < 0) {
                return null;
            }
            int slash = path.lastIndexOf('/', bad);
            String above = slash <= 0 ? "/" : path.substring(0, slash);
            return isWatched(above) ? above : watched.toString();
        }

        /**
         * Two objects found at one path: the records are looked up while the namespace changes (on
         * two threads, in batches), so one of them was there only when it was looked up (an object
         * renamed over it since, or it moved on). The path keeps the first one's entry
         * ({@link #all}); the other's is dropped, so where the consumer has that other object must
         * not stay as it is: it is removed where nothing stands now, or read again
         * ({@link #removeAt}), as a name it left would be. The path itself is read as it is, and
         * looked at again by the next result, which holds the change that came after the lookup.
         */
        void settleSharedPaths(Moves moves) {
            Set<String> taken = HashSet.newHashSet(live.size());
            int kept = 0;
            for (int i = 0; i < live.size(); i++) {
                ResultPlanner.Item it = live.get(i);
                if (it.now() == null || taken.add(it.now())) {
                    live.set(kept++, it);
                    continue;
                }
                if (it.view() != null && !it.view().equals(it.now())) {
                    removeAt(it.view(), moves, it.directory(), it.carried(), it.recovered(), it.now());
                }
                readAgain.add(it.now());
                unsure.add(it.now());
            }
            live.subList(kept, live.size()).clear();
        }

        /** Whether no two items are at one path: what {@link #settleSharedPaths} leaves, and every later addition keeps. */
        private boolean atDistinctPaths() {
            Set<String> taken = HashSet.newHashSet(live.size());
            for (ResultPlanner.Item it : live) {
                if (it.now() != null && !taken.add(it.now())) {
                    return false;
                }
            }
            return true;
        }

        /**
         * The objects, each at a path of its own ({@link #settleSharedPaths} left one at each). One
         * whose place in the consumer's view was only worked out from where it is now, below a
         * directory read again whole, has no known place there: the rescan reads it, and nothing
         * must be removed for it.
         */
        List<ResultPlanner.Item> all() {
            assert atDistinctPaths() : "two objects at one path: " + live;
            List<ResultPlanner.Item> out = new ArrayList<>(live.size());
            List<String> top = ResultPlanner.topmost(rescans);
            for (ResultPlanner.Item it : live) {
                // An object located at a path a scan then found another file at (it came after the
                // records were looked up): the object's entry reads what stands there.
                scanNamed.remove(it.now());
                boolean unknown = !top.isEmpty() && it.now() != null && placedFromNow.contains(it.now())
                        && top.stream().anyMatch(r -> ResultPlanner.isAtOrBelow(it.now(), r));
                out.add(unknown ? new ResultPlanner.Item(null, it.now(), it.directory(), it.changed(), it.created(), it.listing(),
                        it.carried(), it.recovered(), it.links()) : it);
            }
            return out;
        }

        /**
         * Looks at the names of the gone objects of {@code files} ahead, all at once, where there are
         * many and nothing moved (a name is then the only place to look): {@link Namespace#atAll}
         * shares a large deletion's {@code statx} per name between two threads. An object made since
         * the consumer's view is left out: its names are mostly not removed at all (see gone).
         */
        void lookAtGoneNames(List<ChangedFile> files, List<Namespace.Where> now, Moves moves)
                throws IOException, InterruptedException {
            if (!moves.none()) {
                return;
            }
            List<String> names = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                ChangedFile c = files.get(i);
                if (now.get(i).gone() && !c.changes().contains(Change.CREATED)) {
                    for (String name : Moves.names(c)) {
                        if (isWatched(name)) {
                            names.add(name);
                        }
                    }
                }
            }
            if (names.size() < LOOKED_AT_AHEAD) {
                return;
            }
            List<Namespace.Occupant> there = namespace.atAll(names);
            lookedAt = HashMap.newHashMap(names.size());
            for (int k = 0; k < names.size(); k++) {
                lookedAt.put(names.get(k), there.get(k));
            }
        }

        /** What is at {@code path}: as looked at ahead, the first time it is asked; else looked at now. */
        private Namespace.Occupant occupant(String path) {
            Namespace.Occupant ahead = lookedAt.isEmpty() ? null : lookedAt.remove(path);
            return ahead != null ? ahead : namespace.at(path);
        }

        /**
         * Removes, once every move is done, whatever the consumer may have at {@code name} and at
         * the paths it may have become (followed through the directory renames either way), wherever
         * the file system has nothing now; {@code self}, where the object itself is now (or null),
         * is left alone.
         */
        void removeAt(String name, Moves moves, boolean directory, ChangedFile c, String self) {
            removeAt(name, moves, directory, c.carried(), c.recovered(), self);
        }

        private void removeAt(String name, Moves moves, boolean directory, boolean carried, boolean recovered, String self) {
            if (moves.none()) {
                // No directory moved: the name itself is the only candidate. Most objects of a large
                // result are named where they are, and a set of candidates for each was a sixth of
                // the answer's time.
                removeAt(moves, directory, carried, recovered, self, List.of(name));
                return;
            }
            String back = moves.backward(name, null);
            Set<String> candidates = new LinkedHashSet<>(List.of(name, back, moves.forward(name), moves.forward(back)));
            candidates.addAll(moves.toNow(name));
            removeAt(moves, directory, carried, recovered, self, candidates);
        }

        private void removeAt(Moves moves, boolean directory, boolean carried, boolean recovered, String self,
                              Iterable<String> candidates) {
            for (String p : candidates) {
                if (!isWatched(p) || p.equals(self)) {
                    continue;
                }
                boolean nothingThere = occupant(p) == Namespace.Occupant.NOTHING;
                if (!nothingThere) {
                    // Taken since by another object, or another name of this one (a hard link):
                    // see markReadAgain. Also below where a moved directory was: a directory made
                    // since at its old name may hold it, and no entry may name it there.
                    occupied.putIfAbsent(p, new ResultPlanner.Removal(p, directory, carried, recovered));
                } else if (!moves.belowAMoveSource(p) || moves.belowAMoveTarget(p)) {
                    // Below where a moved directory was (and no other arrived), the consumer has
                    // nothing once it moved: what it had there is at the path followed forward, a
                    // candidate too.
                    removals.add(new ResultPlanner.Removal(p, directory, carried, recovered));
                }
            }
        }
    }

    /**
     * Rescans where a mount inside the tree makes the consumer's copy wrong without a change of any
     * file: a mount that shows another file system (its changes are not tracked: every result
     * rescans it), and a mount point whose mount came or went since the blessed result (it shows
     * other files now). Where the consumer did not bless the newest result, every mount point of
     * the results since the last it did is rescanned, and every one now; after a restart, every one
     * now. Past the bound on mounts kept, or with the mount table unread, the whole tree. A point
     * where the consumer may have what a mount showed is also rescanned where the directory renames
     * of this result take it. Returns the paths rescanned.
     */
    private Set<String> rescanMounts(MountAliases.Table mounts, boolean blessedLast, Moves moves, Items items) {
        Set<MountAliases.Mount> now = new HashSet<>(mounts.inside());
        Set<String> points = new TreeSet<>();
        for (MountAliases.Mount m : now) {
            if (m.foreign() || !blessedLast || !lastMounts.contains(m)) {
                points.add(m.point());
            }
        }
        if (blessedLast) {
            for (MountAliases.Mount m : lastMounts) {
                if (!now.contains(m)) {
                    points.add(m.point()); // unmounted, or mounted over again: what shows there changed
                }
            }
            mountPointsSinceBlessed.clear();
            mountPointsForgotten = false;
            lastMounts.forEach(m -> mountPointsSinceBlessed.add(m.point()));
        } else {
            points.addAll(mountPointsSinceBlessed);
            if (mountPointsForgotten) {
                points.add(watched.toString());
            }
        }
        now.forEach(m -> mountPointsSinceBlessed.add(m.point()));
        if (mountPointsSinceBlessed.size() > MAX_MOUNT_POINTS_SINCE_BLESSED) {
            mountPointsSinceBlessed.clear();
            mountPointsForgotten = true;
        }
        lastMounts = now;
        if (!moves.none()) {
            for (String point : List.copyOf(points)) {
                points.add(moves.forward(point));
                points.addAll(moves.toNow(point));
            }
        }
        for (String point : points) {
            if (isWatched(point)) {
                items.rescans.add(point);
            }
        }
        if (!mounts.complete()) {
            items.rescans.add(watched.toString());
            points.add(watched.toString());
        }
        return points;
    }

    /**
     * What a recorded directory scope says: nothing while the after-the-fact records of its
     * children can be trusted (they name every change), a rescan of the directory when they cannot
     * (continuity lost: an overflowed or unread notification queue, an unclean stop).
     */
    private void scope(ChangedFile c, Namespace.Where w, boolean intact, Items items) {
        if (namespaceSeen(c, intact)) {
            return;
        }
        String path = w.path() != null ? w.path() : c.file().path();
        if (path == null) {
            items.rescans.add(watched.toString()); // no name for it at all
        } else if (isWatched(path)) {
            items.rescans.add(path);
        }
    }

    /** The entry without its scope, or null if the scope was all it had. */
    private static ChangedFile withoutScope(ChangedFile c) {
        Set<Change> rest = EnumSet.noneOf(Change.class);
        rest.addAll(c.changes());
        rest.remove(Change.SCOPE);
        return rest.isEmpty() ? null : c.withChanges(rest);
    }

    /**
     * Results that name directories: a directory written in the result's periods is listed again
     * where it is now. One that is gone is covered by its parent's listing, or removed at the names
     * it had.
     */
    private void listing(ChangedFile c, Namespace.Where w, Moves moves, boolean intact, Items items) {
        if (w.nameless()) {
            items.rescans.add(watched.toString());
            return;
        }
        if (!w.gone()) {
            if (isWatched(w.path())) {
                items.live.add(new ResultPlanner.Item(null, w.path(), true, true, false, true, c.carried(), c.recovered(), w.links()));
            }
            return;
        }
        List<String> names = Moves.names(c);
        if (names.isEmpty() && namespaceSeen(c, intact)) {
            return; // removed after it was recorded: its removal was an event of its parent's, which that listing covers
        }
        goneAt(c, names, moves, intact, items);
    }

    /**
     * Whether every creation, removal and rename since {@code c}'s records is in this result: the
     * notification events were all recorded (continuity intact, and the record made in this run or
     * in one whose queue this run took over), or a reconciliation listed every directory whose
     * entries changed since.
     */
    private boolean namespaceSeen(ChangedFile c, boolean intact) {
        return intact && (!c.recovered() || reconciled || queueTakenOver);
    }

    /**
     * Where each object of {@code files} is now: a freed one ({@link ChangedFile#freed}) is gone
     * without a look, the others are looked for. A freed object's handle would not open, and most of
     * a large removal's answer was those opens: 3.9 µs of the kernel's time each on ext4, which reads
     * the freed inode to learn it (docs/benchmarks.md, *One daemon's answer, alone*).
     */
    private List<Namespace.Where> locateAll(List<ChangedFile> files) throws IOException, InterruptedException {
        int freed = 0;
        for (ChangedFile c : files) {
            freed += c.freed() ? 1 : 0;
        }
        if (freed == 0) {
            return namespace.locateAll(files);
        }
        List<ChangedFile> looked = new ArrayList<>(files.size() - freed);
        for (ChangedFile c : files) {
            if (!c.freed()) {
                looked.add(c);
            }
        }
        List<Namespace.Where> found = namespace.locateAll(looked);
        Namespace.Where[] out = new Namespace.Where[files.size()];
        for (int i = 0, j = 0; i < out.length; i++) {
            out[i] = files.get(i).freed() ? Namespace.Where.GONE : found.get(j++);
        }
        return Arrays.asList(out);
    }

    /** An object that no longer exists. */
    private void gone(ChangedFile c, Moves moves, boolean intact, Items items) {
        List<String> names = Moves.names(c);
        if (names.isEmpty() && c.changes().equals(Set.of(Change.ATTRIBUTES)) && namespaceSeen(c, intact)) {
            // Its link count fell (FAN_ATTRIB, no name) as a rename replaced it or its last name was
            // removed: the rename's entry, or the removal's, names the path.
            return;
        }
        // A hard link is recorded as a creation too (FAN_CREATE names the existing inode), so an
        // object that had more than one name may have been in the view under another.
        boolean oneName = true; // a loop, not a stream: once per gone object of a large removal
        for (String name : names) {
            oneName &= name.equals(names.getFirst());
        }
        boolean newSinceView = c.changes().contains(Change.CREATED) && c.createdUnseen() && oneName && !c.recovered()
                && intact && !readWhole(names) && !readByName(names);
        if (newSinceView) {
            // Nothing to tell about it, but a rename of it over another file removed that one without
            // an event of its own: the names it was renamed to go, where nothing stands now (where it
            // was made, nothing was replaced).
            for (String name : names) {
                if (c.renamedFrom() != null && !name.equals(c.renamedFrom())) {
                    items.removeAt(name, moves, c.directory(), c, null);
                }
            }
            return;
        }
        goneAt(c, names, moves, intact, items);
    }

    /**
     * Whether the blessed result had the consumer read one of {@code names} itself. An object whose
     * creation is recorded in this period can still have been read by the previous result: with
     * file records, a creating open during a checkpoint is recorded in the closing period (the
     * result names the file), while its creation event, read once the checkpoint ended, lands in
     * this one (found by WorkloadTest: such a file, deleted next, was named by no result).
     */
    private boolean readByName(List<String> names) {
        for (String name : names) {
            if (previousReads.containsPath(name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the blessed result had the consumer read a directory above one of {@code names}
     * whole ({@code rescan}, {@code list}): it read the file system as it was then, which may have
     * held an object no record of that result named.
     */
    private boolean readWhole(List<String> names) {
        for (String name : names) {
            if (previousReads.readWholeAtOrAbove(name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Removes a gone object wherever the consumer may have it, where the file system has nothing now;
     * with no name at all, the consumer must read the whole root again, unless its removal is in
     * the listing of its directory by a reconciliation.
     */
    private void goneAt(ChangedFile c, List<String> names, Moves moves, boolean intact, Items items) {
        if (names.isEmpty()) {
            if (!(reconciled && intact)) {
                items.rescans.add(watched.toString());
            }
            return;
        }
        for (String name : names) {
            items.removeAt(name, moves, c.directory(), c, null);
        }
    }

    /**
     * An object that exists, at {@code w.path()}. Where the consumer has it: nowhere if it was
     * created since; where it was before its first rename since, if that path is certain to be in
     * the consumer's namespace (no directory above it was renamed since: a rename's path is
     * recorded as it was then, and the order of renames is not kept), else nowhere (it is read again
     * where it is now, and its old names are removed); if it was not renamed, where it is now with
     * the renames of the directories above it undone.
     */
    private void live(ChangedFile c, Namespace.Where w, Moves moves, Items items) {
        boolean created = c.changes().contains(Change.CREATED) && !c.recovered();
        // Renamed itself since the consumer's view (its path now may still equal where it was: its
        // directory may have moved the other way).
        boolean renamed = c.renamedFrom() != null;
        String view = null;
        String told = previousPositions.get(c.file());
        if (told != null) {
            view = told; // where the blessed result put it, which the records do not say
        } else if (!created) {
            String late = renamed ? null : moves.lateSource(w.path());
            if (late != null) {
                // A directory moved after the records were frozen (its rename is the next result's):
                // the consumer has it where its record puts it, and moves it, with what is below it.
                view = late;
            } else if (!renamed) {
                view = moves.backward(w.path(), w.path());
                items.placedFromNow.add(w.path());
            } else if (!moves.belowARenamedDirectory(c.renamedFrom())) {
                view = c.renamedFrom();
            }
        }
        if (c.file().path() != null && !w.path().equals(c.file().path())) {
            items.positions.put(c.file(), w.path());
        }
        String nowPath = isWatched(w.path()) ? w.path() : null;
        if (view != null && !isWatched(view)) {
            view = null; // moved in from outside the root: read it whole
        }
        boolean directory = c.directory() || w.directory();
        List<String> names = Moves.names(c);
        if (w.links() > 1 && !directory && view != null && !view.equals(nowPath)) {
            // A file with other names, found at another than where the consumer has it (renamed, or
            // linked there since): a move would take away a name that may still be in use. It is
            // read where it is, and the name the consumer has it at is read again where something
            // stands or removed, as each name it was seen with (below).
            if (!names.contains(view)) {
                items.removeAt(view, moves, false, c, w.path());
            }
            view = null;
        }
        boolean changed = c.written() || c.changes().contains(Change.ATTRIBUTES) || c.changes().contains(Change.READ);
        items.live.add(new ResultPlanner.Item(view, nowPath, directory, changed, created, false, c.carried(), c.recovered(),
                w.links()));
        // The names it had in between (or a removed hard link's) go, where nothing stands now: a file
        // it was renamed over went with them, without an event of its own.
        for (String name : names) {
            if (!name.equals(view)) {
                items.removeAt(name, moves, directory, c, w.path());
            }
        }
    }

    /**
     * The directories renamed since the consumer's view that still exist: where the consumer has
     * each (its name before its first rename since the last bless) and where it is now. Recorded
     * paths are followed through them: forward (a path in the consumer's view, to where it is now)
     * and backward (a path recorded after its directory moved, to where the consumer has it).
     */
    private record Moves(List<String[]> renamed, List<String> renamedNames, List<String> uncertain, List<String[]> everyName,
                         List<String[]> late) {
        static Moves of(List<ChangedFile> files, List<Namespace.Where> now, Predicate<String> vacated) {
            List<String> names = new ArrayList<>();
            List<ChangedFile> dirs = new ArrayList<>();
            List<String> dirNow = new ArrayList<>();
            List<String[]> everyName = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                ChangedFile c = files.get(i);
                Namespace.Where d = now.get(i);
                boolean directory = c.directory() || d.directory();
                if (directory && c.renamedFrom() != null) {
                    names.addAll(names(c));
                    if (d.path() != null) {
                        for (String name : names(c)) {
                            everyName.add(new String[] {name, d.path()});
                        }
                        names.add(d.path());
                        if (!c.renamedFrom().equals(d.path())) {
                            dirs.add(c);
                            dirNow.add(d.path());
                        }
                    }
                }
            }
            Moves all = new Moves(List.of(), names, List.of(), List.of(), List.of());
            List<String[]> renamed = new ArrayList<>();
            List<String> uncertain = new ArrayList<>();
            for (int i = 0; i < dirs.size(); i++) {
                ChangedFile dir = dirs.get(i);
                if (dir.changes().contains(Change.CREATED) && !dir.recovered()) {
                    continue; // new since the view: where it was made is no place of the consumer's
                }
                // Only a directory whose own old path is certain moves: one below another renamed directory is read again whole.
                if (all.belowARenamedDirectory(dirs.get(i).renamedFrom())) {
                    uncertain.add(dirNow.get(i));
                } else {
                    renamed.add(new String[] {dirs.get(i).renamedFrom(), dirNow.get(i)});
                }
            }
            Moves recorded = new Moves(renamed, names, uncertain, everyName, List.of());
            return recorded.withLateMoves(files, now, vacated);
        }

        /**
         * These moves and those of the directories found elsewhere than their records (followed
         * through these moves) put them, with no rename of their own recorded: each, or a directory
         * above it, was renamed after the records were frozen, and the next result holds that
         * rename. The consumer has such a directory where its record says, with what is below it.
         * Only where nothing stands at that path now ({@code vacated}, in the watched tree): a name
         * that still shows it (a bind mount's other path) is no move, and one another object took
         * is left to the reads of that path. Shallowest first, so that one below another such
         * directory, which moved along with it, adds nothing.
         */
        private Moves withLateMoves(List<ChangedFile> files, List<Namespace.Where> now, Predicate<String> vacated) {
            List<String[]> late = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                ChangedFile c = files.get(i);
                Namespace.Where d = now.get(i);
                String recorded = c.file().path();
                if ((c.directory() || d.directory()) && c.renamedFrom() == null && !c.changes().contains(Change.CREATED)
                        && recorded != null && d.path() != null && !recorded.equals(d.path())
                        && !recorded.endsWith(" (deleted)")) {
                    late.add(new String[] {recorded, d.path()});
                }
            }
            if (late.isEmpty()) {
                return this;
            }
            late.sort(Comparator.comparingInt((String[] m) -> ResultPlanner.depth(m[0])).thenComparing(m -> m[0]));
            // One copy of each list, grown as each move is added: the checks of the next candidates
            // see the moves added before them.
            Moves moves = new Moves(new ArrayList<>(renamed), new ArrayList<>(renamedNames), uncertain,
                    new ArrayList<>(everyName), new ArrayList<>());
            for (String[] m : late) {
                String view = moves.backward(m[0], null);
                if (view.equals(moves.backward(m[1], m[1])) || moves.belowARenamedDirectory(view) || !vacated.test(view)) {
                    continue;
                }
                String[] move = {view, m[1]};
                moves.renamed.add(move);
                moves.renamedNames.add(view);
                moves.renamedNames.add(m[1]);
                moves.everyName.add(move);
                moves.late.add(move);
            }
            return moves;
        }

        /** Whether no directory was renamed: every path is where the consumer has it. */
        boolean none() {
            return renamed.isEmpty() && everyName.isEmpty() && renamedNames.isEmpty();
        }

        /**
         * Where {@code path} may be once every move is done: below each name a renamed directory had
         * since the consumer's view that it lies below, moved to where that directory is now.
         */
        List<String> toNow(String path) {
            List<String> out = new ArrayList<>(1);
            for (String[] m : everyName) {
                if (path.startsWith(m[0] + "/")) {
                    out.add(m[1] + path.substring(m[0].length()));
                }
            }
            return out;
        }

        /** Whether {@code path} lies below where the consumer has a directory this result moves. */
        boolean belowAMoveSource(String path) {
            for (String[] m : renamed) {
                if (path.startsWith(m[0] + "/")) {
                    return true;
                }
            }
            return false;
        }

        /** Where the consumer has the directory moved late ({@link #withLateMoves}) to {@code path}, or null. */
        String lateSource(String path) {
            for (String[] m : late) {
                if (m[1].equals(path)) {
                    return m[0];
                }
            }
            return null;
        }

        /** Where the directories this result moves from or to {@code path} itself are now. */
        List<String> targetsFromOrTo(String path) {
            List<String> out = List.of();
            for (String[] m : renamed) {
                if (path.equals(m[0]) || path.equals(m[1])) {
                    if (out.isEmpty()) {
                        out = new ArrayList<>(2);
                    }
                    out.add(m[1]);
                }
            }
            return out;
        }

        /** Whether {@code path} lies below where a directory this result moves is now. */
        boolean belowAMoveTarget(String path) {
            for (String[] m : renamed) {
                if (path.startsWith(m[1] + "/")) {
                    return true;
                }
            }
            return false;
        }

        /**
         * Whether {@code path} lies below a name some renamed directory had since the consumer's
         * view: then it may have been recorded before or after that rename, and where the consumer
         * has it is not certain.
         */
        boolean belowARenamedDirectory(String path) {
            for (String name : renamedNames) {
                if (path.startsWith(name + "/")) {
                    return true;
                }
            }
            return false;
        }

        /** The names a recorded object had: former names, where it was before its first rename, its newest hint. */
        static List<String> names(ChangedFile c) {
            if (c.formerNames().isEmpty() && c.renamedFrom() == null) { // most entries of a large result
                String path = c.file().path();
                return path == null ? List.of() : List.of(withoutDeleted(path));
            }
            List<String> names = new ArrayList<>(c.formerNames());
            if (c.renamedFrom() != null) {
                names.add(c.renamedFrom());
            }
            if (c.file().path() != null) {
                names.add(c.file().path());
            }
            List<String> clean = new ArrayList<>(names.size());
            for (String name : names) {
                clean.add(withoutDeleted(name));
            }
            return clean;
        }

        private static String withoutDeleted(String name) {
            return name.endsWith(" (deleted)") ? name.substring(0, name.length() - " (deleted)".length()) : name;
        }

        /** Where a path of the consumer's view is after the directory renames (nested ones too, a bounded number of steps). */
        String forward(String path) {
            return follow(path, renamed, 0, 1, null);
        }

        /**
         * Where the consumer has {@code path}: the renames of the directories above it undone
         * ({@code self}, the object's own path now, is not one of them).
         */
        String backward(String path, String self) {
            return follow(path, renamed, 1, 0, self);
        }

        /**
         * {@code path} with its longest prefix among the {@code match} sides of {@code moves} replaced
         * by the other side. Once: every old path in {@code moves} is in the consumer's namespace and
         * every new one in the file system's (a directory below another renamed one is not in it), so
         * one step crosses from one to the other; a second would follow a swap back.
         */
        private static String follow(String path, List<String[]> moves, int match, int replace, String self) {
            String next = path;
            int longest = -1;
            for (String[] m : moves) {
                String prefix = m[match];
                if (prefix.length() > longest && !prefix.equals(self) && path.startsWith(prefix + "/")) {
                    next = m[replace] + path.substring(prefix.length());
                    longest = prefix.length();
                }
            }
            return next;
        }
    }

    /**
     * A directory recorded as written: results that name directories record one (its entries or its
     * children changed), and so does a {@link Reconciliation} (its entries changed): the consumer
     * lists it again.
     */
    private static boolean isListing(ChangedFile c) {
        return c.directory() && c.changes().contains(Change.WRITTEN);
    }

    private static boolean unchanged(StatStamp then, StatStamp now) {
        return then != null && now != null && then.inode() == now.inode() && then.size() == now.size()
                && then.mtimeNanos() == now.mtimeNanos() && then.ctimeNanos() == now.ctimeNanos();
    }

    /** Whether {@code path} is in the watched tree and nothing stands there now. */
    private boolean vacated(String path) {
        return isWatched(path) && namespace.at(path) == Namespace.Occupant.NOTHING;
    }

    /**
     * Whether {@code path} is the watched directory or below it. Compared as strings first (a
     * {@link Path} for each of a million entries cost 7% of an answer); a path a string prefix does
     * not settle (one with "//" or a "." component) is compared as a {@link Path}.
     */
    private boolean isWatched(String path) {
        if (path == null) {
            return false;
        }
        if (ResultPlanner.isAtOrBelow(path, watched.toString())) {
            return true;
        }
        return (path.contains("//") || path.contains("/.")) && Path.of(path).startsWith(watched);
    }
}
