// SRS RGA DEMS driver: see rga_driver.h. One request at a time (the RGA must not be pipelined);
// the set-up and the loop are a queue of requests, and the deadline says what is awaited.
#include "drivers/rga/rga_driver.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace opsync::drivers::rga {

namespace {

constexpr double kMaxEmission_ma = 3.5;
constexpr int kMaxCdemVoltage_v = 2490;

double sane_emission_ma(double ma) {
  return std::isfinite(ma) ? std::clamp(ma, 0.0, kMaxEmission_ma) : 0.0;
}

}  // namespace

ConfigProblems RgaConfig::problems() const {
  ConfigProblems p;
  if (masses.empty()) p.push_back({"masses", "needs at least one m/z, e.g. [32, 44]"});
  std::set<int> seen;
  for (int mass : masses) {
    if (mass < 1 || mass > kMaxMass) {
      p.push_back({"masses", fmt::format("m/z {} is outside 1..{}", mass, kMaxMass)});
    } else if (!seen.insert(mass).second) {
      p.push_back({"masses", fmt::format("m/z {} is listed twice", mass)});
    }
  }
  if (noise_floor < 0 || noise_floor > kMaxNoiseFloor) {
    p.push_back({"noise_floor", fmt::format("{} is outside 0..{}", noise_floor, kMaxNoiseFloor)});
  }
  if (!std::isfinite(emission_ma) || emission_ma < 0 || emission_ma > kMaxEmission_ma) {
    p.push_back({"emission_ma", fmt::format("{} is outside 0..{} mA", emission_ma, kMaxEmission_ma)});
  }
  if (cdem_voltage_v < 0 || cdem_voltage_v > kMaxCdemVoltage_v) {
    p.push_back({"cdem_voltage_v", fmt::format("{} is outside 0..{} V", cdem_voltage_v, kMaxCdemVoltage_v)});
  }
  if (status_every_n_loops < 0) p.push_back({"status_every_n_loops", "must not be negative (0 = never)"});
  if (period_ns < 0) p.push_back({"period_s", "must not be negative (0 = read continuously)"});
  if (!(timeout_scale >= 1.0)) p.push_back({"timeout_scale", "must be at least 1"});
  if (hardware_timeout_ns <= 0 || calibrate_timeout_ns <= 0) {
    p.push_back({"", "hardware_timeout_ns and calibrate_timeout_ns must be > 0"});
  }
  if (tcp_login && user.empty()) p.push_back({"user", "is needed with tcp_login = true"});
  return p;
}

std::string channel_quantity(int mass) {
  if (mass == 32) return "O2 ion current (m/z 32)";
  if (mass == 44) return "CO2 ion current (m/z 44)";
  return fmt::format("m/z {} ion current", mass);
}

RgaDriver::RgaDriver(RgaConfig config) : config_(std::move(config)), login_(config_.user, config_.password) {
  // Never send a parameter the RGA would reject; problems() tells the user what was wrong.
  std::vector<int> masses;
  for (int mass : config_.masses) {
    if (mass >= 1 && mass <= kMaxMass && std::find(masses.begin(), masses.end(), mass) == masses.end()) {
      masses.push_back(mass);
    }
  }
  config_.masses = std::move(masses);
  config_.noise_floor = std::clamp(config_.noise_floor, 0, kMaxNoiseFloor);
  config_.emission_ma = sane_emission_ma(config_.emission_ma);
  config_.cdem_voltage_v = std::clamp(config_.cdem_voltage_v, 0, kMaxCdemVoltage_v);
  config_.status_every_n_loops = std::max(config_.status_every_n_loops, 0);
  config_.period_ns = std::max<int64_t>(config_.period_ns, 0);
  if (config_.hardware_timeout_ns <= 0) config_.hardware_timeout_ns = RgaConfig{}.hardware_timeout_ns;
  if (config_.calibrate_timeout_ns <= 0) config_.calibrate_timeout_ns = RgaConfig{}.calibrate_timeout_ns;

  for (size_t i = 0; i < config_.masses.size(); ++i) {
    const int mass = config_.masses[i];
    channels_.push_back(ChannelSpec{fmt::format("ion_current_m{}", mass), "A", channel_quantity(mass)});
    active_channels_.push_back(i);
  }
}

