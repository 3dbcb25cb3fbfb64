// The subjects of a benchmark: sluice backends and the peer tools users would pick instead.
// Their commands are data, not code: bench/peers/peers.tsv holds one command template per
// (subject, filter), and --extra-peer adds more at run time (the tests inject a deliberately
// wrong peer that way).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sluice::bench {

enum class CountKind {
  sluice_json,  // `sluice scan -c --json` report: matches, bytes, records, BPF statistics
  stdout_count, // the last integer on stdout is the match count (empty stdout: 0)
  none,         // no count (dd, the copy ceiling): success is exit status 0
};

struct SubjectTemplate {
  std::string name;                  // "sluice" for the sluice rows, else the peer's name
  std::vector<std::string> filters;  // filter names it implements; "*" = every filter
  std::string mode;                  // how it reads the data, e.g. "read", "mmap", "O_DIRECT"
  bool direct = false;               // reads with O_DIRECT (runs in cache state "direct" only)
  CountKind count = CountKind::stdout_count;
  std::vector<std::string> needs;    // executables in $PATH, or npm:PACKAGE in --node-modules
  std::string command;               // /bin/sh template with {placeholders}
  std::string origin;                // "peers.tsv:12" or "--extra-peer"

  bool implements(const std::string& filter) const;
};

// Placeholders a template may use (values are shell-quoted where that matters).
const std::vector<std::string>& known_placeholders();

// Parses the table; throws BenchUsageError naming file:line on a malformed line or an unknown
// placeholder.
std::vector<SubjectTemplate> load_subject_table(const std::string& path);

// NAME[:FILTER,FILTER...]=TEMPLATE (filters default to "*"); mode "extra", count from stdout.
SubjectTemplate parse_extra_peer(const std::string& spec);

// Replaces every {name} by vars.at(name); throws BenchUsageError on an unknown name.
std::string expand_template(const std::string& tmpl, const std::map<std::string, std::string>& vars);

std::string to_string(CountKind kind);

}  // namespace sluice::bench
