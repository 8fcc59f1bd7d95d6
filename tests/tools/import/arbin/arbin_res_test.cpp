// Arbin .res reader: both fixtures against ORACLES.md (rows, times, ranges, segments, charge,
// capacities, steps, cycles, start date, the GITT pulse and step tables), the stop/resume in the
// GITT file, zones and --start, truncated and damaged copies (ImportError, never a crash), and
// the row/test logic on synthetic tables (several Test_IDs, stops, missing dates).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "import/arbin/arbin_res.h"
#include "import/import_types.h"
#include "import/common/time_context.h"
#include "import_test_util.h"
#include "support/fixtures.h"

namespace opsync::import {
namespace {

using testing::find_channel;
using testing::has_assumption;

constexpr double kAhToC = 3600.0;

std::string fixture_path(const std::string& name) { return opsync::test::fixture("cycler/" + name); }

ImportResult read_res(const std::string& path, const ImportOptions& options = {}) {
  TimeContext times(options, path);
  ImportResult r = read_binary_file(read_arbin_res, path, options, times);
  settle_damage(r, options, path);  // as import_file(): damage is refused unless salvaging
  return r;
}

// The ImportError reading `path` throws; fails the test if there is none or anything else escapes.
std::string res_error(const std::string& path) {
  try {
    (void)read_res(path);
  } catch (const ImportError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an ImportError for " << path;
  return "";
}

// What libmdb prints on stderr while reading damaged files (warnings only; kept out of the log).
class CapturedStderr {
 public:
  CapturedStderr() { ::testing::internal::CaptureStderr(); }
  ~CapturedStderr() {
    if (!taken_) (void)::testing::internal::GetCapturedStderr();
  }
  std::string take() {
    taken_ = true;
    return ::testing::internal::GetCapturedStderr();
  }
  CapturedStderr(const CapturedStderr&) = delete;
  CapturedStderr& operator=(const CapturedStderr&) = delete;

 private:
  bool taken_ = false;
};

double seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

int64_t utc(int y, int mo, int d, int h, int mi, int s) { return civil_to_ns(CivilTime{y, mo, d, h, mi, s, 0}); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// navani's rule: a new half cycle at every sign change of the current, zero rows ignored.
size_t navani_half_cycles(const ChannelData& current) {
  size_t n = 0;
  int prev = 0;
  for (double v : current.values) {
    const int s = v > 0 ? 1 : (v < 0 ? -1 : 0);
    if (s == 0) continue;
    if (s != prev) ++n;
    prev = s;
  }
  return n;
}

// One expected ORACLES.md current segment; capacities in Ah as the table gives them.
struct SegmentFigures {
  int sign;
  size_t first, last;
  double t_first_s, t_last_s, duration_s;
  double v_first, v_last, i_first, i_last;
  double charge_ah, charge_capacity_ah, discharge_capacity_ah;
  double step_first, step_last, cycle_first, cycle_last;
};

void expect_segments(const ImportResult& r, const std::vector<SegmentFigures>& expected) {
  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  const ChannelData* cc = find_channel(r, "charge_capacity");
  const ChannelData* dc = find_channel(r, "discharge_capacity");
  const ChannelData* step = find_channel(r, "step");
  const ChannelData* cycle = find_channel(r, "cycle");
  ASSERT_TRUE(v && i && cc && dc && step && cycle);
  // Every row has every value, so a sample index is the 0-based row of ORACLES.md.
  for (const ChannelData* c : {v, i, cc, dc, step, cycle}) ASSERT_EQ(c->values.size(), r.rows) << c->name;
  const std::vector<testing::Segment> segs = testing::current_segments(*i);
  ASSERT_GE(segs.size(), expected.size());
  for (size_t k = 0; k < expected.size(); ++k) {
    SCOPED_TRACE("segment " + std::to_string(k + 1));
    const SegmentFigures& e = expected[k];
    const testing::Segment& s = segs[k];
    EXPECT_EQ(s.sign, e.sign);
    EXPECT_EQ(s.first, e.first);
    EXPECT_EQ(s.last, e.last);
    EXPECT_REL(seconds(i->t_ns[s.first] - r.start_ns), e.t_first_s, 1e-6);
    EXPECT_REL(seconds(i->t_ns[s.last] - r.start_ns), e.t_last_s, 1e-6);
    EXPECT_REL(seconds(i->t_ns[s.last] - i->t_ns[s.first]), e.duration_s, 1e-6);
    EXPECT_REL(v->values[s.first], e.v_first, 1e-6);
    EXPECT_REL(v->values[s.last], e.v_last, 1e-6);
    EXPECT_REL(i->values[s.first], e.i_first, 1e-6);
    EXPECT_REL(i->values[s.last], e.i_last, 1e-6);
    EXPECT_REL(s.charge_ah, e.charge_ah, 1e-5);
    EXPECT_REL(cc->values[s.last], e.charge_capacity_ah * kAhToC, 1e-6);
    EXPECT_NEAR(dc->values[s.last], e.discharge_capacity_ah * kAhToC, 1e-6 * e.discharge_capacity_ah * kAhToC + 1e-12);
    EXPECT_EQ(step->values[s.first], e.step_first);
    EXPECT_EQ(step->values[s.last], e.step_last);
    EXPECT_EQ(cycle->values[s.first], e.cycle_first);
    EXPECT_EQ(cycle->values[s.last], e.cycle_last);
  }
}

std::set<double> distinct(const ChannelData& c) { return std::set<double>(c.values.begin(), c.values.end()); }

TEST(ArbinRes, LooksLikeArbinResByContentOnly) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string head = testing::read_all(fixture_path("arbin_gitt_fullcell.res")).substr(0, 64);
  EXPECT_TRUE(looks_like_arbin_res(head));
  EXPECT_FALSE(looks_like_arbin_res(head.substr(0, 0x14)));  // too short for the version byte
  std::string ace = head;
  ace.replace(4, 15, "Standard ACE DB");
  EXPECT_FALSE(looks_like_arbin_res(ace));
  std::string accdb_version = head;
  accdb_version[0x14] = 0x02;
  EXPECT_FALSE(looks_like_arbin_res(accdb_version));
  EXPECT_FALSE(looks_like_arbin_res("Data_Point,Test_Time,DateTime,Step_Time\n1,2,3,4\n"));
  EXPECT_FALSE(looks_like_arbin_res(""));
}

TEST(ArbinRes, CathodeFiveCyclesMatchesOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = read_res(fixture_path("arbin_5cycles_cathode.res"));
  EXPECT_EQ(r.format, "arbin-res");
  EXPECT_EQ(r.rows, 2150u);
  EXPECT_TRUE(has_assumption(r, "'Results File 5.23'"));
  EXPECT_TRUE(has_assumption(r, "Test_ID 1 'ajm314_LCO_ajm5-SSB1-F_Wait48hr-Repeat-01-012', Channel_Index 12"));
  EXPECT_TRUE(has_assumption(r, "schedule 'AliceM\\LCO-ajm5-SSA8-N_5xCo10.sdu'"));
  EXPECT_FALSE(has_assumption(r, "tests ("));  // one Test_ID

  // Start: Global_Table Start_DateTime 45131.7847222222 = 2023-07-24 18:50:00, naive, read as UTC.
  EXPECT_TRUE(r.has_absolute_start);
  EXPECT_EQ(r.start_ns, utc(2023, 7, 24, 18, 50, 0));
  EXPECT_TRUE(has_assumption(r, "45131.78472222222 OLE days = 2023-07-24 18:50:00 cycler-PC local time"));
  EXPECT_TRUE(has_assumption(r, "naive local time; assumed zone UTC"));
  EXPECT_REL(seconds(r.t_first_ns - r.start_ns), 0.0725954198, 1e-6);
  EXPECT_REL(seconds(r.t_last_ns - r.start_ns), 345733.389, 1e-6);
  EXPECT_REL(seconds(r.t_last_ns - r.t_first_ns), 345733.317, 1e-6);
  // The last row's DateTime is 2023-07-28 18:52:20 (whole seconds); the PC clock gained 6.6 s on
  // Test_Time over the test, and the reader says so.
  EXPECT_NEAR(seconds(r.t_last_ns - utc(2023, 7, 28, 18, 52, 20)), -6.6, 1.0);
  EXPECT_TRUE(has_assumption(r, "the two clocks drift apart"));
  EXPECT_FALSE(has_assumption(r, "stopped and resumed"));
  EXPECT_EQ(testing::count_events(r, "gap"), 0u);

  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(v && i);
  EXPECT_EQ(v->unit, "V");
  EXPECT_EQ(i->unit, "A");
  EXPECT_REL(testing::min_value(*v), 2.9999201, 1e-6);
  EXPECT_REL(testing::max_value(*v), 4.300055, 1e-6);
  EXPECT_REL(testing::min_value(*i), -8.6583874e-05, 1e-6);
  EXPECT_REL(testing::max_value(*i), 8.653391e-05, 1e-6);
  EXPECT_TRUE(has_assumption(r, "current sign: Arbin native (+ = charge), kept"));

  const ChannelData* step = find_channel(r, "step");
  const ChannelData* cycle = find_channel(r, "cycle");
  ASSERT_TRUE(step && cycle);
  EXPECT_EQ(distinct(*step), (std::set<double>{1, 2, 3, 4, 5}));
  EXPECT_EQ(testing::count_events(r, "step_change"), 16u);
  EXPECT_EQ(testing::min_value(*cycle), 1.0);
  EXPECT_EQ(testing::max_value(*cycle), 5.0);
  EXPECT_EQ(distinct(*cycle).size(), 5u);
  EXPECT_EQ(testing::count_events(r, "cycle_change"), 4u);

  const std::vector<testing::Segment> segs = testing::current_segments(*i);
  EXPECT_EQ(segs.size(), 8u);
  EXPECT_EQ(testing::count_sign(segs, 1), 4u);
  EXPECT_EQ(testing::count_sign(segs, -1), 4u);
  EXPECT_EQ(navani_half_cycles(*i), 8u);
  expect_segments(r, {
      {1, 577, 747, 172800.717, 192925.576, 20124.8581, 3.7875638, 4.300055, 8.6498592e-05, 8.6463268e-05,
       0.000483497078, 0.000483514941, 0, 2, 2, 1, 1},
      {-1, 748, 925, 193045.585, 212693.12, 19647.535, 4.271771, 2.9999201, -8.6513224e-05, -8.6548549e-05,
       -0.000472282526, 0.000483514941, 0.000475155859, 3, 3, 1, 1},
      {1, 974, 1139, 216413.151, 236137.405, 19724.2547, 3.9136114, 4.300055, 8.6463268e-05, 8.653391e-05,
       0.000473852816, 0.000476750556, 0, 2, 2, 2, 2},
  });
}

// ORACLES.md GITT pulse: consecutive rows with |I| >= half the largest |I|.
struct Pulse {
  int sign;
  size_t first, last;
};

std::vector<Pulse> pulses(const ChannelData& current) {
  double max_abs = 0;
  for (double v : current.values) max_abs = std::max(max_abs, std::fabs(v));
  std::vector<Pulse> out;
  for (size_t k = 0; k < current.values.size(); ++k) {
    const double v = current.values[k];
    if (std::fabs(v) < 0.5 * max_abs) continue;
    const int s = v > 0 ? 1 : -1;
    if (!out.empty() && out.back().last + 1 == k && out.back().sign == s) {
      out.back().last = k;
    } else {
      out.push_back(Pulse{s, k, k});
    }
  }
  return out;
}

// The GITT test was stopped and resumed. mdb-export: the first row after the resume is
// Data_Point 10042 (row 10041) at Test_Time 97358.44109455793 s. ORACLES.md gives Test_Time;
// this maps the imported wall-clock axis back to it.
constexpr size_t kGittResumeRow = 10041;
constexpr double kGittResumeTestTime_s = 97358.44109455793;

double gitt_test_time_s(const ImportResult& r, const ChannelData& c, size_t k) {
  if (k < kGittResumeRow) return seconds(c.t_ns[k] - r.start_ns);
  return kGittResumeTestTime_s + seconds(c.t_ns[k] - c.t_ns[kGittResumeRow]);
}

TEST(ArbinRes, GittFullCellMatchesOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = read_res(fixture_path("arbin_gitt_fullcell.res"));
  EXPECT_EQ(r.format, "arbin-res");
  EXPECT_EQ(r.rows, 26989u);
  EXPECT_TRUE(has_assumption(r, "'Results File 5.26'"));
  EXPECT_TRUE(has_assumption(r, "Test_ID 1 '20210210_batmar_FC_01_cc_02-01-032', Channel_Index 32"));
  EXPECT_TRUE(has_assumption(r, "schedule 'BattMarine\\GITT_fullcell_3-4dot2V.sdu'"));
  // Stored out of Data_Point order (e.g. 1161 after 1120); sorted.
  EXPECT_TRUE(has_assumption(r, "rows ordered by (Test_ID, Data_Point) (stored out of that order at 499 places)"));

  // Start: Start_DateTime 44335.4116435185 = 2021-05-19 09:52:46 (first row's DateTime 09:53:16
  // at Test_Time 30.0007 s agrees).
  EXPECT_EQ(r.start_ns, utc(2021, 5, 19, 9, 52, 46));
  EXPECT_TRUE(has_assumption(r, "= 2021-05-19 09:52:46 cycler-PC local time"));
  EXPECT_REL(seconds(r.t_first_ns - r.start_ns), 30.0007386, 1e-6);

  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  const ChannelData* step = find_channel(r, "step");
  const ChannelData* cycle = find_channel(r, "cycle");
  ASSERT_TRUE(v && i && step && cycle);

  // The test was stopped ("Unsafe", Test end at DateTime 44336.53876157408) and resumed
  // (Test start at 44337.3191087963): 67422 s of wall clock that Test_Time (97358.39 s at both
  // events) does not count. The first row after it is placed at its DateTime, the rows before at
  // Start_DateTime + Test_Time, so Test_Time is recovered exactly on both sides.
  EXPECT_TRUE(has_assumption(r, "Test_ID 1 was stopped and resumed at Test_Time 97358.4 s"));
  EXPECT_TRUE(has_assumption(r, "rows from Data_Point 10042 on"));
  EXPECT_EQ(i->t_ns[kGittResumeRow], utc(2021, 5, 21, 7, 39, 31));  // its DateTime 44337.3191087963
  EXPECT_REL(gitt_test_time_s(r, *i, 0), 30.0007386, 1e-6);
  EXPECT_REL(gitt_test_time_s(r, *i, i->t_ns.size() - 1), 219204.274, 1e-6);
  EXPECT_REL(gitt_test_time_s(r, *i, i->t_ns.size() - 1) - gitt_test_time_s(r, *i, 0), 219174.274, 1e-6);
  // In wall-clock time the span holds the stop too; the 24.6 s the PC clock had gained on
  // Test_Time by then is part of the gap.
  EXPECT_NEAR(seconds(r.t_last_ns - r.t_first_ns) - 219174.274, 67422.0 + 24.6, 1.5);
  // The last row's own DateTime is 2021-05-22 17:30:55; without the stop it would be 18.7 h off.
  EXPECT_NEAR(seconds(r.t_last_ns - utc(2021, 5, 22, 17, 30, 55)), -38.2, 1.5);
  size_t big_gaps = 0;
  for (size_t k = 1; k < i->t_ns.size(); ++k) big_gaps += i->t_ns[k] - i->t_ns[k - 1] > 3600 * kNsPerS ? 1 : 0;
  EXPECT_EQ(big_gaps, 1u);
  // A "gap" event (the daemon's convention: at the gap's start, "<s> s without data (...)").
  ASSERT_EQ(testing::count_events(r, "gap"), 1u);
  const auto gap = std::find_if(r.events.begin(), r.events.end(), [](const EventData& e) { return e.kind == "gap"; });
  EXPECT_EQ(gap->t_ns, i->t_ns[kGittResumeRow - 1]);
  EXPECT_NEAR(std::atof(gap->detail.c_str()), seconds(i->t_ns[kGittResumeRow] - i->t_ns[kGittResumeRow - 1]), 1e-3);
  EXPECT_NE(gap->detail.find("s without data (test stopped and resumed"), std::string::npos) << gap->detail;
  EXPECT_TRUE(std::is_sorted(r.events.begin(), r.events.end(),
                             [](const EventData& a, const EventData& b) { return a.t_ns < b.t_ns; }));

  EXPECT_REL(testing::min_value(*v), 2.9998784, 1e-6);
  EXPECT_REL(testing::max_value(*v), 4.2000518, 1e-6);
  EXPECT_REL(testing::min_value(*i), -0.00072509953, 1e-6);
  EXPECT_REL(testing::max_value(*i), 0.00072544755, 1e-6);

  EXPECT_EQ(distinct(*step), (std::set<double>{1, 2, 3, 5, 6, 7, 8, 10, 11}));
  EXPECT_EQ(testing::count_events(r, "step_change"), 368u);
  EXPECT_EQ(distinct(*cycle), (std::set<double>{1}));
  EXPECT_EQ(testing::count_events(r, "cycle_change"), 0u);

  const std::vector<testing::Segment> segs = testing::current_segments(*i);
  EXPECT_EQ(segs.size(), 183u);
  EXPECT_EQ(testing::count_sign(segs, 1), 92u);
  EXPECT_EQ(testing::count_sign(segs, -1), 91u);
  EXPECT_EQ(navani_half_cycles(*i), 2u);
  expect_segments(r, {
      {1, 720, 762, 21600.0595, 21780.0661, 180.006677, 3.4946275, 3.5446861, 0.00072298839, 0.00072474492,
       3.62336141e-05, 3.62292937e-05, 0, 2, 2, 1, 1},
      {1, 866, 905, 22680.0852, 22860.0919, 180.006641, 3.5044551, 3.5508282, 0.00072263705, 0.00072439358,
       3.62339325e-05, 7.24584988e-05, 0, 2, 2, 1, 1},
      {1, 1008, 1046, 23760.11, 23940.1172, 180.00722, 3.5130539, 3.5578916, 0.00072333968, 0.00072439358,
       3.62366477e-05, 0.000108687946, 0, 2, 2, 1, 1},
  });

  // Single-row transition steps with a tiny current.
  EXPECT_REL(i->values[12838], 3.49657e-07, 1e-5);
  EXPECT_EQ(step->values[12838], 5.0);
  EXPECT_REL(i->values[26930], -1.65e-09, 1e-5);
  EXPECT_EQ(step->values[26930], 10.0);
  size_t tiny = 0;
  for (double x : i->values) tiny += x != 0 && std::fabs(x) < 1e-5 ? 1 : 0;
  EXPECT_EQ(tiny, 2u);
}

TEST(ArbinRes, GittPulseAndStepTablesMatchOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = read_res(fixture_path("arbin_gitt_fullcell.res"));
  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  const ChannelData* cc = find_channel(r, "charge_capacity");
  const ChannelData* step = find_channel(r, "step");
  ASSERT_TRUE(v && i && cc && step);
  const auto t_s = [&](size_t k) { return gitt_test_time_s(r, *i, k); };

  const std::vector<Pulse> p = pulses(*i);
  ASSERT_EQ(p.size(), 183u);
  std::vector<double> dur, dur_pos, dur_neg, cur, cur_pos, cur_neg, rest, rest_same;
  size_t cut_pulses = 0;
  for (size_t k = 0; k < p.size(); ++k) {
    // One pulse was cut by the stop; Arbin ran the rest of the step after the resume.
    cut_pulses += p[k].first < kGittResumeRow && kGittResumeRow <= p[k].last ? 1 : 0;
    const double d = t_s(p[k].last) - t_s(p[k].first);
    dur.push_back(d);
    (p[k].sign > 0 ? dur_pos : dur_neg).push_back(d);
    std::vector<double> values(i->values.begin() + static_cast<std::ptrdiff_t>(p[k].first),
                               i->values.begin() + static_cast<std::ptrdiff_t>(p[k].last) + 1);
    const double m = median(values);
    cur.push_back(m);
    (p[k].sign > 0 ? cur_pos : cur_neg).push_back(m);
    if (k > 0) {
      const double rest_s = t_s(p[k].first) - t_s(p[k - 1].last);
      rest.push_back(rest_s);
      if (p[k].sign == p[k - 1].sign) rest_same.push_back(rest_s);
    }
  }
  EXPECT_EQ(cut_pulses, 1u);
  EXPECT_EQ(dur_pos.size(), 92u);
  EXPECT_EQ(dur_neg.size(), 91u);
  EXPECT_REL(median(dur), 180.006688, 1e-6);
  EXPECT_REL(*std::min_element(dur.begin(), dur.end()), 148.604204, 1e-6);
  EXPECT_REL(*std::max_element(dur.begin(), dur.end()), 180.052623, 1e-6);
  EXPECT_REL(median(rest), 900.018473, 1e-6);
  EXPECT_REL(median(cur), 0.00072439358, 1e-6);
  EXPECT_REL(median(cur_pos), 0.00072474492, 1e-6);
  EXPECT_REL(median(cur_neg), -0.00072404562, 1e-6);
  EXPECT_REL(median(dur_pos), 180.006664, 1e-6);
  EXPECT_REL(median(dur_neg), 180.006702, 1e-6);
  EXPECT_REL(median(rest_same), 900.018466, 1e-6);

  // First three pulses (the first three segments above, with the pulse median current).
  const double first_medians[] = {0.00072439358, 0.00072474492, 0.00072474492};
  const size_t first_rows[][2] = {{720, 762}, {866, 905}, {1008, 1046}};
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(p[k].sign, 1);
    EXPECT_EQ(p[k].first, first_rows[k][0]);
    EXPECT_EQ(p[k].last, first_rows[k][1]);
    EXPECT_REL(cur[k], first_medians[k], 1e-6);
  }
  EXPECT_REL(cc->values[p[2].last], 0.000108687946 * kAhToC, 1e-6);

  // By Step_Index: contiguous runs of one step, their count and median duration.
  std::map<double, std::vector<double>> runs;
  for (size_t a = 0; a < step->values.size();) {
    size_t b = a;
    while (b + 1 < step->values.size() && step->values[b + 1] == step->values[a]) ++b;
    runs[step->values[a]].push_back(gitt_test_time_s(r, *step, b) - gitt_test_time_s(r, *step, a));
    a = b + 1;
  }
  const std::map<double, std::pair<size_t, double>> expected = {
      {1, {1, 21570.0574}}, {2, {92, 180.006664}}, {3, {91, 899.986689}}, {5, {1, 0}},
      {6, {1, 898.286333}}, {7, {91, 180.006702}}, {8, {90, 899.986698}}, {10, {1, 0}},
      {11, {1, 900.002336}}};
  ASSERT_EQ(runs.size(), expected.size());
  for (const auto& [s, e] : expected) {
    SCOPED_TRACE("step " + std::to_string(s));
    EXPECT_EQ(runs[s].size(), e.first);
    EXPECT_NEAR(median(runs[s]), e.second, 1e-6 * e.second + 1e-9);
  }
}

TEST(ArbinRes, ZoneStartOverrideClockOffsetAndInversion) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string path = fixture_path("arbin_5cycles_cathode.res");
  const ImportResult base = read_res(path);

