// Neware .nda (v29, v130) and .ndax (ndc v5, v17) readers against ORACLES.md (every figure
// that applies: rows, time span, V/I ranges, current segments with their charge and stored
// capacities, step and cycle counts, start timestamp, aux temperature), and truncated or
// corrupted copies, which must give an ImportError and never crash.
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zip.h>

#include "core/time_format.h"
#include "import/import_types.h"
#include "import/neware/neware_nda.h"
#include "import/neware/neware_ndax.h"
#include "import/common/time_context.h"
#include "import_test_util.h"
#include "support/fixtures.h"

namespace opsync::import {
namespace {

using testing::count_sign;
using testing::current_segments;
using testing::find_channel;

std::string fixture_path(const std::string& name) { return opsync::test::fixture("cycler/" + name); }

ImportResult read_nda_bytes(const std::string& bytes, const ImportOptions& options = {},
                            const std::string& path = "test.nda") {
  TimeContext times(options, path);
  ImportResult r = read_neware_nda(FileInput{path, bytes}, options, times);
  settle_damage(r, options, path);  // as import_file(): damage is refused unless salvaging
  return r;
}

ImportResult read_ndax_path(const std::string& path, const ImportOptions& options = {}) {
  TimeContext times(options, path);
  ImportResult r = read_binary_file(read_neware_ndax, path, options, times);
  settle_damage(r, options, path);
  return r;
}

std::optional<ImportError> nda_error(const std::string& bytes) {
  try {
    (void)read_nda_bytes(bytes);
  } catch (const ImportError& e) {
    return e;
  }
  return std::nullopt;
}

std::optional<ImportError> ndax_error(const std::string& path) {
  try {
    (void)read_ndax_path(path);
  } catch (const ImportError& e) {
    return e;
  }
  return std::nullopt;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

int64_t iso_ns(const std::string& iso) {
  const auto p = parse_iso_datetime(iso);
  EXPECT_TRUE(p) << iso;
  return p ? civil_to_ns(p->civil) - int64_t{p->zone_offset_s} * kNsPerS : 0;
}

// ---- zip helpers (libzip): the members of an archive, and an archive made from members ------

using Members = std::vector<std::pair<std::string, std::string>>;

Members unzip_members(const std::string& path) {
  Members out;
  int code = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &code);
  if (!z) {
    ADD_FAILURE() << "cannot open " << path;
    return out;
  }
  for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st);
    std::string bytes(st.size, '\0');
    zip_file_t* f = zip_fopen_index(z, static_cast<zip_uint64_t>(i), 0);
    const zip_int64_t got = zip_fread(f, bytes.data(), bytes.size());
    EXPECT_EQ(got, static_cast<zip_int64_t>(bytes.size()));
    zip_fclose(f);
    out.emplace_back(st.name, std::move(bytes));
  }
  zip_discard(z);
  return out;
}

std::string write_zip(const std::string& name, const Members& members) {
  const std::string path = testing::write_temp(name, "");
  int code = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_TRUNCATE, &code);
  EXPECT_TRUE(z) << "cannot create " << path;
  for (const auto& [member, bytes] : members) {
    zip_source_t* src = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    EXPECT_GE(zip_file_add(z, member.c_str(), src, ZIP_FL_OVERWRITE), 0);
  }
  EXPECT_EQ(zip_close(z), 0);
  return path;
}

std::string* member(Members& members, const std::string& name) {
  for (auto& [n, bytes] : members)
    if (n == name) return &bytes;
  return nullptr;
}

// ---- ORACLES.md figures ----------------------------------------------------------------------

struct SegmentOracle {
  int sign;
  size_t first, last;          // 0-based rows
  double t_first_s, t_last_s;  // relative to the start of the file's time axis
  double v_first, v_last, i_first_a, i_last_a;
  double charge_ah;                          // trapezoid over the segment's rows
  double charge_cap_mah, discharge_cap_mah;  // as stored at the segment's last row
};

struct Oracle {
  std::string file;
  std::string format;
  size_t rows;
  double t_first_s, t_last_s;
  double v_min, v_max, i_min_a, i_max_a;
  size_t segments, charge_segments, discharge_segments;
  std::vector<SegmentOracle> first_segments;
  int64_t step_max;              // NewareNDA step counter
  int64_t cycle_min, cycle_max;  // file cycle (software_cycle_number=False)
  std::string start_utc;         // first row's wall clock (naive ones read as UTC, the default --tz)
  bool start_naive;
  std::optional<std::pair<double, double>> temperature;  // aux T1 min, max (every row)
};

