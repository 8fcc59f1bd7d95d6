// The MacNet driver against a scripted host: exact request bytes, the echo link check, the
// polling grid, midpoint stamps and units, step/cycle/status events, timeouts leading to a
// reconnect, late replies, malformed input and resynchronisation, JSON-RPC errors, and when the
// tester-clock fit is handed out.
#include "drivers/macnet/macnet_driver.h"

#include <gtest/gtest.h>

#include <bit>
#include <nlohmann/json.hpp>
#include <random>

#include "daemon/drivers/macnet/macnet_test_util.h"

namespace opsync::drivers::macnet {
namespace {

using macnet::ChannelReading;
using testing::bytes_of;
using testing::doc_json_reply;
using testing::hex;
using testing::kDocVector1;
using testing::kDocVector2;
using testing::RecordingHost;

constexpr int64_t kT0 = 1'700'000'000'000'000'000;
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;

MacnetConfig binary_config(int tester_channel = 4) {
  MacnetConfig c;
  c.mode = macnet::Mode::kBinary;
  c.tester_channel = tester_channel;
  return c;
}

// Connects and answers the echo; returns the time polling starts.
int64_t connect_binary(MacnetDriver& d, RecordingHost& h, int64_t t_ns = kT0) {
  d.on_connect(h, t_ns);
  d.on_bytes(h, macnet::encode_echo(), t_ns + 1 * kMs);
  return t_ns + 1 * kMs;
}

ChannelReading reading(uint16_t chan, uint32_t cycle, uint16_t step, uint8_t rf1 = 1, uint16_t stat = 2) {
  ChannelReading r;
  r.chan = chan;
  r.cycle = cycle;
  r.step = step;
  r.rf1 = rf1;
  r.stat = stat;
  r.rf2 = 1;
  r.voltage_v = 3.7f;
  r.current_a = 0.002f;
  r.tester_time_ms = 1'700'000'000'000;
  return r;
}

// One poll: tick at t, reply after rtt.
void poll_and_reply(MacnetDriver& d, RecordingHost& h, int64_t t, int64_t rtt, const std::vector<uint8_t>& reply) {
  d.on_tick(h, t);
  d.on_bytes(h, reply, t + rtt);
}

TEST(MacnetDriver, KindAndChannels) {
  MacnetDriver d(binary_config());
  EXPECT_EQ(d.kind(), "cycler");
  const auto& ch = d.channels();
  ASSERT_EQ(ch.size(), static_cast<size_t>(MacnetDriver::kChannelCount));
  EXPECT_EQ(ch[MacnetDriver::kVoltage].name, "voltage");
  EXPECT_EQ(ch[MacnetDriver::kVoltage].unit, "V");
  EXPECT_EQ(ch[MacnetDriver::kCurrent].unit, "A");
  EXPECT_NE(ch[MacnetDriver::kCurrent].quantity.find("sign convention unconfirmed"), std::string::npos);
  EXPECT_EQ(ch[MacnetDriver::kCapacity].unit, "C");
  EXPECT_EQ(ch[MacnetDriver::kEnergy].unit, "J");
  EXPECT_EQ(ch[MacnetDriver::kTestTime].unit, "s");
  EXPECT_EQ(ch[MacnetDriver::kStat].name, "stat");
  EXPECT_EQ(d.next_deadline_ns(), kNoDeadline);  // nothing to do before a connection
}

TEST(MacnetDriver, ConfigCheck) {
  EXPECT_TRUE(binary_config(1).problems().empty());
  EXPECT_FALSE(binary_config(0).problems().empty());
  MacnetConfig c = binary_config();
  c.poll_period_ns = 0;
  EXPECT_FALSE(c.problems().empty());
  EXPECT_EQ(binary_config(4).wire_channel(), 3);
}

TEST(MacnetDriver, BinaryConnectEchoesThenPollsWireChannel) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  d.on_connect(h, kT0);
  ASSERT_EQ(h.sent.size(), 1u);
  EXPECT_EQ(h.sent_bytes(0), hex("00 00 00 00 00 00 00 00"));
  EXPECT_EQ(d.next_deadline_ns(), kT0 + 2 * kS);  // waiting for the echo
  d.on_tick(h, kT0 + 500 * kMs);                  // early tick: nothing happens
  EXPECT_EQ(h.sent.size(), 1u);

  d.on_bytes(h, hex("00 00 00 00"), kT0 + 1 * kMs);  // echo in two pieces
  d.on_bytes(h, hex("00 00 00 00"), kT0 + 2 * kMs);
  const auto ok = h.events_of("link_ok");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_NE(ok[0].detail.find("tester channel 4 (wire Chan 3)"), std::string::npos) << ok[0].detail;
  EXPECT_EQ(d.next_deadline_ns(), kT0 + 2 * kMs);  // first poll right away

