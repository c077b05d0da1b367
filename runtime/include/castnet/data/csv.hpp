// CSV reading: a header row, then rows of numbers. Errors name file:line:column.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace castnet::io {

struct CsvTable {
  std::filesystem::path path;
  std::vector<std::string> header;  // column names, trimmed
  std::vector<double> cells;        // row-major, rows() * header.size()
  std::vector<std::size_t> lines;   // 1-based file line of each data row
  std::size_t header_line = 1;      // 1-based file line of the header (blank lines may precede it)
  std::size_t rows() const { return lines.size(); }
  std::size_t cols() const { return header.size(); }
  double at(std::size_t row, std::size_t col) const { return cells[row * header.size() + col]; }
  // Index of a column by name; throws castnet::Error "<file>:1: error: no column 'y' (columns: a, b)"
  // (the line is header_line).
  std::size_t column(const std::string& name) const;
};

// Throws castnet::Error for: a missing or unreadable file, an empty file or one without data rows,
// a first row of numbers where the header belongs (unless they are 0, 1, ...: pandas' names),
// a row with a different number of cells than the header ("file:L:C: error: row has 3 cells, header has 4"),
// a cell that is not a finite number ("file:L:C: error: cell 'abc' in column 'x' is not a number").
// Blank lines are skipped; CRLF line ends and surrounding spaces are accepted.
CsvTable read_csv(const std::filesystem::path& path);

}  // namespace castnet::io
