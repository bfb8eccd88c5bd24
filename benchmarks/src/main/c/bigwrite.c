/*
 * bigwrite FILE BYTES: one write() call of BYTES bytes (at most 2 GiB - 4 KiB, the kernel's cap).
 * Fills its buffer and opens FILE (O_CREAT|O_TRUNC), prints "ready", waits for a line on stdin,
 * then prints "start <ns>", makes the single write call, and prints "end <ns> <returned>"
 * (CLOCK_MONOTONIC, the JVM's System.nanoTime clock).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: bigwrite FILE BYTES\n"); return 2; }
    size_t bytes = (size_t)atoll(argv[2]);
    char *buf = malloc(bytes);
    if (!buf) { perror("malloc"); return 1; }
    memset(buf, 'B', bytes); /* touch every page now, not inside the write */
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror(argv[1]); return 1; }
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
