// MacNet codec against the doc: both (4,7) byte vectors decoded field by field and re-encoded
// byte for byte, the JSON request text, the pretty-printed JSON reply split at every byte,
// braces inside strings, the error messages, echo, and malformed input.
#include "drivers/macnet/macnet_codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>

#include "daemon/drivers/macnet/macnet_test_util.h"

namespace opsync::drivers::macnet {
namespace {

using testing::bytes_of;
using testing::doc_json_reply;
using testing::hex;
using testing::kDocVector1;
using testing::kDocVector2;

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }

// 2016-11-14T09:24:08Z, as the doc converts it.
constexpr int64_t kDocTesterTimeMs = 1'479'115'448'000;

TEST(MacnetCodec, DocVectorsAre54Bytes) {
  EXPECT_EQ(hex(kDocVector1).size(), 54u);
  EXPECT_EQ(hex(kDocVector2).size(), 54u);
  EXPECT_EQ(kReadingFrameSize, 54u);
}

TEST(MacnetCodec, RequestAndEchoBytes) {
  EXPECT_EQ(encode_reading_request(3), hex("04 00 07 00 03 00 00 00"));
  EXPECT_EQ(encode_reading_request(0x0102), hex("04 00 07 00 02 01 00 00"));
  EXPECT_EQ(encode_echo(), hex("00 00 00 00 00 00 00 00"));
  const Header h = decode_header(hex("04 00 07 00 03 00 2e 00"));
  EXPECT_EQ(h.fclass, 4);
  EXPECT_EQ(h.fnum, 7);
  EXPECT_EQ(h.chan, 3);
  EXPECT_EQ(h.len, 46);
  const auto enc = encode_header({0x0201, 0x0403, 0x0605, 0x0807});
  EXPECT_EQ(std::vector<uint8_t>(enc.begin(), enc.end()), hex("01 02 03 04 05 06 07 08"));
}

TEST(MacnetCodec, DecodesFirstDocVector) {
  const auto r = decode_reading_reply(hex(kDocVector1));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->chan, 3);
  EXPECT_EQ(r->rf1, 31);
  EXPECT_EQ(r->rf2, 193);
  EXPECT_EQ(r->stat, 4);
  EXPECT_EQ(r->last_rec_num, 18u);
  EXPECT_EQ(r->cycle, 0u);
  EXPECT_EQ(r->step, 2);
  EXPECT_EQ(r->test_time_s, 15.0f);
  EXPECT_EQ(r->step_time_s, 10.0f);
  EXPECT_EQ(r->capacity_ah, 0.0f);
  EXPECT_EQ(r->energy_wh, 0.0f);
  EXPECT_EQ(r->current_a, 0.0f);
  EXPECT_EQ(bits(r->voltage_v), 0x3bcd00cdu);
  EXPECT_NEAR(r->voltage_v, 0.0062561989761889, 1e-9);
  EXPECT_EQ(r->tester_time_ms, kDocTesterTimeMs);
  EXPECT_EQ(r->tester_time_encoding, TesterTimeEncoding::kUnixMsU64);
  EXPECT_EQ(r->tester_time_resolution_ms, 1);
}

TEST(MacnetCodec, DecodesSecondDocVector) {
  const auto r = decode_reading_reply(hex(kDocVector2));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->chan, 0);
  EXPECT_EQ(r->rf1, 1);
  EXPECT_EQ(r->rf2, 0);
  EXPECT_EQ(r->stat, 2);
  EXPECT_EQ(r->last_rec_num, 4225u);
  EXPECT_EQ(r->cycle, 3u);
  EXPECT_EQ(r->step, 5);
  EXPECT_EQ(r->test_time_s, 7265.5f);
  EXPECT_EQ(r->step_time_s, 1805.25f);
  EXPECT_EQ(r->capacity_ah, 0.0125f);
  EXPECT_EQ(r->energy_wh, 0.0462f);
  EXPECT_EQ(r->current_a, 0.005f);
  EXPECT_EQ(r->voltage_v, 3.85f);
  EXPECT_EQ(r->tester_time_ms, 1'700'000'000'123);
  EXPECT_EQ(r->tester_time_encoding, TesterTimeEncoding::kUnixMsU64);
}

