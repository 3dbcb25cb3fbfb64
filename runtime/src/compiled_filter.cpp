// Run-time compilation of filters (sluice/compiled_filter.hpp): --where expressions and user C
// filters, built natively (cc, dlopen) and as BPF inside the host programs (clang), cached by
// content hash.
#include <sluice/compiled_filter.hpp>
#include <sluice/expr.hpp>

extern "C" {
#include <sluice/filter.h>
}

#include "byte_search.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <optional>
#include <sstream>
#include <thread>

extern char** environ;

namespace fs = std::filesystem;

namespace sluice {
namespace {

// Bump when the layout of a cache entry or the way it is built changes.
constexpr const char* kCacheFormat = "sluice-compiled-filter-v1";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw system_error(path, errno);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file_atomically(const std::string& path, std::string_view data) {
  static std::atomic<unsigned> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) throw system_error("writing " + tmp, errno);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw system_error("renaming " + tmp, err);
  }
}

// Two 64-bit FNV-1a streams with different bases: a 128-bit content key (a cache key, not a
// security boundary: the cache is per user).
class Hasher {
 public:
  void add(std::string_view data) {
    for (unsigned char c : data) {
      a_ = (a_ ^ c) * 0x100000001b3ull;
      b_ = (b_ ^ c) * 0x100000001b3ull;
    }
    std::uint64_t n = data.size();  // length-prefix-free: mix the length in too
    for (int i = 0; i < 8; ++i) {
      a_ = (a_ ^ ((n >> (8 * i)) & 0xff)) * 0x100000001b3ull;
      b_ = (b_ ^ ((n >> (8 * i)) & 0xff)) * 0x100000001b3ull;
    }
  }
  std::string hex() const {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a_),
                  static_cast<unsigned long long>(b_));
    return buf;
  }

 private:
  std::uint64_t a_ = 0xcbf29ce484222325ull;
  std::uint64_t b_ = 0x84222325cbf29ce4ull;
};

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

std::string absolute_path(const std::string& p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

std::string cache_root(const CompileOptions& options) {
  std::string dir = options.cache_dir;
  if (dir.empty()) {
    if (const char* v = std::getenv("SLUICE_CACHE_DIR"); v && *v) dir = v;
    else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) dir = std::string(x) + "/sluice";
    else if (const char* h = std::getenv("HOME"); h && *h) dir = std::string(h) + "/.cache/sluice";
    else dir = "/tmp/sluice-cache-" + std::to_string(::getuid());
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create the filter cache directory " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  return dir;
}

// The ABI and hosts as they are now: part of every cache key, so a changed header or host
// source rebuilds everything.
const std::string& abi_fingerprint() {
  static const std::string fp = [] {
    const FilterToolchain& tc = filter_toolchain();
    Hasher h;
    h.add(kCacheFormat);
    h.add(tc.clang);
    h.add(tc.cc);
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(tc.include_dir + "/sluice", ec))
      if (e.is_regular_file()) files.push_back(e.path().string());
    for (const auto& e : fs::directory_iterator(tc.host_dir, ec))
      if (e.is_regular_file() && (e.path().extension() == ".h" || e.path().extension() == ".c"))
        files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      h.add(f.substr(f.find_last_of('/') + 1));
      h.add(read_file(f));
    }
    struct stat st {};
    std::string vmlinux = tc.vmlinux_dir + "/vmlinux.h";
    if (::stat(vmlinux.c_str(), &st) == 0) h.add(std::to_string(st.st_size) + ":" + std::to_string(st.st_mtime));
    return h.hex();
  }();
  return fp;
}

// ---- Running compilers --------------------------------------------------------------------

struct Job {
  std::string what;  // for messages
  std::vector<std::string> argv;
  std::string log;   // stdout + stderr go here
  pid_t pid = -1;
};

