#include "dataset.hpp"

#include "json.hpp"
#include "util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace sluice::bench {
namespace ds = sluice::datasets;

namespace {

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string size_text(std::uint64_t bytes) {
  if (bytes % (1ull << 30) == 0) return std::to_string(bytes >> 30) + "G";
  if (bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + "M";
  if (bytes % (1ull << 10) == 0) return std::to_string(bytes >> 10) + "K";
  return std::to_string(bytes);
}

std::string cksum_of(const std::string& path) {
  std::string out = capture_command("cksum " + shell_quote(path));
  std::vector<std::string> f = split(out, ' ');
  if (f.size() < 2) throw std::runtime_error("cksum failed on " + path);
  return f[0] + " " + f[1];
}

std::uint64_t file_size(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return ~0ull;
  return static_cast<std::uint64_t>(st.st_size);
}

std::string sidecar_json(const std::string& command, const ds::GenResult& r, const std::string& cksum) {
  json::Writer w;
  w.begin_object();
  w.key("command").string(command);
  w.key("records").uinteger(r.records);
  w.key("bytes").uinteger(r.bytes);
  w.key("literal_records").uinteger(r.literal_records);
  w.key("literal_bytes").uinteger(r.literal_bytes);
  w.key("value_gt_records").uinteger(r.value_gt_records);
  w.key("min_record_bytes").uinteger(r.min_record_bytes);
  w.key("max_record_bytes").uinteger(r.max_record_bytes);
  w.key("cksum").string(cksum);
  w.end_object();
  return w.str() + "\n";
}

// A previously generated shard, if its sidecar describes the same command and the bytes on
// disk still have the recorded cksum.
bool try_reuse(const std::string& path, const std::string& command, DatasetShard& shard) {
  auto text = read_text_file(path + ".meta.json");
  if (!text) return false;
  try {
    json::Value v = json::parse(*text);
    const json::Value* cmd = v.find("command");
    const json::Value* ck = v.find("cksum");
    if (!cmd || cmd->text != command || !ck) return false;
    ds::GenResult r;
    r.records = v.u64_at("records").value_or(0);
    r.bytes = v.u64_at("bytes").value_or(0);
    r.literal_records = v.u64_at("literal_records").value_or(0);
    r.literal_bytes = v.u64_at("literal_bytes").value_or(0);
    r.value_gt_records = v.u64_at("value_gt_records").value_or(0);
    r.min_record_bytes = v.u64_at("min_record_bytes").value_or(0);
    r.max_record_bytes = v.u64_at("max_record_bytes").value_or(0);
    if (file_size(path) != r.bytes) return false;
    std::string now = cksum_of(path);
    if (now != ck->text) return false;
    shard.path = path;
    shard.result = r;
    shard.cksum = now;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::string DatasetSpec::id() const {
  std::string safe;
  for (char c : needle)
    if (std::isalnum(static_cast<unsigned char>(c)) && safe.size() < 16) safe += c;
  char hash[20];
  std::snprintf(hash, sizeof hash, "%08llx", static_cast<unsigned long long>(fnv1a(needle) & 0xffffffffu));
  std::string sel;
  for (char c : selectivity.text)
    sel += (c == '%') ? std::string("pct") : std::string(1, c);
  return "d-" + safe + "-" + hash + "-s" + sel + "-r" + std::to_string(record_size) + "-f" + size_text(file_size) +
         "-x" + std::to_string(shards) + "-seed" + std::to_string(seed);
}

ds::GenOptions DatasetSpec::shard_options(unsigned shard) const {
  ds::GenOptions o;
  o.seed = seed + shard;
  o.size = file_size / shards;
  o.min_length = o.max_length = record_size;
  o.literal = needle;
  o.literal_selectivity = selectivity;
  o.value_threshold = threshold;
  o.value_fraction = selectivity;
  return o;
}

std::string DatasetSpec::gen_command(unsigned shard) const {
  ds::GenOptions o = shard_options(shard);
  return "sluice-gen --seed " + std::to_string(o.seed) + " --size " + std::to_string(*o.size) + " --record-length " +
         std::to_string(record_size) + " --literal " + shell_quote(needle) + " --selectivity " +
         shell_quote(selectivity.text) + " --value-threshold " + std::to_string(threshold) + " --value-fraction " +
         shell_quote(selectivity.text);
}

std::vector<std::string> Dataset::paths() const {
  std::vector<std::string> p;
  for (const auto& s : shards) p.push_back(s.path);
  return p;
}

std::string Dataset::checksum() const {
  std::vector<std::string> c;
  for (const auto& s : shards) c.push_back(s.cksum);
  return join(c, ";");
}

Dataset prepare_dataset(const DatasetSpec& spec, const std::string& work_dir, bool reuse) {
  Dataset d;
  d.spec = spec;
  auto t0 = std::chrono::steady_clock::now();
  bool all_reused = true;
  for (unsigned i = 0; i < spec.shards; ++i) {
    std::string path = work_dir + "/" + spec.id() + "." + std::to_string(i) + ".csv";
    std::string command = spec.gen_command(i);
    DatasetShard shard;
    if (!(reuse && try_reuse(path, command, shard))) {
      all_reused = false;
      ds::GenOptions o = spec.shard_options(i);
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
      try {
        ds::FdSink sink(fd, path);
        shard.result = ds::generate(o, sink);
      } catch (...) {
        ::close(fd);
        throw;
      }
      ::fdatasync(fd);
      ::close(fd);
      shard.path = path;
      shard.cksum = cksum_of(path);
      write_text_file(path + ".meta.json", sidecar_json(command, shard.result, shard.cksum));
    }
    d.bytes += shard.result.bytes;
    d.records += shard.result.records;
    d.literal_records += shard.result.literal_records;
    d.value_gt_records += shard.result.value_gt_records;
    d.shards.push_back(std::move(shard));
  }
  d.reused = all_reused;
  d.generate_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return d;
}

void remove_dataset(const Dataset& dataset) {
  for (const auto& s : dataset.shards) {
    ::unlink(s.path.c_str());
    ::unlink((s.path + ".meta.json").c_str());
  }
}

}  // namespace sluice::bench
