/*
 * kernel-gossip lab workload: burns CPU in a chosen shape, then exits.
 *   burner steady <threads> <duration_ms>
 *   burner bursty <threads> <duration_ms> <burst_ms> <every_ms>
 *   burner idle   <duration_ms>
 *   burner duty   <threads> <duration_ms> <cpu_ms> <every_ms>
 * `duty` spends cpu_ms of the thread's own CPU time every every_ms of wall time: a fixed demand
 * (cpu_ms / every_ms cores per thread) however busy the machine is, unlike `bursty`, whose bursts
 * are wall time and use less CPU when the thread waits. A duty thread that falls behind (throttled)
 * skips the ticks it missed instead of catching up, so its demand returns to cpu_ms / every_ms as
 * soon as it may.
 * Run as `/pause` (the same binary under that name, argv[0]'s base name decides), it is the pod
 * sandbox's process, as CRI runtimes run one from the pause image: it holds the pod's namespaces,
 * sleeps in pause(2), exits 0 on SIGINT or SIGTERM and reaps the orphans it adopts as the PID 1 of
 * a shared PID namespace. The probes name a sandbox by that entrypoint, as on a real node.
 * Static (gcc -static -pthread) so it runs in a busybox rootfs.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static long long duration_ms, burst_ms, every_ms;
static int bursty, duty;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long thread_cpu_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void spin_cpu(long long cpu_ms) {
  volatile unsigned long x = 0;
  long long until = thread_cpu_us() + cpu_ms * 1000;
  while (thread_cpu_us() < until) {
    for (int i = 0; i < 10000; i++) x += i;
  }
}

static void spin_until(long long deadline) {
  volatile unsigned long x = 0;
  while (now_ms() < deadline) {
    for (int i = 0; i < 10000; i++) x += i;
  }
}

static void sleep_ms(long long ms) {
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
  nanosleep(&ts, NULL);
}

static void *work(void *arg) {
  long long start = *(long long *)arg, end = start + duration_ms;
  if (!bursty) {
    spin_until(end);
    return NULL;
  }
  if (duty) {
    /* Behind schedule (throttled): drop the missed ticks, so no backlog outlives the throttling. */
    for (long long t = start; t < end;) {
      spin_cpu(burst_ms);
      long long next = t + every_ms, now = now_ms();
      if (next > now) sleep_ms(next - now);
      t = next > now ? next : now;
    }
    return NULL;
  }
  for (long long t = start; t < end; t += every_ms) {
    {
      long long stop = t + burst_ms < end ? t + burst_ms : end;
      spin_until(stop);
    }
    long long next = t + every_ms;
    if (next > now_ms()) sleep_ms(next - now_ms());
  }
  return NULL;
}

static void pause_exit(int signal_number) {
  (void)signal_number;
  _exit(0);
}

static void pause_reap(int signal_number) {
  (void)signal_number;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

static _Noreturn void run_pause(void) {
  struct sigaction stop = {0};
  stop.sa_handler = pause_exit;
  sigaction(SIGINT, &stop, NULL);
  sigaction(SIGTERM, &stop, NULL);
  struct sigaction reap = {0};
  reap.sa_handler = pause_reap;
  reap.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigaction(SIGCHLD, &reap, NULL);
  for (;;) {
    pause();
  }
}

int main(int argc, char **argv) {
  const char *slash = strrchr(argv[0], '/');
  if (strcmp(slash == NULL ? argv[0] : slash + 1, "pause") == 0) {
    run_pause();
  }
  if (argc >= 3 && strcmp(argv[1], "idle") == 0) {
    sleep_ms(atoll(argv[2]));
    return 0;
  }
  duty = argc == 6 && strcmp(argv[1], "duty") == 0;
  bursty = duty || (argc == 6 && strcmp(argv[1], "bursty") == 0);
  if (!(bursty || (argc == 4 && strcmp(argv[1], "steady") == 0))) {
    fprintf(stderr, "usage: burner steady T MS | bursty T MS BURST_MS EVERY_MS | duty T MS CPU_MS EVERY_MS | idle MS\n");
    return 2;
  }
  int threads = atoi(argv[2]);
  duration_ms = atoll(argv[3]);
  if (bursty) {
    burst_ms = atoll(argv[4]);
    every_ms = atoll(argv[5]);
  }
  if (threads < 1 || threads > 64 || duration_ms < 0 || (bursty && (burst_ms < 1 || every_ms < burst_ms))) {
    fprintf(stderr, "burner: bad arguments\n");
    return 2;
  }
  long long start = now_ms();
  pthread_t ids[64];
  for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, work, &start);
  for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
  return 0;
}
