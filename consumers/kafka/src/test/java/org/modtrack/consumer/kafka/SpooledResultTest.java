package org.modtrack.consumer.kafka;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A daemon that takes a query and never answers cannot hold a task: the connection is closed and the query fails. */
class SpooledResultTest {
    @TempDir
    Path dir;

    @Test
    void aQueryThatGetsNoAnswerFailsAfterTheTimeoutAndLeavesNoSpoolFile() throws Exception {
        Path socket = dir.resolve("silent.sock");
        Path spool = Files.createDirectory(dir.resolve("spool"));
        try (ServerSocketChannel silent = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            silent.bind(UnixDomainSocketAddress.of(socket));
            Thread reader = Thread.ofVirtual().start(() -> {
                try (SocketChannel peer = silent.accept()) {
                    ByteBuffer b = ByteBuffer.allocate(4096);
                    while (peer.read(b) >= 0) {
                        b.clear(); // reads the request, answers nothing
                    }
                } catch (IOException e) {
                    // the test is over
                }
            });
            ModtrackSourceConfig config = new ModtrackSourceConfig(Map.of(ModtrackSourceConfig.SOCKET, socket.toString(),
                    ModtrackSourceConfig.ROOTS, "/data", ModtrackSourceConfig.TOPIC, "changes",
                    ModtrackSourceConfig.SPOOL_DIRECTORY, spool.toString(), ModtrackSourceConfig.TIMEOUT_MS, "300"));
            IOException e = assertThrows(IOException.class, () -> SpooledResult.query(config, "/data"));
            assertTrue(e.getMessage().contains("the daemon sent nothing for 300 ms"), e.getMessage());
            try (var files = Files.list(spool)) {
                assertTrue(files.findAny().isEmpty(), "the spool file of a failed query is removed");
            }
            reader.interrupt();
        }
    }
}
