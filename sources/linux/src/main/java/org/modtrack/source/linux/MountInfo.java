package org.modtrack.source.linux;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One line of {@code /proc/self/mountinfo} (proc_pid_mountinfo(5)), the fields the source reads:
 * the mount's id, its superblock's device ("major:minor": /proc/PID/maps names files by it, while
 * stat gives a btrfs subvolume's files a device of their own), the directory of the file system it
 * shows ({@code root}), where it is ({@code point}, unescaped), and the file system's type.
 */
record MountInfo(long id, long superblockDev, String root, String point, String type) {
    static final Path FILE = Path.of("/proc/self/mountinfo");

    /** Every mount of {@code lines}, in their order; lines that are not a mount's are left out. */
    static List<MountInfo> parseAll(List<String> lines) throws IOException {
        List<MountInfo> out = new ArrayList<>(lines.size());
        for (String line : lines) {
            MountInfo m = parse(line);
            if (m != null) {
                out.add(m);
            }
        }
        return out;
    }

    /**
     * The mount {@code line} describes, or null if it has too few fields to be one.
     *
     * @throws IOException if a field it has is not what the kernel writes there
     */
    static MountInfo parse(String line) throws IOException {
        String[] f = line.split(" ");
        int dash = List.of(f).indexOf("-");
        if (dash < 6 || dash + 1 >= f.length) {
            return null;
        }
        try {
            return new MountInfo(Long.parseLong(f[0]), device(f[2]), unescape(f[3]), unescape(f[4]), f[dash + 1]);
        } catch (RuntimeException e) {
            throw new IOException("not a mount id and major:minor in this line of " + FILE + ": " + line, e);
        }
    }

    /**
     * The device a "major:minor" (decimal, as mountinfo writes it) names.
     *
     * @throws NumberFormatException if it is not one
     */
    static long device(String majorMinor) {
        int colon = majorMinor.indexOf(':');
        if (colon < 0) {
            throw new NumberFormatException("no colon in " + majorMinor);
        }
        return TrackedFilesystem.deviceNumber(Long.parseLong(majorMinor.substring(0, colon)),
                Long.parseLong(majorMinor.substring(colon + 1)));
    }

    /** {@code dev} as mountinfo writes it, "major:minor" in decimal: the inverse of {@link #device}. */
    static String majorMinor(long dev) {
        long major = ((dev >>> 8) & 0xfffL) | ((dev >>> 32) & 0xfffff000L);
        long minor = (dev & 0xffL) | ((dev >>> 12) & 0xffffff00L);
        return major + ":" + minor;
    }

    /** mountinfo escapes space, tab, newline and backslash as octal. */
    static String unescape(String field) {
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