TEST(MacnetCodec, EncodesBothDocVectorsExactly) {
  ChannelReading a;
  a.chan = 3;
  a.rf1 = 31;
  a.rf2 = 193;
  a.stat = 4;
  a.last_rec_num = 18;
  a.cycle = 0;
  a.step = 2;
  a.test_time_s = 15.0f;
  a.step_time_s = 10.0f;
  a.voltage_v = std::bit_cast<float>(0x3bcd00cdu);
  a.tester_time_ms = kDocTesterTimeMs;
  EXPECT_EQ(encode_reading_reply(a), hex(kDocVector1));

  ChannelReading b;
  b.chan = 0;
  b.rf1 = 1;
  b.rf2 = 0;
  b.stat = 2;
  b.last_rec_num = 4225;
  b.cycle = 3;
  b.step = 5;
  b.test_time_s = 7265.5f;
  b.step_time_s = 1805.25f;
  b.capacity_ah = 0.0125f;
  b.energy_wh = 0.0462f;
  b.current_a = 0.005f;
  b.voltage_v = 3.85f;
  b.tester_time_ms = 1'700'000'000'123;
  EXPECT_EQ(encode_reading_reply(b), hex(kDocVector2));
}

TEST(MacnetCodec, ReplyThatIsNotFourSevenOrShortIsNotDecoded) {
  auto v = hex(kDocVector1);
  EXPECT_FALSE(decode_reading_reply(std::span(v).first(53)));
  v[2] = 8;  // (4,8)
  EXPECT_FALSE(decode_reading_reply(v));
}

TEST(MacnetCodec, TesterTimeDefensiveFallback) {
  int64_t ms = -1;
  EXPECT_EQ(decode_tester_time(1'700'000'000'123ULL, ms), TesterTimeEncoding::kUnixMsU64);
  EXPECT_EQ(ms, 1'700'000'000'123);
  // f64 holding Unix ms
  EXPECT_EQ(decode_tester_time(std::bit_cast<uint64_t>(1'700'000'000'123.0), ms), TesterTimeEncoding::kUnixMsF64);
  EXPECT_EQ(ms, 1'700'000'000'123);
  // f64 seconds since 1904-01-01: Unix 1479115448 s + 2082844800 s
  EXPECT_EQ(decode_tester_time(std::bit_cast<uint64_t>(1'479'115'448.0 + 2'082'844'800.0), ms),
            TesterTimeEncoding::kLabviewSecondsF64);
  EXPECT_EQ(ms, kDocTesterTimeMs);
  EXPECT_EQ(decode_tester_time(0, ms), TesterTimeEncoding::kInvalid);
  EXPECT_EQ(decode_tester_time(999'999'999'999ULL, ms), TesterTimeEncoding::kInvalid);  // 2001, not plausible
  EXPECT_EQ(decode_tester_time(std::bit_cast<uint64_t>(std::numeric_limits<double>::quiet_NaN()), ms),
            TesterTimeEncoding::kInvalid);

  // Through the frame decoder.
  auto v = hex(kDocVector2);
  const uint64_t f64 = std::bit_cast<uint64_t>(1'700'000'000'123.0);
  for (int i = 0; i < 8; ++i) v[46 + static_cast<size_t>(i)] = static_cast<uint8_t>(f64 >> (8 * i));
  const auto r = decode_reading_reply(v);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tester_time_encoding, TesterTimeEncoding::kUnixMsF64);
  EXPECT_EQ(r->tester_time_ms, 1'700'000'000'123);
  EXPECT_EQ(r->tester_time_raw, f64);
}

TEST(MacnetCodec, StatusNamesFromTheDoc) {
  EXPECT_EQ(rf1_name(31), "Complete");
  EXPECT_EQ(rf1_name(1), "Charge");
  EXPECT_EQ(rf1_name(26), "SubRout and FRA");
  EXPECT_EQ(rf1_name(6), "unknown");
  EXPECT_EQ(rf2_name(193), "O (normal end)");
  EXPECT_EQ(rf2_name(0), "Start of Step");
  EXPECT_EQ(rf2_name(255), "P (Buffer full)");
  EXPECT_EQ(rf2_name(2), "unknown");
  EXPECT_EQ(stat_name(4), "Completed");
  EXPECT_EQ(stat_name(2), "Active");
  EXPECT_EQ(stat_name(18), "N/A");
  EXPECT_EQ(stat_name(19), "unknown");
}

// ---- binary frame reader ----

TEST(MacnetCodec, BinaryReaderSplitAtEveryByte) {
  std::vector<uint8_t> stream = hex(kDocVector1);
  const auto echo = encode_echo();
  stream.insert(stream.end(), echo.begin(), echo.end());
  const auto v2 = hex(kDocVector2);
  stream.insert(stream.end(), v2.begin(), v2.end());
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SCOPED_TRACE(cut);
    BinaryFrameReader reader;
    std::vector<BinaryFrame> frames;
    for (auto part : {std::span(stream).first(cut), std::span(stream).subspan(cut)}) {
      reader.feed(part);
      for (auto r = reader.next(); r.status != BinaryFrameReader::Status::kNeedMore; r = reader.next()) {
        ASSERT_EQ(r.status, BinaryFrameReader::Status::kFrame) << r.problem;
        frames.push_back(r.frame);
      }
    }
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].bytes, hex(kDocVector1));
    EXPECT_EQ(frames[1].bytes, echo);
    EXPECT_EQ(frames[1].header.fclass, 0);
    EXPECT_EQ(frames[2].bytes, hex(kDocVector2));
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(MacnetCodec, BinaryReaderTreatsLenAsAdvisoryForFourSeven) {
  // A server that put the channel count (1) in Len still sends the 54 bytes.
  auto v = hex(kDocVector2);
  v[6] = 1;
  BinaryFrameReader reader;
  reader.feed(std::span(v).first(53));
  EXPECT_EQ(reader.next().status, BinaryFrameReader::Status::kNeedMore);
  reader.feed(std::span(v).subspan(53));
  const auto r = reader.next();
  ASSERT_EQ(r.status, BinaryFrameReader::Status::kFrame);
  EXPECT_EQ(r.frame.bytes.size(), 54u);
  EXPECT_EQ(r.frame.header.len, 1);
}

