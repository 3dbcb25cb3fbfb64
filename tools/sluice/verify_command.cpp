// sluice verify: compile a filter (a C file, or --where EXPR) for every BPF host and have the
// kernel verify it: per host, whether it loads, instructions processed, program size.
// Also the run-time filter helpers of `sluice scan` (user_filters.hpp).
#include "commands.hpp"
#include "user_filters.hpp"

#include <sluice/bpf_program.hpp>
#include <sluice/compiled_filter.hpp>
#include <sluice/error.hpp>
#include <sluice/expr.hpp>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <boost/program_options.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>

namespace po = boost::program_options;

namespace sluice::cli {

std::optional<std::string> read_first_line(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw system_error(path, errno);
  std::string line;
  char buf[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      throw system_error(path, err);
    }
    if (n == 0) break;
    std::string_view chunk(buf, static_cast<std::size_t>(n));
    std::size_t nl = chunk.find('\n');
    line.append(chunk.substr(0, nl));
    if (nl != std::string_view::npos) break;
    if (line.size() > (16u << 20)) {
      ::close(fd);
      throw UsageError(path + ": the header line is longer than 16 MiB");
    }
  }
  ::close(fd);
  if (line.empty()) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && st.st_size == 0) return std::nullopt;
  }
  return line;
}

RecordLayout parse_record_layout(const std::string& format, const std::string& schema, std::optional<char> delimiter) {
  RecordLayout layout;
  layout.format = parse_format(format);
  layout.delimiter = delimiter.value_or(',');
  if (layout.format == RecordFormat::tsv) {
    if (delimiter && *delimiter != '\t') throw UsageError("--format tsv splits fields on tabs: drop -d");
    layout.delimiter = '\t';
  }
  if (layout.format == RecordFormat::binary) {
    if (schema.empty()) throw UsageError("--format binary needs --schema \"u32 id, f64 score, char[12] tag, ...\"");
    try {
      layout.schema = expr::parse_schema(schema);
    } catch (const expr::ParseError& e) {
      throw UsageError(std::string("--schema: ") + e.what());
    }
  } else if (!schema.empty()) {
    throw UsageError("--schema applies to --format binary only");
  }
  return layout;
}

Filter make_where_filter(const std::string& expression, const RecordLayout& layout,
                         const std::vector<std::string>& header, BackendKind backend, bool header_declared) {
  CompileOptions options;
  if (backend == BackendKind::sockmap) options.bpf_hosts = {"sk_msg_filter"};
  options.verbose = std::getenv("SLUICE_VERBOSE_COMPILE") != nullptr;
  return compile_where_filter(expression,
                              WhereOptions{layout.delimiter, header, layout.format, layout.schema, header_declared},
                              options);
}

Filter make_user_filter(const std::string& path, BackendKind backend) {
  CompileOptions options;
  options.bpf_hosts = {"xdp_record"};
  if (backend == BackendKind::sockmap) options.bpf_hosts.push_back("sk_msg_filter");
  options.verbose = std::getenv("SLUICE_VERBOSE_COMPILE") != nullptr;
  Filter filter = compile_user_filter(path, options);
  // The verifier proves the BPF build terminates and stays in bounds; the native build is the
  // same source, so this is checked before it runs in any backend.
  try {
    LoadedFilterObject check("xdp_record", filter);
  } catch (const BpfLoadError& e) {
    if (e.verifier_log().empty() && std::string_view(e.what()).find("permission denied") != std::string_view::npos) {
      std::cerr << "sluice: warning: " << path << " was not verified by the kernel (" << e.what()
                << "); running it unverified\n";
      return filter;
    }
    throw;
  }
  return filter;
}

namespace {

constexpr const char* kSynopsis =
    "usage: sluice verify FILTER.c\n"
    "       sluice verify --where EXPR [-d C] [--header-from FILE] [--format F [--schema S]]\n"
    "\n"
    "Compiles the filter for every BPF host (xdp_record, sk_msg_filter) and loads it into the\n"
    "kernel without attaching it. Prints, per host, whether the verifier accepts it, the\n"
    "instructions it processed and the program's size; for a rejection, the verifier's reason\n"
    "and the source line. Exit status: 0 if every host loads it, 2 otherwise.\n";

struct ProgramSize {
  std::uint32_t xlated = 0;
  std::uint32_t jited = 0;
};

ProgramSize program_size(const LoadedFilterObject& object) {
  ProgramSize size;
  bpf_program* prog = bpf_object__next_program(object.object(), nullptr);
  if (!prog) return size;
  bpf_prog_info info{};
  std::uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0) {
    size.xlated = info.xlated_prog_len;
    size.jited = info.jited_prog_len;
  }
  return size;
}

}  // namespace

