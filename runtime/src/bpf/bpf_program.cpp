#include <sluice/bpf_program.hpp>
#include <sluice/compiled_filter.hpp>

#include "bpf/skeleton_ops.hpp"
#include "xdp_record.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace sluice {
namespace {

constexpr std::size_t kLogSize = 4u << 20;

const bpf::SkeletonOps& find_skeleton(std::string_view host, std::string_view filter) {
  for (const bpf::SkeletonOps* ops : bpf::all_skeletons())
    if (host == ops->host && filter == ops->filter) return *ops;
  throw Error("no BPF build of filter '" + std::string(filter) + "' for host '" + std::string(host) + "'");
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

bool is_instruction_line(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
  return i > 0 && i < line.size() && line[i] == ':';
}

std::uint64_t processed_instructions(std::string_view log) {
  std::uint64_t n = 0;
  for (std::string_view line : split_lines(log))
    if (line.starts_with("processed ")) n = std::strtoull(std::string(line.substr(10)).c_str(), nullptr, 10);
  return n;
}

}  // namespace

VerifierComplaint summarize_verifier_log(std::string_view log) {
  VerifierComplaint c;
  std::vector<std::string_view> lines = split_lines(log);
  std::size_t end = lines.size();
  for (std::size_t i = lines.size(); i-- > 0;)
    if (lines[i].starts_with("processed ")) {
      end = i;
      break;
    }
  std::size_t reason_at = end;
  for (std::size_t i = end; i-- > 0;) {
    std::string_view l = lines[i];
    if (l.empty() || l.starts_with(";") || is_instruction_line(l) || l.starts_with("verification time") ||
        l.starts_with("stack depth") || l.starts_with("--"))
      continue;
    reason_at = i;
    c.reason = std::string(l);
    break;
  }
  for (std::size_t i = std::min(reason_at, lines.size()); i-- > 0;) {
    std::string_view l = lines[i];
    if (!l.starts_with("; ")) continue;
    l.remove_prefix(2);
    std::size_t at = l.rfind(" @ ");
    if (at != std::string_view::npos) {
      c.source_location = std::string(l.substr(at + 3));
      l = l.substr(0, at);
    }
    c.source_line = std::string(l);
    break;
  }
  if (c.reason.empty()) c.reason = "the verifier rejected the program (no reason in the log)";
  return c;
}

struct LoadedFilterObject::Impl {
  const bpf::SkeletonOps* ops = nullptr;  // a built-in filter: its skeleton
  void* skel = nullptr;
  bpf_object* obj = nullptr;  // a run-time compiled filter: its object file, opened by libbpf
  std::string host;
  ~Impl() {
    if (skel) ops->destroy(skel);
    if (obj) bpf_object__close(obj);
  }
  bpf_object* object() const { return obj ? obj : ops->object(skel); }
};

namespace {

// The initial value of global variable `name` in data section `section` (".rodata",
// ".data") of an opened object, found through BTF; empty if absent. Writable until load.
std::span<std::byte> global_variable(bpf_object* obj, std::string_view section, std::string_view name) {
  const struct btf* btf = bpf_object__btf(obj);
  bpf_map* map = nullptr;
  for (bpf_map* m = bpf_object__next_map(obj, nullptr); m; m = bpf_object__next_map(obj, m))
    if (std::string_view(bpf_map__name(m)).ends_with(section)) map = m;
  std::int32_t sec_id = btf ? btf__find_by_name_kind(btf, std::string(section).c_str(), BTF_KIND_DATASEC) : -1;
  if (!map || sec_id < 0) return {};
  const btf_type* sec = btf__type_by_id(btf, static_cast<std::uint32_t>(sec_id));
  const btf_var_secinfo* vars = btf_var_secinfos(sec);
  for (std::uint16_t i = 0; i < btf_vlen(sec); ++i) {
    const btf_type* var = btf__type_by_id(btf, vars[i].type);
    if (name != btf__name_by_offset(btf, var->name_off)) continue;
    std::size_t size = 0;
    // libbpf 1.1 returns the mmaped initial value as const; it is writable until load.
    auto* base = static_cast<std::byte*>(const_cast<void*>(bpf_map__initial_value(map, &size)));
    if (!base || vars[i].offset + vars[i].size > size) return {};
    return {base + vars[i].offset, vars[i].size};
  }
  return {};
}

// Writes a `const volatile` variable of the host's .rodata, found by name through BTF.
void set_rodata(bpf_object* obj, const HostSetting& setting) {
  std::span<std::byte> var = global_variable(obj, ".rodata", setting.name);
  if (var.empty()) throw Error("host has no setting named " + setting.name);
  if (var.size() != setting.bytes.size())
    throw Error("host setting " + setting.name + " is " + std::to_string(var.size()) + " bytes, not " +
                std::to_string(setting.bytes.size()));
  std::memcpy(var.data(), setting.bytes.data(), var.size());
}

void scratch_per_cpu(bpf_object* obj) {
  if (bpf_map* scratch = bpf_object__find_map_by_name(obj, "scratch")) {
    int cpus = libbpf_num_possible_cpus();
    if (cpus > 0) bpf_map__set_max_entries(scratch, static_cast<std::uint32_t>(cpus));
  }
}

// A run-time compiled filter (sluice/compiled_filter.hpp): the host object built with it,
// opened from its file; the parameters written into .rodata (sluice_params) and its .data
// copy (sluice_params_mem) as for a skeleton. Returns the error code of the load.
int open_and_load_file(const std::string& path, const Filter& filter, const std::vector<HostSetting>& settings,
                       std::vector<char>& log, std::uint32_t log_level, bpf_object*& obj_out) {
  LIBBPF_OPTS(bpf_object_open_opts, opts, .kernel_log_buf = log.data(), .kernel_log_size = log.size(),
              .kernel_log_level = log_level);
  bpf_object* obj = bpf_object__open_file(path.c_str(), &opts);
  if (!obj) return errno ? -errno : -EINVAL;
  obj_out = obj;
  for (auto [section, name] : {std::pair{".rodata", "sluice_params"}, std::pair{".data", "sluice_params_mem"}}) {
    std::span<std::byte> var = global_variable(obj, section, name);
    if (var.size() != filter.params().size())
      throw Error("internal: " + path + ": " + name + " is " + std::to_string(var.size()) + " bytes, the filter's " +
                  "parameter block " + std::to_string(filter.params().size()));
    std::memcpy(var.data(), filter.params().data(), var.size());
  }
  for (const HostSetting& setting : settings) set_rodata(obj, setting);
  scratch_per_cpu(obj);
  return bpf_object__load(obj);
}

// For a user's C filter: the verifier's last source line in the user's own file (the reason
// may be reported inside a primitive it called), as "file:line: code"; empty if none.
std::string user_source_line(std::string_view log, const CompiledFilter& compiled) {
  std::string base = compiled.source_path().substr(compiled.source_path().find_last_of('/') + 1);
  std::string found;
  for (std::string_view line : split_lines(log)) {
    if (!line.starts_with("; ")) continue;
    std::size_t at = line.rfind(" @ ");
    if (at == std::string_view::npos) continue;
    std::string_view where = line.substr(at + 3);
    if (!where.starts_with(base + ":")) continue;
    found = compiled.display_name() + std::string(where.substr(base.size())) + ": " +
            std::string(line.substr(2, at - 2));
  }
  return found;
}

int open_and_load(const bpf::SkeletonOps& ops, const Filter& filter, const std::vector<HostSetting>& settings,
                  std::vector<char>& log, std::uint32_t log_level, void*& skel_out) {
  LIBBPF_OPTS(bpf_object_open_opts, opts, .kernel_log_buf = log.data(), .kernel_log_size = log.size(),
              .kernel_log_level = log_level);
  void* skel = ops.open(&opts);
  if (!skel) return errno ? -errno : -EINVAL;
  skel_out = skel;
  if (filter.params().size() != ops.params_size)
    throw Error("internal: parameter block of '" + filter.name() + "' has the wrong size");
  std::memcpy(ops.params(skel), filter.params().data(), ops.params_size);
  std::memcpy(ops.params_mem(skel), filter.params().data(), ops.params_size);
  for (const HostSetting& setting : settings) set_rodata(ops.object(skel), setting);
  scratch_per_cpu(ops.object(skel));
  return ops.load(skel);
}

}  // namespace

LoadedFilterObject::LoadedFilterObject(std::string_view host, const Filter& filter,
                                       const std::vector<HostSetting>& settings)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::string(host);
  std::string object_path;  // a compiled filter's object; built (or found in the cache) first
  if (filter.compiled()) {
    const std::vector<std::string>& hosts = compiled_filter_hosts();
    if (std::find(hosts.begin(), hosts.end(), host) == hosts.end())
      throw Error("no BPF build of filter '" + filter.name() + "' for host '" + std::string(host) + "'");
    object_path = filter.compiled()->bpf_object(host);
  } else {
    impl_->ops = &find_skeleton(host, filter.name());
  }
  // Opens, configures and loads into impl_ (skeleton or object file); the load's error code.
  auto attempt = [&](std::vector<char>& log, std::uint32_t level, void*& skel, bpf_object*& obj) {
    if (impl_->ops) return open_and_load(*impl_->ops, filter, settings, log, level, skel);
    return open_and_load_file(object_path, filter, settings, log, level, obj);
  };
  std::vector<char> log(kLogSize, '\0');
  auto t0 = std::chrono::steady_clock::now();
  // Level 4 (statistics) keeps the log short on success; on failure we load again with
  // level 0, which makes libbpf retry at level 1 and fill the buffer with the reason.
  int rc = attempt(log, 4, impl_->skel, impl_->obj);
  auto t1 = std::chrono::steady_clock::now();
  if (rc == 0) {
    info_.load_seconds = std::chrono::duration<double>(t1 - t0).count();
    info_.verified_instructions = processed_instructions(log.data());
    bpf_program* prog = bpf_object__next_program(impl_->object(), nullptr);
    info_.program_instructions = prog ? static_cast<std::uint32_t>(bpf_program__insn_cnt(prog)) : 0;
    return;
  }
  std::string what = "cannot load BPF program " + std::string(host) + "/" + filter.name();
  if (rc == -EPERM || rc == -EACCES) {
    if (rc == -EPERM && geteuid() != 0)
      throw BpfLoadError(what + ": permission denied (needs root or CAP_BPF + CAP_PERFMON/CAP_NET_ADMIN)", "");
  }
  if (impl_->skel) {
    impl_->ops->destroy(impl_->skel);
    impl_->skel = nullptr;
  }
  if (impl_->obj) {
    bpf_object__close(impl_->obj);
    impl_->obj = nullptr;
  }
  std::fill(log.begin(), log.end(), '\0');
  void* retry = nullptr;
  bpf_object* retry_obj = nullptr;
  int rc2 = attempt(log, 0, retry, retry_obj);
  if (retry) impl_->ops->destroy(retry);
  if (retry_obj) bpf_object__close(retry_obj);
  std::string text(log.data());
  if (text.empty()) throw BpfLoadError(what + ": " + std::strerror(rc2 ? -rc2 : -rc), text);
  VerifierComplaint c = summarize_verifier_log(text);
  std::string message = what + ": verifier: " + c.reason;
  // A user's filter: its own line, by the path the user gave (besides the line the reason
  // names, when that is inside a primitive the filter called).
  std::string mine;
  if (filter.compiled() && filter.compiled()->origin() == CompiledFilter::Origin::user)
    mine = user_source_line(text, *filter.compiled());
  std::string base = filter.compiled() ? filter.compiled()->source_path().substr(
                                             filter.compiled()->source_path().find_last_of('/') + 1)
                                       : "";
  if (!mine.empty() && c.source_location.starts_with(base + ":")) {
    message += "\n  at " + mine;
  } else {
    if (!c.source_location.empty()) message += "\n  at " + c.source_location + ": " + c.source_line;
    if (!mine.empty()) message += "\n  in " + mine;
  }
  throw BpfLoadError(message, text);
}

