// Prepared INSERT statements for every table, shared by the batching writer thread and the
// one-transaction import writer so both write rows the same way. Not thread-safe: one owner.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "records/records.h"
#include "store/sqlite_db.h"

namespace opsync::store {

class Inserter {
 public:
  explicit Inserter(Db& db);

  // Creates the session, or returns the existing one of that name (its start is moved earlier
  // if `started_ns` is earlier, so a session's span covers everything put into it).
  records::SessionId open_session(const records::Session& s);
  std::optional<records::SessionId> find_session(const std::string& name);
  void end_session(records::SessionId id, int64_t ended_ns);
  void extend_session(records::SessionId id, int64_t first_ns, int64_t last_ns);
  // Fails (StoreError) if a source of that name exists in the session already.
  records::SourceId add_source(const records::Source& s);
  records::ChannelId add_channel(const records::Channel& c);
  // Find by (session, name) / (source, name), or create: a resumed session keeps its ids.
  records::SourceId open_source(const records::Source& s);
  records::ChannelId open_channel(const records::Channel& c);
  void add_clock_model(records::SourceId source, const records::ClockModel& m);

  void add_samples(std::span<const records::Sample> samples);
  void add_event(const records::Event& e);
  int64_t add_scan(const records::Scan& s);
  void add_capture(const records::Capture& c);
  void add_import(const records::ImportRecord& r);
  void add_gas_calibration(const records::GasCalibration& c);
  // After a rollback: the next sample of each channel asks the file for its sequence number.
  void forget_sequence_numbers() { next_seq_.clear(); }

 private:
  int64_t next_seq(records::ChannelId channel);

  Db& db_;
  Stmt session_find_, session_insert_, session_end_, session_extend_;
  Stmt source_insert_, channel_insert_, clock_insert_, source_find_, channel_find_;
  Stmt sample_insert_, seq_query_;
  Stmt event_insert_, scan_insert_, scan_value_insert_, capture_insert_, import_insert_, calibration_insert_;
  std::unordered_map<records::ChannelId, int64_t> next_seq_;  // per channel arrival counter
};

}  // namespace opsync::store
