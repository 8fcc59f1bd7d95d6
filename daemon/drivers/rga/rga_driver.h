// DEMS driver for the SRS RGA100/200/300: logs in (TCP 818), identifies, sets up the ioniser and
// detector, then reads single masses (MRn) in a loop and records each ion current stamped at
// the midpoint of request and reply. Sans-IO (see drivers/driver.h); protocol facts live in
// rga_codec.h and shared/protocols/srs-rga.md.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/config_problem.h"
#include "drivers/driver.h"
#include "drivers/event_limiter.h"
#include "drivers/rga/rga_codec.h"

namespace opsync::drivers::rga {

struct RgaConfig {
  std::vector<int> masses{32, 44};  // m/z read each loop, in this order; 1..300 (and <= M_MAX)
  int noise_floor = 4;              // NF 0..7: higher is faster and noisier (gate times in rga_codec.h)
  double emission_ma = 1.0;         // FL, 0..3.5 mA
  int cdem_voltage_v = 0;           // HV 0..2490 V; 0 = Faraday cup
  bool calibrate = true;            // CA (zero the detector for these settings) before the loop
  bool tcp_login = false;           // RGA Ethernet adapter on TCP 818: log in first
  std::string user = "admin";
  std::string password = "admin";
  int status_every_n_loops = 10;    // ER? after every N loops; 0 = never
  int64_t period_ns = 0;            // between loop starts; 0 = continuous
  int64_t hardware_timeout_ns = 30'000'000'000;    // FL, HV (and FL0 on stop): slow, filament heats
  int64_t calibrate_timeout_ns = 120'000'000'000;  // CA (srsinst waits up to 120 s)
  // Multiplies every reply timeout and the trailing-CR wait. For accelerated simulations, where a
  // millisecond of host scheduling is many simulated milliseconds; 1 with a real instrument.
  double timeout_scale = 1.0;

  // Problems with the configuration, by station.toml key; empty if it is usable. The driver
  // clamps out-of-range values and drops bad masses so that it never sends a bad parameter,
  // but the daemon refuses a config that has problems.
  ConfigProblems problems() const;
};

// "O2 ion current (m/z 32)", "CO2 ion current (m/z 44)", otherwise "m/z N ion current".
std::string channel_quantity(int mass);

class RgaDriver final : public Driver {
 public:
  // Delays the driver chooses itself (not in the doc), with the reason.
  // After an ASCII reply ended at LF: the CR may still be on its way; it must be consumed before
  // the next command or it could be taken as the first byte of a binary reply.
  static constexpr int64_t kTrailingCrWait_ns = 20'000'000;
  // After a command with no reply (NF, MR0): bytes in this window are reported as unexpected
  // (e.g. an old firmware echoing a STATUS for NF, as the QMS manual says) instead of being read
  // as the next command's reply.
  static constexpr int64_t kNoReplySettle_ns = 50'000'000;
  // Minimum quiet-down time after malformed input before the command is sent again; the window
  // also covers one gate time so that a late MR reply is discarded, not taken for the re-sent one.
  static constexpr int64_t kMinFlush_ns = 200'000'000;
  static constexpr int kMaxConsecutiveTimeouts = 3;
  static constexpr int kMaxConsecutiveMalformed = 5;
  // Clock model: re-emit when the uncertainty moves by more than this fraction, at most once
  // per this much reference time.
  static constexpr double kClockModelChange = 0.2;
  static constexpr int64_t kClockModelMinInterval_ns = 60'000'000'000;
  static constexpr size_t kRttWindow = 31;  // recent MR round trips kept for the median

  explicit RgaDriver(RgaConfig config);

  std::string_view kind() const override { return "ms"; }
  const std::vector<ChannelSpec>& channels() const override { return channels_; }

  void on_connect(DriverHost& host, int64_t t_ns) override;
  void on_bytes(DriverHost& host, std::span<const uint8_t> bytes, int64_t t_ns) override;
  void on_tick(DriverHost& host, int64_t t_ns) override;
  int64_t next_deadline_ns() const override;
  void on_disconnect(DriverHost& host, int64_t t_ns) override;
  const DriverCounters& counters() const override { return counters_; }

  // Shutdown (Driver interface; the runner writes what is sent now, then closes without reading
  // replies): sends MR0 (RF/DC off, no reply) and FL0 (filament off) together at once. If an MR
  // is being measured, the RGA executes them after it. Nothing is sent while logging in (the
  // adapter would take MR0 as a user name) or when not connected. stopped() is true afterwards.
  void on_stop(DriverHost& host, int64_t t_ns) override;

