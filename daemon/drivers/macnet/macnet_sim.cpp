// Simulated MacNet server. Choices where the doc is silent (documented here, tested):
// - binary requests for an unknown FClass/FNum, or a channel not served, get no reply: the
//   binary protocol defines no error message, so a client sees a timeout;
// - a binary echo (class 0) is taken as header + Len data bytes and returned byte for byte;
// - (4,1)/(4,2)/(4,3) answer Len channels from Chan (Len 0 = one channel) with the reply Len
//   set to the number of data bytes (the general rule; the doc's tables disagree, see its pitfall);
// - JSON (4,1)/(4,2)/(4,3) are not served ("Invalid FNum"): the doc gives no key names for them;
// - a JSON echo is returned as the parsed object in its key order, formatted like every reply;
// - JSON Chan missing or not an integer -> "Invalid params", a channel not served -> "Illegal value".
#include "drivers/macnet/macnet_sim.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

namespace opsync::drivers::macnet {
namespace {

using macnet::Json;

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v & 0xff));
  out.push_back(static_cast<uint8_t>(v >> 8));
}

void put_f32(std::vector<uint8_t>& out, float v) {
  const auto u = std::bit_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>((u >> (8 * i)) & 0xff));
}

// An unsigned integer member that fits 16 bits, or nullopt.
std::optional<uint16_t> u16_member(const Json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_unsigned() || it->get<uint64_t>() > 0xffff) return std::nullopt;
  return static_cast<uint16_t>(it->get<uint64_t>());
}

constexpr size_t kMaxChannelsPerRead = 128;  // (4,1)-(4,3) limit, MacNet p.9

}  // namespace

MacnetSimulator::MacnetSimulator(MacnetSimOptions options) : opt_(std::move(options)) {}

void MacnetSimulator::on_connect(int64_t t_ns) {
  (void)t_ns;
  binary_buf_.clear();
  json_framer_.clear();
  queue_.clear();
  out_.clear();
}

void MacnetSimulator::on_disconnect(int64_t t_ns) { on_connect(t_ns); }

bool MacnetSimulator::inject(std::string_view fault) {
  if (fault == "stall") {
    stalled_ = true;
    queue_.clear();
    return true;
  }
  if (fault == "unstall") {
    stalled_ = false;
    return true;
  }
  constexpr std::string_view kStep = "tester_clock_step:";
  if (fault.substr(0, kStep.size()) == kStep) {
    const std::string_view arg = fault.substr(kStep.size());
    int64_t step_ms = 0;
    const char* first = arg.data() + (!arg.empty() && arg.front() == '+' ? 1 : 0);
    const auto res = std::from_chars(first, arg.data() + arg.size(), step_ms);
    if (res.ec != std::errc() || res.ptr != arg.data() + arg.size() || first == arg.data() + arg.size()) return false;
    opt_.tester_offset_ms += step_ms;
    return true;
  }
  return false;
}

int64_t MacnetSimulator::tester_time_ms(int64_t t_ns) const {
  const long double drift_ns = static_cast<long double>(t_ns - opt_.tester_drift_anchor_ns) *
                               static_cast<long double>(opt_.tester_drift_ppm) * 1e-6L;
  const int64_t tester_ns = t_ns + std::llround(drift_ns) + opt_.tester_offset_ms * 1'000'000;
  int64_t ms = tester_ns / 1'000'000;
  if (tester_ns % 1'000'000 < 0) --ms;  // floor: a clock shows the ms it is in
  return ms;
}

CellState MacnetSimulator::state_at(int64_t t_ns) const { return opt_.model ? opt_.model(t_ns) : CellState{}; }

