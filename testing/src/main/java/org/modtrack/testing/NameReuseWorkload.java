package org.modtrack.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A writer that reuses names the way real trees do, as a Python child process: random operations
 * over a small name space (files rewritten, appended and truncated; renames over existing names,
 * swaps and chains; directories made, moved and removed; hard links; symbolic links, some dangling),
 * then a bulk rewrite of files under {@code bulk/}. The same seed gives the same operations on the
 * same tree.
 */
public final class NameReuseWorkload {
    private static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";

    /** Writes ROOT: OPS random operations over NAMES file names a directory, then rewrites BULK files under bulk/. */
    private static final String SCRIPT = """
            import os, random, shutil, sys
            root, seed, ops, bulk, names = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
            r = random.Random(seed)
            os.chdir(root)
            TOPS = ['d0', 'd1', 'd2', 'd3']
            def dirs():
                out = ['.']
                for d in TOPS:
                    if os.path.isdir(d):
                        out.append(d)
                        out.extend(os.path.join(d, e) for e in sorted(os.listdir(d)) if os.path.isdir(os.path.join(d, e)))
                return out
            def name():
                return os.path.join(r.choice(dirs()), 'f%d' % r.randrange(names))
            def files():
                return [os.path.join(d, e) for d in dirs() for e in sorted(os.listdir(d))
                        if os.path.isfile(os.path.join(d, e)) and not os.path.islink(os.path.join(d, e))]
            def some_file():
                f = files()
                return r.choice(f) if f else name()
            def data():
                return r.randbytes(r.choice((0, 9, 700, 5000, 40000)))
            for i in range(ops):
                k = r.randrange(13)
                try:
                    if k <= 1:
                        with open(name(), 'wb') as f: f.write(data())
                    elif k == 2:
                        with open(some_file(), 'ab') as f: f.write(data())
                    elif k == 3:
                        os.truncate(some_file(), r.randrange(3000))
                    elif k == 4:
                        os.replace(some_file(), name())
                    elif k == 5:
                        a, b = some_file(), some_file()
                        if a != b:
                            os.replace(a, 'swap.tmp'); os.replace(b, a); os.replace('swap.tmp', b)
                    elif k == 6:
                        a, b, c = some_file(), some_file(), name()
                        if a != b:
                            os.replace(b, c); os.replace(a, b)
                    elif k == 7:
                        d = r.choice(TOPS + [os.path.join(r.choice(TOPS), 's%d' % r.randrange(3))])
                        os.mkdir(d)
                    elif k == 8:
                        a = r.choice(dirs()[1:] or ['d0'])
                        b = r.choice(TOPS + [os.path.join(r.choice(TOPS), 's%d' % r.randrange(3))])
                        if not b.startswith(a + '/'):
                            os.rename(a, b)
                    elif k == 9 and r.randrange(4) == 0:
                        shutil.rmtree(r.choice(dirs()[1:] or ['d0']))
                    elif k == 10:
                        os.unlink(some_file())
                    elif k == 11:
                        t = name()
                        if os.path.lexists(t): os.unlink(t)
                        os.link(some_file(), t)
                    elif k == 12:
                        t = name()
                        if os.path.lexists(t): os.unlink(t)
                        os.symlink('target%d' % r.randrange(5), t)
                except OSError:
                    pass  # a name that is not there (any more), a directory not empty: the next operation
            for i in r.sample(range(4 * max(bulk, 1)), bulk):
                d = 'bulk/b%d' % (i // 100)
                os.makedirs(d, exist_ok=True)
                with open('%s/f%d' % (d, i), 'wb') as f: f.write(r.randbytes(r.randrange(1, 6000)))
            """;

    private NameReuseWorkload() {
    }

    /** The command that runs {@code ops} operations over 30 file names a directory, then rewrites {@code bulk} files, below {@code root}. */
    public static List<String> command(Path root, long seed, int ops, int bulk) {
        return command(root, seed, ops, bulk, 30);
    }

    /** Like {@link #command(Path, long, int, int)}, over {@code names} file names a directory. */
    public static List<String> command(Path root, long seed, int ops, int bulk, int names) {
        return List.of(PYTHON, "-c", SCRIPT, root.toString(), Long.toString(seed), Integer.toString(ops), Integer.toString(bulk),
                Integer.toString(names));
    }
}
