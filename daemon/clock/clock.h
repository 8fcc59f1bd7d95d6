// The reference clock, injectable. Reference time is int64 ns since the Unix epoch:
// - RealClock: CLOCK_REALTIME read once at start, plus CLOCK_MONOTONIC elapsed since, so an
//   NTP step mid-session cannot tear the record;
// - FakeClock: set and advanced by tests;
// - SimClock: simulation time shared by processes on one machine, t = epoch + speed x
//   (CLOCK_MONOTONIC - anchor); the simulators publish (epoch, anchor, speed) and opsyncd reads
//   them, so durations stay physical at N x speed (as ROS 2's use_sim_time with /clock).
#pragma once

#include <cstdint>

namespace opsync::clock {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ns() const = 0;
  // How many ns of CLOCK_MONOTONIC pass while reference time advances by `ref_ns`.
  virtual int64_t to_monotonic_duration_ns(int64_t ref_ns) const = 0;
  virtual double speed() const { return 1.0; }
};

int64_t monotonic_now_ns();
int64_t realtime_now_ns();

class RealClock final : public Clock {
 public:
  RealClock();
  int64_t now_ns() const override;
  int64_t to_monotonic_duration_ns(int64_t ref_ns) const override { return ref_ns; }

 private:
  int64_t realtime_at_start_ns_;
  int64_t monotonic_at_start_ns_;
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ns = 0) : now_ns_(start_ns) {}
  int64_t now_ns() const override { return now_ns_; }
  int64_t to_monotonic_duration_ns(int64_t ref_ns) const override { return ref_ns; }
  void set(int64_t t_ns) { now_ns_ = t_ns; }
  void advance(int64_t dt_ns) { now_ns_ += dt_ns; }

 private:
  int64_t now_ns_;
};

class SimClock final : public Clock {
 public:
  // t_ref = epoch_ns + speed * (CLOCK_MONOTONIC - anchor_monotonic_ns)
  SimClock(int64_t epoch_ns, int64_t anchor_monotonic_ns, double speed);
  int64_t now_ns() const override;
  int64_t to_monotonic_duration_ns(int64_t ref_ns) const override;
  double speed() const override { return speed_; }
  int64_t epoch_ns() const { return epoch_ns_; }
  int64_t anchor_monotonic_ns() const { return anchor_ns_; }

 private:
  int64_t epoch_ns_;
  int64_t anchor_ns_;
  double speed_;
};

}  // namespace opsync::clock
