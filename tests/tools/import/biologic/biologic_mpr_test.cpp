// BioLogic .mpr reader: the real fixtures against ORACLES.md, the .mpr/.mpt pair row by row,
// truncated and corrupted copies (always an ImportError, never a crash), and small synthetic
// files for the layouts the fixtures do not have (v2, new header), the flags byte, the LOG start
// in a zone, and an unknown column id.
#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "import/biologic/biologic_mpr.h"
#include "import/biologic/biologic_mpr_file.h"
#include "import/import_types.h"
#include "import/common/time_context.h"
#include "import_test_util.h"
#include "mpr_test_builder.h"
#include "support/fixtures.h"

namespace opsync::import {
namespace {

using testing::count_sign;
using testing::current_segments;
using testing::find_channel;

// Offsets in the fixtures (format doc section 2 and a byte dump): both have old headers and a
// version-3 data module; C24 has a LOG module, the pair has none.
constexpr size_t kPairDataModule = 7043;    // "MODULE" of 'VMP data'
constexpr size_t kPairDataPayload = 7100;   // n_points u32, n_columns u8, ids u16 from 7105
constexpr size_t kPairColumns = 21;
constexpr size_t kC24DataModule = 0x1BD8;
constexpr size_t kC24DataPayload = 0x1C11;
constexpr size_t kC24LogModule = 2450997;
constexpr size_t kC24LogPayload = 2451054;

std::string fixture_bytes(const std::string& rel) { return testing::read_all(opsync::test::fixture(rel)); }

ImportResult read_mpr(std::string_view bytes, const ImportOptions& options = {}, const std::string& path = "test.mpr") {
  TimeContext times(options, path);
  return read_biologic_mpr(FileInput{path, bytes}, options, times);
}

// The ImportError message, or nullopt when the bytes were read. Any other exception escapes and
// fails the test: that would be a crash of the importer.
std::optional<std::string> mpr_error(std::string_view bytes, const ImportOptions& options = {}) {
  try {
    (void)read_mpr(bytes, options);
  } catch (const ImportError& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Within float32 precision: the .mpt prints f4 values with 8 significant digits.
bool same_f32(double a, double b) {
  return std::fabs(a - b) <= 1.2e-7 * std::max(std::fabs(a), std::fabs(b));
}

TEST(BiologicMpr, RecognisedByContent) {
  EXPECT_TRUE(looks_like_biologic_mpr(testing::mpr_magic()));
  EXPECT_FALSE(looks_like_biologic_mpr("EC-Lab ASCII FILE\r\nNb header lines : 3\r\n"));
  EXPECT_FALSE(looks_like_biologic_mpr(""));
  EXPECT_FALSE(looks_like_biologic_mpr("BIO-LOGIC MODULAR"));  // too short to tell
  OPSYNC_REQUIRE_FIXTURES();
  EXPECT_TRUE(looks_like_biologic_mpr(fixture_bytes("cycler/biologic_gcpl_pair.mpr")));
  EXPECT_FALSE(looks_like_biologic_mpr(fixture_bytes("cycler/biologic_gcpl_pair.mpt")));
}

TEST(BiologicMpr, Gcpl5CyclesMatchesOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = read_mpr(fixture_bytes("cycler/biologic_gcpl_5cycles_C24.mpr"));
  EXPECT_EQ(r.format, "biologic-mpr");
  EXPECT_EQ(r.rows, 46102u);
  EXPECT_TRUE(testing::has_assumption(r, "layout v3"));
  EXPECT_TRUE(testing::has_assumption(r, "column ids 1, 2, 3, 21, 31, 65, 131, 4, 7, 13, 5, 6, 39, 467, 468, 70"));
  EXPECT_TRUE(testing::has_assumption(r, "46102 records of 53 bytes"));
  EXPECT_EQ(r.t_first_ns, r.start_ns);
  EXPECT_REL(static_cast<double>(r.t_last_ns - r.start_ns) / 1e9, 456309.586, 1e-6);

  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(v && i);
  ASSERT_EQ(v->values.size(), 46102u);
  ASSERT_EQ(i->values.size(), 46102u);
  EXPECT_REL(testing::min_value(*v), 1.99990296, 1e-6);
  EXPECT_REL(testing::max_value(*v), 3.80006456, 1e-6);
  // No current column: I = dq / dt, first row 0.
  EXPECT_TRUE(testing::has_assumption(r, "'<I>/mA' derived as EC-Lab's text export does, I = 'dq/mA.h' / dt"));
  EXPECT_EQ(i->values[0], 0.0);
  EXPECT_REL(testing::min_value(*i), -8.87794159e-05, 1e-6);
  EXPECT_REL(testing::max_value(*i), 8.88225437e-05, 1e-6);

  const auto segs = current_segments(*i);
  EXPECT_EQ(segs.size(), 13u);
  EXPECT_EQ(count_sign(segs, +1), 6u);
  EXPECT_EQ(count_sign(segs, -1), 7u);
  ASSERT_GE(segs.size(), 3u);
  EXPECT_EQ(segs[0].sign, -1);
  EXPECT_EQ(segs[0].first, 361u);
  EXPECT_EQ(segs[0].last, 1202u);
  EXPECT_REL(static_cast<double>(i->t_ns[361] - r.start_ns) / 1e9, 3600.00031, 1e-6);
  EXPECT_REL(i->values[361], -8.85238819e-05, 1e-6);
  EXPECT_REL(v->values[361], 2.50519562, 1e-6);
  EXPECT_REL(segs[0].charge_ah, -0.000206528698, 1e-5);
  EXPECT_EQ(segs[1].first, 1203u);
  EXPECT_EQ(segs[1].last, 5262u);
  EXPECT_REL(segs[1].charge_ah, 0.000986781105, 1e-5);
  EXPECT_EQ(segs[2].first, 5263u);
  EXPECT_EQ(segs[2].last, 8728u);
  EXPECT_REL(segs[2].charge_ah, -0.000852852777, 1e-5);

  // (Q-Qo)/mA.h and Q charge/discharge/mA.h at the first segment's last row, in coulombs.
  const ChannelData* q = find_channel(r, "capacity");
  const ChannelData* qd = find_channel(r, "discharge_capacity");
  ASSERT_TRUE(q && qd);
  EXPECT_EQ(q->unit, "C");
  EXPECT_REL(q->values[1202], -0.206528713 * 3.6, 1e-6);
  EXPECT_REL(qd->values[1202], 0.206528714 * 3.6, 1e-6);
  // Ns changes 13 times (ORACLES); half cycle 0, 2..13 -> cycle number 0..6.
  EXPECT_EQ(testing::count_events(r, "step_change"), 13u);
  const ChannelData* cycle = find_channel(r, "cycle");
  ASSERT_TRUE(cycle);
  EXPECT_EQ(testing::max_value(*cycle), 6.0);
}

TEST(BiologicMpr, StartFromTheLogModuleInTheGivenZone) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string bytes = fixture_bytes("cycler/biologic_gcpl_5cycles_C24.mpr");
  // OLE 44130.53469907407 = 2020-10-26 12:49:58 naive local time; UTC by default.
  const ImportResult utc = read_mpr(bytes);
  EXPECT_TRUE(utc.has_absolute_start);
  EXPECT_EQ(utc.start_ns, int64_t{1603716598} * kNsPerS);
  EXPECT_TRUE(testing::has_assumption(utc, "LOG module's start date 2020-10-26 12:49:58.000 local time"));
  EXPECT_TRUE(testing::has_assumption(utc, "naive local time; assumed zone UTC"));

  ImportOptions paris;
  paris.time_zone = "Europe/Paris";  // CET (+01:00) on 26 October 2020, after the DST change
  const ImportResult r = read_mpr(bytes, paris);
  EXPECT_EQ(r.start_ns, int64_t{1603716598 - 3600} * kNsPerS);
  EXPECT_EQ(r.t_first_ns, r.start_ns);
  EXPECT_TRUE(testing::has_assumption(r, "assumed zone Europe/Paris"));

  ImportOptions given;
  given.start_iso = "2021-01-01T00:00:00Z";
  const ImportResult s = read_mpr(bytes, given);
  EXPECT_EQ(s.start_ns, civil_to_ns(CivilTime{2021, 1, 1, 0, 0, 0, 0}));
  EXPECT_TRUE(testing::has_assumption(s, "from --start"));
}

TEST(BiologicMpr, PairMatchesOracles) {
  OPSYNC_REQUIRE_FIXTURES();
  const ImportResult r = read_mpr(fixture_bytes("cycler/biologic_gcpl_pair.mpr"));
  EXPECT_EQ(r.rows, 2533u);
  // No LOG module: no absolute start, and the settings date is reported.
  EXPECT_FALSE(r.has_absolute_start);
  EXPECT_TRUE(testing::has_assumption(r, "no LOG module"));
  EXPECT_TRUE(testing::has_assumption(r, "dated 05/07/24"));
  EXPECT_EQ(r.t_first_ns, 0);
  EXPECT_REL(static_cast<double>(r.t_last_ns) / 1e9, 302518.948, 1e-6);
  const ChannelData* v = find_channel(r, "voltage");
  const ChannelData* i = find_channel(r, "current");
  ASSERT_TRUE(v && i);
  EXPECT_REL(testing::min_value(*v), 0.00382884732, 1e-6);
  EXPECT_REL(testing::max_value(*v), 2.35456157, 1e-6);
  EXPECT_REL(testing::min_value(*i), -0.000250053554, 1e-6);
  EXPECT_REL(testing::max_value(*i), 0.00022177228, 1e-6);
  const auto segs = current_segments(*i);
  EXPECT_EQ(segs.size(), 9u);
  EXPECT_EQ(count_sign(segs, +1), 5u);
  EXPECT_EQ(count_sign(segs, -1), 4u);
  ASSERT_GE(segs.size(), 3u);
  EXPECT_EQ(segs[0].first, 5u);
  EXPECT_EQ(segs[0].last, 384u);
  EXPECT_REL(segs[0].charge_ah, -0.00325138049, 1e-5);
  EXPECT_REL(segs[1].charge_ah, 0.000369541539, 1e-5);
  EXPECT_REL(segs[2].charge_ah, 0.00224640922, 1e-5);
  EXPECT_EQ(testing::count_events(r, "step_change"), 10u);
}

// The binary file and EC-Lab's text export of the same run give the same import.
TEST(BiologicMpr, PairGivesTheSameRowsAsItsTextExport) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string mpr_path = opsync::test::fixture("cycler/biologic_gcpl_pair.mpr");
  const ImportResult b = read_mpr(testing::read_all(mpr_path), {}, mpr_path);
  const ImportResult t = import_file(opsync::test::fixture("cycler/biologic_gcpl_pair.mpt"), {});
  EXPECT_EQ(t.format, "biologic-mpt");
  EXPECT_EQ(b.rows, t.rows);
  EXPECT_EQ(b.has_absolute_start, t.has_absolute_start);
  EXPECT_EQ(b.t_first_ns, t.t_first_ns);
  EXPECT_LE(std::llabs(b.t_last_ns - t.t_last_ns), 1);

  // Same channels in the same order (voltage, current, capacity, charge/discharge capacity,
  // charge/discharge energy, step, cycle), every sample within float32 precision and 1 ns.
  ASSERT_EQ(b.channels.size(), t.channels.size());
  for (size_t c = 0; c < t.channels.size(); ++c) {
    const ChannelData& cb = b.channels[c];
    const ChannelData& ct = t.channels[c];
    SCOPED_TRACE(ct.name);
    EXPECT_EQ(cb.name, ct.name);
    EXPECT_EQ(cb.unit, ct.unit);
    ASSERT_EQ(cb.values.size(), ct.values.size());
    size_t bad_values = 0, bad_times = 0;
    for (size_t k = 0; k < ct.values.size(); ++k) {
      if (!same_f32(cb.values[k], ct.values[k])) {
        if (bad_values++ < 3) ADD_FAILURE() << "row " << k << ": " << cb.values[k] << " vs " << ct.values[k];
      }
      if (std::llabs(cb.t_ns[k] - ct.t_ns[k]) > 1) ++bad_times;
    }
    EXPECT_EQ(bad_values, 0u);
    EXPECT_EQ(bad_times, 0u);
  }
  ASSERT_NE(find_channel(b, "voltage"), nullptr);
  ASSERT_NE(find_channel(b, "current"), nullptr);
  ASSERT_NE(find_channel(b, "cycle"), nullptr);

  ASSERT_EQ(b.events.size(), t.events.size());
  for (size_t e = 0; e < t.events.size(); ++e) {
    EXPECT_EQ(b.events[e].kind, t.events[e].kind);
    EXPECT_EQ(b.events[e].detail, t.events[e].detail);
    EXPECT_LE(std::llabs(b.events[e].t_ns - t.events[e].t_ns), 1);
  }
  EXPECT_GE(testing::count_events(b, "cycle_change"), 4u);
}

// A cut anywhere inside the file is an ImportError that says so.
TEST(BiologicMpr, TruncatedCopiesFail) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string pair = fixture_bytes("cycler/biologic_gcpl_pair.mpr");
  std::set<size_t> cuts = {0, 1, 22, 23, 24, 47, 48, 51, 52, 53, 57, 58, 92, 93, 96, 97, 100, 101,
                           108, 109, 110, kPairDataModule - 1, kPairDataModule, kPairDataModule + 3,
                           kPairDataModule + 6 + 35, kPairDataModule + 6 + 39, kPairDataModule + 6 + 43,
                           kPairDataModule + 6 + 50, kPairDataPayload, kPairDataPayload + 2,
                           kPairDataPayload + 4, kPairDataPayload + 5, kPairDataPayload + 5 + 2 * kPairColumns,
                           kPairDataPayload + 405, kPairDataPayload + 406, kPairDataPayload + 406 + 89,
                           kPairDataPayload + 406 + 89 * 2533 - 1};
  for (size_t c = 0; c < pair.size(); c += 997) cuts.insert(c);
  for (size_t cut : cuts) {
    ASSERT_LT(cut, pair.size());
    const std::string copy = pair.substr(0, cut);  // its own buffer: no bytes beyond the cut
    const auto e = mpr_error(copy);
    ASSERT_TRUE(e) << "cut at " << cut << " was read without error";
    EXPECT_TRUE(contains(*e, "truncated") || contains(*e, "empty")) << "cut at " << cut << ": " << *e;
  }

