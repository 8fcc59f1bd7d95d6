// SRS RGA driver against a scripted host: exact bytes of set-up and loop, midpoint stamps,
// error-byte queries, retries, timeouts, malformed input and resynchronisation, login, stop.
#include "drivers/rga/rga_driver.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "fake_host.h"

namespace opsync::drivers::rga {
namespace {

using testing::as_bytes;
using testing::FakeHost;

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;
const std::string kIdReply = "SRSRGA200VER0.24SN14346\n\r";
const std::string kOk = "0\n\r";

std::string le(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

class RgaDriverTest : public ::testing::Test {
 protected:
  void make(RgaConfig config = {}) { driver = std::make_unique<RgaDriver>(std::move(config)); }
  void connect(int64_t t_ns) {
    host.now_ns = t_ns;
    driver->on_connect(host, t_ns);
  }
  void feed(std::string_view bytes, int64_t t_ns) {
    host.now_ns = t_ns;
    driver->on_bytes(host, as_bytes(bytes), t_ns);
  }
  void tick(int64_t t_ns) {
    host.now_ns = t_ns;
    driver->on_tick(host, t_ns);
  }
  // Default config: connect at 0 and answer the set-up; returns the time MR32 went out.
  int64_t run_setup() {
    connect(0);
    EXPECT_EQ(host.take_sent(), "ID?\r");
    feed(kIdReply, 10 * kMs);
    EXPECT_EQ(host.take_sent(), "FL1.0\r");
    feed(kOk, 600 * kMs);
    EXPECT_EQ(host.take_sent(), "HV0\r");
    feed(kOk, 800 * kMs);
    EXPECT_EQ(host.take_sent(), "NF4\r");
    tick(800 * kMs + RgaDriver::kNoReplySettle_ns);
    EXPECT_EQ(host.take_sent(), "CA\r");
    feed(kOk, 3 * kS);
    EXPECT_EQ(host.take_sent(), "MR32\r");
    return 3 * kS;
  }
  // Answers the MR in flight `rtt_ns` after it was sent with `raw`; returns the reply time.
  int64_t answer_mr(int32_t raw, int64_t rtt_ns) {
    const int64_t t_ns = host.sent.back().t_ns + rtt_ns;
    const auto b = encode_int32_le(raw);
    feed(std::string(b.begin(), b.end()), t_ns);
    return t_ns;
  }

  std::unique_ptr<RgaDriver> driver;
  FakeHost host;
};

TEST_F(RgaDriverTest, DeclaresChannelsWithUnitsAndQuantities) {
  RgaConfig config;
  config.masses = {32, 44, 18};
  make(config);
  EXPECT_EQ(driver->kind(), "ms");
  ASSERT_EQ(driver->channels().size(), 3U);
  EXPECT_EQ(driver->channels()[0].name, "ion_current_m32");
  EXPECT_EQ(driver->channels()[0].unit, "A");
  EXPECT_EQ(driver->channels()[0].quantity, "O2 ion current (m/z 32)");
  EXPECT_EQ(driver->channels()[1].quantity, "CO2 ion current (m/z 44)");
  EXPECT_EQ(driver->channels()[2].name, "ion_current_m18");
  EXPECT_EQ(driver->channels()[2].quantity, "m/z 18 ion current");
}

TEST_F(RgaDriverTest, ValidatesConfig) {
  EXPECT_TRUE(RgaConfig{}.problems().empty());
  RgaConfig bad;
  bad.masses = {0, 44, 44, 301};
  bad.noise_floor = 8;
  bad.emission_ma = 4.0;
  bad.cdem_voltage_v = 3000;
  EXPECT_EQ(bad.problems().size(), 6U);
  // The driver never sends what problems() rejects.
  make(bad);
  ASSERT_EQ(driver->channels().size(), 1U);
  EXPECT_EQ(driver->channels()[0].name, "ion_current_m44");
  EXPECT_EQ(driver->config().noise_floor, 7);
  EXPECT_DOUBLE_EQ(driver->config().emission_ma, 3.5);
}

TEST_F(RgaDriverTest, SetUpAndLoopSendExactBytes) {
  make();
  const int64_t t_mr32 = run_setup();
  const auto* identity = host.last_event("identity");
  ASSERT_NE(identity, nullptr);
  EXPECT_EQ(identity->detail, "model=SRSRGA200 m_max=200 firmware=0.24 serial=14346");
  ASSERT_TRUE(driver->identity().has_value());
  EXPECT_EQ(driver->identity()->serial, "14346");

  feed(le({0x40, 0xe2, 0x01, 0x00}), t_mr32 + 170 * kMs);  // doc 3.1: 1.23456e-11 A
  EXPECT_EQ(host.take_sent(), "MR44\r");
  feed(le({0xff, 0xff, 0xff, 0xff}), t_mr32 + 340 * kMs);  // -1e-16 A
  EXPECT_EQ(host.take_sent(), "MR32\r");                    // continuous: next loop at once
  feed(le({0x10, 0x27, 0x00, 0x00}), t_mr32 + 510 * kMs);  // 1e-12 A
  EXPECT_EQ(host.take_sent(), "MR44\r");

  ASSERT_EQ(host.samples.size(), 3U);
  EXPECT_EQ(host.samples[0].channel, 0U);
  EXPECT_DOUBLE_EQ(host.samples[0].value, 1.23456e-11);
  EXPECT_EQ(host.samples[1].channel, 1U);
  EXPECT_DOUBLE_EQ(host.samples[1].value, -1e-16);
  EXPECT_EQ(host.samples[2].channel, 0U);
  EXPECT_DOUBLE_EQ(host.samples[2].value, 1e-12);

  EXPECT_EQ(driver->counters().messages_ok, 7U);  // ID, FL, HV, CA, 3 x MR
  EXPECT_EQ(driver->counters().bytes_in, kIdReply.size() + 3 * kOk.size() + 3 * 4);
  size_t out = 0;
  for (const auto& s : host.sent) out += s.bytes.size();
  EXPECT_EQ(driver->counters().bytes_out, out);
  EXPECT_EQ(driver->counters().malformed, 0U);
  EXPECT_TRUE(host.reconnects.empty());
}

TEST_F(RgaDriverTest, SettingsGoOutAsConfigured) {
  RgaConfig config;
  config.masses = {18};
  config.emission_ma = 2.5;
  config.cdem_voltage_v = 1400;
  config.noise_floor = 7;
  config.calibrate = false;
  make(config);
  connect(0);
  EXPECT_EQ(host.take_sent(), "ID?\r");
  feed(kIdReply, 1 * kMs);
  EXPECT_EQ(host.take_sent(), "FL2.5\r");
  feed(kOk, 2 * kMs);
  EXPECT_EQ(host.take_sent(), "HV1400\r");
  feed(kOk, 3 * kMs);
  EXPECT_EQ(host.take_sent(), "NF7\r");
  tick(3 * kMs + RgaDriver::kNoReplySettle_ns);
  EXPECT_EQ(host.take_sent(), "MR18\r");  // no CA
  // MR timeout for NF7: 3 x 25 ms + 1 s (doc section 4).
  EXPECT_EQ(driver->next_deadline_ns(), host.now_ns + 3 * 25 * kMs + kS);
}

TEST_F(RgaDriverTest, StampsAtTheMidpointOfRequestAndLastByte) {
  make();
  const int64_t t_mr32 = run_setup();
  feed(le({0x10, 0x27}), t_mr32 + 100 * kMs);
  EXPECT_TRUE(host.samples.empty());
  feed(le({0x00, 0x00}), t_mr32 + 170 * kMs);  // the last byte decides
  ASSERT_EQ(host.samples.size(), 1U);
  EXPECT_EQ(host.samples[0].t_ns, t_mr32 + 85 * kMs);
  EXPECT_DOUBLE_EQ(host.samples[0].value, 1e-12);
  // MR44 was sent in the same call, so its send time is the MR32 reply time.
  feed(le({0x0d, 0x0a, 0x0d, 0x0a}), t_mr32 + 170 * kMs + 200 * kMs);
  ASSERT_EQ(host.samples.size(), 2U);
  EXPECT_EQ(host.samples[1].t_ns, t_mr32 + 170 * kMs + 100 * kMs);
  EXPECT_DOUBLE_EQ(host.samples[1].value, 0x0a0d0a0d * 1e-16);
}

TEST_F(RgaDriverTest, ClockModelOnceThenOnlyOnLargeChangeAfterAMinute) {
  RgaConfig config;
  config.status_every_n_loops = 0;  // only MRs in this test
  make(config);
  run_setup();
  answer_mr(1, 170 * kMs);
  ASSERT_EQ(host.clock_models.size(), 1U);
  const auto& first = host.clock_models[0];
  EXPECT_EQ(first.method, "midpoint");
  EXPECT_EQ(first.offset_ns, 0);
  EXPECT_DOUBLE_EQ(first.rate, 1.0);
  EXPECT_DOUBLE_EQ(first.uncertainty_ns, 85.0 * kMs);
  for (int i = 0; i < 20; ++i) answer_mr(1, 170 * kMs);
  EXPECT_EQ(host.clock_models.size(), 1U);
  // Round trips grow to 400 ms: the median moves within seconds, but a new model waits for a
  // minute of reference time since the first.
  const int64_t first_at = first.fitted_at_ns;
  int64_t t = 0;
  while ((t = answer_mr(1, 400 * kMs)) < first_at + RgaDriver::kClockModelMinInterval_ns) {
    ASSERT_EQ(host.clock_models.size(), 1U) << "at t = " << t;
  }
  ASSERT_EQ(host.clock_models.size(), 2U);
  EXPECT_DOUBLE_EQ(host.clock_models[1].uncertainty_ns, 200.0 * kMs);
  EXPECT_GE(host.clock_models[1].fitted_at_ns, first_at + RgaDriver::kClockModelMinInterval_ns);
}

TEST_F(RgaDriverTest, QueriesErrorStatusEveryNLoops) {
  RgaConfig config;
  config.status_every_n_loops = 2;
  make(config);
  run_setup();
  answer_mr(1, 170 * kMs);
  answer_mr(2, 170 * kMs);  // loop 1
  answer_mr(3, 170 * kMs);
  EXPECT_EQ(host.take_sent(), "MR44\rMR32\rMR44\r");
  const int64_t t = answer_mr(4, 170 * kMs);  // loop 2 done
  EXPECT_EQ(host.take_sent(), "ER?\r");
  feed("2\n\r", t + 5 * kMs);  // FIL_ERR
  const auto* status = host.last_event("rga_status");
  ASSERT_NE(status, nullptr);
  EXPECT_NE(status->detail.find("FIL_ERR"), std::string::npos);
  EXPECT_EQ(host.take_sent(), "EF?\r");
  feed("128\n\r", t + 10 * kMs);
  const auto* fil = host.last_event("filament_error");
  ASSERT_NE(fil, nullptr);
  EXPECT_NE(fil->detail.find("no filament detected"), std::string::npos);
  EXPECT_EQ(host.take_sent(), "MR32\r");  // the loop goes on
  EXPECT_TRUE(host.reconnects.empty());
}

TEST_F(RgaDriverTest, QueriesEachFlaggedErrorByte) {
  RgaConfig config;
  config.status_every_n_loops = 1;
  make(config);
  run_setup();
  answer_mr(1, 170 * kMs);
  const int64_t t = answer_mr(2, 170 * kMs);
  EXPECT_EQ(host.take_sent(), "MR44\rER?\r");
  feed("73\n\r", t + 1 * kMs);  // 0x49 = PS_ERR | CEM_ERR | RS232_ERR
  EXPECT_EQ(host.take_sent(), "EP?\r");
  feed("128\n\r", t + 2 * kMs);
  EXPECT_EQ(host.take_sent(), "EM?\r");
  feed("128\n\r", t + 3 * kMs);
  EXPECT_EQ(host.take_sent(), "EC?\r");
  feed("1\n\r", t + 4 * kMs);
  EXPECT_EQ(host.take_sent(), "MR32\r");
  EXPECT_EQ(host.count("rga_error"), 3U);
  EXPECT_NE(host.events.back().detail.find("bad command"), std::string::npos);
}

TEST_F(RgaDriverTest, ErrorStatusEndingAtLfThenBinaryStartingWithCr) {
  RgaConfig config;
  config.status_every_n_loops = 1;
  make(config);
  run_setup();
  answer_mr(1, 170 * kMs);
  const int64_t t = answer_mr(2, 170 * kMs);
  EXPECT_EQ(host.take_sent(), "MR44\rER?\r");
  feed("0\n", t + 5 * kMs);  // LF only (doc section 7)
  EXPECT_EQ(host.take_sent(), "");  // a CR may still come: do not send yet
  EXPECT_EQ(driver->next_deadline_ns(), t + 5 * kMs + RgaDriver::kTrailingCrWait_ns);
  tick(t + 5 * kMs + RgaDriver::kTrailingCrWait_ns);
  EXPECT_EQ(host.take_sent(), "MR32\r");
  // The reply's first byte is 0x0D: data, not a late terminator.
  answer_mr(0x0d, 170 * kMs);
  ASSERT_EQ(host.samples.size(), 3U);
  EXPECT_DOUBLE_EQ(host.samples[2].value, 13e-16);
  EXPECT_EQ(driver->counters().malformed, 0U);
}

TEST_F(RgaDriverTest, SplitTerminatorCrIsConsumed) {
  RgaConfig config;
  config.status_every_n_loops = 1;
  make(config);
  run_setup();
  answer_mr(1, 170 * kMs);
  const int64_t t = answer_mr(2, 170 * kMs);
  host.take_sent();
  feed("0\n", t + 5 * kMs);
  feed("\r", t + 6 * kMs);
  EXPECT_EQ(host.take_sent(), "MR32\r");  // sent as soon as the CR came
  EXPECT_EQ(host.sent.back().t_ns, t + 6 * kMs);
  EXPECT_EQ(driver->counters().malformed, 0U);
}

TEST_F(RgaDriverTest, FailedHardwareCommandIsRetriedOnce) {
  make();
  connect(0);
  feed(kIdReply, 10 * kMs);
  EXPECT_EQ(host.take_sent(), "ID?\rFL1.0\r");
  feed("2\n\r", 600 * kMs);
  ASSERT_NE(host.last_event("rga_status"), nullptr);
  EXPECT_NE(host.last_event("rga_status")->detail.find("FL1.0"), std::string::npos);
  EXPECT_NE(host.last_event("rga_status")->detail.find("FIL_ERR"), std::string::npos);
  EXPECT_EQ(host.take_sent(), "EF?\r");
  feed("64\n\r", 610 * kMs);
  ASSERT_NE(host.last_event("filament_error"), nullptr);
  EXPECT_NE(host.last_event("filament_error")->detail.find("cannot set emission"), std::string::npos);
  EXPECT_EQ(host.take_sent(), "FL1.0\r");
  feed(kOk, 1200 * kMs);
  EXPECT_EQ(host.take_sent(), "HV0\r");
  EXPECT_TRUE(host.reconnects.empty());
}

TEST_F(RgaDriverTest, HardwareCommandFailingTwiceRequestsReconnect) {
  make();
  connect(0);
  feed(kIdReply, 10 * kMs);
  feed("2\n\r", 600 * kMs);
  feed("64\n\r", 610 * kMs);
  EXPECT_EQ(host.take_sent(), "ID?\rFL1.0\rEF?\rFL1.0\r");
  feed("2\n\r", 1200 * kMs);
  EXPECT_EQ(host.take_sent(), "EF?\r");
  EXPECT_TRUE(host.reconnects.empty());  // details first
  feed("64\n\r", 1210 * kMs);
  ASSERT_EQ(host.reconnects.size(), 1U);
  EXPECT_NE(host.reconnects[0].find("FL1.0 failed twice"), std::string::npos);
  EXPECT_EQ(host.take_sent(), "");
  EXPECT_EQ(driver->next_deadline_ns(), kNoDeadline);
}

TEST_F(RgaDriverTest, TimeoutsAreCountedAndThreeInARowRequestReconnect) {
  make();
  const int64_t t_mr32 = run_setup();
  const int64_t timeout_ns = 3 * 163 * kMs + kS;  // doc section 4, NF4
  EXPECT_EQ(driver->next_deadline_ns(), t_mr32 + timeout_ns);
  tick(t_mr32 + timeout_ns - 1);  // early tick: nothing
  EXPECT_EQ(driver->counters().timeouts, 0U);
  tick(t_mr32 + timeout_ns);
  EXPECT_EQ(driver->counters().timeouts, 1U);
  EXPECT_EQ(host.count("timeout"), 1U);
  EXPECT_EQ(host.take_sent(), "MR32\r");  // asked again
  // A good reply resets the run of timeouts.
  answer_mr(5, 170 * kMs);
  EXPECT_EQ(host.take_sent(), "MR44\r");
  for (int i = 1; i <= 3; ++i) {
    EXPECT_TRUE(host.reconnects.empty());
    tick(driver->next_deadline_ns());
  }
  EXPECT_EQ(driver->counters().timeouts, 4U);
  EXPECT_EQ(host.count("timeout"), 4U);
  ASSERT_EQ(host.reconnects.size(), 1U);
  EXPECT_NE(host.reconnects[0].find("timeouts"), std::string::npos);
  EXPECT_EQ(host.take_sent(), "MR44\rMR44\r");  // two re-sends, none after the third timeout
  EXPECT_EQ(driver->next_deadline_ns(), kNoDeadline);
  feed(le({1, 0, 0, 0}), host.now_ns + kS);  // late bytes after giving up are ignored
  EXPECT_EQ(host.samples.size(), 1U);
}

TEST_F(RgaDriverTest, PartialReplyThenTimeoutFlushesBeforeAskingAgain) {
  make();
  const int64_t t_mr32 = run_setup();
  feed(le({0x40, 0xe2}), t_mr32 + 170 * kMs);
  const int64_t t_timeout = t_mr32 + 3 * 163 * kMs + kS;
  tick(t_timeout);
  ASSERT_NE(host.last_event("timeout"), nullptr);
  EXPECT_NE(host.last_event("timeout")->detail.find("40 e2"), std::string::npos);
  EXPECT_EQ(host.take_sent(), "");
  feed(le({0x01, 0x00}), t_timeout + 10 * kMs);  // the late rest is discarded
  tick(driver->next_deadline_ns());
  EXPECT_EQ(host.take_sent(), "MR32\r");
  answer_mr(10000, 170 * kMs);
  ASSERT_EQ(host.samples.size(), 1U);
  EXPECT_DOUBLE_EQ(host.samples[0].value, 1e-12);
}

TEST_F(RgaDriverTest, GarbageWhereAsciiExpectedIsMalformedAndRecovers) {
  make();
  connect(0);
  EXPECT_EQ(host.take_sent(), "ID?\r");
  feed(le({0x01, 0xfe, 0x53}), 5 * kMs);
  EXPECT_EQ(driver->counters().malformed, 1U);
  const auto* ev = host.last_event("malformed");
  ASSERT_NE(ev, nullptr);
  EXPECT_NE(ev->detail.find("ID?"), std::string::npos);
  EXPECT_NE(ev->detail.find("[01]"), std::string::npos);  // the reply's bytes so far
  EXPECT_EQ(host.take_sent(), "");
  // Resynchronise: the rest of the garbled reply is flushed, then ID? goes out again.
  const int64_t flush_end = 5 * kMs + 163 * kMs + 100 * kMs;
  EXPECT_EQ(driver->next_deadline_ns(), flush_end);
  feed("RSRGA200VER0.24SN14346\n\r", 6 * kMs);
  EXPECT_EQ(host.count("identity"), 0U);
  tick(flush_end);
  EXPECT_EQ(host.take_sent(), "ID?\r");
  feed(kIdReply, flush_end + 10 * kMs);
  EXPECT_EQ(host.count("identity"), 1U);
  EXPECT_EQ(host.take_sent(), "FL1.0\r");
  EXPECT_EQ(driver->counters().malformed, 1U);
}

TEST_F(RgaDriverTest, WrongLengthBinaryReplyIsMalformed) {
  make();
  const int64_t t_mr32 = run_setup();
  feed(le({0x40, 0xe2, 0x01, 0x00, 0x00}), t_mr32 + 170 * kMs);
  EXPECT_TRUE(host.samples.empty());  // not trusted
  EXPECT_EQ(driver->counters().malformed, 1U);
  ASSERT_NE(host.last_event("malformed"), nullptr);
  EXPECT_NE(host.last_event("malformed")->detail.find("40 e2 01 00 00"), std::string::npos);
  tick(driver->next_deadline_ns());
  EXPECT_EQ(host.take_sent(), "MR32\r");
  answer_mr(123456, 170 * kMs);
  ASSERT_EQ(host.samples.size(), 1U);
  EXPECT_DOUBLE_EQ(host.samples[0].value, 1.23456e-11);
}

TEST_F(RgaDriverTest, ReplyToACommandWithoutReplyIsReportedNotMisread) {
  make();
  connect(0);
  feed(kIdReply, 10 * kMs);
  feed(kOk, 600 * kMs);
  feed(kOk, 800 * kMs);
  EXPECT_EQ(host.take_sent(), "ID?\rFL1.0\rHV0\rNF4\r");
  feed(kOk, 810 * kMs);  // an NF echo, as the old QMS manual describes
  EXPECT_EQ(driver->counters().malformed, 1U);
  EXPECT_EQ(host.take_sent(), "");
  tick(driver->next_deadline_ns());
  EXPECT_EQ(host.take_sent(), "CA\r");  // NF is not repeated; the set-up goes on
}

TEST_F(RgaDriverTest, RepeatedMalformedRepliesRequestReconnect) {
  make();
  connect(0);
  for (int i = 0; i < RgaDriver::kMaxConsecutiveMalformed; ++i) {
    EXPECT_TRUE(host.reconnects.empty());
    if (i > 0) tick(driver->next_deadline_ns());
    EXPECT_EQ(host.take_sent(), "ID?\r");
    feed("HELLO\n\r", host.now_ns + 10 * kMs);  // a line, but not an RGA
  }
  EXPECT_EQ(driver->counters().malformed, 5U);
  ASSERT_EQ(host.reconnects.size(), 1U);
  EXPECT_NE(host.reconnects[0].find("HELLO"), std::string::npos);
}

TEST_F(RgaDriverTest, TcpLoginDialogue) {
  RgaConfig config;
  config.tcp_login = true;
  config.user = "lab";
  config.password = "pw";
  make(config);
  connect(0);
  EXPECT_EQ(host.take_sent(), " \r");
  feed("\r\nName: ", 3 * kMs);
  EXPECT_EQ(host.take_sent(), "lab\r");
  feed("Password: ", 5 * kMs);
  EXPECT_EQ(host.take_sent(), "");
  tick(3 * kMs + TcpLogin::kStepWait_ns);
  EXPECT_EQ(host.take_sent(), "pw\r");
  feed("\r\nWelcome\r\n", 3 * kMs + TcpLogin::kStepWait_ns + 4 * kMs);
  EXPECT_EQ(host.take_sent(), "");
  tick(3 * kMs + 2 * TcpLogin::kStepWait_ns);
  EXPECT_EQ(host.count("login"), 1U);
  EXPECT_EQ(host.take_sent(), "ID?\r");
  feed(kIdReply, 3 * kMs + 2 * TcpLogin::kStepWait_ns + 10 * kMs);
  EXPECT_EQ(host.take_sent(), "FL1.0\r");
  EXPECT_EQ(driver->counters().malformed, 0U);
}

TEST_F(RgaDriverTest, TcpLoginRefusedRequestsReconnect) {
  RgaConfig config;
  config.tcp_login = true;
  make(config);
  connect(0);
  feed("Name: ", 1 * kMs);
  tick(1 * kMs + TcpLogin::kStepWait_ns);
  feed("Login incorrect\r\n", 1 * kMs + TcpLogin::kStepWait_ns + kMs);
  EXPECT_EQ(host.take_sent(), " \radmin\radmin\r");
  tick(1 * kMs + 2 * TcpLogin::kStepWait_ns);
  ASSERT_EQ(host.reconnects.size(), 1U);
  EXPECT_NE(host.reconnects[0].find("login"), std::string::npos);
  EXPECT_EQ(host.take_sent(), "");
}

TEST_F(RgaDriverTest, StopWaitsForTheReplyInFlightThenSwitchesOff) {
  make();
  const int64_t t_mr32 = run_setup();
  driver->stop(host, t_mr32 + 50 * kMs);
  EXPECT_EQ(host.take_sent(), "");  // never pipeline
  EXPECT_FALSE(driver->stopped());
  const int64_t t = answer_mr(10000, 170 * kMs);
  EXPECT_EQ(host.samples.size(), 1U);  // the reading still counts
  EXPECT_EQ(host.take_sent(), "MR0\r");
  tick(t + RgaDriver::kNoReplySettle_ns);
  EXPECT_EQ(host.take_sent(), "FL0\r");
  EXPECT_FALSE(driver->stopped());
  feed(kOk, t + 500 * kMs);
  EXPECT_TRUE(driver->stopped());
  EXPECT_EQ(driver->next_deadline_ns(), kNoDeadline);
}

TEST_F(RgaDriverTest, OnStopSendsMr0AndFl0AtOnce) {
  make();
  const int64_t t_mr32 = run_setup();
  driver->on_stop(host, t_mr32 + 50 * kMs);  // MR32 still measuring: the runner cannot wait
  EXPECT_EQ(host.take_sent(), "MR0\rFL0\r");
  EXPECT_TRUE(driver->stopped());
  EXPECT_EQ(driver->next_deadline_ns(), kNoDeadline);
  driver->on_disconnect(host, t_mr32 + 50 * kMs);
  EXPECT_TRUE(driver->stopped());
}

TEST_F(RgaDriverTest, OnStopWhileLoggingInSendsNothing) {
  RgaConfig config;
  config.tcp_login = true;
  make(config);
  connect(0);
  feed("Name: ", 1 * kMs);
  EXPECT_EQ(host.take_sent(), " \radmin\r");
  driver->on_stop(host, 2 * kMs);
  EXPECT_EQ(host.take_sent(), "");  // the adapter would take MR0 as the password
  EXPECT_TRUE(driver->stopped());
}

TEST_F(RgaDriverTest, StopBetweenLoopsSendsAtOnce) {
  RgaConfig config;
  config.period_ns = 10 * kS;
  make(config);
  run_setup();
  answer_mr(1, 170 * kMs);
  const int64_t t = answer_mr(2, 170 * kMs);
  EXPECT_EQ(host.take_sent(), "MR44\r");
  driver->stop(host, t + kS);
  EXPECT_EQ(host.take_sent(), "MR0\r");
}

TEST_F(RgaDriverTest, StopBeforeLoginSendsNothing) {
  RgaConfig config;
  config.tcp_login = true;
  make(config);
  connect(0);
  host.take_sent();
  driver->stop(host, 1 * kMs);
  EXPECT_TRUE(driver->stopped());
  EXPECT_EQ(host.take_sent(), "");
}

TEST_F(RgaDriverTest, PeriodSpacesLoopStarts) {
  RgaConfig config;
  config.period_ns = kS;
  make(config);
  const int64_t t_mr32 = run_setup();
  answer_mr(1, 170 * kMs);
  answer_mr(2, 170 * kMs);
  EXPECT_EQ(host.take_sent(), "MR44\r");
  EXPECT_EQ(driver->next_deadline_ns(), t_mr32 + kS);
  tick(t_mr32 + kS - 1);
  EXPECT_EQ(host.take_sent(), "");
  tick(t_mr32 + kS);
  EXPECT_EQ(host.take_sent(), "MR32\r");
}

TEST_F(RgaDriverTest, MassesAboveMMaxAreReportedAndSkipped) {
  RgaConfig config;
  config.masses = {150, 32};
  config.calibrate = false;
  make(config);
  connect(0);
  feed("SRSRGA100VER0.24SN00001\n\r", 1 * kMs);
  ASSERT_NE(host.last_event("config_error"), nullptr);
  EXPECT_NE(host.last_event("config_error")->detail.find("150"), std::string::npos);
  feed(kOk, 2 * kMs);
  feed(kOk, 3 * kMs);
  tick(3 * kMs + RgaDriver::kNoReplySettle_ns);
  EXPECT_EQ(host.take_sent(), "ID?\rFL1.0\rHV0\rNF4\rMR32\r");
  answer_mr(7, 170 * kMs);
  EXPECT_EQ(host.take_sent(), "MR32\r");
  ASSERT_EQ(host.samples.size(), 1U);
  EXPECT_EQ(host.samples[0].channel, 1U);  // channel index of m/z 32 in the config
}

TEST_F(RgaDriverTest, DisconnectForgetsAndReconnectStartsOver) {
  make();
  const int64_t t_mr32 = run_setup();
  feed(le({1, 2}), t_mr32 + 100 * kMs);
  driver->on_disconnect(host, t_mr32 + 110 * kMs);
  EXPECT_EQ(driver->next_deadline_ns(), kNoDeadline);
  feed(le({3, 4}), t_mr32 + 120 * kMs);  // stale bytes from the old link
  EXPECT_TRUE(host.samples.empty());
  connect(t_mr32 + 5 * kS);
  EXPECT_EQ(host.take_sent(), "ID?\r");
  EXPECT_EQ(driver->counters().malformed, 0U);
}

}  // namespace
}  // namespace opsync::drivers::rga