  ImportOptions berlin;
  berlin.time_zone = "Europe/Berlin";  // July: CEST, UTC+2
  const ImportResult b = read_res(path, berlin);
  EXPECT_EQ(b.start_ns, utc(2023, 7, 24, 16, 50, 0));
  EXPECT_TRUE(has_assumption(b, "assumed zone Europe/Berlin"));
  EXPECT_EQ(b.t_last_ns - b.start_ns, base.t_last_ns - base.start_ns);

  ImportOptions start;
  start.start_iso = "2024-01-01T00:00:00Z";
  start.clock_offset_s = 1.5;
  start.invert_current = true;
  const ImportResult s = read_res(path, start);
  EXPECT_EQ(s.start_ns, utc(2024, 1, 1, 0, 0, 0));
  EXPECT_TRUE(has_assumption(s, "from --start"));
  EXPECT_EQ(s.t_first_ns, utc(2024, 1, 1, 0, 0, 0) + (base.t_first_ns - base.start_ns) - 1'500'000'000);
  const ChannelData* i0 = find_channel(base, "current");
  const ChannelData* i1 = find_channel(s, "current");
  ASSERT_TRUE(i0 && i1);
  EXPECT_EQ(i1->values[600], -i0->values[600]);
  EXPECT_TRUE(has_assumption(s, "--invert-current"));

  // Capacity and energy in coulombs and joules.
  for (const char* name : {"charge_capacity", "discharge_capacity"}) EXPECT_EQ(find_channel(base, name)->unit, "C");
  for (const char* name : {"charge_energy", "discharge_energy"}) EXPECT_EQ(find_channel(base, name)->unit, "J");

  ImportOptions ms;
  ms.kind = Kind::Ms;
  TimeContext times(ms, path);
  EXPECT_THROW((void)read_binary_file(read_arbin_res, path, ms, times), ImportError);
}

// ---- Truncated and damaged copies: an ImportError, never a crash, a hang or partial data. ----

TEST(ArbinRes, TruncatedCopiesAreErrors) {
  OPSYNC_REQUIRE_FIXTURES();
  for (const char* name : {"arbin_5cycles_cathode.res", "arbin_gitt_fullcell.res"}) {
    const std::string bytes = testing::read_all(fixture_path(name));
    const size_t pages = bytes.size() / 4096;
    const size_t cuts[] = {0,
                           10,
                           100,
                           4096,
                           2 * 4096,
                           3 * 4096,
                           10 * 4096,
                           (pages / 2) * 4096,
                           (pages / 2) * 4096 + 1234,
                           (pages - 1) * 4096,
                           bytes.size() - 1};
    for (size_t cut : cuts) {
      SCOPED_TRACE(std::string(name) + " cut at " + std::to_string(cut));
      const std::string what = res_error(testing::write_temp(name, bytes.substr(0, cut)));
      if (cut < 0x15) {
        EXPECT_NE(what.find("not an Arbin .res file"), std::string::npos) << what;
      } else {
        EXPECT_NE(what.find("truncated"), std::string::npos) << what;
      }
    }
  }
}

TEST(ArbinRes, EveryPageBoundaryCutOfTheSmallFixtureIsAnError) {
  OPSYNC_REQUIRE_FIXTURES();
  // A cut on a page boundary leaves whole pages, so only the pages the tables use can tell.
  const std::string bytes = testing::read_all(fixture_path("arbin_5cycles_cathode.res"));
  for (size_t cut = 4096; cut < bytes.size(); cut += 4096) {
    const std::string what = res_error(testing::write_temp("cut.res", bytes.substr(0, cut)));
    EXPECT_NE(what.find("truncated"), std::string::npos) << "cut at " << cut << ": " << what;
  }
}

std::string with_page(std::string bytes, size_t page, char fill) {
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(page * 4096),
            bytes.begin() + static_cast<std::ptrdiff_t>((page + 1) * 4096), fill);
  return bytes;
}

// Pages whose first byte says "data page" (0x01), in file order.
std::vector<size_t> data_pages(const std::string& bytes) {
  std::vector<size_t> out;
  for (size_t p = 1; p < bytes.size() / 4096; ++p)
    if (bytes[p * 4096] == 0x01) out.push_back(p);
  return out;
}

TEST(ArbinRes, DamagedCopiesAreErrors) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string bytes = testing::read_all(fixture_path("arbin_5cycles_cathode.res"));
  std::string libmdb_said;
  const auto expect_error = [&](const std::string& label, const std::string& damaged, const std::string& part) {
    CapturedStderr err;
    const std::string what = res_error(testing::write_temp("damaged.res", damaged));
    libmdb_said = err.take();
    EXPECT_NE(what.find(part), std::string::npos) << label << ": " << what;
  };

