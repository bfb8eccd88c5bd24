package org.modtrack.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Java code names other classes through imports, not inline fully qualified names such as
 * {@code java.util.concurrent.TimeUnit.SECONDS} in the middle of a statement: imports keep a reader's
 * eye on the logic rather than on package paths, and say in one place what a file depends on. This
 * test scans every module's {@code src/main/java} and {@code src/test/java} and fails, listing
 * {@code file:line: name}, on any inline qualified name of a class under {@code java.}, {@code javax.},
 * {@code com.fasterxml.} or {@code org.modtrack.}, so the build fails on new ones.
 *
 * <p>Comments (Javadoc's {@code {@link java.x.Y}} included), string and character literals, text
 * blocks, and import and package lines are not looked at. Where the simple name would clash with
 * another class of that name, keep the qualified name and end the line with a
 * {@code // qualified: clashes with X} comment; such a line is not reported.
 */
class ImportsTest {
    /** A qualified class name: a root package, lower-case package names, then a capitalised class. */
    private static final Pattern QUALIFIED = Pattern.compile(
            "(?<![\\w.$])(?:java|javax|com\\.fasterxml|org\\.modtrack)(?:\\.[a-z_][a-z0-9_]*)+\\.[A-Z][\\w$]*");
    /** The escape: a line whose trailing comment starts like this is not reported. */
    private static final String ESCAPE = "// qualified:";

    @Test
    void noInlineQualifiedClassNames() throws IOException {
        Path root = repositoryRoot();
        List<Path> sources = javaSources(root);
        assertTrue(sources.size() > 50, "found only " + sources.size() + " Java sources under " + root);
        List<String> found = new ArrayList<>();
        for (Path file : sources) {
            String name = root.relativize(file).toString();
            for (Hit hit : scan(Files.readAllLines(file))) {
                found.add(name + ":" + hit.line() + ": " + hit.name());
            }
        }
        if (!found.isEmpty()) {
            fail(found.size() + " inline qualified class name(s); import them instead (or, where the simple"
                    + " name clashes, end the line with '" + ESCAPE + " clashes with X'):\n"
                    + String.join("\n", found));
        }
    }

    @Test
    void scannerLooksOnlyAtCode() {
        List<String> lines = List.of(
                "package org.modtrack.x.y;",
                "import java.util.List;",
                "import static java.util.Objects.requireNonNull;",
                "/** See {@link java.util.Map} and",
                " * java.util.Set for more. */",
                "class A {",
                "    // java.util.Deque here is only a comment",
                "    String s = \"java.util.Queue \\\" java.util.Stack\"; char c = '\"';",
                "    String t = \"\"\"",
                "        java.util.Vector inside a text block \\\"\"\" still inside",
                "        \"\"\"; java.util.Random r;",
                "    /* java.util.Timer */ java.time.Duration d; /* open",
                "       java.util.Scanner */ java.util.concurrent.TimeUnit.SECONDS.sleep(1);",
                "    java.util.Date d2; // qualified: clashes with java.sql.Date",
                "    org.modtrack.engine.journal.Journal j; Xjava.util.Foo notOne; a.java.util.Bar notTwo;",
                "}");
        assertEquals(List.of(
                        new Hit(11, "java.util.Random"),
                        new Hit(12, "java.time.Duration"),
                        new Hit(13, "java.util.concurrent.TimeUnit"),
                        new Hit(15, "org.modtrack.engine.journal.Journal")),
                scan(lines));
    }

    /** An inline qualified class name at a 1-based line. */
    record Hit(int line, String name) { }

    /** The inline qualified class names in a Java source's lines, outside comments and literals. */
    static List<Hit> scan(List<String> lines) {
        List<Hit> hits = new ArrayList<>();
        State state = State.CODE;
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            StringBuilder code = new StringBuilder(line.length());
            String lineComment = "";
            int i = 0;
            while (i < line.length()) {
                if (state == State.BLOCK_COMMENT) {
                    int end = line.indexOf("*/", i);
                    i = end < 0 ? line.length() : end + 2;
                    if (end >= 0) {
                        state = State.CODE;
                        code.append(' ');
                    }
                } else if (state == State.TEXT_BLOCK) {
                    int end = closingQuotes(line, i, "\"\"\"");
                    i = end < 0 ? line.length() : end + 3;
                    if (end >= 0) {
                        state = State.CODE;
                        code.append("\"\"");
                    }
                } else if (line.startsWith("//", i)) {
                    lineComment = line.substring(i);
                    break;
                } else if (line.startsWith("/*", i)) {
                    state = State.BLOCK_COMMENT;
                    i += 2;
                } else if (line.startsWith("\"\"\"", i)) {
                    state = State.TEXT_BLOCK;
                    i += 3;
                } else if (line.charAt(i) == '"' || line.charAt(i) == '\'') {
                    String quote = String.valueOf(line.charAt(i));
                    int end = closingQuotes(line, i + 1, quote);
                    i = end < 0 ? line.length() : end + 1;
                    code.append(quote).append(quote);
                } else {
                    code.append(line.charAt(i));
                    i++;
                }
            }
            String text = code.toString().strip();
            if (text.startsWith("import ") || text.startsWith("package ") || lineComment.startsWith(ESCAPE)) {
                continue;
            }
            Matcher m = QUALIFIED.matcher(text);
            while (m.find()) {
                hits.add(new Hit(n + 1, m.group()));
            }
        }
        return hits;
    }

    private enum State { CODE, BLOCK_COMMENT, TEXT_BLOCK }

    /** Where {@code quotes} next closes a literal from {@code from}, skipping escapes; -1 if not on this line. */
    private static int closingQuotes(String line, int from, String quotes) {
        for (int i = from; i < line.length(); i++) {
            if (line.charAt(i) == '\\') {
                i++;
            } else if (line.startsWith(quotes, i)) {
                return i;
            }
        }
        return -1;
    }

    /** Every {@code src/main/java} and {@code src/test/java} source, leaving out build output and hidden ones. */
    private static List<Path> javaSources(Path root) throws IOException {
        List<Path> sources = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                String name = dir.getFileName().toString();
                boolean nestedCheckout = !dir.equals(root) && Files.exists(dir.resolve(".git"));
                return !dir.equals(root) && (name.equals("target") || name.startsWith(".")) || nestedCheckout
                        ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String path = root.relativize(file).toString().replace('\\', '/');
                if (path.endsWith(".java") && (path.contains("src/main/java/") || path.contains("src/test/java/"))) {
                    sources.add(file);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        sources.sort(null);
        return sources;
    }

    /** The directory above the working directory (a module's, under Maven) that holds {@code mvnw}. */
    private static Path repositoryRoot() {
        Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("mvnw")) && Files.isRegularFile(dir.resolve("pom.xml"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no mvnw above " + start);
    }
}
