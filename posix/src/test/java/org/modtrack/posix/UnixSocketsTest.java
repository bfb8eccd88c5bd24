package org.modtrack.posix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixSocketsTest {
    @TempDir
    Path dir;

    @Test
    void aDescriptorSentArrivesAsANewDescriptorOfTheSameFileAndThePeerIsKnown() throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "x");
        Path socket = dir.resolve("s");
        int listening = UnixSockets.listen(socket, 1);
        int client = UnixSockets.connect(socket);
        int server = UnixSockets.accept(listening);
        int sent = Posix.open(file.toString(), Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        try {
            UnixSockets.Peer peer = UnixSockets.peer(server);
            assertEquals(ProcessHandle.current().pid(), peer.pid());
            assertEquals(((Number) Files.getAttribute(file, "unix:uid")).intValue(), peer.uid(), "this process's uid");

            UnixSockets.send(client, "take this", sent);
            UnixSockets.Message m = UnixSockets.receive(server);
            assertEquals("take this", m.text());
            assertEquals(1, m.fds().length);
            assertNotEquals(sent, m.fds()[0]);
            assertEquals(file.toRealPath().toString(), Posix.readlink("/proc/self/fd/" + m.fds()[0]));
            UnixSockets.closeAll(m.fds());

            UnixSockets.send(client, "no descriptors");
            UnixSockets.Message plain = UnixSockets.receive(server);
            assertEquals("no descriptors", plain.text());
            assertArrayEquals(new int[0], plain.fds());

            Posix.close(client, "the client");
            assertNull(UnixSockets.receive(server), "the end of the stream once the peer closed");
        } finally {
            Posix.close(sent, "the file");
            Posix.close(server, "the server");
            Posix.close(listening, "the listening socket");
        }
    }

    @Test
    void nobodyListeningIsEnoentOrEconnrefused() throws Exception {
        PosixException e = assertThrows(PosixException.class, () -> UnixSockets.connect(dir.resolve("none")));
        assertEquals(Errno.ENOENT, e.errno());
        Path socket = dir.resolve("gone");
        Posix.close(UnixSockets.listen(socket, 1), "a socket nobody accepts on");
        PosixException refused = assertThrows(PosixException.class, () -> UnixSockets.connect(socket));
        assertEquals(Errno.ECONNREFUSED, refused.errno());
    }

    /** A state directory under a long root path: the socket's path is longer than {@code sun_path} (107 bytes). */
    @Test
    void aSocketDeeperThanSunPathAllowsIsReachedThroughItsDirectory() throws Exception {
        Path deep = Files.createDirectories(dir.resolve("d".repeat(60)).resolve("e".repeat(60)));
        Path socket = deep.resolve("keeper.socket");
        int listening = UnixSockets.listen(socket, 1);
        try {
            assertTrue(Files.exists(socket), "the socket file is where it was asked for");
            int client = UnixSockets.connect(socket);
            int server = UnixSockets.accept(listening);
            UnixSockets.send(client, "deep");
            assertEquals("deep", UnixSockets.receive(server).text());
            Posix.close(client, "the client");
            Posix.close(server, "the server");
        } finally {
            Posix.close(listening, "the listening socket");
        }
    }

    @Test
    void aFileNameTooLongForSunPathIsRefusedInOneSentence() {
        Path longName = dir.resolve("x".repeat(120));
        PosixException e = assertThrows(PosixException.class, () -> UnixSockets.listen(longName, 1));
        assertEquals(Errno.ENAMETOOLONG, e.errno());
    }
}
