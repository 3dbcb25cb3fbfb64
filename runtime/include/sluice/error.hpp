// Errors that carry context: what was being done, to what, and the system's reason.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// "context: strerror(err)". err is an errno value (positive).
Error system_error(std::string_view context, int err);

// Raised for a user mistake (bad argument, bad filter parameter): the CLI exits 2 on any
// Error, this type only lets callers tell usage problems from system failures.
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace sluice
