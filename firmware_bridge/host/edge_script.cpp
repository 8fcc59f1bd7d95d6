// Edge files, pulse trains and their merge; see edge_script.h.
#include "host/edge_script.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace opsync::fw::host {
namespace {

std::vector<std::string_view> split_fields(std::string_view line, std::string_view separators) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && separators.find(line[i]) != std::string_view::npos) ++i;
    const size_t start = i;
    while (i < line.size() && separators.find(line[i]) == std::string_view::npos) ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

bool parse_double(std::string_view text, double* value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return ec == std::errc() && ptr == end && std::isfinite(*value);
}

bool parse_u64(std::string_view text, uint64_t* value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return ec == std::errc() && ptr == end;
}

int64_t seconds_to_ns(double s) { return std::llround(s * 1e9); }

}  // namespace

bool parse_edge_file(std::string_view text, int64_t start_ns, std::vector<ScriptedEdge>& out, std::string& error) {
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    const std::vector<std::string_view> f = split_fields(line, " \t,\r");
    if (f.empty()) continue;
    double t_s = 0;
    uint64_t input = 0;
    if (f.size() != 3 || !parse_double(f[0], &t_s) || t_s < 0 || !parse_u64(f[1], &input) || input >= kInputCount) {
      error = fmt::format("line {}: expected \"t_s input edge\" with t_s >= 0, input 0..3 and edge rising|falling, "
                           "got \"{}\"",
                           line_no, line);
      return false;
    }
    ScriptedEdge e{start_ns + seconds_to_ns(t_s), static_cast<uint8_t>(input), EdgeKind::rising};
    if (f[2] == "rising" || f[2] == "r" || f[2] == "1") {
      e.kind = EdgeKind::rising;
    } else if (f[2] == "falling" || f[2] == "f" || f[2] == "2") {
      e.kind = EdgeKind::falling;
    } else {
      error = fmt::format("line {}: edge must be rising or falling, got \"{}\"", line_no, f[2]);
      return false;
    }
    out.push_back(e);
  }
  return true;
}

bool parse_pulse_train(std::string_view spec, int64_t start_ns, PulseTrain& out, std::string& error) {
  const std::vector<std::string_view> f = split_fields(spec, ":");
  uint64_t input = 0;
  double period_ms = 0, width_ms = -1, start_s = 1;
  uint64_t count = 0;
  bool ok = f.size() >= 2 && f.size() <= 5 && parse_u64(f[0], &input) && input < kInputCount &&
            parse_double(f[1], &period_ms) && period_ms > 0;
  if (ok && f.size() >= 3) ok = parse_double(f[2], &width_ms) && width_ms > 0 && width_ms < period_ms;
  if (ok && f.size() >= 4) ok = parse_double(f[3], &start_s) && start_s >= 0;
  if (ok && f.size() >= 5) ok = parse_u64(f[4], &count);
  if (!ok) {
    error = fmt::format("pulse train \"{}\": expected INPUT:PERIOD_MS[:WIDTH_MS[:START_S[:COUNT]]] with input 0..3 "
                         "and 0 < WIDTH_MS < PERIOD_MS, e.g. 2:20 or 0:2000:850:1.5:100",
                         spec);
    return false;
  }
  if (width_ms < 0) width_ms = period_ms / 2;
  out = PulseTrain{static_cast<uint8_t>(input), std::llround(period_ms * 1e6), std::llround(width_ms * 1e6),
                    start_ns + seconds_to_ns(start_s), count};
  return true;
}

void EdgeSchedule::add(std::vector<ScriptedEdge> edges) {
  fixed_.erase(fixed_.begin(), fixed_.begin() + static_cast<std::ptrdiff_t>(fixed_next_));
  fixed_next_ = 0;
  fixed_.insert(fixed_.end(), edges.begin(), edges.end());
  std::stable_sort(fixed_.begin(), fixed_.end(), [](const ScriptedEdge& a, const ScriptedEdge& b) { return a.t_ns < b.t_ns; });
}

void EdgeSchedule::add(const PulseTrain& train) { trains_.push_back(Train{train, 0}); }

int64_t EdgeSchedule::Train::time_of(uint64_t transition) const {
  return spec.start_ns + static_cast<int64_t>(transition / 2) * spec.period_ns + (transition % 2 == 1 ? spec.width_ns : 0);
}

bool EdgeSchedule::Train::done() const { return spec.count != 0 && next_transition >= 2 * spec.count; }

int64_t EdgeSchedule::next_ns() const {
  int64_t t = fixed_next_ < fixed_.size() ? fixed_[fixed_next_].t_ns : kNever;
  for (const Train& tr : trains_) {
    if (!tr.done()) t = std::min(t, tr.time_of(tr.next_transition));
  }
  return t;
}

ScriptedEdge EdgeSchedule::pop() {
  // The earliest source; the file wins a tie (then trains in the order given).
  int64_t best = fixed_next_ < fixed_.size() ? fixed_[fixed_next_].t_ns : kNever;
  Train* from = nullptr;
  for (Train& tr : trains_) {
    if (!tr.done() && tr.time_of(tr.next_transition) < best) {
      best = tr.time_of(tr.next_transition);
      from = &tr;
    }
  }
  if (from == nullptr) return fixed_[fixed_next_++];
  const uint64_t n = from->next_transition++;
  return ScriptedEdge{best, from->spec.input, n % 2 == 0 ? EdgeKind::rising : EdgeKind::falling};
}

}  // namespace opsync::fw::host
