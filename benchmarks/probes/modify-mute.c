// Probe (benchmarks/probes/run): cost of FAN_MODIFY per write call for appends, and of a per-file ignore mark for FAN_MODIFY.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
static long notif_events; static int notif_fd = -1;
static void *notif_loop(void *a) {
  char buf[65536] __attribute__((aligned(8)));
  for (;;) { ssize_t n = read(notif_fd, buf, sizeof buf); if (n <= 0) { if (errno == EINTR) continue; return NULL; }
    for (struct fanotify_event_metadata *m = (void *)buf; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) __atomic_add_fetch(&notif_events, 1, __ATOMIC_RELAXED); }
}
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
  const char *mnt = argv[1]; int mode = atoi(argv[2]); int n = atoi(argv[3]); const char *file = argv[4]; int bs = argc > 5 ? atoi(argv[5]) : 4096;
  int fd = open(file, O_CREAT | O_TRUNC | O_WRONLY, 0644); close(fd);
  if (mode >= 1) {
    notif_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_REPORT_DFID_NAME_TARGET, O_RDONLY);
    unsigned long long mask = FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_ATTRIB | FAN_ONDIR | FAN_MODIFY | FAN_CLOSE_WRITE;
    if (fanotify_mark(notif_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, AT_FDCWD, mnt)) { perror("mark"); return 1; }
    if (mode == 2 && fanotify_mark(notif_fd, FAN_MARK_ADD | FAN_MARK_IGNORE | FAN_MARK_IGNORED_SURV_MODIFY | FAN_MARK_EVICTABLE, FAN_MODIFY, AT_FDCWD, file)) { perror("ignore"); return 1; }
    pthread_t t; pthread_create(&t, NULL, notif_loop, NULL);
  }
  double t0 = now();
  pid_t p = fork();
  if (p == 0) { char *data = malloc(bs); memset(data, 'x', bs); int fd = open(file, O_WRONLY | O_APPEND);
    for (int i = 0; i < n; i++) if (write(fd, data, bs) != bs) _exit(1);
    close(fd); _exit(0); }
  int st; waitpid(p, &st, 0); double s = now() - t0; usleep(100000);
  printf("mode=%d n=%d writer_ms=%.1f notif_events=%ld\n", mode, n, s * 1000, notif_events);
  return 0;
}
