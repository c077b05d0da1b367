// The run-time dispatch test's program (isa/dispatch_test.cpp): isa_link.toml built with
// castnet_add_model(... ARCH dispatch), run once per CASTNET_ISA the test sets.
// usage: castnet_isa_dispatch_driver IN
//   IN holds raw floats: the parameters (kParams, in kTensors order), x (kBatch, kInputs) and the
//   targets (kBatch). Prints the instruction set the model chose, then, as hex floats, one line
//   each: forward() of every row, forward_batch(), train_step()'s loss over kBatch - 1 rows (dropout
//   key 0x5eed), its gradients, and the parameters after train_step_update() with sgd at rate 0.5.
#include "isa_dispatch.hpp"

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

using M = isa_dispatch::Model;

void print(const float* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) std::printf(i ? " %a" : "%a", static_cast<double>(v[i]));
  std::printf("\n");
}

template <class T>
void copy_tensors(const std::vector<float>& from, T& to) {
  const auto t = M::tensors(to);
  for (std::size_t i = 0, at = 0; i < t.size(); at += M::kTensors[i].size, ++i)
    for (std::size_t k = 0; k < M::kTensors[i].size; ++k) t[i][k] = from[at + k];
}

template <class T>
std::vector<float> flat(const T& from) {
  std::vector<float> v;
  const auto t = M::tensors(from);
  for (std::size_t i = 0; i < t.size(); ++i) v.insert(v.end(), t[i], t[i] + M::kTensors[i].size);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s IN\n", argv[0]);
    return 2;
  }
  std::vector<float> in(M::kParams + M::kBatch * M::kInputs + M::kBatch);
  std::ifstream file(argv[1], std::ios::binary);
  if (!file.read(reinterpret_cast<char*>(in.data()), static_cast<std::streamsize>(in.size() * sizeof(float)))) {
    std::fprintf(stderr, "%s: cannot read %zu floats\n", argv[1], in.size());
    return 2;
  }
  const float* x = in.data() + M::kParams;
  const float* target = x + M::kBatch * M::kInputs;
  auto p = std::make_unique<M::Params>();
  auto g = std::make_unique<M::Grads>();
  auto ws = std::make_unique<M::Workspace>();
  copy_tensors(in, *p);

  std::printf("%.*s\n", static_cast<int>(isa_dispatch::isa().size()), isa_dispatch::isa().data());
  std::vector<float> y(M::kBatch * M::kOutputs), y_batch(y.size());
  for (std::size_t b = 0; b < M::kBatch; ++b) M::forward(*p, x + b * M::kInputs, y.data() + b * M::kOutputs);
  M::forward_batch(*p, *ws, x, y_batch.data());
  print(y.data(), y.size());
  print(y_batch.data(), y_batch.size());
  const float loss = M::train_step(*p, *ws, x, target, *g, M::kBatch - 1, 0x5eed);
  print(&loss, 1);
  print(flat(static_cast<const M::Grads&>(*g)).data(), M::kParams);
  castnet::Update<float> sgd;
  sgd.lr = 0.5f;
  M::train_step_update(*p, *ws, x, target, *g, nullptr, sgd, M::kBatch - 1, 0x5eed);
  print(flat(static_cast<const M::Params&>(*p)).data(), M::kParams);
  return 0;
}
