// The subcommands of the `sluice` CLI. Each returns the process exit status
// (grep's convention: 0 something matched / succeeded, 1 nothing matched, 2 error).
#pragma once

#include <string>
#include <vector>

namespace sluice::cli {

constexpr int kExitMatch = 0;
constexpr int kExitNoMatch = 1;
constexpr int kExitError = 2;

int scan_command(const std::vector<std::string>& args);
int probe_command(const std::vector<std::string>& args);

}  // namespace sluice::cli
