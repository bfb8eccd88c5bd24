package org.modtrack.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.modtrack.daemon.client.CompactEntries;
import org.modtrack.engine.Continuity;
import org.modtrack.source.linux.LinuxResult;
import org.modtrack.source.linux.PathChange;
import org.modtrack.testing.Seeded;

/**
 * A result's entries written without the JSON generator are the generator's bytes, escapes and all;
 * their compact form says the same.
 */
@ExtendWith(Seeded.class)
class ChangeLinesTest {
    /**
     * Chars of every class the escaping tells apart: plain, quote and backslash, controls, 2 and 3
     * UTF-8 bytes, surrogate pairs and halves alone.
     */
    private static final String[] PIECES = {"a", "Z9", "/", " ", "\"", "\\", "\n", "\t", "\b", "\f", "\r", "\u0000", "\u001f",
            "\u007f", "\u00e9", "\u07ff", "\u0800", "\u4e2d", "\ufffd", "\uffff", "\ud83d\ude00", "\udbff\udfff", "\ud800", "\udc00"};

    @Test
    void entriesAreTheGeneratorsBytes(SplittableRandom random) throws Exception {
        for (int round = 0; round < 200; round++) {
            // Entries, and scanned files (a directory's files one after another) given as such or as entries.
            List<PathChange> changes = new ArrayList<>();
            List<Boolean> asScanned = new ArrayList<>();
            for (int i = random.nextInt(30); i >= 0; i--) {
                if (random.nextBoolean()) {
                    changes.add(change(random));
                    asScanned.add(false);
                } else {
                    String directory = path(random) + "/";
                    for (int f = random.nextInt(5); f >= 0; f--) {
                        PathChange.Kind kind = random.nextBoolean() ? PathChange.Kind.CREATED : PathChange.Kind.MODIFIED;
                        // A listed name is valid UTF-8: no half of a surrogate pair alone.
                        changes.add(new PathChange(directory + name(random, PIECES.length - 2), kind, null, false, false,
                                random.nextBoolean(), 1));
                        asScanned.add(true);
                    }
                }
            }
            LinuxResult r = new LinuxResult("default", 3, 2, false, Continuity.INTACT, changes, "srcu", Duration.ZERO, 0, 0,
                    null, random.nextBoolean());
            for (boolean stream : new boolean[] {true, false}) {
                ByteArrayOutputStream expected = new ByteArrayOutputStream();
                try (JsonGenerator g = Protocol.MAPPER.getFactory().copy().setRootValueSeparator(null).createGenerator(expected)) {
                    if (!stream) {
                        g.writeStartArray();
                    }
                    for (PathChange c : changes) {
                        g.writeStartObject();
                        if (stream) {
                            g.writeStringField("type", "change");
                        }
                        Protocol.writeChangeFields(g, c, r);
                        g.writeEndObject();
                        if (stream) {
                            g.writeRaw('\n');
                        }
                    }
                    if (!stream) {
                        g.writeEndArray();
                    }
                }
                byte[] got = written(stream, null, r.listsByName(), changes, asScanned, random);
                assertEquals(expected.toString(StandardCharsets.UTF_8), new String(got, StandardCharsets.UTF_8), "stream " + stream);
                assertArrayEquals(expected.toByteArray(), got, "stream " + stream);
            }
        }
    }

    /**
     * The compact form of random entries, expanded as a client does ({@link CompactEntries}), is the
     * full form's: paths below the root, the root itself, paths beside it (kept absolute), every flag.
     */
    @Test
    void compactEntriesExpandToTheFullForm(SplittableRandom random) throws Exception {
        String[] roots = {"/", "/m", "/m\u00e9 d", "/m/\""};
        for (int round = 0; round < 300; round++) {
            String root = roots[random.nextInt(roots.length)];
            List<PathChange> changes = new ArrayList<>();
            List<Boolean> asScanned = new ArrayList<>();
            for (int i = random.nextInt(30); i >= 0; i--) {
                int shape = random.nextInt(4);
                if (shape == 0) {
                    changes.add(change(random));
                    asScanned.add(false);
                } else if (shape == 1) {
                    PathChange c = change(random);
                    String at = random.nextInt(4) == 0 ? root : below(root, random);
                    String from = c.from() == null ? null : random.nextInt(4) == 0 ? root : below(root, random);
                    changes.add(new PathChange(at, c.kind(), from, c.directory(), c.carried(), c.recovered(), c.links(), c.changed()));
                    asScanned.add(false);
                } else {
                    String directory = random.nextBoolean() ? (root.equals("/") ? "/" : root + "/") : below(root, random) + "/";
                    for (int f = random.nextInt(5); f >= 0; f--) {
                        PathChange.Kind kind = random.nextBoolean() ? PathChange.Kind.CREATED : PathChange.Kind.MODIFIED;
                        changes.add(new PathChange(directory + listedName(random), kind, null, false, false, random.nextBoolean(), 1));
                        asScanned.add(true);
                    }
                }
            }
            boolean listsByName = random.nextBoolean();
            for (boolean stream : new boolean[] {true, false}) {
                byte[] full = written(stream, null, listsByName, changes, asScanned, random);
                byte[] compact = written(stream, root, listsByName, changes, asScanned, random);
                List<JsonNode> fullEntries = entries(stream, full);
                List<JsonNode> compactEntries = entries(stream, compact);
                assertEquals(fullEntries.size(), compactEntries.size());
                for (int i = 0; i < fullEntries.size(); i++) {
                    assertEquals(fullEntries.get(i), CompactEntries.expand(root, compactEntries.get(i), stream),
                            "root " + root + ", stream " + stream + ", " + changes.get(i) + " as " + compactEntries.get(i));
                    assertFalse(compactEntries.get(i).has("type"), "a compact line has no type");
                }
                assertTrue(compact.length <= full.length, "compact " + compact.length + " B, full " + full.length + " B");
            }
        }
    }

