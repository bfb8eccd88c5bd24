package org.modtrack.source.linux;

import java.util.Arrays;

/**
 * What {@code /proc/<tid>/syscall} says a thread is doing: inside system call {@code number} with
 * its six arguments, {@link #RUNNING} (on a CPU: the kernel does not say where), or not inside a
 * system call at all. Format: {@code "nr arg0 ... arg5 sp pc"} (hex arguments), {@code "running"},
 * or {@code "-1 sp pc"}.
 *
 * @param number the system call number (x86_64), or -1 when not in one, or -2 when running
 * @param args its six arguments (all zero unless in a system call)
 */
record SyscallState(int number, long[] args) {
    static final int NOT_IN_SYSCALL = -1;
    static final int RUNNING_NUMBER = -2;
    static final SyscallState RUNNING = new SyscallState(RUNNING_NUMBER, new long[6]);
    static final SyscallState NONE = new SyscallState(NOT_IN_SYSCALL, new long[6]);

    /** Parses one line of {@code /proc/<tid>/syscall}; anything unexpected counts as {@link #RUNNING}. */
    static SyscallState parse(String line) {
        String s = line.strip();
        if (s.isEmpty() || s.equals("running")) {
            return RUNNING;
        }
        String[] f = s.split(" ");
        try {
            int nr = Integer.parseInt(f[0]);
            if (nr < 0) {
                return NONE;
            }
            if (f.length < 7) {
                return RUNNING;
            }
            long[] args = new long[6];
            for (int i = 0; i < 6; i++) {
                args[i] = Long.parseUnsignedLong(f[i + 1].startsWith("0x") ? f[i + 1].substring(2) : f[i + 1], 16);
            }
            return new SyscallState(nr, args);
        } catch (NumberFormatException e) {
            return RUNNING;
        }
    }

    boolean inSyscall() {
        return number >= 0;
    }

    long arg(int i) {
        return args[i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SyscallState other && other.number == number && Arrays.equals(other.args, args);
    }

    @Override
    public int hashCode() {
        return 31 * number + Arrays.hashCode(args);
    }

    @Override
    public String toString() {
        return number == RUNNING_NUMBER ? "running" : number == NOT_IN_SYSCALL ? "not in a system call"
                : Syscalls.name(number) + Arrays.toString(args);
    }
}
