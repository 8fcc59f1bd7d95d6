// Spectro Inlets Zilien EC-MS .tsv: 5-field metadata lines, a series-name row and a column-name
// row, then a wide block where every series has its own time column and its own sample count.
// As ms: each mass series C<k>M<m> becomes ion_current_m<m> (A). As cycler: the EC-lab series
// (BioLogic rows already on Zilien time), else Zilien's own pot series. Times are seconds from
// start_time_unix (UTC). See shared/formats/zilien-tsv.md.
#include <cmath>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "import/common/columns.h"
#include "import/common/cycler_table.h"
#include "import/common/delimited.h"
#include "import/readers.h"

namespace opsync::import {
namespace {

struct Series {
  std::string name;
  size_t first = 0;  // first column (its time column)
  size_t end = 0;    // one past its last column
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "C4M32" -> "32"; empty when the series is not a mass channel.
std::string mass_of_series(std::string_view name) {
  if (name.size() < 4 || name[0] != 'C') return {};
  size_t p = 1;
  while (p < name.size() && is_digit(name[p])) ++p;
  if (p == 1 || p >= name.size() || name[p] != 'M') return {};
  const size_t m = ++p;
  while (p < name.size() && is_digit(name[p])) ++p;
  if (p == m || p != name.size()) return {};
  return std::string(name.substr(m));
}

// v1 files have no start_time_unix: the file name starts "YYYY-MM-DD HH_MM_SS" (local time).
std::optional<CivilTime> start_from_file_name(const std::string& path) {
  const std::string stem = std::filesystem::path(path).filename().string();
  if (stem.size() < 19) return std::nullopt;
  std::string iso = stem.substr(0, 19);
  if (iso[13] != '_' || iso[16] != '_') return std::nullopt;
  iso[13] = ':';
  iso[16] = ':';
  const auto p = parse_iso_datetime(iso);
  if (!p) return std::nullopt;
  return p->civil;
}

// What the lines before the data say: the metadata, where the data start, the column names and
// the series spans (from the series-name row).
struct ZilienHeader {
  size_t n_header = 0;    // metadata lines (num_header_lines)
  size_t data_start = 0;  // 0-based line of the first data row
  std::map<std::pair<std::string, std::string>, std::string> meta;  // (series, key) -> value; series
                                                                     // is empty for file-wide keys
  std::vector<std::string> headers;  // column names, trimmed
  std::vector<Series> series;

