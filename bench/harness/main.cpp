// sluice-bench: runs an experiment matrix of sluice backends and peer tools over generated
// data sets and writes self-describing CSV and JSON results. docs/benchmarking.md is the manual.
//
// Every subject, sluice included, runs as a child process (`sh -c 'exec CMD'`) and is
// measured the same way (runner.hpp). Subjects of one matrix cell run interleaved in rounds
// (A B C, A B C, ...), each round in a fresh random order drawn from a recorded seed, after
// warm-up rounds; ratios compare runs of the same round.
#include "columns.hpp"
#include "dataset.hpp"
#include "json.hpp"
#include "metadata.hpp"
#include "pagecache.hpp"
#include "runner.hpp"
#include "subjects.hpp"
#include "util.hpp"

#include <sluice/bpf_program.hpp>
#include <sluice/error.hpp>
#include <sluice/filter.hpp>
#include <sluice/scanner.hpp>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <boost/program_options.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#ifndef SLUICE_BENCH_SOURCE_DIR
#define SLUICE_BENCH_SOURCE_DIR "."
#endif
#ifndef SLUICE_BENCH_VERSION
#define SLUICE_BENCH_VERSION "0"
#endif

namespace po = boost::program_options;
namespace ds = sluice::datasets;

namespace sluice::bench {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitSluiceWrong = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInternal = 3;

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  std::string out_dir;
  std::string work_dir;
  std::vector<std::string> backends;
  std::string peers;
  std::vector<std::string> filters;
  std::string literal;
  std::string common_literal;
  std::vector<std::string> selectivities;
  std::vector<std::uint64_t> record_sizes;
  std::vector<std::uint64_t> file_sizes;
  std::vector<std::string> caches;
  std::vector<unsigned> threads;
  unsigned reps = 5;
  unsigned warmup = 1;
  std::uint64_t seed = 0;
  std::uint64_t data_seed = 1;
  std::vector<std::string> references;
  std::string sluice;
  std::string spawner;
  std::string peers_file;
  std::string peers_dir;
  std::string node_modules;
  std::vector<std::string> extra_peers;
  bool keep_data = false;
  bool reuse_data = false;
  bool progress = true;
  bool dry_run = false;
  double timeout = 600;
  std::string bpf_stats = "auto";
  unsigned column = 3;
  std::int64_t threshold = 989999;
  std::string command_line;
};

std::string self_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<std::size_t>(n));
  return p.substr(0, p.rfind('/'));
}

std::vector<std::string> list_option(const po::variables_map& vm, const char* name) {
  std::vector<std::string> out;
  for (const std::string& item : vm[name].as<std::vector<std::string>>())
    for (std::string& part : split(item, ',')) out.push_back(std::move(part));
  return out;
}

constexpr const char* kUsage =
    "usage: sluice-bench --out DIR [matrix options] [options]\n"
    "\n"
    "Runs every (backend or peer) x filter x selectivity x record size x file size x cache state\n"
    "x threads combination over generated data and writes DIR/runs.csv, DIR/summary.csv,\n"
    "DIR/metadata.csv and DIR/results.json. Lists take commas or repeated options.\n"
    "See docs/benchmarking.md.\n";

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  po::options_description matrix("Matrix");
  matrix.add_options()
      ("backends", po::value<std::vector<std::string>>()->default_value({"read,uring,mmap,uring+direct"}, "read,uring,mmap,uring+direct"),
       "sluice backends (any name `sluice scan -b` accepts; NAME+direct adds --direct, NAME+stats --stats); 'none' for peers only")
      ("peers", po::value<std::string>()->default_value("all"), "peers to run: all, none, or a comma list of names")
      ("filters", po::value<std::vector<std::string>>()->default_value({"literal,literal-common,column"}, "literal,literal-common,column"),
       "literal (rare-byte needle), literal-common (common-bytes needle), column (column > threshold)")
      ("literal", po::value<std::string>()->default_value("#sluice#"),
       "needle of the literal filter: its first and last byte occur nowhere else in the data")
      ("common-literal", po::value<std::string>()->default_value("sluice"),
       "needle of the literal-common filter: lowercase letters, common in the data")
      ("selectivity", po::value<std::vector<std::string>>()->default_value({"0.1%,1%,10%,50%,100%"}, "0.1%,1%,10%,50%,100%"),
       "fractions of matching records (sluice-gen syntax: 1% or 0.01)")
      ("record-sizes", po::value<std::vector<std::string>>()->default_value({"100"}, "100"), "bytes per record")
      ("file-sizes", po::value<std::vector<std::string>>()->default_value({"256M"}, "256M"), "data set sizes (K/M/G = 2^10/2^20/2^30)")
      ("cache", po::value<std::vector<std::string>>()->default_value({"warm"}, "warm"), "warm, cold and/or direct")
      ("threads", po::value<std::vector<std::string>>()->default_value({"1"}, "1"),
       "concurrent processes per run, each on its own shard of the data");
  po::options_description run("Running");
  run.add_options()
      ("out,o", po::value<std::string>(), "results directory (created)")
      ("work-dir", po::value<std::string>(), "where data sets are generated (default OUT/data; must not be tmpfs for cold/direct)")
      ("reps,r", po::value<unsigned>()->default_value(5), "measured rounds per cell")
      ("warmup", po::value<unsigned>()->default_value(1), "warm-up rounds per cell (not summarised)")
      ("seed", po::value<std::uint64_t>(), "seed of the run order (default: random, recorded)")
      ("data-seed", po::value<std::uint64_t>()->default_value(1), "generator seed (shard i uses seed + i)")
      ("reference", po::value<std::string>()->default_value("sluice:read,sluice:uring+direct,dd"),
       "ratio reference: first of these subjects that ran correctly in a cell")
      ("sluice", po::value<std::string>(), "sluice CLI (default: next to sluice-bench)")
      ("peers-file", po::value<std::string>(), "subject table (default: bench/peers/peers.tsv of the source tree)")
      ("node-modules", po::value<std::string>(), "node_modules with @duckdb/node-api (default: BINDIR/peers/node_modules)")
      ("extra-peer", po::value<std::vector<std::string>>()->composing(), "NAME[:FILTERS]=COMMAND: one more peer (repeatable)")
      ("timeout", po::value<double>()->default_value(600), "seconds before a run is killed")
      ("keep-data", po::bool_switch(), "keep the generated data sets")
      ("reuse-data", po::bool_switch(), "reuse identical data sets left by --keep-data (verified by cksum); implies --keep-data")
      ("bpf-stats", po::value<std::string>()->default_value("auto"),
       "hold BPF_ENABLE_STATS during the runs: auto (when a non-user-space backend runs), on, off")
      ("no-progress", po::bool_switch(), "no progress line on stderr")
      ("dry-run", po::bool_switch(), "print the plan and exit")
      ("list-columns", "print the documented CSV columns (Markdown) and exit")
      ("list-subjects", "print the subject table with availability and exit")
      ("help,h", "show this help");
  po::options_description all;
  all.add(matrix).add(run);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << matrix << '\n' << run;
    return std::nullopt;
  }
  if (vm.count("list-columns")) {
    std::cout << columns_markdown();
    return std::nullopt;
  }
  for (int i = 0; i < argc; ++i) o.command_line += (i ? " " : "") + shell_quote(argv[i]);

  o.backends = list_option(vm, "backends");
  if (o.backends.size() == 1 && o.backends[0] == "none") o.backends.clear();
  o.peers = vm["peers"].as<std::string>();
  o.filters = list_option(vm, "filters");
  o.literal = vm["literal"].as<std::string>();
  o.common_literal = vm["common-literal"].as<std::string>();
  o.selectivities = list_option(vm, "selectivity");
  for (const auto& s : list_option(vm, "record-sizes")) o.record_sizes.push_back(ds::parse_size(s, "--record-sizes"));
  for (const auto& s : list_option(vm, "file-sizes")) o.file_sizes.push_back(ds::parse_size(s, "--file-sizes"));
  o.caches = list_option(vm, "cache");
  for (const auto& s : list_option(vm, "threads")) {
    std::uint64_t t = ds::parse_u64(s, "--threads");
    if (t < 1 || t > 256) throw BenchUsageError("--threads must be 1..256");
    o.threads.push_back(static_cast<unsigned>(t));
  }
  o.reps = vm["reps"].as<unsigned>();
  o.warmup = vm["warmup"].as<unsigned>();
  if (o.reps < 1) throw BenchUsageError("--reps must be at least 1");
  if (vm.count("seed")) {
    o.seed = vm["seed"].as<std::uint64_t>();
  } else {
    std::random_device rd;
    o.seed = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }
  o.data_seed = vm["data-seed"].as<std::uint64_t>();
  o.references = split(vm["reference"].as<std::string>(), ',');
  std::string bindir = self_dir();
  o.sluice = vm.count("sluice") ? vm["sluice"].as<std::string>() : bindir + "/sluice";
  o.spawner = bindir + "/sluice-bench-spawn";
  o.peers_file = vm.count("peers-file") ? vm["peers-file"].as<std::string>()
                                        : std::string(SLUICE_BENCH_SOURCE_DIR) + "/bench/peers/peers.tsv";
  o.peers_dir = o.peers_file.substr(0, o.peers_file.rfind('/') == std::string::npos ? 0 : o.peers_file.rfind('/'));
  if (o.peers_dir.empty()) o.peers_dir = ".";
  o.node_modules = vm.count("node-modules") ? vm["node-modules"].as<std::string>() : bindir + "/peers/node_modules";
  if (vm.count("extra-peer")) o.extra_peers = vm["extra-peer"].as<std::vector<std::string>>();
  o.timeout = vm["timeout"].as<double>();
  o.reuse_data = vm["reuse-data"].as<bool>();
  o.keep_data = vm["keep-data"].as<bool>() || o.reuse_data;
  o.progress = !vm["no-progress"].as<bool>();
  o.dry_run = vm["dry-run"].as<bool>();
  o.bpf_stats = vm["bpf-stats"].as<std::string>();
  if (o.bpf_stats != "auto" && o.bpf_stats != "on" && o.bpf_stats != "off")
    throw BenchUsageError("--bpf-stats takes auto, on or off");
  if (vm.count("list-subjects")) {
    o.out_dir = "";  // marker: list and exit (handled by the caller)
    o.dry_run = true;
    o.command_line = "--list-subjects";
    return o;
  }
  if (!vm.count("out")) throw BenchUsageError("--out DIR is required");
  o.out_dir = vm["out"].as<std::string>();
  o.work_dir = vm.count("work-dir") ? vm["work-dir"].as<std::string>() : o.out_dir + "/data";
  for (const auto& c : o.caches)
    if (c != "warm" && c != "cold" && c != "direct") throw BenchUsageError("--cache takes warm, cold or direct, not '" + c + "'");
  for (const auto& r : o.record_sizes)
    if (r < 48) throw BenchUsageError("--record-sizes: records of fewer than 48 bytes cannot hold the data format");
  return o;
}

