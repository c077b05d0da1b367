// `--quantize int8 --calibrate DATA`, for export and eval: the float model measures each quantized
// layer's input range on DATA, and the calibrated header's computation is evaluated on data without
// compiling the header. The reference interpreter runs the float layers; each quantized dense or
// conv2d is replaced by what the header's kernels do (castnet/kernels/quantized.hpp, the same
// functions): the input quantized with the layer's static scale, the integer sums (exact, so any
// path's), the rescale by one fused multiply-add. The outputs are the header's bit for bit where
// the float layers between round alike (relu, max pooling, flatten, dropout at inference: exactly);
// after other activations, average pooling or a straight-line layer, a value a float rounding away
// from a step's midpoint may quantize one step apart.
#pragma once

#include <castnet/data/dataset.hpp>
#include <castnet/data/normalize.hpp>
#include <castnet/train/trainer.hpp>

#include <memory>
#include <string>
#include <vector>

#include "data_check.hpp"
#include "emit/quantize.hpp"
#include "spec/spec.hpp"

namespace castnet::interp {
template <class T>
class Interpreter;
}

namespace castnet::cli {

class CalibratedModel {
 public:
  // Reads the weights as export does: a tensor that does not fit the spec, or a layer whose kind
  // has no int8 kernel, throws naming the file and the tensor, or the spec's line and the layer.
  CalibratedModel(const spec::Spec& s, const std::string& weights);
  ~CalibratedModel();

  // `files` as `castnet eval` loads data (CSV columns by the names the weights were trained on,
  // IDX images with their labels), normalised as the weights say.
  Dataset<float> load(const DataFiles& files, const std::vector<std::string>& label_columns) const;

  // The calibration on `data` (from `files`, named `label` in the banner): per layer, the largest
  // |input| the float model gives a quantized layer over every row (0 for the other layers).
  gen::Calibration calibrate(const Dataset<float>& data, const DataFiles& files, const std::string& label) const;

  // The loss and accuracy on `data` of the header calibrated with `ranges`.
  Evaluation evaluate(const Dataset<float>& data, const std::vector<float>& ranges) const;

 private:
  const spec::Spec& spec_;
  std::unique_ptr<interp::Interpreter<float>> model_;
  Normalization norm_;
  std::vector<std::string> input_columns_;
  std::vector<bool> quantized_;  // per layer
};

// --calibrate's usage rules, before anything is read: it needs --quantize int8 (`quantize`).
void check_calibrate_mode(const std::string& quantize);

// The files of --calibrate DATA: a data name (mnist:train) or a path; IDX images take their labels
// from `labels`, else from the spec's [data] when DATA is its train or test data.
DataFiles calibration_files(const spec::Spec& s, const std::string& spec_path, const std::string& data,
                            const std::string& labels);

// "accuracy 98.54% (9854/10000), error 1.46%, loss 0.0456" (without accuracy for mse models).
std::string evaluation_text(const Evaluation& e);

}  // namespace castnet::cli