  d.on_tick(h, kT0 + 2 * kMs);
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.sent_bytes(1), hex("04 00 07 00 03 00 00 00"));
  EXPECT_EQ(d.counters().bytes_out, 16u);
  EXPECT_EQ(d.counters().bytes_in, 8u);
  EXPECT_EQ(d.counters().messages_ok, 1u);
}

TEST(MacnetDriver, DocVectorStampedAtMidpointWithSiUnits) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  const int64_t t1 = connect_binary(d, h);
  const int64_t t4 = t1 + 3 * kMs + 1;  // odd round trip: midpoint rounds toward t1
  poll_and_reply(d, h, t1, t4 - t1, hex(kDocVector1));
  const int64_t t_mid = t1 + (3 * kMs + 1) / 2;
  ASSERT_EQ(h.samples.size(), static_cast<size_t>(MacnetDriver::kChannelCount));
  for (const auto& s : h.samples) EXPECT_EQ(s.t_ns, t_mid);
  auto value = [&](size_t ch) { return h.samples_of(ch).at(0).value; };
  EXPECT_EQ(value(MacnetDriver::kVoltage), double{std::bit_cast<float>(0x3bcd00cdu)});
  EXPECT_EQ(value(MacnetDriver::kCurrent), 0.0);
  EXPECT_EQ(value(MacnetDriver::kTestTime), 15.0);
  EXPECT_EQ(value(MacnetDriver::kStepTime), 10.0);
  EXPECT_EQ(value(MacnetDriver::kCycle), 0.0);
  EXPECT_EQ(value(MacnetDriver::kStep), 2.0);
  EXPECT_EQ(value(MacnetDriver::kRf1), 31.0);
  EXPECT_EQ(value(MacnetDriver::kRf2), 193.0);
  EXPECT_EQ(value(MacnetDriver::kStat), 4.0);
  const auto status = h.events_of("status");
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].detail, "RF1 31 Complete; Stat 4 Completed; RF2 193 O (normal end); cycle 0 step 2");
  EXPECT_EQ(status[0].t_ns, t_mid);
  EXPECT_EQ(d.counters().messages_ok, 2u);  // echo + reading
  EXPECT_EQ(d.counters().malformed, 0u);
}

TEST(MacnetDriver, SecondDocVectorCapacityAndEnergyInSi) {
  RecordingHost h;
  MacnetDriver d(binary_config(1));  // tester channel 1 = wire Chan 0
  const int64_t t1 = connect_binary(d, h);
  d.on_tick(h, t1);
  EXPECT_EQ(h.last_sent_bytes(), hex("04 00 07 00 00 00 00 00"));
  d.on_bytes(h, hex(kDocVector2), t1 + 2 * kMs);
  auto value = [&](size_t ch) { return h.samples_of(ch).at(0).value; };
  EXPECT_EQ(value(MacnetDriver::kVoltage), double{3.85f});
  EXPECT_EQ(value(MacnetDriver::kCurrent), double{0.005f});
  EXPECT_DOUBLE_EQ(value(MacnetDriver::kCapacity), double{0.0125f} * 3600.0);
  EXPECT_DOUBLE_EQ(value(MacnetDriver::kEnergy), double{0.0462f} * 3600.0);
  EXPECT_EQ(value(MacnetDriver::kTestTime), 7265.5);
  EXPECT_EQ(value(MacnetDriver::kStepTime), 1805.25);
  EXPECT_EQ(value(MacnetDriver::kCycle), 3.0);
  EXPECT_EQ(value(MacnetDriver::kStep), 5.0);
  ASSERT_TRUE(d.last_reading());
  EXPECT_EQ(d.last_reading()->last_rec_num, 4225u);
}

TEST(MacnetDriver, PollsOnAFixedGridWithOneRequestInFlight) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  const int64_t start = connect_binary(d, h);
  std::vector<int64_t> send_times;
  int64_t t = start;
  for (int i = 0; i < 5; ++i) {
    t = d.next_deadline_ns();
    const size_t before = h.sent.size();
    d.on_tick(h, t);
    ASSERT_EQ(h.sent.size(), before + 1);
    send_times.push_back(t);
    // While the reply is outstanding, further ticks send nothing.
    d.on_tick(h, t + 1 * kMs);
    EXPECT_EQ(h.sent.size(), before + 1);
    EXPECT_EQ(d.next_deadline_ns(), t + 2 * kS);  // the reply timeout
    d.on_bytes(h, macnet::encode_reading_reply(reading(3, 1, 1)), t + 7 * kMs);
  }
  for (size_t i = 0; i < send_times.size(); ++i) {
    EXPECT_EQ(send_times[i], start + static_cast<int64_t>(i) * 100 * kMs) << i;
  }
  EXPECT_EQ(d.stats().readings, 5u);
}

