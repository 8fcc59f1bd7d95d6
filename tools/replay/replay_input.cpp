// Reading a recorded session for replay: sources, configurations, copied events and the merged
// step stream of each source.
#include "replay/replay_input.h"

#include <algorithm>
#include <array>
#include <fmt/format.h>

#include "store/reader.h"

namespace opsync::replay {

std::string_view step_kind_name(StepKind kind) {
  switch (kind) {
    case StepKind::kStart: return "start";
    case StepKind::kConnect: return "connect";
    case StepKind::kStop: return "stop";
    case StepKind::kIn: return "in";
    case StepKind::kOut: return "out";
    case StepKind::kTick: return "tick";
    case StepKind::kDisconnect: return "disconnect";
  }
  return "?";
}

int step_rank(StepKind kind) {
  switch (kind) {
    case StepKind::kStart: return 0;
    case StepKind::kConnect: return 1;
    // The runner calls on_stop before it records `stopped`, but the stop's sends carry the
    // same time stamp: they must follow the stop to be explained by it.
    case StepKind::kStop: return 2;
    case StepKind::kIn:
    case StepKind::kOut:
    case StepKind::kTick: return 3;
    case StepKind::kDisconnect: return 4;
  }
  return 3;
}

bool is_bookkeeping_event(records::SourceId source_id, std::string_view kind) {
  if (source_id == 0) return true;
  static constexpr std::array<std::string_view, 6> kRunner = {"connected", "connect_failed", "disconnected",
                                                              "gap",       "stopped",        "link_warning"};
  return std::find(kRunner.begin(), kRunner.end(), kind) != kRunner.end();
}

void StepMerger::capture(const Step& s) {
  const int rank = step_rank(s.kind);
  while (next_ < link_.size() &&
         (link_[next_].t_ns < s.t_ns || (link_[next_].t_ns == s.t_ns && step_rank(link_[next_].kind) < rank))) {
    out_(link_[next_++]);
  }
  out_(s);
}

void StepMerger::finish() {
  while (next_ < link_.size()) out_(link_[next_++]);
}

void MemoryInput::for_each_step(size_t source, const std::function<void(const Step&)>& fn) {
  if (source >= steps.size()) return;
  for (const Step& s : steps[source]) fn(s);
}

void MemoryInput::finish() {
  captures = 0;
  bool any = false;
  for (size_t i = 0; i < steps.size(); ++i) {
    uint64_t n = 0;
    for (const Step& s : steps[i]) {
      if (s.kind == StepKind::kIn || s.kind == StepKind::kOut || s.kind == StepKind::kTick) ++n;
      if (!any || s.t_ns < first_t_ns) first_t_ns = s.t_ns;
      if (!any || s.t_ns > last_t_ns) last_t_ns = s.t_ns;
      any = true;
    }
    if (i < sources.size()) sources[i].captures = n;
    captures += n;
  }
}

namespace {

// Link steps of every source, from the session's events; each source also gets every daemon start.
std::vector<std::vector<Step>> link_steps(const std::vector<records::Event>& events,
                                          const std::vector<SourceInfo>& sources) {
  std::vector<std::vector<Step>> out(sources.size());
  auto index_of = [&](records::SourceId id) -> int {
    for (size_t i = 0; i < sources.size(); ++i) {
      if (sources[i].original_id == id) return static_cast<int>(i);
    }
    return -1;
  };
  for (const records::Event& e : events) {
    if (e.source_id == 0) {
      if (e.kind == "daemon_start") {
        for (auto& v : out) v.push_back(Step{StepKind::kStart, e.t_ns, {}});
      }
      continue;
    }
    const int i = index_of(e.source_id);
    if (i < 0) continue;
    if (e.kind == "connected") out[static_cast<size_t>(i)].push_back(Step{StepKind::kConnect, e.t_ns, {}});
    if (e.kind == "disconnected") out[static_cast<size_t>(i)].push_back(Step{StepKind::kDisconnect, e.t_ns, {}});
    if (e.kind == "stopped") out[static_cast<size_t>(i)].push_back(Step{StepKind::kStop, e.t_ns, {}});
  }
  for (auto& v : out) {
    std::stable_sort(v.begin(), v.end(), [](const Step& a, const Step& b) {
      return a.t_ns != b.t_ns ? a.t_ns < b.t_ns : step_rank(a.kind) < step_rank(b.kind);
    });
  }
  return out;
}

class StoreInput final : public ReplayInput {
 public:
  StoreInput(const std::string& db_path, const std::string& name) : reader_(db_path) {
    auto s = reader_.find_session(name);
    if (!s) {
      throw ReplayError(fmt::format("no session '{}' in {} (`opsync sessions --db {}` lists them)", name, db_path,
                                    db_path));
    }
    session = *s;
    origin = fmt::format("{} session '{}'", db_path, session.name);
    for (const records::Source& src : reader_.sources(session.id)) {
      sources.push_back(SourceInfo{src.name, src.kind, src.address, src.note, src.id, 0, src.transport_delay_s});
    }
    captures = reader_.count_captures(session.id);
    if (captures == 0) {
      throw ReplayError(fmt::format(
          "session '{}' in {} has no raw captures: nothing to replay (captures are recorded by opsyncd; an "
          "imported session has none)",
          session.name, db_path));
    }
    for (SourceInfo& src : sources) src.captures = reader_.count_captures_of_source(src.original_id);
    const std::vector<records::Event> events = reader_.events(session.id);
    for (const records::Event& e : events) {
      if (e.source_id == 0 && e.kind == "station_config") configs.push_back(ConfigVersion{e.t_ns, e.detail});
      if (!is_bookkeeping_event(e.source_id, e.kind)) continue;
      int index = -1;
      for (size_t i = 0; i < sources.size(); ++i) {
        if (sources[i].original_id == e.source_id) index = static_cast<int>(i);
      }
      if (e.source_id != 0 && index < 0) continue;
      copied_events.push_back(CopiedEvent{index, e.t_ns, e.kind, e.detail});
    }
    links_ = link_steps(events, sources);
    auto span = reader_.capture_span(session.id);
    first_t_ns = span.first;
    last_t_ns = span.second;
  }

  void for_each_step(size_t source, const std::function<void(const Step&)>& fn) override {
    if (source >= sources.size()) return;
    StepMerger merger(links_[source], fn);
    Step step;
    reader_.for_each_capture(sources[source].original_id, [&](const records::Capture& c) {
      step.kind = c.kind == records::CaptureKind::kIn    ? StepKind::kIn
                  : c.kind == records::CaptureKind::kOut ? StepKind::kOut
                                                       : StepKind::kTick;
      step.t_ns = c.t_ns;
      step.bytes = c.bytes;
      merger.capture(step);
      return true;
    });
    merger.finish();
  }

 private:
  store::StoreReader reader_;
  std::vector<std::vector<Step>> links_;
};

}  // namespace

std::unique_ptr<ReplayInput> open_store_input(const std::string& db_path, const std::string& session) {
  return std::make_unique<StoreInput>(db_path, session);
}

}  // namespace opsync::replay
