#include "net/protocol.hpp"

#include <sluice/remote.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <variant>

namespace sluice::net {

std::string_view to_string(FrameType type) {
  switch (type) {
    case FrameType::request: return "request";
    case FrameType::accept: return "accept";
    case FrameType::error: return "error";
    case FrameType::attach: return "attach";
    case FrameType::start: return "start";
    case FrameType::ack: return "ack";
    case FrameType::nack: return "nack";
    case FrameType::end: return "end";
    case FrameType::done: return "done";
    case FrameType::summary: return "summary";
    case FrameType::partials: return "partials";
  }
  return "unknown";
}

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::bad_request: return "bad_request";
    case ErrorCode::unsupported_version: return "unsupported_version";
    case ErrorCode::too_large: return "too_large";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::forbidden: return "forbidden";
    case ErrorCode::not_regular: return "not_regular";
    case ErrorCode::unknown_filter: return "unknown_filter";
    case ErrorCode::bad_parameter: return "bad_parameter";
    case ErrorCode::unknown_placement: return "unknown_placement";
    case ErrorCode::busy: return "busy";
    case ErrorCode::kernel: return "kernel";
    case ErrorCode::timeout: return "timeout";
    case ErrorCode::internal: return "internal";
    case ErrorCode::io: return "io";
    case ErrorCode::unavailable: return "unavailable";
  }
  return "unknown";
}

