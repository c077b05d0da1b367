// Data sets from IDX files (MNIST's format, io/idx.hpp): an images file with dimensions
// [n, d1, d2, ...], each sample flattened row-major into d1*d2*... inputs, and a labels file with
// dimensions [n] holding one label per image. Values are the file's values as they are (0..255
// for MNIST pixels); scaling them is the caller's business. Every error names the file and the
// byte offset at fault: "<path>: error: byte <offset>: <what> (expected ...)".
#pragma once

#include <castnet/data/dataset.hpp>
#include <castnet/model.hpp>

#include <concepts>
#include <cstddef>
#include <filesystem>

namespace castnet {

// Training or evaluation data for a model with `inputs` inputs and `outputs` outputs trained with
// `loss`. The labels become targets as follows:
//   softmax_cross_entropy              the class index, one target per sample (0..outputs-1)
//   mse, binary_cross_entropy, outputs > 1
//                                      one-hot: `outputs` targets, 1 at the class index, else 0
//   mse, binary_cross_entropy, outputs == 1
//                                      the label itself, one target (binary_cross_entropy: 0..1)
// Throws castnet::Error (besides read_idx's errors) when the images' trailing dimensions do not
// multiply to `inputs`, when the labels file has more than one dimension, when the two files hold
// different numbers of samples (naming both), for a label that is not a class index 0..outputs-1
// (or, with one output, not a target the loss accepts), and for an image value that is not finite
// (f32 and f64 files), each with the byte offset of the value.
template <std::floating_point T>
Dataset<T> dataset_from_idx(const std::filesystem::path& images, const std::filesystem::path& labels, Loss loss,
                            std::size_t inputs, std::size_t outputs);

// Prediction input (or an autoencoder's, whose targets are its inputs): the images only, no
// targets (targets == 0, t empty). Throws castnet::Error as dataset_from_idx does for the images.
template <std::floating_point T>
Dataset<T> inputs_from_idx(const std::filesystem::path& images, std::size_t inputs);

extern template Dataset<float> dataset_from_idx<float>(const std::filesystem::path&, const std::filesystem::path&,
                                                       Loss, std::size_t, std::size_t);
extern template Dataset<double> dataset_from_idx<double>(const std::filesystem::path&, const std::filesystem::path&,
                                                         Loss, std::size_t, std::size_t);
extern template Dataset<float> inputs_from_idx<float>(const std::filesystem::path&, std::size_t);
extern template Dataset<double> inputs_from_idx<double>(const std::filesystem::path&, std::size_t);

}  // namespace castnet
