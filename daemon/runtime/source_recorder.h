// Where one source's records go: the store writer (samples, events, scans, clock models, raw
// captures) plus the live figures the status line and the HTTP endpoint show. Runs on the
// daemon's io_context thread; the writer does the disk work on its own thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "drivers/driver.h"
#include "store/writer.h"

namespace opsync::runtime {

struct ChannelStatus {
  std::string name;
  std::string unit;
  uint64_t count = 0;
  double last_value = 0;
  int64_t last_t_ns = 0;
};

class SourceRecorder {
 public:
  SourceRecorder(store::StoreWriter& writer, records::SessionId session, records::SourceId source, std::string name,
                 const std::vector<drivers::ChannelSpec>& specs, std::vector<records::ChannelId> channel_ids, bool capture);

  void sample(size_t channel_index, int64_t t_ns, double value);
  void event(int64_t t_ns, std::string_view kind, std::string detail);
  void scan(records::Scan scan);
  void clock_model(const records::ClockModel& model);
  // Raw bytes in or out (empty ones are not recorded).
  void capture(int64_t t_ns, records::CaptureKind kind, std::span<const uint8_t> bytes);
  // The driver's on_tick() ran at t_ns and sent nothing (docs/replay.md: why this is kept).
  void tick(int64_t t_ns);

  const std::string& name() const { return name_; }
  records::SourceId source_id() const { return source_; }
  const std::vector<ChannelStatus>& channels() const { return channels_; }
  uint64_t events() const { return events_; }
  uint64_t scans() const { return scans_; }
  uint64_t samples() const { return samples_; }
  const records::ClockModel* last_clock_model() const { return has_clock_ ? &clock_ : nullptr; }

 private:
  store::StoreWriter& writer_;
  records::SessionId session_;
  records::SourceId source_;
  std::string name_;
  std::vector<records::ChannelId> ids_;
  std::vector<ChannelStatus> channels_;
  bool capture_;
  uint64_t events_ = 0, scans_ = 0, samples_ = 0;
  records::ClockModel clock_;
  bool has_clock_ = false;
};

}  // namespace opsync::runtime