  // The larger file: around every module header densely, the records sparsely.
  const std::string c24 = fixture_bytes("cycler/biologic_gcpl_5cycles_C24.mpr");
  std::set<size_t> big_cuts = {kC24DataPayload + 406, kC24LogModule - 1, kC24LogModule + 1,
                               kC24LogPayload, kC24LogPayload + 585, kC24LogPayload + 593, c24.size() - 1};
  for (size_t c = 0; c < 12000; c += 997) big_cuts.insert(c);
  for (size_t c = kC24DataModule; c < c24.size(); c += 99733) big_cuts.insert(c);
  for (size_t c = kC24LogModule - 5000; c < c24.size(); c += 997) big_cuts.insert(c);
  big_cuts.erase(kC24LogModule);  // a clean cut between modules: see the next test
  for (size_t cut : big_cuts) {
    const std::string copy = c24.substr(0, cut);
    const auto e = mpr_error(copy);
    ASSERT_TRUE(e) << "cut at " << cut << " was read without error";
    EXPECT_TRUE(contains(*e, "truncated") || contains(*e, "empty")) << "cut at " << cut << ": " << *e;
  }
}

// Limitation, pinned: modules carry no count, so a cut exactly between two modules looks like a
// file that never had the later ones. Cut before C24's LOG, the data still read in full and
// only the start time is lost (and the assumptions say there is no LOG module).
TEST(BiologicMpr, CutBetweenModulesReadsAsAFileWithoutThem) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string c24 = fixture_bytes("cycler/biologic_gcpl_5cycles_C24.mpr");
  const ImportResult r = read_mpr(c24.substr(0, kC24LogModule));
  EXPECT_EQ(r.rows, 46102u);
  EXPECT_FALSE(r.has_absolute_start);
  EXPECT_TRUE(testing::has_assumption(r, "no LOG module"));
}