RgaDriver::Request RgaDriver::make_request(Purpose purpose, std::string text) const {
  Request r;
  r.purpose = purpose;
  r.reply = reply_kind_for(text).value_or(ReplyKind::kNone);
  switch (purpose) {
    case Purpose::kEmission:
    case Purpose::kCdem:
    case Purpose::kFilamentOff:
      r.timeout_ns = config_.hardware_timeout_ns;
      break;
    case Purpose::kCalibrate:
      r.timeout_ns = config_.calibrate_timeout_ns;
      break;
    default:
      r.timeout_ns = reply_timeout_ns(config_.noise_floor);
      break;
  }
  r.timeout_ns = static_cast<int64_t>(static_cast<double>(r.timeout_ns) * config_.timeout_scale);
  r.text = std::move(text);
  return r;
}

void RgaDriver::wait_until(Wait wait, int64_t deadline_ns) {
  wait_ = wait;
  deadline_ns_ = deadline_ns;
}

int64_t RgaDriver::next_deadline_ns() const { return std::min(deadline_ns_, limiter_.next_deadline_ns()); }

int64_t RgaDriver::flush_window_ns() const {
  return std::max(kMinFlush_ns, gate_time_ns(config_.noise_floor) + 100'000'000);
}

void RgaDriver::on_connect(DriverHost& host, int64_t t_ns) {
  reader_.reset();
  plan_.clear();
  current_.reset();
  identity_.reset();
  resend_after_flush_ = false;
  consecutive_timeouts_ = 0;
  consecutive_malformed_ = 0;
  loop_started_ = false;
  loops_done_ = 0;
  wait_until(Wait::kNone, kNoDeadline);
  if (config_.tcp_login) {
    phase_ = Phase::kLogin;
    login_ = TcpLogin(config_.user, config_.password);
    handle_login_output(host, login_.start(t_ns), t_ns);
  } else {
    start_protocol(host, t_ns);
  }
}

void RgaDriver::handle_login_output(DriverHost& host, std::string text, int64_t t_ns) {
  if (!text.empty()) send_bytes(host, text);
  switch (login_.state()) {
    case TcpLogin::State::kSucceeded:
      host.event(t_ns, "login", fmt::format("logged in to the RGA Ethernet adapter as \"{}\"", config_.user));
      start_protocol(host, t_ns);
      break;
    case TcpLogin::State::kFailed:
      fail(host, login_.failure());
      break;
    default:
      wait_until(Wait::kLogin, login_.next_deadline_ns());
      break;
  }
}

void RgaDriver::start_protocol(DriverHost& host, int64_t t_ns) {
  phase_ = Phase::kRunning;
  plan_.clear();
  plan_.push_back(make_request(Purpose::kIdentify, cmd::query("ID")));
  advance(host, t_ns);
}

void RgaDriver::send_bytes(DriverHost& host, std::string_view text) {
  counters_.bytes_out += text.size();
  host.send(text);
}

void RgaDriver::advance(DriverHost& host, int64_t t_ns) {
  if (phase_ != Phase::kRunning && phase_ != Phase::kStopping) return;
  wait_until(Wait::kNone, kNoDeadline);
  if (plan_.empty()) {
    if (phase_ == Phase::kStopping) {
      finish_stop();
      return;
    }
    if (active_channels_.empty()) return;  // nothing readable on this RGA (reported at ID?)
    if (config_.period_ns > 0 && loop_started_ && t_ns < loop_start_ns_ + config_.period_ns) {
      wait_until(Wait::kPeriod, loop_start_ns_ + config_.period_ns);
      return;
    }
    loop_started_ = true;
    loop_start_ns_ = t_ns;
    for (size_t ch : active_channels_) {
      Request r = make_request(Purpose::kMassRead, cmd::mass_read(config_.masses[ch]));
      r.channel = ch;
      plan_.push_back(std::move(r));
    }
  }
  current_ = std::move(plan_.front());
  plan_.pop_front();
  if (current_->purpose == Purpose::kGiveUp) {
    fail(host, current_->reason);
    return;
  }
  send_current(host, t_ns);
}

