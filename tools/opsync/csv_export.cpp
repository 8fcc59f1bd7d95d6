// Streaming k-way merge of a source's channels into wide CSV rows.
#include "opsync/csv_export.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <fmt/format.h>
#include <fmt/os.h>
#include <google/protobuf/util/json_util.h>
#include <optional>

#include "core/time_format.h"
#include "opsync/cli_error.h"
#include "store/proto_convert.h"

namespace opsync::cli {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string number(double v) { return std::isnan(v) ? std::string("NaN") : fmt::format("{:.17g}", v); }

// One CSV per source. A row holds at most one sample per channel; a channel with two samples at
// the same t_ns puts the second into the next row with the same t_ns, so nothing is merged.
uint64_t export_source(store::StoreReader& reader, const records::Source& src, const std::filesystem::path& path) {
  const auto channels = reader.channels(src.id);
  std::vector<store::SampleCursor> cursors;
  std::vector<std::optional<records::Sample>> head(channels.size());
  auto out = fmt::output_file(path.string());
  out.print("t_ns,time_utc");
  for (size_t k = 0; k < channels.size(); ++k) {
    const auto& ch = channels[k];
    out.print(",{}", csv_field(ch.unit.empty() ? ch.name : fmt::format("{}[{}]", ch.name, ch.unit)));
    cursors.push_back(reader.cursor(ch.id));
    records::Sample s;
    if (cursors.back().next(s)) head[k] = s;
  }
  out.print("\n");
  uint64_t rows = 0;
  std::string line;
  for (;;) {
    std::optional<int64_t> t;
    for (const auto& h : head) {
      if (h && (!t || h->t_ns < *t)) t = h->t_ns;
    }
    if (!t) break;
    line = fmt::format("{},{}", *t, format_iso_utc(*t, 9));
    for (size_t k = 0; k < head.size(); ++k) {
      line += ',';
      if (head[k] && head[k]->t_ns == *t) {
        line += number(head[k]->value);
        records::Sample s;
        head[k] = cursors[k].next(s) ? std::optional<records::Sample>(s) : std::nullopt;
      }
    }
    line += '\n';
    out.print("{}", line);
    ++rows;
  }
  return rows;
}

}  // namespace

std::string safe_file_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    out += ok ? c : '_';
  }
  if (out.empty() || out[0] == '.') out = "source" + out;
  return out;
}

std::vector<ExportedFile> export_session_csv(store::StoreReader& reader, const records::Session& session,
                                             const std::filesystem::path& out_dir) {
  std::filesystem::create_directories(out_dir);
  std::vector<ExportedFile> files;
  for (const records::Source& src : reader.sources(session.id)) {
    std::string base = safe_file_name(src.name);
    if (base.size() < 4 || base.substr(base.size() - 4) != ".csv") base += ".csv";
    const auto path = out_dir / base;
    files.push_back(ExportedFile{path, export_source(reader, src, path)});
  }
  {
    const auto path = out_dir / "events.csv";
    auto out = fmt::output_file(path.string());
    out.print("t_ns,time_utc,source,kind,detail\n");
    uint64_t n = 0;
    std::unordered_map<int64_t, std::string> names;
    for (const auto& s : reader.sources(session.id)) names[s.id] = s.name;
    for (const records::Event& e : reader.events(session.id)) {
      out.print("{},{},{},{},{}\n", e.t_ns, format_iso_utc(e.t_ns, 9), csv_field(e.source_id ? names[e.source_id] : ""),
                csv_field(e.kind), csv_field(e.detail));
      ++n;
    }
    files.push_back(ExportedFile{path, n});
  }
  {
    const auto scans = reader.scans(session.id);
    // Union of per-scan value names in first-seen order, each with the unit it first came with.
    std::vector<std::string> value_names;
    std::vector<std::string> value_units;
    for (const auto& s : scans) {
      for (const auto& v : s.values) {
        if (std::find(value_names.begin(), value_names.end(), v.name) == value_names.end()) {
          value_names.push_back(v.name);
          value_units.push_back(v.unit);
        }
      }
    }
    const auto path = out_dir / "scans.csv";
    auto out = fmt::output_file(path.string());
    out.print("scan,start_ns,end_ns,start_utc,end_utc,label");
    for (size_t i = 0; i < value_names.size(); ++i) {
      out.print(",{}", csv_field(value_units[i].empty() ? value_names[i]
                                                         : fmt::format("{}[{}]", value_names[i], value_units[i])));
    }
    out.print("\n");
    for (const auto& s : scans) {
      out.print("{},{},{},{},{},{}", s.number, s.start_ns, s.end_ns, format_iso_utc(s.start_ns, 9),
                format_iso_utc(s.end_ns, 9), csv_field(s.label));
      for (const auto& name : value_names) {
        out.print(",");
        for (const auto& v : s.values) {
          if (v.name == name) out.print("{}", number(v.value));
        }
      }
      out.print("\n");
    }
    files.push_back(ExportedFile{path, scans.size()});
  }
  {
    // MS calibrations (opsync calibrate), when the session has any.
    std::vector<std::pair<std::string, records::GasCalibration>> cals;
    for (const records::Source& src : reader.sources(session.id)) {
      for (const auto& c : reader.gas_calibrations(src.id)) cals.emplace_back(src.name, c);
    }
    if (!cals.empty()) {
      const auto path = out_dir / "calibrations.csv";
      auto out = fmt::output_file(path.string());
      out.print("source,mass,gas,sensitivity_a_per_mol_s,sigma_a_per_mol_s,method,from_ns,to_ns,created_ns,detail\n");
      for (const auto& [name, c] : cals) {
        out.print("{},{},{},{},{},{},{},{},{},{}\n", csv_field(name), c.mass, csv_field(c.gas),
                  number(c.sensitivity_a_per_mol_s), number(c.sigma_a_per_mol_s), csv_field(c.method), c.from_ns,
                  c.to_ns, c.created_ns, csv_field(c.detail));
      }
      files.push_back(ExportedFile{path, cals.size()});
    }
  }
  {
    const auto path = out_dir / "session.json";
    std::string json;
    google::protobuf::util::JsonPrintOptions opt;
    opt.add_whitespace = true;
    opt.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(store::summarize(reader, session), &json, opt).ok()) {
      throw CliError("could not render session.json");
    }
    auto out = fmt::output_file(path.string());
    out.print("{}", json);
    files.push_back(ExportedFile{path, 1});
  }
  return files;
}

}  // namespace opsync::cli