  std::string s = bytes;
  s.replace(4, 15, "Standard XYZ DB");
  expect_error("signature", s, "not an Arbin .res file");
  s = bytes;
  s[0x14] = 0x07;
  expect_error("Jet version", s, "not an Arbin .res file");
  expect_error("catalog definition zeroed", with_page(bytes, 2, '\0'), "damaged");
  expect_error("catalog definition garbage", with_page(bytes, 2, '\x5a'), "damaged");

  // The last data page belongs to Channel_Normal_Table (the truncation test shows it): without
  // it rows are missing, which the declared row count reveals.
  const std::vector<size_t> data = data_pages(bytes);
  ASSERT_FALSE(data.empty());
  expect_error("data page zeroed", with_page(bytes, data.back(), '\0'), "declares 2150 rows but only");
  // libmdb itself only warns and reads on: without the row count the import would be short.
  EXPECT_NE(libmdb_said.find("doesn't match"), std::string::npos) << libmdb_said;
  expect_error("data page garbage", with_page(bytes, data.back(), '\x33'), "declares 2150 rows but only");

  // Every table definition page but the catalog's zeroed.
  s = bytes;
  for (size_t p = 3; p < bytes.size() / 4096; ++p)
    if (bytes[p * 4096] == 0x02) s = with_page(s, p, '\0');
  expect_error("table definitions zeroed", s, "damaged");

