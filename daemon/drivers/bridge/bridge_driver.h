// Host side of the trigger bridge: configures the microcontroller, pings it to fit its timer onto
// the reference clock (clock::SyncRegression), maps each hardware-stamped trigger edge through the
// fit, and turns edges into samples, scan events and store::Scan rows.
//
// Edges are held until a later sync reply confirms the fit they are mapped with: while the fit
// is warming up (until it spans fit_settle_ns), until it has map_delay_ns of sync points after
// the edge, and while replies deviate (a possible clock step). When the regression restarts after
// a step, held edges that the old fit maps plausibly (within step_threshold/2 of their arrival)
// are emitted with it; the rest wait for the new fit. So no edge is dropped for lack of a fit or
// stamped across a step; the price is that samples come out map_delay_ns (fit_settle_ns after
// start-up or a step) after the edge. Measured in tests/daemon/drivers/bridge/bridge_loop_test.cpp.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/bridge/bridge_messages.h"
#include "clock/sync_regression.h"
#include "core/config_problem.h"
#include "drivers/bridge/frame.h"
#include "drivers/driver.h"
#include "drivers/event_limiter.h"

namespace opsync::drivers::bridge {

struct BridgeConfig {
  // Trigger input (0..3) of each role. scan_start_input == scan_end_input means one gate signal:
  // its rising edge starts a scan and its falling edge ends it.
  uint32_t scan_start_input = 0;
  uint32_t scan_end_input = 1;
  uint32_t detector_frame_input = 2;
  uint32_t debounce_us = 0;  // sent in Configure
  uint32_t holdoff_us = 0;   // sent in Configure

  // Ping period (reference time) and how much of the past the clock fit keeps. The fit is
  // pinned by the exchanges with the shortest delay each way, so more of them per window is
  // what makes it better: six 90 s recordings against opsync-bridge-host (1 ms jitter each way,
  // +-100 ppm) refitted with every exchange (50 Hz, 50 s) gave 6-9 us RMS, with every fifth
  // (10 Hz, 50 s) 6-21 us (firmware_bridge/README.md). Costs ~1 kB/s of link to the bridge and
  // ~1.6 kB/s back (14 % of a 115200-baud UART), and ~0.6 % of a core for the fit.
  int64_t sync_period_ns = 20'000'000;
  int64_t sync_window_ns = 50'000'000'000;
  double tick_hz = 168e6;                      // nominal timer rate until Hello says otherwise
  int64_t max_rtt_ns = 10'000'000;             // longer exchanges carry no timing (PX4's gate)
  int64_t sync_timeout_ns = 1'000'000'000;     // an unanswered ping counts as a timeout after this
  int64_t reply_timeout_ns = 3'000'000'000;    // no reply at all this long: request a reconnect
  // Edges wait until the fit spans fit_settle_ns (after start-up or a clock step: a short fit's
  // rate is poor), then until it has map_delay_ns of sync points after them (the fit is better
  // inside its span than at its newest end). This delays the samples, not their stamps. With
  // 0..1 ms of jitter each way and 100 ms pings, 10 s / 4 s kept every one of 155 simulated runs
  // under 50 us RMS; 6 s / 2 s let a few reach 66 us; map_delay_ns = 0 gave ~0.1 s latency at
  // ~15-35 us RMS.
  int64_t fit_settle_ns = 10'000'000'000;
  int64_t map_delay_ns = 4'000'000'000;
  int64_t clock_model_period_ns = 5'000'000'000;
  int max_events_per_s = 5;                    // per kind, for per-message events; the rest counted
  size_t max_pending_edges = 100'000;          // held edges beyond this are emitted early

  // Problems with the configuration, by station.toml key; empty if it is usable.
  opsync::ConfigProblems problems() const;
};

struct BridgeStats {
  uint64_t edges = 0;              // emitted as samples
  uint64_t edges_lost = 0;         // gaps in Edge.seq (ring overflow, corrupted frames, outages)
  uint64_t edges_dropped = 0;      // the device's own count of ring overflows, as it rose
  uint64_t edges_unmapped = 0;     // emitted at their arrival time for want of a fit
  uint64_t frames_outside_scan = 0;
  uint64_t scans = 0;
  uint64_t sync_sent = 0;
  uint64_t sync_replies = 0;
  uint64_t sync_unmatched = 0;     // replies to no pending ping (late, or a wrong echo)
  uint64_t clock_steps = 0;
  uint64_t device_errors = 0;
  uint64_t edge_seq_resets = 0;    // Edge.seq went back: the bridge restarted (or reset its counters)
};

class BridgeDriver final : public drivers::Driver {
 public:
  explicit BridgeDriver(BridgeConfig config = {});

