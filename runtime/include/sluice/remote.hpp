// Network read paths: a storage server (`sluice serve`) that streams the records of files
// under an export root through a filter placed where the request says, and the client that
// scans a remote file as if it were local.
//
//   sluice::RemoteOptions o;
//   o.address = "10.0.0.1:7447";
//   o.placement = sluice::Placement::server;      // filter on the server (sk_msg), TCP
//   sluice::RemoteScanner scanner("logs/app.csv", sluice::FixedStringSpec{{"ERROR"}}, o);
//   sluice::RecordBatch batch;
//   while (scanner.next(batch))
//     for (std::string_view record : batch.records) use(record);
//
// The records are exactly those a local Scanner of the same file with the same filter
// returns, in the same order, whatever the placement: every placement re-judges on the
// client what the network delivers (records the kernel could not judge whole, boundary
// records), and the protocol recovers lost datagrams. Views follow Scanner's rules (valid
// until the next next()). Errors throw sluice::Error; a refusal by the server throws
// RemoteError with the server's reason. The wire protocol is in docs/network.md.
#pragma once

#include <sluice/error.hpp>
#include <sluice/filter.hpp>
#include <sluice/scanner.hpp>
#include <sluice/stats.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sluice {

// Where the filter runs.
enum class Placement {
  server,      // on the server: sendfile into a socket carrying the sk_msg filter (TCP)
  client,      // in the client's user space: the server sends the whole file (TCP or UDP)
  xdp,         // the client's XDP receive program (UDP)
  tc,          // the client's TC ingress program: tcx link or clsact filter (UDP)
  sockfilter,  // an SO_ATTACH_BPF socket filter on the client's UDP socket (UDP)
};
enum class Transport { tcp, udp };
// What a receive program (xdp, tc, sockfilter) does with a datagram that has matches.
enum class ReceiveMode {
  drop,  // drop datagrams without a matching record, pass the others whole
  trim,  // also cut non-matching records out (sockfilter: cut after the last match)
};

std::string_view to_string(Placement placement);
std::string_view to_string(Transport transport);
std::string_view to_string(ReceiveMode mode);
Placement parse_placement(std::string_view text);  // throw UsageError
Transport parse_transport(std::string_view text);
ReceiveMode parse_receive_mode(std::string_view text);
// The transport a placement uses (client: the one asked for, tcp by default).
Transport transport_of(Placement placement, Transport requested_for_client = Transport::tcp);

// A request the server refused, or an error it reported mid-transfer.
class RemoteError : public Error {
 public:
  RemoteError(std::uint16_t code, std::string code_name, const std::string& what)
      : Error(what), code_(code), code_name_(std::move(code_name)) {}
  std::uint16_t code() const { return code_; }
  const std::string& code_name() const { return code_name_; }  // e.g. "forbidden"

 private:
  std::uint16_t code_;
  std::string code_name_;
};

struct RemoteOptions {
  std::string address;  // HOST:PORT of the server ([v6addr]:PORT for IPv6)
  Placement placement = Placement::server;
  Transport transport = Transport::tcp;  // for Placement::client; the others imply theirs
  ReceiveMode mode = ReceiveMode::drop;  // xdp, tc, sockfilter
  std::uint32_t datagram_size = 1472;    // UDP payload bytes per datagram, header included
  std::uint32_t window = 2048;           // datagrams the server may send ahead of the client
  bool xdp_generic = false;              // attach XDP in generic (skb) mode, not native
  bool tc_clsact = false;                // tc: a clsact qdisc filter (netlink), not a tcx link
  bool count_input_records = false;      // fill ScanStats::records_in (costs a newline count)
  double timeout_seconds = 30;           // no progress for this long: the scan fails
  // TCP placements: data connections over consecutive parts of the file, read in order
  // (at most kMaxStreams). 0: the server chooses (placement server: one per server CPU, at
  // most 2, for files of 64 MiB a stream; placement client: one); it may grant fewer.
  unsigned streams = 0;
  // Placement server: aggregate in the server's kernel where it can (as the sockmap backend
  // does locally, ScanOptions::aggregate): the records aggregated there never cross the
  // network, next() does not return them, and kernel_aggregates() has their partials.
  std::optional<AggregateSpec> aggregate;
};

