// Tests for the run-time feature probe (sluice/probe.hpp).
//
// The kernel-dependent checks run when SLUICE_REQUIRE_KERNEL=1 (CI: root on Linux 6.18) or when
// running as root; otherwise they are skipped.

#include "sluice/probe.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <dirent.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace {

using sluice::Capability;
using sluice::ProbeReport;

// One probe per test binary: it loads programs and sets up rings, no need to repeat that.
const ProbeReport& report() {
  static const ProbeReport r = sluice::probe_system();
  return r;
}

bool require_kernel() {
  const char* v = std::getenv("SLUICE_REQUIRE_KERNEL");
  return v != nullptr && std::string_view(v) == "1";
}

// Kernel checks run in CI (SLUICE_REQUIRE_KERNEL=1) and for root; otherwise they are skipped.
#define SKIP_UNLESS_KERNEL_CHECKS()                                                              \
  do {                                                                                           \
    if (!require_kernel() && ::geteuid() != 0)                                                   \
      GTEST_SKIP() << "kernel capability checks need root or SLUICE_REQUIRE_KERNEL=1 (not root, " \
                      "SLUICE_REQUIRE_KERNEL unset)";                                            \
  } while (0)

// Structural JSON check: braces/brackets balance outside strings, strings are terminated, contain
// no raw control characters and use only valid escapes. Returns an empty string when fine, else
// what is wrong and where.
std::string json_structure_error(std::string_view s) {
  std::string stack;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (in_string) {
      if (c == '"') {
        in_string = false;
      } else if (c == '\\') {
        if (i + 1 >= s.size()) return "dangling backslash at end";
        const char e = s[++i];
        if (e == 'u') {
          if (i + 4 >= s.size()) return "short \\u escape at " + std::to_string(i);
          for (int k = 1; k <= 4; ++k)
            if (!std::isxdigit(static_cast<unsigned char>(s[i + k]))) return "bad \\u escape at " + std::to_string(i);
          i += 4;
        } else if (std::strchr("\"\\/bfnrt", e) == nullptr) {
          return "bad escape \\" + std::string(1, e) + " at " + std::to_string(i);
        }
      } else if (c < 0x20) {
        return "raw control character " + std::to_string(c) + " in string at " + std::to_string(i);
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '{': stack.push_back('}'); break;
      case '[': stack.push_back(']'); break;
      case '}':
      case ']':
        if (stack.empty() || stack.back() != static_cast<char>(c))
          return "unbalanced '" + std::string(1, static_cast<char>(c)) + "' at " + std::to_string(i);
        stack.pop_back();
        break;
      default: break;
    }
  }
  if (in_string) return "unterminated string";
  if (!stack.empty()) return "unclosed brackets: expected '" + stack + "'";
  return {};
}

std::string json_quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

TEST(Probe, ReportHasKernelReleaseAndCapabilities) {
  const ProbeReport& r = report();
  EXPECT_FALSE(r.kernel_release.empty());
  EXPECT_FALSE(r.capabilities.empty());
}

TEST(Probe, NamesAreUniqueAndEveryEntryIsComplete) {
  std::set<std::string> seen;
  for (const Capability& c : report().capabilities) {
    EXPECT_TRUE(seen.insert(c.name).second) << "duplicate capability name " << c.name;
    EXPECT_FALSE(c.name.empty());
    EXPECT_FALSE(c.group.empty()) << c.name;
    EXPECT_FALSE(c.description.empty()) << c.name;
    if (!c.available) {
      EXPECT_FALSE(c.detail.empty()) << c.name << " is missing without a reason";
    }
  }
}

