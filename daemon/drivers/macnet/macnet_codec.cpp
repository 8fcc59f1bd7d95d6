// Maccor MacNet wire codec: binary and JSON-RPC encoding/decoding and stream framing. Every
// fact here (field offsets, status names, message texts) is from shared/protocols/maccor-macnet.md.
#include "drivers/macnet/macnet_codec.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/time_format.h"

namespace opsync::drivers::macnet {
namespace {

struct CodeName {
  uint16_t code;
  std::string_view name;
};

// MacNet p.24-26.
constexpr CodeName kRf1Names[] = {
    {0, "Available"}, {1, "Charge"},  {2, "Discharge"},        {3, "AdvCycle"}, {4, "Rest"},       {5, "Pause"},
    {7, "End"},       {8, "Ext Chg"}, {9, "Ext Dis"},          {19, "Pls Chg"}, {20, "Pls Dis"},   {21, "I/O Out"},
    {22, "EnvChmbr"}, {23, "Scan"},   {26, "SubRout and FRA"}, {29, "Problem"}, {30, "Suspended"}, {31, "Complete"},
};

constexpr CodeName kRf2Names[] = {
    {0, "Start of Step"},
    {1, "Step Time"},
    {4, "Current increment"},
    {5, "Voltage increment"},
    {8, "Amp Hour"},
    {9, "Watt Hour"},
    {17, "Pause Step"},
    {18, "Auxiliary Input"},
    {33, "Pulse low"},
    {34, "Pulse high"},
    {37, "Digital Input"},
    {128, "None"},
    {129, "Step time"},
    {130, "Test time"},
    {131, "Cycle Number"},
    {132, "Current"},
    {133, "Voltage"},
    {134, "Power"},
    {135, "Resistance"},
    {136, "Amp Hour"},
    {137, "Watt Hour"},
    {138, "Half Cycle Ahr"},
    {139, "Half Cycle Whr"},
    {140, "Previous Ahr"},
    {141, "Previous Whr"},
    {142, "First Half Cycle Ahr"},
    {143, "First Half Cycle Whr"},
    {144, "Last Half Cycle Ahr"},
    {145, "Last Half Cycle Whr"},
    {146, "External"},
    {147, "Loop Count"},
    {150, "Voltage/Hour"},
    {151, "Ahr Previous"},
    {152, "Half Cycle AHr"},
    {153, "Half Cycle Time"},
    {154, "Delta I"},
    {155, "Delta V"},
    {157, "Aux Volt"},
    {158, "Thermcpl"},
    {159, "Thermstr"},
    {160, "Pressure or Procedure complete when Advance Started"},
    {161, "Max-Deviation"},
    {162, "Mean-Deviation"},
    {163, "SMBus alarm"},
    {164, "Function"},
    {165, "Digital Input"},
    {189, "Safety Capacity"},
    {190, "Safety Voltage <pk"},
    {191, "Safety overcharge"},
    {192, "S (operator suspended or Pause step)"},
    {193, "O (normal end)"},
    {194, "P (timeout fault)"},
    {195, "P (timeout fault)"},
    {196, "P (overcharge safety)"},
    {197, "P (voltage safety <pk)"},
    {198, "P (slave error)"},
    {199, "Operator forced step"},
    {252, "P (Slave Current control error)"},
    {253, "P (V safety absolute)"},
    {254, "P (lost current control)"},
    {255, "P (Buffer full)"},
};

constexpr CodeName kStatNames[] = {
    {0, "Available"},  {1, "Selected"},   {2, "Active"},    {3, "Suspended"}, {4, "Completed"},
    {5, "Problem"},    {6, "Not/Avl"},    {7, "Reset"},     {8, "Start"},     {9, "PWR Fail"},
    {10, "No Cntllr"}, {11, "ShutDown"},  {12, "Starting"}, {13, "Blocked"},  {14, "Waiting"},
    {15, "FRA"},       {16, "Rem Maint"}, {17, "Not USED"}, {18, "N/A"},
};

template <size_t N>
std::string_view lookup(const CodeName (&table)[N], uint16_t code) {
  for (const CodeName& e : table) {
    if (e.code == code) return e.name;
  }
  return "unknown";
}

uint16_t get_u16(std::span<const uint8_t> b, size_t at) { return static_cast<uint16_t>(b[at] | (b[at + 1] << 8)); }
uint32_t get_u32(std::span<const uint8_t> b, size_t at) {
  return uint32_t{b[at]} | (uint32_t{b[at + 1]} << 8) | (uint32_t{b[at + 2]} << 16) | (uint32_t{b[at + 3]} << 24);
}
uint64_t get_u64(std::span<const uint8_t> b, size_t at) {
  return uint64_t{get_u32(b, at)} | (uint64_t{get_u32(b, at + 4)} << 32);
}
float get_f32(std::span<const uint8_t> b, size_t at) { return std::bit_cast<float>(get_u32(b, at)); }

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v & 0xff));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>((v >> (8 * i)) & 0xff));
}
void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>((v >> (8 * i)) & 0xff));
}
void put_f32(std::vector<uint8_t>& out, float v) { put_u32(out, std::bit_cast<uint32_t>(v)); }

