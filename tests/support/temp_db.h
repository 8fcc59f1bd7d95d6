// A temporary database path for tests, removed (with -wal, -shm and .reserve) afterwards.
#pragma once

#include <filesystem>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

namespace opsync::test {

// A fresh path under the test temp dir, removed (with -wal/-shm) on destruction.
class TempDb {
 public:
  TempDb() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (std::filesystem::path(::testing::TempDir()) /
             (std::string("opsync_") + info->test_suite_name() + "_" + info->name() + "_" +
              std::to_string(::getpid()) + ".db"))
                .string();
    remove();
  }
  ~TempDb() { remove(); }
  const std::string& path() const { return path_; }

 private:
  void remove() {
    for (const char* suffix : {"", "-wal", "-shm", ".reserve"}) std::filesystem::remove(path_ + suffix);
  }
  std::string path_;
};

}  // namespace opsync::test
