// The MacNet simulator on its own: binary echo and reads, the doc's JSON-RPC error texts and
// codes, the tester clock (offset, drift, steps), reply delay, and stall.
#include "drivers/macnet/macnet_sim.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "daemon/drivers/macnet/macnet_test_util.h"

namespace opsync::drivers::macnet {
namespace {

using macnet::Json;
using testing::bytes_of;
using testing::hex;

constexpr int64_t kT0 = 1'700'000'000'000'000'000;
constexpr int64_t kMs = 1'000'000;

CellState fixed_state() {
  CellState s;
  s.voltage_v = 3.85;
  s.current_a = 0.005;
  s.capacity_ah = 0.0125;
  s.energy_wh = 0.0462;
  s.cycle = 3;
  s.step = 5;
  s.test_time_s = 7265.5;
  s.step_time_s = 1805.25;
  s.rf1 = 1;
  s.rf2 = 0;
  s.stat = 2;
  s.last_rec_num = 4225;
  return s;
}

MacnetSimOptions binary_options() {
  MacnetSimOptions o;
  o.mode = macnet::Mode::kBinary;
  o.model = [](int64_t) { return fixed_state(); };
  return o;
}

MacnetSimOptions json_options(bool pretty = true) {
  MacnetSimOptions o;
  o.mode = macnet::Mode::kJson;
  o.pretty_json = pretty;
  o.model = [](int64_t) { return fixed_state(); };
  return o;
}

TEST(MacnetSim, BinaryEchoReturnsTheMessageUnchanged) {
  MacnetSimulator sim(binary_options());
  sim.on_connect(kT0);
  sim.on_bytes(hex("00 00 00 00 00 00 00 00"), kT0);
  EXPECT_EQ(sim.take_output(), hex("00 00 00 00 00 00 00 00"));
  sim.on_bytes(hex("00 00 05 00 01 00 03 00 aa bb"), kT0);  // Len 3: one data byte still to come
  EXPECT_TRUE(sim.take_output().empty());
  sim.on_bytes(hex("cc"), kT0);
  EXPECT_EQ(sim.take_output(), hex("00 00 05 00 01 00 03 00 aa bb cc"));
}

TEST(MacnetSim, BinaryFourSevenMatchesTheSecondDocVector) {
  // The doc's second vector is this state on Chan 0 at TesterTime 1700000000123 ms.
  MacnetSimOptions o = binary_options();
  const int64_t t = 1'700'000'000'123 * kMs + 456'789;  // the clock shows the ms it is in
  MacnetSimulator sim(o);
  sim.on_bytes(hex("04 00 07 00 00 00 00 00"), t);
  EXPECT_EQ(sim.take_output(), hex(testing::kDocVector2));
  EXPECT_EQ(sim.stats().replies, 1u);
}

TEST(MacnetSim, BinaryRequestsInOneChunkAndSplit) {
  MacnetSimulator sim(binary_options());
  auto req = hex("04 00 07 00 02 00 00 00 00 00 00 00 00 00 00 00 04 00 07");
  sim.on_bytes(req, kT0);
  auto out = sim.take_output();
  ASSERT_EQ(out.size(), 54u + 8u);
  EXPECT_EQ(macnet::decode_reading_reply(out)->chan, 2);
  sim.on_bytes(hex("00 05 00 00 00"), kT0);  // rest of the third request: Chan 5
  out = sim.take_output();
  ASSERT_EQ(out.size(), 54u);
  EXPECT_EQ(macnet::decode_reading_reply(out)->chan, 5);
}

TEST(MacnetSim, BinaryUnknownFunctionOrChannelGetsNoReply) {
  MacnetSimulator sim(binary_options());
  sim.on_bytes(hex("05 00 01 00 00 00 00 00"), kT0);  // class 5: not served
  sim.on_bytes(hex("04 00 08 00 00 00 00 00"), kT0);  // (4,8): not simulated
  sim.on_bytes(hex("04 00 07 00 08 00 00 00"), kT0);  // Chan 8 = tester channel 9: not served
  EXPECT_TRUE(sim.take_output().empty());
  EXPECT_EQ(sim.stats().ignored, 3u);
  // The stream is still in step: a good request after them is answered.
  sim.on_bytes(hex("04 00 07 00 07 00 00 00"), kT0);
  EXPECT_EQ(sim.take_output().size(), 54u);
}

TEST(MacnetSim, BinaryStatusVoltageCurrentReads) {
  MacnetSimulator sim(binary_options());
  sim.on_bytes(hex("04 00 01 00 02 00 03 00"), kT0);  // RF1,RF2,Stat of channels 2..4
  EXPECT_EQ(sim.take_output(), hex("04 00 01 00 02 00 0c 00  01 00 02 00  01 00 02 00  01 00 02 00"));
  sim.on_bytes(hex("04 00 02 00 00 00 02 00"), kT0);                                       // voltages of channels 0..1
  EXPECT_EQ(sim.take_output(), hex("04 00 02 00 00 00 08 00  66 66 76 40  66 66 76 40"));  // 3.85f
  sim.on_bytes(hex("04 00 03 00 07 00 00 00"), kT0);                          // current of channel 7 (Len 0 = one)
  EXPECT_EQ(sim.take_output(), hex("04 00 03 00 07 00 04 00  0a d7 a3 3b"));  // 0.005f
  sim.on_bytes(hex("04 00 02 00 06 00 03 00"), kT0);                          // channels 6..8: 8 is not served
  EXPECT_TRUE(sim.take_output().empty());
}

TEST(MacnetSim, TesterClockOffsetDriftAndStep) {
  MacnetSimOptions o = binary_options();
  o.tester_offset_ms = 1500;
  o.tester_drift_ppm = 100;
  MacnetSimulator sim(o);
  const int64_t t = kT0 + 123'456'789;
  // (t_ns * (1 + drift) + offset) / 1e6 ms, floored.
  const long double expect = std::floor((static_cast<long double>(t) * (1.0L + 100e-6L) + 1500e6L) / 1e6L);
  EXPECT_EQ(sim.tester_time_ms(t), static_cast<int64_t>(expect));
  sim.on_bytes(hex("04 00 07 00 00 00 00 00"), t);
  EXPECT_EQ(macnet::decode_reading_reply(sim.take_output())->tester_time_ms, static_cast<int64_t>(expect));

  EXPECT_TRUE(sim.inject("tester_clock_step:-2500"));
  EXPECT_EQ(sim.tester_time_ms(t), static_cast<int64_t>(expect) - 2500);
  EXPECT_TRUE(sim.inject("tester_clock_step:+100"));
  EXPECT_EQ(sim.tester_time_ms(t), static_cast<int64_t>(expect) - 2400);
  EXPECT_FALSE(sim.inject("tester_clock_step:abc"));
  EXPECT_FALSE(sim.inject("tester_clock_step:"));
  EXPECT_FALSE(sim.inject("bad_crc"));

  // Anchored drift: the offset holds at the anchor.
  MacnetSimOptions a = binary_options();
  a.tester_offset_ms = 1500;
  a.tester_drift_ppm = 100;
  a.tester_drift_anchor_ns = kT0;
  MacnetSimulator anchored(a);
  EXPECT_EQ(anchored.tester_time_ms(kT0), kT0 / kMs + 1500);
  EXPECT_EQ(anchored.tester_time_ms(kT0 + 10'000 * kMs), kT0 / kMs + 10'000 + 1500 + 1);  // +100 ppm of 10 s
}

TEST(MacnetSim, ReplyDelayIsScheduled) {
  MacnetSimOptions o = binary_options();
  o.reply_delay_ns = 3 * kMs;
  MacnetSimulator sim(o);
  EXPECT_EQ(sim.next_deadline_ns(), kNoDeadline);
  sim.on_bytes(hex("00 00 00 00 00 00 00 00"), kT0);
  EXPECT_TRUE(sim.take_output().empty());
  EXPECT_EQ(sim.next_deadline_ns(), kT0 + 3 * kMs);
  sim.on_tick(kT0 + 2 * kMs);
  EXPECT_TRUE(sim.take_output().empty());
  sim.on_tick(kT0 + 3 * kMs);
  EXPECT_EQ(sim.take_output().size(), 8u);
  EXPECT_EQ(sim.next_deadline_ns(), kNoDeadline);
}

TEST(MacnetSim, StallAndUnstall) {
  MacnetSimulator sim(binary_options());
  EXPECT_TRUE(sim.inject("stall"));
  sim.on_bytes(hex("04 00 07 00 00 00 00 00"), kT0);
  EXPECT_TRUE(sim.take_output().empty());
  EXPECT_EQ(sim.stats().unanswered, 1u);
  EXPECT_TRUE(sim.inject("unstall"));
  sim.on_bytes(hex("04 00 07 00 00 00 00 00"), kT0 + 1);
  EXPECT_EQ(sim.take_output().size(), 54u);
}

// ---- JSON ----

std::string take_text(MacnetSimulator& sim) {
  const auto out = sim.take_output();
  return {out.begin(), out.end()};
}

macnet::JsonReply parse_reply(const std::string& text) {
  EXPECT_GE(text.size(), 2u);
  EXPECT_EQ(text.substr(text.size() - 2), "\r\n");
  macnet::JsonObjectFramer framer(true);
  framer.feed(bytes_of(text));
  auto obj = framer.next();
  EXPECT_EQ(obj.status, macnet::JsonObjectFramer::Status::kObject) << obj.problem;
  auto outcome = macnet::parse_json_reply(obj.text);
  EXPECT_TRUE(outcome.reply) << outcome.problem;
  return outcome.reply ? *outcome.reply : macnet::JsonReply{};
}

TEST(MacnetSim, JsonReadingFromAPrettyPrintedRequest) {
  MacnetSimOptions o = json_options(true);
  o.tester_offset_ms = 0;
  MacnetSimulator sim(o);
  // pymacnet sends json.dumps(indent=4), no terminator.
  const std::string request =
      "{\n    \"jsonrpc\": \"2.0\",\n    \"method\": \"MacNet\",\n    \"params\": {\n        \"FClass\": 4,\n"
      "        \"FNum\": 7,\n        \"Chan\": 3\n    },\n    \"id\": 1987\n}";
  sim.on_bytes(bytes_of(request.substr(0, 40)), kT0);
  EXPECT_TRUE(sim.take_output().empty());
  sim.on_bytes(bytes_of(request.substr(40)), kT0);
  const std::string text = take_text(sim);
  EXPECT_GT(std::count(text.begin(), text.end(), '\n'), 10);  // pretty-printed like the server
  const auto reply = parse_reply(text);
  EXPECT_EQ(reply.kind, macnet::JsonReplyKind::kReading);
  EXPECT_EQ(reply.id, 1987);
  EXPECT_EQ(reply.reading.chan, 3);
  EXPECT_EQ(reply.reading.voltage_v, 3.85f);
  EXPECT_EQ(reply.reading.current_a, 0.005f);
  EXPECT_EQ(reply.reading.capacity_ah, 0.0125f);
  EXPECT_EQ(reply.reading.step, 5);
  EXPECT_EQ(reply.reading.last_rec_num, 4225u);
  EXPECT_EQ(reply.reading.tester_time_ms, kT0 / kMs / 1000 * 1000);  // whole seconds
}

TEST(MacnetSim, JsonCompactAndTesterZone) {
  MacnetSimOptions o = json_options(false);
  o.tester_zone_offset_s = 3600;
  MacnetSimulator sim(o);
  sim.on_bytes(bytes_of(macnet::encode_json_reading_request(0, 7)), kT0);
  const std::string text = take_text(sim);
  EXPECT_EQ(text.find('\n'), text.size() - 1);                                                // one line + CRLF
  EXPECT_NE(text.find("\"TesterTime\":\"2023-11-14T23:13:20\""), std::string::npos) << text;  // 22:13:20Z + 1 h
}

TEST(MacnetSim, JsonEchoComesBackWithMethodAndParams) {
  MacnetSimulator sim(json_options());
  sim.on_bytes(bytes_of(macnet::encode_json_echo_request(55)), kT0);
  const auto reply = parse_reply(take_text(sim));
  EXPECT_EQ(reply.kind, macnet::JsonReplyKind::kEcho);
  EXPECT_EQ(reply.id, 55);
}

struct ErrorCase {
  std::string request;
  int code;
  std::string_view message;
  bool id_null;
};

TEST(MacnetSim, JsonErrorsUseTheDocMessages) {
  const std::vector<ErrorCase> cases = {
      {R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":4,"FNum":7,"Chan":3},"id":1,})", -32700, "Parse error",
       true},
      {R"(not json)", -32700, "Parse error", true},
      {R"({"jsonrpc":"2.0","params":{"FClass":4,"FNum":7,"Chan":3},"id":1})", -32601,
       "Method MacNet, jsonrpc 2.0 or id not found", false},
      {R"({"jsonrpc":"1.0","method":"MacNet","params":{"FClass":4,"FNum":7,"Chan":3},"id":1})", -32601,
       "Method MacNet, jsonrpc 2.0 or id not found", false},
      {R"({"jsonrpc":"2.0","method":"macnet","params":{"FClass":4,"FNum":7,"Chan":3},"id":1})", -32601,
       "Method MacNet, jsonrpc 2.0 or id not found", false},  // case-sensitive
      {R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":4,"FNum":7,"Chan":3}})", -32601,
       "Method MacNet, jsonrpc 2.0 or id not found", true},
      {R"({"jsonrpc":"2.0","method":"MacNet","id":1})", -32602, "Invalid params", false},
      {R"({"jsonrpc":"2.0","method":"MacNet","params":{"FNum":7,"Chan":3},"id":1})", -32602,
       "\"FClass\" key does not exist or value syntax error", false},
      {R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":"4","FNum":7,"Chan":3},"id":1})", -32602,
       "\"FClass\" key does not exist or value syntax error", false},
      {R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":4,"Chan":3},"id":1})", -32602,
       "\"FNum\" key does not exist or value syntax error", false},
      {R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":6,"FNum":1,"Chan":3},"id":1})", -32602,
       "Invalid FClass", false},
      {R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":4,"FNum":8,"Chan":3},"id":1})", -32602, "Invalid FNum",
       false},
      {R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":4,"FNum":7},"id":1})", -32602, "Invalid params", false},
      {R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":4,"FNum":7,"Chan":99},"id":1})", -32602,
       "Illegal value", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.request);
    MacnetSimulator sim(json_options());
    sim.on_bytes(bytes_of(c.request), kT0);
    const auto reply = parse_reply(take_text(sim));
    EXPECT_EQ(reply.kind, macnet::JsonReplyKind::kError);
    EXPECT_EQ(reply.error_code, c.code);
    EXPECT_EQ(reply.error_message, c.message);
    if (c.id_null) {
      EXPECT_FALSE(reply.id);
    } else {
      EXPECT_EQ(reply.id, 1);
    }
    EXPECT_EQ(sim.stats().errors, 1u);
  }
}

TEST(MacnetSim, JsonStringIdIsEchoed) {
  MacnetSimulator sim(json_options(false));
  sim.on_bytes(bytes_of(R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":4,"FNum":7,"Chan":0},"id":"abc"})"),
               kT0);
  EXPECT_NE(take_text(sim).find("\"id\":\"abc\""), std::string::npos);
}

TEST(MacnetSim, IdleChannelWithoutModel) {
  MacnetSimOptions o;
  o.mode = macnet::Mode::kBinary;
  MacnetSimulator sim(o);
  sim.on_bytes(hex("04 00 07 00 00 00 00 00"), kT0);
  const auto r = macnet::decode_reading_reply(sim.take_output());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rf1, 0);  // Available
  EXPECT_EQ(r->voltage_v, 0.0f);
  EXPECT_EQ(r->tester_time_ms, kT0 / kMs);
}

TEST(MacnetSim, RandomBytesNeverThrow) {
  for (macnet::Mode mode : {macnet::Mode::kBinary, macnet::Mode::kJson}) {
    MacnetSimOptions o = mode == macnet::Mode::kBinary ? binary_options() : json_options();
    MacnetSimulator sim(o);
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> len(1, 64), byte(0, 255);
    const std::string alphabet = "{}\"\\:, 0123456789FClassFNumChanidjsonrpcMacNet";
    for (int i = 0; i < 3000; ++i) {
      std::vector<uint8_t> chunk(static_cast<size_t>(len(rng)));
      for (auto& b : chunk) {
        b = i % 2 ? static_cast<uint8_t>(byte(rng))
                  : static_cast<uint8_t>(alphabet[static_cast<size_t>(byte(rng)) % alphabet.size()]);
      }
      ASSERT_NO_THROW(sim.on_bytes(chunk, kT0 + i));
      ASSERT_NO_THROW(sim.take_output());
    }
    EXPECT_GT(sim.stats().requests, 0u);
  }
}

}  // namespace
}  // namespace opsync::drivers::macnet
