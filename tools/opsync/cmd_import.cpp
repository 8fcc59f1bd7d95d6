// `opsync import cycler|ms|strain FILE --db FILE --session NAME`: read a user's file into a
// session in one transaction, and say what was read and what was assumed.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "core/time_format.h"
#include "import/import_types.h"
#include "opsync/cli_error.h"
#include "opsync/commands.h"
#include "opsync/import_to_store.h"
#include "opsync/session_report.h"
#include "store/reader.h"

namespace opsync::cli {
namespace {

struct ImportArgs {
  std::string kind;
  std::string file;
  std::string db;
  std::string session;
  std::string source;
  std::vector<std::string> columns;
  double clock_offset_s = 0;
  std::string tz = "UTC";
  std::string start;
  bool invert_current = false;
  bool salvage = false;
};

// The session's start, when the session exists already: a file without absolute time is
// placed there rather than at 1970 (an import never moves the session itself).
std::optional<int64_t> existing_session_start(const std::string& db, const std::string& session) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db, ec)) return std::nullopt;
  store::StoreReader reader(db);
  for (const records::Session& s : reader.sessions())
    if (s.name == session) return s.started_ns;
  return std::nullopt;
}

void run_import(const ImportArgs& a) {
  import::ImportOptions opt;
  opt.kind = a.kind == "cycler" ? import::Kind::Cycler : a.kind == "ms" ? import::Kind::Ms : import::Kind::Strain;
  for (const std::string& m : a.columns) {
    const auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
      throw CliError(fmt::format("--columns expects ROLE=HEADER (e.g. time=\"Test (Sec)\"), got '{}'", m));
    }
    opt.columns.emplace_back(m.substr(0, eq), m.substr(eq + 1));
  }
  if (!std::isfinite(a.clock_offset_s)) throw CliError("--clock-offset-s must be a finite number of seconds");
  opt.clock_offset_s = a.clock_offset_s;
  opt.time_zone = a.tz;
  opt.start_iso = a.start;
  opt.invert_current = a.invert_current;
  opt.salvage = a.salvage;
  if (a.start.empty()) {
    opt.relative_start_ns = existing_session_start(a.db, a.session);
    opt.relative_start_what = fmt::format("the start of session '{}'", a.session);
  }

  const import::ImportResult r = import::import_file(a.file, opt);
  if (r.rows == 0) throw CliError(fmt::format("{}: no data rows found; nothing imported", a.file));

  ImportTarget target;
  target.db_path = a.db;
  target.session = a.session;
  target.source = a.source.empty() ? std::filesystem::path(a.file).filename().string() : a.source;
  target.kind = a.kind;
  target.file_path = std::filesystem::weakly_canonical(std::filesystem::absolute(a.file)).string();
  target.clock_offset_ns = seconds_to_ns(a.clock_offset_s);
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const ImportWritten w = write_import(target, r, now_ns);

  fmt::print("imported {} rows from {} ({}) into session '{}'{} as source '{}'\n", r.rows, a.file, r.format,
             a.session, w.session_created ? " (new)" : "", target.source);
  fmt::print("  {} channels, {} samples, {} events, {} scans\n", r.channels.size(), w.samples, w.events, w.scans);
  fmt::print("  span {} .. {} ({})\n", format_iso_utc(r.t_first_ns, 6), format_iso_utc(r.t_last_ns, 6),
             format_duration(r.t_last_ns - r.t_first_ns));
  for (const auto& ch : r.channels) {
    fmt::print("  channel {:<22} [{}] {} samples\n", ch.name, ch.unit, ch.t_ns.size());
  }
  if (!r.assumptions.empty()) {
    fmt::print("  assumed:\n");
    for (const auto& line : r.assumptions) fmt::print("    - {}\n", line);
  }
  if (!w.session_created) {
    const auto s = store::StoreReader(a.db).find_session(std::to_string(w.session_id));
    if (s && (r.t_first_ns < s->started_ns || (s->ended_ns != 0 && r.t_last_ns > s->ended_ns))) {
      fmt::print("  note: the data reach outside the session's span; the session keeps its start and end\n");
    }
  }
  if (!r.damage.empty()) {
    size_t rows = 0;
    for (const auto& d : r.damage) rows += d.rows;
    std::fflush(stdout);
    fmt::print(stderr,
               "opsync import: warning: {} is damaged; imported the {} readable rows, left out {} row(s) at {} "
               "place(s), each recorded as an 'import_skipped' event (exit status 2)\n",
               a.file, r.rows, rows, r.damage.size());
    for (const auto& d : r.damage) fmt::print(stderr, "  {}: {}\n", d.where, d.what);
    throw ExitStatus{2};
  }
}

}  // namespace

void add_import_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "import",
      "Import a cycler, mass-spectrometer or strain file into a session (all or nothing); the format is\n"
      "recognised from the content\n"
      "  cycler: BioLogic .mpr (binary) and .mpt, Neware .nda and .ndax, Arbin .res and CSV, Maccor text\n"
      "          (.txt, .NNN), plain CSV (time, voltage, current...)\n"
      "  ms:     Zilien .tsv, or CSV with time + one column per mass, or (time, mass, ion current) rows\n"
      "  strain: CSV with scan number, start, end and one column per value\n"
      "Current sign: charge positive. Units are read from the headers (mA/A, mAh/Ah, s/min/h).");
  auto a = std::make_shared<ImportArgs>();
  cmd->add_option("kind", a->kind, "What the file holds")->required()->check(CLI::IsMember({"cycler", "ms", "strain"}));
  cmd->add_option("file", a->file, "The file to read")->required()->check(CLI::ExistingFile);
  cmd->add_option("--db", a->db, "Station database file (created if missing)")->required();
  cmd->add_option("--session", a->session, "Session to import into (created if missing)")->required();
  cmd->add_option("--source", a->source, "Name of this source in the session (default: the file name)");
  cmd->add_option("--columns", a->columns,
                  "Map columns explicitly, ROLE=HEADER, comma separated or repeated; roles: time, datetime, "
                  "voltage, current, capacity, charge_capacity, discharge_capacity, energy, step, cycle, "
                  "mass, ion_current, scan, start, end")
      ->delimiter(',');
  cmd->add_option("--clock-offset-s", a->clock_offset_s,
                  "The file's clock ran this many seconds ahead of the session's reference; subtracted from its times")
      ->capture_default_str();
  cmd->add_option("--tz", a->tz,
                  "Time zone of naive local times in the file: UTC, +HH:MM or an IANA name like Europe/Berlin")
      ->capture_default_str();
  cmd->add_option("--start", a->start, "Absolute start (ISO 8601) for files whose times are relative only");
  cmd->add_flag("--invert-current", a->invert_current, "Flip the current sign (for discharge-positive files)");
  cmd->add_flag("--salvage", a->salvage,
                "Import what is readable from a damaged file (refused otherwise); what was skipped is recorded "
                "as 'import_skipped' events and the exit status is 2");
  cmd->callback([a] { run_import(*a); });
}

}  // namespace opsync::cli