  // An Access database without the Arbin tables: rename Channel_Normal_Table everywhere
  // (names are stored as UTF-16LE).
  const std::string name = "Channel_Normal_Table";
  std::string utf16;
  for (char ch : name) utf16 += std::string{ch, '\0'};
  s = bytes;
  size_t renamed = 0;
  for (size_t at = s.find(utf16); at != std::string::npos; at = s.find(utf16, at + 1), ++renamed) s[at] = 'X';
  ASSERT_GT(renamed, 0u);
  expect_error("no Arbin table", s, "not an Arbin .res file: it has no table 'Channel_Normal_Table'");
}

TEST(ArbinRes, RandomDamageNeverCrashes) {
  OPSYNC_REQUIRE_FIXTURES();
  // Seeded damage of the kinds found in the field (bit flips, a page overwritten or zeroed, two
  // pages swapped). Flipped data values cannot be detected (Jet pages have no checksum), so the
  // import may succeed; what may never happen is a crash or anything but ImportError escaping.
  const std::string bytes = testing::read_all(fixture_path("arbin_5cycles_cathode.res"));
  const size_t pages = bytes.size() / 4096;
  std::mt19937 rng(20240611);
  size_t errors = 0, imported = 0;
  for (int k = 0; k < 120; ++k) {
    std::string s = bytes;
    const auto page = [&] { return 1 + rng() % (pages - 1); };
    switch (k % 4) {
      case 0:
        for (int n = 0; n < 40; ++n) s[rng() % s.size()] = static_cast<char>(rng());
        break;
      case 1: {
        const size_t p = page();
        for (size_t b = 0; b < 4096; ++b) s[p * 4096 + b] = static_cast<char>(rng());
        break;
      }
      case 2:
        s = with_page(s, page(), '\0');
        break;
      default: {
        const size_t p = page(), q = page();
        std::swap_ranges(s.begin() + static_cast<std::ptrdiff_t>(p * 4096),
                         s.begin() + static_cast<std::ptrdiff_t>((p + 1) * 4096),
                         s.begin() + static_cast<std::ptrdiff_t>(q * 4096));
      }
    }
    const std::string path = testing::write_temp("random.res", s);
    CapturedStderr quiet;
    try {
      const ImportResult r = read_res(path);
      EXPECT_LE(r.rows, 2150u);
      ++imported;
    } catch (const ImportError&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 0u);
  EXPECT_GT(imported, 0u);
}

// ---- The row logic on synthetic tables. ----

ArbinRow row(int32_t test_id, int32_t data_point, double test_time_s, double date_time_ole, double current_a,
             double step = 1) {
  ArbinRow r;
  r.test_id = test_id;
  r.data_point = data_point;
  r.test_time_ns = seconds_to_ns(test_time_s);
  r.date_time_ole = date_time_ole;
  r.current_a = current_a;
  r.voltage_v = 3.7;
  r.step = step;
  r.cycle = 1;
  return r;
}

ArbinTables synthetic(std::vector<ArbinTest> tests, std::vector<ArbinRow> rows) {
  ArbinTables t;
  t.tests = std::move(tests);
  t.rows = std::move(rows);
  t.columns.date_time = true;
  t.columns.step = true;
  t.columns.cycle = true;
  return t;
}

ImportResult convert(ArbinTables tables, const ImportOptions& options = {}) {
  TimeContext times(options, "synthetic.res");
  ImportResult r = arbin_tables_to_result(std::move(tables), "synthetic.res", options, times);
  settle_damage(r, options, "synthetic.res");
  return r;
}

// OLE days of a UTC civil time (the zone is UTC in these tests).
double ole(int y, int mo, int d, int h, int mi, int s) {
  return 25569.0 + static_cast<double>(utc(y, mo, d, h, mi, s)) / 1e9 / 86400.0;
}

// `days` plus `s` seconds: the DateTime of a row `s` after a start.
double plus(double days, double s) { return days + s / 86400.0; }

TEST(ArbinResRows, SortsByDataPointAndRejectsDuplicates) {
  const double day = ole(2024, 3, 1, 12, 0, 0);
  ArbinTest t{1, "t", 5, day, ""};
  const ImportResult r = convert(synthetic(
      {t}, {row(1, 3, 20, plus(day, 20), 0.3), row(1, 1, 0, day, 0.1), row(1, 2, 10, plus(day, 10), 0.2)}));
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->values, (std::vector<double>{0.1, 0.2, 0.3}));
  EXPECT_EQ(i->t_ns[2] - i->t_ns[0], 20 * kNsPerS);
  EXPECT_EQ(r.start_ns, utc(2024, 3, 1, 12, 0, 0));
  EXPECT_TRUE(has_assumption(r, "stored out of that order at 1 places"));

  try {
    (void)convert(synthetic({t}, {row(1, 1, 0, day, 0.1), row(1, 1, 10, day, 0.2)}));
    ADD_FAILURE() << "duplicate Data_Point accepted";
  } catch (const ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("Data_Point 1 of Test_ID 1 appears twice (1 row(s))"), std::string::npos)
        << e.what();
  }
  // Salvaged: the first of the two is kept, the other recorded as skipped.
  ImportOptions salvage;
  salvage.salvage = true;
  const ImportResult kept = convert(synthetic({t}, {row(1, 1, 0, day, 0.1), row(1, 1, 10, day, 0.2)}), salvage);
  EXPECT_EQ(kept.rows, 1u);
  EXPECT_EQ(find_channel(kept, "current")->values, (std::vector<double>{0.1}));
  EXPECT_EQ(testing::count_events(kept, "import_skipped"), 1u);
  EXPECT_THROW((void)convert(synthetic({t}, {})), ImportError);
}

