// sluice scan: grep -F and column comparisons over files, through any backend.
#include "commands.hpp"
#include "projection.hpp"
#include "user_filters.hpp"

#include <sluice/error.hpp>
#include <sluice/expr.hpp>
#include <sluice/remote.hpp>
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
    "       sluice scan --where EXPR [-d C] [--header] FILE...      (docs/where.md)\n"
    "       sluice scan --format csv|tsv|jsonl --where EXPR FILE...\n"
    "       sluice scan --format binary --schema \"u32 id, f64 score, char[8] tag\" --where EXPR FILE...\n"
    "       sluice scan --filter FILTER.c FILE...                   (docs/where.md)\n"
    "       sluice scan --filter keep-all|keep-none FILE...\n"
    "       sluice scan --remote HOST:PORT [--place PLACE] [filter options] PATH...  (docs/network.md)\n"
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
  std::string where;        // --where EXPR (compiled at run time)
  std::string filter_file;  // --filter FILE.c (compiled at run time)
  bool header = false;      // the first line of each file names the columns
  char delimiter = ',';
  RecordLayout layout;      // --format, --schema (layout.delimiter: the delimiter)
  std::string select;                                           // --select LIST
  std::vector<std::pair<AggregateReport::Op, std::string>> aggregates;  // --sum F, --min F, ...
  std::string group_by;                                         // --group-by F
  std::optional<RemoteOptions> remote;  // --remote: PATHs are files of a `sluice serve`
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
      ("where", po::value<std::string>(), "keep records for which EXPR holds, e.g. '$3 > 100 and contains($5, \"x\")' (docs/where.md)")
      ("format", po::value<std::string>()->default_value("lines"), "record format: lines, csv (RFC 4180), tsv, jsonl, binary (docs/where.md)")
      ("schema", po::value<std::string>(), "--format binary: the record's fields, e.g. \"u32 id, i64 price, f64 score, char[12] tag\"")
      ("header", po::bool_switch(), "the first line of each file names the columns: printed, never judged (implied by col())")
      ("filter", po::value<std::string>(), "a C filter file (FILE.c, docs/where.md), or calibration: keep-all, keep-none");
  po::options_description io_opts("Backend and output");
  io_opts.add_options()
      ("backend,b", po::value<std::string>()->default_value("auto"), "read, uring, mmap, sockmap or auto")
      ("driver", po::value<std::string>()->default_value("sendfile"), "sockmap: sendfile, uring or write")
      ("streams", po::value<unsigned>()->default_value(0), "sockmap, and --remote over TCP: parallel streams over parts of the file (0: automatic: one per CPU, at most 2, for files of 64 MiB a stream; remote: the server's choice)")
      ("buffer-size", po::value<std::size_t>()->default_value(std::size_t{1} << 20), "bytes per read (read/uring)")
      ("queue-depth", po::value<unsigned>()->default_value(4), "reads in flight (uring)")
      ("direct", po::bool_switch(), "O_DIRECT reads, bypassing the page cache (uring)")
      ("count,c", po::bool_switch(), "print the number of matching records instead")
      ("with-filename,H", po::bool_switch(), "prefix records with FILE: (default with several files)")
      ("no-filename", po::bool_switch(), "never prefix records with FILE:")
      ("stats", po::bool_switch(), "report bytes, records, time and CPU on stderr")
      ("no-record-count", po::bool_switch(), "with --stats: do not count input records (costs a pass in the kernel)")
      ("json", po::bool_switch(), "machine-readable counts and statistics (JSON)")
      ("select", po::value<std::string>(), "print only these fields of kept records: $1,$3 (names with a header)")
      ("sum", po::value<std::vector<std::string>>()->composing(), "aggregate: exact sum of field F over kept records (repeatable)")
      ("min", po::value<std::vector<std::string>>()->composing(), "aggregate: smallest number in field F")
      ("max", po::value<std::vector<std::string>>()->composing(), "aggregate: largest number in field F")
      ("avg", po::value<std::vector<std::string>>()->composing(), "aggregate: mean of field F (6+ fraction digits, rounded)")
      ("group-by", po::value<std::string>(), "aggregate per distinct value of field F (count and the aggregates)")
      ("help,h", "show this help");
  po::options_description remote_opts("Remote files (sluice serve, docs/network.md)");
  remote_opts.add_options()
      ("remote", po::value<std::string>(), "HOST:PORT of a `sluice serve`; PATHs are below its export root")
      ("place", po::value<std::string>()->default_value("server"), "where the filter runs: server, client, xdp, tc or sockfilter")
      ("transport", po::value<std::string>(), "--place client: tcp (default) or udp")
      ("mode", po::value<std::string>()->default_value("drop"), "xdp/tc/sockfilter: drop (datagrams without a match) or trim")
      ("datagram-size", po::value<std::uint32_t>()->default_value(1472), "UDP: payload bytes per datagram")
      ("window", po::value<std::uint32_t>()->default_value(2048), "UDP: datagrams the server may send ahead")
      ("xdp-generic", po::bool_switch(), "--place xdp: attach in generic (skb) mode")
      ("tc-clsact", po::bool_switch(), "--place tc: a clsact qdisc filter instead of a tcx link")
      ("timeout", po::value<double>()->default_value(30), "seconds without progress before the scan fails");
  po::options_description hidden;
  hidden.add_options()("positional", po::value<std::vector<std::string>>(), "");
  po::options_description all;
  all.add(filter_opts).add(io_opts).add(remote_opts).add(hidden);
  po::positional_options_description positional;
  positional.add("positional", -1);

  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kSynopsis << '\n' << filter_opts << '\n' << io_opts << '\n' << remote_opts;
    return std::nullopt;
  }

  ScanRequest req;
  std::vector<std::string> rest;
  if (vm.count("positional")) rest = vm["positional"].as<std::vector<std::string>>();
  bool column_mode = vm.count("column") || vm.count("op") || vm.count("value");
  req.header = vm["header"].as<bool>();
  if (vm.count("where")) {
    if (column_mode || vm.count("regexp") || vm.count("filter"))
      throw UsageError("--where cannot be combined with patterns, --column or --filter");
    req.where = vm["where"].as<std::string>();
    req.delimiter = parse_delimiter(vm["delimiter"].as<std::string>());
    if (vm["invert-match"].as<bool>() || vm["ignore-case"].as<bool>())
      throw UsageError("-v and -i do not apply to --where: write not (...) in the expression");
    req.filter = KeepAllSpec{};  // replaced by the compiled expression
  } else if (vm.count("filter")) {
    if (column_mode || vm.count("regexp")) throw UsageError("--filter cannot be combined with patterns or --column");
    const std::string& f = vm["filter"].as<std::string>();
    if (f == "keep-all") req.filter = KeepAllSpec{};
    else if (f == "keep-none") req.filter = KeepNoneSpec{};
    else if (f.ends_with(".c") || f.find('/') != std::string::npos) {
      req.filter_file = f;
      if (vm["invert-match"].as<bool>() || vm["ignore-case"].as<bool>())
        throw UsageError("-v and -i do not apply to --filter FILE.c");
    }
    else throw UsageError("unknown --filter '" + f + "' (use a C file FILE.c, keep-all or keep-none)");
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
  req.options.sockmap_streams = vm["streams"].as<unsigned>();
  if (req.options.sockmap_streams > kMaxStreams)
    throw UsageError("--streams: at most " + std::to_string(kMaxStreams));
  if (req.options.direct && req.options.backend != BackendKind::uring)
    throw UsageError("--direct needs --backend uring");
  req.count = vm["count"].as<bool>();
  req.stats = vm["stats"].as<bool>();
  req.json = vm["json"].as<bool>();
  req.options.count_input_records = req.stats && !vm["no-record-count"].as<bool>();
  if (vm.count("select")) req.select = vm["select"].as<std::string>();
  for (auto [name, op] : {std::pair{"sum", AggregateReport::Op::sum}, std::pair{"min", AggregateReport::Op::min},
                          std::pair{"max", AggregateReport::Op::max}, std::pair{"avg", AggregateReport::Op::avg}})
    if (vm.count(name))
      for (const std::string& f : vm[name].as<std::vector<std::string>>()) req.aggregates.emplace_back(op, f);
  if (vm.count("group-by")) req.group_by = vm["group-by"].as<std::string>();
  bool aggregating = !req.aggregates.empty() || !req.group_by.empty();
  if (aggregating && (req.count || !req.select.empty()))
    throw UsageError("aggregates (--sum/--min/--max/--avg/--group-by) print a table: not with -c or --select");
  if (aggregating || !req.select.empty()) req.delimiter = parse_delimiter(vm["delimiter"].as<std::string>());
  req.layout = parse_record_layout(vm["format"].as<std::string>(), vm.count("schema") ? vm["schema"].as<std::string>() : "",
                                   vm["delimiter"].defaulted() ? std::nullopt
                                                                   : std::optional(parse_delimiter(vm["delimiter"].as<std::string>())));
  req.delimiter = req.layout.delimiter;
  if (req.layout.format == RecordFormat::csv || req.layout.format == RecordFormat::binary) {
    // The framing travels with the filter: only a compiled --where carries it.
    if (req.where.empty())
      throw UsageError("--format " + std::string(to_string(req.layout.format)) +
                       " frames records for --where (use --where 'true' to keep every record); -e, --column and "
                       "--filter judge lines");
  }
  if (req.layout.format == RecordFormat::binary && req.header)
    throw UsageError("--header does not apply to --format binary (fields are named by --schema)");
  req.options.collect_bpf_stats = req.stats;
  req.with_filename = (req.files.size() > 1 || vm["with-filename"].as<bool>()) && !vm["no-filename"].as<bool>();
  if (vm.count("remote")) {
    // The server accepts only library filters with parameters (never code from the network).
    if (!req.where.empty() || !req.filter_file.empty() || req.header || req.layout.format != RecordFormat::lines)
      throw UsageError("--remote takes the library's filters (-e, --column, keep-all/keep-none), not --where, "
                       "--filter FILE.c, --header or --format");
    if (req.options.backend != BackendKind::automatic)
      throw UsageError("--backend does not apply to --remote (use --place)");
    RemoteOptions r;
    r.address = vm["remote"].as<std::string>();
    r.placement = parse_placement(vm["place"].as<std::string>());
    if (vm.count("transport")) {
      if (r.placement != Placement::client) throw UsageError("--transport applies to --place client only");
      r.transport = parse_transport(vm["transport"].as<std::string>());
    }
    r.mode = parse_receive_mode(vm["mode"].as<std::string>());
    r.datagram_size = vm["datagram-size"].as<std::uint32_t>();
    r.window = vm["window"].as<std::uint32_t>();
    r.xdp_generic = vm["xdp-generic"].as<bool>();
    r.tc_clsact = vm["tc-clsact"].as<bool>();
    r.timeout_seconds = vm["timeout"].as<double>();
    if (r.timeout_seconds <= 0) throw UsageError("--timeout must be positive");
    r.count_input_records = req.options.count_input_records;
    r.streams = req.options.sockmap_streams;
    req.remote = r;
  } else {
    for (const char* o : {"transport", "xdp-generic", "tc-clsact"})
      if (vm.count(o) && !vm[o].defaulted()) throw UsageError(std::string("--") + o + " needs --remote");
    for (const char* o : {"place", "mode", "datagram-size", "window", "timeout"})
      if (!vm[o].defaulted()) throw UsageError(std::string("--") + o + " needs --remote");
  }
  return req;
}

