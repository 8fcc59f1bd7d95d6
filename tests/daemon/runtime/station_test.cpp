// Station in-process, on the FakeClock, with scripted sources (scripted_source.h) in place of
// instruments: the session's times are the reference clock's, marks and status come from the
// runners, a stop closes the session, a closed session is refused, and a run that ended
// without a stop is resumed with the outage recorded.
#include "runtime/station.h"

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

#include "core/config_table.h"
#include "core/time_format.h"
#include "scripted_source.h"
#include "store/reader.h"
#include "support/temp_db.h"

namespace opsync::runtime {
namespace {

using namespace testing;  // scripted_source.h

class StationTest : public ::testing::Test {
 protected:
  StationConfig config(const std::string& session = "run1") {
    const std::string text = fmt::format(R"toml(
[station]
db = "{}"
session = "{}"

[status]
http = ""
line = false

[[source]]
name = "cyc"
driver = "macnet"
address = "tcp://127.0.0.1:1"
reconnect_min_s = 0.001
reconnect_max_s = 0.004
)toml",
                                         db_.path(), session);
    return parse_station_config(text, "station.toml");
  }
  // A station whose one source is the scripted driver on the scripted link.
  std::unique_ptr<Station> make_station(const std::string& session = "run1") {
    driver_ = std::make_shared<DriverScript>();
    link_ = std::make_shared<LinkScript>();
    auto drivers = driver_;
    return std::make_unique<Station>(
        *io_, config(session), clock_, [drivers](const SourceConfig&) { return std::make_unique<ScriptedDriver>(drivers); },
        scripted_links(link_));
  }
  template <class Pred>
  void run_until(Pred done, const char* what) {
    testing::run_until(*io_, done, what);
  }
  void run_until_up(Station& st) {
    run_until([&] { return st.runners().at(0)->status().state == LinkState::Connected && link_->pending_read; },
              "the source to connect");
  }
  void deliver(const std::string& text) {
    ASSERT_TRUE(link_->pending_read);
    std::copy(text.begin(), text.end(), link_->read_buf);
    auto read = std::move(link_->pending_read);
    link_->pending_read = nullptr;
    const size_t calls = driver_->calls.size();
    asio::post(*io_, [read = std::move(read), n = text.size()] { read(ErrorCode{}, n); });
    run_until([&] { return driver_->calls.size() > calls; }, "the driver to see the bytes");
  }
  void stop(Station& st) {
    bool done = false;
    st.stop([&] { done = true; });
    run_until([&] { return done; }, "the station to stop");
  }
  std::vector<records::Event> session_events(store::StoreReader& r, const std::string& session) {
    const auto s = r.find_session(session);
    return s ? r.events(s->id) : std::vector<records::Event>{};
  }
  test::TempDb db_;
  // Replaced when a test drops a station without stopping it (as kill -9 would): the old loop's
  // queued handlers belong to the dead station and must die with it, never run.
  std::unique_ptr<asio::io_context> io_ = std::make_unique<asio::io_context>();
  clock::FakeClock clock_{2'000 * kSecond};
  std::shared_ptr<DriverScript> driver_;
  std::shared_ptr<LinkScript> link_;
};

TEST_F(StationTest, TheSessionRunsOnTheReferenceClockFromStartToStop) {
  auto st = make_station();
  st->start();
  run_until_up(*st);
  clock_.set(2'003 * kSecond);
  deliver("12345");
  clock_.set(2'005 * kSecond);
  EXPECT_EQ(st->mark("beam on"), "");
  clock_.set(2'010 * kSecond);
  stop(*st);
  EXPECT_FALSE(std::filesystem::exists(db_.path() + ".opsyncd")) << "the lock file outlived a clean stop";

  store::StoreReader r(db_.path());
  const auto s = r.find_session("run1");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->started_ns, 2'000 * kSecond);
  EXPECT_EQ(s->ended_ns, 2'010 * kSecond);
  const auto evs = r.events(s->id);
  ASSERT_EQ(of_kind(evs, "daemon_start").size(), 1u);
  EXPECT_EQ(of_kind(evs, "daemon_start")[0]->t_ns, 2'000 * kSecond);
  const auto cfg = of_kind(evs, "station_config");
  ASSERT_EQ(cfg.size(), 1u);
  EXPECT_NE(cfg[0]->detail.find("reconnect_max_s = 0.004"), std::string::npos) << "the config is kept verbatim";
  const auto marks = of_kind(evs, "mark");
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(marks[0]->t_ns, 2'005 * kSecond);
  EXPECT_EQ(marks[0]->detail, "beam on");
  ASSERT_EQ(of_kind(evs, "daemon_stop").size(), 1u);
  EXPECT_EQ(of_kind(evs, "daemon_stop")[0]->t_ns, 2'010 * kSecond);

  const auto sources = r.sources(s->id);
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].name, "cyc");
  EXPECT_EQ(sources[0].kind, "cycler") << "the kind the driver reports";
  const auto chans = r.channels(sources[0].id);
  ASSERT_EQ(chans.size(), 1u);
  const auto samples = r.samples(chans[0].id);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].t_ns, 2'003 * kSecond);
  EXPECT_EQ(samples[0].value, 5.0);
}

TEST_F(StationTest, StatusComesFromTheRunnersAndTheClock) {
  auto st = make_station();
  st->start();
  run_until_up(*st);
  clock_.set(2'004 * kSecond);
  deliver("abc");
  const nlohmann::json j = st->status_json();
  EXPECT_EQ(j["session"], "run1");
  EXPECT_DOUBLE_EQ(j["elapsed_s"].get<double>(), 4.0);
  ASSERT_EQ(j["sources"].size(), 1u);
  const auto& src = j["sources"][0];
  EXPECT_EQ(src["state"], "connected");
  EXPECT_EQ(src["connects"], 1);
  EXPECT_EQ(src["samples"], 1);
  EXPECT_DOUBLE_EQ(src["samples_per_s"].get<double>(), 0.25);
  EXPECT_EQ(src["channels"][0]["last"], 3.0);
  EXPECT_EQ(src["channels"][0]["last_utc"], format_iso_utc(2'004 * kSecond, 3));
  const std::string line = st->status_line();
  EXPECT_NE(line.find("run1 4s | cyc up voltage=3V n=1"), std::string::npos) << line;
  stop(*st);
}

TEST_F(StationTest, AMarkThatIsNotUtf8IsStoredReplacedAndSaysSo) {
  auto st = make_station();
  st->start();
  run_until_up(*st);
  const std::string note = st->mark("beam on \xB5"
                                    "A");
  EXPECT_EQ(note, "1 byte sequence that was not UTF-8 replaced by U+FFFD");
  stop(*st);
  store::StoreReader r(db_.path());
  const auto evs = session_events(r, "run1");
  const auto m = of_kind(evs, "mark");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]->detail, "beam on \xEF\xBF\xBD"
                          "A [opsyncd: 1 byte sequence that was not UTF-8 replaced by U+FFFD]");
}

TEST_F(StationTest, AClosedSessionIsRefusedAndNothingIsAddedToIt) {
  {
    auto st = make_station();
    st->start();
    run_until_up(*st);
    stop(*st);
  }
  auto again = make_station();
  try {
    again->start();
    FAIL() << "a closed session was reopened";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("session 'run1'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("was closed"), std::string::npos) << e.what();
  }
  store::StoreReader r(db_.path());
  const auto evs = session_events(r, "run1");
  EXPECT_EQ(of_kind(evs, "daemon_start").size(), 1u);
  EXPECT_EQ(link_->connects, 0) << "the refused start connected a source";
  EXPECT_FALSE(std::filesystem::exists(db_.path() + ".opsyncd"));
}

TEST_F(StationTest, ARunThatEndedWithoutAStopIsResumedWithTheOutageRecorded) {
  {
    auto st = make_station();
    st->start();
    run_until_up(*st);
    clock_.set(2'020 * kSecond);
    deliver("xy");
    st->writer().flush();
    // Gone without stop(): as after kill -9, the session is left open.
  }
  io_ = std::make_unique<asio::io_context>();
  clock_.set(2'100 * kSecond);
  auto st = make_station();
  st->start();
  run_until_up(*st);
  clock_.set(2'101 * kSecond);
  deliver("z");
  stop(*st);

  store::StoreReader r(db_.path());
  ASSERT_EQ(r.sessions().size(), 1u) << "the run went into the same session";
  const auto evs = session_events(r, "run1");
  const auto unclean = of_kind(evs, "unclean_stop");
  ASSERT_EQ(unclean.size(), 1u);
  EXPECT_EQ(unclean[0]->t_ns, 2'020 * kSecond) << "at the last record of the previous run";
  EXPECT_NE(unclean[0]->detail.find("80.000 s before this run resumed"), std::string::npos) << unclean[0]->detail;
  const auto gaps = of_kind(evs, "gap");
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0]->t_ns, 2'020 * kSecond);
  EXPECT_NE(gaps[0]->detail.find("81.000 s without data"), std::string::npos) << gaps[0]->detail;
  EXPECT_EQ(of_kind(evs, "daemon_start").size(), 2u);
}

}  // namespace
}  // namespace opsync::runtime
