// Minimal HTTP/1.1 server for status and marks; one request per connection.
#include "runtime/status_http.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "runtime/station.h"

namespace opsync::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, Station& station) : stream_(std::move(socket)), station_(station) {}

  void run() {
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) self->respond();
    });
  }

 private:
  void respond() {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(request_.version());
    res->set(http::field::server, "opsyncd");
    res->set(http::field::content_type, "application/json");
    res->keep_alive(false);
    const std::string target(request_.target());
    if (request_.method() == http::verb::get && (target == "/status" || target == "/")) {
      res->result(http::status::ok);
      res->body() = station_.status_json().dump(2) + "\n";
    } else if (request_.method() == http::verb::post && target == "/mark") {
      std::string text = request_.body();
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      if (text.empty()) {
        res->result(http::status::bad_request);
        res->body() = R"({"error":"empty mark: send the annotation text as the request body"})" "\n";
      } else {
        station_.mark(text);
        res->result(http::status::ok);
        res->body() = nlohmann::json{{"ok", true}, {"mark", text}}.dump() + "\n";
      }
    } else {
      res->result(http::status::not_found);
      res->body() = R"({"error":"not found: GET /status or POST /mark"})" "\n";
    }
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  Station& station_;
};

}  // namespace

StatusHttpServer::StatusHttpServer(asio::io_context& io, const std::string& listen, Station& station)
    : io_(io), listen_(listen), station_(station), acceptor_(io) {}

void StatusHttpServer::start() {
  const auto colon = listen_.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error(fmt::format("[status] http '{}': expected HOST:PORT", listen_));
  beast::error_code ec;
  const auto addr = asio::ip::make_address(listen_.substr(0, colon), ec);
  if (ec) throw std::runtime_error(fmt::format("[status] http '{}': {}", listen_, ec.message()));
  const auto port = static_cast<uint16_t>(std::stoi(listen_.substr(colon + 1)));
  const tcp::endpoint ep(addr, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("cannot serve status on {}: {} (set [status] http to another port, or \"\")",
                                         listen_, ec.message()));
  }
  accept();
}

void StatusHttpServer::stop() {
  beast::error_code ignored;
  acceptor_.close(ignored);
}

uint16_t StatusHttpServer::port() const { return acceptor_.local_endpoint().port(); }

void StatusHttpServer::accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // closed
    std::make_shared<HttpSession>(std::move(socket), station_)->run();
    accept();
  });
}

}  // namespace opsync::daemon
