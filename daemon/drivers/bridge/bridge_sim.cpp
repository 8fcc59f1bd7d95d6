// Simulated trigger bridge; see bridge_sim.h.
#include "drivers/bridge/bridge_sim.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "drivers/bridge/bridge_codec.h"
#include "drivers/bridge/crc.h"

namespace opsync::drivers::bridge {
namespace {

bool parse_int(std::string_view text, int64_t& value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end;
}

}  // namespace

BridgeSimulator::BridgeSimulator(BridgeSimOptions options)
    : opt_(std::move(options)),
      origin_ns_(opt_.origin_ns),
      offset_ns_(opt_.offset_ns),
      running_(opt_.running_at_power_on),
      rng_(opt_.seed) {
  std::stable_sort(opt_.schedule.begin(), opt_.schedule.end(),
                   [](const ScheduledEdge& a, const ScheduledEdge& b) { return a.t_ns < b.t_ns; });
  // Power-on configuration: every input on, rising edges.
  config_.set_inputs_enabled_mask(0xF);
  for (int i = 0; i < 4; ++i) config_.add_polarity(POLARITY_RISING);
}

uint64_t BridgeSimulator::tick_at(int64_t t_ns) const {
  if (!origin_ns_) return opt_.tick0;
  const auto elapsed_ns = static_cast<double>(t_ns - *origin_ns_);
  const double device_ns = elapsed_ns * (1.0 + opt_.drift_ppm * 1e-6) + static_cast<double>(offset_ns_);
  const double ticks = std::floor(device_ns * static_cast<double>(opt_.tick_hz) / 1e9);
  const double total = static_cast<double>(opt_.tick0) + ticks;
  return total <= 0 ? 0 : static_cast<uint64_t>(total);
}

void BridgeSimulator::queue_bytes(Outgoing out) {
  // Frames leave in due order (one UART); equal times keep their queueing order.
  auto it = std::upper_bound(out_.begin(), out_.end(), out.due_ns,
                             [](int64_t due, const Outgoing& o) { return due < o.due_ns; });
  out_.insert(it, std::move(out));
}

void BridgeSimulator::queue(int64_t due_ns, const Envelope& envelope, std::optional<size_t> truth_index) {
  std::vector<uint8_t> body = encode_envelope(envelope);
  uint32_t crc = crc32c(body.data(), body.size());
  if (corrupt_next_) {
    crc ^= 1u;  // a single flipped bit, as line noise would do
    corrupt_next_ = false;
    if (truth_index) truth_[*truth_index].fate = EdgeFate::corrupted;
  }
  for (int i = 0; i < 4; ++i) body.push_back(static_cast<uint8_t>(crc >> (8 * i)));
  Outgoing out{due_ns, {}, truth_index};
  append_cobs_frame(body, out.bytes);
  queue_bytes(std::move(out));
}

void BridgeSimulator::send_error(int64_t t_ns, ErrorCode code, std::string detail) {
  Envelope e;
  e.mutable_error()->set_code(code);
  e.mutable_error()->set_detail(std::move(detail));
  queue(t_ns + opt_.processing_delay_ns, e);
}

bool BridgeSimulator::detects(const ScheduledEdge& e) const {
  if (!running_ || e.input >= 4 || ((config_.inputs_enabled_mask() >> e.input) & 1u) == 0) return false;
  Polarity p = static_cast<int>(e.input) < config_.polarity_size() ? config_.polarity(static_cast<int>(e.input))
                                                                    : POLARITY_RISING;
  if (p == POLARITY_UNSPECIFIED) p = POLARITY_RISING;
  if (p == POLARITY_RISING && e.edge != EDGE_KIND_RISING) return false;
  if (p == POLARITY_FALLING && e.edge != EDGE_KIND_FALLING) return false;
  const auto& last = last_accepted_ns_[e.input];
  return !last || e.t_ns - *last >= static_cast<int64_t>(config_.holdoff_us()) * 1000;
}

void BridgeSimulator::advance(int64_t t_ns) {
  if (!origin_ns_) origin_ns_ = t_ns;
  if (t_ns > now_ns_) now_ns_ = t_ns;
  while (next_edge_ < opt_.schedule.size() && opt_.schedule[next_edge_].t_ns <= t_ns) {
    const ScheduledEdge& e = opt_.schedule[next_edge_++];
    if (!detects(e)) continue;
    last_accepted_ns_[e.input] = e.t_ns;
    TruthEdge truth{counters_.edges_seen(), e.t_ns, e.input, e.edge, tick_at(e.t_ns), EdgeFate::sent};
    counters_.set_edges_seen(counters_.edges_seen() + 1);
    if (drop_remaining_ > 0) {
      --drop_remaining_;
      counters_.set_edges_dropped(counters_.edges_dropped() + 1);
      truth.fate = EdgeFate::dropped;
      truth_.push_back(truth);
      continue;
    }
    if (!connected_) truth.fate = EdgeFate::disconnected;
    truth_.push_back(truth);
    if (!connected_) continue;
    Envelope env;
    Edge* edge = env.mutable_edge();
    edge->set_seq(truth.seq);
    edge->set_input(truth.input);
    edge->set_edge(truth.edge);
    edge->set_tick(truth.tick);
    queue(e.t_ns + opt_.edge_report_delay_ns, env, truth_.size() - 1);
  }
  while (connected_ && next_heartbeat_ns_ <= t_ns) {
    const int64_t due_ns = next_heartbeat_ns_;
    Envelope env;
    Heartbeat* hb = env.mutable_heartbeat();
    hb->set_tick(tick_at(due_ns));
    *hb->mutable_counters() = counters_;
    hb->set_uptime_ms(static_cast<uint64_t>(std::max<int64_t>(0, due_ns - *origin_ns_) / 1'000'000));
    queue(due_ns, env);
    next_heartbeat_ns_ += opt_.heartbeat_period_ns;
  }
}

void BridgeSimulator::on_connect(int64_t t_ns) {
  advance(t_ns);
  connected_ = true;
  decoder_.reset();
  next_heartbeat_ns_ = t_ns + opt_.heartbeat_period_ns;
  Envelope env;
  Hello* hello = env.mutable_hello();
  hello->set_protocol_version(kProtocolVersion);
  hello->set_firmware_version(opt_.firmware_version);
  hello->set_tick_hz(opt_.tick_hz);
  hello->set_input_count(4);
  queue(t_ns, env);
}

void BridgeSimulator::on_disconnect(int64_t t_ns) {
  advance(t_ns);
  connected_ = false;
  decoder_.reset();
  for (const Outgoing& o : out_) {
    if (o.truth_index && truth_[*o.truth_index].fate == EdgeFate::sent) truth_[*o.truth_index].fate = EdgeFate::disconnected;
  }
  out_.clear();
}

void BridgeSimulator::on_tick(int64_t t_ns) { advance(t_ns); }

void BridgeSimulator::on_bytes(std::span<const uint8_t> bytes, int64_t t_ns) {
  advance(t_ns);
  FrameResult frame;
  for (uint8_t b : bytes) {
    if (decoder_.push(b, frame)) handle_frame(frame, t_ns);
  }
}

void BridgeSimulator::handle_frame(const FrameResult& frame, int64_t t_ns) {
  if (frame.status != FrameStatus::ok) {
    counters_.set_frames_rejected(counters_.frames_rejected() + 1);
    send_error(t_ns, ERROR_CODE_BAD_FRAME, "frame failed COBS/CRC");
    return;
  }
  std::optional<Envelope> env = decode_envelope(frame.payload);
  if (!env) {
    counters_.set_frames_rejected(counters_.frames_rejected() + 1);
    send_error(t_ns, ERROR_CODE_DECODE, "undecodable envelope");
    return;
  }
  const int64_t reply_ns = t_ns + opt_.processing_delay_ns;
  switch (env->body_case()) {
    case Envelope::kSyncRequest: {
      Envelope reply;
      SyncReply* r = reply.mutable_sync_reply();
      r->set_seq(env->sync_request().seq());
      r->set_t1_host_ns(env->sync_request().t1_host_ns());
      r->set_t2_tick(tick_at(t_ns));
      r->set_t3_tick(tick_at(reply_ns));
      queue(reply_ns, reply);
      return;
    }
    case Envelope::kConfigure:
      config_ = env->configure();
      return;
    case Envelope::kStart:
      running_ = true;
      return;
    case Envelope::kStop:
      running_ = false;
      return;
    case Envelope::kResetCounters:
      counters_.Clear();
      return;
    case Envelope::kStatusRequest: {
      Envelope reply;
      Status* s = reply.mutable_status();
      s->set_running(running_);
      *s->mutable_config() = config_;
      *s->mutable_counters() = counters_;
      s->set_tick(tick_at(reply_ns));
      queue(reply_ns, reply);
      return;
    }
    default:
      send_error(t_ns, ERROR_CODE_UNKNOWN_MESSAGE, "not a host-to-device message");
      return;
  }
}

int64_t BridgeSimulator::next_deadline_ns() const {
  int64_t t = drivers::kNoDeadline;
  if (next_edge_ < opt_.schedule.size()) t = std::min(t, opt_.schedule[next_edge_].t_ns);
  if (connected_) t = std::min(t, next_heartbeat_ns_);
  for (const Outgoing& o : out_) {
    if (o.due_ns > now_ns_) {
      t = std::min(t, o.due_ns);
      break;  // sorted by due time
    }
  }
  return t;
}

std::vector<uint8_t> BridgeSimulator::take_output() {
  std::vector<uint8_t> bytes;
  while (!out_.empty() && out_.front().due_ns <= now_ns_) {
    bytes.insert(bytes.end(), out_.front().bytes.begin(), out_.front().bytes.end());
    out_.pop_front();
  }
  return bytes;
}

bool BridgeSimulator::inject(std::string_view fault) {
  if (fault == "bad_crc") {
    corrupt_next_ = true;
    return true;
  }
  if (fault == "garbage") {
    // Random bytes closed by a delimiter: the receiver must count and skip them, and the frames
    // around stay intact.
    std::uniform_int_distribution<int> length(8, 40);
    std::uniform_int_distribution<int> byte(0, 255);
    Outgoing out{now_ns_, {}, std::nullopt};
    const int n = length(rng_);
    for (int i = 0; i < n; ++i) out.bytes.push_back(static_cast<uint8_t>(byte(rng_)));
    out.bytes.push_back(0x00);
    queue_bytes(std::move(out));
    return true;
  }
  constexpr std::string_view kStep = "clock_step:";
  constexpr std::string_view kDrop = "drop_edges:";
  int64_t value = 0;
  if (fault.starts_with(kStep) && parse_int(fault.substr(kStep.size()), value)) {
    offset_ns_ += value;
    return true;
  }
  if (fault.starts_with(kDrop) && parse_int(fault.substr(kDrop.size()), value) && value >= 0) {
    drop_remaining_ += static_cast<uint64_t>(value);
    return true;
  }
  return false;
}

}  // namespace opsync::drivers::bridge