TEST(ArbinResRows, StopAndResumeArePlacedByTheWallClock) {
  const double start = ole(2024, 3, 1, 12, 0, 0);
  ArbinTest t{1, "t", 5, start, ""};
  // 100 s of test, a one-hour stop, then 100 s more; Test_Time runs on across the stop.
  const ImportResult r = convert(synthetic(
      {t}, {row(1, 1, 0, start, 0.1), row(1, 2, 100, ole(2024, 3, 1, 12, 1, 40), 0.1),
            row(1, 3, 110, ole(2024, 3, 1, 13, 1, 50), 0.1), row(1, 4, 210, ole(2024, 3, 1, 13, 3, 30), 0.1)}));
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->t_ns[1], utc(2024, 3, 1, 12, 1, 40));
  EXPECT_EQ(i->t_ns[2], utc(2024, 3, 1, 13, 1, 50));
  EXPECT_EQ(i->t_ns[3], utc(2024, 3, 1, 13, 3, 30));
  EXPECT_TRUE(has_assumption(r, "stopped and resumed at Test_Time 110 s: DateTime jumps 3600 s ahead"));
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].kind, "gap");
  EXPECT_EQ(r.events[0].t_ns, i->t_ns[1]);
  EXPECT_EQ(r.events[0].detail, "3610.000 s without data (test stopped and resumed; Test_Time does not count the stop)");

  // Whole-second DateTime jitter and slow drift are not stops.
  const ImportResult jitter = convert(synthetic(
      {t}, {row(1, 1, 0.4, start, 0.1), row(1, 2, 10.9, ole(2024, 3, 1, 12, 0, 10), 0.1),
            row(1, 3, 20.2, ole(2024, 3, 1, 12, 0, 21), 0.1)}));
  EXPECT_FALSE(has_assumption(jitter, "stopped"));
  EXPECT_FALSE(has_assumption(jitter, "drift"));
  EXPECT_EQ(find_channel(jitter, "current")->t_ns[2], utc(2024, 3, 1, 12, 0, 20) + 200'000'000);
}