std::string with_byte(std::string bytes, size_t at, uint8_t value) {
  bytes.at(at) = static_cast<char>(value);
  return bytes;
}

std::string with_u16(std::string bytes, size_t at, uint16_t value) {
  bytes.at(at) = static_cast<char>(value & 0xFF);
  bytes.at(at + 1) = static_cast<char>(value >> 8);
  return bytes;
}

TEST(BiologicMpr, CorruptHeaderOrColumnTableFails) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string pair = fixture_bytes("cycler/biologic_gcpl_pair.mpr");
  const size_t ids = kPairDataPayload + 5;
  const size_t length = kPairDataModule + 6 + 35;
  struct Case {
    const char* what;
    std::string bytes;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"magic text", with_byte(pair, 4, 'X'), "not a BioLogic .mpr"},
      {"magic padding", with_byte(pair, 30, 0x00), "header differs from BioLogic's at byte 30"},
      {"magic zeros", with_byte(pair, 50, 0x20), "at byte 50"},
      {"MODULE tag", with_byte(pair, kPairDataModule + 1, 'X'), "expected 'MODULE' at byte 7043"},
      {"module name", with_byte(pair, kPairDataModule + 8, 0x01), "is not text"},
      {"module renamed", with_byte(pair, kPairDataModule + 6 + 4, 'X'), "no 'VMP data' module"},
      {"length high byte", with_byte(pair, length + 3, 0x10), "truncated"},
      {"length low byte", with_byte(pair, length, static_cast<uint8_t>(pair[length] ^ 0x01)), "a module length is damaged"},
      {"data version", with_byte(pair, length + 4, 4), "version 4"},
      {"point count", with_byte(pair, kPairDataPayload, static_cast<uint8_t>(pair[kPairDataPayload] ^ 0x40)),
       "says it has"},
      {"column count up", with_byte(pair, kPairDataPayload + 4, kPairColumns + 1), "unknown column id 0"},
      {"column count down", with_byte(pair, kPairDataPayload + 4, kPairColumns - 1), "does not add up"},
      {"column count zero", with_byte(pair, kPairDataPayload + 4, 0), "has 0 columns"},
      {"id: Ewe f4 -> dq f8", with_u16(pair, ids + 2 * 10, 7), "listed twice"},
      {"id: Ewe f4 -> <I>/mA f8", with_u16(pair, ids + 2 * 10, 11), "does not add up"},
      {"id: unknown 999", with_u16(pair, ids + 2 * 10, 999), "unknown column id 999 at byte 7125"},
      {"id: high byte flipped", with_byte(pair, ids + 2 * 7 + 1, 0x80), "unknown column id 32772"},
  };
  for (const Case& c : cases) {
    const auto e = mpr_error(c.bytes);
    ASSERT_TRUE(e) << c.what << ": read without error";
    EXPECT_TRUE(contains(*e, c.says)) << c.what << ": " << *e;
  }
}

