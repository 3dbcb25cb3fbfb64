/*
 * sluice-bench-spawn: starts and measures one group of benchmark processes for sluice-bench.
 *
 *   sluice-bench-spawn TIMEOUT_SECONDS COMMAND...
 *
 * Each COMMAND runs as `/bin/sh -c COMMAND` (stdin /dev/null, own process group, the
 * environment this program got), all at once. For each, measured identically:
 *   wall      spawn to exit (pidfd readable), CLOCK_MONOTONIC
 *   rusage    wait4(): user/system CPU, context switches, ru_maxrss (its reaped children too)
 *   I/O       /proc/PID/io (rchar, read_bytes), read while the child is a zombie (waitid WNOWAIT)
 *   output    stdout and stderr through pipes (first 1 MiB of each kept)
 *
 * Why a separate, small program: the kernel records the peak RSS of the address space a
 * process exec()s from into its ru_maxrss. Spawned from sluice-bench itself (tens of MB), every
 * tool would report at least that. From this program the floor is its own few hundred KB (plus
 * /bin/sh's ~1 MB before it execs the tool).
 *
 * Output on stdout, for sluice-bench to parse:
 *   SPAWN1 <processes> <group wall seconds>\n
 *   then per process: P <exit> <timed_out> <wall> <user> <sys> <nvcsw> <nivcsw> <maxrss_kib>
 *                       <io_known> <rchar> <read_bytes> <stdout_total> <stdout_kept> <stderr_kept>\n
 *                     followed by the kept stdout bytes and the kept stderr bytes.
 * Exit status 0 when all of that was written, 2 on bad arguments, 3 on a system failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define CAPTURE_LIMIT (1u << 20)

struct buf {
	char *data;
	size_t len;
	uint64_t total;
};

struct child {
	pid_t pid;
	int pidfd;
	int out_fd, err_fd;
	double start, end;
	int reaped, timed_out, exit_code, io_known;
	struct rusage ru;
	uint64_t rchar, read_bytes;
	struct buf out, err;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "sluice-bench-spawn: %s: %s\n", what, strerror(errno));
	exit(3);
}

static void drain(int *fd, struct buf *b)
{
	char tmp[65536];
	for (;;) {
		ssize_t n = read(*fd, tmp, sizeof tmp);
		if (n > 0) {
			size_t room = b->len < CAPTURE_LIMIT ? CAPTURE_LIMIT - b->len : 0;
			size_t keep = (size_t)n < room ? (size_t)n : room;
			b->total += (uint64_t)n;
			if (keep) {
				char *p = realloc(b->data, b->len + keep);
				if (!p)
					die("realloc");
				b->data = p;
				memcpy(b->data + b->len, tmp, keep);
				b->len += keep;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		close(*fd);
		*fd = -1;
		return;
	}
}

static uint64_t io_field(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	return p ? strtoull(p + strlen(name), NULL, 10) : 0;
}

static void reap(struct child *c)
{
	siginfo_t info;
	int status = 0;
	char path[64], text[1024];
	int fd;

	while (waitid(P_PID, (id_t)c->pid, &info, WEXITED | WNOWAIT) != 0 && errno == EINTR)
		;
	c->end = now();
	snprintf(path, sizeof path, "/proc/%d/io", (int)c->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, text, sizeof text - 1);
		close(fd);
		if (n > 0) {
			text[n] = 0;
			c->rchar = io_field(text, "rchar:");
			c->read_bytes = io_field(text, "\nread_bytes:");
			c->io_known = 1;
		}
	}
	while (wait4(c->pid, &status, 0, &c->ru) < 0 && errno == EINTR)
		;
	c->reaped = 1;
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
	c->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static void write_all(const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(1, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("write");
		p += n;
		len -= (size_t)n;
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: sluice-bench-spawn TIMEOUT_SECONDS COMMAND...\n");
		return 2;
	}
	double timeout = strtod(argv[1], NULL);
	int n = argc - 2;
	struct child *cs = calloc((size_t)n, sizeof *cs);
	int (*pipes)[4] = calloc((size_t)n, sizeof *pipes);
	if (!cs || !pipes)
		die("calloc");
	signal(SIGPIPE, SIG_IGN);

	for (int i = 0; i < n; i++) {
		int o[2], e[2];
		if (pipe2(o, O_CLOEXEC) || pipe2(e, O_CLOEXEC))
			die("pipe2");
		pipes[i][0] = o[0], pipes[i][1] = o[1], pipes[i][2] = e[0], pipes[i][3] = e[1];
	}

	double t0 = now();
	for (int i = 0; i < n; i++) {
		struct child *c = &cs[i];
		posix_spawn_file_actions_t fa;
		posix_spawnattr_t attr;
		sigset_t none, all;
		char *args[] = {"sh", "-c", argv[i + 2], NULL};

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, pipes[i][1], 1);
		posix_spawn_file_actions_adddup2(&fa, pipes[i][3], 2);
		posix_spawnattr_init(&attr);
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
		posix_spawnattr_setpgroup(&attr, 0);
		sigemptyset(&none);
		sigfillset(&all);
		posix_spawnattr_setsigmask(&attr, &none);
		posix_spawnattr_setsigdefault(&attr, &all);
		c->start = now();
		int rc = posix_spawn(&c->pid, "/bin/sh", &fa, &attr, args, environ);
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&attr);
		close(pipes[i][1]);
		close(pipes[i][3]);
		if (rc != 0) {
			errno = rc;
			for (int j = 0; j < i; j++)
				kill(-cs[j].pid, SIGKILL);
			die("posix_spawn /bin/sh");
		}
		c->out_fd = pipes[i][0];
		c->err_fd = pipes[i][2];
		fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
		fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
		c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	}

	double deadline = t0 + timeout;
	int killed = 0;
	struct pollfd *fds = calloc((size_t)n * 3, sizeof *fds);
	int *owner = calloc((size_t)n * 3, sizeof *owner);
	if (!fds || !owner)
		die("calloc");
	for (;;) {
		nfds_t k = 0;
		for (int i = 0; i < n; i++) {
			struct child *c = &cs[i];
			if (c->out_fd >= 0)
				fds[k] = (struct pollfd){c->out_fd, POLLIN, 0}, owner[k++] = i * 3;
			if (c->err_fd >= 0)
				fds[k] = (struct pollfd){c->err_fd, POLLIN, 0}, owner[k++] = i * 3 + 1;
			if (!c->reaped && c->pidfd >= 0)
				fds[k] = (struct pollfd){c->pidfd, POLLIN, 0}, owner[k++] = i * 3 + 2;
		}
		if (k == 0)
			break;
		double left = deadline - now();
		if (left <= 0 && !killed) {
			for (int i = 0; i < n; i++)
				if (!cs[i].reaped) {
					kill(-cs[i].pid, SIGKILL);
					cs[i].timed_out = 1;
				}
			killed = 1;
		}
		int wait_ms = killed ? 100 : (int)(left * 1000.0 + 1 < 1000.0 ? left * 1000.0 + 1 : 1000.0);
		int r = poll(fds, k, wait_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("poll");
		for (nfds_t j = 0; j < k; j++) {
			if (!fds[j].revents)
				continue;
			struct child *c = &cs[owner[j] / 3];
			switch (owner[j] % 3) {
			case 0: drain(&c->out_fd, &c->out); break;
			case 1: drain(&c->err_fd, &c->err); break;
			default: reap(c);
			}
		}
		/* Without pidfds (kernels before 5.3), reap once both pipes are closed. */
		for (int i = 0; i < n; i++)
			if (!cs[i].reaped && cs[i].pidfd < 0 && cs[i].out_fd < 0 && cs[i].err_fd < 0)
				reap(&cs[i]);
	}

	double last = t0;
	for (int i = 0; i < n; i++)
		if (cs[i].end > last)
			last = cs[i].end;
	char line[512];
	int len = snprintf(line, sizeof line, "SPAWN1 %d %.9f\n", n, last - t0);
	write_all(line, (size_t)len);
	for (int i = 0; i < n; i++) {
		struct child *c = &cs[i];
		len = snprintf(line, sizeof line, "P %d %d %.9f %.6f %.6f %ld %ld %ld %d %llu %llu %llu %zu %zu\n",
			       c->exit_code, c->timed_out, c->end - c->start, tv(c->ru.ru_utime), tv(c->ru.ru_stime),
			       c->ru.ru_nvcsw, c->ru.ru_nivcsw, c->ru.ru_maxrss, c->io_known,
			       (unsigned long long)c->rchar, (unsigned long long)c->read_bytes,
			       (unsigned long long)c->out.total, c->out.len, c->err.len);
		write_all(line, (size_t)len);
		if (c->out.len)
			write_all(c->out.data, c->out.len);
		if (c->err.len)
			write_all(c->err.data, c->err.len);
	}
	return 0;
}
