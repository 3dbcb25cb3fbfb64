#include <sluice/error.hpp>
#include <sluice/scanner.hpp>

#include "chunk_source.hpp"
#include "record_matcher.hpp"
#include "resource_clock.hpp"
#include "sockmap_backend.hpp"

namespace sluice {

std::string_view to_string(BackendKind kind) {
  switch (kind) {
    case BackendKind::automatic: return "auto";
    case BackendKind::read: return "read";
    case BackendKind::uring: return "uring";
    case BackendKind::mmap: return "mmap";
    case BackendKind::sockmap: return "sockmap";
  }
  return "?";
}

BackendKind parse_backend(std::string_view name) {
  for (BackendKind k : {BackendKind::automatic, BackendKind::read, BackendKind::uring, BackendKind::mmap,
                        BackendKind::sockmap})
    if (name == to_string(k)) return k;
  throw UsageError("unknown backend '" + std::string(name) + "' (use read, uring, mmap, sockmap or auto)");
}

std::string_view to_string(SockmapDriver driver) {
  switch (driver) {
    case SockmapDriver::sendfile: return "sendfile";
    case SockmapDriver::uring: return "uring";
    case SockmapDriver::write: return "write";
  }
  return "?";
}

SockmapDriver parse_driver(std::string_view name) {
  for (SockmapDriver d : {SockmapDriver::sendfile, SockmapDriver::uring, SockmapDriver::write})
    if (name == to_string(d)) return d;
  throw UsageError("unknown driver '" + std::string(name) + "' (use sendfile, uring or write)");
}

ScanStats& ScanStats::operator+=(const ScanStats& o) {
  if (backend.empty()) backend = o.backend;
  bytes_read += o.bytes_read;
  bytes_delivered += o.bytes_delivered;
  records_in += o.records_in;
  records_in_counted = records_in_counted || o.records_in_counted;
  records_out += o.records_out;
  wall_seconds += o.wall_seconds;
  kernel_filter_bytes += o.kernel_filter_bytes;
  windows += o.windows;
  boundary_bytes += o.boundary_bytes;
  if (aggregation.empty()) aggregation = o.aggregation;
  else if (!o.aggregation.empty() && o.aggregation != aggregation) aggregation = "mixed";
  kernel_aggregated_records += o.kernel_aggregated_records;
  kernel_aggregate_fallbacks += o.kernel_aggregate_fallbacks;
  bpf_run_count += o.bpf_run_count;
  bpf_run_time_ns += o.bpf_run_time_ns;
  user_cpu_seconds += o.user_cpu_seconds;
  system_cpu_seconds += o.system_cpu_seconds;
  return *this;
}

namespace {

// A user-space backend: a chunk source (read, uring, mmap) plus the shared matcher.
// Every byte read crosses into user space, so bytes delivered == bytes read.
class UserSpaceBackend final : public Backend {
 public:
  UserSpaceBackend(BackendKind kind, const std::string& path, const Filter& filter, const ScanOptions& options)
      : kind_(kind),
        count_input_records_(options.count_input_records),
        aggregating_(options.aggregate.has_value()),
        matcher_(filter, options.count_input_records) {
    switch (kind) {
      case BackendKind::read: source_ = make_read_source(path, options); break;
      case BackendKind::uring: source_ = make_uring_source(path, options); break;
      case BackendKind::mmap: source_ = make_mmap_source(path, options); break;
      case BackendKind::automatic:
      case BackendKind::sockmap: throw Error("internal: not a user-space backend");
    }
  }

  bool next(RecordBatch& batch) override {
    batch.records.clear();
    if (done_) return false;
    // One chunk per call at most when records were found: their views die with the chunk.
    while (batch.records.empty()) {
      std::span<const char> chunk = source_->next_chunk();
      if (chunk.empty()) {
        matcher_.finish(batch.records);
        done_ = true;
        break;
      }
      matcher_.feed(chunk, batch.records);
    }
    usage_.stop();
    return !batch.records.empty() || !done_;
  }

  ScanStats stats() const override {
    ScanStats s;
    s.backend = std::string(to_string(kind_));
    s.bytes_read = source_->bytes_read();
    s.bytes_delivered = s.bytes_read;
    s.records_in = matcher_.records_in();
    s.records_in_counted = count_input_records_;
    s.records_out = matcher_.records_out();
    if (aggregating_) s.aggregation = "user space";
    usage_.fill(s);
    return s;
  }

 private:
  BackendKind kind_;
  bool count_input_records_;
  bool aggregating_;
  ResourceClock usage_;
  RecordMatcher matcher_;
  std::unique_ptr<ChunkSource> source_;
  bool done_ = false;
};

std::unique_ptr<Backend> make_backend(const std::string& path, const Filter& filter, const ScanOptions& options) {
  BackendKind kind = options.backend == BackendKind::automatic ? choose_backend(filter, options) : options.backend;
  if (kind == BackendKind::sockmap) return make_sockmap_backend(path, filter, options);
  return std::make_unique<UserSpaceBackend>(kind, path, filter, options);
}

}  // namespace

BackendKind choose_backend(const Filter&, const ScanOptions&) {
  // Measured on Linux 6.18 (docs/performance.md): for a local file the sockmap path costs
  // 2-4x the CPU and time of read(2) at every selectivity, because the kernel copies the
  // file into socket memory and the BPF scan is slower than a SIMD scan. read(2) with a
  // 1 MiB buffer is as fast as io_uring and mmap for cached sequential reads and works
  // everywhere, so it is the automatic choice; sockmap is chosen explicitly.
  return BackendKind::read;
}

Scanner::Scanner(const std::string& path, const Filter& filter, const ScanOptions& options)
    : backend_(make_backend(path, filter, options)) {}
Scanner::~Scanner() = default;
Scanner::Scanner(Scanner&&) noexcept = default;
Scanner& Scanner::operator=(Scanner&&) noexcept = default;

bool Scanner::next(RecordBatch& batch) { return backend_->next(batch); }
ScanStats Scanner::stats() const { return backend_->stats(); }
const Aggregator* Scanner::kernel_aggregates() const { return backend_->kernel_aggregates(); }

}  // namespace sluice
