// The generic face of a bpftool skeleton. kernel-bpf/CMakeLists.txt generates one
// SkeletonOps per (host program, filter) pair from skeleton_entry.cpp.in, so the loader can
// pick a skeleton by name at run time while each entry still uses its typed skeleton.
#pragma once

#include <bpf/libbpf.h>

#include <cstddef>
#include <span>
#include <string_view>

namespace sluice::bpf {

struct SkeletonOps {
  const char* host;
  const char* filter;
  std::size_t params_size;
  void* (*open)(const struct bpf_object_open_opts* opts);
  int (*load)(void* skel);
  void (*destroy)(void* skel);
  struct bpf_object* (*object)(void* skel);
  void* (*params)(void* skel);      // the filter's parameter block in .rodata (verifier constants)
  void* (*params_mem)(void* skel);  // its copy in .data (memory primitives can point into)
};

std::span<const SkeletonOps* const> all_skeletons();

}  // namespace sluice::bpf
