// The picture of a run: training curves as a self-contained SVG (no scripts, no external
// resources, a generic sans-serif font), drawn from the same EpochStats as metrics.csv.
//
// Two panels side by side: the loss against the epoch (training, and validation when there is
// one) and the accuracy (likewise; the panel is left out for models without accuracy, such as
// mse). The loss axis is logarithmic when all the loss values are positive and span more than
// two decades, linear otherwise; accuracies are shown in percent. Non-finite values are skipped,
// and one epoch or a flat curve still gives a sensible picture.
#pragma once

#include <castnet/train/metrics.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace castnet {

// The SVG text. `title` (e.g. the spec's name) is XML-escaped.
std::string curves_svg(const std::vector<EpochStats>& epochs, std::string_view title);

// curves_svg written with io::write_file_atomic (castnet::Error on an I/O failure).
void write_curves(const std::filesystem::path& svg_path, const std::vector<EpochStats>& epochs,
                  std::string_view title);

// `text` with & < > " ' replaced by entities and characters XML does not allow (control
// characters other than tab, newline and carriage return) replaced by '?'.
std::string xml_escape(std::string_view text);

}  // namespace castnet
