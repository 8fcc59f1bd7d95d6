// import_file() picks the reader by content, never by the file name: each binary fixture copied
// under a misleading name is still read by its own reader.
#include <filesystem>

#include <gtest/gtest.h>

#include "import/import_types.h"
#include "import_test_util.h"
#include "support/fixtures.h"

namespace opsync::import {
namespace {

ImportResult import_renamed(const std::string& fixture_rel, const std::string& new_name) {
  const std::string bytes = testing::read_all(opsync::test::fixture(fixture_rel));
  const std::string path = testing::write_temp(new_name, bytes);
  ImportOptions o;
  o.kind = Kind::Cycler;
  return import_file(path, o);
}

TEST(ImportDispatch, BiologicMprByContent) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = import_renamed("cycler/biologic_gcpl_pair.mpr", "renamed.csv");
  EXPECT_EQ(r.format, "biologic-mpr");
  EXPECT_EQ(r.rows, 2533u);
}

TEST(ImportDispatch, NewareByContent) {
  OPSYNC_REQUIRE_FIXTURES();
  EXPECT_EQ(import_renamed("cycler/neware_v29.nda", "a.txt").format, "neware-nda");
  EXPECT_EQ(import_renamed("cycler/neware_v130.nda", "b.res").format, "neware-nda");
  EXPECT_EQ(import_renamed("cycler/neware_ccv_v5.ndax", "c.zip").format, "neware-ndax");
  EXPECT_EQ(import_renamed("cycler/neware_m50t_v17.ndax", "d.nda").format, "neware-ndax");
}

TEST(ImportDispatch, ArbinResByContent) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = import_renamed("cycler/arbin_5cycles_cathode.res", "e.mdb.txt");
  EXPECT_EQ(r.format, "arbin-res");
  EXPECT_EQ(r.rows, 2150u);
}

}  // namespace
}  // namespace opsync::import
