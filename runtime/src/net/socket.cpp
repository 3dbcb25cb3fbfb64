#include "net/socket.hpp"

#include <sluice/error.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::net {

std::uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

void SocketAddress::set_port(std::uint16_t port) {
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(port);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(port);
}

std::string SocketAddress::host() const {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (family() == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
  else if (family() == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf, sizeof buf);
  return buf;
}

std::string SocketAddress::to_string() const {
  // (appends, not operator+: GCC 12 warns falsely about the temporaries, -Wrestrict)
  std::string out;
  if (family() == AF_INET6) out.append("[");
  out.append(host());
  if (family() == AF_INET6) out.append("]");
  out.append(":");
  out.append(std::to_string(port()));
  return out;
}

bool SocketAddress::same_host(const SocketAddress& o) const {
  if (family() != o.family()) return false;
  if (family() == AF_INET)
    return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(&o.storage)->sin_addr.s_addr;
  if (family() == AF_INET6)
    return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr,
                       &reinterpret_cast<const sockaddr_in6*>(&o.storage)->sin6_addr, sizeof(in6_addr)) == 0;
  return false;
}

SocketAddress resolve(std::string_view host_port, bool passive) {
  std::string host, port;
  if (!host_port.empty() && host_port.front() == '[') {
    std::size_t close = host_port.find(']');
    if (close == std::string_view::npos || close + 1 >= host_port.size() || host_port[close + 1] != ':')
      throw UsageError("address '" + std::string(host_port) + "' is not [IPV6]:PORT");
    host = std::string(host_port.substr(1, close - 1));
    port = std::string(host_port.substr(close + 2));
  } else {
    std::size_t colon = host_port.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
      throw UsageError("address '" + std::string(host_port) + "' is not HOST:PORT");
    host = std::string(host_port.substr(0, colon));
    port = std::string(host_port.substr(colon + 1));
  }
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
      std::stoul(port) > 65535)
    throw UsageError("port '" + port + "' in '" + std::string(host_port) + "' is not a number 0..65535");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || !res)
    throw UsageError("cannot resolve '" + host + "': " + (rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc)));
  SocketAddress a;
  std::memcpy(&a.storage, res->ai_addr, res->ai_addrlen);
  a.length = res->ai_addrlen;
  ::freeaddrinfo(res);
  return a;
}

SocketAddress local_address(int fd) {
  SocketAddress a;
  a.length = sizeof a.storage;
  if (::getsockname(fd, a.get(), &a.length) != 0) throw system_error("getsockname", errno);
  return a;
}

SocketAddress peer_address(int fd) {
  SocketAddress a;
  a.length = sizeof a.storage;
  if (::getpeername(fd, a.get(), &a.length) != 0) throw system_error("getpeername", errno);
  return a;
}

UniqueFd listen_on(const SocketAddress& address, int backlog) {
  UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw system_error("socket", errno);
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), address.get(), address.length) != 0)
    throw system_error("binding " + address.to_string(), errno);
  if (::listen(fd.get(), backlog) != 0) throw system_error("listening on " + address.to_string(), errno);
  return fd;
}

UniqueFd connect_to(const SocketAddress& address, double timeout_seconds) {
  UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throw system_error("socket", errno);
  if (::connect(fd.get(), address.get(), address.length) != 0) {
    if (errno != EINPROGRESS) throw system_error("connecting to " + address.to_string(), errno);
    pollfd pfd{fd.get(), POLLOUT, 0};
    int n;
    do n = ::poll(&pfd, 1, static_cast<int>(timeout_seconds * 1000)); while (n < 0 && errno == EINTR);
    if (n == 0) throw Error("connecting to " + address.to_string() + ": timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) throw system_error("connecting to " + address.to_string(), err);
  }
  int flags = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

std::chrono::microseconds rtt_of(int tcp_fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(tcp_fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 || info.tcpi_rtt == 0)
    return std::chrono::microseconds(1000);
  return std::chrono::microseconds(info.tcpi_rtt);
}

std::string random_token() {
  std::string t(16, '\0');
  std::size_t done = 0;
  while (done < t.size()) {
    ssize_t n = ::getrandom(t.data() + done, t.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw system_error("getrandom", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return t;
}

std::uint32_t random_u32() {
  std::string t = random_token();
  std::uint32_t v;
  std::memcpy(&v, t.data(), sizeof v);
  return v;
}

}  // namespace sluice::net
