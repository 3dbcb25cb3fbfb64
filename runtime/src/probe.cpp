// Run-time feature probe: every capability is decided by trying the thing (loading a minimal
// program, creating a map, setting up a ring, reading the kernel's own switches), never by
// looking at the kernel version.

#include "sluice/probe.hpp"
#include "sluice/report.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <liburing.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace sluice {

const Capability* ProbeReport::find(std::string_view name) const {
  for (const Capability& c : capabilities)
    if (c.name == name) return &c;
  return nullptr;
}

bool ProbeReport::available(std::string_view name) const {
  const Capability* c = find(name);
  return c != nullptr && c->available;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Small RAII owners and helpers

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct BtfDeleter {
  void operator()(struct btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<struct btf, BtfDeleter>;

struct UringProbeDeleter {
  void operator()(io_uring_probe* p) const { io_uring_free_probe(p); }
};
using UringProbePtr = std::unique_ptr<io_uring_probe, UringProbeDeleter>;

// An io_uring instance, torn down on destruction. Not movable: liburing keeps pointers into the
// mmapped rings inside struct io_uring, and there is no need to move it.
class Ring {
 public:
  Ring() = default;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() {
    if (ok_) io_uring_queue_exit(&ring_);
  }
  // 0 or -errno, like io_uring_queue_init.
  int init(unsigned entries) {
    const int rc = io_uring_queue_init(entries, &ring_, 0);
    ok_ = rc == 0;
    return rc;
  }
  io_uring* get() { return &ring_; }

 private:
  io_uring ring_{};
  bool ok_ = false;
};

// libbpf prints warnings to stderr while probing (that is how its probes fail). The print
// callback is PROCESS-GLOBAL libbpf state: this guard replaces it for its own lifetime only and
// restores whatever was installed before, so probe_system() must not run concurrently with
// other code that sets or relies on libbpf's print callback.
class QuietLibbpf {
 public:
  QuietLibbpf() : previous_(libbpf_set_print(&QuietLibbpf::discard)) {}
  QuietLibbpf(const QuietLibbpf&) = delete;
  QuietLibbpf& operator=(const QuietLibbpf&) = delete;
  ~QuietLibbpf() { libbpf_set_print(previous_); }

 private:
  static int discard(enum libbpf_print_level, const char*, va_list) { return 0; }
  libbpf_print_fn_t previous_;
};

constexpr int kENOTSUPP = 524;  // kernel-internal "operation not supported", leaks to users

std::string errno_name(int err) {
  if (err == kENOTSUPP) return "ENOTSUPP";
  if (const char* name = strerrorname_np(err)) return name;
  return "errno " + std::to_string(err);
}

// "EPERM (Operation not permitted)"
std::string errno_text(int err) {
  if (err == kENOTSUPP) return "ENOTSUPP (operation not supported by this kernel)";
  const char* desc = strerrordesc_np(err);
  return errno_name(err) + " (" + (desc != nullptr ? desc : "unknown error") + ")";
}

std::string trim(std::string s) {
  const auto not_space = [](unsigned char c) { return c != ' ' && c != '\n' && c != '\t' && c != '\r'; };
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  return s;
}

struct FileText {
  bool ok = false;
  std::string text;  // trimmed
  int err = 0;       // errno when !ok
};

FileText read_text_at(int dirfd, const char* path) {
  FileText out;
  Fd fd(::openat(dirfd, path, O_RDONLY | O_CLOEXEC));
  if (!fd) {
    out.err = errno;
    return out;
  }
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      out.err = errno;
      return out;
    }
    if (n == 0) break;
    out.text.append(buf, static_cast<size_t>(n));
    if (out.text.size() > (1u << 20)) break;  // these are one-line files; do not read forever
  }
  out.ok = true;
  out.text = trim(std::move(out.text));
  return out;
}

FileText read_text(const char* path) { return read_text_at(AT_FDCWD, path); }

std::optional<long> parse_long(std::string_view s) {
  long v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string last_log_line(const char* log) {
  std::string s = trim(log);
  const size_t nl = s.rfind('\n');
  if (nl != std::string::npos) s = trim(s.substr(nl + 1));
  return s;
}

bool contains_word(std::string_view list, std::string_view word, char sep) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(sep, pos);
    if (end == std::string_view::npos) end = list.size();
    if (list.substr(pos, end - pos) == word) return true;
    pos = end + 1;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Facts gathered once and used by several probes

struct Facts {
  uid_t euid = 0;
  std::optional<long> unprivileged_bpf_disabled;  // nullopt when unreadable

  bool caps_known = false;
  std::uint64_t cap_effective = 0;
  int caps_err = 0;

  // Lockdown: "none" / "integrity" / "confidentiality", empty when unknown (lockdown_note says why).
  std::string lockdown;
  std::string lockdown_note;  // how it was read, or why it could not be
  std::optional<std::string> lsm_list;
  std::string lsm_note;

  BtfPtr vmlinux;
  int btf_err = 0;
  std::unordered_set<std::uint32_t> kfunc_tagged;  // FUNC ids carrying a "bpf_kfunc" decl tag

  bool has_cap(int cap) const {
    return caps_known && cap >= 0 && cap < 64 && ((cap_effective >> cap) & 1u) != 0;
  }
};

void read_caps(Facts& f) {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capget, &header, data) != 0) {
    f.caps_err = errno;
    return;
  }
  f.caps_known = true;
  f.cap_effective = static_cast<std::uint64_t>(data[0].effective) |
                    (static_cast<std::uint64_t>(data[1].effective) << 32);
}

std::string bracketed_word(std::string_view s) {
  const size_t open = s.find('[');
  const size_t close = s.find(']', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) return {};
  return std::string(s.substr(open + 1, close - open - 1));
}

