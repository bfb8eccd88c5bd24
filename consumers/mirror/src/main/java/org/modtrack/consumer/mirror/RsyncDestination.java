package org.modtrack.consumer.mirror;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Any rsync destination ({@code host:path}, {@code rsync://...}, or a local path) kept equal to a
 * watched root. rsync cannot move a file at the destination, so a result is not applied step by
 * step: every path it names (each {@code path} and {@code from}) is brought to the state the
 * source has now, in one run of rsync for single paths ({@code --files-from --from0}), one for the
 * paths to read whole (directories moved, created or rescanned) and one for the directories of the
 * paths the source no longer has. All are idempotent, so a stopped run simply starts over. Exit
 * code 24 (files vanished during the transfer) counts as success: what vanished was changed again,
 * and a later result names it.
 */
final class RsyncDestination {
    private static final long TIMEOUT_HOURS = 24;
    /** rsync's exit code for files that vanished during the transfer: changed again, a later result names them. */
    private static final int VANISHED = 24;
    private static final String FILES_TRANSFERRED = "Number of regular files transferred:";
    private static final String BYTES_TRANSFERRED = "Total transferred file size:";
    /**
     * rsync's quick check (size and mtime) to the nanosecond, not its default whole second: a
     * same-size rewrite in the second of the last copy keeps the second but not the nanoseconds,
     * since a write after a stat always gets a fine-grained timestamp (docs/kernel-facts.md,
     * multigrain timestamps). Needs rsync 3.1.3 or later on both sides.
     */
    private static final String QUICK_CHECK_NS = "--modify-window=-1";
    private static final String SETPRIV = Files.isExecutable(Path.of("/usr/bin/setpriv")) ? "/usr/bin/setpriv" : null;
    private final Path source;
    private final String destination;
    private final MirrorStats stats;
    private final Set<String> paths = new LinkedHashSet<>();
    private final Set<String> trees = new LinkedHashSet<>();

    RsyncDestination(Path source, String destination, MirrorStats stats) {
        this.source = source;
        this.destination = destination.endsWith("/") ? destination : destination + "/";
        this.stats = stats;
    }

    /** Notes what one entry of a result names. */
    void note(JsonNode change) {
        String path = relative(change.path("path").asText());
        boolean directory = change.path("directory").asBoolean();
        String kind = change.path("kind").asText();
        if (change.hasNonNull("from")) {
            paths.add(relative(change.path("from").asText()));
        }
        boolean whole = kind.equals("rescan") || kind.equals("list") || (directory && !kind.equals("modified"));
        (whole ? trees : paths).add(path);
    }

    /** Notes a file to bring to the state the source has now (another name of a hard-linked file). */
    void noteFile(String path) {
        paths.add(relative(path));
    }

    /**
     * Runs rsync for what was noted; throws unless it succeeded. A path the source no longer has is
     * removed by syncing the nearest directory above it that the source still has, with
     * {@code --dirs --delete} (its entries only, the files by rsync's quick check to the nanosecond), not by
     * {@code --delete-missing-args}: rsync 3.2.7 as Debian ships it rejects that list when a missing
     * path follows one that exists ("invalid file mode 00": a security fix in its flist.c, RsyncProject/rsync#910).
     */
    void sync() throws IOException, InterruptedException {
        Set<String> prune = new TreeSet<>();
        for (String p : paths) {
            pruneFor(p, prune);
        }
        for (String p : trees) {
            pruneFor(p, prune);
        }
        if (!paths.isEmpty()) {
            // --ignore-times: the result says these changed, even if a rewrite kept size and mtime.
            run(List.of("--dirs", "--ignore-times", "--ignore-missing-args"), paths);
        }
        if (!trees.isEmpty()) {
            run(List.of("--recursive", "--delete", "--ignore-missing-args", QUICK_CHECK_NS), trees);
        }
        if (!prune.isEmpty()) {
            run(List.of("--dirs", "--delete", "--ignore-missing-args", QUICK_CHECK_NS), prune);
        }
        paths.clear();
        trees.clear();
    }

    /** If the source has nothing at {@code path}, notes the nearest directory above it that it has ("dir/."). */
    private void pruneFor(String path, Set<String> prune) {
        if (Files.exists(source.resolve(path), LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path p = Path.of(path).getParent();
        while (p != null && !Files.isDirectory(source.resolve(p), LinkOption.NOFOLLOW_LINKS)) {
            p = p.getParent();
        }
        // If that directory goes too before rsync runs, --ignore-missing-args skips it, and the
        // next result names its removal.
        prune.add(p == null ? "." : p + "/.");
    }

    /** The whole source (a first copy, or continuity lost). */
    void copyAll() throws IOException, InterruptedException {
        exec(List.of("-a", "--delete", QUICK_CHECK_NS, source + "/", destination), null);
    }

    private void run(List<String> options, Set<String> list) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("-lptgoD", "--files-from=-", "--from0"));
        args.addAll(options);
        args.add(source + "/");
        args.add(destination);
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        for (String p : list) {
            in.writeBytes(p.getBytes(StandardCharsets.UTF_8));
            in.write(0);
        }
        exec(args, in.toByteArray());
    }

    /**
     * Runs rsync with {@code args} and {@code --stats} (counted into the stats), feeding it
     * {@code input}. Under {@code setpriv --pdeathsig TERM} where there is one, so that an rsync
     * whose mirror was killed stops (and removes its temporary files) instead of writing on while
     * the next run starts.
     */
    private void exec(List<String> args, byte[] input) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (SETPRIV != null) {
            command.addAll(List.of(SETPRIV, "--pdeathsig", "TERM"));
        }
        command.add("rsync");
        command.add("--stats");
        command.addAll(args);
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("could not run rsync (" + e.getMessage() + "): install it (Debian: apt-get install rsync).", e);
        }
        Thread feeder = Thread.ofVirtual().start(() -> {
            try (OutputStream out = p.getOutputStream()) {
                if (input != null) {
                    out.write(input);
                }
            } catch (IOException e) {
                // rsync stopped reading: its exit code says why
            }
        });
        String firstError = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith(FILES_TRANSFERRED)) {
                    stats.filesCopied += number(line.substring(FILES_TRANSFERRED.length()));
                } else if (line.startsWith(BYTES_TRANSFERRED)) {
                    stats.bytesCopied += number(line.substring(BYTES_TRANSFERRED.length()));
                } else if (firstError == null && (line.startsWith("rsync:") || line.startsWith("rsync error"))) {
                    firstError = line;
                }
            }
        }
        if (!p.waitFor(TIMEOUT_HOURS, TimeUnit.HOURS)) {
            p.destroyForcibly();
            throw new IOException("rsync did not finish within " + TIMEOUT_HOURS + " hours.");
        }
        feeder.join();
        int code = p.exitValue();
        if (code != 0 && code != VANISHED) {
            throw new IOException("rsync failed with exit code " + code + ": " + (firstError == null ? "no message" : firstError));
        }
    }

    /** A number as rsync's statistics print it ("1,234" or "1,234 bytes"). */
    private static long number(String text) {
        String digits = text.strip().split(" ")[0].replace(",", "");
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            return 0; // a statistic in a format this rsync does not share: the count is left out, nothing else
        }
    }

    private String relative(String path) {
        Path p = Path.of(path);
        if (!p.startsWith(source)) {
            throw new IllegalArgumentException("a result named " + path + ", which is not under " + source + ".");
        }
        String r = source.relativize(p).toString();
        return r.isEmpty() ? "." : r;
    }
}
