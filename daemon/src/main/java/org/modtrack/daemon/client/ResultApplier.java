package org.modtrack.daemon.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/**
 * Applies a result to a consumer's copy of a watched root, entry after entry, exactly as
 * docs/protocol.md (<em>Applying a result</em>) says: the reference for client writers, and what
 * {@code modtrack mirror} runs. The consumer says how to do each step on its copy ({@link Copy});
 * this class decides which steps an entry takes and in what order.
 *
 * <p>A file is one entry, under one of its names: a consumer that keeps copies by path reads the
 * other names of the files named with more than one link too ({@link OtherLinks}).
 *
 * <p>Applying an entry a second time does no harm, so a consumer that stopped in the middle of a
 * result resumes from the entry it had reached ({@link #apply(JsonNode, int, Copy, Progress)}).
 */
public final class ResultApplier {
    private ResultApplier() {}

    /** The steps a consumer takes on its copy. Paths are the absolute paths of the result. */
    public interface Copy {
        /** Whether the copy holds something at {@code path}. */
        boolean holds(String path) throws IOException;

        /** Forgets {@code path} and everything below it. */
        void forget(String path) throws IOException;

        /** Moves what the copy holds at {@code from}, with everything below it, to {@code to}, replacing what was there. */
        void move(String from, String to) throws IOException;

        /**
         * Reads {@code path} from the file system as it is now: a file's contents and attributes, a
         * directory itself (not its entries). Something gone by now is forgotten.
         */
        void read(String path) throws IOException;

        /** Reads {@code path} and everything below it, forgetting first what the copy held there. */
        void readTree(String path) throws IOException;

        /**
         * Whether what the copy holds at {@code path} is what stands there now, as a stat tells
         * (inode, size, modification time); false when it cannot tell.
         */
        boolean current(String path) throws IOException;

        /**
         * A {@code list} entry: looks at directory {@code path} again (its attributes, its names, its
         * files' contents and attributes, a subdirectory new to the copy whole). By default it reads
         * the directory whole, which is always enough and costs a walk of its subtree.
         */
        default void list(String path) throws IOException {
            readTree(path);
        }

        /**
         * A {@code list} entry with {@code namesOnly}: compares directory {@code path}'s names only
         * (forgets the names it no longer has, reads the names new to the copy, a subdirectory whole);
         * what changed below the names it keeps has entries of its own. By default, {@link #list}.
         */
        default void listNames(String path) throws IOException {
            list(path);
        }
    }

    /** Told after each entry is applied, with the index of the next one. */
    @FunctionalInterface
    public interface Progress {
        void applied(int next) throws IOException;
    }

    /** Applies every entry of {@code result} (a query's response, with its {@code changes}) to {@code copy}. */
    public static void apply(JsonNode result, Copy copy) throws IOException {
        apply(result, 0, copy, next -> { });
    }

    /**
     * Applies the entries of {@code result} from index {@code from} on, telling {@code progress}
     * after each; then, if the result says continuity was lost, reads the whole root again (the
     * reason names what to rescan; the root covers it).
     */
    public static void apply(JsonNode result, int from, Copy copy, Progress progress) throws IOException {
        JsonNode changes = result.path("changes");
        for (int i = from; i < changes.size(); i++) {
            applyOne(changes.get(i), copy);
            progress.applied(i + 1);
        }
        if (asksForRescan(result)) {
            copy.readTree(result.path("root").asText());
        }
    }

    /**
     * Whether a result (or a stream's header) asks the consumer to rescan what its reason names:
     * continuity neither {@code intact} nor {@code reconciled} (a walk found what changed while no
     * tracker watched, and the entries name it).
     */
    public static boolean asksForRescan(JsonNode result) {
        String continuity = result.path("continuity").asText("intact");
        return !continuity.equals("intact") && !continuity.equals("reconciled");
    }

    /** Applies one entry; see docs/protocol.md for what each kind asks. */
    public static void applyOne(JsonNode change, Copy copy) throws IOException {
        String path = change.path("path").asText();
        boolean directory = change.path("directory").asBoolean();
        switch (change.path("kind").asText()) {
            case "deleted" -> copy.forget(path);
            case "renamed" -> {
                String from = change.path("from").asText();
                if (copy.holds(from)) {
                    copy.move(from, path);
                    if (change.path("changed").asBoolean(true) || !copy.current(path)) {
                        copy.read(path);
                    }
                } else if (directory) {
                    copy.readTree(path); // not where the result says: read it as if it were new, whole
                } else {
                    copy.forget(path);
                    copy.read(path);
                }
            }
            case "created" -> {
                copy.forget(path);
                copy.read(path);
            }
            case "modified" -> copy.read(path);
            case "rescan" -> copy.readTree(path);
            case "list" -> {
                if (change.path("namesOnly").asBoolean()) {
                    copy.listNames(path);
                } else {
                    copy.list(path);
                }
            }
            default -> throw new IOException("a change of an unknown kind '" + change.path("kind").asText() + "' at " + path
                    + ": this client speaks protocol version 1.");
        }
    }
}
