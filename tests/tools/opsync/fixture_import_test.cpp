// Every shared fixture through `opsync import` end to end, and a truncated and a corrupted copy of
// each: the real file imports, the damaged copies exit 1 with a message naming the file, and the
// database is left exactly as it was (no session, source or sample from the failed import).
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "store/reader.h"
#include "support/temp_dir.h"
#include "support/fixtures.h"

namespace {

struct Result {
  int exit_code = -1;
  std::string out, err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Result run_cli(const std::filesystem::path& dir, const std::string& args) {
  const auto out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string cmd = std::string("timeout 120 ") + OPSYNC_CLI_BINARY + " " + args + " >" + out.string() + " 2>" +
                          err.string() + " </dev/null";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

struct Fixture {
  const char* rel;
  const char* kind;
  bool text;  // a text cut at a line boundary is a valid shorter file: cut inside a line instead
};

const Fixture kFixtures[] = {
    {"cycler/arbin_5cycles_cathode.res", "cycler", false}, {"cycler/arbin_export.csv", "cycler", true},
    {"cycler/arbin_gitt_fullcell.res", "cycler", false},   {"cycler/biologic_gcpl_5cycles_C24.mpr", "cycler", false},
    {"cycler/biologic_gcpl_pair.mpr", "cycler", false},    {"cycler/biologic_gcpl_pair.mpt", "cycler", true},
    {"cycler/maccor_diagnostic.052", "cycler", true},      {"cycler/maccor_export.txt", "cycler", true},
    {"cycler/neware_ccv_v5.ndax", "cycler", false},        {"cycler/neware_m50t_v17.ndax", "cycler", false},
    {"cycler/neware_v130.nda", "cycler", false},           {"cycler/neware_v29.nda", "cycler", false},
    {"ms/zilien_ecms.tsv", "ms", true},                    {"ms/zilien_ecms_01_C01.mpt", "cycler", true},
};

// What the database holds, to compare before and after a failed import.
std::string db_fingerprint(const std::string& db) {
  opsync::store::StoreReader r(db);
  std::string s;
  for (const auto& session : r.sessions()) {
    s += fmt::format("session {} {};", session.id, session.name);
    for (const auto& src : r.sources(session.id)) {
      s += fmt::format("source {} {};", src.id, src.name);
      for (const auto& ch : r.channels(src.id)) s += fmt::format("channel {} {};", ch.name, r.channel_stats(ch.id).n_samples);
    }
  }
  return s;
}

}  // namespace

TEST(FixtureImport, EveryFixtureImportsAndDamagedCopiesWriteNothing) {
  OPSYNC_REQUIRE_FIXTURES();
  opsync::test::TempDir dir;
  const std::string db = (dir.path() / "st.db").string();
  int n = 0;
  for (const Fixture& f : kFixtures) {
    SCOPED_TRACE(f.rel);
    const std::string path = opsync::test::fixture(f.rel);
    const Result ok = run_cli(dir.path(), fmt::format("import {} {} --db {} --session s{}", f.kind, path, db, n));
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_NE(ok.out.find("imported"), std::string::npos) << ok.out;
    ++n;

    const std::string bytes = slurp(path);
    // Truncated: at 60 % of the file, inside a line for text files.
    std::size_t cut = bytes.size() * 6 / 10;
    if (f.text) {
      while (cut < bytes.size() && (bytes[cut - 1] == '\n' || bytes[cut] == '\n' || bytes[cut] == '\r')) ++cut;
      // A row cut after a complete field can still parse; cut in the middle of a number.
      while (cut < bytes.size() && !(std::isdigit(static_cast<unsigned char>(bytes[cut - 1])) &&
                                     std::isdigit(static_cast<unsigned char>(bytes[cut]))))
        ++cut;
    }
    const std::string base = std::filesystem::path(path).filename().string();
    const auto cut_path = dir.path() / ("cut_" + base);
    std::ofstream(cut_path, std::ios::binary) << bytes.substr(0, cut) << (f.text ? "x" : "");
    const std::string before = db_fingerprint(db);
    const Result bad = run_cli(dir.path(), fmt::format("import {} {} --db {} --session s{}", f.kind, cut_path.string(), db, n - 1));
    EXPECT_EQ(bad.exit_code, 1) << "truncated copy imported: " << bad.out;
    EXPECT_NE(bad.err.find("cut_" + base), std::string::npos) << bad.err;
    EXPECT_EQ(db_fingerprint(db), before) << "the failed import wrote something";
    // Corrupted: the header region overwritten (binary) or a field replaced by garbage (text).
    std::string corrupt = bytes;
    if (f.text) {
      const std::size_t at = corrupt.find('\n', corrupt.size() / 2) + 1;
      corrupt.insert(at, "garbage\x01,\x02;not a row\n");
      corrupt[corrupt.find('\n', at + 30) + 1] = 'Q';
    } else {
      for (std::size_t i = 8; i < std::min<std::size_t>(corrupt.size(), 200); ++i) corrupt[i] = static_cast<char>(0xA5);
    }
    const auto bad_path = dir.path() / ("bad_" + base);
    std::ofstream(bad_path, std::ios::binary) << corrupt;
    const Result bad2 = run_cli(dir.path(), fmt::format("import {} {} --db {} --session s{}", f.kind, bad_path.string(), db, n - 1));
    EXPECT_EQ(bad2.exit_code, 1) << "corrupted copy imported: " << bad2.out;
    EXPECT_FALSE(bad2.err.empty());
    EXPECT_EQ(db_fingerprint(db), before) << "the failed import wrote something";
  }
}