TEST(MacnetCodec, BinaryReaderReportsUnexpectedFunctionAndDropsBuffer) {
  BinaryFrameReader reader;
  auto garbage = hex("05 00 07 00 03 00 2e 00 01 02 03");
  reader.feed(garbage);
  const auto r = reader.next();
  ASSERT_EQ(r.status, BinaryFrameReader::Status::kMalformed);
  EXPECT_NE(r.problem.find("(5,7)"), std::string::npos) << r.problem;
  EXPECT_NE(r.problem.find("05 00 07 00 03 00 2e 00 01 02 03"), std::string::npos) << r.problem;
  EXPECT_EQ(reader.buffered(), 0u);
  // A clean reply afterwards is read normally.
  reader.feed(hex(kDocVector1));
  EXPECT_EQ(reader.next().status, BinaryFrameReader::Status::kFrame);

  BinaryFrameReader reader2;
  reader2.feed(hex("04 00 08 00 00 00 00 00"));  // (4,8): not asked for by this client
  EXPECT_EQ(reader2.next().status, BinaryFrameReader::Status::kMalformed);
}

TEST(MacnetCodec, BinaryReaderRejectsOversizeEcho) {
  BinaryFrameReader reader;
  reader.feed(hex("00 00 00 00 00 00 ff ff"));  // Len 65535
  const auto r = reader.next();
  ASSERT_EQ(r.status, BinaryFrameReader::Status::kMalformed);
  EXPECT_NE(r.problem.find("oversize"), std::string::npos) << r.problem;
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(MacnetCodec, HexExcerptIsCut) {
  std::vector<uint8_t> v(40, 0xab);
  const std::string s = hex_excerpt(v, 4);
  EXPECT_EQ(s, "ab ab ab ab ...");
}

// ---- JSON ----

TEST(MacnetCodec, JsonRequestTextLikeTheDoc) {
  EXPECT_EQ(encode_json_reading_request(3, 1987),
            R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":4,"FNum":7,"Chan":3},"id":1987})");
  EXPECT_EQ(encode_json_echo_request(1987),
            R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":0,"FNum":0},"id":1987})");
}

void expect_doc_reading(const JsonReply& reply) {
  EXPECT_EQ(reply.kind, JsonReplyKind::kReading);
  ASSERT_TRUE(reply.id);
  EXPECT_EQ(*reply.id, 1987);
  EXPECT_EQ(reply.fclass, 4);
  EXPECT_EQ(reply.fnum, 7);
  const ChannelReading& r = reply.reading;
  EXPECT_EQ(r.chan, 3);
  EXPECT_EQ(r.rf1, 31);
  EXPECT_EQ(r.rf2, 193);
  EXPECT_EQ(r.stat, 4);
  EXPECT_EQ(r.last_rec_num, 18u);
  EXPECT_EQ(r.cycle, 0u);
  EXPECT_EQ(r.step, 2);
  EXPECT_EQ(r.test_time_s, 15.0f);
  EXPECT_EQ(r.step_time_s, 10.0f);
  EXPECT_EQ(r.capacity_ah, 0.0f);
  EXPECT_EQ(r.energy_wh, 0.0f);
  EXPECT_EQ(r.current_a, 0.0f);
  // The JSON text and the binary vector carry the same f32.
  EXPECT_EQ(bits(r.voltage_v), 0x3bcd00cdu);
  EXPECT_EQ(r.tester_time_encoding, TesterTimeEncoding::kIsoText);
  EXPECT_EQ(r.tester_time_ms, kDocTesterTimeMs);
  EXPECT_EQ(r.tester_time_resolution_ms, 1000);
}

TEST(MacnetCodec, JsonDocReplySplitAtEveryByte) {
  for (std::string_view eol : {"\n", "\r\n"}) {  // a pretty-printer may break lines with CRLF too
    const std::string text = doc_json_reply("1987", eol);
    for (size_t cut = 0; cut <= text.size(); ++cut) {
      SCOPED_TRACE(cut);
      JsonObjectFramer framer(/*require_crlf=*/true);
      std::vector<std::string> objects;
      for (std::string_view part : {std::string_view(text).substr(0, cut), std::string_view(text).substr(cut)}) {
        framer.feed(bytes_of(part));
        for (auto r = framer.next(); r.status != JsonObjectFramer::Status::kNeedMore; r = framer.next()) {
          ASSERT_EQ(r.status, JsonObjectFramer::Status::kObject) << r.problem;
          objects.push_back(r.text);
        }
      }
      ASSERT_EQ(objects.size(), 1u);
      EXPECT_EQ(objects[0] + "\r\n", text);
      EXPECT_EQ(framer.buffered(), 0u);
      if (cut == text.size() / 2) {
        const auto outcome = parse_json_reply(objects[0]);
        ASSERT_TRUE(outcome.reply) << outcome.problem;
        expect_doc_reading(*outcome.reply);
      }
    }
  }
}

TEST(MacnetCodec, JsonDocReplyByteByByte) {
  const std::string text = doc_json_reply();
  JsonObjectFramer framer(true);
  int objects = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    framer.feed(std::span(reinterpret_cast<const uint8_t*>(text.data()) + i, 1));
    const auto r = framer.next();
    if (i + 1 < text.size()) {
      ASSERT_EQ(r.status, JsonObjectFramer::Status::kNeedMore) << i;
    } else {
      ASSERT_EQ(r.status, JsonObjectFramer::Status::kObject);
      ++objects;
      const auto outcome = parse_json_reply(r.text);
      ASSERT_TRUE(outcome.reply) << outcome.problem;
      expect_doc_reading(*outcome.reply);
    }
  }
  EXPECT_EQ(objects, 1);
}

