package org.modtrack.engine;

import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * One file in a {@link QueryResult}.
 *
 * @param file the file, with the newest path hint and stamp the tracker saw
 * @param changes what happened to it since the last blessed result (never empty)
 * @param renamedFrom where it was before the first rename since the last blessed result, or null
 * @param directory true if it is a directory (a rename then moves its whole subtree)
 * @param carried true if a write to it was still in progress when the checkpoint stopped waiting:
 *     it stays recorded in the new period and will be reported again
 * @param recovered true if it may have been recorded before an unclean stop, so its stamp proves
 *     nothing (see docs/correctness.md)
 * @param formerNames other paths the tracker saw it under since the last blessed result (hard links,
 *     names before a rename or a directory move), oldest first; at most {@link #MAX_FORMER_NAMES}
 * @param moreNames true if it had more former names than are kept, in more directories than
 *     {@code namesLostIn} lists
 * @param namesLostIn the directories of former names that were not kept (at most
 *     {@link #MAX_LOST_DIRECTORIES})
 * @param createdUnseen true if it was created after every earlier result was made, so that no
 *     result named it before this one: a consumer cannot know it, even one that acted on a result it
 *     did not bless
 * @param freed true if the file system freed it: no name of it remains, and none can be given to it
 *     again, so whoever names the result needs not look for it ({@link ChangeTracker#recordFreed}).
 *     False says nothing: look.
 */
public record ChangedFile(FileId file, Set<Change> changes, String renamedFrom, boolean directory, boolean carried,
                          boolean recovered, List<String> formerNames, boolean moreNames, List<String> namesLostIn,
                          boolean createdUnseen, boolean freed) {
    /** How many former names an entry keeps (a bound on memory for a file renamed again and again). */
    public static final int MAX_FORMER_NAMES = 8;
    /** How many directories of former names not kept an entry keeps, past which a result names the root. */
    public static final int MAX_LOST_DIRECTORIES = 4;

    public ChangedFile {
        changes = canonical(changes);
        formerNames = List.copyOf(formerNames);
        namesLostIn = List.copyOf(namesLostIn);
    }

    public ChangedFile(FileId file, Set<Change> changes, String renamedFrom, boolean directory, boolean carried,
                       boolean recovered) {
        this(file, changes, renamedFrom, directory, carried, recovered, List.of(), false, List.of(), false, false);
    }

    /** This entry with {@code changes} instead of its own. */
    public ChangedFile withChanges(Set<Change> changes) {
        return new ChangedFile(file, changes, renamedFrom, directory, carried, recovered, formerNames, moreNames,
                namesLostIn, createdUnseen, freed);
    }

    /**
     * One unmodifiable set per combination of changes, shared by every entry that has it: a result
     * of a million entries made a hash set for each (a tenth of the engine's part of an answer), and
     * an {@link EnumSet}'s {@code contains}, asked several times per entry, is one bit test.
     */
    private static final List<Set<Change>> CANONICAL = canonicalSets();

    private static List<Set<Change>> canonicalSets() {
        Change[] all = Change.values();
        List<Set<Change>> sets = new ArrayList<>(1 << all.length);
        for (int mask = 0; mask < 1 << all.length; mask++) {
            EnumSet<Change> set = EnumSet.noneOf(Change.class);
            for (Change c : all) {
                if ((mask & 1 << c.ordinal()) != 0) {
                    set.add(c);
                }
            }
            sets.add(new CanonicalSet(set));
        }
        return List.copyOf(sets);
    }

    /**
     * A shared set of {@link #CANONICAL}, told apart by its class: an entry handed one keeps it
     * without iterating it (an iterator per entry was a twentieth of a large deletion's allocations).
     */
    private static final class CanonicalSet extends AbstractSet<Change> {
        private final EnumSet<Change> changes;
        /** The same, for iterators that cannot remove. */
        private final Set<Change> unmodifiable;

        CanonicalSet(EnumSet<Change> changes) {
            this.changes = changes;
            this.unmodifiable = Collections.unmodifiableSet(changes);
        }

        @Override
        public boolean contains(Object o) {
            return changes.contains(o); // one bit test
        }

        @Override
        public Iterator<Change> iterator() {
            return unmodifiable.iterator();
        }

        @Override
        public int size() {
            return changes.size();
        }
    }

    private static Set<Change> canonical(Set<Change> changes) {
        if (changes instanceof CanonicalSet) {
            return changes;
        }
        int mask = 0;
        for (Change c : changes) {
            mask |= bit(c);
        }
        return CANONICAL.get(mask);
    }

    /** {@code change}'s bit in a mask of changes ({@link #changeSet}). */
    static int bit(Change change) {
        return 1 << change.ordinal();
    }

    /** The shared set of the changes whose {@link #bit}s are in {@code mask}: a result's entries make no set each. */
    static Set<Change> changeSet(int mask) {
        return CANONICAL.get(mask);
    }

    /** True if its contents were or may have been written (or it was carried). */
    public boolean written() {
        return changes.contains(Change.WRITTEN);
    }
}
