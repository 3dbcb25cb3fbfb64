// sluice scan: grep -F and column comparisons over files, through any backend.
#include "commands.hpp"

#include <sluice/error.hpp>
#include <sluice/report.hpp>
#include <sluice/scanner.hpp>

#include <boost/program_options.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace po = boost::program_options;

namespace sluice::cli {
namespace {

// Buffered writes to stdout: records are written in large blocks, never one syscall each.
class OutputBuffer {
 public:
  OutputBuffer() { buffer_.reserve(kCapacity); }
  ~OutputBuffer() { flush(); }
  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;

  void append(std::string_view text) {
    if (buffer_.size() + text.size() > kCapacity) flush();
    if (text.size() > kCapacity) {
      write_all(text);
      return;
    }
    buffer_.append(text);
  }
  void flush() {
    write_all(buffer_);
    buffer_.clear();
  }

 private:
  static constexpr std::size_t kCapacity = 256 * 1024;
  static void write_all(std::string_view text) {
    while (!text.empty()) {
      ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw system_error("writing to standard output", errno);
      }
      text.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  std::string buffer_;
};

constexpr const char* kSynopsis =
    "usage: sluice scan [-F] -e PATTERN... [options] FILE...\n"
    "       sluice scan [-F] PATTERN FILE...\n"
    "       sluice scan --column N --op OP --value V [--type int|decimal|string] [--delimiter C] FILE...\n"
    "       sluice scan --filter keep-all|keep-none FILE...\n"
    "\n"
    "Prints the records (lines) of FILEs that match, like grep -F. Exit status: 0 if a record\n"
    "matched, 1 if none did, 2 on error.\n";

struct ScanRequest {
  FilterSpec filter;
  ScanOptions options;
  std::vector<std::string> files;
  bool count = false;
  bool stats = false;
  bool json = false;
  bool with_filename = false;
};

char parse_delimiter(const std::string& text) {
  if (text == "\\t" || text == "tab") return '\t';
  if (text.size() != 1) throw UsageError("--delimiter takes one character (or \\t), not '" + text + "'");
  return text[0];
}

// Returns nullopt when --help was printed.
std::optional<ScanRequest> parse(const std::vector<std::string>& args) {
  po::options_description filter_opts("Filter");
  filter_opts.add_options()
      ("regexp,e", po::value<std::vector<std::string>>()->composing(), "a fixed string to match (repeatable)")
      ("fixed-strings,F", po::bool_switch(), "patterns are fixed strings (the only kind; accepted for grep compatibility)")
      ("ignore-case,i", po::bool_switch(), "ASCII case-insensitive matching")
      ("invert-match,v", po::bool_switch(), "select records that do not match")
      ("column", po::value<std::uint32_t>(), "compare field N (1-based) instead of matching strings")
      ("op", po::value<std::string>(), "comparison: = != < <= > >=")
      ("value", po::value<std::string>(), "the constant to compare with")
      ("type", po::value<std::string>()->default_value("int"), "int, decimal (exact) or string (bytewise)")
      ("delimiter,d", po::value<std::string>()->default_value(","), "field delimiter (one byte, \\t for TSV)")
      ("filter", po::value<std::string>(), "calibration filter: keep-all or keep-none");
  po::options_description io_opts("Backend and output");
  io_opts.add_options()
      ("backend,b", po::value<std::string>()->default_value("auto"), "read, uring, mmap, sockmap or auto")
      ("driver", po::value<std::string>()->default_value("sendfile"), "sockmap: sendfile, uring or write")
      ("buffer-size", po::value<std::size_t>()->default_value(std::size_t{1} << 20), "bytes per read (read/uring)")
      ("queue-depth", po::value<unsigned>()->default_value(4), "reads in flight (uring)")
      ("direct", po::bool_switch(), "O_DIRECT reads, bypassing the page cache (uring)")
      ("count,c", po::bool_switch(), "print the number of matching records instead")
      ("with-filename,H", po::bool_switch(), "prefix records with FILE: (default with several files)")
      ("no-filename", po::bool_switch(), "never prefix records with FILE:")
      ("stats", po::bool_switch(), "report bytes, records, time and CPU on stderr")
      ("no-record-count", po::bool_switch(), "with --stats: do not count input records (costs a pass in the kernel)")
      ("json", po::bool_switch(), "machine-readable counts and statistics (JSON)")
      ("help,h", "show this help");
  po::options_description hidden;
  hidden.add_options()("positional", po::value<std::vector<std::string>>(), "");
  po::options_description all;
  all.add(filter_opts).add(io_opts).add(hidden);
  po::positional_options_description positional;
  positional.add("positional", -1);

  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kSynopsis << '\n' << filter_opts << '\n' << io_opts;
    return std::nullopt;
  }