// Segments: sign, rows first-last, t first/last (s), V first/last, I first/last (A), charge (Ah),
// Charge_Capacity and Discharge_Capacity (mAh) at the last row.
// clang-format off
const Oracle kV29{
    .file = "neware_v29.nda", .format = "neware-nda", .rows = 439,
    .t_first_s = 0, .t_last_s = 721.599998,
    .v_min = -0.101000004, .v_max = -0.0848999992, .i_min_a = -5.05000018e-05, .i_max_a = 5.05000018e-05,
    .segments = 3, .charge_segments = 1, .discharge_segments = 2,
    .first_segments = {
        {-1, 2, 50, 0.2, 5.0, -0.0935999975, -0.0961000025, -2.94000003e-05, -5.02000004e-05,
         -6.4213889e-08, 0, 6.5305554e-05},
        {+1, 103, 152, 31.0, 80.0, -0.0864000022, -0.0848999992, 4.67999987e-05, 5.05000018e-05,
         6.85819466e-07, 0.000696527772, 0},
        {-1, 204, 254, 180.0, 680.0, -0.0910999998, -0.101000004, -2.40000011e-06, -5.05000018e-05,
         -6.94708358e-06, 0, 0.00700919423}},
    .step_max = 6, .cycle_min = 1, .cycle_max = 1,
    .start_utc = "2020-03-25T11:16:50Z", .start_naive = true, .temperature = std::nullopt};

const Oracle kV130{
    .file = "neware_v130.nda", .format = "neware-nda", .rows = 6670,
    .t_first_s = 0.00999999978, .t_last_s = 72373.2578,
    .v_min = 1.72059298, .v_max = 4.20005894, .i_min_a = -3.00095801, .i_max_a = 1.20077417,
    .segments = 4, .charge_segments = 2, .discharge_segments = 2,
    .first_segments = {
        {-1, 183, 711, 10800.0098, 15347.4902, 3.82566428, 2.49996209, -2.98952637, -3.00009814,
         -3.79015272, 0, 3790.16797},
        {+1, 1115, 2935, 18947.5, 36770.3203, 2.94418788, 4.19979, 1.19404456, 0.299978973,
         5.81118526, 155.937119, 0},
        {-1, 3298, 4074, 40370.3281, 47337.3711, 4.1096344, 2.49991727, -2.99165063, -3.00014868,
         -5.8066381, 0, 5806.646}},
    .step_max = 11, .cycle_min = 1, .cycle_max = 3,
    .start_utc = "2024-05-27T08:02:53.97Z", .start_naive = false,
    .temperature = std::make_pair(23.0314026, 30.5423679)};

const Oracle kV5{
    .file = "neware_ccv_v5.ndax", .format = "neware-ndax", .rows = 1464,
    .t_first_s = 0, .t_last_s = 43800.0,
    .v_min = 1.49950004, .v_max = 4.39979982, .i_min_a = -0.000119900003, .i_max_a = 0.000119999997,
    .segments = 2, .charge_segments = 1, .discharge_segments = 1,
    .first_segments = {
        {+1, 11, 731, 300.0, 21900.0, 3.47839999, 4.3987999, 0.000119900003, 4.08999994e-05,
         0.000592770829, 0.593039155, 0},
        {-1, 732, 1452, 21900.0, 43500.0, 4.38950014, 1.49950004, -0.000119800001, -2.27000006e-05,
         -0.000626626265, 0, 0.62545079}},
    .step_max = 4, .cycle_min = 1, .cycle_max = 1,
    .start_utc = "2024-02-01T20:24:23Z", .start_naive = true, .temperature = std::nullopt};

const Oracle kV17{
    .file = "neware_m50t_v17.ndax", .format = "neware-ndax", .rows = 77745,
    .t_first_s = 0, .t_last_s = 77704.1997,
    .v_min = 2.49898338, .v_max = 4.2003274, .i_min_a = -5.00031592, .i_max_a = 5.00034131,
    .segments = 15, .charge_segments = 7, .discharge_segments = 8,
    .first_segments = {
        {-1, 301, 9642, 300.0, 9640.09961, 3.57797289, 2.49986196, -0.499731873, -0.500011017,
         -1.29727398, 0, 1297.27405},
        {+1, 9944, 17683, 9940.09961, 17678.6997, 2.68217182, 4.2002697, 2.49909155, 0.249996368,
         4.76069464, 4760.66211, 0},
        {-1, 17985, 24779, 17978.6997, 24771.9995, 4.14137173, 2.49947691, -2.49900244, -2.50007617,
         -4.71754529, 0, 4717.54541}},
    .step_max = 32, .cycle_min = 1, .cycle_max = 7,
    .start_utc = "2025-09-25T12:18:47.675Z", .start_naive = false,
    .temperature = std::make_pair(24.1209946, 28.0239964)};
// clang-format on

double rel_s(const ImportResult& r, int64_t t_ns) { return static_cast<double>(t_ns - r.start_ns) / 1e9; }