    /**
     * Entries as {@link ChangeLines} writes them, sent after a few bytes or many (the pieces, and the
     * commas across them); scanned files as such, each name's bytes anywhere in a larger array, as
     * the listing keeps them.
     */
    private static byte[] written(boolean stream, String root, boolean listsByName, List<PathChange> changes,
                                  List<Boolean> asScanned, SplittableRandom random) throws Exception {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        ChangeLines lines = new ChangeLines(stream, root, listsByName, random.nextInt(400),
                b -> got.write(b.array(), b.arrayOffset() + b.position(), b.remaining()));
        got.writeBytes(stream ? new byte[0] : new byte[] {'['});
        for (int i = 0; i < changes.size(); i++) {
            PathChange c = changes.get(i);
            if (asScanned.get(i)) {
                int slash = c.path().lastIndexOf('/');
                byte[] name = c.path().substring(slash + 1).getBytes(StandardCharsets.UTF_8);
                int offset = random.nextInt(3);
                byte[] kept = new byte[offset + name.length + random.nextInt(3)];
                System.arraycopy(name, 0, kept, offset, name.length);
                lines.scannedFile(c.path().substring(0, slash + 1), kept, offset, name.length, c.kind(), c.recovered());
            } else {
                lines.change(c);
            }
        }
        lines.flush();
        got.writeBytes(stream ? new byte[0] : new byte[] {']'});
        return got.toByteArray();
    }

    /** The entries of {@code bytes}: its lines, or its array's elements. */
    private static List<JsonNode> entries(boolean stream, byte[] bytes) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        if (stream) {
            for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
                if (!line.isEmpty()) {
                    out.add(Protocol.MAPPER.readTree(line));
                }
            }
        } else {
            Protocol.MAPPER.readTree(bytes).forEach(out::add);
        }
        return out;
    }

    /** A path strictly below {@code root}, of names a directory can hold. */
    private static String below(String root, SplittableRandom random) {
        StringBuilder b = new StringBuilder(root.equals("/") ? "" : root);
        for (int i = random.nextInt(3); i >= 0; i--) {
            b.append('/').append(listedName(random));
        }
        return b.toString();
    }

    /** A name a listing can give: valid UTF-8, no slash, not "." or "..". */
    private static String listedName(SplittableRandom random) {
        String name = name(random, PIECES.length - 2).replace('/', '_');
        return name.equals(".") || name.equals("..") ? name + "_" : name;
    }

    private static PathChange change(SplittableRandom random) {
        PathChange.Kind kind = PathChange.Kind.values()[random.nextInt(PathChange.Kind.values().length)];
        int links = switch (random.nextInt(4)) {
            case 0 -> random.nextInt(Integer.MAX_VALUE);
            case 1 -> 0;
            default -> 1 + random.nextInt(9);
        };
        return new PathChange(path(random), kind, kind == PathChange.Kind.RENAMED ? path(random) : null, random.nextBoolean(),
                random.nextBoolean(), random.nextBoolean(), links,
                kind == PathChange.Kind.RENAMED ? random.nextBoolean() : kind != PathChange.Kind.DELETED);
    }

    private static String path(SplittableRandom random) {
        return "/m" + name(random);
    }

    private static String name(SplittableRandom random) {
        return name(random, PIECES.length);
    }

    /** A name of the first {@code pieces} of {@link #PIECES}. */
    private static String name(SplittableRandom random, int pieces) {
        StringBuilder b = new StringBuilder();
        for (int i = random.nextInt(12); i >= 0; i--) {
            b.append(PIECES[random.nextInt(pieces)]);
        }
        return b.toString();
    }
}