void RgaDriver::send_current(DriverHost& host, int64_t t_ns) {
  reader_.expect(current_->reply);
  send_bytes(host, current_->text);
  current_sent_ns_ = t_ns;
  if (current_->reply == ReplyKind::kNone) {
    wait_until(Wait::kSettle, t_ns + kNoReplySettle_ns);
  } else {
    wait_until(Wait::kReply, t_ns + current_->timeout_ns);
  }
}

void RgaDriver::on_bytes(DriverHost& host, std::span<const uint8_t> bytes, int64_t t_ns) {
  counters_.bytes_in += bytes.size();
  if (bytes.empty()) return;
  if (phase_ == Phase::kLogin) {
    handle_login_output(host, login_.on_bytes(bytes, t_ns), t_ns);
    return;
  }
  if (phase_ != Phase::kRunning && phase_ != Phase::kStopping) return;
  if (wait_ == Wait::kFlush) return;  // resynchronising: whatever comes now is discarded

  if (wait_ == Wait::kReply) {
    size_t used = 0;
    const auto result = reader_.feed(bytes, used);
    if (result == ReplyReader::Result::kNeedMore) return;
    const std::string context = fmt::format("reply to {}", cmd::printable(current_->text));
    if (result == ReplyReader::Result::kMalformed) {
      on_malformed(host, t_ns, fmt::format("{}: {}", context, reader_.error()), reader_.received(), true);
      return;
    }
    if (used < bytes.size()) {
      // Nothing else was asked for, so extra bytes mean the reply had the wrong length (binary
      // replies have no terminator) or the stream is out of step: do not trust the reply.
      std::vector<uint8_t> all(reader_.received().begin(), reader_.received().end());
      all.insert(all.end(), bytes.begin() + static_cast<std::ptrdiff_t>(used), bytes.end());
      on_malformed(host, t_ns,
                   fmt::format("{}: {} extra byte(s) after the {} reply", context, bytes.size() - used,
                               reply_kind_name(current_->reply)),
                   all, true);
      return;
    }
    on_reply(host, t_ns);
    return;
  }

  size_t pos = 0;
  bool cr_closed_reply = false;
  if (wait_ == Wait::kTrailingCr && reader_.take_trailing_cr(bytes[0])) {
    pos = 1;
    cr_closed_reply = true;
  }
  if (pos < bytes.size()) {
    on_malformed(host, t_ns, "unexpected byte(s) while no reply is pending", bytes.subspan(pos), false);
    return;
  }
  if (cr_closed_reply) advance(host, t_ns);
}

