// The batching writer: round trips, duplicates, ordering, batching by count and time, threads,
// failed commits retried without loss.
#include "store/writer.h"

#include <cmath>
#include <gtest/gtest.h>
#include <thread>

#include "store/reader.h"
#include "store/sqlite_db.h"
#include "support/temp_db.h"

namespace opsync::store {
namespace {

struct Fixture {
  explicit Fixture(StoreWriter& w, const std::string& session = "s1") {
    session_id = w.open_session(records::Session{0, session, 1'000, 0, "host", ""});
    source_id = w.add_source(records::Source{0, session_id, "cycler", "cycler", "tcp://127.0.0.1:57570", ""});
    voltage = w.add_channel(records::Channel{0, source_id, "voltage", "V", "cell voltage"});
    current = w.add_channel(records::Channel{0, source_id, "current", "A", "cell current"});
  }
  records::SessionId session_id;
  records::SourceId source_id;
  records::ChannelId voltage, current;
};

TEST(StoreWriter, RoundTripKeepsDuplicatesAndOrdersByTime) {
  test::TempDb tmp;
  {
    StoreWriter w(tmp.path());
    Fixture f(w);
    // Out of order arrival, and two samples with the same timestamp.
    const std::vector<records::Sample> in = {{f.voltage, 3'000, 3.3}, {f.voltage, 1'000, 3.1}, {f.voltage, 2'000, 3.2},
                                    {f.voltage, 2'000, 3.25}, {f.current, 2'000, 0.001}};
    w.push(in);
    w.flush();
  }
  StoreReader r(tmp.path());
  auto s = r.find_session("s1");
  ASSERT_TRUE(s);
  auto sources = r.sources(s->id);
  ASSERT_EQ(sources.size(), 1u);
  auto channels = r.channels(sources[0].id);
  ASSERT_EQ(channels.size(), 2u);
  auto v = r.samples(channels[0].id);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].t_ns, 1'000);
  EXPECT_EQ(v[1].t_ns, 2'000);
  EXPECT_DOUBLE_EQ(v[1].value, 3.2);  // arrival order kept for equal stamps
  EXPECT_EQ(v[2].t_ns, 2'000);
  EXPECT_DOUBLE_EQ(v[2].value, 3.25);
  EXPECT_EQ(v[3].t_ns, 3'000);
  EXPECT_EQ(r.samples(channels[1].id).size(), 1u);
}

TEST(StoreWriter, NanIsKeptAsMissingValue) {
  test::TempDb tmp;
  {
    StoreWriter w(tmp.path());
    Fixture f(w);
    w.push(records::Sample{f.voltage, 5, std::nan("")});
    w.push(records::Sample{f.voltage, 6, 1.0});
  }
  StoreReader r(tmp.path());
  auto v = r.samples(1);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_TRUE(std::isnan(v[0].value));
  EXPECT_EQ(r.channel_stats(1).n_missing, 1u);
}

TEST(StoreWriter, CommitsByCount) {
  test::TempDb tmp;
  WriterOptions opt;
  opt.batch_max_samples = 100;
  opt.batch_max_age = std::chrono::milliseconds(60'000);  // only count can trigger
  StoreWriter w(tmp.path(), opt);
  Fixture f(w);
  auto wait_committed = [&](uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (w.stats().samples_committed < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return w.stats().samples_committed;
  };
  for (int i = 0; i < 100; ++i) w.push(records::Sample{f.voltage, i, 1.0 * i});
  EXPECT_EQ(wait_committed(100), 100u);  // a full batch commits without flush or timeout
  for (int i = 0; i < 99; ++i) w.push(records::Sample{f.voltage, 100 + i, 1.0});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(w.stats().samples_committed, 100u);  // one short of a batch: still pending
  w.push(records::Sample{f.voltage, 199, 1.0});
  EXPECT_EQ(wait_committed(200), 200u);
}

TEST(StoreWriter, CommitsByAgeWithoutFlush) {
  test::TempDb tmp;
  WriterOptions opt;
  opt.batch_max_samples = 1'000'000;  // only age can trigger
  opt.batch_max_age = std::chrono::milliseconds(50);
  StoreWriter w(tmp.path(), opt);
  Fixture f(w);
  for (int i = 0; i < 10; ++i) w.push(records::Sample{f.voltage, i, 1.0});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (w.stats().samples_committed < 10 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(w.stats().samples_committed, 10u);
  StoreReader r(tmp.path());  // a second connection sees the committed rows
  EXPECT_EQ(r.samples(f.voltage).size(), 10u);
}

TEST(StoreWriter, ManyProducerThreadsLoseNothing) {
  test::TempDb tmp;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20'000;
  {
    StoreWriter w(tmp.path());
    Fixture f(w);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) w.push(records::Sample{t % 2 ? f.voltage : f.current, i, 1.0 * t});
      });
    }
    for (auto& th : threads) th.join();
    w.flush();
    EXPECT_EQ(w.stats().samples_committed, uint64_t{kThreads} * kPerThread);
    EXPECT_EQ(w.stats().backlog, 0u);
  }
  StoreReader r(tmp.path());
  EXPECT_EQ(r.channel_stats(1).n_samples + r.channel_stats(2).n_samples, uint64_t{kThreads} * kPerThread);
}

TEST(StoreWriter, EventsScansCapturesAndClockModels) {
  test::TempDb tmp;
  records::SessionId sid = 0;
  records::SourceId src = 0;
  {
    StoreWriter w(tmp.path());
    Fixture f(w);
    sid = f.session_id;
    src = f.source_id;
    w.push(records::Event{sid, src, 50, "step_change", "step 1 -> 2"});
    w.push(records::Event{sid, 0, 40, "mark", "beam on"});
    w.push(records::Scan{0, sid, 0, 7, 100, 200, "scan 7", {{"strain_mean", "", 1.5e-4}, {"strain_p90", "", 3e-4}}});
    w.push(records::Capture{src, 60, records::CaptureKind::kOut, std::string("\x01\x00\xff", 3)});
    records::ClockModel m;
    m.method = "regression";
    m.offset_ns = -12345;
    m.rate = 1.0000001;
    m.residual_rms_ns = 800;
    m.n_points = 42;
    m.fitted_at_ns = 99;
    w.add_clock_model(src, m);
  }
  StoreReader r(tmp.path());
  auto ev = r.events(sid);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, "mark");  // time order
  EXPECT_EQ(ev[0].source_id, 0);
  EXPECT_EQ(ev[1].detail, "step 1 -> 2");
  auto sc = r.scans(sid);
  ASSERT_EQ(sc.size(), 1u);
  EXPECT_EQ(sc[0].number, 7);
  ASSERT_EQ(sc[0].values.size(), 2u);
  EXPECT_EQ(sc[0].values[1].name, "strain_p90");
  EXPECT_DOUBLE_EQ(sc[0].values[0].value, 1.5e-4);
  auto cm = r.clock_model(src);
  ASSERT_TRUE(cm);
  EXPECT_EQ(cm->method, "regression");
  EXPECT_EQ(cm->offset_ns, -12345);
  EXPECT_DOUBLE_EQ(cm->rate, 1.0000001);
  EXPECT_EQ(cm->n_points, 42);
  Db db(tmp.path(), Db::Mode::ReadOnly);
  EXPECT_EQ(db.query_int("SELECT length(bytes) FROM captures WHERE direction = 'out'"), 3);
}

TEST(StoreWriter, DuplicateSourceFailsAloneAndTheBatchStillCommits) {
  test::TempDb tmp;
  StoreWriter w(tmp.path());
  Fixture f(w);
  w.push(records::Sample{f.voltage, 1, 1.0});
  EXPECT_THROW(w.add_source(records::Source{0, f.session_id, "cycler", "cycler", "", ""}), StoreError);
  w.push(records::Sample{f.voltage, 2, 2.0});
  w.flush();
  StoreReader r(tmp.path());
  EXPECT_EQ(r.samples(f.voltage).size(), 2u);
  EXPECT_EQ(r.sources(f.session_id).size(), 1u);
}

TEST(StoreWriter, ReopenContinuesChannelWithoutCollisions) {
  test::TempDb tmp;
  records::ChannelId ch = 0;
  {
    StoreWriter w(tmp.path());
    Fixture f(w);
    ch = f.voltage;
    w.push(records::Sample{ch, 10, 1.0});
  }
  {
    StoreWriter w(tmp.path());
    w.push(records::Sample{ch, 10, 2.0});  // same channel, same stamp, new process
  }
  StoreReader r(tmp.path());
  auto v = r.samples(ch);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_DOUBLE_EQ(v[0].value, 1.0);
  EXPECT_DOUBLE_EQ(v[1].value, 2.0);
}

TEST(StoreWriter, LockedFileIsRetriedNotDropped) {
  test::TempDb tmp;
  WriterOptions opt;
  opt.busy_timeout = std::chrono::milliseconds(20);
  opt.batch_max_age = std::chrono::milliseconds(10);
  StoreWriter w(tmp.path(), opt);
  Fixture f(w);
  {
    Db other(tmp.path(), Db::Mode::ReadWrite);
    other.exec("BEGIN IMMEDIATE");  // an importer holding the write lock
    for (int i = 0; i < 500; ++i) w.push(records::Sample{f.voltage, i, 1.0});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (w.stats().failed_commits == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_GT(w.stats().failed_commits, 0u);
    EXPECT_EQ(w.stats().samples_committed, 0u);
    EXPECT_FALSE(w.stats().last_error.empty());
    other.exec("ROLLBACK");
  }
  w.flush();
  EXPECT_EQ(w.stats().samples_committed, 500u);
  StoreReader r(tmp.path());
  EXPECT_EQ(r.samples(f.voltage).size(), 500u);
}

TEST(StoreWriter, UnwritablePathIsAClearError) {
  try {
    StoreWriter w("/nonexistent-dir/x/y.db");
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x/y.db"), std::string::npos);
  }
}

}  // namespace
}  // namespace opsync::store