// Plausible Unix ms: 2001-09-09 (1e12) to 2286 (1e13); a tester clock outside it is broken.
constexpr uint64_t kMinUnixMs = 1'000'000'000'000ULL;
constexpr uint64_t kMaxUnixMs = 10'000'000'000'000ULL;
// Seconds from the LabVIEW epoch (1904-01-01) to the Unix epoch.
constexpr double kLabviewToUnixS = 2'082'844'800.0;

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Reads an unsigned integer key into T, with a range check.
template <typename T>
bool read_uint(const Json& obj, const char* key, T& out, std::string& problem) {
  const auto it = obj.find(key);
  if (it == obj.end()) {
    problem = fmt::format("result has no \"{}\"", key);
    return false;
  }
  if (!it->is_number_unsigned()) {
    problem = fmt::format("\"{}\" is not a non-negative integer: {}", key,
                          text_excerpt(it->dump(-1, ' ', false, Json::error_handler_t::replace), 40));
    return false;
  }
  const uint64_t v = it->get<uint64_t>();
  if (v > std::numeric_limits<T>::max()) {
    problem = fmt::format("\"{}\" = {} is out of range", key, v);
    return false;
  }
  out = static_cast<T>(v);
  return true;
}

bool read_f32(const Json& obj, const char* key, float& out, std::string& problem) {
  const auto it = obj.find(key);
  if (it == obj.end()) {
    problem = fmt::format("result has no \"{}\"", key);
    return false;
  }
  if (!it->is_number()) {
    problem = fmt::format("\"{}\" is not a number: {}", key,
                          text_excerpt(it->dump(-1, ' ', false, Json::error_handler_t::replace), 40));
    return false;
  }
  // The server prints the f32 it holds; narrowing the parsed double gives those bits back.
  out = static_cast<float>(it->get<double>());
  return true;
}

// TesterTime in JSON: ISO text without zone (the doc), or defensively a number of Unix ms.
void read_json_tester_time(const Json& result, int32_t zone_offset_s, ChannelReading& r) {
  r.tester_time_encoding = TesterTimeEncoding::kInvalid;
  const auto it = result.find("TesterTime");
  if (it == result.end()) return;
  if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    const auto parsed = parse_iso_datetime(text);
    if (!parsed) return;
    const int32_t offset_s = parsed->has_zone ? parsed->zone_offset_s : zone_offset_s;
    const int64_t local_ns = civil_to_ns(parsed->civil);
    r.tester_time_ms = local_ns / 1'000'000 - int64_t{offset_s} * 1000;
    r.tester_time_encoding = TesterTimeEncoding::kIsoText;
    // Without a fraction the string only says which second it was.
    const bool has_fraction = text.find_first_of(".,") != std::string::npos;
    r.tester_time_resolution_ms = has_fraction ? 1 : 1000;
    return;
  }
  if (it->is_number()) {
    const double ms = it->get<double>();
    if (std::isfinite(ms) && ms >= static_cast<double>(kMinUnixMs) && ms < static_cast<double>(kMaxUnixMs)) {
      r.tester_time_ms = std::llround(ms);
      r.tester_time_encoding = TesterTimeEncoding::kUnixMsJsonNumber;
      r.tester_time_resolution_ms = 1;
    }
  }
}

