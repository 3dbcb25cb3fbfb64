// What makes a result file self-describing: the machine, the kernel, the source revision and
// the versions of every tool measured.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sluice::bench {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// git revision (+dirty), kernel, CPU model, cores, memory, OS, clock source, virtualisation.
Metadata environment_metadata(const std::string& source_dir);

// "grep: grep 3.8-5" style: the Debian package owning an executable and its version, or the
// tool's own --version line when dpkg does not know it.
std::string executable_version(const std::string& executable);

// Version of an npm package installed in node_modules ("" if absent).
std::string npm_package_version(const std::string& node_modules, const std::string& package);

}  // namespace sluice::bench