TEST(Probe, ExpectedCapabilitiesArePresent) {
  const char* expected[] = {
      "priv.euid_root", "priv.cap_bpf", "priv.cap_sys_admin", "priv.cap_net_admin", "priv.cap_perfmon",
      "priv.unprivileged_bpf", "priv.lockdown_off",
      "bpf.jit", "kernel.btf", "bpf.stats", "bpf.kfunc.iter_num", "bpf.kfunc.dynptr_from_file", "kernel.lsm_bpf",
      "bpf.prog.xdp", "bpf.prog.sched_cls", "bpf.prog.socket_filter", "bpf.prog.sk_msg", "bpf.prog.sk_skb",
      "bpf.prog.tracepoint", "bpf.prog.raw_tracepoint", "bpf.prog.tracing", "bpf.prog.lsm", "bpf.prog.kprobe",
      "bpf.map.array", "bpf.map.percpu_array", "bpf.map.sockmap", "bpf.map.sockhash", "bpf.map.ringbuf",
      "bpf.map.xskmap",
      "bpf.helper.sk_msg.msg_pull_data", "bpf.helper.sk_msg.msg_pop_data", "bpf.helper.sk_msg.msg_apply_bytes",
      "bpf.helper.sk_msg.msg_redirect_map", "bpf.helper.xdp.xdp_load_bytes", "bpf.helper.xdp.xdp_adjust_tail",
      "bpf.helper.xdp.loop", "bpf.helper.sched_cls.skb_change_tail",
      "io_uring.ring", "io_uring.last_op", "io_uring.op.read", "io_uring.op.read_fixed", "io_uring.op.readv",
      "io_uring.op.splice", "io_uring.op.send", "io_uring.op.recv", "io_uring.op.sendmsg", "io_uring.op.recvmsg",
      "io_uring.op.openat", "io_uring.op.statx", "io_uring.op.fadvise", "io_uring.op.madvise",
      "io_uring.op.provide_buffers",
      "path.sockmap", "path.xdp",
  };
  for (const char* name : expected) EXPECT_NE(report().find(name), nullptr) << name;
}

TEST(Probe, FindAndAvailable) {
  const ProbeReport& r = report();
  EXPECT_EQ(r.find("no.such.capability"), nullptr);
  EXPECT_FALSE(r.available("no.such.capability"));
  const Capability* jit = r.find("bpf.jit");
  ASSERT_NE(jit, nullptr);
  EXPECT_EQ(jit->name, "bpf.jit");
  EXPECT_EQ(r.available("bpf.jit"), jit->available);
}

TEST(Probe, CompositesFollowTheirParts) {
  const ProbeReport& r = report();
  EXPECT_EQ(r.available("path.sockmap"),
            r.available("bpf.prog.sk_msg") && r.available("bpf.map.sockmap") &&
                r.available("bpf.helper.sk_msg.msg_pop_data") && r.available("bpf.helper.sk_msg.msg_redirect_map"));
  EXPECT_EQ(r.available("path.xdp"), r.available("bpf.prog.xdp") && r.available("bpf.helper.xdp.xdp_load_bytes"));
  if (!r.available("path.sockmap")) {
    EXPECT_NE(r.find("path.sockmap")->detail.find("missing"), std::string::npos);
  }
}

TEST(Probe, JsonIsWellFormedAndNamesEveryCapability) {
  const ProbeReport& r = report();
  const std::string json = sluice::format_probe_json(r);
  EXPECT_EQ(json_structure_error(json), "") << json;
  EXPECT_NE(json.find("\"kernel\""), std::string::npos);
  EXPECT_NE(json.find("\"capabilities\""), std::string::npos);
  EXPECT_NE(json.find(json_quoted(r.kernel_release)), std::string::npos);
  for (const Capability& c : r.capabilities)
    EXPECT_NE(json.find(json_quoted(c.name)), std::string::npos) << c.name;
}

TEST(Probe, JsonEscapesHostileStrings) {
  ProbeReport r;
  r.kernel_release = "6.18 \"quoted\" back\\slash";
  r.capabilities.push_back(Capability{"x.ctrl", "g", "tab\there\nnewline\x01", false,
                                      std::string("bad utf8 \xff\xc0 end } ] { [ \"") + "\xe2\x80\x94 dash"});
  const std::string json = sluice::format_probe_json(r);
  EXPECT_EQ(json_structure_error(json), "") << json;
  EXPECT_NE(json.find("\\\"quoted\\\""), std::string::npos) << json;
  EXPECT_NE(json.find("back\\\\slash"), std::string::npos) << json;
  EXPECT_NE(json.find("tab\\there\\nnewline\\u0001"), std::string::npos) << json;
  EXPECT_NE(json.find("\\ufffd"), std::string::npos) << json;       // invalid UTF-8 replaced
  EXPECT_NE(json.find("\xe2\x80\x94 dash"), std::string::npos) << json;  // valid UTF-8 kept
  EXPECT_EQ(json.find('\xff'), std::string::npos);
}

TEST(Probe, TextNamesEveryCapabilityAndGroup) {
  const ProbeReport& r = report();
  const std::string text = sluice::format_probe_text(r);
  EXPECT_NE(text.find(r.kernel_release), std::string::npos);
  for (const Capability& c : r.capabilities) {
    EXPECT_NE(text.find(c.name), std::string::npos) << c.name;
    EXPECT_NE(text.find("\n" + c.group + "\n"), std::string::npos) << c.group;
    // Each row reads "<name> <description> yes..." or "... no — <reason>".
    const size_t row = text.find("  " + c.name + " ");
    ASSERT_NE(row, std::string::npos) << c.name;
    const std::string line = text.substr(row, text.find('\n', row) - row);
    if (c.available) {
      EXPECT_NE(line.find("  yes"), std::string::npos) << line;
    } else {
      EXPECT_NE(line.find("  no \xe2\x80\x94 "), std::string::npos) << line;
    }
  }
}