// ---------------------------------------------------------------------------------------------
// Filters, subjects, plan

struct FilterDef {
  std::string name;     // literal, literal-common, column
  std::string kind;     // literal | column
  std::string needle;   // literal searched (literal kinds) / planted literal of the data set (column)
  unsigned column = 0;
  std::int64_t threshold = 0;
  // Verifier cost of the filter's BPF build (xdp_record host), measured once here.
  bool cost_known = false;
  std::uint64_t verified_insns = 0;
  std::uint32_t prog_insns = 0;
  double load_ms = 0;
  std::string cost_error;

  sluice::FilterSpec spec() const {
    if (kind == "literal") return sluice::FixedStringSpec{{needle}, false, false};
    sluice::ColumnCompareSpec c;
    c.column = column;
    c.op = sluice::CompareOp::gt;
    c.type = sluice::ValueType::integer;
    c.value = std::to_string(threshold);
    c.delimiter = ',';
    return c;
  }
};

struct Subject {
  std::string name;          // sluice:read, grep-F, ...
  std::string kind;          // sluice | peer
  std::string backend;       // sluice backend spec
  std::string backend_args;  // -b read [--direct]
  std::string mode;
  bool direct = false;
  std::vector<const SubjectTemplate*> templates;
  std::string unavailable;   // why it cannot run at all here

  const SubjectTemplate* for_filter(const std::string& filter) const {
    for (const SubjectTemplate* t : templates)
      if (t->implements(filter)) return t;
    return nullptr;
  }
};

bool user_space_backend(const std::string& base) {
  return base == "read" || base == "uring" || base == "mmap" || base == "auto";
}

std::string backend_mode(const std::string& base, bool direct) {
  std::string m = base == "uring" ? "io_uring" : base;
  return direct ? m + ",O_DIRECT" : m;
}

struct Cell {
  std::string id;
  std::size_t dataset = 0;       // index into the plan's dataset specs
  const FilterDef* filter = nullptr;
  std::string cache;
  unsigned threads = 1;
  std::vector<const Subject*> active;
  std::vector<std::pair<const Subject*, std::string>> skipped;
};

struct Plan {
  std::vector<FilterDef> filters;
  std::vector<Subject> subjects;
  std::vector<DatasetSpec> datasets;
  std::vector<Cell> cells;
  std::vector<SubjectTemplate> table;
  std::vector<std::string> notes;
  std::size_t total_runs = 0;
};

// splitmix64: the run order must not depend on the standard library's shuffle.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[next() % i]);
  }
};