std::string dump(const Json& j, int indent) { return j.dump(indent, ' ', false, Json::error_handler_t::replace); }

}  // namespace

std::optional<Mode> parse_mode(std::string_view text) {
  if (text == "json") return Mode::kJson;
  if (text == "binary") return Mode::kBinary;
  return std::nullopt;
}

std::string_view mode_name(Mode mode) { return mode == Mode::kJson ? "json" : "binary"; }

std::string_view rf1_name(uint8_t code) { return lookup(kRf1Names, code); }
std::string_view rf2_name(uint8_t code) { return lookup(kRf2Names, code); }
std::string_view stat_name(uint16_t code) { return lookup(kStatNames, code); }

std::string_view tester_time_encoding_name(TesterTimeEncoding encoding) {
  switch (encoding) {
    case TesterTimeEncoding::kInvalid:
      return "invalid";
    case TesterTimeEncoding::kUnixMsU64:
      return "u64 Unix ms";
    case TesterTimeEncoding::kUnixMsF64:
      return "f64 Unix ms";
    case TesterTimeEncoding::kLabviewSecondsF64:
      return "f64 seconds since 1904";
    case TesterTimeEncoding::kIsoText:
      return "ISO text";
    case TesterTimeEncoding::kUnixMsJsonNumber:
      return "JSON number of Unix ms";
  }
  return "invalid";
}

// ---- binary ---------------------------------------------------------------------------------

std::array<uint8_t, kHeaderSize> encode_header(const Header& h) {
  return {static_cast<uint8_t>(h.fclass & 0xff), static_cast<uint8_t>(h.fclass >> 8),
          static_cast<uint8_t>(h.fnum & 0xff),   static_cast<uint8_t>(h.fnum >> 8),
          static_cast<uint8_t>(h.chan & 0xff),   static_cast<uint8_t>(h.chan >> 8),
          static_cast<uint8_t>(h.len & 0xff),    static_cast<uint8_t>(h.len >> 8)};
}

Header decode_header(std::span<const uint8_t> b) {
  return Header{get_u16(b, 0), get_u16(b, 2), get_u16(b, 4), get_u16(b, 6)};
}

std::vector<uint8_t> encode_reading_request(uint16_t wire_chan) {
  const auto h = encode_header({kFClassRead, kFNumReadChannel, wire_chan, 0});
  return {h.begin(), h.end()};
}

std::vector<uint8_t> encode_echo(uint16_t fnum, uint16_t wire_chan) {
  const auto h = encode_header({kFClassEcho, fnum, wire_chan, 0});
  return {h.begin(), h.end()};
}

std::vector<uint8_t> encode_reading_reply(const ChannelReading& r, uint16_t len_field) {
  std::vector<uint8_t> out;
  out.reserve(kReadingFrameSize);
  put_u16(out, kFClassRead);
  put_u16(out, kFNumReadChannel);
  put_u16(out, r.chan);
  put_u16(out, len_field);
  out.push_back(r.rf1);
  out.push_back(r.rf2);
  put_u16(out, r.stat);
  put_u32(out, r.last_rec_num);
  put_u32(out, r.cycle);
  put_u16(out, r.step);
  put_f32(out, r.test_time_s);
  put_f32(out, r.step_time_s);
  put_f32(out, r.capacity_ah);
  put_f32(out, r.energy_wh);
  put_f32(out, r.current_a);
  put_f32(out, r.voltage_v);
  put_u64(out, static_cast<uint64_t>(r.tester_time_ms));
  return out;
}

TesterTimeEncoding decode_tester_time(uint64_t raw, int64_t& unix_ms) {
  if (raw >= kMinUnixMs && raw < kMaxUnixMs) {
    unix_ms = static_cast<int64_t>(raw);
    return TesterTimeEncoding::kUnixMsU64;
  }
  const double d = std::bit_cast<double>(raw);
  if (std::isfinite(d)) {
    if (d >= static_cast<double>(kMinUnixMs) && d < static_cast<double>(kMaxUnixMs)) {
      unix_ms = std::llround(d);
      return TesterTimeEncoding::kUnixMsF64;
    }
    const double unix_s = d - kLabviewToUnixS;
    if (unix_s >= 1e9 && unix_s < 1e10) {
      unix_ms = std::llround(unix_s * 1000.0);
      return TesterTimeEncoding::kLabviewSecondsF64;
    }
  }
  unix_ms = 0;
  return TesterTimeEncoding::kInvalid;
}