LoadedFilterObject::~LoadedFilterObject() = default;

bpf_object* LoadedFilterObject::object() const { return impl_->object(); }

int LoadedFilterObject::program_fd(std::string_view program_name) const {
  bpf_program* prog = bpf_object__find_program_by_name(object(), std::string(program_name).c_str());
  if (!prog) throw Error("BPF program '" + std::string(program_name) + "' not found in " + impl_->host);
  return bpf_program__fd(prog);
}

int LoadedFilterObject::map_fd(std::string_view map_name) const {
  bpf_map* map = bpf_object__find_map_by_name(object(), std::string(map_name).c_str());
  if (!map) throw Error("BPF map '" + std::string(map_name) + "' not found in " + impl_->host);
  return bpf_map__fd(map);
}

XdpRecordProgram::XdpRecordProgram(const Filter& filter)
    : object_("xdp_record", filter), prog_fd_(object_.program_fd("sluice_xdp_record")) {}

std::uint32_t XdpRecordProgram::run(std::string_view record, std::uint32_t repeat, std::uint32_t* duration) const {
  if (record.size() > max_record_size)
    throw Error("record of " + std::to_string(record.size()) + " bytes exceeds the test-run limit");
  std::string packet(SLUICE_XDP_RECORD_OFFSET, '\0');
  packet.append(record);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(),
              .data_size_in = static_cast<std::uint32_t>(packet.size()), .repeat = static_cast<int>(repeat));
  int rc = bpf_prog_test_run_opts(prog_fd_, &opts);
  if (rc != 0) throw system_error("BPF_PROG_TEST_RUN of xdp_record", errno);
  if (opts.retval != SLUICE_XDP_KEEP && opts.retval != SLUICE_XDP_DROP)
    throw Error("xdp_record returned " + std::to_string(opts.retval) + " (host error) for a record of " +
                std::to_string(record.size()) + " bytes");
  if (duration) *duration = opts.duration;
  return opts.retval;
}

bool XdpRecordProgram::keep(std::string_view record) const { return run(record, 1, nullptr) == SLUICE_XDP_KEEP; }

XdpRecordProgram::Timing XdpRecordProgram::time(std::string_view record, std::uint32_t repeat) const {
  std::uint32_t duration = 0;
  bool kept = run(record, repeat, &duration) == SLUICE_XDP_KEEP;
  return {kept, duration};
}

}  // namespace sluice