// Time: float32 in the reference reader, so 1e-6 relative or 1 ms, whichever is larger.
void expect_time(double actual, double expected, const std::string& what) {
  EXPECT_NEAR(actual, expected, std::max(1e-3, std::fabs(expected) * 1e-6)) << what;
}

// The stored value of a (possibly sparse) channel at row `row` of the current channel.
std::optional<double> value_at_row(const ChannelData& ch, const ChannelData& current, size_t row) {
  if (ch.t_ns.size() == current.t_ns.size()) return ch.values[row];
  const int64_t t = current.t_ns[row];
  for (size_t i = 0; i < ch.t_ns.size(); ++i)
    if (ch.t_ns[i] == t) return ch.values[i];
  return std::nullopt;
}

void check_oracle(const ImportResult& r, const Oracle& o) {
  SCOPED_TRACE(o.file);
  EXPECT_EQ(r.format, o.format);
  EXPECT_EQ(r.rows, o.rows);
  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(v && i);
  EXPECT_EQ(v->unit, "V");
  EXPECT_EQ(i->unit, "A");
  ASSERT_EQ(v->values.size(), o.rows);
  ASSERT_EQ(i->values.size(), o.rows);

  // Time axis and start.
  EXPECT_TRUE(r.has_absolute_start);
  expect_time(rel_s(r, i->t_ns.front()), o.t_first_s, "time of first row");
  expect_time(rel_s(r, i->t_ns.back()), o.t_last_s, "time of last row");
  expect_time(static_cast<double>(r.t_last_ns - r.t_first_ns) / 1e9, o.t_last_s - o.t_first_s, "duration");
  EXPECT_NEAR(static_cast<double>(i->t_ns.front() - iso_ns(o.start_utc)) / 1e9, 0.0, 1e-3)
      << "first row at " << format_iso_utc(i->t_ns.front(), 3) << ", expected " << o.start_utc;
  EXPECT_EQ(testing::has_assumption(r, "naive local time"), o.start_naive);

  EXPECT_REL(testing::min_value(*v), o.v_min, 1e-6);
  EXPECT_REL(testing::max_value(*v), o.v_max, 1e-6);
  EXPECT_REL(testing::min_value(*i), o.i_min_a, 1e-6);
  EXPECT_REL(testing::max_value(*i), o.i_max_a, 1e-6);

  // Current segments.
  const auto segs = current_segments(*i);
  EXPECT_EQ(segs.size(), o.segments);
  EXPECT_EQ(count_sign(segs, +1), o.charge_segments);
  EXPECT_EQ(count_sign(segs, -1), o.discharge_segments);
  const ChannelData* qc = find_channel(r, "charge_capacity");
  const ChannelData* qd = find_channel(r, "discharge_capacity");
  ASSERT_TRUE(qc && qd);
  EXPECT_EQ(qc->unit, "C");
  for (size_t k = 0; k < o.first_segments.size() && k < segs.size(); ++k) {
    SCOPED_TRACE("segment " + std::to_string(k + 1));
    const SegmentOracle& e = o.first_segments[k];
    const testing::Segment& s = segs[k];
    EXPECT_EQ(s.sign, e.sign);
    EXPECT_EQ(s.first, e.first);
    EXPECT_EQ(s.last, e.last);
    expect_time(rel_s(r, i->t_ns[s.first]), e.t_first_s, "t_first");
    expect_time(rel_s(r, i->t_ns[s.last]), e.t_last_s, "t_last");
    EXPECT_REL(v->values[s.first], e.v_first, 1e-6);
    EXPECT_REL(v->values[s.last], e.v_last, 1e-6);
    EXPECT_REL(i->values[s.first], e.i_first_a, 1e-6);
    EXPECT_REL(i->values[s.last], e.i_last_a, 1e-6);
    EXPECT_REL(s.charge_ah, e.charge_ah, 1e-5);
    const auto chg = value_at_row(*qc, *i, s.last);
    const auto dchg = value_at_row(*qd, *i, s.last);
    ASSERT_TRUE(chg && dchg) << "no stored capacity at the segment's last row";
    EXPECT_NEAR(*chg / 3.6, e.charge_cap_mah, std::max(1e-12, e.charge_cap_mah * 1e-6));
    EXPECT_NEAR(*dchg / 3.6, e.discharge_cap_mah, std::max(1e-12, e.discharge_cap_mah * 1e-6));
  }

  // Step counter and the file's cycle number.
  const ChannelData* step = find_channel(r, "step");
  const ChannelData* cycle = find_channel(r, "cycle");
  ASSERT_TRUE(step && cycle);
  EXPECT_EQ(step->values.front(), 1.0);
  EXPECT_EQ(testing::max_value(*step), static_cast<double>(o.step_max));
  EXPECT_EQ(testing::count_events(r, "step_change"), static_cast<size_t>(o.step_max - 1));
  EXPECT_EQ(testing::min_value(*cycle), static_cast<double>(o.cycle_min));
  EXPECT_EQ(testing::max_value(*cycle), static_cast<double>(o.cycle_max));
  EXPECT_EQ(testing::count_events(r, "cycle_change"), static_cast<size_t>(o.cycle_max - o.cycle_min));

  const ChannelData* temp = find_channel(r, "temperature_aux1");
  if (o.temperature) {
    ASSERT_TRUE(temp);
    EXPECT_EQ(temp->unit, "degC");
    EXPECT_EQ(temp->values.size(), o.rows);
    EXPECT_REL(testing::min_value(*temp), o.temperature->first, 1e-6);
    EXPECT_REL(testing::max_value(*temp), o.temperature->second, 1e-6);
  } else {
    EXPECT_FALSE(temp);
  }
}

