// The re-drive rules with a scripted driver: ticks at the time of the sends they explain and at
// recorded tick rows, stops whose sends follow them, a reconnect asked for by the driver, and
// every kind of send difference counted. Also the capture log round trip and its messages.
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

#include "replay/capture_log.h"
#include "replay/redrive.h"
#include "store/reader.h"
#include "support/temp_db.h"

namespace opsync::replay {
namespace {

// Pings every 10 ns after connecting; a reply is a sample at the midpoint; no reply within 5 ns
// is a timeout event (sending nothing); the second timeout in a row asks for a reconnect.
class Pinger final : public drivers::Driver {
 public:
  std::string_view kind() const override { return "ms"; }
  const std::vector<drivers::ChannelSpec>& channels() const override { return channels_; }
  void on_connect(drivers::DriverHost& host, int64_t t_ns) override {
    connected_ = true;
    pending_ = false;
    timeouts_ = 0;
    next_ping_ns_ = t_ns + 10;
    host.send("HI");
  }
  void on_bytes(drivers::DriverHost& host, std::span<const uint8_t> bytes, int64_t t_ns) override {
    if (!pending_) return;
    pending_ = false;
    timeouts_ = 0;
    host.sample(0, sent_ns_ + (t_ns - sent_ns_) / 2, static_cast<double>(bytes.size()));
  }
  void on_tick(drivers::DriverHost& host, int64_t t_ns) override {
    if (pending_ && t_ns >= sent_ns_ + 5) {
      pending_ = false;
      host.event(t_ns, "timeout", std::to_string(++timeouts_));
      if (timeouts_ >= 2) {
        connected_ = false;
        host.request_reconnect("two timeouts");
      }
      return;
    }
    if (!pending_ && t_ns >= next_ping_ns_) {
      host.send("PING");
      pending_ = true;
      sent_ns_ = t_ns;
      next_ping_ns_ += 10;
      if (next_ping_ns_ <= t_ns) next_ping_ns_ = t_ns + 10;
    }
  }
  int64_t next_deadline_ns() const override {
    if (!connected_) return drivers::kNoDeadline;
    return pending_ ? sent_ns_ + 5 : next_ping_ns_;
  }
  void on_disconnect(drivers::DriverHost& host, int64_t t_ns) override {
    connected_ = false;
    host.event(t_ns, "bye", "");
    host.send("NEVER");  // the runner drops sends once the link is closed
  }
  void on_stop(drivers::DriverHost& host, int64_t /*t_ns*/) override { host.send("BYE"); }
  const drivers::DriverCounters& counters() const override { return counters_; }