void take_security_files(Facts& f, const FileText& lockdown, const FileText& lsm, std::string_view where) {
  if (lockdown.ok) {
    f.lockdown = bracketed_word(lockdown.text);
    if (f.lockdown.empty()) f.lockdown_note = "unexpected lockdown file contents \"" + lockdown.text + "\"";
    else f.lockdown_note = "lockdown=" + f.lockdown + " (" + lockdown.text + "; read from " + std::string(where) + ")";
  } else if (lockdown.err == ENOENT && lsm.ok) {
    // securityfs is there but has no lockdown file: the lockdown LSM is not built in.
    f.lockdown = "none";
    f.lockdown_note = "no lockdown LSM in this kernel (no lockdown file in " + std::string(where) + ")";
  } else {
    f.lockdown_note = "cannot read lockdown in " + std::string(where) + ": " + errno_text(lockdown.err);
  }
  if (lsm.ok) {
    f.lsm_list = lsm.text;
    f.lsm_note = "read from " + std::string(where);
  } else {
    f.lsm_note = "cannot read lsm in " + std::string(where) + ": " + errno_text(lsm.err);
  }
}

// Reads /sys/kernel/security/{lockdown,lsm}. When securityfs is not mounted there (common in VMs
// and containers) and we may mount, it creates a private, detached securityfs mount with the new
// mount API (fsopen/fsmount): it is never attached to any mount tree, nobody else can see it, and
// it disappears when the fd is closed. Nothing on the system changes.
void read_security(Facts& f) {
  const FileText lockdown = read_text("/sys/kernel/security/lockdown");
  const FileText lsm = read_text("/sys/kernel/security/lsm");
  if (lockdown.ok || lsm.ok || lsm.err != ENOENT) {
    take_security_files(f, lockdown, lsm, "/sys/kernel/security");
    return;
  }
  const std::string unmounted = "securityfs is not mounted at /sys/kernel/security";
  Fd fs(::fsopen("securityfs", FSOPEN_CLOEXEC));
  if (!fs) {
    const int err = errno;
    f.lockdown_note = unmounted + " and a private mount failed: fsopen: " + errno_text(err) +
                      (err == EPERM ? " (needs CAP_SYS_ADMIN; or mount -t securityfs none /sys/kernel/security)" : "");
    f.lsm_note = f.lockdown_note;
    return;
  }
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    f.lockdown_note = unmounted + " and a private mount failed: fsconfig(CREATE): " + errno_text(errno);
    f.lsm_note = f.lockdown_note;
    return;
  }
  Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
  if (!mnt) {
    f.lockdown_note = unmounted + " and a private mount failed: fsmount: " + errno_text(errno);
    f.lsm_note = f.lockdown_note;
    return;
  }
  take_security_files(f, read_text_at(mnt.get(), "lockdown"), read_text_at(mnt.get(), "lsm"),
                      "a private securityfs mount; it is not mounted at /sys/kernel/security");
}

void load_btf(Facts& f) {
  struct stat st {};
  if (::stat("/sys/kernel/btf/vmlinux", &st) != 0) {
    f.btf_err = errno;
    return;
  }
  errno = 0;
  f.vmlinux.reset(btf__load_vmlinux_btf());
  if (!f.vmlinux) {
    f.btf_err = errno != 0 ? errno : EINVAL;
    return;
  }
  const std::uint32_t n = btf__type_cnt(f.vmlinux.get());
  for (std::uint32_t id = 1; id < n; ++id) {
    const struct btf_type* t = btf__type_by_id(f.vmlinux.get(), id);
    if (t == nullptr || btf_kind(t) != BTF_KIND_DECL_TAG) continue;
    const char* name = btf__name_by_offset(f.vmlinux.get(), t->name_off);
    if (name != nullptr && std::strcmp(name, "bpf_kfunc") == 0) f.kfunc_tagged.insert(t->type);
  }
}

Facts gather_facts() {
  Facts f;
  f.euid = ::geteuid();
  const FileText unpriv = read_text("/proc/sys/kernel/unprivileged_bpf_disabled");
  if (unpriv.ok) f.unprivileged_bpf_disabled = parse_long(unpriv.text);
  read_caps(f);
  read_security(f);
  load_btf(f);
  return f;
}

// ---------------------------------------------------------------------------------------------
// Privilege requirements, used to explain EPERM

// kUnprivilegedOk: allowed without capabilities unless unprivileged_bpf_disabled is set.
enum class Need { kUnprivilegedOk, kBpf, kBpfNet, kBpfPerfmon };

// Empty when this process holds what `need` asks for, else what is missing, phrased to follow
// "<what> ..." ("xdp programs need CAP_BPF + CAP_NET_ADMIN (or CAP_SYS_ADMIN); ...").
std::string missing_caps(const Facts& f, Need need) {
  if (!f.caps_known) return "may need capabilities this process cannot check (capget: " + errno_text(f.caps_err) + ")";
  if (f.has_cap(CAP_SYS_ADMIN)) return {};
  if (need == Need::kUnprivilegedOk) {
    if (f.has_cap(CAP_BPF) || f.unprivileged_bpf_disabled == 0) return {};
    return "need CAP_BPF (or CAP_SYS_ADMIN) because unprivileged BPF is disabled (unprivileged_bpf_disabled=" +
           (f.unprivileged_bpf_disabled ? std::to_string(*f.unprivileged_bpf_disabled) : std::string("?")) +
           "); this process lacks CAP_BPF";
  }
  std::vector<std::string> missing;
  if (!f.has_cap(CAP_BPF)) missing.emplace_back("CAP_BPF");
  if (need == Need::kBpfNet && !f.has_cap(CAP_NET_ADMIN)) missing.emplace_back("CAP_NET_ADMIN");
  if (need == Need::kBpfPerfmon && !f.has_cap(CAP_PERFMON)) missing.emplace_back("CAP_PERFMON");
  if (missing.empty()) return {};
  std::string s = "need CAP_BPF";
  if (need == Need::kBpfNet) s += " + CAP_NET_ADMIN";
  if (need == Need::kBpfPerfmon) s += " + CAP_PERFMON";
  s += " (or CAP_SYS_ADMIN); this process lacks ";
  for (size_t i = 0; i < missing.size(); ++i) s += (i ? ", " : "") + missing[i];
  return s;
}

