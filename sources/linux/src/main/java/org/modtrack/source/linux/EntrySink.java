package org.modtrack.source.linux;

import java.io.IOException;

/**
 * Takes a result's entries in their order as the result keeps them ({@link LinuxResult#forEachEntry}):
 * most as {@link PathChange}s, and the files only a scan names as their directory and name, so that
 * a writer of a million of them makes no path and no object per file and encodes each directory once.
 */
public interface EntrySink {
    /** The next entry. */
    void change(PathChange c) throws IOException;

    /**
     * The next entry, a file only a scan names: {@code new PathChange(directory + name, kind, null,
     * false, false, recovered, 1)}, a file (not a directory), not carried, with one link; its name
     * given as the bytes its directory's listing had.
     *
     * @param directory its directory's path, ending in a slash; the same {@code String} for every
     *     file of a directory, one after another
     * @param name an array holding the name's bytes, valid UTF-8, at {@code [offset, offset + length)};
     *     not to be modified or kept
     */
    void scannedFile(String directory, byte[] name, int offset, int length, PathChange.Kind kind, boolean recovered)
            throws IOException;
}
