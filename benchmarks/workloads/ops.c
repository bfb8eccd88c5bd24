/* Every workload of modtrack's benchmarks, one subcommand each: benchmarks/peers/run and
 * bin/bench-linux compile this one file. Each changed path is appended to LOG (the ground truth
 * the peer benchmark checks answers against), outside the mount; LOG "-": no log.
 *
 *   ops write DIR COUNT SIZE LOG PACE_US [MODIFY_LIST]
 *       creates DIR, then COUNT files DIR/f000000.. of SIZE bytes each (open O_CREAT|O_WRONLY|O_TRUNC,
 *       one write, close), interleaved with one 100-byte append to each path listed in MODIFY_LIST
 *       (one per line); each path is logged as soon as it changed (a kill mid-run leaves the truth
 *       so far), then PACE_US microseconds of sleep (0: none). The small-file writers.
 *   ops mkfiles DIR FIRST NDIRS PERDIR SIZE LOG
 *       creates DIR/dNNNNN/fNNNN for dirs FIRST..FIRST+NDIRS-1, PERDIR files of SIZE bytes each
 *       (base trees, the latency sweep, the directory workload's setup)
 *   ops append FILE TOTAL CHUNK REOPEN LOG
 *       appends TOTAL bytes to FILE in CHUNK-byte writes, closing and reopening it every REOPEN
 *       bytes (a log writer); logs FILE once
 *   ops compile LIST FIRST LAST PER_UNIT HOTLIST NHOT OBJDIR LOG [HOT_PER_UNIT (4)] [SPREAD (0)]
 *       a kernel-build-like compiler: unit u in [FIRST, LAST) reads the PER_UNIT files
 *       LIST[u*PER_UNIT ..] ("sources") and HOT_PER_UNIT of the first NHOT files of HOTLIST
 *       ("headers", read again and again), then writes a 16 KiB object and logs it: OBJDIR/uNNNNNN.o,
 *       or with SPREAD > 0 OBJDIR/d<u % SPREAD>/uNNNNNN.o (those directories must exist)
 *   ops link OBJDIR N OUT LOG [SPREAD (0)]
 *       reads the objects of units 0..N-1 (laid out as compile wrote them) and writes their
 *       concatenation to OUT; logs OUT
 *   ops churn ROOT NDIRS LOG PACE_US
 *       for each directory ROOT/dNNNNN (0..NDIRS-1): an even one is renamed to ROOT/rNNNNN (its
 *       files' old and new paths are logged), an odd one is deleted file by file, then removed
 *       (its files' paths are logged); PACE_US pause after each directory
 *   ops rename DIR N LOG
 *       renames DIR/fNNNNNN to DIR/fNNNNNN.r for N files, as fast as it can (the overrun burst);
 *       logs old and new paths
 *   ops pwrites DIR NFILES PERIOD_US TIMES
 *       the "other writer" of bin/bench-linux checkpoint: opens DIR/s0..s<NFILES-1>, prints
 *       "ready", then pwrites 4 KiB to them round-robin, one call every PERIOD_US microseconds
 *       (an absolute schedule; a late call is not caught up), until SIGTERM. Each call's
 *       CLOCK_MONOTONIC start and end (ns, the JVM's System.nanoTime clock) and the time the thread
 *       spent runnable but waiting for a CPU around it (ns, the run_delay of
 *       /proc/thread-self/schedstat read just before the start and just after the end, so it may
 *       include a little outside the call) go to memory; at SIGTERM they are written to TIMES as
 *       little-endian int64 triples.
 *   ops bigwrite FILE BYTES
 *       one write() call of BYTES bytes (at most 2 GiB - 4 KiB, the kernel's cap): fills its buffer
 *       and opens FILE (O_CREAT|O_TRUNC), prints "ready", waits for a line on stdin, then prints
 *       "start <ns>", makes the call, and prints "end <ns> <returned>" (CLOCK_MONOTONIC).
 * Why C: a workload whose own cost is small shows a tracker's overhead instead of hiding it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, const char *path) {
    fprintf(stderr, "ops: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

/* A count, size or time argument: a non-negative decimal number, else a one-line error. */
static long num(const char *arg) {
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != 0 || v < 0) {
        fprintf(stderr, "ops: not a non-negative number: '%s'\n", arg);
        exit(2);
    }
    return v;
}

static int openlog(const char *path) {
    if (strcmp(path, "-") == 0) return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) die("open log", path);
    return fd;
}

