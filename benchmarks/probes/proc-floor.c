// What the kernel alone costs to read what a modtrack srcu checkpoint reads of /proc
// (SyscallBarrier, ProcFs, AlwaysWritable): every thread's /proc/PID/task/TID/syscall, the link of
// every descriptor of every process (/proc/PID/fd/N, for io_uring), and every process's
// /proc/PID/maps (files mapped shared). No Java: the floor under a checkpoint's scans on this
// machine, whose processes, threads and descriptors it prints beside the times.
//
// Usage: proc-floor [rounds (5)]: prints one line a round,
// "threads=T processes=P fds=F (links read: L) maps_bytes=B syscall_ms=.. fd_links_ms=.. maps_ms=..".
// Not a test; nothing asserts a time.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCESSES 65536

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int numeric(const char *name) {
    return name[0] >= '0' && name[0] <= '9';
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    static char buf[1 << 20];
    static int pids[MAX_PROCESSES];
    for (int round = 0; round < rounds; round++) {
        double t0 = now_ms();
        int np = 0, threads = 0, fds = 0, links = 0;
        long map_bytes = 0;
        DIR *proc = opendir("/proc");
        if (!proc) { perror("/proc"); return 1; }
        for (struct dirent *e; (e = readdir(proc)) && np < MAX_PROCESSES; )
            if (numeric(e->d_name)) pids[np++] = atoi(e->d_name);
        closedir(proc);
        for (int i = 0; i < np; i++) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/task", pids[i]);
            DIR *tasks = opendir(path);
            if (!tasks) continue; // exited
            for (struct dirent *e; (e = readdir(tasks)); ) {
                if (!numeric(e->d_name)) continue;
                char call[320];
                snprintf(call, sizeof call, "/proc/%d/task/%s/syscall", pids[i], e->d_name);
                int fd = open(call, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                    if (pread(fd, buf, 1024, 0) < 0) { /* not ours to read */ }
                    close(fd);
                }
                threads++;
            }
            closedir(tasks);
        }
        double t1 = now_ms();
        for (int i = 0; i < np; i++) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/fd", pids[i]);
            DIR *dir = opendir(path);
            if (!dir) continue;
            for (struct dirent *e; (e = readdir(dir)); ) {
                if (!numeric(e->d_name)) continue;
                char target[4096];
                fds++;
                if (readlinkat(dirfd(dir), e->d_name, target, sizeof target) >= 0) links++; // else not ours to read
            }
            closedir(dir);
        }
        double t2 = now_ms();
        for (int i = 0; i < np; i++) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/maps", pids[i]);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0; ) map_bytes += n;
            close(fd);
        }
        double t3 = now_ms();
        printf("threads=%d processes=%d fds=%d (links read: %d) maps_bytes=%ld syscall_ms=%.2f fd_links_ms=%.2f maps_ms=%.2f\n",
               threads, np, fds, links, map_bytes, t1 - t0, t2 - t1, t3 - t2);
    }
    return 0;
}
