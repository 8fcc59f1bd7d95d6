// The station's disk state: free space checked each status tick (a disk_low event before the
// disk is full), the writer's reports of failing commits (said on stderr at once, recorded as a
// disk_full event when space returns, since nothing can be recorded while it lasts), and the
// flags the status line and /status show.
#include <fmt/format.h>

#include "core/time_format.h"
#include "runtime/station.h"

namespace opsync::runtime {
namespace {
double mb(uint64_t bytes) { return static_cast<double>(bytes) / 1e6; }
}  // namespace

void Station::check_disk_space() {
  if (!disk_watch_) return;
  const auto change = disk_watch_->check();
  if (change == store::DiskSpaceWatch::Change::none) return;
  const store::DiskSpace& d = *disk_watch_->last();
  const int64_t now = clock_.now_ns();
  if (change == store::DiskSpaceWatch::Change::became_low) {
    const std::string detail =
        fmt::format("{:.1f} MB free of {:.1f} MB on the disk of {} (warning under {:.1f} MB: 1 GiB or 10 % of the "
                    "disk); when it is full, records wait in memory until there is space again",
                    mb(d.free_bytes), mb(d.total_bytes), config_.db_path, mb(disk_watch_->threshold_bytes()));
    writer_->push(records::Event{session_id_, 0, now, "disk_low", detail});
    fmt::print(stderr, "\nopsyncd: disk low: {}\n", detail);
  } else {
    const std::string detail = fmt::format("{:.1f} MB free of {:.1f} MB on the disk of {}", mb(d.free_bytes),
                                           mb(d.total_bytes), config_.db_path);
    writer_->push(records::Event{session_id_, 0, now, "disk_space_ok", detail});
    fmt::print(stderr, "\nopsyncd: disk space ok again: {}\n", detail);
  }
}

void Station::on_disk_full(const store::DiskFullReport& r) {
  const int64_t now = clock_.now_ns();
  if (r.full) {
    disk_full_since_ns_ = now;
    fmt::print(stderr,
               "\nopsyncd: cannot write to {}: {}; {} records wait in memory and are retried until there is space "
               "(memory grows meanwhile)\n",
               config_.db_path, r.error, r.backlog);
    return;
  }
  const double lasted_s = std::chrono::duration<double>(r.lasted).count();
  // Stamped when the failures began, so that it reads in place in the session's timeline.
  const int64_t since_ns = disk_full_since_ns_ != 0 ? disk_full_since_ns_ : now;
  const std::string detail =
      fmt::format("the disk of {} was full from {} to {} ({:.1f} s of wall time, {} failed commits); the records held "
                  "in memory meanwhile are being written, none was dropped",
                  config_.db_path, format_iso_utc(since_ns, 3), format_iso_utc(now, 3), lasted_s, r.failed_commits);
  writer_->push(records::Event{session_id_, 0, since_ns, "disk_full", detail});
  fmt::print(stderr, "\nopsyncd: space again: {}\n", detail);
  disk_full_since_ns_ = 0;
}

nlohmann::json Station::disk_json() const {
  const auto ws = writer_->stats();
  nlohmann::json j = {{"full", ws.disk_full},
                      {"full_commits", ws.disk_full_commits},
                      {"records_unwritten", ws.records_unwritten},
                      {"reserve_held", ws.reserve_held},
                      {"low", disk_watch_ && disk_watch_->low()}};
  if (disk_watch_ && disk_watch_->last()) {
    j["free_bytes"] = disk_watch_->last()->free_bytes;
    j["total_bytes"] = disk_watch_->last()->total_bytes;
    j["low_threshold_bytes"] = disk_watch_->threshold_bytes();
  }
  return j;
}

std::string Station::disk_flag() const {
  const auto ws = writer_->stats();
  if (ws.disk_full) return fmt::format(" | DISK FULL: {} records wait in memory", ws.backlog);
  if (disk_watch_ && disk_watch_->low() && disk_watch_->last()) {
    return fmt::format(" | DISK LOW: {:.1f} MB free", mb(disk_watch_->last()->free_bytes));
  }
  return "";
}

}  // namespace opsync::runtime
