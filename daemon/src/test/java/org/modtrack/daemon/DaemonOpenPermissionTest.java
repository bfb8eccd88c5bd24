package org.modtrack.daemon;

import org.modtrack.source.linux.LinuxSourceOptions;

/**
 * Every {@link DaemonTest} again, with the daemon tracking through open-permission events only
 * ({@code --source open-perm}), as it does on kernels without pre-content events.
 */
class DaemonOpenPermissionTest extends DaemonTest {
    @Override
    LinuxSourceOptions.Hook hookUnderTest() {
        return LinuxSourceOptions.Hook.OPEN_PERM;
    }
}