// ---- the fixtures ----------------------------------------------------------------------------

TEST(NewareNda, V29MatchesOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string bytes = testing::read_all(fixture_path(kV29.file));
  EXPECT_TRUE(looks_like_neware_nda(bytes));
  const ImportResult r = read_nda_bytes(bytes);
  check_oracle(r, kV29);
  EXPECT_TRUE(testing::has_assumption(r, "version 29"));
  EXPECT_TRUE(testing::has_assumption(r, "BTSServer(R3)-7.6.0.301"));
  EXPECT_TRUE(testing::has_assumption(r, "step time"));
  // Row 2 (doc section 2): Index 3, -0.0936 V, -0.0294 mA, discharge capacity 29e-4/3600 mAh.
  const ChannelData* q = find_channel(r, "discharge_capacity");
  ASSERT_TRUE(q);
  EXPECT_REL(q->values[2], 29e-4 / 3600 * 3.6, 1e-9);
  EXPECT_EQ(r.start_ns, iso_ns("2020-03-25T11:16:50Z"));
}

TEST(NewareNda, V130MatchesOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string bytes = testing::read_all(fixture_path(kV130.file));
  EXPECT_TRUE(looks_like_neware_nda(bytes));
  const ImportResult r = read_nda_bytes(bytes);
  check_oracle(r, kV130);
  EXPECT_TRUE(testing::has_assumption(r, "version 130"));
  EXPECT_TRUE(testing::has_assumption(r, "9.1.5.7.20240403.R5"));
  EXPECT_TRUE(testing::has_assumption(r, "never decreases"));
  // Wall clock runs 17238.58 s ahead of the test time over the file (pauses): said, not used.
  EXPECT_TRUE(testing::has_assumption(r, "wall clock advanced 89611.8 s"));
  // Start of the time axis = first row's Unix time minus its test time 0.01 s.
  EXPECT_EQ(r.start_ns, iso_ns("2024-05-27T08:02:53.96Z"));
}

TEST(NewareNdax, V5MatchesOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string path = fixture_path(kV5.file);
  EXPECT_TRUE(looks_like_neware_ndax(testing::read_all(path).substr(0, 512)));
  const ImportResult r = read_ndax_path(path);
  check_oracle(r, kV5);
  EXPECT_TRUE(testing::has_assumption(r, "data.ndc version 5"));
  EXPECT_TRUE(testing::has_assumption(r, "StartTime '2024-02-01 20:24:23'"));
}

TEST(NewareNdax, V17MatchesOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string path = fixture_path(kV17.file);
  EXPECT_TRUE(looks_like_neware_ndax(testing::read_all(path).substr(0, 512)));
  const ImportResult r = read_ndax_path(path);
  check_oracle(r, kV17);
  EXPECT_TRUE(testing::has_assumption(r, "data.ndc version 17"));
  EXPECT_TRUE(testing::has_assumption(r, "5314 record(s)"));
  EXPECT_TRUE(testing::has_assumption(r, "32 step(s)"));
  // Doc section 7: running time at rows 301, 9642, 9944, 17683.
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(i);
  expect_time(rel_s(r, i->t_ns[301]), 300.0, "row 301");
  expect_time(rel_s(r, i->t_ns[9642]), 9640.1, "row 9642");
  expect_time(rel_s(r, i->t_ns[9944]), 9940.1, "row 9944");
  expect_time(rel_s(r, i->t_ns[17683]), 17678.7, "row 17683");
  // Capacities only where the cycler stored them (runInfo rows), not interpolated.
  const ChannelData* q = find_channel(r, "charge_capacity");
  ASSERT_TRUE(q);
  EXPECT_LT(q->values.size(), 5314u + 1);
  EXPECT_GT(q->values.size(), 5000u);
  // Step events name the schedule step and state from data_step.ndc.
  bool found = false;
  for (const EventData& e : r.events) found = found || e.detail == "step 1 -> 2 (Step_Index 2, CC_DChg)";
  EXPECT_TRUE(found);
}

