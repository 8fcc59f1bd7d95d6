// Edge qualification and the edge ring; see edge_capture.h.
#include "edge_capture.h"

namespace opsync::fw {

EdgeCapture::EdgeCapture(Port& port, TickCounter& ticks, uint32_t tick_hz)
    : port_(port), ticks_(ticks), tick_hz_(tick_hz) {}

uint64_t EdgeCapture::us_to_ticks(uint32_t us) const {
  return static_cast<uint64_t>(us) * tick_hz_ / 1'000'000u;
}

void EdgeCapture::on_capture(const RawCapture& capture) {
  // Extend first, whatever happens next: the latch must be read within a timer period.
  const uint64_t tick = ticks_.extend(capture.count);
  const uint8_t input = capture.input;
  if (input >= kInputCount || !running_ || ((config_.inputs_enabled_mask >> input) & 1u) == 0) return;
  if (debounce_tick_ == 0) {
    qualify(input, capture.kind, tick);
    return;
  }
  Candidate& c = candidate_[input];
  if (c.pending) {
    c.pending = false;
    // Too soon: the candidate's level did not hold, and this transition only undoes it.
    if (tick - c.tick < debounce_tick_) return;
    qualify(input, c.kind, c.tick);
  }
  c = Candidate{true, capture.kind, tick};
}

void EdgeCapture::expire_debounce() {
  if (debounce_tick_ == 0) return;
  const CriticalSection cs(port_);
  const uint64_t now_tick = ticks_.now();
  for (uint8_t input = 0; input < kInputCount; ++input) {
    Candidate& c = candidate_[input];
    if (c.pending && now_tick - c.tick >= debounce_tick_) {
      c.pending = false;
      qualify(input, c.kind, c.tick);
    }
  }
}

void EdgeCapture::qualify(uint8_t input, EdgeKind kind, uint64_t tick) {
  Polarity p = config_.polarity[input];
  if (p == Polarity::unspecified) p = Polarity::rising;
  if (p == Polarity::rising && kind != EdgeKind::rising) return;
  if (p == Polarity::falling && kind != EdgeKind::falling) return;
  Last& last = last_[input];
  if (holdoff_tick_ != 0 && last.valid && tick - last.tick < holdoff_tick_) return;
  last = Last{true, tick};

  const EdgeRecord edge{counters_.edges_seen++, input, kind, tick};
  const bool dropped = !ring_.push(edge);
  if (dropped) ++counters_.edges_dropped;
  if (observer_ != nullptr) observer_->edge_detected(edge, dropped);
}

void EdgeCapture::clear_input_state() {
  for (uint8_t input = 0; input < kInputCount; ++input) {
    candidate_[input] = Candidate{};
    last_[input] = Last{};
  }
}

void EdgeCapture::configure(const CaptureConfig& config) {
  {
    const CriticalSection cs(port_);
    config_ = config;
    debounce_tick_ = us_to_ticks(config.debounce_us);
    holdoff_tick_ = us_to_ticks(config.holdoff_us);
    // Half-seen debounce candidates and holdoff windows belong to the old settings.
    clear_input_state();
  }
  port_.capture_enable(config.inputs_enabled_mask & ((1u << kInputCount) - 1));
}

void EdgeCapture::set_running(bool running) {
  const CriticalSection cs(port_);
  if (running_ && !running) {
    // A candidate not yet confirmed at Stop was not detected while running.
    for (Candidate& c : candidate_) c = Candidate{};
  }
  running_ = running;
}

void EdgeCapture::reset_counters() {
  const CriticalSection cs(port_);
  counters_ = EdgeCounters{};
}

EdgeCounters EdgeCapture::counters() {
  const CriticalSection cs(port_);
  return counters_;
}

}  // namespace opsync::fw