TEST(ArbinResRows, StartFallsBackToTheFirstRowsDateTime) {
  const double first_row = ole(2024, 3, 1, 12, 0, 30);
  // Start_DateTime unset (0): the first row's DateTime minus its Test_Time.
  ArbinTest t{1, "t", 5, 0.0, ""};
  ImportResult r = convert(synthetic({t}, {row(1, 1, 30, first_row, 0.1), row(1, 2, 40, plus(first_row, 10), 0.1)}));
  EXPECT_EQ(r.start_ns, utc(2024, 3, 1, 12, 0, 0));
  EXPECT_TRUE(has_assumption(r, "Start_DateTime 0 is not a date"));
  EXPECT_TRUE(has_assumption(r, "DateTime of Test_ID 1 Data_Point 1 (2024-03-01 12:00:30 cycler-PC local time) "
                                "minus its Test_Time 30 s"));
  // No Global_Table row at all.
  r = convert(synthetic({}, {row(7, 1, 30, first_row, 0.1)}));
  EXPECT_EQ(r.start_ns, utc(2024, 3, 1, 12, 0, 0));
  EXPECT_TRUE(has_assumption(r, "Test_ID 7 (not in Global_Table)"));
  // Nothing absolute: relative times from 1970, said so.
  ArbinTables none = synthetic({}, {row(1, 1, 30, ArbinRow::kNone, 0.1)});
  none.columns.date_time = false;
  r = convert(none);
  EXPECT_FALSE(r.has_absolute_start);
  EXPECT_EQ(r.t_first_ns, 30 * kNsPerS);
  EXPECT_TRUE(has_assumption(r, "no absolute time in the file"));
}

