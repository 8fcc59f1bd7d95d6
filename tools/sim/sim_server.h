// Serves a simulated instrument (a SimDevice) over a real link: a TCP listener on 127.0.0.1 or
// a pseudo-terminal (reached through a stable symlink, like a udev name). Time is the
// simulation clock, so the device's measuring times and clocks are physical at N x speed.
// Link faults on demand: drop the connection, stall, garbage bytes; link jitter per byte chunk.
// Jitter delays chunks but never reorders them, as no UART, USB endpoint or TCP stream does:
// each direction is one FIFO drained by one timer.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "clock/clock.h"
#include "drivers/sim_device.h"
#include "drivers/sim_instrument.h"

namespace opsync::sim {

using LinkOptions = drivers::SimLinkOptions;  // jitter of the link (drivers/sim_instrument.h)

class SimEndpoint {
 public:
  SimEndpoint(boost::asio::io_context& io, const clock::Clock& clock, drivers::SimDevice& device, std::string name,
              LinkOptions link);
  virtual ~SimEndpoint() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  // "drop", "stall:<seconds>", "garbage:<bytes>", or a device fault ("bad_crc", ...).
  // Returns false for a fault nobody here knows.
  bool inject(const std::string& fault);
  const std::string& name() const { return name_; }
  virtual std::string where() const = 0;  // address for station.toml
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }

 protected:
  // Link side calls these.
  void client_connected();
  void client_bytes(const uint8_t* data, size_t n);
  void client_gone();
  virtual void write_raw(std::vector<uint8_t> bytes) = 0;
  virtual void drop_link() = 0;
  virtual bool has_client() const = 0;

  boost::asio::io_context& io_;
  const clock::Clock& clock_;

 private:
  // Bytes on their way through the jittery link, in order; due in CLOCK_MONOTONIC ns.
  struct InFlight {
    int64_t due_mono_ns;
    std::vector<uint8_t> bytes;
  };
  enum class Direction { to_device, to_client };

  void pump();  // collect device output, schedule its delivery, re-arm the device timer
  void deliver_out(std::vector<uint8_t> bytes);
  void enqueue(Direction d, std::vector<uint8_t> bytes);
  void arm(Direction d);
  void drain(Direction d);
  void clear_in_flight();  // the link went down: what was on the wire is gone
  int64_t jitter_ns();

  drivers::SimDevice& device_;
  std::string name_;
  LinkOptions link_;
  std::mt19937_64 rng_;
  boost::asio::steady_timer tick_timer_;
  int64_t stalled_until_ns_ = 0;
  std::deque<InFlight> to_device_, to_client_;
  boost::asio::steady_timer to_device_timer_, to_client_timer_;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
};

class TcpSimServer final : public SimEndpoint {
 public:
  TcpSimServer(boost::asio::io_context& io, const clock::Clock& clock, drivers::SimDevice& device, std::string name,
               uint16_t port, LinkOptions link = {});
  void start() override;
  void stop() override;
  std::string where() const override;
  uint16_t port() const { return port_; }

 private:
  void accept();
  void read();
  void write_raw(std::vector<uint8_t> bytes) override;
  void drop_link() override;
  bool has_client() const override { return socket_ && socket_->is_open(); }

  boost::asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<boost::asio::ip::tcp::socket> socket_;
  uint16_t port_;
  std::array<uint8_t, 4096> buf_{};
  uint64_t generation_ = 0;
};

class PtySimServer final : public SimEndpoint {
 public:
  // link_path: a symlink that always points at the current pseudo-terminal (re-pointed when a
  // drop opens a new one, as a USB adapter re-enumerates).
  PtySimServer(boost::asio::io_context& io, const clock::Clock& clock, drivers::SimDevice& device, std::string name,
               std::string link_path, LinkOptions link = {});
  ~PtySimServer() override;
  void start() override;
  void stop() override;
  std::string where() const override;

 private:
  void open_pty();
  void read();
  void write_raw(std::vector<uint8_t> bytes) override;
  void drop_link() override;
  bool has_client() const override { return master_ && master_->is_open(); }

  std::string link_path_;
  std::string slave_path_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> master_;
  int slave_keepalive_fd_ = -1;
  std::array<uint8_t, 4096> buf_{};
  uint64_t generation_ = 0;
};

}  // namespace opsync::sim