 private:
  std::vector<drivers::ChannelSpec> channels_{{"reply_bytes", "", "length of the reply"}};
  drivers::DriverCounters counters_;
  bool connected_ = false;
  bool pending_ = false;
  int timeouts_ = 0;
  int64_t sent_ns_ = 0;
  int64_t next_ping_ns_ = 0;
};

constexpr const char* kConfig = R"(
[station]
db = "x.db"
session = "s"
[[source]]
name = "dev"
driver = "rga"
address = "tcp://127.0.0.1:1"
)";

Step st(StepKind k, int64_t t, std::string bytes = {}) { return Step{k, t, std::move(bytes)}; }

std::unique_ptr<MemoryInput> pinger_session(std::vector<Step> steps) {
  auto in = std::make_unique<MemoryInput>();
  in->origin = "test";
  in->session = records::Session{0, "s", 1000, 2000, "host", ""};
  in->sources.push_back(SourceInfo{"dev", "ms", "tcp://127.0.0.1:1", "", 0, 0});
  in->configs.push_back(ConfigVersion{1000, kConfig});
  in->copied_events.push_back(CopiedEvent{-1, 1000, "station_config", kConfig});
  in->copied_events.push_back(CopiedEvent{0, 1000, "connected", "tcp://127.0.0.1:1"});
  in->steps.push_back(std::move(steps));
  in->finish();
  return in;
}

// The recording a live runner makes of the Pinger (times as the runner would stamp them).
std::vector<Step> faithful_recording() {
  return {
      st(StepKind::kStart, 1000),
      st(StepKind::kConnect, 1000),
      st(StepKind::kOut, 1000, "HI"),     // on_connect
      st(StepKind::kOut, 1013, "PING"),   // a tick 3 ns after its deadline 1010
      st(StepKind::kIn, 1015, "PONG"),    // sample at 1014
      st(StepKind::kOut, 1021, "PING"),   // tick (deadline 1020)
      st(StepKind::kTick, 1027),          // timeout 1: a tick that sent nothing
      st(StepKind::kOut, 1031, "PING"),   // tick (deadline 1030)
      st(StepKind::kTick, 1037),          // timeout 2: asks for a reconnect
      st(StepKind::kDisconnect, 1040),
      st(StepKind::kConnect, 1100),
      st(StepKind::kOut, 1100, "HI"),
      st(StepKind::kStop, 1105),
      st(StepKind::kOut, 1105, "BYE"),    // on_stop's send, stamped like the stop
  };
}

struct Replayed {
  RedriveResult result;
  std::vector<records::Sample> samples;
  std::vector<records::Event> events;
};

Replayed replay(MemoryInput& in, const std::string& db) {
  RedriveOptions o;
  o.out_db = db;
  o.into = "s-replay";
  o.driver_factory = [](const runtime::SourceConfig&) { return std::make_unique<Pinger>(); };
  Replayed r;
  r.result = redrive(in, o);
  store::StoreReader reader(db);
  const auto src = reader.sources(r.result.session_id);
  if (src.size() == 1) r.samples = reader.samples(reader.channels(src[0].id).at(0).id);
  r.events = reader.events(r.result.session_id);
  return r;
}

TEST(Redrive, CallsTheDriverAtTheRecordedTimes) {
  test::TempDb db;
  auto in = pinger_session(faithful_recording());
  const Replayed r = replay(*in, db.path());
  ASSERT_EQ(r.result.sources.size(), 1u);
  const SourceReplayStats& s = r.result.sources[0];
  EXPECT_TRUE(r.result.sends_all_equal()) << s.first_send_difference;
  EXPECT_EQ(s.sends_equal, 6u);
  EXPECT_EQ(s.ticks, 5u);  // three that sent a PING, two recorded ones that sent nothing
  EXPECT_EQ(s.drivers_built, 1u);
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.samples[0].t_ns, 1014);  // midpoint of the PING at 1013 (not the deadline 1010) and 1015
  EXPECT_EQ(r.samples[0].value, 4.0);
  std::vector<std::string> seen;
  for (const auto& e : r.events) {
    seen.push_back(std::to_string(e.t_ns) + " " + e.kind + " " + (e.kind == "replay" ? "" : e.detail));
  }
  // Copied: connected, station_config; written by the replay: replay; re-derived: the rest.
  const std::vector<std::string> want = {"1000 connected tcp://127.0.0.1:1", "1000 replay ",
                                         "1000 station_config " + std::string(kConfig), "1027 timeout 1",
                                         "1037 timeout 2", "1040 bye ", "1105 bye "};
  ASSERT_EQ(seen.size(), want.size());
  for (const auto& w : want) EXPECT_NE(std::find(seen.begin(), seen.end(), w), seen.end()) << w;
}

