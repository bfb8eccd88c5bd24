// Probe (benchmarks/probes/run): does an ignore mark with FAN_EVENT_ON_CHILD on a directory hide its
// children's FAN_PRE_ACCESS / FAN_OPEN_PERM events, and what does a notification group cost a writer?
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#ifndef FAN_PRE_ACCESS
#define FAN_PRE_ACCESS 0x00100000
#endif
static long perm_events, notif_events;
static int pre_fd = -1, notif_fd = -1;
static int probe_mode;
static const char *probe_dir;
#define DIR_ONLY_MASK (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_ATTRIB | FAN_ONDIR | FAN_MODIFY | FAN_CLOSE_WRITE)
static void *pre_loop(void *a) {
  char buf[65536] __attribute__((aligned(8)));
  for (;;) {
    ssize_t n = read(pre_fd, buf, sizeof buf);
    if (n <= 0) { if (errno == EINTR) continue; return NULL; }
    for (struct fanotify_event_metadata *m = (void *)buf; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
      __atomic_add_fetch(&perm_events, 1, __ATOMIC_RELAXED);
      struct fanotify_response r = {.fd = m->fd, .response = FAN_ALLOW};
      write(pre_fd, &r, sizeof r);
      close(m->fd);
    }
  }
}
static void *notif_loop(void *a) {
  int fd = a ? *(int *)a : notif_fd;
  char buf[65536] __attribute__((aligned(8)));
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) { if (errno == EINTR) continue; return NULL; }
    for (struct fanotify_event_metadata *m = (void *)buf; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n))
      __atomic_add_fetch(&notif_events, 1, __ATOMIC_RELAXED);
    static int dir_muted;
    if (probe_mode == 6 && !dir_muted) { // directory results: the directory's first event mutes it for the period
      if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_IGNORE | FAN_MARK_IGNORED_SURV_MODIFY | FAN_MARK_EVICTABLE,
                        DIR_ONLY_MASK | FAN_EVENT_ON_CHILD, AT_FDCWD, probe_dir)) { perror("mute dir"); exit(1); }
      dir_muted = 1;
    }
    if (getenv("DELAY_US")) usleep(atoi(getenv("DELAY_US")));
  }
}
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static double run_writer(const char *dir, int n) {
  double t0 = now();
  pid_t p = fork();
  if (p == 0) {
    char path[4096], data[4096]; memset(data, 'x', sizeof data);
    for (int i = 0; i < n; i++) {
      snprintf(path, sizeof path, "%s/f%d", dir, i);
      int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
      if (fd < 0 || write(fd, data, sizeof data) != sizeof data) { perror(path); _exit(1); }
      close(fd);
    }
    // a second pass: reads and an append (events on existing children)
    for (int i = 0; i < n; i++) {
      snprintf(path, sizeof path, "%s/f%d", dir, i);
      int fd = open(path, O_RDWR);
      if (fd < 0 || read(fd, data, 100) != 100) _exit(2);
      close(fd);
    }
    _exit(0);
  }
  int st; waitpid(p, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st)) { fprintf(stderr, "writer failed %d\n", st); exit(1); }
  return now() - t0;
}
int main(int argc, char **argv) {
  const char *mnt = argv[1]; int mode = atoi(argv[2]); int n = atoi(argv[3]); const char *dir = argv[4];
  probe_mode = mode; probe_dir = dir;
  mkdir(dir, 0755);
  if (mode >= 1) {
    pre_fd = fanotify_init(FAN_CLASS_PRE_CONTENT | FAN_CLOEXEC | FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
    if (pre_fd < 0) { perror("init pre"); return 1; }
    if (fanotify_mark(pre_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_PRE_ACCESS | FAN_OPEN_PERM, AT_FDCWD, mnt)) { perror("mark fs"); return 1; }
    if (mode != 3) {
      int dfd = open(dir, O_RDONLY | O_DIRECTORY);
      if (fanotify_mark(pre_fd, FAN_MARK_ADD | FAN_MARK_IGNORE | FAN_MARK_IGNORED_SURV_MODIFY | FAN_MARK_EVICTABLE,
                        FAN_PRE_ACCESS | FAN_OPEN_PERM | FAN_EVENT_ON_CHILD, dfd, NULL)) { perror("ignore dir"); return 1; }
      close(dfd);
    }
    pthread_t t; pthread_create(&t, NULL, pre_loop, NULL);
  }
  if (mode >= 2) {
    notif_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_REPORT_DFID_NAME_TARGET, O_RDONLY);
    if (notif_fd < 0) { perror("init notif"); return 1; }
    unsigned long long mask = FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_ATTRIB | FAN_ONDIR;
    if (mode >= 2 && mode != 4 && mode != 5) mask |= FAN_MODIFY | FAN_CLOSE_WRITE;
    if (mode == 6) mask = DIR_ONLY_MASK;
    if (fanotify_mark(notif_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, AT_FDCWD, mnt)) { perror("mark notif"); return 1; }
    pthread_t t; pthread_create(&t, NULL, notif_loop, NULL);
  }
  static int content_fd = -1;
  if (mode == 5) { // content changes in a second group that reports the file's handle only, no name
    content_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_REPORT_FID, O_RDONLY);
    if (content_fd < 0) { perror("init content"); return 1; }
    if (fanotify_mark(content_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_MODIFY | FAN_CLOSE_WRITE, AT_FDCWD, mnt)) { perror("mark content"); return 1; }
    pthread_t t; pthread_create(&t, NULL, notif_loop, &content_fd);
  }
  double s = run_writer(dir, n);
  usleep(200000);
  printf("mode=%d n=%d writer_ms=%.1f perm_events=%ld notif_events=%ld\n", mode, n, s * 1000, perm_events, notif_events);
  return 0;
}
