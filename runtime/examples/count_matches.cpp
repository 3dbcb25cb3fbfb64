// count_matches: an application built against an installed libsluice.
//
//   count_matches PATTERN FILE...
//
// Counts, per FILE, the records (lines) that contain PATTERN as a fixed string, like
// `grep -c -F PATTERN FILE...`, and prints:
//   stdout  one "FILE:COUNT" line per file, in argument order
//   stderr  the scan statistics summed over every file (sluice::stats_to_text)
// Exit status follows grep: 0 if some record matched, 1 if none did, 2 on any error. An
// unreadable file is reported and skipped (the others are still counted), as grep does.
//
// Build it with CMake (see CMakeLists.txt next to this file):
//   cmake -S . -B build -DCMAKE_PREFIX_PATH=/where/sluice/is/installed && cmake --build build
// or with pkg-config:
//   g++ -std=c++20 count_matches.cpp $(pkg-config --cflags --libs --static sluice) -o count_matches

#include <sluice/error.hpp>    // sluice::Error, sluice::UsageError
#include <sluice/filter.hpp>   // sluice::Filter, sluice::FixedStringSpec
#include <sluice/report.hpp>   // sluice::stats_to_text
#include <sluice/scanner.hpp>  // sluice::Scanner, sluice::ScanOptions, sluice::RecordBatch
#include <sluice/stats.hpp>    // sluice::ScanStats

#include <cstdint>
#include <exception>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: count_matches PATTERN FILE...\n";
    return 2;
  }

  try {
    // 1. The filter: which compiled filter runs, with which parameters. Filter::make
    //    validates the spec and throws sluice::UsageError for bad input (e.g. a pattern
    //    longer than the filters can carry). One Filter can serve any number of Scanners.
    sluice::FixedStringSpec spec;
    spec.patterns = {argv[1]};
    const sluice::Filter filter = sluice::Filter::make(spec);

    // 2. How to read. The defaults pick the best backend for this machine; set
    //    options.backend = sluice::BackendKind::uring (or read, mmap) to choose one.
    const sluice::ScanOptions options;

    sluice::ScanStats total;  // summed over the files with +=
    bool any_match = false;
    bool any_error = false;

    for (int i = 2; i < argc; ++i) {
      const std::string path = argv[i];
      try {
        // 3. One Scanner per file. It copies what it needs of the filter, so `filter`
        //    could even go away now. Opening errors throw sluice::Error naming the file.
        sluice::Scanner scanner(path, filter, options);

        // 4. Pull batches of matching records until next() returns false. The batch is
        //    reused: next() replaces its contents.
        sluice::RecordBatch batch;
        std::uint64_t count = 0;
        while (scanner.next(batch)) {
          // Each record is a std::string_view into the Scanner's buffer, without its '\n'.
          // It stays valid only until the next call to next(): copy it (std::string) if
          // you need it longer. Here we only count.
          count += batch.records.size();
        }

        // 5. The statistics of this scan (the Scanner counted records_out as well).
        total += scanner.stats();
        any_match = any_match || count > 0;
        std::cout << path << ':' << count << '\n';
      } catch (const sluice::UsageError&) {
        throw;  // a usage problem is not specific to this file: stop below
      } catch (const sluice::Error& e) {
        // A system failure for this file (missing, unreadable, a directory, I/O error):
        // the message already names the file and the reason.
        std::cerr << "count_matches: " << e.what() << '\n';
        any_error = true;
      }
    }

    std::cout.flush();
    std::cerr << sluice::stats_to_text(total);
    if (any_error) return 2;
    return any_match ? 0 : 1;
  } catch (const sluice::Error& e) {  // UsageError included
    std::cerr << "count_matches: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {  // std::bad_alloc and the like
    std::cerr << "count_matches: " << e.what() << '\n';
    return 2;
  }
}
