// net::OrderedStreams, the client's reader of a transfer's data connections: the parts come
// out in file order whatever order their bytes arrive in; while the current part waits,
// later parts are read ahead (their senders finish early), never more than the limit.
#include "net/ordered_streams.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace sluice::net {
namespace {

struct Pair {
  UniqueFd reader, writer;
};

Pair make_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  timeval give_up{5, 0};  // a writer nobody reads fails the test instead of hanging it
  ::setsockopt(fds[1], SOL_SOCKET, SO_SNDTIMEO, &give_up, sizeof give_up);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::string part(char c, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<char>(c + static_cast<char>(i % 7));
  return s;
}

void write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// Reads everything (with a deadline), calling `each` after every step.
template <class Each>
std::string read_all(OrderedStreams& streams, Each each) {
  std::string out;
  std::vector<char> buffer(64 << 10);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::span<const char> bytes;
    OrderedStreams::Got got = streams.next(bytes, buffer);
    each();
    if (got == OrderedStreams::Got::end) return out;
    if (got == OrderedStreams::Got::data) out.append(bytes.data(), bytes.size());
    else streams.wait(-1, 50);
  }
  ADD_FAILURE() << "not done in 20 s";
  return out;
}

// Parts 1 and 2 are written (far more than a socket buffer) and closed before a byte of
// part 0: only reading them ahead lets their writers finish, and part 0 still comes first.
TEST(OrderedStreams, LaterPartsAreReadAheadAndDeliveredInOrder) {
  std::vector<Pair> pairs;
  for (int i = 0; i < 3; ++i) pairs.push_back(make_pair());
  const std::string p0 = part('a', 3 << 20), p1 = part('h', 4 << 20), p2 = part('o', 5 << 20);
  std::vector<UniqueFd> readers;
  for (Pair& p : pairs) readers.push_back(std::move(p.reader));
  std::uint64_t received = 0;
  OrderedStreams streams(std::move(readers), received, "test");
  std::thread writer([&] {
    std::thread w1([&] { write_all(pairs[1].writer.get(), p1); pairs[1].writer.reset(); });
    std::thread w2([&] { write_all(pairs[2].writer.get(), p2); pairs[2].writer.reset(); });
    w1.join();
    w2.join();
    write_all(pairs[0].writer.get(), p0);
    pairs[0].writer.reset();
  });
  std::size_t most = 0;
  std::string out = read_all(streams, [&] { most = std::max(most, streams.buffered()); });
  writer.join();
  EXPECT_TRUE(out == p0 + p1 + p2) << out.size() << " bytes";
  EXPECT_EQ(received, p0.size() + p1.size() + p2.size());
  EXPECT_GT(most, p1.size()) << "parts 1 and 2 were not read ahead";
  EXPECT_EQ(streams.buffered(), 0u);
}

// With a small limit, a later part waits in its socket buffer once the limit is held; the
// output is the same, and the memory held never passes the limit.
TEST(OrderedStreams, ReadAheadStaysWithinItsLimit) {
  std::vector<Pair> pairs;
  for (int i = 0; i < 2; ++i) pairs.push_back(make_pair());
  const std::string p0 = part('a', 2 << 20), p1 = part('h', 6 << 20);
  std::vector<UniqueFd> readers;
  for (Pair& p : pairs) readers.push_back(std::move(p.reader));
  std::uint64_t received = 0;
  constexpr std::size_t kLimit = 1 << 20;
  OrderedStreams streams(std::move(readers), received, "test", kLimit);
  std::atomic<bool> p1_done = false;
  std::thread w1([&] {
    write_all(pairs[1].writer.get(), p1);
    pairs[1].writer.reset();
    p1_done = true;
  });
  std::thread w0([&] {
    // Part 0 comes once the reader holds the limit of part 1 (or after a second).
    for (int i = 0; i < 100 && streams.buffered() < kLimit; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_FALSE(p1_done) << "part 1 was written whole before part 0 was read: the limit did not hold";
    write_all(pairs[0].writer.get(), p0);
    pairs[0].writer.reset();
  });
  std::size_t most = 0;
  std::string out = read_all(streams, [&] { most = std::max(most, streams.buffered()); });
  w0.join();
  w1.join();
  EXPECT_TRUE(out == p0 + p1) << out.size() << " bytes";
  EXPECT_LE(most, kLimit);
  EXPECT_EQ(most, kLimit) << "the limit was never reached";
}

}  // namespace
}  // namespace sluice::net
