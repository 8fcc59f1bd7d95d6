// SourceRunner on its own: a scripted link in place of the socket, a scripted driver, the
// FakeClock for reference time, and a real store in a temporary file, read back afterwards.
// What source_runner.h promises: every driver call and capture carries the reference time of
// the moment, refused connects and dropped links become events and a reconnect with backoff,
// the first data after an outage records the gap, ticks run at the driver's deadline, and a
// stop lets the stop sequence out before it closes.
#include "runtime/source_runner.h"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstring>
#include <deque>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

#include "scripted_source.h"
#include "store/reader.h"
#include "store/writer.h"
#include "support/temp_db.h"

namespace opsync::runtime {
namespace {

namespace asio = boost::asio;
using namespace testing;  // scripted_source.h

class SourceRunnerTest : public ::testing::Test {
 protected:
  void make_runner(double read_timeout_s = 0) {
    writer_ = std::make_unique<store::StoreWriter>(db_.path());
    session_ = writer_->open_session(records::Session{0, "runner", 1'000 * kSecond, 0, "host", ""});
    source_ = writer_->add_source(records::Source{0, session_, "cyc", "cycler", "tcp://127.0.0.1:1", ""});
    const records::ChannelId voltage = writer_->add_channel(records::Channel{0, source_, "voltage", "V", "cell voltage"});
    recorder_ = std::make_unique<SourceRecorder>(*writer_, session_, source_, "cyc",
                                                 std::vector<drivers::ChannelSpec>{{"voltage", "V", "cell voltage"}},
                                                 std::vector<records::ChannelId>{voltage}, /*capture=*/true);
    SourceConfig config;
    config.name = "cyc";
    config.driver = "scripted";
    config.address_text = "tcp://127.0.0.1:1";
    config.address = TcpAddress{"127.0.0.1", 1};
    config.reconnect_min_s = 0.001;  // backoff in ms: the test waits for events, not for time
    config.reconnect_max_s = 0.004;
    config.read_timeout_s = read_timeout_s;
    runner_ = std::make_unique<SourceRunner>(io_, clock_, config, std::make_unique<ScriptedDriver>(driver_),
                                             *recorder_, scripted_links(link_));
  }

  template <class Pred>
  void run_until(Pred done, const char* what) {
    testing::run_until(io_, done, what);
  }
  void run_until_connected(int connects) {
    run_until([&] { return link_->connects >= connects && runner_->status().state == LinkState::Connected &&
                           link_->pending_read; },
              "the link to be up");
  }
  // The instrument sends `text` now.
  void deliver(const std::string& text) {
    ASSERT_TRUE(link_->pending_read) << "no read pending";
    ASSERT_LE(text.size(), link_->read_capacity);
    std::memcpy(link_->read_buf, text.data(), text.size());
    auto read = std::move(link_->pending_read);
    link_->pending_read = nullptr;
    const size_t calls = driver_->calls.size();
    asio::post(io_, [read = std::move(read), n = text.size()] { read(ErrorCode{}, n); });
    run_until([&] { return driver_->calls.size() > calls; }, "the driver to see the bytes");
  }
  void hang_up() {
    ASSERT_TRUE(link_->pending_read);
    auto read = std::move(link_->pending_read);
    link_->pending_read = nullptr;
    asio::post(io_, [read = std::move(read)] { read(asio::error::eof, 0); });
  }
  // The records, once everything queued is on disk.
  std::vector<records::Event> events() {
    writer_->flush();
    std::vector<records::Event> out;
    for (records::Event& e : store::StoreReader(db_.path()).events(session_)) {
      if (e.source_id == source_) out.push_back(std::move(e));
    }
    return out;
  }
  std::vector<records::Capture> captures() {
    writer_->flush();
    std::vector<records::Capture> out;
    store::StoreReader(db_.path()).for_each_capture(source_, [&](const records::Capture& c) {
      out.push_back(c);
      return true;
    });
    return out;
  }

  test::TempDb db_;
  asio::io_context io_;
  clock::FakeClock clock_{1'000 * kSecond};
  std::shared_ptr<LinkScript> link_ = std::make_shared<LinkScript>();
  std::shared_ptr<DriverScript> driver_ = std::make_shared<DriverScript>();
  std::unique_ptr<store::StoreWriter> writer_;
  records::SessionId session_ = 0;
  records::SourceId source_ = 0;
  std::unique_ptr<SourceRecorder> recorder_;
  std::unique_ptr<SourceRunner> runner_;
};

TEST_F(SourceRunnerTest, DriverCallsAndCapturesCarryTheReferenceTimeOfTheMoment) {
  make_runner();
  runner_->start();
  run_until_connected(1);
  ASSERT_EQ(link_->written, std::vector<std::string>{"HELLO\n"});
  clock_.set(1'001 * kSecond);
  deliver("abc");
  EXPECT_EQ(driver_->calls, (std::vector<std::string>{"connect@1000", "bytes:abc@1001"}));
  EXPECT_EQ(runner_->status().last_data_t_ns, 1'001 * kSecond);
  EXPECT_EQ(recorder_->samples(), 1u);

  const auto evs = events();
  ASSERT_EQ(of_kind(evs, "connected").size(), 1u);
  EXPECT_EQ(of_kind(evs, "connected")[0]->t_ns, 1'000 * kSecond);
  EXPECT_EQ(of_kind(evs, "connected")[0]->detail, "tcp://127.0.0.1:1");
  const auto caps = captures();
  ASSERT_EQ(caps.size(), 2u);
  EXPECT_EQ(caps[0].kind, records::CaptureKind::kOut);
  EXPECT_EQ(caps[0].bytes, "HELLO\n");
  EXPECT_EQ(caps[0].t_ns, 1'000 * kSecond);
  EXPECT_EQ(caps[1].kind, records::CaptureKind::kIn);
  EXPECT_EQ(caps[1].bytes, "abc");
  EXPECT_EQ(caps[1].t_ns, 1'001 * kSecond);
  store::StoreReader reader(db_.path());
  const auto samples = reader.samples(reader.channels(source_).at(0).id);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].t_ns, 1'001 * kSecond);
  EXPECT_EQ(samples[0].value, 3.0);
}

TEST_F(SourceRunnerTest, RefusedConnectsAreOneEventPerOutageAndTheRunnerKeepsTrying) {
  link_->connect_ok = {false, false, false};
  make_runner();
  runner_->start();
  run_until_connected(4);
  EXPECT_EQ(link_->connects, 4);
  EXPECT_EQ(runner_->status().connects, 1u);
  EXPECT_EQ(runner_->status().disconnects, 0u);
  const auto evs = events();
  ASSERT_EQ(of_kind(evs, "connect_failed").size(), 1u) << "one event per outage, not per retry";
  EXPECT_NE(of_kind(evs, "connect_failed")[0]->detail.find("retrying"), std::string::npos);
  EXPECT_EQ(of_kind(evs, "connected").size(), 1u);
  // Every failed attempt's link was closed, not leaked.
  EXPECT_GE(link_->closes, 3);
}

TEST_F(SourceRunnerTest, AHangUpIsADisconnectAndTheFirstDataAfterItRecordsTheGap) {
  make_runner();
  runner_->start();
  run_until_connected(1);
  clock_.set(1'010 * kSecond);
  deliver("a");
  clock_.set(1'012 * kSecond);
  hang_up();
  run_until([&] { return runner_->status().disconnects == 1; }, "the disconnect");
  run_until_connected(2);
  clock_.set(1'015 * kSecond);
  deliver("b");

  EXPECT_EQ(driver_->calls, (std::vector<std::string>{"connect@1000", "bytes:a@1010", "disconnect@1012",
                                                      "connect@1012", "bytes:b@1015"}));
  const auto evs = events();
  const auto dropped = of_kind(evs, "disconnected");
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0]->t_ns, 1'012 * kSecond);
  EXPECT_EQ(dropped[0]->detail, "closed by the instrument");
  const auto gaps = of_kind(evs, "gap");
  ASSERT_EQ(gaps.size(), 1u);
  // The gap runs from the last data before the outage to the first after it.
  EXPECT_EQ(gaps[0]->t_ns, 1'010 * kSecond);
  EXPECT_EQ(gaps[0]->detail, "5.000 s without data (closed by the instrument)");
  EXPECT_EQ(runner_->status().connects, 2u);
}

TEST_F(SourceRunnerTest, ADriversRequestForANewLinkDropsItAndReconnects) {
  make_runner();
  runner_->start();
  run_until_connected(1);
  deliver("again");
  run_until([&] { return runner_->status().disconnects == 1; }, "the disconnect");
  run_until_connected(2);
  const auto evs = events();
  const auto dropped = of_kind(evs, "disconnected");
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0]->detail, "the driver wants a new link");
  EXPECT_EQ(runner_->status().last_error, "the driver wants a new link");
  EXPECT_EQ(link_->written, (std::vector<std::string>{"HELLO\n", "HELLO\n"}));
}

TEST_F(SourceRunnerTest, DataAfterAnEarlierRunOfTheDaemonRecordsTheOutageAsAGap) {
  make_runner();
  runner_->resume_after(990 * kSecond, "opsyncd was not running");
  clock_.set(1'020 * kSecond);
  runner_->start();
  run_until_connected(1);
  deliver("x");
  const auto evs = events();
  const auto gaps = of_kind(evs, "gap");
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0]->t_ns, 990 * kSecond);
  EXPECT_EQ(gaps[0]->detail, "30.000 s without data (opsyncd was not running)");
}

TEST_F(SourceRunnerTest, TicksRunAtTheDeadlineAndATickThatSendsNothingIsCaptured) {
  driver_->ticks = {{1'000 * kSecond, false}, {1'000 * kSecond, true}, {5'000 * kSecond, true}};
  make_runner();
  runner_->start();
  run_until_connected(1);
  run_until([&] { return driver_->ticks.size() == 1; }, "the two due ticks");
  EXPECT_EQ(driver_->calls, (std::vector<std::string>{"connect@1000", "tick@1000", "tick@1000"}));
  EXPECT_EQ(link_->written, (std::vector<std::string>{"HELLO\n", "POLL\n"}));
  // The third deadline is far ahead on the reference clock: it has not run.
  io_.restart();
  io_.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(driver_->ticks.size(), 1u);

  const auto caps = captures();
  ASSERT_EQ(caps.size(), 3u);
  EXPECT_EQ(caps[0].bytes, "HELLO\n");
  EXPECT_EQ(caps[1].kind, records::CaptureKind::kTick) << "the tick that sent nothing";
  EXPECT_EQ(caps[1].t_ns, 1'000 * kSecond);
  EXPECT_EQ(caps[2].kind, records::CaptureKind::kOut);
  EXPECT_EQ(caps[2].bytes, "POLL\n");
}

TEST_F(SourceRunnerTest, StopLetsTheStopSequenceOutThenClosesForGood) {
  make_runner();
  runner_->start();
  run_until_connected(1);
  clock_.set(1'100 * kSecond);
  bool done = false;
  runner_->stop(std::chrono::milliseconds(2'000), [&] { done = true; });
  run_until([&] { return done; }, "the stop to finish");
  EXPECT_EQ(runner_->status().state, LinkState::Stopped);
  EXPECT_EQ(link_->written, (std::vector<std::string>{"HELLO\n", "BYE\n"}));
  EXPECT_EQ(driver_->calls, (std::vector<std::string>{"connect@1000", "stop@1100", "disconnect@1100"}));
  // No reconnect after a stop, however long the loop runs.
  io_.restart();
  io_.run_for(std::chrono::milliseconds(30));
  EXPECT_EQ(link_->connects, 1);
  const auto evs = events();
  const auto stopped = of_kind(evs, "stopped");
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_EQ(stopped[0]->t_ns, 1'100 * kSecond);
}

TEST_F(SourceRunnerTest, AFailedWriteDropsTheLink) {
  link_->fail_writes = true;
  make_runner();
  runner_->start();
  run_until([&] { return runner_->status().disconnects >= 1; }, "the disconnect");
  const auto evs = events();
  const auto dropped = of_kind(evs, "disconnected");
  ASSERT_GE(dropped.size(), 1u);
  EXPECT_EQ(dropped[0]->detail.rfind("write failed: ", 0), 0u) << dropped[0]->detail;
}

TEST_F(SourceRunnerTest, ALinkSilentForTheReadTimeoutIsDropped) {
  make_runner(/*read_timeout_s=*/0.2);
  runner_->start();
  run_until_connected(1);
  // The watchdog counts monotonic time (a stall is physical); the wait is bounded by run_until.
  run_until([&] { return runner_->status().disconnects >= 1; }, "the watchdog");
  const auto evs = events();
  const auto dropped = of_kind(evs, "disconnected");
  ASSERT_GE(dropped.size(), 1u);
  EXPECT_EQ(dropped[0]->detail, "no data for 0.2 s");
}

}  // namespace
}  // namespace opsync::runtime
