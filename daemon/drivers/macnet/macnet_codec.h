// Maccor MacNet wire codec (shared/protocols/maccor-macnet.md): the packed little-endian binary
// messages of TCP 57560, the JSON-RPC objects of TCP 57570, streaming framers for both, and the
// RF1/RF2/Stat name tables. Pure functions and small state machines: no sockets, no clocks, no
// exceptions on bad input (problems come back as text for the caller to count and report).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace opsync::drivers::macnet {

inline constexpr uint16_t kBinaryTcpPort = 57560;
inline constexpr uint16_t kJsonTcpPort = 57570;

inline constexpr uint16_t kFClassEcho = 0;  // any message of class 0 comes back unchanged
inline constexpr uint16_t kFClassRead = 4;
inline constexpr uint16_t kFNumReadStatus = 1;   // RF1, RF2, Stat of Len channels
inline constexpr uint16_t kFNumReadVoltage = 2;  // f32 per channel
inline constexpr uint16_t kFNumReadCurrent = 3;  // f32 per channel
inline constexpr uint16_t kFNumReadChannel = 7;  // the full one-channel reading

inline constexpr size_t kHeaderSize = 8;
inline constexpr size_t kReadingDataSize = 46;
inline constexpr size_t kReadingFrameSize = kHeaderSize + kReadingDataSize;  // 54
// Echo data beyond this is not something a MacNet client sends; larger Len means lost framing.
inline constexpr size_t kMaxEchoDataSize = 1024;
// A pretty-printed (4,7) reply is ~600 bytes; anything near this is not a reply.
inline constexpr size_t kMaxJsonMessageSize = 64 * 1024;

// The doc's JSON-RPC error messages (MacNet p.2), verbatim.
inline constexpr std::string_view kMsgParseError = "Parse error";
inline constexpr std::string_view kMsgMethodNotFound = "Method MacNet, jsonrpc 2.0 or id not found";
inline constexpr std::string_view kMsgInvalidParams = "Invalid params";
inline constexpr std::string_view kMsgFClassSyntax = "\"FClass\" key does not exist or value syntax error";
inline constexpr std::string_view kMsgFNumSyntax = "\"FNum\" key does not exist or value syntax error";
inline constexpr std::string_view kMsgInvalidFClass = "Invalid FClass";
inline constexpr std::string_view kMsgInvalidFNum = "Invalid FNum";
inline constexpr std::string_view kMsgMacNetError = "MacNet error";
inline constexpr std::string_view kMsgMissingObject = "Missing object";
inline constexpr std::string_view kMsgIllegalValue = "Illegal value";

// Codes Maccor uses are UNCONFIRMED; these are the JSON-RPC 2.0 ones the doc suggests.
inline constexpr int kCodeParseError = -32700;
inline constexpr int kCodeMethodNotFound = -32601;
inline constexpr int kCodeInvalidParams = -32602;

enum class Mode : uint8_t { kJson, kBinary };
std::optional<Mode> parse_mode(std::string_view text);  // "json" | "binary"
std::string_view mode_name(Mode mode);

// Status code names from the doc's tables (MacNet p.24-26); "unknown" for codes not listed.
std::string_view rf1_name(uint8_t code);
std::string_view rf2_name(uint8_t code);
std::string_view stat_name(uint16_t code);

// ---- binary ---------------------------------------------------------------------------------

struct Header {
  uint16_t fclass = 0;
  uint16_t fnum = 0;
  uint16_t chan = 0;  // 0-based tester channel
  uint16_t len = 0;   // Tx: number of channels; Rx: number of data bytes (advisory, see doc)
};

std::array<uint8_t, kHeaderSize> encode_header(const Header& header);
// Requires bytes.size() >= kHeaderSize.
Header decode_header(std::span<const uint8_t> bytes);

// How the 8 TesterTime bytes (or the JSON TesterTime value) were read.
enum class TesterTimeEncoding : uint8_t {
  kInvalid,            // not plausible in any known form; do not use
  kUnixMsU64,          // the doc's reading: UInt64 Unix ms
  kUnixMsF64,          // f64 holding Unix ms
  kLabviewSecondsF64,  // f64 seconds since 1904-01-01 (what the LabVIEW DLL hands out)
  kIsoText,            // JSON ISO 8601 string
  kUnixMsJsonNumber,   // JSON number holding Unix ms (not in the doc; accepted defensively)
};
std::string_view tester_time_encoding_name(TesterTimeEncoding encoding);

// One (4,7) reading, binary or JSON.
struct ChannelReading {
  uint16_t chan = 0;  // 0-based wire channel
  uint8_t rf1 = 0;
  uint8_t rf2 = 0;
  uint16_t stat = 0;
  uint32_t last_rec_num = 0;
  uint32_t cycle = 0;
  uint16_t step = 0;
  float test_time_s = 0;
  float step_time_s = 0;
  float capacity_ah = 0;
  float energy_wh = 0;
  float current_a = 0;  // sign as the cycler reports it (convention UNCONFIRMED in the doc)
  float voltage_v = 0;
  int64_t tester_time_ms = 0;  // tester PC clock, Unix ms (UTC); see tester_time_encoding
  TesterTimeEncoding tester_time_encoding = TesterTimeEncoding::kInvalid;
  // How coarse tester_time_ms is: 1 for binary ms, 1000 for an ISO string without fraction.
  int32_t tester_time_resolution_ms = 1;
  uint64_t tester_time_raw = 0;  // the 8 bytes as read (binary only), for reporting

  bool tester_time_valid() const { return tester_time_encoding != TesterTimeEncoding::kInvalid; }
};

