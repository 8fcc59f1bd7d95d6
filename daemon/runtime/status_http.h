// The local HTTP endpoint (Boost.Beast), bound to 127.0.0.1 by default:
//   GET  /status  -> the station's status as JSON
//   POST /mark    -> body text becomes a "mark" event at the current reference time
// Nothing a client does may stop the daemon: requests are bounded in size and time, connections
// in number, no exception leaves a handler, and the accept loop outlives a lack of file
// descriptors (it pauses and tries again instead of ending).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "runtime/address.h"

namespace opsync::runtime {

struct StatusHttpHandlers {
  std::function<nlohmann::json()> status;
  // Stores a mark (non-empty text, exactly as received); returns a note for the client about
  // what had to be changed to store it ("" when nothing).
  std::function<std::string(std::string_view text)> mark;
};

struct StatusHttpLimits {
  // Clients are local tools and a browser: a few at a time. More are answered 503 at once.
  size_t max_connections = 16;
  // Whole request (headers and body), and then the reply, per connection: a client that sends
  // nothing, or one byte at a time, or never reads, holds a slot at most this long.
  std::chrono::milliseconds request_timeout{5000};
  size_t max_header_bytes = 8 * 1024;
  size_t max_body_bytes = 64 * 1024;  // a mark is a line of text
  // After a failed accept (EMFILE, ENFILE, ENOBUFS) the pending connection stays queued and
  // epoll keeps reporting it: wait this long before the next try instead of spinning.
  std::chrono::milliseconds accept_retry{100};
};

struct StatusHttpStats {
  uint64_t connections = 0;         // accepted
  uint64_t open_connections = 0;    // now
  uint64_t busy_refusals = 0;       // 503: max_connections were open
  uint64_t bad_requests = 0;        // unparsable, too large (413/431), timed out
  uint64_t handler_errors = 0;      // 500: an exception in a handler (a bug; the daemon goes on)
  uint64_t accept_errors = 0;
  std::string last_error;
};

class StatusHttpServer {
 public:
  StatusHttpServer(boost::asio::io_context& io, StatusHttpHandlers handlers, StatusHttpLimits limits = {});
  ~StatusHttpServer();

  // Opens and binds the listening socket; the error (port in use, address not on this host) is
  // returned for the caller to name its configuration key.
  boost::system::error_code bind(const ListenAddress& where);
  void start();  // starts accepting (after bind)
  void stop();
  uint16_t port() const;
  StatusHttpStats stats() const;

  struct Shared;  // handlers, limits and counters, shared with the open connections

 private:
  void accept();

  boost::asio::io_context& io_;
  std::shared_ptr<Shared> shared_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  bool accept_failing_ = false;
};

}  // namespace opsync::runtime
