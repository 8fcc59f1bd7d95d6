// Reading back a bridge recording for tests and benchmarks: the truth CSV of opsync-bridge-host,
// and from the session database the bridge's edges (in the order the daemon stored them), scans,
// events and latest clock model, plus the raw link captures decoded again: every Edge frame as it
// crossed the link, and every sync exchange (t1, t4 as the daemon stamped them; t2, t3 as the
// device did), so the one-way delays can be measured against the truth.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "drivers/bridge/bridge_codec.h"
#include "drivers/bridge/frame.h"
#include "store/reader.h"
#include "store/sqlite_db.h"

namespace opsync::test {

struct TruthRow {
  std::optional<uint32_t> seq;  // empty when filtered
  int64_t t_ns = 0;
  uint32_t input = 0;
  bool rising = true;
  uint64_t tick = 0;
  std::string fate;  // sent, dropped, filtered
};

// How many trigger_edges samples a store holds so far (0 while it does not exist yet or is being
// created): what HIL tests wait for before they stop opsyncd, instead of a fixed run time.
inline size_t stored_trigger_edges(const std::filesystem::path& db) {
  if (!std::filesystem::exists(db)) return 0;
  try {
    store::StoreReader r(db.string());
    size_t n = 0;
    for (const auto& session : r.sessions()) {
      for (const auto& source : r.sources(session.id)) {
        for (const auto& c : r.channels(source.id)) {
          if (c.name == "trigger_edges") n += r.samples(c.id).size();
        }
      }
    }
    return n;
  } catch (const std::exception&) {
    return 0;  // being created or migrated: ask again later
  }
}

// Throws std::runtime_error naming the line on anything unexpected.
inline std::vector<TruthRow> read_bridge_truth(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::string line;
  std::getline(in, line);
  if (line != "seq,t_ns,input,edge,tick,fate") throw std::runtime_error(path.string() + ": not a truth CSV");
  std::vector<TruthRow> rows;
  for (size_t n = 2; std::getline(in, line); ++n) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    if (f.size() != 6) throw std::runtime_error(path.string() + ":" + std::to_string(n) + ": expected 6 fields");
    TruthRow r;
    if (!f[0].empty()) r.seq = static_cast<uint32_t>(std::stoul(f[0]));
    r.t_ns = std::stoll(f[1]);
    r.input = static_cast<uint32_t>(std::stoul(f[2]));
    r.rising = f[3] == "rising";
    r.tick = std::stoull(f[4]);
    r.fate = f[5];
    rows.push_back(std::move(r));
  }
  return rows;
}

// The rows the device sent, in seq order.
inline std::vector<TruthRow> sent_edges(const std::vector<TruthRow>& truth) {
  std::map<uint32_t, TruthRow> by_seq;
  for (const TruthRow& r : truth) {
    if (r.fate == "sent" && r.seq) by_seq.emplace(*r.seq, r);
  }
  std::vector<TruthRow> out;
  for (auto& [seq, r] : by_seq) out.push_back(r);
  return out;
}

// The device timer as the truth shows it: reference ns of a tick, by interpolation between the
// first and last sent edges (each row's tick is the floor at its time, so this is exact to a
// tick period, 6 ns at 168 MHz, whatever the drift).
class TrueTickClock {
 public:
  explicit TrueTickClock(const std::vector<TruthRow>& sent) {
    if (sent.size() < 2) throw std::runtime_error("the truth has fewer than 2 sent edges");
    const TruthRow& a = sent.front();
    const TruthRow& b = sent.back();
    t0_ = a.t_ns;
    tick0_ = a.tick;
    ns_per_tick_ = static_cast<long double>(b.t_ns - a.t_ns) / static_cast<long double>(b.tick - a.tick);
  }
  int64_t t_ns(uint64_t tick) const {
    const long double dt = (static_cast<long double>(tick) - static_cast<long double>(tick0_)) * ns_per_tick_;
    return t0_ + static_cast<int64_t>(std::llround(dt));
  }
  double ns_per_tick() const { return static_cast<double>(ns_per_tick_); }