TEST(NewareNda, NaiveTimesFollowTheAssumedZone) {
  OPSYNC_REQUIRE_FIXTURES();
  ImportOptions o;
  o.time_zone = "+01:00";
  const ImportResult r = read_nda_bytes(testing::read_all(fixture_path(kV29.file)), o);
  EXPECT_EQ(r.start_ns, iso_ns("2020-03-25T10:16:50Z"));
  EXPECT_TRUE(testing::has_assumption(r, "assumed zone"));
  // Unix-time files ignore the zone.
  const ImportResult u = read_ndax_path(fixture_path(kV17.file), o);
  EXPECT_EQ(u.start_ns, iso_ns("2025-09-25T12:18:47.675Z"));
}

TEST(NewareNda, StartOverrideAndInvertCurrent) {
  OPSYNC_REQUIRE_FIXTURES();
  ImportOptions o;
  o.start_iso = "2030-01-01T00:00:00Z";
  o.invert_current = true;
  const ImportResult r = read_nda_bytes(testing::read_all(fixture_path(kV29.file)), o);
  EXPECT_EQ(r.start_ns, iso_ns("2030-01-01T00:00:00Z"));
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(i);
  EXPECT_REL(testing::max_value(*i), 5.05000018e-05, 1e-6);  // was the discharge minimum
  EXPECT_EQ(i->t_ns.front(), r.start_ns);
}

TEST(NewareNda, RefusesOtherKindsAndFormats) {
  OPSYNC_REQUIRE_FIXTURES();
  ImportOptions ms;
  ms.kind = Kind::Ms;
  EXPECT_THROW(read_nda_bytes(testing::read_all(fixture_path(kV29.file)), ms), ImportError);
  EXPECT_THROW(read_ndax_path(fixture_path(kV5.file), ms), ImportError);
  EXPECT_FALSE(looks_like_neware_nda("time,voltage\n"));
  EXPECT_FALSE(looks_like_neware_ndax("time,voltage\n"));
  EXPECT_FALSE(looks_like_neware_ndax(testing::read_all(fixture_path(kV29.file))));
  EXPECT_FALSE(looks_like_neware_nda(testing::read_all(fixture_path(kV5.file))));
}

// ---- truncated and corrupt files -----------------------------------------------------------

std::vector<size_t> cut_points(size_t size) {
  std::vector<size_t> cuts = {0, 1, 5, 6, 14, 15, 100, 1023, 1024, 1025, 1080, 2000};
  for (size_t k = 1; k < 97; ++k) cuts.push_back(size * k / 97);
  for (size_t back : {1, 2, 4, 30, 55, 56, 57, 86, 87, 88, 172, 4096}) cuts.push_back(size - back);
  std::erase_if(cuts, [&](size_t c) { return c >= size; });
  return cuts;
}

TEST(NewareNda, TruncatedV29IsAnError) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string bytes = testing::read_all(fixture_path(kV29.file));
  for (size_t cut : cut_points(bytes.size())) {
    const auto e = nda_error(bytes.substr(0, cut));
    EXPECT_TRUE(e) << "cut at " << cut << " of " << bytes.size() << " was read without error";
  }
  // A cut on a record boundary is caught by the header's file length.
  const auto e = nda_error(bytes.substr(0, bytes.size() - 86));
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "file length")) << e->what();
  const auto mid = nda_error(bytes.substr(0, bytes.size() - 40));
  ASSERT_TRUE(mid);
  EXPECT_TRUE(contains(mid->what(), "truncated")) << mid->what();
}

TEST(NewareNda, TruncatedV130IsAnError) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string bytes = testing::read_all(fixture_path(kV130.file));
  const size_t footer = 1024 + 6670 * 56;  // the 0x81 footer follows the last record
  ASSERT_EQ(static_cast<unsigned char>(bytes[footer]), 0x81);
  for (size_t cut : cut_points(bytes.size())) {
    const std::string part = bytes.substr(0, cut);
    if (cut > footer) {
      // Cut inside the footer: every record is there, and so is the end marker.
      EXPECT_EQ(read_nda_bytes(part).rows, 6670u) << "cut at " << cut;
      continue;
    }
    const auto e = nda_error(part);
    EXPECT_TRUE(e) << "cut at " << cut << " of " << bytes.size() << " was read without error";
  }
  const auto e = nda_error(bytes.substr(0, footer));
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "no end-of-data marker")) << e->what();
  const auto mid = nda_error(bytes.substr(0, footer - 20));
  ASSERT_TRUE(mid);
  EXPECT_TRUE(contains(mid->what(), "ends inside record 6670")) << mid->what();
}