TEST(ArbinResRows, ConsecutiveTestsOfOneChannelAreImportedTogether) {
  const double s1 = ole(2024, 3, 1, 12, 0, 0), s2 = ole(2024, 3, 2, 12, 0, 0);
  const ArbinTest t1{1, "first", 5, s1, ""}, t2{2, "second", 5, s2, ""};
  const ImportResult r = convert(synthetic(
      {t1, t2}, {row(2, 1, 0, s2, -0.2, 7), row(1, 1, 0, s1, 0.1, 1), row(1, 2, 60, plus(s1, 60), 0.1, 2),
                 row(2, 2, 60, plus(s2, 60), -0.2, 7)}));
  EXPECT_EQ(r.rows, 4u);
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->values, (std::vector<double>{0.1, 0.1, -0.2, -0.2}));
  EXPECT_EQ(i->t_ns[2], utc(2024, 3, 2, 12, 0, 0));
  EXPECT_EQ(r.start_ns, utc(2024, 3, 1, 12, 0, 0));
  EXPECT_TRUE(has_assumption(r, "the file holds 2 tests (Test_ID 1 'first', Channel_Index 5, 2 rows; Test_ID 2 "
                                "'second', Channel_Index 5, 2 rows): consecutive tests of one channel, all "
                                "imported"));
  EXPECT_EQ(testing::count_events(r, "step_change"), 2u);  // 1 -> 2, 2 -> 7
  ASSERT_EQ(testing::count_events(r, "gap"), 1u);
  const auto gap = std::find_if(r.events.begin(), r.events.end(), [](const EventData& e) { return e.kind == "gap"; });
  EXPECT_EQ(gap->t_ns, i->t_ns[1]);
  EXPECT_EQ(gap->detail, "86340.000 s without data (between Test_ID 1 and Test_ID 2)");
}