TEST(Redrive, CountsEverySendDifference) {
  test::TempDb db;
  std::vector<Step> steps = faithful_recording();
  steps[2].bytes = "HELLO";                            // different
  steps.erase(steps.begin() + 11);                     // the second HI is missing: extra in the replay
  steps.insert(steps.begin() + 3, st(StepKind::kTick, 1005));  // a tick before the deadline (1010)
  steps.push_back(st(StepKind::kOut, 1105, "MORE"));  // recorded, never sent
  auto in = pinger_session(std::move(steps));
  const Replayed r = replay(*in, db.path());
  const SourceReplayStats& s = r.result.sources[0];
  EXPECT_FALSE(r.result.sends_all_equal());
  EXPECT_EQ(s.sends_different, 1u);
  EXPECT_EQ(s.sends_extra, 1u);
  EXPECT_EQ(s.sends_missing, 1u);
  EXPECT_EQ(s.ticks_not_due, 1u);
  EXPECT_NE(s.first_send_difference.find("recorded send \"HELLO\", the driver sent \"HI\""), std::string::npos)
      << s.first_send_difference;
}

TEST(Redrive, RefusesToOverwriteASessionAndNeedsAConfiguration) {
  test::TempDb db;
  auto in = pinger_session(faithful_recording());
  replay(*in, db.path());
  try {
    replay(*in, db.path());
    FAIL() << "a second replay under the same name must be refused";
  } catch (const ReplayError& e) {
    EXPECT_NE(std::string(e.what()).find("exists in"), std::string::npos) << e.what();
  }
  test::TempDb db2;
  in->configs.clear();
  try {
    replay(*in, db2.path());
    FAIL() << "no configuration, none given";
  } catch (const ReplayError& e) {
    EXPECT_NE(std::string(e.what()).find("--config FILE"), std::string::npos) << e.what();
  }
}

TEST(StepMerger, LinkStepsGoWhereTheDaemonCallsThem) {
  std::vector<Step> out;
  const std::function<void(const Step&)> sink = [&](const Step& s) { out.push_back(s); };
  StepMerger m({st(StepKind::kStart, 10), st(StepKind::kConnect, 10), st(StepKind::kStop, 20),
                st(StepKind::kDisconnect, 20)},
               sink);
  m.capture(st(StepKind::kOut, 10, "a"));
  m.capture(st(StepKind::kOut, 20, "b"));
  m.finish();
  std::string order;
  for (const auto& s : out) order += std::string(step_kind_name(s.kind)) + " ";
  EXPECT_EQ(order, "start connect out stop out disconnect ");
}

TEST(CaptureLog, RoundTripsEveryStepAndEvent) {
  std::vector<Step> steps = faithful_recording();
  steps[4].bytes = std::string("\x00\x01\xff\"\\\r\n ok", 10);  // binary and escapes
  auto in = pinger_session(steps);
  in->sources[0].transport_delay_s = 27.5;
  in->copied_events.push_back(CopiedEvent{-1, 1050, "mark", "beam \"on\"\nline two"});
  const auto dir = std::filesystem::path(::testing::TempDir());
  const std::string path = (dir / ("roundtrip_" + std::to_string(getpid()) + ".opcap")).string();
  write_capture_log_file(*in, path);
  auto back = read_capture_log(path);
  std::filesystem::remove(path);
  EXPECT_EQ(back->session.name, "s");
  EXPECT_EQ(back->session.started_ns, 1000);
  EXPECT_EQ(back->session.ended_ns, 2000);
  ASSERT_EQ(back->sources.size(), 1u);
  EXPECT_EQ(back->sources[0].address, "tcp://127.0.0.1:1");
  EXPECT_DOUBLE_EQ(back->sources[0].transport_delay_s, 27.5);
  ASSERT_EQ(back->configs.size(), 1u);
  EXPECT_EQ(back->configs[0].text, kConfig);
  // The link steps come back from the connected event (the only one recorded here) and the
  // start; kDisconnect/kStop only exist as events, which this input does not carry.
  std::vector<std::string> kinds;
  for (const auto& s : back->steps[0]) kinds.push_back(std::string(step_kind_name(s.kind)) + "@" + std::to_string(s.t_ns));
  EXPECT_EQ(kinds.front(), "connect@1000");
  size_t captures = 0;
  for (const auto& s : back->steps[0]) captures += (s.kind == StepKind::kIn || s.kind == StepKind::kOut || s.kind == StepKind::kTick);
  EXPECT_EQ(captures, in->captures);
  bool found = false;
  for (const auto& s : back->steps[0]) found = found || s.bytes == steps[4].bytes;
  EXPECT_TRUE(found) << "binary payload lost";
  bool mark = false;
  for (const auto& e : back->copied_events) mark = mark || (e.kind == "mark" && e.detail == "beam \"on\"\nline two");
  EXPECT_TRUE(mark);
}