  // Graceful variant for a caller that can keep the link open for the replies: lets a request
  // in flight finish (never pipeline), then MR0, then FL0 and waits for FL0's STATUS (a non-zero
  // one is reported as an "rga_status" event). The caller keeps feeding bytes and ticks until
  // stopped() is true (at most the current request's timeout + 50 ms + hardware_timeout_ns).
  // If the link is not up or still logging in, nothing is sent and stopped() is true at once.
  void stop(DriverHost& host, int64_t t_ns);
  bool stopped() const { return phase_ == Phase::kStopped; }

  const RgaConfig& config() const { return config_; }
  // Identity from the last ID? reply on this connection.
  const std::optional<Identity>& identity() const { return identity_; }
  // Uncertainty of the midpoint stamps (half the median MR round trip); 0 before the first read.
  double stamp_uncertainty_ns() const;

 private:
  enum class Phase : uint8_t { kDisconnected, kLogin, kRunning, kStopping, kStopped, kFailed };
  // What the deadline is for.
  enum class Wait : uint8_t { kNone, kLogin, kReply, kTrailingCr, kSettle, kFlush, kPeriod };
  enum class Purpose : uint8_t {
    kIdentify, kEmission, kCdem, kNoiseFloor, kCalibrate, kMassRead, kStatusQuery, kErrorQuery,
    kGiveUp, kRfOff, kFilamentOff,
  };
  struct Request {
    Purpose purpose = Purpose::kIdentify;
    std::string text;  // with CR
    ReplyKind reply = ReplyKind::kNone;
    int64_t timeout_ns = 0;
    int attempt = 1;
    size_t channel = 0;                      // kMassRead
    ErrorByte error_byte = ErrorByte::kRs232;  // kErrorQuery
    std::string reason;                      // kGiveUp
  };

  Request make_request(Purpose purpose, std::string text) const;
  void start_protocol(DriverHost& host, int64_t t_ns);
  void handle_login_output(DriverHost& host, std::string text, int64_t t_ns);
  void advance(DriverHost& host, int64_t t_ns);
  void send_current(DriverHost& host, int64_t t_ns);
  void send_bytes(DriverHost& host, std::string_view text);
  void on_reply(DriverHost& host, int64_t t_ns);
  void on_setup_status(DriverHost& host, int64_t t_ns, uint8_t status);
  void on_mass_read(DriverHost& host, int64_t t_ns, int32_t raw);
  void on_identity(DriverHost& host, int64_t t_ns, const Identity& id);
  void queue_error_queries_front(uint8_t status, std::deque<Request>& out) const;
  void on_malformed(DriverHost& host, int64_t t_ns, const std::string& what, std::span<const uint8_t> bytes,
                    bool resend);
  void on_timeout(DriverHost& host, int64_t t_ns);
  void fail(DriverHost& host, std::string reason);
  void finish_stop();
  void update_clock_model(DriverHost& host, int64_t t_ns, int64_t rtt_ns);
  int64_t flush_window_ns() const;
  void wait_until(Wait wait, int64_t deadline_ns);

  RgaConfig config_;
  std::vector<ChannelSpec> channels_;
  std::vector<size_t> active_channels_;  // channels read each loop (masses <= M_MAX)
  DriverCounters counters_;
  EventLimiter limiter_;  // malformed and timeout events, at most 5 per second each

  Phase phase_ = Phase::kDisconnected;
  Wait wait_ = Wait::kNone;
  int64_t deadline_ns_ = kNoDeadline;
  TcpLogin login_;
  ReplyReader reader_;
  std::optional<Identity> identity_;

  std::deque<Request> plan_;      // requests to send next, in order
  std::optional<Request> current_;  // the request last sent
  int64_t current_sent_ns_ = 0;
  bool resend_after_flush_ = false;
  int consecutive_timeouts_ = 0;
  int consecutive_malformed_ = 0;

  bool loop_started_ = false;
  int64_t loop_start_ns_ = 0;
  uint64_t loops_done_ = 0;

  std::vector<int64_t> rtts_ns_;  // ring of recent MR round trips
  size_t rtt_next_ = 0;
  bool clock_model_sent_ = false;
  double clock_uncertainty_sent_ns_ = 0;
  int64_t clock_model_sent_at_ns_ = 0;
};

}  // namespace opsync::drivers::rga