  ScanRequest req;
  std::vector<std::string> rest;
  if (vm.count("positional")) rest = vm["positional"].as<std::vector<std::string>>();
  bool column_mode = vm.count("column") || vm.count("op") || vm.count("value");
  if (vm.count("filter")) {
    if (column_mode || vm.count("regexp")) throw UsageError("--filter cannot be combined with patterns or --column");
    const std::string& f = vm["filter"].as<std::string>();
    if (f == "keep-all") req.filter = KeepAllSpec{};
    else if (f == "keep-none") req.filter = KeepNoneSpec{};
    else throw UsageError("unknown --filter '" + f + "' (use keep-all or keep-none)");
  } else if (column_mode) {
    if (vm.count("regexp")) throw UsageError("use either -e patterns or --column, not both");
    if (!vm.count("column") || !vm.count("op") || !vm.count("value"))
      throw UsageError("a column comparison needs --column N, --op OP and --value V");
    ColumnCompareSpec spec;
    spec.column = vm["column"].as<std::uint32_t>();
    spec.op = parse_compare_op(vm["op"].as<std::string>());
    spec.type = parse_value_type(vm["type"].as<std::string>());
    spec.value = vm["value"].as<std::string>();
    spec.delimiter = parse_delimiter(vm["delimiter"].as<std::string>());
    req.filter = spec;
  } else {
    FixedStringSpec spec;
    if (vm.count("regexp")) {
      spec.patterns = vm["regexp"].as<std::vector<std::string>>();
    } else {
      if (rest.empty()) throw UsageError("no pattern given (use -e PATTERN or give it before the files)");
      spec.patterns.push_back(rest.front());
      rest.erase(rest.begin());
    }
    spec.ignore_case = vm["ignore-case"].as<bool>();
    spec.invert = vm["invert-match"].as<bool>();
    req.filter = spec;
  }
  if (rest.empty()) throw UsageError("no input file given");
  req.files = rest;
  req.options.backend = parse_backend(vm["backend"].as<std::string>());
  req.options.buffer_size = vm["buffer-size"].as<std::size_t>();
  if (req.options.buffer_size < 64 * 1024) throw UsageError("--buffer-size must be at least 65536");
  req.options.queue_depth = vm["queue-depth"].as<unsigned>();
  if (req.options.queue_depth < 1 || req.options.queue_depth > 64) throw UsageError("--queue-depth must be 1..64");
  req.options.direct = vm["direct"].as<bool>();
  req.options.driver = parse_driver(vm["driver"].as<std::string>());
  if (req.options.direct && req.options.backend != BackendKind::uring)
    throw UsageError("--direct needs --backend uring");
  req.count = vm["count"].as<bool>();
  req.stats = vm["stats"].as<bool>();
  req.json = vm["json"].as<bool>();
  req.options.count_input_records = req.stats && !vm["no-record-count"].as<bool>();
  req.options.collect_bpf_stats = req.stats;
  req.with_filename = (req.files.size() > 1 || vm["with-filename"].as<bool>()) && !vm["no-filename"].as<bool>();
  return req;
}

}  // namespace

int scan_command(const std::vector<std::string>& args) {
  ScanRequest req;
  try {
    std::optional<ScanRequest> parsed = parse(args);
    if (!parsed) return kExitMatch;
    req = std::move(*parsed);
  } catch (const po::error& e) {
    std::cerr << "sluice scan: " << e.what() << "\n" << kSynopsis;
    return kExitError;
  } catch (const Error& e) {
    std::cerr << "sluice scan: " << e.what() << "\n";
    return kExitError;
  }

  bool any_match = false, any_error = false;
  ScanStats total;
  std::string json_files;
  OutputBuffer out;
  std::optional<Filter> filter;
  try {
    filter.emplace(Filter::make(req.filter));
  } catch (const Error& e) {
    std::cerr << "sluice scan: " << e.what() << "\n";
    return kExitError;
  }
  for (const std::string& path : req.files) {
    try {
      Scanner scanner(path, *filter, req.options);
      RecordBatch batch;
      std::uint64_t matches = 0;
      std::string prefix = req.with_filename ? path + ":" : "";
      while (scanner.next(batch)) {
        matches += batch.records.size();
        if (req.count) continue;
        for (std::string_view record : batch.records) {
          if (!prefix.empty()) out.append(prefix);
          out.append(record);
          out.append("\n");
        }
      }
      ScanStats stats = scanner.stats();
      any_match |= matches > 0;
      if (req.count && !req.json) out.append(prefix + std::to_string(matches) + "\n");
      if (req.json) {
        if (!json_files.empty()) json_files += ",";
        json_files += "{\"path\":" + json_quote(path) + ",\"matches\":" + std::to_string(matches) +
                      ",\"stats\":" + stats_to_json(stats) + "}";
      }
      total += stats;
    } catch (const Error& e) {
      out.flush();
      std::cerr << "sluice scan: " << e.what() << "\n";
      any_error = true;
    }
  }
  try {
    if (req.json) {
      std::string report = "{\"files\":[" + json_files + "],\"total\":" + stats_to_json(total) + "}\n";
      // Counts go to stdout; beside printed records, the report goes to stderr.
      if (req.count) out.append(report);
      else if (req.stats) std::cerr << report;
    } else if (req.stats) {
      out.flush();
      std::cerr << stats_to_text(total);
    }
    out.flush();
  } catch (const Error& e) {
    std::cerr << "sluice scan: " << e.what() << "\n";
    return kExitError;
  }
  if (any_error) return kExitError;
  return any_match ? kExitMatch : kExitNoMatch;
}

}  // namespace sluice::cli
