/*
 * A kernel-build-like mix of reads and writes (bin/bench-linux overhead, workload "kbuild").
 *   kbuild populate ROOT UNITS HEADERS   makes ROOT/include/h<j>.h (4 KiB), ROOT/src/d<u%100>/u<u>.c
 *                                        (8 KiB) and the empty ROOT/out/d<k> directories (untimed setup)
 *   kbuild compile ROOT FIRST END PER    for each unit u in [FIRST, END): reads u's .c and PER headers
 *                                        (a fixed pseudo-random choice), writes ROOT/out/d<u%100>/u<u>.o
 *                                        (16 KiB, O_CREAT|O_TRUNC)
 *   kbuild link ROOT UNITS               reads every .o, writes ROOT/out/vmlinux (their concatenation)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char buf[1 << 16];

static void die(const char *what) { perror(what); exit(1); }

static void write_file(const char *path, size_t size) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die(path);
    if (write(fd, buf, size) != (ssize_t)size) die("write");
    close(fd);
}

static size_t read_file(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) die(path);
    size_t total = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) total += (size_t)r;
    if (r < 0) die("read");
    close(fd);
    return total;
}

int main(int argc, char **argv) {
    char path[4096];
    memset(buf, 'k', sizeof buf);
    if (argc == 5 && strcmp(argv[1], "populate") == 0) {
        const char *root = argv[2];
        int units = atoi(argv[3]), headers = atoi(argv[4]);
        const char *dirs[] = {"include", "src", "out"};
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/%s", root, dirs[i]);
            if (mkdir(path, 0755) != 0) die(path);
        }
        for (int k = 0; k < 100; k++) {
            snprintf(path, sizeof path, "%s/src/d%d", root, k);
            if (mkdir(path, 0755) != 0) die(path);
            snprintf(path, sizeof path, "%s/out/d%d", root, k);
            if (mkdir(path, 0755) != 0) die(path);
        }
        for (int j = 0; j < headers; j++) {
            snprintf(path, sizeof path, "%s/include/h%d.h", root, j);
            write_file(path, 4096);
        }
        for (int u = 0; u < units; u++) {
            snprintf(path, sizeof path, "%s/src/d%d/u%d.c", root, u % 100, u);
            write_file(path, 8192);
        }
        return 0;
    }
    if (argc == 6 && strcmp(argv[1], "compile") == 0) {
        const char *root = argv[2];
        int first = atoi(argv[3]), end = atoi(argv[4]), per = atoi(argv[5]);
        int headers = 0;
        struct stat st;
        for (;; headers++) { /* count the headers populate made */
            snprintf(path, sizeof path, "%s/include/h%d.h", root, headers);
            if (stat(path, &st) != 0) break;
        }
        if (headers == 0) { fprintf(stderr, "no headers under %s/include\n", root); return 1; }
        for (int u = first; u < end; u++) {
            uint32_t x = 2654435761u * (uint32_t)(u + 1);
            snprintf(path, sizeof path, "%s/src/d%d/u%d.c", root, u % 100, u);
            read_file(path);
            for (int h = 0; h < per; h++) {
                x ^= x << 13; x ^= x >> 17; x ^= x << 5;
                snprintf(path, sizeof path, "%s/include/h%u.h", root, x % (uint32_t)headers);
                read_file(path);
            }
            snprintf(path, sizeof path, "%s/out/d%d/u%d.o", root, u % 100, u);
            write_file(path, 16384);
        }
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "link") == 0) {
        const char *root = argv[2];
        int units = atoi(argv[3]);
        snprintf(path, sizeof path, "%s/out/vmlinux", root);
        int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0) die(path);
        for (int u = 0; u < units; u++) {
            snprintf(path, sizeof path, "%s/out/d%d/u%d.o", root, u % 100, u);
            int fd = open(path, O_RDONLY);
            if (fd < 0) die(path);
            ssize_t r;
            while ((r = read(fd, buf, sizeof buf)) > 0) {
                if (write(out, buf, (size_t)r) != r) die("write");
            }
            close(fd);
        }
        close(out);
        return 0;
    }
    fprintf(stderr, "usage: kbuild populate ROOT UNITS HEADERS | compile ROOT FIRST END PER | link ROOT UNITS\n");
    return 2;
}
