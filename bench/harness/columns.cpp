#include "columns.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace sluice::bench {
namespace {

// Columns shared by runs.csv and summary.csv: what was measured, on which data, how.
#define SLUICE_BENCH_CELL_COLUMNS                                                                                  \
  {"cell", 's', "identifier of the matrix cell (dataset x filter x cache state); subjects in one cell ran interleaved"}, \
  {"subject", 's', "what ran: `sluice:BACKEND` or a peer name from bench/peers/peers.tsv (or --extra-peer)"},         \
  {"kind", 's', "`sluice` or `peer`"},                                                                                  \
  {"backend", 's', "sluice backend as given to --backends (`read`, `uring`, `mmap`, `uring+direct`, ...); empty for peers"}, \
  {"mode", 's', "how the subject reads the data: `read`, `mmap`, `io_uring`, `O_DIRECT`, `default:mmap`, ... (the baseline's mode)"}, \
  {"o_direct", 'n', "1 if the subject reads with O_DIRECT (bypassing the page cache), else 0"},                         \
  {"filter", 's', "filter name: `literal` (rare-byte needle), `literal-common` (common-bytes needle), `column`"},        \
  {"filter_kind", 's', "`literal` (grep -F semantics) or `column` (field compare)"},                                    \
  {"needle", 's', "the literal searched for (literal filters); the data set's planted literal for `column`"},         \
  {"column", 'n', "1-based column compared (column filter), else empty"},                                               \
  {"threshold", 'n', "column filter keeps records whose column > threshold, else empty"},                               \
  {"selectivity_pct", 'n', "percentage of records the filter keeps, exact by construction of the data"},                \
  {"record_size", 'n', "bytes per record, newline included"},                                                           \
  {"file_size_requested", 'n', "requested data size in bytes (--file-sizes), over all shards"},                         \
  {"input_bytes", 'n', "actual bytes of the data set (all shards); throughput is input_bytes / wall"},                   \
  {"input_records", 'n', "records in the data set (all shards)"},                                                       \
  {"threads", 'n', "concurrent processes, each scanning its own shard of the data set"},                                \
  {"cache", 's', "`warm` (verified fully resident), `cold` (evicted, verified empty with mincore) or `direct` (evicted; O_DIRECT subjects only)"}, \
  {"dataset_id", 's', "data set identifier (file name stem in the work directory)"},                                    \
  {"dataset_checksum", 's', "POSIX `cksum` (CRC and byte count) of each shard, `;`-separated"}

const std::vector<Column> kRuns = {
    {"run", 'n', "sequence number of the run in execution order (1-based)"},
    SLUICE_BENCH_CELL_COLUMNS,
    {"warmup", 'n', "1 for warm-up runs (not in any summary statistic), else 0"},
    {"round", 'n', "round number within the cell (warm-up rounds first, from 0); every subject runs once per round"},
    {"position", 'n', "position of this subject in the round's randomised order (0-based)"},
    {"status", 's', "`ok`, `wrong` (count differs from the expected count), `failed` (bad exit status or unparsable output) or `timeout`"},
    {"exit_code", 'n', "exit status (the largest over the processes of a multi-thread run); 128+N if killed by signal N"},
    {"expected_count", 'n', "matching records according to the generator (exact by construction)"},
    {"count", 'n', "matching records the subject reported (summed over processes); empty if it reports none (dd)"},
    {"wall_s", 'n', "wall-clock seconds from the first spawn to the last process reaped (process start-up included)"},
    {"user_s", 'n', "user CPU seconds (wait4 rusage of every process, children included)"},
    {"sys_s", 'n', "system CPU seconds (wait4 rusage)"},
    {"cpu_s", 'n', "user_s + sys_s"},
    {"cpu_s_per_gb", 'n', "cpu_s per 10^9 input bytes"},
    {"throughput_gbps", 'n', "input_bytes / wall_s / 10^9"},
    {"voluntary_ctx_switches", 'n', "ru_nvcsw summed over the processes"},
    {"involuntary_ctx_switches", 'n', "ru_nivcsw summed over the processes"},
    {"max_rss_kib", 'n', "peak resident memory (ru_maxrss, KiB) of the largest process"},
    {"bytes_read", 'n', "bytes read from storage or page cache: sluice's own report; the data set size for peers"},
    {"bytes_delivered", 'n', "bytes made visible to user space: sluice's report; the data set size for peers"},
    {"records_in", 'n', "records in the input (the data set's count, for every subject: sluice runs without --stats, see docs)"},
    {"records_out", 'n', "records passed by the filter: sluice's report; the count for peers"},
    {"proc_rchar", 'n', "/proc/PID/io rchar: bytes returned by read()-like calls (0-ish for mmap readers)"},
    {"proc_read_bytes", 'n', "/proc/PID/io read_bytes: bytes the process caused to be fetched from the block device"},
    {"bpf_run_count", 'n', "BPF program runs reported by a kernel backend (`bpf_run_count` in sluice's JSON); empty when 0 or absent (user space)"},
    {"bpf_run_time_ns", 'n', "BPF run time in ns reported by a kernel backend (`bpf_run_time_ns`); empty when 0 or absent"},
    {"resident_pages_before", 'n', "data pages in the page cache just before the run (mincore)"},
    {"total_pages", 'n', "data pages of the data set"},
    {"resident_fraction_before", 'n', "resident_pages_before / total_pages"},
    {"command", 's', "the exact shell command of the first process (shard 0)"},
    {"error", 's', "why the run failed: the end of its standard error, or the parse problem"},
};

const std::vector<Column> kSummary = {
    SLUICE_BENCH_CELL_COLUMNS,
    {"status", 's', "`ok`; `wrong` (some count differed from the expected count: excluded from ratios); `failed`; `skipped` (see note)"},
    {"note", 's', "why a subject was skipped or failed, or what to know about its numbers"},
    {"reps", 'n', "measured (non-warm-up) runs summarised"},
    {"expected_count", 'n', "matching records according to the generator"},
    {"count", 'n', "the count the subject reported most often (first differing one if wrong)"},
    {"throughput_gbps_median", 'n', "median of throughput_gbps over the measured runs"},
    {"throughput_gbps_min", 'n', "minimum throughput_gbps"},
    {"throughput_gbps_max", 'n', "maximum throughput_gbps"},
    {"wall_s_median", 'n', "median wall_s"},
    {"wall_s_min", 'n', "minimum wall_s"},
    {"wall_s_max", 'n', "maximum wall_s"},
    {"cpu_s_per_gb_median", 'n', "median cpu_s_per_gb"},
    {"cpu_s_per_gb_min", 'n', "minimum cpu_s_per_gb"},
    {"cpu_s_per_gb_max", 'n', "maximum cpu_s_per_gb"},
    {"user_s_median", 'n', "median user_s"},
    {"sys_s_median", 'n', "median sys_s"},
    {"voluntary_ctx_switches_median", 'n', "median voluntary_ctx_switches"},
    {"involuntary_ctx_switches_median", 'n', "median involuntary_ctx_switches"},
    {"max_rss_kib_max", 'n', "largest max_rss_kib"},
    {"bytes_read", 'n', "median bytes_read"},
    {"bytes_delivered", 'n', "median bytes_delivered"},
    {"records_in", 'n', "median records_in"},
    {"records_out", 'n', "median records_out"},
    {"proc_rchar_median", 'n', "median proc_rchar"},
    {"proc_read_bytes_median", 'n', "median proc_read_bytes"},
    {"bpf_run_count_median", 'n', "median bpf_run_count (kernel backends)"},
    {"bpf_run_time_ns_median", 'n', "median bpf_run_time_ns (kernel backends)"},
    {"verifier_insns", 'n', "sluice rows: instructions the verifier processed loading this filter's BPF build (xdp_record host)"},
    {"bpf_prog_insns", 'n', "sluice rows: instructions of the loaded program (xlated size / 8)"},
    {"bpf_load_ms", 'n', "sluice rows: open + verify + JIT time of the filter's BPF build, ms"},
    {"resident_fraction_before_min", 'n', "smallest resident_fraction_before over all runs (warm: 1)"},
    {"resident_fraction_before_max", 'n', "largest resident_fraction_before over all runs (cold/direct: 0)"},
    {"reference", 's', "the subject the ratios compare with (first of --reference that ran correctly in this cell)"},
    {"throughput_ratio_median", 'n', "median over rounds of reference wall / subject wall in the same round (> 1: subject faster)"},
    {"throughput_ratio_min", 'n', "minimum of the per-round throughput ratios"},
    {"throughput_ratio_max", 'n', "maximum of the per-round throughput ratios"},
    {"cpu_per_gb_ratio_median", 'n', "median over rounds of subject CPU / reference CPU (< 1: subject cheaper)"},
    {"command", 's', "the exact shell command of shard 0"},
};

}  // namespace

