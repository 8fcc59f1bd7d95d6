// Incremental capacity (dQ/dV) per half-cycle, following the recipe of cellpy (ica.py) and navani:
// capacity from the cycler's column or by trapezoid integration of I dt; Q put onto a uniform voltage
// grid; differentiated; smoothed with a Gaussian (FWHM in mV, cellpy's default 10 mV) by FFT
// convolution; peaks found with position, height and FWHM. The two tools agree on peak voltages but
// not on heights, so every parameter used travels with the result (DqdvMethod).
//
// A voltage that turns back inside a half-cycle (relaxation, a pulse) is never sorted: the
// half-cycle is cut where the voltage moves against the direction of the half-cycle (falls on charge,
// rises on discharge) by more than a tolerance (5 mV; real records dip by noise and digitisation
// all the time), and either the longest piece (by voltage span; the default: it is the one that
// covers the redox features) or each piece is analysed. Inside a piece the voltage coordinate is
// the running extreme: rows at or just below it (within the tolerance) keep the capacity of the last
// of them (the cell sat at that voltage while the charge passed).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "correlate/half_cycles.h"

namespace opsync::correlate {

enum class PieceChoice { longest, each };

// Which local maxima of |dQ/dV| are features: by prominence and width, as
// scipy.signal.find_peaks defines them (prominence: height above the higher of the two lowest
// points reached before the curve rises above the peak on either side; width: at half the
// prominence). A ripple on a flat stretch is tall but has almost no prominence.
struct PeakOptions {
  // Fractions of the tallest local maximum's |value| (not of the curve's largest value, which a
  // constant-voltage end of a charge puts at the edge, a hundredfold above the real peaks).
  double min_prominence_fraction = 0.05;
  double min_width_v = 0;                  // at half prominence; 0 = any
  double min_height_fraction = 0;          // the old 5 % height rule when 0.05; 0 = any
};

struct DqdvOptions {
  double dv_v = 1e-3;             // voltage grid step
  double fwhm_v = 10e-3;          // Gaussian smoothing FWHM; 0 = no smoothing
  double active_mass_g = 0;       // > 0: output in mAh/g/V instead of mAh/V
  PieceChoice pieces = PieceChoice::longest;
  // A voltage that falls back (on charge) by more than this below its running maximum cuts the
  // half-cycle; smaller dips are noise and count at the running maximum. 0 = cut at any reversal.
  double turn_back_tolerance_v = 5e-3;
  PeakOptions peaks{};
  HalfCycleOptions half_cycles{};
};

// Everything that shaped the numbers, for reports (cellpy and navani differ ~2x in peak heights).
struct DqdvMethod {
  std::string capacity_source;  // "column" or "integrated (trapezoid of I dt)"
  std::string piece_choice;     // "longest monotone piece" or "each monotone piece"
  std::string smoothing = "Gaussian, FFT (FFTW3) linear convolution with zero padding, kernel truncated at 4 sigma";
  std::string differentiation = "central differences on the grid, one-sided at the ends";
  std::string units;            // "mAh/V" or "mAh/g/V"
  double dv_v = 0;
  double fwhm_v = 0;
  double active_mass_g = 0;
  PeakOptions peaks{};
  double rest_current_a = 0;
  double turn_back_tolerance_v = 0;
};

// Peak of |dQ/dV| (discharge curves are negative: Q passed grows while V falls); height keeps the sign.
struct DqdvPeak {
  double voltage_v = 0;              // parabolic refinement over the three top grid points
  double height = 0;                 // in DqdvMethod::units
  std::optional<double> fwhm_v;      // full width at half height (relative to zero); empty if a side runs off the curve
  double prominence = 0;             // in DqdvMethod::units, positive
  double width_v = 0;                // at half the prominence (interpolated)
  double left_base_v = 0;            // where the prominence was measured from, each side
  double right_base_v = 0;
  // Charge in the feature, in mAh (mAh/g with an active mass): the integral of |dQ/dV| above the
  // higher of the two valleys that separate the peak from its (accepted) neighbours or the ends.
  double area = 0;
};

struct DqdvCurve {
  std::size_t half_cycle = 0;
  Direction direction = Direction::charge;
  std::size_t piece = 0;          // index of the monotone piece within the half-cycle
  std::size_t pieces_found = 0;   // how many monotone pieces the half-cycle had
  std::vector<double> voltage_v;  // ascending uniform grid
  std::vector<double> dqdv;       // mAh/V or mAh/g/V, on voltage_v
  std::vector<DqdvPeak> peaks;
  DqdvMethod method;
};

// [begin, end) row ranges of the monotone (non-strict) pieces of voltage_v in the given direction.
struct RowRange {
  std::size_t begin = 0;
  std::size_t end = 0;
};
// A piece ends where the voltage moves against `dir` by more than tolerance_v from its running
// extreme (tolerance 0: at any step against dir).
std::vector<RowRange> monotone_pieces(std::span<const double> voltage_v, Direction dir, double tolerance_v = 0);

// dQ/dV of one monotone piece (voltage monotone in dir, capacity in C as passed since some origin).
DqdvCurve dqdv_piece(std::span<const double> voltage_v, std::span<const double> charge_c, Direction dir,
                     const DqdvOptions& opt);

// Peaks of a curve on a uniform grid (used by dqdv_piece, exposed for tests).
// `sign` says which way the peaks point (+1 charge, -1 discharge); 0 takes the sign of the
// largest |value|, which an artefact at an edge can get wrong.
std::vector<DqdvPeak> find_peaks(std::span<const double> voltage_v, std::span<const double> y,
                                 const PeakOptions& opt = {}, double sign = 0);

// The whole record: split, then dQ/dV of the chosen piece(s) of every half-cycle. Throws InputError
// on bad records or options; half-cycles too short for a grid of 3 points are skipped.
std::vector<DqdvCurve> dqdv(const CyclerRecord& rec, const DqdvOptions& opt = {});

}  // namespace opsync::correlate