TEST(MacnetDriver, SlowReplyRestartsTheGridInsteadOfBursting) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  const int64_t start = connect_binary(d, h);
  d.on_tick(h, start);
  d.on_bytes(h, macnet::encode_reading_reply(reading(3, 1, 1)), start + 250 * kMs);  // 2.5 periods late
  EXPECT_EQ(d.next_deadline_ns(), start + 100 * kMs);                                // overdue: poll at once
  d.on_tick(h, start + 250 * kMs);
  EXPECT_EQ(h.sent.size(), 3u);
  d.on_bytes(h, macnet::encode_reading_reply(reading(3, 1, 1)), start + 252 * kMs);
  EXPECT_EQ(d.next_deadline_ns(), start + 350 * kMs);
}

TEST(MacnetDriver, StepCycleAndStatusEvents) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  int64_t t = connect_binary(d, h);
  auto step = [&](const ChannelReading& r) {
    t = d.next_deadline_ns();
    poll_and_reply(d, h, t, 2 * kMs, macnet::encode_reading_reply(r));
  };
  step(reading(3, 1, 2, 1));     // first: status only
  step(reading(3, 1, 2, 1));     // nothing changes
  step(reading(3, 1, 3, 4));     // step 2 -> 3 and Charge -> Rest
  step(reading(3, 2, 1, 1));     // new cycle, step 3 -> 1, Rest -> Charge
  step(reading(3, 2, 1, 1, 4));  // Stat Active -> Completed

  const auto steps = h.events_of("step_change");
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].detail, "step 2 -> 3 (cycle 1)");
  EXPECT_EQ(steps[1].detail, "step 3 -> 1 (cycle 2)");
  const auto cycles = h.events_of("cycle_change");
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_EQ(cycles[0].detail, "cycle 1 -> 2");
  EXPECT_EQ(cycles[0].t_ns, steps[1].t_ns);
  const auto status = h.events_of("status");
  ASSERT_EQ(status.size(), 4u);
  EXPECT_EQ(status[0].detail, "RF1 1 Charge; Stat 2 Active; RF2 1 Step Time; cycle 1 step 2");
  EXPECT_EQ(status[1].detail, "RF1 1 Charge -> 4 Rest; Stat 2 Active; RF2 1 Step Time");
  EXPECT_EQ(status[2].detail, "RF1 4 Rest -> 1 Charge; Stat 2 Active; RF2 1 Step Time");
  EXPECT_EQ(status[3].detail, "RF1 1 Charge; Stat 2 Active -> 4 Completed; RF2 1 Step Time");

  // State channels are written on change (and first): step at readings 1, 3, 4.
  EXPECT_EQ(h.samples_of(MacnetDriver::kStep).size(), 3u);
  EXPECT_EQ(h.samples_of(MacnetDriver::kCycle).size(), 2u);
  EXPECT_EQ(h.samples_of(MacnetDriver::kStat).size(), 2u);
  EXPECT_EQ(h.samples_of(MacnetDriver::kVoltage).size(), 5u);  // measurements every reading
}

TEST(MacnetDriver, StateSamplesEveryReadingWhenConfigured) {
  RecordingHost h;
  MacnetConfig c = binary_config(4);
  c.state_samples_on_change_only = false;
  MacnetDriver d(c);
  connect_binary(d, h);
  for (int i = 0; i < 3; ++i) {
    poll_and_reply(d, h, d.next_deadline_ns(), 2 * kMs, macnet::encode_reading_reply(reading(3, 1, 1)));
  }
  EXPECT_EQ(h.samples_of(MacnetDriver::kStep).size(), 3u);
  EXPECT_EQ(h.samples_of(MacnetDriver::kRf2).size(), 3u);
}