// The network side of a remote scan (sluice/remote.hpp), as JSON.
std::string remote_stats_json(const RemoteStats& r) {
  std::string j = "{\"placement\":" + json_quote(r.placement) + ",\"attach\":" + json_quote(r.attach_mode);
  auto num = [&](const char* k, auto v) { j += std::string(",\"") + k + "\":" + std::to_string(v); };
  num("streams", r.streams);
  num("file_bytes", r.file_bytes);
  num("datagrams", r.datagrams);
  num("datagrams_received", r.datagrams_received);
  num("filter_dropped", r.filter_dropped);
  num("lost", r.lost);
  num("retransmitted", r.retransmitted);
  num("injected_drops", r.injected_drops);
  num("kernel_bytes_in", r.kernel_bytes_in);
  num("kernel_bytes_out", r.kernel_bytes_out);
  num("boundary_bytes", r.boundary_bytes);
  num("server_user_cpu_seconds", r.server_user_cpu_seconds);
  num("server_system_cpu_seconds", r.server_system_cpu_seconds);
  num("server_load_seconds", r.server_load_seconds);
  num("client_load_seconds", r.client_load_seconds);
  num("client_load_cpu_seconds", r.client_load_cpu_seconds);
  return j + "}";
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
  // With a header line (--header, or col() in --where), each file's first line is printed as
  // it is and never judged: a kept record equal to it at the start is that line.
  bool use_header = req.header;
  std::optional<std::string> named_by;  // the header line col() names were resolved against
  try {
    if (!req.where.empty()) {
      std::vector<std::string> names;
      // col() names header columns, except in binary records, whose schema names the fields.
      use_header = use_header ||
                   (req.layout.format != RecordFormat::binary && expr::uses_column_names(expr::parse(req.where)));
      if (use_header)
        if (std::optional<std::string> line = read_first_line(req.files.front())) {
          names = expr::split_header(*line, req.delimiter, req.layout.format);
          if (expr::uses_column_names(expr::parse(req.where))) named_by = *line;
        }
      filter.emplace(make_where_filter(req.where, req.layout, names, req.options.backend, req.header));
    } else if (!req.filter_file.empty()) {
      filter.emplace(make_user_filter(req.filter_file, req.options.backend));
    } else {
      filter.emplace(Filter::make(req.filter));
    }
  } catch (const expr::ParseError& e) {
    std::cerr << "sluice scan: --where: " << e.what() << "\n";
    return kExitError;
  } catch (const Error& e) {
    std::cerr << "sluice scan: " << e.what() << "\n";
    return kExitError;
  }
  // Projection and aggregates: fields by number, or by name with a header line.
  std::optional<std::vector<FieldRef>> projection;
  std::optional<AggregateReport> aggregator;
  try {
    std::vector<std::string> names;
    if (use_header && (!req.select.empty() || !req.aggregates.empty() || !req.group_by.empty()))
      if (std::optional<std::string> line = read_first_line(req.files.front()))
        names = expr::split_header(*line, req.delimiter, req.layout.format);
    if (req.layout.format == RecordFormat::binary)
      for (const SchemaField& f : req.layout.schema.fields) names.push_back(f.name);
    bool jsonl = req.layout.format == RecordFormat::jsonl;
    if (!req.select.empty()) {
      projection = parse_field_list(req.select, names);
      for (const FieldRef& f : *projection) {
        if (!f.path.empty() && !jsonl) throw UsageError("--select " + f.label + ": a JSON path needs --format jsonl");
        if (f.path.empty() && f.index != 0 && jsonl)
          throw UsageError("--select " + f.label + ": with --format jsonl, select JSON paths (.a.b) or $0");
      }
    }
    if (!req.aggregates.empty() || !req.group_by.empty()) {
      // Fields as for --select: JSON paths with --format jsonl (and $0), never without it.
      auto field = [&](const std::string& text) {
        FieldRef f = parse_field_ref(text, names);
        if (!f.path.empty() && !jsonl) throw UsageError(text + ": a JSON path needs --format jsonl");
        if (f.path.empty() && f.index != 0 && jsonl)
          throw UsageError(text + ": with --format jsonl, aggregate over JSON paths (.a.b) or $0");
        return f;
      };
      std::vector<AggregateReport::Column> columns;
      for (const auto& [op, f] : req.aggregates) columns.push_back({op, field(f)});
      std::optional<FieldRef> group;
      if (!req.group_by.empty()) group = field(req.group_by);
      aggregator.emplace(std::move(columns), group, req.layout);
    }
    // Aggregates and counts run in the kernel where the backend can (sockmap): the records
    // aggregated there are not delivered, and their partials are merged below.
    if (aggregator) req.options.aggregate = aggregator->kernel_spec();
    else if (req.count) req.options.aggregate = AggregateSpec{req.delimiter, std::nullopt, {}};  // any framing
    // Remotely, the server's kernel aggregates where the filter runs there.
    if (req.remote && req.remote->placement == Placement::server) req.remote->aggregate = req.options.aggregate;
  } catch (const Error& e) {
    std::cerr << "sluice scan: " << e.what() << "\n";
    return kExitError;
  }
  for (const std::string& path : req.files) {
    try {
      std::string prefix = req.with_filename ? path + ":" : "";
      bool skip_header = false;
      if (use_header) {
        if (std::optional<std::string> line = read_first_line(path)) {
          if (named_by && *line != *named_by)
            throw UsageError(path + ": its header line differs from that of " + req.files.front() +
                             ", against which col() names were resolved");
          skip_header = filter->keep(*line);
          if (!req.count && !aggregator)
            out.append(prefix + (projection ? project(*line, req.layout, *projection) : *line) + "\n");
        }
      }
      // A local file, or one of a `sluice serve` (the same records either way).
      std::optional<Scanner> local;
      std::optional<RemoteScanner> remote;
      if (req.remote) remote.emplace(path, req.filter, *req.remote);
      else local.emplace(path, *filter, req.options);
      auto next_batch = [&](RecordBatch& b) { return remote ? remote->next(b) : local->next(b); };
      RecordBatch batch;
      std::uint64_t matches = 0;
      while (next_batch(batch)) {
        if (skip_header && !batch.records.empty()) {
          batch.records.erase(batch.records.begin());
          skip_header = false;
        }
        matches += batch.records.size();
        if (req.count) continue;
        if (aggregator) {
          for (std::string_view record : batch.records) aggregator->add(record);
          continue;
        }
        // Binary records are written as they are (no separator); projected values as text lines.
        bool raw = req.layout.format == RecordFormat::binary && !projection;
        for (std::string_view record : batch.records) {
          if (!prefix.empty()) out.append(prefix);
          if (projection) out.append(project(record, req.layout, *projection));
          else out.append(record);
          if (!raw) out.append("\n");
        }
      }
      if (const Aggregator* in_kernel = local ? local->kernel_aggregates() : remote->kernel_aggregates()) {
        matches += in_kernel->records();
        if (aggregator) aggregator->merge(*in_kernel);
      }
      ScanStats stats = remote ? remote->stats() : local->stats();
      any_match |= matches > 0;
      if (req.count && !req.json) out.append(prefix + std::to_string(matches) + "\n");
      if (req.json) {
        if (!json_files.empty()) json_files += ",";
        json_files += "{\"path\":" + json_quote(path) + ",\"matches\":" + std::to_string(matches) +
                      ",\"stats\":" + stats_to_json(stats) +
                      (remote ? ",\"remote\":" + remote_stats_json(remote->remote_stats()) : std::string()) + "}";
      }
      total += stats;
    } catch (const Error& e) {
      out.flush();
      std::cerr << "sluice scan: " << e.what() << "\n";
      any_error = true;
    }
  }
  try {
    // After an error the aggregates are incomplete: print none rather than wrong ones.
    if (aggregator && !any_error) out.append(aggregator->table());
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
