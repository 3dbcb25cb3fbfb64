#include "commands.hpp"

#include <sluice/probe.hpp>

#include <iostream>

namespace sluice::cli {

int probe_command(const std::vector<std::string>& args) {
  bool json = false;
  for (const std::string& a : args) {
    if (a == "--json") {
      json = true;
    } else if (a == "--help" || a == "-h") {
      std::cout << "usage: sluice probe [--json]\n"
                   "Reports the kernel capabilities sluice can use here and why any is missing.\n";
      return kExitMatch;
    } else {
      std::cerr << "sluice probe: unknown option '" << a << "'\n";
      return kExitError;
    }
  }
  ProbeReport report = probe_system();
  std::cout << (json ? format_probe_json(report) : format_probe_text(report));
  if (json) std::cout << '\n';
  return kExitMatch;
}

}  // namespace sluice::cli
