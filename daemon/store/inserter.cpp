// Row insertion with prepared statements; callers own the transaction.
#include "store/inserter.h"

namespace opsync::store {

Inserter::Inserter(Db& db)
    : db_(db),
      session_find_(db, "SELECT id, started_ns FROM sessions WHERE name = ?"),
      session_insert_(db, "INSERT INTO sessions (name, started_ns, ended_ns, host, note) VALUES (?, ?, NULL, ?, ?)"),
      session_end_(db, "UPDATE sessions SET ended_ns = ? WHERE id = ?"),
      session_extend_(db,
                      "UPDATE sessions SET started_ns = MIN(started_ns, ?1), "
                      "ended_ns = CASE WHEN ended_ns IS NULL THEN NULL ELSE MAX(ended_ns, ?2) END WHERE id = ?3"),
      source_insert_(db, "INSERT INTO sources (session_id, name, kind, address, note, transport_delay_s) VALUES (?, ?, ?, ?, ?, ?)"),
      channel_insert_(db, "INSERT INTO channels (source_id, name, unit, quantity) VALUES (?, ?, ?, ?)"),
      clock_insert_(db,
                    "INSERT OR REPLACE INTO clock_models (source_id, fitted_at_ns, method, offset_ns, rate, "
                    "residual_rms_ns, residual_max_ns, n_points, uncertainty_ns) VALUES (?,?,?,?,?,?,?,?,?)"),
      source_find_(db, "SELECT id FROM sources WHERE session_id = ? AND name = ?"),
      channel_find_(db, "SELECT id FROM channels WHERE source_id = ? AND name = ?"),
      sample_insert_(db, "INSERT INTO samples (channel_id, t_ns, seq, value) VALUES (?, ?, ?, ?)"),
      seq_query_(db, "SELECT COALESCE(MAX(seq) + 1, 0) FROM samples WHERE channel_id = ?"),
      event_insert_(db, "INSERT INTO events (session_id, source_id, t_ns, kind, detail) VALUES (?, ?, ?, ?, ?)"),
      scan_insert_(db,
                   "INSERT INTO scans (session_id, source_id, number, start_ns, end_ns, label) VALUES (?,?,?,?,?,?)"),
      scan_value_insert_(db, "INSERT INTO scan_values (scan_id, name, unit, value) VALUES (?, ?, ?, ?)"),
      capture_insert_(db, "INSERT INTO captures (source_id, t_ns, direction, bytes) VALUES (?, ?, ?, ?)"),
      import_insert_(db,
                     "INSERT INTO imports (source_id, path, format, rows, assumptions, imported_ns) "
                     "VALUES (?, ?, ?, ?, ?, ?)"),
      calibration_insert_(db,
                          "INSERT INTO gas_calibrations (source_id, mass, gas, sensitivity_a_per_mol_s, "
                          "sigma_a_per_mol_s, method, from_ns, to_ns, detail, created_ns) VALUES (?,?,?,?,?,?,?,?,?,?)") {}

records::SessionId Inserter::open_session(const records::Session& s) {
  session_find_.bind(1, s.name);
  if (session_find_.step()) {
    const records::SessionId id = session_find_.col_int(0);
    session_find_.reset();
    session_extend_.bind(1, s.started_ns).bind(2, s.started_ns).bind(3, id).run();
    return id;
  }
  session_find_.reset();
  session_insert_.bind(1, s.name).bind(2, s.started_ns).bind(3, s.host).bind(4, s.note).run();
  return sqlite3_last_insert_rowid(db_.handle());
}

std::optional<records::SessionId> Inserter::find_session(const std::string& name) {
  session_find_.bind(1, name);
  std::optional<records::SessionId> id;
  if (session_find_.step()) id = session_find_.col_int(0);
  session_find_.reset();
  return id;
}

void Inserter::end_session(records::SessionId id, int64_t ended_ns) { session_end_.bind(1, ended_ns).bind(2, id).run(); }

void Inserter::extend_session(records::SessionId id, int64_t first_ns, int64_t last_ns) {
  session_extend_.bind(1, first_ns).bind(2, last_ns).bind(3, id).run();
}

records::SourceId Inserter::add_source(const records::Source& s) {
  source_insert_.bind(1, s.session_id).bind(2, s.name).bind(3, s.kind).bind(4, s.address).bind(5, s.note).bind(6, s.transport_delay_s).run();
  return sqlite3_last_insert_rowid(db_.handle());
}

records::ChannelId Inserter::add_channel(const records::Channel& c) {
  channel_insert_.bind(1, c.source_id).bind(2, c.name).bind(3, c.unit).bind(4, c.quantity).run();
  const records::ChannelId id = sqlite3_last_insert_rowid(db_.handle());
  next_seq_[id] = 0;  // new channel: no samples yet, no need to ask the file
  return id;
}

records::SourceId Inserter::open_source(const records::Source& s) {
  source_find_.bind(1, s.session_id).bind(2, s.name);
  if (source_find_.step()) {
    const records::SourceId id = source_find_.col_int(0);
    source_find_.reset();
    return id;
  }
  source_find_.reset();
  return add_source(s);
}

records::ChannelId Inserter::open_channel(const records::Channel& c) {
  channel_find_.bind(1, c.source_id).bind(2, c.name);
  if (channel_find_.step()) {
    const records::ChannelId id = channel_find_.col_int(0);
    channel_find_.reset();
    return id;
  }
  channel_find_.reset();
  return add_channel(c);
}

void Inserter::add_clock_model(records::SourceId source, const records::ClockModel& m) {
  clock_insert_.bind(1, source)
      .bind(2, m.fitted_at_ns)
      .bind(3, m.method)
      .bind(4, m.offset_ns)
      .bind(5, m.rate)
      .bind(6, m.residual_rms_ns)
      .bind(7, m.residual_max_ns)
      .bind(8, m.n_points)
      .bind(9, m.uncertainty_ns)
      .run();
}

int64_t Inserter::next_seq(records::ChannelId channel) {
  auto it = next_seq_.find(channel);
  if (it == next_seq_.end()) {
    // A channel created by an earlier process (a resumed session): continue after its last seq.
    seq_query_.bind(1, channel);
    seq_query_.step();
    const int64_t next = seq_query_.col_int(0);
    seq_query_.reset();
    it = next_seq_.emplace(channel, next).first;
  }
  return it->second++;
}

void Inserter::add_samples(std::span<const records::Sample> samples) {
  for (const records::Sample& s : samples) {
    sample_insert_.bind(1, s.channel_id).bind(2, s.t_ns).bind(3, next_seq(s.channel_id));
    // NaN is stored as NULL by SQLite; keep it visible as a missing value rather than a number.
    sample_insert_.bind(4, s.value);
    sample_insert_.run();
  }
}

void Inserter::add_event(const records::Event& e) {
  event_insert_.bind(1, e.session_id);
  if (e.source_id != 0) {
    event_insert_.bind(2, e.source_id);
  } else {
    event_insert_.bind_null(2);
  }
  event_insert_.bind(3, e.t_ns).bind(4, e.kind).bind(5, e.detail).run();
}

int64_t Inserter::add_scan(const records::Scan& s) {
  scan_insert_.bind(1, s.session_id);
  if (s.source_id != 0) {
    scan_insert_.bind(2, s.source_id);
  } else {
    scan_insert_.bind_null(2);
  }
  scan_insert_.bind(3, s.number).bind(4, s.start_ns).bind(5, s.end_ns).bind(6, s.label).run();
  const int64_t id = sqlite3_last_insert_rowid(db_.handle());
  for (const records::ScanValue& v : s.values) scan_value_insert_.bind(1, id).bind(2, v.name).bind(3, v.unit).bind(4, v.value).run();
  return id;
}

void Inserter::add_capture(const records::Capture& c) {
  capture_insert_.bind(1, c.source_id)
      .bind(2, c.t_ns)
      .bind(3, capture_kind_name(c.kind))
      .bind_blob(4, c.bytes.data(), c.bytes.size())
      .run();
}

void Inserter::add_import(const records::ImportRecord& r) {
  import_insert_.bind(1, r.source_id)
      .bind(2, r.path)
      .bind(3, r.format)
      .bind(4, r.rows)
      .bind(5, r.assumptions)
      .bind(6, r.imported_ns)
      .run();
}

void Inserter::add_gas_calibration(const records::GasCalibration& c) {
  calibration_insert_.bind(1, c.source_id)
      .bind(2, static_cast<int64_t>(c.mass))
      .bind(3, c.gas)
      .bind(4, c.sensitivity_a_per_mol_s)
      .bind(5, c.sigma_a_per_mol_s)
      .bind(6, c.method)
      .bind(7, c.from_ns)
      .bind(8, c.to_ns)
      .bind(9, c.detail)
      .bind(10, c.created_ns)
      .run();
}

}  // namespace opsync::store
