package org.modtrack.engine;

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
 */
public record ChangedFile(FileId file, Set<Change> changes, String renamedFrom, boolean directory, boolean carried,
                          boolean recovered, List<String> formerNames, boolean moreNames, List<String> namesLostIn,
                          boolean createdUnseen) {
    /** How many former names an entry keeps (a bound on memory for a file renamed again and again). */
    public static final int MAX_FORMER_NAMES = 8;
    /** How many directories of former names not kept an entry keeps, past which a result names the root. */
    public static final int MAX_LOST_DIRECTORIES = 4;

    public ChangedFile {
        changes = Set.copyOf(changes);
        formerNames = List.copyOf(formerNames);
        namesLostIn = List.copyOf(namesLostIn);
    }

    public ChangedFile(FileId file, Set<Change> changes, String renamedFrom, boolean directory, boolean carried,
                       boolean recovered) {
        this(file, changes, renamedFrom, directory, carried, recovered, List.of(), false, List.of(), false);
    }

    /** This entry with {@code changes} instead of its own. */
    public ChangedFile withChanges(Set<Change> changes) {
        return new ChangedFile(file, changes, renamedFrom, directory, carried, recovered, formerNames, moreNames,
                namesLostIn, createdUnseen);
    }

    /** True if its contents were or may have been written (or it was carried). */
    public boolean written() {
        return changes.contains(Change.WRITTEN);
    }
}
