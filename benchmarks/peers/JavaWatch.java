import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.*;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;

/**
 * The Java contender: java.nio.file.WatchService registered recursively (every directory, and each
 * new directory when its ENTRY_CREATE arrives, walked then so that files made before the
 * registration are still logged). Logs "EVENT path" lines to LOG, flushed after each key's batch;
 * an OVERFLOW is logged as "OVERFLOW dir" (the consumer must then rescan). Prints "ready" once every
 * directory is registered. Usage: java JavaWatch ROOT LOG
 */
public final class JavaWatch {
    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        WatchService ws = FileSystems.getDefault().newWatchService();
        Map<WatchKey, Path> dirs = new HashMap<>();
        try (BufferedWriter log = Files.newBufferedWriter(Path.of(args[1]), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
            register(root, ws, dirs, null);
            System.out.println("ready");
            System.out.flush();
            while (true) {
                WatchKey key = ws.take();
                Path dir = dirs.get(key);
                for (WatchEvent<?> ev : key.pollEvents()) {
                    if (ev.kind() == StandardWatchEventKinds.OVERFLOW) {
                        log.write("OVERFLOW " + dir + "\n");
                        continue;
                    }
                    Path child = dir.resolve((Path) ev.context());
                    log.write(ev.kind().name() + " " + child + "\n");
                    if (ev.kind() == StandardWatchEventKinds.ENTRY_CREATE
                            && Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                        register(child, ws, dirs, log);
                    }
                }
                log.flush();
                if (!key.reset()) {
                    dirs.remove(key);
                }
            }
        }
    }

    private static void register(Path start, WatchService ws, Map<WatchKey, Path> dirs, BufferedWriter log)
            throws IOException {
        Files.walkFileTree(start, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                try {
                    dirs.put(d.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                            StandardWatchEventKinds.ENTRY_DELETE), d);
                } catch (NoSuchFileException | NotDirectoryException e) {
                    return FileVisitResult.SKIP_SUBTREE; // renamed or removed while walking (the churn workload)
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) {
                    throw e;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE; // gone while walking: its deletion is an event already
                }
                throw e;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                if (log != null) {
                    log.write("FOUND " + f + "\n");
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
