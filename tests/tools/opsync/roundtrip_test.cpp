// Import a real fixture, export it as CSV, import the export into another session: every
// channel must come back with the same names, units, timestamps (exact ns) and values (bit-exact).
#include <cmath>
#include <filesystem>
#include <gtest/gtest.h>

#include "import/import_types.h"
#include "opsync/csv_export.h"
#include "opsync/import_to_store.h"
#include "store/reader.h"
#include "store/sqlite_db.h"
#include "support/temp_dir.h"
#include "support/fixtures.h"

namespace opsync::cli {
namespace {

ImportWritten import_into(const std::string& db, const std::string& session, const std::string& source,
                          const std::string& kind, const std::string& file, const import::ImportOptions& opt) {
  const import::ImportResult r = import::import_file(file, opt);
  ImportTarget t{db, session, source, kind, file, 0};
  return write_import(t, r, 1);
}

void expect_same_channels(store::StoreReader& r, records::SourceId a, records::SourceId b) {
  const auto ca = r.channels(a);
  const auto cb = r.channels(b);
  ASSERT_EQ(ca.size(), cb.size());
  ASSERT_FALSE(ca.empty());
  for (size_t k = 0; k < ca.size(); ++k) {
    SCOPED_TRACE(ca[k].name);
    EXPECT_EQ(ca[k].name, cb[k].name);
    EXPECT_EQ(ca[k].unit, cb[k].unit);
    const auto sa = r.samples(ca[k].id);
    const auto sb = r.samples(cb[k].id);
    ASSERT_EQ(sa.size(), sb.size());
    size_t mismatches = 0;
    for (size_t i = 0; i < sa.size(); ++i) {
      const bool same_value = (std::isnan(sa[i].value) && std::isnan(sb[i].value)) || sa[i].value == sb[i].value;
      if (sa[i].t_ns != sb[i].t_ns || !same_value) {
        if (++mismatches < 5) {
          ADD_FAILURE() << "sample " << i << ": " << sa[i].t_ns << " " << sa[i].value << " vs " << sb[i].t_ns << " "
                        << sb[i].value;
        }
      }
    }
    EXPECT_EQ(mismatches, 0u);
  }
}

struct Case {
  const char* fixture;
  const char* kind;
  import::Kind import_kind;
  friend void PrintTo(const Case& c, std::ostream* os) { *os << c.fixture; }
};

class RoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(RoundTrip, ImportExportImportGivesTheSameSamples) {
  OPSYNC_REQUIRE_FIXTURES();
  const Case c = GetParam();
  test::TempDir dir;
  const std::string db = (dir.path() / "station.db").string();
  import::ImportOptions opt;
  opt.kind = c.import_kind;
  const auto first = import_into(db, "orig", "src", c.kind, test::fixture(c.fixture), opt);
  ASSERT_GT(first.samples, 0u);

  store::StoreReader reader(db);
  const auto files = export_session_csv(reader, *reader.find_session("orig"), dir.path() / "export");
  ASSERT_GE(files.size(), 4u);  // src.csv, events.csv, scans.csv, session.json
  EXPECT_EQ(files[0].path.filename(), "src.csv");

  const auto second = import_into(db, "back", "src", c.kind, files[0].path.string(), opt);
  EXPECT_EQ(second.samples, first.samples);
  store::StoreReader after(db);
  expect_same_channels(after, first.source_id, second.source_id);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RoundTrip,
                         ::testing::Values(Case{"cycler/maccor_export.txt", "cycler", import::Kind::Cycler},
                                           Case{"cycler/biologic_gcpl_pair.mpt", "cycler", import::Kind::Cycler},
                                           Case{"cycler/arbin_export.csv", "cycler", import::Kind::Cycler},
                                           Case{"ms/zilien_ecms.tsv", "ms", import::Kind::Ms}),
                         [](const auto& param_info) {
                           std::string n = std::filesystem::path(param_info.param.fixture).stem().string();
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

TEST(ImportToStore, SecondImportUnderTheSameSourceNameWritesNothing) {
  OPSYNC_REQUIRE_FIXTURES();
  test::TempDir dir;
  const std::string db = (dir.path() / "station.db").string();
  import::ImportOptions opt;
  import_into(db, "s", "cycler", "cycler", test::fixture("cycler/arbin_export.csv"), opt);
  auto count = [&] {
    store::Db d(db, store::Db::Mode::ReadOnly);
    return d.query_int("SELECT (SELECT COUNT(*) FROM samples) + (SELECT COUNT(*) FROM sources)");
  };
  const int64_t before = count();
  try {
    import_into(db, "s", "cycler", "cycler", test::fixture("cycler/maccor_diagnostic.052"), opt);
    FAIL() << "expected an error for the duplicate source name";
  } catch (const store::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("--source"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count(), before);
}

TEST(ImportToStore, SessionSpanCoversEveryImport) {
  OPSYNC_REQUIRE_FIXTURES();
  test::TempDir dir;
  const std::string db = (dir.path() / "station.db").string();
  import::ImportOptions opt;
  opt.kind = import::Kind::Ms;
  const auto r1 = import::import_file(test::fixture("ms/zilien_ecms.tsv"), opt);
  write_import(ImportTarget{db, "ecms", "dems", "ms", "z.tsv", 0}, r1, 1);
  store::StoreReader reader(db);
  const auto s = reader.find_session("ecms");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->started_ns, r1.t_first_ns);
  EXPECT_EQ(s->ended_ns, r1.t_last_ns);
}

}  // namespace
}  // namespace opsync::cli
