// A DriverHost for tests: records what a driver sends (with the time of the call that sent it),
// its samples, events, clock models and reconnect requests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/driver.h"

namespace opsync::daemon::rga::testing {

class FakeHost final : public DriverHost {
 public:
  struct Sent {
    int64_t t_ns = 0;
    std::string bytes;
  };
  struct SampleRecord {
    size_t channel = 0;
    int64_t t_ns = 0;
    double value = 0;
  };
  struct EventRecord {
    int64_t t_ns = 0;
    std::string kind;
    std::string detail;
  };

  using DriverHost::send;
  void send(std::span<const uint8_t> bytes) override {
    sent.push_back(Sent{now_ns, std::string(bytes.begin(), bytes.end())});
  }
  void sample(size_t channel_index, int64_t t_ns, double value) override {
    samples.push_back(SampleRecord{channel_index, t_ns, value});
  }
  void event(int64_t t_ns, std::string_view kind, std::string detail) override {
    events.push_back(EventRecord{t_ns, std::string(kind), std::move(detail)});
  }
  void scan(const store::Scan& /*scan*/) override { ++scans; }
  void clock_model(const store::ClockModel& model) override { clock_models.push_back(model); }
  void request_reconnect(std::string reason) override { reconnects.push_back(std::move(reason)); }

  // Everything sent since the last call, concatenated.
  std::string take_sent() {
    std::string out;
    for (size_t i = taken_; i < sent.size(); ++i) out += sent[i].bytes;
    taken_ = sent.size();
    return out;
  }
  size_t count_events(std::string_view kind) const {
    return static_cast<size_t>(
        std::count_if(events.begin(), events.end(), [&](const EventRecord& e) { return e.kind == kind; }));
  }
  const EventRecord* last_event(std::string_view kind) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (it->kind == kind) return &*it;
    }
    return nullptr;
  }

  int64_t now_ns = 0;  // the time of the driver call in progress; set by the test
  std::vector<Sent> sent;
  std::vector<SampleRecord> samples;
  std::vector<EventRecord> events;
  std::vector<store::ClockModel> clock_models;
  std::vector<std::string> reconnects;
  int scans = 0;

 private:
  size_t taken_ = 0;
};

inline std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace opsync::daemon::rga::testing
