#include "net/receive_program.hpp"

#include <sluice/error.hpp>

#include "bpf/per_cpu_counters.hpp"
#include "unique_fd.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#define ENOTSUPP_FALLBACK 524  // the kernel's ENOTSUPP

#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif
#ifndef SO_DETACH_BPF
#define SO_DETACH_BPF 27
#endif

namespace sluice::net {

unsigned interface_of(const SocketAddress& local) {
  if (local.family() != AF_INET)
    throw Error("the xdp and tc placements need IPv4 (UDP checksums may not be zeroed over IPv6)");
  const auto* want = reinterpret_cast<const sockaddr_in*>(&local.storage);
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) throw system_error("getifaddrs", errno);
  unsigned index = 0;
  std::string name;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    if (reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr != want->sin_addr.s_addr) continue;
    name = a->ifa_name;
    index = ::if_nametoindex(a->ifa_name);
    break;
  }
  ::freeifaddrs(list);
  if (index == 0) throw Error("no interface holds the local address " + local.host());
  return index;
}

struct ReceiveProgram::Attachment {
  virtual ~Attachment() = default;
};

namespace {

// XDP through a BPF link: detached when the link's last fd closes, even if the process dies.
struct XdpLink : ReceiveProgram::Attachment {
  UniqueFd link;
  XdpLink(int prog_fd, unsigned ifindex, bool generic, std::string& mode) {
    if (!generic) {
      LIBBPF_OPTS(bpf_link_create_opts, native, .flags = XDP_FLAGS_DRV_MODE);
      link.reset(bpf_link_create(prog_fd, static_cast<int>(ifindex), BPF_XDP, &native));
      if (link) {
        mode = "xdp native";
        return;
      }
    }
    int native_errno = generic ? 0 : errno;
    LIBBPF_OPTS(bpf_link_create_opts, skb, .flags = XDP_FLAGS_SKB_MODE);
    link.reset(bpf_link_create(prog_fd, static_cast<int>(ifindex), BPF_XDP, &skb));
    if (!link) {
      int err = errno;
      std::string why = err == EBUSY || err == EEXIST ? " (another XDP program is attached to this interface)" : "";
      throw system_error("attaching the XDP receive program" + why +
                             (native_errno ? std::string(" (native: ") + std::strerror(native_errno) + ")" : ""),
                         err);
    }
    mode = "xdp generic";
  }
};

// TC ingress through a tcx link (Linux 6.6+): like the XDP link, detached when its last fd
// closes, so even a killed client leaves nothing behind. libbpf 1.1 has no tcx API: the
// attach type is passed to bpf_link_create by number.
constexpr int kBpfTcxIngress = 46;  // BPF_TCX_INGRESS

struct TcxLink : ReceiveProgram::Attachment {
  UniqueFd link;
  TcxLink(int prog_fd, unsigned ifindex, std::string& mode) {
    link.reset(bpf_link_create(prog_fd, static_cast<int>(ifindex), static_cast<bpf_attach_type>(kBpfTcxIngress), nullptr));
    if (!link) throw system_error("attaching the TC receive program (tcx)", errno);
    mode = "tc tcx";
  }
};

// TC clsact ingress through netlink; the filter is deleted on destruction. The clsact qdisc
// stays if it was there before (other users' filters may hang on it), and goes if we made it.
struct TcFilter : ReceiveProgram::Attachment {
  bpf_tc_hook hook{};
  bpf_tc_opts opts{};
  bool created_qdisc = false;
  TcFilter(int prog_fd, unsigned ifindex, std::string& mode) {
    hook.sz = sizeof hook;
    hook.ifindex = static_cast<int>(ifindex);
    hook.attach_point = BPF_TC_INGRESS;
    int rc = bpf_tc_hook_create(&hook);
    if (rc != 0 && rc != -EEXIST) throw system_error("creating the clsact qdisc", -rc);
    created_qdisc = rc == 0;
    opts.sz = sizeof opts;
    opts.prog_fd = prog_fd;
    rc = bpf_tc_attach(&hook, &opts);
    if (rc != 0) {
      release_qdisc();
      throw system_error("attaching the TC receive program", -rc);
    }
    mode = "tc clsact";
  }
  void release_qdisc() {
    if (!created_qdisc) return;
    bpf_tc_hook destroy{};
    destroy.sz = sizeof destroy;
    destroy.ifindex = hook.ifindex;
    destroy.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
    bpf_tc_hook_destroy(&destroy);
  }
  ~TcFilter() override {
    bpf_tc_opts del{};
    del.sz = sizeof del;
    del.handle = opts.handle;
    del.priority = opts.priority;
    bpf_tc_detach(&hook, &del);
    release_qdisc();
  }
};

struct SocketFilter : ReceiveProgram::Attachment {
  int fd;
  SocketFilter(int prog_fd, int sock_fd, std::string& mode) : fd(sock_fd) {
    if (::setsockopt(sock_fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof prog_fd) != 0)
      throw system_error("attaching the socket filter (SO_ATTACH_BPF)", errno);
    mode = "socket filter";
  }
  ~SocketFilter() override {
    int unused = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_DETACH_BPF, &unused, sizeof unused);
  }
};

