/*
 * smallwriter DIR NFILES PERIOD_US LOG: the "other writer" of bin/bench-linux checkpoint.
 * Opens DIR/s0..s<NFILES-1>, then pwrites 4 KiB to them round-robin, one call every PERIOD_US
 * microseconds (absolute schedule; a late call is not caught up), until SIGTERM. Each call's
 * CLOCK_MONOTONIC start and end (ns, the JVM's System.nanoTime clock) and the time the thread spent
 * runnable but waiting for a CPU around it (ns, the run_delay of /proc/thread-self/schedstat, read
 * just before the start and just after the end, so it may include a little outside the call) go
 * to memory; at SIGTERM they are written to LOG as little-endian int64 triples. Prints "ready" once
 * its files are open.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

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

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: smallwriter DIR NFILES PERIOD_US LOG\n"); return 2; }
    int n = atoi(argv[2]);
    int64_t period = atoll(argv[3]) * 1000LL;
    int *fds = calloc(n, sizeof(int));
    int64_t *log = malloc(sizeof(int64_t) * 3 * MAX_CALLS);
    int sched = open("/proc/thread-self/schedstat", O_RDONLY);
    if (sched < 0) { perror("/proc/thread-self/schedstat"); return 1; }
    char buf[4096], path[4096];
    memset(buf, 'w', sizeof buf);
    prctl(PR_SET_TIMERSLACK, 1UL);
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/s%d", argv[1], i);
        fds[i] = open(path, O_WRONLY | O_CREAT, 0644);
        if (fds[i] < 0) { perror(path); return 1; }
    }
    printf("ready\n");
    fflush(stdout);
    long calls = 0;
    int64_t next = now_ns();
    while (!stop && calls < MAX_CALLS) {
        int64_t d0 = run_delay(sched);
        int64_t s = now_ns();
        if (pwrite(fds[calls % n], buf, sizeof buf, (off_t)((calls / n) % 256) * 4096) != (ssize_t)sizeof buf) {
            perror("pwrite");
            return 1;
        }
        int64_t e = now_ns();
        int64_t d1 = run_delay(sched);
        log[3 * calls] = s;
        log[3 * calls + 1] = e;
        log[3 * calls + 2] = d0 < 0 || d1 < d0 ? 0 : d1 - d0;
        calls++;
        next += period;
        if (next < e) next = e; /* late: no catching up */
        struct timespec t = {next / 1000000000LL, next % 1000000000LL};
        while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) != 0) {}
    }
    FILE *out = fopen(argv[4], "wb");
    if (!out || fwrite(log, sizeof(int64_t) * 3, calls, out) != (size_t)calls || fclose(out) != 0) {
        perror(argv[4]);
        return 1;
    }
    return 0;
}
