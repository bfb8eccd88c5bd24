// What the kernel alone costs a command when a tree is watched, with a trivial C reader and no
// tracker logic: the floor under a tracker's writer overhead for that command (benchmarks/probes/
// command-floor-run runs it for grep -r). No round trip is ever waited for in modes 1 and 2: every
// directory is marked before the command starts, as in a period whose directories are recorded.
//
// Usage: command-floor MNT MODE COMMAND [ARGS...] (root). Marks the file system mounted at MNT,
// runs COMMAND, prints "mode=M seconds=S perm_events=P notif_events=N marks=D".
// Or: command-floor MNT 5, a watcher that runs until SIGTERM (benchmarks/peers/run's "floor"
// contender). MODE:
//   0 nothing watched;
//   1 a pre-content group on the file system (FAN_PRE_ACCESS | FAN_OPEN_PERM, as modtrack's) and an
//     ignore mark with FAN_EVENT_ON_CHILD on every directory below MNT (modtrack's mark on a
//     recorded directory): the floor of a pre-content tracker;
//   2 = 1 + a notification group with modtrack's mask but FAN_DELETE_SELF (FAN_CREATE | FAN_DELETE |
//     FAN_RENAME | FAN_ATTRIB | FAN_ONDIR | FAN_MODIFY | FAN_CLOSE_WRITE, names reported), every
//     directory muted for its children's creations, attribute and content changes, as a
//     scan-named directory is; for grep -r and the kbuild mix, which remove nothing, the same as 4;
//   3 inotify watches on every directory below MNT with inotifywait -m -r's events in
//     benchmarks/peers/run (modify, attrib, close_write, moved_to, moved_from, create, delete): the
//     floor of the cheapest peer;
//   4 = 2 with FAN_DELETE_SELF too (an event as each removed inode is freed): modtrack's mask as
//     the daemon asks for it, which knows a removed file gone from it instead of opening its handle.
//   5 modtrack's marks as its defaults set them, with the durable record and all tracker logic left
//     out: the groups of mode 4 with no directory marked ahead; a permission event is answered at
//     once after its file's directory gets the ignore mark of mode 1 (a directory recorded on its
//     first access), a notification event of a child's creation or change mutes its directory as
//     in mode 2 (named by a scan); SIGUSR1 removes every directory's marks, as a checkpoint does,
//     and prints "flushed N: ..." (N counts the flushes); SIGTERM prints the counts and exits.
//     Prints "ready" once its groups have marked the file system.
// Not a test; nothing asserts a time.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FAN_PRE_ACCESS
#define FAN_PRE_ACCESS 0x00100000
#endif
#ifndef FAN_RENAME
#define FAN_RENAME 0x10000000
#endif
#ifndef FAN_REPORT_TARGET_FID
#define FAN_REPORT_TARGET_FID 0x00001000
#endif
#ifndef FAN_REPORT_DFID_NAME_TARGET
#define FAN_REPORT_DFID_NAME_TARGET (FAN_REPORT_DFID_NAME | FAN_REPORT_FID | FAN_REPORT_TARGET_FID)
#endif
#ifndef FAN_MARK_IGNORE
#define FAN_MARK_IGNORE 0x00000400
#endif
#ifndef FAN_MARK_EVICTABLE
#define FAN_MARK_EVICTABLE 0x00000200
#endif
#define SCANNED_MASK (FAN_CREATE | FAN_ATTRIB | FAN_MODIFY | FAN_CLOSE_WRITE)

static long perm_events, notif_events, marks;
static int mode;
static int mount_fd = -1; // for the directory handles of notification events (mode 5)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void fail(const char *what) {
    perror(what);
    exit(1);
}

static void ignore_children_pre_content(int fd, const char *dir);

// Mode 5: the ignore mark of a recorded directory on the directory of the event's file, reached by
// the path of its descriptor as modtrack's handler reaches it.
static void ignore_children_of_directory_of(int group, int event_fd) {
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", event_fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return;
    path[n] = 0;
    char *slash = strrchr(path, '/');
    if (!slash || slash == path) return;
    *slash = 0;
    ignore_children_pre_content(group, path);
}

