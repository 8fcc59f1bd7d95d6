// Forwards a source's records to the store writer and keeps its live figures.
#include "runtime/source_recorder.h"

namespace opsync::runtime {

SourceRecorder::SourceRecorder(store::StoreWriter& writer, records::SessionId session, records::SourceId source,
                               std::string name, const std::vector<drivers::ChannelSpec>& specs,
                               std::vector<records::ChannelId> channel_ids, bool capture)
    : writer_(writer), session_(session), source_(source), name_(std::move(name)), ids_(std::move(channel_ids)),
      capture_(capture) {
  for (const drivers::ChannelSpec& s : specs) channels_.push_back(ChannelStatus{s.name, s.unit, 0, 0, 0});
}

void SourceRecorder::sample(size_t channel_index, int64_t t_ns, double value) {
  if (channel_index >= ids_.size()) {
    // A driver bug, not bad input: record it rather than write to a wrong channel.
    event(t_ns, "driver_error", "sample for unknown channel index " + std::to_string(channel_index));
    return;
  }
  writer_.push(records::Sample{ids_[channel_index], t_ns, value});
  ChannelStatus& c = channels_[channel_index];
  ++c.count;
  c.last_value = value;
  c.last_t_ns = t_ns;
  ++samples_;
}

void SourceRecorder::event(int64_t t_ns, std::string_view kind, std::string detail) {
  writer_.push(records::Event{session_, source_, t_ns, std::string(kind), std::move(detail)});
  ++events_;
}

void SourceRecorder::scan(records::Scan scan) {
  scan.session_id = session_;
  scan.source_id = source_;
  writer_.push(std::move(scan));
  ++scans_;
}

void SourceRecorder::clock_model(const records::ClockModel& model) {
  writer_.add_clock_model(source_, model);
  clock_ = model;
  has_clock_ = true;
}

void SourceRecorder::capture(int64_t t_ns, records::CaptureKind kind, std::span<const uint8_t> bytes) {
  if (!capture_ || bytes.empty()) return;
  writer_.push(records::Capture{source_, t_ns, kind, std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size())});
}

void SourceRecorder::tick(int64_t t_ns) {
  if (!capture_) return;
  writer_.push(records::Capture{source_, t_ns, records::CaptureKind::kTick, {}});
}

}  // namespace opsync::runtime