Plan make_plan(const Options& o) {
  Plan p;
  p.table = load_subject_table(o.peers_file);
  for (const std::string& spec : o.extra_peers) p.table.push_back(parse_extra_peer(spec));

  // Filters.
  std::set<std::string> seen;
  for (const std::string& f : o.filters) {
    if (!seen.insert(f).second) continue;
    FilterDef d;
    d.name = f;
    if (f == "literal") {
      d.kind = "literal";
      d.needle = o.literal;
    } else if (f == "literal-common") {
      d.kind = "literal";
      d.needle = o.common_literal;
    } else if (f == "column") {
      d.kind = "column";
      d.needle = o.literal;
      d.column = o.column;
      d.threshold = o.threshold;
    } else {
      throw BenchUsageError("--filters: unknown filter '" + f + "' (literal, literal-common, column)");
    }
    p.filters.push_back(d);
  }
  if (p.filters.empty()) throw BenchUsageError("--filters: nothing to run");

  // Subjects: sluice backends first, then peers in table order.
  std::vector<const SubjectTemplate*> sluice_rows;
  for (const auto& t : p.table)
    if (t.name == "sluice") sluice_rows.push_back(&t);
  std::set<std::string> names;
  for (const std::string& b : o.backends) {
    // BASE[+direct][+stats]: --direct (O_DIRECT), --stats (the CLI then also collects BPF run
    // statistics, and counts every input record: slower, so not for speed comparisons).
    std::vector<std::string> parts = split(b, '+');
    if (parts.empty()) throw BenchUsageError("--backends: empty backend name");
    std::string base = parts[0];
    bool direct = false, stats = false;
    for (std::size_t i = 1; i < parts.size(); ++i) {
      if (parts[i] == "direct") direct = true;
      else if (parts[i] == "stats") stats = true;
      else throw BenchUsageError("--backends: unknown modifier '+" + parts[i] + "' in " + b + " (+direct, +stats)");
    }
    try {
      sluice::parse_backend(base);  // whatever libsluice accepts is a matrix value
    } catch (const sluice::Error& e) {
      throw BenchUsageError(std::string("--backends: ") + e.what());
    }
    Subject s;
    s.name = "sluice:" + b;
    if (!names.insert(s.name).second) continue;
    s.kind = "sluice";
    s.backend = b;
    s.backend_args = "-b " + shell_quote(base) + (direct ? " --direct" : "") + (stats ? " --stats" : "");
    s.mode = backend_mode(base, direct) + (stats ? ",stats" : "");
    s.direct = direct;
    s.templates = sluice_rows;
    if (find_in_path(o.sluice).empty()) s.unavailable = "sluice CLI not found at " + o.sluice + " (use --sluice)";
    p.subjects.push_back(s);
  }
  std::set<std::string> wanted;
  bool all_peers = o.peers == "all";
  if (!all_peers && o.peers != "none")
    for (const auto& n : split(o.peers, ',')) wanted.insert(n);
  std::set<std::string> known_peers;
  for (const auto& t : p.table) {
    if (t.name == "sluice") continue;
    known_peers.insert(t.name);
    bool extra = t.origin == "--extra-peer";
    if (!extra && !all_peers && !wanted.count(t.name)) continue;
    auto it = std::find_if(p.subjects.begin(), p.subjects.end(), [&](const Subject& s) { return s.name == t.name; });
    if (it != p.subjects.end()) {
      if (it->direct != t.direct) throw BenchUsageError(t.origin + ": rows of " + t.name + " disagree on direct");
      it->templates.push_back(&t);
      continue;
    }
    Subject s;
    s.name = t.name;
    s.kind = "peer";
    s.mode = t.mode;
    s.direct = t.direct;
    s.templates.push_back(&t);
    for (const std::string& need : t.needs) {
      if (starts_with(need, "npm:")) {
        std::string pkg = need.substr(4);
        if (npm_package_version(o.node_modules, pkg).empty() && s.unavailable.empty())
          s.unavailable = "npm package " + pkg + " is not installed in " + o.node_modules +
                          " (npm install --prefix " + o.node_modules.substr(0, o.node_modules.rfind('/')) + " " + pkg +
                          "; see docs/benchmarking.md)";
      } else if (find_in_path(need).empty() && s.unavailable.empty()) {
        s.unavailable = need + " is not installed (not in PATH)";
      }
    }
    p.subjects.push_back(s);
  }
  for (const auto& n : wanted)
    if (!known_peers.count(n)) throw BenchUsageError("--peers: no peer named '" + n + "' in " + o.peers_file);
  if (p.subjects.empty()) throw BenchUsageError("nothing to run: no backends and no peers");

  // Data sets and cells.
  std::vector<ds::Fraction> sels;
  for (const auto& s : o.selectivities) sels.push_back(ds::parse_fraction(s, "--selectivity"));
  std::vector<std::string> needles;
  for (const auto& f : p.filters)
    if (std::find(needles.begin(), needles.end(), f.needle) == needles.end()) needles.push_back(f.needle);
  for (const std::string& needle : needles) {
    for (const auto& sel : sels) {
      for (std::uint64_t rs : o.record_sizes) {
        for (std::uint64_t fs : o.file_sizes) {
          for (unsigned t : o.threads) {
            DatasetSpec d;
            d.needle = needle;
            d.selectivity = sel;
            d.record_size = rs;
            d.file_size = fs;
            d.shards = t;
            d.seed = o.data_seed;
            d.threshold = o.threshold;
            ds::validate(d.shard_options(0));  // a bad needle or size fails before anything runs
            std::size_t di = p.datasets.size();
            p.datasets.push_back(d);
            for (const auto& f : p.filters) {
              if (f.needle != needle) continue;
              for (const std::string& cache : o.caches) {
                Cell c;
                c.dataset = di;
                c.filter = &f;
                c.cache = cache;
                c.threads = t;
                c.id = f.name + "/" + d.id() + "/" + cache;
                for (const Subject& s : p.subjects) {
                  if (!s.for_filter(f.name)) continue;  // the tool cannot express this filter
                  if (!s.unavailable.empty()) c.skipped.emplace_back(&s, s.unavailable);
                  else if (cache == "direct" && !s.direct) c.skipped.emplace_back(&s, "no O_DIRECT mode (cache state 'direct' runs O_DIRECT subjects only)");
                  else if (cache != "direct" && s.direct) c.skipped.emplace_back(&s, "reads with O_DIRECT: runs in cache state 'direct' only");
                  else c.active.push_back(&s);
                }
                p.total_runs += c.active.size() * (o.reps + o.warmup);
                p.cells.push_back(std::move(c));
              }
            }
          }
        }
      }
    }
  }
  for (const Subject& s : p.subjects)
    if (s.direct && std::find(o.caches.begin(), o.caches.end(), "direct") == o.caches.end())
      p.notes.push_back(s.name + " reads with O_DIRECT and runs only with --cache direct");
  return p;
}

