// Minimal HTTP/1.1 server for status and marks; one request per connection.
#include "runtime/status_http.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <fmt/format.h>

namespace opsync::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct StatusHttpServer::Shared {
  StatusHttpHandlers handlers;
  StatusHttpLimits limits;
  StatusHttpStats stats;
};

namespace {

// JSON for clients: text that is not UTF-8 (a status string from an instrument) is replaced,
// never a reason to throw.
std::string to_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<StatusHttpServer::Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {
    ++shared_->stats.open_connections;
    parser_.header_limit(static_cast<uint32_t>(shared_->limits.max_header_bytes));
    parser_.body_limit(shared_->limits.max_body_bytes);
  }
  ~HttpSession() { --shared_->stats.open_connections; }

  void run() {
    stream_.expires_after(shared_->limits.request_timeout);
    http::async_read(stream_, buffer_, parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_read(ec);
    });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset) return;
    if (ec) {
      ++shared_->stats.bad_requests;
      if (ec == beast::error::timeout) return;  // the socket is closed; nobody to answer
      if (ec == http::error::body_limit) {
        return reply(http::status::payload_too_large,
                     {{"error", fmt::format("request body over {} bytes", shared_->limits.max_body_bytes)}});
      }
      if (ec == http::error::header_limit) {
        return reply(http::status::request_header_fields_too_large,
                     {{"error", fmt::format("request headers over {} bytes", shared_->limits.max_header_bytes)}});
      }
      return reply(http::status::bad_request, {{"error", "not an HTTP request: " + ec.message()}});
    }
    try {
      respond(parser_.get());
    } catch (const std::exception& e) {
      fail(e.what());
    } catch (...) {
      fail("unknown exception");
    }
  }

  void fail(const std::string& what) {
    ++shared_->stats.handler_errors;
    shared_->stats.last_error = what;
    // The first one on the terminal too: it is a bug to report, and the daemon carries on.
    if (shared_->stats.handler_errors == 1) fmt::print(stderr, "opsyncd: status endpoint: request failed: {}\n", what);
    reply(http::status::internal_server_error, {{"error", "internal error: " + what}});
  }

  void respond(const http::request<http::string_body>& req) {
    const std::string target(req.target());
    if (req.method() == http::verb::get && (target == "/status" || target == "/")) {
      return reply(http::status::ok, shared_->handlers.status(), 2);
    }
    if (req.method() == http::verb::post && target == "/mark") {
      std::string_view text = req.body();
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
      if (text.empty()) {
        return reply(http::status::bad_request, {{"error", "empty mark: send the annotation text as the request body"}});
      }
      const std::string note = shared_->handlers.mark(text);
      nlohmann::json body{{"ok", true}, {"mark", std::string(text)}};
      if (!note.empty()) body["note"] = note;
      return reply(http::status::ok, body);
    }
    reply(http::status::not_found, {{"error", "not found: GET /status or POST /mark"}});
  }

  void reply(http::status status, const nlohmann::json& body, int indent = -1) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(status);
    res->set(http::field::server, "opsyncd");
    res->set(http::field::content_type, "application/json");
    res->keep_alive(false);
    res->body() = to_text(body, indent);
    res->prepare_payload();
    stream_.expires_after(shared_->limits.request_timeout);  // a client that never reads
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  std::shared_ptr<StatusHttpServer::Shared> shared_;
};

// Over the connection limit: say so at once and close, without holding a slot.
void refuse_busy(tcp::socket socket) {
  static const std::string kBusy = [] {
    const std::string body = "{\"error\":\"too many connections; try again later\"}\n";
    return fmt::format("HTTP/1.1 503 Service Unavailable\r\nServer: opsyncd\r\nContent-Type: application/json\r\n"
                       "Connection: close\r\nContent-Length: {}\r\n\r\n{}",
                       body.size(), body);
  }();
  beast::error_code ignored;
  socket.non_blocking(true, ignored);
  asio::write(socket, asio::buffer(kBusy.data(), kBusy.size()), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace

StatusHttpServer::StatusHttpServer(asio::io_context& io, StatusHttpHandlers handlers, StatusHttpLimits limits)
    : io_(io), shared_(std::make_shared<Shared>(Shared{std::move(handlers), limits, {}})), acceptor_(io),
      retry_timer_(io) {}

StatusHttpServer::~StatusHttpServer() = default;

boost::system::error_code StatusHttpServer::bind(const ListenAddress& where) {
  beast::error_code ec;
  const auto addr = asio::ip::make_address(where.host, ec);
  if (ec) return ec;
  const tcp::endpoint ep(addr, where.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
  }
  return ec;
}

void StatusHttpServer::start() { accept(); }

void StatusHttpServer::stop() {
  beast::error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
}

uint16_t StatusHttpServer::port() const {
  beast::error_code ec;
  const auto ep = acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

StatusHttpStats StatusHttpServer::stats() const { return shared_->stats; }

void StatusHttpServer::accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;  // stopped
    StatusHttpStats& st = shared_->stats;
    if (ec) {
      ++st.accept_errors;
      st.last_error = "accept: " + ec.message();
      if (!accept_failing_) {
        fmt::print(stderr, "opsyncd: status endpoint: cannot accept a connection: {} (retrying every {} ms)\n",
                   ec.message(), shared_->limits.accept_retry.count());
      }
      accept_failing_ = true;
      retry_timer_.expires_after(shared_->limits.accept_retry);
      retry_timer_.async_wait([this](const boost::system::error_code& e) {
        if (!e) accept();
      });
      return;
    }
    if (accept_failing_) {
      accept_failing_ = false;
      fmt::print(stderr, "opsyncd: status endpoint: accepting connections again\n");
    }
    ++st.connections;
    if (st.open_connections >= shared_->limits.max_connections) {
      ++st.busy_refusals;
      refuse_busy(std::move(socket));
    } else {
      std::make_shared<HttpSession>(std::move(socket), shared_)->run();
    }
    accept();
  });
}

}  // namespace opsync::runtime
