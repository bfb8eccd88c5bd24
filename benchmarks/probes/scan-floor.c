// What the kernel alone costs to name every file below a tree the way a modtrack result scan does
// (DirectoryScan): each directory read with getdents64, each entry stat'ed relative to it (statx:
// type, ctime, birth time, links, inode number), and each file with more than one link given its
// file handle (name_to_handle_at; with "handles", every file that is not a directory, as a scan
// that must tell every file by its handle would; with "names", only each subdirectory, as the scan
// of a directory born since the watermark asks: its listing names the rest; with "paths", as
// "handles" but each entry looked up by its whole path rather than relative to its open directory,
// as a lookup of each recorded file by its path would be). No Java, no result: the
// floor under modtrack's answer time for a result naming that many files, printed beside it by
// benchmarks/peers/answer.
//
// Usage: scan-floor ROOT [threads (1)] [linked (the default)|handles|names|paths]: walks ROOT's directories (not
// following symbolic links), the directories shared out among the threads as DirectoryScan shares them. Prints
// "entries=N seconds=S threads=T mode=linked|handles|names|paths". Not a test; nothing asserts a time.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct linux_dirent64 {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

#define MAX_DIRS (1 << 22)
static char **dirs;
static long ndirs;
static long next_dir;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long total_entries;
static int every_handle;
static int names_only;
static int whole_paths;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void add_dir(const char *path) {
    if (ndirs == MAX_DIRS) {
        fprintf(stderr, "scan-floor: more than %d directories\n", MAX_DIRS);
        exit(1);
    }
    dirs[ndirs++] = strdup(path);
}

// Calls each(fd, entry, context) for every entry of the directory at path but "." and "..", fd being
// the directory open; returns the calls' sum.
static long for_each_entry(const char *path, long (*each)(int, struct linux_dirent64 *, void *), void *context) {
    char buf[1 << 16];
    long sum = 0;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return 0;
    long n;
    while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long p = 0; p < n;) {
            struct linux_dirent64 *e = (struct linux_dirent64 *) (buf + p);
            p += e->d_reclen;
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) sum += each(fd, e, context);
        }
    }
    close(fd);
    return sum;
}

static long add_subdirectory(int fd, struct linux_dirent64 *e, void *parent) {
    (void) fd;
    if (e->d_type == DT_DIR) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", (const char *) parent, e->d_name);
        add_dir(path);
    }
    return 0;
}

// Lists the directories below root (breadth first), untimed: the scan itself is what is timed.
static void find_dirs(const char *root) {
    add_dir(root);
    for (long i = 0; i < ndirs; i++) for_each_entry(dirs[i], add_subdirectory, dirs[i]);
}

// What DirectoryScan asks of an entry (the directory at path, open as fd); 1 if it was there to ask.
static long name_entry(int fd, struct linux_dirent64 *e, void *path) {
    struct statx st;
    if (names_only && e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) {
        return 1;
    }
    char whole[4096];
    const char *name = e->d_name;
    if (whole_paths) {
        snprintf(whole, sizeof whole, "%s/%s", (const char *) path, e->d_name);
        fd = AT_FDCWD;
        name = whole;
    }
    if (statx(fd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_CTIME | STATX_BTIME | STATX_NLINK | STATX_INO, &st)) {
        return 0;
    }
    if (!S_ISDIR(st.stx_mode) && (every_handle || st.stx_nlink != 1)) {
        struct { unsigned int bytes; int type; unsigned char h[128]; } handle;
        int mount_id;
        handle.bytes = sizeof handle.h;
        name_to_handle_at(fd, name, (struct file_handle *) &handle, &mount_id, 0);
    }
    return 1;
}

static void *scan(void *unused) {
    (void) unused;
    long entries = 0;
    for (;;) {
        pthread_mutex_lock(&lock);
        long i = next_dir < ndirs ? next_dir++ : -1;
        pthread_mutex_unlock(&lock);
        if (i < 0) break;
        entries += for_each_entry(dirs[i], name_entry, dirs[i]);
    }
    pthread_mutex_lock(&lock);
    total_entries += entries;
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: scan-floor ROOT [threads] [linked|handles|names|paths]\n");
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "scan-floor: threads is 1 to 64, not %s\n", argv[2]);
        return 2;
    }
    whole_paths = argc > 3 && !strcmp(argv[3], "paths");
    every_handle = argc > 3 && (!strcmp(argv[3], "handles") || whole_paths);
    names_only = argc > 3 && !strcmp(argv[3], "names");
    if (argc > 3 && !every_handle && !names_only && strcmp(argv[3], "linked")) {
        fprintf(stderr, "scan-floor: the mode is linked, handles, names or paths, not %s\n", argv[3]);
        return 2;
    }
    dirs = malloc(sizeof(char *) * MAX_DIRS);
    find_dirs(argv[1]);
    pthread_t t[64];
    double start = now();
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, scan, NULL);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    printf("entries=%ld seconds=%.3f threads=%d mode=%s\n", total_entries, now() - start, threads,
           whole_paths ? "paths" : every_handle ? "handles" : names_only ? "names" : "linked");
    return 0;
}
