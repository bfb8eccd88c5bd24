/**
 * The Linux fanotify source: a permission group whose events ({@code FAN_PRE_ACCESS} and
 * {@code FAN_OPEN_PERM}, or opens alone on kernels before 6.14) are answered only after the engine
 * recorded the file or its directory, a notification group that names creations, deletions,
 * renames and content changes after the fact, and the kernel behaviour both rely on, probed by
 * {@code KernelBehaviourTest} (docs/kernel-facts.md, docs/linux-source.md).
 */
package org.modtrack.source.linux;
