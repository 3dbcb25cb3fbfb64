// Addresses and sockets for the network paths.
#pragma once

#include "unique_fd.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::net {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  std::uint16_t port() const;
  void set_port(std::uint16_t port);
  std::string host() const;       // numeric
  std::string to_string() const;  // "1.2.3.4:5" or "[::1]:5"
  bool same_host(const SocketAddress& other) const;
};

// "HOST:PORT" or "[V6]:PORT" (HOST may be a name). Throws UsageError.
SocketAddress resolve(std::string_view host_port, bool passive);
SocketAddress local_address(int fd);
SocketAddress peer_address(int fd);

UniqueFd listen_on(const SocketAddress& address, int backlog);
// Blocking connect with a timeout; the socket comes back blocking, close-on-exec.
UniqueFd connect_to(const SocketAddress& address, double timeout_seconds);

// The smoothed round-trip time of a TCP connection (TCP_INFO), 1 ms if unknown.
std::chrono::microseconds rtt_of(int tcp_fd);

// 16 bytes from getrandom(2).
std::string random_token();
std::uint32_t random_u32();

}  // namespace sluice::net