TEST(NewareNdax, TruncatedArchivesAreErrors) {
  OPSYNC_REQUIRE_FIXTURES();
  for (const Oracle* o : {&kV5, &kV17}) {
    const std::string bytes = testing::read_all(fixture_path(o->file));
    for (size_t cut : cut_points(bytes.size())) {
      const std::string path = testing::write_temp("cut.ndax", bytes.substr(0, cut));
      const auto e = ndax_error(path);
      EXPECT_TRUE(e) << o->file << " cut at " << cut << " was read without error";
    }
  }
}

TEST(NewareNda, UnknownVersionIsNamed) {
  OPSYNC_REQUIRE_FIXTURES();
  std::string bytes = testing::read_all(fixture_path(kV29.file));
  bytes[14] = 31;
  const auto e = nda_error(bytes);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), ".nda version 31")) << e->what();
  EXPECT_TRUE(contains(e->what(), "test.nda")) << e->what();
  const auto magic = nda_error("NEWORE" + bytes.substr(6));
  ASSERT_TRUE(magic);
  EXPECT_TRUE(contains(magic->what(), "'NEWARE'")) << magic->what();
}

TEST(NewareNda, CorruptFieldsAreErrors) {
  OPSYNC_REQUIRE_FIXTURES();
  {
    // v29 record 3 (doc worked example): current range 5 -> 7, not in the table.
    std::string bytes = testing::read_all(fixture_path(kV29.file));
    const size_t rec = 85471 + 2 * 86;
    ASSERT_EQ(bytes[rec + 78], 5);
    bytes[rec + 78] = 7;
    const auto e = nda_error(bytes);
    ASSERT_TRUE(e);
    EXPECT_TRUE(contains(e->what(), "current range code 7")) << e->what();
    EXPECT_TRUE(contains(e->what(), "byte 85643")) << e->what();
  }
  {
    // v29 step time of 2^63 ms.
    std::string bytes = testing::read_all(fixture_path(kV29.file));
    bytes[85471 + 14 + 7] = static_cast<char>(0x7f);
    const auto e = nda_error(bytes);
    ASSERT_TRUE(e);
    EXPECT_TRUE(contains(e->what(), "no test lasts")) << e->what();
  }
  {
    // v130: a nanosecond field of 4.29 s.
    std::string bytes = testing::read_all(fixture_path(kV130.file));
    for (int k = 0; k < 4; ++k) bytes[1024 + 56 * 10 + 16 + k] = static_cast<char>(0xff);
    const auto e = nda_error(bytes);
    ASSERT_TRUE(e);
    EXPECT_TRUE(contains(e->what(), "record 11 at byte 1584")) << e->what();
  }
  {
    // v130: the first record's lead bytes never repeat -> no record length.
    std::string bytes = testing::read_all(fixture_path(kV130.file));
    bytes[1025] = static_cast<char>(0xee);
    EXPECT_TRUE(nda_error(bytes));
  }
}

// Random byte damage anywhere in a .nda: an ImportError or a result, never a crash (run under
// ASan/UBSan in the sanitizer build to catch silent out-of-bounds reads).
TEST(NewareNda, RandomDamageNeverCrashes) {
  OPSYNC_REQUIRE_FIXTURES();
  std::mt19937 rng(20240527);
  for (const Oracle* o : {&kV29, &kV130}) {
    const std::string original = testing::read_all(fixture_path(o->file));
    size_t errors = 0;
    for (int round = 0; round < 150; ++round) {
      std::string bytes = original;
      const int flips = 1 + static_cast<int>(rng() % 8);
      // Half the rounds hit the header and first records, where the structure is.
      const size_t span = round % 2 ? bytes.size() : std::min<size_t>(bytes.size(), 1024 + 4 * 86);
      for (int f = 0; f < flips; ++f) bytes[rng() % span] = static_cast<char>(rng() & 0xff);
      try {
        const ImportResult r = read_nda_bytes(bytes);
        EXPECT_LE(r.rows, o->rows + 1);
      } catch (const ImportError&) {
        ++errors;
      }
    }
    EXPECT_GT(errors, 0u) << o->file;
  }
}