// Damage anywhere (records included, where it cannot always be noticed) never crashes the
// reader: it either reads the file or throws ImportError.
TEST(BiologicMpr, RandomDamageNeverCrashes) {
  OPSYNC_REQUIRE_FIXTURES();
  const std::string pair = fixture_bytes("cycler/biologic_gcpl_pair.mpr");
  std::mt19937_64 rng(20240507);
  // The data module's header and column table (damage in the settings payload goes unnoticed).
  std::uniform_int_distribution<size_t> header_pos(kPairDataModule, kPairDataPayload + 5 + 2 * kPairColumns - 1);
  std::uniform_int_distribution<size_t> any_pos(0, pair.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  size_t errors = 0;
  for (int round = 0; round < 300; ++round) {
    std::string copy = pair;
    for (int k = 0; k < 1 + round % 4; ++k) {
      const size_t at = round % 2 ? header_pos(rng) : any_pos(rng);
      copy[at] = static_cast<char>(byte(rng));
    }
    if (mpr_error(copy)) ++errors;
  }
  // Most damage to the data module's header is noticed; record damage mostly is not (values
  // are just numbers).
  EXPECT_GT(errors, 30u);
}

TEST(BiologicMpr, UnknownColumnIdIsNamedWithItsOffset) {
  // Magic, then one old-header v3 data module whose table lists time, Ewe and id 999.
  std::string records;
  testing::put_f64(records, 0.0);
  testing::put_f32(records, 3.0f);
  testing::put_f32(records, 0.0f);
  const std::string bytes =
      testing::mpr_magic() +
      testing::mpr_module("VMP data", testing::mpr_data_payload(testing::MprHeader::Old, 3, {4, 6, 999}, 1, records),
                       testing::MprHeader::Old, 3);
  const auto e = mpr_error(bytes);
  ASSERT_TRUE(e);
  // Ids start at 52 (magic) + 6 ("MODULE") + 51 (header) + 5 = 114; 999 is the third.
  EXPECT_TRUE(contains(*e, "unknown column id 999 at byte 118 (0x76)")) << *e;
  EXPECT_TRUE(contains(*e, "entry 3 of 3")) << *e;
  EXPECT_TRUE(contains(*e, "test.mpr")) << *e;
}

// Ns, a flags byte in the middle of the record (mode, Ns changes), time, Ewe, I/mA, half cycle.
const std::vector<uint16_t> kSynthIds = {131, 1, 4, 31, 6, 8, 468};

std::string synth_records() {
  struct Row {
    uint16_t ns;
    uint8_t flags;
    double t_s;
    float ewe_v, i_ma;
    uint32_t half_cycle;
  };
  const Row rows[] = {{0, 0x03, 0.0, 3.0f, 0.0f, 0},
                      {1, 0x21, 10.0, 3.5f, 1.5f, 0},
                      {1, 0x01, 20.0, 3.6f, 1.5f, 0},
                      {2, 0x21, 30.5, 3.4f, -1.5f, 2}};
  std::string out;
  for (const Row& r : rows) {
    testing::put_u16(out, r.ns);
    testing::put_u8(out, r.flags);
    testing::put_f64(out, r.t_s);
    testing::put_f32(out, r.ewe_v);
    testing::put_f32(out, r.i_ma);
    testing::put_u32(out, r.half_cycle);
  }
  return out;
}

std::string synth_file(testing::MprHeader header, uint32_t version, bool with_log) {
  const uint32_t module_version = header == testing::MprHeader::New ? 0 : version;
  std::string f = testing::mpr_magic();
  f += testing::mpr_module("VMP Set", std::string(300, '\0'), header, 0, 10);
  f += testing::mpr_module("VMP data", testing::mpr_data_payload(header, version, kSynthIds, 4, synth_records()), header,
                        module_version, 11);
  // 45444.5 = 2024-06-01 12:00:00 local.
  if (with_log) f += testing::mpr_module("VMP LOG", testing::mpr_log_payload(45444.5), header, 0, 10);
  return f;
}

TEST(BiologicMpr, OldAndNewLayoutsReadTheSame) {
  const ImportResult v2 = read_mpr(synth_file(testing::MprHeader::Old, 2, false));
  const ImportResult v3 = read_mpr(synth_file(testing::MprHeader::Old, 3, false));
  const ImportResult nw = read_mpr(synth_file(testing::MprHeader::New, 0, false));
  EXPECT_TRUE(testing::has_assumption(v2, "layout v2 (old 51-byte header, version 2)"));
  EXPECT_TRUE(testing::has_assumption(v3, "layout v3"));
  EXPECT_TRUE(testing::has_assumption(nw, "layout new (new 59-byte header, version 0/11)"));
  for (const ImportResult* r : {&v2, &v3, &nw}) {
    EXPECT_EQ(r->rows, 4u);
    EXPECT_TRUE(testing::has_assumption(*r, "4 records of 23 bytes"));
    const ChannelData* v = find_channel(*r, "voltage");
    const ChannelData* i = find_channel(*r, "current");
    ASSERT_TRUE(v && i);
    ASSERT_EQ(v->values.size(), 4u);
    EXPECT_EQ(v->values[1], static_cast<double>(3.5f));
    EXPECT_EQ(i->values[3], static_cast<double>(-1.5f) * 1e-3);  // I/mA column, no derivation
    EXPECT_EQ(i->t_ns[3], 30'500'000'000);
    ASSERT_EQ(r->events.size(), 3u);
    EXPECT_EQ(r->events[0].detail, "step 0 -> 1");
    EXPECT_EQ(r->events[0].t_ns, 10 * kNsPerS);
    EXPECT_EQ(r->events[1].detail, "step 1 -> 2");
    EXPECT_EQ(r->events[2].kind, "cycle_change");
    EXPECT_EQ(r->events[2].detail, "cycle 0 -> 1");  // half cycle 2 -> cycle number 1
  }
}

TEST(BiologicMpr, FlagsByteSplitIntoColumns) {
  const std::string f = synth_file(testing::MprHeader::Old, 3, false);
  const auto modules = biologic::read_modules(f, "synth.mpr");
  ASSERT_EQ(modules.size(), 2u);
  EXPECT_EQ(modules[1].short_name, "VMP data");
  const biologic::DataTable t = biologic::read_data_module(f, modules[1], "synth.mpr");
  EXPECT_EQ(t.record_size, 23u);  // u2 + flags byte + f8 + f4 + f4 + u4
  ASSERT_EQ(t.columns.size(), 7u);
  const biologic::DataColumn& mode = t.columns[1];
  const biologic::DataColumn& ns_changes = t.columns[3];
  EXPECT_EQ(mode.spec->name, "mode");
  EXPECT_EQ(mode.byte_in_record, 2u);  // the flags byte sits where the first flag id is listed
  EXPECT_EQ(ns_changes.byte_in_record, 2u);
  EXPECT_EQ(t.columns[2].byte_in_record, 3u);  // time follows the single flags byte
  EXPECT_EQ(mode.values, (std::vector<double>{3, 1, 1, 1}));
  EXPECT_EQ(ns_changes.values, (std::vector<double>{0, 1, 0, 1}));
}

TEST(BiologicMpr, SyntheticLogStartInTheGivenZone) {
  ImportOptions o;
  o.time_zone = "+02:00";
  const ImportResult r = read_mpr(synth_file(testing::MprHeader::New, 0, true), o);
  EXPECT_TRUE(r.has_absolute_start);
  EXPECT_EQ(r.start_ns, civil_to_ns(CivilTime{2024, 6, 1, 10, 0, 0, 0}));
  EXPECT_EQ(r.t_first_ns, r.start_ns);
  EXPECT_TRUE(testing::has_assumption(r, "assumed zone +02:00"));
}

TEST(BiologicMpr, ColumnKnownOnlyFromYadgIsNoted) {
  std::string records;
  testing::put_f64(records, 0.0);
  testing::put_f32(records, 3.0f);
  testing::put_f32(records, 1.0f);
  testing::put_f32(records, 25.0f);
  const std::string bytes =
      testing::mpr_magic() +
      testing::mpr_module("VMP data", testing::mpr_data_payload(testing::MprHeader::Old, 3, {4, 6, 8, 206}, 1, records),
                       testing::MprHeader::Old, 3);
  const ImportResult r = read_mpr(bytes);
  EXPECT_TRUE(testing::has_assumption(r, "column id 206 'Temperature/\xC2\xB0" "C' (f4) is known only from yadg"));
}

TEST(BiologicMpr, AsMsIsRefused) {
  ImportOptions o;
  o.kind = Kind::Ms;
  const auto e = mpr_error(synth_file(testing::MprHeader::Old, 3, false), o);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(*e, "import it as cycler"));
}

}  // namespace
}  // namespace opsync::import