// Mode 5: mutes, for its children's creations and changes, the directory that a notification
// event's first directory record (DFID_NAME) names, opened by its handle.
static void mute_directory_of(int group, struct fanotify_event_metadata *m) {
    char *info = (char *) m + m->metadata_len, *end = (char *) m + m->event_len;
    while (info + sizeof(struct fanotify_event_info_header) <= end) {
        struct fanotify_event_info_header *h = (void *) info;
        if (h->len == 0) return;
        if (h->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
            struct file_handle *handle = (void *) ((struct fanotify_event_info_fid *) info)->handle;
            int dir = open_by_handle_at(mount_fd, handle, O_RDONLY | O_DIRECTORY | O_CLOEXEC); // not O_PATH: fanotify_mark refuses it
            if (dir < 0) return; // gone meanwhile: nothing left to mute
            if (fanotify_mark(group, FAN_MARK_ADD | FAN_MARK_IGNORE | FAN_MARK_IGNORED_SURV_MODIFY,
                              SCANNED_MASK | FAN_EVENT_ON_CHILD, dir, NULL)) {
                fail("mute mark by handle");
            }
            close(dir);
            return;
        }
        info += h->len;
    }
}

// A group or inotify descriptor and whether its events are permission events to answer.
struct reader {
    int fd;
    int answers;
};

static void *read_loop(void *arg) {
    struct reader *r = arg;
    char buf[65536] __attribute__((aligned(8)));
    for (;;) {
        ssize_t n = read(r->fd, buf, sizeof buf);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return NULL;
        }
        if (!r->answers) {
            if (mode != 5) {
                __atomic_add_fetch(&notif_events, 1, __ATOMIC_RELAXED); // reads, not events: enough to show it ran
                continue;
            }
            for (struct fanotify_event_metadata *m = (void *) buf; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
                __atomic_add_fetch(&notif_events, 1, __ATOMIC_RELAXED);
                if (m->mask & SCANNED_MASK && !(m->mask & FAN_ONDIR)) mute_directory_of(r->fd, m);
            }
            continue;
        }
        for (struct fanotify_event_metadata *m = (void *) buf; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
            __atomic_add_fetch(&perm_events, 1, __ATOMIC_RELAXED);
            if (mode == 5) ignore_children_of_directory_of(r->fd, m->fd);
            struct fanotify_response response = {.fd = m->fd, .response = FAN_ALLOW};
            if (write(r->fd, &response, sizeof response) != sizeof response) fail("answer");
            close(m->fd);
        }
    }
}

// Calls mark(fd, path) for root and every directory below it on the same file system.
static void each_directory(const char *root, dev_t dev, void (*mark)(int, const char *), int fd) {
    mark(fd, root);
    DIR *d = opendir(root);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", root, e->d_name);
        struct stat st;
        if (lstat(path, &st) || st.st_dev != dev) continue;
        each_directory(path, dev, mark, fd);
    }
    closedir(d);
}

static void ignore_children_pre_content(int fd, const char *dir) {
    if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_IGNORE | FAN_MARK_IGNORED_SURV_MODIFY,
                      FAN_PRE_ACCESS | FAN_OPEN_PERM | FAN_EVENT_ON_CHILD, AT_FDCWD, dir)) {
        if (mode == 5 && errno == ENOENT) return; // mode 5: removed since its event
        fail("ignore mark");
    }
    __atomic_add_fetch(&marks, 1, __ATOMIC_RELAXED);
}

static void mute_children(int fd, const char *dir) {
    if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_IGNORE | FAN_MARK_IGNORED_SURV_MODIFY,
                      SCANNED_MASK | FAN_EVENT_ON_CHILD, AT_FDCWD, dir)) fail("mute mark");
}

static void watch_inotify(int fd, const char *dir) {
    if (inotify_add_watch(fd, dir, IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE
                          | IN_DELETE) < 0) fail("inotify_add_watch");
    marks++;
}