// What this process holds that should have been enough (used when the kernel refuses anyway).
std::string held_caps_phrase(const Facts& f, Need need) {
  if (f.has_cap(CAP_SYS_ADMIN)) return "CAP_SYS_ADMIN";
  switch (need) {
    case Need::kBpfNet: return "CAP_BPF + CAP_NET_ADMIN";
    case Need::kBpfPerfmon: return "CAP_BPF + CAP_PERFMON";
    case Need::kBpf: return "CAP_BPF";
    case Need::kUnprivilegedOk: break;
  }
  return f.has_cap(CAP_BPF) ? "CAP_BPF" : "no capabilities, with unprivileged BPF enabled";
}

// Explains a failed program load / map creation.
//   what: "fentry programs", "sk_msg programs", ...
//   lockdown_relevant: whether kernel lockdown is known to restrict this kind of object.
std::string explain_failure(const Facts& f, int err, std::string_view what, Need need,
                            bool lockdown_relevant, std::string_view verifier_line = {}) {
  std::string s;
  switch (err) {
    case EPERM:
    case EACCES: {
      const std::string missing = missing_caps(f, need);
      if (!missing.empty()) {
        s = errno_name(err) + ": " + std::string(what) + " " + missing;
      } else if (lockdown_relevant && !f.lockdown.empty() && f.lockdown != "none") {
        // Measured: refused before the verifier runs, with no lockdown message in the kernel
        // log, so the refusal is tied to (not proven to come from) the lockdown mode.
        s = errno_name(err) + ": this kernel refuses " + std::string(what) + " (kernel lockdown=" + f.lockdown +
            " is active; refused although this process holds " + held_caps_phrase(f, need) + ")";
      } else if (lockdown_relevant && f.lockdown.empty()) {
        s = errno_name(err) + ": refused although this process holds " + held_caps_phrase(f, need) +
            "; kernel lockdown is the usual cause, but its mode is unknown (" + f.lockdown_note + ")";
      } else {
        s = errno_name(err) + ": refused although this process holds " + held_caps_phrase(f, need) +
            "; a security module, seccomp or sysctl policy denies " + std::string(what);
      }
      break;
    }
    case EINVAL:
      s = "EINVAL: the kernel rejected a minimal program/map of this kind (type unknown to this kernel, or "
          "built without it)";
      break;
    case kENOTSUPP:
    case EOPNOTSUPP:
      s = errno_text(err) + ": the kernel was built without support for " + std::string(what);
      break;
    case E2BIG:
      s = "E2BIG: the kernel is older than libbpf's bpf_attr (unknown fields set)";
      break;
    case ENOSYS:
      s = "ENOSYS: the kernel has no bpf() syscall (CONFIG_BPF_SYSCALL=n) or seccomp blocks it";
      break;
    default:
      s = errno_text(err);
      break;
  }
  if (!verifier_line.empty()) s += "; verifier: " + std::string(verifier_line);
  return s;
}

// r0 = 0; exit
struct MinimalProg {
  bpf_insn insns[2];
  MinimalProg() : insns{} {
    insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
    insns[0].dst_reg = BPF_REG_0;
    insns[0].imm = 0;
    insns[1].code = BPF_JMP | BPF_EXIT;
  }
};

struct LoadResult {
  Fd fd;
  int err = 0;
  std::string verifier_line;  // last line of the verifier log on failure
};