std::optional<ChannelReading> decode_reading_reply(std::span<const uint8_t> f) {
  if (f.size() < kReadingFrameSize) return std::nullopt;
  const Header h = decode_header(f);
  if (h.fclass != kFClassRead || h.fnum != kFNumReadChannel) return std::nullopt;
  ChannelReading r;
  r.chan = h.chan;
  r.rf1 = f[8];
  r.rf2 = f[9];
  r.stat = get_u16(f, 10);
  r.last_rec_num = get_u32(f, 12);
  r.cycle = get_u32(f, 16);
  r.step = get_u16(f, 20);
  r.test_time_s = get_f32(f, 22);
  r.step_time_s = get_f32(f, 26);
  r.capacity_ah = get_f32(f, 30);
  r.energy_wh = get_f32(f, 34);
  r.current_a = get_f32(f, 38);
  r.voltage_v = get_f32(f, 42);
  r.tester_time_raw = get_u64(f, 46);
  r.tester_time_encoding = decode_tester_time(r.tester_time_raw, r.tester_time_ms);
  r.tester_time_resolution_ms = 1;
  return r;
}

std::string hex_excerpt(std::span<const uint8_t> bytes, size_t max_bytes) {
  std::string out;
  const size_t n = std::min(bytes.size(), max_bytes);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += ' ';
    out += fmt::format("{:02x}", bytes[i]);
  }
  if (bytes.size() > n) out += " ...";
  return out;
}

void BinaryFrameReader::feed(std::span<const uint8_t> bytes) { buf_.insert(buf_.end(), bytes.begin(), bytes.end()); }

BinaryFrameReader::Result BinaryFrameReader::next() {
  Result r;
  if (buf_.size() < kHeaderSize) return r;
  const Header h = decode_header(buf_);
  size_t size = 0;
  if (h.fclass == kFClassRead && h.fnum == kFNumReadChannel) {
    size = kReadingFrameSize;  // Len is advisory (the doc's tables disagree on its meaning)
  } else if (h.fclass == kFClassEcho) {
    if (h.len > kMaxEchoDataSize) {
      r.status = Status::kMalformed;
      r.problem = fmt::format("echo header with Len {} (oversize): {}", h.len, hex_excerpt(buf_));
      buf_.clear();
      return r;
    }
    size = kHeaderSize + h.len;
  } else {
    r.status = Status::kMalformed;
    r.problem = fmt::format("unexpected FClass/FNum ({},{}): {}", h.fclass, h.fnum, hex_excerpt(buf_));
    buf_.clear();
    return r;
  }
  if (buf_.size() < size) return r;
  r.status = Status::kFrame;
  r.frame.header = h;
  r.frame.bytes.assign(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(size));
  buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(size));
  return r;
}

// ---- JSON-RPC -------------------------------------------------------------------------------

std::string encode_json_reading_request(uint16_t wire_chan, int64_t id) {
  Json params = Json::object();
  params["FClass"] = kFClassRead;
  params["FNum"] = kFNumReadChannel;
  params["Chan"] = wire_chan;
  Json req = Json::object();
  req["jsonrpc"] = "2.0";
  req["method"] = "MacNet";
  req["params"] = std::move(params);
  req["id"] = id;
  return dump(req, -1);
}

std::string encode_json_echo_request(int64_t id) {
  Json params = Json::object();
  params["FClass"] = kFClassEcho;
  params["FNum"] = 0;
  Json req = Json::object();
  req["jsonrpc"] = "2.0";
  req["method"] = "MacNet";
  req["params"] = std::move(params);
  req["id"] = id;
  return dump(req, -1);
}

std::string text_excerpt(std::string_view text, size_t max_chars) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

JsonObjectFramer::JsonObjectFramer(bool require_crlf, size_t max_size)
    : require_crlf_(require_crlf), max_size_(max_size) {}

