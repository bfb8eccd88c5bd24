/**
 * The Linux fanotify source (to come): a pre-content group whose {@code FAN_PRE_ACCESS} events are
 * answered only after the engine recorded the file, with the kernel behaviour it relies on probed
 * by {@code KernelBehaviourTest} (docs/kernel-facts.md).
 */
package org.modtrack.source.linux;
