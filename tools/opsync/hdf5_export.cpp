// Writes the NeXus-style tree of docs/export.md with the HDF5 C library. Every HDF5 call is
// checked; a failure becomes one exception naming the object being written and the cause from
// the bottom of HDF5's error stack, and the half-written temporary file is removed.
#include "opsync/hdf5_export.h"
#include "opsync_version.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/time_format.h"
#include "opsync/cli_error.h"
#include "opsync/h5_handle.h"

namespace opsync::cli {
namespace {

[[noreturn]] void fail(const std::string& what) {
  const std::string cause = h5::take_error_text();
  throw CliError(cause.empty() ? what : fmt::format("{}: {}", what, cause));
}

hid_t check_id(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}

void check_ok(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

std::string child(const std::string& where, const std::string& name) {
  return where == "/" ? "/" + name : where + "/" + name;
}

// Variable-length UTF-8 strings: any length (empty too), read back by h5py as `str`.
h5::Datatype utf8_string_type() {
  h5::Datatype t(check_id(H5Tcopy(H5T_C_S1), "copy the string type"));
  check_ok(H5Tset_size(t.get(), H5T_VARIABLE), "make a variable-length string type");
  check_ok(H5Tset_cset(t.get(), H5T_CSET_UTF8), "set UTF-8 on the string type");
  return t;
}

// Link names may be UTF-8 (source and channel names are the user's).
h5::PropList utf8_link_plist() {
  h5::PropList p(check_id(H5Pcreate(H5P_LINK_CREATE), "create a link property list"));
  check_ok(H5Pset_char_encoding(p.get(), H5T_CSET_UTF8), "set UTF-8 link names");
  return p;
}

// Objects list their children and attributes in the order written (sources and channels in
// store order), not alphabetically.
void track_creation_order(hid_t plist, bool links) {
  const unsigned flags = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;
  check_ok(H5Pset_attr_creation_order(plist, flags), "track attribute creation order");
  if (links) check_ok(H5Pset_link_creation_order(plist, flags), "track link creation order");
}

void write_attr(hid_t obj, const std::string& where, const char* name, hid_t file_type, hid_t mem_type,
                const void* value) {
  const std::string what = fmt::format("write attribute '{}' of {}", name, where);
  h5::Dataspace space(check_id(H5Screate(H5S_SCALAR), what));
  h5::Attribute a(check_id(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), what));
  check_ok(H5Awrite(a.get(), mem_type, value), what);
}

void attr_string(hid_t obj, const std::string& where, const char* name, const std::string& value) {
  const h5::Datatype t = utf8_string_type();
  const char* text = value.c_str();
  write_attr(obj, where, name, t.get(), t.get(), &text);
}

void attr_int64(hid_t obj, const std::string& where, const char* name, int64_t value) {
  write_attr(obj, where, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void attr_double(hid_t obj, const std::string& where, const char* name, double value) {
  write_attr(obj, where, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

h5::Group make_group(hid_t parent, const std::string& where, const std::string& name, const char* nx_class) {
  const std::string path = child(where, name);
  const std::string what = fmt::format("create group {}", path);
  h5::PropList gcpl(check_id(H5Pcreate(H5P_GROUP_CREATE), what));
  track_creation_order(gcpl.get(), /*links=*/true);
  const h5::PropList lcpl = utf8_link_plist();
  h5::Group g(check_id(H5Gcreate2(parent, name.c_str(), lcpl.get(), gcpl.get(), H5P_DEFAULT), what));
  attr_string(g.get(), path, "NX_class", nx_class);
  return g;
}

// A scalar string field (NeXus NX_CHAR / NX_DATE_TIME), e.g. an entry's start_time.
void scalar_string_field(hid_t parent, const std::string& where, const char* name, const std::string& value) {
  const std::string what = fmt::format("write {}", child(where, name));
  const h5::Datatype t = utf8_string_type();
  h5::Dataspace space(check_id(H5Screate(H5S_SCALAR), what));
  const h5::PropList lcpl = utf8_link_plist();
  h5::Dataset d(check_id(H5Dcreate2(parent, name, t.get(), space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), what));
  const char* text = value.c_str();
  check_ok(H5Dwrite(d.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text), what);
}

// HDF5 link names cannot contain '/' and cannot be "."; each group hands out unique names, so a
// source called "events" or two names that only differ by '/' still get a link of their own.
// The original name is always kept in a `name` attribute.
class LinkNames {
 public:
  explicit LinkNames(std::initializer_list<std::string> reserved) : taken_(reserved) {}
  std::string claim(const std::string& wanted) {
    std::string base = wanted;
    std::replace(base.begin(), base.end(), '/', '_');
    if (base.empty() || base == "." || base == "..") base = "_" + base;
    std::string name = base;
    for (int k = 2; !taken_.insert(name).second; ++k) name = fmt::format("{}_{}", base, k);
    return name;
  }

 private:
  std::set<std::string> taken_;
};

// A one-dimensional dataset. chunk == 0: contiguous, of fixed size n. Otherwise it starts empty,
// grows without limit, and is stored in chunks of `chunk` elements, shuffled and deflated.
h5::Dataset make_dataset(hid_t parent, const std::string& where, const std::string& name, hid_t file_type, hsize_t n,
                         hsize_t chunk, const Hdf5ExportOptions& opt) {
  const std::string what = fmt::format("create dataset {}", child(where, name));
  const hsize_t dims[1] = {chunk == 0 ? n : 0};
  const hsize_t max_dims[1] = {chunk == 0 ? n : H5S_UNLIMITED};
  h5::Dataspace space(check_id(H5Screate_simple(1, dims, max_dims), what));
  h5::PropList dcpl(check_id(H5Pcreate(H5P_DATASET_CREATE), what));
  track_creation_order(dcpl.get(), /*links=*/false);
  if (chunk != 0) {
    const hsize_t chunk_dims[1] = {chunk};
    check_ok(H5Pset_chunk(dcpl.get(), 1, chunk_dims), what);
    if (opt.deflate_level > 0) {
      // Shuffling bytes first groups the slowly changing high bytes of times and values.
      check_ok(H5Pset_shuffle(dcpl.get()), what);
      check_ok(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(opt.deflate_level)), what);
    }
  }
  const h5::PropList lcpl = utf8_link_plist();
  return h5::Dataset(
      check_id(H5Dcreate2(parent, name.c_str(), file_type, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT), what));
}

// Writes n elements at `offset`, growing the dataset first when it is extendible.
void write_at(hid_t ds, const std::string& what, hid_t mem_type, const void* data, hsize_t offset, hsize_t n) {
  if (n == 0) return;
  {
    h5::Dataspace current(check_id(H5Dget_space(ds), what));
    hsize_t dims[1] = {0};
    check_ok(H5Sget_simple_extent_dims(current.get(), dims, nullptr), what);
    if (dims[0] < offset + n) {
      const hsize_t grown[1] = {offset + n};
      check_ok(H5Dset_extent(ds, grown), what);
    }
  }
  h5::Dataspace file_space(check_id(H5Dget_space(ds), what));
  const hsize_t start[1] = {offset};
  const hsize_t count[1] = {n};
  check_ok(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), what);
  h5::Dataspace mem_space(check_id(H5Screate_simple(1, count, nullptr), what));
  check_ok(H5Dwrite(ds, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, data), what);
}

// A table column written in one go; chunked and compressed once it is as long as a chunk.
h5::Dataset write_column(hid_t parent, const std::string& where, const std::string& name, hid_t file_type,
                         hid_t mem_type, const void* data, uint64_t n, const Hdf5ExportOptions& opt) {
  const hsize_t chunk = n >= opt.chunk_samples ? opt.chunk_samples : 0;
  h5::Dataset ds = make_dataset(parent, where, name, file_type, n, chunk, opt);
  write_at(ds.get(), fmt::format("write {}", child(where, name)), mem_type, data, 0, n);
  return ds;
}

h5::Dataset int64_column(hid_t parent, const std::string& where, const std::string& name, const std::vector<int64_t>& v,
                         const Hdf5ExportOptions& opt) {
  return write_column(parent, where, name, H5T_STD_I64LE, H5T_NATIVE_INT64, v.data(), v.size(), opt);
}

h5::Dataset double_column(hid_t parent, const std::string& where, const std::string& name, const std::vector<double>& v,
                          const Hdf5ExportOptions& opt) {
  return write_column(parent, where, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v.data(), v.size(), opt);
}

h5::Dataset string_column(hid_t parent, const std::string& where, const std::string& name,
                          const std::vector<std::string>& v, const Hdf5ExportOptions& opt) {
  std::vector<const char*> ptrs;
  ptrs.reserve(v.size());
  for (const auto& s : v) ptrs.push_back(s.c_str());
  const h5::Datatype t = utf8_string_type();
  return write_column(parent, where, name, t.get(), t.get(), ptrs.data(), ptrs.size(), opt);
}

constexpr const char* kTimeLongName = "time (ns since 1970-01-01T00:00:00Z, UTC)";

void time_attrs(hid_t ds, const std::string& path) {
  attr_string(ds, path, "units", "ns");
  attr_string(ds, path, "long_name", kTimeLongName);
}

// One channel as an NXdata: t_ns (int64) and value (double), streamed from the store's cursor a
// chunk at a time. A channel that fits in one chunk gets contiguous datasets of its exact size.
uint64_t write_channel(store::StoreReader& reader, const records::Channel& ch, hid_t group, const std::string& where,
                       const Hdf5ExportOptions& opt) {
  const hsize_t chunk = std::max<uint64_t>(1, opt.chunk_samples);
  std::vector<int64_t> t_ns;
  std::vector<double> values;
  t_ns.reserve(chunk);
  values.reserve(chunk);
  h5::Dataset t_ds;
  h5::Dataset v_ds;
  const std::string t_path = child(where, "t_ns");
  const std::string v_path = child(where, "value");
  const std::string t_what = "write " + t_path;
  const std::string v_what = "write " + v_path;
  uint64_t written = 0;
  store::SampleCursor cursor = reader.cursor(ch.id);
  records::Sample s;
  for (bool more = true; more;) {
    more = cursor.next(s);
    if (more) {
      t_ns.push_back(s.t_ns);
      values.push_back(s.value);
      if (t_ns.size() < chunk) continue;
    }
    if (!t_ds.valid()) {
      const bool fits_one_chunk = !more;
      const hsize_t layout_chunk = fits_one_chunk ? 0 : chunk;
      t_ds = make_dataset(group, where, "t_ns", H5T_STD_I64LE, t_ns.size(), layout_chunk, opt);
      v_ds = make_dataset(group, where, "value", H5T_IEEE_F64LE, values.size(), layout_chunk, opt);
      time_attrs(t_ds.get(), t_path);
      attr_string(v_ds.get(), v_path, "units", ch.unit);
      attr_string(v_ds.get(), v_path, "long_name", ch.quantity.empty() ? ch.name : ch.quantity);
    }
    write_at(t_ds.get(), t_what, H5T_NATIVE_INT64, t_ns.data(), written, t_ns.size());
    write_at(v_ds.get(), v_what, H5T_NATIVE_DOUBLE, values.data(), written, values.size());
    written += t_ns.size();
    t_ns.clear();
    values.clear();
  }
  return written;
}

void write_clock_model(hid_t group, const std::string& where, const records::ClockModel& m) {
  attr_string(group, where, "clock_method", m.method);
  attr_int64(group, where, "clock_offset_ns", m.offset_ns);
  attr_double(group, where, "clock_rate", m.rate);
  attr_double(group, where, "clock_residual_rms_ns", m.residual_rms_ns);
  attr_double(group, where, "clock_residual_max_ns", m.residual_max_ns);
  attr_int64(group, where, "clock_n_points", m.n_points);
  attr_double(group, where, "clock_uncertainty_ns", m.uncertainty_ns);
  attr_int64(group, where, "clock_fitted_at_ns", m.fitted_at_ns);
}

void write_imports(hid_t source_group, const std::string& where, const std::vector<records::ImportRecord>& imports,
                   const Hdf5ExportOptions& opt) {
  h5::Group g = make_group(source_group, where, "imports", "NXcollection");
  const std::string path = child(where, "imports");
  std::vector<std::string> file_path, format, assumptions;
  std::vector<int64_t> rows, imported_ns;
  for (const auto& r : imports) {
    file_path.push_back(r.path);
    format.push_back(r.format);
    assumptions.push_back(r.assumptions);
    rows.push_back(r.rows);
    imported_ns.push_back(r.imported_ns);
  }
  string_column(g.get(), path, "path", file_path, opt);
  string_column(g.get(), path, "format", format, opt);
  int64_column(g.get(), path, "rows", rows, opt);
  string_column(g.get(), path, "assumptions", assumptions, opt);
  h5::Dataset t = int64_column(g.get(), path, "imported_ns", imported_ns, opt);
  time_attrs(t.get(), child(path, "imported_ns"));
}

// The MS calibrations of a source (opsync calibrate); only written when it has any.
void write_gas_calibrations(hid_t source_group, const std::string& where,
                            const std::vector<records::GasCalibration>& cals, const Hdf5ExportOptions& opt) {
  if (cals.empty()) return;
  h5::Group g = make_group(source_group, where, "gas_calibrations", "NXcollection");
  const std::string path = child(where, "gas_calibrations");
  std::vector<std::string> gas, method, detail;
  std::vector<int64_t> mass, from_ns, to_ns, created_ns;
  std::vector<double> sens, sigma;
  for (const auto& c : cals) {
    gas.push_back(c.gas);
    method.push_back(c.method);
    detail.push_back(c.detail);
    mass.push_back(c.mass);
    from_ns.push_back(c.from_ns);
    to_ns.push_back(c.to_ns);
    created_ns.push_back(c.created_ns);
    sens.push_back(c.sensitivity_a_per_mol_s);
    sigma.push_back(c.sigma_a_per_mol_s);
  }
  int64_column(g.get(), path, "mass", mass, opt);
  string_column(g.get(), path, "gas", gas, opt);
  double_column(g.get(), path, "sensitivity_a_per_mol_s", sens, opt);
  double_column(g.get(), path, "sigma_a_per_mol_s", sigma, opt);
  string_column(g.get(), path, "method", method, opt);
  time_attrs(int64_column(g.get(), path, "from_ns", from_ns, opt).get(), child(path, "from_ns"));
  time_attrs(int64_column(g.get(), path, "to_ns", to_ns, opt).get(), child(path, "to_ns"));
  time_attrs(int64_column(g.get(), path, "created_ns", created_ns, opt).get(), child(path, "created_ns"));
  string_column(g.get(), path, "detail", detail, opt);
}

void write_events(hid_t entry, const std::string& where, const std::vector<records::Event>& events,
                  const std::unordered_map<records::SourceId, std::string>& source_names, const Hdf5ExportOptions& opt) {
  h5::Group g = make_group(entry, where, "events", "NXcollection");
  const std::string path = child(where, "events");
  std::vector<int64_t> t_ns;
  std::vector<std::string> source, kind, detail;
  for (const auto& e : events) {
    t_ns.push_back(e.t_ns);
    const auto it = source_names.find(e.source_id);
    source.push_back(it == source_names.end() ? std::string() : it->second);
    kind.push_back(e.kind);
    detail.push_back(e.detail);
  }
  h5::Dataset t = int64_column(g.get(), path, "t_ns", t_ns, opt);
  time_attrs(t.get(), child(path, "t_ns"));
  string_column(g.get(), path, "source", source, opt);
  string_column(g.get(), path, "kind", kind, opt);
  string_column(g.get(), path, "detail", detail, opt);
}

void write_scans(hid_t entry, const std::string& where, const std::vector<records::Scan>& scans,
                 const std::unordered_map<records::SourceId, std::string>& source_names, const Hdf5ExportOptions& opt) {
  h5::Group g = make_group(entry, where, "scans", "NXcollection");
  const std::string path = child(where, "scans");
  std::vector<int64_t> number, start_ns, end_ns;
  std::vector<std::string> label, source;
  // One column per (value name, unit) in first-seen order; NaN where a scan lacks that value.
  struct Column {
    std::string name, unit;
    std::vector<double> values;
  };
  std::vector<Column> columns;
  for (size_t i = 0; i < scans.size(); ++i) {
    const auto& s = scans[i];
    number.push_back(s.number);
    start_ns.push_back(s.start_ns);
    end_ns.push_back(s.end_ns);
    label.push_back(s.label);
    const auto it = source_names.find(s.source_id);
    source.push_back(it == source_names.end() ? std::string() : it->second);
    for (const auto& v : s.values) {
      auto col = std::find_if(columns.begin(), columns.end(),
                              [&](const Column& c) { return c.name == v.name && c.unit == v.unit; });
      if (col == columns.end()) {
        columns.push_back(Column{v.name, v.unit, std::vector<double>(scans.size(), std::nan(""))});
        col = columns.end() - 1;
      }
      col->values[i] = v.value;
    }
  }
  int64_column(g.get(), path, "number", number, opt);
  h5::Dataset start = int64_column(g.get(), path, "start_ns", start_ns, opt);
  time_attrs(start.get(), child(path, "start_ns"));
  h5::Dataset end = int64_column(g.get(), path, "end_ns", end_ns, opt);
  time_attrs(end.get(), child(path, "end_ns"));
  string_column(g.get(), path, "label", label, opt);
  string_column(g.get(), path, "source", source, opt);
  h5::Group values = make_group(g.get(), path, "values", "NXcollection");
  const std::string values_path = child(path, "values");
  LinkNames names({});
  for (const auto& c : columns) {
    const std::string link = names.claim(c.name);
    h5::Dataset d = double_column(values.get(), values_path, link, c.values, opt);
    const std::string d_path = child(values_path, link);
    attr_string(d.get(), d_path, "name", c.name);
    attr_string(d.get(), d_path, "units", c.unit);
    attr_string(d.get(), d_path, "long_name", c.name);
  }
}

void write_session(store::StoreReader& reader, const records::Session& session, hid_t file_id,
                   const std::string& file_name, const Hdf5ExportOptions& opt, Hdf5ExportStats& stats) {
  const h5::Group root(check_id(H5Gopen2(file_id, "/", H5P_DEFAULT), "open the root group"));
  const hid_t file = root.get();
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  attr_string(file, "/", "NX_class", "NXroot");
  attr_string(file, "/", "file_name", file_name);
  attr_string(file, "/", "file_time",
              format_iso_utc(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count(), 6));
  attr_string(file, "/", "creator", "opsync " OPSYNC_VERSION);
  unsigned major = 0, minor = 0, release = 0;
  check_ok(H5get_libversion(&major, &minor, &release), "read the HDF5 library version");
  attr_string(file, "/", "HDF5_Version", fmt::format("{}.{}.{}", major, minor, release));

  LinkNames entry_names({});
  const std::string entry_name = entry_names.claim(session.name);
  attr_string(file, "/", "default", entry_name);
  h5::Group entry = make_group(file, "/", entry_name, "NXentry");
  const std::string where = child("/", entry_name);
  attr_string(entry.get(), where, "session_name", session.name);
  attr_int64(entry.get(), where, "session_id", session.id);
  attr_string(entry.get(), where, "start_time", format_iso_utc(session.started_ns, 9));
  attr_int64(entry.get(), where, "start_ns", session.started_ns);
  if (session.ended_ns != 0) {  // an open (still recording) session has no end yet
    attr_string(entry.get(), where, "end_time", format_iso_utc(session.ended_ns, 9));
    attr_int64(entry.get(), where, "end_ns", session.ended_ns);
  }
  attr_string(entry.get(), where, "host", session.host);
  attr_string(entry.get(), where, "note", session.note);
  // The NeXus base class defines these as fields; the attributes above are the quick way in.
  scalar_string_field(entry.get(), where, "title", session.name);
  scalar_string_field(entry.get(), where, "start_time", format_iso_utc(session.started_ns, 9));
  if (session.ended_ns != 0) scalar_string_field(entry.get(), where, "end_time", format_iso_utc(session.ended_ns, 9));

  LinkNames source_names({"title", "start_time", "end_time", "events", "scans"});
  std::unordered_map<records::SourceId, std::string> source_name_by_id;
  std::string default_source;
  for (const records::Source& src : reader.sources(session.id)) {
    source_name_by_id[src.id] = src.name;
    const std::string link = source_names.claim(src.name);
    const std::string src_path = child(where, link);
    h5::Group g = make_group(entry.get(), where, link, "NXcollection");
    attr_string(g.get(), src_path, "name", src.name);
    attr_string(g.get(), src_path, "kind", src.kind);
    attr_string(g.get(), src_path, "address", src.address);
    attr_string(g.get(), src_path, "note", src.note);
    attr_double(g.get(), src_path, "transport_delay_s", src.transport_delay_s);
    if (const auto m = reader.clock_model(src.id)) write_clock_model(g.get(), src_path, *m);
    ++stats.sources;

    LinkNames channel_names({"imports"});
    std::string default_channel;
    for (const records::Channel& ch : reader.channels(src.id)) {
      const std::string ch_link = channel_names.claim(ch.name);
      const std::string ch_path = child(src_path, ch_link);
      h5::Group d = make_group(g.get(), src_path, ch_link, "NXdata");
      attr_string(d.get(), ch_path, "signal", "value");
      attr_string(d.get(), ch_path, "axes", "t_ns");
      attr_int64(d.get(), ch_path, "t_ns_indices", 0);
      attr_string(d.get(), ch_path, "name", ch.name);
      attr_string(d.get(), ch_path, "quantity", ch.quantity);
      stats.samples += write_channel(reader, ch, d.get(), ch_path, opt);
      ++stats.channels;
      if (default_channel.empty()) default_channel = ch_link;
    }
    write_imports(g.get(), src_path, reader.imports(src.id), opt);
    write_gas_calibrations(g.get(), src_path, reader.gas_calibrations(src.id), opt);
    if (!default_channel.empty()) {
      attr_string(g.get(), src_path, "default", default_channel);
      if (default_source.empty()) default_source = link;
    }
  }
  if (!default_source.empty()) attr_string(entry.get(), where, "default", default_source);

  const auto events = reader.events(session.id);
  write_events(entry.get(), where, events, source_name_by_id, opt);
  stats.events = events.size();
  const auto scans = reader.scans(session.id);
  write_scans(entry.get(), where, scans, source_name_by_id, opt);
  stats.scans = scans.size();
}

// Removes the temporary file unless the export got as far as renaming it.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::filesystem::path p) : path_(std::move(p)) {}
  ~TempFileGuard() {
    if (armed_) {
      std::error_code ec;
      std::filesystem::remove(path_, ec);
    }
  }
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  void release() { armed_ = false; }

 private:
  std::filesystem::path path_;
  bool armed_ = true;
};

std::string errno_text(int err) { return std::strerror(err); }

// fsync of a file or folder by path; returns errno, 0 on success.
int sync_path(const std::filesystem::path& p, bool folder) {
  const int fd = ::open(p.c_str(), (folder ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

}  // namespace

Hdf5ExportStats export_session_hdf5(store::StoreReader& reader, const records::Session& session,
                                    const std::filesystem::path& out_file, const Hdf5ExportOptions& options) {
  namespace fs = std::filesystem;
  // HDF5 1.10 (Debian 12 ships 1.10.8) frees a file whose close failed (disk full, size limit)
  // but leaves its identifier registered, and the library's exit handler then crashes on it
  // (HDFFV-11052, fixed in 1.14.1). Without the exit handler, a failed export ends with its
  // message and status 1 instead of a segfault. Only effective before the library's first use in
  // the process, which is the case in `opsync export`; a no-op otherwise.
  static_cast<void>(H5dont_atexit());
  h5::silence_error_printing();
  std::error_code ec;
  if (fs::is_directory(out_file, ec)) {
    throw CliError(fmt::format("'{}' is a folder; --format hdf5 writes one file, e.g. --out {}",
                               out_file.string(), (out_file / (session.name + ".h5")).string()));
  }
  if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0 && options.deflate_level > 0) {
    throw CliError("this HDF5 library has no deflate (zlib) filter; it cannot write compressed datasets");
  }
  const fs::path tmp = out_file.string() + ".tmp";
  // Created here first because the operating system's reason ("Permission denied", "Not a
  // directory") says more than HDF5's "unable to open file".
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    throw CliError(
        fmt::format("cannot write '{}': {} (creating '{}')", out_file.string(), errno_text(errno), tmp.string()));
  }
  ::close(fd);
  TempFileGuard guard(tmp);

  Hdf5ExportStats stats;
  try {
    h5::PropList fapl(check_id(H5Pcreate(H5P_FILE_ACCESS), "create a file access property list"));
    // The HDF5 1.8 file format, no older and no newer: creation-order indexes and attributes over
    // 64 KiB need 1.8, and readers built on 1.8 (older MATLAB, IDL, Igor) can still open the file.
    check_ok(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18), "set the file format");
    // Closing the file fails if an object is still open, instead of silently deferring the flush.
    check_ok(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_SEMI), "set the close degree");
    h5::PropList fcpl(check_id(H5Pcreate(H5P_FILE_CREATE), "create a file creation property list"));
    track_creation_order(fcpl.get(), /*links=*/true);  // of the root group
    h5::File file(check_id(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), "create the file"));
    write_session(reader, session, file.get(), out_file.filename().string(), options, stats);
    if (!file.close()) fail("close (flush) the file");
  } catch (const std::exception& e) {
    throw CliError(fmt::format("export to '{}' failed, no file written: {}", out_file.string(), e.what()));
  }
  if (const int err = sync_path(tmp, /*folder=*/false); err != 0) {
    throw CliError(fmt::format("export to '{}' failed, no file written: fsync of '{}': {}", out_file.string(),
                               tmp.string(), errno_text(err)));
  }
  if (::rename(tmp.c_str(), out_file.c_str()) != 0) {
    throw CliError(fmt::format("export to '{}' failed, no file written: renaming '{}' to it: {}",
                               out_file.string(), tmp.string(), errno_text(errno)));
  }
  guard.release();
  // Makes the rename itself durable; a folder that cannot be synced (some network file systems)
  // still has the complete file under its final name.
  const fs::path folder = out_file.has_parent_path() ? out_file.parent_path() : fs::path(".");
  static_cast<void>(sync_path(folder, /*folder=*/true));
  stats.bytes = fs::file_size(out_file, ec);
  return stats;
}

}  // namespace opsync::cli
