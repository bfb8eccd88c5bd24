package org.modtrack.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps a number a document repeats from the code equal to the code's: the phrase must still be in
 * the document, and each number it gives must be the value, so that a changed default or bound
 * fails a test until the document says the new one.
 */
public final class DocumentedNumbers {
    private DocumentedNumbers() {
    }

    /** The repository's root, from a module's directory (where Maven runs its tests). */
    public static Path repository() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("README.md"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no README.md above " + System.getProperty("user.dir"));
        }
        return dir;
    }

    /**
     * Every match of {@code phrase} in {@code document} (a path from the repository's root; one
     * match at least) gives {@code value} as its first group, commas aside. The document's runs of
     * white space, line breaks among them, are read as one space, so reflowing a paragraph keeps
     * its phrases.
     */
    public static void expect(String document, String phrase, long value) throws IOException {
        String text = Files.readString(repository().resolve(document), StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        Matcher m = Pattern.compile(phrase).matcher(text);
        List<Long> found = new ArrayList<>();
        while (m.find()) {
            found.add(Long.parseLong(m.group(1).replace(",", "")));
        }
        assertFalse(found.isEmpty(), () -> document + " no longer says \"" + phrase + "\": update the test with it");
        for (long f : found) {
            assertEquals(value, f, () -> document + " says " + f + " in \"" + phrase + "\"; the code's is " + value);
        }
    }
}
