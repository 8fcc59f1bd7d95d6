// Test doubles for the bridge tests: a DriverHost that records everything a driver emits, and a
// helper that splits captured bytes back into envelopes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bridge.pb.h"
#include "drivers/bridge/bridge_codec.h"
#include "drivers/bridge/frame.h"
#include "drivers/driver.h"

namespace opsync::bridge::test {

struct FakeHost final : daemon::DriverHost {
  struct SampleRec {
    size_t channel;
    int64_t t_ns;
    double value;
  };
  struct EventRec {
    int64_t t_ns;
    std::string kind;
    std::string detail;
  };

  using daemon::DriverHost::send;
  void send(std::span<const uint8_t> bytes) override {
    sent.insert(sent.end(), bytes.begin(), bytes.end());
    ++send_calls;
  }
  void sample(size_t channel, int64_t t_ns, double value) override { samples.push_back({channel, t_ns, value}); }
  void event(int64_t t_ns, std::string_view kind, std::string detail) override {
    events.push_back({t_ns, std::string(kind), std::move(detail)});
  }
  void scan(const store::Scan& s) override { scans.push_back(s); }
  void clock_model(const store::ClockModel& m) override { models.push_back(m); }
  void request_reconnect(std::string reason) override { reconnects.push_back(std::move(reason)); }

  size_t count(std::string_view kind) const {
    size_t n = 0;
    for (const EventRec& e : events) n += e.kind == kind ? 1 : 0;
    return n;
  }
  const EventRec* find(std::string_view kind) const {
    for (const EventRec& e : events) {
      if (e.kind == kind) return &e;
    }
    return nullptr;
  }
  // Bytes sent since the last call.
  std::vector<uint8_t> take_sent() {
    std::vector<uint8_t> out;
    out.swap(sent);
    return out;
  }

  std::vector<uint8_t> sent;
  size_t send_calls = 0;
  std::vector<SampleRec> samples;
  std::vector<EventRec> events;
  std::vector<store::Scan> scans;
  std::vector<store::ClockModel> models;
  std::vector<std::string> reconnects;
};

// Every intact frame in bytes, decoded; frames that fail are counted in *bad (if given).
inline std::vector<Envelope> decode_frames(std::span<const uint8_t> bytes, size_t* bad = nullptr) {
  std::vector<Envelope> out;
  FrameDecoder decoder;
  FrameResult r;
  for (uint8_t b : bytes) {
    if (!decoder.push(b, &r)) continue;
    std::optional<Envelope> e = r.status == FrameStatus::ok ? decode_envelope(r.payload) : std::nullopt;
    if (e) {
      out.push_back(*e);
    } else if (bad != nullptr) {
      ++*bad;
    }
  }
  return out;
}

}  // namespace opsync::bridge::test
