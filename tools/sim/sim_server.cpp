// TCP and pseudo-terminal servers for simulated instruments, with link faults and jitter.
#include "sim/sim_server.h"

#include <boost/asio/write.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

namespace opsync::sim {

namespace asio = boost::asio;

namespace {

// The number after "stall:" or "garbage:", typed by a user on standard input: a wrong one is an
// unknown fault, never an exception out of an asio handler.
std::optional<double> fault_number(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

using ErrorCode = boost::system::error_code;

SimEndpoint::SimEndpoint(asio::io_context& io, const clock::Clock& clock, drivers::SimDevice& device, std::string name,
                         LinkOptions link)
    : io_(io),
      clock_(clock),
      device_(device),
      name_(std::move(name)),
      link_(link),
      rng_(link.seed),
      tick_timer_(io),
      to_device_timer_(io),
      to_client_timer_(io) {}

int64_t SimEndpoint::jitter_ns() {
  if (link_.jitter_max_ns <= 0) return 0;
  return std::uniform_int_distribution<int64_t>(0, link_.jitter_max_ns)(rng_);
}

bool SimEndpoint::inject(const std::string& fault) {
  const int64_t now = clock_.now_ns();
  if (fault == "drop") {
    drop_link();
    device_.on_disconnect(now);
    return true;
  }
  if (fault.rfind("stall:", 0) == 0) {
    const std::optional<double> s = fault_number(fault.substr(6));
    if (!s || *s < 0) return false;  // "stall:x": not a fault anyone knows, said by the caller
    stalled_until_ns_ = now + static_cast<int64_t>(*s * 1e9);
    // Resume pumping (held output) once the stall is over.
    auto t = std::make_shared<asio::steady_timer>(io_);
    t->expires_after(std::chrono::nanoseconds(clock_.to_monotonic_duration_ns(stalled_until_ns_ - now)));
    t->async_wait([this, t](const ErrorCode&) { pump(); });
    return true;
  }
  if (fault.rfind("garbage:", 0) == 0) {
    const std::optional<double> count = fault_number(fault.substr(8));
    if (!count || *count < 0 || *count > 1e6 || *count != static_cast<double>(static_cast<size_t>(*count))) return false;
    const size_t n = static_cast<size_t>(*count);
    std::vector<uint8_t> junk(n);
    for (auto& b : junk) b = static_cast<uint8_t>(rng_());
    if (has_client()) write_raw(std::move(junk));
    return true;
  }
  const bool ok = device_.inject(fault);
  pump();
  return ok;
}

void SimEndpoint::client_connected() {
  clear_in_flight();
  device_.on_connect(clock_.now_ns());
  pump();
}

void SimEndpoint::client_gone() {
  clear_in_flight();
  device_.on_disconnect(clock_.now_ns());
}

void SimEndpoint::clear_in_flight() {
  to_device_.clear();
  to_client_.clear();
  to_device_timer_.cancel();
  to_client_timer_.cancel();
}

void SimEndpoint::client_bytes(const uint8_t* data, size_t n) {
  bytes_in_ += n;
  if (clock_.now_ns() < stalled_until_ns_) return;  // a stalled instrument hears nothing
  enqueue(Direction::to_device, std::vector<uint8_t>(data, data + n));
}

void SimEndpoint::deliver_out(std::vector<uint8_t> bytes) {
  bytes_out_ += bytes.size();
  enqueue(Direction::to_client, std::move(bytes));
}

// A chunk leaves after its own jitter, but never before the chunks ahead of it: a later chunk
// with a shorter delay waits behind them, as bytes on one wire do.
void SimEndpoint::enqueue(Direction d, std::vector<uint8_t> bytes) {
  auto& queue = d == Direction::to_device ? to_device_ : to_client_;
  const int64_t j = jitter_ns();
  if (j == 0 && queue.empty()) {
    if (d == Direction::to_device) {
      device_.on_bytes(bytes, clock_.now_ns());
      pump();
    } else {
      write_raw(std::move(bytes));
    }
    return;
  }
  int64_t due = clock::monotonic_now_ns() + clock_.to_monotonic_duration_ns(j);
  if (!queue.empty()) due = std::max(due, queue.back().due_mono_ns);
  queue.push_back({due, std::move(bytes)});
  if (queue.size() == 1) arm(d);
}

void SimEndpoint::arm(Direction d) {
  auto& queue = d == Direction::to_device ? to_device_ : to_client_;
  auto& timer = d == Direction::to_device ? to_device_timer_ : to_client_timer_;
  if (queue.empty()) return;
  timer.expires_after(std::chrono::nanoseconds(std::max<int64_t>(0, queue.front().due_mono_ns - clock::monotonic_now_ns())));
  timer.async_wait([this, d](const ErrorCode& ec) {
    if (!ec) drain(d);
  });
}

void SimEndpoint::drain(Direction d) {
  auto& queue = d == Direction::to_device ? to_device_ : to_client_;
  const int64_t now = clock::monotonic_now_ns();
  while (!queue.empty() && queue.front().due_mono_ns <= now) {
    std::vector<uint8_t> bytes = std::move(queue.front().bytes);
    queue.pop_front();
    if (d == Direction::to_device) {
      device_.on_bytes(bytes, clock_.now_ns());
      pump();  // may queue replies to the client; never touches this queue
    } else if (has_client()) {
      write_raw(std::move(bytes));
    }
  }
  arm(d);
}

void SimEndpoint::pump() {
  const int64_t now = clock_.now_ns();
  if (now >= device_.next_deadline_ns()) device_.on_tick(now);
  if (now >= stalled_until_ns_) {
    std::vector<uint8_t> out = device_.take_output();
    if (!out.empty() && has_client()) deliver_out(std::move(out));
  }
  const int64_t deadline = device_.next_deadline_ns();
  if (deadline == drivers::kNoDeadline) return;
  tick_timer_.expires_after(
      std::chrono::nanoseconds(clock_.to_monotonic_duration_ns(std::max<int64_t>(0, deadline - clock_.now_ns()))));
  tick_timer_.async_wait([this](const ErrorCode& ec) {
    if (!ec) pump();
  });
}

// ---- TCP ----

TcpSimServer::TcpSimServer(asio::io_context& io, const clock::Clock& clock, drivers::SimDevice& device, std::string name,
                           uint16_t port, LinkOptions link)
    : SimEndpoint(io, clock, device, std::move(name), link), acceptor_(io), port_(port) {}

void TcpSimServer::start() {
  const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port_);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  ErrorCode ec;
  acceptor_.bind(ep, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot listen on 127.0.0.1:{}: {}", name(), port_, ec.message()));
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  accept();
}

void TcpSimServer::stop() {
  ErrorCode ignored;
  acceptor_.close(ignored);
  if (socket_) socket_->close(ignored);
}

std::string TcpSimServer::where() const { return fmt::format("tcp://127.0.0.1:{}", port_); }

void TcpSimServer::accept() {
  acceptor_.async_accept([this](const ErrorCode& ec, asio::ip::tcp::socket s) {
    if (ec) return;
    // One client at a time, as an instrument's single remote port: a new client replaces the old.
    if (socket_ && socket_->is_open()) {
      ErrorCode ignored;
      socket_->close(ignored);
      client_gone();
    }
    socket_ = std::make_unique<asio::ip::tcp::socket>(std::move(s));
    socket_->set_option(asio::ip::tcp::no_delay(true));
    ++generation_;
    client_connected();
    read();
    accept();
  });
}

void TcpSimServer::read() {
  socket_->async_read_some(asio::buffer(buf_), [this, gen = generation_](const ErrorCode& ec, size_t n) {
    if (gen != generation_) return;
    if (ec) {
      ErrorCode ignored;
      socket_->close(ignored);
      client_gone();
      return;
    }
    client_bytes(buf_.data(), n);
    if (socket_ && socket_->is_open() && gen == generation_) read();
  });
}

void TcpSimServer::write_raw(std::vector<uint8_t> bytes) {
  if (!socket_ || !socket_->is_open()) return;
  auto data = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  // Writes are small and the peer reads continuously; a synchronous write keeps order simple.
  ErrorCode ec;
  asio::write(*socket_, asio::buffer(*data), ec);
}

void TcpSimServer::drop_link() {
  if (!socket_) return;
  ++generation_;
  ErrorCode ignored;
  socket_->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_->close(ignored);
}

// ---- pseudo-terminal ----

PtySimServer::PtySimServer(asio::io_context& io, const clock::Clock& clock, drivers::SimDevice& device, std::string name,
                           std::string link_path, LinkOptions link)
    : SimEndpoint(io, clock, device, std::move(name), link), link_path_(std::move(link_path)) {}

PtySimServer::~PtySimServer() {
  if (slave_keepalive_fd_ >= 0) ::close(slave_keepalive_fd_);
}

void PtySimServer::open_pty() {
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    throw std::runtime_error(fmt::format("{}: cannot open a pseudo-terminal: {}", name(), std::strerror(errno)));
  }
  slave_path_ = ptsname(master);
  // Keep the slave open with raw settings: the line discipline must not echo or translate the
  // binary frames, and the master must not see EIO while the daemon reconnects.
  if (slave_keepalive_fd_ >= 0) ::close(slave_keepalive_fd_);
  slave_keepalive_fd_ = ::open(slave_path_.c_str(), O_RDWR | O_NOCTTY);
  if (slave_keepalive_fd_ >= 0) {
    termios tio{};
    tcgetattr(slave_keepalive_fd_, &tio);
    cfmakeraw(&tio);
    tcsetattr(slave_keepalive_fd_, TCSANOW, &tio);
  }
  master_ = std::make_unique<asio::posix::stream_descriptor>(io_, master);
  // Never block the simulation on a reader that is not there: like a UART, overflow drops.
  master_->non_blocking(true);
  std::error_code fec;
  std::filesystem::remove(link_path_, fec);
  std::filesystem::create_symlink(slave_path_, link_path_, fec);
  if (fec) throw std::runtime_error(fmt::format("{}: cannot create link {}: {}", name(), link_path_, fec.message()));
  ++generation_;
}

void PtySimServer::start() {
  open_pty();
  client_connected();  // a serial device is "there" as soon as it is powered
  read();
}

void PtySimServer::stop() {
  if (master_) {
    ErrorCode ignored;
    master_->close(ignored);
  }
  std::error_code fec;
  std::filesystem::remove(link_path_, fec);
}

std::string PtySimServer::where() const { return fmt::format("serial://{}", link_path_); }

void PtySimServer::read() {
  master_->async_read_some(asio::buffer(buf_), [this, gen = generation_](const ErrorCode& ec, size_t n) {
    if (gen != generation_) return;
    if (ec) {
      // EIO when no slave is open; wait and read again.
      auto t = std::make_shared<asio::steady_timer>(io_);
      t->expires_after(std::chrono::milliseconds(20));
      t->async_wait([this, t, gen](const ErrorCode&) {
        if (gen == generation_) read();
      });
      return;
    }
    client_bytes(buf_.data(), n);
    if (gen == generation_) read();
  });
}

void PtySimServer::write_raw(std::vector<uint8_t> bytes) {
  if (!master_ || !master_->is_open()) return;
  ErrorCode ec;
  asio::write(*master_, asio::buffer(bytes), ec);
}

void PtySimServer::drop_link() {
  // Unplugging the adapter: the old terminal goes away (the daemon's reads fail) and a new one
  // appears under the same link name.
  if (master_) {
    ErrorCode ignored;
    master_->close(ignored);
  }
  if (slave_keepalive_fd_ >= 0) {
    ::close(slave_keepalive_fd_);
    slave_keepalive_fd_ = -1;
  }
  client_gone();
  auto t = std::make_shared<asio::steady_timer>(io_);
  t->expires_after(std::chrono::milliseconds(100));
  t->async_wait([this, t](const ErrorCode&) {
    open_pty();
    client_connected();
    read();
  });
}

}  // namespace opsync::sim