TEST(MacnetCodec, JsonCompactDocReply) {
  const std::string text =
      R"({"jsonrpc":"2.0","result":{"FClass":4,"FNum":7,"Chan":3,"RF1":31,"RF2":193,"Stat":4,"LastRecNum":18,)"
      R"("Cycle":0,"Step":2,"TestTime":15,"StepTime":10,"Capacity":0,"Energy":0,"Current":0,)"
      R"("Voltage":0.0062561989761889,"TesterTime":"2016-11-14T09:24:08"},"id":1987})";
  const auto outcome = parse_json_reply(text);
  ASSERT_TRUE(outcome.reply) << outcome.problem;
  expect_doc_reading(*outcome.reply);
}

TEST(MacnetCodec, JsonTesterTimeZoneOffset) {
  // Tester PC on UTC+1: its 09:24:08 is 08:24:08Z.
  const auto outcome = parse_json_reply(doc_json_reply().substr(0, doc_json_reply().size() - 2), 3600);
  ASSERT_TRUE(outcome.reply);
  EXPECT_EQ(outcome.reply->reading.tester_time_ms, kDocTesterTimeMs - 3'600'000);
  // A string that names its zone wins over the configured offset.
  std::string text = doc_json_reply();
  text.replace(text.find("09:24:08"), 8, "09:24:08.250+02:00");
  const auto zoned = parse_json_reply(text.substr(0, text.size() - 2), 3600);
  ASSERT_TRUE(zoned.reply);
  EXPECT_EQ(zoned.reply->reading.tester_time_ms, kDocTesterTimeMs + 250 - 7'200'000);
  EXPECT_EQ(zoned.reply->reading.tester_time_resolution_ms, 1);
}