macnet::ChannelReading MacnetSimulator::reading_at(uint16_t wire_chan, int64_t t_ns) const {
  const CellState s = state_at(t_ns);
  macnet::ChannelReading r;
  r.chan = wire_chan;
  r.rf1 = s.rf1;
  r.rf2 = s.rf2;
  r.stat = s.stat;
  r.last_rec_num = s.last_rec_num;
  r.cycle = s.cycle;
  r.step = s.step;
  r.test_time_s = static_cast<float>(s.test_time_s);
  r.step_time_s = static_cast<float>(s.step_time_s);
  r.capacity_ah = static_cast<float>(s.capacity_ah);
  r.energy_wh = static_cast<float>(s.energy_wh);
  r.current_a = static_cast<float>(s.current_a);
  r.voltage_v = static_cast<float>(s.voltage_v);
  r.tester_time_ms = tester_time_ms(t_ns);
  r.tester_time_encoding = macnet::TesterTimeEncoding::kUnixMsU64;
  return r;
}

bool MacnetSimulator::serves(uint16_t wire_chan) const {
  for (uint16_t c : opt_.wire_channels) {
    if (c == wire_chan) return true;
  }
  return false;
}

void MacnetSimulator::on_bytes(std::span<const uint8_t> bytes, int64_t t_ns) {
  if (opt_.mode == macnet::Mode::kBinary) {
    binary_buf_.insert(binary_buf_.end(), bytes.begin(), bytes.end());
    handle_binary(t_ns);
  } else {
    json_framer_.feed(bytes);
    for (;;) {
      auto res = json_framer_.next();
      if (res.status == macnet::JsonObjectFramer::Status::kNeedMore) break;
      if (res.status == macnet::JsonObjectFramer::Status::kMalformed) {
        ++stats_.requests;
        json_error(macnet::kCodeParseError, macnet::kMsgParseError, Json(nullptr), t_ns);
        continue;
      }
      handle_json_request(res.text, t_ns);
    }
  }
  flush_due(t_ns);
}

void MacnetSimulator::handle_binary(int64_t t_ns) {
  size_t pos = 0;
  while (binary_buf_.size() - pos >= macnet::kHeaderSize) {
    const std::span<const uint8_t> rest = std::span<const uint8_t>(binary_buf_).subspan(pos);
    const macnet::Header h = macnet::decode_header(rest);
    if (h.fclass == macnet::kFClassEcho) {
      if (h.len > macnet::kMaxEchoDataSize) {  // not a request: framing is lost, start afresh
        ++stats_.ignored;
        binary_buf_.clear();
        return;
      }
      const size_t size = macnet::kHeaderSize + h.len;
      if (rest.size() < size) break;
      ++stats_.requests;
      reply(std::vector<uint8_t>(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(size)), t_ns);
      pos += size;
      continue;
    }
    // Read requests carry no data: Tx Len is a channel count.
    pos += macnet::kHeaderSize;
    ++stats_.requests;
    if (h.fclass != macnet::kFClassRead) {
      ++stats_.ignored;
      continue;
    }
    if (h.fnum == macnet::kFNumReadChannel) {
      if (!serves(h.chan)) {
        ++stats_.ignored;
        continue;
      }
      reply(macnet::encode_reading_reply(reading_at(h.chan, t_ns)), t_ns);
      continue;
    }
    if (h.fnum == macnet::kFNumReadStatus || h.fnum == macnet::kFNumReadVoltage || h.fnum == macnet::kFNumReadCurrent) {
      const size_t n = h.len == 0 ? 1 : h.len;
      bool ok = n <= kMaxChannelsPerRead;
      for (size_t i = 0; ok && i < n; ++i) ok = h.chan + i <= 0xffff && serves(static_cast<uint16_t>(h.chan + i));
      if (!ok) {
        ++stats_.ignored;
        continue;
      }
      std::vector<uint8_t> data;
      const CellState s = state_at(t_ns);  // every served channel reports the scenario
      for (size_t i = 0; i < n; ++i) {
        if (h.fnum == macnet::kFNumReadStatus) {
          data.push_back(s.rf1);
          data.push_back(s.rf2);
          put_u16(data, s.stat);
        } else {
          put_f32(data, static_cast<float>(h.fnum == macnet::kFNumReadVoltage ? s.voltage_v : s.current_a));
        }
      }
      const auto head = macnet::encode_header({h.fclass, h.fnum, h.chan, static_cast<uint16_t>(data.size())});
      std::vector<uint8_t> msg(head.begin(), head.end());
      msg.insert(msg.end(), data.begin(), data.end());
      reply(std::move(msg), t_ns);
      continue;
    }
    ++stats_.ignored;
  }
  binary_buf_.erase(binary_buf_.begin(), binary_buf_.begin() + static_cast<std::ptrdiff_t>(pos));
}

