package org.modtrack.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.modtrack.engine.Continuity;
import org.modtrack.source.linux.LinuxResult;
import org.modtrack.source.linux.PathChange;
import org.modtrack.testing.Seeded;

/** A result's entries written without the JSON generator are the generator's bytes, escapes and all. */
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
                // Sent after a few bytes or many: the pieces, and the commas across them.
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                ChangeLines lines = new ChangeLines(stream, r.listsByName(), random.nextInt(400),
                        b -> got.write(b.array(), b.arrayOffset() + b.position(), b.remaining()));
                got.writeBytes(stream ? new byte[0] : new byte[] {'['});
                for (int i = 0; i < changes.size(); i++) {
                    PathChange c = changes.get(i);
                    if (asScanned.get(i)) {
                        int slash = c.path().lastIndexOf('/');
                        byte[] name = c.path().substring(slash + 1).getBytes(StandardCharsets.UTF_8);
                        int offset = random.nextInt(3); // a name's bytes may be anywhere in the array the listing kept
                        byte[] kept = new byte[offset + name.length + random.nextInt(3)];
                        System.arraycopy(name, 0, kept, offset, name.length);
                        lines.scannedFile(c.path().substring(0, slash + 1), kept, offset, name.length, c.kind(), c.recovered());
                    } else {
                        lines.change(c);
                    }
                }
                lines.flush();
                got.writeBytes(stream ? new byte[0] : new byte[] {']'});
                assertEquals(expected.toString(StandardCharsets.UTF_8), got.toString(StandardCharsets.UTF_8),
                        "stream " + stream);
                assertArrayEquals(expected.toByteArray(), got.toByteArray(), "stream " + stream);
            }
        }
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