TEST(ArbinResRows, OtherwiseOnlyTheFirstTestIsImported) {
  const double s1 = ole(2024, 3, 1, 12, 0, 0), s2 = ole(2024, 3, 2, 12, 0, 0);
  // Different channels.
  ImportResult r = convert(synthetic({ArbinTest{1, "a", 5, s1, ""}, ArbinTest{2, "b", 6, s2, ""}},
                                     {row(1, 1, 0, s1, 0.1), row(2, 1, 0, s2, 0.2)}));
  EXPECT_EQ(r.rows, 1u);
  EXPECT_TRUE(has_assumption(r, "only Test_ID 1 imported, because they ran on different channels "
                                "(Channel_Index 5 and 6)"));
  // Overlapping in time.
  r = convert(synthetic({ArbinTest{1, "a", 5, s1, ""}, ArbinTest{2, "b", 5, s1, ""}},
                        {row(1, 1, 0, s1, 0.1), row(1, 2, 100, plus(s1, 100), 0.1), row(2, 1, 50, plus(s1, 50), 0.2)}));
  EXPECT_EQ(r.rows, 2u);
  EXPECT_TRUE(has_assumption(r, "because Test_ID 2 starts before Test_ID 1 ends"));
  // A Global_Table test without rows is mentioned.
  r = convert(synthetic({ArbinTest{1, "a", 5, s1, ""}, ArbinTest{3, "empty", 5, s2, ""}}, {row(1, 1, 0, s1, 0.1)}));
  EXPECT_TRUE(has_assumption(r, "Global_Table lists Test_ID 3 'empty' with no rows"));
}

// Data_Point numbers the rows: missing numbers are lost rows, refused unless salvaging.
TEST(ArbinResRows, MissingDataPointsAreDamage) {
  const double s = ole(2024, 3, 1, 12, 0, 0);
  const auto tables = [&] {
    return synthetic({ArbinTest{1, "a", 5, s, ""}}, {row(1, 1, 0, s, 0.1), row(1, 5, 10, plus(s, 10), 0.1)});
  };
  try {
    (void)convert(tables());
    ADD_FAILURE() << "missing Data_Points accepted";
  } catch (const ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("Data_Point jumps from 1 to 5: 3 row(s) missing"), std::string::npos)
        << e.what();
  }
  ImportOptions salvage;
  salvage.salvage = true;
  const ImportResult r = convert(tables(), salvage);
  EXPECT_EQ(r.rows, 2u);
  ASSERT_EQ(testing::count_events(r, "import_skipped"), 1u);
  const auto ev = std::find_if(r.events.begin(), r.events.end(),
                               [](const EventData& e) { return e.kind == "import_skipped"; });
  EXPECT_EQ(ev->t_ns, find_channel(r, "current")->t_ns[1]);  // placed at the row after the hole
}

// Rows whose Test_ID Global_Table does not list (a damaged Test_ID) are not taken for a test.
TEST(ArbinResRows, RowsOfAnUnlistedTestAreDamage) {
  const double s = ole(2024, 3, 1, 12, 0, 0);
  std::vector<ArbinRow> rows;
  for (int k = 1; k <= 20; ++k) rows.push_back(row(1, k, 10.0 * k, plus(s, 10.0 * k), 0.1));
  rows[7].test_id = 0;  // one byte changed
  try {
    (void)convert(synthetic({ArbinTest{1, "a", 5, s, ""}}, rows));
    ADD_FAILURE() << "a row of an unlisted Test_ID accepted";
  } catch (const ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("1 row(s) carry Test_ID 0, which Global_Table does not list"),
              std::string::npos)
        << e.what();
  }
}

TEST(ArbinResRows, ATestTimeOfCenturiesIsDamageNotAnOverflow) {
  // The fuzzer's find: a mutated Test_Time of 253 years made start + Test_Time overflow int64 ns
  // (UBSan: signed integer overflow in the placement). Such a row is damage: refused strictly,
  // dropped and counted with --salvage; the placed times of the others are untouched.
  const double s = ole(2024, 3, 1, 12, 0, 0);
  std::vector<ArbinRow> rows;
  for (int k = 1; k <= 20; ++k) rows.push_back(row(1, k, 10.0 * k, plus(s, 10.0 * k), 0.1));
  rows[9].test_time_ns = 7'995'317'487'856'900'000;
  try {
    (void)convert(synthetic({ArbinTest{1, "a", 5, s, ""}}, rows));
    ADD_FAILURE() << "a Test_Time of 253 years accepted";
  } catch (const ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("1 row(s) have a Test_Time beyond 30 years"), std::string::npos) << e.what();
  }
  ImportOptions salvage;
  salvage.salvage = true;
  const ImportResult r = convert(synthetic({ArbinTest{1, "a", 5, s, ""}}, rows), salvage);
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->t_ns.size(), 19u);
  EXPECT_EQ(i->t_ns.back() - i->t_ns.front(), 190 * int64_t{1'000'000'000});
  // The Test_Time entry, and the hole it leaves in the Data_Points (9 to 11) said as such.
  ASSERT_EQ(r.damage.size(), 2u);
  EXPECT_NE(r.damage[0].what.find("beyond 30 years"), std::string::npos) << r.damage[0].what;
  EXPECT_EQ(r.damage[0].rows, 1u);
  EXPECT_NE(r.damage[1].what.find("Data_Point jumps from 9 to 11"), std::string::npos) << r.damage[1].what;
}

}  // namespace
}  // namespace opsync::import
