// Half-cycle split on a synthetic charge / rest / discharge / rest / charge pattern with known rows.
#include "correlate/half_cycles.h"

#include <gtest/gtest.h>

#include "correlate/errors.h"

namespace oc = opsync::correlate;

namespace {
oc::CyclerRecord pattern() {
  oc::CyclerRecord r;
  auto add = [&](std::size_t rows, double i_a) {
    for (std::size_t k = 0; k < rows; ++k) {
      r.t_ns.push_back(static_cast<int64_t>(r.t_ns.size()) * 1'000'000'000);
      r.voltage_v.push_back(3.7);
      r.current_a.push_back(i_a);
    }
  };
  add(100, 1e-3);   // charge rows 0..99
  add(20, 1e-8);    // rest (below 1 uA)
  add(80, -1e-3);   // discharge rows 120..199
  add(20, 0.0);     // rest
  add(50, 1e-3);    // charge rows 220..269
  add(1, -1e-3);    // a single stray sample: not a half-cycle
  return r;
}
}  // namespace

TEST(HalfCycles, ChargeRestDischargeRest) {
  const auto h = oc::split_half_cycles(pattern());
  ASSERT_EQ(h.size(), 3U);
  EXPECT_EQ(h[0].direction, oc::Direction::charge);
  EXPECT_EQ(h[0].begin, 0U);
  EXPECT_EQ(h[0].end, 100U);
  EXPECT_EQ(h[1].direction, oc::Direction::discharge);
  EXPECT_EQ(h[1].begin, 120U);
  EXPECT_EQ(h[1].end, 200U);
  EXPECT_EQ(h[2].direction, oc::Direction::charge);
  EXPECT_EQ(h[2].begin, 220U);
  EXPECT_EQ(h[2].end, 270U);
  EXPECT_EQ(h[2].index, 2U);
  EXPECT_EQ(oc::to_string(h[1].direction), "discharge");
}

TEST(HalfCycles, SignChangeWithoutRestEndsHalfCycle) {
  oc::CyclerRecord r;
  for (int k = 0; k < 10; ++k) {
    r.t_ns.push_back(k * 1'000'000'000LL);
    r.voltage_v.push_back(3.7);
    r.current_a.push_back(k < 5 ? 1e-3 : -1e-3);
  }
  const auto h = oc::split_half_cycles(r);
  ASSERT_EQ(h.size(), 2U);
  EXPECT_EQ(h[0].end, 5U);
  EXPECT_EQ(h[1].begin, 5U);
}

TEST(HalfCycles, BadRecordsAreErrors) {
  auto r = pattern();
  r.voltage_v.pop_back();
  EXPECT_THROW(oc::split_half_cycles(r), oc::InputError);
  r = pattern();
  r.t_ns[5] = r.t_ns[4];
  EXPECT_THROW(oc::split_half_cycles(r), oc::InputError);
  r = pattern();
  r.capacity_c.assign(3, 0.0);
  EXPECT_THROW(oc::split_half_cycles(r), oc::InputError);
}
