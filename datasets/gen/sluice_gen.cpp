// sluice-gen: deterministic synthetic delimited records with exact, known filter results.
// Usage and guarantees: datasets/README.md (or sluice-gen --help).
//
// Exit status: 0 success, 1 output/I-O failure, 2 bad arguments, 3 internal error.
#include "generator.hpp"

#include <boost/program_options.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace po = boost::program_options;
namespace ds = sluice::datasets;

namespace {

constexpr int kExitOutput = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInternal = 3;

// Everything an option or a preset can set; unset means "not given".
struct Settings {
  std::optional<std::string> seed, records, size, record_length, min_length, max_length, delimiter,
      literal, selectivity, value_min, value_max, value_threshold, value_fraction, long_records,
      long_length;
  std::optional<bool> header, crlf, no_trailing_newline, nul_bytes, allow_negative;
};

const std::map<std::string, Settings>& presets() {
  static const std::map<std::string, Settings> p = [] {
    std::map<std::string, Settings> m;
    {
      Settings s;
      s.records = "10000";
      m["small"] = s;
    }
    {
      Settings s;
      s.records = "20000";
      s.crlf = false;
      s.long_records = "3";
      s.long_length = "70000";
      s.nul_bytes = true;
      s.no_trailing_newline = true;
      m["edge"] = s;
    }
    for (const auto& [name, size] : {std::pair{"bench-1g", "1G"}, std::pair{"bench-256m", "256M"}}) {
      Settings s;
      s.size = size;
      s.record_length = "100";
      s.literal = "XQZSLUICE";
      s.selectivity = "1%";
      s.value_threshold = "989999";
      s.value_fraction = "1%";
      m[name] = s;
    }
    return m;
  }();
  return p;
}

std::string preset_names() {
  std::string s;
  for (const auto& [name, _] : presets()) s += (s.empty() ? "" : ", ") + name;
  return s;
}

bool parse_bool(const std::string& v, const std::string& what) {
  std::string l;
  for (char c : v) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (l == "1" || l == "true" || l == "yes" || l == "on") return true;
  if (l == "0" || l == "false" || l == "no" || l == "off") return false;
  throw ds::UsageError(what + "='" + v + "': expected true/false, yes/no, on/off or 1/0");
}

template <class T>
void take(std::optional<T>& dst, const std::optional<T>& explicit_value, const std::optional<T>& preset_value) {
  if (explicit_value) dst = explicit_value;
  else if (preset_value) dst = preset_value;
}

std::string human_bytes(std::uint64_t b) {
  char buf[64];
  const double d = static_cast<double>(b);
  if (b >= (std::uint64_t{1} << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", d / (1 << 30));
  else if (b >= (std::uint64_t{1} << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", d / (1 << 20));
  else if (b >= 1024) std::snprintf(buf, sizeof buf, "%.2f KiB", d / 1024);
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  return buf;
}

std::string describe_byte(char c) {
  if (c == '\t') return "tab";
  if (c == ' ') return "space";
  return std::string("'") + c + "'";
}

}  // namespace

int main(int argc, char** argv) {
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);

  po::options_description general("General");
  general.add_options()
      ("help,h", "show this help and exit")
      ("preset", po::value<std::string>()->value_name("NAME"),
       "defaults for a named data set: small, edge, bench-1g, bench-256m (explicit options win)")
      ("output,o", po::value<std::string>()->value_name("FILE"), "write the records to FILE ('-' = stdout, the default)")
      ("expect", po::value<std::string>()->value_name("FILE"), "write the expected results as JSON to FILE")
      ("print-count", "print literal_records alone on stdout (needs --output FILE)")
      ("quiet,q", "no summary on stderr")
      ("seed", po::value<std::string>()->value_name("S"), "random seed, unsigned 64-bit (default 1)");
  po::options_description shape("Size and shape");
  shape.add_options()
      ("records", po::value<std::string>()->value_name("N"), "generate exactly N records")
      ("size", po::value<std::string>()->value_name("BYTES"),
       "generate records until the output reaches at least BYTES (suffix K, M, G = KiB, MiB, GiB)")
      ("record-length", po::value<std::string>()->value_name("L"),
       "target record length incl. terminator (default 100)")
      ("min-length", po::value<std::string>()->value_name("A"), "uniform record lengths in [A, B] (with --max-length)")
      ("max-length", po::value<std::string>()->value_name("B"), "see --min-length")
      ("delimiter", po::value<std::string>()->value_name("C"), "column delimiter: one character, '\\t' or 'tab' (default ',')")
      ("header", po::value<std::string>()->implicit_value("true")->value_name("BOOL"),
       "first line is id,key,value,price,text (not a record)")
      ("crlf", po::value<std::string>()->implicit_value("true")->value_name("BOOL"), "terminate records with CR LF")
      ("no-trailing-newline", po::value<std::string>()->implicit_value("true")->value_name("BOOL"),
       "the last record has no terminator")
      ("nul-bytes", po::value<std::string>()->implicit_value("true")->value_name("BOOL"),
       "NUL bytes in the text column of ~1/8 of the records")
      ("long-records", po::value<std::string>()->value_name("K"), "K records (random positions) are --long-length bytes")
      ("long-length", po::value<std::string>()->value_name("L"), "length of the long records (default 200000; K/M/G ok)");
  po::options_description content("Content");
  content.add_options()
      ("literal", po::value<std::string>()->value_name("STR"), "the string to find (default XQZSLUICE)")
      ("selectivity", po::value<std::string>()->value_name("F"),
       "fraction of records containing the literal, 0..1 or N% (default 1%); exact: round(F*N)")
      ("value-min", po::value<std::string>()->value_name("A"), "smallest value (default 0)")
      ("value-max", po::value<std::string>()->value_name("B"), "largest value (default 999999)")
      ("value-threshold", po::value<std::string>()->value_name("T"), "report how many values are > T")
      ("value-fraction", po::value<std::string>()->value_name("F"),
       "exactly round(F*N) values are > T, uniform in (T, max]; the rest uniform in [min, T]")
      ("allow-negative", po::value<std::string>()->implicit_value("true")->value_name("BOOL"),
       "prices in [-99999.99, 99999.99] instead of [0, 99999.99]");
  po::options_description all("sluice-gen: deterministic synthetic records (id,key,value,price,text) with exact expected "
                              "filter results\n\nUsage: sluice-gen [--preset NAME] (--records N | --size BYTES) "
                              "[options] [-o FILE] [--expect FILE]");
  all.add(general).add(shape).add(content);

  try {
    po::variables_map vm;
    const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    const po::positional_options_description no_positionals;  // stray words are errors
    po::store(po::command_line_parser(argc, argv).options(all).positional(no_positionals).style(style).run(),
              vm);
    po::notify(vm);

    if (vm.count("help")) {
      std::cout << all << "\nPresets: " << preset_names()
                << "\nExit status: 0 ok, 1 output error, 2 bad arguments, 3 internal error.\n"
                << "Details: datasets/README.md\n";
      return 0;
    }

    auto str = [&](const char* name) -> std::optional<std::string> {
      if (vm.count(name)) return vm[name].as<std::string>();
      return std::nullopt;
    };
    auto flag = [&](const char* name) -> std::optional<bool> {
      if (vm.count(name)) return parse_bool(vm[name].as<std::string>(), std::string("--") + name);
      return std::nullopt;
    };

    Settings given;
    given.seed = str("seed");
    given.records = str("records");
    given.size = str("size");
    given.record_length = str("record-length");
    given.min_length = str("min-length");
    given.max_length = str("max-length");
    given.delimiter = str("delimiter");
    given.literal = str("literal");
    given.selectivity = str("selectivity");
    given.value_min = str("value-min");
    given.value_max = str("value-max");
    given.value_threshold = str("value-threshold");
    given.value_fraction = str("value-fraction");
    given.long_records = str("long-records");
    given.long_length = str("long-length");
    given.header = flag("header");
    given.crlf = flag("crlf");
    given.no_trailing_newline = flag("no-trailing-newline");
    given.nul_bytes = flag("nul-bytes");
    given.allow_negative = flag("allow-negative");

    Settings preset;
    std::string preset_name;
    if (auto p = str("preset")) {
      preset_name = *p;
      const auto it = presets().find(*p);
      if (it == presets().end())
        throw ds::UsageError("--preset '" + *p + "': unknown (known: " + preset_names() + ")");
      preset = it->second;
    }
    // Groups: an explicit size replaces the preset's size, explicit lengths its lengths.
    if (given.records || given.size) preset.records.reset(), preset.size.reset();
    if (given.record_length || given.min_length || given.max_length)
      preset.record_length.reset(), preset.min_length.reset(), preset.max_length.reset();
    if (given.record_length && (given.min_length || given.max_length))
      throw ds::UsageError("--record-length cannot be combined with --min-length/--max-length");
    if (given.min_length.has_value() != given.max_length.has_value())
      throw ds::UsageError("--min-length and --max-length go together");

    Settings s;
    take(s.seed, given.seed, preset.seed);
    take(s.records, given.records, preset.records);
    take(s.size, given.size, preset.size);
    take(s.record_length, given.record_length, preset.record_length);
    take(s.min_length, given.min_length, preset.min_length);
    take(s.max_length, given.max_length, preset.max_length);
    take(s.delimiter, given.delimiter, preset.delimiter);
    take(s.literal, given.literal, preset.literal);
    take(s.selectivity, given.selectivity, preset.selectivity);
    take(s.value_min, given.value_min, preset.value_min);
    take(s.value_max, given.value_max, preset.value_max);
    take(s.value_threshold, given.value_threshold, preset.value_threshold);
    take(s.value_fraction, given.value_fraction, preset.value_fraction);
    take(s.long_records, given.long_records, preset.long_records);
    take(s.long_length, given.long_length, preset.long_length);
    take(s.header, given.header, preset.header);
    take(s.crlf, given.crlf, preset.crlf);
    take(s.no_trailing_newline, given.no_trailing_newline, preset.no_trailing_newline);
    take(s.nul_bytes, given.nul_bytes, preset.nul_bytes);
    take(s.allow_negative, given.allow_negative, preset.allow_negative);

    if (s.records && s.size) throw ds::UsageError("give only one of --records and --size");
    if (!s.records && !s.size)
      throw ds::UsageError("nothing to generate: give --records N, --size BYTES or --preset NAME");

    ds::GenOptions o;
    if (s.seed) o.seed = ds::parse_u64(*s.seed, "--seed");
    if (s.records) o.records = ds::parse_u64(*s.records, "--records");
    if (s.size) o.size = ds::parse_size(*s.size, "--size");
    if (s.record_length) o.min_length = o.max_length = ds::parse_size(*s.record_length, "--record-length");
    if (s.min_length) o.min_length = ds::parse_size(*s.min_length, "--min-length");
    if (s.max_length) o.max_length = ds::parse_size(*s.max_length, "--max-length");
    if (s.delimiter) o.delimiter = ds::parse_delimiter(*s.delimiter);
    if (s.literal) o.literal = *s.literal;
    if (s.selectivity) o.literal_selectivity = ds::parse_fraction(*s.selectivity, "--selectivity");
    if (s.value_min) o.value_min = ds::parse_i64(*s.value_min, "--value-min");
    if (s.value_max) o.value_max = ds::parse_i64(*s.value_max, "--value-max");
    if (s.value_threshold) o.value_threshold = ds::parse_i64(*s.value_threshold, "--value-threshold");
    if (s.value_fraction) o.value_fraction = ds::parse_fraction(*s.value_fraction, "--value-fraction");
    if (s.long_records) o.long_records = ds::parse_u64(*s.long_records, "--long-records");
    if (s.long_length) o.long_length = ds::parse_size(*s.long_length, "--long-length");
    o.header = s.header.value_or(false);
    o.crlf = s.crlf.value_or(false);
    o.trailing_newline = !s.no_trailing_newline.value_or(false);
    o.nul_bytes = s.nul_bytes.value_or(false);
    o.allow_negative = s.allow_negative.value_or(false);

    const std::string output = str("output").value_or("-");
    const bool to_stdout = output == "-";
    const bool print_count = vm.count("print-count") > 0;
    const bool quiet = vm.count("quiet") > 0;
    if (print_count && to_stdout)
      throw ds::UsageError("--print-count needs --output FILE (stdout carries the records)");
    if (to_stdout && ::isatty(STDOUT_FILENO))
      throw ds::UsageError("refusing to write records to a terminal: use --output FILE or redirect stdout");

    // Everything that can be rejected is rejected before any file is touched.
    const std::uint64_t planned = ds::plan_record_count(o);

    // The small --expect file first: a failure then leaves the data file untouched.
    std::ofstream expect_file;
    const auto expect_path = str("expect");
    if (expect_path) {
      expect_file.open(*expect_path, std::ios::out | std::ios::trunc);
      if (!expect_file)
        throw ds::UsageError("--expect '" + *expect_path + "': cannot open for writing: " + std::strerror(errno));
    }
    int fd = STDOUT_FILENO;
    if (!to_stdout) {
      fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0)
        throw ds::UsageError("--output '" + output + "': cannot open for writing: " + std::strerror(errno));
    }

    const auto t0 = std::chrono::steady_clock::now();
    ds::FdSink sink(fd, to_stdout ? std::string("stdout") : output);
    const ds::GenResult r = ds::generate(o, sink);
    if (!to_stdout) {
      if (::close(fd) != 0)
        throw ds::OutputError("closing " + output + ": " + std::strerror(errno));
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.records != planned) throw std::logic_error("record count differs from the plan");

    if (expect_path) {
      expect_file << ds::expectations_json(o, r, command);
      expect_file.close();
      if (!expect_file) throw ds::OutputError("writing " + *expect_path + " failed");
    }

    if (!quiet) {
      std::ostringstream m;
      m << "sluice-gen: wrote " << r.bytes << " bytes (" << human_bytes(r.bytes) << "), " << r.records
        << " records to " << (to_stdout ? std::string("stdout") : output) << " in ";
      char t[64];
      std::snprintf(t, sizeof t, "%.2f s (%.0f MiB/s)\n", secs, secs > 0 ? r.bytes / secs / (1 << 20) : 0.0);
      m << t;
      if (o.size) m << "  --size " << *o.size << " requested; actual size " << r.bytes << " bytes\n";
      if (!preset_name.empty()) m << "  preset " << preset_name << "\n";
      m << "  seed " << o.seed << ", delimiter " << describe_byte(o.delimiter) << ", terminator "
        << (o.crlf ? "CRLF" : "LF") << (o.trailing_newline ? "" : " (none after the last record)")
        << ", header " << (o.header ? "yes" : "no") << "\n";
      m << "  record length ";
      if (o.min_length == o.max_length) m << o.min_length;
      else m << o.min_length << ".." << o.max_length;
      m << " (actual " << r.min_record_bytes << ".." << r.max_record_bytes << ")\n";
      char pct[32];
      std::snprintf(pct, sizeof pct, "%.4f%%", r.records ? 100.0 * r.literal_records / r.records : 0.0);
      m << "  literal \"" << ds::json_escape(o.literal) << "\": " << r.literal_records << " records (" << pct
        << "), " << r.literal_bytes << " bytes\n";
      m << "  value in [" << o.value_min << ", " << o.value_max << "]";
      if (r.has_threshold) m << "; value > " << r.value_threshold << ": " << r.value_gt_records << " records";
      m << "\n";
      m << "  long records: " << r.long_records;
      if (r.long_records) m << " (" << o.long_length << " bytes)";
      m << "; records with NUL bytes: " << r.nul_records << "\n";
      if (expect_path) m << "  expected results: " << *expect_path << "\n";
      std::cerr << m.str();
    }
    if (print_count) std::cout << r.literal_records << "\n" << std::flush;
    return 0;
  } catch (const po::too_many_positional_options_error&) {
    std::cerr << "sluice-gen: unexpected argument (every setting is an --option; see --help)\n";
    return kExitUsage;
  } catch (const po::error& e) {
    std::cerr << "sluice-gen: " << e.what() << " (see --help)\n";
    return kExitUsage;
  } catch (const ds::UsageError& e) {
    std::cerr << "sluice-gen: " << e.what() << "\n";
    return kExitUsage;
  } catch (const ds::OutputError& e) {
    std::cerr << "sluice-gen: " << e.what() << "\n";
    return kExitOutput;
  } catch (const std::bad_alloc&) {
    std::cerr << "sluice-gen: out of memory\n";
    return kExitOutput;
  } catch (const std::exception& e) {
    std::cerr << "sluice-gen: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}
