// statvfs of the store's filesystem and the low-space threshold with hysteresis.
#include "store/disk_space.h"

#include <algorithm>
#include <filesystem>
#include <sys/statvfs.h>

namespace opsync::store {

std::optional<DiskSpace> disk_space(const std::string& path) {
  std::filesystem::path p = path.empty() ? std::filesystem::path(".") : std::filesystem::path(path);
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) p = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
  struct statvfs st {};
  if (::statvfs(p.c_str(), &st) != 0) return std::nullopt;
  const uint64_t unit = st.f_frsize != 0 ? st.f_frsize : st.f_bsize;
  return DiskSpace{uint64_t{st.f_bavail} * unit, uint64_t{st.f_blocks} * unit};
}

uint64_t low_space_threshold(uint64_t total_bytes) {
  constexpr uint64_t kOneGiB = uint64_t{1} << 30;
  return std::min(kOneGiB, total_bytes / 10);
}

DiskSpaceWatch::DiskSpaceWatch(std::string path, Probe probe) : path_(std::move(path)), probe_(std::move(probe)) {}

DiskSpaceWatch::Change DiskSpaceWatch::check() {
  last_ = probe_(path_);
  if (!last_) return Change::none;
  const uint64_t threshold = low_space_threshold(last_->total_bytes);
  if (!low_ && last_->free_bytes < threshold) {
    low_ = true;
    return Change::became_low;
  }
  if (low_ && last_->free_bytes > threshold + threshold / 2) {
    low_ = false;
    return Change::recovered;
  }
  return Change::none;
}

}  // namespace opsync::store