TEST(MacnetDriver, ThreeTimeoutsInARowRequestReconnect) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  const int64_t start = connect_binary(d, h);
  d.on_tick(h, start);  // poll, never answered
  ASSERT_EQ(h.sent.size(), 2u);
  int64_t deadline = d.next_deadline_ns();
  EXPECT_EQ(deadline, start + 2 * kS);
  d.on_tick(h, deadline - 1);
  EXPECT_EQ(d.counters().timeouts, 0u);

  for (int i = 1; i <= 3; ++i) {
    deadline = d.next_deadline_ns();
    d.on_tick(h, deadline);
    EXPECT_EQ(d.counters().timeouts, static_cast<uint64_t>(i));
    ASSERT_EQ(h.events_of("timeout").size(), static_cast<size_t>(i));
    if (i < 3) {
      EXPECT_TRUE(h.reconnects.empty());
      EXPECT_EQ(h.last_sent_bytes(), macnet::encode_echo());  // probe with an echo
      EXPECT_EQ(d.next_deadline_ns(), deadline + 2 * kS);
    }
  }
  EXPECT_NE(h.events_of("timeout")[0].detail.find("(4,7) reading"), std::string::npos);
  EXPECT_NE(h.events_of("timeout")[2].detail.find("3 in a row"), std::string::npos);
  ASSERT_EQ(h.reconnects.size(), 1u);
  EXPECT_EQ(d.next_deadline_ns(), kNoDeadline);  // waits for the runner
  const size_t sent = h.sent.size();
  d.on_tick(h, deadline + 10 * kS);
  EXPECT_EQ(h.sent.size(), sent);

  // The runner reconnects: link check again, counters kept.
  d.on_disconnect(h, deadline + 11 * kS);
  d.on_connect(h, deadline + 12 * kS);
  EXPECT_EQ(h.last_sent_bytes(), macnet::encode_echo());
  EXPECT_EQ(d.counters().timeouts, 3u);
}

TEST(MacnetDriver, AReplyBetweenTimeoutsResetsTheRun) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  const int64_t start = connect_binary(d, h);
  d.on_tick(h, start);
  for (int round = 0; round < 3; ++round) {
    // Two timeouts (each followed by an echo probe), then the probe is answered.
    const uint64_t before = d.counters().timeouts;
    while (d.counters().timeouts < before + 2) d.on_tick(h, d.next_deadline_ns());
    d.on_bytes(h, macnet::encode_echo(), d.next_deadline_ns() - 1 * kS);
  }
  EXPECT_EQ(d.counters().timeouts, 6u);
  EXPECT_TRUE(h.reconnects.empty());
}

TEST(MacnetDriver, LateReplyAfterTimeoutIsNotTakenForTheNextReading) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  const int64_t start = connect_binary(d, h);
  d.on_tick(h, start);
  d.on_tick(h, start + 2 * kS);  // timeout; echo probe sent
  ASSERT_EQ(h.last_sent_bytes(), macnet::encode_echo());
  d.on_bytes(h, hex(kDocVector1), start + 2 * kS + 100 * kMs);  // the late (4,7) answer
  EXPECT_TRUE(h.samples.empty());
  EXPECT_EQ(h.events_of("late_reply").size(), 1u);
  EXPECT_EQ(d.stats().late_replies, 1u);
  d.on_bytes(h, macnet::encode_echo(), start + 2 * kS + 101 * kMs);
  EXPECT_EQ(h.events_of("link_ok").size(), 2u);
  poll_and_reply(d, h, d.next_deadline_ns(), 2 * kMs, hex(kDocVector1));
  EXPECT_EQ(h.samples_of(MacnetDriver::kVoltage).size(), 1u);
}

TEST(MacnetDriver, MalformedBinaryIsCountedAndPollingGoesOn) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  const int64_t start = connect_binary(d, h);
  d.on_tick(h, start);
  d.on_bytes(h, hex("05 00 07 00 03 00 2e 00 de ad"), start + 2 * kMs);
  EXPECT_EQ(d.counters().malformed, 1u);
  const auto bad = h.events_of("malformed");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].detail.find("05 00 07 00 03 00 2e 00 de ad"), std::string::npos) << bad[0].detail;
  EXPECT_EQ(d.next_deadline_ns(), start + 100 * kMs);  // request given up, next poll on the grid
  poll_and_reply(d, h, start + 100 * kMs, 2 * kMs, hex(kDocVector1));
  EXPECT_EQ(h.samples_of(MacnetDriver::kVoltage).size(), 1u);
  EXPECT_EQ(d.counters().timeouts, 0u);
}

