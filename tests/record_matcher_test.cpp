// Framing: records reassembled across chunk boundaries, whatever the boundaries are.
#include <gtest/gtest.h>

#include <sluice/filter.hpp>

#include "byte_search.hpp"
#include "record_matcher.hpp"

#include <random>
#include <string>
#include <vector>

namespace sluice {
namespace {

// The reference: split on '\n', a last unterminated record counts, keep those containing
// the needle.
std::vector<std::string> reference(const std::string& data, const std::string& needle, bool invert = false) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < data.size()) {
    std::size_t nl = data.find('\n', start);
    std::size_t end = nl == std::string::npos ? data.size() : nl;
    std::string rec = data.substr(start, end - start);
    if ((rec.find(needle) != std::string::npos) != invert) out.push_back(rec);
    start = end + 1;
  }
  return out;
}

std::vector<std::string> run(const Filter& filter, const std::string& data, const std::vector<std::size_t>& cuts,
                             std::uint64_t* records_in = nullptr) {
  RecordMatcher matcher(filter, true);
  std::vector<std::string> out;
  std::vector<std::string_view> batch;
  std::size_t prev = 0;
  auto take = [&] {
    for (std::string_view r : batch) out.emplace_back(r);  // copy before views expire
    batch.clear();
  };
  for (std::size_t cut : cuts) {
    matcher.feed(std::span<const char>(data.data() + prev, cut - prev), batch);
    take();
    prev = cut;
  }
  matcher.feed(std::span<const char>(data.data() + prev, data.size() - prev), batch);
  take();
  matcher.finish(batch);
  take();
  if (records_in) *records_in = matcher.records_in();
  return out;
}

const std::vector<std::string> kInputs = {
    "",
    "\n",
    "\n\n\n",
    "needle",
    "needle\n",
    "a\nneedle\nb",
    "xneedle\r\nneedle\r\n\r\n",
    std::string("nee\0dle\nneedle\0\n", 17),
    "needleneedle\nneedneedle\nneedl\n",
};

TEST(RecordMatcher, EveryCutOfSmallInputsMatchesTheReference) {
  for (bool exact_literal : {true, false}) {
    // fixed string with one pattern takes the literal-first path; with two, record by record
    Filter filter = exact_literal ? Filter::make(FixedStringSpec{{"needle"}})
                                  : Filter::make(FixedStringSpec{{"needle", "needle"}});
    for (const std::string& in : kInputs) {
      auto expected = reference(in, "needle");
      for (std::size_t a = 0; a <= in.size(); ++a)
        for (std::size_t b = a; b <= in.size(); ++b) {
          ASSERT_EQ(run(filter, in, {a, b}), expected) << "cuts " << a << "," << b << " of '" << in << "'";
        }
    }
  }
}

TEST(RecordMatcher, RandomDataRandomCutsAndCountsRecords) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::string data;
    std::size_t n = rng() % 5000;
    for (std::size_t i = 0; i < n; ++i) {
      auto r = rng() % 20;
      data += r == 0 ? '\n' : r == 1 ? "needle"[rng() % 6] : r == 2 ? std::string("needle")[0] : "ab\r\0"[rng() % 4];
      if (rng() % 50 == 0) data += "needle";
    }
    std::vector<std::size_t> cuts;
    for (std::size_t c = rng() % 700; c < data.size(); c += 1 + rng() % 700) cuts.push_back(c);
    for (bool invert : {false, true}) {
      Filter filter = Filter::make(FixedStringSpec{{"needle"}, false, invert});
      std::uint64_t records_in = 0;
      ASSERT_EQ(run(filter, data, cuts, &records_in), reference(data, "needle", invert)) << round;
      std::uint64_t expected_records = count_byte(data.data(), data.size(), '\n') + (!data.empty() && data.back() != '\n');
      EXPECT_EQ(records_in, expected_records);
    }
  }
}

TEST(RecordMatcher, RecordLongerThanManyChunks) {
  std::string big(1 << 20, 'q');
  big.replace(700000, 6, "needle");
  std::string data = "short needle\n" + big + "\nlast";
  std::vector<std::size_t> cuts;
  for (std::size_t c = 4096; c < data.size(); c += 4096) cuts.push_back(c);
  Filter filter = Filter::make(FixedStringSpec{{"needle"}});
  auto got = run(filter, data, cuts);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "short needle");
  EXPECT_EQ(got[1], big);
}

TEST(LiteralSearcher, AgreesWithStdFind) {
  std::mt19937_64 rng(1);
  for (int round = 0; round < 3000; ++round) {
    std::string hay;
    std::size_t n = rng() % 300;
    for (std::size_t i = 0; i < n; ++i) hay += "aab\nc"[rng() % 5];
    std::string needle;
    std::size_t m = 1 + rng() % 6;
    for (std::size_t i = 0; i < m; ++i) needle += "abc"[rng() % 3];
    LiteralSearcher s(needle);
    if (round % 2) s.calibrate(std::span<const char>(hay.data(), hay.size()));
    for (std::size_t from = 0; from <= hay.size(); from += 1 + rng() % 50) {
      const char* got = s.find(hay.data() + from, hay.data() + hay.size());
      std::size_t want = hay.find(needle, from);
      ASSERT_EQ(got ? static_cast<std::size_t>(got - hay.data()) : std::string::npos, want)
          << "needle '" << needle << "' from " << from << " in '" << hay << "'";
    }
  }
}

TEST(CountByte, AgreesWithStdCount) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 200; ++round) {
    std::string s(rng() % 1000, 'x');
    for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? '\n' : 'a');
    std::size_t off = s.empty() ? 0 : rng() % s.size();
    EXPECT_EQ(count_byte(s.data() + off, s.size() - off, '\n'),
              static_cast<std::size_t>(std::count(s.begin() + static_cast<std::ptrdiff_t>(off), s.end(), '\n')));
  }
}

}  // namespace
}  // namespace sluice