void measure_verifier_costs(Plan& p) {
  for (FilterDef& f : p.filters) {
    try {
      sluice::Filter filter = sluice::Filter::make(f.spec());
      sluice::XdpRecordProgram prog(filter);
      const sluice::LoadInfo& li = prog.load_info();
      f.cost_known = true;
      f.verified_insns = li.verified_instructions;
      f.prog_insns = li.program_instructions;
      f.load_ms = li.load_seconds * 1e3;
    } catch (const std::exception& e) {
      f.cost_error = e.what();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running and evaluating

struct RunRecord {
  std::size_t subject_index = 0;  // index in cell.active order of the plan's subject
  const Subject* subject = nullptr;
  bool warmup = false;
  unsigned round = 0;
  std::string status;
  std::optional<std::uint64_t> count;
  double wall = 0, user = 0, sys = 0, cpu_per_gb = 0, throughput = 0;
  double vcs = 0, ivcs = 0, rss = 0;
  double bytes_read = NAN, bytes_delivered = NAN, records_in = NAN, records_out = NAN;
  double rchar = NAN, read_bytes = NAN;
  double bpf_count = NAN, bpf_ns = NAN;
  double resident_fraction = NAN;
  Row row{run_columns()};
};

class Progress {
 public:
  Progress(std::size_t total, bool enabled) : total_(total), enabled_(enabled), tty_(::isatty(2)) {}
  void update(std::size_t done, const std::string& what) {
    if (!enabled_) return;
    double elapsed = seconds();
    double eta = done ? elapsed / static_cast<double>(done) * static_cast<double>(total_ - done) : NAN;
    int pct = total_ ? static_cast<int>(100 * done / total_) : 100;
    if (!tty_) {
      if (pct < next_pct_ && done != total_) return;
      next_pct_ = pct + 10;
    }
    constexpr int width = 24;
    int filled = total_ ? static_cast<int>(width * done / total_) : width;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    char line[512];
    std::snprintf(line, sizeof line, "[%s] %zu/%zu runs %3d%%  elapsed %s  ETA %s  %s", bar.c_str(), done, total_, pct,
                  human_duration(elapsed).c_str(), done ? human_duration(eta).c_str() : "?", what.c_str());
    if (tty_) {
      std::string l = line;
      if (l.size() > 150) l.resize(150);
      std::fprintf(stderr, "\r%-150s", l.c_str());
      if (done == total_) std::fputc('\n', stderr);
    } else {
      std::fprintf(stderr, "%s\n", line);
    }
    std::fflush(stderr);
  }
  void message(const std::string& text) {
    if (tty_ && enabled_) std::fprintf(stderr, "\r%-150s\r", "");
    std::fprintf(stderr, "sluice-bench: %s\n", text.c_str());
  }

 private:
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  std::size_t total_;
  bool enabled_, tty_;
  int next_pct_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

std::string tail(const std::string& s, std::size_t n) {
  std::string t = s.size() > n ? "..." + s.substr(s.size() - n) : s;
  for (char& c : t)
    if (c == '\n' || c == '\r') c = ' ';
  return trim(t);
}

std::optional<std::uint64_t> last_integer(const std::string& out) {
  std::size_t end = out.size();
  while (end > 0) {
    while (end > 0 && !std::isdigit(static_cast<unsigned char>(out[end - 1]))) --end;
    if (end == 0) break;
    std::size_t begin = end;
    while (begin > 0 && std::isdigit(static_cast<unsigned char>(out[begin - 1]))) --begin;
    return std::strtoull(out.substr(begin, end - begin).c_str(), nullptr, 10);
  }
  return std::nullopt;
}

struct Evaluated {
  std::string status = "ok";
  std::string error;
  std::optional<std::uint64_t> count;
  double bytes_read = NAN, bytes_delivered = NAN, records_in = NAN, records_out = NAN;
  double bpf_count = NAN, bpf_ns = NAN;
  int exit_code = 0;
};

void add(double& acc, std::optional<double> v) {
  if (!v) return;
  acc = std::isnan(acc) ? *v : acc + *v;
}

Evaluated evaluate(const GroupResult& g, const SubjectTemplate& t, std::uint64_t expected) {
  Evaluated e;
  std::uint64_t total = 0;
  bool have_count = t.count != CountKind::none;
  for (const ProcessResult& r : g.processes) {
    e.exit_code = std::max(e.exit_code, r.exit_code);
    if (r.timed_out) {
      e.status = "timeout";
      e.error = "killed after the timeout";
      return e;
    }
    bool exit_ok = r.exit_code == 0 || (have_count && r.exit_code == 1);
    if (!exit_ok) {
      e.status = "failed";
      e.error = "exit status " + std::to_string(r.exit_code) + ": " + tail(r.err, 300);
      return e;
    }
    if (t.count == CountKind::sluice_json) {
      try {
        json::Value v = json::parse(r.out);
        const json::Value* files = v.find("files");
        const json::Value* tot = v.find("total");
        if (!files || !tot) throw std::runtime_error("no files/total in the report");
        for (const json::Value& f : files->items) total += f.u64_at("matches").value_or(0);
        add(e.bytes_read, tot->number_at("bytes_read"));
        add(e.bytes_delivered, tot->number_at("bytes_delivered"));
        add(e.records_in, tot->number_at("records_in"));
        add(e.records_out, tot->number_at("records_out"));
        // Zero means "no BPF statistics" (user-space backends report 0): leave those empty.
        auto nonzero = [](std::optional<double> v) { return v && *v > 0 ? v : std::nullopt; };
        add(e.bpf_count, nonzero(tot->number_at("bpf_run_count")));
        add(e.bpf_ns, nonzero(tot->number_at("bpf_run_time_ns")));
      } catch (const std::exception& ex) {
        e.status = "failed";
        e.error = std::string("unreadable sluice report (") + ex.what() + "): " + tail(r.out, 200);
        return e;
      }
    } else if (t.count == CountKind::stdout_count) {
      auto n = last_integer(r.out);
      if (!n) {
        if (r.exit_code == 1 && trim(r.out).empty()) n = 0;  // rg -c prints nothing when nothing matched
        else {
          e.status = "failed";
          e.error = "no count on stdout: " + tail(r.out, 200) + " " + tail(r.err, 200);
          return e;
        }
      }
      total += *n;
    }
  }
  if (have_count) {
    e.count = total;
    if (total != expected) {
      e.status = "wrong";
      e.error = "counted " + std::to_string(total) + ", expected " + std::to_string(expected);
    }
  }
  return e;
}

double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
double vmin(const std::vector<double>& v) {
  double m = NAN;
  for (double x : v)
    if (!std::isnan(x) && (std::isnan(m) || x < m)) m = x;
  return m;
}
double vmax(const std::vector<double>& v) {
  double m = NAN;
  for (double x : v)
    if (!std::isnan(x) && (std::isnan(m) || x > m)) m = x;
  return m;
}

void set_cell_columns(Row& row, const Cell& c, const Subject& s, const Dataset& d, const SubjectTemplate* t) {
  const FilterDef& f = *c.filter;
  row.set("cell", c.id);
  row.set("subject", s.name);
  row.set("kind", s.kind);
  row.set("backend", s.backend);
  row.set("mode", s.mode == "-" ? std::string() : s.mode);
  row.set_int("o_direct", s.direct ? 1 : 0);
  row.set("filter", f.name);
  row.set("filter_kind", f.kind);
  row.set("needle", f.needle);
  if (f.kind == "column") {
    row.set_int("column", f.column);
    row.set_int("threshold", f.threshold);
  }
  row.set("selectivity_pct", d.spec.selectivity.as_double() * 100.0);
  row.set_uint("record_size", d.spec.record_size);
  row.set_uint("file_size_requested", d.spec.file_size);
  row.set_uint("input_bytes", d.bytes);
  row.set_uint("input_records", d.records);
  row.set_int("threads", c.threads);
  row.set("cache", c.cache);
  row.set("dataset_id", d.spec.id());
  row.set("dataset_checksum", d.checksum());
  (void)t;
}

std::map<std::string, std::string> template_vars(const Options& o, const FilterDef& f, const Subject& s,
                                                 const std::string& file) {
  return {
      {"file", shell_quote(file)},
      {"literal", shell_quote(f.needle)},
      {"column", std::to_string(f.kind == "column" ? f.column : o.column)},
      {"threshold", std::to_string(f.kind == "column" ? f.threshold : o.threshold)},
      {"delimiter", shell_quote(",")},
      {"ncolumns", "5"},
      {"sluice", shell_quote(o.sluice)},
      {"backend_args", s.backend_args},
      {"peers_dir", shell_quote(o.peers_dir)},
      {"node_modules", shell_quote(o.node_modules)},
      {"filter", f.name},
      {"filter_kind", f.kind},
  };
}

Residency prepare_cache(const std::string& cache, const Dataset& d) {
  Residency total;
  for (const std::string& path : d.paths()) {
    Residency r;
    if (cache == "warm") {
      r = residency(path);
      if (r.resident_pages < r.total_pages) r = make_resident(path);
    } else {
      r = evict(path);
      if (r.resident_pages != 0)
        throw std::runtime_error("cannot make " + path + " cold: " + std::to_string(r.resident_pages) + " of " +
                                 std::to_string(r.total_pages) + " pages stay resident after POSIX_FADV_DONTNEED");
    }
    total.resident_pages += r.resident_pages;
    total.total_pages += r.total_pages;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// The whole run

struct SummaryOut {
  std::vector<Row> rows;
  bool sluice_wrong = false;
  std::vector<std::string> wrong_peers;
};

void summarize_cell(const Cell& c, const Dataset& d, const std::vector<RunRecord>& runs,
                    const std::vector<std::string>& references, SummaryOut& out, std::uint64_t expected) {
  const FilterDef& f = *c.filter;
  struct Agg {
    const Subject* s = nullptr;
    std::string status = "ok";
    std::string note;
    std::vector<const RunRecord*> measured;
    std::map<unsigned, const RunRecord*> by_round;
    std::optional<std::uint64_t> count;
    double res_min = NAN, res_max = NAN;
  };
  std::vector<Agg> aggs;
  for (const Subject* s : c.active) {
    Agg a;
    a.s = s;
    aggs.push_back(std::move(a));
  }
  for (const RunRecord& r : runs) {
    Agg& a = *std::find_if(aggs.begin(), aggs.end(), [&](const Agg& x) { return x.s == r.subject; });
    a.res_min = std::isnan(a.res_min) ? r.resident_fraction : std::min(a.res_min, r.resident_fraction);
    a.res_max = std::isnan(a.res_max) ? r.resident_fraction : std::max(a.res_max, r.resident_fraction);
    auto rank = [](const std::string& st) { return st == "ok" ? 0 : st == "wrong" ? 1 : 2; };
    if (rank(r.status) > rank(a.status)) {
      a.status = r.status == "timeout" ? "failed" : r.status;
      a.note = r.row.get("error");
      if (r.status == "wrong") a.count = r.count;
    }
    if (!a.count && r.count) a.count = r.count;
    if (!r.warmup && (r.status == "ok" || r.status == "wrong")) {
      a.measured.push_back(&r);
      a.by_round[r.round] = &r;
    }
  }
  const Agg* ref = nullptr;
  for (const std::string& name : references) {
    for (const Agg& a : aggs)
      if (a.s->name == name && a.status == "ok" && !a.measured.empty()) ref = &a;
    if (ref) break;
  }
  for (const Agg& a : aggs) {
    Row row(summary_columns());
    const SubjectTemplate* t = a.s->for_filter(f.name);
    set_cell_columns(row, c, *a.s, d, t);
    row.set("status", a.status);
    std::string note = a.note;
    if (a.s->kind == "peer" && a.s->mode.find("mmap") != std::string::npos && note.empty())
      note = "maps the file (first touch of each page is slow in VMs)";
    row.set("note", note);
    row.set_uint("reps", a.measured.size());
    if (t && t->count != CountKind::none) row.set_uint("expected_count", expected);
    if (a.count) row.set_uint("count", *a.count);
    auto series = [&](auto get) {
      std::vector<double> v;
      for (const RunRecord* r : a.measured) v.push_back(get(*r));
      return v;
    };
    auto put3 = [&](const char* base, const std::vector<double>& v) {
      std::string b = base;
      row.set(b + "_median", median(v));
      row.set(b + "_min", vmin(v));
      row.set(b + "_max", vmax(v));
    };
    put3("throughput_gbps", series([](const RunRecord& r) { return r.throughput; }));
    put3("wall_s", series([](const RunRecord& r) { return r.wall; }));
    put3("cpu_s_per_gb", series([](const RunRecord& r) { return r.cpu_per_gb; }));
    row.set("user_s_median", median(series([](const RunRecord& r) { return r.user; })));
    row.set("sys_s_median", median(series([](const RunRecord& r) { return r.sys; })));
    row.set("voluntary_ctx_switches_median", median(series([](const RunRecord& r) { return r.vcs; })));
    row.set("involuntary_ctx_switches_median", median(series([](const RunRecord& r) { return r.ivcs; })));
    row.set("max_rss_kib_max", vmax(series([](const RunRecord& r) { return r.rss; })));
    row.set("bytes_read", median(series([](const RunRecord& r) { return r.bytes_read; })));
    row.set("bytes_delivered", median(series([](const RunRecord& r) { return r.bytes_delivered; })));
    row.set("records_in", median(series([](const RunRecord& r) { return r.records_in; })));
    row.set("records_out", median(series([](const RunRecord& r) { return r.records_out; })));
    row.set("proc_rchar_median", median(series([](const RunRecord& r) { return r.rchar; })));
    row.set("proc_read_bytes_median", median(series([](const RunRecord& r) { return r.read_bytes; })));
    row.set("bpf_run_count_median", median(series([](const RunRecord& r) { return r.bpf_count; })));
    row.set("bpf_run_time_ns_median", median(series([](const RunRecord& r) { return r.bpf_ns; })));
    if (a.s->kind == "sluice" && f.cost_known) {
      row.set_uint("verifier_insns", f.verified_insns);
      row.set_uint("bpf_prog_insns", f.prog_insns);
      row.set("bpf_load_ms", f.load_ms);
    }
    row.set("resident_fraction_before_min", a.res_min);
    row.set("resident_fraction_before_max", a.res_max);
    if (ref && a.status == "ok") {
      row.set("reference", ref->s->name);
      std::vector<double> tr, cr;
      for (const auto& [round, r] : a.by_round) {
        auto it = ref->by_round.find(round);
        if (it == ref->by_round.end()) continue;
        const RunRecord& rr = *it->second;
        if (r->wall > 0) tr.push_back(rr.wall / r->wall);
        double rc = rr.user + rr.sys;
        if (rc > 0) cr.push_back((r->user + r->sys) / rc);
      }
      row.set("throughput_ratio_median", median(tr));
      row.set("throughput_ratio_min", vmin(tr));
      row.set("throughput_ratio_max", vmax(tr));
      row.set("cpu_per_gb_ratio_median", median(cr));
    } else if (a.status == "wrong") {
      row.set("note", a.note + "; excluded from ratios");
    }
    if (!a.measured.empty()) row.set("command", a.measured.front()->row.get("command"));
    if (a.status != "ok") {
      if (a.s->kind == "sluice") out.sluice_wrong = true;
      else out.wrong_peers.push_back(a.s->name + " (" + c.id + ": " + a.note + ")");
    }
    out.rows.push_back(std::move(row));
  }
  for (const auto& [s, why] : c.skipped) {
    Row row(summary_columns());
    set_cell_columns(row, c, *s, d, s->for_filter(f.name));
    row.set("status", "skipped");
    row.set("note", why);
    row.set_uint("reps", 0);
    out.rows.push_back(std::move(row));
  }
}

void write_json_row(json::Writer& w, const Row& row) {
  w.begin_object();
  const auto& cols = row.columns();
  for (std::size_t i = 0; i < cols.size(); ++i) {
    w.key(cols[i].name);
    const std::string& v = row.values()[i];
    if (cols[i].type == 'n') {
      if (v.empty()) w.null();
      else w.raw(v);
    } else {
      w.string(v);
    }
  }
  w.end_object();
}

int run_bench(const Options& o) {
  Plan plan = make_plan(o);
  if (o.out_dir.empty()) {  // --list-subjects
    for (const Subject& s : plan.subjects) {
      std::cout << s.name << "  [" << s.mode << (s.direct && s.mode.find("O_DIRECT") == std::string::npos ? ", O_DIRECT" : "") << "]  "
                << (s.unavailable.empty() ? "available" : "unavailable: " + s.unavailable) << "\n";
      for (const SubjectTemplate* t : s.templates)
        std::cout << "    " << join(t->filters, ",") << ": " << t->command << "   (" << t->origin << ")\n";
    }
    return kExitOk;
  }
  std::vector<std::string> kernel_backends;
  for (const Subject& s : plan.subjects) {
    if (s.kind != "sluice") continue;
    std::string base = s.backend.substr(0, s.backend.find('+'));
    if (!user_space_backend(base)) kernel_backends.push_back(s.backend);
  }

  if (o.dry_run) {
    std::cout << "seed " << o.seed << "\n" << plan.datasets.size() << " data sets, " << plan.cells.size() << " cells, "
              << plan.total_runs << " runs\n";
    for (const Cell& c : plan.cells) {
      std::cout << c.id << ":";
      for (const Subject* s : c.active) std::cout << " " << s->name;
      for (const auto& [s, why] : c.skipped) std::cout << " (" << s->name << ": skipped, " << why << ")";
      std::cout << "\n";
    }
    for (const auto& n : plan.notes) std::cout << "note: " << n << "\n";
    return kExitOk;
  }

  if (find_in_path(o.spawner).empty())
    throw BenchUsageError("the helper " + o.spawner + " is missing (build the sluice-bench-spawn target)");
  ::mkdir(o.out_dir.c_str(), 0755);
  ::mkdir(o.work_dir.c_str(), 0755);
  struct stat st{};
  if (::stat(o.out_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw BenchUsageError("cannot create --out " + o.out_dir);
  if (::stat(o.work_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw BenchUsageError("cannot create --work-dir " + o.work_dir);
  std::string fs_name;
  bool can_cold = filesystem_supports_cold(o.work_dir, fs_name);
  for (const auto& c : o.caches)
    if (c != "warm" && !can_cold)
      throw BenchUsageError("--cache " + c + " needs a work directory on a disk file system, and " + o.work_dir +
                            " is on " + fs_name + " (use --work-dir)");

  Progress progress(plan.total_runs, o.progress);
  for (const auto& n : plan.notes) progress.message("note: " + n);

  // Environment and versions, before anything runs.
  Metadata meta;
  meta.emplace_back("tool", "sluice-bench " SLUICE_BENCH_VERSION);
  meta.emplace_back("command_line", o.command_line);
  meta.emplace_back("started_utc", utc_timestamp());
  // Other load on the machine bends every number: record it at both ends.
  meta.emplace_back("loadavg_start", trim(read_text_file("/proc/loadavg").value_or("")));
  for (auto& kv : environment_metadata(SLUICE_BENCH_SOURCE_DIR)) meta.push_back(kv);
  meta.emplace_back("order_seed", std::to_string(o.seed));
  meta.emplace_back("data_seed", std::to_string(o.data_seed));
  meta.emplace_back("reps", std::to_string(o.reps));
  meta.emplace_back("warmup_rounds", std::to_string(o.warmup));
  meta.emplace_back("reference", join(o.references, ","));
  meta.emplace_back("backends", join(o.backends, ","));
  meta.emplace_back("filters", join(o.filters, ","));
  meta.emplace_back("literal", o.literal);
  meta.emplace_back("common_literal", o.common_literal);
  meta.emplace_back("selectivities", join(o.selectivities, ","));
  {
    std::vector<std::string> rs, fs, th;
    for (auto v : o.record_sizes) rs.push_back(std::to_string(v));
    for (auto v : o.file_sizes) fs.push_back(std::to_string(v));
    for (auto v : o.threads) th.push_back(std::to_string(v));
    meta.emplace_back("record_sizes", join(rs, ","));
    meta.emplace_back("file_sizes", join(fs, ","));
    meta.emplace_back("threads", join(th, ","));
  }
  meta.emplace_back("cache_states", join(o.caches, ","));
  meta.emplace_back("column_filter", "column " + std::to_string(o.column) + " > " + std::to_string(o.threshold));
  meta.emplace_back("timeout_s", fmt_double(o.timeout));
  meta.emplace_back("work_dir", o.work_dir);
  meta.emplace_back("work_dir_fs", fs_name);
  meta.emplace_back("sluice_cli", o.sluice);
  meta.emplace_back("peers_file", o.peers_file);
  meta.emplace_back("node_modules", o.node_modules);
  meta.emplace_back("measurement",
                    "every subject is a child process of /bin/sh -c 'exec CMD' with LC_ALL=C; wall = spawn to reap; "
                    "CPU, context switches and max RSS from wait4 rusage; bytes from /proc/PID/io");
  meta.emplace_back("ratio_definition",
                    "throughput ratio = reference wall / subject wall in the same round; summary = median (min, max) over rounds");
  {
    std::set<std::string> exes;
    std::set<std::string> npm;
    for (const Subject& s : plan.subjects)
      for (const SubjectTemplate* t : s.templates)
        for (const std::string& n : t->needs) (starts_with(n, "npm:") ? npm : exes).insert(starts_with(n, "npm:") ? n.substr(4) : n);
    exes.insert("sh");
    for (const std::string& e : exes) meta.emplace_back("version." + e, executable_version(e));
    if (exes.count("node")) meta.emplace_back("version.node_runtime", capture_command("node --version"));
    for (const std::string& p : npm) {
      std::string v = npm_package_version(o.node_modules, p);
      meta.emplace_back("version.npm." + p, v.empty() ? "not installed" : v);
    }
    meta.emplace_back("version.libbpf", capture_command("dpkg-query -W -f='${Version}' libbpf1"));
    meta.emplace_back("version.liburing", capture_command("dpkg-query -W -f='${Version}' liburing2"));
  }

  // BPF run statistics for kernel backends (the kernel collects them only while enabled).
  int stats_fd = -1;
  std::string stats_state = "off";
  if (o.bpf_stats == "on" || (o.bpf_stats == "auto" && !kernel_backends.empty())) {
    stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
    stats_state = stats_fd >= 0 ? "on (BPF_ENABLE_STATS held by sluice-bench during the runs)"
                                : std::string("requested but failed: ") + std::strerror(errno);
  } else if (o.bpf_stats == "auto") {
    stats_state = "off (no kernel backend in the matrix)";
  }
  meta.emplace_back("bpf_stats", stats_state);

  measure_verifier_costs(plan);

  Rng rng{o.seed};
  std::vector<std::size_t> dataset_order(plan.datasets.size());
  for (std::size_t i = 0; i < dataset_order.size(); ++i) dataset_order[i] = i;
  rng.shuffle(dataset_order);

  std::string runs_path = o.out_dir + "/runs.csv";
  std::ofstream runs_csv(runs_path, std::ios::trunc);
  if (!runs_csv) throw BenchUsageError("cannot write " + runs_path);
  runs_csv << csv_header(run_columns());

  std::vector<std::string> env = {"LC_ALL=C", "LANG=C"};
  for (const char* keep : {"PATH", "HOME", "TMPDIR", "USER", "SLUICE_DEBUG"})
    if (const char* v = std::getenv(keep)) env.push_back(std::string(keep) + "=" + v);
  if (std::find_if(env.begin(), env.end(), [](const std::string& e) { return starts_with(e, "PATH="); }) == env.end())
    env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");

  SummaryOut summary;
  std::vector<Dataset> datasets_done;
  std::vector<RunRecord> all_runs;
  std::size_t run_seq = 0;

  for (std::size_t di : dataset_order) {
    const DatasetSpec& spec = plan.datasets[di];
    progress.message("data set " + spec.id() + ": " + (o.reuse_data ? "generating or reusing" : "generating"));
    Dataset d = prepare_dataset(spec, o.work_dir, o.reuse_data);
    std::vector<const Cell*> cells;
    for (const Cell& c : plan.cells)
      if (c.dataset == di) cells.push_back(&c);
    rng.shuffle(cells);
    for (const Cell* cp : cells) {
      const Cell& c = *cp;
      const FilterDef& f = *c.filter;
      std::uint64_t expected = f.kind == "literal" ? d.literal_records : d.value_gt_records;
      std::vector<RunRecord> cell_runs;
      for (unsigned round = 0; round < o.warmup + o.reps; ++round) {
        std::vector<const Subject*> order = c.active;
        rng.shuffle(order);
        for (std::size_t pos = 0; pos < order.size(); ++pos) {
          const Subject& s = *order[pos];
          const SubjectTemplate& t = *s.for_filter(f.name);
          char sel[32];
          std::snprintf(sel, sizeof sel, "%g%%", spec.selectivity.as_double() * 100);
          progress.update(run_seq, f.name + " " + sel + " " + c.cache + " x" + std::to_string(c.threads) + ": " + s.name);
          std::vector<std::string> commands;
          for (const std::string& path : d.paths()) commands.push_back(expand_template(t.command, template_vars(o, f, s, path)));
          Residency before = prepare_cache(c.cache, d);
          GroupResult g = run_group(o.spawner, commands, env, o.timeout);
          ++run_seq;
          Evaluated e = evaluate(g, t, expected);

          RunRecord r;
          r.subject = &s;
          r.warmup = round < o.warmup;
          r.round = round;
          r.status = e.status;
          r.count = e.count;
          r.wall = g.wall_seconds;
          double gb = static_cast<double>(d.bytes) / 1e9;
          bool tool_reports = t.count == CountKind::sluice_json;
          r.bytes_read = tool_reports ? e.bytes_read : static_cast<double>(d.bytes);
          r.bytes_delivered = tool_reports ? e.bytes_delivered : static_cast<double>(d.bytes);
          // sluice runs without --stats (which adds a full newline count that grep -c does not
          // do), so its records_in is not a total: the data set's record count is used for all.
          r.records_in = static_cast<double>(d.records);
          r.records_out = tool_reports ? e.records_out : (e.count ? static_cast<double>(*e.count) : NAN);
          r.bpf_count = e.bpf_count;
          r.bpf_ns = e.bpf_ns;
          r.rchar = 0;
          r.read_bytes = 0;
          bool io_known = true;
          for (const ProcessResult& p : g.processes) {
            r.user += p.user_seconds;
            r.sys += p.system_seconds;
            r.vcs += static_cast<double>(p.voluntary_switches);
            r.ivcs += static_cast<double>(p.involuntary_switches);
            r.rss = std::max(r.rss, static_cast<double>(p.max_rss_kib));
            r.rchar += static_cast<double>(p.rchar);
            r.read_bytes += static_cast<double>(p.read_bytes);
            io_known &= p.io_known;
          }
          if (!io_known) r.rchar = r.read_bytes = NAN;
          r.throughput = r.wall > 0 ? gb / r.wall : NAN;
          r.cpu_per_gb = gb > 0 ? (r.user + r.sys) / gb : NAN;
          r.resident_fraction = before.fraction();

          Row& row = r.row;
          row.set_uint("run", run_seq);
          set_cell_columns(row, c, s, d, &t);
          row.set_int("warmup", r.warmup ? 1 : 0);
          row.set_int("round", round);
          row.set_uint("position", pos);
          row.set("status", e.status);
          row.set_int("exit_code", e.exit_code);
          if (t.count != CountKind::none) row.set_uint("expected_count", expected);
          if (e.count) row.set_uint("count", *e.count);
          row.set("wall_s", r.wall);
          row.set("user_s", r.user);
          row.set("sys_s", r.sys);
          row.set("cpu_s", r.user + r.sys);
          row.set("cpu_s_per_gb", r.cpu_per_gb);
          row.set("throughput_gbps", r.throughput);
          row.set("voluntary_ctx_switches", r.vcs);
          row.set("involuntary_ctx_switches", r.ivcs);
          row.set("max_rss_kib", r.rss);
          row.set("bytes_read", r.bytes_read);
          row.set("bytes_delivered", r.bytes_delivered);
          row.set("records_in", r.records_in);
          row.set("records_out", r.records_out);
          row.set("proc_rchar", r.rchar);
          row.set("proc_read_bytes", r.read_bytes);
          row.set("bpf_run_count", r.bpf_count);
          row.set("bpf_run_time_ns", r.bpf_ns);
          row.set_uint("resident_pages_before", before.resident_pages);
          row.set_uint("total_pages", before.total_pages);
          row.set("resident_fraction_before", r.resident_fraction);
          row.set("command", commands.front());
          row.set("error", e.error);
          runs_csv << csv_line(row);
          runs_csv.flush();
          cell_runs.push_back(std::move(r));
        }
      }
      summarize_cell(c, d, cell_runs, o.references, summary, expected);
      for (auto& r : cell_runs) all_runs.push_back(std::move(r));
    }
    if (!o.keep_data) remove_dataset(d);
    datasets_done.push_back(std::move(d));
  }
  progress.update(run_seq, "done");
  if (stats_fd >= 0) ::close(stats_fd);
  meta.emplace_back("finished_utc", utc_timestamp());
  meta.emplace_back("loadavg_end", trim(read_text_file("/proc/loadavg").value_or("")));

  // summary.csv and metadata.csv
  {
    std::string s = csv_header(summary_columns());
    for (const Row& r : summary.rows) s += csv_line(r);
    write_text_file(o.out_dir + "/summary.csv", s);
    std::string m = "key,value\n";
    for (const auto& [k, v] : meta) m += csv_field(k) + "," + csv_field(v) + "\n";
    for (const FilterDef& f : plan.filters) {
      std::string p = "filter." + f.name + ".";
      m += csv_field(p + "needle") + "," + csv_field(f.needle) + "\n";
      if (f.cost_known) {
        m += p + "verifier_insns," + std::to_string(f.verified_insns) + "\n";
        m += p + "bpf_prog_insns," + std::to_string(f.prog_insns) + "\n";
        m += p + "bpf_load_ms," + fmt_double(f.load_ms) + "\n";
      } else {
        m += p + "verifier_error," + csv_field(f.cost_error) + "\n";
      }
    }
    for (const Dataset& d : datasets_done) {
      std::string p = "dataset." + d.spec.id() + ".";
      m += p + "checksum," + csv_field(d.checksum()) + "\n";
      m += p + "bytes," + std::to_string(d.bytes) + "\n";
      m += p + "records," + std::to_string(d.records) + "\n";
      for (unsigned i = 0; i < d.spec.shards; ++i)
        m += p + "shard" + std::to_string(i) + ".generator," + csv_field(d.spec.gen_command(i)) + "\n";
    }
    write_text_file(o.out_dir + "/metadata.csv", m);
  }
  // results.json
  {
    json::Writer w;
    w.begin_object();
    w.key("format").string("sluice-bench results v1");
    w.key("metadata").begin_object();
    for (const auto& [k, v] : meta) w.key(k).string(v);
    w.end_object();
    w.key("filters").begin_array();
    for (const FilterDef& f : plan.filters) {
      w.begin_object();
      w.key("name").string(f.name);
      w.key("kind").string(f.kind);
      w.key("needle").string(f.needle);
      if (f.kind == "column") {
        w.key("column").integer(f.column);
        w.key("threshold").integer(f.threshold);
      }
      w.key("verifier");
      if (f.cost_known) {
        w.begin_object();
        w.key("host").string("xdp_record");
        w.key("verified_insns").uinteger(f.verified_insns);
        w.key("bpf_prog_insns").uinteger(f.prog_insns);
        w.key("load_ms").number(f.load_ms);
        w.end_object();
      } else {
        w.begin_object().key("error").string(f.cost_error).end_object();
      }
      w.end_object();
    }
    w.end_array();
    w.key("subjects").begin_array();
    for (const Subject& s : plan.subjects) {
      w.begin_object();
      w.key("name").string(s.name);
      w.key("kind").string(s.kind);
      w.key("mode").string(s.mode);
      w.key("o_direct").boolean(s.direct);
      w.key("unavailable").string(s.unavailable);
      w.key("templates").begin_array();
      for (const SubjectTemplate* t : s.templates) {
        w.begin_object();
        w.key("filters").string(join(t->filters, ","));
        w.key("count").string(to_string(t->count));
        w.key("command").string(t->command);
        w.key("origin").string(t->origin);
        w.end_object();
      }
      w.end_array();
      w.end_object();
    }
    w.end_array();
    w.key("datasets").begin_array();
    for (const Dataset& d : datasets_done) {
      w.begin_object();
      w.key("id").string(d.spec.id());
      w.key("needle").string(d.spec.needle);
      w.key("selectivity").string(d.spec.selectivity.text);
      w.key("selectivity_pct").number(d.spec.selectivity.as_double() * 100);
      w.key("record_size").uinteger(d.spec.record_size);
      w.key("file_size_requested").uinteger(d.spec.file_size);
      w.key("shards").uinteger(d.spec.shards);
      w.key("bytes").uinteger(d.bytes);
      w.key("records").uinteger(d.records);
      w.key("literal_records").uinteger(d.literal_records);
      w.key("value_threshold").integer(d.spec.threshold);
      w.key("value_gt_records").uinteger(d.value_gt_records);
      w.key("checksum").string(d.checksum());
      w.key("checksum_algorithm").string("POSIX cksum (CRC-32, byte count) per shard");
      w.key("generate_seconds").number(d.generate_seconds);
      w.key("reused").boolean(d.reused);
      w.key("shards_detail").begin_array();
      for (unsigned i = 0; i < d.shards.size(); ++i) {
        w.begin_object();
        w.key("path").string(d.shards[i].path);
        w.key("generator").string(d.spec.gen_command(i));
        w.key("cksum").string(d.shards[i].cksum);
        w.key("bytes").uinteger(d.shards[i].result.bytes);
        w.key("records").uinteger(d.shards[i].result.records);
        w.end_object();
      }
      w.end_array();
      w.end_object();
    }
    w.end_array();
    w.key("columns").begin_object();
    w.key("summary").begin_array();
    for (const Column& c : summary_columns()) w.string(c.name);
    w.end_array();
    w.key("runs").begin_array();
    for (const Column& c : run_columns()) w.string(c.name);
    w.end_array();
    w.end_object();
    w.key("summary").begin_array();
    for (const Row& r : summary.rows) write_json_row(w, r);
    w.end_array();
    w.key("runs").begin_array();
    for (const RunRecord& r : all_runs) write_json_row(w, r.row);
    w.end_array();
    w.end_object();
    write_text_file(o.out_dir + "/results.json", w.str() + "\n");
  }

  for (const std::string& p : summary.wrong_peers) progress.message("peer excluded from ratios: " + p);
  progress.message("results in " + o.out_dir + " (runs.csv, summary.csv, metadata.csv, results.json)");
  if (summary.sluice_wrong) {
    progress.message("a sluice backend gave a wrong count or failed: see summary.csv");
    return kExitSluiceWrong;
  }
  return kExitOk;
}

int quiet_libbpf(enum libbpf_print_level, const char*, va_list) { return 0; }

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice::bench;
  libbpf_set_print(quiet_libbpf);
  try {
    std::optional<Options> o = parse_options(argc, argv);
    if (!o) return kExitOk;
    return run_bench(*o);
  } catch (const po::error& e) {
    std::cerr << "sluice-bench: " << e.what() << "\n" << kUsage;
    return kExitUsage;
  } catch (const BenchUsageError& e) {
    std::cerr << "sluice-bench: " << e.what() << "\n";
    return kExitUsage;
  } catch (const ds::UsageError& e) {
    std::cerr << "sluice-bench: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "sluice-bench: " << e.what() << "\n";
    return kExitInternal;
  }
}