void MacnetSimulator::handle_json_request(std::string_view text, int64_t t_ns) {
  ++stats_.requests;
  const Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    json_error(macnet::kCodeParseError, macnet::kMsgParseError, Json(nullptr), t_ns);
    return;
  }
  const auto id_it = j.find("id");
  const Json id = id_it == j.end() ? Json(nullptr) : *id_it;
  const auto rpc = j.find("jsonrpc");
  const auto method = j.find("method");
  if (rpc == j.end() || !rpc->is_string() || *rpc != "2.0" || method == j.end() || !method->is_string() ||
      *method != "MacNet" || id_it == j.end()) {
    json_error(macnet::kCodeMethodNotFound, macnet::kMsgMethodNotFound, id, t_ns);
    return;
  }
  const auto params = j.find("params");
  if (params == j.end() || !params->is_object()) {
    json_error(macnet::kCodeInvalidParams, macnet::kMsgInvalidParams, id, t_ns);
    return;
  }
  const auto fclass = u16_member(*params, "FClass");
  if (!fclass) {
    json_error(macnet::kCodeInvalidParams, macnet::kMsgFClassSyntax, id, t_ns);
    return;
  }
  const auto fnum = u16_member(*params, "FNum");
  if (!fnum) {
    json_error(macnet::kCodeInvalidParams, macnet::kMsgFNumSyntax, id, t_ns);
    return;
  }
  if (*fclass == macnet::kFClassEcho) {
    reply(macnet::encode_json_message(j, opt_.pretty_json), t_ns);
    return;
  }
  if (*fclass != macnet::kFClassRead) {
    json_error(macnet::kCodeInvalidParams, macnet::kMsgInvalidFClass, id, t_ns);
    return;
  }
  if (*fnum != macnet::kFNumReadChannel) {
    json_error(macnet::kCodeInvalidParams, macnet::kMsgInvalidFNum, id, t_ns);
    return;
  }
  const auto chan = u16_member(*params, "Chan");
  if (!chan) {
    json_error(macnet::kCodeInvalidParams, macnet::kMsgInvalidParams, id, t_ns);
    return;
  }
  if (!serves(*chan)) {
    json_error(macnet::kCodeInvalidParams, macnet::kMsgIllegalValue, id, t_ns);
    return;
  }
  reply(macnet::encode_json_reading_reply(reading_at(*chan, t_ns), id, opt_.pretty_json, opt_.tester_zone_offset_s),
        t_ns);
}

void MacnetSimulator::json_error(int code, std::string_view message, const Json& id, int64_t t_ns) {
  ++stats_.errors;
  reply(macnet::encode_json_error_reply(code, message, id, opt_.pretty_json), t_ns);
}

void MacnetSimulator::reply(std::string_view text, int64_t t_ns) {
  reply(std::vector<uint8_t>(text.begin(), text.end()), t_ns);
}

void MacnetSimulator::reply(std::vector<uint8_t> bytes, int64_t t_ns) {
  if (stalled_) {
    ++stats_.unanswered;
    return;
  }
  ++stats_.replies;
  queue_.push_back({t_ns + opt_.reply_delay_ns, std::move(bytes)});
}

void MacnetSimulator::flush_due(int64_t t_ns) {
  while (!queue_.empty() && queue_.front().due_ns <= t_ns) {
    out_.insert(out_.end(), queue_.front().bytes.begin(), queue_.front().bytes.end());
    queue_.pop_front();
  }
}

void MacnetSimulator::on_tick(int64_t t_ns) { flush_due(t_ns); }

int64_t MacnetSimulator::next_deadline_ns() const { return queue_.empty() ? kNoDeadline : queue_.front().due_ns; }

std::vector<uint8_t> MacnetSimulator::take_output() { return std::exchange(out_, {}); }

}  // namespace opsync::drivers::macnet
