#include "metadata.hpp"

#include "json.hpp"
#include "util.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <sstream>

namespace sluice::bench {
namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string cpuinfo_field(const std::string& field) {
  auto text = read_text_file("/proc/cpuinfo");
  if (!text) return "";
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (starts_with(line, field)) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return trim(line.substr(colon + 1));
    }
  }
  return "";
}

std::string meminfo_total() {
  auto text = read_text_file("/proc/meminfo");
  if (!text) return "";
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line))
    if (starts_with(line, "MemTotal:")) return trim(line.substr(9));
  return "";
}

std::string os_release() {
  auto text = read_text_file("/etc/os-release");
  if (!text) return "";
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (starts_with(line, "PRETTY_NAME=")) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "";
}

}  // namespace

Metadata environment_metadata(const std::string& source_dir) {
  Metadata m;
  std::string git = "git -C " + shell_quote(source_dir) + " --no-optional-locks ";
  std::string rev = capture_command(git + "rev-parse HEAD");
  std::string dirty = capture_command(git + "status --porcelain --untracked-files=no | head -c 1");
  m.emplace_back("git_revision", rev.empty() ? "unknown" : rev);
  m.emplace_back("git_dirty", rev.empty() ? "" : (dirty.empty() ? "no" : "yes (uncommitted changes in tracked files)"));
  m.emplace_back("git_describe", capture_command(git + "describe --always --dirty --tags"));
  utsname u{};
  if (::uname(&u) == 0) {
    m.emplace_back("kernel_release", u.release);
    m.emplace_back("kernel_version", u.version);
    m.emplace_back("machine", u.machine);
  }
  m.emplace_back("os", os_release());
  m.emplace_back("cpu_model", cpuinfo_field("model name"));
  m.emplace_back("cpu_cores_online", std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)));
  m.emplace_back("cpu_flags_hypervisor", cpuinfo_field("flags").find(" hypervisor") != std::string::npos ? "yes" : "no");
  m.emplace_back("virtualization", capture_command("systemd-detect-virt 2>/dev/null || true"));
  m.emplace_back("memory_total", meminfo_total());
  m.emplace_back("clocksource",
                 trim(read_text_file("/sys/devices/system/clocksource/clocksource0/current_clocksource").value_or("")));
  m.emplace_back("bpf_jit_enable", trim(read_text_file("/proc/sys/net/core/bpf_jit_enable").value_or("")));
  m.emplace_back("kernel_lockdown", trim(read_text_file("/sys/kernel/security/lockdown").value_or("unreadable")));
  m.emplace_back("perf_counters", "not used (unsupported in the reference VM); CPU from getrusage");
  return m;
}

std::string executable_version(const std::string& executable) {
  std::string path = find_in_path(executable);
  if (path.empty()) return "";
  char resolved[PATH_MAX];
  std::string real = ::realpath(path.c_str(), resolved) ? resolved : path;
  // Debian's usrmerge: dpkg knows /bin/grep, $PATH finds /usr/bin/grep.
  std::vector<std::string> candidates = {path, real};
  for (const std::string& p : {path, real})
    if (starts_with(p, "/usr/bin/") || starts_with(p, "/usr/sbin/")) candidates.push_back(p.substr(4));
  for (const std::string& p : candidates) {
    std::string owner = capture_command("dpkg-query -S " + shell_quote(p) + " 2>/dev/null | head -n1");
    auto colon = owner.find(':');
    if (!owner.empty() && colon != std::string::npos) {
      std::string pkg = owner.substr(0, colon);
      std::string version = capture_command("dpkg-query -W -f='${Version}' " + shell_quote(pkg));
      if (!version.empty()) return pkg + " " + version;
    }
  }
  std::string v = first_line(capture_command(shell_quote(path) + " --version 2>&1"));
  return v.empty() ? path : v;
}

std::string npm_package_version(const std::string& node_modules, const std::string& package) {
  auto text = read_text_file(node_modules + "/" + package + "/package.json");
  if (!text) return "";
  try {
    json::Value v = json::parse(*text);
    const json::Value* ver = v.find("version");
    return ver ? ver->text : "";
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace sluice::bench