const char* host_of(Placement p) {
  switch (p) {
    case Placement::xdp: return "net_xdp";
    case Placement::tc: return "net_tc";
    case Placement::sockfilter: return "net_sockfilter";
    default: throw Error("internal: no receive program for placement " + std::string(to_string(p)));
  }
}

const char* program_of(Placement p) {
  switch (p) {
    case Placement::xdp: return "sluice_net_xdp";
    case Placement::tc: return "sluice_net_tc";
    default: return "sluice_net_sockfilter";
  }
}

}  // namespace

ReceiveProgram::ReceiveProgram(Placement placement, ReceiveMode mode, const Filter& filter, std::uint16_t port,
                               std::uint32_t file_id, int udp_fd, const SocketAddress& local, bool xdp_generic,
                               bool tc_clsact) {
  // The network hosts frame datagrams of whole lines; they have no CSV or fixed-size framing.
  if (filter.framing() != Framing::lines)
    throw UsageError("the network hosts (xdp, tc, sockfilter) judge newline-separated records only, not " +
                     std::string(filter.framing() == Framing::csv ? "CSV" : "fixed-size") + " records");
  unsigned ifindex = placement == Placement::sockfilter ? 0 : interface_of(local);
  object_ = std::make_unique<LoadedFilterObject>(
      host_of(placement), filter,
      std::vector<HostSetting>{{"net_port", port},
                               {"net_file_id", file_id},
                               {"net_mode", mode == ReceiveMode::trim ? SLUICE_NET_MODE_TRIM : SLUICE_NET_MODE_DROP}});
  stats_fd_ = object_->map_fd("net_stats");
  bits_size_ = std::size_t{SLUICE_NET_DROP_WORDS} * sizeof(std::uint64_t);
  void* mem = ::mmap(nullptr, bits_size_, PROT_READ | PROT_WRITE, MAP_SHARED, object_->map_fd("net_dropped"), 0);
  if (mem == MAP_FAILED) throw system_error("mapping the receive program's drop map", errno);
  bits_ = static_cast<std::atomic<std::uint64_t>*>(mem);
  int prog_fd = object_->program_fd(program_of(placement));
  try {
    switch (placement) {
      case Placement::xdp: attachment_ = std::make_unique<XdpLink>(prog_fd, ifindex, xdp_generic, attach_mode_); break;
      case Placement::tc:
        if (!tc_clsact) {
          try {
            attachment_ = std::make_unique<TcxLink>(prog_fd, ifindex, attach_mode_);
            break;
          } catch (const Error&) {
            if (errno != EINVAL && errno != EOPNOTSUPP && errno != ENOTSUPP_FALLBACK) throw;
            // a kernel without tcx: the clsact qdisc it is
          }
        }
        attachment_ = std::make_unique<TcFilter>(prog_fd, ifindex, attach_mode_);
        break;
      default: attachment_ = std::make_unique<SocketFilter>(prog_fd, udp_fd, attach_mode_); break;
    }
  } catch (...) {
    ::munmap(mem, bits_size_);
    throw;
  }
}

ReceiveProgram::~ReceiveProgram() {
  attachment_.reset();  // detach first: nothing may write the map after it goes
  if (bits_) ::munmap(bits_, bits_size_);
}

bool ReceiveProgram::dropped(std::uint64_t seq) const {
  std::uint64_t word = bits_[(seq / 64) % SLUICE_NET_DROP_WORDS].load(std::memory_order_acquire);
  return (word >> (seq % 64)) & 1;
}

void ReceiveProgram::clear_dropped(std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t s = from; s < to;) {
    std::atomic<std::uint64_t>& word = bits_[(s / 64) % SLUICE_NET_DROP_WORDS];
    if (s % 64 == 0 && to - s >= 64) {
      word.store(0, std::memory_order_release);
      s += 64;
    } else {
      word.fetch_and(~(std::uint64_t{1} << (s % 64)), std::memory_order_acq_rel);
      ++s;
    }
  }
}

sluice_net_recv_stats ReceiveProgram::stats() const {
  return bpf::sum_per_cpu_counters<sluice_net_recv_stats>(stats_fd_).value_or(sluice_net_recv_stats{});
}

}  // namespace sluice::net
