package org.modtrack.source.linux;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A file system tree in memory for tests of results: paths to objects, each a file or a directory
 * with an identity and a content version. Used both as the ground truth and as a consumer's view.
 */
final class ModelTree {
    /** One object: its identity, whether it is a directory, and its content (or attributes) version. */
    record Node(int id, boolean directory, int version) {}

    final TreeMap<String, Node> byPath = new TreeMap<>();

    ModelTree copy() {
        ModelTree t = new ModelTree();
        t.byPath.putAll(byPath);
        return t;
    }

    Node get(String path) {
        return byPath.get(path);
    }

    /** The entries strictly below {@code path}. */
    NavigableMap<String, Node> below(String path) {
        String prefix = path + "/";
        return byPath.subMap(prefix, true, prefix + Character.MAX_VALUE, false);
    }

    /** The direct children of {@code path}. */
    List<String> children(String path) {
        List<String> out = new ArrayList<>();
        for (String p : below(path).keySet()) {
            if (p.indexOf('/', path.length() + 1) < 0) {
                out.add(p);
            }
        }
        return out;
    }

    /** The paths below {@code root} (only the directories, with {@code root} itself, if {@code directoriesOnly}). */
    List<String> paths(String root, boolean directoriesOnly) {
        List<String> out = new ArrayList<>();
        if (directoriesOnly) {
            out.add(root);
        }
        for (Map.Entry<String, Node> e : below(root).entrySet()) {
            if (!directoriesOnly || e.getValue().directory()) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    /**
     * Fills {@code dir} with a random tree over {@code names}, {@code depth} levels of directories
     * deep; objects take ids from {@code nextId} on. Returns the next free id.
     */
    int fill(String dir, SplittableRandom r, int depth, int nextId, String[] names) {
        for (String name : names) {
            if (r.nextInt(3) == 0) {
                continue;
            }
            String p = dir + "/" + name;
            boolean directory = depth > 0 && r.nextInt(3) == 0;
            put(p, new Node(nextId++, directory, 0));
            if (directory) {
                nextId = fill(p, r, depth - 1, nextId, names);
            }
        }
        return nextId;
    }

    void put(String path, Node node) {
        byPath.put(path, node);
    }

    /** Removes {@code path} and everything below it. */
    void removeTree(String path) {
        byPath.remove(path);
        below(path).clear();
    }

    /** Moves {@code from} and its subtree to {@code to}, replacing what was at {@code to}. */
    void moveTree(String from, String to) {
        Map<String, Node> moving = new TreeMap<>();
        Node self = byPath.get(from);
        if (self != null) {
            moving.put(from, self);
        }
        moving.putAll(below(from));
        removeTree(from);
        removeTree(to);
        for (Map.Entry<String, Node> e : moving.entrySet()) {
            byPath.put(to + e.getKey().substring(from.length()), e.getValue());
        }
    }

    /** Copies {@code path} (and, with {@code subtree}, everything below it) from {@code source}, replacing what this tree has there. */
    void readFrom(ModelTree source, String path, boolean subtree) {
        if (subtree) {
            removeTree(path);
            source.below(path).forEach(byPath::put);
        }
        Node n = source.get(path);
        if (n == null) {
            removeTree(path); // gone by the time it is read: a later result says where it went
        } else {
            byPath.put(path, n);
        }
    }

    /** The first difference with {@code other}, or null if the trees are equal. */
    String differenceFrom(ModelTree other) {
        for (Map.Entry<String, Node> e : byPath.entrySet()) {
            Node o = other.byPath.get(e.getKey());
            if (!Objects.equals(o, e.getValue())) {
                return e.getKey() + ": " + e.getValue() + " here, " + o + " there";
            }
        }
        for (String p : other.byPath.keySet()) {
            if (!byPath.containsKey(p)) {
                return p + ": missing here, " + other.byPath.get(p) + " there";
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return byPath.toString();
    }
}
