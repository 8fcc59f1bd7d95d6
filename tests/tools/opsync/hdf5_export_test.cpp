// `opsync export --format hdf5` end to end: a session written with the store's writers is
// exported by the real binary and read back with the HDF5 C API; every time, value, unit,
// NX_class, clock attribute, event, scan and import record must come back exactly. Also: h5dump
// accepts the file, failures leave no partial file, an empty session gives valid empty groups.
#include <bit>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "core/time_format.h"
#include "opsync/h5_handle.h"
#include "store/reader.h"
#include "store/transaction_writer.h"
#include "store/writer.h"
#include "support/temp_dir.h"

namespace opsync::cli {
namespace {

namespace fs = std::filesystem;

// --- running the binary -------------------------------------------------------------------

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs `prefix opsync args` through /bin/sh (prefix: shell commands such as a ulimit).
CliRun run_opsync(const test::TempDir& dir, const std::string& args, const std::string& prefix = "") {
  const auto out = dir.path() / "stdout.txt";
  const auto err = dir.path() / "stderr.txt";
  const std::string cmd = prefix + "exec timeout 120 " + OPSYNC_CLI_BINARY + " " + args + " >" + out.string() + " 2>" +
                          err.string() + " </dev/null";
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// h5dump as CMake found it (OPSYNC_H5DUMP, empty when absent; the package check fails then).
bool have_h5dump() {
  const std::string h5dump = OPSYNC_H5DUMP;
  return !h5dump.empty() && h5dump.find("NOTFOUND") == std::string::npos;
}

// --- the session ------------------------------------------------------------------------------

constexpr int64_t kStart = 1'714'557'600'000'000'000;  // 2024-05-01T10:00:00Z
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;
const std::string kSession = "lr first/charge";  // a '/' cannot be in an HDF5 link name
const std::string kEntry = "/lr first_charge";

// Deterministic values with all 52 mantissa bits in use (they do not compress, which the
// write-failure test relies on, and they catch any rounding on the way).
class Lcg {
 public:
  double next_unit() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state_ >> 11) * 0x1.0p-53;
  }