void RgaDriver::on_reply(DriverHost& host, int64_t t_ns) {
  const Reply& reply = reader_.reply();
  switch (current_->purpose) {
    case Purpose::kIdentify: {
      auto id = parse_identity(reply.text);
      if (!id) {
        // A wrong device and a garbled line look alike; both resynchronise, and a device that
        // keeps answering this way ends in a reconnect whose reason quotes it.
        on_malformed(host, t_ns, fmt::format("reply to ID?: \"{}\" is not an SRS RGA identity", reply.text),
                     reader_.received(), true);
        return;
      }
      ++counters_.messages_ok;
      on_identity(host, t_ns, *id);
      break;
    }
    case Purpose::kEmission:
    case Purpose::kCdem:
    case Purpose::kCalibrate:
      ++counters_.messages_ok;
      on_setup_status(host, t_ns, reply.status);
      break;
    case Purpose::kMassRead:
      ++counters_.messages_ok;
      on_mass_read(host, t_ns, reply.raw);
      break;
    case Purpose::kStatusQuery:
      ++counters_.messages_ok;
      if (reply.status != 0) {
        host.event(t_ns, "rga_status", fmt::format("ER? = {} [{}]", reply.status, describe_status(reply.status)));
        if (phase_ == Phase::kRunning) queue_error_queries_front(reply.status, plan_);
      }
      break;
    case Purpose::kErrorQuery:
      ++counters_.messages_ok;
      if (reply.status != 0) {
        const ErrorByte which = current_->error_byte;
        host.event(t_ns, which == ErrorByte::kFilament ? "filament_error" : "rga_error",
                   fmt::format("{} = 0x{:02x}: {}", error_byte_name(which), reply.status,
                               fmt::join(error_bit_descriptions(which, reply.status), "; ")));
      }
      break;
    case Purpose::kFilamentOff:
      ++counters_.messages_ok;
      if (reply.status != 0) {
        host.event(t_ns, "rga_status",
                   fmt::format("FL0 -> status {} [{}] on stop", reply.status, describe_status(reply.status)));
      }
      finish_stop();
      return;
    case Purpose::kNoiseFloor:
    case Purpose::kRfOff:
    case Purpose::kGiveUp:
      break;  // no reply expected: not reached
  }
  consecutive_timeouts_ = 0;
  consecutive_malformed_ = 0;
  if (phase_ != Phase::kRunning && phase_ != Phase::kStopping) return;  // failed meanwhile
  if (reader_.trailing_cr_pending()) {
    wait_until(Wait::kTrailingCr,
               t_ns + static_cast<int64_t>(static_cast<double>(kTrailingCrWait_ns) * config_.timeout_scale));
  } else {
    advance(host, t_ns);
  }
}

void RgaDriver::on_identity(DriverHost& host, int64_t t_ns, const Identity& id) {
  identity_ = id;
  host.event(t_ns, "identity",
             fmt::format("model={} m_max={} firmware={} serial={}", id.model, id.m_max, id.firmware, id.serial));
  active_channels_.clear();
  for (size_t i = 0; i < config_.masses.size(); ++i) {
    if (config_.masses[i] <= id.m_max) {
      active_channels_.push_back(i);
    } else {
      host.event(t_ns, "config_error",
                 fmt::format("m/z {} is above this {}'s M_MAX {}: not read", config_.masses[i], id.model, id.m_max));
    }
  }
  if (phase_ != Phase::kRunning) return;
  plan_.push_back(make_request(Purpose::kEmission, cmd::emission(config_.emission_ma)));
  plan_.push_back(make_request(Purpose::kCdem, cmd::cdem_voltage(config_.cdem_voltage_v)));
  plan_.push_back(make_request(Purpose::kNoiseFloor, cmd::noise_floor(config_.noise_floor)));
  if (config_.calibrate) plan_.push_back(make_request(Purpose::kCalibrate, cmd::calibrate_all()));
}

void RgaDriver::queue_error_queries_front(uint8_t status, std::deque<Request>& out) const {
  const auto flagged = flagged_error_bytes(status);
  for (auto it = flagged.rbegin(); it != flagged.rend(); ++it) {
    Request r = make_request(Purpose::kErrorQuery, cmd::query(error_query_mnemonic(*it)));
    r.error_byte = *it;
    out.push_front(std::move(r));
  }
}

void RgaDriver::on_setup_status(DriverHost& host, int64_t t_ns, uint8_t status) {
  if (status == 0) return;
  const std::string_view command = cmd::printable(current_->text);
  const bool retry = current_->attempt < 2;
  const bool running = phase_ == Phase::kRunning;
  host.event(t_ns, "rga_status",
             fmt::format("{} -> status {} [{}]{}", command, status, describe_status(status),
                         !running ? "" : (retry ? "; retrying once" : "; failed again")));
  if (!running) return;
  // Error-byte details first (they tell the user what is wrong), then the retry or the give-up.
  std::deque<Request> front;
  if (retry) {
    Request again = *current_;
    ++again.attempt;
    front.push_back(std::move(again));
  } else {
    Request give_up;
    give_up.purpose = Purpose::kGiveUp;
    give_up.reason = fmt::format("{} failed twice (status {} [{}])", command, status, describe_status(status));
    front.push_back(std::move(give_up));
  }
  queue_error_queries_front(status, front);
  plan_.insert(plan_.begin(), front.begin(), front.end());
}

