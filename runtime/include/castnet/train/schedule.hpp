// Learning-rate schedules: the learning rate of one optimizer step, from lr0 (OptimizerConfig::lr).
// The decays are evaluated per epoch, like torch's epoch-level schedulers stepped once per epoch
// (closed forms; e = completed epochs, 0-based):
//   constant      lr0
//   step          lr0 * gamma^floor(e / step_size)                      (StepLR)
//   exponential   lr0 * gamma^e                                         (ExponentialLR)
//   inverse_time  lr0 / (1 + decay * e)
//   cosine        lr_min + (lr0 - lr_min) * (1 + cos(pi * e / epochs)) / 2
//                                             (CosineAnnealingLR, T_max = epochs, eta_min = lr_min)
// Warm-up (warmup > 0 epochs, possibly fractional) multiplies by a linear ramp counted in steps:
//   min(1, (step + 1) / (warmup * steps_per_epoch))      step = 0-based global step
#pragma once

#include <castnet/train/config.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>

namespace castnet {

// ScheduleConfig (config.hpp): kind, step_size, gamma, decay, lr_min, warmup.

// "constant", "step", "exponential", "inverse_time", "cosine" (config.hpp's EnumNames).
inline const char* to_string(ScheduleConfig::Kind k) { return name_of(k).data(); }

// The learning rate for one step: `epoch` is the 0-based epoch (completed epochs), `step` the
// 0-based global step count, `steps_per_epoch` >= 1, `epochs` the total number of epochs (cosine's
// period; 0 is treated as 1). step_size 0 is treated as 1.
inline double scheduled_lr(const ScheduleConfig& s, double lr0, std::size_t epoch,
                           std::uint64_t step, std::size_t steps_per_epoch, std::size_t epochs) {
  const double e = static_cast<double>(epoch);
  double lr = lr0;
  switch (s.kind) {
    case ScheduleConfig::Kind::constant: break;
    case ScheduleConfig::Kind::step:
      lr = lr0 * std::pow(s.gamma, static_cast<double>(epoch / std::max<std::size_t>(s.step_size, 1)));
      break;
    case ScheduleConfig::Kind::exponential: lr = lr0 * std::pow(s.gamma, e); break;
    case ScheduleConfig::Kind::inverse_time: lr = lr0 / (1.0 + s.decay * e); break;
    case ScheduleConfig::Kind::cosine: {
      const double period = static_cast<double>(std::max<std::size_t>(epochs, 1));
      lr = s.lr_min + (lr0 - s.lr_min) * (1.0 + std::cos(std::numbers::pi * e / period)) / 2.0;
      break;
    }
  }
  if (s.warmup > 0) {
    const double ramp = s.warmup * static_cast<double>(std::max<std::size_t>(steps_per_epoch, 1));
    lr *= std::min(1.0, (static_cast<double>(step) + 1.0) / ramp);
  }
  return lr;
}

}  // namespace castnet
