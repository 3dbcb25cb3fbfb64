// The control protocol of `sluice serve` (docs/network.md): framed messages of typed fields
// over TCP, and the encoding of a filter request.
//
// Frame: magic 'S' (0x53), version, type, reserved 0, body length (u32, big-endian), body.
// Body: fields, each tag (u8), length (u16, big-endian), value. Integers are u64 big-endian.
// Tags below 0x80 are critical (a receiver that does not know one refuses the message);
// tags from 0x80 on are optional (ignored when unknown), so a version can add hints.
#pragma once

#include <sluice/error.hpp>
#include <sluice/filter.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::net {

inline constexpr std::uint8_t kFrameMagic = 0x53;
inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::size_t kFrameHeaderSize = 8;
inline constexpr std::size_t kMaxFrameBody = 65536;
inline constexpr std::size_t kMaxPathLength = 4096;

enum class FrameType : std::uint8_t {
  request = 1,   // client -> server: what to send, how
  accept = 2,    // server -> client: the request is valid, the filter loaded
  error = 3,     // either way: a refusal or a failure, with a code and a message
  attach = 4,    // client -> server, first frame of the TCP data connection
  start = 5,     // client -> server (UDP): receive program attached, send
  ack = 6,       // client -> server (UDP): all sequence numbers below `seq` are resolved
  nack = 7,      // client -> server (UDP): send these sequence numbers again
  end = 8,       // server -> client: everything was sent once, with the counts
  done = 9,      // client -> server: everything arrived
  summary = 10,  // server -> client: the server's cost of the transfer; then it closes
  partials = 11, // server -> client (placement server, before end): aggregates the kernel computed
};
std::string_view to_string(FrameType type);

enum class Tag : std::uint8_t {
  // request
  path = 1,
  placement = 2,
  mode = 3,
  transport = 4,
  filter = 5,
  pattern = 6,  // repeatable
  ignore_case = 7,
  invert = 8,
  column = 9,
  op = 10,
  type = 11,
  value = 12,
  delimiter = 13,
  udp_port = 14,
  datagram_size = 15,
  window = 16,
  streams = 17,  // request: TCP data connections wanted (0: the server chooses); accept: granted
  aggregate = 18,  // request (placement server): aggregate in the server's kernel (net/aggregate_wire.hpp)
  kLastRequestTag = aggregate,
  // replies and transfer
  token = 20,
  file_id = 21,
  file_size = 22,
  udp_source_port = 23,
  datagrams = 24,
  bytes_sent = 25,
  bytes_kept = 26,
  seq = 27,
  seqs = 28,  // u32 big-endian each
  error_code = 29,
  message = 30,
  load_seconds_us = 31,
  verified_insns = 32,
  user_cpu_us = 33,
  system_cpu_us = 34,
  retransmitted = 35,
  injected_drops = 36,
  kernel_bytes_in = 37,
  boundary_bytes = 38,
  max_window = 39,
  stream = 40,  // attach: which data connection of the transfer this is (0-based)
  aggregating = 41,  // accept: 1 if the server's kernel aggregates (else the client does it all)
  group = 42,        // partials: one group's partial aggregates (repeatable)
  aggregate_fallbacks = 43,  // end: kept records the kernel could not aggregate exactly and sent
  kLastReplyTag = aggregate_fallbacks,
  // optional from here on
  server_version = 0x80,
};

enum class ErrorCode : std::uint16_t {
  bad_request = 1,          // malformed message, missing or repeated field
  unsupported_version = 2,  // frame version the server does not speak
  too_large = 3,            // a frame longer than the limit
  not_found = 4,            // no such file below the root
  forbidden = 5,            // the path leaves the export root (absolute, "..", symlink)
  not_regular = 6,          // a directory, device, FIFO, ...
  unknown_filter = 7,       // not a filter of the library
  bad_parameter = 8,        // the filter refused its parameters
  unknown_placement = 9,    // or a placement/transport/mode combination that does not exist
  busy = 10,                // too many clients
  kernel = 11,              // the kernel refused the filter (verifier) or an attachment
  timeout = 12,             // the peer was too slow
  internal = 13,
  io = 14,                  // reading the file or sending failed
  unavailable = 15,         // the server is shutting down
};
std::string_view to_string(ErrorCode code);

// A message that cannot be accepted, with the error code the reply carries.
class ProtocolError : public Error {
 public:
  ProtocolError(ErrorCode code, const std::string& what) : Error(what), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

struct Field {
  std::uint8_t tag;
  std::string value;
};

class Message {
 public:
  explicit Message(FrameType type) : type_(type) {}
  FrameType type() const { return type_; }
  const std::vector<Field>& fields() const { return fields_; }

  Message& add(Tag tag, std::string_view value);
  Message& add_u64(Tag tag, std::uint64_t value);

  // The single field `tag`: ProtocolError(bad_request) if absent (for required) or repeated.
  std::optional<std::string_view> optional(Tag tag) const;
  std::string_view required(Tag tag) const;
  std::optional<std::uint64_t> optional_u64(Tag tag) const;
  std::uint64_t required_u64(Tag tag) const;
  std::vector<std::string_view> all(Tag tag) const;

  // Header + body. Throws ProtocolError(too_large) if the body exceeds kMaxFrameBody.
  std::string encode() const;
  // Parses a body (the header already checked). Throws ProtocolError(bad_request).
  static Message decode(FrameType type, std::string_view body);

 private:
  FrameType type_;
  std::vector<Field> fields_;
};

// The header of a frame, checked: magic, version, type and length. Throws ProtocolError.
struct FrameHeader {
  FrameType type;
  std::uint32_t body_length;
};
FrameHeader parse_frame_header(const unsigned char* header, std::size_t max_body);

// Incremental framing of a byte stream (a non-blocking control socket).
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_body = kMaxFrameBody) : max_body_(max_body) {}
  void append(const char* data, std::size_t size) { buffer_.append(data, size); }
  // The next complete message, if one is buffered. Throws ProtocolError on a bad frame.
  std::optional<Message> next();
  std::size_t buffered() const { return buffer_.size(); }

 private:
  std::size_t max_body_;
  std::string buffer_;
};

using Clock = std::chrono::steady_clock;

// A connected, non-blocking stream socket carrying messages. Every wait polls also
// `cancel_fd` (when >= 0): once it is readable, waits throw ProtocolError(unavailable).
class Channel {
 public:
  Channel(int fd, int cancel_fd) : fd_(fd), cancel_fd_(cancel_fd) {}
  int fd() const { return fd_; }

  void send(const Message& message, Clock::time_point deadline);
  // Blocks until a message, end of stream (nullopt) or the deadline (ProtocolError timeout).
  std::optional<Message> receive(Clock::time_point deadline);
  // A message if one is complete after reading what is available now; never blocks.
  // Sets `eof` when the peer closed.
  std::optional<Message> poll(bool& eof);

 private:
  // Waits for `events` on fd_; false on timeout.
  bool wait(short events, Clock::time_point deadline);
  int fd_;
  int cancel_fd_;
  FrameReader reader_;
};

// Sets O_NONBLOCK.
void set_nonblocking(int fd);

// The filter of a request, and back. decode validates with Filter::make and throws
// ProtocolError(unknown_filter or bad_parameter).
void encode_filter(Message& message, const FilterSpec& spec);
FilterSpec decode_filter(const Message& message);

Message error_message(ErrorCode code, std::string_view text);
// Throws RemoteError for an error message, ProtocolError(bad_request) for an unexpected type.
void expect_type(const Message& message, FrameType type);

}  // namespace sluice::net
