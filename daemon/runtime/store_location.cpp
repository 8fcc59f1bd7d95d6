// access(2) with the daemon's own user, errno turned into words for a user.
#include "runtime/store_location.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <unistd.h>

namespace opsync::runtime {
namespace {

std::string explain(const std::string& what, int err) {
  if (err == EROFS) return fmt::format("{} is on a read-only file system", what);
  if (err == EACCES || err == EPERM) return fmt::format("{} is read-only for this user (uid {})", what, getuid());
  return fmt::format("{}: {}", what, std::strerror(err));
}

}  // namespace

std::string store_not_writable_reason(const std::string& db_path) {
  namespace fs = std::filesystem;
  fs::path folder = fs::path(db_path).parent_path();
  if (folder.empty()) folder = ".";
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return fmt::format("the folder {} does not exist", folder.string());
  for (const std::string& file : {db_path, db_path + "-wal", db_path + "-shm"}) {
    if (access(file.c_str(), F_OK) == 0 && access(file.c_str(), W_OK) != 0) {
      return explain(fmt::format("the database file {}", file), errno) +
             "; make it writable, or set [station] db to another file";
    }
  }
  if (access(folder.c_str(), W_OK | X_OK) != 0) {
    return explain(fmt::format("the folder {}", folder.string()), errno) +
           fmt::format("; opsyncd needs to create {0}, {0}-wal, {0}-shm and {0}.opsyncd there: make it writable, "
                       "or set [station] db to a writable place",
                       fs::path(db_path).filename().string());
  }
  return "";
}

}  // namespace opsync::runtime