namespace {

void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
std::uint64_t get_be(const unsigned char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

bool known_type(std::uint8_t t) { return t >= 1 && t <= static_cast<std::uint8_t>(FrameType::partials); }

}  // namespace

Message& Message::add(Tag tag, std::string_view value) {
  fields_.push_back({static_cast<std::uint8_t>(tag), std::string(value)});
  return *this;
}

Message& Message::add_u64(Tag tag, std::uint64_t value) {
  std::string v;
  for (int shift = 56; shift >= 0; shift -= 8) v.push_back(static_cast<char>((value >> shift) & 0xff));
  fields_.push_back({static_cast<std::uint8_t>(tag), std::move(v)});
  return *this;
}

std::optional<std::string_view> Message::optional(Tag tag) const {
  std::optional<std::string_view> found;
  for (const Field& f : fields_) {
    if (f.tag != static_cast<std::uint8_t>(tag)) continue;
    if (found)
      throw ProtocolError(ErrorCode::bad_request, "field " + std::to_string(f.tag) + " given twice in a " +
                                                      std::string(to_string(type_)) + " message");
    found = f.value;
  }
  return found;
}

std::string_view Message::required(Tag tag) const {
  std::optional<std::string_view> v = optional(tag);
  if (!v)
    throw ProtocolError(ErrorCode::bad_request, "field " + std::to_string(static_cast<int>(tag)) +
                                                    " missing from a " + std::string(to_string(type_)) + " message");
  return *v;
}

std::optional<std::uint64_t> Message::optional_u64(Tag tag) const {
  std::optional<std::string_view> v = optional(tag);
  if (!v) return std::nullopt;
  if (v->size() != 8)
    throw ProtocolError(ErrorCode::bad_request, "field " + std::to_string(static_cast<int>(tag)) +
                                                    " must be an 8-byte integer");
  return get_be(reinterpret_cast<const unsigned char*>(v->data()), 8);
}

std::uint64_t Message::required_u64(Tag tag) const {
  required(tag);
  return *optional_u64(tag);
}

std::vector<std::string_view> Message::all(Tag tag) const {
  std::vector<std::string_view> out;
  for (const Field& f : fields_)
    if (f.tag == static_cast<std::uint8_t>(tag)) out.push_back(f.value);
  return out;
}

std::string Message::encode() const {
  std::string body;
  for (const Field& f : fields_) {
    if (f.value.size() > 0xffff)
      throw ProtocolError(ErrorCode::too_large, "a field of " + std::to_string(f.value.size()) + " bytes");
    body.push_back(static_cast<char>(f.tag));
    put_u16(body, static_cast<std::uint16_t>(f.value.size()));
    body.append(f.value);
  }
  if (body.size() > kMaxFrameBody)
    throw ProtocolError(ErrorCode::too_large, "a message of " + std::to_string(body.size()) + " bytes");
  std::string out;
  out.reserve(kFrameHeaderSize + body.size());
  out.push_back(static_cast<char>(kFrameMagic));
  out.push_back(static_cast<char>(kProtocolVersion));
  out.push_back(static_cast<char>(type_));
  out.push_back(0);
  put_u32(out, static_cast<std::uint32_t>(body.size()));
  out.append(body);
  return out;
}

Message Message::decode(FrameType type, std::string_view body) {
  Message m(type);
  const auto* p = reinterpret_cast<const unsigned char*>(body.data());
  std::size_t i = 0;
  while (i < body.size()) {
    if (body.size() - i < 3) throw ProtocolError(ErrorCode::bad_request, "a field header is cut short");
    std::uint8_t tag = p[i];
    std::size_t len = static_cast<std::size_t>(get_be(p + i + 1, 2));
    i += 3;
    if (body.size() - i < len) throw ProtocolError(ErrorCode::bad_request, "a field value is cut short");
    m.fields_.push_back({tag, std::string(body.substr(i, len))});
    i += len;
  }
  return m;
}

FrameHeader parse_frame_header(const unsigned char* h, std::size_t max_body) {
  if (h[0] != kFrameMagic) throw ProtocolError(ErrorCode::bad_request, "not a sluice frame (bad magic byte)");
  if (h[1] != kProtocolVersion)
    throw ProtocolError(ErrorCode::unsupported_version, "protocol version " + std::to_string(h[1]) +
                                                            " is not supported (this side speaks " +
                                                            std::to_string(kProtocolVersion) + ")");
  if (!known_type(h[2])) throw ProtocolError(ErrorCode::bad_request, "unknown message type " + std::to_string(h[2]));
  std::uint32_t len = static_cast<std::uint32_t>(get_be(h + 4, 4));
  if (len > max_body)
    throw ProtocolError(ErrorCode::too_large, "a message of " + std::to_string(len) + " bytes (the limit is " +
                                                  std::to_string(max_body) + ")");
  return {static_cast<FrameType>(h[2]), len};
}

std::optional<Message> FrameReader::next() {
  if (buffer_.size() < kFrameHeaderSize) {
    // Check what is there already: a wrong magic or version is reported at once.
    if (!buffer_.empty() && static_cast<unsigned char>(buffer_[0]) != kFrameMagic)
      throw ProtocolError(ErrorCode::bad_request, "not a sluice frame (bad magic byte)");
    return std::nullopt;
  }
  FrameHeader h = parse_frame_header(reinterpret_cast<const unsigned char*>(buffer_.data()), max_body_);
  if (buffer_.size() < kFrameHeaderSize + h.body_length) return std::nullopt;
  Message m = Message::decode(h.type, std::string_view(buffer_).substr(kFrameHeaderSize, h.body_length));
  buffer_.erase(0, kFrameHeaderSize + h.body_length);
  // Critical fields unknown to this version make the message unusable.
  for (const Field& f : m.fields())
    if (f.tag < 0x80 && !(f.tag >= 1 && f.tag <= static_cast<std::uint8_t>(Tag::kLastRequestTag)) &&
        !(f.tag >= static_cast<std::uint8_t>(Tag::token) && f.tag <= static_cast<std::uint8_t>(Tag::kLastReplyTag)))
      throw ProtocolError(ErrorCode::bad_request, "unknown critical field " + std::to_string(f.tag));
  return m;
}

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw system_error("fcntl(O_NONBLOCK)", errno);
}

bool Channel::wait(short events, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left < 0) return false;
    pollfd pfd[2] = {{fd_, events, 0}, {cancel_fd_, POLLIN, 0}};
    int n = ::poll(pfd, cancel_fd_ >= 0 ? 2 : 1, static_cast<int>(std::min<long long>(left + 1, 1000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw system_error("poll", errno);
    }
    if (cancel_fd_ >= 0 && (pfd[1].revents & POLLIN))
      throw ProtocolError(ErrorCode::unavailable, "the server is shutting down");
    if (pfd[0].revents) return true;
  }
}

