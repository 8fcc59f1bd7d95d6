// Can the daemon record where station.toml says? Asked before anything is created, so that a
// read-only file, folder or file system is named as such instead of as SQLite's "unable to open
// database file".
#pragma once

#include <string>

namespace opsync::runtime {

// Empty when db_path can be created or written, with its folder (SQLite's -wal and -shm files
// and the daemon's <db>.opsyncd live beside it); otherwise what is in the way, for the user.
std::string store_not_writable_reason(const std::string& db_path);

}  // namespace opsync::runtime
