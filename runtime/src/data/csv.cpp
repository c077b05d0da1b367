// CSV reading for training data: a header row of column names, then rows of numbers. The whole
// file is read into memory and parsed in place (no per-cell strings), so an MNIST-sized file
// loads in about a second. Every error names file:line:column, the column being the 1-based byte
// column where the offending cell starts, so an editor can jump straight to it.
//
// Deliberately simple dialect: cells are separated by commas and never contain one; a header
// name may be wrapped in double quotes (as pandas and spreadsheets write them), number cells may
// not. Surrounding spaces/tabs, CRLF line ends, blank lines and a UTF-8 byte order mark are
// accepted.
#include "castnet/data/csv.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "castnet/error.hpp"
#include "castnet/io/atomic_file.hpp"

namespace castnet::io {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(const char* begin, const char* end) {
  while (begin < end && is_blank(*begin)) ++begin;
  while (end > begin && is_blank(end[-1])) --end;
  return {begin, static_cast<std::size_t>(end - begin)};
}

// A cell quoted in a message: long garbage (say, a binary file) must not flood the terminal.
std::string quote_cell(std::string_view cell) {
  constexpr std::size_t kMax = 40;
  std::string quoted = "'";
  quoted += cell.substr(0, kMax);
  quoted += cell.size() > kMax ? "...'" : "'";
  return quoted;
}

// Clinger's fast path for the common cell: a plain decimal ("137", "-0.25") of at most 15 digits.
// Its digits form an exact double and 10^k (k <= 15) is exact too, so one IEEE division yields
// the correctly rounded value, the same as std::from_chars, at a fraction of the cost.
bool parse_plain_decimal(const char* p, const char* end, double& out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const bool negative = p < end && *p == '-';
  if (p < end && (*p == '-' || *p == '+')) ++p;
  std::uint64_t mantissa = 0;
  int digits = 0;
  int fraction_digits = -1;  // -1: no decimal point yet
  for (; p < end; ++p) {
    if (*p >= '0' && *p <= '9') {
      mantissa = mantissa * 10 + static_cast<std::uint64_t>(*p - '0');
      ++digits;
      if (fraction_digits >= 0) ++fraction_digits;
    } else if (*p == '.' && fraction_digits < 0) {
      fraction_digits = 0;
    } else {
      return false;
    }
  }
  if (digits == 0 || digits > 15) return false;
  double value = static_cast<double>(mantissa);
  if (fraction_digits > 0) value /= kPow10[fraction_digits];
  out = negative ? -value : value;
  return true;
}

// Parses a whole cell as a finite double. A leading '+' is accepted (std::from_chars does not).
bool parse_number(std::string_view cell, double& out) {
  const char* begin = cell.data();
  const char* end = begin + cell.size();
  if (parse_plain_decimal(begin, end, out)) return true;
  if (begin < end && *begin == '+' && end - begin > 1 && begin[1] != '-' && begin[1] != '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, out);
  if (ec == std::errc::result_out_of_range && ptr == end) {
    // from_chars reports underflow (1e-400) like overflow and leaves `out` unset; strtod tells
    // them apart by returning a tiny value or HUGE_VAL, and the finiteness check sorts them out.
    out = std::strtod(std::string(begin, end).c_str(), nullptr);
    ec = std::errc{};
  }
  return ec == std::errc{} && ptr == end && std::isfinite(out);
}

class Reader {
 public:
  Reader(const std::filesystem::path& path, CsvTable& table) : path_(path), table_(table) {}

  [[noreturn]] void fail(std::size_t line, std::size_t col, const std::string& message) const {
    throw Error(path_.string() + ":" + std::to_string(line) + ":" + std::to_string(col) + ": error: " + message);
  }

  void header(const char* begin, const char* end, std::size_t line) {
    table_.header_line = line;
    for (const char* p = begin;; ++p) {
      const char* comma = std::find(p, end, ',');
      std::string_view name = trim(p, comma);
      const std::size_t col = static_cast<std::size_t>(name.data() - begin) + 1;
      if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
      if (name.empty()) {
        fail(line, col, "column " + std::to_string(table_.header.size() + 1) + " of the header has no name");
      }
      // Columns are looked up by name, so a repeated name would make the lookup ambiguous. A hash
      // set keeps this linear: a header may have hundreds of thousands of columns.
      const auto [same, fresh] = columns_.emplace(name, table_.header.size());
      if (!fresh) {
        fail(line, col, "column name '" + std::string(name) + "' repeats column " + std::to_string(same->second + 1));
      }
      table_.header.emplace_back(name);
      if (comma == end) break;
      p = comma;
    }
    // A file without a header row would lose its first row to it, silently. Numbered columns
    // 0, 1, ... (pandas' names for unnamed columns) are names.
    bool numbers = true, numbered = true;
    for (std::size_t c = 0; c < table_.header.size() && numbers; ++c) {
      double v = 0;
      numbers = parse_number(table_.header[c], v);
      numbered = numbered && table_.header[c] == std::to_string(c);
    }
    if (numbers && !numbered)
      fail(line, 1, "the first row holds numbers, not column names: a CSV needs a header row naming its columns "
                    "(e.g. x0,x1,y)");
  }

  void row(const char* begin, const char* end, std::size_t line) {
    const std::size_t want = table_.header.size();
    const std::size_t have = static_cast<std::size_t>(std::count(begin, end, ',')) + 1;
    if (have != want) {
      // Point at the first surplus cell, or just past the line where the missing cell should be.
      const char* at = end;
      if (have > want) {
        at = begin;
        for (std::size_t i = 0; i < want; ++i) at = std::find(at, end, ',') + 1;
      }
      fail(line, static_cast<std::size_t>(at - begin) + 1,
           "row has " + std::to_string(have) + " cells, header has " + std::to_string(want));
    }
    const char* p = begin;
    for (std::size_t c = 0; c < want; ++c) {
      const char* comma = static_cast<const char*>(std::memchr(p, ',', static_cast<std::size_t>(end - p)));
      if (comma == nullptr) comma = end;
      const std::string_view cell = trim(p, comma);
      double value = 0;
      if (!parse_number(cell, value)) {
        const std::size_t col = static_cast<std::size_t>(cell.data() - begin) + 1;
        const std::string column = std::string("column '") + table_.header[c] + "'";
        if (cell.empty()) fail(line, col, "empty cell in " + column);
        fail(line, col, "cell " + quote_cell(cell) + " in " + column + " is not a finite number");
      }
      table_.cells.push_back(value);
      p = comma + 1;
    }
    table_.lines.push_back(line);
  }

 private:
  const std::filesystem::path& path_;
  CsvTable& table_;
  std::unordered_map<std::string_view, std::size_t> columns_;  // header name (a view into the file's text) -> index
};

}  // namespace

std::size_t CsvTable::column(const std::string& name) const {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it != header.end()) return static_cast<std::size_t>(it - header.begin());
  std::string columns;
  for (const std::string& h : header) {
    if (!columns.empty()) columns += ", ";
    columns += h;
  }
  throw Error(path.string() + ":" + std::to_string(header_line) + ": error: no column '" + name +
              "' (columns: " + columns + ")");
}

