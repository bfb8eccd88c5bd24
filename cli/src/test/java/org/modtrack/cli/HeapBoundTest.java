package org.modtrack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * The daemon's heap option: a size of at least 64 MiB, refused in one sentence otherwise, and a
 * warning where the JVM runs with another bound than the one asked for (bin/lib/launch.sh applies
 * it; ReleaseTest checks that it does, from the command line and from the config file).
 */
class HeapBoundTest {
    @Test
    void aSizeOfAtLeast64MiB() {
        assertEquals(2L << 30, HeapBound.check("2G"));
        assertEquals(64L << 20, HeapBound.check("64M"));
        assertEquals(64L << 20, HeapBound.check(Long.toString(64L << 20)));
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class, () -> HeapBound.check("10M"));
        assertEquals("--heap: at least 64M, not '10M'.", small.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> HeapBound.check("lots"));
        assertTrue(bad.getMessage().startsWith("--heap: expected a size"), bad.getMessage());
        assertEquals(1, bad.getMessage().lines().count());
    }

    @Test
    void aBoundOtherThanTheOneAskedForIsLogged() {
        Logger logger = Logger.getLogger(HeapBound.class.getName());
        List<LogRecord> records = new ArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(h);
        try {
            HeapBound.warnIfNotApplied("2000000000", 2_000_000_000L, 2_000_683_008L); // G1's regions round it up
            HeapBound.warnIfNotApplied("300M", 300L << 20, 300L << 20);
            assertEquals(List.of(), records.stream().map(LogRecord::getMessage).toList(), "applied");
            HeapBound.warnIfNotApplied("300M", 300L << 20, 6_320_816_128L); // the JVM's default: started without -Xmx
            assertEquals(1, records.size());
            assertTrue(records.getFirst().getMessage().contains("not the 300 MiB --heap 300M asks for"),
                    records.getFirst().getMessage());
        } finally {
            logger.removeHandler(h);
        }
    }
}
