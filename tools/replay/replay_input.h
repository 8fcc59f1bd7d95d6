// What a replay needs from a recorded session, whether it comes from a session store or from a
// capture log file (capture_log.h): the session, its sources, the station configurations in
// force (event station_config), the events a replay copies rather than re-derives, and per
// source the ordered steps of its driver's life: daemon starts, connects, bytes in and out,
// ticks that sent nothing, stops, disconnects. docs/replay.md describes the rules.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "records/records.h"

namespace opsync::replay {

// Bad input (no such session, nothing captured, no configuration): a message for the user.
class ReplayError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class StepKind : uint8_t {
  kStart,       // opsyncd started (daemon_start): drivers are built afresh from the config in force
  kConnect,     // event connected: on_connect
  kStop,        // event stopped: on_stop and on_disconnect if connected
  kIn,          // capture in: on_bytes
  kOut,         // capture out: what the driver sent (a tick's, if no other call explains it)
  kTick,        // capture tick: on_tick that sent nothing
  kDisconnect,  // event disconnected: on_disconnect
};
std::string_view step_kind_name(StepKind kind);

struct Step {
  StepKind kind = StepKind::kIn;
  int64_t t_ns = 0;
  std::string bytes;  // kIn, kOut
};

// Steps of one source at the same time stamp run in this order (the order the daemon calls
// its driver in): start, connect, stop, then captures as recorded, then disconnect.
int step_rank(StepKind kind);

struct SourceInfo {
  std::string name;
  std::string kind;  // cycler | ms | bridge | strain ...
  std::string address;
  std::string note;  // kept as recorded
  records::SourceId original_id = 0;  // 0 when read from a capture log
  uint64_t captures = 0;
  double transport_delay_s = 0;  // kept as recorded (store::Source::transport_delay_s)
};

struct ConfigVersion {
  int64_t t_ns = 0;
  std::string text;  // station.toml as the daemon read it
};

// An event a replay copies into its session as it was: session-level ones (daemon_start,
// station_config, daemon_stop, mark, ...) and the runner's link bookkeeping per source.
struct CopiedEvent {
  int source = -1;  // index into sources, -1 for the session
  int64_t t_ns = 0;
  std::string kind;
  std::string detail;
};

// Events written by the daemon's runner or the session itself, not by a driver: copied by a
// replay (and, for connected/disconnected/stopped, its input), never compared.
bool is_bookkeeping_event(records::SourceId source_id, std::string_view kind);

class ReplayInput {
 public:
  virtual ~ReplayInput() = default;

  records::Session session;
  std::string origin;  // "FILE session NAME" or "capture log FILE", for messages and notes
  std::vector<SourceInfo> sources;
  std::vector<ConfigVersion> configs;  // in time order
  std::vector<CopiedEvent> copied_events;
  uint64_t captures = 0;
  int64_t first_t_ns = 0;  // span of the steps
  int64_t last_t_ns = 0;

  // Every step of one source, in order. Streams from the store (constant memory).
  virtual void for_each_step(size_t source, const std::function<void(const Step&)>& fn) = 0;
};

// The session NAME (or id) of the store at db_path. Throws ReplayError (unknown session, no
// captures) or store::StoreError.
std::unique_ptr<ReplayInput> open_store_input(const std::string& db_path, const std::string& session);

// Steps held in memory (a capture log, tests).
class MemoryInput final : public ReplayInput {
 public:
  std::vector<std::vector<Step>> steps;  // per source, in order
  void for_each_step(size_t source, const std::function<void(const Step&)>& fn) override;
  // Fills captures, first/last times and the per-source counts from `steps`.
  void finish();
};

// Merges a source's link events (kStart/kConnect/kStop/kDisconnect steps, time-ordered) with
// its captures (kIn/kOut/kTick, in recorded order) by time and step_rank.
class StepMerger {
 public:
  StepMerger(std::vector<Step> link_steps, const std::function<void(const Step&)>& out)
      : link_(std::move(link_steps)), out_(out) {}
  void capture(const Step& s);
  void finish();

 private:
  std::vector<Step> link_;
  size_t next_ = 0;
  const std::function<void(const Step&)>& out_;
};

}  // namespace opsync::replay
