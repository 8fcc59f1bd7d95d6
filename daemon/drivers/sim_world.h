// The truth the simulated instruments play: what the cell, the gas and the beamline are doing
// at each simulated time. `opsync sim`'s scenario provides it; each driver's simulator set-up
// (its row in the driver table) takes what its instrument measures.
#pragma once

#include <cstdint>
#include <vector>

namespace opsync::drivers {

// What a cycler channel is doing at a given time.
struct CellState {
  double voltage_v = 0;
  double current_a = 0;
  double capacity_ah = 0;
  double energy_wh = 0;
  uint32_t cycle = 0;
  uint16_t step = 0;
  double test_time_s = 0;
  double step_time_s = 0;
  uint8_t rf1 = 0;  // 0 Available
  uint8_t rf2 = 0;
  uint16_t stat = 0;
  uint32_t last_rec_num = 0;
};

// A trigger edge at one of the bridge's inputs, at its true time.
struct TriggerEdgeTruth {
  int64_t t_ns = 0;
  int input = 0;
  bool rising = true;
};

class SimWorld {
 public:
  virtual ~SimWorld() = default;
  virtual int64_t start_ns() const = 0;  // the experiment's t = 0
  virtual CellState cell(int64_t t_ns) const = 0;
  virtual double ion_current_a(int mass, int64_t t_ns) const = 0;  // at the spectrometer, filament on
  virtual std::vector<TriggerEdgeTruth> trigger_edges() const = 0;
  virtual double transport_delay_s() const = 0;  // cell to spectrometer
};

}  // namespace opsync::drivers