/* Buffered log: paths are only read after the process has exited. */
static char logbuf[1 << 16];
static size_t loglen;
static int logfd = -1;

static void logflush(void) {
    if (logfd >= 0 && loglen > 0 && write(logfd, logbuf, loglen) != (ssize_t)loglen) die("log", "");
    loglen = 0;
}

static void logpath(const char *path) {
    if (logfd < 0) return;
    size_t n = strlen(path);
    if (loglen + n + 1 > sizeof logbuf) logflush();
    memcpy(logbuf + loglen, path, n);
    logbuf[loglen + n] = '\n';
    loglen += n + 1;
}

static void writefile(const char *path, const char *buf, long size) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("create", path);
    if (size > 0 && write(fd, buf, (size_t)size) != size) die("write", path);
    close(fd);
}

static long readfile(const char *path, char *buf, long cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("open", path);
    long total = 0;
    ssize_t n;
    while ((n = read(fd, buf, (size_t)cap)) > 0) total += n;
    if (n < 0) die("read", path);
    close(fd);
    return total;
}

static char **readlist(const char *path, long *count) {
    FILE *f = fopen(path, "r");
    if (!f) die("open list", path);
    char **out = NULL;
    long n = 0, cap = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0]) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            out = realloc(out, sizeof *out * (size_t)cap);
        }
        out[n++] = strdup(line);
    }
    fclose(f);
    *count = n;
    return out;
}

static int write_files(char **a, int n) {
    const char *dir = a[0];
    long count = num(a[1]), size = num(a[2]), pace = num(a[4]);
    logfd = openlog(a[3]);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) die("mkdir", dir);
    char *buf = malloc((size_t)size + 1);
    memset(buf, 'x', (size_t)size);
    long nmods = 0;
    char **mods = n > 5 ? readlist(a[5], &nmods) : NULL;
    long total = count > nmods ? count : nmods;
    char path[4096];
    for (long i = 0; i < total; i++) {
        if (i < nmods) {
            int fd = open(mods[i], O_WRONLY | O_APPEND);
            if (fd < 0) die("open", mods[i]);
            if (write(fd, buf, 100) != 100) die("append", mods[i]);
            close(fd);
            logpath(mods[i]);
            logflush();
        }
        if (i < count) {
            snprintf(path, sizeof path, "%s/f%06ld", dir, i);
            writefile(path, buf, size);
            logpath(path);
            logflush();
        }
        if (pace > 0) usleep((useconds_t)pace);
    }
    return 0;
}

static int mkfiles(char **a, int nargs) {
    (void)nargs;
    const char *dir = a[0];
    long first = num(a[1]), ndirs = num(a[2]), per = num(a[3]), size = num(a[4]);
    logfd = openlog(a[5]);
    char *buf = calloc(1, (size_t)size + 1);
    memset(buf, 'y', (size_t)size);
    char path[4096];
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) die("mkdir", dir);
    for (long d = first; d < first + ndirs; d++) {
        snprintf(path, sizeof path, "%s/d%05ld", dir, d);
        if (mkdir(path, 0755) != 0 && errno != EEXIST) die("mkdir", path);
        for (long i = 0; i < per; i++) {
            snprintf(path, sizeof path, "%s/d%05ld/f%04ld", dir, d, i);
            writefile(path, buf, size);
            logpath(path);
        }
    }
    logflush();
    return 0;
}

static int append(char **a, int nargs) {
    (void)nargs;
    const char *file = a[0];
    long total = num(a[1]), chunk = num(a[2]), reopen = num(a[3]);
    logfd = openlog(a[4]);
    char *buf = malloc((size_t)chunk);
    memset(buf, 'a', (size_t)chunk);
    long done = 0;
    while (done < total) {
        int fd = open(file, O_WRONLY | O_APPEND);
        if (fd < 0) die("open", file);
        long upto = done + reopen < total ? done + reopen : total;
        while (done < upto) {
            long n = upto - done < chunk ? upto - done : chunk;
            if (write(fd, buf, (size_t)n) != n) die("append", file);
            done += n;
        }
        close(fd);
    }
    logpath(file);
    logflush();
    return 0;
}

/* An object's path: OBJDIR/uNNNNNN.o, or with spread OBJDIR/d<u % spread>/uNNNNNN.o. */
static void objpath(char *path, size_t cap, const char *objdir, long u, long spread) {
    if (spread > 0) snprintf(path, cap, "%s/d%ld/u%06ld.o", objdir, u % spread, u);
    else snprintf(path, cap, "%s/u%06ld.o", objdir, u);
}

