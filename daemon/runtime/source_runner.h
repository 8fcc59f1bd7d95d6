// Runs one source: connects its transport, feeds its driver the bytes and the ticks it asks
// for, writes what the driver sends, and keeps going through anything the link does:
// a refused connect, a dropped cable, a stall or garbage lead to events, a close, and a
// reconnect with exponential backoff. Other sources are unaffected (they have their own runner).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <string>

#include "clock/clock.h"
#include "drivers/driver.h"
#include "runtime/source_recorder.h"
#include "runtime/station_config.h"
#include "runtime/transport.h"

namespace opsync::runtime {

enum class LinkState { Connecting, Connected, Backoff, Stopped };
const char* to_string(LinkState s);

struct RunnerStatus {
  LinkState state = LinkState::Connecting;
  uint64_t connects = 0;
  uint64_t disconnects = 0;
  int64_t last_data_t_ns = 0;
  std::string last_error;
};

class SourceRunner final : private drivers::DriverHost {
 public:
  SourceRunner(boost::asio::io_context& io, const clock::Clock& clock, SourceConfig config, std::unique_ptr<drivers::Driver> driver,
               SourceRecorder& recorder, TransportFactory make_link = make_transport);
  ~SourceRunner() override;

  void start();
  // Before start(): the source's data ended at `last_data_t_ns` in an earlier run of the daemon
  // that ended without a stop; the first data of this run records the outage as a `gap`.
  void resume_after(int64_t last_data_t_ns, std::string reason);
  // Lets the driver send its stop sequence, gives the writes up to `grace` to leave, closes.
  void stop(std::chrono::milliseconds grace, std::function<void()> done);

  const RunnerStatus& status() const { return status_; }
  const drivers::Driver& driver() const { return *driver_; }
  const SourceRecorder& recorder() const { return recorder_; }
  const SourceConfig& config() const { return config_; }

 private:
  // DriverHost
  void send(std::span<const uint8_t> bytes) override;
  void sample(size_t channel_index, int64_t t_ns, double value) override;
  void event(int64_t t_ns, std::string_view kind, std::string detail) override;
  void scan(const records::Scan& scan) override;
  void clock_model(const records::ClockModel& model) override;
  void request_reconnect(std::string reason) override;

  void connect();
  void on_connected(uint64_t generation, const ErrorCode& ec);
  void read_loop(uint64_t generation);
  void write_next(uint64_t generation);
  void schedule_tick(uint64_t generation);
  void drop_link(const std::string& reason);
  void schedule_reconnect();

  boost::asio::io_context& io_;
  const clock::Clock& clock_;
  SourceConfig config_;
  std::unique_ptr<drivers::Driver> driver_;
  SourceRecorder& recorder_;
  TransportFactory make_link_;
  std::unique_ptr<Transport> transport_;
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer watchdog_timer_;
  std::array<uint8_t, 4096> read_buf_{};
  std::deque<std::shared_ptr<const std::vector<uint8_t>>> write_queue_;
  bool writing_ = false;
  uint64_t generation_ = 0;  // bumps on every drop: late handlers of an old link are ignored
  double backoff_s_ = 0;
  int64_t connected_at_mono_ns_ = 0;
  int64_t disconnected_at_t_ns_ = 0;  // reference time the last link dropped (0: none yet)
  std::string disconnect_reason_;
  bool awaiting_first_data_ = false;
  bool last_connect_failed_ = false;
  int64_t last_rx_mono_ns_ = 0;
  // The reference time given to the driver call in progress: what it sends is captured at this
  // time, so a replay that calls the driver at the captured times sees the same times (exact
  // equality, docs/replay.md). sends_ counts captured sends, to tell ticks that sent nothing.
  int64_t call_t_ns_ = 0;
  uint64_t sends_ = 0;
  RunnerStatus status_;
  std::function<void()> stop_done_;
};

}  // namespace opsync::runtime
