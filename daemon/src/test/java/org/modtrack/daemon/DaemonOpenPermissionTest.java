package org.modtrack.daemon;

import java.io.IOException;
import org.junit.jupiter.api.BeforeAll;
import org.modtrack.source.linux.LinuxSourceOptions;

/**
 * Every {@link DaemonTest} again, with the daemon tracking through open-permission events only
 * ({@code --source open-perm}), as it does on kernels without pre-content events.
 */
class DaemonOpenPermissionTest extends DaemonTest {
    /** Hides {@link DaemonTest#startDaemon()}, so that only this one runs for this class. */
    @BeforeAll
    static void startDaemon() throws IOException {
        start(LinuxSourceOptions.Hook.OPEN_PERM);
    }
}
