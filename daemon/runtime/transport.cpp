// TCP and serial transports.
#include "runtime/transport.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <fmt/format.h>

#include "runtime/custom_baud.h"

namespace opsync::runtime {
namespace {

namespace asio = boost::asio;

class TcpTransport final : public Transport {
 public:
  TcpTransport(asio::io_context& io, TcpAddress a) : resolver_(io), socket_(io), address_(std::move(a)) {}

  void async_connect(std::function<void(const ErrorCode&)> done) override {
    resolver_.async_resolve(address_.host, std::to_string(address_.port),
                            [this, done](const ErrorCode& ec, asio::ip::tcp::resolver::results_type results) {
                              if (ec) return done(ec);
                              asio::async_connect(socket_, results, [this, done](const ErrorCode& ec2, const auto&) {
                                if (!ec2) {
                                  ErrorCode ignored;
                                  // Small request/reply messages: do not let Nagle hold them back.
                                  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
                                  socket_.set_option(asio::socket_base::keep_alive(true), ignored);
                                }
                                done(ec2);
                              });
                            });
  }
  void async_read_some(uint8_t* buf, size_t n, std::function<void(const ErrorCode&, size_t)> done) override {
    socket_.async_read_some(asio::buffer(buf, n), std::move(done));
  }
  void async_write(std::shared_ptr<const std::vector<uint8_t>> data, std::function<void(const ErrorCode&)> done) override {
    asio::async_write(socket_, asio::buffer(*data), [data, done](const ErrorCode& ec, size_t) { done(ec); });
  }
  void close() override {
    ErrorCode ignored;
    resolver_.cancel();
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  TcpAddress address_;
};

class SerialTransport final : public Transport {
 public:
  SerialTransport(asio::io_context& io, SerialAddress a) : io_(io), port_(io), address_(std::move(a)) {}

  void async_connect(std::function<void(const ErrorCode&)> done) override {
    ErrorCode ec;
    port_.open(address_.device, ec);
    if (!ec) {
      using sp = asio::serial_port_base;
      // A pseudo-terminal ignores line settings it cannot model; a real port must take them.
      std::error_code fs_ec;
      const std::string real = std::filesystem::canonical(address_.device, fs_ec).string();
      const bool pty = real.rfind("/dev/pts/", 0) == 0;
      ErrorCode opt_ec;
      port_.set_option(sp::baud_rate(address_.baud), opt_ec);
      if (opt_ec) {
        // Rates termios has no constant for (the SRS RGA's 28800) need Linux's BOTHER.
        std::string err;
        if (set_custom_baud(port_.native_handle(), address_.baud, err)) {
          opt_ec.clear();
        } else if (!pty) {
          ec = opt_ec;
        }
      }
      port_.set_option(sp::character_size(8), opt_ec);
      port_.set_option(sp::parity(sp::parity::none), opt_ec);
      port_.set_option(sp::stop_bits(address_.stop_bits == 2 ? sp::stop_bits::two : sp::stop_bits::one), opt_ec);
      port_.set_option(sp::flow_control(address_.rtscts ? sp::flow_control::hardware : sp::flow_control::none), opt_ec);
      if (opt_ec) {
        warning_ = fmt::format("{}: flow control not applied: {}", address_.device, opt_ec.message());
        if (!pty) ec = opt_ec;
      }
      if (ec) port_.close(opt_ec);
    }
    asio::post(io_, [done, ec] { done(ec); });
  }
  void async_read_some(uint8_t* buf, size_t n, std::function<void(const ErrorCode&, size_t)> done) override {
    port_.async_read_some(asio::buffer(buf, n), std::move(done));
  }
  void async_write(std::shared_ptr<const std::vector<uint8_t>> data, std::function<void(const ErrorCode&)> done) override {
    asio::async_write(port_, asio::buffer(*data), [data, done](const ErrorCode& ec, size_t) { done(ec); });
  }
  void close() override {
    ErrorCode ignored;
    port_.cancel(ignored);
    port_.close(ignored);
  }
  std::string warning() const override { return warning_; }

 private:
  asio::io_context& io_;
  asio::serial_port port_;
  SerialAddress address_;
  std::string warning_;
};

}  // namespace

std::unique_ptr<Transport> make_transport(asio::io_context& io, const Address& address) {
  if (const auto* t = std::get_if<TcpAddress>(&address)) return std::make_unique<TcpTransport>(io, *t);
  return std::make_unique<SerialTransport>(io, std::get<SerialAddress>(address));
}

}  // namespace opsync::runtime
