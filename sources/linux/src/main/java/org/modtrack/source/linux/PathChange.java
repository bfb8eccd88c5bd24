package org.modtrack.source.linux;

import java.util.Locale;
import java.util.Objects;

/**
 * One entry of a {@link LinuxResult}: a path and what happened to it since the last blessed result.
 *
 * @param path the current absolute path (for a deleted file, the last path it had)
 * @param kind what happened
 * @param from for {@link Kind#RENAMED}: where it was when the consumer last saw it; otherwise null
 * @param directory true for a directory: a renamed or deleted directory stands for its whole
 *     subtree (a prefix entry: its descendants are not listed one by one)
 * @param carried a write to it was still in progress when the checkpoint stopped waiting; it will
 *     be reported again
 * @param recovered it was recorded before an unclean stop of the tracker
 * @param links the file's hard-link count; above 1, the file also has other paths, not listed
 * @param changed for {@link Kind#RENAMED}: whether its contents or attributes changed too, so the
 *     consumer reads it again after the move (false: only its name changed); true for every kind
 *     that is read again ({@link Kind#MODIFIED}, {@link Kind#CREATED}, {@link Kind#RESCAN},
 *     {@link Kind#LIST}), false for {@link Kind#DELETED}
 */
public record PathChange(String path, Kind kind, String from, boolean directory, boolean carried, boolean recovered,
                         int links, boolean changed) {
    /** What happened to a path. */
    public enum Kind {
        /** Contents or attributes changed (or may have: every doubt is reported as a change). */
        MODIFIED,
        /** Created since the last blessed result (and possibly written since). */
        CREATED,
        /** Removed since it was recorded; {@link #path} is the last path it had. */
        DELETED,
        /** Moved from {@link #from} (and possibly written since). */
        RENAMED,
        /** Everything below {@link #path} must be rescanned: the tracker cannot name the changes there. */
        RESCAN,
        /**
         * A directory to look at again and compare with what the consumer knows: its own
         * attributes, and its entries (which may have appeared, gone or been renamed), and its
         * files' contents and attributes (not its subdirectories' contents, which come as their own
         * entries). Only in results that name directories ({@link LinuxSourceOptions.Detail#DIRECTORIES}).
         */
        LIST;

        private final String wireName = name().toLowerCase(Locale.ROOT);

        /** The protocol's lower-case name. */
        public String wireName() {
            return wireName;
        }
    }

    public PathChange {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(kind, "kind");
        if ((from != null) != (kind == Kind.RENAMED)) {
            throw new IllegalArgumentException("only a rename has a from path, and it needs one: " + path);
        }
        if (kind != Kind.RENAMED && changed != (kind != Kind.DELETED)) {
            throw new IllegalArgumentException("only a rename says whether it changed; every other kind is read again"
                    + " except a deletion: " + path);
        }
    }

    /** An entry whose {@link #changed} follows from its kind (a rename: changed, to be safe). */
    public PathChange(String path, Kind kind, String from, boolean directory, boolean carried, boolean recovered,
                      int links) {
        this(path, kind, from, directory, carried, recovered, links, kind != Kind.DELETED);
    }
}
