// What opsync records, as plain C++ types: the one definition of the record model. Drivers emit
// these, the store writes and reads them, replay and the correlator take them. They sit below
// every other layer (clock, store, drivers), which is why they have a folder of their own.
//
// proto/record.proto is their interchange form (`opsync info --json`, export, a future bus): it
// follows from these types field by field (store/proto_convert.h maps them), and
// tests/daemon/records/record_model_test.cpp fails when a field is added to one and not the other.
// The namespace is still opsync::store (the record types began as the store's rows).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace opsync::records {

using SessionId = int64_t;
using SourceId = int64_t;
using ChannelId = int64_t;

struct Session {
  SessionId id = 0;
  std::string name;
  int64_t started_ns = 0;
  int64_t ended_ns = 0;  // 0 while open
  std::string host;
  std::string note;
};

struct ClockModel {
  std::string method = "identity";  // identity | constant_offset | midpoint | regression
  int64_t offset_ns = 0;            // t_ref_ns = offset_ns + rate * t_src_ns
  double rate = 1.0;
  double residual_rms_ns = 0;
  double residual_max_ns = 0;
  int64_t n_points = 0;
  int64_t fitted_at_ns = 0;
  double uncertainty_ns = 0;
};

struct Source {
  SourceId id = 0;
  SessionId session_id = 0;
  std::string name;
  std::string kind;  // cycler | ms | bridge | strain
  std::string address;
  std::string note;
  // Time the measured medium takes to reach the instrument (a DEMS capillary), s; 0 if none.
  // Recorded times are never shifted by it: analyses correct for it (correlate/onset.h).
  double transport_delay_s = 0;
};

struct Channel {
  ChannelId id = 0;
  SourceId source_id = 0;
  std::string name;
  std::string unit;
  std::string quantity;
};

struct Sample {
  ChannelId channel_id = 0;
  int64_t t_ns = 0;
  double value = 0;
};

struct Event {
  SessionId session_id = 0;
  SourceId source_id = 0;  // 0 = the session itself
  int64_t t_ns = 0;
  std::string kind;
  std::string detail;
};

struct ScanValue {
  std::string name;
  std::string unit;
  double value = 0;
};

struct Scan {
  int64_t id = 0;
  SessionId session_id = 0;
  SourceId source_id = 0;
  int64_t number = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::string label;
  std::vector<ScanValue> values;
};

// What a row of `captures` records about the driver boundary of a source:
// kIn   bytes read from the instrument and handed to on_bytes() at t_ns;
// kOut  bytes the driver sent, at the time of the driver call that sent them;
// kTick the driver's on_tick() ran at t_ns and sent nothing (bytes empty). A tick that sent
//       bytes is not recorded separately: its time is that of the kOut rows it produced.
enum class CaptureKind : uint8_t { kIn, kOut, kTick };
std::string_view capture_kind_name(CaptureKind kind);  // "in" | "out" | "tick"

struct Capture {
  SourceId source_id = 0;
  int64_t t_ns = 0;
  CaptureKind kind = CaptureKind::kIn;
  std::string bytes;
};

struct ImportRecord {
  SourceId source_id = 0;
  std::string path;
  std::string format;
  int64_t rows = 0;
  std::string assumptions;
  int64_t imported_ns = 0;
};

// A mass spectrometer's sensitivity for one m/z, and how it was obtained (opsync calibrate):
// ion current per molar flow of the gas, A per (mol/s), with its standard uncertainty. Analyses use
// the latest of a source's calibrations for a mass.
struct GasCalibration {
  SourceId source_id = 0;
  int mass = 0;
  std::string gas;                       // "O2", "CO2", ...
  double sensitivity_a_per_mol_s = 0;
  double sigma_a_per_mol_s = 0;
  std::string method;                    // "calibration gas" | "faraday"
  int64_t from_ns = 0, to_ns = 0;        // the interval it was measured over (reference clock)
  std::string detail;                    // the inputs (flow, electrons per molecule, delay, tail...)
  int64_t created_ns = 0;
};

}  // namespace opsync::records
