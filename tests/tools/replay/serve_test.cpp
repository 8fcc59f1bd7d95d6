// Serving a recording, without sockets: the dialects' keys and rewrites (MacNet JSON ids,
// bridge ping replies) and a RecordedDevice answering live requests from a recorded exchange.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "drivers/bridge/bridge_codec.h"
#include "drivers/macnet/macnet_codec.h"
#include "replay/serve.h"
#include "runtime/station_config.h"

namespace opsync::replay {
namespace {

runtime::StationConfig config_with(const std::string& source_keys) {
  return runtime::parse_station_config("[station]\ndb = \"x.db\"\nsession = \"s\"\n[[source]]\nname = \"x\"\n" +
                                          source_keys,
                                      "test.toml");
}

std::string frame(const drivers::bridge::Envelope& e) {
  const auto b = drivers::bridge::encode_envelope_frame(e);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string ping(uint32_t seq, int64_t t1) {
  drivers::bridge::Envelope e;
  e.mutable_sync_request()->set_seq(seq);
  e.mutable_sync_request()->set_t1_host_ns(t1);
  return frame(e);
}

std::string ping_reply(uint32_t seq, int64_t t1, uint64_t tick) {
  drivers::bridge::Envelope e;
  auto* r = e.mutable_sync_reply();
  r->set_seq(seq);
  r->set_t1_host_ns(t1);
  r->set_t2_tick(tick);
  r->set_t3_tick(tick + 10);
  return frame(e);
}

std::string take(drivers::SimDevice& d) {
  const auto out = d.take_output();
  return std::string(out.begin(), out.end());
}

void feed(drivers::SimDevice& d, const std::string& bytes, int64_t t_ns) {
  d.on_bytes(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), t_ns);
}

TEST(ServeDialect, MacnetJsonAnswersCarryTheLiveId) {
  const auto c = config_with("driver = \"macnet\"\naddress = \"tcp://127.0.0.1:1\"\nmode = \"json\"\n");
  auto d = make_serve_dialect(c.sources[0]);
  const std::string recorded = drivers::macnet::encode_json_reading_request(0, 7);
  const std::string live = drivers::macnet::encode_json_reading_request(0, 12);
  EXPECT_EQ(d->key(recorded), d->key(live));
  EXPECT_NE(d->key(recorded), d->key(drivers::macnet::encode_json_echo_request(7)));
  d->matched(recorded, live);
  drivers::macnet::ChannelReading r;
  r.voltage_v = 3.7f;
  const std::string reply = drivers::macnet::encode_json_reading_reply(r, 7, /*pretty=*/true);
  const std::string patched = d->patch(reply);
  EXPECT_EQ(patched.substr(patched.size() - 2), "\r\n");
  const auto j = nlohmann::json::parse(patched.substr(0, patched.size() - 2));
  EXPECT_EQ(j["id"].get<int>(), 12);
  EXPECT_EQ(patched.size(), reply.size() + 1);  // only "7" -> "12": the recorded layout is kept
}

TEST(ServeDialect, BridgePingRepliesEchoTheLivePing) {
  const auto c = config_with("driver = \"bridge\"\naddress = \"serial:///dev/null\"\n");
  auto d = make_serve_dialect(c.sources[0]);
  EXPECT_EQ(d->key(ping(3, 111)), d->key(ping(9, 222)));
  d->matched(ping(3, 111), ping(9, 222));
  EXPECT_EQ(d->patch(ping_reply(3, 111, 5000)), ping_reply(9, 222, 5000));
  EXPECT_EQ(d->patch(ping_reply(4, 111, 5000)), ping_reply(4, 111, 5000));  // not asked for: as recorded
  drivers::bridge::Envelope edge;
  edge.mutable_edge()->set_seq(1);
  EXPECT_TRUE(d->unsolicited(frame(edge)));
  EXPECT_FALSE(d->unsolicited(ping_reply(3, 111, 5000)));
  // Replies split over two reads come out as whole frames.
  const std::string two = frame(edge) + ping_reply(3, 111, 5000);
  auto first = d->split_replies(two.substr(0, 5));
  auto rest = d->split_replies(two.substr(5));
  first.insert(first.end(), rest.begin(), rest.end());
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0], frame(edge));
}