TEST(MacnetCodec, JsonBracesInsideStringsAndTwoRepliesInOneChunk) {
  const std::string a =
      R"({"jsonrpc":"2.0","error":{"code":-32602,"message":"a lone } and \"quoted }}\" text \\"},"id":5})";
  const std::string b = R"({"jsonrpc":"2.0","method":"MacNet","params":{"FClass":0,"FNum":0},"id":6})";
  const std::string stream = a + "\r\n" + b + "\r\n";
  JsonObjectFramer framer(true);
  framer.feed(bytes_of(stream));
  auto r1 = framer.next();
  ASSERT_EQ(r1.status, JsonObjectFramer::Status::kObject) << r1.problem;
  EXPECT_EQ(r1.text, a);
  auto r2 = framer.next();
  ASSERT_EQ(r2.status, JsonObjectFramer::Status::kObject) << r2.problem;
  EXPECT_EQ(r2.text, b);
  EXPECT_EQ(framer.next().status, JsonObjectFramer::Status::kNeedMore);

  const auto e = parse_json_reply(r1.text);
  ASSERT_TRUE(e.reply) << e.problem;
  EXPECT_EQ(e.reply->kind, JsonReplyKind::kError);
  EXPECT_EQ(e.reply->error_message, "a lone } and \"quoted }}\" text \\");
  EXPECT_EQ(e.reply->error_code, -32602);
  EXPECT_EQ(e.reply->id, 5);

  const auto echo = parse_json_reply(r2.text);
  ASSERT_TRUE(echo.reply) << echo.problem;
  EXPECT_EQ(echo.reply->kind, JsonReplyKind::kEcho);
  EXPECT_EQ(echo.reply->id, 6);
  EXPECT_EQ(echo.reply->fclass, 0);
}

TEST(MacnetCodec, JsonErrorRepliesKeepTheDocMessages) {
  const std::vector<std::string_view> messages = {
      kMsgParseError,    kMsgMethodNotFound, kMsgInvalidParams, kMsgFClassSyntax,  kMsgFNumSyntax,
      kMsgInvalidFClass, kMsgInvalidFNum,    kMsgMacNetError,   kMsgMissingObject, kMsgIllegalValue};
  // The texts as the doc prints them (MacNet p.2).
  EXPECT_EQ(kMsgMethodNotFound, "Method MacNet, jsonrpc 2.0 or id not found");
  EXPECT_EQ(kMsgFClassSyntax, "\"FClass\" key does not exist or value syntax error");
  EXPECT_EQ(kMsgFNumSyntax, "\"FNum\" key does not exist or value syntax error");
  for (bool pretty : {false, true}) {
    for (std::string_view m : messages) {
      const std::string text = encode_json_error_reply(kCodeInvalidParams, m, Json(42), pretty);
      ASSERT_GE(text.size(), 2u);
      EXPECT_EQ(text.substr(text.size() - 2), "\r\n");
      JsonObjectFramer framer(true);
      framer.feed(bytes_of(text));
      const auto obj = framer.next();
      ASSERT_EQ(obj.status, JsonObjectFramer::Status::kObject) << obj.problem;
      const auto outcome = parse_json_reply(obj.text);
      ASSERT_TRUE(outcome.reply) << outcome.problem;
      EXPECT_EQ(outcome.reply->kind, JsonReplyKind::kError);
      EXPECT_EQ(outcome.reply->error_message, m);
      EXPECT_EQ(outcome.reply->error_code, kCodeInvalidParams);
      EXPECT_EQ(outcome.reply->id, 42);
    }
  }
  const auto null_id =
      parse_json_reply(R"({"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null})");
  ASSERT_TRUE(null_id.reply);
  EXPECT_FALSE(null_id.reply->id);
  EXPECT_EQ(null_id.reply->error_code, -32700);
}