void start(Job& job, bool verbose) {
  if (verbose) {
    std::string line = "sluice: $";
    for (const std::string& a : job.argv) line += " " + a;
    std::cerr << line << "\n";
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, job.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (std::string& a : job.argv) args.push_back(a.data());
  args.push_back(nullptr);
  int rc = posix_spawnp(&job.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw system_error("cannot run " + job.argv[0] + " (" + job.what + ")", rc);
}

// Waits for the job; returns its output if it failed, nullopt on success.
std::optional<std::string> finish(Job& job) {
  int status = 0;
  while (::waitpid(job.pid, &status, 0) < 0)
    if (errno != EINTR) throw system_error("waiting for " + job.argv[0], errno);
  std::string out;
  try {
    out = read_file(job.log);
  } catch (const Error&) {
  }
  ::unlink(job.log.c_str());
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  if (out.empty()) out = job.argv[0] + " failed (status " + std::to_string(status) + ")";
  return out;
}

std::string temp_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

// A precompiled vmlinux.h (2.8 MB of kernel types): parsing it is most of a host's compile
// time (0.7 s -> 0.2 s measured). Built once per cache; compiles fall back to the plain
// header if it cannot be built or used.
std::string vmlinux_pch(const std::string& root, const std::vector<std::string>& bpf_flags, bool verbose) {
  const FilterToolchain& tc = filter_toolchain();
  Hasher h;
  h.add(abi_fingerprint());
  for (const std::string& f : bpf_flags) h.add(f);
  std::string dir = root + "/pch";
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string pch = dir + "/vmlinux-" + h.hex() + ".pch";
  if (exists(pch)) return pch;
  std::string tmp = temp_name(pch);
  Job job{"precompiling vmlinux.h", {tc.clang}, tmp + ".log"};
  job.argv.insert(job.argv.end(), bpf_flags.begin(), bpf_flags.end());
  job.argv.insert(job.argv.end(), {"-x", "c-header", tc.vmlinux_dir + "/vmlinux.h", "-o", tmp});
  start(job, verbose);
  if (finish(job) || ::rename(tmp.c_str(), pch.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return "";
  }
  return pch;
}

std::vector<std::string> bpf_base_flags() {
  return {"-target", "bpf", "-O2", "-g", "-mcpu=v3", "-D__TARGET_ARCH_x86"};
}

std::string c_string_literal(const std::string& path) {
  if (path.find_first_of("\"\\\n") != std::string::npos)
    throw UsageError("the filter's path cannot contain quotes, backslashes or newlines: " + path);
  return "\"" + path + "\"";
}

}  // namespace

// ---- Toolchain -----------------------------------------------------------------------------

const FilterToolchain& filter_toolchain() {
  static const FilterToolchain tc = [] {
    FilterToolchain t;
    const char* clang = std::getenv("SLUICE_CLANG");
    t.clang = clang && *clang ? clang : SLUICE_DEFAULT_BPF_CLANG;
    const char* cc = std::getenv("SLUICE_CC");
    if (!cc || !*cc) cc = std::getenv("CC");
    t.cc = cc && *cc ? cc : "cc";
    std::vector<std::array<std::string, 3>> candidates;  // host dir, vmlinux dir, include dir
    if (const char* d = std::getenv("SLUICE_DATA_DIR"); d && *d)
      candidates.push_back({std::string(d) + "/kernel-bpf", std::string(d) + "/kernel-bpf", std::string(d) + "/include"});
    candidates.push_back({SLUICE_SOURCE_HOST_DIR, SLUICE_BUILD_VMLINUX_DIR, SLUICE_SOURCE_INCLUDE_DIR});
    candidates.push_back({SLUICE_INSTALL_DATA_DIR "/kernel-bpf", SLUICE_INSTALL_DATA_DIR "/kernel-bpf",
                          SLUICE_INSTALL_DATA_DIR "/include"});
    std::string looked;
    for (const auto& [host, vmlinux, include] : candidates) {
      if (exists(host + "/xdp_record.bpf.c") && exists(host + "/sk_msg_filter.bpf.c") && exists(vmlinux + "/vmlinux.h") &&
          exists(include + "/sluice/filter.h")) {
        t.host_dir = host;
        t.vmlinux_dir = vmlinux;
        t.include_dir = include;
        return t;
      }
      looked += (looked.empty() ? "" : ", ") + host;
    }
    throw Error("cannot compile filters: the BPF host sources and filter headers were not found (looked in " + looked +
                "; set SLUICE_DATA_DIR to an installed share/sluice)");
  }();
  return tc;
}

const std::vector<std::string>& compiled_filter_hosts() {
  static const std::vector<std::string> hosts = {"xdp_record", "sk_msg_filter"};
  return hosts;
}

// ---- CompiledFilter -------------------------------------------------------------------------

CompiledFilter::CompiledFilter(Origin origin, std::string display_name, std::string filter_name,
                               std::string source_path, std::string entry_dir, std::string key, std::string include_dir,
                               CompileOptions options)
    : origin_(origin),
      display_name_(std::move(display_name)),
      filter_name_(std::move(filter_name)),
      source_path_(std::move(source_path)),
      entry_dir_(std::move(entry_dir)),
      key_(std::move(key)),
      include_dir_(std::move(include_dir)),
      options_(std::move(options)) {}

CompiledFilter::~CompiledFilter() {
  if (handle) ::dlclose(handle);
}

void CompiledFilter::prepare_bpf(const std::vector<std::string>& hosts) const {
  std::lock_guard lock(mutex_);
  const FilterToolchain& tc = filter_toolchain();
  std::vector<std::string> flags = bpf_base_flags();
  std::vector<Job> jobs;
  std::vector<std::pair<std::string, std::string>> outputs;  // tmp, final
  std::string pch;
  bool pch_tried = false;
  for (const std::string& host : hosts) {
    if (std::find(compiled_filter_hosts().begin(), compiled_filter_hosts().end(), host) == compiled_filter_hosts().end())
      throw Error("no BPF host named '" + host + "' (hosts: xdp_record, sk_msg_filter)");
    std::string obj = entry_dir_ + "/" + host + ".bpf.o";
    if (exists(obj)) continue;
    if (!pch_tried) {
      pch = vmlinux_pch(fs::path(entry_dir_).parent_path().string(), flags, options_.verbose);
      pch_tried = true;
    }
    std::string tmp = temp_name(obj);
    Job job{"BPF build for " + host, {tc.clang}, tmp + ".log"};
    job.argv.insert(job.argv.end(), flags.begin(), flags.end());
    if (!pch.empty()) job.argv.insert(job.argv.end(), {"-include-pch", pch});
    job.argv.insert(job.argv.end(), {"-I" + tc.vmlinux_dir, "-I" + tc.host_dir, "-I" + tc.include_dir});
    if (!include_dir_.empty()) job.argv.push_back("-I" + include_dir_);
    job.argv.insert(job.argv.end(), {"-Wall", "-Wno-unused-function", "-Wno-unused-variable",
                                     "-DSLUICE_FILTER_SOURCE=" + c_string_literal(source_path_), "-c",
                                     tc.host_dir + "/" + host + ".bpf.c", "-o", tmp});
    jobs.push_back(std::move(job));
    outputs.emplace_back(tmp, obj);
  }
  for (Job& j : jobs) start(j, options_.verbose);
  std::string errors;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    std::optional<std::string> failed = finish(jobs[i]);
    if (failed && !pch.empty() && failed->find("precompiled") != std::string::npos) {
      // A stale or incompatible PCH: build without it.
      std::vector<std::string>& a = jobs[i].argv;
      auto it = std::find(a.begin(), a.end(), "-include-pch");
      if (it != a.end()) a.erase(it, it + 2);
      start(jobs[i], options_.verbose);
      failed = finish(jobs[i]);
    }
    if (failed) {
      ::unlink(outputs[i].first.c_str());
      if (errors.empty()) errors = *failed;
      continue;
    }
    if (::rename(outputs[i].first.c_str(), outputs[i].second.c_str()) != 0)
      throw system_error("storing " + outputs[i].second, errno);
  }
  if (!errors.empty())
    throw CompileError("cannot compile " + display_name_ + " for BPF:\n" + errors);
}

std::string CompiledFilter::bpf_object(std::string_view host) const {
  std::string obj = entry_dir_ + "/" + std::string(host) + ".bpf.o";
  if (!exists(obj)) prepare_bpf({std::string(host)});
  return obj;
}

namespace {

std::string strip_comments(const std::string& src) {
  std::string out;
  out.reserve(src.size());
  for (std::size_t i = 0; i < src.size();) {
    if (src.compare(i, 2, "/*") == 0) {
      std::size_t e = src.find("*/", i + 2);
      i = e == std::string::npos ? src.size() : e + 2;
      out += ' ';
    } else if (src.compare(i, 2, "//") == 0) {
      while (i < src.size() && src[i] != '\n') ++i;
    } else if (src[i] == '"' || src[i] == '\'') {
      char q = src[i];
      out += src[i++];
      while (i < src.size() && src[i] != q && src[i] != '\n') {
        if (src[i] == '\\' && i + 1 < src.size()) out += src[i++];
        out += src[i++];
      }
      if (i < src.size()) out += src[i++];
    } else {
      out += src[i++];
    }
  }
  return out;
}

// Builds (or finds in the cache) the native shared object and loads it.
void build_native(CompiledFilter& cf, const std::string& wrapper_source, const std::string& user_include,
                  const CompileOptions& options) {
  const FilterToolchain& tc = filter_toolchain();
  std::string so = cf.directory() + "/native.so";
  if (!exists(so)) {
    std::string wrapper = cf.directory() + "/native.c";
    write_file_atomically(wrapper, wrapper_source);
    std::string tmp = temp_name(so);
    Job job{"native build", {tc.cc, "-O2", "-g", "-shared", "-fPIC", "-std=gnu11", "-I" + tc.include_dir}, tmp + ".log"};
    if (!user_include.empty()) job.argv.push_back("-I" + user_include);
    job.argv.insert(job.argv.end(), {"-Wall", "-Wno-unused-function", "-Wno-unused-variable", "-o", tmp, wrapper});
    start(job, options.verbose);
    if (std::optional<std::string> failed = finish(job)) {
      ::unlink(tmp.c_str());
      throw CompileError("cannot compile " + cf.display_name() + ":\n" + *failed);
    }
    if (::rename(tmp.c_str(), so.c_str()) != 0) throw system_error("storing " + so, errno);
  }
  void* handle = ::dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw Error("cannot load the native build of " + cf.display_name() + ": " + ::dlerror());
  cf.handle = handle;
  auto entry = reinterpret_cast<sluice_native_filter_fn>(::dlsym(handle, "sluice_compiled_entry"));
  auto* size = static_cast<const sluice_u32*>(::dlsym(handle, "sluice_compiled_params_size"));
  if (!entry || !size) throw Error("the native build of " + cf.display_name() + " lacks its entry points");
  cf.native = entry;
  cf.params_size = *size;
  if (auto defaults = reinterpret_cast<const void* (*)()>(::dlsym(handle, "sluice_compiled_defaults"))) {
    const void* p = defaults();
    cf.default_params.assign(cf.params_size, std::byte{0});
    if (p) std::memcpy(cf.default_params.data(), p, cf.params_size);
  }
}

std::string entry_directory(const std::string& root, const std::string& key) {
  std::string dir = root + "/" + key;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create " + dir + ": " + ec.message());
  return dir;
}

// The native build and the BPF builds asked for in options.bpf_hosts, all at once (the BPF
// compilers from a second thread: prepare_bpf() spawns them and waits).
void build_all(CompiledFilter& cf, const std::string& wrapper, const std::string& user_include,
               const CompileOptions& options) {
  std::exception_ptr bpf_error;
  std::thread bpf;
  if (!options.bpf_hosts.empty())
    bpf = std::thread([&] {
      try {
        cf.prepare_bpf(options.bpf_hosts);
      } catch (...) {
        bpf_error = std::current_exception();
      }
    });
  std::exception_ptr native_error;
  try {
    build_native(cf, wrapper, user_include, options);
  } catch (...) {
    native_error = std::current_exception();
  }
  if (bpf.joinable()) bpf.join();
  if (native_error) std::rethrow_exception(native_error);
  if (bpf_error) std::rethrow_exception(bpf_error);
}

}  // namespace

Filter compile_where_filter(std::string_view expression, const WhereOptions& where, const CompileOptions& options) {
  expr::CheckOptions check_options{where.delimiter, where.header, where.format, where.schema, where.bare_names};
  expr::Expr e = expr::parse(expression);
  expr::check(e, check_options);
  expr::GeneratedFilter g = expr::generate_c(e, check_options);
  Hasher h;
  h.add("where");
  h.add(g.c_source);
  h.add(abi_fingerprint());
  std::string root = cache_root(options);
  std::string key = h.hex();
  std::string dir = entry_directory(root, key);
  std::string source = dir + "/where.c";
  if (!exists(source)) write_file_atomically(source, g.c_source);
  auto cf = std::make_shared<CompiledFilter>(CompiledFilter::Origin::where, "--where expression", "where", source, dir,
                                             key, "", options);
  std::string wrapper = "/* Native entry points of a compiled filter (generated by sluice). */\n#include " +
                        c_string_literal(source) +
                        "\nint sluice_compiled_entry(const void *p, const sluice_u8 *rec, sluice_u32 len)\n"
                        "{\n\treturn sluice_native_where(p, rec, len);\n}\n"
                        "const sluice_u32 sluice_compiled_params_size = sizeof(struct sluice_where_params);\n";
  build_all(*cf, wrapper, "", options);
  if (cf->params_size != g.params.size())
    throw Error("internal: the generated filter's parameter block is " + std::to_string(cf->params_size) +
                " bytes natively, " + std::to_string(g.params.size()) + " expected");
  return Filter::from_compiled(cf, std::move(g.params));
}

Filter compile_user_filter(const std::string& path, const CompileOptions& options) {
  std::string text;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw system_error(path, errno);
  if (!S_ISREG(st.st_mode)) throw UsageError(path + ": not a regular file");
  text = read_file(path);
  std::string code = strip_comments(text);
  static const std::regex filter_re(R"(SLUICE_FILTER\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*([^()]*?)\s*\))");
  std::vector<std::smatch> found;
  for (auto it = std::sregex_iterator(code.begin(), code.end(), filter_re); it != std::sregex_iterator(); ++it)
    found.push_back(*it);
  if (found.empty())
    throw UsageError(path + ": no SLUICE_FILTER(name, struct params) found (docs/where.md, \"User C filters\")");
  if (found.size() > 1) throw UsageError(path + ": more than one SLUICE_FILTER; a filter file defines exactly one");
  std::string name = found[0][1].str(), type = found[0][2].str();
  if (name == "where" || name.starts_with("compiled_"))
    throw UsageError(path + ": the filter name '" + name + "' is reserved; choose another");

  std::string abs = absolute_path(path);
  Hasher h;
  h.add("user");
  h.add(abs);
  h.add(text);
  h.add(abi_fingerprint());
  std::string root = cache_root(options);
  std::string key = h.hex();
  std::string dir = entry_directory(root, key);
  std::string include_dir = fs::path(abs).parent_path().string();
  auto cf = std::make_shared<CompiledFilter>(CompiledFilter::Origin::user, path, name, abs, dir, key, include_dir, options);
  std::string wrapper = "/* Native entry points of a compiled filter (generated by sluice). */\n#include " +
                        c_string_literal(abs) +
                        "\nint sluice_compiled_entry(const void *p, const sluice_u8 *rec, sluice_u32 len)\n"
                        "{\n\treturn sluice_native_" + name + "(p, rec, len);\n}\n"
                        "const sluice_u32 sluice_compiled_params_size = sizeof(" + type + ");\n"
                        "extern const " + type + " sluice_defaults __attribute__((weak));\n"
                        "const void *sluice_compiled_defaults(void)\n{\n\treturn &sluice_defaults;\n}\n";
  build_all(*cf, wrapper, include_dir, options);
  std::vector<std::byte> params = cf->default_params;
  if (params.size() < sizeof(sluice_param_header))
    throw UsageError(path + ": the parameter struct " + type + " must start with struct sluice_param_header");
  sluice_param_header hdr;
  std::memcpy(&hdr, params.data(), sizeof hdr);
  if (hdr.required_literal.len > SLUICE_NEEDLE_MAX)
    throw UsageError(path + ": sluice_defaults declares a required literal longer than " +
                     std::to_string(SLUICE_NEEDLE_MAX) + " bytes");
  if (std::memchr(hdr.required_literal.bytes, '\n', hdr.required_literal.len))
    throw UsageError(path + ": a required literal cannot contain a newline (records never do)");
  if (hdr.constant > SLUICE_VERDICT_DROP_ALL) throw UsageError(path + ": sluice_defaults.hdr.constant is not a SLUICE_VERDICT_*");
  // Probe offsets must lie inside the literal (any such offsets give the same result).
  for (sluice_u32& p : hdr.required_literal.probe)
    if (p >= hdr.required_literal.len) p = 0;
  std::memcpy(params.data(), &hdr, sizeof hdr);
  return Filter::from_compiled(cf, std::move(params));
}

}  // namespace sluice