// A link spewing bad replies costs a few events a second, not one per reply; the rest are
// counted and the count is recorded.
TEST(MacnetDriver, MalformedFloodIsRateLimitedAndCounted) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  const int64_t start = connect_binary(d, h);
  d.on_tick(h, start);
  constexpr int kBad = 100;
  for (int i = 0; i < kBad; ++i) d.on_bytes(h, hex("05 00 07 00 03 00 2e 00 de ad"), start + (2 + i) * kMs);
  const uint64_t handled = d.counters().malformed + d.stats().late_replies;
  EXPECT_EQ(handled, static_cast<uint64_t>(kBad)) << "every bad reply is still counted";
  const size_t recorded = h.events_of("malformed").size() + h.events_of("late_reply").size();
  EXPECT_LE(recorded, 10u) << "at most 5 per kind per second";
  EXPECT_EQ(d.counters().events_suppressed + recorded, static_cast<uint64_t>(kBad));
  uint64_t by_kind = 0;
  for (const auto& [kind, n] : d.counters().events_suppressed_by_kind) by_kind += n;
  EXPECT_EQ(by_kind, d.counters().events_suppressed);
  // The driver asks to be woken when the second is over, and then says what it left out.
  EXPECT_LE(d.next_deadline_ns(), start + 2 * kMs + kS);
  d.on_tick(h, start + 1200 * kMs);
  bool summary = false;
  for (const auto& e : h.events_of("malformed")) summary |= e.detail.find("more suppressed by the rate limit") != std::string::npos;
  for (const auto& e : h.events_of("late_reply")) summary |= e.detail.find("more suppressed by the rate limit") != std::string::npos;
  EXPECT_TRUE(summary);
}

TEST(MacnetDriver, ReplyForAnotherChannelIsMalformed) {
  RecordingHost h;
  MacnetDriver d(binary_config(1));  // wire Chan 0; vector 1 is Chan 3
  const int64_t start = connect_binary(d, h);
  poll_and_reply(d, h, start, 2 * kMs, hex(kDocVector1));
  EXPECT_EQ(d.counters().malformed, 1u);
  EXPECT_TRUE(h.samples.empty());
  EXPECT_NE(h.events_of("malformed").at(0).detail.find("wire Chan 3"), std::string::npos);
}

TEST(MacnetDriver, NonFiniteValuesAreNotSampled) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  const int64_t start = connect_binary(d, h);
  ChannelReading r = reading(3, 1, 1);
  r.voltage_v = std::numeric_limits<float>::quiet_NaN();
  poll_and_reply(d, h, start, 2 * kMs, macnet::encode_reading_reply(r));
  EXPECT_TRUE(h.samples_of(MacnetDriver::kVoltage).empty());
  EXPECT_EQ(h.samples_of(MacnetDriver::kCurrent).size(), 1u);
}

TEST(MacnetDriver, DisconnectForgetsPartialFrames) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  const int64_t start = connect_binary(d, h);
  d.on_tick(h, start);
  const auto v = hex(kDocVector1);
  d.on_bytes(h, std::span(v).first(20), start + 1 * kMs);
  d.on_disconnect(h, start + 2 * kMs);
  EXPECT_EQ(d.next_deadline_ns(), kNoDeadline);
  d.on_connect(h, start + 3 * kMs);
  d.on_bytes(h, macnet::encode_echo(), start + 4 * kMs);  // would garble a kept partial frame
  EXPECT_EQ(d.counters().malformed, 0u);
  EXPECT_EQ(h.events_of("link_ok").size(), 2u);
}

TEST(MacnetDriver, TesterTimeAsDoubleIsReportedOnceAndUsed) {
  RecordingHost h;
  MacnetDriver d(binary_config(1));
  const int64_t start = connect_binary(d, h);
  auto v = hex(kDocVector2);
  const uint64_t f64 = std::bit_cast<uint64_t>(1'700'000'000'123.0);
  for (int i = 0; i < 8; ++i) v[46 + static_cast<size_t>(i)] = static_cast<uint8_t>(f64 >> (8 * i));
  poll_and_reply(d, h, start, 2 * kMs, v);
  poll_and_reply(d, h, d.next_deadline_ns(), 2 * kMs, v);
  const auto ev = h.events_of("tester_time");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_NE(ev[0].detail.find("f64 Unix ms"), std::string::npos) << ev[0].detail;
  EXPECT_EQ(d.stats().sync_points, 2u);
}

TEST(MacnetDriver, UnreadableTesterTimeGivesNoFitButSamples) {
  RecordingHost h;
  MacnetDriver d(binary_config(1));
  const int64_t start = connect_binary(d, h);
  ChannelReading r = reading(0, 1, 1);
  r.tester_time_ms = 5;  // not a plausible Unix ms, nor an f64
  poll_and_reply(d, h, start, 2 * kMs, macnet::encode_reading_reply(r));
  EXPECT_EQ(h.samples_of(MacnetDriver::kVoltage).size(), 1u);
  EXPECT_EQ(h.events_of("tester_time").size(), 1u);
  EXPECT_EQ(d.stats().sync_points, 0u);
  EXPECT_TRUE(h.clock_models.empty());
}