CsvTable read_csv(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  CsvTable table;
  table.path = path;
  Reader reader(path, table);

  const char* p = text.data();
  const char* const file_end = p + text.size();
  if (text.starts_with("\xEF\xBB\xBF")) p += 3;
  bool have_header = false;
  for (std::size_t line = 1; p < file_end; ++line) {
    const char* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(file_end - p)));
    const char* end = newline != nullptr ? newline : file_end;
    const char* next = newline != nullptr ? newline + 1 : file_end;
    if (end > p && end[-1] == '\r') --end;
    if (trim(p, end).empty()) {
      p = next;
      continue;
    }
    if (have_header) {
      reader.row(p, end, line);
    } else {
      reader.header(p, end, line);
      have_header = true;
      // One cheap pass to size the table avoids repeated regrowth of a large cell vector. Blank
      // lines count here too, so the estimate is capped by what the rest of the file can hold: a
      // row of n cells takes at least 2n bytes (a character and a separator each).
      const auto rest = static_cast<std::size_t>(file_end - next);
      const auto rows = std::min(static_cast<std::size_t>(std::count(next, file_end, '\n')) + 1,
                                 rest / (2 * table.header.size()) + 1);
      table.cells.reserve(rows * table.header.size());
      table.lines.reserve(rows);
    }
    p = next;
  }
  if (!have_header) throw Error(path.string() + ":1: error: the file is empty; expected a header row and data rows");
  if (table.rows() == 0) {
    throw Error(path.string() + ":" + std::to_string(table.header_line) + ": error: header row but no data rows");
  }
  return table;
}

}  // namespace castnet::io
