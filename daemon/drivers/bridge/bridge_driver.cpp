// Trigger bridge driver; see bridge_driver.h for the edge-holding rules.
#include "drivers/bridge/bridge_driver.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>

#include "drivers/bridge/bridge_codec.h"

namespace opsync::drivers::bridge {
namespace {

constexpr size_t kMaxPendingPings = 64;  // more than sync_timeout / sync_period (50 by default)

const char* edge_name(EdgeKind e) {
  switch (e) {
    case EDGE_KIND_RISING: return "rising";
    case EDGE_KIND_FALLING: return "falling";
    default: return "unspecified";
  }
}

}  // namespace

opsync::ConfigProblems BridgeConfig::problems() const {
  opsync::ConfigProblems p;
  auto input = [&](const char* key, uint32_t v) {
    if (v > 3) p.push_back({key, "is a trigger input from 0 to 3"});
  };
  input("scan_start_input", scan_start_input);
  input("scan_end_input", scan_end_input);
  input("detector_frame_input", detector_frame_input);
  if (sync_period_ns <= 0 || sync_period_ns > 60'000'000'000) p.push_back({"sync_period_s", "must be in (0, 60] seconds"});
  if (sync_window_ns < 1'000'000'000 || sync_window_ns > 86'400'000'000'000) {
    p.push_back({"sync_window_s", "must be in [1, 86400] seconds"});
  }
  if (!(tick_hz > 0)) p.push_back({"tick_hz", "must be positive"});
  if (max_rtt_ns <= 0) p.push_back({"max_rtt_ms", "must be positive"});
  if (sync_timeout_ns <= 0) p.push_back({"sync_timeout_s", "must be positive"});
  if (reply_timeout_ns <= 0) p.push_back({"reply_timeout_s", "must be positive"});
  return p;
}

BridgeDriver::BridgeDriver(BridgeConfig config)
    : config_(config),
      channels_{{"trigger_edges", "", "trigger input index (0..3) of each edge, at its mapped time"}},
      regression_(sync_options()),
      limiter_(config_.max_events_per_s) {}

clock::SyncOptions BridgeDriver::sync_options() const {
  clock::SyncOptions o;
  o.nominal_ns_per_unit = config_.tick_hz > 0 ? 1e9 / config_.tick_hz : 1e9 / 168e6;
  o.max_rtt_ns = config_.max_rtt_ns;
  // sync_window_ns of exchanges: more chances of an exchange with a short delay in each
  // direction, which is what pins the bounds estimate (a crystal's drift is linear over it).
  const int64_t period_ns = std::max<int64_t>(1, config_.sync_period_ns);
  o.window = static_cast<size_t>(std::clamp<int64_t>(config_.sync_window_ns / period_ns, 16, 100'000));
  return o;
}

void BridgeDriver::send(drivers::DriverHost& host, const Envelope& envelope) {
  const std::vector<uint8_t> bytes = encode_envelope_frame(envelope);
  counters_.bytes_out += bytes.size();
  host.send(bytes);
}

void BridgeDriver::on_connect(drivers::DriverHost& host, int64_t t_ns) {
  connected_ = true;
  reconnect_requested_ = false;
  decoder_.reset();
  pings_.clear();
  last_reply_ns_ = t_ns;
  next_sync_ns_ = t_ns;  // first ping on the first tick
  next_model_ns_ = t_ns + config_.clock_model_period_ns;

  // Status first, so the counters before our configuration are on record.
  Envelope status;
  status.mutable_status_request();
  send(host, status);

  Envelope configure;
  Configure* c = configure.mutable_configure();
  const bool gate = config_.scan_start_input == config_.scan_end_input;
  uint32_t mask = 0;
  for (uint32_t input : {config_.scan_start_input, config_.scan_end_input, config_.detector_frame_input}) {
    if (input < kInputCount) mask |= 1u << input;
  }
  c->set_inputs_enabled_mask(mask);
  for (uint32_t input = 0; input < kInputCount; ++input) {
    c->add_polarity(gate && input == config_.scan_start_input ? POLARITY_BOTH : POLARITY_RISING);
  }
  c->set_debounce_us(config_.debounce_us);
  c->set_holdoff_us(config_.holdoff_us);
  send(host, configure);

  Envelope start;
  start.mutable_start();
  send(host, start);
}

void BridgeDriver::send_ping(drivers::DriverHost& host, int64_t t_ns) {
  Envelope e;
  SyncRequest* r = e.mutable_sync_request();
  r->set_seq(next_ping_seq_);
  r->set_t1_host_ns(t_ns);
  send(host, e);
  pings_.push_back({next_ping_seq_, t_ns});
  while (pings_.size() > kMaxPendingPings) {
    pings_.pop_front();
    ++counters_.timeouts;
  }
  ++next_ping_seq_;
  ++stats_.sync_sent;
}

void BridgeDriver::on_tick(drivers::DriverHost& host, int64_t t_ns) {
  if (!connected_) return;
  if (!reconnect_requested_ && t_ns - last_reply_ns_ >= config_.reply_timeout_ns) {
    reconnect_requested_ = true;
    const std::string why = fmt::format("no reply from the bridge for {:.1f} s",
                                        static_cast<double>(t_ns - last_reply_ns_) / 1e9);
    host.event(t_ns, "timeout", why);
    host.request_reconnect(why);
  }
  while (!pings_.empty() && t_ns - pings_.front().t1_ns >= config_.sync_timeout_ns) {
    pings_.pop_front();
    ++counters_.timeouts;
  }
  if (t_ns >= next_sync_ns_) {
    send_ping(host, t_ns);
    // Keep the cadence on the grid unless we fell more than a period behind.
    next_sync_ns_ += config_.sync_period_ns;
    if (next_sync_ns_ <= t_ns) next_sync_ns_ = t_ns + config_.sync_period_ns;
  }
  if (t_ns >= next_model_ns_) {
    if (regression_.valid()) emit_clock_model(host, t_ns);
    next_model_ns_ = t_ns + config_.clock_model_period_ns;
  }
  limiter_.flush(host, t_ns);
}

int64_t BridgeDriver::next_deadline_ns() const {
  if (!connected_) return drivers::kNoDeadline;
  int64_t t = std::min(next_sync_ns_, limiter_.next_deadline_ns());
  if (!reconnect_requested_) t = std::min(t, last_reply_ns_ + config_.reply_timeout_ns);
  return t;
}

void BridgeDriver::on_disconnect(drivers::DriverHost& host, int64_t t_ns) {
  if (connected_) {
    if (regression_.valid()) {
      // Edges the fit maps plausibly go out now; any others (e.g. after an undetected step)
      // stay held for the next connection's fit.
      release_plausible(host, regression_);
      emit_clock_model(host, t_ns);
      if (!pending_.empty()) {
        host.event(t_ns, "edges_held",
                     fmt::format("{} edges disagree with the current clock fit; held for the next connection",
                                 pending_.size()));
      }
    } else if (!pending_.empty()) {
      // There never was a fit: keep the edges, stamped at arrival, rather than lose them.
      const size_t n = pending_.size();
      while (!pending_.empty()) {
        emit_unmapped(host, pending_.front());
        pending_.pop_front();
      }
      host.event(t_ns, "edges_unmapped",
                   fmt::format("{} edges stamped at their arrival time: no clock fit before disconnect", n));
    }
    limiter_.flush(host, t_ns, true);
  }
  connected_ = false;
  decoder_.reset();
  pings_.clear();
}

void BridgeDriver::on_bytes(drivers::DriverHost& host, std::span<const uint8_t> bytes, int64_t t_ns) {
  counters_.bytes_in += bytes.size();
  FrameResult frame;
  for (uint8_t b : bytes) {
    if (decoder_.push(b, frame)) handle_frame(host, frame, t_ns);
  }
}

void BridgeDriver::handle_frame(drivers::DriverHost& host, const FrameResult& frame, int64_t t_ns) {
  switch (frame.status) {
    case FrameStatus::ok: {
      std::optional<Envelope> envelope = decode_envelope(frame.payload);
      if (!envelope) {
        ++counters_.malformed;
        limited_event(host, t_ns, "malformed",
                      fmt::format("frame of {} bytes is not a bridge envelope", frame.payload.size()));
        return;
      }
      handle_envelope(host, *envelope, t_ns);
      return;
    }
    case FrameStatus::crc_error:
      ++counters_.crc_errors;
      limited_event(host, t_ns, "crc_error", "bridge frame failed its CRC-32C check");
      return;
    case FrameStatus::cobs_error:
      ++counters_.malformed;
      limited_event(host, t_ns, "malformed", "bridge frame with a bad COBS code byte");
      return;
    case FrameStatus::too_short:
      ++counters_.malformed;
      limited_event(host, t_ns, "malformed", "bridge frame shorter than its CRC");
      return;
    case FrameStatus::overflow:
      ++counters_.malformed;
      limited_event(host, t_ns, "malformed",
                    fmt::format("no frame delimiter within {} bytes; skipped to the next", kMaxEncodedFrameBytes));
      return;
  }
}

void BridgeDriver::handle_envelope(drivers::DriverHost& host, const Envelope& envelope, int64_t t_ns) {
  switch (envelope.body_case()) {
    case Envelope::kHello:
      ++counters_.messages_ok;
      handle_hello(host, envelope.hello(), t_ns);
      return;
    case Envelope::kEdge:
      ++counters_.messages_ok;
      handle_edge(host, envelope.edge(), t_ns);
      return;
    case Envelope::kSyncReply:
      ++counters_.messages_ok;
      handle_sync_reply(host, envelope.sync_reply(), t_ns);
      return;
    case Envelope::kHeartbeat:
      ++counters_.messages_ok;
      handle_counters(host, envelope.heartbeat().counters(), t_ns);
      return;
    case Envelope::kStatus: {
      ++counters_.messages_ok;
      last_reply_ns_ = t_ns;
      const Status& s = envelope.status();
      host.event(t_ns, "status",
                 fmt::format("running={} edges_seen={} edges_dropped={} frames_rejected={}{}", s.running(),
                             s.counters().edges_seen(), s.counters().edges_dropped(), s.counters().frames_rejected(),
                             // only when nonzero: a firmware without the counter reads 0
                             s.counters().rx_overruns() != 0
                                 ? fmt::format(" rx_overruns={}", s.counters().rx_overruns())
                                 : std::string()));
      handle_counters(host, s.counters(), t_ns);
      return;
    }
    case Envelope::kError: {
      ++counters_.messages_ok;
      ++stats_.device_errors;
      const Error& e = envelope.error();
      limited_event(host, t_ns, "device_error",
                    fmt::format("{}: {}", ErrorCode_Name(e.code()), e.detail().substr(0, 64)));
      return;
    }
    default:
      // A host-to-device message, or a body this version does not know.
      ++counters_.malformed;
      limited_event(host, t_ns, "malformed",
                    fmt::format("unexpected bridge message (envelope field {})", static_cast<int>(envelope.body_case())));
      return;
  }
}

void BridgeDriver::handle_hello(drivers::DriverHost& host, const Hello& hello, int64_t t_ns) {
  host.event(t_ns, "hello",
             fmt::format("bridge firmware '{}', protocol {}, {} Hz, {} inputs", hello.firmware_version().substr(0, 32),
                         hello.protocol_version(), hello.tick_hz(), hello.input_count()));
  if (hello.protocol_version() != kProtocolVersion) {
    host.event(t_ns, "protocol_mismatch",
               fmt::format("bridge speaks protocol {}, this driver {}", hello.protocol_version(), kProtocolVersion));
  }
  const auto tick_hz = static_cast<double>(hello.tick_hz());
  if (tick_hz > 0 && tick_hz != config_.tick_hz) {
    // A different nominal rate invalidates the fit; it starts over on the next pings.
    config_.tick_hz = tick_hz;
    regression_ = clock::SyncRegression(sync_options());
    fit_start_ns_.reset();
  }
}

void BridgeDriver::handle_edge(drivers::DriverHost& host, const Edge& edge, int64_t t_ns) {
  if (expected_edge_seq_) {
    const uint32_t gap = edge.seq() - *expected_edge_seq_;  // modulo 2^32
    if (gap != 0 && gap < 0x80000000u) {
      stats_.edges_lost += gap;
      limited_event(host, t_ns, "edges_lost", fmt::format("{} edges lost before edge seq {}", gap, edge.seq()));
    } else if (gap != 0) {
      ++stats_.edge_seq_resets;
      limited_event(host, t_ns, "edge_seq_reset",
                    fmt::format("edge seq went back from {} to {} (bridge restarted?)", *expected_edge_seq_ - 1,
                                edge.seq()));
    }
  }
  expected_edge_seq_ = edge.seq() + 1;

  if (edge.input() >= kInputCount || edge.tick() > static_cast<uint64_t>(INT64_MAX)) {
    ++counters_.malformed;
    limited_event(host, t_ns, "malformed",
                  fmt::format("edge seq {} with input {} / tick {} out of range", edge.seq(), edge.input(), edge.tick()));
    return;
  }
  pending_.push_back({edge.seq(), edge.input(), edge.edge(), static_cast<int64_t>(edge.tick()), t_ns});
  if (pending_.size() > config_.max_pending_edges) {
    // No fit has confirmed these for far too long; better an early stamp than unbounded memory.
    const PendingEdge& oldest = pending_.front();
    if (regression_.valid()) {
      emit_edge(host, oldest, regression_.to_ref_ns(oldest.tick));
    } else {
      emit_unmapped(host, oldest);
      limited_event(host, t_ns, "edges_unmapped", "held edges overflowed with no clock fit; stamped at arrival");
    }
    pending_.pop_front();
  }
}

void BridgeDriver::handle_sync_reply(drivers::DriverHost& host, const SyncReply& reply, int64_t t4_ns) {
  auto it = pings_.begin();
  while (it != pings_.end() && it->seq != reply.seq()) ++it;
  if (it == pings_.end() || it->t1_ns != reply.t1_host_ns() || reply.t2_tick() > static_cast<uint64_t>(INT64_MAX) ||
      reply.t3_tick() > static_cast<uint64_t>(INT64_MAX)) {
    ++stats_.sync_unmatched;
    return;
  }
  const int64_t t1_ns = it->t1_ns;
  pings_.erase(it);
  last_reply_ns_ = t4_ns;
  ++stats_.sync_replies;
  const clock::SyncExchange x{t1_ns, t4_ns, static_cast<int64_t>(reply.t2_tick()), static_cast<int64_t>(reply.t3_tick())};
  exchanges_.push_back(x);
  if (exchanges_.size() > kMaxKeptExchanges) exchanges_.pop_front();
  add_exchange(host, x, t4_ns);
}

void BridgeDriver::add_exchange(drivers::DriverHost& host, const clock::SyncExchange& x, int64_t t_ns) {
  const int64_t threshold_ns = sync_options().step_threshold_ns;
  const bool was_valid = regression_.valid();
  bool deviates = false;
  std::optional<clock::SyncRegression> before;
  if (was_valid) {
    const int64_t x_src = x.t2_src + (x.t3_src - x.t2_src) / 2;
    const int64_t y_ns = x.t1_ref_ns + (x.t4_ref_ns - x.t1_ref_ns) / 2;
    deviates = std::llabs(y_ns - regression_.to_ref_ns(x_src)) > threshold_ns;
    // A restart discards the model the held edges were waiting for; keep a copy.
    if (deviates) before = regression_;
  }
  const uint64_t steps_before = regression_.stats().steps;
  const bool used = regression_.add(x);

  if (regression_.stats().steps != steps_before) {
    ++stats_.clock_steps;
    const size_t kept = before ? release_plausible(host, *before) : 0;
    host.event(t_ns, "clock_step",
               fmt::format("bridge clock stepped (sync off by more than {} ms); fit restarted, {} held edges "
                           "stamped with the old fit, {} wait for the new one",
                           threshold_ns / 1'000'000, kept, pending_.size()));
    fit_start_ns_ = x.t1_ref_ns;
  }
  if (!regression_.valid()) return;
  if (!fit_start_ns_) fit_start_ns_ = x.t1_ref_ns;
  if (!used || deviates || t_ns - *fit_start_ns_ < config_.fit_settle_ns) return;
  // A fitted reply that agrees with the model shows no step happened before it: edges that
  // arrived before it are on the clock the model describes. Those that arrived map_delay_ns
  // before it also have sync points on both sides in the fit.
  while (!pending_.empty() && pending_.front().arrival_ns <= t_ns - config_.map_delay_ns) {
    emit_edge(host, pending_.front(), regression_.to_ref_ns(pending_.front().tick));
    pending_.pop_front();
  }
}

size_t BridgeDriver::release_plausible(drivers::DriverHost& host, const clock::SyncRegression& fit) {
  const int64_t window_ns = sync_options().step_threshold_ns / 2;
  size_t n = 0;
  while (!pending_.empty()) {
    const PendingEdge& e = pending_.front();
    const int64_t t_ns = fit.to_ref_ns(e.tick);
    // An edge cannot have happened after it arrived, nor (normally) long before: a stamp far
    // outside that means the device clock stepped between the fit and this edge.
    if (std::llabs(t_ns - e.arrival_ns) > window_ns) break;
    emit_edge(host, e, t_ns);
    pending_.pop_front();
    ++n;
  }
  return n;
}

void BridgeDriver::emit_unmapped(drivers::DriverHost& host, const PendingEdge& edge) {
  ++stats_.edges_unmapped;
  emit_edge(host, edge, edge.arrival_ns);
}

void BridgeDriver::emit_edge(drivers::DriverHost& host, const PendingEdge& e, int64_t t_ns) {
  ++stats_.edges;
  host.sample(0, t_ns, static_cast<double>(e.input));

  const bool gate = config_.scan_start_input == config_.scan_end_input;
  const bool is_start = e.input == config_.scan_start_input && (!gate || e.edge != EDGE_KIND_FALLING);
  const bool is_end = e.input == config_.scan_end_input && (!gate || e.edge == EDGE_KIND_FALLING);
  if (is_start) {
    if (scan_open_) {
      limited_event(host, t_ns, "scan_end_missing",
                    fmt::format("scan {} had no end edge before the next start ({} frames)", scans_started_, scan_frames_));
    }
    ++scans_started_;
    scan_open_ = true;
    scan_start_ns_ = t_ns;
    scan_frames_ = 0;
    host.event(t_ns, "scan_start", fmt::format("scan {} (edge seq {}, {})", scans_started_, e.seq, edge_name(e.edge)));
  } else if (is_end) {
    if (!scan_open_) {
      limited_event(host, t_ns, "scan_end_without_start", fmt::format("end edge seq {} with no scan open", e.seq));
      return;
    }
    scan_open_ = false;
    ++stats_.scans;
    const std::string label = fmt::format("scan {}: {} frames", scans_started_, scan_frames_);
    host.event(t_ns, "scan_end", label);
    records::Scan scan;
    scan.number = scans_started_;
    scan.start_ns = scan_start_ns_;
    scan.end_ns = t_ns;
    scan.label = label;
    host.scan(scan);
  } else if (e.input == config_.detector_frame_input) {
    if (scan_open_) {
      ++scan_frames_;
    } else {
      ++stats_.frames_outside_scan;
    }
  }
}

void BridgeDriver::handle_counters(drivers::DriverHost& host, const Counters& c, int64_t t_ns) {
  if (device_counters_) {
    const Counters& old = *device_counters_;
    // Counters only fall when the device restarted or was reset: take the new ones as baseline.
    if (c.edges_dropped() > old.edges_dropped()) {
      const uint32_t n = c.edges_dropped() - old.edges_dropped();
      stats_.edges_dropped += n;
      limited_event(host, t_ns, "edges_dropped", fmt::format("bridge dropped {} edges (ring full)", n));
    }
    if (c.frames_rejected() > old.frames_rejected()) {
      limited_event(host, t_ns, "frames_rejected",
                    fmt::format("bridge rejected {} frames from the host", c.frames_rejected() - old.frames_rejected()));
    }
    if (c.rx_overruns() > old.rx_overruns()) {
      limited_event(host, t_ns, "rx_overruns",
                    fmt::format("bridge lost {} received bytes (UART overrun): frames from the host may be lost",
                                c.rx_overruns() - old.rx_overruns()));
    }
  }
  device_counters_ = c;
}

void BridgeDriver::emit_clock_model(drivers::DriverHost& host, int64_t t_ns) {
  records::ClockModel m = regression_.model(t_ns);
  m.method = "regression";
  host.clock_model(m);
}

void BridgeDriver::limited_event(drivers::DriverHost& host, int64_t t_ns, std::string_view kind, std::string detail) {
  limiter_.event(host, counters_, t_ns, kind, std::move(detail));
}

}  // namespace opsync::drivers::bridge