// Version 1 logs (the golden ones among them) kept the delay in the source's note.
TEST(CaptureLog, VersionOneNotesGiveTheTransportDelay) {
  const std::string path = (std::filesystem::path(::testing::TempDir()) / ("v1_" + std::to_string(getpid()) + ".opcap")).string();
  std::ofstream(path, std::ios::binary)
      << "opsync-capture-log 1\nsession \"s\" 1 2 \"h\" \"n\"\n"
         "source 0 \"a\" \"ms\" \"x\" \"transport_delay_s=30\"\nsource 1 \"b\" \"ms\" \"y\" \"transport_delay_s=2.5; z=1\"\n"
         "source 2 \"c\" \"cycler\" \"z\" \"plain\"\n+5 0 > \"ab\"\n";
  auto in = read_capture_log(path);
  std::filesystem::remove(path);
  ASSERT_EQ(in->sources.size(), 3u);
  EXPECT_DOUBLE_EQ(in->sources[0].transport_delay_s, 30.0);
  EXPECT_EQ(in->sources[0].note, "");
  EXPECT_DOUBLE_EQ(in->sources[1].transport_delay_s, 2.5);
  EXPECT_EQ(in->sources[1].note, "z=1");
  EXPECT_DOUBLE_EQ(in->sources[2].transport_delay_s, 0.0);
  EXPECT_EQ(in->sources[2].note, "plain");
}

TEST(CaptureLog, MalformedFilesAreNamedWithTheirLine) {
  const auto dir = std::filesystem::path(::testing::TempDir());
  const std::string path = (dir / ("bad_" + std::to_string(getpid()) + ".opcap")).string();
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    std::ofstream(path, std::ios::binary) << text;
    try {
      read_capture_log(path);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ReplayError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("hello\n", ":1: not an opsync capture log");
  expect_error("opsync-capture-log 1\nsession \"s\" 1 2 \"h\" \"n\"\nsource 0 \"a\" \"ms\" \"x\" \"\"\n+5 0 > \"ab\n",
               ":4: unterminated quoted string");
  expect_error("opsync-capture-log 1\nsession \"s\" 1 2 \"h\" \"n\"\nsource 0 \"a\" \"ms\" \"x\" \"\"\n+5 3 < \"ab\"\n",
               ":4: '3' is not a source index");
  expect_error("opsync-capture-log 1\nsession \"s\" 1 2 \"h\" \"n\"\nsource 0 \"a\" \"ms\" \"x\" \"\"\n+5 0 ? \"ab\"\n",
               ":4: unknown line kind '?'");
  expect_error("opsync-capture-log 1\nsession \"s\" 1 2 \"h\" \"n\"\nsource 0 \"a\" \"ms\" \"x\" \"\"\n",
               "no captures in the log");
  expect_error("opsync-capture-log 2\nsession \"s\" 1 2 \"h\" \"n\"\nsource 0 \"a\" \"ms\" \"x\" \"\"\n+5 0 > \"ab\"\n",
               ":3: expected: source INDEX");
  expect_error("opsync-capture-log 2\nsession \"s\" 1 2 \"h\" \"n\"\nsource 0 \"a\" \"ms\" \"x\" \"\" -3\n+5 0 > \"ab\"\n",
               ":3: transport delay '-3'");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace opsync::replay
