// A source without an instrument, for the runtime's unit tests: a scripted link in place of the
// socket (the test delivers bytes, hangs up, refuses connects, fails writes) and a scripted
// driver that logs each call with the reference time it was given.
#pragma once

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <string_view>
#include <gtest/gtest.h>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "drivers/driver.h"
#include "records/records.h"
#include "runtime/transport.h"

namespace opsync::runtime::testing {

using drivers::ChannelSpec;
using drivers::Driver;
using drivers::DriverCounters;
using drivers::DriverHost;
using drivers::kNoDeadline;

namespace asio = boost::asio;
constexpr int64_t kSecond = 1'000'000'000;

// The test's side of the links the runner makes (a new one for every connect).
struct LinkScript {
  std::deque<bool> connect_ok;  // per attempt, in order; empty: the connect succeeds
  bool fail_writes = false;
  int connects = 0;
  int closes = 0;
  std::vector<std::string> written;
  // The read the live link has pending (the runner always keeps one).
  std::function<void(const ErrorCode&, size_t)> pending_read;
  uint8_t* read_buf = nullptr;
  size_t read_capacity = 0;
};

class ScriptedLink final : public Transport {
 public:
  ScriptedLink(asio::io_context& io, std::shared_ptr<LinkScript> script) : io_(io), s_(std::move(script)) {}

  void async_connect(std::function<void(const ErrorCode&)> done) override {
    ++s_->connects;
    bool ok = true;
    if (!s_->connect_ok.empty()) {
      ok = s_->connect_ok.front();
      s_->connect_ok.pop_front();
    }
    asio::post(io_, [done = std::move(done), ok] {
      done(ok ? ErrorCode{} : ErrorCode(asio::error::connection_refused));
    });
  }
  void async_read_some(uint8_t* buf, size_t n, std::function<void(const ErrorCode&, size_t)> done) override {
    s_->pending_read = std::move(done);
    s_->read_buf = buf;
    s_->read_capacity = n;
  }
  void async_write(std::shared_ptr<const std::vector<uint8_t>> data, std::function<void(const ErrorCode&)> done) override {
    const bool fail = s_->fail_writes;
    if (!fail) s_->written.emplace_back(data->begin(), data->end());
    asio::post(io_, [done = std::move(done), fail] { done(fail ? ErrorCode(asio::error::broken_pipe) : ErrorCode{}); });
  }
  void close() override {
    ++s_->closes;
    if (auto read = std::move(s_->pending_read)) {
      s_->pending_read = nullptr;
      asio::post(io_, [read = std::move(read)] { read(asio::error::operation_aborted, 0); });
    }
  }

 private:
  asio::io_context& io_;
  std::shared_ptr<LinkScript> s_;
};

// What the driver was asked to do, and what it should do at its ticks.
struct DriverScript {
  std::vector<std::string> calls;  // "connect@<s>", "bytes:<text>@<s>", "tick@<s>", "disconnect@<s>", "stop@<s>"
  std::deque<std::pair<int64_t, bool>> ticks;  // (deadline, send "POLL\n" at it)
};

inline std::string at(const char* what, int64_t t_ns) { return std::string(what) + "@" + std::to_string(t_ns / kSecond); }

// Sends HELLO on connect and BYE on stop; records one sample per read (its length); the text
// "again" asks for a new link.
class ScriptedDriver final : public drivers::Driver {
 public:
  explicit ScriptedDriver(std::shared_ptr<DriverScript> script) : s_(std::move(script)) {}
  std::string_view kind() const override { return "cycler"; }
  const std::vector<drivers::ChannelSpec>& channels() const override { return channels_; }
  void on_connect(drivers::DriverHost& host, int64_t t_ns) override {
    s_->calls.push_back(at("connect", t_ns));
    host.send(std::string_view("HELLO\n"));
  }
  void on_bytes(drivers::DriverHost& host, std::span<const uint8_t> bytes, int64_t t_ns) override {
    const std::string text(bytes.begin(), bytes.end());
    s_->calls.push_back(at(("bytes:" + text).c_str(), t_ns));
    if (text == "again") {
      host.request_reconnect("the driver wants a new link");
      return;
    }
    host.sample(0, t_ns, static_cast<double>(bytes.size()));
  }
  void on_tick(drivers::DriverHost& host, int64_t t_ns) override {
    s_->calls.push_back(at("tick", t_ns));
    if (s_->ticks.empty()) return;
    const bool send = s_->ticks.front().second;
    s_->ticks.pop_front();
    if (send) host.send(std::string_view("POLL\n"));
  }
  int64_t next_deadline_ns() const override { return s_->ticks.empty() ? drivers::kNoDeadline : s_->ticks.front().first; }
  void on_disconnect(drivers::DriverHost&, int64_t t_ns) override { s_->calls.push_back(at("disconnect", t_ns)); }
  void on_stop(drivers::DriverHost& host, int64_t t_ns) override {
    s_->calls.push_back(at("stop", t_ns));
    host.send(std::string_view("BYE\n"));
  }
  const drivers::DriverCounters& counters() const override { return counters_; }

 private:
  std::shared_ptr<DriverScript> s_;
  std::vector<drivers::ChannelSpec> channels_{{"voltage", "V", "cell voltage"}};
  drivers::DriverCounters counters_;
};

// Runs `io` until `done` holds; fails the test after 10 s of wall time (a guard against a hang,
// not a delay: what the tests wait for is posted or due at once).
template <class Pred>
void run_until(asio::io_context& io, Pred done, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "timed out waiting for " << what;
      return;
    }
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
}

// The events of `kind`, as pointers into `all`, which must outlive them (no overload for a temporary).
inline std::vector<const records::Event*> of_kind(const std::vector<records::Event>& all, std::string_view kind) {
  std::vector<const records::Event*> out;
  for (const records::Event& e : all) {
    if (e.kind == kind) out.push_back(&e);
  }
  return out;
}
std::vector<const records::Event*> of_kind(std::vector<records::Event>&&, std::string_view) = delete;

inline TransportFactory scripted_links(std::shared_ptr<LinkScript> script) {
  return [script](asio::io_context& io, const Address&) { return std::make_unique<ScriptedLink>(io, script); };
}

}  // namespace opsync::runtime::testing
