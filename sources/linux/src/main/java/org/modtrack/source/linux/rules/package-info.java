/**
 * The Linux source's decisions that the deterministic simulator must make the same way, as small
 * pure functions (no system calls, no I/O, no threads) that both call: when a permission event is
 * answered with respect to its record ({@link org.modtrack.source.linux.rules.AnswerOrder}), when
 * an ignore mark may be set ({@link org.modtrack.source.linux.rules.EpochRule}), when a walk's
 * next directories are recorded ahead ({@link org.modtrack.source.linux.rules.SiblingRule}),
 * which files open for writing a checkpoint carries ({@link org.modtrack.source.linux.rules.CarryRule}),
 * what a walk by ctime counts as changed ({@link org.modtrack.source.linux.rules.WalkRule}), and when
 * a walk is trusted across a reboot ({@link org.modtrack.source.linux.rules.RebootRule}). A
 * change to one of them changes the product and its model together.
 */
package org.modtrack.source.linux.rules;
