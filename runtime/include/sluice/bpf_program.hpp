// Loading a filter's BPF build into the kernel, inside one of the host programs of
// kernel-bpf/. A load failure throws BpfLoadError, whose message is the verifier's reason
// mapped to the filter source line (the raw log is kept for those who want it).
#pragma once

#include <sluice/error.hpp>
#include <sluice/filter.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

struct bpf_object;

namespace sluice {

// What the verifier reported for a rejected program, distilled.
struct VerifierComplaint {
  std::string reason;           // e.g. "R7 pointer arithmetic on mem_or_null prohibited"
  std::string source_location;  // e.g. "compare.h:172" (empty without line info)
  std::string source_line;      // the C source of that line
};
VerifierComplaint summarize_verifier_log(std::string_view log);

class BpfLoadError : public Error {
 public:
  BpfLoadError(const std::string& what, std::string log) : Error(what), log_(std::move(log)) {}
  const std::string& verifier_log() const { return log_; }

 private:
  std::string log_;
};

struct LoadInfo {
  std::uint64_t verified_instructions = 0;  // "processed N insns" (all subprograms)
  std::uint32_t program_instructions = 0;   // xlated size of the main program / 8
  double load_seconds = 0;                  // open + verify + JIT
};

// A host program's own load-time constant (`const volatile` in .rodata), by name: a __u32,
// or a struct shared with the host through a header (HostSetting::of).
struct HostSetting {
  HostSetting(std::string setting_name, std::uint32_t value) : HostSetting(std::move(setting_name), &value, sizeof value) {}
  template <class T>
    requires std::is_trivially_copyable_v<T>
  static HostSetting of(std::string setting_name, const T& value) {
    return HostSetting(std::move(setting_name), &value, sizeof value);
  }

  std::string name;
  std::vector<std::byte> bytes;  // the variable's whole value; its size must match

 private:
  HostSetting(std::string setting_name, const void* value, std::size_t size)
      : name(std::move(setting_name)),
        bytes(static_cast<const std::byte*>(value), static_cast<const std::byte*>(value) + size) {}
};

// A loaded skeleton of host `host` built with `filter`'s source, parameters written into
// .rodata before load. A run-time compiled filter (Filter::compiled()) is loaded the same way
// from its BPF object file instead (libbpf's bpf_object__open_file; built first if not cached).
// Releases every kernel object on destruction.
class LoadedFilterObject {
 public:
  LoadedFilterObject(std::string_view host, const Filter& filter, const std::vector<HostSetting>& settings = {});
  ~LoadedFilterObject();
  LoadedFilterObject(const LoadedFilterObject&) = delete;
  LoadedFilterObject& operator=(const LoadedFilterObject&) = delete;

  struct bpf_object* object() const;
  int program_fd(std::string_view program_name) const;  // throws if absent
  int map_fd(std::string_view map_name) const;          // throws if absent
  const LoadInfo& load_info() const { return info_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  LoadInfo info_;
};

// The xdp_record host: one record per BPF_PROG_TEST_RUN, the filter's verdict back.
// Proves the BPF build decides like the native build, and measures it.
class XdpRecordProgram {
 public:
  explicit XdpRecordProgram(const Filter& filter);

  // Longest record one test run can carry: bpf_xdp_load_bytes() refuses 65536 bytes on
  // Linux 6.18 (the host then aborts, reported as an error).
  static constexpr std::size_t max_record_size = 65535;

  bool keep(std::string_view record) const;
  struct Timing {
    bool keep;
    std::uint64_t ns_per_run;  // the kernel's average over `repeat` runs
  };
  Timing time(std::string_view record, std::uint32_t repeat) const;
  const LoadInfo& load_info() const { return object_.load_info(); }

 private:
  std::uint32_t run(std::string_view record, std::uint32_t repeat, std::uint32_t* duration) const;
  LoadedFilterObject object_;
  int prog_fd_;
};

}  // namespace sluice
