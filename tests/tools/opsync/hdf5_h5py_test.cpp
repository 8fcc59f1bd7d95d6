// The HDF5 export read back by h5py (Debian's python3-h5py), as synchrotron users read it: the
// documented paths and attributes of docs/export.md, values and units. Skipped with the reason
// when python3 or h5py is missing (the package check, tests/packages, makes sure CI has them).
// The script is h5py_readback.py beside this file.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "support/temp_dir.h"

namespace {

int run(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST(Hdf5H5py, ExportReadsBackWithH5py) {
  if (run(fmt::format("{} -c 'import h5py' >/dev/null 2>&1", OPSYNC_PYTHON3)) != 0) {
    GTEST_SKIP() << "python3-h5py is not installed (tools/setup.sh installs it); h5py read-back not run";
  }
  opsync::test::TempDir dir;
  const auto csv = dir.path() / "cell.csv";
  std::ofstream(csv) << "time/s,Voltage/V,Current/mA\n0,3.5,1.0\n10,3.6,1.0\n20,3.7,1.0\n";
  const std::string db = (dir.path() / "st.db").string(), h5 = (dir.path() / "s.h5").string();
  ASSERT_EQ(run(fmt::format("{} import cycler {} --db {} --session run1 --start 2024-05-01T10:00:00Z >/dev/null",
                            OPSYNC_CLI_BINARY, csv.string(), db)),
            0);
  ASSERT_EQ(run(fmt::format("{} export --db {} run1 --format hdf5 --out {} >/dev/null", OPSYNC_CLI_BINARY, db, h5)), 0);
  EXPECT_EQ(run(fmt::format("{} {} {} > {} 2>&1", OPSYNC_PYTHON3, OPSYNC_H5PY_SCRIPT, h5, (dir.path() / "py.txt").string())), 0)
      << std::ifstream(dir.path() / "py.txt").rdbuf();
}
