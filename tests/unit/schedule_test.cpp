// castnet::scheduled_lr: each schedule's value at chosen epochs, and the warm-up ramp.
#include <castnet/train/schedule.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <string>

using castnet::ScheduleConfig;
using Kind = ScheduleConfig::Kind;

namespace {

ScheduleConfig schedule(Kind kind) {
  ScheduleConfig s;
  s.kind = kind;
  return s;
}

// The lr at the first step of `epoch` with 10 steps per epoch and 20 epochs.
double at(const ScheduleConfig& s, double lr0, std::size_t epoch) {
  return castnet::scheduled_lr(s, lr0, epoch, epoch * 10, 10, 20);
}

}  // namespace

TEST_CASE("schedule: to_string names every kind", "[schedule]") {
  CHECK(std::string(castnet::to_string(Kind::constant)) == "constant");
  CHECK(std::string(castnet::to_string(Kind::step)) == "step");
  CHECK(std::string(castnet::to_string(Kind::exponential)) == "exponential");
  CHECK(std::string(castnet::to_string(Kind::inverse_time)) == "inverse_time");
  CHECK(std::string(castnet::to_string(Kind::cosine)) == "cosine");
}

TEST_CASE("schedule: constant is lr0 at every step", "[schedule]") {
  const auto s = schedule(Kind::constant);
  for (std::size_t e : {0u, 1u, 7u, 19u}) CHECK(at(s, 0.3, e) == 0.3);
  CHECK(castnet::scheduled_lr(s, 0.3, 4, 45, 10, 20) == 0.3);  // mid-epoch too
}

TEST_CASE("schedule: step decays by gamma every step_size epochs", "[schedule]") {
  auto s = schedule(Kind::step);
  s.step_size = 3;
  s.gamma = 0.5;
  CHECK(at(s, 0.8, 0) == 0.8);
  CHECK(at(s, 0.8, 2) == 0.8);
  CHECK(at(s, 0.8, 3) == Approx(0.4).epsilon(1e-15));
  CHECK(at(s, 0.8, 5) == Approx(0.4).epsilon(1e-15));
  CHECK(at(s, 0.8, 6) == Approx(0.2).epsilon(1e-15));
  CHECK(at(s, 0.8, 10) == Approx(0.8 * 0.125).epsilon(1e-15));
  // Constant within an epoch: the step count does not matter.
  CHECK(castnet::scheduled_lr(s, 0.8, 3, 39, 10, 20) == at(s, 0.8, 3));
}

TEST_CASE("schedule: exponential is lr0 gamma^epoch", "[schedule]") {
  auto s = schedule(Kind::exponential);
  s.gamma = 0.9;
  CHECK(at(s, 0.1, 0) == 0.1);
  CHECK(at(s, 0.1, 1) == Approx(0.09).epsilon(1e-15));
  CHECK(at(s, 0.1, 2) == Approx(0.081).epsilon(1e-15));
  CHECK(at(s, 0.1, 10) == Approx(0.1 * std::pow(0.9, 10)).epsilon(1e-15));
}

TEST_CASE("schedule: inverse_time is lr0 / (1 + decay epoch)", "[schedule]") {
  auto s = schedule(Kind::inverse_time);
  s.decay = 0.5;
  CHECK(at(s, 1.0, 0) == 1.0);
  CHECK(at(s, 1.0, 1) == Approx(1.0 / 1.5).epsilon(1e-15));
  CHECK(at(s, 1.0, 2) == Approx(0.5).epsilon(1e-15));
  CHECK(at(s, 1.0, 6) == Approx(0.25).epsilon(1e-15));
  s.decay = 0.0;
  CHECK(at(s, 1.0, 6) == 1.0);
}

TEST_CASE("schedule: cosine anneals from lr0 to lr_min over the epochs", "[schedule]") {
  auto s = schedule(Kind::cosine);
  s.lr_min = 0.01;
  CHECK(at(s, 0.11, 0) == Approx(0.11).epsilon(1e-15));
  CHECK(at(s, 0.11, 10) == Approx(0.06).epsilon(1e-14));  // half way: the mean
  CHECK(at(s, 0.11, 5) ==
        Approx(0.01 + 0.1 * (1 + std::cos(std::numbers::pi / 4)) / 2).epsilon(1e-14));
  CHECK(castnet::scheduled_lr(s, 0.11, 20, 200, 10, 20) == Approx(0.01).epsilon(1e-14));
  // Monotone decreasing over the run.
  for (std::size_t e = 1; e < 20; ++e) CHECK(at(s, 0.11, e) < at(s, 0.11, e - 1));
}

TEST_CASE("schedule: warm-up ramps linearly over warmup epochs counted in steps", "[schedule]") {
  auto s = schedule(Kind::constant);
  s.warmup = 1.5;  // 15 steps at 10 steps per epoch
  CHECK(castnet::scheduled_lr(s, 0.3, 0, 0, 10, 20) == Approx(0.3 / 15).epsilon(1e-15));
  CHECK(castnet::scheduled_lr(s, 0.3, 0, 4, 10, 20) == Approx(0.3 * 5 / 15).epsilon(1e-15));
  CHECK(castnet::scheduled_lr(s, 0.3, 1, 13, 10, 20) == Approx(0.3 * 14 / 15).epsilon(1e-15));
  CHECK(castnet::scheduled_lr(s, 0.3, 1, 14, 10, 20) == 0.3);  // ramp complete
  CHECK(castnet::scheduled_lr(s, 0.3, 5, 50, 10, 20) == 0.3);
  for (std::uint64_t step = 1; step < 15; ++step) {
    CHECK(castnet::scheduled_lr(s, 0.3, step / 10, step, 10, 20) >
          castnet::scheduled_lr(s, 0.3, (step - 1) / 10, step - 1, 10, 20));
  }

  SECTION("the ramp multiplies the decayed rate") {
    auto d = schedule(Kind::exponential);
    d.gamma = 0.5;
    d.warmup = 2;  // 4 steps at 2 steps per epoch
    CHECK(castnet::scheduled_lr(d, 1.0, 1, 2, 2, 10) == Approx(0.5 * 3.0 / 4).epsilon(1e-15));
    CHECK(castnet::scheduled_lr(d, 1.0, 2, 4, 2, 10) == Approx(0.25).epsilon(1e-15));
  }
  SECTION("no warm-up: the first step already has lr0") {
    s.warmup = 0;
    CHECK(castnet::scheduled_lr(s, 0.3, 0, 0, 10, 20) == 0.3);
  }
}