TEST(MacnetCodec, JsonReadingReplyRoundTrip) {
  ChannelReading r;
  r.chan = 5;
  r.rf1 = 2;
  r.rf2 = 129;
  r.stat = 2;
  r.last_rec_num = 77;
  r.cycle = 12;
  r.step = 4;
  r.test_time_s = 12345.678f;
  r.step_time_s = 0.1f;
  r.capacity_ah = 0.00123f;
  r.energy_wh = 0.0045f;
  r.current_a = -0.0021f;
  r.voltage_v = 3.85f;
  r.tester_time_ms = 1'700'000'000'999;
  for (bool pretty : {false, true}) {
    const std::string text = encode_json_reading_reply(r, Json(9), pretty);
    EXPECT_EQ(pretty, text.find('\n') < text.size() - 1);
    const auto outcome = parse_json_reply(text.substr(0, text.size() - 2));
    ASSERT_TRUE(outcome.reply) << outcome.problem;
    const ChannelReading& g = outcome.reply->reading;
    EXPECT_EQ(g.chan, 5);
    EXPECT_EQ(g.rf2, 129);
    EXPECT_EQ(g.cycle, 12u);
    EXPECT_EQ(bits(g.test_time_s), bits(r.test_time_s));
    EXPECT_EQ(bits(g.step_time_s), bits(r.step_time_s));
    EXPECT_EQ(bits(g.capacity_ah), bits(r.capacity_ah));
    EXPECT_EQ(bits(g.energy_wh), bits(r.energy_wh));
    EXPECT_EQ(bits(g.current_a), bits(r.current_a));
    EXPECT_EQ(bits(g.voltage_v), bits(r.voltage_v));
    EXPECT_EQ(g.tester_time_ms, 1'700'000'000'000);  // whole seconds on the wire
  }
}

TEST(MacnetCodec, TesterTimeIsoText) {
  EXPECT_EQ(format_tester_time_iso(kDocTesterTimeMs, 0), "2016-11-14T09:24:08");
  EXPECT_EQ(format_tester_time_iso(kDocTesterTimeMs + 999, 0), "2016-11-14T09:24:08");
  EXPECT_EQ(format_tester_time_iso(kDocTesterTimeMs, 3600), "2016-11-14T10:24:08");
}

// ---- malformed JSON ----

JsonObjectFramer::Result frame_one(std::string_view text, bool require_crlf = true, size_t max = kMaxJsonMessageSize) {
  JsonObjectFramer framer(require_crlf, max);
  framer.feed(bytes_of(text));
  return framer.next();
}

TEST(MacnetCodec, JsonFramerMalformedInput) {
  auto r = frame_one("garbage{\"a\":1}\r\n");
  EXPECT_EQ(r.status, JsonObjectFramer::Status::kMalformed);
  EXPECT_NE(r.problem.find("garbage"), std::string::npos) << r.problem;

  r = frame_one("{\"a\":1}X\r\n");
  EXPECT_EQ(r.status, JsonObjectFramer::Status::kMalformed);
  EXPECT_NE(r.problem.find("CRLF"), std::string::npos) << r.problem;

  r = frame_one("{\"a\":1}\rX");
  EXPECT_EQ(r.status, JsonObjectFramer::Status::kMalformed);

  r = frame_one("{\"a\":1}\r");  // CRLF may still come
  EXPECT_EQ(r.status, JsonObjectFramer::Status::kNeedMore);

  r = frame_one("{\"a\":\"" + std::string(200, 'x'), true, 100);
  EXPECT_EQ(r.status, JsonObjectFramer::Status::kMalformed);
  EXPECT_NE(r.problem.find("100 bytes"), std::string::npos) << r.problem;

  r = frame_one("\r\n  \n");  // whitespace between replies is fine
  EXPECT_EQ(r.status, JsonObjectFramer::Status::kNeedMore);

  // Requests need no terminator.
  r = frame_one("{\n \"a\": {\"b\": 1}\n}", /*require_crlf=*/false);
  EXPECT_EQ(r.status, JsonObjectFramer::Status::kObject);
  EXPECT_EQ(r.text, "{\n \"a\": {\"b\": 1}\n}");
}

TEST(MacnetCodec, JsonFramerRecoversAfterMalformed) {
  JsonObjectFramer framer(true);
  framer.feed(bytes_of("xx"));
  EXPECT_EQ(framer.next().status, JsonObjectFramer::Status::kMalformed);
  EXPECT_EQ(framer.buffered(), 0u);
  framer.feed(bytes_of(doc_json_reply()));
  EXPECT_EQ(framer.next().status, JsonObjectFramer::Status::kObject);
}