int marker_print(enum libbpf_print_level, const char*, va_list) { return 0; }

TEST(Probe, RestoresThePreviousLibbpfPrintCallback) {
  const libbpf_print_fn_t original = libbpf_set_print(&marker_print);
  (void)sluice::probe_system();
  const libbpf_print_fn_t after = libbpf_set_print(original);
  EXPECT_EQ(after, &marker_print);
}

size_t open_fd_count() {
  size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
  }
  return n;
}

TEST(Probe, LeaksNoFileDescriptors) {
  (void)sluice::probe_system();  // warm up anything libraries open once and keep (none expected)
  const size_t before = open_fd_count();
  (void)sluice::probe_system();
  EXPECT_EQ(open_fd_count(), before);
}

TEST(ProbeKernel, CoreCapabilitiesAvailable) {
  SKIP_UNLESS_KERNEL_CHECKS();
  const ProbeReport& r = report();
  for (const char* name : {"bpf.jit", "kernel.btf", "bpf.prog.xdp", "bpf.prog.sched_cls", "bpf.prog.sk_msg",
                           "bpf.map.sockmap", "bpf.helper.sk_msg.msg_pop_data", "io_uring.ring",
                           "io_uring.op.splice"}) {
    const Capability* c = r.find(name);
    ASSERT_NE(c, nullptr) << name;
    EXPECT_TRUE(c->available) << name << ": " << c->detail;
  }
}

struct BtfFree {
  void operator()(struct btf* b) const { btf__free(b); }
};

struct FdCloser {
  int fd = -1;
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  explicit FdCloser(int f) : fd(f) {}
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// Direct check: load a no-op fentry program on bpf_fentry_test1 (or do_sys_openat2) and attach it.
// Returns 0 on success, else the errno of the failing step.
int direct_fentry_errno() {
  std::unique_ptr<struct btf, BtfFree> vmlinux(btf__load_vmlinux_btf());
  if (!vmlinux) return errno != 0 ? errno : ENOENT;
  int id = btf__find_by_name_kind(vmlinux.get(), "bpf_fentry_test1", BTF_KIND_FUNC);
  if (id <= 0) id = btf__find_by_name_kind(vmlinux.get(), "do_sys_openat2", BTF_KIND_FUNC);
  if (id <= 0) return ENOENT;
  bpf_insn insns[2] = {};
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r0 = 0
  insns[1].code = BPF_JMP | BPF_EXIT;           // exit
  bpf_prog_load_opts opts{};
  opts.sz = sizeof opts;
  opts.expected_attach_type = BPF_TRACE_FENTRY;
  opts.attach_btf_id = static_cast<__u32>(id);
  errno = 0;
  FdCloser prog(bpf_prog_load(BPF_PROG_TYPE_TRACING, "probe_test", "GPL", insns, 2, &opts));
  if (prog.fd < 0) return errno != 0 ? errno : EINVAL;
  errno = 0;
  FdCloser link(bpf_link_create(prog.fd, 0, BPF_TRACE_FENTRY, nullptr));
  if (link.fd < 0 && errno == EINVAL) {
    FdCloser legacy(bpf_raw_tracepoint_open(nullptr, prog.fd));
    return legacy.fd >= 0 ? 0 : errno;
  }
  return link.fd >= 0 ? 0 : (errno != 0 ? errno : EINVAL);
}

TEST(ProbeKernel, FentryMatchesADirectCheck) {
  SKIP_UNLESS_KERNEL_CHECKS();
  const Capability* tracing = report().find("bpf.prog.tracing");
  ASSERT_NE(tracing, nullptr);
  const int err = direct_fentry_errno();
  EXPECT_EQ(tracing->available, err == 0) << "direct check errno " << err << "; probe detail: " << tracing->detail;
  if (err != 0) {
    EXPECT_FALSE(tracing->detail.empty());
    const char* name = err == 524 ? "ENOTSUPP" : strerrorname_np(err);
    ASSERT_NE(name, nullptr);
    EXPECT_NE(tracing->detail.find(name), std::string::npos)
        << "detail should name the errno " << name << ": " << tracing->detail;
  }
}

}  // namespace