void Channel::send(const Message& message, Clock::time_point deadline) {
  std::string bytes = message.encode();
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait(POLLOUT, deadline)) throw ProtocolError(ErrorCode::timeout, "the peer does not read its messages");
      continue;
    }
    throw system_error("sending a " + std::string(to_string(message.type())) + " message", errno);
  }
}

std::optional<Message> Channel::poll(bool& eof) {
  eof = false;
  if (std::optional<Message> m = reader_.next()) return m;
  char buf[16384];
  while (true) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      reader_.append(buf, static_cast<std::size_t>(n));
      if (std::optional<Message> m = reader_.next()) return m;
      continue;
    }
    if (n == 0) {
      eof = true;
      return std::nullopt;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
    if (errno == ECONNRESET || errno == EPIPE) {
      eof = true;
      return std::nullopt;
    }
    throw system_error("receiving a message", errno);
  }
}

std::optional<Message> Channel::receive(Clock::time_point deadline) {
  while (true) {
    bool eof = false;
    if (std::optional<Message> m = poll(eof)) return m;
    if (eof) {
      if (reader_.buffered() > 0) throw ProtocolError(ErrorCode::bad_request, "the connection closed inside a message");
      return std::nullopt;
    }
    if (!wait(POLLIN, deadline)) throw ProtocolError(ErrorCode::timeout, "no complete message in time");
  }
}

// ---- filters --------------------------------------------------------------------------

namespace {

std::string_view op_text(CompareOp op) {
  switch (op) {
    case CompareOp::eq: return "=";
    case CompareOp::ne: return "!=";
    case CompareOp::lt: return "<";
    case CompareOp::le: return "<=";
    case CompareOp::gt: return ">";
    case CompareOp::ge: return ">=";
  }
  return "=";
}

std::string_view type_text(ValueType t) {
  switch (t) {
    case ValueType::integer: return "int";
    case ValueType::decimal: return "decimal";
    case ValueType::string: return "string";
  }
  return "int";
}

bool flag(const Message& m, Tag tag) {
  std::optional<std::uint64_t> v = m.optional_u64(tag);
  if (v && *v > 1) throw ProtocolError(ErrorCode::bad_parameter, "a flag must be 0 or 1");
  return v && *v == 1;
}

}  // namespace

void encode_filter(Message& m, const FilterSpec& spec) {
  std::visit(
      [&](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, FixedStringSpec>) {
          m.add(Tag::filter, "fixed_string");
          for (const std::string& p : s.patterns) m.add(Tag::pattern, p);
          m.add_u64(Tag::ignore_case, s.ignore_case ? 1 : 0);
          m.add_u64(Tag::invert, s.invert ? 1 : 0);
        } else if constexpr (std::is_same_v<T, ColumnCompareSpec>) {
          m.add(Tag::filter, "column_compare");
          m.add_u64(Tag::column, s.column);
          m.add(Tag::op, op_text(s.op));
          m.add(Tag::type, type_text(s.type));
          m.add(Tag::value, s.value);
          m.add(Tag::delimiter, std::string(1, s.delimiter));
        } else if constexpr (std::is_same_v<T, KeepAllSpec>) {
          m.add(Tag::filter, "keep_all");
        } else {
          m.add(Tag::filter, "keep_none");
        }
      },
      spec);
}

