package org.modtrack.consumer.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What a reader of the topic knows of the root's tree (its paths, relative to the root), kept as
 * docs/kafka.md tells a reader to: each complete result applied, entry after entry, to the state
 * after the result its {@code lastBlessed} names (the newest complete result at or below it; the
 * tree the test started from if none), so that a result that repeats an unblessed one is applied
 * once. {@code rescan} and {@code list} entries, and a lost continuity, read the tree as it is at
 * the end of the test: enough to compare the final state, which is what this model is for.
 */
final class PathModel {
    private final Path root;
    private final NavigableSet<String> initial;
    /** The state after each complete result, by snapshot. */
    private final Map<Long, NavigableSet<String>> after = new HashMap<>();
    private NavigableSet<String> last;
    /** Entries that read the final tree instead of naming a change (rescan, list, a lost continuity). */
    int readsOfTheTree;

    PathModel(Path root, NavigableSet<String> initial) {
        this.root = root;
        this.initial = initial;
        this.last = initial;
    }

    /** The tree under {@code root} as relative paths, {@code lost+found} left out. */
    static NavigableSet<String> tree(Path root) throws IOException {
        NavigableSet<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(p -> !p.equals(root)).map(p -> root.relativize(p).toString())
                    .filter(p -> !p.equals("lost+found") && !p.startsWith("lost+found/")).forEach(out::add);
        }
        return out;
    }

    /**
     * One complete result as the topic holds it: its changes in order, and from its marker the
     * result it follows ({@code lastBlessed}) and its continuity.
     */
    record Result(long snapshot, long lastBlessed, String continuity, List<JsonNode> changes) {}

    /** Applies one complete result; returns the state after it. */
    NavigableSet<String> apply(Result r) {
        NavigableSet<String> base = initial;
        long baseSnapshot = -1;
        for (Map.Entry<Long, NavigableSet<String>> e : after.entrySet()) {
            if (e.getKey() <= r.lastBlessed() && e.getKey() > baseSnapshot) {
                baseSnapshot = e.getKey();
                base = e.getValue();
            }
        }
        // None at or below it: every result before it was empty (the connector blesses an empty intact
        // result without sending it), and it follows the tree the test started from. A complete result
        // before it on the topic, though, would have to be at or below the one it follows.
        boolean earlierOnTheTopic = after.keySet().stream().anyMatch(s -> s < r.snapshot());
        if (r.lastBlessed() > 0 && baseSnapshot < 0 && earlierOnTheTopic) {
            throw new AssertionError(r + " follows result " + r.lastBlessed() + ", and no complete result at or before it is on the topic");
        }
        NavigableSet<String> s = new TreeSet<>(base);
        if ("lost".equals(r.continuity())) {
            readsOfTheTree++;
            s = finalTree("");
        }
        for (JsonNode c : r.changes()) {
            String path = relative(c.path("path").asText());
            switch (c.path("kind").asText()) {
                case "deleted" -> removeSubtree(s, path);
                case "created" -> {
                    removeSubtree(s, path);
                    s.add(path);
                }
                case "modified" -> s.add(path);
                case "renamed" -> {
                    String from = relative(c.path("from").asText());
                    if (s.contains(from)) {
                        List<String> moved = new ArrayList<>();
                        for (String p : subtree(s, from)) {
                            moved.add(path + p.substring(from.length()));
                        }
                        removeSubtree(s, from);
                        removeSubtree(s, path);
                        s.addAll(moved);
                    } else if (c.path("directory").asBoolean()) {
                        rescan(s, path);
                    } else {
                        removeSubtree(s, path);
                        s.add(path);
                    }
                }
                case "rescan" -> rescan(s, path);
                case "list" -> list(s, path);
                default -> throw new AssertionError("an entry of unknown kind in " + r + ": " + c);
            }
        }
        after.put(r.snapshot(), s);
        last = s;
        return s;
    }

    /** The state after the last result applied. */
    NavigableSet<String> last() {
        return last;
    }

    private void rescan(NavigableSet<String> s, String path) {
        readsOfTheTree++;
        removeSubtree(s, path);
        s.addAll(finalTree(path));
    }

    /** A directory looked at again: names it lost are forgotten, names new to the reader read whole. */
    private void list(NavigableSet<String> s, String dir) {
        readsOfTheTree++;
        NavigableSet<String> now = finalTree(dir);
        String prefix = dir.isEmpty() ? "" : dir + "/";
        for (String p : new ArrayList<>(subtree(s, dir))) {
            if (!p.equals(dir) && p.indexOf('/', prefix.length()) < 0 && !now.contains(p)) {
                removeSubtree(s, p);
            }
        }
        for (String p : now) {
            String child = p.indexOf('/', prefix.length()) < 0 ? p : p.substring(0, p.indexOf('/', prefix.length()));
            if (!s.contains(child)) {
                s.addAll(subtree(now, child));
            }
        }
    }

    /** The final tree at and below {@code path} (relative; "" for the root itself, which is left out). */
    private NavigableSet<String> finalTree(String path) {
        Path p = path.isEmpty() ? root : root.resolve(path);
        if (!Files.exists(p)) {
            return new TreeSet<>();
        }
        try {
            NavigableSet<String> all = tree(root);
            return path.isEmpty() ? all : new TreeSet<>(subtree(all, path));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String relative(String absolute) {
        Path p = Path.of(absolute);
        if (!p.startsWith(root)) {
            throw new AssertionError("a path outside the root: " + absolute);
        }
        return root.relativize(p).toString();
    }

    /** {@code path} and everything below it in {@code s}. */
    static NavigableSet<String> subtree(NavigableSet<String> s, String path) {
        NavigableSet<String> out = new TreeSet<>();
        if (s.contains(path)) {
            out.add(path);
        }
        // Every path below starts with "path/": they sort between "path/" and "path0" ('0' follows '/').
        out.addAll(s.subSet(path + "/", true, path + "0", false));
        return out;
    }

    private static void removeSubtree(NavigableSet<String> s, String path) {
        s.remove(path);
        s.subSet(path + "/", true, path + "0", false).clear();
    }
}