// (4,7) request for one channel: 04 00 07 00 cc cc 00 00.
std::vector<uint8_t> encode_reading_request(uint16_t wire_chan);
// Echo message (class 0, no data). The link check sends 8 zero bytes.
std::vector<uint8_t> encode_echo(uint16_t fnum = 0, uint16_t wire_chan = 0);
// The 54-byte (4,7) reply, TesterTime written as UInt64 ms (for the simulator and tests).
std::vector<uint8_t> encode_reading_reply(const ChannelReading& reading, uint16_t len_field = kReadingDataSize);
// Decodes a (4,7) reply frame (at least 54 bytes; Len is not checked). nullopt if the header is
// not (4,7) or the frame is short.
std::optional<ChannelReading> decode_reading_reply(std::span<const uint8_t> frame);
// The doc's defensive reading of the 8 TesterTime bytes: a u64 in 1e12..1e13 is Unix ms,
// otherwise the bytes are tried as an f64 (Unix ms, or LabVIEW seconds since 1904).
TesterTimeEncoding decode_tester_time(uint64_t raw, int64_t& unix_ms);

struct BinaryFrame {
  Header header;
  std::vector<uint8_t> bytes;  // the whole frame, header included
};

// Cuts replies out of a binary byte stream. Knows the reply sizes a logging client meets:
// (4,7) is always 54 bytes (Len advisory), class 0 is 8 + Len. Anything else means the stream
// is not what was asked for; the reader reports it and drops its buffer so the caller can
// resynchronise on the next request.
class BinaryFrameReader {
 public:
  enum class Status : uint8_t { kNeedMore, kFrame, kMalformed };
  struct Result {
    Status status = Status::kNeedMore;
    BinaryFrame frame;    // kFrame
    std::string problem;  // kMalformed: what was wrong, with a hex excerpt
  };
  void feed(std::span<const uint8_t> bytes);
  Result next();
  void clear() { buf_.clear(); }
  size_t buffered() const { return buf_.size(); }

 private:
  std::vector<uint8_t> buf_;
};

// "04 00 07 00 ..." of at most max_bytes bytes, with "..." when cut.
std::string hex_excerpt(std::span<const uint8_t> bytes, size_t max_bytes = 32);

// ---- JSON-RPC -------------------------------------------------------------------------------

using Json = nlohmann::ordered_json;  // keeps key order, so requests read like the doc's

// {"jsonrpc":"2.0","method":"MacNet","params":{"FClass":4,"FNum":7,"Chan":3},"id":1987}
std::string encode_json_reading_request(uint16_t wire_chan, int64_t id);
// {"jsonrpc":"2.0","method":"MacNet","params":{"FClass":0,"FNum":0},"id":1987}
std::string encode_json_echo_request(int64_t id);

// Cuts JSON objects out of a byte stream by brace depth, ignoring braces inside strings, so a
// pretty-printed body spread over many lines is kept whole. With require_crlf (replies) an
// object counts only once "\r\n" follows it; requests have no terminator. Bytes outside an
// object other than whitespace, a missing CRLF, or a message beyond max_size are malformed:
// reported once, and the buffer is dropped.
class JsonObjectFramer {
 public:
  explicit JsonObjectFramer(bool require_crlf, size_t max_size = kMaxJsonMessageSize);
  enum class Status : uint8_t { kNeedMore, kObject, kMalformed };
  struct Result {
    Status status = Status::kNeedMore;
    std::string text;     // kObject: the object, without the CRLF
    std::string problem;  // kMalformed
  };
  void feed(std::span<const uint8_t> bytes);
  Result next();
  void clear();
  size_t buffered() const { return buf_.size(); }

 private:
  Result malformed(std::string problem);

  bool require_crlf_;
  size_t max_size_;
  std::string buf_;
  // Scan state, so each byte is looked at once however the stream is split.
  size_t pos_ = 0;
  size_t start_ = 0;
  int depth_ = 0;
  bool in_object_ = false;
  bool in_string_ = false;
  bool escaped_ = false;
  bool closed_ = false;  // object complete, waiting for its CRLF
  size_t end_ = 0;       // index one past the closing brace
};

// Printable excerpt of text (control bytes escaped), at most max_chars long.
std::string text_excerpt(std::string_view text, size_t max_chars = 80);

enum class JsonReplyKind : uint8_t { kReading, kEcho, kError, kOtherResult };

struct JsonReply {
  JsonReplyKind kind = JsonReplyKind::kOtherResult;
  std::optional<int64_t> id;  // nullopt when absent, null or not an integer
  uint16_t fclass = 0;
  uint16_t fnum = 0;
  ChannelReading reading;  // kReading
  int64_t error_code = 0;  // kError
  std::string error_message;
};

struct JsonParseOutcome {
  std::optional<JsonReply> reply;
  std::string problem;  // set when reply is empty
};

// Reads one reply object. tester_zone_offset_s (local - UTC) converts a zone-less ISO TesterTime
// to UTC; a string with its own zone uses that.
JsonParseOutcome parse_json_reply(std::string_view text, int32_t tester_zone_offset_s = 0);

// Simulator side: replies as the server sends them, pretty-printed (4 spaces) or compact, + CRLF.
std::string encode_json_reading_reply(const ChannelReading& reading, const Json& id, bool pretty,
                                      int32_t tester_zone_offset_s = 0);
std::string encode_json_error_reply(int code, std::string_view message, const Json& id, bool pretty);
std::string encode_json_message(const Json& object, bool pretty);  // dump + CRLF
// "2016-11-14T09:24:08": the tester's wall clock (UTC + offset), seconds truncated.
std::string format_tester_time_iso(int64_t tester_time_ms, int32_t tester_zone_offset_s);

}  // namespace opsync::drivers::macnet
