#include "runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace sluice::bench {
namespace {

void drain(int& fd, std::string& sink) {
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      sink.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    ::close(fd);
    fd = -1;
    return;
  }
}

GroupResult parse_spawn_output(const std::string& text, const std::vector<std::string>& commands) {
  GroupResult g;
  std::size_t pos = text.find('\n');
  if (pos == std::string::npos) throw std::runtime_error("sluice-bench-spawn: no output");
  int n = 0;
  if (std::sscanf(text.c_str(), "SPAWN1 %d %lf", &n, &g.wall_seconds) != 2 || n != static_cast<int>(commands.size()))
    throw std::runtime_error("sluice-bench-spawn: malformed header");
  ++pos;
  for (int i = 0; i < n; ++i) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) throw std::runtime_error("sluice-bench-spawn: truncated output");
    ProcessResult r;
    r.command = commands[static_cast<std::size_t>(i)];
    int timed_out = 0, io_known = 0;
    unsigned long long rchar = 0, read_bytes = 0, out_total = 0;
    std::size_t out_len = 0, err_len = 0;
    std::string line = text.substr(pos, eol - pos);
    if (std::sscanf(line.c_str(), "P %d %d %lf %lf %lf %ld %ld %ld %d %llu %llu %llu %zu %zu", &r.exit_code, &timed_out,
                    &r.wall_seconds, &r.user_seconds, &r.system_seconds, &r.voluntary_switches,
                    &r.involuntary_switches, &r.max_rss_kib, &io_known, &rchar, &read_bytes, &out_total, &out_len,
                    &err_len) != 14)
      throw std::runtime_error("sluice-bench-spawn: malformed process line: " + line);
    r.timed_out = timed_out != 0;
    r.io_known = io_known != 0;
    r.rchar = rchar;
    r.read_bytes = read_bytes;
    r.out_bytes = out_total;
    pos = eol + 1;
    if (pos + out_len + err_len > text.size()) throw std::runtime_error("sluice-bench-spawn: truncated output");
    r.out = text.substr(pos, out_len);
    r.err = text.substr(pos + out_len, err_len);
    pos += out_len + err_len;
    g.processes.push_back(std::move(r));
  }
  return g;
}

}  // namespace

std::string exec_prefixed(const std::string& command) {
  if (command.find_first_of("|;&\n") != std::string::npos) return command;
  if (command.rfind("exec ", 0) == 0) return command;
  return "exec " + command;
}

GroupResult run_group(const std::string& spawner, const std::vector<std::string>& shell_commands,
                      const std::vector<std::string>& env, double timeout_seconds) {
  std::vector<std::string> args = {"sluice-bench-spawn"};
  char t[64];
  std::snprintf(t, sizeof t, "%.3f", timeout_seconds);
  args.emplace_back(t);
  for (const std::string& c : shell_commands) args.push_back(exec_prefixed(c));
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, spawner.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    throw std::runtime_error("cannot start " + spawner + ": " + std::strerror(rc));
  }
  std::string out_text, err_text;
  int fds[2] = {out[0], err[0]};
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  while (fds[0] >= 0 || fds[1] >= 0) {
    pollfd p[2];
    nfds_t k = 0;
    int which[2];
    for (int i = 0; i < 2; ++i)
      if (fds[i] >= 0) p[k] = {fds[i], POLLIN, 0}, which[k++] = i;
    if (::poll(p, k, -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    }
    for (nfds_t j = 0; j < k; ++j)
      if (p[j].revents) drain(fds[which[j]], which[j] == 0 ? out_text : err_text);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("sluice-bench-spawn failed: " + err_text);
  return parse_spawn_output(out_text, shell_commands);
}

}  // namespace sluice::bench
