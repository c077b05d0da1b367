// What each single-instruction-set unit of the dispatch benchmark hands it (single.cpp).
#pragma once

#include <cstddef>

struct SingleIsa {
  void (*set_w1)(const float* flat);  // the parameters, every tensor in kTensors order
  void (*loop_w1)(float* x, float* y, std::size_t n);
  void (*set_w2)(const float* flat);
  void (*loop_w2)(float* x, float* y, std::size_t n);
};

SingleIsa single_avx512();
SingleIsa single_avx2();
