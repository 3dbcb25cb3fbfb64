// Run-time feature probe behind `sluice probe`: what this kernel, this process and these
// libraries let sluice do, measured by trying (loading a program, creating a map, setting up a
// ring), never guessed from the kernel version.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice {

// One probed feature.
//
// Names are stable machine ids ("<area>.<thing>"):
//   priv.*             effective uid, capabilities, unprivileged BPF, kernel lockdown
//   bpf.jit, bpf.stats, kernel.btf, kernel.lsm_bpf, bpf.kfunc.*
//   bpf.prog.<type>    program types (hooks)        bpf.map.<type>      map types
//   bpf.helper.<prog type>.<helper without bpf_ prefix>
//   io_uring.ring, io_uring.last_op, io_uring.op.<opcode>
//   path.sockmap, path.xdp   composites: everything one sluice data path needs
// Groups: "privileges", "kernel", "hooks" (data-path program types), "tracing" (tracing
// program types), "maps", "helpers", "io_uring", "bpf" (the composite path.* entries).
struct Capability {
  std::string name;         // stable machine id, e.g. "bpf.jit", "bpf.prog.xdp", "io_uring.op.splice"
  std::string group;        // see above
  std::string description;  // for people, e.g. "XDP programs"
  bool available = false;
  std::string detail;  // why it is missing (errno and what it means) or extra info when present
};

struct ProbeReport {
  std::string kernel_release;  // uname -r
  std::vector<Capability> capabilities;

  // nullptr if no capability has that name.
  const Capability* find(std::string_view name) const;
  // false if unknown.
  bool available(std::string_view name) const;
};

// Probes everything listed above. Never throws for a missing feature, only records it (it may
// throw std::bad_alloc). While it runs it silences libbpf's print callback, which is
// process-global: do not call it concurrently with other libbpf users that rely on logging.
ProbeReport probe_system();

// Aligned table for people, grouped: "yes" / "yes (extra info)" / "no — reason".
std::string format_probe_text(const ProbeReport& report);

// {"kernel": "...", "capabilities": [{"name", "group", "description", "available", "detail"}]}, one
// capability per line, no trailing newline.
// Always valid JSON: strings are escaped and invalid UTF-8 is replaced by U+FFFD.
std::string format_probe_json(const ProbeReport& report);

}  // namespace sluice
