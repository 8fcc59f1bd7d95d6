// Re-driving a recorded session: today's drivers get the recorded bytes, connects, ticks and
// stops at the recorded times, as fast as the machine goes, and what they produce (samples,
// events, scans, clock models) is written as a new session. What the drivers send is checked
// against what was recorded as sent. docs/replay.md: the rules and what is exact.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "drivers/driver.h"
#include "replay/replay_input.h"
#include "runtime/station_config.h"

namespace opsync::replay {

struct RedriveOptions {
  std::string out_db;  // the store the new session goes into
  std::string into;    // its name
  // station.toml for sessions recorded before opsyncd stored its configuration; when set it
  // is used instead of the recorded one.
  std::string config_override_path;
  // Called about every 0.25 s of wall time with the fraction done (0..1) and the source.
  std::function<void(double fraction, const std::string& source)> progress;
  std::string note;  // session note; default "replay of <origin>"
  // Builds a source's driver; default runtime::make_driver (tests give scripted drivers).
  std::function<std::unique_ptr<drivers::Driver>(const runtime::SourceConfig&)> driver_factory;
};

// How one source went: the recorded exchange as the driver saw it, and what it produced.
struct SourceReplayStats {
  std::string name;
  bool replayed = false;
  std::string skipped_reason;  // when not replayed
  uint64_t steps = 0;
  uint64_t bytes_in = 0;        // capture rows fed to on_bytes
  uint64_t recorded_sends = 0;  // capture rows out
  uint64_t ticks = 0;           // on_tick calls (recorded tick rows and sends explained by a tick)
  uint64_t drivers_built = 0;   // one per daemon start
  // Sends compared with the recording.
  uint64_t sends_equal = 0;
  uint64_t sends_different = 0;  // sent, but other bytes than recorded
  uint64_t sends_missing = 0;    // recorded, but the driver did not send it
  uint64_t sends_extra = 0;      // sent, but nothing recorded
  uint64_t ticks_not_due = 0;    // a recorded tick before the driver's deadline (not called)
  uint64_t steps_ignored = 0;    // bytes or ticks while the link was down in the replay
  std::string first_send_difference;
  // Records written.
  uint64_t samples = 0, events = 0, scans = 0, clock_models = 0;
};

struct RedriveResult {
  records::SessionId session_id = 0;  // of the new session, in options.out_db
  std::vector<SourceReplayStats> sources;
  uint64_t steps = 0;
  uint64_t records = 0;  // samples + events + scans + clock models produced by the drivers
  uint64_t copied_events = 0;
  double wall_s = 0;
  double span_s = 0;  // recorded time covered by the steps
  bool sends_all_equal() const;
};

// Builds the drivers the recorded configuration describes. Throws ReplayError when the session
// carries no configuration and none is given, or when it does not parse.
std::vector<runtime::StationConfig> replay_configs(const ReplayInput& input, const std::string& override_path);

// Throws ReplayError (bad input, target session exists) or store::StoreError.
RedriveResult redrive(ReplayInput& input, const RedriveOptions& options);

}  // namespace opsync::replay
