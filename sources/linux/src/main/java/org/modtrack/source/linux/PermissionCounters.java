package org.modtrack.source.linux;

import java.util.concurrent.atomic.LongAdder;

/**
 * The pre-content group's counters, shared by its reader, its {@link Answerer} and its
 * {@link AccessRecorder}; read through {@link LinuxSource#eventCounts()} (see {@link EventCounts}).
 */
final class PermissionCounters {
    final LongAdder events = new LongAdder();
    final LongAdder reads = new LongAdder();
    final LongAdder writes = new LongAdder();
    final LongAdder directoryRecords = new LongAdder();
    final LongAdder alreadyRecorded = new LongAdder();
    final LongAdder failures = new LongAdder();
    final LongAdder answeredAtDeadline = new LongAdder();
    final LongAdder denied = new LongAdder();
}
