// Filters the user writes (a --where expression, a C file) for the CLI: compiled at run time
// (sluice/compiled_filter.hpp), and `sluice verify`.
#pragma once

#include <sluice/filter.hpp>
#include <sluice/format.hpp>
#include <sluice/scanner.hpp>

#include <optional>
#include <string>
#include <vector>

namespace sluice::cli {

// The first line of a file (without '\n'; a CR stays): its header. nullopt for an empty file.
std::optional<std::string> read_first_line(const std::string& path);

// --format NAME, --schema TEXT and the -d delimiter if given: tsv is lines split on tabs (a
// -d other than a tab is an error), binary needs a schema (and only binary takes one).
// Throws UsageError / expr::ParseError.
RecordLayout parse_record_layout(const std::string& format, const std::string& schema, std::optional<char> delimiter);

// Compiles --where EXPR for `backend` (the BPF build is made up front when the backend needs
// it). `header` names the columns for col(), and for bare names when the user declared it
// (`header_declared`: --header); throws expr::ParseError / CompileError / Error.
Filter make_where_filter(const std::string& expression, const RecordLayout& layout,
                         const std::vector<std::string>& header, BackendKind backend,
                         bool header_declared);

// Compiles a user's C filter and has the kernel verify its BPF build (xdp_record host) before
// anything runs natively: a filter the verifier rejects (unbounded loop, out-of-bounds
// access) throws BpfLoadError with the reason and the user's line. Without the privilege to
// load BPF it warns on stderr and goes on.
Filter make_user_filter(const std::string& path, BackendKind backend);

int verify_command(const std::vector<std::string>& args);

}  // namespace sluice::cli
