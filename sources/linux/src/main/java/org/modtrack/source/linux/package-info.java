/**
 * The Linux fanotify source ({@link org.modtrack.source.linux.LinuxSource}): a permission group,
 * the pre-content group, whose events ({@code FAN_PRE_ACCESS} and {@code FAN_OPEN_PERM}, or opens
 * alone on kernels before 6.14) are answered only after the engine recorded the file or its
 * directory; a notification group that names creations, deletions, renames and, with directory
 * records, content changes after the fact; and the kernel behaviour both rely on, probed by
 * {@code KernelBehaviourTest} (docs/kernel-facts.md, docs/linux-source.md).
 *
 * <h2>One permission event</h2>
 *
 * <ol>
 *   <li><b>Read.</b> An access to a file that no ignore mark covers yet in the period blocks in
 *       the kernel. The pre-content group's {@link org.modtrack.source.linux.EventReader} thread reads the event;
 *       {@link org.modtrack.source.linux.PreContentListener} hands it to the
 *       {@link org.modtrack.source.linux.Answerer}, which makes it a
 *       {@link org.modtrack.source.linux.PermissionEvent} with a deadline, and queues it for a
 *       handler thread.</li>
 *   <li><b>Answer by the deadline.</b> From then on the {@code Answerer} answers it exactly once:
 *       its handler does, or, past the answer deadline, the deadline thread does by the failure
 *       policy (fail-open through {@link org.modtrack.source.linux.LossRecorder}).</li>
 *   <li><b>Record.</b> The handler gives the event to the
 *       {@link org.modtrack.source.linux.AccessRecorder}: it classifies the access from the blocked
 *       thread's system call ({@link org.modtrack.source.linux.AccessClassifier}, from
 *       {@code /proc/<tid>/syscall}), which fixes the
 *       {@link org.modtrack.source.linux.rules.AnswerOrder} (a read is answered at once, a write after its
 *       record), and records through the engine's {@code preWrite}, which returns once the record is
 *       as durable as configured: the directory the file was reached through as a scope (directory
 *       records, the default; noted in {@link org.modtrack.source.linux.BusyDirectories}), or the
 *       file itself.</li>
 *   <li><b>Mark.</b> It then sets an ignore mark on that directory (for all its children) or
 *       file, through {@link org.modtrack.source.linux.IgnoreMarks}, only if no checkpoint flushed
 *       the marks since it began recording: the rest of the period's accesses raise no event.</li>
 *   <li><b>Answer.</b> The handler allows the access ({@code FAN_ALLOW}) unless it was answered
 *       already, and closes the event's descriptor; then, with nobody waiting, it records ahead the
 *       sibling directories of a walk the event revealed
 *       ({@link org.modtrack.source.linux.SiblingScopes}).</li>
 * </ol>
 *
 * <h2>The other parts</h2>
 *
 * <ul>
 *   <li><b>Notification events</b>: {@link org.modtrack.source.linux.NotificationListener} records
 *       them after the fact (paths from {@link org.modtrack.source.linux.DirectoryPaths} and
 *       {@link org.modtrack.source.linux.HandleResolver}; children of removed directories in
 *       {@link org.modtrack.source.linux.OrphanedDeletions}); its queue bound is
 *       {@link org.modtrack.source.linux.NotificationQueueBound}'s.</li>
 *   <li><b>Checkpoints</b>: {@link org.modtrack.source.linux.DrainingBarrier} records the busy
 *       directories ahead, then runs the configured barrier
 *       ({@link org.modtrack.source.linux.SyscallBarrier}, {@code srcu}, or
 *       {@link org.modtrack.source.linux.FreezeBarrier}), which flushes the marks and waits for the
 *       writes in flight, and then drains the notification queue; files that stay writable without
 *       a system call are carried ({@link org.modtrack.source.linux.AlwaysWritable},
 *       {@link org.modtrack.source.linux.PreOpenedWriters}).</li>
 *   <li><b>/proc</b>: {@link org.modtrack.source.linux.ProcFs} reads other threads' system calls
 *       ({@link org.modtrack.source.linux.SyscallState}, {@link org.modtrack.source.linux.Syscalls}),
 *       descriptors and mappings.</li>
 *   <li><b>Continuity</b>: a clean stop's {@link org.modtrack.source.linux.Watermark}; after a gap
 *       or a queue overflow a walk ({@link org.modtrack.source.linux.Reconciler},
 *       {@link org.modtrack.source.linux.Reconciliation}, {@link org.modtrack.source.linux.CheckpointTimes});
 *       the notification queue kept across restarts ({@link org.modtrack.source.linux.QueueHolder}:
 *       {@link org.modtrack.source.linux.KeptQueue} and its
 *       {@link org.modtrack.source.linux.QueueKeeper}, or {@link org.modtrack.source.linux.SystemdStore};
 *       {@link org.modtrack.source.linux.Handover}); the
 *       {@link org.modtrack.source.linux.Watchdog} that ends a stopped tracker.</li>
 *   <li><b>Results</b>: {@link org.modtrack.source.linux.ResultResolver} names each change by its
 *       current path ({@link org.modtrack.source.linux.LiveNamespace}) and
 *       {@link org.modtrack.source.linux.ResultPlanner} orders the entries for a consumer
 *       ({@link org.modtrack.source.linux.LinuxResult}, {@link org.modtrack.source.linux.PathChange}).</li>
 * </ul>
 */
package org.modtrack.source.linux;
