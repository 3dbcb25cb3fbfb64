#include "subjects.hpp"

#include "util.hpp"

#include <algorithm>
#include <sstream>

namespace sluice::bench {

bool SubjectTemplate::implements(const std::string& filter) const {
  return std::find(filters.begin(), filters.end(), "*") != filters.end() ||
         std::find(filters.begin(), filters.end(), filter) != filters.end();
}

const std::vector<std::string>& known_placeholders() {
  static const std::vector<std::string> names = {
      "file",        // the data file (one shard), shell-quoted
      "literal",     // the needle of a literal filter, shell-quoted
      "column",      // 1-based column of a column filter
      "threshold",   // the column filter keeps records whose column > threshold
      "delimiter",   // field delimiter, shell-quoted
      "ncolumns",    // number of columns of a record
      "sluice",      // path of the sluice CLI, shell-quoted
      "backend_args",// sluice rows: -b BACKEND [--direct]
      "peers_dir",   // bench/peers (helper scripts), shell-quoted
      "node_modules",// directory holding npm packages (@duckdb/node-api), shell-quoted
      "filter",      // filter name (literal, literal-common, column)
      "filter_kind", // literal or column
  };
  return names;
}

std::string to_string(CountKind kind) {
  switch (kind) {
    case CountKind::sluice_json: return "sluice-json";
    case CountKind::stdout_count: return "stdout";
    case CountKind::none: return "none";
  }
  return "?";
}

namespace {

void check_placeholders(const std::string& tmpl, const std::string& where) {
  const auto& known = known_placeholders();
  for (std::size_t p = tmpl.find('{'); p != std::string::npos; p = tmpl.find('{', p + 1)) {
    std::size_t e = tmpl.find('}', p);
    if (e == std::string::npos) break;
    std::string name = tmpl.substr(p + 1, e - p - 1);
    bool identifier = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    if (!identifier) continue;  // awk's { ... } blocks and the like
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw BenchUsageError(where + ": unknown placeholder {" + name + "} (known: " + join(known, ", ") + ")");
  }
}

}  // namespace

std::vector<SubjectTemplate> load_subject_table(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) throw BenchUsageError("cannot read the peers table " + path);
  std::vector<SubjectTemplate> out;
  std::istringstream in(*text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    std::string where = path + ":" + std::to_string(lineno);
    // Six whitespace-separated fields, then the command (rest of the line).
    std::vector<std::string> f;
    std::size_t pos = 0;
    for (int i = 0; i < 6; ++i) {
      while (pos < t.size() && (t[pos] == ' ' || t[pos] == '\t')) ++pos;
      std::size_t end = t.find_first_of(" \t", pos);
      if (end == std::string::npos) end = t.size();
      f.push_back(t.substr(pos, end - pos));
      pos = end;
    }
    std::string command = trim(t.substr(std::min(pos, t.size())));
    if (command.empty() || f[5].empty())
      throw BenchUsageError(where + ": expected 'name filters mode direct count needs command...'");
    SubjectTemplate s;
    s.name = f[0];
    s.filters = split(f[1], ',');
    s.mode = f[2];
    if (f[3] == "yes") s.direct = true;
    else if (f[3] != "no") throw BenchUsageError(where + ": direct must be yes or no, not '" + f[3] + "'");
    if (f[4] == "sluice-json") s.count = CountKind::sluice_json;
    else if (f[4] == "stdout") s.count = CountKind::stdout_count;
    else if (f[4] == "none") s.count = CountKind::none;
    else throw BenchUsageError(where + ": count must be sluice-json, stdout or none, not '" + f[4] + "'");
    if (f[5] != "-") s.needs = split(f[5], ',');
    s.command = command;
    s.origin = where;
    check_placeholders(s.command, where);
    out.push_back(std::move(s));
  }
  return out;
}

SubjectTemplate parse_extra_peer(const std::string& spec) {
  std::size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 >= spec.size())
    throw BenchUsageError("--extra-peer takes NAME[:FILTERS]=COMMAND, not '" + spec + "'");
  std::string head = spec.substr(0, eq);
  SubjectTemplate s;
  std::size_t colon = head.find(':');
  s.name = head.substr(0, colon);
  s.filters = colon == std::string::npos ? std::vector<std::string>{"*"} : split(head.substr(colon + 1), ',');
  s.mode = "extra";
  s.count = CountKind::stdout_count;
  s.command = spec.substr(eq + 1);
  s.origin = "--extra-peer";
  if (s.name.empty() || s.name == "sluice" || s.name.find_first_of(" \t,") != std::string::npos)
    throw BenchUsageError("--extra-peer: bad name '" + s.name + "'");
  check_placeholders(s.command, "--extra-peer " + s.name);
  return s;
}

std::string expand_template(const std::string& tmpl, const std::map<std::string, std::string>& vars) {
  std::string out;
  std::size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] == '{') {
      std::size_t e = tmpl.find('}', i);
      if (e != std::string::npos) {
        std::string name = tmpl.substr(i + 1, e - i - 1);
        auto it = vars.find(name);
        if (it != vars.end()) {
          out += it->second;
          i = e + 1;
          continue;
        }
        bool identifier = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        });
        if (identifier && std::find(known_placeholders().begin(), known_placeholders().end(), name) !=
                              known_placeholders().end())
          throw BenchUsageError("placeholder {" + name + "} has no value here");
      }
    }
    out += tmpl[i++];
  }
  return out;
}

}  // namespace sluice::bench
