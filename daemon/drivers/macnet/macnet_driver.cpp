// MacNet cycler driver: connect with an echo link check, poll (4,7) on a fixed grid with one
// request in flight, stamp readings at the request/reply midpoint, report step/cycle/status
// changes, and fit the tester PC clock (TesterTime) to reference time.
#include "drivers/macnet/macnet_driver.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace opsync::drivers::macnet {
namespace {

using macnet::ChannelReading;
using macnet::JsonReply;
using macnet::JsonReplyKind;

constexpr int64_t kErrorRepeatReportNs = 10'000'000'000;
constexpr int64_t kDefaultPollNs = 100'000'000;
constexpr int64_t kDefaultTimeoutNs = 2'000'000'000;

std::vector<ChannelSpec> make_channels() {
  return {
      {"voltage", "V", "cell voltage (Maccor Voltage)"},
      // The doc leaves the charge/discharge sign UNCONFIRMED: the value is kept as the cycler
      // reports it, never flipped here.
      {"current", "A", "cell current as the cycler reports it (sign convention unconfirmed)"},
      {"capacity", "C", "Maccor Capacity (Ah x 3600)"},
      {"energy", "J", "Maccor Energy (Wh x 3600)"},
      {"test_time", "s", "Maccor test time"},
      {"step_time", "s", "Maccor step time"},
      {"cycle", "", "cycle number"},
      {"step", "", "step number"},
      {"rf1", "", "RF1 controller-board state code"},
      {"rf2", "", "RF2 step-end code"},
      {"stat", "", "Stat software channel state code"},
  };
}

clock::SyncOptions sync_options(const MacnetConfig& c) {
  clock::SyncOptions o;
  o.nominal_ns_per_unit = 1e6;  // TesterTime counts ms
  o.window = c.sync_window;
  o.max_rtt_ns = c.sync_max_rtt_ns;
  if (c.mode == macnet::Mode::kBinary) {
    o.resolution_ns = 1e6;
  } else {
    // The ISO string carries whole seconds: points scatter by +-0.5 s around the fit, so only
    // a jump well beyond that is a clock step.
    o.resolution_ns = 1e9;
    o.step_threshold_ns = 3'000'000'000;
  }
  return o;
}

MacnetConfig sanitised(MacnetConfig c) {
  c.tester_channel = std::clamp(c.tester_channel, 1, 65536);
  if (c.poll_period_ns <= 0) c.poll_period_ns = kDefaultPollNs;
  if (c.reply_timeout_ns <= 0) c.reply_timeout_ns = kDefaultTimeoutNs;
  c.max_consecutive_timeouts = std::max(c.max_consecutive_timeouts, 1);
  c.sync_window = std::max<size_t>(c.sync_window, 2);
  if (c.sync_max_rtt_ns <= 0) c.sync_max_rtt_ns = MacnetConfig{}.sync_max_rtt_ns;
  return c;
}

std::string field_change(std::string_view label, unsigned from, std::string_view from_name, unsigned to,
                         std::string_view to_name) {
  if (from == to) return fmt::format("{} {} {}", label, to, to_name);
  return fmt::format("{} {} {} -> {} {}", label, from, from_name, to, to_name);
}

double ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace

ConfigProblems MacnetConfig::problems() const {
  ConfigProblems p;
  if (tester_channel < 1 || tester_channel > 65536) {
    p.push_back({"channel", fmt::format("{} is not a tester channel as Maccor counts it (1..65536)", tester_channel)});
  }
  if (poll_period_ns <= 0 || poll_period_ns > 3'600'000'000'000) {
    p.push_back({"poll_period_s", "must be in (0, 3600] seconds"});
  }
  if (reply_timeout_ns <= 0) p.push_back({"reply_timeout_s", "must be positive"});
  if (max_consecutive_timeouts < 1) p.push_back({"", "max consecutive timeouts must be at least 1"});
  if (sync_window < 2) p.push_back({"", "sync window must hold at least 2 exchanges"});
  if (sync_max_rtt_ns <= 0) p.push_back({"sync_max_rtt_ms", "must be positive"});
  if (tester_clock_zone_offset_s < -14 * 3600 || tester_clock_zone_offset_s > 14 * 3600) {
    p.push_back({"tester_zone_offset_s", "is beyond +-14 h (50400 s)"});
  }
  return p;
}

MacnetDriver::MacnetDriver(MacnetConfig config)
    : config_(sanitised(config)), channels_(make_channels()), sync_(sync_options(config_)) {}

std::string MacnetDriver::channel_text() const {
  return fmt::format("tester channel {} (wire Chan {})", config_.tester_channel, config_.wire_channel());
}

void MacnetDriver::on_connect(DriverHost& host, int64_t t_ns) {
  connected_ = true;
  link_down_ = false;
  pending_ = Pending::kNone;
  consecutive_timeouts_ = 0;
  first_reading_of_connection_ = true;
  binary_reader_.clear();
  json_framer_.clear();
  send_echo(host, t_ns);  // link check before the first poll
}

void MacnetDriver::on_disconnect(DriverHost& host, int64_t t_ns) {
  if (connected_) emit_clock_model(host, t_ns, /*force=*/true);
  limiter_.flush(host, t_ns, /*force=*/true);
  connected_ = false;
  link_down_ = false;
  pending_ = Pending::kNone;
  binary_reader_.clear();
  json_framer_.clear();
}

void MacnetDriver::on_stop(DriverHost& host, int64_t t_ns) { emit_clock_model(host, t_ns, /*force=*/true); }

int64_t MacnetDriver::next_deadline_ns() const {
  if (!connected_ || link_down_) return kNoDeadline;
  const int64_t due_ns = pending_ != Pending::kNone ? request_sent_ns_ + config_.reply_timeout_ns : next_poll_ns_;
  return std::min(due_ns, limiter_.next_deadline_ns());
}

void MacnetDriver::on_tick(DriverHost& host, int64_t t_ns) {
  if (!connected_ || link_down_) return;
  limiter_.flush(host, t_ns);
  if (pending_ != Pending::kNone) {
    if (t_ns >= request_sent_ns_ + config_.reply_timeout_ns) handle_timeout(host, t_ns);
    return;
  }
  if (t_ns >= next_poll_ns_) send_poll(host, t_ns);
}

void MacnetDriver::send_bytes(DriverHost& host, std::span<const uint8_t> bytes) {
  counters_.bytes_out += bytes.size();
  host.send(bytes);
}

void MacnetDriver::send_echo(DriverHost& host, int64_t t_ns) {
  if (config_.mode == macnet::Mode::kJson) {
    pending_id_ = next_id_++;
    const std::string text = macnet::encode_json_echo_request(pending_id_);
    send_bytes(host, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  } else {
    send_bytes(host, macnet::encode_echo());
  }
  pending_ = Pending::kEcho;
  request_sent_ns_ = t_ns;
}

void MacnetDriver::send_poll(DriverHost& host, int64_t t_ns) {
  if (config_.mode == macnet::Mode::kJson) {
    pending_id_ = next_id_++;
    const std::string text = macnet::encode_json_reading_request(config_.wire_channel(), pending_id_);
    send_bytes(host, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  } else {
    send_bytes(host, macnet::encode_reading_request(config_.wire_channel()));
  }
  pending_ = Pending::kReading;
  request_sent_ns_ = t_ns;
  // Keep the grid; if a slow reply made us miss a slot, restart the grid from now rather than
  // firing a burst of catch-up polls.
  next_poll_ns_ += config_.poll_period_ns;
  if (next_poll_ns_ <= t_ns) next_poll_ns_ = t_ns + config_.poll_period_ns;
}

void MacnetDriver::handle_timeout(DriverHost& host, int64_t t_ns) {
  ++counters_.timeouts;
  ++consecutive_timeouts_;
  const std::string_view what = pending_ == Pending::kEcho ? "echo (link check)" : "(4,7) reading";
  limiter_.event(host, counters_, t_ns, "timeout",
                 fmt::format("no reply to {} for {} within {:.0f} ms ({} in a row)", what, channel_text(),
                             ms(config_.reply_timeout_ns), consecutive_timeouts_));
  pending_ = Pending::kNone;
  binary_reader_.clear();
  json_framer_.clear();
  if (consecutive_timeouts_ >= config_.max_consecutive_timeouts) {
    emit_clock_model(host, t_ns, /*force=*/true);
    link_down_ = true;
    host.request_reconnect(fmt::format("MacNet: no reply to {} requests in a row", consecutive_timeouts_));
    return;
  }
  // Probe with an echo: on TCP, a late answer to the timed-out request arrives before the echo
  // comes back, so it is recognised as late instead of being taken for the next reading (the
  // binary protocol has no request id).
  send_echo(host, t_ns);
}

void MacnetDriver::on_bytes(DriverHost& host, std::span<const uint8_t> bytes, int64_t t_ns) {
  counters_.bytes_in += bytes.size();
  if (!connected_ || link_down_) return;
  if (config_.mode == macnet::Mode::kBinary) {
    binary_reader_.feed(bytes);
    handle_binary(host, t_ns);
  } else {
    json_framer_.feed(bytes);
    handle_json(host, t_ns);
  }
}

void MacnetDriver::handle_binary(DriverHost& host, int64_t t_ns) {
  using Status = macnet::BinaryFrameReader::Status;
  for (;;) {
    auto res = binary_reader_.next();
    if (res.status == Status::kNeedMore) return;
    if (res.status == Status::kMalformed) {
      malformed(host, res.problem, t_ns);
      continue;
    }
    const std::vector<uint8_t>& frame = res.frame.bytes;
    if (res.frame.header.fclass == macnet::kFClassEcho) {
      if (frame != macnet::encode_echo()) {
        malformed(host, "echo reply that differs from what was sent: " + macnet::hex_excerpt(frame), t_ns);
      } else if (pending_ == Pending::kEcho) {
        on_echo_reply(host, t_ns);
      } else {
        late_reply(host, "echo reply", t_ns);
      }
      continue;
    }
    const auto reading = macnet::decode_reading_reply(frame);  // the reader only passes (4,7) frames
    if (!reading) continue;
    if (reading->chan != config_.wire_channel()) {
      malformed(host,
                fmt::format("(4,7) reply for wire Chan {}, polling {}: {}", reading->chan, channel_text(),
                            macnet::hex_excerpt(frame)),
                t_ns);
    } else if (pending_ == Pending::kReading) {
      on_reading(host, *reading, t_ns);
    } else {
      late_reply(host, "(4,7) reply", t_ns);
    }
  }
}

void MacnetDriver::handle_json(DriverHost& host, int64_t t_ns) {
  using Status = macnet::JsonObjectFramer::Status;
  for (;;) {
    auto res = json_framer_.next();
    if (res.status == Status::kNeedMore) return;
    if (res.status == Status::kMalformed) {
      malformed(host, res.problem, t_ns);
      continue;
    }
    const auto outcome = macnet::parse_json_reply(res.text, config_.tester_clock_zone_offset_s);
    if (!outcome.reply) {
      malformed(host, outcome.problem, t_ns);
      continue;
    }
    const JsonReply& reply = *outcome.reply;
    // An error to a request the server could not parse may carry a null id; with one request
    // in flight it can only be about that one.
    const bool answers_pending =
        pending_ != Pending::kNone && (reply.id ? *reply.id == pending_id_ : reply.kind == JsonReplyKind::kError);
    if (!answers_pending) {
      if (reply.id && *reply.id >= 1 && *reply.id < next_id_) {
        late_reply(host, fmt::format("reply with id {}", *reply.id), t_ns);
      } else {
        malformed(
            host,
            fmt::format("reply that answers no request (id {}): \"{}\"",
                        reply.id ? std::to_string(*reply.id) : std::string("none"), macnet::text_excerpt(res.text)),
            t_ns);
      }
      continue;
    }
    switch (reply.kind) {
      case JsonReplyKind::kError: {
        const bool was_echo = pending_ == Pending::kEcho;
        on_macnet_error(host, reply, t_ns);
        if (was_echo) next_poll_ns_ = t_ns;  // the server answered: the link works
        break;
      }
      case JsonReplyKind::kEcho:
        if (pending_ == Pending::kEcho) {
          on_echo_reply(host, t_ns);
        } else {
          malformed(host, "echo reply to a (4,7) request: \"" + macnet::text_excerpt(res.text) + "\"", t_ns);
        }
        break;
      case JsonReplyKind::kReading:
        if (pending_ != Pending::kReading) {
          malformed(host, "(4,7) result to an echo request: \"" + macnet::text_excerpt(res.text) + "\"", t_ns);
        } else if (reply.reading.chan != config_.wire_channel()) {
          malformed(host, fmt::format("(4,7) result for wire Chan {}, polling {}", reply.reading.chan, channel_text()),
                    t_ns);
        } else {
          on_reading(host, reply.reading, t_ns);
        }
        break;
      case JsonReplyKind::kOtherResult:
        malformed(host,
                  fmt::format("result of ({},{}) where (4,7) was asked: \"{}\"", reply.fclass, reply.fnum,
                              macnet::text_excerpt(res.text)),
                  t_ns);
        break;
    }
  }
}

void MacnetDriver::malformed(DriverHost& host, const std::string& problem, int64_t t_ns) {
  ++counters_.malformed;
  limiter_.event(host, counters_, t_ns, "malformed", problem);
  // Resynchronise: drop whatever is buffered. A reading request is given up (the next poll
  // follows on the grid); a pending link check waits on for its echo or its timeout.
  binary_reader_.clear();
  json_framer_.clear();
  if (pending_ == Pending::kReading) pending_ = Pending::kNone;
}

void MacnetDriver::late_reply(DriverHost& host, std::string_view what, int64_t t_ns) {
  ++stats_.late_replies;
  limiter_.event(host, counters_, t_ns, "late_reply",
                 fmt::format("{} arrived after its request timed out; discarded", what));
}

void MacnetDriver::on_echo_reply(DriverHost& host, int64_t t_ns) {
  const int64_t rtt_ns = t_ns - request_sent_ns_;
  pending_ = Pending::kNone;
  consecutive_timeouts_ = 0;
  ++counters_.messages_ok;
  ++stats_.echoes;
  host.event(t_ns, "link_ok",
             fmt::format("MacNet {} echo answered in {:.1f} ms; polling {} every {:.0f} ms",
                         macnet::mode_name(config_.mode), ms(rtt_ns), channel_text(), ms(config_.poll_period_ns)));
  next_poll_ns_ = t_ns;
}

void MacnetDriver::on_macnet_error(DriverHost& host, const JsonReply& reply, int64_t t_ns) {
  const std::string_view request = pending_ == Pending::kEcho ? "echo" : "(4,7) request";
  pending_ = Pending::kNone;
  consecutive_timeouts_ = 0;
  ++stats_.macnet_errors;
  const bool repeated = reply.error_message == last_error_message_;
  if (repeated && t_ns - last_error_event_ns_ < kErrorRepeatReportNs) {
    ++errors_since_event_;
    return;
  }
  std::string detail =
      fmt::format("{} (code {}; {} for {})", reply.error_message, reply.error_code, request, channel_text());
  if (repeated && errors_since_event_ > 0) {
    detail += fmt::format("; {} more since the last report", errors_since_event_);
  }
  limiter_.event(host, counters_, t_ns, "macnet_error", std::move(detail));
  last_error_message_ = reply.error_message;
  last_error_event_ns_ = t_ns;
  errors_since_event_ = 0;
}

void MacnetDriver::on_reading(DriverHost& host, const ChannelReading& r, int64_t t_ns) {
  const int64_t t1_ns = request_sent_ns_;
  // No better stamp exists for when the tester sampled: the midpoint, good to half the round trip.
  const int64_t t_mid_ns = t1_ns + (t_ns - t1_ns) / 2;
  pending_ = Pending::kNone;
  consecutive_timeouts_ = 0;
  ++counters_.messages_ok;
  ++stats_.readings;
  emit_samples(host, r, t_mid_ns);
  emit_events(host, r, t_mid_ns);
  feed_tester_clock(host, r, t1_ns, t_ns);
  last_ = r;
  first_reading_of_connection_ = false;
}

void MacnetDriver::emit_samples(DriverHost& host, const ChannelReading& r, int64_t t_ns) {
  // Non-finite floats are skipped: a NaN row says nothing and stores as NULL.
  const auto put = [&](Channel ch, double value) {
    if (std::isfinite(value)) host.sample(ch, t_ns, value);
  };
  put(kVoltage, r.voltage_v);
  put(kCurrent, r.current_a);
  put(kCapacity, double{r.capacity_ah} * 3600.0);
  put(kEnergy, double{r.energy_wh} * 3600.0);
  put(kTestTime, r.test_time_s);
  put(kStepTime, r.step_time_s);
  const bool all = !config_.state_samples_on_change_only || first_reading_of_connection_ || !last_;
  if (all || r.cycle != last_->cycle) put(kCycle, r.cycle);
  if (all || r.step != last_->step) put(kStep, r.step);
  if (all || r.rf1 != last_->rf1) put(kRf1, r.rf1);
  if (all || r.rf2 != last_->rf2) put(kRf2, r.rf2);
  if (all || r.stat != last_->stat) put(kStat, r.stat);
}

void MacnetDriver::emit_events(DriverHost& host, const ChannelReading& r, int64_t t_ns) {
  const std::string rf2_text = fmt::format("RF2 {} {}", r.rf2, macnet::rf2_name(r.rf2));
  if (!last_) {
    host.event(t_ns, "status",
               fmt::format("RF1 {} {}; Stat {} {}; {}; cycle {} step {}", r.rf1, macnet::rf1_name(r.rf1), r.stat,
                           macnet::stat_name(r.stat), rf2_text, r.cycle, r.step));
    return;
  }
  const ChannelReading& p = *last_;
  if (r.cycle != p.cycle) host.event(t_ns, "cycle_change", fmt::format("cycle {} -> {}", p.cycle, r.cycle));
  if (r.step != p.step) {
    host.event(t_ns, "step_change", fmt::format("step {} -> {} (cycle {})", p.step, r.step, r.cycle));
  }
  if (r.rf1 != p.rf1 || r.stat != p.stat) {
    host.event(
        t_ns, "status",
        fmt::format("{}; {}; {}", field_change("RF1", p.rf1, macnet::rf1_name(p.rf1), r.rf1, macnet::rf1_name(r.rf1)),
                    field_change("Stat", p.stat, macnet::stat_name(p.stat), r.stat, macnet::stat_name(r.stat)),
                    rf2_text));
  }
}

void MacnetDriver::feed_tester_clock(DriverHost& host, const ChannelReading& r, int64_t t1_ns, int64_t t4_ns) {
  if (!tester_time_reported_) {
    // Report once how TesterTime actually arrives: the doc could not confirm its encoding.
    if (!r.tester_time_valid()) {
      host.event(t4_ns, "tester_time",
                 fmt::format("TesterTime not readable as a Unix time (raw 0x{:016x}); no tester-clock fit",
                             r.tester_time_raw));
      tester_time_reported_ = true;
    } else if (r.tester_time_encoding != macnet::TesterTimeEncoding::kUnixMsU64 &&
               r.tester_time_encoding != macnet::TesterTimeEncoding::kIsoText) {
      host.event(t4_ns, "tester_time",
                 fmt::format("TesterTime arrives as {}; decoded accordingly",
                             macnet::tester_time_encoding_name(r.tester_time_encoding)));
      tester_time_reported_ = true;
    }
  }
  if (!r.tester_time_valid()) return;
  // A stamp truncated to whole seconds stands for the middle of its second (a formatter
  // truncates; UNCONFIRMED for MacTest32), which removes a 0.5 s bias from the fit.
  const int64_t t_src_ms = r.tester_time_ms + r.tester_time_resolution_ms / 2;
  clock::SyncExchange x;
  x.t1_ref_ns = t1_ns;
  x.t4_ref_ns = t4_ns;
  x.t2_src = t_src_ms;  // one stamp per reply: arrival and departure are the same ms
  x.t3_src = t_src_ms;
  sync_.add(x);
  ++stats_.sync_points;
  emit_clock_model(host, t4_ns, /*force=*/false);
}

void MacnetDriver::emit_clock_model(DriverHost& host, int64_t t_ns, bool force) {
  if (!sync_.valid() || stats_.sync_points == sync_points_at_emit_) return;
  if (!force && model_emitted_ && t_ns - last_model_emit_ns_ < config_.clock_model_period_ns) return;
  host.clock_model(sync_.model(t_ns));
  model_emitted_ = true;
  last_model_emit_ns_ = t_ns;
  sync_points_at_emit_ = stats_.sync_points;
}

}  // namespace opsync::drivers::macnet