TEST(NewareNdax, DamagedMembersAreErrors) {
  OPSYNC_REQUIRE_FIXTURES();
  for (const Oracle* o : {&kV5, &kV17}) {
    const std::string original = testing::read_all(fixture_path(o->file));
    // Bytes in the middle of the compressed data: CRC or inflate error.
    std::mt19937 rng(7);
    size_t errors = 0;
    for (int round = 0; round < 40; ++round) {
      std::string bytes = original;
      const size_t at = bytes.size() / 4 + rng() % (bytes.size() / 2);
      bytes[at] = static_cast<char>(bytes[at] ^ (1 + rng() % 255));
      if (ndax_error(testing::write_temp("damaged.ndax", bytes))) ++errors;
    }
    // A flip can land in a member the reader does not open (Step.xml, data_log.ndc); the data
    // members are most of the archive, so most rounds must fail.
    EXPECT_GE(errors, 30u) << o->file;
    // Any damage anywhere: no crash.
    for (int round = 0; round < 60; ++round) {
      std::string bytes = original;
      for (int f = 0; f < 4; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
      (void)ndax_error(testing::write_temp("damaged.ndax", bytes));
    }
  }
}

TEST(NewareNdax, InconsistentMembersAreErrors) {
  OPSYNC_REQUIRE_FIXTURES();
  const Members original = unzip_members(fixture_path(kV17.file));
  ASSERT_EQ(original.size(), 10u);
  // Sanity: the re-packed archive reads like the original.
  EXPECT_EQ(read_ndax_path(write_zip("repacked.ndax", original)).rows, 77745u);

  auto error_with = [&](const std::string& name, auto change) {
    Members m = original;
    change(m);
    const auto e = ndax_error(write_zip(name, m));
    EXPECT_TRUE(e) << name;
    return e ? std::string(e->what()) : std::string();
  };
  std::string what = error_with("version.ndax", [](Members& m) { (*member(m, "data.ndc"))[2] = 99; });
  EXPECT_TRUE(contains(what, "data.ndc version 99")) << what;
  what = error_with("nodata.ndax",
                    [](Members& m) { std::erase_if(m, [](auto& x) { return x.first == "data.ndc"; }); });
  EXPECT_TRUE(contains(what, "no 'data.ndc'")) << what;
  what = error_with("norun.ndax", [](Members& m) {
    std::erase_if(m, [](auto& x) { return x.first == "data_runInfo.ndc"; });
  });
  EXPECT_TRUE(contains(what, "data_runInfo.ndc")) << what;
  what = error_with("half_page.ndax", [](Members& m) { member(m, "data.ndc")->resize(4096 * 10 + 100); });
  EXPECT_TRUE(contains(what, "whole number of 4096-byte pages")) << what;
  what = error_with("short_data.ndax", [](Members& m) { member(m, "data.ndc")->resize(4096 * 10); });
  EXPECT_TRUE(contains(what, "describes row")) << what;
  what = error_with("page_type.ndax", [](Members& m) { (*member(m, "data_step.ndc"))[4096] = 3; });
  EXPECT_TRUE(contains(what, "page 1 of 'data_step.ndc' has type 3")) << what;
  what = error_with("count.ndax", [](Members& m) { (*member(m, "data.ndc"))[4096 + 3] = 0x7f; });
  EXPECT_TRUE(contains(what, "has room for 495")) << what;
  what = error_with("steps.ndax", [](Members& m) { member(m, "data_step.ndc")->resize(4096); });
  EXPECT_TRUE(contains(what, "lists 0 steps")) << what;

  // Unsupported but known-to-exist versions are named too.
  Members v5 = unzip_members(fixture_path(kV5.file));
  (*member(v5, "data.ndc"))[2] = 11;
  const auto e = ndax_error(write_zip("v11.ndax", v5));
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "version 11 (byte 2) is not supported")) << e->what();
}

// ---- layouts without a fixture, built from the fixtures' own values ---------------------------

void put_u16(std::string& b, size_t at, uint16_t v) {
  b[at] = static_cast<char>(v & 0xff);
  b[at + 1] = static_cast<char>(v >> 8);
}
void put_u32(std::string& b, size_t at, uint32_t v) {
  for (int k = 0; k < 4; ++k) b[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
}
void put_u64(std::string& b, size_t at, uint64_t v) {
  put_u32(b, at, static_cast<uint32_t>(v));
  put_u32(b, at + 4, static_cast<uint32_t>(v >> 32));
}
uint32_t get_u32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int k = 3; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(b[at + k]);
  return v;
}

// The records of an .ndc table (count at page offset 2, records from page offset 132), laid out
// again with another record size and page tail, keeping the first `to_size` bytes of each.
std::string relayout_ndc(const std::string& ndc, size_t from_size, size_t to_size, size_t to_tail,
                         uint8_t version) {
  std::vector<std::string> records;
  for (size_t p = 4096; p + 4096 <= ndc.size(); p += 4096) {
    const size_t count = static_cast<unsigned char>(ndc[p + 2]) | (static_cast<unsigned char>(ndc[p + 3]) << 8);
    for (size_t k = 0; k < count; ++k) records.push_back(ndc.substr(p + 132 + k * from_size, to_size));
  }
  std::string out = ndc.substr(0, 4096);
  out[2] = static_cast<char>(version);
  const size_t per_page = (4096 - to_tail - 132) / to_size;
  for (size_t first = 0; first < records.size(); first += per_page) {
    std::string page(4096, '\0');
    page[0] = ndc[4096];
    page[1] = ndc[4097];
    const size_t n = std::min(per_page, records.size() - first);
    put_u16(page, 2, static_cast<uint16_t>(n));
    for (size_t k = 0; k < n; ++k) page.replace(132 + k * to_size, to_size, records[first + k]);
    out += page;
  }
  return out;
}