const std::vector<Column>& run_columns() { return kRuns; }
const std::vector<Column>& summary_columns() { return kSummary; }

std::size_t Row::index(std::string_view name) const {
  for (std::size_t i = 0; i < columns_->size(); ++i)
    if ((*columns_)[i].name == name) return i;
  throw std::logic_error("sluice-bench: no column named " + std::string(name));
}

Row& Row::set(std::string_view name, std::string value) {
  values_[index(name)] = std::move(value);
  return *this;
}

Row& Row::set(std::string_view name, double value) {
  if (std::isnan(value) || std::isinf(value)) return set(name, std::string());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  return set(name, std::string(buf));
}

Row& Row::set_int(std::string_view name, long long value) { return set(name, std::to_string(value)); }
Row& Row::set_uint(std::string_view name, unsigned long long value) { return set(name, std::to_string(value)); }

const std::string& Row::get(std::string_view name) const { return values_[index(name)]; }

std::string csv_field(std::string_view value) {
  bool quote = value.find_first_of(",\"\n\r") != std::string_view::npos ||
               (!value.empty() && (value.front() == ' ' || value.back() == ' '));
  if (!quote) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string csv_header(const std::vector<Column>& columns) {
  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i) out += ',';
    out += columns[i].name;
  }
  return out + "\n";
}

std::string csv_line(const Row& row) {
  std::string out;
  for (std::size_t i = 0; i < row.values().size(); ++i) {
    if (i) out += ',';
    out += csv_field(row.values()[i]);
  }
  return out + "\n";
}

std::string columns_markdown() {
  auto table = [](const std::vector<Column>& cols) {
    std::string out = "| column | type | meaning |\n|---|---|---|\n";
    for (const Column& c : cols) {
      std::string doc = c.doc;
      std::string escaped;
      for (char ch : doc) escaped += (ch == '|') ? std::string("\\|") : std::string(1, ch);
      out += "| `" + std::string(c.name) + "` | " + (c.type == 'n' ? "number" : "text") + " | " + escaped + " |\n";
    }
    return out;
  };
  return "### runs.csv (one row per run)\n\n" + table(kRuns) + "\n### summary.csv (one row per cell and subject)\n\n" +
         table(kSummary);
}

}  // namespace sluice::bench
