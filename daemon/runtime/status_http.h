// The local HTTP endpoint (Boost.Beast), bound to 127.0.0.1 by default:
//   GET  /status  -> the station's status as JSON
//   POST /mark    -> body text becomes a "mark" event at the current reference time
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

namespace opsync::daemon {

class Station;

class StatusHttpServer {
 public:
  // listen: "HOST:PORT" (port 0 picks a free one; see port()).
  StatusHttpServer(boost::asio::io_context& io, const std::string& listen, Station& station);
  void start();  // throws std::runtime_error when the address cannot be bound
  void stop();
  uint16_t port() const;

 private:
  void accept();

  boost::asio::io_context& io_;
  std::string listen_;
  Station& station_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace opsync::daemon