TEST(MacnetCodec, JsonReplyProblems) {
  EXPECT_FALSE(parse_json_reply("{\"a\":}").reply);
  EXPECT_NE(parse_json_reply("{\"a\":}").problem.find("not valid JSON"), std::string::npos);
  EXPECT_FALSE(parse_json_reply(R"({"jsonrpc":"2.0","id":1})").reply);
  EXPECT_FALSE(parse_json_reply(R"({"jsonrpc":"2.0","result":5,"id":1})").reply);

  const std::string good = doc_json_reply().substr(0, doc_json_reply().size() - 2);
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  auto missing = parse_json_reply(replace("\"Voltage\"", "\"Volts\""));
  EXPECT_FALSE(missing.reply);
  EXPECT_NE(missing.problem.find("Voltage"), std::string::npos) << missing.problem;

  auto wrong_type = parse_json_reply(replace("\"Current\": 0", "\"Current\": \"0\""));
  EXPECT_FALSE(wrong_type.reply);
  EXPECT_NE(wrong_type.problem.find("Current"), std::string::npos) << wrong_type.problem;

  EXPECT_FALSE(parse_json_reply(replace("\"RF1\": 31", "\"RF1\": 300")).reply);  // u8
  EXPECT_FALSE(parse_json_reply(replace("\"RF1\": 31", "\"RF1\": -1")).reply);
  EXPECT_FALSE(parse_json_reply(replace("\"Step\": 2", "\"Step\": 2.5")).reply);
  EXPECT_FALSE(parse_json_reply(replace("\"Cycle\": 0", "\"Cycle\": [0]")).reply);

  // Numbers beyond double range, huge integers and invalid UTF-8 are problems, not exceptions.
  JsonParseOutcome odd;
  EXPECT_NO_THROW(odd = parse_json_reply(replace("\"Voltage\": 0.0062561989761889", "\"Voltage\": 1e999")));
  EXPECT_FALSE(odd.reply);
  EXPECT_NO_THROW(
      odd = parse_json_reply(replace("\"LastRecNum\": 18", "\"LastRecNum\": 123456789012345678901234567890")));
  EXPECT_FALSE(odd.reply);
  EXPECT_NO_THROW(odd = parse_json_reply(replace("2016-11-14T09:24:08", "\xff\xfe")));
  EXPECT_FALSE(odd.reply);
  EXPECT_NO_THROW(
      odd = parse_json_reply(R"({"jsonrpc":"2.0","result":{"FClass":4,"FNum":7},"id":99999999999999999999})"));

  // An unreadable TesterTime leaves the reading usable, marked invalid.
  auto bad_time = parse_json_reply(replace("2016-11-14T09:24:08", "yesterday"));
  ASSERT_TRUE(bad_time.reply) << bad_time.problem;
  EXPECT_FALSE(bad_time.reply->reading.tester_time_valid());

  // A result of another function is recognised, not decoded.
  auto other = parse_json_reply(R"({"jsonrpc":"2.0","result":{"FClass":4,"FNum":8},"id":1})");
  ASSERT_TRUE(other.reply);
  EXPECT_EQ(other.reply->kind, JsonReplyKind::kOtherResult);
  EXPECT_EQ(other.reply->fnum, 8);
}

TEST(MacnetCodec, DeeplyNestedJsonIsRejectedWithoutHarm) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "{\"a\":";
  text += "1";
  text += std::string(10000, '}');
  JsonObjectFramer framer(true);
  framer.feed(bytes_of(text + "\r\n"));
  const auto obj = framer.next();
  ASSERT_EQ(obj.status, JsonObjectFramer::Status::kObject);
  const auto outcome = parse_json_reply(obj.text);
  EXPECT_FALSE(outcome.reply);
  EXPECT_FALSE(outcome.problem.empty());
}

TEST(MacnetCodec, ModeNames) {
  EXPECT_EQ(parse_mode("json"), Mode::kJson);
  EXPECT_EQ(parse_mode("binary"), Mode::kBinary);
  EXPECT_FALSE(parse_mode("udp"));
  EXPECT_EQ(mode_name(Mode::kBinary), "binary");
}

}  // namespace
}  // namespace opsync::drivers::macnet