 private:
  uint64_t state_ = 42;
};

struct ChannelSpec {
  const char* name;
  const char* unit;
  const char* quantity;
};

// Two sources whose channels all have their own time bases: a 150000-sample voltage (three
// chunks, the last one partial), a current with a NaN and two samples at one t_ns, a step count
// without unit, an ion current of exactly one chunk, another on a third time base, an empty
// channel. Events with and without source, scans with values that not every scan has.
void build_session(const std::string& db) {
  records::SourceId cycler = 0;
  {
    store::StoreWriter w(db);
    const records::SessionId sid = w.open_session(records::Session{0, kSession, kStart, 0, "beamline-pc", "Li-rich, C/10"});
    cycler = w.add_source(records::Source{0, sid, "cycler", "cycler", "tcp://10.0.0.5:57570", ""});
    const records::SourceId dems = w.add_source(records::Source{0, sid, "dems", "ms", "serial:///dev/ttyUSB0", "RGA 200", 30});
    auto channel = [&](records::SourceId src, const ChannelSpec& c) {
      return w.add_channel(records::Channel{0, src, c.name, c.unit, c.quantity});
    };
    const auto voltage = channel(cycler, {"voltage", "V", "cell voltage"});
    const auto current = channel(cycler, {"current", "A", "cell current"});
    const auto step = channel(cycler, {"step", "", "step index"});
    const auto m32 = channel(dems, {"ion_current_m32", "A", "O2 ion current (m/z 32)"});
    const auto m44 = channel(dems, {"ion_current_m44", "A", "CO2 ion current (m/z 44)"});
    channel(dems, {"pressure", "Pa", ""});  // no samples, no quantity

    Lcg rng;
    std::vector<records::Sample> batch;
    for (int64_t i = 0; i < 150000; ++i) {
      batch.push_back({voltage, kStart + i * 100 * kMs, 3.0 + 1.7 * rng.next_unit()});
    }
    for (int64_t i = 0; i < 1000; ++i) {
      const double v = i == 10 ? std::nan("") : (i % 2 ? 1e-3 : -1e-3) * (1 + rng.next_unit());
      batch.push_back({current, kStart + 370 * kMs + i * kS, v});
      if (i == 20) batch.push_back({current, kStart + 370 * kMs + i * kS, 0.123456789});  // same t_ns, both kept
    }
    for (int64_t i = 0; i < 5; ++i) batch.push_back({step, kStart + i * 600 * kS, static_cast<double>(i + 1)});
    for (int64_t i = 0; i < 65536; ++i) {
      batch.push_back({m32, kStart + 250 * kMs + i * 500 * kMs + (i % 7) * 1000, 1e-11 * (1 + rng.next_unit())});
    }
    for (int64_t i = 0; i < 1500; ++i) batch.push_back({m44, kStart + i * 733 * kMs, 2e-12 * rng.next_unit()});
    w.push(std::span<const records::Sample>(batch));

    w.add_clock_model(dems,
                      records::ClockModel{"regression", -1'234'567, 1.00008, 12.5, 40.25, 37, kStart + 3600 * kS, 20.5});
    w.push(records::Event{sid, 0, kStart + 5 * kS, "mark", "cell tapped"});
    w.push(records::Event{sid, cycler, kStart + 600 * kS, "step_change", "step 1 -> 2"});
    w.push(records::Event{sid, dems, kStart + 700 * kS, "crc_error", "bad frame, \"quoted\"\nsecond line \xC2\xB5"});
    w.push(records::Scan{0, sid, 0, 1, kStart + 1000 * kS, kStart + 1060 * kS, "scan_001",
                       {{"strain_mean", "", 1.25e-4}, {"peak_shift", "rad", -3.5e-5}}});
    w.push(
        records::Scan{0, sid, 0, 2, kStart + 1300 * kS, kStart + 1360 * kS, "scan_002", {{"strain_mean", "", 2.5e-4}}});
    w.push(records::Scan{0, sid, cycler, 3, kStart + 1600 * kS, kStart + 1660 * kS, "",
                       {{"strain_mean", "", std::nan("")}, {"peak_shift", "deg", 0.002}, {"d/spacing", "m", 2.0e-10}}});
    w.end_session(sid, kStart + 20000 * kS);
    w.flush();
  }
  // The batching writer has no import records; the import path's one-transaction writer does.
  store::TransactionWriter tw(db);
  tw.insert().add_import(records::ImportRecord{cycler, "/data/cell 1.mpt", "biologic_mpt", 1000,
                                             "time from the header\ncurrent sign: charge positive",
                                             kStart + 7200 * kS});
  tw.commit();
}

// --- reading HDF5 back --------------------------------------------------------------------

h5::Datatype string_mem_type() {
  h5::Datatype t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

bool has_attr(hid_t obj, const char* name) { return H5Aexists(obj, name) > 0; }

h5::Attribute open_attr(hid_t obj, const char* name) {
  h5::Attribute a(H5Aopen(obj, name, H5P_DEFAULT));
  EXPECT_TRUE(a.valid()) << "no attribute '" << name << "'";
  return a;
}

std::string attr_string(hid_t obj, const char* name) {
  const h5::Attribute a = open_attr(obj, name);
  if (!a.valid()) return "<missing>";
  const h5::Datatype file_type(H5Aget_type(a.get()));
  EXPECT_EQ(H5Tget_class(file_type.get()), H5T_STRING) << name;
  const h5::Datatype mem = string_mem_type();
  char* text = nullptr;
  EXPECT_GE(H5Aread(a.get(), mem.get(), &text), 0) << name;
  std::string s = text != nullptr ? text : "";
  H5free_memory(text);
  return s;
}

int64_t attr_int64(hid_t obj, const char* name) {
  const h5::Attribute a = open_attr(obj, name);
  const h5::Datatype file_type(H5Aget_type(a.get()));
  EXPECT_GT(H5Tequal(file_type.get(), H5T_STD_I64LE), 0) << name << " is not int64";
  int64_t v = 0;
  EXPECT_GE(H5Aread(a.get(), H5T_NATIVE_INT64, &v), 0) << name;
  return v;
}

double attr_double(hid_t obj, const char* name) {
  const h5::Attribute a = open_attr(obj, name);
  const h5::Datatype file_type(H5Aget_type(a.get()));
  EXPECT_GT(H5Tequal(file_type.get(), H5T_IEEE_F64LE), 0) << name << " is not a double";
  double v = 0;
  EXPECT_GE(H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v), 0) << name;
  return v;
}

h5::Group open_group(hid_t file, const std::string& path) {
  h5::Group g(H5Gopen2(file, path.c_str(), H5P_DEFAULT));
  EXPECT_TRUE(g.valid()) << "no group " << path;
  return g;
}

// Opens a one-dimensional dataset, checks its stored type and returns it with its length.
h5::Dataset open_column(hid_t group, const char* name, hid_t expected_type, hsize_t& n) {
  h5::Dataset d(H5Dopen2(group, name, H5P_DEFAULT));
  n = 0;
  EXPECT_TRUE(d.valid()) << "no dataset " << name;
  if (!d.valid()) return d;
  const h5::Datatype t(H5Dget_type(d.get()));
  if (expected_type >= 0) {
    EXPECT_GT(H5Tequal(t.get(), expected_type), 0) << name << " has another type";
  } else {
    EXPECT_EQ(H5Tget_class(t.get()), H5T_STRING) << name;
  }
  const h5::Dataspace s(H5Dget_space(d.get()));
  EXPECT_EQ(H5Sget_simple_extent_ndims(s.get()), 1) << name;
  H5Sget_simple_extent_dims(s.get(), &n, nullptr);
  return d;
}

std::vector<int64_t> read_int64s(hid_t group, const char* name) {
  hsize_t n = 0;
  const h5::Dataset d = open_column(group, name, H5T_STD_I64LE, n);
  std::vector<int64_t> v(n);
  if (n > 0) {
    EXPECT_GE(H5Dread(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0) << name;
  }
  return v;
}

std::vector<double> read_doubles(hid_t group, const char* name) {
  hsize_t n = 0;
  const h5::Dataset d = open_column(group, name, H5T_IEEE_F64LE, n);
  std::vector<double> v(n);
  if (n > 0) {
    EXPECT_GE(H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0) << name;
  }
  return v;
}

std::vector<std::string> read_strings(hid_t group, const char* name) {
  hsize_t n = 0;
  const h5::Dataset d = open_column(group, name, -1, n);
  std::vector<char*> raw(n, nullptr);
  const h5::Datatype mem = string_mem_type();
  if (n > 0) {
    EXPECT_GE(H5Dread(d.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), 0) << name;
  }
  std::vector<std::string> out;
  for (char* p : raw) {
    out.emplace_back(p != nullptr ? p : "");
    H5free_memory(p);
  }
  return out;
}

std::string string_field(hid_t group, const char* name) {
  h5::Dataset d(H5Dopen2(group, name, H5P_DEFAULT));
  EXPECT_TRUE(d.valid()) << "no field " << name;
  if (!d.valid()) return "<missing>";
  const h5::Datatype mem = string_mem_type();
  char* text = nullptr;
  EXPECT_GE(H5Dread(d.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text), 0);
  std::string s = text != nullptr ? text : "";
  H5free_memory(text);
  return s;
}

// Same bits: NaN equals NaN, and nothing is rounded.
bool same_double(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

struct Layout {
  H5D_layout_t layout = H5D_LAYOUT_ERROR;
  bool shuffle = false;
  bool deflate = false;
};

Layout layout_of(hid_t group, const char* name) {
  const h5::Dataset d(H5Dopen2(group, name, H5P_DEFAULT));
  const h5::PropList p(H5Dget_create_plist(d.get()));
  Layout l;
  l.layout = H5Pget_layout(p.get());
  for (int k = 0; k < H5Pget_nfilters(p.get()); ++k) {
    unsigned flags = 0;
    size_t n_values = 0;
    const H5Z_filter_t f = H5Pget_filter2(p.get(), static_cast<unsigned>(k), &flags, &n_values, nullptr, 0, nullptr,
                                          nullptr);
    l.shuffle |= f == H5Z_FILTER_SHUFFLE;
    l.deflate |= f == H5Z_FILTER_DEFLATE;
  }
  return l;
}

// --- tests ----------------------------------------------------------------------------------

class Hdf5Export : public ::testing::Test {
 protected:
  void SetUp() override { h5::silence_error_printing(); }
  // Builds the session and exports it with the binary; returns the file.
  fs::path export_built_session() {
    build_session(db_);
    const fs::path out = dir_.path() / "run.h5";
    const CliRun r =
        run_opsync(dir_, "export --db " + db_ + " " + quoted(kSession) + " --format hdf5 --out " + out.string());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("wrote " + out.string()), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("218042 samples"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(out.string() + ".tmp"));
    return out;
  }

  test::TempDir dir_;
  std::string db_ = (dir_.path() / "station.db").string();
};

TEST_F(Hdf5Export, EverySampleAttributeEventScanAndImportRoundTrips) {
  const fs::path path = export_built_session();
  const h5::File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  ASSERT_TRUE(file.valid());
  store::StoreReader reader(db_);
  const auto session = reader.find_session(kSession);
  ASSERT_TRUE(session);

  const h5::Group root = open_group(file.get(), "/");
  EXPECT_EQ(attr_string(root.get(), "NX_class"), "NXroot");
  EXPECT_EQ(attr_string(root.get(), "default"), kEntry.substr(1));
  EXPECT_EQ(attr_string(root.get(), "file_name"), "run.h5");
  EXPECT_EQ(attr_string(root.get(), "creator").rfind("opsync ", 0), 0u);

  const h5::Group entry = open_group(file.get(), kEntry);
  EXPECT_EQ(attr_string(entry.get(), "NX_class"), "NXentry");
  EXPECT_EQ(attr_string(entry.get(), "session_name"), kSession);
  EXPECT_EQ(attr_int64(entry.get(), "session_id"), session->id);
  EXPECT_EQ(attr_string(entry.get(), "start_time"), "2024-05-01T10:00:00.000000000Z");
  EXPECT_EQ(attr_string(entry.get(), "end_time"), "2024-05-01T15:33:20.000000000Z");
  EXPECT_EQ(attr_int64(entry.get(), "start_ns"), kStart);
  EXPECT_EQ(attr_int64(entry.get(), "end_ns"), kStart + 20000 * kS);
  EXPECT_EQ(attr_string(entry.get(), "host"), "beamline-pc");
  EXPECT_EQ(attr_string(entry.get(), "note"), "Li-rich, C/10");
  EXPECT_EQ(attr_string(entry.get(), "default"), "cycler");
  EXPECT_EQ(string_field(entry.get(), "title"), kSession);
  EXPECT_EQ(string_field(entry.get(), "start_time"), "2024-05-01T10:00:00.000000000Z");
  EXPECT_EQ(string_field(entry.get(), "end_time"), "2024-05-01T15:33:20.000000000Z");

  // Sources, their clock models and every channel's samples, against the store.
  const auto sources = reader.sources(session->id);
  ASSERT_EQ(sources.size(), 2u);
  uint64_t total = 0;
  for (const auto& src : sources) {
    SCOPED_TRACE(src.name);
    const std::string src_path = kEntry + "/" + src.name;
    const h5::Group g = open_group(file.get(), src_path);
    EXPECT_EQ(attr_string(g.get(), "NX_class"), "NXcollection");
    EXPECT_EQ(attr_string(g.get(), "name"), src.name);
    EXPECT_EQ(attr_string(g.get(), "kind"), src.kind);
    EXPECT_EQ(attr_string(g.get(), "address"), src.address);
    EXPECT_EQ(attr_string(g.get(), "note"), src.note);
    EXPECT_TRUE(same_double(attr_double(g.get(), "transport_delay_s"), src.transport_delay_s));
    const auto channels = reader.channels(src.id);
    EXPECT_EQ(attr_string(g.get(), "default"), channels.at(0).name);
    if (src.name == "dems") {
      EXPECT_EQ(attr_string(g.get(), "clock_method"), "regression");
      EXPECT_EQ(attr_int64(g.get(), "clock_offset_ns"), -1'234'567);
      EXPECT_TRUE(same_double(attr_double(g.get(), "clock_rate"), 1.00008));
      EXPECT_TRUE(same_double(attr_double(g.get(), "clock_residual_rms_ns"), 12.5));
      EXPECT_TRUE(same_double(attr_double(g.get(), "clock_residual_max_ns"), 40.25));
      EXPECT_EQ(attr_int64(g.get(), "clock_n_points"), 37);
      EXPECT_TRUE(same_double(attr_double(g.get(), "clock_uncertainty_ns"), 20.5));
      EXPECT_EQ(attr_int64(g.get(), "clock_fitted_at_ns"), kStart + 3600 * kS);
    } else {
      EXPECT_FALSE(has_attr(g.get(), "clock_method")) << "no clock model was stored for the cycler";
    }
    ASSERT_EQ(channels.size(), 3u);
    for (const auto& ch : channels) {
      SCOPED_TRACE(ch.name);
      const h5::Group d = open_group(file.get(), src_path + "/" + ch.name);
      EXPECT_EQ(attr_string(d.get(), "NX_class"), "NXdata");
      EXPECT_EQ(attr_string(d.get(), "signal"), "value");
      EXPECT_EQ(attr_string(d.get(), "axes"), "t_ns");
      EXPECT_EQ(attr_int64(d.get(), "t_ns_indices"), 0);
      EXPECT_EQ(attr_string(d.get(), "name"), ch.name);
      EXPECT_EQ(attr_string(d.get(), "quantity"), ch.quantity);
      const h5::Dataset t_ds(H5Dopen2(d.get(), "t_ns", H5P_DEFAULT));
      EXPECT_EQ(attr_string(t_ds.get(), "units"), "ns");
      const h5::Dataset v_ds(H5Dopen2(d.get(), "value", H5P_DEFAULT));
      EXPECT_EQ(attr_string(v_ds.get(), "units"), ch.unit);
      EXPECT_EQ(attr_string(v_ds.get(), "long_name"), ch.quantity.empty() ? ch.name : ch.quantity);

      const auto expected = reader.samples(ch.id);
      const auto t_ns = read_int64s(d.get(), "t_ns");
      const auto values = read_doubles(d.get(), "value");
      ASSERT_EQ(t_ns.size(), expected.size());
      ASSERT_EQ(values.size(), expected.size());
      size_t mismatches = 0;
      for (size_t i = 0; i < expected.size(); ++i) {
        if (t_ns[i] != expected[i].t_ns || !same_double(values[i], expected[i].value)) {
          if (++mismatches < 5) ADD_FAILURE() << "sample " << i << ": " << t_ns[i] << " " << values[i];
        }
      }
      EXPECT_EQ(mismatches, 0u);
      total += expected.size();
    }
  }
  EXPECT_EQ(total, 150000u + 1001u + 5u + 65536u + 1500u);

  // The particular cases are really in the file.
  const h5::Group current = open_group(file.get(), kEntry + "/cycler/current");
  const auto current_values = read_doubles(current.get(), "value");
  const auto current_t = read_int64s(current.get(), "t_ns");
  EXPECT_TRUE(std::isnan(current_values.at(10)));
  EXPECT_EQ(current_t.at(20), current_t.at(21));
  EXPECT_EQ(current_values.at(21), 0.123456789);
  const h5::Group pressure = open_group(file.get(), kEntry + "/dems/pressure");
  EXPECT_TRUE(read_int64s(pressure.get(), "t_ns").empty());
  const h5::Dataset pressure_value(H5Dopen2(pressure.get(), "value", H5P_DEFAULT));
  EXPECT_EQ(attr_string(pressure_value.get(), "long_name"), "pressure");

  // Large channels are chunked and compressed; small ones are plain.
  const h5::Group voltage = open_group(file.get(), kEntry + "/cycler/voltage");
  for (const char* name : {"t_ns", "value"}) {
    const Layout l = layout_of(voltage.get(), name);
    EXPECT_EQ(l.layout, H5D_CHUNKED) << name;
    EXPECT_TRUE(l.shuffle && l.deflate) << name;
  }
  const h5::Group m32 = open_group(file.get(), kEntry + "/dems/ion_current_m32");
  EXPECT_EQ(layout_of(m32.get(), "value").layout, H5D_CHUNKED);
  const h5::Group step = open_group(file.get(), kEntry + "/cycler/step");
  EXPECT_EQ(layout_of(step.get(), "value").layout, H5D_CONTIGUOUS);

  // Import records of each source.
  const h5::Group imports = open_group(file.get(), kEntry + "/cycler/imports");
  EXPECT_EQ(attr_string(imports.get(), "NX_class"), "NXcollection");
  EXPECT_EQ(read_strings(imports.get(), "path"), std::vector<std::string>{"/data/cell 1.mpt"});
  EXPECT_EQ(read_strings(imports.get(), "format"), std::vector<std::string>{"biologic_mpt"});
  EXPECT_EQ(read_int64s(imports.get(), "rows"), std::vector<int64_t>{1000});
  EXPECT_EQ(read_strings(imports.get(), "assumptions"),
            std::vector<std::string>{"time from the header\ncurrent sign: charge positive"});
  EXPECT_EQ(read_int64s(imports.get(), "imported_ns"), std::vector<int64_t>{kStart + 7200 * kS});
  const h5::Group no_imports = open_group(file.get(), kEntry + "/dems/imports");
  EXPECT_TRUE(read_strings(no_imports.get(), "path").empty());

  // Events, in time order, with the name of their source ("" for the session itself).
  const h5::Group events = open_group(file.get(), kEntry + "/events");
  EXPECT_EQ(attr_string(events.get(), "NX_class"), "NXcollection");
  EXPECT_EQ(read_int64s(events.get(), "t_ns"),
            (std::vector<int64_t>{kStart + 5 * kS, kStart + 600 * kS, kStart + 700 * kS}));
  EXPECT_EQ(read_strings(events.get(), "source"), (std::vector<std::string>{"", "cycler", "dems"}));
  EXPECT_EQ(read_strings(events.get(), "kind"), (std::vector<std::string>{"mark", "step_change", "crc_error"}));
  EXPECT_EQ(read_strings(events.get(), "detail"),
            (std::vector<std::string>{"cell tapped", "step 1 -> 2", "bad frame, \"quoted\"\nsecond line \xC2\xB5"}));

  // Scans, with one value column per (name, unit) and NaN where a scan has no such value.
  const h5::Group scans = open_group(file.get(), kEntry + "/scans");
  EXPECT_EQ(attr_string(scans.get(), "NX_class"), "NXcollection");
  EXPECT_EQ(read_int64s(scans.get(), "number"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(read_int64s(scans.get(), "start_ns"),
            (std::vector<int64_t>{kStart + 1000 * kS, kStart + 1300 * kS, kStart + 1600 * kS}));
  EXPECT_EQ(read_int64s(scans.get(), "end_ns"),
            (std::vector<int64_t>{kStart + 1060 * kS, kStart + 1360 * kS, kStart + 1660 * kS}));
  EXPECT_EQ(read_strings(scans.get(), "label"), (std::vector<std::string>{"scan_001", "scan_002", ""}));
  EXPECT_EQ(read_strings(scans.get(), "source"), (std::vector<std::string>{"", "", "cycler"}));
  const h5::Group values = open_group(file.get(), kEntry + "/scans/values");
  struct ValueColumn {
    const char* link;
    const char* name;
    const char* unit;
    std::vector<double> values;
  };
  const double nan = std::nan("");
  const std::vector<ValueColumn> expected_values = {
      {"strain_mean", "strain_mean", "", {1.25e-4, 2.5e-4, nan}},
      {"peak_shift", "peak_shift", "rad", {-3.5e-5, nan, nan}},
      {"peak_shift_2", "peak_shift", "deg", {nan, nan, 0.002}},
      {"d_spacing", "d/spacing", "m", {nan, nan, 2.0e-10}},
  };
  for (const auto& c : expected_values) {
    SCOPED_TRACE(c.link);
    const auto got = read_doubles(values.get(), c.link);
    ASSERT_EQ(got.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(std::isnan(got[i]), std::isnan(c.values[i])) << i;
    for (size_t i = 0; i < 3; ++i) {
      if (!std::isnan(c.values[i])) {
        EXPECT_TRUE(same_double(got[i], c.values[i])) << i;
      }
    }
    const h5::Dataset d(H5Dopen2(values.get(), c.link, H5P_DEFAULT));
    EXPECT_EQ(attr_string(d.get(), "name"), c.name);
    EXPECT_EQ(attr_string(d.get(), "units"), c.unit);
  }
  // The reported strain_mean NaN is the store's (NULL) value, not a filler.
  EXPECT_TRUE(std::isnan(reader.scans(session->id).at(2).values.at(0).value));
}

TEST_F(Hdf5Export, H5dumpReadsTheFile) {
  if (!have_h5dump()) GTEST_SKIP() << "h5dump not found (Debian package hdf5-tools): the h5dump check is skipped";
  const fs::path path = export_built_session();
  const fs::path dump_file = dir_.path() / "h5dump.txt";
  const std::string cmd = std::string(OPSYNC_H5DUMP) + " -H '" + path.string() + "' >" + dump_file.string() + " 2>&1";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "h5dump -H failed:\n" << slurp(dump_file);
  const std::string dump = slurp(dump_file);
  EXPECT_NE(dump.find("GROUP \"lr first_charge\""), std::string::npos) << dump.substr(0, 2000);
  EXPECT_NE(dump.find("GROUP \"ion_current_m44\""), std::string::npos);
}

TEST_F(Hdf5Export, UnwritablePathIsAClearErrorAndLeavesNoFile) {
  build_session(db_);
  const fs::path not_a_folder = dir_.path() / "plain.txt";
  std::ofstream(not_a_folder) << "a file, not a folder\n";
  const fs::path out = not_a_folder / "run.h5";
  CliRun r = run_opsync(dir_, "export --db " + db_ + " " + quoted(kSession) + " --format hdf5 --out " + out.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot write '" + out.string() + "'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Not a directory"), std::string::npos) << r.err;

  const fs::path missing = dir_.path() / "no_such_folder" / "run.h5";
  r = run_opsync(dir_, "export --db " + db_ + " " + quoted(kSession) + " --format hdf5 --out " + missing.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(missing.parent_path()));

  // A folder given where a file is expected.
  r = run_opsync(dir_, "export --db " + db_ + " " + quoted(kSession) + " --format hdf5 --out " + dir_.path().string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is a folder"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_.path().string() + ".tmp"));
}

TEST_F(Hdf5Export, FailureMidWriteLeavesNoPartialFile) {
  build_session(db_);
  const fs::path out = dir_.path() / "run.h5";
  std::ofstream(out) << "an older export\n";
  // The file size limit makes a write fail part way (EFBIG, as a full disk gives ENOSPC); the
  // signal that would kill the process is ignored so opsync sees the error. The session is
  // about 1.5 MB of incompressible samples, far above the limit (at most 512 KiB).
  const CliRun r =
      run_opsync(dir_, "export --db " + db_ + " " + quoted(kSession) + " --format hdf5 --out " + out.string(),
                 "trap '' XFSZ; ulimit -f 512; ");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("export to '" + out.string() + "' failed, no file written"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(out), "an older export\n") << "the previous file must be left as it was";
  EXPECT_FALSE(fs::exists(out.string() + ".tmp"));
}

TEST_F(Hdf5Export, EmptySessionHasValidEmptyGroups) {
  {
    store::StoreWriter w(db_);
    w.end_session(w.open_session(records::Session{0, "empty", kStart, 0, "", ""}), kStart + kS);
  }
  const fs::path out = dir_.path() / "empty.h5";
  const CliRun r = run_opsync(dir_, "export --db " + db_ + " empty --format hdf5 --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 sources, 0 channels, 0 samples, 0 events, 0 scans"), std::string::npos) << r.out;

  {
    const h5::File file(H5Fopen(out.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    ASSERT_TRUE(file.valid());
    const h5::Group entry = open_group(file.get(), "/empty");
    EXPECT_EQ(attr_string(entry.get(), "NX_class"), "NXentry");
    EXPECT_FALSE(has_attr(entry.get(), "default")) << "nothing to plot";
    H5G_info_t info{};
    ASSERT_GE(H5Gget_info(entry.get(), &info), 0);
    EXPECT_EQ(info.nlinks, 5u);  // title, start_time, end_time, events, scans
    const h5::Group events = open_group(file.get(), "/empty/events");
    EXPECT_EQ(attr_string(events.get(), "NX_class"), "NXcollection");
    EXPECT_TRUE(read_int64s(events.get(), "t_ns").empty());
    for (const char* col : {"source", "kind", "detail"}) EXPECT_TRUE(read_strings(events.get(), col).empty()) << col;
    const h5::Group scans = open_group(file.get(), "/empty/scans");
    for (const char* col : {"number", "start_ns", "end_ns"}) EXPECT_TRUE(read_int64s(scans.get(), col).empty()) << col;
    for (const char* col : {"label", "source"}) EXPECT_TRUE(read_strings(scans.get(), col).empty()) << col;
    const h5::Group values = open_group(file.get(), "/empty/scans/values");
    ASSERT_GE(H5Gget_info(values.get(), &info), 0);
    EXPECT_EQ(info.nlinks, 0u);
  }
  if (have_h5dump()) {
    const std::string cmd = std::string(OPSYNC_H5DUMP) + " " + out.string() + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "h5dump rejects the empty export";
  } else {
    std::cout << "h5dump not found: the empty file was checked with the HDF5 library only\n";
  }
}

TEST_F(Hdf5Export, NamesThatCollideGetTheirOwnLinks) {
  {
    store::StoreWriter w(db_);
    const auto sid = w.open_session(records::Session{0, "names", kStart, 0, "", ""});
    // The entry has an "events" table and every source an "imports" table.
    const auto src = w.add_source(records::Source{0, sid, "events", "cycler", "", ""});
    const auto ch = w.add_channel(records::Channel{0, src, "imports", "V", ""});
    w.push(records::Sample{ch, kStart, 1.5});
    w.push(records::Event{sid, src, kStart, "mark", "x"});
    w.end_session(sid, kStart + kS);
  }
  const fs::path out = dir_.path() / "names.h5";
  ASSERT_EQ(run_opsync(dir_, "export --db " + db_ + " names --format hdf5 --out " + out.string()).exit_code, 0);
  const h5::File file(H5Fopen(out.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  ASSERT_TRUE(file.valid());
  const h5::Group src = open_group(file.get(), "/names/events_2");
  EXPECT_EQ(attr_string(src.get(), "name"), "events");
  EXPECT_EQ(attr_string(src.get(), "default"), "imports_2");
  const h5::Group ch = open_group(file.get(), "/names/events_2/imports_2");
  EXPECT_EQ(attr_string(ch.get(), "name"), "imports");
  EXPECT_EQ(read_doubles(ch.get(), "value"), std::vector<double>{1.5});
  const h5::Group events = open_group(file.get(), "/names/events");
  EXPECT_EQ(read_strings(events.get(), "source"), std::vector<std::string>{"events"});
}

}  // namespace
}  // namespace opsync::cli
