// The Maccor MacNet cycler driver (sans-IO): polls one tester channel with function (4,7) over
// JSON-RPC (TCP 57570) or binary (TCP 57560), one request in flight, and turns the readings into
// samples stamped at the midpoint of request and reply, step/cycle/status events, and a fit of
// the tester PC's clock (TesterTime) against reference time for diagnosis and replay.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clock/sync_regression.h"
#include "core/config_problem.h"
#include "drivers/driver.h"
#include "drivers/event_limiter.h"
#include "drivers/macnet/macnet_codec.h"

namespace opsync::drivers::macnet {

struct MacnetConfig {
  macnet::Mode mode = macnet::Mode::kJson;
  // 1-based, as the tester's software and its users count; the wire carries tester_channel - 1.
  int tester_channel = 1;
  int64_t poll_period_ns = 100'000'000;
  int64_t reply_timeout_ns = 2'000'000'000;
  // Offset (local - UTC) of the tester PC's clock for the zone-less JSON TesterTime. The doc
  // leaves it UNCONFIRMED whether that string is local time; 0 takes it as UTC.
  int32_t tester_clock_zone_offset_s = 0;
  int max_consecutive_timeouts = 3;                // then ask the runner to reconnect
  int64_t clock_model_period_ns = 10'000'000'000;  // emit the tester-clock fit at most this often
  // cycle, step, rf1, rf2, stat are step functions: record them when they change (and on the
  // first reading of a connection) instead of ten identical rows a second.
  bool state_samples_on_change_only = true;
  // Tester-clock fit: 256 exchanges at 100 ms span ~26 s, enough to see drift through 1 ms
  // quantisation. A Windows PC answering from an application loop can take tens of ms.
  size_t sync_window = 256;
  int64_t sync_max_rtt_ns = 100'000'000;

  uint16_t wire_channel() const { return static_cast<uint16_t>(tester_channel - 1); }
  // Empty when usable, else what is wrong, by station.toml key (the driver clamps values it
  // cannot use, but the daemon refuses a config with problems).
  ConfigProblems problems() const;
};

// Beyond DriverCounters: replies that answered nothing pending, and JSON-RPC error replies.
struct MacnetStats {
  uint64_t readings = 0;
  uint64_t echoes = 0;
  uint64_t late_replies = 0;
  uint64_t macnet_errors = 0;
  uint64_t sync_points = 0;  // exchanges offered to the tester-clock fit
};

class MacnetDriver final : public Driver {
 public:
  // Channel indices, in the order of channels().
  enum Channel : size_t {
    kVoltage = 0,
    kCurrent,
    kCapacity,
    kEnergy,
    kTestTime,
    kStepTime,
    kCycle,
    kStep,
    kRf1,
    kRf2,
    kStat,
    kChannelCount
  };

  explicit MacnetDriver(MacnetConfig config);

  std::string_view kind() const override { return "cycler"; }
  const std::vector<ChannelSpec>& channels() const override { return channels_; }
  // The host given here is also used by on_disconnect (to store the final clock fit), so it
  // must stay alive until on_disconnect returns.
  void on_connect(DriverHost& host, int64_t t_ns) override;
  void on_bytes(DriverHost& host, std::span<const uint8_t> bytes, int64_t t_ns) override;
  void on_tick(DriverHost& host, int64_t t_ns) override;
  int64_t next_deadline_ns() const override;
  void on_disconnect(DriverHost& host, int64_t t_ns) override;
  // Nothing to make safe (the driver only reads); stores the final tester-clock fit.
  void on_stop(DriverHost& host, int64_t t_ns) override;
  const DriverCounters& counters() const override { return counters_; }

  const MacnetConfig& config() const { return config_; }
  const MacnetStats& stats() const { return stats_; }
  const clock::SyncRegression& tester_clock() const { return sync_; }
  const std::optional<macnet::ChannelReading>& last_reading() const { return last_; }

 private:
  enum class Pending : uint8_t { kNone, kEcho, kReading };

  void send_echo(DriverHost& host, int64_t t_ns);
  void send_poll(DriverHost& host, int64_t t_ns);
  void send_bytes(DriverHost& host, std::span<const uint8_t> bytes);
  void handle_timeout(DriverHost& host, int64_t t_ns);
  void handle_binary(DriverHost& host, int64_t t_ns);
  void handle_json(DriverHost& host, int64_t t_ns);
  void on_echo_reply(DriverHost& host, int64_t t_ns);
  void on_reading(DriverHost& host, const macnet::ChannelReading& r, int64_t t_ns);
  void on_macnet_error(DriverHost& host, const macnet::JsonReply& reply, int64_t t_ns);
  void late_reply(DriverHost& host, std::string_view what, int64_t t_ns);
  void malformed(DriverHost& host, const std::string& problem, int64_t t_ns);
  void emit_samples(DriverHost& host, const macnet::ChannelReading& r, int64_t t_ns);
  void emit_events(DriverHost& host, const macnet::ChannelReading& r, int64_t t_ns);
  void feed_tester_clock(DriverHost& host, const macnet::ChannelReading& r, int64_t t1_ns, int64_t t4_ns);
  void emit_clock_model(DriverHost& host, int64_t t_ns, bool force);
  std::string channel_text() const;

  MacnetConfig config_;
  std::vector<ChannelSpec> channels_;
  DriverCounters counters_;
  MacnetStats stats_;

  bool connected_ = false;
  bool link_down_ = false;  // reconnect requested; wait for the runner
  Pending pending_ = Pending::kNone;
  int64_t request_sent_ns_ = 0;
  int64_t pending_id_ = 0;  // JSON id of the request in flight
  int64_t next_id_ = 1;
  int64_t next_poll_ns_ = 0;
  int consecutive_timeouts_ = 0;
  bool first_reading_of_connection_ = true;

  macnet::BinaryFrameReader binary_reader_;
  macnet::JsonObjectFramer json_framer_{/*require_crlf=*/true};

  std::optional<macnet::ChannelReading> last_;
  bool tester_time_reported_ = false;  // the TesterTime encoding is reported once per driver

  // JSON-RPC errors repeat every poll when a setting is wrong: report a new message at once,
  // a repeated one at most every 10 s with the count.
  std::string last_error_message_;
  int64_t last_error_event_ns_ = 0;
  uint64_t errors_since_event_ = 0;

  // timeout, malformed, late_reply and macnet_error events, at most 5 per second each.
  EventLimiter limiter_;

  clock::SyncRegression sync_;
  int64_t last_model_emit_ns_ = 0;
  bool model_emitted_ = false;
  uint64_t sync_points_at_emit_ = 0;
};

}  // namespace opsync::drivers::macnet