void JsonObjectFramer::feed(std::span<const uint8_t> bytes) {
  buf_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void JsonObjectFramer::clear() {
  buf_.clear();
  pos_ = start_ = end_ = 0;
  depth_ = 0;
  in_object_ = in_string_ = escaped_ = closed_ = false;
}

JsonObjectFramer::Result JsonObjectFramer::malformed(std::string problem) {
  Result r;
  r.status = Status::kMalformed;
  r.problem = std::move(problem);
  clear();
  return r;
}

JsonObjectFramer::Result JsonObjectFramer::next() {
  while (!closed_ && pos_ < buf_.size()) {
    const char c = buf_[pos_];
    if (!in_object_) {
      if (is_json_space(c)) {
        ++pos_;
        continue;
      }
      if (c != '{') {
        return malformed(fmt::format("unexpected bytes outside a JSON object: \"{}\"",
                                     text_excerpt(std::string_view(buf_).substr(pos_))));
      }
      in_object_ = true;
      start_ = pos_;
      depth_ = 1;
      ++pos_;
      continue;
    }
    ++pos_;
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
    } else if (c == '"') {
      in_string_ = true;
    } else if (c == '{') {
      ++depth_;
    } else if (c == '}' && --depth_ == 0) {
      closed_ = true;
      end_ = pos_;
    }
  }
  if (!closed_) {
    if (!in_object_) {
      clear();  // only whitespace so far
    } else if (pos_ - start_ > max_size_) {
      return malformed(fmt::format("JSON message beyond {} bytes without its closing brace: \"{}\"", max_size_,
                                   text_excerpt(std::string_view(buf_).substr(start_))));
    }
    return {};
  }
  size_t after = end_;
  if (require_crlf_) {
    const std::string_view tail = std::string_view(buf_).substr(end_);
    const std::string_view crlf = "\r\n";
    const size_t n = std::min(tail.size(), crlf.size());
    if (tail.substr(0, n) != crlf.substr(0, n)) {
      return malformed(
          fmt::format("JSON object not followed by CRLF: \"{}\"", text_excerpt(std::string_view(buf_).substr(start_))));
    }
    if (n < crlf.size()) return {};
    after = end_ + crlf.size();
  }
  Result r;
  r.status = Status::kObject;
  r.text = buf_.substr(start_, end_ - start_);
  buf_.erase(0, after);
  pos_ = start_ = end_ = 0;
  depth_ = 0;
  in_object_ = in_string_ = escaped_ = closed_ = false;
  return r;
}

