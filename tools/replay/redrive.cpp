// The re-drive engine: one replay host per source stands in for the daemon's runner (same
// calls, same times, sends checked against the recording instead of written to a link).
#include "replay/redrive.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fmt/format.h>

#include "core/time_format.h"
#include "runtime/driver_factory.h"
#include "store/reader.h"
#include "store/writer.h"

namespace opsync::replay {
namespace {

using Clock = std::chrono::steady_clock;

// Bytes as text for a message: printable ASCII kept, the rest as \xHH, cut at max_chars.
std::string excerpt(std::string_view bytes, size_t max_chars = 48) {
  std::string out;
  for (unsigned char c : bytes) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

// Stands in for the runner: what the driver sends is queued for comparison with the recorded
// sends; records go to the new session.
class ReplayHost final : public drivers::DriverHost {
 public:
  ReplayHost(store::StoreWriter& writer, records::SessionId session, records::SourceId source, SourceReplayStats& stats)
      : writer_(writer), session_(session), source_(source), stats_(stats) {}

  void set_channels(std::vector<records::ChannelId> ids) { ids_ = std::move(ids); }

  void send(std::span<const uint8_t> bytes) override {
    // The runner drops sends while it is not connected (e.g. from on_disconnect) and empty ones.
    if (!accept_sends || bytes.empty()) return;
    produced.push_back(Sent{call_t_ns, std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size())});
  }
  void sample(size_t channel_index, int64_t t_ns, double value) override {
    if (channel_index >= ids_.size()) {
      event(t_ns, "driver_error", "sample for unknown channel index " + std::to_string(channel_index));
      return;
    }
    writer_.push(records::Sample{ids_[channel_index], t_ns, value});
    ++stats_.samples;
  }
  void event(int64_t t_ns, std::string_view kind, std::string detail) override {
    writer_.push(records::Event{session_, source_, t_ns, std::string(kind), std::move(detail)});
    ++stats_.events;
  }
  void scan(const records::Scan& s) override {
    records::Scan copy = s;
    copy.session_id = session_;
    copy.source_id = source_;
    writer_.push(std::move(copy));
    ++stats_.scans;
  }
  void clock_model(const records::ClockModel& model) override {
    writer_.add_clock_model(source_, model);
    ++stats_.clock_models;
  }
  void request_reconnect(std::string /*reason*/) override { dropping = true; }

  struct Sent {
    int64_t t_ns;
    std::string bytes;
  };
  std::deque<Sent> produced;
  bool accept_sends = false;  // the runner's "state == Connected"
  bool dropping = false;      // the driver asked for a reconnect: the runner feeds it nothing more
  int64_t call_t_ns = 0;

 private:
  store::StoreWriter& writer_;
  records::SessionId session_;
  records::SourceId source_;
  SourceReplayStats& stats_;
  std::vector<records::ChannelId> ids_;
};

struct VersionedConfig {
  int64_t t_ns;
  const runtime::StationConfig* config;
};

class SourceRedriver {
 public:
  using Factory = std::function<std::unique_ptr<drivers::Driver>(const runtime::SourceConfig&)>;
  SourceRedriver(const SourceInfo& info, const std::vector<VersionedConfig>& configs, const Factory& factory,
                 store::StoreWriter& writer, records::SessionId session, records::SourceId source,
                 SourceReplayStats& stats)
      : info_(info), configs_(configs), factory_(factory), writer_(writer), source_(source), stats_(stats),
        host_(writer, session, source, stats) {}

  void step(const Step& s) {
    ++stats_.steps;
    host_.call_t_ns = s.t_ns;
    switch (s.kind) {
      case StepKind::kStart:
        flush_extra();
        build_driver(s.t_ns);
        return;
      case StepKind::kConnect:
        flush_extra();
        if (!ensure_driver(s.t_ns)) return;
        connected_ = true;
        host_.dropping = false;
        host_.accept_sends = true;
        driver_->on_connect(host_, s.t_ns);
        return;
      case StepKind::kIn:
        flush_extra();
        if (!live()) {
          ++stats_.steps_ignored;
          return;
        }
        ++stats_.bytes_in;
        driver_->on_bytes(host_, std::span(reinterpret_cast<const uint8_t*>(s.bytes.data()), s.bytes.size()), s.t_ns);
        return;
      case StepKind::kOut:
        ++stats_.recorded_sends;
        // Bytes no call so far explains were sent by a tick at their time (the runner stamps a
        // send with the time of the call that made it).
        if (host_.produced.empty() && live() && driver_->next_deadline_ns() <= s.t_ns) {
          ++stats_.ticks;
          driver_->on_tick(host_, s.t_ns);
        }
        match(s);
        return;
      case StepKind::kTick:
        flush_extra();
        if (!live()) {
          ++stats_.steps_ignored;
          return;
        }
        if (driver_->next_deadline_ns() > s.t_ns) {
          ++stats_.ticks_not_due;
          return;
        }
        ++stats_.ticks;
        driver_->on_tick(host_, s.t_ns);
        flush_extra();  // the recorded tick sent nothing
        return;
      case StepKind::kStop:
        flush_extra();
        if (driver_ && connected_) {
          driver_->on_stop(host_, s.t_ns);  // its sends follow as out steps with the same time
          host_.accept_sends = false;
          driver_->on_disconnect(host_, s.t_ns);
        }
        connected_ = false;
        return;
      case StepKind::kDisconnect:
        flush_extra();
        if (driver_ && connected_) {
          host_.accept_sends = false;
          driver_->on_disconnect(host_, s.t_ns);
        }
        connected_ = false;
        return;
    }
  }