LoadResult load_minimal(bpf_prog_type type, bpf_attach_type attach = static_cast<bpf_attach_type>(0),
                        std::uint32_t attach_btf_id = 0) {
  const MinimalProg prog;
  std::vector<char> log(8192, '\0');
  bpf_prog_load_opts opts{};
  opts.sz = sizeof opts;
  opts.expected_attach_type = attach;
  opts.attach_btf_id = attach_btf_id;
  opts.log_level = 1;
  opts.log_size = static_cast<__u32>(log.size());
  opts.log_buf = log.data();
  LoadResult r;
  errno = 0;
  const int fd = bpf_prog_load(type, "sluice_probe", "GPL", prog.insns, 2, &opts);
  if (fd >= 0) {
    r.fd = Fd(fd);
  } else {
    r.err = errno != 0 ? errno : -fd;
    r.verifier_line = last_log_line(log.data());
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Report building

class Builder {
 public:
  void add(std::string name, std::string group, std::string description, bool available,
           std::string detail) {
    caps_.push_back(Capability{std::move(name), std::move(group), std::move(description), available,
                               std::move(detail)});
  }
  void add(Capability c) { caps_.push_back(std::move(c)); }
  bool available(std::string_view name) const {
    for (const Capability& c : caps_)
      if (c.name == name) return c.available;
    return false;
  }
  std::vector<Capability> take() { return std::move(caps_); }

 private:
  std::vector<Capability> caps_;
};

// ---- privileges -----------------------------------------------------------------------------

void probe_privileges(Builder& b, const Facts& f) {
  const std::string g = "privileges";
  b.add("priv.euid_root", g, "running as root (effective uid 0)", f.euid == 0,
        "euid=" + std::to_string(f.euid));

  struct CapInfo {
    const char* name;
    const char* description;
    int cap;
    const char* why;
  };
  const CapInfo caps[] = {
      {"priv.cap_bpf", "CAP_BPF in effective set", CAP_BPF, "needed to load BPF programs and most maps"},
      {"priv.cap_sys_admin", "CAP_SYS_ADMIN in effective set", CAP_SYS_ADMIN,
       "implies CAP_BPF/CAP_PERFMON/CAP_NET_ADMIN for BPF"},
      {"priv.cap_net_admin", "CAP_NET_ADMIN in effective set", CAP_NET_ADMIN,
       "needed for XDP, tc, sk_msg/sk_skb programs and sockmaps"},
      {"priv.cap_perfmon", "CAP_PERFMON in effective set", CAP_PERFMON,
       "needed for tracing programs (tracepoint, fentry, kprobe)"},
  };
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%016llx", static_cast<unsigned long long>(f.cap_effective));
  for (const CapInfo& c : caps) {
    if (!f.caps_known) {
      b.add(c.name, g, c.description, false, "capget failed: " + errno_text(f.caps_err));
    } else if (f.has_cap(c.cap)) {
      b.add(c.name, g, c.description, true, std::string("CapEff=") + hex);
    } else {
      b.add(c.name, g, c.description, false,
            std::string("not in effective set (CapEff=") + hex + "): " + c.why);
    }
  }

  const FileText unpriv = read_text("/proc/sys/kernel/unprivileged_bpf_disabled");
  if (!unpriv.ok) {
    b.add("priv.unprivileged_bpf", g, "unprivileged users may load BPF", false,
          "cannot read /proc/sys/kernel/unprivileged_bpf_disabled: " + errno_text(unpriv.err));
  } else {
    const std::optional<long> v = parse_long(unpriv.text);
    std::string detail = "unprivileged_bpf_disabled=" + unpriv.text;
    if (v == 0) detail += ": unprivileged socket filters and some maps allowed";
    else if (v == 1) detail += ": only privileged users may use bpf(), until reboot";
    else if (v == 2) detail += ": only privileged users may use bpf(); root may re-enable (sysctl kernel.unprivileged_bpf_disabled=0)";
    b.add("priv.unprivileged_bpf", g, "unprivileged users may load BPF", v == 0, detail);
  }

  if (f.lockdown.empty()) {
    b.add("priv.lockdown_off", g, "kernel lockdown off", false, "lockdown mode unknown: " + f.lockdown_note);
  } else if (f.lockdown == "none") {
    b.add("priv.lockdown_off", g, "kernel lockdown off", true, f.lockdown_note);
  } else {
    b.add("priv.lockdown_off", g, "kernel lockdown off", false,
          f.lockdown_note + ": the kernel refuses some privileged features (bpf_probe_write_user" +
              (f.lockdown == "confidentiality" ? ", kprobes, reading kernel memory from BPF" : "") +
              "); see bpf.prog.tracing and bpf.prog.lsm for what this kernel refuses");
  }
}

// ---- kernel ---------------------------------------------------------------------------------

void probe_kfunc(Builder& b, const Facts& f, const std::string& name, const std::string& description,
                 std::initializer_list<const char*> funcs, const std::string& present_note,
                 const std::string& absent_note) {
  if (!f.vmlinux) {
    b.add(name, "kernel", description, false, "no vmlinux BTF to look it up in (see kernel.btf)");
    return;
  }
  std::string found;
  std::string missing;
  for (const char* fn : funcs) {
    const int id = btf__find_by_name_kind(f.vmlinux.get(), fn, BTF_KIND_FUNC);
    if (id > 0) {
      found += (found.empty() ? "" : ", ") + std::string(fn) + " (BTF id " + std::to_string(id) +
               (f.kfunc_tagged.count(static_cast<std::uint32_t>(id)) ? ", tagged bpf_kfunc" : "") + ")";
    } else {
      missing += (missing.empty() ? "" : ", ") + std::string(fn);
    }
  }
  if (missing.empty()) {
    b.add(name, "kernel", description, true, found + (present_note.empty() ? "" : "; " + present_note));
  } else {
    b.add(name, "kernel", description, false,
          "not in vmlinux BTF: " + missing + (absent_note.empty() ? "" : "; " + absent_note));
  }
}

void probe_kernel(Builder& b, const Facts& f) {
  const std::string g = "kernel";

  const FileText jit = read_text("/proc/sys/net/core/bpf_jit_enable");
  if (!jit.ok) {
    b.add("bpf.jit", g, "BPF JIT compiler", false,
          "cannot read /proc/sys/net/core/bpf_jit_enable: " + errno_text(jit.err) +
              (jit.err == ENOENT ? " (kernel built without CONFIG_BPF_JIT: interpreter only)" : ""));
  } else {
    const std::optional<long> v = parse_long(jit.text);
    std::string detail = "jit_enable=" + jit.text;
    if (v == 0) detail += ": interpreter only (sysctl net.core.bpf_jit_enable=1)";
    else if (v == 2) detail += " (JIT on, with debug dumps to the kernel log)";
    b.add("bpf.jit", g, "BPF JIT compiler", v.has_value() && *v > 0, detail);
  }

  if (f.vmlinux) {
    struct stat st {};
    ::stat("/sys/kernel/btf/vmlinux", &st);
    b.add("kernel.btf", g, "kernel BTF (/sys/kernel/btf/vmlinux)", true,
          std::to_string(btf__type_cnt(f.vmlinux.get()) - 1) + " types, " + std::to_string(st.st_size) + " bytes");
  } else {
    b.add("kernel.btf", g, "kernel BTF (/sys/kernel/btf/vmlinux)", false,
          f.btf_err == ENOENT ? "ENOENT: no /sys/kernel/btf/vmlinux (kernel built without CONFIG_DEBUG_INFO_BTF): "
                                "no CO-RE, fentry, tp_btf or kfuncs"
                              : "cannot load /sys/kernel/btf/vmlinux: " + errno_text(f.btf_err));
  }

  const FileText stats = read_text("/proc/sys/kernel/bpf_stats_enabled");
  if (!stats.ok) {
    b.add("bpf.stats", g, "BPF run-time statistics (run_time_ns/run_cnt)", false,
          "cannot read /proc/sys/kernel/bpf_stats_enabled: " + errno_text(stats.err));
  } else {
    const bool on = parse_long(stats.text).value_or(0) != 0;
    b.add("bpf.stats", g, "BPF run-time statistics (run_time_ns/run_cnt)", on,
          "bpf_stats_enabled=" + stats.text +
              (on ? "" : ": not collecting (informative; sysctl kernel.bpf_stats_enabled=1 or BPF_ENABLE_STATS)"));
  }

  probe_kfunc(b, f, "bpf.kfunc.iter_num", "open-coded iterator kfuncs (bpf_for)",
              {"bpf_iter_num_new", "bpf_iter_num_next", "bpf_iter_num_destroy"}, "", "no bpf_for loops; use bpf_loop");
  probe_kfunc(b, f, "bpf.kfunc.dynptr_from_file", "bpf_dynptr_from_file kfunc (read file data)",
              {"bpf_dynptr_from_file"},
              "read-only: it lets BPF read file contents but cannot change what read() returns",
              "expected before Linux 6.19; even where present it is read-only and cannot filter what read() returns");

  if (f.lsm_list) {
    const bool bpf_lsm = contains_word(*f.lsm_list, "bpf", ',');
    b.add("kernel.lsm_bpf", g, "BPF LSM active (lsm= includes bpf)", bpf_lsm,
          "lsm=" + *f.lsm_list + (bpf_lsm ? "" : ": LSM programs would never run (boot with lsm=...,bpf)"));
  } else {
    b.add("kernel.lsm_bpf", g, "BPF LSM active (lsm= includes bpf)", false,
          "active LSM list unknown: " + f.lsm_note);
  }
}

// ---- program types --------------------------------------------------------------------------

struct ProgTypeInfo {
  const char* name;  // suffix of bpf.prog.<name>
  const char* group;
  const char* description;
  bpf_prog_type type;
  Need need;
};

Capability probe_prog_type(const Facts& f, const ProgTypeInfo& p) {
  Capability c{std::string("bpf.prog.") + p.name, p.group, p.description, false, ""};
  const int rc = libbpf_probe_bpf_prog_type(p.type, nullptr);
  if (rc == 1) {
    c.available = true;
    return c;
  }
  // libbpf only says yes/no: load a minimal program ourselves to learn the errno.
  LoadResult r = load_minimal(p.type);
  if (r.fd) {
    c.available = true;
    c.detail = "a minimal program loads (libbpf's probe said no)";
  } else {
    c.detail = explain_failure(f, r.err, std::string(p.name) + " programs", p.need, false, r.verifier_line);
  }
  return c;
}

struct BtfAttachSpec {
  bpf_prog_type type;
  bpf_attach_type attach;
  std::initializer_list<const char*> targets;
  const char* what;  // "fentry programs"
};

struct BtfAttachResult {
  bool ok = false;
  std::string detail;
};

// A real load (and attach) of a no-op program on an always-present kernel function: libbpf's
// type probe can succeed where every real load is refused (e.g. under lockdown).
BtfAttachResult try_btf_attach(const Facts& f, const BtfAttachSpec& spec, Need need) {
  BtfAttachResult out;
  if (!f.vmlinux) {
    out.detail = "needs vmlinux BTF to name an attach target (see kernel.btf)";
    return out;
  }
  int id = -1;
  const char* target = nullptr;
  for (const char* t : spec.targets) {
    id = btf__find_by_name_kind(f.vmlinux.get(), t, BTF_KIND_FUNC);
    if (id > 0) {
      target = t;
      break;
    }
  }
  if (target == nullptr) {
    std::string names;
    for (const char* t : spec.targets) names += (names.empty() ? "" : ", ") + std::string(t);
    out.detail = "no attach target found in vmlinux BTF (tried " + names + ")";
    return out;
  }
  const int type_probe = libbpf_probe_bpf_prog_type(spec.type, nullptr);
  const std::string type_note =
      std::string("; libbpf type probe: ") + (type_probe == 1 ? "yes" : type_probe == 0 ? "no" : errno_name(-type_probe));

  LoadResult r = load_minimal(spec.type, spec.attach, static_cast<std::uint32_t>(id));
  if (!r.fd) {
    out.detail = "load on " + std::string(target) + ": " +
                 explain_failure(f, r.err, spec.what, need, true, r.verifier_line) + type_note;
    return out;
  }
  errno = 0;
  Fd link(bpf_link_create(r.fd.get(), 0, spec.attach, nullptr));
  if (!link && errno == EINVAL) {
    // Kernels before bpf_link support for tracing programs attach through raw_tracepoint_open.
    link = Fd(bpf_raw_tracepoint_open(nullptr, r.fd.get()));
  }
  if (!link) {
    const int err = errno;
    out.detail = "loads on " + std::string(target) + ", but attach fails: " +
                 (err == kENOTSUPP || err == EOPNOTSUPP
                      ? errno_text(err) + " (no BPF trampoline support: CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS)"
                      : explain_failure(f, err, spec.what, need, true));
    return out;
  }
  out.ok = true;
  out.detail = "loaded and attached a no-op program to " + std::string(target) + " (BTF id " +
               std::to_string(id) + "), then detached";
  return out;
}

// Kprobes need the kprobe perf PMU (or legacy kprobe_events) to attach at all; the program type
// can exist without them.
std::string kprobe_attach_problem() {
  const FileText type = read_text("/sys/bus/event_source/devices/kprobe/type");
  if (!type.ok) {
    if (type.err == ENOENT)
      return "program type loads, but there is no kprobe perf PMU (/sys/bus/event_source/devices/kprobe): "
             "kernel built without kprobe events (CONFIG_KPROBES/CONFIG_KPROBE_EVENTS), nothing to attach to";
    return "cannot read /sys/bus/event_source/devices/kprobe/type: " + errno_text(type.err);
  }
  const std::optional<long> pmu = parse_long(type.text);
  if (!pmu) return "unexpected kprobe PMU type \"" + type.text + "\"";
  static constexpr char kFunc[] = "do_sys_openat2";
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = static_cast<__u32>(*pmu);
  attr.config1 = reinterpret_cast<std::uintptr_t>(kFunc);  // kprobe_func
  attr.config2 = 0;                                        // probe_offset
  Fd fd(static_cast<int>(::syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC)));
  if (!fd) {
    const int err = errno;
    return std::string("program type loads, but creating a kprobe on ") + kFunc + " fails: " + errno_text(err) +
           (err == EPERM || err == EACCES ? " (needs CAP_PERFMON; kernel lockdown also forbids kprobes)" : "");
  }
  return {};
}

void probe_hooks(Builder& b, const Facts& f) {
  const ProgTypeInfo data_path[] = {
      {"xdp", "hooks", "XDP programs (network receive)", BPF_PROG_TYPE_XDP, Need::kBpfNet},
      {"sched_cls", "hooks", "tc classifier programs (sched_cls)", BPF_PROG_TYPE_SCHED_CLS, Need::kBpfNet},
      {"socket_filter", "hooks", "socket filter programs", BPF_PROG_TYPE_SOCKET_FILTER, Need::kUnprivilegedOk},
      {"sk_msg", "hooks", "sk_msg programs (sockmap send path)", BPF_PROG_TYPE_SK_MSG, Need::kBpfNet},
      {"sk_skb", "hooks", "sk_skb programs (sockmap receive path)", BPF_PROG_TYPE_SK_SKB, Need::kBpfNet},
      {"tracepoint", "tracing", "tracepoint programs", BPF_PROG_TYPE_TRACEPOINT, Need::kBpfPerfmon},
      {"raw_tracepoint", "tracing", "raw tracepoint programs", BPF_PROG_TYPE_RAW_TRACEPOINT, Need::kBpfPerfmon},
  };
  for (const ProgTypeInfo& p : data_path) b.add(probe_prog_type(f, p));

  const BtfAttachResult fentry = try_btf_attach(
      f, {BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, {"bpf_fentry_test1", "do_sys_openat2"}, "fentry/fexit programs"},
      Need::kBpfPerfmon);
  b.add("bpf.prog.tracing", "tracing", "fentry/fexit programs (tracing, real load + attach)", fentry.ok,
        fentry.detail);

  BtfAttachResult lsm = try_btf_attach(
      f, {BPF_PROG_TYPE_LSM, BPF_LSM_MAC, {"bpf_lsm_file_open", "bpf_lsm_file_permission"}, "LSM programs"},
      Need::kBpfPerfmon);
  if (lsm.ok && f.lsm_list && !contains_word(*f.lsm_list, "bpf", ',')) {
    lsm.ok = false;
    lsm.detail += "; but the BPF LSM is not active (lsm=" + *f.lsm_list + "): programs would never run";
  } else if (!lsm.ok) {
    lsm.detail += f.lsm_list ? "; lsm=" + *f.lsm_list : "; active LSM list unknown";
  }
  b.add("bpf.prog.lsm", "tracing", "BPF LSM programs (real load + attach)", lsm.ok, lsm.detail);

  const ProgTypeInfo kprobe{"kprobe", "tracing", "kprobe programs (load + kprobe creation)", BPF_PROG_TYPE_KPROBE,
                            Need::kBpfPerfmon};
  Capability kp = probe_prog_type(f, kprobe);
  if (kp.available) {
    // The program type can exist without any way to create a kprobe to attach it to.
    std::string problem = kprobe_attach_problem();
    if (!problem.empty()) {
      kp.available = false;
      kp.detail = std::move(problem);
    } else {
      kp.detail = "program loads and a kprobe on do_sys_openat2 can be created";
    }
  }
  b.add(std::move(kp));
}

// ---- maps -----------------------------------------------------------------------------------

struct MapTypeInfo {
  const char* name;
  const char* description;
  bpf_map_type type;
  std::uint32_t key_size, value_size, max_entries;
  Need need;
};

void probe_maps(Builder& b, const Facts& f) {
  const std::uint32_t page = static_cast<std::uint32_t>(::sysconf(_SC_PAGESIZE));
  const MapTypeInfo maps[] = {
      {"array", "array maps", BPF_MAP_TYPE_ARRAY, 4, 8, 1, Need::kUnprivilegedOk},
      {"percpu_array", "per-CPU array maps", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1, Need::kUnprivilegedOk},
      {"sockmap", "sockmap (sk_msg/sk_skb redirection)", BPF_MAP_TYPE_SOCKMAP, 4, 4, 1, Need::kBpfNet},
      {"sockhash", "sockhash", BPF_MAP_TYPE_SOCKHASH, 4, 4, 1, Need::kBpfNet},
      {"ringbuf", "BPF ring buffer", BPF_MAP_TYPE_RINGBUF, 0, 0, page, Need::kUnprivilegedOk},
      {"xskmap", "AF_XDP socket map (xskmap)", BPF_MAP_TYPE_XSKMAP, 4, 4, 1, Need::kBpfNet},
  };
  for (const MapTypeInfo& m : maps) {
    const std::string name = std::string("bpf.map.") + m.name;
    const int rc = libbpf_probe_bpf_map_type(m.type, nullptr);
    if (rc == 1) {
      b.add(name, "maps", m.description, true, "");
      continue;
    }
    errno = 0;
    Fd fd(bpf_map_create(m.type, "sluice_probe", m.key_size, m.value_size, m.max_entries, nullptr));
    if (fd) {
      b.add(name, "maps", m.description, true, "a minimal map can be created (libbpf's probe said no)");
      continue;
    }
    const int err = errno;
    b.add(name, "maps", m.description, false, explain_failure(f, err, std::string(m.name) + " maps", m.need, false));
  }
}

// ---- helpers --------------------------------------------------------------------------------

void probe_helpers(Builder& b, const Facts&) {
  struct HelperInfo {
    const char* prog;  // prog type name, matches bpf.prog.<prog>
    bpf_prog_type type;
    const char* helper;  // without the bpf_ prefix
    bpf_func_id id;
  };
  const HelperInfo helpers[] = {
      {"sk_msg", BPF_PROG_TYPE_SK_MSG, "msg_pull_data", BPF_FUNC_msg_pull_data},
      {"sk_msg", BPF_PROG_TYPE_SK_MSG, "msg_pop_data", BPF_FUNC_msg_pop_data},
      {"sk_msg", BPF_PROG_TYPE_SK_MSG, "msg_apply_bytes", BPF_FUNC_msg_apply_bytes},
      {"sk_msg", BPF_PROG_TYPE_SK_MSG, "msg_redirect_map", BPF_FUNC_msg_redirect_map},
      {"xdp", BPF_PROG_TYPE_XDP, "xdp_load_bytes", BPF_FUNC_xdp_load_bytes},
      {"xdp", BPF_PROG_TYPE_XDP, "xdp_adjust_tail", BPF_FUNC_xdp_adjust_tail},
      {"xdp", BPF_PROG_TYPE_XDP, "loop", BPF_FUNC_loop},
      {"sched_cls", BPF_PROG_TYPE_SCHED_CLS, "skb_change_tail", BPF_FUNC_skb_change_tail},
  };
  for (const HelperInfo& h : helpers) {
    const std::string name = std::string("bpf.helper.") + h.prog + "." + h.helper;
    const std::string description = std::string("bpf_") + h.helper + "() in " + h.prog + " programs";
    const std::string prog_cap = std::string("bpf.prog.") + h.prog;
    if (!b.available(prog_cap)) {
      b.add(name, "helpers", description, false, "program type unavailable (see " + prog_cap + ")");
      continue;
    }
    const int rc = libbpf_probe_bpf_helper(h.type, h.id, nullptr);
    if (rc == 1) {
      b.add(name, "helpers", description, true, "helper id " + std::to_string(h.id));
    } else if (rc == 0) {
      b.add(name, "helpers", description, false,
            "the verifier rejects calls to helper id " + std::to_string(h.id) + " from " + h.prog +
                " programs (kernel too old or helper not allowed there)");
    } else {
      b.add(name, "helpers", description, false, "probe failed: " + errno_text(-rc));
    }
  }
}

// ---- io_uring -------------------------------------------------------------------------------

std::string explain_ring_failure(int err) {
  const FileText disabled = read_text("/proc/sys/kernel/io_uring_disabled");
  const std::string knob = disabled.ok ? "kernel.io_uring_disabled=" + disabled.text : "no kernel.io_uring_disabled sysctl";
  switch (err) {
    case ENOSYS:
      return "ENOSYS: the kernel has no io_uring (CONFIG_IO_URING=n, or seccomp blocks io_uring_setup); " + knob;
    case EPERM: {
      const long v = disabled.ok ? parse_long(disabled.text).value_or(0) : 0;
      if (v == 2) return "EPERM: " + knob + ": io_uring is disabled for every process";
      if (v == 1)
        return "EPERM: " + knob + ": only CAP_SYS_ADMIN or members of kernel.io_uring_group may create rings";
      return "EPERM: refused by seccomp or a security module (" + knob + ")";
    }
    case ENOMEM:
      return "ENOMEM: cannot allocate ring memory (on kernels before 5.12 it counts against RLIMIT_MEMLOCK); " + knob;
    default:
      return errno_text(err) + "; " + knob;
  }
}

void probe_io_uring(Builder& b) {
  const std::string g = "io_uring";
  struct OpInfo {
    const char* name;
    int op;
  };
  const OpInfo ops[] = {
      {"read", IORING_OP_READ},           {"read_fixed", IORING_OP_READ_FIXED},
      {"readv", IORING_OP_READV},         {"splice", IORING_OP_SPLICE},
      {"send", IORING_OP_SEND},           {"recv", IORING_OP_RECV},
      {"sendmsg", IORING_OP_SENDMSG},     {"recvmsg", IORING_OP_RECVMSG},
      {"openat", IORING_OP_OPENAT},       {"statx", IORING_OP_STATX},
      {"fadvise", IORING_OP_FADVISE},     {"madvise", IORING_OP_MADVISE},
      {"provide_buffers", IORING_OP_PROVIDE_BUFFERS},
  };
  const auto op_name = [](const OpInfo& o) { return std::string("io_uring.op.") + o.name; };
  const auto op_description = [](const OpInfo& o) {
    std::string upper = o.name;
    for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    return "IORING_OP_" + upper;
  };
  const auto all_ops_missing = [&](const std::string& why) {
    b.add("io_uring.last_op", g, "kernel knows every opcode liburing's headers name", false, why);
    for (const OpInfo& o : ops) b.add(op_name(o), g, op_description(o), false, why);
  };

  Ring ring;
  const int rc = ring.init(4);
  if (rc != 0) {
    b.add("io_uring.ring", g, "io_uring ring setup", false, explain_ring_failure(-rc));
    all_ops_missing("no ring (see io_uring.ring)");
    return;
  }
  {
    const FileText disabled = read_text("/proc/sys/kernel/io_uring_disabled");
    char feat[32];
    std::snprintf(feat, sizeof feat, "0x%x", ring.get()->features);
    b.add("io_uring.ring", g, "io_uring ring setup", true,
          std::string("4-entry ring, features=") + feat +
              (disabled.ok ? ", io_uring_disabled=" + disabled.text : std::string()));
  }

  errno = 0;
  UringProbePtr probe(io_uring_get_probe_ring(ring.get()));
  if (!probe) {
    all_ops_missing("IORING_REGISTER_PROBE failed (kernel older than 5.6?)" +
                    (errno != 0 ? ": " + errno_text(errno) : std::string()));
    return;
  }
  const int last = probe->last_op;
  const int header_last = IORING_OP_LAST - 1;
  int supported = 0;
  for (int op = 0; op <= last && op < probe->ops_len; ++op)
    if (io_uring_opcode_supported(probe.get(), op)) ++supported;
  const std::string last_detail =
      "kernel last_op=" + std::to_string(last) + " (" + std::to_string(supported) +
      " opcodes flagged supported); liburing headers name opcodes 0.." + std::to_string(header_last) +
      " (IORING_OP_LAST=" + std::to_string(IORING_OP_LAST) + ")" +
      (last > header_last ? ": opcodes " + std::to_string(header_last + 1) + ".." + std::to_string(last) +
                                " have no IORING_OP_* name in these headers"
                          : std::string());
  b.add("io_uring.last_op", g, "kernel knows every opcode liburing's headers name", last >= header_last,
        last >= header_last ? last_detail : last_detail + ": the kernel is older than the headers");

  for (const OpInfo& o : ops) {
    if (io_uring_opcode_supported(probe.get(), o.op)) {
      b.add(op_name(o), g, op_description(o), true, "opcode " + std::to_string(o.op));
    } else if (o.op > last) {
      b.add(op_name(o), g, op_description(o), false,
            "opcode " + std::to_string(o.op) + " is beyond the kernel's last_op " + std::to_string(last));
    } else {
      b.add(op_name(o), g, op_description(o), false,
            "the kernel flags opcode " + std::to_string(o.op) + " as unsupported");
    }
  }
}

// ---- composites -----------------------------------------------------------------------------

void add_composite(Builder& b, const char* name, const char* description, std::initializer_list<const char*> parts) {
  std::string missing;
  std::string present;
  for (const char* p : parts) {
    std::string& list = b.available(p) ? present : missing;
    list += (list.empty() ? "" : ", ") + std::string(p);
  }
  if (missing.empty()) b.add(name, "bpf", description, true, present);
  else b.add(name, "bpf", description, false, "missing: " + missing);
}

void probe_paths(Builder& b) {
  add_composite(b, "path.sockmap", "socket path: sk_msg filter on a sockmap'd TCP sender",
                {"bpf.prog.sk_msg", "bpf.map.sockmap", "bpf.helper.sk_msg.msg_pop_data",
                 "bpf.helper.sk_msg.msg_redirect_map"});
  add_composite(b, "path.xdp", "network receive path: XDP filter",
                {"bpf.prog.xdp", "bpf.helper.xdp.xdp_load_bytes"});
}

// ---------------------------------------------------------------------------------------------
// Formatting

// Number of code points: good enough for aligning our ASCII-plus-dashes text.
size_t display_width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

void pad_to(std::string& out, std::string_view s, size_t width) {
  out += s;
  for (size_t w = display_width(s); w < width; ++w) out += ' ';
}

void append_json_string(std::string& out, std::string_view s) { out += json_quote(s); }

std::vector<std::string> groups_in_order(const ProbeReport& r) {
  std::vector<std::string> groups;
  for (const Capability& c : r.capabilities)
    if (std::find(groups.begin(), groups.end(), c.group) == groups.end()) groups.push_back(c.group);
  return groups;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

ProbeReport probe_system() {
  const QuietLibbpf quiet;  // restores the previous libbpf print callback on every exit path

  ProbeReport report;
  struct utsname uts {};
  if (::uname(&uts) == 0) report.kernel_release = uts.release;
  else report.kernel_release = "unknown (uname: " + errno_text(errno) + ")";

  const Facts facts = gather_facts();
  Builder b;
  probe_privileges(b, facts);
  probe_kernel(b, facts);
  probe_hooks(b, facts);
  probe_maps(b, facts);
  probe_helpers(b, facts);
  probe_io_uring(b);
  probe_paths(b);
  report.capabilities = b.take();
  return report;
}

std::string format_probe_text(const ProbeReport& r) {
  size_t name_w = 0;
  size_t desc_w = 0;
  size_t available = 0;
  for (const Capability& c : r.capabilities) {
    name_w = std::max(name_w, display_width(c.name));
    desc_w = std::max(desc_w, display_width(c.description));
    if (c.available) ++available;
  }
  std::string out = "kernel " + r.kernel_release + ": " + std::to_string(available) + " of " +
                    std::to_string(r.capabilities.size()) + " capabilities available\n";
  for (const std::string& group : groups_in_order(r)) {
    out += "\n" + group + "\n";
    for (const Capability& c : r.capabilities) {
      if (c.group != group) continue;
      out += "  ";
      pad_to(out, c.name, name_w);
      out += "  ";
      pad_to(out, c.description, desc_w);
      out += "  ";
      if (c.available) {
        out += "yes";
        if (!c.detail.empty()) out += " (" + c.detail + ")";
      } else {
        out += "no";
        out += " \u2014 " + (c.detail.empty() ? std::string("no reason recorded") : c.detail);
      }
      out += '\n';
    }
  }
  return out;
}

std::string format_probe_json(const ProbeReport& r) {
  std::string out = "{\"kernel\": ";
  append_json_string(out, r.kernel_release);
  out += ", \"capabilities\": [";
  for (size_t i = 0; i < r.capabilities.size(); ++i) {
    const Capability& c = r.capabilities[i];
    out += i == 0 ? "\n  {" : ",\n  {";
    out += "\"name\": ";
    append_json_string(out, c.name);
    out += ", \"group\": ";
    append_json_string(out, c.group);
    out += ", \"description\": ";
    append_json_string(out, c.description);
    out += ", \"available\": ";
    out += c.available ? "true" : "false";
    out += ", \"detail\": ";
    append_json_string(out, c.detail);
    out += "}";
  }
  out += r.capabilities.empty() ? "]}" : "\n]}";
  return out;
}

}  // namespace sluice