int verify_command(const std::vector<std::string>& args) {
  po::options_description opts("Options");
  opts.add_options()
      ("where", po::value<std::string>(), "verify a --where expression instead of a C file")
      ("delimiter,d", po::value<std::string>()->default_value(","), "--where: field delimiter (one byte, \\t for TSV)")
      ("header-from", po::value<std::string>(), "--where: take column names for col() from this file's first line")
      ("format", po::value<std::string>()->default_value("lines"), "--where: record format (lines, csv, tsv, jsonl, binary)")
      ("schema", po::value<std::string>(), "--where with --format binary: the record's fields")
      ("help,h", "show this help");
  po::options_description hidden;
  hidden.add_options()("positional", po::value<std::vector<std::string>>(), "");
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description positional;
  positional.add("positional", -1);
  std::optional<Filter> filter;
  std::string label;
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << kSynopsis << '\n' << opts;
      return 0;
    }
    std::vector<std::string> rest;
    if (vm.count("positional")) rest = vm["positional"].as<std::vector<std::string>>();
    if (vm.count("where")) {
      if (!rest.empty()) throw UsageError("give either FILTER.c or --where EXPR, not both");
      std::string d = vm["delimiter"].as<std::string>();
      if (d == "\\t" || d == "tab") d = "\t";
      if (d.size() != 1) throw UsageError("--delimiter takes one character (or \\t)");
      std::vector<std::string> header;
      if (vm.count("header-from"))
        if (auto line = read_first_line(vm["header-from"].as<std::string>())) header = expr::split_header(*line, d[0]);
      CompileOptions options;
      options.bpf_hosts = compiled_filter_hosts();
      std::string text = vm["where"].as<std::string>();
      label = "--where " + text;
      RecordLayout layout = parse_record_layout(vm["format"].as<std::string>(),
                                                vm.count("schema") ? vm["schema"].as<std::string>() : "",
                                                vm["delimiter"].defaulted() ? std::nullopt : std::optional(d[0]));
      try {
        filter.emplace(
            compile_where_filter(
                text, WhereOptions{layout.delimiter, header, layout.format, layout.schema, vm.count("header-from") > 0},
                options));
      } catch (const expr::ParseError& e) {
        std::cerr << "sluice verify: --where: " << e.what() << "\n";
        return kExitError;
      }
    } else {
      if (rest.size() != 1) throw UsageError("give one filter file (FILTER.c) or --where EXPR");
      CompileOptions options;
      options.bpf_hosts = compiled_filter_hosts();
      label = rest[0];
      filter.emplace(compile_user_filter(rest[0], options));
    }
  } catch (const po::error& e) {
    std::cerr << "sluice verify: " << e.what() << "\n" << kSynopsis;
    return kExitError;
  } catch (const Error& e) {
    std::cerr << "sluice verify: " << e.what() << "\n";
    return kExitError;
  }

  std::cout << "filter      " << label << "\n"
            << "name        " << filter->name() << " (parameters " << filter->params().size() << " bytes";
  if (!filter->required_literal().empty())
    std::cout << ", required literal \"" << filter->required_literal() << "\"" << (filter->literal_is_exact() ? " (exact)" : "");
  std::cout << ")\n"
            << "cache       " << filter->compiled()->directory() << "\n";
  bool all_load = true;
  for (const std::string& host : compiled_filter_hosts()) {
    try {
      LoadedFilterObject object(host, *filter);
      const LoadInfo& info = object.load_info();
      ProgramSize size = program_size(object);
      char line[256];
      std::snprintf(line, sizeof line,
                    "%-14s loads: %llu instructions processed; program %u instructions (%u bytes), JIT %u bytes; "
                    "verified in %.1f ms\n",
                    (host + ":").c_str(), static_cast<unsigned long long>(info.verified_instructions),
                    size.xlated / 8, size.xlated, size.jited, info.load_seconds * 1000);
      std::cout << line;
    } catch (const BpfLoadError& e) {
      all_load = false;
      std::cout << host << ": REJECTED: " << e.what() << "\n";
    } catch (const Error& e) {
      all_load = false;
      std::cout << host << ": FAILED: " << e.what() << "\n";
    }
  }
  std::cout.flush();
  return all_load ? kExitMatch : kExitError;
}

}  // namespace sluice::cli