TEST(MacnetDriver, ClockModelAtMostEveryTenSecondsAndAtDisconnect) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  const int64_t start = connect_binary(d, h);
  const int64_t tester_offset_ms = 42'000;
  for (int i = 0; i < 250; ++i) {  // 25 s of polls
    const int64_t t = d.next_deadline_ns();
    ChannelReading r = reading(3, 1, 1);
    r.tester_time_ms = (t + 1 * kMs) / kMs + tester_offset_ms;
    poll_and_reply(d, h, t, 2 * kMs, macnet::encode_reading_reply(r));
  }
  ASSERT_GE(h.clock_models.size(), 3u);
  EXPECT_LE(h.clock_models.size(), 4u);
  for (size_t i = 1; i < h.clock_models.size(); ++i) {
    EXPECT_GE(h.clock_models[i].fitted_at_ns - h.clock_models[i - 1].fitted_at_ns, 10 * kS);
  }
  EXPECT_EQ(h.clock_models.front().fitted_at_ns, start + 2 * kMs);  // as soon as the first point is in
  const size_t before = h.clock_models.size();
  const int64_t t_end = d.next_deadline_ns();
  d.on_disconnect(h, t_end);
  ASSERT_EQ(h.clock_models.size(), before + 1);
  EXPECT_EQ(h.clock_models.back().fitted_at_ns, t_end);
  EXPECT_EQ(h.clock_models.back().method, "regression");
  // The model maps tester ms onto reference time: tester ms x was read at t = (x - offset) ms.
  const auto& m = h.clock_models.back();
  const int64_t x = (start + 20 * kS) / kMs + tester_offset_ms;
  const double mapped = static_cast<double>(m.offset_ns) + m.rate * static_cast<double>(x);
  EXPECT_NEAR(mapped, static_cast<double>((x - tester_offset_ms) * kMs), 2.0 * kMs);
}

TEST(MacnetDriver, StopHandsOutTheFinalFit) {
  RecordingHost h;
  MacnetDriver d(binary_config(4));
  const int64_t start = connect_binary(d, h);
  ChannelReading r = reading(3, 1, 1);
  r.tester_time_ms = (start + 1 * kMs) / kMs;
  poll_and_reply(d, h, start, 2 * kMs, macnet::encode_reading_reply(r));
  ASSERT_EQ(h.clock_models.size(), 1u);  // the first point gives a (nominal-rate) fit at once
  const int64_t t = d.next_deadline_ns();
  r.tester_time_ms = (t + 1 * kMs) / kMs;
  poll_and_reply(d, h, t, 2 * kMs, macnet::encode_reading_reply(r));
  EXPECT_EQ(h.clock_models.size(), 1u);  // within 10 s of the last one
  d.on_stop(h, t + 50 * kMs);
  ASSERT_EQ(h.clock_models.size(), 2u);
  EXPECT_EQ(h.clock_models[1].fitted_at_ns, t + 50 * kMs);
  EXPECT_EQ(h.clock_models[1].n_points, 2);
  d.on_stop(h, t + 60 * kMs);  // nothing new since
  EXPECT_EQ(h.clock_models.size(), 2u);
  EXPECT_TRUE(h.sent.size() == 3u);  // stopping sends nothing: the driver only reads
}

// ---- JSON ----

MacnetConfig json_config(int tester_channel = 4) {
  MacnetConfig c;
  c.mode = macnet::Mode::kJson;
  c.tester_channel = tester_channel;
  return c;
}

std::string echo_reply(int id) {
  return "{\n    \"jsonrpc\": \"2.0\",\n    \"method\": \"MacNet\",\n    \"params\": {\n        \"FClass\": 0,\n"
         "        \"FNum\": 0\n    },\n    \"id\": " +
         std::to_string(id) + "\n}\r\n";
}

TEST(MacnetDriver, JsonRequestsAndDocReplySplitAnywhere) {
  const std::string reply = doc_json_reply("2");
  for (size_t cut = 1; cut < reply.size(); cut += 37) {
    SCOPED_TRACE(cut);
    RecordingHost h;
    MacnetDriver d(json_config(4));
    d.on_connect(h, kT0);
    ASSERT_EQ(h.sent.size(), 1u);
    EXPECT_EQ(h.sent_text(0), R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":0,"FNum":0},"id":1})");
    d.on_bytes(h, bytes_of(echo_reply(1)), kT0 + 5 * kMs);
    ASSERT_EQ(h.events_of("link_ok").size(), 1u);
    d.on_tick(h, d.next_deadline_ns());
    ASSERT_EQ(h.sent.size(), 2u);
    EXPECT_EQ(h.sent_text(1), R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":4,"FNum":7,"Chan":3},"id":2})");
    d.on_bytes(h, bytes_of(reply.substr(0, cut)), kT0 + 8 * kMs);
    EXPECT_TRUE(h.samples.empty());
    d.on_bytes(h, bytes_of(reply.substr(cut)), kT0 + 9 * kMs);
    ASSERT_EQ(h.samples_of(MacnetDriver::kVoltage).size(), 1u);
    EXPECT_EQ(h.samples_of(MacnetDriver::kVoltage)[0].value, double{std::bit_cast<float>(0x3bcd00cdu)});
    EXPECT_EQ(h.samples_of(MacnetDriver::kVoltage)[0].t_ns, kT0 + 5 * kMs + 2 * kMs);  // midpoint of 5..9 ms
    EXPECT_EQ(h.samples_of(MacnetDriver::kRf2)[0].value, 193.0);
    EXPECT_EQ(d.counters().malformed, 0u);
    EXPECT_EQ(d.stats().sync_points, 1u);  // TesterTime parsed
  }
}

