package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * The machine's current boot: the kernel's boot id, and when the boot began on the wall clock
 * (now less the time since boot, {@code /proc/uptime}, which counts suspended time too). A time
 * taken in another boot is trusted only as {@link org.modtrack.source.linux.rules.RebootRule} allows.
 *
 * <p>No test machine can reboot or lose power, so tests that play a reboot set the system property
 * {@value #SIMULATED} to {@code ID:STARTED_WALL_NANOS} (or with a space for the colon): this process
 * then takes that for its boot. Nothing else reads it.
 *
 * @param id the kernel's boot id
 * @param startedWallNanos a lower bound of the wall-clock time the boot began at, as the wall clock
 *     says now: every change made in this boot has a ctime at or after it unless the clock was set
 *     back since
 */
record Boot(String id, long startedWallNanos) {
    static final String SIMULATED = "modtrack.simulatedBoot";
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
    private static final Path UPTIME = Path.of("/proc/uptime");
    /** {@code /proc/uptime} has hundredths of a second: the boot began at most this much earlier than it says. */
    private static final long UPTIME_RESOLUTION_NANOS = 10_000_000L;
    private static volatile String realId;

    /** The current boot's id alone (no file read after the first). */
    static String currentId() throws IOException {
        String simulated = System.getProperty(SIMULATED);
        return simulated != null ? current().id() : realId();
    }

    private static String realId() throws IOException {
        String id = realId;
        if (id == null) {
            id = Files.readString(BOOT_ID).strip(); // it cannot change while this process runs
            realId = id;
        }
        return id;
    }

    /** The current boot (read each time: its start moves when the wall clock is set). */
    static Boot current() throws IOException {
        String simulated = System.getProperty(SIMULATED);
        if (simulated != null) {
            String[] f = simulated.strip().split("[: ]");
            if (f.length != 2) {
                throw new IOException(SIMULATED + " must be 'ID:STARTED_WALL_NANOS', not '" + simulated + "'");
            }
            return new Boot(f[0], Long.parseLong(f[1]));
        }
        String id = realId();
        Instant now = Instant.now();
        String uptime = Files.readString(UPTIME).strip();
        long sinceBootNanos = parseSeconds(uptime.substring(0, uptime.indexOf(' ')));
        return new Boot(id, now.getEpochSecond() * 1_000_000_000L + now.getNano() - sinceBootNanos - UPTIME_RESOLUTION_NANOS);
    }

    /** {@code "12345.67"} in nanoseconds. */
    static long parseSeconds(String seconds) {
        int dot = seconds.indexOf('.');
        long whole = Long.parseLong(dot < 0 ? seconds : seconds.substring(0, dot));
        long fraction = 0;
        if (dot >= 0) {
            String digits = (seconds.substring(dot + 1) + "000000000").substring(0, 9);
            fraction = Long.parseLong(digits);
        }
        return whole * 1_000_000_000L + fraction;
    }
}
