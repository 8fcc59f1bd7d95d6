# The HDF5 export as h5py reads it (run by hdf5_h5py_test.cpp with Debian's python3):
# argv[1] is the export of a three-row cycler CSV imported as session "run1".
import sys

import h5py

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
