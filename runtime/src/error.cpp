#include <sluice/error.hpp>

#include <cstring>
#include <string>

namespace sluice {

Error system_error(std::string_view context, int err) {
  std::string message(context);
  message += ": ";
  message += std::strerror(err);
  return Error(message);
}

}  // namespace sluice
