// Header recognition: roles and units for the spellings real cyclers write, SI scale factors,
// candidate priority, and the --columns override with its errors.
#include "import/common/columns.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace opsync::import {
namespace {

struct Case {
  const char* header;
  Role role;
  double scale;  // to SI
};

TEST(Columns, SplitsNameAndUnit) {
  EXPECT_EQ(split_header("Ewe/V").name, "Ewe");
  EXPECT_EQ(split_header("Ewe/V").unit, "V");
  EXPECT_EQ(split_header("Test_Time(s)").name, "Test_Time");
  EXPECT_EQ(split_header("Test_Time(s)").unit, "s");
  EXPECT_EQ(split_header("Voltage [V]").unit, "V");
  EXPECT_EQ(split_header("voltage_v").name, "voltage");
  EXPECT_EQ(split_header("Q charge/discharge/mA.h").name, "Q charge/discharge");
  EXPECT_EQ(split_header("Q charge/discharge/mA.h").unit, "mA.h");
  EXPECT_EQ(split_header("(Q-Qo)/mA.h").name, "(Q-Qo)");
  EXPECT_EQ(split_header("Amp-hr").unit, "");
  EXPECT_EQ(split_header("M28-CO/N2 [A]").name, "M28-CO/N2");
  EXPECT_EQ(name_key("DPt Time"), "dpttime");
  EXPECT_EQ(name_key("<I>"), "i");
}

TEST(Columns, RecognisesCyclerHeaders) {
  const std::vector<Case> cases = {
      {"time/s", Role::Time, 1.0},
      {"Test_Time(s)", Role::Time, 1.0},
      {"Test (Sec)", Role::Time, 1.0},
      {"Test Time (sec)", Role::Time, 1.0},
      {"time/h", Role::Time, 3600.0},
      {"Time [s]", Role::Time, 1.0},
      {"Time (min)", Role::Time, 60.0},
      {"TestTime", Role::Time, 1.0},
      {"DateTime", Role::DateTime, 1.0},
      {"DPt Time", Role::DateTime, 1.0},
      {"Date Time", Role::DateTime, 1.0},
      {"Ewe/V", Role::Voltage, 1.0},
      {"<Ewe>/V", Role::Voltage, 1.0},
      {"Voltage", Role::Voltage, 1.0},
      {"Voltage(V)", Role::Voltage, 1.0},
      {"Voltage [V]", Role::Voltage, 1.0},
      {"Volts", Role::Voltage, 1.0},
      {"voltage_v", Role::Voltage, 1.0},
      {"Ecell/V", Role::Voltage, 1.0},
      {"Voltage [mV]", Role::Voltage, 1e-3},
      {"voltage_mv", Role::Voltage, 1e-3},
      {"<I>/mA", Role::Current, 1e-3},
      {"I/mA", Role::Current, 1e-3},
      {"Current", Role::Current, 1.0},
      {"Current(A)", Role::Current, 1.0},
      {"Current [mA]", Role::Current, 1e-3},
      {"I/\xC2\xB5" "A", Role::Current, 1e-6},
      {"Amps", Role::Current, 1.0},
      {"mAmps", Role::Current, 1e-3},
      {"current_a", Role::Current, 1.0},
      {"Capacity/mA.h", Role::Capacity, 3.6},
      {"(Q-Qo)/mA.h", Role::Capacity, 3.6},
      {"(Q-Qo)/C", Role::Capacity, 1.0},
      {"Q charge/discharge/mA.h", Role::Capacity, 3.6},
      {"Amp-hr", Role::Capacity, 3600.0},
      {"mAmp-hr", Role::Capacity, 3.6},
      {"Capacity (Ah)", Role::Capacity, 3600.0},
      {"Cap. [Ah]", Role::Capacity, 3600.0},
      {"Charge_Capacity", Role::ChargeCapacity, 3600.0},
      {"Charge_Capacity(Ah)", Role::ChargeCapacity, 3600.0},
      {"Q charge/mA.h", Role::ChargeCapacity, 3.6},
      {"Discharge Capacity (Ah)", Role::DischargeCapacity, 3600.0},
      {"Q discharge/mA.h", Role::DischargeCapacity, 3.6},
      {"Watt-hr", Role::Energy, 3600.0},
      {"Energy (mWh)", Role::Energy, 3.6},
      {"Energy charge/W.h", Role::ChargeEnergy, 3600.0},
      {"Step", Role::Step, 1.0},
      {"Step_Index", Role::Step, 1.0},
      {"Ns", Role::Step, 1.0},
      {"Cycle_Index", Role::Cycle, 1.0},
      {"Cyc#", Role::Cycle, 1.0},
      {"cycle number", Role::Cycle, 1.0},
      {"State", Role::State, 1.0},
      {"Md", Role::State, 1.0},
      {"t_ns", Role::TimeNs, 1e-9},
  };
  for (const Case& c : cases) {
    const HeaderInfo info = classify_header(c.header, Kind::Cycler);
    EXPECT_EQ(info.role, c.role) << c.header;
    EXPECT_TRUE(info.unit_known) << c.header;
    if (c.role != Role::DateTime) {
      EXPECT_DOUBLE_EQ(info.scale, c.scale) << c.header;
    }
  }
}

TEST(Columns, IgnoresLookAlikes) {
  for (const char* h : {"Step (Sec)", "StepTime", "Step_Time", "Ewe-Ece/V", "Ece/V", "I Range",
                        "control/V/mA", "control/mA", "dV/dt", "half cycle", "Ns changes",
                        "Rec#", "Data_Point", "Capacitance charge/\xC2\xB5" "F"}) {
    EXPECT_EQ(classify_header(h, Kind::Cycler).role, Role::None) << h;
  }
}

TEST(Columns, UnitStatedOrAssumed) {
  EXPECT_FALSE(classify_header("Current", Kind::Cycler).unit_stated);  // bare Arbin name: A
  EXPECT_TRUE(classify_header("Amps", Kind::Cycler).unit_stated);      // unit in the name
  EXPECT_FALSE(classify_header("Voltage [kV?]", Kind::Cycler).unit_known);
}

TEST(Columns, KindSpecificRoles) {
  EXPECT_EQ(classify_header("m/z", Kind::Ms).role, Role::Mass);
  EXPECT_EQ(classify_header("ion_current", Kind::Ms).role, Role::IonCurrent);
  EXPECT_DOUBLE_EQ(classify_header("intensity [pA]", Kind::Ms).scale, 1e-12);
  EXPECT_EQ(classify_header("Scan #", Kind::Strain).role, Role::ScanNumber);
  EXPECT_EQ(classify_header("start_ns", Kind::Strain).role, Role::ScanStart);
  EXPECT_EQ(classify_header("Voltage", Kind::Strain).role, Role::None);
  // Only the exact opsync name is absolute ns; "T (ns)" is a relative time in ns.
  EXPECT_EQ(classify_header("T (ns)", Kind::Cycler).role, Role::Time);
  EXPECT_DOUBLE_EQ(classify_header("T (ns)", Kind::Cycler).scale, 1e-9);
}

TEST(Columns, PicksTheBestCandidatePerRole) {
  // EC-Lab: (Q-Qo) wins over Capacity and Q charge/discharge; Ewe over Ecell.
  const std::vector<std::string> h = {"time/s", "Capacity/mA.h", "Ecell/V", "(Q-Qo)/mA.h",
                                      "Ewe/V", "Q charge/discharge/mA.h", "I/mA"};
  const ColumnMap m = map_columns(h, Kind::Cycler, {}, "f", 1);
  ASSERT_NE(m.get(Role::Capacity), nullptr);
  EXPECT_EQ(m.get(Role::Capacity)->header, "(Q-Qo)/mA.h");
  EXPECT_EQ(m.get(Role::Voltage)->header, "Ewe/V");
  EXPECT_EQ(m.unused.size(), 3u);
}

TEST(Columns, OverrideMapsAHeaderAndDisablesARole) {
  const std::vector<std::string> h = {"Zeit (h)", "Spannung", "Strom (mA)", "Current"};
  const ColumnMap m = map_columns(h, Kind::Cycler,
                                  {{"time", "Zeit (h)"}, {"voltage", "spannung"}, {"current", "Strom (mA)"},
                                   {"capacity", "none"}},
                                  "f", 1);
  ASSERT_NE(m.get(Role::Time), nullptr);
  EXPECT_DOUBLE_EQ(m.get(Role::Time)->info.scale, 3600.0);
  EXPECT_EQ(m.get(Role::Voltage)->header, "Spannung");  // case-insensitive match
  EXPECT_DOUBLE_EQ(m.get(Role::Current)->info.scale, 1e-3);
  EXPECT_TRUE(m.get(Role::Current)->from_option);
  EXPECT_TRUE(m.is_disabled(Role::Capacity));
  // The auto-detected "Current" lost to the explicit mapping.
  ASSERT_EQ(m.unused.size(), 1u);
  EXPECT_EQ(h[m.unused[0]], "Current");
}

TEST(Columns, OverrideNamingAMissingHeaderIsAnError) {
  const std::vector<std::string> h = {"time/s", "Ewe/V", "I/mA"};
  try {
    (void)map_columns(h, Kind::Cycler, {{"voltage", "Ecell/V"}}, "cell.mpt", 3);
    FAIL() << "no ImportError";
  } catch (const ImportError& e) {
    EXPECT_EQ(e.line(), 3u);
    EXPECT_EQ(e.column(), "Ecell/V");
    const std::string msg = e.what();
    EXPECT_NE(msg.find("not in the file"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'Ewe/V'"), std::string::npos) << msg;  // lists the headers
  }
}

TEST(Columns, UnknownRoleInOverrideIsAnError) {
  try {
    (void)map_columns({"a"}, Kind::Cycler, {{"volatge", "a"}}, "f", 1);
    FAIL() << "no ImportError";
  } catch (const ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown role 'volatge'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("voltage"), std::string::npos);  // lists the roles
  }
}

TEST(Columns, UnknownUnitOnlyCandidateIsAnError) {
  try {
    (void)map_columns({"time/s", "Voltage [furlong]"}, Kind::Cycler, {}, "f", 7);
    FAIL() << "no ImportError";
  } catch (const ImportError& e) {
    EXPECT_EQ(e.line(), 7u);
    EXPECT_EQ(e.column(), "Voltage [furlong]");
    EXPECT_NE(std::string(e.what()).find("unknown unit 'furlong'"), std::string::npos) << e.what();
  }
  // With a usable candidate for the same role, the odd one is just skipped.
  const ColumnMap m = map_columns({"time/s", "Voltage [furlong]", "Ewe/V"}, Kind::Cycler, {}, "f", 1);
  EXPECT_EQ(m.get(Role::Voltage)->header, "Ewe/V");
}

TEST(Columns, DescribesMappingAndSkipped) {
  const std::vector<std::string> h = {"time/s", "<I>/mA", "mode", "x"};
  const ColumnMap m = map_columns(h, Kind::Cycler, {}, "f", 1);
  std::vector<std::string> lines;
  describe_columns(m, h, lines);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "column 'time/s' -> time (s)");
  EXPECT_EQ(lines[1], "column '<I>/mA' -> current (mA, x0.001 -> A)");
  EXPECT_EQ(lines[2], "skipped 2 column(s) not used: 'mode', 'x'");
}

}  // namespace
}  // namespace opsync::import
