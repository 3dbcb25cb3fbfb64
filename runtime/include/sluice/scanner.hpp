// libsluice's scanning API: open a file with a filter, pull batches of matching records.
//
//   sluice::Filter filter = sluice::Filter::make(sluice::FixedStringSpec{{"needle"}});
//   sluice::Scanner scanner("data.csv", filter, {});
//   sluice::RecordBatch batch;
//   while (scanner.next(batch))
//     for (std::string_view record : batch.records) use(record);
//   const sluice::ScanStats& stats = scanner.stats();
//
// Ownership and lifetime:
//  - A record is a view of one record without its '\n' separator (a CR before it is part of
//    the record, as for grep). It points into a buffer owned by the Scanner and stays valid
//    until the next call to next() on that Scanner, or the Scanner's destruction. Copy what
//    you keep longer.
//  - The Scanner copies what it needs of the Filter; the Filter may be destroyed after the
//    Scanner is constructed.
//  - A Scanner is not thread-safe; distinct Scanners are independent (no global state) and
//    may run concurrently in any number of threads.
//  - Errors (unreadable file, I/O failure, missing kernel feature) throw sluice::Error,
//    whose message names the file and the reason.
#pragma once

#include <sluice/aggregate.hpp>
#include <sluice/filter.hpp>
#include <sluice/stats.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

enum class BackendKind {
  automatic,  // the best backend this machine supports for the request
  read,       // read(2) into one reused buffer
  uring,      // io_uring reads, several in flight (optionally O_DIRECT)
  mmap,       // the file mapped and scanned in place
  sockmap,    // in the kernel: sendfile/splice into a sockmap'd socket, sk_msg filter
};

// How the sockmap backend pushes the file through the kernel filter.
enum class SockmapDriver {
  sendfile,  // sendfile(2), one window-sized message per call
  uring,     // io_uring: IORING_OP_SPLICE file -> pipe -> socket, receive with io_uring
  write,     // read(2) + write(2) of large messages (several windows each): for tests
};
std::string_view to_string(SockmapDriver driver);
SockmapDriver parse_driver(std::string_view name);  // throws UsageError

std::string_view to_string(BackendKind kind);
BackendKind parse_backend(std::string_view name);  // throws UsageError

// Most parallel streams a scan (ScanOptions::sockmap_streams) or a remote request
// (RemoteOptions::streams) may use: a bound on the sockets and threads of one scan.
inline constexpr unsigned kMaxStreams = 64;

struct ScanOptions {
  BackendKind backend = BackendKind::automatic;
  std::size_t buffer_size = std::size_t{1} << 20;  // read/uring chunk size (>= 64 KiB)
  unsigned queue_depth = 4;                         // uring: reads in flight
  bool direct = false;                              // uring: O_DIRECT, registered buffers
  bool count_input_records = true;                  // fill ScanStats::records_in
  SockmapDriver driver = SockmapDriver::sendfile;   // sockmap: how data enters the kernel
  bool collect_bpf_stats = false;                   // kernel backends: BPF run count/time
  // sockmap: parallel streams over consecutive parts of the file, each with its own sender
  // thread and program (the kernel's work runs in the sender's context). 0: automatic (one
  // per CPU, at most 2, for files of 64 MiB a stream or more; CSV framing: always one).
  unsigned sockmap_streams = 0;  // at most kMaxStreams
  // Aggregates the caller computes over the kept records. A backend that can aggregate in
  // the kernel (sockmap) then aggregates what it can there and does NOT return those
  // records from next(): the caller aggregates the records it gets and merges
  // Scanner::kernel_aggregates() at the end (docs/library.md, "Aggregates"). Other
  // backends return every kept record.
  std::optional<AggregateSpec> aggregate;
};

// What BackendKind::automatic resolves to for this filter and these options.
BackendKind choose_backend(const Filter& filter, const ScanOptions& options);

struct RecordBatch {
  std::vector<std::string_view> records;
};

// The interface every backend implements, user space or kernel.
class Backend {
 public:
  virtual ~Backend() = default;
  // Replaces batch.records with the next matching records; false when the scan is done.
  virtual bool next(RecordBatch& batch) = 0;
  virtual ScanStats stats() const = 0;
  // Partials aggregated in the kernel (ScanOptions::aggregate), complete once next() has
  // returned false; nullptr when nothing was aggregated there.
  virtual const Aggregator* kernel_aggregates() const { return nullptr; }
};

class Scanner {
 public:
  Scanner(const std::string& path, const Filter& filter, const ScanOptions& options);
  ~Scanner();
  Scanner(Scanner&&) noexcept;
  Scanner& operator=(Scanner&&) noexcept;

  bool next(RecordBatch& batch);
  // Counters so far; wall time and CPU cover construction to the last next().
  ScanStats stats() const;
  // With ScanOptions::aggregate: the partials of the records the kernel aggregated instead
  // of returning them (merge them into yours after the last next()); nullptr if none.
  const Aggregator* kernel_aggregates() const;

 private:
  std::unique_ptr<Backend> backend_;
};

}  // namespace sluice