TEST(MacnetDriver, JsonErrorReplyBecomesMacnetErrorEvent) {
  RecordingHost h;
  MacnetDriver d(json_config(4));
  d.on_connect(h, kT0);
  d.on_bytes(h, bytes_of(echo_reply(1)), kT0 + 1 * kMs);
  int64_t t = d.next_deadline_ns();
  d.on_tick(h, t);
  d.on_bytes(h, bytes_of(macnet::encode_json_error_reply(-32602, macnet::kMsgIllegalValue, macnet::Json(2), true)),
             t + 2 * kMs);
  auto ev = h.events_of("macnet_error");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].detail.rfind("Illegal value", 0), 0u) << ev[0].detail;
  EXPECT_NE(ev[0].detail.find("-32602"), std::string::npos);
  EXPECT_NE(ev[0].detail.find("tester channel 4 (wire Chan 3)"), std::string::npos);
  EXPECT_EQ(d.next_deadline_ns(), t + 100 * kMs);  // answered: next poll on the grid

  // The same error again within 10 s is counted, not repeated; a different one is reported.
  t = d.next_deadline_ns();
  d.on_tick(h, t);
  d.on_bytes(h, bytes_of(macnet::encode_json_error_reply(-32602, macnet::kMsgIllegalValue, macnet::Json(3), false)),
             t + 2 * kMs);
  EXPECT_EQ(h.events_of("macnet_error").size(), 1u);
  t = d.next_deadline_ns();
  d.on_tick(h, t);
  d.on_bytes(h, bytes_of(macnet::encode_json_error_reply(-32700, macnet::kMsgParseError, macnet::Json(nullptr), false)),
             t + 2 * kMs);
  ev = h.events_of("macnet_error");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].detail.rfind("Parse error", 0), 0u);
  EXPECT_EQ(d.stats().macnet_errors, 3u);
  EXPECT_EQ(d.counters().malformed, 0u);
}

TEST(MacnetDriver, JsonBadTextIsMalformedThenPollingResumes) {
  RecordingHost h;
  MacnetDriver d(json_config(4));
  d.on_connect(h, kT0);
  d.on_bytes(h, bytes_of(echo_reply(1)), kT0 + 1 * kMs);
  int64_t t = d.next_deadline_ns();
  d.on_tick(h, t);
  d.on_bytes(h, bytes_of("{\"jsonrpc\": \"2.0\", \"result\": {\"FClass\": 4,, }}\r\n"), t + 2 * kMs);
  EXPECT_EQ(d.counters().malformed, 1u);
  ASSERT_EQ(h.events_of("malformed").size(), 1u);
  EXPECT_NE(h.events_of("malformed")[0].detail.find("FClass\": 4,,"), std::string::npos);
  t = d.next_deadline_ns();
  EXPECT_EQ(t, kT0 + 101 * kMs);
  d.on_tick(h, t);
  d.on_bytes(h, bytes_of(doc_json_reply("3")), t + 2 * kMs);
  EXPECT_EQ(h.samples_of(MacnetDriver::kVoltage).size(), 1u);

  // Garbage outside any object.
  t = d.next_deadline_ns();
  d.on_tick(h, t);
  d.on_bytes(h, bytes_of("HTTP/1.1 400\r\n"), t + 2 * kMs);
  EXPECT_EQ(d.counters().malformed, 2u);
}

TEST(MacnetDriver, JsonLateReplyWithOldIdIsDiscarded) {
  RecordingHost h;
  MacnetDriver d(json_config(4));
  d.on_connect(h, kT0);
  d.on_bytes(h, bytes_of(echo_reply(1)), kT0 + 1 * kMs);
  const int64_t t = d.next_deadline_ns();
  d.on_tick(h, t);           // id 2
  d.on_tick(h, t + 2 * kS);  // timeout; echo id 3
  EXPECT_NE(h.sent_text(2).find("\"id\":3"), std::string::npos);
  d.on_bytes(h, bytes_of(doc_json_reply("2")), t + 2 * kS + 10 * kMs);
  EXPECT_TRUE(h.samples.empty());
  EXPECT_EQ(h.events_of("late_reply").size(), 1u);
  d.on_bytes(h, bytes_of(doc_json_reply("99")), t + 2 * kS + 11 * kMs);  // an id never sent
  EXPECT_EQ(d.counters().malformed, 1u);
  d.on_bytes(h, bytes_of(echo_reply(3)), t + 2 * kS + 12 * kMs);
  EXPECT_EQ(h.events_of("link_ok").size(), 2u);
}