// ndc version 14 (runInfo records of 55 bytes, step records of 37 without an Index), made from
// the v17 fixture: the same rows must come out.
TEST(NewareNdax, Version14LayoutReadsLikeVersion17) {
  OPSYNC_REQUIRE_FIXTURES();
  Members m = unzip_members(fixture_path(kV17.file));
  for (auto& [name, bytes] : m) {
    if (name == "data_runInfo.ndc") {
      bytes = relayout_ndc(bytes, 100, 55, 4, 14);
    } else if (name == "data_step.ndc") {
      bytes = relayout_ndc(bytes, 100, 37, 5, 14);
    } else if (name.size() > 4 && name.substr(name.size() - 4) == ".ndc") {
      bytes[2] = 14;
    }
  }
  const ImportResult r = read_ndax_path(write_zip("v14.ndax", m));
  EXPECT_TRUE(testing::has_assumption(r, "data.ndc version 14"));
  check_oracle(r, kV17);
}

// .nda v130 as written by BTS 9.0 (88-byte records, time and Unix time in us, no cycle), made
// from the BTS 9.1 fixture's records.
TEST(NewareNda, Bts90LayoutReadsLikeBts91) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string v91 = testing::read_all(fixture_path(kV130.file));
  const size_t footer = 1024 + 6670 * 56;
  std::string v90 = v91.substr(0, 1024);
  for (size_t off = 1024; off < footer; off += 56) {
    std::string rec(88, '\0');
    const std::string signature("\x2a\x00\x01\x00\x00\x00", 6);
    rec.replace(0, 6, signature);
    rec[9] = v91[off + 2];    // Step_Index
    rec[10] = v91[off + 3];   // Status
    put_u32(rec, 16, get_u32(v91, off + 8));  // Index
    put_u64(rec, 28, uint64_t{get_u32(v91, off + 12)} * 1000000 + get_u32(v91, off + 16) / 1000);
    rec.replace(36, 4, v91.substr(off + 24, 4));  // voltage
    rec.replace(40, 4, v91.substr(off + 20, 4));  // current
    const uint32_t cap = get_u32(v91, off + 28), energy = get_u32(v91, off + 32);
    const bool discharge = (cap >> 31) != 0;  // signed capacity: - for discharge
    put_u32(rec, discharge ? 60 : 52, cap & 0x7fffffffu);
    put_u32(rec, discharge ? 64 : 56, energy & 0x7fffffffu);
    put_u64(rec, 68, uint64_t{get_u32(v91, off + 44)} * 1000000 + get_u32(v91, off + 48) / 1000);
    v90 += rec;
  }
  ASSERT_NE(static_cast<unsigned char>(v90[1024]), 0x55);
  const ImportResult r = read_nda_bytes(v90 + v91.substr(footer));
  EXPECT_TRUE(testing::has_assumption(r, "BTS 9.0 layout"));
  EXPECT_EQ(r.rows, kV130.rows);
  EXPECT_FALSE(find_channel(r, "cycle"));
  const ChannelData* i = find_channel(r, "current");
  const ChannelData* qd = find_channel(r, "discharge_capacity");
  ASSERT_TRUE(i && qd);
  expect_time(rel_s(r, i->t_ns.back()), kV130.t_last_s, "time of last row");
  EXPECT_NEAR(static_cast<double>(i->t_ns.front() - iso_ns(kV130.start_utc)) / 1e9, 0.0, 1e-3);
  EXPECT_REL(testing::min_value(*i), kV130.i_min_a, 1e-6);
  const auto segs = current_segments(*i);
  ASSERT_EQ(segs.size(), kV130.segments);
  EXPECT_REL(segs[0].charge_ah, kV130.first_segments[0].charge_ah, 1e-5);
  EXPECT_REL(qd->values[segs[0].last] / 3.6, kV130.first_segments[0].discharge_cap_mah, 1e-6);
  // Without a footer the file may end on a record boundary, but not inside a record.
  EXPECT_EQ(read_nda_bytes(v90).rows, kV130.rows);
  const auto e = nda_error(v90.substr(0, v90.size() - 10));
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "ends inside record 6670")) << e->what();
}

TEST(NewareNdax, NotAZip) {
  const auto e = ndax_error(testing::write_temp("plain.ndax", "time,voltage\n0,3\n"));
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "cannot open the .ndax as a zip archive")) << e->what();
  const auto missing = ndax_error("/nonexistent/file.ndax");
  EXPECT_TRUE(missing);
}

}  // namespace
}  // namespace opsync::import
