/*
 * mkfiles DIR COUNT SIZE: creates DIR, then COUNT files DIR/f<i> (O_CREAT|O_EXCL), each written
 * with one write of SIZE bytes and closed. The "20,000 small files" workload of bin/bench-linux.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: mkfiles DIR COUNT SIZE\n"); return 2; }
    int count = atoi(argv[2]);
    size_t size = (size_t)atol(argv[3]);
    char *buf = malloc(size), path[4096];
    memset(buf, 'f', size);
    if (mkdir(argv[1], 0755) != 0) { perror(argv[1]); return 1; }
    for (int i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/f%d", argv[1], i);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0) { perror(path); return 1; }
        if (write(fd, buf, size) != (ssize_t)size) { perror("write"); return 1; }
        close(fd);
    }
    return 0;
}