void RgaDriver::on_mass_read(DriverHost& host, int64_t t_ns, int32_t raw) {
  // The RGA has no clock: the reading belongs to the middle of request and reply (DESIGN "Time").
  const int64_t rtt_ns = t_ns - current_sent_ns_;
  host.sample(current_->channel, current_sent_ns_ + rtt_ns / 2, ion_current_a(raw));
  update_clock_model(host, t_ns, rtt_ns);
  if (phase_ == Phase::kRunning && !active_channels_.empty() && current_->channel == active_channels_.back()) {
    ++loops_done_;
    const auto every = static_cast<uint64_t>(config_.status_every_n_loops);
    if (every > 0 && loops_done_ % every == 0) {
      plan_.push_back(make_request(Purpose::kStatusQuery, cmd::query("ER")));
    }
  }
}

double RgaDriver::stamp_uncertainty_ns() const {
  if (rtts_ns_.empty()) return 0;
  std::vector<int64_t> sorted = rtts_ns_;
  const size_t mid = sorted.size() / 2;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(mid), sorted.end());
  double median_ns = static_cast<double>(sorted[mid]);
  if (sorted.size() % 2 == 0) {
    const auto lower = *std::max_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(mid));
    median_ns = (median_ns + static_cast<double>(lower)) / 2;
  }
  return median_ns / 2;
}

void RgaDriver::update_clock_model(DriverHost& host, int64_t t_ns, int64_t rtt_ns) {
  if (rtts_ns_.size() < kRttWindow) {
    rtts_ns_.push_back(rtt_ns);
  } else {
    rtts_ns_[rtt_next_] = rtt_ns;
    rtt_next_ = (rtt_next_ + 1) % kRttWindow;
  }
  const double uncertainty_ns = stamp_uncertainty_ns();
  if (clock_model_sent_) {
    const bool moved = std::abs(uncertainty_ns - clock_uncertainty_sent_ns_) >
                       kClockModelChange * clock_uncertainty_sent_ns_;
    if (!moved || t_ns - clock_model_sent_at_ns_ < kClockModelMinInterval_ns) return;
  }
  records::ClockModel model;
  model.method = "midpoint";
  model.offset_ns = 0;
  model.rate = 1.0;
  model.n_points = static_cast<int64_t>(rtts_ns_.size());
  model.fitted_at_ns = t_ns;
  model.uncertainty_ns = uncertainty_ns;
  host.clock_model(model);
  clock_model_sent_ = true;
  clock_uncertainty_sent_ns_ = uncertainty_ns;
  clock_model_sent_at_ns_ = t_ns;
}

void RgaDriver::on_malformed(DriverHost& host, int64_t t_ns, const std::string& what,
                             std::span<const uint8_t> bytes, bool resend) {
  ++counters_.malformed;
  ++consecutive_malformed_;
  limiter_.event(host, counters_, t_ns, "malformed", fmt::format("{} [{}]", what, hex_excerpt(bytes)));
  if (consecutive_malformed_ >= kMaxConsecutiveMalformed) {
    fail(host, fmt::format("{} malformed replies in a row (last: {})", consecutive_malformed_, what));
    return;
  }
  // Resynchronise: drop what is in the pipe, let the line go quiet, then ask again (or go on
  // with the plan if nothing was being asked).
  reader_.reset();
  resend_after_flush_ = resend && current_.has_value();
  wait_until(Wait::kFlush, t_ns + flush_window_ns());
}

