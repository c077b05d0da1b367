// An exported header (the golden xor_export.hpp) compiled for one instruction set, into an object
// that isa_link_test.cpp only reads: built twice, for AVX2 and for the baseline's SSE2, the two
// objects must define no weak symbol in common.
#include "xor_export.hpp"

void export_predict(const float* x, float* y) noexcept;
void export_predict(const float* x, float* y) noexcept { xor_net::predict_batch(x, y, 3); }
