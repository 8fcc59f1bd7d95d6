// The host build's simulated board; see host_port.h.
#include "host/host_port.h"

#include <algorithm>

namespace opsync::fw::host {
namespace {

// An undetected transition may still become an edge while a debounce candidate waits (at most
// kMaxDebounceUs); after that it is final.
constexpr int64_t kTruthHorizonNs = int64_t{kMaxDebounceUs} * 1000 + 1'000'000'000;
// Re-entries of the timer interrupt per event: the core clears a flag on every pass, so more
// means a bug, not load.
constexpr int kMaxIsrPasses = 64;

}  // namespace

std::string_view fate_name(EdgeFate fate) {
  switch (fate) {
    case EdgeFate::sent: return "sent";
    case EdgeFate::dropped: return "dropped";
    case EdgeFate::filtered: return "filtered";
  }
  return "?";
}

HostPort::HostPort(const clock::Clock& clock, HostPortOptions options, EdgeSchedule schedule, TruthSink sink)
    : clock_(clock), opt_(options), ticks_([&] {
        SimTickOptions t = options.tick;
        if (t.origin_ns == 0) t.origin_ns = clock.now_ns();
        return t;
      }()),
      schedule_(std::move(schedule)), sink_(std::move(sink)), rng_(options.seed) {
  high_at_start_ = wraps_at(clock_.now_ns());
  cleared_wraps_ = high_at_start_;
}

void HostPort::attach(BridgeCore& core) {
  core_ = &core;
  core.edges().set_observer(this);
}

int64_t HostPort::next_wrap_ns() const {
  const uint64_t next = (static_cast<uint64_t>(cleared_wraps_) + 1) << 32;
  return ticks_.time_of_tick(next);
}

int64_t HostPort::link_delay_ns() {
  if (opt_.jitter_ns <= 0) return 0;
  return std::uniform_int_distribution<int64_t>(0, opt_.jitter_ns)(rng_);
}

void HostPort::run_interrupts(int64_t now_ns) {
  if (core_ == nullptr) return;
  for (;;) {
    const int64_t t_event = std::min(schedule_.next_ns(), next_wrap_ns());
    if (t_event == kNever || t_event > now_ns - opt_.isr_latency_ns) break;
    const int64_t t_isr = t_event + opt_.isr_latency_ns;
    // The capture unit latches every transition up to the moment the interrupt runs.
    while (schedule_.next_ns() <= t_isr) {
      const ScriptedEdge e = schedule_.pop();
      TruthEdge truth{e.t_ns, e.input, e.kind, ticks_.tick_at(e.t_ns), 0, EdgeFate::filtered};
      truth_.push_back(truth);
      truth_resolved_.push_back(false);
      if (((capture_mask_ >> e.input) & 1u) != 0) {
        captures_.push_back(RawCapture{e.input, static_cast<uint32_t>(truth.tick), e.kind});
      }
    }
    in_isr_ = true;
    isr_time_ns_ = t_isr;
    for (int pass = 0; pass < kMaxIsrPasses && (pass == 0 || !captures_.empty() || timer_overflow_pending()); ++pass) {
      core_->timer_isr();
    }
    in_isr_ = false;
  }
  const int64_t horizon_ns = now_ns - kTruthHorizonNs;
  while (!truth_.empty() && (truth_resolved_.front() || truth_.front().t_ns < horizon_ns)) {
    if (sink_) sink_(truth_.front());
    truth_.pop_front();
    truth_resolved_.pop_front();
  }
}

void HostPort::flush_truth() {
  while (!truth_.empty()) {
    if (sink_) sink_(truth_.front());
    truth_.pop_front();
    truth_resolved_.pop_front();
  }
}

void HostPort::edge_detected(const EdgeRecord& edge, bool dropped) {
  for (size_t i = truth_.size(); i-- > 0;) {
    TruthEdge& t = truth_[i];
    if (!truth_resolved_[i] && t.input == edge.input && t.tick == edge.tick) {
      t.seq = edge.seq;
      t.fate = dropped ? EdgeFate::dropped : EdgeFate::sent;
      truth_resolved_[i] = true;
      return;
    }
  }
  ++unmatched_;  // the core stamped a tick no transition had: a tick-extension bug
}

void HostPort::from_host(std::span<const uint8_t> bytes, int64_t t_ns) {
  if (bytes.empty()) return;
  rx_bytes_ += bytes.size();
  // A serial link does not reorder: a chunk never overtakes the one before it.
  last_rx_due_ns_ = std::max(t_ns + link_delay_ns(), last_rx_due_ns_);
  rx_.push_back(Chunk{last_rx_due_ns_, std::vector<uint8_t>(bytes.begin(), bytes.end())});
}

std::vector<uint8_t> HostPort::to_host(int64_t now_ns) {
  std::vector<uint8_t> out;
  while (!tx_.empty() && tx_.front().due_ns <= now_ns) {
    out.insert(out.end(), tx_.front().bytes.begin(), tx_.front().bytes.end());
    tx_.pop_front();
  }
  tx_bytes_ += out.size();
  return out;
}

int64_t HostPort::next_event_ns() const {
  int64_t t = std::min(schedule_.next_ns(), next_wrap_ns());
  if (t != kNever) t += opt_.isr_latency_ns;
  return std::min(t, next_link_event_ns());
}

int64_t HostPort::next_link_event_ns() const {
  int64_t t = kNever;
  if (!rx_.empty()) t = std::min(t, rx_.front().due_ns);
  if (!tx_.empty()) t = std::min(t, tx_.front().due_ns);
  return t;
}

void HostPort::poll_at(int64_t t_ns) {
  if (core_ == nullptr) return;
  // The core's time never runs backwards: bytes left over from an earlier pass (one pass reads
  // at most BridgeCore::kMaxRxBytesPerPoll) are handled at the later time.
  poll_time_ns_ = std::max(t_ns, poll_time_ns_);
  in_poll_at_ = true;
  core_->poll();
  in_poll_at_ = false;
}

uint32_t HostPort::timer_count() { return static_cast<uint32_t>(ticks_.tick_at(now_ns())); }

bool HostPort::timer_overflow_pending() { return wraps_at(now_ns()) != cleared_wraps_; }

void HostPort::timer_overflow_clear() { cleared_wraps_ = wraps_at(now_ns()); }

bool HostPort::capture_read(RawCapture* out) {
  if (captures_.empty()) return false;
  *out = captures_.front();
  captures_.pop_front();
  return true;
}

bool HostPort::uart_write(uint8_t byte) {
  tx_frame_.push_back(byte);
  if (byte == 0x00) {
    // Whole frames cross the link (a USB packet, a pseudo-terminal write).
    last_tx_due_ns_ = std::max(now_ns() + link_delay_ns(), last_tx_due_ns_);
    tx_.push_back(Chunk{last_tx_due_ns_, std::move(tx_frame_)});
    tx_frame_.clear();
  }
  return true;
}

bool HostPort::uart_read(uint8_t* byte) {
  if (rx_.empty() || rx_.front().due_ns > now_ns()) return false;
  *byte = rx_.front().bytes[rx_pos_++];
  if (rx_pos_ == rx_.front().bytes.size()) {  // chunks are never empty (from_host)
    rx_.pop_front();
    rx_pos_ = 0;
  }
  return true;
}

}  // namespace opsync::fw::host
