// Where the shared real-data fixtures are: $OPSYNC_FIXTURES, else the folder CMake was given
// (OPSYNC_FIXTURES_DIR, default ../shared/fixtures beside the checkout). Tests that need them
// call OPSYNC_REQUIRE_FIXTURES(), which skips with a message saying where they were looked for.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace opsync::test {

inline std::filesystem::path fixtures_dir() {
  if (const char* env = std::getenv("OPSYNC_FIXTURES"); env && *env) return env;
  return OPSYNC_FIXTURES_DIR;
}

inline bool fixtures_present() { return std::filesystem::is_directory(fixtures_dir() / "cycler"); }

inline std::string fixture(const std::string& rel) { return (fixtures_dir() / rel).string(); }

}  // namespace opsync::test

#define OPSYNC_REQUIRE_FIXTURES()                                                               \
  do {                                                                                          \
    if (!::opsync::test::fixtures_present())                                                    \
      GTEST_SKIP() << "shared fixtures not found at " << ::opsync::test::fixtures_dir()         \
                   << " (set OPSYNC_FIXTURES or -DOPSYNC_FIXTURES_DIR); fixture tests not run"; \
  } while (0)