TEST(MacnetDriver, JsonTesterTimeZoneOffsetFeedsTheFit) {
  // The doc's 2016-11-14T09:24:08 from a tester on UTC+1, answered at 08:24:08.5Z: the fit
  // must put that second's middle at the reply.
  RecordingHost h;
  MacnetConfig c = json_config(4);
  c.tester_clock_zone_offset_s = 3600;
  MacnetDriver d(c);
  const int64_t t_utc = 1'479'115'448'500 * kMs - 3600 * kS;
  d.on_connect(h, t_utc - 10 * kMs);
  d.on_bytes(h, bytes_of(echo_reply(1)), t_utc - 9 * kMs);
  d.on_tick(h, d.next_deadline_ns());
  d.on_bytes(h, bytes_of(doc_json_reply("2")), t_utc - 7 * kMs);
  ASSERT_EQ(h.clock_models.size(), 1u);
  const auto& m = h.clock_models[0];
  const int64_t x = 1'479'115'448'500 - 3'600'000;  // centre of the second, UTC ms
  EXPECT_NEAR(static_cast<double>(m.offset_ns) + m.rate * static_cast<double>(x), static_cast<double>(t_utc - 8 * kMs),
              1.0 * kMs);
}

TEST(MacnetDriver, RandomBytesAreCountedNeverThrown) {
  for (macnet::Mode mode : {macnet::Mode::kBinary, macnet::Mode::kJson}) {
    SCOPED_TRACE(macnet::mode_name(mode));
    RecordingHost h;
    MacnetConfig c;
    c.mode = mode;
    c.tester_channel = 4;
    MacnetDriver d(c);
    d.on_connect(h, kT0);
    std::mt19937 rng(99);
    std::uniform_int_distribution<int> len(1, 120), byte(0, 255), pick(0, 3);
    int64_t t = kT0;
    const std::string alphabet = "{}\"\\:,\r\n 0123456789abcFClassRF";
    for (int i = 0; i < 3000; ++i) {
      t += 1 * kMs;
      std::vector<uint8_t> chunk(static_cast<size_t>(len(rng)));
      for (auto& b : chunk) {
        // Mostly bytes that look like the protocol, to get past the first checks.
        b = pick(rng) == 0 ? static_cast<uint8_t>(byte(rng))
                           : static_cast<uint8_t>(alphabet[static_cast<size_t>(byte(rng)) % alphabet.size()]);
      }
      if (mode == macnet::Mode::kBinary && pick(rng) == 0) chunk = hex("04 00 07 00 03 00 2e 00");
      ASSERT_NO_THROW(d.on_bytes(h, chunk, t));
      if (d.next_deadline_ns() <= t) {
        ASSERT_NO_THROW(d.on_tick(h, t));
      }
    }
    EXPECT_GT(d.counters().malformed, 0u);
    EXPECT_GT(d.counters().bytes_in, 0u);
    // Still works after a reconnect.
    d.on_disconnect(h, t);
    d.on_connect(h, t + 1 * kMs);
    if (mode == macnet::Mode::kBinary) {
      d.on_bytes(h, macnet::encode_echo(), t + 2 * kMs);
      poll_and_reply(d, h, d.next_deadline_ns(), 2 * kMs, hex(kDocVector1));
    } else {
      const std::string echo_text = h.sent_text(h.sent.size() - 1);
      const auto id_pos = echo_text.find("\"id\":");
      const std::string echo_id = echo_text.substr(id_pos + 5, echo_text.size() - id_pos - 6);
      d.on_bytes(h, bytes_of(echo_reply(std::stoi(echo_id))), t + 2 * kMs);
      d.on_tick(h, d.next_deadline_ns());
      const int poll_id = std::stoi(echo_id) + 1;
      d.on_bytes(h, bytes_of(doc_json_reply(std::to_string(poll_id))), t + 4 * kMs);
    }
    EXPECT_FALSE(h.samples_of(MacnetDriver::kVoltage).empty());
    EXPECT_EQ(h.samples_of(MacnetDriver::kVoltage).back().value, double{std::bit_cast<float>(0x3bcd00cdu)});
  }
}

}  // namespace
}  // namespace opsync::drivers::macnet