JsonParseOutcome parse_json_reply(std::string_view text, int32_t tester_zone_offset_s) {
  JsonParseOutcome out;
  const Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    out.problem = fmt::format("not valid JSON: \"{}\"", text_excerpt(text));
    return out;
  }
  if (!j.is_object()) {
    out.problem = fmt::format("reply is not a JSON object: \"{}\"", text_excerpt(text));
    return out;
  }
  JsonReply reply;
  if (const auto id = j.find("id"); id != j.end() && id->is_number_integer()) {
    if (id->is_number_unsigned() && id->get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()}) {
      // not an id this client sends; leave it empty
    } else {
      reply.id = id->get<int64_t>();
    }
  }

  if (const auto err = j.find("error"); err != j.end()) {
    reply.kind = JsonReplyKind::kError;
    if (err->is_object()) {
      if (const auto code = err->find("code"); code != err->end() && code->is_number_integer()) {
        reply.error_code = code->get<int64_t>();
      }
      if (const auto msg = err->find("message"); msg != err->end() && msg->is_string()) {
        reply.error_message = msg->get<std::string>();
      } else {
        reply.error_message = dump(*err, -1);
      }
    } else {
      reply.error_message = dump(*err, -1);  // non-standard error member: keep it readable
    }
    out.reply = std::move(reply);
    return out;
  }

  if (const auto res = j.find("result"); res != j.end()) {
    if (!res->is_object()) {
      out.problem = fmt::format("\"result\" is not an object: \"{}\"", text_excerpt(text));
      return out;
    }
    std::string problem;
    if (!read_uint(*res, "FClass", reply.fclass, problem) || !read_uint(*res, "FNum", reply.fnum, problem)) {
      out.problem = problem;
      return out;
    }
    if (reply.fclass != kFClassRead || reply.fnum != kFNumReadChannel) {
      reply.kind = JsonReplyKind::kOtherResult;
      out.reply = std::move(reply);
      return out;
    }
    ChannelReading& r = reply.reading;
    const bool ok =
        read_uint(*res, "Chan", r.chan, problem) && read_uint(*res, "RF1", r.rf1, problem) &&
        read_uint(*res, "RF2", r.rf2, problem) && read_uint(*res, "Stat", r.stat, problem) &&
        read_uint(*res, "LastRecNum", r.last_rec_num, problem) && read_uint(*res, "Cycle", r.cycle, problem) &&
        read_uint(*res, "Step", r.step, problem) && read_f32(*res, "TestTime", r.test_time_s, problem) &&
        read_f32(*res, "StepTime", r.step_time_s, problem) && read_f32(*res, "Capacity", r.capacity_ah, problem) &&
        read_f32(*res, "Energy", r.energy_wh, problem) && read_f32(*res, "Current", r.current_a, problem) &&
        read_f32(*res, "Voltage", r.voltage_v, problem);
    if (!ok) {
      out.problem = problem;
      return out;
    }
    read_json_tester_time(*res, tester_zone_offset_s, r);
    reply.kind = JsonReplyKind::kReading;
    out.reply = std::move(reply);
    return out;
  }

  // Echo: the request object comes back with method/params instead of result (MacNet p.10).
  if (const auto params = j.find("params"); params != j.end() && params->is_object()) {
    std::string problem;
    if (read_uint(*params, "FClass", reply.fclass, problem) && reply.fclass == kFClassEcho) {
      if (const auto fnum = params->find("FNum");
          fnum != params->end() && fnum->is_number_unsigned() && fnum->get<uint64_t>() <= 0xffff) {
        reply.fnum = static_cast<uint16_t>(fnum->get<uint64_t>());
      }
      reply.kind = JsonReplyKind::kEcho;
      out.reply = std::move(reply);
      return out;
    }
  }
  out.problem = fmt::format("reply has no result, error or echo params: \"{}\"", text_excerpt(text));
  return out;
}

std::string encode_json_message(const Json& object, bool pretty) { return dump(object, pretty ? 4 : -1) + "\r\n"; }

std::string format_tester_time_iso(int64_t tester_time_ms, int32_t tester_zone_offset_s) {
  const int64_t local_ms = tester_time_ms + int64_t{tester_zone_offset_s} * 1000;
  int64_t local_s = local_ms / 1000;
  if (local_ms % 1000 < 0) --local_s;  // floor, so times before 1970 truncate the same way
  std::string iso = format_iso_utc(local_s * kNsPerS, 0);
  if (!iso.empty() && iso.back() == 'Z') iso.pop_back();  // the server's strings carry no zone
  return iso;
}

std::string encode_json_reading_reply(const ChannelReading& r, const Json& id, bool pretty,
                                      int32_t tester_zone_offset_s) {
  Json result = Json::object();
  result["FClass"] = kFClassRead;
  result["FNum"] = kFNumReadChannel;
  result["Chan"] = r.chan;
  result["RF1"] = r.rf1;
  result["RF2"] = r.rf2;
  result["Stat"] = r.stat;
  result["LastRecNum"] = r.last_rec_num;
  result["Cycle"] = r.cycle;
  result["Step"] = r.step;
  result["TestTime"] = double{r.test_time_s};
  result["StepTime"] = double{r.step_time_s};
  result["Capacity"] = double{r.capacity_ah};
  result["Energy"] = double{r.energy_wh};
  result["Current"] = double{r.current_a};
  result["Voltage"] = double{r.voltage_v};
  result["TesterTime"] = format_tester_time_iso(r.tester_time_ms, tester_zone_offset_s);
  Json reply = Json::object();
  reply["jsonrpc"] = "2.0";
  reply["result"] = std::move(result);
  reply["id"] = id;
  return encode_json_message(reply, pretty);
}

std::string encode_json_error_reply(int code, std::string_view message, const Json& id, bool pretty) {
  Json error = Json::object();
  error["code"] = code;
  error["message"] = std::string(message);
  Json reply = Json::object();
  reply["jsonrpc"] = "2.0";
  reply["error"] = std::move(error);
  reply["id"] = id;
  return encode_json_message(reply, pretty);
}

}  // namespace opsync::drivers::macnet
