// Per-kind event rate limit with counts of what it suppressed; see event_limiter.h.
#include "drivers/event_limiter.h"

#include <algorithm>
#include <fmt/format.h>

namespace opsync::drivers {
namespace {
constexpr int64_t kWindowNs = 1'000'000'000;
}  // namespace

bool EventLimiter::event(DriverHost& host, DriverCounters& counters, int64_t t_ns, std::string_view kind,
                         std::string detail) {
  auto it = windows_.find(kind);
  if (it == windows_.end()) it = windows_.emplace(std::string(kind), Window{t_ns, 0, 0}).first;
  Window& w = it->second;
  // A new window on time passing, and also if time went back (a reconnect to a replayed link).
  if (t_ns - w.start_ns >= kWindowNs || t_ns < w.start_ns) {
    w.start_ns = t_ns;
    w.emitted = 0;
  }
  if (w.emitted >= max_per_s_) {
    ++w.unreported;
    ++counters.events_suppressed;
    auto k = counters.events_suppressed_by_kind.find(kind);
    if (k == counters.events_suppressed_by_kind.end()) k = counters.events_suppressed_by_kind.emplace(std::string(kind), 0).first;
    ++k->second;
    return false;
  }
  ++w.emitted;
  if (w.unreported > 0) {
    detail += fmt::format(" (+{} like it suppressed by the rate limit)", w.unreported);
    w.unreported = 0;
  }
  host.event(t_ns, kind, std::move(detail));
  return true;
}

void EventLimiter::flush(DriverHost& host, int64_t t_ns, bool force) {
  for (auto& [kind, w] : windows_) {
    if (w.unreported == 0 || (!force && t_ns - w.start_ns < kWindowNs)) continue;
    host.event(t_ns, kind, fmt::format("{} more suppressed by the rate limit (at most {} {} events per second)",
                                       w.unreported, max_per_s_, kind));
    w.unreported = 0;
    // The summary counts as this kind's first event of a new window.
    w.start_ns = t_ns;
    w.emitted = 1;
  }
}

int64_t EventLimiter::next_deadline_ns() const {
  int64_t t = kNoDeadline;
  for (const auto& [kind, w] : windows_) {
    if (w.unreported > 0) t = std::min(t, w.start_ns + kWindowNs);
  }
  return t;
}

uint64_t EventLimiter::unreported() const {
  uint64_t n = 0;
  for (const auto& [kind, w] : windows_) n += w.unreported;
  return n;
}

}  // namespace opsync::drivers
