// Cutting a file into consecutive parts at record boundaries, for parallel streams: the
// local sockmap backend (one loopback pair per part) and `sluice serve` (one data
// connection per part). Each part holds whole records, so the parts can be filtered
// independently and their outputs concatenated in order.
#pragma once

#include <sluice/filter.hpp>
#include <sluice/scanner.hpp>  // kMaxStreams

#include "chunk_source.hpp"

#include <cstdint>
#include <vector>

namespace sluice {

// Bytes [begin, end) of a file; end == kWholeFile: to its end.
struct ByteRange {
  static constexpr std::uint64_t kWholeFile = ~std::uint64_t{0};
  std::uint64_t begin = 0;
  std::uint64_t end = kWholeFile;
};

// Up to `parts` parts, cut after the first newline at or after each even split (lines,
// TSV, JSON lines) or at a record boundary (fixed-size records). CSV is never cut: a
// newline may sit inside quotes, which only a read from the start can tell. Fewer parts
// when a record spans a split point to the end of the file. The last part runs to
// kWholeFile, so a file that grows is read as far as a single stream would.
std::vector<ByteRange> split_at_records(const OpenedFile& file, const Filter& filter, unsigned parts);

// The automatic stream count: one per CPU, at most 2, and only for files of 64 MiB a
// stream, so that the extra program load (a verifier run) is small beside the scan.
unsigned automatic_stream_count(std::uint64_t file_size);

}  // namespace sluice
