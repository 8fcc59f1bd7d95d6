// `opsync replay`: re-drives a recorded session (or a capture log) through today's drivers into
// a new session and compares it with the original, record by record; writes golden capture
// logs; or, with --serve, plays the recording back as simulated instruments for opsyncd.
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "opsync/commands.h"
#include "replay/capture_log.h"
#include "replay/compare.h"
#include "replay/record_text.h"
#include "replay/redrive.h"
#include "replay/serve.h"
#include "store/reader.h"

namespace opsync::cli {
namespace {

namespace fs = std::filesystem;
using namespace opsync::replay;

struct ReplayArgs {
  std::string db;
  std::string session;
  std::string capture_log;
  std::string into;
  std::string out_db;
  std::string config;
  std::string expect;
  std::string write_golden;
  bool check = false;
  bool quiet = false;
  // --serve
  bool serve = false;
  ServeOptions serve_options;
};

// Removes a scratch store (and its WAL files) when the replay is done with it.
struct ScratchDb {
  std::string path;
  ~ScratchDb() {
    if (path.empty()) return;
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix, ec);
  }
};

std::string scratch_path(const std::string& tag) {
  return (fs::temp_directory_path() / fmt::format("opsync-replay-{}-{}.db", getpid(), tag)).string();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ReplayError(fmt::format("cannot read '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<ReplayInput> open_input(const ReplayArgs& a) {
  if (!a.capture_log.empty()) {
    if (!a.db.empty() || !a.session.empty()) throw ReplayError("give either --capture-log FILE or --db FILE SESSION");
    return read_capture_log(a.capture_log);
  }
  if (a.db.empty() || a.session.empty()) throw ReplayError("which recording? give --db FILE SESSION or --capture-log FILE");
  return open_store_input(a.db, a.session);
}

class Progress {
 public:
  explicit Progress(bool quiet) : quiet_(quiet), tty_(isatty(fileno(stderr)) != 0) {}
  ~Progress() { clear(); }
  void clear() {
    if (shown_ && tty_) fmt::print(stderr, "\r\033[K");
    shown_ = false;
  }
  void operator()(double fraction, const std::string& source) {
    if (quiet_) return;
    const auto now = std::chrono::steady_clock::now();
    // On a terminal a line that updates in place; in a log a line every 5 s.
    if (!tty_ && shown_ && now - last_ < std::chrono::seconds(5)) return;
    last_ = now;
    shown_ = true;
    fmt::print(stderr, "{}opsync replay: {:5.1f}% ({}){}", tty_ ? "\r\033[K" : "", 100 * fraction, source,
               tty_ ? "" : "\n");
  }

 private:
  bool quiet_;
  bool tty_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

void print_redrive(const ReplayInput& in, const RedriveResult& r, const RedriveOptions& o) {
  fmt::print("opsync replay: {}: {} sources, {} captures, {:.1f} s recorded\n", in.origin, in.sources.size(),
             in.captures, r.span_s);
  for (const auto& s : r.sources) {
    if (!s.replayed) {
      fmt::print("  {:<10} not replayed: {}\n", s.name, s.skipped_reason);
      continue;
    }
    fmt::print("  {:<10} {} reads, {} sends recorded ({} sent alike, {} different, {} not sent, {} extra), {} ticks"
               "{}; {} samples, {} events, {} scans, {} clock models\n",
               s.name, s.bytes_in, s.recorded_sends, s.sends_equal, s.sends_different, s.sends_missing, s.sends_extra,
               s.ticks, s.ticks_not_due ? fmt::format(" ({} recorded ticks not due)", s.ticks_not_due) : "",
               s.samples, s.events, s.scans, s.clock_models);
    if (!s.first_send_difference.empty()) fmt::print("  {:<10} first send difference: {}\n", "", s.first_send_difference);
    if (s.steps_ignored) fmt::print("  {:<10} {} steps while the replayed link was down: ignored\n", "", s.steps_ignored);
  }
  const double wall = std::max(r.wall_s, 1e-9);
  fmt::print("replayed into session '{}' of {}: {} records (+{} copied events) in {:.3f} s: {:.0f} records/s, "
             "{:.0f} x real time\n",
             o.into, o.out_db, r.records, r.copied_events, r.wall_s, static_cast<double>(r.records) / wall,
             r.span_s / wall);
}

std::vector<std::string> replayed_names(const RedriveResult& r) {
  std::vector<std::string> out;
  for (const auto& s : r.sources) {
    if (s.replayed) out.push_back(s.name);
  }
  return out;
}

// Re-drives `input` into a scratch store and renders its records (the golden test does the same).
std::string redrive_to_text(ReplayInput& input, const std::string& tag) {
  ScratchDb scratch{scratch_path(tag)};
  RedriveOptions o;
  o.out_db = scratch.path;
  o.into = input.session.name + "-replay";
  const RedriveResult r = redrive(input, o);
  store::StoreReader reader(scratch.path);
  return render_records(reader, r.session_id, replayed_names(r));
}

void run_replay(const ReplayArgs& a) {
  if (a.serve) {
    std::unique_ptr<ReplayInput> input = open_input(a);
    ServeOptions so = a.serve_options;
    so.session = a.into;
    run_serve(*input, a.config, so);
    return;
  }
  std::unique_ptr<ReplayInput> input = open_input(a);
  RedriveOptions o;
  o.into = a.into.empty() ? input->session.name + "-replay" : a.into;
  o.config_override_path = a.config;
  ScratchDb scratch;
  if (!a.out_db.empty()) {
    o.out_db = a.out_db;
  } else if (!a.db.empty()) {
    o.out_db = a.db;
  } else {
    scratch.path = scratch_path("log");
    o.out_db = scratch.path;
  }
  Progress progress(a.quiet);
  o.progress = [&progress](double f, const std::string& s) { progress(f, s); };
  RedriveResult r = redrive(*input, o);
  o.progress = nullptr;
  progress.clear();
  print_redrive(*input, r, o);
  if (!scratch.path.empty()) fmt::print("  (a scratch store, removed now: give --out-db FILE to keep the session)\n");

  bool same = r.sends_all_equal();
  if (!a.db.empty()) {
    store::StoreReader original(a.db);
    store::StoreReader replayed(o.out_db);
    const Comparison c = compare_sessions(original, input->session.id, replayed, r.session_id, replayed_names(r));
    print_comparison(c, stdout);
    same = same && c.same();
  }
  if (!a.expect.empty()) {
    store::StoreReader replayed(o.out_db);
    const TextDifference d = compare_text(read_text(a.expect), render_records(replayed, r.session_id, replayed_names(r)));
    if (d.same) {
      fmt::print("records equal to {} ({} lines)\n", a.expect, d.expected_lines);
    } else {
      fmt::print("records DIFFER from {} at line {}:\n  expected: {}\n  replayed: {}\n", a.expect, d.line, d.expected,
                 d.actual);
    }
    same = same && d.same;
  }
  if (!a.write_golden.empty()) {
    if (a.db.empty()) throw ReplayError("--write-golden needs a recorded session (--db FILE SESSION)");
    if (!same) throw ReplayError("not writing a golden file: the replay differs from the original (see above)");
    const std::string log_path = a.write_golden + ".opcap";
    const std::string chk_path = a.write_golden + ".chk";
    write_capture_log_file(*input, log_path);
    store::StoreReader original(a.db);
    const std::string expected = render_records(original, input->session.id, replayed_names(r));
    // The log must carry everything: re-driven from the file, it gives the original's records.
    auto from_log = read_capture_log(log_path);
    const TextDifference d = compare_text(expected, redrive_to_text(*from_log, "golden"));
    if (!d.same) {
      throw ReplayError(fmt::format("{} does not reproduce the original at record line {}: expected '{}', got '{}'",
                                    log_path, d.line, d.expected, d.actual));
    }
    std::ofstream(chk_path, std::ios::binary) << expected;
    fmt::print("wrote {} ({} bytes) and {} ({} record lines, the original's records)\n", log_path,
               fs::file_size(log_path), chk_path, d.expected_lines);
  }
  if (a.check && !same) throw ReplayError("the replay differs from the recording (see above)");
}

}  // namespace

void add_replay_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "replay",
      "Re-drive a recorded session through today's drivers into a new session and compare the records with the\n"
      "original (samples, driver events, scans, clock models), as fast as possible; or, with --serve, play the\n"
      "recording back as simulated instruments (TCP, pseudo-terminals) for opsyncd, as gpsfake does. See docs/replay.md.");
  auto a = std::make_shared<ReplayArgs>();
  cmd->add_option("session", a->session, "Session name or id in --db");
  cmd->add_option("--db", a->db, "Station database holding the recorded session");
  cmd->add_option("--capture-log", a->capture_log, "Replay a capture log (.opcap, e.g. a golden file) instead");
  cmd->add_option("--into", a->into,
                  "Name of the new session (default: SESSION-replay; with --serve, the session name written into "
                  "station.toml, default SESSION-served)");
  cmd->add_option("--out-db", a->out_db, "Write the new session into this database (default: --db)");
  cmd->add_option("--config", a->config,
                  "station.toml the session was recorded with (for sessions from before opsyncd stored it)");
  cmd->add_flag("--check", a->check, "Exit with status 1 when the replay differs from the recording");
  cmd->add_option("--expect", a->expect, "Compare the replayed records with this records text (.chk)");
  cmd->add_option("--write-golden", a->write_golden,
                  "Write PREFIX.opcap (the captures) and PREFIX.chk (the original's records) for a golden test");
  cmd->add_flag("--quiet", a->quiet, "No progress line");
  cmd->add_flag("--serve", a->serve, "Serve the recording as simulated instruments instead of re-driving it");
  cmd->add_option("--speed", a->serve_options.speed, "--serve: speed (1 = as recorded)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 100000.0));
  cmd->add_option("--out", a->serve_options.out_dir, "--serve: folder for station.toml, clock.json, the pseudo-terminals")
      ->capture_default_str();
  cmd->add_option("--duration-s", a->serve_options.duration_s,
                  "--serve: stop after this many wall seconds (default: when the recording is played out)");
  cmd->add_option("--lead-s", a->serve_options.lead_s,
                  "--serve: recorded seconds before the first capture at which the served clock starts")
      ->capture_default_str();
  cmd->callback([a] { run_replay(*a); });
}

}  // namespace opsync::cli
