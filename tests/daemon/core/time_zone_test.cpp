// Naive local time -> UTC with fixed offsets and IANA zones.
#include "core/time_zone.h"

#include <gtest/gtest.h>

namespace opsync {
namespace {

TEST(TimeZone, FixedOffsets) {
  auto z = TimeZone::parse("+02:00");
  ASSERT_TRUE(z);
  const CivilTime noon{2024, 6, 1, 12, 0, 0, 0};
  EXPECT_EQ(z->local_to_utc_ns(noon), civil_to_ns(CivilTime{2024, 6, 1, 10, 0, 0, 0}));
  z = TimeZone::parse("-0530");
  ASSERT_TRUE(z);
  EXPECT_EQ(z->name(), "-05:30");
  EXPECT_EQ(z->local_to_utc_ns(noon), civil_to_ns(CivilTime{2024, 6, 1, 17, 30, 0, 0}));
  EXPECT_EQ(TimeZone::parse("UTC")->local_to_utc_ns(noon), civil_to_ns(noon));
}

TEST(TimeZone, IanaZoneFollowsDaylightSaving) {
  auto z = TimeZone::parse("Europe/Berlin");
  ASSERT_TRUE(z) << "tzdata missing: install the tzdata package";
  EXPECT_FALSE(z->is_fixed());
  // Winter: UTC+1; summer: UTC+2. Zilien fixture: 15:22:01.146614 local = 14:22:01.146614 UTC.
  EXPECT_EQ(z->local_to_utc_ns(CivilTime{2024, 1, 17, 15, 22, 1, 146'614'000}), 1'705'501'321'146'614'000);
  EXPECT_EQ(z->local_to_utc_ns(CivilTime{2024, 7, 1, 12, 0, 0, 0}), civil_to_ns(CivilTime{2024, 7, 1, 10, 0, 0, 0}));
}

TEST(TimeZone, RejectsUnknown) {
  EXPECT_FALSE(TimeZone::parse("Mars/Olympus"));
  EXPECT_FALSE(TimeZone::parse("+25:00"));
  EXPECT_FALSE(TimeZone::parse("+1"));
  EXPECT_FALSE(TimeZone::parse("../../etc/passwd"));
  EXPECT_FALSE(TimeZone::parse(""));
}

}  // namespace
}  // namespace opsync
