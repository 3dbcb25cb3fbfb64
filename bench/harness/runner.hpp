// Running measured commands: every subject (sluice and peers alike) is a child process of
// /bin/sh -c, measured the same way: wall time from spawn to reaping, CPU and context switches
// and peak memory from wait4()'s rusage (which includes the child's own reaped children), and
// bytes read from /proc/PID/io read while the child is a zombie (waitid WNOWAIT).
// The spawning and measuring is done by the small helper sluice-bench-spawn (spawn.c), so that
// the harness's own memory does not leak into the children's ru_maxrss.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::bench {

struct ProcessResult {
  std::string command;
  int exit_code = -1;       // 128+N when killed by signal N
  bool timed_out = false;
  double wall_seconds = 0;  // spawn to reap
  double user_seconds = 0;
  double system_seconds = 0;
  long voluntary_switches = 0;
  long involuntary_switches = 0;
  long max_rss_kib = 0;
  std::uint64_t rchar = 0;       // /proc/PID/io: bytes passed to read()-like calls
  std::uint64_t read_bytes = 0;  // /proc/PID/io: bytes fetched from storage
  bool io_known = false;
  std::string out;               // stdout (up to kCaptureLimit bytes)
  std::string err;               // stderr (up to kCaptureLimit bytes)
  std::uint64_t out_bytes = 0;   // all stdout bytes, also those past the limit
};

struct GroupResult {
  std::vector<ProcessResult> processes;
  double wall_seconds = 0;  // first spawn to last reap
};

constexpr std::size_t kCaptureLimit = 1 << 20;

// Starts every command at once through `spawner` (sluice-bench-spawn: each in its own process
// group, stdin /dev/null, `env` as the environment) and waits for all. A group still running
// after timeout_seconds is killed. Throws std::runtime_error if the helper fails.
GroupResult run_group(const std::string& spawner, const std::vector<std::string>& shell_commands,
                      const std::vector<std::string>& env, double timeout_seconds);

// "exec CMD" for a simple command (so /bin/sh does not stay around as an extra process);
// CMD unchanged when it is a pipeline or a list.
std::string exec_prefixed(const std::string& command);

}  // namespace sluice::bench
