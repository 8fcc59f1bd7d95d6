// Simulated trigger bridge: speaks the bridge protocol byte for byte with its own drifting,
// steppable timer, time-stamps a scenario's trigger edges with it and answers sync pings, and
// keeps the truth (true time of every edge) so tests and benchmarks can score the host's mapping.
//
// Device clock: tick(t) = tick0 + floor((elapsed(t) x (1 + drift_ppm x 1e-6) + offset_ns) x tick_hz / 1e9),
// elapsed(t) = t - origin_ns; clock_step:<ns> adds to offset_ns. Computed in double from the
// origin, so keep the origin near the scenario (sub-tick exact for weeks of elapsed time).
// Link jitter is the server's: the simulator takes arrival times as given.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/bridge/bridge_messages.h"
#include "drivers/bridge/frame.h"
#include "drivers/sim_device.h"

namespace opsync::drivers::bridge {

struct ScheduledEdge {
  int64_t t_ns = 0;  // true time of the transition (simulation/reference clock)
  uint32_t input = 0;
  EdgeKind edge = EDGE_KIND_RISING;
};

enum class EdgeFate {
  sent,          // Edge frame sent intact
  corrupted,     // sent with a bad CRC (inject bad_crc): the host cannot read it
  dropped,       // ring overflow (inject drop_edges): seq used, no frame
  disconnected,  // no host connected when it was to be sent
};

// One edge the device detected (filtered edges are not in the truth: they get no seq).
struct TruthEdge {
  uint32_t seq = 0;
  int64_t t_ns = 0;  // true time
  uint32_t input = 0;
  EdgeKind edge = EDGE_KIND_RISING;
  uint64_t tick = 0;  // what the device stamped
  EdgeFate fate = EdgeFate::sent;
};

struct BridgeSimOptions {
  uint32_t tick_hz = 168'000'000;
  double drift_ppm = 0;      // device clock runs fast by this
  int64_t offset_ns = 0;     // device clock ahead of the reference at origin
  uint64_t tick0 = 0;        // counter value at origin
  std::optional<int64_t> origin_ns;  // default: the time of the first call
  int64_t processing_delay_ns = 20'000;   // SyncRequest received (t2) -> reply sent (t3)
  int64_t edge_report_delay_ns = 5'000;   // edge latched -> its frame leaves (ISR, ring, USB packet)
  int64_t heartbeat_period_ns = 1'000'000'000;
  bool running_at_power_on = false;       // edges are reported only after Start otherwise
  std::string firmware_version = "sim-1.0";
  uint64_t seed = 1;                      // for garbage bytes
  std::vector<ScheduledEdge> schedule;    // true edges of the scenario (any order)
};

class BridgeSimulator final : public drivers::SimDevice {
 public:
  explicit BridgeSimulator(BridgeSimOptions options);

  void on_connect(int64_t t_ns) override;
  void on_bytes(std::span<const uint8_t> bytes, int64_t t_ns) override;
  void on_tick(int64_t t_ns) override;
  int64_t next_deadline_ns() const override;
  std::vector<uint8_t> take_output() override;
  void on_disconnect(int64_t t_ns) override;
  // bad_crc (next frame's CRC), garbage (random bytes then a delimiter), clock_step:<ns>,
  // drop_edges:<n> (next n detected edges lost to a full ring, counted in edges_dropped).
  bool inject(std::string_view fault) override;

  // The device clock at simulation time t_ns (requires the origin to be set).
  uint64_t tick_at(int64_t t_ns) const;
  const std::vector<TruthEdge>& truth() const { return truth_; }
  bool running() const { return running_; }
  const Counters& counters() const { return counters_; }
  const Configure& configuration() const { return config_; }
  const FrameStats& frame_stats() const { return decoder_.stats(); }

 private:
  struct Outgoing {
    int64_t due_ns;
    std::vector<uint8_t> bytes;
    std::optional<size_t> truth_index;  // the edge this frame carries
  };

  void advance(int64_t t_ns);
  bool detects(const ScheduledEdge& e) const;
  void queue(int64_t due_ns, const Envelope& envelope, std::optional<size_t> truth_index = std::nullopt);
  void queue_bytes(Outgoing out);
  void handle_frame(const FrameResult& frame, int64_t t_ns);
  void send_error(int64_t t_ns, ErrorCode code, std::string detail);

  BridgeSimOptions opt_;
  std::optional<int64_t> origin_ns_;
  int64_t offset_ns_;
  int64_t now_ns_ = 0;
  bool connected_ = false;
  bool running_;
  Configure config_;
  Counters counters_;
  std::array<std::optional<int64_t>, 4> last_accepted_ns_{};  // for holdoff
  size_t next_edge_ = 0;
  int64_t next_heartbeat_ns_ = 0;
  bool corrupt_next_ = false;
  uint64_t drop_remaining_ = 0;
  std::deque<Outgoing> out_;
  std::vector<TruthEdge> truth_;
  FrameDecoder decoder_;
  std::mt19937_64 rng_;
};

}  // namespace opsync::drivers::bridge
