// A simulated Maccor MacNet server (sans-IO SimDevice): answers echo and (4,7) in JSON-RPC or
// binary, (4,1)/(4,2)/(4,3) in binary, with channel values from a scenario model evaluated when
// the request arrives, and TesterTime from a tester-PC clock with settable offset and drift.
// Unlike the pymacnet spoofer it validates requests and sends the doc's JSON-RPC error texts.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/macnet/macnet_codec.h"
#include "drivers/sim_device.h"
#include "drivers/sim_world.h"

namespace opsync::drivers::macnet {

struct MacnetSimOptions {
  macnet::Mode mode = macnet::Mode::kJson;
  std::vector<uint16_t> wire_channels = {0, 1, 2, 3, 4, 5, 6, 7};  // tester channels 1..8
  bool pretty_json = true;                                         // the real server pretty-prints its replies
  // Tester PC clock: tester_ns = t_ns + (t_ns - drift_anchor_ns) * drift_ppm * 1e-6 + offset_ms * 1e6,
  // TesterTime = floor(tester_ns / 1e6) ms. With drift_anchor_ns = 0 this is the plain
  // (t_ns * (1 + drift) + offset) / 1e6; an anchor at the scenario start keeps offset_ms meaningful.
  int64_t tester_offset_ms = 0;
  double tester_drift_ppm = 0;
  int64_t tester_drift_anchor_ns = 0;
  int32_t tester_zone_offset_s = 0;  // local - UTC of the JSON ISO TesterTime
  int64_t reply_delay_ns = 0;        // server processing time before a reply leaves
  // The scenario; every served channel reports it. Unset: an idle channel (all zero, Available).
  std::function<CellState(int64_t t_ns)> model;
};

struct MacnetSimStats {
  uint64_t requests = 0;
  uint64_t replies = 0;
  uint64_t errors = 0;      // JSON-RPC error replies sent
  uint64_t ignored = 0;     // binary requests not answered (unknown function or channel)
  uint64_t unanswered = 0;  // requests swallowed while stalled
};

class MacnetSimulator final : public SimDevice {
 public:
  explicit MacnetSimulator(MacnetSimOptions options);

  void on_connect(int64_t t_ns) override;
  void on_bytes(std::span<const uint8_t> bytes, int64_t t_ns) override;
  void on_tick(int64_t t_ns) override;
  int64_t next_deadline_ns() const override;
  std::vector<uint8_t> take_output() override;
  void on_disconnect(int64_t t_ns) override;
  // "stall" / "unstall": stop / resume answering (requests meanwhile are swallowed);
  // "tester_clock_step:<ms>": step the tester clock by a signed number of ms.
  bool inject(std::string_view fault) override;

  // The tester PC clock at sim time t_ns, Unix ms.
  int64_t tester_time_ms(int64_t t_ns) const;
  // What (4,7) reports for a wire channel at t_ns.
  macnet::ChannelReading reading_at(uint16_t wire_chan, int64_t t_ns) const;
  const MacnetSimStats& stats() const { return stats_; }
  const MacnetSimOptions& options() const { return opt_; }

 private:
  void handle_binary(int64_t t_ns);
  void handle_json_request(std::string_view text, int64_t t_ns);
  void reply(std::vector<uint8_t> bytes, int64_t t_ns);
  void reply(std::string_view text, int64_t t_ns);
  void json_error(int code, std::string_view message, const macnet::Json& id, int64_t t_ns);
  bool serves(uint16_t wire_chan) const;
  CellState state_at(int64_t t_ns) const;
  void flush_due(int64_t t_ns);

  struct Queued {
    int64_t due_ns;
    std::vector<uint8_t> bytes;
  };

  MacnetSimOptions opt_;
  MacnetSimStats stats_;
  bool stalled_ = false;
  std::vector<uint8_t> binary_buf_;
  macnet::JsonObjectFramer json_framer_{/*require_crlf=*/false};
  std::deque<Queued> queue_;
  std::vector<uint8_t> out_;
};

}  // namespace opsync::drivers::macnet
