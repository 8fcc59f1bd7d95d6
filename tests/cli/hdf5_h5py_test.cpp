// The HDF5 export read back by h5py (Debian's python3-h5py), as synchrotron users read it: the
// documented paths and attributes of docs/export.md, values and units. Skipped with the reason
// when python3 or h5py is missing.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "store_test_util_cli.h"

namespace {

int run(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST(Hdf5H5py, ExportReadsBackWithH5py) {
  if (run("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0) {
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
  const auto py = dir.path() / "check.py";
  std::ofstream(py) << R"(import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    entry = f[f.attrs["default"]]
    assert entry.attrs["NX_class"] == "NXentry", entry.attrs["NX_class"]
    assert entry.attrs["session_name"] == "run1"
    v = entry["cell.csv/voltage"]
    assert v.attrs["NX_class"] == "NXdata" and v.attrs["signal"] == "value"
    assert list(v["value"][:]) == [3.5, 3.6, 3.7], list(v["value"][:])
    assert v["value"].attrs["units"] == "V"
    t = v["t_ns"][:]
    assert t[0] == 1714557600 * 10**9 and t[2] - t[0] == 20 * 10**9, t
    c = entry["cell.csv/current"]["value"]
    assert abs(c[0] - 1e-3) < 1e-15 and c.attrs["units"] == "A"
print("h5py ok")
)";
  EXPECT_EQ(run(fmt::format("/usr/bin/python3 {} {} > {} 2>&1", py.string(), h5, (dir.path() / "py.txt").string())), 0)
      << std::ifstream(dir.path() / "py.txt").rdbuf();
}