// Mode 5: waits for SIGUSR1 (remove every directory's marks, as a checkpoint's flush does) and
// SIGTERM (print the counts and exit), which every thread has blocked.
static int watch_until_terminated(const sigset_t *signals, int pre_fd, int notif_fd, const char *mnt) {
    printf("ready\n");
    fflush(stdout);
    for (long flushes = 1;; flushes++) {
        int sig;
        if (sigwait(signals, &sig)) fail("sigwait");
        if (sig == SIGTERM) break;
        // Without FAN_MARK_FILESYSTEM a flush removes the inode marks: the file system's mark stays.
        if (fanotify_mark(pre_fd, FAN_MARK_FLUSH, 0, AT_FDCWD, mnt)) fail("flush");
        if (fanotify_mark(notif_fd, FAN_MARK_FLUSH, 0, AT_FDCWD, mnt)) fail("flush (notification)");
        printf("flushed %ld: perm_events=%ld notif_events=%ld marks=%ld\n", flushes, perm_events, notif_events, marks);
        fflush(stdout);
    }
    printf("mode=5 perm_events=%ld notif_events=%ld marks=%ld\n", perm_events, notif_events, marks);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || (argc < 4 && strcmp(argv[2], "5") != 0)) {
        fprintf(stderr, "usage: command-floor MNT MODE COMMAND [ARGS...], or command-floor MNT 5\n");
        return 2;
    }
    const char *mnt = argv[1];
    mode = atoi(argv[2]);
    if (mode < 0 || mode > 5 || (mode == 5 && argc != 3)) {
        fprintf(stderr, "command-floor: MODE is 0 to 4 with a command, or 5 alone, not %s\n", argv[2]);
        return 2;
    }
    struct stat root;
    if (stat(mnt, &root)) fail(mnt);
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGUSR1);
    sigaddset(&signals, SIGTERM);
    if (mode == 5) {
        pthread_sigmask(SIG_BLOCK, &signals, NULL); // before the readers start: they inherit it
        mount_fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (mount_fd < 0) fail(mnt);
    }
    static struct reader pre = {-1, 1}, notif = {-1, 0}, inotify = {-1, 0};
    int pre_fd = -1, notif_fd = -1, inotify_fd = -1;
    pthread_t t;
    if (mode == 1 || mode == 2 || mode == 4 || mode == 5) {
        pre_fd = fanotify_init(FAN_CLASS_PRE_CONTENT | FAN_CLOEXEC | FAN_UNLIMITED_MARKS
                               | (mode == 5 ? FAN_UNLIMITED_QUEUE | FAN_REPORT_TID : 0), O_RDONLY | O_LARGEFILE | O_CLOEXEC);
        if (pre_fd < 0) fail("fanotify_init (pre-content)");
        if (fanotify_mark(pre_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_PRE_ACCESS | FAN_OPEN_PERM, AT_FDCWD, mnt)) fail("mark");
        if (mode != 5) each_directory(mnt, root.st_dev, ignore_children_pre_content, pre_fd);
        pre.fd = pre_fd;
        pthread_create(&t, NULL, read_loop, &pre);
    }
    if (mode == 2 || mode == 4 || mode == 5) {
        notif_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_UNLIMITED_MARKS | FAN_REPORT_DFID_NAME_TARGET
                                 | (mode == 5 ? FAN_UNLIMITED_QUEUE : 0), O_RDONLY);
        if (notif_fd < 0) fail("fanotify_init (notification)");
        if (fanotify_mark(notif_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM,
                          FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_ATTRIB | FAN_ONDIR | FAN_MODIFY | FAN_CLOSE_WRITE
                          | (mode >= 4 ? FAN_DELETE_SELF : 0), AT_FDCWD, mnt)) {
            fail("mark (notification)");
        }
        if (mode != 5) each_directory(mnt, root.st_dev, mute_children, notif_fd);
        notif.fd = notif_fd;
        pthread_create(&t, NULL, read_loop, &notif);
    }
    if (mode == 5) return watch_until_terminated(&signals, pre_fd, notif_fd, mnt);
    if (mode == 3) {
        inotify_fd = inotify_init1(IN_CLOEXEC);
        if (inotify_fd < 0) fail("inotify_init1");
        each_directory(mnt, root.st_dev, watch_inotify, inotify_fd);
        inotify.fd = inotify_fd;
        pthread_create(&t, NULL, read_loop, &inotify);
    }
    double start = now();
    pid_t child = fork();
    if (child == 0) {
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    int status;
    if (waitpid(child, &status, 0) < 0) fail("waitpid");
    double seconds = now() - start;
    if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1)) { // grep -q finding nothing exits 1
        fprintf(stderr, "command-floor: %s exited with status %d\n", argv[3], status);
        return 1;
    }
    printf("mode=%d seconds=%.3f perm_events=%ld notif_events=%ld marks=%ld\n", mode, seconds, perm_events, notif_events, marks);
    return 0;
}
