// sluice: scan files with filters that run where the data flows.
#include "commands.hpp"
#include "user_filters.hpp"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace sluice::cli {
int serve_command(const std::vector<std::string>& args);  // serve_command.cpp
}

namespace {

constexpr const char* kUsage =
    "usage: sluice <command> [options]\n"
    "\n"
    "commands:\n"
    "  scan    print the records of files that match a filter (grep -F / column compare)\n"
    "  probe   report which kernel capabilities this machine has, and why any is missing\n"
    "  verify  compile a filter (FILE.c or --where EXPR) and report whether each BPF host loads it\n"
    "  serve   serve files to remote scans, filtering on the server or the client (docs/network.md)\n"
    "\n"
    "'sluice <command> --help' describes a command.\n";

// libbpf's own messages would bury ours; sluice reports load failures itself (with the
// verifier's reason). SLUICE_DEBUG=1 shows them.
int quiet_libbpf(enum libbpf_print_level, const char* format, va_list args) {
  static const bool debug = std::getenv("SLUICE_DEBUG") != nullptr;
  return debug ? std::vfprintf(stderr, format, args) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  libbpf_set_print(quiet_libbpf);
  if (argc < 2) {
    std::cerr << kUsage;
    return sluice::cli::kExitError;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "scan") return sluice::cli::scan_command(args);
  if (command == "probe") return sluice::cli::probe_command(args);
  if (command == "verify") return sluice::cli::verify_command(args);
  if (command == "serve") return sluice::cli::serve_command(args);
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "--version") {
    std::cout << "sluice 0.1.0\n";
    return 0;
  }
  std::cerr << "sluice: unknown command '" << command << "'\n" << kUsage;
  return sluice::cli::kExitError;
}
