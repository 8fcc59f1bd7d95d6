// The simulated link keeps byte order in both directions whatever its jitter: a real link (a
// UART, a USB CDC endpoint, a TCP stream) delays bytes but never reorders them. A reordering
// link made the bridge driver see its edge sequence numbers go back (issue 11).
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "clock/clock.h"
#include "sim/sim_server.h"

namespace {

namespace asio = boost::asio;

// Sends a 4-byte counter every period of simulation time; records the counters it is sent.
class CounterDevice final : public opsync::drivers::SimDevice {
 public:
  CounterDevice(int64_t period_ns, uint32_t count) : period_ns_(period_ns), count_(count) {}
  void on_connect(int64_t t_ns) override { next_ns_ = t_ns; }
  void on_bytes(std::span<const uint8_t> bytes, int64_t) override { in_.insert(in_.end(), bytes.begin(), bytes.end()); }
  void on_tick(int64_t t_ns) override {
    // One chunk per tick, so that each goes through the link as its own write.
    if (sent_ < count_ && t_ns >= next_ns_) {
      for (int i = 0; i < 4; ++i) out_.push_back(static_cast<uint8_t>(sent_ >> (8 * i)));
      ++sent_;
      next_ns_ = t_ns + period_ns_;
    }
  }
  int64_t next_deadline_ns() const override { return sent_ < count_ ? next_ns_ : opsync::drivers::kNoDeadline; }
  std::vector<uint8_t> take_output() override { return std::exchange(out_, {}); }
  void on_disconnect(int64_t) override {}
  const std::vector<uint8_t>& received() const { return in_; }

 private:
  int64_t period_ns_;
  uint32_t count_;
  uint32_t sent_ = 0;
  int64_t next_ns_ = 0;
  std::vector<uint8_t> out_;
  std::vector<uint8_t> in_;
};

// Counters 0..n-1 in order; returns the index of the first out of place, or n if none is.
size_t first_out_of_order(const std::vector<uint8_t>& bytes, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t v = 0;
    std::memcpy(&v, bytes.data() + 4 * i, 4);
    if (v != i) return i;
  }
  return n;
}

TEST(SimLink, AFaultWithABadNumberIsUnknownNotAnException) {
  asio::io_context io;
  opsync::clock::RealClock clock;
  CounterDevice device(20'000, 1);
  opsync::sim::TcpSimServer server(io, clock, device, "counter", 0, {});
  server.start();
  for (const char* bad : {"stall:x", "stall:", "stall:-1", "stall:1e999", "garbage:abc", "garbage:-3", "garbage:2.5"}) {
    EXPECT_FALSE(server.inject(bad)) << bad;
  }
  EXPECT_TRUE(server.inject("garbage:5"));  // no client: nothing to write to, but a known fault
  EXPECT_TRUE(server.inject("stall:0.01"));
  server.stop();
}

TEST(SimLink, JitterNeverReordersBytesEitherWay) {
  constexpr uint32_t kChunks = 4000;
  asio::io_context io;
  opsync::clock::RealClock clock;
  // 1 ms of jitter on chunks 20 us apart: most chunks are held behind an earlier one.
  CounterDevice device(20'000, kChunks);
  opsync::sim::LinkOptions link;
  link.jitter_max_ns = 1'000'000;
  link.seed = 7;
  opsync::sim::TcpSimServer server(io, clock, device, "counter", 0, link);
  server.start();

  asio::ip::tcp::socket client(io);
  client.connect({asio::ip::make_address("127.0.0.1"), server.port()});
  std::vector<uint8_t> from_device(4 * kChunks);
  bool read_done = false;
  asio::async_read(client, asio::buffer(from_device), [&](const boost::system::error_code& ec, size_t) {
    EXPECT_FALSE(ec) << ec.message();
    read_done = true;
  });
  // The other way: the same counters written one chunk at a time.
  std::vector<uint8_t> to_device;
  for (uint32_t i = 0; i < kChunks; ++i) {
    for (int b = 0; b < 4; ++b) to_device.push_back(static_cast<uint8_t>(i >> (8 * b)));
  }
  size_t written = 0;
  asio::steady_timer writer(io);
  std::function<void()> write_next = [&] {
    if (written == kChunks) return;
    asio::write(client, asio::buffer(to_device.data() + 4 * written, 4));
    ++written;
    writer.expires_after(std::chrono::microseconds(20));
    writer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) write_next();
    });
  };
  write_next();

  // Bounded against a hang only; normally done in well under a second.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((!read_done || device.received().size() < to_device.size()) && std::chrono::steady_clock::now() < give_up) {
    io.run_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(read_done);
  ASSERT_EQ(device.received().size(), to_device.size());
  EXPECT_EQ(first_out_of_order(from_device, kChunks), kChunks) << "device -> client bytes reordered";
  EXPECT_EQ(first_out_of_order(device.received(), kChunks), kChunks) << "client -> device bytes reordered";
  server.stop();
}

}  // namespace