  // A metadata value; nullptr when the file does not give it.
  const std::string* value(const std::string& series_name, const std::string& key) const {
    const auto it = meta.find({series_name, key});
    return it == meta.end() ? nullptr : &it->second;
  }
  // The series' own sample count (<series>_count), when the header gives a usable one.
  std::optional<size_t> count_of(const Series& s) const {
    const std::string* c = value(s.name, s.name + "_count");
    if (!c) return std::nullopt;
    const Number n = parse_number(*c, false);
    if (n.status != NumberStatus::Ok || n.value < 0) return std::nullopt;
    return static_cast<size_t>(n.value);
  }
};

// num_header_lines, the value of the first line: a whole count that leaves room for the
// series-name and column-name rows.
size_t read_num_header_lines(const TextFile& file) {
  std::vector<std::string_view> fields;
  split_fields(file.line(0), '\t', fields);
  const Number nh_num = parse_number(fields[4], false);
  if (nh_num.status != NumberStatus::Ok || nh_num.value < 1 || nh_num.value != std::floor(nh_num.value) ||
      nh_num.value + 2 > static_cast<double>(file.line_count())) {
    throw ImportError(file.path(), 1, "",
                      fmt::format("num_header_lines '{}' is not a usable line count for a file of "
                                  "{} lines",
                                  trim(fields[4]), file.line_count()));
  }
  return static_cast<size_t>(nh_num.value);
}

// The metadata lines (key, description, series, type, value) into header.meta, then data_start
// (0-based) where the header gives a usable one, else right after the two name rows.
void read_metadata(const TextFile& file, ZilienHeader& header) {
  std::vector<std::string_view> fields;
  for (size_t i = 0; i < header.n_header; ++i) {
    split_fields(file.line(i), '\t', fields);
    if (fields.size() != 5) {
      throw ImportError(file.path(), i + 1, "",
                        fmt::format("Zilien metadata lines have 5 tab-separated fields (key, "
                                    "description, series, type, value); this one has {}",
                                    fields.size()));
    }
    header.meta[{std::string(trim(fields[2])), std::string(trim(fields[0]))}] = std::string(trim(fields[4]));
  }
  header.data_start = header.n_header + 2;
  if (const std::string* ds = header.value("", "data_start")) {
    const Number n = parse_number(*ds, false);
    if (n.status == NumberStatus::Ok && n.value >= static_cast<double>(header.n_header + 2))
      header.data_start = static_cast<size_t>(n.value);
  }
}

// Series spans from the series-name row (a series runs from its named column, its time, to the
// next named one); column names from the next row.
void read_series(const TextFile& file, ZilienHeader& header) {
  const size_t n_header = header.n_header;
  std::vector<std::string_view> names, fields;
  split_fields(file.line(n_header), '\t', names);
  split_fields(file.line(n_header + 1), '\t', fields);
  for (std::string_view f : fields) header.headers.emplace_back(trim(f));
  const size_t width = header.headers.size();
  for (size_t i = 0; i < names.size() && i < width; ++i) {
    const std::string_view n = trim(names[i]);
    if (n.empty()) continue;
    if (!header.series.empty()) header.series.back().end = i;
    header.series.push_back(Series{std::string(n), i, width});
  }
  if (header.series.empty()) {
    throw ImportError(file.path(), n_header + 1, "", "the series-name row is empty; no data series found");
  }
}

// Reads everything before the data rows.
ZilienHeader read_header(const TextFile& file) {
  ZilienHeader header;
  header.n_header = read_num_header_lines(file);
  read_metadata(file, header);
  read_series(file, header);
  return header;
}

// The absolute start: start_time_unix (UTC) when the header gives it, else the local time at the
// start of a v1 file's name; none when neither is there.
std::optional<StartSource> zilien_start(const ZilienHeader& header, const std::string& path, TimeContext& times) {
  if (const std::string* st = header.value("", "start_time_unix")) {
    const auto ns = parse_seconds_ns(*st, false);
    if (!ns) {
      throw ImportError(path, 0, "", fmt::format("start_time_unix '{}' is not a number of seconds", *st));
    }
    return StartSource{*ns, false, fmt::format("the Zilien header start_time_unix {} (UTC)", *st)};
  }
  if (auto civil = start_from_file_name(path)) {
    const int64_t utc = times.local_to_utc_ns(*civil);
    return StartSource{utc, true, "the Zilien file name (v1 file, local time)"};
  }
  return std::nullopt;
}

// The number of data rows of a series without <series>_count: up to its first empty time cell.
size_t rows_until_empty_time(const TextFile& file, size_t data_start, size_t time_column) {
  std::vector<std::string_view> fields;
  size_t rows = 0;
  for (size_t li = data_start; li < file.line_count(); ++li) {
    if (trim(file.line(li)).empty()) continue;
    split_fields(file.line(li), '\t', fields);
    if (time_column >= fields.size() || is_missing_text(trim(fields[time_column]))) break;
    ++rows;
  }
  return rows;
}

// As cycler: the EC-lab series (BioLogic rows already on Zilien time), else Zilien's own pot
// series, read as a cycler table limited to that series' columns and sample count.
ImportResult read_potentiostat(const TextFile& file, const ZilienHeader& header,
                               const std::optional<StartSource>& start, const ImportOptions& options,
                               TimeContext& times) {
  const Series* pick = nullptr;
  for (const Series& s : header.series)
    if (s.name == "EC-lab" && s.end - s.first >= 2) pick = &s;
  for (const Series& s : header.series)
    if (!pick && s.name == "pot" && s.end - s.first >= 2) pick = &s;
  if (!pick) {
    throw ImportError(file.path(), header.n_header + 1, "",
                      "this Zilien file has no EC-lab or pot series: it holds no potentiostat "
                      "data; import it as ms");
  }
  TableSource table;
  table.file = &file;
  table.header_index = header.n_header + 1;
  table.data_begin = header.data_start;
  table.data_end = file.line_count();
  table.delimiter = '\t';
  table.headers = std::vector<std::string>(header.headers.size());  // only the picked series is named
  for (size_t i = pick->first; i < pick->end; ++i) table.headers[i] = header.headers[i];
  if (auto c = header.count_of(*pick)) {
    table.max_rows = *c;
  } else {  // no <series>_count: the series ends at its first empty time cell
    table.max_rows = rows_until_empty_time(file, header.data_start, pick->first);
  }
  CyclerRules rules;
  rules.format = "zilien-tsv";
  rules.header_start = start;
  rules.sign_note = "current sign: EC-Lab native (+ = oxidation at the working electrode), kept";
  rules.notes.push_back(fmt::format("Zilien EC-MS file: cycler data from series '{}'{}", pick->name,
                                    pick->name == "EC-lab" ? " (BioLogic rows on Zilien time)" : ""));
  return import_cycler_table(table, options, times, rules);
}

// One mass series being read: its span, the ion-current unit of its value column, how many
// samples it has (-1: not given, a NaN time ends it) and the channel it fills.
struct MassSeries {
  const Series* series;
  std::string mass;
  HeaderInfo unit;
  size_t count;
  ChannelData channel;
};

// The mass series C<k>M<m> (a time and a value column each) as channels to fill, named
// ion_current_m<m> (numbered when two share a mass); the other series' names go to `skipped`.
std::vector<MassSeries> find_mass_series(const ZilienHeader& header, const std::string& path,
                                         std::vector<std::string>& skipped) {
  std::vector<MassSeries> masses;
  std::map<std::string, int> names_seen;
  for (const Series& s : header.series) {
    const std::string mass = mass_of_series(s.name);
    if (mass.empty() || s.end - s.first < 2) {
      skipped.push_back(s.name);
      continue;
    }
    const std::string& value_header = header.headers[s.first + 1];
    HeaderInfo info = unit_for_role(Role::IonCurrent, split_header(value_header).unit);
    if (!info.unit_known) {
      throw ImportError(path, header.n_header + 2, value_header,
                        fmt::format("unit '{}' of mass series {} is not an ion current unit; "
                                    "expected A, mA, nA or pA",
                                    info.unit, s.name));
    }
    std::string mass_label = mass;
    if (const std::string* mv = header.value(s.name, "mass")) {
      const Number n = parse_number(*mv, false);
      if (n.status == NumberStatus::Ok) mass_label = format_count(n.value);
    }
    const std::string* label = header.value(s.name, "label_suffix");
    std::string quantity = label && !label->empty()
                               ? fmt::format("{} ion current (m/z {})", *label, mass_label)
                               : fmt::format("ion current (m/z {})", mass_label);
    // Two channels on one mass (C0M32 and C5M32) keep distinct names.
    std::string name = fmt::format("ion_current_m{}", mass);
    if (const int n = ++names_seen[name]; n > 1) name += fmt::format("_{}", n);
    // Built in one go: assigning a literal to the member trips GCC 12's false -Wrestrict.
    MassSeries m{&s, mass, info, header.count_of(s).value_or(static_cast<size_t>(-1)),
                 ChannelData{std::move(name), std::string(1, 'A'), std::move(quantity), {}, {}}};
    masses.push_back(std::move(m));
  }
  return masses;
}

// Adds one data row's sample of `m` (times from start_ns, values scaled to A), unless the series
// has ended; a NaN time ends a series without a count, and fails one with.
void read_mass_sample(MassSeries& m, const std::vector<std::string_view>& fields, const ZilienHeader& header,
                      size_t row, size_t line_no, int64_t start_ns, const std::string& path) {
  if (row >= m.count) return;
  const size_t tc = m.series->first, vc = tc + 1;
  if (vc >= fields.size()) {
    throw ImportError(path, line_no, "",
                      fmt::format("row has {} fields but series {} needs column {}", fields.size(),
                                  m.series->name, vc + 1));
  }
  const std::string_view t_cell = trim(fields[tc]);
  if (is_missing_text(t_cell)) {
    if (m.count == static_cast<size_t>(-1)) {  // no _count in the header: NaN ends the series
      m.count = row;
      return;
    }
    throw ImportError(path, line_no, header.headers[tc],
                      fmt::format("time of series {} is missing ('{}') within its {} samples",
                                  m.series->name, t_cell, m.count));
  }
  const auto t_ns = parse_seconds_ns(t_cell, false);
  if (!t_ns) {
    throw ImportError(path, line_no, header.headers[tc], fmt::format("'{}' is not a time in seconds", t_cell));
  }
  const Number v = parse_number(fields[vc], false);
  if (v.status == NumberStatus::Invalid) {
    throw ImportError(path, line_no, header.headers[vc], fmt::format("'{}' is not a number", trim(fields[vc])));
  }
  if (v.status != NumberStatus::Ok) return;
  m.channel.t_ns.push_back(start_ns + *t_ns);
  m.channel.values.push_back(v.value * m.unit.scale);
}

// Reads every data row into the mass series; returns the number of (non-blank) rows.
size_t read_mass_rows(const TextFile& file, const ZilienHeader& header, std::vector<MassSeries>& masses,
                      int64_t start_ns) {
  std::vector<std::string_view> fields;
  size_t row = 0;
  for (size_t li = header.data_start; li < file.line_count(); ++li) {
    const std::string_view line = file.line(li);
    if (trim(line).empty()) continue;
    split_fields(line, '\t', fields);
    // Zilien writes every row at the full width (NaN where a series has ended): a shorter row is
    // a cut file, even where the cut falls in columns this reader does not use.
    if (fields.size() < header.headers.size()) {
      throw ImportError(file.path(), li + 1, "",
                        fmt::format("row has {} of the {} tab-separated fields of the header: the file looks "
                                    "truncated or damaged",
                                    fields.size(), header.headers.size()));
    }
    for (MassSeries& m : masses) read_mass_sample(m, fields, header, row, li + 1, start_ns, file.path());
    ++row;
  }
  return row;
}

// As ms: each mass series as an ion_current_m<m> channel in A, on the file's start.
ImportResult read_mass_channels(const TextFile& file, const ZilienHeader& header,
                                const std::optional<StartSource>& start, TimeContext& times) {
  std::vector<std::string> skipped;
  std::vector<MassSeries> masses = find_mass_series(header, file.path(), skipped);
  if (masses.empty()) {
    throw ImportError(file.path(), header.n_header + 1, "",
                      "this Zilien file has no mass series (C<k>M<m>); nothing to import as ms");
  }

  ImportResult result;
  result.format = "zilien-tsv";
  result.assumptions.push_back(fmt::format("Zilien EC-MS file: {} metadata lines, data from line {}",
                                           header.n_header, header.data_start + 1));
  times.place_start(result, start);
  result.rows = read_mass_rows(file, header, masses, result.start_ns);
  for (MassSeries& m : masses) {
    result.assumptions.push_back(fmt::format("series {} column '{}' -> {} ({} samples)", m.series->name,
                                             header.headers[m.series->first + 1], m.channel.name,
                                             m.channel.t_ns.size()));
    result.channels.push_back(std::move(m.channel));
  }
  if (!skipped.empty()) {
    result.assumptions.push_back(fmt::format("skipped {} non-mass series: {} (import the file as "
                                             "cycler for the potentiostat data)",
                                             skipped.size(), list_headers(skipped, 20)));
  }
  times.finish(result);
  return result;
}

}  // namespace

bool looks_like_zilien_tsv(const TextFile& file) {
  if (file.line_count() == 0) return false;
  std::vector<std::string_view> fields;
  split_fields(file.line(0), '\t', fields);
  return fields.size() == 5 && trim(fields[0]) == "num_header_lines";
}

ImportResult read_zilien_tsv(const FileInput& in, const ImportOptions& options, TimeContext& times) {
  const TextFile& file = *in.text;
  const std::string& path = file.path();
  if (options.kind == Kind::Strain) {
    throw ImportError(path, 1, "", "this is a Zilien EC-MS file; import it as ms (or cycler for "
                                   "its potentiostat data), not as strain");
  }
  const ZilienHeader header = read_header(file);
  const std::optional<StartSource> start = zilien_start(header, path, times);
  if (options.kind == Kind::Cycler) return read_potentiostat(file, header, start, options, times);
  return read_mass_channels(file, header, start, times);
}

}  // namespace opsync::import