static int compile(char **a, int n) {
    long nlist, nhot;
    char **list = readlist(a[0], &nlist);
    long first = num(a[1]), last = num(a[2]), per = num(a[3]);
    char **hot = readlist(a[4], &nhot);
    long usehot = num(a[5]);
    if (usehot > nhot) usehot = nhot;
    const char *objdir = a[6];
    logfd = openlog(a[7]);
    long hotper = n > 8 ? num(a[8]) : 4, spread = n > 9 ? num(a[9]) : 0;
    static char buf[1 << 16], obj[16384];
    char path[4096];
    if (mkdir(objdir, 0755) != 0 && errno != EEXIST) die("mkdir", objdir);
    for (long u = first; u < last; u++) {
        long sum = 0;
        for (long k = 0; k < per && u * per + k < nlist; k++) sum += readfile(list[u * per + k], buf, sizeof buf);
        for (long k = 0; k < hotper && usehot > 0; k++) sum += readfile(hot[(u * 7 + k * 13) % usehot], buf, sizeof buf);
        memset(obj, (int)(sum & 0x7f), sizeof obj);
        objpath(path, sizeof path, objdir, u, spread);
        writefile(path, obj, sizeof obj);
        logpath(path);
    }
    logflush();
    return 0;
}

static int link_objs(char **a, int nargs) {
    const char *objdir = a[0];
    long n = num(a[1]), spread = nargs > 4 ? num(a[4]) : 0;
    const char *out = a[2];
    logfd = openlog(a[3]);
    static char buf[1 << 16];
    char path[4096];
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("create", out);
    for (long u = 0; u < n; u++) {
        objpath(path, sizeof path, objdir, u, spread);
        long got = readfile(path, buf, sizeof buf);
        if (got > (long)sizeof buf) got = sizeof buf;
        if (write(fd, buf, (size_t)got) != got) die("write", out);
    }
    close(fd);
    logpath(out);
    logflush();
    return 0;
}

/* Logs every regular file below dir as prefix/name (prefix: the path to log it under). */
static void logtree(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    if (!d) die("opendir", dir);
    struct dirent *e;
    char p1[4096], p2[4096];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
        snprintf(p1, sizeof p1, "%s/%s", dir, e->d_name);
        snprintf(p2, sizeof p2, "%s/%s", prefix, e->d_name);
        if (e->d_type == DT_DIR) logtree(p1, p2);
        else logpath(p2);
    }
    closedir(d);
}

static void rmtree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) die("opendir", dir);
    struct dirent *e;
    char p[4096];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (e->d_type == DT_DIR) rmtree(p);
        else {
            if (unlink(p) != 0) die("unlink", p);
            logpath(p);
        }
    }
    closedir(d);
    if (rmdir(dir) != 0) die("rmdir", dir);
}

static int churn(char **a, int nargs) {
    (void)nargs;
    const char *root = a[0];
    long ndirs = num(a[1]);
    logfd = openlog(a[2]);
    long pace = num(a[3]);
    char from[4096], to[4096];
    for (long d = 0; d < ndirs; d++) {
        snprintf(from, sizeof from, "%s/d%05ld", root, d);
        if (d % 2 == 0) {
            snprintf(to, sizeof to, "%s/r%05ld", root, d);
            logtree(from, from); /* the old paths: gone */
            if (rename(from, to) != 0) die("rename", from);
            logtree(to, to);     /* the new paths */
        } else {
            rmtree(from);
        }
        logflush(); /* a kill mid-run must find the truth of the directories done so far */
        if (pace > 0) usleep((useconds_t)pace);
    }
    return 0;
}

static int renames(char **a, int nargs) {
    (void)nargs;
    const char *dir = a[0];
    long n = num(a[1]);
    logfd = openlog(a[2]);
    char from[4096], to[4096];
    for (long i = 0; i < n; i++) {
        snprintf(from, sizeof from, "%s/f%06ld", dir, i);
        snprintf(to, sizeof to, "%s/f%06ld.r", dir, i);
        if (rename(from, to) != 0) die("rename", from);
        logpath(from);
        logpath(to);
    }
    logflush();
    return 0;
}

#define MAX_CALLS (4 << 20)
static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