// What the transfer did, beyond ScanStats.
struct RemoteStats {
  std::string placement;             // "server", "xdp/trim", "client/udp", ...
  std::string attach_mode;           // "xdp native", "xdp generic", "tc tcx", "tc clsact", "socket filter"
  unsigned streams = 1;              // TCP data connections the transfer used
  std::uint64_t file_bytes = 0;      // size of the remote file
  std::uint64_t payload_bytes = 0;   // bytes of records the client's socket received
  std::uint64_t datagrams = 0;       // datagrams the server sent (first transmissions)
  std::uint64_t datagrams_received = 0;
  std::uint64_t filter_dropped = 0;  // datagrams the receive program dropped (no match)
  std::uint64_t lost = 0;            // distinct sequence numbers the client re-requested
  std::uint64_t retransmitted = 0;   // datagrams the server sent again
  std::uint64_t injected_drops = 0;  // datagrams the server's fault injection discarded
  std::uint64_t kernel_bytes_in = 0;   // bytes that entered the in-kernel filter (either side)
  std::uint64_t kernel_bytes_out = 0;  // bytes it let through
  std::uint64_t boundary_bytes = 0;    // placement server: bytes passed unjudged
  double server_user_cpu_seconds = 0;  // the server's CPU for this request (its thread)
  double server_system_cpu_seconds = 0;
  double server_load_seconds = 0;      // BPF load (verifier) time on the server
  double client_load_seconds = 0;      // BPF load + attach on the client: wall time
  double client_load_cpu_seconds = 0;  // and the client's CPU for it (the verifier, mostly)
};

class RemoteScanner {
 public:
  // Connects, sends the request, and (for the kernel placements) loads and attaches the
  // filter before any data is sent. Throws RemoteError if the server refuses.
  RemoteScanner(const std::string& path, const FilterSpec& filter, const RemoteOptions& options);
  ~RemoteScanner();
  RemoteScanner(RemoteScanner&&) noexcept;
  RemoteScanner& operator=(RemoteScanner&&) noexcept;

  bool next(RecordBatch& batch);
  ScanStats stats() const;
  RemoteStats remote_stats() const;
  // The partial aggregates the server's kernel computed (RemoteOptions::aggregate), complete
  // once next() has returned false; nullptr when the server aggregated nothing.
  const Aggregator* kernel_aggregates() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The same, behind the Backend interface.
std::unique_ptr<Backend> make_remote_backend(const std::string& path, const FilterSpec& filter,
                                             const RemoteOptions& options);

struct ServeOptions {
  std::string root;                  // export root: every request names a file below it
  std::string listen = "127.0.0.1:7447";  // ADDR:PORT (port 0: any free port)
  unsigned max_clients = 8;          // requests served at once; more get a "busy" reply
  double request_timeout_seconds = 10;  // to receive a whole request / the data connection
  double idle_timeout_seconds = 30;     // a transfer without progress this long is abandoned
  std::uint64_t drop_every = 0;      // fault injection: discard every Nth UDP datagram (0: off)
  std::uint32_t max_datagram_size = 9000;  // largest UDP payload a client may ask for
  bool use_openat2 = true;           // false: resolve paths with an O_NOFOLLOW walk (tests)
  unsigned program_cache = 8;        // verified sk_msg programs kept for identical requests (0: none)
  // TCP data connections one request may use (each a sending thread and, for placement
  // server, its own program): the client's wish or the automatic count is held to this.
  unsigned max_streams = 4;
  std::function<void(const std::string&)> log;  // one line per event; empty: silent
};

struct ServerCounters {
  std::uint64_t connections = 0;
  std::uint64_t requests = 0;   // requests accepted
  std::uint64_t completed = 0;  // transfers completed
  std::uint64_t refused = 0;    // requests answered with an error
  std::uint64_t failed = 0;     // transfers that ended in an error or a disconnect
  unsigned active = 0;          // sessions running now
};

class Server {
 public:
  explicit Server(const ServeOptions& options);  // opens the root and listens; throws
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::string address() const;  // the bound ADDR:PORT
  std::uint16_t port() const;
  // Serves until stop(); returns when every session has ended and released its sockets,
  // BPF programs and maps.
  void run();
  // Thread-safe and async-signal-safe (one write(2)): makes run() return.
  void stop();
  ServerCounters counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