  void finish() { flush_extra(); }

 private:
  bool live() const { return driver_ && connected_ && !host_.dropping; }

  const runtime::SourceConfig* config_at(int64_t t_ns) const {
    const runtime::StationConfig* in_force = nullptr;
    for (const VersionedConfig& v : configs_) {
      if (v.t_ns <= t_ns || !in_force) in_force = v.config;
    }
    if (!in_force) return nullptr;
    for (const runtime::SourceConfig& sc : in_force->sources) {
      if (sc.name == info_.name) return &sc;
    }
    return nullptr;
  }

  bool ensure_driver(int64_t t_ns) {
    if (!driver_ && !built_once_) build_driver(t_ns);
    return driver_ != nullptr;
  }

  void build_driver(int64_t t_ns) {
    built_once_ = true;
    connected_ = false;
    host_.accept_sends = false;
    host_.dropping = false;
    host_.produced.clear();
    driver_.reset();
    const runtime::SourceConfig* sc = config_at(t_ns);
    if (!sc) return;  // not configured in this run of the daemon
    try {
      driver_ = factory_ ? factory_(*sc) : runtime::make_driver(*sc);
    } catch (const std::exception& e) {
      throw ReplayError(fmt::format("source '{}': its recorded configuration does not build a driver today: {}",
                                    info_.name, e.what()));
    }
    ++stats_.drivers_built;
    std::vector<records::ChannelId> ids;
    for (const drivers::ChannelSpec& c : driver_->channels()) {
      ids.push_back(writer_.open_channel(records::Channel{0, source_, c.name, c.unit, c.quantity}));
    }
    host_.set_channels(std::move(ids));
  }

  void note_difference(int64_t t_ns, std::string what) {
    if (stats_.first_send_difference.empty()) {
      stats_.first_send_difference = fmt::format("{}: {}", format_iso_utc(t_ns, 6), what);
    }
  }

  void match(const Step& s) {
    if (host_.produced.empty()) {
      ++stats_.sends_missing;
      note_difference(s.t_ns, fmt::format("recorded send \"{}\" was not sent by the driver", excerpt(s.bytes)));
      return;
    }
    ReplayHost::Sent sent = std::move(host_.produced.front());
    host_.produced.pop_front();
    if (sent.bytes == s.bytes) {
      ++stats_.sends_equal;
      return;
    }
    ++stats_.sends_different;
    note_difference(s.t_ns, fmt::format("recorded send \"{}\", the driver sent \"{}\"", excerpt(s.bytes),
                                        excerpt(sent.bytes)));
  }

  void flush_extra() {
    while (!host_.produced.empty()) {
      ++stats_.sends_extra;
      note_difference(host_.produced.front().t_ns,
                      fmt::format("the driver sent \"{}\", nothing recorded", excerpt(host_.produced.front().bytes)));
      host_.produced.pop_front();
    }
  }

