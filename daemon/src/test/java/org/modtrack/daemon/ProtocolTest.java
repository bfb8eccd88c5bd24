package org.modtrack.daemon;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.modtrack.engine.Continuity;
import org.modtrack.source.linux.LinuxResult;
import org.modtrack.source.linux.PathChange;

/** The wire form of a result's entries, as docs/protocol.md gives it, field by field and in order. */
class ProtocolTest {
    @Test
    void anEntryHasItsFieldsInTheDocumentedOrder() throws Exception {
        PathChange renamed = new PathChange("/m/b \"q\" é", PathChange.Kind.RENAMED, "/m/a", false, true, false, 1, false);
        PathChange listed = new PathChange("/m/d", PathChange.Kind.LIST, null, true, false, true, 2);
        LinuxResult byName = new LinuxResult("default", 3, 2, false, Continuity.INTACT, List.of(renamed, listed), "srcu",
                Duration.ZERO, 0, 0, null, true);
        assertEquals("{\"path\":\"/m/b \\\"q\\\" é\",\"kind\":\"renamed\",\"from\":\"/m/a\",\"changed\":false,"
                + "\"directory\":false,\"carried\":true,\"recovered\":false,\"links\":1}",
                Protocol.MAPPER.writeValueAsString(Protocol.change(renamed, byName)));
        assertEquals("{\"path\":\"/m/d\",\"kind\":\"list\",\"namesOnly\":true,\"directory\":true,\"carried\":false,"
                + "\"recovered\":true,\"links\":2}", Protocol.MAPPER.writeValueAsString(Protocol.change(listed, byName)));
        LinuxResult byDirectory = new LinuxResult("default", 3, 2, false, Continuity.INTACT, List.of(listed), "srcu",
                Duration.ZERO, 0, 0, null, false);
        assertEquals("{\"path\":\"/m/d\",\"kind\":\"list\",\"directory\":true,\"carried\":false,\"recovered\":true,"
                + "\"links\":2}", Protocol.MAPPER.writeValueAsString(Protocol.change(listed, byDirectory)));
    }

    /** A daemon runs it on a thread of its own once listening: nothing of it may throw. */
    @Test
    void theWarmUpParsesAndWritesWithoutError() {
        assertDoesNotThrow(Protocol::warmUp);
    }
}