  std::string_view kind() const override { return "bridge"; }
  const std::vector<drivers::ChannelSpec>& channels() const override { return channels_; }
  void on_connect(drivers::DriverHost& host, int64_t t_ns) override;
  void on_bytes(drivers::DriverHost& host, std::span<const uint8_t> bytes, int64_t t_ns) override;
  void on_tick(drivers::DriverHost& host, int64_t t_ns) override;
  int64_t next_deadline_ns() const override;
  // Emits the edges the current fit can map and the clock model through the host of the last
  // on_connect (Driver::on_disconnect has no host parameter; the host outlives the connection).
  void on_disconnect(drivers::DriverHost& host, int64_t t_ns) override;
  const drivers::DriverCounters& counters() const override { return counters_; }

  const BridgeConfig& config() const { return config_; }
  const BridgeStats& stats() const { return stats_; }
  const FrameStats& frame_stats() const { return decoder_.stats(); }
  const clock::SyncRegression& regression() const { return regression_; }
  // Every completed sync exchange of the session (t1, t4 reference ns; t2, t3 ticks), kept for
  // non-causal refits (32 bytes each: ~1.2 MB per hour at 10 Hz).
  // The most recent raw exchanges (bounded: a days-long session must not grow the daemon;
  // the full record of every exchange is in the session's raw captures).
  const std::deque<clock::SyncExchange>& sync_exchanges() const { return exchanges_; }
  static constexpr size_t kMaxKeptExchanges = 36'000;  // 12 minutes at 50 Hz
  size_t pending_edges() const { return pending_.size(); }

 private:
  struct PendingPing {
    uint32_t seq;
    int64_t t1_ns;
  };
  struct PendingEdge {
    uint32_t seq;
    uint32_t input;
    EdgeKind edge;
    int64_t tick;
    int64_t arrival_ns;
  };

  void send(drivers::DriverHost& host, const Envelope& envelope);
  void send_ping(drivers::DriverHost& host, int64_t t_ns);
  void handle_frame(drivers::DriverHost& host, const FrameResult& frame, int64_t t_ns);
  void handle_envelope(drivers::DriverHost& host, const Envelope& envelope, int64_t t_ns);
  void handle_hello(drivers::DriverHost& host, const Hello& hello, int64_t t_ns);
  void handle_edge(drivers::DriverHost& host, const Edge& edge, int64_t t_ns);
  void handle_sync_reply(drivers::DriverHost& host, const SyncReply& reply, int64_t t4_ns);
  void handle_counters(drivers::DriverHost& host, const Counters& counters, int64_t t_ns);
  void add_exchange(drivers::DriverHost& host, const clock::SyncExchange& x, int64_t t_ns);
  // Emits held edges in order while `fit` maps them within step_threshold/2 of their arrival;
  // returns how many it emitted.
  size_t release_plausible(drivers::DriverHost& host, const clock::SyncRegression& fit);
  void emit_edge(drivers::DriverHost& host, const PendingEdge& edge, int64_t t_ns);
  void emit_unmapped(drivers::DriverHost& host, const PendingEdge& edge);
  void emit_clock_model(drivers::DriverHost& host, int64_t t_ns);
  // Per-message events (bad frames, sequence gaps, ...) go through the rate limit.
  void limited_event(drivers::DriverHost& host, int64_t t_ns, std::string_view kind, std::string detail);
  clock::SyncOptions sync_options() const;

  BridgeConfig config_;
  std::vector<drivers::ChannelSpec> channels_;
  drivers::DriverCounters counters_;
  BridgeStats stats_;
  FrameDecoder decoder_;
  clock::SyncRegression regression_;
  std::deque<clock::SyncExchange> exchanges_;
  std::deque<PendingPing> pings_;
  std::deque<PendingEdge> pending_;
  drivers::EventLimiter limiter_;

  bool connected_ = false;
  bool reconnect_requested_ = false;
  int64_t next_sync_ns_ = 0;
  int64_t last_reply_ns_ = 0;
  int64_t next_model_ns_ = 0;
  uint32_t next_ping_seq_ = 1;
  std::optional<int64_t> fit_start_ns_;  // first point of the current fit (after a restart)
  std::optional<uint32_t> expected_edge_seq_;
  std::optional<Counters> device_counters_;  // last seen, to report increases

  // Scan assembly from role edges.
  int64_t scans_started_ = 0;
  bool scan_open_ = false;
  int64_t scan_start_ns_ = 0;
  int64_t scan_frames_ = 0;
};

}  // namespace opsync::drivers::bridge
