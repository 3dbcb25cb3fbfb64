// sluice serve: a storage server that streams the records of files under an export root
// through a filter placed where each request says (docs/network.md).
#include "commands.hpp"

#include <sluice/error.hpp>
#include <sluice/remote.hpp>

#include <boost/program_options.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace po = boost::program_options;

namespace sluice::cli {

int serve_command(const std::vector<std::string>& args);

namespace {

constexpr const char* kSynopsis =
    "usage: sluice serve --root DIR [--listen ADDR:PORT] [options]\n"
    "\n"
    "Serves the files below DIR to `sluice scan --remote ADDR:PORT`, filtering where each\n"
    "request says: on the server (sk_msg, TCP), or on the client (user space, XDP, TC or a\n"
    "socket filter, UDP). Stops cleanly on SIGTERM or SIGINT. Protocol: docs/network.md.\n";

std::atomic<Server*> g_server{nullptr};

extern "C" void on_stop_signal(int) {
  if (Server* s = g_server.load()) s->stop();  // one write(2): async-signal-safe
}

std::string timestamp() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::localtime(&t));
  return buf;
}

}  // namespace

int serve_command(const std::vector<std::string>& args) {
  po::options_description opts("Options");
  opts.add_options()
      ("root", po::value<std::string>(), "export root: requests name files below this directory")
      ("listen", po::value<std::string>()->default_value("127.0.0.1:7447"), "ADDR:PORT to listen on (port 0: any)")
      ("max-clients", po::value<unsigned>()->default_value(8), "requests served at once (more get a busy reply)")
      ("request-timeout", po::value<double>()->default_value(10), "seconds for a client to send its request")
      ("idle-timeout", po::value<double>()->default_value(30), "seconds a transfer may make no progress")
      ("max-datagram", po::value<std::uint32_t>()->default_value(9000), "largest UDP datagram a client may ask for")
      ("drop-every", po::value<std::uint64_t>()->default_value(0), "fault injection: discard every Nth UDP datagram")
      ("no-openat2", po::bool_switch(), "resolve paths with an O_NOFOLLOW walk (refuses every symlink)")
      ("program-cache", po::value<unsigned>()->default_value(8), "verified server-side programs kept for identical requests (0: none)")
      ("max-streams", po::value<unsigned>()->default_value(4), "TCP data connections one request may use (each a sending thread)")
      ("quiet,q", po::bool_switch(), "no log lines on stderr")
      ("help,h", "show this help");
  ServeOptions o;
  bool quiet = false;
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(opts).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << kSynopsis << '\n' << opts;
      return kExitMatch;
    }
    if (!vm.count("root")) throw UsageError("--root DIR is required");
    o.root = vm["root"].as<std::string>();
    o.listen = vm["listen"].as<std::string>();
    o.max_clients = vm["max-clients"].as<unsigned>();
    o.request_timeout_seconds = vm["request-timeout"].as<double>();
    o.idle_timeout_seconds = vm["idle-timeout"].as<double>();
    o.max_datagram_size = vm["max-datagram"].as<std::uint32_t>();
    o.drop_every = vm["drop-every"].as<std::uint64_t>();
    o.use_openat2 = !vm["no-openat2"].as<bool>();
    o.program_cache = vm["program-cache"].as<unsigned>();
    if (o.program_cache > 256) throw UsageError("--program-cache must be 0..256");
    o.max_streams = vm["max-streams"].as<unsigned>();
    if (o.max_streams < 1 || o.max_streams > kMaxStreams)
      throw UsageError("--max-streams must be 1.." + std::to_string(kMaxStreams));
    quiet = vm["quiet"].as<bool>();
    if (o.max_clients < 1 || o.max_clients > 1024) throw UsageError("--max-clients must be 1..1024");
    if (o.request_timeout_seconds <= 0 || o.idle_timeout_seconds <= 0) throw UsageError("timeouts must be positive");
    if (o.max_datagram_size < 64 || o.max_datagram_size > 65507) throw UsageError("--max-datagram must be 64..65507");
  } catch (const po::error& e) {
    std::cerr << "sluice serve: " << e.what() << "\n" << kSynopsis;
    return kExitError;
  } catch (const Error& e) {
    std::cerr << "sluice serve: " << e.what() << "\n";
    return kExitError;
  }
  auto log_mutex = std::make_shared<std::mutex>();
  if (!quiet)
    o.log = [log_mutex](const std::string& line) {
      std::lock_guard lock(*log_mutex);
      std::cerr << timestamp() << " sluice serve: " << line << std::endl;
    };
  try {
    Server server(o);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    g_server.store(&server);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    // Scripts wait for this line (the port is the bound one, also for port 0).
    std::cerr << "sluice serve: listening on " << server.address() << std::endl;
    server.run();
    g_server.store(nullptr);
    ServerCounters c = server.counters();
    if (!quiet)
      std::cerr << "sluice serve: stopped after " << c.completed << " transfer(s), " << c.refused << " refused, "
                << c.failed << " failed" << std::endl;
  } catch (const Error& e) {
    g_server.store(nullptr);
    std::cerr << "sluice serve: " << e.what() << "\n";
    return kExitError;
  }
  return kExitMatch;
}

}  // namespace sluice::cli
