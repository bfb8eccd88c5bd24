// What the kernel alone costs to read what a modtrack srcu checkpoint reads of /proc
// (SyscallBarrier, ProcFs, AlwaysWritable): every thread's /proc/PID/task/TID/syscall, the link of
// every descriptor of every process (/proc/PID/fd/N, for io_uring), a stat of every descriptor's
// file (its device: the files open for writing that a checkpoint with directory records carries),
// and every process's files mapped shared: as the text of /proc/PID/maps, and asked with
// PROCMAP_QUERY (Linux 6.11+; what ProcFs does where it can). No Java: the floor under a
// checkpoint's scans on this machine, whose processes, threads and descriptors it prints beside
// the times.
//
// Usage: proc-floor [rounds (5)]: prints one line a round, "threads=T processes=P fds=F (links
// read: L) maps_bytes=B shared_file_mappings=S syscall_ms=.. fd_links_ms=.. fd_stat_ms=.. maps_ms=..
// maps_query_ms=.." (maps_query_ms=-1: the kernel has no PROCMAP_QUERY).
// Not a test; nothing asserts a time.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

// struct procmap_query of linux/fs.h (6.11+), written out for older headers.
struct procmap_query {
    uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
    uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
    uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY_IOCTL 0xC0686611 // _IOWR('f', 17, struct procmap_query)
#define QUERY_SHARED_FILES (0x08 | 0x10 | 0x20) // VMA_SHARED | COVERING_OR_NEXT_VMA | FILE_BACKED_VMA

#define MAX_PROCESSES 65536

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int numeric(const char *name) {
    return name[0] >= '0' && name[0] <= '9';
}

// Every descriptor of every process: its link read (STAT_THEM 0) or its file stat'ed (1).
static void fd_pass(const int *pids, int np, int stat_them, int *fds, int *done) {
    for (int i = 0; i < np; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd", pids[i]);
        DIR *dir = opendir(path);
        if (!dir) continue; // exited
        for (struct dirent *e; (e = readdir(dir)); ) {
            if (!numeric(e->d_name)) continue;
            char target[4096];
            struct stat st;
            (*fds)++;
            int rc = stat_them ? fstatat(dirfd(dir), e->d_name, &st, 0) : readlinkat(dirfd(dir), e->d_name, target, sizeof target);
            if (rc >= 0) (*done)++; // else closed meanwhile, or not ours to read
        }
        closedir(dir);
    }
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
        fd_pass(pids, np, 0, &fds, &links);
        double t2 = now_ms();
        int stat_fds = 0, stats = 0;
        fd_pass(pids, np, 1, &stat_fds, &stats);
        double t2b = now_ms();
        for (int i = 0; i < np; i++) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/maps", pids[i]);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0; ) map_bytes += n;
            close(fd);
        }
        double t3 = now_ms();
        int shared = 0, query = 1;
        for (int i = 0; i < np && query; i++) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/maps", pids[i]);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            for (uint64_t from = 0;;) {
                struct procmap_query q;
                memset(&q, 0, sizeof q);
                q.size = sizeof q;
                q.query_flags = QUERY_SHARED_FILES;
                q.query_addr = from;
                if (ioctl(fd, PROCMAP_QUERY_IOCTL, &q) < 0) {
                    if (errno == ENOTTY || errno == EINVAL) query = 0; // ENOENT: no more; ESRCH: no address space
                    break;
                }
                shared++;
                from = q.vma_end;
            }
            close(fd);
        }
        double t4 = now_ms();
        printf("threads=%d processes=%d fds=%d (links read: %d) maps_bytes=%ld shared_file_mappings=%d syscall_ms=%.2f "
               "fd_links_ms=%.2f fd_stat_ms=%.2f maps_ms=%.2f maps_query_ms=%.2f\n",
               threads, np, fds, links, map_bytes, shared, t1 - t0, t2 - t1, t2b - t2, t3 - t2b, query ? t4 - t3 : -1);
    }
    return 0;
}
