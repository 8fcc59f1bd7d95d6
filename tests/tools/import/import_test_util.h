// Helpers for the importer tests: temp files, channel lookup, ORACLES.md-style current
// segments (maximal runs of one non-zero current sign) with their trapezoid charge, and
// catching ImportError to check its line and column.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "import/import_types.h"

namespace opsync::import::testing {

// Writes `bytes` to a file called `name` in a fresh folder under the gtest temp dir (so the
// name is kept exactly, as readers may look at it) and returns its path.
inline std::string write_temp(const std::string& name, const std::string& bytes) {
  static std::atomic<int> counter{0};
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    ("opsync_import_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return path;
}

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline const ChannelData* find_channel(const ImportResult& r, const std::string& name) {
  for (const ChannelData& c : r.channels)
    if (c.name == name) return &c;
  return nullptr;
}

inline double min_value(const ChannelData& c) { return *std::min_element(c.values.begin(), c.values.end()); }
inline double max_value(const ChannelData& c) { return *std::max_element(c.values.begin(), c.values.end()); }

inline size_t count_events(const ImportResult& r, const std::string& kind) {
  return static_cast<size_t>(std::count_if(r.events.begin(), r.events.end(),
                                           [&](const EventData& e) { return e.kind == kind; }));
}

inline bool has_assumption(const ImportResult& r, const std::string& part) {
  return std::any_of(r.assumptions.begin(), r.assumptions.end(),
                     [&](const std::string& a) { return a.find(part) != std::string::npos; });
}

struct Segment {
  int sign = 0;
  size_t first = 0;  // sample index in the current channel
  size_t last = 0;
  double charge_ah = 0.0;  // trapezoid rule over the segment's own samples
};

// ORACLES.md definition: a maximal run of consecutive rows whose current has the same non-zero
// sign; a zero current or a sign change ends it.
inline std::vector<Segment> current_segments(const ChannelData& current) {
  std::vector<Segment> out;
  const auto& v = current.values;
  const auto& t = current.t_ns;
  for (size_t i = 0; i < v.size(); ++i) {
    const int s = v[i] > 0 ? 1 : (v[i] < 0 ? -1 : 0);
    if (s == 0) continue;
    if (!out.empty() && out.back().sign == s && out.back().last + 1 == i) {
      Segment& seg = out.back();
      seg.charge_ah += 0.5 * (v[i - 1] + v[i]) * static_cast<double>(t[i] - t[i - 1]) / 1e9 / 3600.0;
      seg.last = i;
    } else {
      out.push_back(Segment{s, i, i, 0.0});
    }
  }
  return out;
}

inline size_t count_sign(const std::vector<Segment>& segs, int sign) {
  return static_cast<size_t>(std::count_if(segs.begin(), segs.end(), [&](const Segment& s) { return s.sign == sign; }));
}

// Relative tolerance check with a readable failure.
#define EXPECT_REL(actual, expected, rel) EXPECT_NEAR((actual), (expected), std::fabs(expected) * (rel))

// Runs import_file and returns the ImportError it throws (fails the test if none).
inline std::optional<ImportError> import_error(const std::string& path, const ImportOptions& options) {
  try {
    (void)import_file(path, options);
  } catch (const ImportError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an ImportError for " << path;
  return std::nullopt;
}

inline ImportOptions cycler_options() { return ImportOptions{}; }

}  // namespace opsync::import::testing