FilterSpec decode_filter(const Message& m) {
  std::string_view name = m.required(Tag::filter);
  FilterSpec spec;
  try {
    if (name == "fixed_string") {
      FixedStringSpec s;
      for (std::string_view p : m.all(Tag::pattern)) s.patterns.emplace_back(p);
      s.ignore_case = flag(m, Tag::ignore_case);
      s.invert = flag(m, Tag::invert);
      spec = s;
    } else if (name == "column_compare") {
      ColumnCompareSpec s;
      std::uint64_t column = m.required_u64(Tag::column);
      if (column == 0 || column > 65535)
        throw ProtocolError(ErrorCode::bad_parameter, "column " + std::to_string(column) + " is out of range 1..65535");
      s.column = static_cast<std::uint32_t>(column);
      s.op = parse_compare_op(m.required(Tag::op));
      s.type = parse_value_type(m.required(Tag::type));
      s.value = std::string(m.required(Tag::value));
      std::string_view d = m.required(Tag::delimiter);
      if (d.size() != 1) throw ProtocolError(ErrorCode::bad_parameter, "the delimiter must be one byte");
      s.delimiter = d[0];
      spec = s;
    } else if (name == "keep_all") {
      spec = KeepAllSpec{};
    } else if (name == "keep_none") {
      spec = KeepNoneSpec{};
    } else {
      std::string shown(name.substr(0, 64));
      throw ProtocolError(ErrorCode::unknown_filter,
                          "unknown filter '" + shown + "' (fixed_string, column_compare, keep_all, keep_none)");
    }
    // The library validates every parameter (lengths, numbers, counts).
    (void)Filter::make(spec);
  } catch (const ProtocolError&) {
    throw;
  } catch (const Error& e) {
    throw ProtocolError(ErrorCode::bad_parameter, e.what());
  }
  return spec;
}

Message error_message(ErrorCode code, std::string_view text) {
  Message m(FrameType::error);
  m.add_u64(Tag::error_code, static_cast<std::uint16_t>(code));
  m.add(Tag::message, text.substr(0, 4000));
  return m;
}

void expect_type(const Message& m, FrameType type) {
  if (m.type() == type) return;
  if (m.type() == FrameType::error) {
    std::uint64_t code = m.optional_u64(Tag::error_code).value_or(static_cast<std::uint64_t>(ErrorCode::internal));
    std::string text(m.optional(Tag::message).value_or("(no message)"));
    std::string name(to_string(static_cast<ErrorCode>(code)));
    throw RemoteError(static_cast<std::uint16_t>(code), name, "server: " + name + ": " + text);
  }
  throw ProtocolError(ErrorCode::bad_request, "expected a " + std::string(to_string(type)) + " message, got " +
                                                  std::string(to_string(m.type())));
}

}  // namespace sluice::net

// ---- placements (public names, sluice/remote.hpp) -------------------------------------

namespace sluice {

std::string_view to_string(Placement p) {
  switch (p) {
    case Placement::server: return "server";
    case Placement::client: return "client";
    case Placement::xdp: return "xdp";
    case Placement::tc: return "tc";
    case Placement::sockfilter: return "sockfilter";
  }
  return "?";
}

std::string_view to_string(Transport t) { return t == Transport::tcp ? "tcp" : "udp"; }
std::string_view to_string(ReceiveMode m) { return m == ReceiveMode::drop ? "drop" : "trim"; }

Placement parse_placement(std::string_view text) {
  for (Placement p : {Placement::server, Placement::client, Placement::xdp, Placement::tc, Placement::sockfilter})
    if (text == to_string(p)) return p;
  throw UsageError("unknown placement '" + std::string(text.substr(0, 64)) +
                   "' (use server, client, xdp, tc or sockfilter)");
}

Transport parse_transport(std::string_view text) {
  if (text == "tcp") return Transport::tcp;
  if (text == "udp") return Transport::udp;
  throw UsageError("unknown transport '" + std::string(text.substr(0, 64)) + "' (use tcp or udp)");
}

ReceiveMode parse_receive_mode(std::string_view text) {
  if (text == "drop") return ReceiveMode::drop;
  if (text == "trim") return ReceiveMode::trim;
  throw UsageError("unknown receive mode '" + std::string(text.substr(0, 64)) + "' (use drop or trim)");
}

Transport transport_of(Placement placement, Transport requested_for_client) {
  switch (placement) {
    case Placement::server: return Transport::tcp;
    case Placement::client: return requested_for_client;
    default: return Transport::udp;
  }
}

}  // namespace sluice
