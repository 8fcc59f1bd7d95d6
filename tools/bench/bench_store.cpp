// Store throughput: samples/s through StoreWriter (producer thread -> writer thread -> WAL file)
// against a bare SQLite prepared-insert loop on the same schema and pragmas in the same run,
// and samples/s for the reader scanning a channel. Prints the figures and the ratio.
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <thread>
#include <unordered_map>

#include "store/reader.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "store/writer.h"

using namespace opsync::store;
using namespace opsync::records;
using Clock = std::chrono::steady_clock;

namespace {

void remove_db(const std::string& path) {
  for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

// Synthetic stream: channels interleaved, 1 ms apart per channel, like a fast multi-channel source.
opsync::records::Sample make_sample(uint64_t i, int n_channels, const std::vector<ChannelId>& ids) {
  const size_t c = i % static_cast<uint64_t>(n_channels);
  return Sample{ids[c], 1'700'000'000'000'000'000 + static_cast<int64_t>(i / static_cast<uint64_t>(n_channels)) * 1'000'000,
                3.7 + 1e-6 * static_cast<double>(i % 1000)};
}

double run_writer(const std::string& path, uint64_t n, int n_channels, size_t batch) {
  remove_db(path);
  WriterOptions opt;
  opt.batch_max_samples = batch;
  StoreWriter w(path, opt);
  const SessionId s = w.open_session(Session{0, "bench", 0, 0, "", ""});
  const SourceId src = w.add_source(Source{0, s, "synthetic", "bench", "", ""});
  std::vector<ChannelId> ids;
  for (int c = 0; c < n_channels; ++c) ids.push_back(w.add_channel(Channel{0, src, fmt::format("ch{}", c), "V", ""}));
  std::vector<Sample> chunk;
  chunk.reserve(1024);
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    chunk.push_back(make_sample(i, n_channels, ids));
    if (chunk.size() == 1024) {
      w.push(chunk);
      chunk.clear();
    }
  }
  w.push(chunk);
  w.flush();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (w.stats().samples_committed != n) throw std::runtime_error("writer lost samples");
  return static_cast<double>(n) / secs;
}

// The baseline: what a hand-written loop gets from SQLite with the same schema, pragmas and
// transaction size, doing the same per-row work (the per-channel seq) in one thread.
double run_bare(const std::string& path, uint64_t n, int n_channels, size_t batch) {
  remove_db(path);
  Db db(path, Db::Mode::ReadWrite);
  configure_connection(db, true);
  migrate(db);
  db.exec("INSERT INTO sessions (id, name, started_ns) VALUES (1, 'bench', 0)");
  db.exec("INSERT INTO sources (id, session_id, name, kind) VALUES (1, 1, 'synthetic', 'bench')");
  std::vector<ChannelId> ids;
  for (int c = 0; c < n_channels; ++c) {
    db.exec(fmt::format("INSERT INTO channels (id, source_id, name, unit) VALUES ({}, 1, 'ch{}', 'V')", c + 1, c));
    ids.push_back(c + 1);
  }
  Stmt ins(db, "INSERT INTO samples (channel_id, t_ns, seq, value) VALUES (?, ?, ?, ?)");
  std::unordered_map<ChannelId, int64_t> seq;
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    if (i % batch == 0) db.exec("BEGIN IMMEDIATE");
    const Sample s = make_sample(i, n_channels, ids);
    ins.bind(1, s.channel_id).bind(2, s.t_ns).bind(3, seq[s.channel_id]++).bind(4, s.value).run();
    if (i % batch == batch - 1) db.exec("COMMIT");
  }
  if (n % batch != 0) db.exec("COMMIT");
  return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - t0).count();
}

double run_reader(const std::string& path, ChannelId channel, uint64_t* count) {
  StoreReader r(path);
  double sum = 0;
  const auto t0 = Clock::now();
  *count = r.scan_samples(channel, {}, [&](int64_t, double v) {
    sum += v;
    return true;
  });
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (sum == 0) fmt::print("");  // keep the loop from being optimised away
  return static_cast<double>(*count) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Session-store throughput: StoreWriter vs a bare SQLite insert loop, and reader scan speed"};
  uint64_t n = 4'000'000;
  int n_channels = 4;
  size_t batch = 65536;
  int rounds = 3;
  std::string dir = std::filesystem::temp_directory_path().string();
  app.add_option("-n,--samples", n, "samples per run")->capture_default_str();
  app.add_option("-c,--channels", n_channels, "channels the samples are spread over")->capture_default_str();
  app.add_option("-b,--batch", batch, "samples per transaction (writer batch_max_samples and bare loop)")
      ->capture_default_str();
  app.add_option("-r,--rounds", rounds, "alternating rounds of each; the best of each is reported")
      ->capture_default_str();
  app.add_option("-d,--dir", dir, "folder for the database files (use a real disk, not tmpfs)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (n_channels < 1 || batch < 1 || rounds < 1) {
    fmt::print(stderr, "channels, batch and rounds must be at least 1\n");
    return 2;
  }

  const std::string path = (std::filesystem::path(dir) / "opsync-bench-store.db").string();
  fmt::print("machine: {}, {} hardware threads\n", cpu_model(), std::thread::hardware_concurrency());
  fmt::print("{} samples over {} channels, {} per transaction, WAL, synchronous=FULL, file {}\n", n, n_channels,
             batch, path);
  double best_writer = 0, best_bare = 0;
  for (int r = 0; r < rounds; ++r) {
    const double bare = run_bare(path, n, n_channels, batch);
    const double writer = run_writer(path, n, n_channels, batch);
    fmt::print("  round {}: bare loop {:>10.0f} samples/s   StoreWriter {:>10.0f} samples/s\n", r + 1, bare, writer);
    best_bare = std::max(best_bare, bare);
    best_writer = std::max(best_writer, writer);
  }
  uint64_t count = 0;
  const double read_rate = run_reader(path, 1, &count);
  fmt::print("bare SQLite insert loop: {:.0f} samples/s\n", best_bare);
  fmt::print("StoreWriter:             {:.0f} samples/s\n", best_writer);
  fmt::print("ratio writer/bare:       {:.2f}\n", best_writer / best_bare);
  fmt::print("reader scan of one channel ({} samples): {:.0f} samples/s\n", count, read_rate);
  remove_db(path);
  return 0;
}
