// SRS RGA codec against the byte examples of shared/protocols/srs-rga.md, plus split reads,
// 0x0D/0x0A inside binary replies, malformed input and the TCP-818 login dialogue.
#include "drivers/rga/rga_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fake_host.h"

namespace opsync::drivers::rga {
namespace {

using testing::as_bytes;

std::vector<uint8_t> bytes_of(std::initializer_list<int> list) {
  std::vector<uint8_t> out;
  for (int b : list) out.push_back(static_cast<uint8_t>(b));
  return out;
}

std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

// Feeds `bytes` in pieces of `piece` bytes; returns the final result and the total consumed.
ReplyReader::Result feed_in_pieces(ReplyReader& reader, std::span<const uint8_t> bytes, size_t piece,
                                   size_t& consumed_total) {
  consumed_total = 0;
  ReplyReader::Result result = ReplyReader::Result::kNeedMore;
  for (size_t pos = 0; pos < bytes.size(); pos += piece) {
    size_t used = 0;
    result = reader.feed(bytes.subspan(pos, std::min(piece, bytes.size() - pos)), used);
    consumed_total += used;
    if (result != ReplyReader::Result::kNeedMore) break;
  }
  return result;
}

TEST(RgaCodec, EncodesCommandsByteForByte) {
  EXPECT_EQ(bytes_of(cmd::mass_read(44)), bytes_of({0x4d, 0x52, 0x34, 0x34, 0x0d}));  // doc 3.1
  EXPECT_EQ(bytes_of(cmd::query("ID")), bytes_of({0x49, 0x44, 0x3f, 0x0d}));         // doc 3.1
  EXPECT_EQ(cmd::emission(1.0), "FL1.0\r");
  EXPECT_EQ(cmd::emission(0.25), "FL0.25\r");
  EXPECT_EQ(cmd::emission(2.123456), "FL2.1235\r");  // at most 4 decimals are meaningful
  EXPECT_EQ(cmd::emission(0.0), "FL0.0\r");
  EXPECT_EQ(cmd::noise_floor(4), "NF4\r");
  EXPECT_EQ(cmd::cdem_voltage(0), "HV0\r");
  EXPECT_EQ(cmd::cdem_voltage(1400), "HV1400\r");
  EXPECT_EQ(cmd::calibrate_all(), "CA\r");
  EXPECT_EQ(cmd::query("ER"), "ER?\r");
  EXPECT_EQ(cmd::mass_read(0), "MR0\r");
  EXPECT_EQ(cmd::make("FL", "0"), "FL0\r");
  EXPECT_EQ(cmd::printable("MR44\r"), "MR44");
}

TEST(RgaCodec, ClassifiesRepliesPerCommand) {
  // Doc table 3.
  EXPECT_EQ(reply_kind_for("MR44\r"), ReplyKind::kBinary4);
  EXPECT_EQ(reply_kind_for("MR0\r"), ReplyKind::kNone);
  EXPECT_EQ(reply_kind_for("mr32"), ReplyKind::kBinary4);  // case-insensitive
  EXPECT_EQ(reply_kind_for("ID?\r"), ReplyKind::kAscii);
  EXPECT_EQ(reply_kind_for("FL1.0\r"), ReplyKind::kStatus);
  EXPECT_EQ(reply_kind_for("FL?\r"), ReplyKind::kAscii);
  EXPECT_EQ(reply_kind_for("HV0\r"), ReplyKind::kStatus);
  EXPECT_EQ(reply_kind_for("CA\r"), ReplyKind::kStatus);
  EXPECT_EQ(reply_kind_for("NF4\r"), ReplyKind::kNone);
  EXPECT_EQ(reply_kind_for("NF?\r"), ReplyKind::kAscii);
  EXPECT_EQ(reply_kind_for("ML44\r"), ReplyKind::kNone);
  EXPECT_EQ(reply_kind_for("ER?\r"), ReplyKind::kStatus);
  EXPECT_EQ(reply_kind_for("EF?\r"), ReplyKind::kStatus);
  EXPECT_EQ(reply_kind_for("TP?\r"), ReplyKind::kBinary4);
  EXPECT_EQ(reply_kind_for("SC5\r"), std::nullopt);  // binary stream: not this reader's job
  EXPECT_EQ(reply_kind_for("TP1\r"), std::nullopt);  // UNCONFIRMED in the doc
  EXPECT_EQ(reply_kind_for("XX1\r"), std::nullopt);
}

TEST(RgaCodec, IonCurrentExamplesFromTheDoc) {
  auto raw = [](std::initializer_list<int> b) {
    const auto v = bytes_of(b);
    return decode_int32_le(std::span<const uint8_t, 4>(v.data(), 4));
  };
  EXPECT_EQ(raw({0x40, 0xe2, 0x01, 0x00}), 123456);
  EXPECT_DOUBLE_EQ(ion_current_a(123456), 1.23456e-11);
  EXPECT_EQ(raw({0xff, 0xff, 0xff, 0xff}), -1);
  EXPECT_DOUBLE_EQ(ion_current_a(-1), -1e-16);  // sign kept: noise is legal
  EXPECT_EQ(raw({0x10, 0x27, 0x00, 0x00}), 10000);
  EXPECT_DOUBLE_EQ(ion_current_a(10000), 1.0e-12);
  EXPECT_EQ(raw({0x80, 0x7b, 0xe1, 0xff}), -2000000);
  EXPECT_DOUBLE_EQ(ion_current_a(-2000000), -2e-10);
  EXPECT_EQ(encode_int32_le(-2000000), (std::array<uint8_t, 4>{0x80, 0x7b, 0xe1, 0xff}));
  EXPECT_EQ(encode_int32_le(123456), (std::array<uint8_t, 4>{0x40, 0xe2, 0x01, 0x00}));
}

TEST(RgaCodec, ParsesIdentity) {
  const auto id = parse_identity("SRSRGA200VER0.24SN14346");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->model, "SRSRGA200");
  EXPECT_EQ(id->m_max, 200);
  EXPECT_EQ(id->firmware, "0.24");
  EXPECT_EQ(id->serial, "14346");
  const auto id100 = parse_identity("SRSRGA100VER0.24SN00007");
  ASSERT_TRUE(id100.has_value());
  EXPECT_EQ(id100->m_max, 100);
  EXPECT_EQ(id100->serial, "00007");
  EXPECT_FALSE(parse_identity("SRSQMS200VER0.24SN14346"));
  EXPECT_FALSE(parse_identity("SRSRGA200"));
  EXPECT_FALSE(parse_identity("SRSRGAxyzVER0.24SN1"));
  EXPECT_FALSE(parse_identity(""));
}

TEST(RgaCodec, DecodesStatusAndErrorBytes) {
  // Doc section 6: bit6 PS, bit5 DET, bit4 QMF, bit3 CEM, bit1 FIL, bit0 RS232.
  EXPECT_EQ(status_bit_names(0x02), (std::vector<std::string>{"FIL_ERR"}));
  EXPECT_EQ(status_bit_names(0x79),
            (std::vector<std::string>{"PS_ERR", "DET_ERR", "QMF_ERR", "CEM_ERR", "RS232_ERR"}));
  EXPECT_EQ(status_bit_names(0x84), (std::vector<std::string>{"BIT7", "BIT2"}));
  EXPECT_TRUE(status_bit_names(0).empty());
  EXPECT_EQ(describe_status(0x03), "FIL_ERR, RS232_ERR");
  EXPECT_EQ(describe_status(0), "none");
  EXPECT_EQ(flagged_error_bytes(0x0A), (std::vector<ErrorByte>{ErrorByte::kCem, ErrorByte::kFilament}));
  EXPECT_EQ(error_query_mnemonic(ErrorByte::kFilament), "EF");
  EXPECT_EQ(error_query_mnemonic(ErrorByte::kCem), "EM");  // not EC (srsinst's bug, doc section 6)
  EXPECT_EQ(error_query_mnemonic(ErrorByte::kRs232), "EC");
  EXPECT_EQ(error_query_mnemonic(ErrorByte::kPowerSupply), "EP");
  EXPECT_EQ(error_bit_descriptions(ErrorByte::kFilament, 0x80), (std::vector<std::string>{"no filament detected"}));
  EXPECT_EQ(error_bit_descriptions(ErrorByte::kFilament, 0x61),
            (std::vector<std::string>{"cannot set emission", "vacuum pressure too high", "single-filament operation"}));
  EXPECT_EQ(error_bit_descriptions(ErrorByte::kRs232, 0x05), (std::vector<std::string>{"command too long", "bad command"}));
  EXPECT_EQ(error_bit_descriptions(ErrorByte::kPowerSupply, 0x41),
            (std::vector<std::string>{"24 V supply < 22 V", "undocumented bit 0"}));
  EXPECT_EQ(parse_status("0"), 0);
  EXPECT_EQ(parse_status("255"), 255);
  EXPECT_EQ(parse_status("256"), std::nullopt);
  EXPECT_EQ(parse_status("x"), std::nullopt);
  EXPECT_EQ(parse_status(""), std::nullopt);
}

TEST(RgaCodec, GateTimesAndTimeouts) {
  EXPECT_EQ(gate_time_ns(4), 163'000'000);  // doc section 4
  EXPECT_EQ(gate_time_ns(0), 2'400'000'000);
  EXPECT_EQ(gate_time_ns(7), 25'000'000);
  EXPECT_EQ(reply_timeout_ns(4), 3 * 163'000'000 + 1'000'000'000);
}

TEST(RgaReplyReader, ReadsIdReplyFromTheDoc) {
  const auto wire = bytes_of({0x53, 0x52, 0x53, 0x52, 0x47, 0x41, 0x32, 0x30, 0x30, 0x56, 0x45, 0x52, 0x30,
                              0x2e, 0x32, 0x34, 0x53, 0x4e, 0x31, 0x34, 0x33, 0x34, 0x36, 0x0a, 0x0d});
  ReplyReader reader;
  reader.expect(ReplyKind::kAscii);
  size_t used = 0;
  ASSERT_EQ(reader.feed(wire, used), ReplyReader::Result::kComplete);
  EXPECT_EQ(used, wire.size());  // the CR after the LF is part of the reply
  EXPECT_EQ(reader.reply().text, "SRSRGA200VER0.24SN14346");
  EXPECT_FALSE(reader.trailing_cr_pending());
}

TEST(RgaReplyReader, ReadsStatusReplyFromTheDoc) {
  ReplyReader reader;
  reader.expect(ReplyKind::kStatus);
  size_t used = 0;
  ASSERT_EQ(reader.feed(bytes_of({0x30, 0x0a, 0x0d}), used), ReplyReader::Result::kComplete);  // FL1.0 reply
  EXPECT_EQ(used, 3U);
  EXPECT_EQ(reader.reply().status, 0);
  reader.expect(ReplyKind::kStatus);
  ASSERT_EQ(reader.feed(as_bytes("66\n\r"), used), ReplyReader::Result::kComplete);
  EXPECT_EQ(reader.reply().status, 66);
}

TEST(RgaReplyReader, BinaryReplyMayContainCrAndLf) {
  ReplyReader reader;
  reader.expect(ReplyKind::kBinary4);
  size_t used = 0;
  const auto wire = bytes_of({0x0d, 0x0a, 0x0d, 0x0a});
  ASSERT_EQ(reader.feed(wire, used), ReplyReader::Result::kComplete);
  EXPECT_EQ(used, 4U);
  EXPECT_EQ(reader.reply().raw, 0x0a0d0a0d);
  // A leading 0x0D is data, never a leftover terminator (doc section 7).
  reader.expect(ReplyKind::kBinary4);
  ASSERT_EQ(reader.feed(bytes_of({0x0d, 0x00, 0x00, 0x00}), used), ReplyReader::Result::kComplete);
  EXPECT_EQ(reader.reply().raw, 13);
}

TEST(RgaReplyReader, SplitReadsOneByteAtATime) {
  ReplyReader reader;
  size_t used = 0;
  reader.expect(ReplyKind::kBinary4);
  const auto mr = bytes_of({0x80, 0x7b, 0xe1, 0xff});
  ASSERT_EQ(feed_in_pieces(reader, mr, 1, used), ReplyReader::Result::kComplete);
  EXPECT_EQ(used, 4U);
  EXPECT_EQ(reader.reply().raw, -2000000);

  reader.expect(ReplyKind::kAscii);
  const auto id = bytes_of("SRSRGA200VER0.24SN14346\n\r");
  ASSERT_EQ(feed_in_pieces(reader, id, 1, used), ReplyReader::Result::kComplete);
  // Fed one byte at a time, the reply completes at LF and the CR is still to come.
  EXPECT_EQ(used, id.size() - 1);
  EXPECT_EQ(reader.reply().text, "SRSRGA200VER0.24SN14346");
  EXPECT_TRUE(reader.trailing_cr_pending());
  EXPECT_FALSE(reader.take_trailing_cr(0x0a));
  EXPECT_TRUE(reader.take_trailing_cr(0x0d));
  EXPECT_FALSE(reader.trailing_cr_pending());
}

TEST(RgaReplyReader, ErrorStatusMayEndAtLfAlone) {
  ReplyReader reader;
  reader.expect(ReplyKind::kStatus);
  size_t used = 0;
  ASSERT_EQ(reader.feed(as_bytes("2\n"), used), ReplyReader::Result::kComplete);
  EXPECT_EQ(reader.reply().status, 2);
  EXPECT_TRUE(reader.trailing_cr_pending());
  reader.expect(ReplyKind::kBinary4);  // the next command went out: 0x0D is data again
  EXPECT_FALSE(reader.trailing_cr_pending());
  ASSERT_EQ(reader.feed(bytes_of({0x0d, 0x0d, 0x0d, 0x0d}), used), ReplyReader::Result::kComplete);
  EXPECT_EQ(reader.reply().raw, 0x0d0d0d0d);
}

TEST(RgaReplyReader, StopsAtTheEndOfItsReply) {
  ReplyReader reader;
  reader.expect(ReplyKind::kBinary4);
  size_t used = 0;
  ASSERT_EQ(reader.feed(bytes_of({1, 2, 3, 4, 5, 6}), used), ReplyReader::Result::kComplete);
  EXPECT_EQ(used, 4U);  // the caller sees the 2 extra bytes
  reader.expect(ReplyKind::kStatus);
  ASSERT_EQ(reader.feed(as_bytes("0\n\rXY"), used), ReplyReader::Result::kComplete);
  EXPECT_EQ(used, 3U);
}

TEST(RgaReplyReader, ReportsMalformedInput) {
  ReplyReader reader;
  size_t used = 0;
  reader.expect(ReplyKind::kAscii);
  EXPECT_EQ(reader.feed(bytes_of({0x53, 0x52, 0x01, 0x0a}), used), ReplyReader::Result::kMalformed);
  EXPECT_NE(reader.error().find("0x01"), std::string::npos);
  EXPECT_EQ(reader.received().size(), 3U);

  reader.expect(ReplyKind::kStatus);
  EXPECT_EQ(reader.feed(as_bytes("OK\n\r"), used), ReplyReader::Result::kMalformed);

  reader.expect(ReplyKind::kStatus);
  EXPECT_EQ(reader.feed(as_bytes("300\n\r"), used), ReplyReader::Result::kMalformed);

  reader.expect(ReplyKind::kAscii);
  const std::string long_line(ReplyReader::kMaxAsciiChars + 1, 'A');
  EXPECT_EQ(reader.feed(as_bytes(long_line), used), ReplyReader::Result::kMalformed);

  reader.reset();  // nothing expected
  EXPECT_EQ(reader.feed(as_bytes("0"), used), ReplyReader::Result::kMalformed);
  EXPECT_EQ(used, 1U);
}

TEST(RgaReplyReader, ToleratesCrBeforeLf) {
  // Not the documented order, but a CR carries no text; accepting it costs nothing.
  ReplyReader reader;
  reader.expect(ReplyKind::kStatus);
  size_t used = 0;
  ASSERT_EQ(reader.feed(as_bytes("\r7\r\n"), used), ReplyReader::Result::kComplete);
  EXPECT_EQ(reader.reply().status, 7);
}

TEST(RgaCodec, HexExcerpt) {
  EXPECT_EQ(hex_excerpt(bytes_of({0x4d, 0x52, 0x0d})), "4d 52 0d");
  EXPECT_EQ(hex_excerpt(bytes_of({1, 2, 3, 4, 5}), 3), "01 02 03 ...");
}

TEST(RgaTcpLogin, SucceedsWithWelcome) {
  TcpLogin login("admin", "secret");
  EXPECT_EQ(login.start(0), " \r");
  EXPECT_EQ(login.next_deadline_ns(), TcpLogin::kNameWait_ns);
  EXPECT_EQ(login.on_bytes(as_bytes("\r\nName"), 1'000'000), "");  // prompt not complete yet
  EXPECT_EQ(login.on_bytes(as_bytes(": "), 2'000'000), "admin\r");
  EXPECT_EQ(login.state(), TcpLogin::State::kAwaitPasswordPrompt);
  EXPECT_EQ(login.on_bytes(as_bytes("Password: "), 3'000'000), "");
  EXPECT_EQ(login.on_tick(2'000'000 + TcpLogin::kStepWait_ns - 1), "");
  EXPECT_EQ(login.on_tick(2'000'000 + TcpLogin::kStepWait_ns), "secret\r");
  EXPECT_EQ(login.on_bytes(as_bytes("\r\nWelcome\r\n"), 600'000'000), "");
  EXPECT_EQ(login.state(), TcpLogin::State::kAwaitWelcome);
  EXPECT_EQ(login.on_tick(2'000'000 + 2 * TcpLogin::kStepWait_ns), "");
  EXPECT_EQ(login.state(), TcpLogin::State::kSucceeded);
}

TEST(RgaTcpLogin, FailsWithoutWelcome) {
  TcpLogin login("admin", "wrong");
  login.start(0);
  login.on_bytes(as_bytes("Name: "), 0);
  login.on_tick(TcpLogin::kStepWait_ns);
  login.on_bytes(as_bytes("\r\nLogin incorrect\r\n"), TcpLogin::kStepWait_ns + 1);
  login.on_tick(2 * TcpLogin::kStepWait_ns);
  EXPECT_EQ(login.state(), TcpLogin::State::kFailed);
  EXPECT_NE(login.failure().find("Login incorrect"), std::string::npos);
}

TEST(RgaTcpLogin, RetriesThePromptThreeTimes) {
  TcpLogin login("admin", "admin");
  EXPECT_EQ(login.start(0), " \r");
  EXPECT_EQ(login.on_bytes(as_bytes("banner\r\n"), 1), "");  // no Name: in the last piece
  EXPECT_EQ(login.on_tick(TcpLogin::kNameWait_ns), " \r");
  EXPECT_EQ(login.on_tick(2 * TcpLogin::kNameWait_ns), " \r");
  EXPECT_EQ(login.state(), TcpLogin::State::kAwaitName);
  EXPECT_EQ(login.on_tick(3 * TcpLogin::kNameWait_ns), "");
  EXPECT_EQ(login.state(), TcpLogin::State::kFailed);
  EXPECT_EQ(login.next_deadline_ns(), kNoDeadline);
}

TEST(RgaTcpLogin, NamePromptMustBeInTheLastPiece) {
  TcpLogin login("u", "p");
  login.start(0);
  // "Name:" followed by another CR-separated piece is an old prompt, not the current one.
  EXPECT_EQ(login.on_bytes(as_bytes("Name: \rsomething else"), 1), "");
  EXPECT_EQ(login.on_bytes(as_bytes("\rName: "), 2), "u\r");
}

}  // namespace
}  // namespace opsync::drivers::rga
