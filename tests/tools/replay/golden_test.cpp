// Golden-file regression, as gpsd's: every capture log in tests/tools/replay/golden is re-driven
// through today's drivers and its records must equal the committed .chk line for line. A
// failure names the first differing line and leaves the replayed records in the test's temp
// folder; OPSYNC_UPDATE_GOLDEN=1 rewrites the .chk files instead (a changed golden file must be
// explained in its commit: tests/tools/replay/golden/README.md).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

#include "replay/capture_log.h"
#include "replay/record_text.h"
#include "replay/redrive.h"
#include "store/reader.h"
#include "support/temp_db.h"

namespace opsync::replay {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> golden_logs() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(OPSYNC_GOLDEN_DIR)) {
    if (e.path().extension() == ".opcap") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Golden, EveryCaptureLogReplaysToItsRecords) {
  const auto logs = golden_logs();
  ASSERT_FALSE(logs.empty()) << "no .opcap in " << OPSYNC_GOLDEN_DIR;
  const bool update = std::getenv("OPSYNC_UPDATE_GOLDEN") != nullptr;
  for (const fs::path& log : logs) {
    SCOPED_TRACE(log.string());
    const fs::path chk = fs::path(log).replace_extension(".chk");
    test::TempDb db;
    auto input = read_capture_log(log.string());
    RedriveOptions o;
    o.out_db = db.path();
    o.into = "golden";
    const RedriveResult r = redrive(*input, o);
    EXPECT_TRUE(r.sends_all_equal()) << "the drivers no longer send what was recorded";
    std::vector<std::string> names;
    for (const auto& s : r.sources) {
      EXPECT_TRUE(s.replayed) << s.name << ": " << s.skipped_reason;
      EXPECT_EQ(s.steps_ignored, 0u) << s.name;
      if (s.replayed) names.push_back(s.name);
    }
    store::StoreReader reader(db.path());
    const std::string actual = render_records(reader, r.session_id, names);
    if (update) {
      std::ofstream(chk, std::ios::binary) << actual;
      std::fprintf(stderr, "rewrote %s: explain the change in its commit\n", chk.c_str());
      continue;
    }
    ASSERT_TRUE(fs::exists(chk)) << "no expected records " << chk;
    const TextDifference d = compare_text(slurp(chk), actual);
    if (!d.same) {
      const fs::path kept = fs::path(::testing::TempDir()) / (chk.filename().string() + ".actual");
      std::ofstream(kept, std::ios::binary) << actual;
      ADD_FAILURE() << chk.filename() << " line " << d.line << "\n  expected: " << d.expected
                    << "\n  replayed: " << d.actual << "\n(" << d.expected_lines << " expected lines, "
                    << d.actual_lines << " replayed; all of them in " << kept
                    << "; OPSYNC_UPDATE_GOLDEN=1 rewrites the .chk if the change is intended)";
    }
    // The golden session is meant to exercise more than the happy path.
    uint64_t samples = 0, scans = 0, models = 0;
    for (const auto& s : r.sources) {
      samples += s.samples;
      scans += s.scans;
      models += s.clock_models;
    }
    EXPECT_GT(samples, 1000u);
    EXPECT_GT(scans, 0u);
    EXPECT_GT(models, 10u);
  }
}

}  // namespace
}  // namespace opsync::replay
