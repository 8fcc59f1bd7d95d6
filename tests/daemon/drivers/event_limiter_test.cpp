// The per-kind event rate limit every driver puts its per-message events through: at most N of a
// kind per second are recorded, every other one is counted (in total and per kind), and what was
// left out is said, either in the next recorded event of that kind or in a summary once its
// second is over (or at once before a disconnect).
#include "drivers/event_limiter.h"
#include "support/recording_host.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace opsync::drivers {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;

using ListHost = opsync::test::RecordingHost;  // only its events matter here

TEST(EventLimiter, AFloodCostsFiveEventsASecondAndEveryOneIsCounted) {
  ListHost host;
  DriverCounters counters;
  EventLimiter limiter(5);
  // 1000 in one second (a chattering trigger input), then the second is over.
  for (int i = 0; i < 1000; ++i) limiter.event(host, counters, 10 * kS + i * kMs, "edge_seq_reset", "seq went back");
  EXPECT_EQ(host.count("edge_seq_reset"), 5u);
  EXPECT_EQ(counters.events_suppressed, 995u);
  EXPECT_EQ(counters.events_suppressed_by_kind.at("edge_seq_reset"), 995u);
  EXPECT_EQ(limiter.unreported(), 995u);
  // The driver is asked to wake when the window closes, and then the summary says how many.
  EXPECT_EQ(limiter.next_deadline_ns(), 11 * kS);
  limiter.flush(host, 11 * kS - 1);
  EXPECT_EQ(host.count("edge_seq_reset"), 5u) << "no summary before the second is over";
  limiter.flush(host, 11 * kS);
  ASSERT_EQ(host.count("edge_seq_reset"), 6u);
  EXPECT_NE(host.events.back().detail.find("995 more suppressed"), std::string::npos) << host.events.back().detail;
  EXPECT_EQ(limiter.unreported(), 0u);
  EXPECT_EQ(limiter.next_deadline_ns(), kNoDeadline);
}

TEST(EventLimiter, TheNextRecordedEventSaysWhatWasLeftOutBeforeIt) {
  ListHost host;
  DriverCounters counters;
  EventLimiter limiter(2);
  for (int i = 0; i < 7; ++i) limiter.event(host, counters, i * kMs, "malformed", "bad reply");
  ASSERT_EQ(host.count("malformed"), 2u);
  EXPECT_TRUE(limiter.event(host, counters, 2 * kS, "malformed", "bad reply"));
  EXPECT_NE(host.events.back().detail.find("(+5 like it suppressed"), std::string::npos) << host.events.back().detail;
  EXPECT_EQ(limiter.unreported(), 0u);
  limiter.flush(host, 5 * kS);
  EXPECT_EQ(host.count("malformed"), 3u) << "nothing left to summarise";
}

TEST(EventLimiter, KindsHaveTheirOwnAllowance) {
  ListHost host;
  DriverCounters counters;
  EventLimiter limiter(3);
  for (int i = 0; i < 10; ++i) {
    limiter.event(host, counters, i * kMs, "timeout", "t");
    limiter.event(host, counters, i * kMs, "crc_error", "c");
  }
  EXPECT_EQ(host.count("timeout"), 3u);
  EXPECT_EQ(host.count("crc_error"), 3u);
  EXPECT_EQ(counters.events_suppressed_by_kind.at("timeout"), 7u);
  EXPECT_EQ(counters.events_suppressed_by_kind.at("crc_error"), 7u);
  EXPECT_EQ(counters.events_suppressed, 14u);
}

TEST(EventLimiter, ForcedFlushBeforeADisconnectAndTimeGoingBack) {
  ListHost host;
  DriverCounters counters;
  EventLimiter limiter(1);
  limiter.event(host, counters, 100 * kS, "timeout", "first");
  limiter.event(host, counters, 100 * kS + kMs, "timeout", "second");
  limiter.flush(host, 100 * kS + 2 * kMs, /*force=*/true);
  ASSERT_EQ(host.count("timeout"), 2u);
  EXPECT_NE(host.events.back().detail.find("1 more suppressed"), std::string::npos);
  // A replayed link starts its time again: a new window, not a suppression for ~100 s.
  EXPECT_TRUE(limiter.event(host, counters, 5 * kS, "timeout", "after restart"));
  EXPECT_EQ(counters.events_suppressed, 1u);
}

}  // namespace
}  // namespace opsync::drivers
