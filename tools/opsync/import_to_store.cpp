// ImportResult -> one store transaction.
#include "opsync/import_to_store.h"

#include <algorithm>
#include <fmt/format.h>

#include "store/sqlite_db.h"
#include "store/transaction_writer.h"

namespace opsync::cli {

ImportWritten write_import(const ImportTarget& target, const import::ImportResult& result, int64_t now_ns) {
  store::TransactionWriter tw(target.db_path);
  store::Inserter& ins = tw.insert();
  ImportWritten out;

  // An import adds a source to a session; it never moves an existing session's start or end
  // (the session may be one opsyncd is recording, whose span is the daemon's to say).
  const auto existing = ins.find_session(target.session);
  out.session_created = !existing;
  if (existing) {
    out.session_id = *existing;
  } else {
    out.session_id = ins.open_session(records::Session{0, target.session, result.t_first_ns, 0, "", ""});
    ins.end_session(out.session_id, result.t_last_ns);  // an imported session is complete
  }

  std::string note;
  for (const std::string& a : result.assumptions) note += a + "\n";
  try {
    out.source_id = ins.add_source(
        records::Source{0, out.session_id, target.source, target.kind, "file://" + target.file_path, note});
  } catch (const store::StoreError& e) {
    throw store::StoreError(fmt::format("session '{}' already has a source named '{}'; pass --source NAME to "
                                        "import this file under another name",
                                        target.session, target.source));
  }
  records::ClockModel clock;
  clock.method = target.clock_offset_ns == 0 ? "identity" : "constant_offset";
  clock.offset_ns = -target.clock_offset_ns;  // t_ref = t_file - offset
  clock.rate = 1.0;
  clock.fitted_at_ns = now_ns;
  ins.add_clock_model(out.source_id, clock);

  std::vector<records::Sample> buffer;
  for (const import::ChannelData& ch : result.channels) {
    const records::ChannelId id = ins.add_channel(records::Channel{0, out.source_id, ch.name, ch.unit, ch.quantity});
    buffer.clear();
    buffer.reserve(ch.t_ns.size());
    for (size_t i = 0; i < ch.t_ns.size(); ++i) buffer.push_back(records::Sample{id, ch.t_ns[i], ch.values[i]});
    ins.add_samples(buffer);
    out.samples += buffer.size();
  }
  for (const import::EventData& e : result.events) {
    ins.add_event(records::Event{out.session_id, out.source_id, e.t_ns, e.kind, e.detail});
  }
  out.events = result.events.size();
  for (const import::ScanData& s : result.scans) {
    records::Scan scan{0, out.session_id, out.source_id, s.number, s.start_ns, s.end_ns, s.label, {}};
    for (size_t i = 0; i < s.values.size(); ++i) {
      scan.values.push_back(records::ScanValue{s.values[i].first, i < s.value_units.size() ? s.value_units[i] : "",
                                             s.values[i].second});
    }
    ins.add_scan(scan);
  }
  out.scans = result.scans.size();
  ins.add_import(records::ImportRecord{out.source_id, target.file_path, result.format,
                                     static_cast<int64_t>(result.rows), note, now_ns});
  tw.commit();
  return out;
}

}  // namespace opsync::cli
