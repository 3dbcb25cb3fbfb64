// Filters compiled at run time: a --where expression (sluice/expr.hpp) or a user-written C
// filter against the ABI of filters/include/sluice/filter.h, built the way the built-in
// filters are built, only later:
//   - natively with `cc -O2 -shared -fPIC` and dlopen()ed, for the user-space backends;
//   - as BPF with clang (-target bpf -mcpu=v3), #included into each host program of
//     kernel-bpf/ (xdp_record, sk_msg_filter), loaded with libbpf from the object file.
// Results are cached by content hash under $SLUICE_CACHE_DIR, else $XDG_CACHE_HOME/sluice,
// else ~/.cache/sluice: a second run with the same filter compiles nothing.
//
//   sluice::Filter f = sluice::compile_where_filter("$3 > 100 and contains($5, \"x\")", {});
//   sluice::Scanner scanner("data.csv", f, {.backend = sluice::BackendKind::sockmap});
#pragma once

#include <sluice/error.hpp>
#include <sluice/filter.hpp>
#include <sluice/format.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

// A compiler failed on a user's filter: what() holds the compiler's diagnostics.
class CompileError : public UsageError {
 public:
  using UsageError::UsageError;
};

struct CompileOptions {
  std::string cache_dir;                 // empty: the per-user default (see above)
  std::vector<std::string> bpf_hosts;    // hosts to build right away, in parallel with the native build
  bool verbose = false;                  // print each compiler command on stderr
};

// The host programs a compiled filter can be built into.
const std::vector<std::string>& compiled_filter_hosts();  // {"xdp_record", "sk_msg_filter"}

// The compiled artefacts of one filter source; shared by the Filters made from it. The BPF
// objects are built on first use of each host (and cached).
class CompiledFilter {
 public:
  enum class Origin { where, user };

  CompiledFilter(Origin origin, std::string display_name, std::string filter_name, std::string source_path,
                 std::string entry_dir, std::string key, std::string include_dir, CompileOptions options);
  ~CompiledFilter();
  CompiledFilter(const CompiledFilter&) = delete;
  CompiledFilter& operator=(const CompiledFilter&) = delete;

  Origin origin() const { return origin_; }
  // How messages name it: "--where" or the user's file as given.
  const std::string& display_name() const { return display_name_; }
  // The SLUICE_FILTER name in the source ("where" for expressions).
  const std::string& filter_name() const { return filter_name_; }
  // The C source compiled (the user's file, or the generated file in the cache).
  const std::string& source_path() const { return source_path_; }
  // The cache entry directory.
  const std::string& directory() const { return entry_dir_; }

  // The BPF object of host `host` with this filter (compiled now if not cached).
  // Throws CompileError with the compiler's diagnostics.
  std::string bpf_object(std::string_view host) const;
  // Builds the objects of several hosts concurrently (those not cached yet).
  void prepare_bpf(const std::vector<std::string>& hosts) const;

  // Set up by the compile functions.
  sluice_native_filter_fn native = nullptr;
  std::size_t params_size = 0;
  std::vector<std::byte> default_params;  // user filters: `sluice_defaults`, or zeros
  void* handle = nullptr;                 // dlopen handle of the native build (closed on destruction)

 private:
  Origin origin_;
  std::string display_name_, filter_name_, source_path_, entry_dir_, key_, include_dir_;
  CompileOptions options_;
  mutable std::mutex mutex_;
};

// Compiles `expression` (sluice/expr.hpp) for records whose fields are split by `delimiter`;
// `header` names the columns for col("name"); with format jsonl, fields are JSON paths
// (.a.b). Throws expr::ParseError for a bad expression.
struct WhereOptions {
  char delimiter = ',';
  std::vector<std::string> header;
  RecordFormat format = RecordFormat::lines;  // csv: RFC 4180 framing and fields; binary: the schema's
  Schema schema;                              // binary: fixed-size records and their fields
  bool bare_names = false;                    // bare names name columns (expr::CheckOptions)
};
Filter compile_where_filter(std::string_view expression, const WhereOptions& where, const CompileOptions& options = {});

// Compiles a user-written filter: a C file with one SLUICE_FILTER(name, struct params) and,
// optionally, `const struct params sluice_defaults = {...};` (its parameter block, header
// included: a required literal may be declared there; otherwise all zeros).
// Throws CompileError with the compiler's diagnostics.
Filter compile_user_filter(const std::string& path, const CompileOptions& options = {});

// Where run-time compilation finds the BPF host sources and the ABI headers (for messages
// and `sluice verify`): SLUICE_DATA_DIR, else the source tree this build came from, else the
// installed share/sluice. Throws Error when none has them.
struct FilterToolchain {
  std::string clang;           // clang for -target bpf
  std::string cc;              // native C compiler
  std::string host_dir;        // kernel-bpf/ host sources and headers
  std::string vmlinux_dir;     // holds vmlinux.h
  std::string include_dir;     // holds sluice/filter.h
};
const FilterToolchain& filter_toolchain();

}  // namespace sluice
