/* One benchmark writer process (benchmarks/peers/run compiles it into its work directory).
 *
 * Usage: writer DIR COUNT SIZE LOG PACE_US [MODIFY_LIST]
 *   creates DIR, then COUNT files DIR/f000000.. of SIZE bytes each (open O_CREAT|O_WRONLY|O_TRUNC,
 *   write, close), interleaved with one 100-byte append to each path listed in MODIFY_LIST (one per
 *   line); after each change it appends the changed path to LOG (the ground truth), and sleeps
 *   PACE_US microseconds (0: no pause; the crash runs pace so that a kill lands mid-workload).
 * Why C: a writer whose own cost is small shows a tracker's overhead instead of hiding it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what, const char *path) {
    fprintf(stderr, "writer: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

static void logpath(int log, const char *path) {
    char line[4200];
    int n = snprintf(line, sizeof line, "%s\n", path);
    if (write(log, line, (size_t)n) != n) die("log", path);
}

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: writer DIR COUNT SIZE LOG PACE_US [MODIFY_LIST]\n"); return 2; }
    const char *dir = argv[1];
    long count = atol(argv[2]), size = atol(argv[3]), pace = atol(argv[5]);
    int log = open(argv[4], O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log < 0) die("open log", argv[4]);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) die("mkdir", dir);
    char *buf = malloc((size_t)size + 1);
    memset(buf, 'x', (size_t)size);
    char **mods = NULL; long nmods = 0;
    if (argc > 6) {
        FILE *f = fopen(argv[6], "r");
        if (!f) die("open modify list", argv[6]);
        char line[4096];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = 0;
            if (!line[0]) continue;
            mods = realloc(mods, sizeof *mods * (size_t)(nmods + 1));
            mods[nmods++] = strdup(line);
        }
        fclose(f);
    }
    long total = count > nmods ? count : nmods;
    char path[4096];
    for (long i = 0; i < total; i++) {
        if (i < nmods) {
            int fd = open(mods[i], O_WRONLY | O_APPEND);
            if (fd < 0) die("open", mods[i]);
            if (write(fd, buf, 100) != 100) die("append", mods[i]);
            close(fd);
            logpath(log, mods[i]);
        }
        if (i < count) {
            snprintf(path, sizeof path, "%s/f%06ld", dir, i);
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0) die("create", path);
            if (size > 0 && write(fd, buf, (size_t)size) != size) die("write", path);
            close(fd);
            logpath(log, path);
        }
        if (pace > 0) usleep((useconds_t)pace);
    }
    return 0;
}
