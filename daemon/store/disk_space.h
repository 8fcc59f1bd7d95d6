// Free space on the filesystem that holds the store, and a watch that says when it runs low,
// so that an operator hears of a filling disk before commits start failing.
//
// Low means under min(1 GiB, 10 % of the filesystem): 1 GiB is about 45 minutes of the 10 kHz
// stress load (~400 kB/s into the store with its indexes) and days at realistic rates; 10 % keeps
// the warning meaningful on a small card or test filesystem. The warning clears once free space
// is back above 1.5 times the threshold, so a disk hovering at the line does not flood events.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace opsync::store {

struct DiskSpace {
  uint64_t free_bytes = 0;   // available to an unprivileged writer (statvfs f_bavail)
  uint64_t total_bytes = 0;
};

// Of the filesystem holding `path` (a file or a folder; a file that does not exist yet is taken
// in its folder). nullopt when it cannot be found out.
std::optional<DiskSpace> disk_space(const std::string& path);
uint64_t low_space_threshold(uint64_t total_bytes);

class DiskSpaceWatch {
 public:
  enum class Change { none, became_low, recovered };
  using Probe = std::function<std::optional<DiskSpace>(const std::string&)>;

  explicit DiskSpaceWatch(std::string path, Probe probe = disk_space);
  // Probes once; says whether free space just crossed the threshold (either way).
  Change check();
  bool low() const { return low_; }
  const std::optional<DiskSpace>& last() const { return last_; }
  uint64_t threshold_bytes() const { return last_ ? low_space_threshold(last_->total_bytes) : 0; }

 private:
  std::string path_;
  Probe probe_;
  std::optional<DiskSpace> last_;
  bool low_ = false;
};

}  // namespace opsync::store
