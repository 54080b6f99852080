/*
 * Loads for test/bench/probe-overhead.ts. Each does a fixed amount of work and prints
 * "<wall_ns> <cpu_ns>" (CPU = user + system of this process and its reaped children).
 *   load pingpong N   N round trips of one byte over two pipes between two processes (2N switches)
 *   load syscalls N   N getppid() system calls
 *   load cpu N        N iterations of an integer busy loop
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long ns(struct timespec t) { return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }
static long long tv(struct timeval t) { return (long long)t.tv_sec * 1000000000LL + (long long)t.tv_usec * 1000LL; }

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: load pingpong|syscalls|cpu N\n");
    return 2;
  }
  long long n = atoll(argv[2]);
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  if (strcmp(argv[1], "pingpong") == 0) {
    int there[2], back[2];
    if (pipe(there) || pipe(back)) return 1;
    pid_t child = fork();
    char byte = 'x';
    if (child == 0) {
      for (long long i = 0; i < n; i++) {
        if (read(there[0], &byte, 1) != 1 || write(back[1], &byte, 1) != 1) _exit(1);
      }
      _exit(0);
    }
    for (long long i = 0; i < n; i++) {
      if (write(there[1], &byte, 1) != 1 || read(back[0], &byte, 1) != 1) return 1;
    }
    waitpid(child, NULL, 0);
  } else if (strcmp(argv[1], "syscalls") == 0) {
    for (long long i = 0; i < n; i++) syscall(SYS_getppid);
  } else if (strcmp(argv[1], "cpu") == 0) {
    volatile unsigned long long x = 0;
    for (long long i = 0; i < n; i++) x += (unsigned long long)i * 2654435761ULL;
  } else {
    fprintf(stderr, "unknown load %s\n", argv[1]);
    return 2;
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  struct rusage self, children;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  long long cpu = tv(self.ru_utime) + tv(self.ru_stime) + tv(children.ru_utime) + tv(children.ru_stime);
  printf("%lld %lld\n", ns(end) - ns(start), cpu);
  return 0;
}