 private:
  int64_t t0_ = 0;
  uint64_t tick0_ = 0;
  long double ns_per_tick_ = 0;
};

struct StoredEdge {
  int64_t t_ns = 0;  // mapped time as stored
  uint32_t input = 0;
};

struct WireEdge {
  int64_t t4_ns = 0;  // the daemon's read time of the chunk that completed it
  uint32_t seq = 0;
  uint32_t input = 0;
  bool rising = true;
  uint64_t tick = 0;
};

struct WireExchange {
  uint32_t seq = 0;
  int64_t t1_ns = 0;  // echoed back: the daemon's send stamp
  int64_t t4_ns = 0;  // the daemon's read stamp of the reply
  uint64_t t2_tick = 0;
  uint64_t t3_tick = 0;
};

struct BridgeRecord {
  records::Session session;
  std::vector<StoredEdge> edges;  // the trigger_edges channel, in the order it was stored
  std::vector<records::Scan> scans;
  std::vector<records::Event> events;  // of the bridge source
  std::optional<records::ClockModel> clock;  // the latest fit
  std::vector<WireEdge> wire_edges;       // every Edge frame received, in order
  std::vector<WireExchange> exchanges;    // every SyncReply received, in order
  std::string firmware_version;           // from Hello
};

inline BridgeRecord read_bridge_record(const std::filesystem::path& db_path, const std::string& source = "bridge") {
  BridgeRecord rec;
  store::StoreReader reader(db_path.string());
  const auto sessions = reader.sessions();
  if (sessions.size() != 1) throw std::runtime_error(db_path.string() + ": expected one session");
  rec.session = sessions[0];
  records::SourceId source_id = -1;
  for (const auto& s : reader.sources(rec.session.id)) {
    if (s.name == source) source_id = s.id;
  }
  if (source_id < 0) throw std::runtime_error(db_path.string() + ": no source " + source);
  rec.clock = reader.clock_model(source_id);
  rec.scans = reader.scans(rec.session.id);
  for (const auto& e : reader.events(rec.session.id)) {
    if (e.source_id == source_id) rec.events.push_back(e);
  }

  store::Db db(db_path.string(), store::Db::Mode::ReadOnly);
  {
    store::Stmt st(db,
                   "SELECT s.t_ns, s.value FROM samples s JOIN channels c ON c.id = s.channel_id "
                   "WHERE c.source_id = ? AND c.name = 'trigger_edges' ORDER BY s.seq");
    st.bind(1, source_id);
    while (st.step()) rec.edges.push_back({st.col_int(0), static_cast<uint32_t>(st.col_double(1))});
  }

  // The captures hold every byte read, with the reference time of its read: feed them through a
  // frame decoder again, as the driver did.
  store::Stmt st(db, "SELECT t_ns, bytes FROM captures WHERE source_id = ? AND direction = 'in' ORDER BY id");
  st.bind(1, source_id);
  drivers::bridge::FrameDecoder decoder;
  drivers::bridge::FrameResult frame;
  while (st.step()) {
    const int64_t t_ns = st.col_int(0);
    const std::string bytes = st.col_blob(1);
    for (char c : bytes) {
      if (!decoder.push(static_cast<uint8_t>(c), frame) || frame.status != drivers::bridge::FrameStatus::ok) continue;
      const std::optional<drivers::bridge::Envelope> e = drivers::bridge::decode_envelope(frame.payload);
      if (!e) continue;
      if (e->has_edge()) {
        const drivers::bridge::Edge& x = e->edge();
        rec.wire_edges.push_back({t_ns, x.seq(), x.input(), x.edge() != drivers::bridge::EDGE_KIND_FALLING, x.tick()});
      } else if (e->has_sync_reply()) {
        const drivers::bridge::SyncReply& r = e->sync_reply();
        rec.exchanges.push_back({r.seq(), r.t1_host_ns(), t_ns, r.t2_tick(), r.t3_tick()});
      } else if (e->has_hello()) {
        rec.firmware_version = e->hello().firmware_version();
      }
    }
  }
  return rec;
}

}  // namespace opsync::test