TEST(RecordedDevice, AnswersMatchingRequestsWithTheirRecordedDelays) {
  const auto c = config_with("driver = \"rga\"\naddress = \"serial:///dev/null\"\n");
  auto framing = make_serve_dialect(c.sources[0]);
  const std::vector<Step> steps = {
      Step{StepKind::kConnect, 1000, {}},  Step{StepKind::kOut, 1000, "ID?\r"},
      Step{StepKind::kIn, 1030, "SRSRGA200VER0.24SN1\n\r"}, Step{StepKind::kOut, 1040, "MR32\r"},
      Step{StepKind::kIn, 1100, std::string("\x01\x00\x00\x00", 4)}, Step{StepKind::kOut, 1110, "MR44\r"},
      Step{StepKind::kIn, 1170, std::string("\x02\x00\x00\x00", 4)},
  };
  RecordedDevice dev(build_exchange(steps, *framing), make_serve_dialect(c.sources[0]));
  dev.on_connect(50'000);
  feed(dev, "ID", 50'010);
  EXPECT_EQ(dev.next_deadline_ns(), drivers::kNoDeadline);  // half a request: nothing yet
  feed(dev, "?\r", 50'020);
  EXPECT_EQ(dev.next_deadline_ns(), 50'050);  // recorded 30 ns after the request
  dev.on_tick(50'049);
  EXPECT_EQ(take(dev), "");
  dev.on_tick(50'050);
  EXPECT_EQ(take(dev), "SRSRGA200VER0.24SN1\n\r");
  feed(dev, "MR99\r", 50'100);  // never recorded: no answer
  EXPECT_EQ(dev.next_deadline_ns(), drivers::kNoDeadline);
  feed(dev, "MR44\r", 50'200);  // skips the recorded MR32
  dev.on_tick(50'260);
  EXPECT_EQ(take(dev), std::string("\x02\x00\x00\x00", 4));
  EXPECT_TRUE(dev.played_out());
  EXPECT_EQ(dev.stats().requests, 3u);
  EXPECT_EQ(dev.stats().answered, 2u);
  EXPECT_EQ(dev.stats().unmatched, 1u);
  EXPECT_EQ(dev.stats().skipped, 1u);
}

TEST(RecordedDevice, UnaskedMessagesKeepTheirSpacing) {
  const auto c = config_with("driver = \"bridge\"\naddress = \"serial:///dev/null\"\n");
  auto framing = make_serve_dialect(c.sources[0]);
  drivers::bridge::Envelope e1, e2;
  e1.mutable_edge()->set_seq(1);
  e2.mutable_edge()->set_seq(2);
  const std::vector<Step> steps = {
      Step{StepKind::kConnect, 1000, {}}, Step{StepKind::kOut, 1000, ping(1, 1000)},
      Step{StepKind::kIn, 1005, ping_reply(1, 1000, 77)}, Step{StepKind::kIn, 1500, frame(e1)},
      Step{StepKind::kIn, 1700, frame(e2)},
  };
  RecordedDevice dev(build_exchange(steps, *framing), make_serve_dialect(c.sources[0]));
  dev.on_connect(9'000);
  feed(dev, ping(5, 9'100), 9'100);  // live ping 100 ns after connect: anchors recorded 1000 at 9100
  dev.on_tick(9'105);
  EXPECT_EQ(take(dev), ping_reply(5, 9'100, 77));
  EXPECT_EQ(dev.next_deadline_ns(), 9'600);
  dev.on_tick(9'800);
  EXPECT_EQ(take(dev), frame(e1) + frame(e2));
  EXPECT_EQ(dev.stats().unsolicited_sent, 2u);
}

}  // namespace
}  // namespace opsync::replay
