/*
 * smallwriter DIR NFILES PERIOD_US LOG: the "other writer" of bin/bench-linux checkpoint.
 * Opens DIR/s0..s<NFILES-1>, then pwrites 4 KiB to them round-robin, one call every PERIOD_US
 * microseconds (absolute schedule; a late call is not caught up), until SIGTERM. Each call's
 * CLOCK_MONOTONIC start and end (ns, the JVM's System.nanoTime clock) go to memory; at SIGTERM
 * they are written to LOG as little-endian int64 pairs. Prints "ready" once its files are open.
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
    int64_t *log = malloc(sizeof(int64_t) * 2 * MAX_CALLS);
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
        int64_t s = now_ns();
        if (pwrite(fds[calls % n], buf, sizeof buf, (off_t)((calls / n) % 256) * 4096) != (ssize_t)sizeof buf) {
            perror("pwrite");
            return 1;
        }
        int64_t e = now_ns();
        log[2 * calls] = s;
        log[2 * calls + 1] = e;
        calls++;
        next += period;
        if (next < e) next = e; /* late: no catching up */
        struct timespec t = {next / 1000000000LL, next % 1000000000LL};
        while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) != 0) {}
    }
    FILE *out = fopen(argv[4], "wb");
    if (!out || fwrite(log, sizeof(int64_t) * 2, calls, out) != (size_t)calls || fclose(out) != 0) {
        perror(argv[4]);
        return 1;
    }
    return 0;
}
