// The writer on a full disk (issue 11, item 4): the backlog is kept and written once space
// returns, the failure is reported when it starts and when it ends, close() ends in bounded time
// saying what it could not write, and the reserve file lets the session be closed.
// SQLite is made to report a full disk by PRAGMA max_page_count (set before each transaction),
// so no small filesystem is needed here; tests/hil/disk_full_test.cpp does it for real.
#include <atomic>
#include <filesystem>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <mutex>
#include <thread>

#include "store/reader.h"
#include "store/sqlite_db.h"
#include "store/writer.h"
#include "support/temp_db.h"

namespace opsync::store {
namespace {

using namespace std::chrono_literals;

// A disk that is full while `full` is set: the file may not grow by a single page. With
// `reserve_frees_space`, deleting the reserve file makes it writable again, as on a real disk.
struct FakeDisk {
  std::atomic<bool> full{false};
  bool reserve_frees_space = false;
  std::string reserve_path;

  std::function<void(Db&)> hook() {
    return [this](Db& db) {
      const bool no_room = full && !(reserve_frees_space && !std::filesystem::exists(reserve_path));
      if (no_room) {
        db.exec(fmt::format("PRAGMA max_page_count = {}", db.query_int("PRAGMA page_count")));
      } else {
        db.exec("PRAGMA max_page_count = 1073741823");
      }
    };
  }
};

struct Reports {
  std::mutex mu;
  std::vector<DiskFullReport> list;
  std::function<void(const DiskFullReport&)> callback() {
    return [this](const DiskFullReport& r) {
      std::lock_guard<std::mutex> lock(mu);
      list.push_back(r);
    };
  }
  std::vector<DiskFullReport> get() {
    std::lock_guard<std::mutex> lock(mu);
    return list;
  }
};

template <class Pred>
bool wait_for(Pred pred, std::chrono::seconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

struct Ids {
  records::SessionId session;
  records::SourceId source;
  records::ChannelId channel;
};

Ids open_fixture(StoreWriter& w) {
  Ids ids{};
  ids.session = w.open_session(records::Session{0, "s1", 1'000, 0, "host", ""});
  ids.source = w.add_source(records::Source{0, ids.session, "bridge", "bridge", "serial:///dev/null", ""});
  ids.channel = w.add_channel(records::Channel{0, ids.source, "trigger_edges", "", "edges"});
  return ids;
}

TEST(StoreDiskFull, BacklogIsKeptReportedAndWrittenInBatchesWhenSpaceReturns) {
  test::TempDb tmp;
  FakeDisk disk;
  Reports reports;
  WriterOptions opt;
  opt.batch_max_samples = 1000;  // the backlog below is 50 batches
  opt.batch_max_age = 5ms;
  opt.before_commit = disk.hook();
  opt.on_disk_full = reports.callback();
  StoreWriter w(tmp.path(), opt);
  const Ids ids = open_fixture(w);

  disk.full = true;
  constexpr int kSamples = 50'000;
  for (int i = 0; i < kSamples; ++i) w.push(records::Sample{ids.channel, 10 * i, 1.0 * i});
  w.push(records::Event{ids.session, ids.source, 5, "note", "pushed while the disk was full"});
  ASSERT_TRUE(wait_for([&] { return w.stats().disk_full; }));
  ASSERT_TRUE(wait_for([&] { return w.stats().disk_full_commits >= 3; })) << "retried with backoff";
  {
    const WriterStats s = w.stats();
    EXPECT_LT(s.samples_committed, static_cast<uint64_t>(kSamples));
    EXPECT_GT(s.backlog, 0u);
    EXPECT_NE(s.last_error.find("full"), std::string::npos) << s.last_error;
    const auto r = reports.get();
    ASSERT_EQ(r.size(), 1u) << "one report when it starts, not one per retry";
    EXPECT_TRUE(r[0].full);
    EXPECT_NE(r[0].error.find("database or disk is full"), std::string::npos) << r[0].error;
  }

  disk.full = false;
  ASSERT_TRUE(wait_for([&] { return w.stats().backlog == 0; }));
  const WriterStats s = w.stats();
  EXPECT_FALSE(s.disk_full);
  EXPECT_EQ(s.samples_committed, static_cast<uint64_t>(kSamples));
  const auto r = reports.get();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_FALSE(r[1].full);
  EXPECT_GE(r[1].failed_commits, 3u);
  EXPECT_GT(r[1].lasted.count(), 0);
  EXPECT_EQ(w.close(1s).records_unwritten, 0u);

  Db db(tmp.path(), Db::Mode::ReadOnly);
  EXPECT_EQ(db.query_int(fmt::format("SELECT COUNT(*) FROM samples WHERE channel_id = {}", ids.channel)), kSamples);
  // Sequence numbers handed out in rolled-back transactions were given out again: no holes.
  EXPECT_EQ(db.query_int(fmt::format("SELECT MAX(seq) FROM samples WHERE channel_id = {}", ids.channel)), kSamples - 1);
  EXPECT_EQ(db.query_int("SELECT COUNT(*) FROM events WHERE kind = 'note'"), 1);
}

TEST(StoreDiskFull, CloseEndsInBoundedTimeCountsWhatIsLostAndStillEndsTheSession) {
  test::TempDb tmp;
  FakeDisk disk;  // full for good: the reserve does not help here
  WriterOptions opt;
  opt.batch_max_age = 5ms;
  opt.before_commit = disk.hook();
  auto w = std::make_unique<StoreWriter>(tmp.path(), opt);
  const Ids ids = open_fixture(*w);
  disk.full = true;
  constexpr int kSamples = 20'000;
  for (int i = 0; i < kSamples; ++i) w->push(records::Sample{ids.channel, i, 1.0});
  ASSERT_TRUE(wait_for([&] { return w->stats().disk_full; }));
  w->push(records::Event{ids.session, 0, kSamples, "daemon_stop", "clean shutdown"});
  w->queue_end_session(ids.session, kSamples);
  // A caller waiting for a commit, as Station::stop did with end_session: it must not wait forever.
  std::atomic<bool> waiter_done{false};
  std::thread waiter([&] {
    EXPECT_THROW(w->flush(), StoreError);
    waiter_done = true;
  });

  const auto t0 = std::chrono::steady_clock::now();
  const CloseReport report = w->close(300ms);
  const auto took = std::chrono::steady_clock::now() - t0;
  waiter.join();
  EXPECT_TRUE(waiter_done);
  EXPECT_LT(took, 10s) << "close() must give up after its timeout";
  // The samples did not fit; the stop event and the session's end (a few bytes into pages the
  // file already has) went first and did.
  EXPECT_EQ(report.records_unwritten, static_cast<uint64_t>(kSamples));
  EXPECT_NE(report.last_error.find("full"), std::string::npos) << report.last_error;
  EXPECT_EQ(w->stats().records_unwritten, static_cast<uint64_t>(kSamples));
  w.reset();  // the destructor after close() neither waits nor reports again

  StoreReader r(tmp.path());
  const auto s = r.find_session("s1");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->ended_ns, kSamples) << "the session is closed even though its samples were not written";
  EXPECT_EQ(r.count_events(ids.session), 1u);
}

TEST(StoreDiskFull, ReserveFileIsHeldAndReleasedForTheClose) {
  test::TempDb tmp;
  FakeDisk disk;
  disk.reserve_frees_space = true;
  disk.reserve_path = tmp.path() + ".reserve";
  WriterOptions opt;
  opt.batch_max_age = 5ms;
  opt.reserve_bytes = 256 * 1024;
  opt.before_commit = disk.hook();
  StoreWriter w(tmp.path(), opt);
  const Ids ids = open_fixture(w);
  ASSERT_TRUE(w.stats().reserve_held);
  ASSERT_TRUE(std::filesystem::exists(disk.reserve_path));
  EXPECT_EQ(std::filesystem::file_size(disk.reserve_path), 256u * 1024u);

  disk.full = true;
  for (int i = 0; i < 5'000; ++i) w.push(records::Sample{ids.channel, i, 1.0});
  ASSERT_TRUE(wait_for([&] { return w.stats().disk_full; }));
  // While recording, the reserve stays: it is for the close.
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(std::filesystem::exists(disk.reserve_path));
  w.queue_end_session(ids.session, 77);
  const CloseReport report = w.close(5s);
  EXPECT_EQ(report.records_unwritten, 0u) << report.last_error;
  EXPECT_FALSE(std::filesystem::exists(disk.reserve_path));

  StoreReader r(tmp.path());
  EXPECT_EQ(r.find_session("s1")->ended_ns, 77);
  EXPECT_EQ(r.samples(ids.channel).size(), 5'000u);
}

TEST(StoreDiskFull, CleanCloseRemovesTheReserve) {
  test::TempDb tmp;
  {
    StoreWriter w(tmp.path());
    EXPECT_TRUE(w.stats().reserve_held);
    EXPECT_TRUE(std::filesystem::exists(tmp.path() + ".reserve"));
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + ".reserve"));
}

}  // namespace
}  // namespace opsync::store
