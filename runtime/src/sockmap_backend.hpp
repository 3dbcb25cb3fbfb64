// The sockmap backend: filters a file inside the kernel on its way through a sockmap'd TCP
// socket (kernel-bpf/sk_msg_filter.bpf.c), so only kept records (and the boundary records
// the kernel cannot judge) reach user space.
#pragma once

#include <sluice/scanner.hpp>

#include <memory>
#include <string>

namespace sluice {

std::unique_ptr<Backend> make_sockmap_backend(const std::string& path, const Filter& filter,
                                              const ScanOptions& options);

}  // namespace sluice
