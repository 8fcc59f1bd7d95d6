// The one DriverHost test double: records everything a driver emits (sends with the time of
// the driver call that made them, samples, events, scans, clock models, reconnect requests);
// tests drive time themselves and set now_ns before each driver call when send times matter.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/driver.h"

namespace opsync::test {

struct RecordedSend {
  int64_t t_ns = 0;   // the host's now_ns when the driver sent it
  std::string bytes;  // as sent, binary or text
};

struct RecordedSample {
  size_t channel = 0;
  int64_t t_ns = 0;
  double value = 0;
};

struct RecordedEvent {
  int64_t t_ns = 0;
  std::string kind;
  std::string detail;
};

class RecordingHost : public drivers::DriverHost {
 public:
  using drivers::DriverHost::send;
  void send(std::span<const uint8_t> bytes) override { sent.push_back({now_ns, std::string(bytes.begin(), bytes.end())}); }
  void sample(size_t channel, int64_t t_ns, double value) override { samples.push_back({channel, t_ns, value}); }
  void event(int64_t t_ns, std::string_view kind, std::string detail) override {
    events.push_back({t_ns, std::string(kind), std::move(detail)});
  }
  void scan(const records::Scan& s) override { scans.push_back(s); }
  void clock_model(const records::ClockModel& m) override { clock_models.push_back(m); }
  void request_reconnect(std::string reason) override { reconnects.push_back(std::move(reason)); }

  // Send i as bytes, and as text.
  std::vector<uint8_t> sent_bytes(size_t i) const { return {sent.at(i).bytes.begin(), sent.at(i).bytes.end()}; }
  std::vector<uint8_t> last_sent_bytes() const { return sent_bytes(sent.size() - 1); }
  std::string sent_text(size_t i) const { return sent.at(i).bytes; }
  // Everything sent since the last take, concatenated.
  std::string take_sent() {
    std::string out;
    for (; taken_ < sent.size(); ++taken_) out += sent[taken_].bytes;
    return out;
  }
  std::vector<uint8_t> take_sent_bytes() {
    const std::string s = take_sent();
    return {s.begin(), s.end()};
  }

  size_t count(std::string_view kind) const {
    return static_cast<size_t>(
        std::count_if(events.begin(), events.end(), [&](const RecordedEvent& e) { return e.kind == kind; }));
  }
  const RecordedEvent* first_event(std::string_view kind) const {
    for (const RecordedEvent& e : events) {
      if (e.kind == kind) return &e;
    }
    return nullptr;
  }
  const RecordedEvent* last_event(std::string_view kind) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (it->kind == kind) return &*it;
    }
    return nullptr;
  }
  std::vector<RecordedEvent> events_of(std::string_view kind) const {
    std::vector<RecordedEvent> out;
    for (const RecordedEvent& e : events) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }
  std::vector<RecordedSample> samples_of(size_t channel) const {
    std::vector<RecordedSample> out;
    for (const RecordedSample& s : samples) {
      if (s.channel == channel) out.push_back(s);
    }
    return out;
  }

  int64_t now_ns = 0;  // the time of the driver call in progress, for sent[].t_ns
  std::vector<RecordedSend> sent;
  std::vector<RecordedSample> samples;
  std::vector<RecordedEvent> events;
  std::vector<records::Scan> scans;
  std::vector<records::ClockModel> clock_models;
  std::vector<std::string> reconnects;

 private:
  size_t taken_ = 0;
};

inline std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace opsync::test
