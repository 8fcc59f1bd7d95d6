// Serving a recording: each recorded source becomes a simulated instrument (TCP listener or
// pseudo-terminal, as it was reached) that answers the daemon's requests from the recorded
// exchange and sends what the instrument sent unasked at its recorded time, on a simulation
// clock that starts where the recording did (1x or N x). opsyncd runs against it with the
// station.toml written next to it, as against `opsync sim`: gpsfake for opsync.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "drivers/sim_device.h"
#include "replay/replay_input.h"
#include "replay/serve_dialect.h"

namespace opsync::replay {

struct ServeOptions {
  double speed = 1.0;
  std::string out_dir = "out/replay";
  double duration_s = 0;  // wall; 0 = until every recording is played out
  double lead_s = 5;      // the served clock starts this long (recorded time) before the first capture
  std::string session;    // session name in the written station.toml; default SESSION-served
};

struct RecordedMessage {
  int64_t t_ns = 0;  // recorded time
  std::string bytes;
};

struct RecordedRequest {
  int64_t t_ns = 0;
  std::string bytes;
  std::string key;
  std::vector<RecordedMessage> replies;  // what followed it, before the next request
};

// One source's recording, as the device plays it.
struct RecordedExchange {
  std::vector<RecordedRequest> requests;
  std::vector<RecordedMessage> unsolicited;  // sent unasked (or before the first request)
  int64_t first_connect_ns = 0;
};
// Cuts a source's recorded steps into requests with their replies, and unasked messages.
RecordedExchange build_exchange(const std::vector<Step>& steps, ServeDialect& framing);

struct RecordedDeviceStats {
  uint64_t requests = 0;   // complete requests from the daemon
  uint64_t answered = 0;   // matched to a recorded request (its recorded replies sent)
  uint64_t unmatched = 0;  // no recorded request like it ahead: no answer, as from a confused device
  uint64_t skipped = 0;    // recorded requests passed over to find a match
  uint64_t unsolicited_sent = 0;
};

// A SimDevice that plays a RecordedExchange. A live request is matched to the next recorded
// request with the same key (looking at most kMatchWindow ahead); its recorded replies follow
// at their recorded delays. Unasked messages keep their recorded spacing, anchored at the
// latest matched request.
class RecordedDevice final : public drivers::SimDevice {
 public:
  static constexpr size_t kMatchWindow = 64;

  RecordedDevice(RecordedExchange exchange, std::unique_ptr<ServeDialect> dialect);

  void on_connect(int64_t t_ns) override;
  void on_bytes(std::span<const uint8_t> bytes, int64_t t_ns) override;
  void on_tick(int64_t t_ns) override;
  int64_t next_deadline_ns() const override;
  std::vector<uint8_t> take_output() override;
  void on_disconnect(int64_t t_ns) override;

  // Every recorded request is behind and every message sent.
  bool played_out() const;
  const RecordedDeviceStats& stats() const { return stats_; }
  // Live time minus recorded time, as of the latest request matched (0 before any connect).
  int64_t offset_ns() const { return offset_ns_; }

 private:
  struct Due {
    int64_t t_ns;
    uint64_t order;
    std::string bytes;
  };
  void schedule(int64_t t_ns, std::string bytes);

  RecordedExchange ex_;
  std::unique_ptr<ServeDialect> dialect_;
  size_t next_request_ = 0;
  size_t next_unsolicited_ = 0;
  bool anchored_ = false;
  int64_t offset_ns_ = 0;  // live time - recorded time
  std::vector<Due> due_;   // replies scheduled, kept sorted by (t, order)
  uint64_t order_ = 0;
  std::vector<uint8_t> out_;
  RecordedDeviceStats stats_;
};

// Serves every source of `input` that has captures until the recording is played out (or
// options.duration_s, or SIGINT/SIGTERM). Writes OUT/station.toml, OUT/clock.json.
void run_serve(ReplayInput& input, const std::string& config_override, const ServeOptions& options);

}  // namespace opsync::replay
