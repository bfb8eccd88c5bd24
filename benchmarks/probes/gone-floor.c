// What the kernel alone costs to find that removed files are gone, the way a modtrack result does
// for each removal it records (LiveNamespace, ResultResolver): open_by_handle_at(O_PATH) of the
// file's handle, which fails with ESTALE (ext4 reads the freed inode to learn it), then a statx of
// the name it was removed from, which fails with ENOENT. No Java, no result: the floor under the
// answer time of a result of that many removals, printed beside it by benchmarks/peers/answer
// --workload deleted.
//
// Usage: gone-floor DIR N [runs (3)]: makes N empty files in directories of 1,000 below DIR (a new
// directory on the file system to measure), takes each one's handle, removes them all, syncs, then
// times the two calls for every file, on one thread and on two (the files shared out in batches as
// the daemon shares them, SharedWork), each `runs` times. Prints a line "files=N threads=T
// handles=S statx=S" (seconds) for each. Not a test; nothing asserts a time.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH 1024
static const char *dir;
static long n;
static struct file_handle **handles;
static int mount_fd;
static long next_batch;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int phase; // 0: open_by_handle_at, 1: statx

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void path_of(long i, char *out, size_t size) {
    snprintf(out, size, "%s/d%05ld/f%ld", dir, i / 1000, i);
}

static void *work(void *unused) {
    (void) unused;
    char path[4096];
    struct statx st;
    for (;;) {
        pthread_mutex_lock(&lock);
        long from = next_batch;
        next_batch += BATCH;
        pthread_mutex_unlock(&lock);
        if (from >= n) {
            return NULL;
        }
        for (long i = from; i < n && i < from + BATCH; i++) {
            if (phase == 0) {
                int fd = open_by_handle_at(mount_fd, handles[i], O_PATH | O_CLOEXEC);
                if (fd >= 0 || errno != ESTALE) {
                    fprintf(stderr, "gone-floor: file %ld: not stale\n", i);
                    exit(1);
                }
            } else {
                path_of(i, path, sizeof path);
                if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &st) == 0 || errno != ENOENT) {
                    fprintf(stderr, "gone-floor: %s: still there\n", path);
                    exit(1);
                }
            }
        }
    }
}

static double timed(int which, int threads) {
    phase = which;
    next_batch = 0;
    pthread_t t[2];
    double start = now();
    for (int k = 1; k < threads; k++) {
        pthread_create(&t[k], NULL, work, NULL);
    }
    work(NULL);
    for (int k = 1; k < threads; k++) {
        pthread_join(t[k], NULL);
    }
    return now() - start;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: gone-floor DIR N [runs]\n");
        return 2;
    }
    dir = argv[1];
    n = atol(argv[2]);
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    handles = malloc(sizeof *handles * n);
    char path[4096];
    for (long i = 0; i < n; i++) {
        if (i % 1000 == 0) {
            snprintf(path, sizeof path, "%s/d%05ld", dir, i / 1000);
            if (mkdir(path, 0755) && errno != EEXIST) {
                perror(path);
                return 1;
            }
        }
        path_of(i, path, sizeof path);
        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0) {
            perror(path);
            return 1;
        }
        close(fd);
        handles[i] = malloc(sizeof(struct file_handle) + MAX_HANDLE_SZ);
        handles[i]->handle_bytes = MAX_HANDLE_SZ;
        int mount_id;
        if (name_to_handle_at(AT_FDCWD, path, handles[i], &mount_id, 0)) {
            perror(path);
            return 1;
        }
    }
    for (long i = 0; i < n; i++) {
        path_of(i, path, sizeof path);
        unlink(path);
    }
    sync();
    mount_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (mount_fd < 0) {
        perror(dir);
        return 1;
    }
    for (int threads = 1; threads <= 2; threads++) {
        for (int r = 0; r < runs; r++) {
            double h = timed(0, threads);
            double s = timed(1, threads);
            printf("files=%ld threads=%d handles=%.3f statx=%.3f\n", n, threads, h, s);
            fflush(stdout);
        }
    }
    return 0;
}