/* The second field of /proc/thread-self/schedstat: ns spent on a run queue waiting for a CPU; -1 if unreadable. */
static int64_t run_delay(int fd) {
    char b[128];
    ssize_t n = pread(fd, b, sizeof b - 1, 0);
    if (n <= 0) return -1;
    b[n] = 0;
    char *p = strchr(b, ' ');
    return p ? atoll(p + 1) : -1;
}

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int pwrites(char **a, int nargs) {
    (void)nargs;
    int n = (int)num(a[1]);
    int64_t period = num(a[2]) * 1000LL;
    int *fds = calloc((size_t)n, sizeof(int));
    int64_t *times = malloc(sizeof(int64_t) * 3 * MAX_CALLS);
    int sched = open("/proc/thread-self/schedstat", O_RDONLY);
    if (sched < 0) die("open", "/proc/thread-self/schedstat");
    char buf[4096], path[4096];
    memset(buf, 'w', sizeof buf);
    prctl(PR_SET_TIMERSLACK, 1UL);
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/s%d", a[0], i);
        fds[i] = open(path, O_WRONLY | O_CREAT, 0644);
        if (fds[i] < 0) die("open", path);
    }
    printf("ready\n");
    fflush(stdout);
    long calls = 0;
    int64_t next = now_ns();
    while (!stop && calls < MAX_CALLS) {
        int64_t d0 = run_delay(sched);
        int64_t s = now_ns();
        if (pwrite(fds[calls % n], buf, sizeof buf, (off_t)((calls / n) % 256) * 4096) != (ssize_t)sizeof buf) {
            die("pwrite", a[0]);
        }
        int64_t e = now_ns();
        int64_t d1 = run_delay(sched);
        times[3 * calls] = s;
        times[3 * calls + 1] = e;
        times[3 * calls + 2] = d0 < 0 || d1 < d0 ? 0 : d1 - d0;
        calls++;
        next += period;
        if (next < e) next = e; /* late: no catching up */
        struct timespec t = {next / 1000000000LL, next % 1000000000LL};
        while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) != 0) {}
    }
    FILE *out = fopen(a[3], "wb");
    if (!out || fwrite(times, sizeof(int64_t) * 3, (size_t)calls, out) != (size_t)calls || fclose(out) != 0) {
        die("write", a[3]);
    }
    return 0;
}

static int bigwrite(char **a, int nargs) {
    (void)nargs;
    size_t bytes = (size_t)num(a[1]);
    char *buf = malloc(bytes);
    if (!buf) die("malloc", a[1]);
    memset(buf, 'B', bytes); /* touch every page now, not inside the write */
    int fd = open(a[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("create", a[0]);
    printf("ready\n");
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof line, stdin)) return 1;
    printf("start %lld\n", (long long)now_ns());
    fflush(stdout);
    ssize_t r = write(fd, buf, bytes);
    int64_t end = now_ns();
    printf("end %lld %zd\n", (long long)end, r);
    fflush(stdout);
    return r == (ssize_t)bytes ? 0 : 1;
}

int main(int argc, char **argv) {
    static const struct { const char *name; int min, max; int (*fn)(char **, int); const char *usage; } cmds[] = {
        {"write", 5, 6, write_files, "DIR COUNT SIZE LOG PACE_US [MODIFY_LIST]"},
        {"mkfiles", 6, 6, mkfiles, "DIR FIRST NDIRS PERDIR SIZE LOG"},
        {"append", 5, 5, append, "FILE TOTAL CHUNK REOPEN LOG"},
        {"compile", 8, 10, compile, "LIST FIRST LAST PER_UNIT HOTLIST NHOT OBJDIR LOG [HOT_PER_UNIT] [SPREAD]"},
        {"link", 4, 5, link_objs, "OBJDIR N OUT LOG [SPREAD]"},
        {"churn", 4, 4, churn, "ROOT NDIRS LOG PACE_US"},
        {"rename", 3, 3, renames, "DIR N LOG"},
        {"pwrites", 4, 4, pwrites, "DIR NFILES PERIOD_US TIMES"},
        {"bigwrite", 2, 2, bigwrite, "FILE BYTES"},
    };
    for (size_t i = 0; argc > 1 && i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name) == 0) {
            int n = argc - 2;
            if (n < cmds[i].min || n > cmds[i].max) {
                fprintf(stderr, "usage: ops %s %s\n", cmds[i].name, cmds[i].usage);
                return 2;
            }
            return cmds[i].fn(argv + 2, n);
        }
    }
    fprintf(stderr, "usage: ops write|mkfiles|append|compile|link|churn|rename|pwrites|bigwrite ..."
            " (benchmarks/workloads/ops.c says what each does)\n");
    return 2;
}