void RgaDriver::on_timeout(DriverHost& host, int64_t t_ns) {
  ++counters_.timeouts;
  ++consecutive_timeouts_;
  const auto partial = reader_.received();
  limiter_.event(host, counters_, t_ns, "timeout",
                 fmt::format("no complete reply to {} within {:.3f} s ({} in a row){}", cmd::printable(current_->text),
                             static_cast<double>(current_->timeout_ns) / 1e9, consecutive_timeouts_,
                             partial.empty() ? std::string() : fmt::format("; partial [{}]", hex_excerpt(partial))));
  if (phase_ == Phase::kStopping) {
    // Do not wait again on stop: go on to the next step (MR0/FL0), or finish after FL0.
    if (current_->purpose == Purpose::kFilamentOff) {
      finish_stop();
    } else {
      advance(host, t_ns);
    }
    return;
  }
  if (consecutive_timeouts_ >= kMaxConsecutiveTimeouts) {
    fail(host, fmt::format("{} consecutive timeouts (last: no reply to {})", consecutive_timeouts_,
                           cmd::printable(current_->text)));
    return;
  }
  if (!partial.empty()) {
    // Part of a reply came: its rest may still come, so let the line go quiet before asking again.
    reader_.reset();
    resend_after_flush_ = true;
    wait_until(Wait::kFlush, t_ns + flush_window_ns());
    return;
  }
  send_current(host, t_ns);
}

void RgaDriver::on_tick(DriverHost& host, int64_t t_ns) {
  limiter_.flush(host, t_ns);
  if (t_ns < deadline_ns_) return;
  switch (wait_) {
    case Wait::kLogin:
      handle_login_output(host, login_.on_tick(t_ns), t_ns);
      break;
    case Wait::kReply:
      on_timeout(host, t_ns);
      break;
    case Wait::kFlush:
      if (resend_after_flush_ && current_) {
        resend_after_flush_ = false;
        send_current(host, t_ns);
      } else {
        advance(host, t_ns);
      }
      break;
    case Wait::kTrailingCr:  // no CR came: the reply ended at LF (ER? may, doc section 7)
    case Wait::kSettle:
    case Wait::kPeriod:
      advance(host, t_ns);
      break;
    case Wait::kNone:
      deadline_ns_ = kNoDeadline;
      break;
  }
}

void RgaDriver::fail(DriverHost& host, std::string reason) {
  phase_ = Phase::kFailed;
  plan_.clear();
  current_.reset();
  reader_.reset();
  wait_until(Wait::kNone, kNoDeadline);
  host.request_reconnect(std::move(reason));
}

void RgaDriver::finish_stop() {
  phase_ = Phase::kStopped;
  plan_.clear();
  reader_.reset();
  wait_until(Wait::kNone, kNoDeadline);
}

void RgaDriver::stop(DriverHost& host, int64_t t_ns) {
  if (phase_ == Phase::kStopping || phase_ == Phase::kStopped) return;
  if (phase_ != Phase::kRunning) {
    // Not connected, failed, or still logging in: the RGA would take MR0 as a user name.
    finish_stop();
    return;
  }
  phase_ = Phase::kStopping;
  plan_.clear();
  plan_.push_back(make_request(Purpose::kRfOff, cmd::mass_read(0)));
  plan_.push_back(make_request(Purpose::kFilamentOff, cmd::make("FL", "0")));
  resend_after_flush_ = false;
  // A reply in flight comes first, a split terminator's CR and a resynchronisation let the
  // line go quiet first; advance() follows each.
  if (wait_ == Wait::kReply || wait_ == Wait::kFlush || wait_ == Wait::kTrailingCr) return;
  advance(host, t_ns);
}

void RgaDriver::on_stop(DriverHost& host, int64_t /*t_ns*/) {
  if (phase_ == Phase::kRunning || phase_ == Phase::kStopping) {
    // No reply can be awaited: the link closes next. The RGA queues both behind any MR in
    // progress (MR is not a scan, so nothing is aborted).
    send_bytes(host, cmd::mass_read(0) + cmd::make("FL", "0"));
  }
  finish_stop();
}

void RgaDriver::on_disconnect(DriverHost& host, int64_t t_ns) {
  limiter_.flush(host, t_ns, /*force=*/true);
  phase_ = (phase_ == Phase::kStopping || phase_ == Phase::kStopped) ? Phase::kStopped : Phase::kDisconnected;
  plan_.clear();
  current_.reset();
  reader_.reset();
  resend_after_flush_ = false;
  wait_until(Wait::kNone, kNoDeadline);
}

}  // namespace opsync::drivers::rga
