// Arbin .res results files (MITS Pro): a Microsoft Access (Jet) database read through mdbtools'
// libmdb. Global_Table gives each test's start date, name and channel; Channel_Normal_Table the
// logged rows, which are turned into the same channels and events as an Arbin CSV export.
// The file is checked against truncation and damage before and after libmdb reads it, because
// libmdb itself returns what it could read and only prints a warning.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "import/format.h"
#include "import/import_types.h"

namespace opsync::import {

// The Jet signature at the start of the file: 00 01 00 00 "Standard Jet DB" and a Jet 3 or
// Jet 4 version byte at 0x14. Necessary, not sufficient: read_arbin_res() then requires the
// Arbin tables Global_Table and Channel_Normal_Table and refuses other Access databases.
bool looks_like_arbin_res(std::string_view first_bytes);

// Reads an Arbin .res file. Throws ImportError for a file that is not an Arbin results
// database, is truncated or damaged, or whose rows cannot be placed in time.
ImportResult read_arbin_res(const FileInput& in, const ImportOptions& options, TimeContext& times);

// ---- The tables as read from the file, before they become channels (exposed for tests). ----

// One Global_Table row.
struct ArbinTest {
  int32_t test_id = 0;
  std::string name;                       // Test_Name
  std::optional<int32_t> channel_index;   // Channel_Index
  std::optional<double> start_ole_days;   // Start_DateTime: OLE days, naive cycler-PC local time
  std::string schedule;                   // Schedule_File_Name
};

// One Channel_Normal_Table row. NaN where the cell is NULL or the column is absent.
struct ArbinRow {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  int32_t test_id = 0;
  int32_t data_point = 0;
  int64_t test_time_ns = 0;        // Test_Time: since the test started, not counting pauses
  double date_time_ole = kNone;    // DateTime: OLE days, PC local wall clock, whole seconds
  double step = kNone;             // Step_Index
  double cycle = kNone;            // Cycle_Index
  double current_a = kNone;        // + = charge
  double voltage_v = kNone;
  double charge_capacity_ah = kNone;
  double discharge_capacity_ah = kNone;
  double charge_energy_wh = kNone;
  double discharge_energy_wh = kNone;
};

// Which optional Channel_Normal_Table columns the file has.
struct ArbinColumns {
  bool date_time = false;
  bool step = false;
  bool cycle = false;
  bool charge_capacity = false;
  bool discharge_capacity = false;
  bool charge_energy = false;
  bool discharge_energy = false;
  std::vector<std::string> skipped;  // columns present but not imported (Step_Time, dV/dt, ...)
};

struct ArbinTables {
  std::vector<ArbinTest> tests;     // Global_Table
  std::vector<ArbinRow> rows;       // Channel_Normal_Table, in storage order
  ArbinColumns columns;
  std::vector<std::string> notes;   // facts about the file for the assumption lines
  std::vector<Damage> damage;       // what the file says is inconsistent (rows it declares but lacks, ...)
};

// Orders the rows by (Test_ID, Data_Point), places them in time and builds the result.
// Several Test_IDs are imported together only when they are consecutive tests of one channel,
// each with its own start date; otherwise only the first is, and an assumption line says why.
ImportResult arbin_tables_to_result(ArbinTables tables, const std::string& path,
                                    const ImportOptions& options, TimeContext& times);

}  // namespace opsync::import
