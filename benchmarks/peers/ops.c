/* The benchmark's other workloads (benchmarks/peers/run compiles it into its work directory beside
 * writer.c).
 * Every changed path is appended to LOG (the ground truth), outside the mount.
 *
 *   ops mkfiles DIR FIRST NDIRS PERDIR SIZE LOG
 *       creates DIR/dNNNNN/fNNNN for dirs FIRST..FIRST+NDIRS-1, PERDIR files of SIZE bytes each
 *       (LOG "-": no log; the latency sweep and the directory workload's setup)
 *   ops append FILE TOTAL CHUNK REOPEN LOG
 *       appends TOTAL bytes to FILE in CHUNK-byte writes, closing and reopening it every REOPEN
 *       bytes (a log writer); logs FILE once
 *   ops compile LIST FIRST LAST PER_UNIT HOTLIST NHOT OBJDIR LOG
 *       a kernel-build-like compiler: unit u in [FIRST, LAST) reads the PER_UNIT files
 *       LIST[u*PER_UNIT ..] ("sources") and 4 of the first NHOT files of HOTLIST ("headers", read
 *       again and again), then writes OBJDIR/uNNNNNN.o (16 KiB) and logs it
 *   ops link OBJDIR N OUT LOG
 *       reads OBJDIR/u000000.o .. N-1 and writes their concatenation to OUT; logs OUT
 *   ops churn ROOT NDIRS LOG PACE_US
 *       for each directory ROOT/dNNNNN (0..NDIRS-1): an even one is renamed to ROOT/rNNNNN (its
 *       files' old and new paths are logged), an odd one is deleted file by file, then removed
 *       (its files' paths are logged); PACE_US pause after each directory
 *   ops rename DIR N LOG
 *       renames DIR/fNNNNNN to DIR/fNNNNNN.r for N files, as fast as it can (the overrun burst);
 *       logs old and new paths
 * Why C: a workload whose own cost is small shows a tracker's overhead instead of hiding it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what, const char *path) {
    fprintf(stderr, "ops: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
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

static int mkfiles(char **a) {
    const char *dir = a[0];
    long first = atol(a[1]), ndirs = atol(a[2]), per = atol(a[3]), size = atol(a[4]);
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

static int append(char **a) {
    const char *file = a[0];
    long total = atol(a[1]), chunk = atol(a[2]), reopen = atol(a[3]);
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

static int compile(char **a) {
    long nlist, nhot;
    char **list = readlist(a[0], &nlist);
    long first = atol(a[1]), last = atol(a[2]), per = atol(a[3]);
    char **hot = readlist(a[4], &nhot);
    long usehot = atol(a[5]);
    if (usehot > nhot) usehot = nhot;
    const char *objdir = a[6];
    logfd = openlog(a[7]);
    static char buf[1 << 16], obj[16384];
    char path[4096];
    if (mkdir(objdir, 0755) != 0 && errno != EEXIST) die("mkdir", objdir);
    for (long u = first; u < last; u++) {
        long sum = 0;
        for (long k = 0; k < per && u * per + k < nlist; k++) sum += readfile(list[u * per + k], buf, sizeof buf);
        for (long k = 0; k < 4 && usehot > 0; k++) sum += readfile(hot[(u * 7 + k * 13) % usehot], buf, sizeof buf);
        memset(obj, (int)(sum & 0x7f), sizeof obj);
        snprintf(path, sizeof path, "%s/u%06ld.o", objdir, u);
        writefile(path, obj, sizeof obj);
        logpath(path);
    }
    logflush();
    return 0;
}

static int link_objs(char **a) {
    const char *objdir = a[0];
    long n = atol(a[1]);
    const char *out = a[2];
    logfd = openlog(a[3]);
    static char buf[1 << 16];
    char path[4096];
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("create", out);
    for (long u = 0; u < n; u++) {
        snprintf(path, sizeof path, "%s/u%06ld.o", objdir, u);
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

static int churn(char **a) {
    const char *root = a[0];
    long ndirs = atol(a[1]);
    logfd = openlog(a[2]);
    long pace = atol(a[3]);
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

static int renames(char **a) {
    const char *dir = a[0];
    long n = atol(a[1]);
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

int main(int argc, char **argv) {
    static const struct { const char *name; int args; int (*fn)(char **); } cmds[] = {
        {"mkfiles", 6, mkfiles}, {"append", 5, append}, {"compile", 8, compile},
        {"link", 4, link_objs}, {"churn", 4, churn}, {"rename", 3, renames},
    };
    for (size_t i = 0; argc > 1 && i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name) == 0) {
            if (argc - 2 != cmds[i].args) break;
            return cmds[i].fn(argv + 2);
        }
    }
    fprintf(stderr, "usage: ops mkfiles|append|compile|link|churn|rename ... (see benchmarks/peers/ops.c)\n");
    return 2;
}