  const SourceInfo& info_;
  const std::vector<VersionedConfig>& configs_;
  const Factory& factory_;
  store::StoreWriter& writer_;
  records::SourceId source_;
  SourceReplayStats& stats_;
  ReplayHost host_;
  std::unique_ptr<drivers::Driver> driver_;
  bool connected_ = false;
  bool built_once_ = false;
};

bool configured_anywhere(const std::vector<runtime::StationConfig>& configs, const std::string& name) {
  for (const auto& c : configs) {
    for (const auto& s : c.sources) {
      if (s.name == name) return true;
    }
  }
  return false;
}

}  // namespace

bool RedriveResult::sends_all_equal() const {
  for (const auto& s : sources) {
    if (s.sends_different || s.sends_missing || s.sends_extra || s.ticks_not_due) return false;
  }
  return true;
}

std::vector<runtime::StationConfig> replay_configs(const ReplayInput& input, const std::string& override_path) {
  std::vector<runtime::StationConfig> out;
  try {
    if (!override_path.empty()) {
      out.push_back(runtime::load_station_config(override_path));
      return out;
    }
    for (const ConfigVersion& v : input.configs) {
      out.push_back(runtime::parse_station_config(
          v.text, fmt::format("station_config recorded at {}", format_iso_utc(v.t_ns, 3))));
    }
  } catch (const ConfigError& e) {
    throw ReplayError(fmt::format("{}: {}", input.origin, e.what()));
  }
  if (out.empty()) {
    throw ReplayError(fmt::format(
        "{} carries no station configuration (it was recorded before opsyncd stored one): give the station.toml "
        "it was recorded with as --config FILE",
        input.origin));
  }
  return out;
}

RedriveResult redrive(ReplayInput& input, const RedriveOptions& options) {
  const auto wall_start = Clock::now();
  const std::vector<runtime::StationConfig> configs = replay_configs(input, options.config_override_path);
  std::vector<VersionedConfig> versions;
  if (!options.config_override_path.empty()) {
    versions.push_back(VersionedConfig{input.first_t_ns, &configs[0]});
  } else {
    for (size_t i = 0; i < configs.size(); ++i) versions.push_back(VersionedConfig{input.configs[i].t_ns, &configs[i]});
  }

  std::error_code ec;
  if (std::filesystem::exists(options.out_db, ec)) {
    store::StoreReader existing(options.out_db);
    if (existing.find_session(options.into)) {
      throw ReplayError(fmt::format("session '{}' exists in {} already: name the replay with --into NAME or write "
                                    "it elsewhere with --out-db FILE",
                                    options.into, options.out_db));
    }
  }

  store::WriterOptions wo;
  wo.batch_max_samples = 262144;
  wo.batch_max_age = std::chrono::milliseconds(1000);
  store::StoreWriter writer(options.out_db, wo);
  RedriveResult result;
  result.session_id = writer.open_session(records::Session{
      0, options.into, input.session.started_ns, 0, input.session.host,
      options.note.empty() ? fmt::format("replay of {}", input.origin) : options.note});
  const records::SessionId sid = result.session_id;

  // Source rows for what can be re-driven: captured, and configured in some run of the daemon.
  std::vector<records::SourceId> ids(input.sources.size(), 0);
  for (size_t i = 0; i < input.sources.size(); ++i) {
    const SourceInfo& src = input.sources[i];
    SourceReplayStats st;
    st.name = src.name;
    if (src.captures == 0) {
      st.skipped_reason = "no raw captures (imported, or never connected)";
    } else if (!configured_anywhere(configs, src.name)) {
      st.skipped_reason = "not in the station configuration";
    } else {
      ids[i] = writer.open_source(records::Source{0, sid, src.name, src.kind, src.address, src.note, src.transport_delay_s});
      st.replayed = true;
    }
    result.sources.push_back(std::move(st));
  }

  writer.push(records::Event{sid, 0, input.session.started_ns, "replay",
                           fmt::format("re-driven from {} ({} captures) by opsync replay", input.origin,
                                       input.captures)});
  for (const CopiedEvent& e : input.copied_events) {
    if (e.source >= 0 && ids[static_cast<size_t>(e.source)] == 0) continue;
    writer.push(records::Event{sid, e.source >= 0 ? ids[static_cast<size_t>(e.source)] : 0, e.t_ns, e.kind, e.detail});
    ++result.copied_events;
  }

  uint64_t done = 0;
  auto last_progress = Clock::now();
  for (size_t i = 0; i < input.sources.size(); ++i) {
    if (!result.sources[i].replayed) continue;
    SourceRedriver driver(input.sources[i], versions, options.driver_factory, writer, sid, ids[i], result.sources[i]);
    input.for_each_step(i, [&](const Step& s) {
      driver.step(s);
      if ((++done & 0xfff) == 0 && options.progress) {
        const auto now = Clock::now();
        if (now - last_progress > std::chrono::milliseconds(250)) {
          last_progress = now;
          // Steps are captures plus a few link steps: the fraction is of the captures, capped.
          options.progress(input.captures ? std::min(1.0, static_cast<double>(done) / static_cast<double>(input.captures))
                                          : 1.0,
                           input.sources[i].name);
        }
      }
    });
    driver.finish();
    result.steps += result.sources[i].steps;
    const auto& st = result.sources[i];
    result.records += st.samples + st.events + st.scans + st.clock_models;
  }
  // A replay is complete when it ends, even of a session still being recorded: it is closed at
  // the original's end, or else at its last capture.
  writer.end_session(sid, input.session.ended_ns != 0 ? input.session.ended_ns
                                                      : std::max(input.last_t_ns, input.session.started_ns));
  writer.flush();
  result.wall_s = std::chrono::duration<double>(Clock::now() - wall_start).count();
  result.span_s = static_cast<double>(input.last_t_ns - input.first_t_ns) / 1e9;
  return result;
}

}  // namespace opsync::replay
