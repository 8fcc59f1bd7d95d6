// Read side of the store: sessions, their sources, channels, samples by time range, events,
// scans. Opens the file read-only; safe to use while a writer is appending (WAL readers see the
// last committed state at the start of each query).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "records/records.h"

namespace opsync::store {

class Db;
class Stmt;

struct ChannelStats {
  uint64_t n_samples = 0;
  int64_t first_t_ns = 0;
  int64_t last_t_ns = 0;
  double min_value = 0;
  double max_value = 0;
  uint64_t n_missing = 0;  // NULL values (NaN when written)
};

struct TimeRange {
  int64_t begin_ns = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t end_ns = std::numeric_limits<int64_t>::max();    // inclusive
};

// Forward-only walk over one channel's samples in (t_ns, arrival) order; constant memory.
class SampleCursor {
 public:
  SampleCursor(Db& db, records::ChannelId channel, TimeRange range);
  ~SampleCursor();
  SampleCursor(SampleCursor&&) noexcept;
  // False when the channel has no more samples in the range.
  bool next(records::Sample& out);

 private:
  std::unique_ptr<Stmt> st_;
  records::ChannelId channel_;
};

class StoreReader {
 public:
  // Throws StoreError if the file does not exist or is not an opsync store.
  explicit StoreReader(const std::string& path);
  ~StoreReader();

  std::vector<records::Session> sessions();
  // By name, or by numeric id given as text. nullopt when no such session.
  std::optional<records::Session> find_session(const std::string& name_or_id);
  std::vector<records::Source> sources(records::SessionId session);
  std::vector<records::Channel> channels(records::SourceId source);
  std::optional<records::ClockModel> clock_model(records::SourceId source);  // the latest fit
  std::vector<records::ClockModel> clock_models(records::SourceId source);   // every fit, by fitted_at_ns
  ChannelStats channel_stats(records::ChannelId channel);

  // Samples of one channel with t_ns in range, in time order (ties in arrival order).
  std::vector<records::Sample> samples(records::ChannelId channel, TimeRange range = {});
  // Streams instead of collecting; return false from the callback to stop. Returns the count.
  uint64_t scan_samples(records::ChannelId channel, TimeRange range, const std::function<bool(int64_t t_ns, double value)>& fn);

  SampleCursor cursor(records::ChannelId channel, TimeRange range = {});

  std::vector<records::Event> events(records::SessionId session, TimeRange range = {});
  std::vector<records::Scan> scans(records::SessionId session, TimeRange range = {});
  std::vector<records::ImportRecord> imports(records::SourceId source);
  // A source's gas calibrations, oldest first (the last one of a mass is the one in force).
  std::vector<records::GasCalibration> gas_calibrations(records::SourceId source);
  uint64_t count_events(records::SessionId session);
  uint64_t count_scans(records::SessionId session);

  // A source's raw captures (bytes in and out, driver ticks) in the order they were recorded
  // (time, then arrival); streamed, constant memory. Return false from the callback to stop.
  uint64_t for_each_capture(records::SourceId source, const std::function<bool(const records::Capture&)>& fn);
  uint64_t count_captures(records::SessionId session);
  uint64_t count_captures_of_source(records::SourceId source);
  // First and last capture time of the session ({0, 0} without captures).
  std::pair<int64_t, int64_t> capture_span(records::SessionId session);

  // When a source last had data: its latest sample or bytes read (nullopt: never). A daemon
  // resuming after a crash records the outage from here (docs/daemon.md).
  std::optional<int64_t> last_data_ns(records::SourceId source);
  // The latest time of anything recorded in the session (samples, captures, events, scans).
  std::optional<int64_t> last_record_ns(records::SessionId session);

 private:
  std::unique_ptr<Db> db_;
};

}  // namespace opsync::store
