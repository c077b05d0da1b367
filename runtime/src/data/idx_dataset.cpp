// Data sets from IDX files (see idx_dataset.hpp): the images' shape and the labels are checked
// against the model and the loss once, here, so that training never meets a bad sample.
#include <castnet/error.hpp>
#include <castnet/data/idx_dataset.hpp>
#include <castnet/data/idx.hpp>
#include <castnet/train/loss_outputs.hpp>

#include <charconv>
#include <cmath>
#include <string>

namespace castnet {
namespace {

using io::IdxArray;
using io::IdxType;

[[noreturn]] void fail(const std::filesystem::path& path, std::size_t offset, const std::string& what) {
  throw Error(path.string() + ": error: byte " + std::to_string(offset) + ": " + what);
}

// Shortest text that reads back as the same double.
std::string format_number(double v) {
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

// The images file, checked: its samples (everything after the first dimension) have `inputs`
// values each.
IdxArray read_images(const std::filesystem::path& images, std::size_t inputs) {
  IdxArray a = io::read_idx(images);
  std::size_t per_sample = 1;
  std::vector<std::uint32_t> sample_dims(a.dims.begin() + 1, a.dims.end());
  for (const std::uint32_t d : sample_dims) per_sample *= d;
  if (per_sample != inputs) {
    const std::string shape =
        sample_dims.empty() ? std::string("1 value") : io::idx_dims_text(sample_dims) + " = " + std::to_string(per_sample) + " values";
    // Byte 8 is the second dimension; a one-dimensional file has one value per sample, which the
    // dimension count (byte 3) decides.
    fail(images, sample_dims.empty() ? 3 : 8,
         "dimensions " + io::idx_dims_text(a.dims) + " make samples of " + shape + ", the spec's input needs " +
             std::to_string(inputs) + " (expected dimensions n x ... whose product after n is " + std::to_string(inputs) + ")");
  }
  return a;
}

// The images as T; an f32 or f64 file must hold finite values (and, read as float, fit in one).
template <std::floating_point T>
void copy_images(const IdxArray& a, std::size_t inputs, Dataset<T>& data) {
  data.rows = a.dims[0];
  data.inputs = inputs;
  data.x.resize(a.size());
  a.copy_to(0, a.size(), data.x.data());
  if (a.type != IdxType::f32 && a.type != IdxType::f64) return;  // integers are always finite
  for (std::size_t i = 0; i < data.x.size(); ++i) {
    if (!std::isfinite(data.x[i])) {
      const double v = a.value(i);
      fail(a.path, a.offset_of(i),
           "sample " + std::to_string(i / inputs) + ", value " + std::to_string(i % inputs) + " is " + format_number(v) +
               (std::isfinite(v) ? " which does not fit in a float" : "") + " (expected a finite number)");
    }
  }
}

}  // namespace

template <std::floating_point T>
Dataset<T> dataset_from_idx(const std::filesystem::path& images, const std::filesystem::path& labels, Loss loss,
                            std::size_t inputs, std::size_t outputs) {
  const IdxArray img = read_images(images, inputs);
  const IdxArray lab = io::read_idx(labels);
  if (lab.dims.size() != 1) {
    fail(labels, 3,
         "labels have dimensions " + io::idx_dims_text(lab.dims) +
             " (expected 1 dimension: one label per sample)");
  }
  if (lab.dims[0] != img.dims[0]) {
    fail(labels, 4,
         std::to_string(lab.dims[0]) + " labels, but " + images.string() + " has " + std::to_string(img.dims[0]) +
             " images (expected one label per image)");
  }

  // With several outputs (or a class index target) every label is a class index; with a single
  // mse or binary_cross_entropy output it is the target itself, checked as the CSV path checks it.
  const bool one_hot = loss != Loss::softmax_cross_entropy && outputs > 1;
  const bool direct = loss != Loss::softmax_cross_entropy && outputs == 1;
  const std::size_t n = lab.dims[0];
  std::vector<double> values(n);
  lab.copy_to(0, n, values.data());
  for (std::size_t i = 0; i < n; ++i) {
    const double v = values[i];
    const std::string label = "sample " + std::to_string(i) + "'s label is " + format_number(v);
    if (direct && loss == Loss::mse) {
      if (!std::isfinite(v)) fail(labels, lab.offset_of(i), label + " (expected a finite number)");
    } else if (direct) {
      if (!(v >= 0.0 && v <= 1.0)) {
        fail(labels, lab.offset_of(i), label + " (expected a binary_cross_entropy target in [0, 1])");
      }
    } else if (!(v >= 0.0 && v < static_cast<double>(outputs) && v == std::floor(v))) {
      fail(labels, lab.offset_of(i),
           label + " (expected a class index 0.." + std::to_string(outputs - 1) + " for " +
               std::string(loss_name(loss)) + " with " + std::to_string(outputs) + " outputs)");
    }
  }

  Dataset<T> data;
  copy_images(img, inputs, data);
  data.targets = one_hot ? outputs : 1;
  data.t.assign(n * data.targets, T(0));
  for (std::size_t i = 0; i < n; ++i) {
    if (one_hot) {
      data.t[i * outputs + static_cast<std::size_t>(values[i])] = T(1);
    } else {
      data.t[i] = static_cast<T>(values[i]);
    }
  }
  return data;
}

template <std::floating_point T>
Dataset<T> inputs_from_idx(const std::filesystem::path& images, std::size_t inputs) {
  const IdxArray img = read_images(images, inputs);
  Dataset<T> data;
  copy_images(img, inputs, data);
  return data;
}

template Dataset<float> dataset_from_idx<float>(const std::filesystem::path&, const std::filesystem::path&, Loss,
                                                std::size_t, std::size_t);
template Dataset<double> dataset_from_idx<double>(const std::filesystem::path&, const std::filesystem::path&, Loss,
                                                  std::size_t, std::size_t);
template Dataset<float> inputs_from_idx<float>(const std::filesystem::path&, std::size_t);
template Dataset<double> inputs_from_idx<double>(const std::filesystem::path&, std::size_t);

}  // namespace castnet
